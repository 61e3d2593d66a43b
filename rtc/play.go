package rtc

import (
	"context"
	"time"

	"segcast/engine"
)

// PlayLoop plays loop into sess for d (0: until stopped): sess becomes a
// sink of the loop, playback starts and the loop runs until ctx ends or
// stop is called. done delivers Run's error if the loop stops by itself;
// timeout fires after d (never for 0). stop ends the run, waits for it
// and removes the sink; call it once.
func PlayLoop(ctx context.Context, loop *engine.Loop, sess *Session, d time.Duration) (done <-chan error, timeout <-chan time.Time, stop func()) {
	remove := loop.AddSink(sess)
	runCtx, cancel := context.WithCancel(ctx)
	ran := make(chan error, 1)
	finished := make(chan struct{})
	loop.Play()
	go func() {
		ran <- RunLoop(runCtx, loop)
		close(finished)
	}()
	var timer *time.Timer
	if d > 0 {
		timer = time.NewTimer(d)
		timeout = timer.C
	}
	return ran, timeout, func() {
		if timer != nil {
			timer.Stop()
		}
		cancel()
		<-finished
		remove()
	}
}
