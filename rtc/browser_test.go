package rtc_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"segcast/engine"
	"segcast/rtc"
	"segcast/rtc/internal/rtctest"
	"segcast/rtc/share"
)

func TestBrowserPasteModePlaysVideoAndAudio(t *testing.T) {
	ctx := rtctest.StartChromium(t)
	loop, sess := rtctest.StreamPattern(t, rtctest.BrowserW, rtctest.BrowserH)

	pageURL := rtctest.ServePage(t)

	rtctest.ConnectPastedOffer(ctx, t, sess, pageURL)
	samples := rtctest.WatchPlayback(ctx, t, rtctest.BrowserWatch, rtctest.SenderLate(loop, sess))
	t.Logf("per second:\n%s", rtctest.FmtSamples(samples))
	rtctest.CheckViewerConnected(t, sess)
	st := sess.Stats()
	t.Logf("session: %d frames, %d chunks sent, %d late video, %d late audio, %d keyframes, target %d bps",
		st.VideoFramesSent, st.AudioChunksSent, st.LateVideo, st.LateAudio, st.Keyframes, st.BitrateBps)
}

// The other paste direction: the page offers, the app answers
// (Session.Answer), the user pastes the answer into the page.
func TestBrowserPageOffersAppAnswers(t *testing.T) {
	ctx := rtctest.StartChromium(t)
	loop, sess := rtctest.StreamPattern(t, rtctest.BrowserW, rtctest.BrowserH)

	if err := chromedp.Do(ctx, chromedp.Navigate(rtctest.ServePage(t)), chromedp.Click(chromedp.ID("offerBtn"))); err != nil {
		t.Fatal(err)
	}
	offer, err := chromedp.Run(ctx, chromedp.Poll[string](`document.getElementById("out").value`,
		chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		t.Fatalf("page made no offer: %v", err)
	}
	_, answer, err := sess.Answer(ctx, offer)
	if err != nil {
		t.Fatalf("Session.Answer(page's offer): %v", err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("answerIn"), answer),
		chromedp.Click(chromedp.ID("acceptBtn")),
	); err != nil {
		t.Fatal(err)
	}
	rtctest.WaitPageConnected(ctx, t, 10*time.Second)
	rtctest.WatchPlayback(ctx, t, 3*time.Second, rtctest.SenderLate(loop, sess))
	rtctest.CheckViewerConnected(t, sess)
}

// Where autoplay with sound is forbidden (a browser's default without a
// user gesture), the page plays muted and shows "Click to unmute"; a
// click brings the sound. Bad pastes show an error and change nothing.
func TestBrowserUnmuteButtonAndPasteErrors(t *testing.T) {
	ctx := rtctest.StartChromium(t, chromedp.Flag("autoplay-policy", "document-user-activation-required"))
	sess, err := rtc.NewSession(rtctest.BrowserConfig(engine.NewWallClock(), rtctest.BrowserW, rtctest.BrowserH))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(rtctest.ServePage(t))); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ paste, says string }{
		{"hello", "not base64 of JSON and not raw SDP"},
		{"eyJ0eXBlIjoiYW5zd2VyIiwic2RwIjoidj0wIn0=", `expected an offer, got "answer"`}, // {"type":"answer",…}
		{" ", "the box is empty"},
	} {
		if err := chromedp.Do(ctx,
			chromedp.SetValue(chromedp.ID("offerIn"), c.paste),
			chromedp.Click(chromedp.ID("answerBtn")),
		); err != nil {
			t.Fatal(err)
		}
		// Poll until the error names the fault (returns "" until then).
		msg, err := chromedp.Run(ctx, chromedp.Poll[string](
			`(() => { const m = document.getElementById("error").textContent; return m.includes(`+strconv.Quote(c.says)+`) ? m : ""; })()`,
			chromedp.WithPollingTimeout(5*time.Second)))
		if err != nil {
			got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("error")))
			t.Fatalf("paste %q: page error %q, want it to say %q", c.paste, got, c.says)
		}
		t.Logf("paste %q → %q", c.paste, msg)
	}
	if out, _ := chromedp.Run(ctx, chromedp.Value(chromedp.ID("out"))); out != "" {
		t.Fatalf("bad pastes produced an answer: %q", out)
	}
	// The clicks above count as a user gesture: sound could autoplay. A
	// phone opening the LAN link has made none, so join over WHEP.
	srv, err := share.New(sess, share.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(wctx,
		chromedp.Navigate(srv.PageURL()),
		chromedp.WaitVisible(chromedp.ID("unmute")),
	); err != nil {
		t.Fatalf("no unmute button although sound may not autoplay: %v", err)
	}
	if muted, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("video").muted`)); err != nil || !muted {
		t.Fatalf("video muted = %v (%v), want muted while the button shows", muted, err)
	}
	if err := chromedp.Do(wctx,
		chromedp.Click(chromedp.ID("unmute")),
		chromedp.WaitNotVisible(chromedp.ID("unmute")),
	); err != nil {
		t.Fatalf("click to unmute: %v", err)
	}
	if muted, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("video").muted`)); err != nil || muted {
		t.Fatalf("video muted = %v (%v) after the click, want sound on", muted, err)
	}
}
