//go:build linux && !segcast_portable_wait

package rtc

import (
	"context"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"segcast/engine"
)

// Waiting for a deadline: Go's timers, and any syscall that hands its P
// back to the scheduler, wake up to several ms late here while both Ps are
// busy (send error p99 1.7–4.9 ms), because the woken goroutine then waits
// for a P. So the wait is kernel sleeps, and the last rawWait of it a raw
// nanosleep that keeps this goroutine's P; p99 falls to ≈0.3 ms for ≈0.03
// core more (bench/README.md). Other systems use wait_other.go.
const (
	rawWait = time.Millisecond
	// kernelStep bounds one kernel sleep, so a cancelled ctx is seen soon.
	kernelStep = 50 * time.Millisecond
)

// sleepUntilPrecise sleeps until clock time t, each step recomputed from
// t (nothing accumulates). A clock that does not move with the system's
// (engine.FakeClock, an audio device) does its own sleeping.
func sleepUntilPrecise(ctx context.Context, clock engine.Clock, t time.Duration) error {
	if !engine.RealTime(clock) {
		return clock.SleepUntil(ctx, t)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		left := t - clock.Now()
		if left <= 0 {
			return nil
		}
		if left <= rawWait {
			ts := unix.NsecToTimespec(int64(left))
			// No entersyscall: the P stays ours. EINTR: the loop recomputes.
			_, _, _ = unix.RawSyscall(unix.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), 0, 0)
		} else {
			ts := unix.NsecToTimespec(int64(min(left-rawWait, kernelStep)))
			_ = unix.Nanosleep(&ts, nil)
		}
	}
}
