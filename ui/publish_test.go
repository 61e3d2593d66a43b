//go:build linux

package ui

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"segcast/rtc/publish/lkserver"
)

// syncBuffer is a log sink the window's goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The Publish section against a real LiveKit server: with key and secret
// it connects (state shown), a subscriber in the room gets frames and
// sound from the window's one encode while the LAN share runs, and Stop
// ends it; with a token the same; a wrong secret and a bad URL each show
// an error in the section. The secrets are kept in the preferences, typed
// into password fields, and never written to the log.
func TestPublishLiveKitInWindow(t *testing.T) {
	c := lkserver.Start(t, lkserver.Options{})
	url := c.Nodes[0].URL
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newHarness(t, Options{Size: "320x180", FPS: "30", Log: log})
	p := h.c.stream.publish
	h.onUI(func() {
		p.accordion.Open(0)
		if !p.lkSecret.Password || !p.lkToken.Password || !p.whipBearer.Password {
			t.Error("a secret field is not a password field")
		}
		h.c.set.LANAddr = "127.0.0.1:0"
		h.c.stream.toggleShare() // sharing on the LAN at the same time
		p.kind.SetSelected(kindLiveKit)
		p.lkURL.SetText(url)
		p.lkRoom.SetText("window")
		p.lkKey.SetText(lkserver.APIKey)
		p.lkSecret.SetText(lkserver.APISecret)
	})
	h.tap(p.toggle)
	h.waitFor("connected", func() bool { return strings.HasPrefix(p.state.Text, "Connected") })
	h.onUI(func() { t.Logf("state: %s", p.state.Text) })
	sub := lkserver.Subscribe(t, url, "window", "viewer", false)
	h.waitFor("frames and sound in the room", func() bool { f, a := sub.Counts(); return f >= 10 && a >= 20 })
	h.onUI(func() {
		if h.c.stream.share == nil {
			t.Error("the LAN share stopped while publishing")
		}
		if got := h.c.app.Preferences().String(prefLKSecret); got != lkserver.APISecret {
			t.Errorf("stored secret %q, want the one typed", got)
		}
	})
	h.tap(p.toggle)
	h.waitFor("stopped", func() bool { return p.pub == nil && p.state.Text == "Not publishing." })

	// A token instead of key and secret.
	token := lkserver.Token(t, "window-token", "segcast-window", true)
	h.onUI(func() {
		p.lkKey.SetText("")
		p.lkSecret.SetText("")
		p.lkToken.SetText(token)
	})
	h.tap(p.toggle)
	h.waitFor("connected with a token", func() bool { return strings.HasPrefix(p.state.Text, "Connected") })
	h.tap(p.toggle)
	h.waitFor("stopped", func() bool { return p.pub == nil })

	// A wrong secret and a bad URL: an error in the section.
	const wrong = "wrong-secret-7f3a9c51e2d84b06"
	for _, tc := range []struct{ url, secret, want string }{
		{url, wrong, "rejected the API key or secret"},
		{"ftp://" + strings.TrimPrefix(url, "ws://"), lkserver.APISecret, "ws://"},
	} {
		h.onUI(func() {
			p.lkURL.SetText(tc.url)
			p.lkToken.SetText("")
			p.lkKey.SetText(lkserver.APIKey)
			p.lkSecret.SetText(tc.secret)
		})
		h.tap(p.toggle)
		h.waitFor("the error shown for "+tc.url, func() bool {
			return p.connecting == nil && p.errText.Visible() && p.state.Text == "Failed."
		})
		h.onUI(func() {
			t.Logf("%s: %s %s", tc.url, p.state.Text, p.errText.Text)
			if p.pub != nil || !strings.Contains(p.errText.Text, tc.want) || p.toggle.Text != "Start publishing" {
				t.Errorf("%s: error %q, button %q, publisher %v", tc.url, p.errText.Text, p.toggle.Text, p.pub)
			}
		})
	}
	out := logs.String()
	for name, secret := range map[string]string{"the wrong secret": wrong, "the token": token} {
		if strings.Contains(out, secret) {
			t.Errorf("the log shows %s:\n%s", name, out)
		}
	}
	if strings.Contains(out, "="+lkserver.APISecret) || strings.Contains(out, `"`+lkserver.APISecret+`"`) {
		t.Errorf("the log shows the API secret:\n%s", out)
	}
	if !strings.Contains(out, "livekit: publishing") {
		t.Errorf("the log does not say it published (is the log captured?):\n%s", out)
	}
}
