package ui

import "golang.org/x/sys/unix"

// uiThreadNice is how much lower the UI thread (Fyne's drawing; with
// software GL, Mesa's threads it starts too) runs than the rest of the
// process: under CPU pressure the kernel then gives the loop, encoders
// and senders the time first, and the preview is what slows down.
const uiThreadNice = 10

// lowerUIThreadPriority lowers the calling thread's priority; call it on
// the UI thread (Run's, locked to it by Fyne) after the audio device has
// started its own thread and before the window starts drawing. Threads
// created from it later inherit the value; the Go runtime makes its own
// threads from a template thread, so the loop and the senders do not.
func lowerUIThreadPriority() error {
	return unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), uiThreadNice)
}
