package ui

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"segcast/rtc"
	"segcast/rtc/measure"
)

// pagePeer plays the viewer page's part over a real PeerConnection: it
// answers the app's offer and, once the sync channel opens, sends rows.
func pagePeer(t *testing.T, offer string, rows []string) (answer string) {
	t.Helper()
	answer, _ = pagePeerPC(t, offer, rows)
	return answer
}

// pagePeerPC is pagePeer that also returns the page's PeerConnection.
func pagePeerPC(t *testing.T, offer string, rows []string) (answer string, pc *webrtc.PeerConnection) {
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
	t.Cleanup(func() { _ = pc.Close() })
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			if _, _, err := tr.ReadRTP(); err != nil {
				return
			}
		}
	})
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		if dc.Label() != measure.SyncChannelLabel {
			return
		}
		dc.OnOpen(func() {
			for _, r := range rows {
				if err := dc.SendText(r); err != nil {
					t.Errorf("send row: %v", err)
				}
			}
		})
	})
	desc, err := rtc.DecodeSignal(offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetRemoteDescription(desc); err != nil {
		t.Fatal(err)
	}
	a, err := pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(a); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("ICE gathering did not finish")
	}
	answer, err = rtc.EncodeSignal(*pc.LocalDescription())
	if err != nil {
		t.Fatal(err)
	}
	return answer, pc
}

// End to end with the real rtc session: a viewer connects, its page sends
// three measurements over the sync DataChannel, and the viewer's drift
// window shows them, with the sender's real send-time errors.
func TestViewerDriftEndToEnd(t *testing.T) {
	h := newHarness(t, Options{Size: "320x240"})
	s := h.c.stream
	h.tap(s.addViewer)
	var offer string
	h.waitFor("the app's offer", func() bool { offer = s.offerOut; return offer != "" })
	answer := pagePeer(t, offer, []string{
		`{"t":"m","flash_index":30,"video_ms":1000,"audio_ms":1012}`,
		`{"t":"m","flash_index":60,"video_ms":2000,"audio_ms":2020,"latency_ms":70}`,
		`{"t":"m","flash_index":90,"video_ms":3000,"audio_ms":3004,"latency_ms":90}`,
	})
	h.onUI(func() { s.answerIn.SetText(answer) })
	h.tap(s.connect)
	var id string
	h.onUI(func() {
		if infos := s.sess.Viewers(); len(infos) == 1 {
			id = infos[0].ID
		}
	})
	if id == "" {
		t.Fatal("no viewer after Connect")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for len(s.hub.Measurements(id)) < 3 {
		if ctx.Err() != nil {
			t.Fatalf("session holds %d rows from the page, want 3", len(s.hub.Measurements(id)))
		}
		time.Sleep(20 * time.Millisecond)
	}
	var v *driftView
	h.onUI(func() { v = s.openViewerDrift(id) })
	h.waitFor("the drift window to show the page's rows", func() bool {
		return v.samples.Text == "3" && v.sendAudio.Text != "n/a" && v.sendVideo.Text != "n/a"
	})
	h.onUI(func() {
		// Offsets 12, 20, 4 ms: median 12, p95 |·| 19.2, drift slope −4 ms/s.
		for _, c := range []struct{ name, got, want string }{
			{"median", v.median.Text, "12.0 ms"},
			{"p95", v.p95.Text, "19.2 ms"},
			{"drift", v.drift.Text, "-240.00 ms/min"},
			{"latency", v.latency.Text, "p50 80.0 ms · p95 89.0 ms"},
		} {
			if c.got != c.want {
				t.Errorf("%s %q, want %q", c.name, c.got, c.want)
			}
		}
	})
}
