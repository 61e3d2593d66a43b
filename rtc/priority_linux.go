//go:build linux

package rtc

import "golang.org/x/sys/unix"

// raisePriority schedules the calling thread first (SCHED_FIFO at prio).
// A thread woken at a deadline then takes a core from any ordinary thread
// at once (a browser decoding on the same two cores, the window drawing)
// instead of waiting for its time slice. The threads raised work for a
// few per cent of a core in short bursts and sleep in between, so they
// cannot starve anything. The caller has locked its goroutine to the
// thread. Without the privilege (CAP_SYS_NICE, or an RLIMIT_RTPRIO of at
// least prio, as rtkit or limits.conf grant to audio programs) the thread
// stays as it was.
func raisePriority(prio int) error {
	return unix.SchedSetAttr(0, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO,
		Priority: uint32(prio)}, 0)
}
