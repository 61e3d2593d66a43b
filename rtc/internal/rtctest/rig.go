package rtctest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"segcast/assets"
	"segcast/engine"
	"segcast/engine/pattern"
	"segcast/rtc"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Rig is a wall-clock loop playing the sync pattern into a session.
type Rig struct {
	Clock engine.Clock
	Loop  *engine.Loop
	Sess  *rtc.Session
	Rate  engine.Rate
}

func NewRig(t testing.TB, w, h int, patternDur time.Duration, opts ...func(*rtc.Config)) *Rig {
	t.Helper()
	clock := engine.NewWallClock()
	rate := engine.Rate30
	loop := engine.NewLoop(engine.LoopConfig{Rate: rate, Width: w, Height: h, Clock: clock, Lead: rtc.EncodeLead})
	loop.Add(pattern.New(w, h, rate, patternDur))
	loop.Play()
	level := slog.LevelWarn
	if testing.Verbose() {
		level = slog.LevelInfo
	}
	cfg := rtc.Config{
		Width: w, Height: h, Rate: rate, Clock: clock, LoopbackOnly: true,
		// Enough bits that the pattern's frame code stays readable.
		Bitrate: 400_000, MinBitrate: 200_000, MaxBitrate: 1_000_000,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	}
	for _, o := range opts {
		o(&cfg)
	}
	sess, err := rtc.NewSession(cfg)
	if err != nil {
		t.Fatal(err)
	}
	remove := loop.AddSink(sess)
	t.Cleanup(func() {
		remove()
		if err := sess.Close(); err != nil {
			t.Error(err)
		}
	})
	return &Rig{Clock: clock, Loop: loop, Sess: sess, Rate: rate}
}

// run starts the loop; the returned func stops it and waits.
func (r *Rig) Run(t testing.TB) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = rtc.RunLoop(ctx, r.Loop) }() // as the commands run it
	return func() { cancel(); <-done }
}

// Connect adds a viewer in answer mode (the receiver offers).
func Connect(t testing.TB, ctx context.Context, sess *rtc.Session, rx *Receiver) *rtc.Viewer {
	t.Helper()
	v, answer, err := sess.Answer(ctx, rx.Offer(t))
	if err != nil {
		t.Fatal(err)
	}
	rx.Accept(t, answer)
	rx.WaitConnected(t, ctx)
	return v
}

// The browser tests stream the sync pattern at 640x360, 30 fps, on the
// wall clock, into headless Chromium running the shipped viewer page, and
// watch it play this long.
const (
	BrowserW, BrowserH = 640, 360
	BrowserWatch       = 10 * time.Second
)

// PatternLoop is a playing, looping loop on the w×h sync pattern and the
// wall clock; the caller adds sinks and runs it.
func PatternLoop(w, h int) (*engine.Loop, engine.Clock) {
	clock := engine.NewWallClock()
	loop := engine.NewLoop(engine.LoopConfig{
		Rate: engine.Rate30, Width: w, Height: h, Clock: clock, Lead: rtc.EncodeLead,
	})
	loop.Add(pattern.New(w, h, engine.Rate30, 10*time.Second))
	loop.SetLoop(true)
	loop.Play()
	return loop, clock
}

// ConnectPastedOffer does paste mode as a user would: the app's offer
// into the page, the page's answer back through rtc.Viewer.Accept, then waits
// for the connection.
func ConnectPastedOffer(ctx context.Context, t *testing.T, sess *rtc.Session, pageURL string) *rtc.Viewer {
	t.Helper()
	viewer, offer, err := sess.Offer(ctx)
	if err != nil {
		t.Fatalf("rtc.Session.Offer: %v", err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(pageURL),
		chromedp.SetValue(chromedp.ID("offerIn"), offer),
		chromedp.Click(chromedp.ID("answerBtn")),
	); err != nil {
		t.Fatalf("paste the offer: %v", err)
	}
	answer, err := chromedp.Run(ctx, chromedp.Poll[string](`document.getElementById("out").value`,
		chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("error")))
		t.Fatalf("page made no answer: %v (page error %q)", err, msg)
	}
	if err := viewer.Accept(answer); err != nil {
		t.Fatalf("rtc.Viewer.Accept(page's answer): %v", err)
	}
	WaitPageConnected(ctx, t, 10*time.Second)
	return viewer
}

