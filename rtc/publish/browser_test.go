//go:build linux

package publish

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"segcast/assets"
	"segcast/rtc/publish/lkserver"
)

// chromium is Debian's headless-capable Chromium.
const chromium = "/usr/bin/chromium"

// pageInfo is window.segcastLiveKit, as assets/livekit.html keeps it.
type pageInfo struct {
	State  string `json:"state"`
	Error  string `json:"error"`
	Room   string `json:"room"`
	Tracks map[string]struct {
		Participant     string `json:"participant"`
		StreamID        string `json:"streamId"`
		FramesDecoded   int    `json:"framesDecoded"`
		SamplesReceived int    `json:"samplesReceived"`
	} `json:"tracks"`
}

// watchInChromium opens the LiveKit viewer page on room in a fresh
// headless Chromium and returns the tab; all of it ends with the test.
func watchInChromium(t testing.TB, ctx context.Context, nodeURL, room string) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s (Debian package chromium) is needed under CI: %v", chromium, err)
		}
		t.Skipf("needs %s (Debian package chromium): %v", chromium, err)
	}
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(assets.LiveKitViewerPage())
	}))
	t.Cleanup(page.Close)
	pageURL := page.URL + "/#url=" + url.QueryEscape(nodeURL) + "&token=" + lkserver.Token(t, room, "browser", false)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		// Real host candidates: the server cannot resolve mDNS names.
		chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns"),
		chromedp.UserDataDir(t.TempDir()))
	t.Cleanup(cancelAlloc)
	bctx, cancelTab := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(cancelTab)
	if err := chromedp.Do(bctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatal(err)
	}
	return bctx
}

// Headless Chromium with the vendored livekit-client joins the room
// Segcast publishes into and plays both tracks, as one stream.
func TestLiveKitChromiumPlaysBothTracks(t *testing.T) {
	c := lkserver.Start(t, lkserver.Options{})
	n := c.Nodes[0]
	r := newRig(t, 320, 240)
	room := randomName("browser-")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p, err := PublishLiveKit(ctx, r.sess, LiveKitOptions{URL: n.URL, APIKey: lkserver.APIKey,
		APISecret: lkserver.APISecret, Room: room, Log: r.log})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	bctx := watchInChromium(t, ctx, n.URL, room)
	info := waitPlaying(t, ctx, bctx)
	t.Logf("page: %+v", info)
	v, a := info.Tracks["video"], info.Tracks["audio"]
	if info.Room != room || v.Participant != p.Identity() || a.Participant != p.Identity() {
		t.Errorf("page in room %q playing %q/%q, want %q from %q", info.Room, v.Participant, a.Participant, room, p.Identity())
	}
	if v.StreamID == "" || v.StreamID != a.StreamID {
		t.Errorf("video in stream %q, audio in %q: want one stream, which the browser lip-syncs", v.StreamID, a.StreamID)
	}
}

// waitPlaying waits until the page has decoded a second of both tracks.
func waitPlaying(t testing.TB, ctx, bctx context.Context) pageInfo {
	t.Helper()
	for {
		info, err := chromedp.Run(bctx, chromedp.Evaluate[pageInfo](`window.segcastLiveKit`))
		if err != nil {
			t.Fatal(err)
		}
		if info.State == "error" {
			t.Fatalf("page: %+v", info)
		}
		if info.Tracks["video"].FramesDecoded >= 30 && info.Tracks["audio"].SamplesReceived >= 48000 {
			return info
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the page did not play both tracks in time: %+v", info)
		case <-time.After(500 * time.Millisecond):
		}
	}
}
