package rtc

import (
	"context"
	"strings"
	"testing"
	"time"
)

// waitFrames waits until rx has counted more than n frames.
func waitFrames(t *testing.T, ctx context.Context, rx *testReceiver, n int) {
	t.Helper()
	for {
		if got, _ := rx.counts(); got > n {
			return
		}
		select {
		case <-ctx.Done():
			got, _ := rx.counts()
			t.Fatalf("receiver stuck at %d frames, waiting for more than %d", got, n)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func TestTwoViewersOneLeavesAndBadSignalling(t *testing.T) {
	rig := newStreamRig(t, 160, 120, time.Minute, nil)
	stop := rig.run(t)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	changes := make(chan struct{}, 100)
	rig.sess.OnViewersChanged(func() {
		select {
		case changes <- struct{}{}:
		default:
		}
	})

	rxA, rxB := newTestReceiver(t, false), newTestReceiver(t, false)
	va := connect(t, ctx, rig.sess, rxA)
	vb := connect(t, ctx, rig.sess, rxB)
	waitFrames(t, ctx, rxA, 10)
	waitFrames(t, ctx, rxB, 10)
	if len(changes) == 0 {
		t.Error("OnViewersChanged never called")
	}

	// Malformed signalling of every kind: errors, nothing else changes.
	offerer, _, err := rig.sess.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	strayOffer := newTestReceiver(t, false).offer(t)
	for name, tc := range map[string]struct {
		do   func() error
		want string
	}{
		"garbage offer": {func() error { _, _, err := rig.sess.Answer(ctx, "!!nonsense!!"); return err }, "base64"},
		"huge offer": {func() error {
			_, _, err := rig.sess.Answer(ctx, strings.Repeat("QUFB", MaxSignalBytes))
			return err
		}, "limit"},
		"answer as offer": {func() error {
			_, _, err := rig.sess.Answer(ctx, strings.Replace(testOfferSDP, "actpass", "active", -1))
			return err
		}, "where an offer was expected"},
		"offer without VP8": {func() error {
			_, _, err := rig.sess.Answer(ctx, strings.Replace(testOfferSDP, "VP8", "H264", 1))
			return err
		}, "VP8"},
		"offer as answer": {func() error { return offerer.Accept(strayOffer) }, "where an answer was expected"},
		"answer for another offer": {func() error {
			return offerer.Accept(newTestReceiver(t, false).answer(t, mustOffer(t, ctx, rig.sess)))
		}, "different offer"},
		"accept on answering viewer": {func() error { return va.Accept(strayOffer) }, "takes no answer"},
		"unknown viewer":             {func() error { return rig.sess.CloseViewer("nope") }, "no viewer"},
	} {
		err := tc.do()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one mentioning %q", name, err, tc.want)
		}
	}
	// The offering viewer is still waiting for a good answer.
	rxC := newTestReceiver(t, false)
	if err := offerer.Accept(rxC.answer(t, offererOffer(t, offerer))); err != nil {
		t.Fatalf("good answer after bad ones: %v", err)
	}
	rxC.waitConnected(t, ctx)
	waitFrames(t, ctx, rxC, 5)

	// A leaves; B (and C) keep receiving, A is gone from the list.
	if err := rig.sess.CloseViewer(va.ID()); err != nil {
		t.Fatal(err)
	}
	bFrames, _ := rxB.counts()
	waitFrames(t, ctx, rxB, bFrames+5) // A's reader drains what was in flight
	bFrames, _ = rxB.counts()
	aFrames, _ := rxA.counts()
	waitFrames(t, ctx, rxB, bFrames+30)
	if got, _ := rxA.counts(); got > aFrames+1 {
		t.Errorf("closed viewer A still receiving: %d frames after close (had %d)", got, aFrames)
	}
	ids := map[string]string{}
	for _, vi := range rig.sess.Viewers() {
		ids[vi.ID] = vi.State
	}
	if _, ok := ids[va.ID()]; ok || ids[vb.ID()] != "connected" || ids[offerer.ID()] != "connected" {
		t.Errorf("viewers after A left: %v", ids)
	}
	// C hangs up from its side: the session notices, removes the viewer
	// and releases it; B is unaffected.
	_ = rxC.pc.Close()
	for gone := false; !gone; {
		gone = true
		for _, vi := range rig.sess.Viewers() {
			if vi.ID == offerer.ID() {
				gone = false
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("viewer C still listed after hanging up: %+v", rig.sess.Viewers())
		case <-time.After(50 * time.Millisecond):
		}
	}
	bFrames, _ = rxB.counts()
	waitFrames(t, ctx, rxB, bFrames+10)

	rxB.mu.Lock()
	broken := rxB.brokenSeqs
	rxB.mu.Unlock()
	if broken > 0 {
		t.Errorf("viewer B lost %d frames", broken)
	}
}

// mustOffer makes a throwaway offering viewer and returns its offer.
func mustOffer(t *testing.T, ctx context.Context, s *Session) string {
	t.Helper()
	v, offer, err := s.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	return offer
}

// offererOffer re-encodes an offering viewer's local description.
func offererOffer(t *testing.T, v *Viewer) string {
	t.Helper()
	text, err := EncodeSignal(*v.pc.LocalDescription())
	if err != nil {
		t.Fatal(err)
	}
	return text
}