// LeavePage navigates away and waits for the viewer to be removed (the
// page's unload ends it); it returns the deadline it gave that, for
// waits on the same event.
func LeavePage(ctx context.Context, t *testing.T, sess *rtc.Session) time.Time {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(sess.Viewers()) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("viewer still there after the page left: %+v", sess.Viewers())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return deadline
}

// StreamPattern plays the pattern on the wall clock into a new session
// (a sink of the loop) until the test ends.
func StreamPattern(tb testing.TB, w, h int, opts ...func(*rtc.Config)) (*engine.Loop, *rtc.Session) {
	tb.Helper()
	loop, clock := PatternLoop(w, h)
	cfg := BrowserConfig(clock, w, h)
	for _, o := range opts {
		o(&cfg)
	}
	sess, err := rtc.NewSession(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sess.Close() })
	tb.Cleanup(loop.AddSink(sess))
	runCtx, stop := context.WithCancel(context.Background())
	loopDone := make(chan error, 1)
	go func() { loopDone <- rtc.RunLoop(runCtx, loop) }()
	tb.Cleanup(func() { stop(); <-loopDone })
	return loop, sess
}

func BrowserConfig(clock engine.Clock, w, h int) rtc.Config {
	return rtc.Config{Width: w, Height: h, Rate: engine.Rate30, Clock: clock, LoopbackOnly: true}
}

// SenderLate counts what the sending side did late: frames the loop or
// the encoder skipped for being behind, audio handed over late, items
// the session wrote late or dropped.
func SenderLate(loop *engine.Loop, sess *rtc.Session) func() int64 {
	return func() int64 {
		ls, ss := loop.Stats(), sess.Stats()
		return ls.SkippedVideo + ls.LateAudio + ss.VideoSkipped + ss.LateVideo + ss.LateAudio + ss.Dropped
	}
}

// CheckViewerConnected asserts what the app's viewer list would show.
func CheckViewerConnected(t *testing.T, sess *rtc.Session) {
	t.Helper()
	vs := sess.Viewers()
	if len(vs) != 1 {
		t.Fatalf("session has %d viewers, want 1: %+v", len(vs), vs)
	}
	// The session gathers only 127.0.0.1; Chromium gathers no loopback
	// candidate, so its checks come from the machine's own address and
	// pion sees it as peer-reflexive. Either way the path is direct.
	if ct := vs[0].CandidateType; vs[0].State != rtc.ViewerConnected || (ct != "host" && ct != "prflx") {
		t.Errorf("viewer %+v: want connected over a direct (host or prflx) pair", vs[0])
	}
}

// Paste mode: the app offers (rtc.Session.Offer), the user pastes that into
// the page, the page's answer goes back through rtc.Viewer.Accept.
// ServePage serves the plain viewer page (paste modes) over loopback.
func ServePage(t testing.TB) string {
	t.Helper()
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(assets.ViewerPage())
	}))
	t.Cleanup(page.Close)
	return page.URL + "/"
}

// Observer adapts funcs to rtc.Observer; nil funcs are skipped.
type Observer struct {
	Created func(*rtc.Viewer)
	Closed  func(*rtc.Viewer)
	OnSent  func(rtc.SentItem)
}

func (o Observer) ViewerCreated(v *rtc.Viewer) {
	if o.Created != nil {
		o.Created(v)
	}
}

func (o Observer) ViewerClosed(v *rtc.Viewer) {
	if o.Closed != nil {
		o.Closed(v)
	}
}

func (o Observer) Sent(item rtc.SentItem) {
	if o.OnSent != nil {
		o.OnSent(item)
	}
}

// WithObservers adds observers to a rig's or a stream's config.
func WithObservers(os ...rtc.Observer) func(*rtc.Config) {
	return func(c *rtc.Config) { c.Observers = append(c.Observers, os...) }
}
