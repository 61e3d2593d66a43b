package rtc

import (
	"bufio"
	"context"
	"image"
	"image/color"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"segcast/assets"
	"segcast/bench"
	"segcast/engine"
	"segcast/engine/pattern"
)

// The browser e2e tests stream the sync pattern at 640x360, 30 fps, on
// the wall clock, into headless Chromium running the shipped viewer page.
const (
	browserW, browserH = 640, 360
	browserWatch       = 10 * time.Second
	// browserLead is the loop's encode-ahead window.
	browserLead = 100 * time.Millisecond
)

// patternLoop is a playing, looping loop on the w×h sync pattern and the
// wall clock; the caller adds sinks and runs it.
func patternLoop(w, h int) (*engine.Loop, engine.Clock) {
	clock := engine.NewWallClock()
	loop := engine.NewLoop(engine.LoopConfig{
		Rate: engine.Rate30, Width: w, Height: h, Clock: clock, Lead: browserLead,
	})
	loop.Add(pattern.New(w, h, engine.Rate30, 10*time.Second))
	loop.SetLoop(true)
	loop.Play()
	return loop, clock
}

// connectPastedOffer does paste mode as a user would: the app's offer
// into the page, the page's answer back through Viewer.Accept, then waits
// for the connection.
func connectPastedOffer(ctx context.Context, t *testing.T, sess *Session, pageURL string) *Viewer {
	t.Helper()
	viewer, offer, err := sess.Offer(ctx)
	if err != nil {
		t.Fatalf("Session.Offer: %v", err)
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
		t.Fatalf("Viewer.Accept(page's answer): %v", err)
	}
	waitConnected(ctx, t, 10*time.Second)
	return viewer
}

// leavePage navigates away and waits for the viewer to be removed (the
// page's unload ends it); it returns the deadline it gave that, for
// waits on the same event.
func leavePage(ctx context.Context, t *testing.T, sess *Session) time.Time {
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

// streamPattern plays the pattern on the wall clock into a new session
// (a sink of the loop) until the test ends.
func streamPattern(tb testing.TB, w, h int) (*engine.Loop, *Session) {
	tb.Helper()
	loop, clock := patternLoop(w, h)
	sess, err := NewSession(browserSessionConfig(clock, w, h))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sess.Close() })
	tb.Cleanup(loop.AddSink(sess))
	runCtx, stop := context.WithCancel(context.Background())
	loopDone := make(chan error, 1)
	go func() { loopDone <- loop.Run(runCtx) }()
	tb.Cleanup(func() { stop(); <-loopDone })
	return loop, sess
}

func browserSessionConfig(clock engine.Clock, w, h int) Config {
	return Config{Width: w, Height: h, Rate: engine.Rate30, Clock: clock, LoopbackOnly: true}
}

// senderLate counts what the sending side did late: frames the loop or
// the encoder skipped for being behind, audio handed over late, items
// the session wrote late or dropped.
func senderLate(loop *engine.Loop, sess *Session) func() int64 {
	return func() int64 {
		ls, ss := loop.Stats(), sess.Stats()
		return ls.SkippedVideo + ls.LateAudio + ss.VideoSkipped + ss.LateVideo + ss.LateAudio + ss.Dropped
	}
}

// checkViewerConnected asserts what the app's viewer list would show.
func checkViewerConnected(t *testing.T, sess *Session) {
	t.Helper()
	vs := sess.Viewers()
	if len(vs) != 1 {
		t.Fatalf("session has %d viewers, want 1: %+v", len(vs), vs)
	}
	// The session gathers only 127.0.0.1; Chromium gathers no loopback
	// candidate, so its checks come from the machine's own address and
	// pion sees it as peer-reflexive. Either way the path is direct.
	if ct := vs[0].CandidateType; vs[0].State != "connected" || (ct != "host" && ct != "prflx") {
		t.Errorf("viewer %+v: want connected over a direct (host or prflx) pair", vs[0])
	}
}

