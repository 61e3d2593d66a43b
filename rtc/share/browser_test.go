package share

import (
	"bufio"
	"context"
	"image"
	"image/color"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"segcast/bench"
	"segcast/engine"
	"segcast/rtc"
	"segcast/rtc/internal/rtctest"
)

// WHEP mode the way a phone joins: `segcast serve` prints the URL and a
// QR code, the camera reads the code, the browser opens the page, which
// posts its offer to the WHEP endpoint and plays.
func TestBrowserWHEPFromQRCodePlaysVideoAndAudio(t *testing.T) {
	ctx := rtctest.StartChromium(t)
	loop, clock := rtctest.PatternLoop(rtctest.BrowserW, rtctest.BrowserH)
	pr, pw := io.Pipe()
	serveCtx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	sessCh := make(chan *rtc.Session, 1)
	go func() {
		opt := ServeOptions{Config: rtctest.BrowserConfig(clock, rtctest.BrowserW, rtctest.BrowserH), Addr: "127.0.0.1:0", Out: pw}
		served <- serveWithHook(serveCtx, loop, opt, func(s *rtc.Session, _ *Control) { sessCh <- s })
		pw.Close()
	}()
	defer func() {
		stop()
		pr.Close() // unblocks a banner write if the test ended early
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()

	// The banner: page URL, WHEP URL, control URL, then the QR code as
	// text, two module rows per line: a code N modules wide has (N+1)/2
	// lines.
	rd := bufio.NewReader(pr)
	pageURL := readServeLine(t, rd)
	whepURL := readServeLine(t, rd)
	_ = readServeLine(t, rd) // the control API (control_test.go)
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
	rtctest.WaitPageConnected(ctx, t, 10*time.Second)
	samples := rtctest.WatchPlayback(ctx, t, rtctest.BrowserWatch, rtctest.SenderLate(loop, sess))
	t.Logf("per second:\n%s", rtctest.FmtSamples(samples))
	rtctest.CheckViewerConnected(t, sess)

	// Leaving the page DELETEs the WHEP resource: the viewer goes away.
	rtctest.LeavePage(ctx, t, sess)
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
	ctx := rtctest.StartChromium(b)
	loop, sess := rtctest.StreamPattern(b, w, h)
	srv, err := New(sess, Options{Addr: "127.0.0.1:0"})
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
	rtctest.WaitPageConnected(ctx, b, 10*time.Second)
	time.Sleep(5 * time.Second) // jitter buffers and rate control settle
	b.ResetTimer()
	for range b.N {
		const window = 10 * time.Second
		cpu0, err := rtctest.ChromiumCPU(ctx)
		if err != nil {
			b.Fatal(err)
		}
		self0, late0 := bench.ProcessCPU(), rtctest.SenderLate(loop, sess)()
		loop0, sess0 := loop.Stats(), sess.Stats()
		start := time.Now()
		samples := rtctest.WatchPlayback(ctx, b, window, rtctest.SenderLate(loop, sess))
		wall := time.Since(start)
		cpu1, err := rtctest.ChromiumCPU(ctx)
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
		b.ReportMetric(float64(rtctest.SenderLate(loop, sess)()-late0), "sender-late")
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
	ctx := rtctest.StartChromium(t)
	sess, err := rtc.NewSession(rtctest.BrowserConfig(engine.NewWallClock(), rtctest.BrowserW, rtctest.BrowserH))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var logs rtctest.LogBuffer
	srv, err := New(sess, Options{Addr: "127.0.0.1:0", Log: logs.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(rtctest.ServePage(t)+"?whep="+url.QueryEscape(srv.WHEPURL()))); err != nil {
		t.Fatal(err)
	}
	rtctest.WaitPageConnected(ctx, t, 10*time.Second)
	if vs := sess.Viewers(); len(vs) != 1 || vs[0].State != rtc.ViewerConnected {
		t.Fatalf("viewers %+v, want one connected", vs)
	}
	deadline := rtctest.LeavePage(ctx, t, sess)
	// The viewer also ends when the PeerConnection closes; the log shows
	// the page's cross-origin DELETE got through.
	for !strings.Contains(logs.String(), "viewer left over WHEP") {
		if time.Now().After(deadline) {
			t.Fatalf("no DELETE from the leaving page; server log:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
