package rtc

import (
	"context"
	"runtime"

	"segcast/engine"
)

// Real-time priorities asked for (raisePriority): low among real-time
// threads (audio servers use 20 and up), above every ordinary one. The
// senders, whose deadlines are the wire's, come before the loop, which
// works a lead ahead of them.
const (
	senderPriority = 5
	loopPriority   = 4
)

// RunLoop runs loop until ctx ends (engine.Loop.Run) on a thread of its
// own at real-time priority, just below the senders', where allowed
// (priority_linux.go), so that the window drawing or a browser on the
// same cores does not keep it from handing items over a lead ahead
// (bench/README.md, "Window"; it does not stop every stall seen there).
// Where it is refused, the loop runs as an ordinary goroutine.
func RunLoop(ctx context.Context, loop *engine.Loop) error {
	ran := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // kept while raised: the thread ends with the goroutine
		if raisePriority(loopPriority) != nil {
			// Not real-time: a locked thread would only add a hand-over
			// to every wake-up.
			runtime.UnlockOSThread()
		}
		ran <- loop.Run(ctx)
	}()
	return <-ran
}
