//go:build linux

package rtc

import "golang.org/x/sys/unix"

// senderPriority is the real-time priority a sender thread asks for: low
// among real-time threads (audio servers use 20 and up), above every
// ordinary one.
const senderPriority = 5

// raiseSendPriority schedules the calling thread first (SCHED_FIFO). A
// sender woken at a deadline then takes a core from any ordinary thread
// at once (a browser decoding on the same two cores, the window drawing)
// instead of waiting for its time slice. It runs for tens of µs per item
// and sleeps in between, so it cannot starve anything. The caller has
// locked its goroutine to the thread. Without the privilege
// (CAP_SYS_NICE, or an RLIMIT_RTPRIO above senderPriority, as rtkit or
// limits.conf grant to audio programs) the thread stays as it was.
func raiseSendPriority() error {
	return unix.SchedSetAttr(0, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO,
		Priority: senderPriority}, 0)
}
