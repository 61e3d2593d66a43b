//go:build !linux || segcast_portable_wait

package rtc

import (
	"context"
	"runtime"
	"time"

	"segcast/engine"
)

// Waiting for a deadline off Linux (and on Linux with -tags
// segcast_portable_wait, to measure it): the clock's own timer to spinWait
// before the deadline, then yield to other goroutines and re-read the clock
// until it has passed. A Go timer alone wakes up to a millisecond late (on
// Linux, at the least, its poller sleeps in whole ms), and the short spin
// takes that out at a cost of at most spinWait per item. Without Linux's raw
// nanosleep nothing keeps this goroutine's P, so on a busy machine the tail
// is the scheduler's (bench/README.md, "Waiting for the deadline").
const spinWait = time.Millisecond

// sleepUntilPrecise sleeps until clock time t: both steps aim at t itself,
// so nothing accumulates, and a cancelled ctx ends either. A clock that does
// not move with the system's (engine.FakeClock, an audio device) does its
// own sleeping.
func sleepUntilPrecise(ctx context.Context, clock engine.Clock, t time.Duration) error {
	if !engine.RealTime(clock) {
		return clock.SleepUntil(ctx, t)
	}
	if err := clock.SleepUntil(ctx, t-spinWait); err != nil {
		return err
	}
	for clock.Now() < t {
		if err := ctx.Err(); err != nil {
			return err
		}
		runtime.Gosched()
	}
	return nil
}