// Paste mode: the app offers (Session.Offer), the user pastes that into
// the page, the page's answer goes back through Viewer.Accept.
func TestBrowserPasteModePlaysVideoAndAudio(t *testing.T) {
	ctx := startChromium(t)
	loop, sess := streamPattern(t, browserW, browserH)

	pageURL := servePage(t)

	connectPastedOffer(ctx, t, sess, pageURL)
	samples := watchPlayback(ctx, t, browserWatch, senderLate(loop, sess))
	t.Logf("per second:\n%s", fmtSamples(samples))
	checkViewerConnected(t, sess)
	st := sess.Stats()
	t.Logf("session: %d frames, %d chunks sent, %d late video, %d late audio, %d keyframes, target %d bps",
		st.VideoFramesSent, st.AudioChunksSent, st.LateVideo, st.LateAudio, st.Keyframes, st.BitrateBps)
}

// WHEP mode the way a phone joins: `segcast serve` prints the URL and a
// QR code, the camera reads the code, the browser opens the page, which
// posts its offer to the WHEP endpoint and plays.
func TestBrowserWHEPFromQRCodePlaysVideoAndAudio(t *testing.T) {
	ctx := startChromium(t)
	loop, clock := patternLoop(browserW, browserH)
	pr, pw := io.Pipe()
	serveCtx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	sessCh := make(chan *Session, 1)
	go func() {
		opt := ServeOptions{Config: browserSessionConfig(clock, browserW, browserH), Addr: "127.0.0.1:0", Out: pw}
		served <- serveWithHook(serveCtx, loop, opt, func(s *Session) { sessCh <- s })
		pw.Close()
	}()
	defer func() {
		stop()
		pr.Close() // unblocks a banner write if the test ended early
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()

	// The banner: page URL, WHEP URL, then the QR code as text, two
	// module rows per line: a code N modules wide has (N+1)/2 lines.
	rd := bufio.NewReader(pr)
	pageURL := readServeLine(t, rd)
	whepURL := readServeLine(t, rd)
	first := readServeLine(t, rd)
	qrLines := []string{first}
	for len(qrLines) < (len([]rune(first))+1)/2 {
		qrLines = append(qrLines, readServeLine(t, rd))
	}
	go io.Copy(io.Discard, rd) // nothing else is expected
	sess := <-sessCh
	if whepURL != pageURL+"whep" {
		t.Fatalf("banner line 2 %q, want %q", whepURL, pageURL+"whep")
	}
	scanned, _ := decodeQR(t, terminalQRImage(strings.Join(qrLines, "\n")))
	if scanned != pageURL {
		t.Fatalf("terminal QR code says %q, want %q", scanned, pageURL)
	}
	// The UI's QR image says the same.
	img, err := QRCode(pageURL, 256)
	if err != nil {
		t.Fatal(err)
	}
	if text, _ := decodeQR(t, img); text != pageURL {
		t.Fatalf("QRCode image says %q, want %q", text, pageURL)
	}

	// A wrong token gets 404 and no viewer, before the real one joins.
	bad := strings.Replace(pageURL, "/"+tokenOf(t, pageURL)+"/", "/"+strings.Repeat("f", 32)+"/", 1)
	for _, u := range []string{bad, bad + "whep"} {
		resp, err := http.Post(u, "application/sdp", strings.NewReader("v=0\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("POST %s: %d, want 404", u, resp.StatusCode)
		}
	}
	if n := len(sess.Viewers()); n != 0 {
		t.Fatalf("%d viewers after wrong-token requests, want 0", n)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(scanned)); err != nil {
		t.Fatalf("open %s: %v", scanned, err)
	}
	waitConnected(ctx, t, 10*time.Second)
	samples := watchPlayback(ctx, t, browserWatch, senderLate(loop, sess))
	t.Logf("per second:\n%s", fmtSamples(samples))
	checkViewerConnected(t, sess)

	// Leaving the page DELETEs the WHEP resource: the viewer goes away.
	leavePage(ctx, t, sess)
}

func readServeLine(t *testing.T, rd *bufio.Reader) string {
	t.Helper()
	line, err := rd.ReadString('\n')
	if err != nil {
		t.Fatalf("read serve output: %v", err)
	}
	return strings.TrimSuffix(line, "\n")
}

// tokenOf is the first path element of a page URL.
func tokenOf(t *testing.T, pageURL string) string {
	t.Helper()
	_, rest, ok := strings.Cut(strings.TrimPrefix(pageURL, "http://"), "/")
	tok, _, _ := strings.Cut(rest, "/")
	if !ok || len(tok) != 32 {
		t.Fatalf("page URL %q has no 128-bit token", pageURL)
	}
	return tok
}

// terminalQRImage turns go-qrcode's ToSmallString(false) text back into
// pixels, as a terminal shows it: each character is two modules stacked,
// a lit half is white ("█" both, "▀" top, "▄" bottom, " " neither).
func terminalQRImage(text string) image.Image {
	const px = 4 // pixels per module
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	cols := 0
	for _, l := range lines {
		cols = max(cols, len([]rune(l)))
	}
	img := image.NewGray(image.Rect(0, 0, (cols+8)*px, (2*len(lines)+8)*px))
	for i := range img.Pix {
		img.Pix[i] = 255 // extra quiet zone
	}
	set := func(mx, my int, white bool) {
		c := color.Gray{}
		if white {
			c.Y = 255
		}
		for y := range px {
			for x := range px {
				img.SetGray((mx+4)*px+x, (my+4)*px+y, c)
			}
		}
	}
	for row, l := range lines {
		for col, r := range []rune(l) {
			set(col, 2*row, r == '█' || r == '▀')
			set(col, 2*row+1, r == '█' || r == '▄')
		}
	}
	return img
}

// servePage serves the plain viewer page (paste modes) over loopback.
func servePage(t testing.TB) string {
	t.Helper()
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(assets.ViewerPage())
	}))
	t.Cleanup(page.Close)
	return page.URL + "/"
}

