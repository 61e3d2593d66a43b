package rtc_test

import (
	"context"
	"testing"
	"time"

	"segcast/rtc"
	"segcast/rtc/internal/rtctest"
)

// waitGone waits until the session no longer lists viewer id.
func waitGone(t *testing.T, ctx context.Context, sess *rtc.Session, id string) {
	t.Helper()
	for {
		changed := sess.Changed()
		if _, ok := sess.Viewer(id); !ok {
			return
		}
		select {
		case <-ctx.Done():
			vi, _ := sess.Viewer(id)
			t.Fatalf("viewer %s still there (%s): %v", id, vi.State, ctx.Err())
		case <-changed:
		}
	}
}

// A viewer whose signalling is complete but which never connects is
// dropped after Config.ConnectTimeout, long before ICE's own failure
// (≈ 30 s); one still waiting for its answer (a person pasting) and one
// that connected are kept.
func TestViewerThatNeverConnectsIsDropped(t *testing.T) {
	const timeout = time.Second
	rig := rtctest.NewRig(t, 160, 120, time.Minute, func(c *rtc.Config) { c.ConnectTimeout = timeout })
	stop := rig.Run(t)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Answered, then the far end vanishes before ICE completes.
	silent, offer, err := rig.Sess.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rxSilent := rtctest.NewReceiver(t, false)
	answer := rxSilent.Answer(t, offer)
	_ = rxSilent.PC.Close()
	// Waiting for its answer: the deadline has not started.
	waiting, _, err := rig.Sess.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Connects: the deadline passes harmlessly.
	good, goodOffer, err := rig.Sess.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rx := rtctest.NewReceiver(t, false)
	if err := good.Accept(rx.Answer(t, goodOffer)); err != nil {
		t.Fatal(err)
	}
	if err := silent.Accept(answer); err != nil {
		t.Fatal(err)
	}
	silentWait := make(chan error, 1)
	go func() { silentWait <- silent.WaitConnected(ctx) }()
	rx.WaitConnected(t, ctx)
	if err := good.WaitConnected(ctx); err != nil {
		t.Errorf("WaitConnected on the connected viewer: %v", err)
	}

	// ICE would fail the silent viewer only after ≈ 30 s.
	goneCtx, cancelGone := context.WithTimeout(ctx, 15*time.Second)
	waitGone(t, goneCtx, rig.Sess, silent.ID())
	cancelGone()
	if err := <-silentWait; err == nil || ctx.Err() != nil {
		t.Errorf("WaitConnected on the dropped viewer: %v, want its failure before the test's deadline", err)
	}
	// Well past the deadline for the other two.
	frames, _ := rx.Counts()
	waitFrames(t, ctx, rx, frames+3*int(timeout/(time.Second/30)))
	if vi, ok := rig.Sess.Viewer(waiting.ID()); !ok || vi.State != rtc.ViewerNew {
		t.Errorf("viewer waiting for its answer: %+v (listed %v), want kept in state new", vi, ok)
	}
	if vi, ok := rig.Sess.Viewer(good.ID()); !ok || vi.State != rtc.ViewerConnected {
		t.Errorf("connected viewer: %+v (listed %v), want kept connected", vi, ok)
	}
}
