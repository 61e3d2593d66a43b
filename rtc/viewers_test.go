package rtc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"segcast/rtc"
	"segcast/rtc/internal/rtctest"
)

// waitFrames waits until rx has counted more than n frames.
func waitFrames(t *testing.T, ctx context.Context, rx *rtctest.Receiver, n int) {
	t.Helper()
	for {
		if got, _ := rx.Counts(); got > n {
			return
		}
		select {
		case <-ctx.Done():
			got, _ := rx.Counts()
			t.Fatalf("receiver stuck at %d frames, waiting for more than %d", got, n)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func TestTwoViewersOneLeavesAndBadSignalling(t *testing.T) {
	rig := rtctest.NewRig(t, 160, 120, time.Minute)
	stop := rig.Run(t)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	changes := make(chan struct{}, 100)
	rig.Sess.OnViewersChanged(func() {
		select {
		case changes <- struct{}{}:
		default:
		}
	})

	rxA, rxB := rtctest.NewReceiver(t, false), rtctest.NewReceiver(t, false)
	va := rtctest.Connect(t, ctx, rig.Sess, rxA)
	vb := rtctest.Connect(t, ctx, rig.Sess, rxB)
	waitFrames(t, ctx, rxA, 10)
	waitFrames(t, ctx, rxB, 10)
	if len(changes) == 0 {
		t.Error("OnViewersChanged never called")
	}

	// Malformed signalling of every kind: errors, nothing else changes.
	offerer, _, err := rig.Sess.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	strayOffer := rtctest.NewReceiver(t, false).Offer(t)
	for name, tc := range map[string]struct {
		do   func() error
		want string
	}{
		"garbage offer": {func() error { _, _, err := rig.Sess.Answer(ctx, "!!nonsense!!"); return err }, "base64"},
		"huge offer": {func() error {
			_, _, err := rig.Sess.Answer(ctx, strings.Repeat("QUFB", rtc.MaxSignalBytes))
			return err
		}, "limit"},
		"answer as offer": {func() error {
			_, _, err := rig.Sess.Answer(ctx, strings.Replace(rtc.OfferSDPForTests, "actpass", "active", -1))
			return err
		}, "where an offer was expected"},
		"offer without VP8": {func() error {
			_, _, err := rig.Sess.Answer(ctx, strings.Replace(rtc.OfferSDPForTests, "VP8", "H264", 1))
			return err
		}, "VP8"},
		"offer as answer": {func() error { return offerer.Accept(strayOffer) }, "where an answer was expected"},
		"answer for another offer": {func() error {
			return offerer.Accept(rtctest.NewReceiver(t, false).Answer(t, mustOffer(t, ctx, rig.Sess)))
		}, "different offer"},
		"accept on answering viewer": {func() error { return va.Accept(strayOffer) }, "takes no answer"},
		"unknown viewer":             {func() error { return rig.Sess.CloseViewer("nope") }, "no viewer"},
	} {
		err := tc.do()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one mentioning %q", name, err, tc.want)
		}
	}
	// The offering viewer is still waiting for a good answer.
	rxC := rtctest.NewReceiver(t, false)
	if err := offerer.Accept(rxC.Answer(t, offererOffer(t, offerer))); err != nil {
		t.Fatalf("good answer after bad ones: %v", err)
	}
	rxC.WaitConnected(t, ctx)
	waitFrames(t, ctx, rxC, 5)

	// A leaves; B (and C) keep receiving, A is gone from the list.
	if err := rig.Sess.CloseViewer(va.ID()); err != nil {
		t.Fatal(err)
	}
	bFrames, _ := rxB.Counts()
	waitFrames(t, ctx, rxB, bFrames+5) // A's reader drains what was in flight
	bFrames, _ = rxB.Counts()
	aFrames, _ := rxA.Counts()
	waitFrames(t, ctx, rxB, bFrames+30)
	if got, _ := rxA.Counts(); got > aFrames+1 {
		t.Errorf("closed viewer A still receiving: %d frames after close (had %d)", got, aFrames)
	}
	ids := map[string]rtc.ViewerState{}
	for _, vi := range rig.Sess.Viewers() {
		ids[vi.ID] = vi.State
	}
	if _, ok := ids[va.ID()]; ok || ids[vb.ID()] != rtc.ViewerConnected || ids[offerer.ID()] != rtc.ViewerConnected {
		t.Errorf("viewers after A left: %v", ids)
	}
	// C hangs up from its side: the session notices, removes the viewer
	// and releases it; B is unaffected.
	_ = rxC.PC.Close()
	for gone := false; !gone; {
		gone = true
		for _, vi := range rig.Sess.Viewers() {
			if vi.ID == offerer.ID() {
				gone = false
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("viewer C still listed after hanging up: %+v", rig.Sess.Viewers())
		case <-time.After(50 * time.Millisecond):
		}
	}
	bFrames, _ = rxB.Counts()
	waitFrames(t, ctx, rxB, bFrames+10)

	if broken := rxB.BrokenFrames(); broken > 0 {
		t.Errorf("viewer B lost %d frames", broken)
	}
}

// mustOffer makes a throwaway offering viewer and returns its offer.
func mustOffer(t *testing.T, ctx context.Context, s *rtc.Session) string {
	t.Helper()
	v, offer, err := s.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	return offer
}

// offererOffer re-encodes an offering viewer's local description.
func offererOffer(t *testing.T, v *rtc.Viewer) string {
	t.Helper()
	text, err := rtc.EncodeSignal(*v.PeerConnection().LocalDescription())
	if err != nil {
		t.Fatal(err)
	}
	return text
}