// The other paste direction: the page offers, the app answers
// (Session.Answer), the user pastes the answer into the page.
func TestBrowserPageOffersAppAnswers(t *testing.T) {
	ctx := startChromium(t)
	loop, sess := streamPattern(t, browserW, browserH)

	if err := chromedp.Do(ctx, chromedp.Navigate(servePage(t)), chromedp.Click(chromedp.ID("offerBtn"))); err != nil {
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
	waitConnected(ctx, t, 10*time.Second)
	watchPlayback(ctx, t, 3*time.Second, senderLate(loop, sess))
	checkViewerConnected(t, sess)
}

// Where autoplay with sound is forbidden (a browser's default without a
// user gesture), the page plays muted and shows "Click to unmute"; a
// click brings the sound. Bad pastes show an error and change nothing.
func TestBrowserUnmuteButtonAndPasteErrors(t *testing.T) {
	ctx := startChromium(t, chromedp.Flag("autoplay-policy", "document-user-activation-required"))
	sess, err := NewSession(browserSessionConfig(engine.NewWallClock(), browserW, browserH))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(servePage(t))); err != nil {
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
	srv, err := NewShareServer(sess, ShareOptions{Addr: "127.0.0.1:0"})
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

// BenchmarkBrowserViewerWHEP joins headless Chromium over WHEP to a
// 30 fps pattern stream (360p and 720p) and measures, over a 10 s window
// after a 5 s settle: the browser's CPU (all its processes), this
// process's CPU (loop, encoders, pion), decoded fps, jitter buffer delays
// and freezes. One iteration takes ~20 s: run with -benchtime=1x.
func BenchmarkBrowserViewerWHEP(b *testing.B) {
	for _, size := range []struct {
		name string
		w, h int
	}{{"360p", 640, 360}, {"720p", 1280, 720}} {
		b.Run(size.name, func(b *testing.B) { benchBrowserViewer(b, size.w, size.h) })
	}
}

func benchBrowserViewer(b *testing.B, w, h int) {
	ctx := startChromium(b)
	loop, sess := streamPattern(b, w, h)
	srv, err := NewShareServer(sess, ShareOptions{Addr: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.PageURL())); err != nil {
		b.Fatal(err)
	}
	waitConnected(ctx, b, 10*time.Second)
	time.Sleep(5 * time.Second) // jitter buffers and rate control settle
	b.ResetTimer()
	for range b.N {
		const window = 10 * time.Second
		cpu0, err := chromiumCPU(ctx)
		if err != nil {
			b.Fatal(err)
		}
		self0, late0 := bench.ProcessCPU(), senderLate(loop, sess)()
		loop0, sess0 := loop.Stats(), sess.Stats()
		start := time.Now()
		samples := watchPlayback(ctx, b, window, senderLate(loop, sess))
		wall := time.Since(start)
		cpu1, err := chromiumCPU(ctx)
		if err != nil {
			b.Fatal(err)
		}
		first, last := samples[0], samples[len(samples)-1]
		span := float64(len(samples) - 1)
		b.ReportMetric((cpu1-cpu0).Seconds()/wall.Seconds(), "chromium-cores")
		b.ReportMetric((bench.ProcessCPU()-self0).Seconds()/wall.Seconds(), "segcast-cores")
		b.ReportMetric(float64(last.FramesDecoded-first.FramesDecoded)/span, "decoded-fps")
		b.ReportMetric(last.JitterBufferMs, "video-jb-ms")
		b.ReportMetric(last.AudioJitterBufferMs, "audio-jb-ms")
		b.ReportMetric(float64(last.FreezeCount-first.FreezeCount), "freezes")
		b.ReportMetric(float64(senderLate(loop, sess)()-late0), "sender-late")
		// Where frames went missing: the loop woke too late and skipped
		// them, or the session sent fewer, or the browser decoded fewer.
		loop1, sess1 := loop.Stats(), sess.Stats()
		b.ReportMetric(float64(loop1.SkippedVideo-loop0.SkippedVideo), "loop-skipped")
		b.ReportMetric(float64(sess1.VideoFramesSent-sess0.VideoFramesSent)/wall.Seconds(), "sent-fps")
		b.ReportMetric(float64(sess1.VideoSkipped-sess0.VideoSkipped), "encoder-skipped")
		b.Logf("window: loop %d frames handed over; session %d sent, %d skipped (encoder behind), %d late video, %d late audio, %d dropped, %d keyframes",
			loop1.VideoFrames-loop0.VideoFrames, sess1.VideoFramesSent-sess0.VideoFramesSent, sess1.VideoSkipped-sess0.VideoSkipped,
			sess1.LateVideo-sess0.LateVideo, sess1.LateAudio-sess0.LateAudio, sess1.Dropped-sess0.Dropped, sess1.Keyframes-sess0.Keyframes)
	}
}

// A saved viewer page (`segcast viewer --out`) opened with
// ?whep=<endpoint> joins a share server of another origin: CORS lets the
// POST through and the DELETE on leaving ends the viewer.
func TestBrowserWHEPQueryParamCrossOrigin(t *testing.T) {
	ctx := startChromium(t)
	sess, err := NewSession(browserSessionConfig(engine.NewWallClock(), browserW, browserH))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var logs logBuffer
	srv, err := NewShareServer(sess, ShareOptions{Addr: "127.0.0.1:0", Log: logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(servePage(t)+"?whep="+url.QueryEscape(srv.WHEPURL()))); err != nil {
		t.Fatal(err)
	}
	waitConnected(ctx, t, 10*time.Second)
	if vs := sess.Viewers(); len(vs) != 1 || vs[0].State != "connected" {
		t.Fatalf("viewers %+v, want one connected", vs)
	}
	deadline := leavePage(ctx, t, sess)
	// The viewer also ends when the PeerConnection closes; the log shows
	// the page's cross-origin DELETE got through.
	for !strings.Contains(logs.String(), "viewer left over WHEP") {
		if time.Now().After(deadline) {
			t.Fatalf("no DELETE from the leaving page; server log:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
