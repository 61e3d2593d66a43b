package main

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"segcast/engine"
	"segcast/engine/pattern"
	"segcast/rtc"
)

// serve without --loop: the playlist waits for a viewer, starts from the
// top when one connects to a stopped loop, and a viewer who connects while
// it plays joins it where it is.
func TestServeStartsOnJoin(t *testing.T) {
	clock := engine.NewWallClock()
	loop := engine.NewLoop(engine.LoopConfig{Rate: engine.Rate30, Width: 64, Height: 36, Clock: clock, Lead: rtc.EncodeLead})
	loop.Add(pattern.New(64, 36, engine.Rate30, 10*time.Second))
	sess, err := rtc.NewSession(rtc.Config{Width: 64, Height: 36, Rate: engine.Rate30, Clock: clock,
		LoopbackOnly: true, Observers: []rtc.Observer{startOnJoin{loop}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	defer loop.AddSink(sess)()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() { _ = loop.Run(ctx) }()
	if p := loop.Position(); p.Playing || p.Segment >= 0 {
		t.Fatalf("before any viewer: %+v, want stopped", p)
	}
	joinViewer(t, ctx, sess)
	waitPos(t, "playing from the top once a viewer connected", func(p engine.Position) bool {
		return p.Playing && p.Segment == 0 && p.Offset < 2*time.Second
	}, loop)
	time.Sleep(1500 * time.Millisecond)
	before := loop.Position().Offset
	joinViewer(t, ctx, sess)
	time.Sleep(500 * time.Millisecond)
	if p := loop.Position(); !p.Playing || p.Offset < before {
		t.Errorf("a second viewer restarted the playlist: at %v, was %v", p.Offset, before)
	}
}

func waitPos(t *testing.T, what string, ok func(engine.Position) bool, loop *engine.Loop) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !ok(loop.Position()); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %+v", what, loop.Position())
		}
	}
}

// joinViewer connects a pion peer on loopback that offers to receive.
func joinViewer(t *testing.T, ctx context.Context, sess *rtc.Session) {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	_, answer, err := sess.AnswerSDP(ctx, recvOffer(t, pc))
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}
}
