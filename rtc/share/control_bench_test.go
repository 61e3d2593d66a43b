package share

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"segcast/engine"
	"segcast/engine/stats"
	"segcast/rtc"
	"segcast/rtc/internal/chromium"
	"segcast/rtc/internal/rtctest"
)

// lastByte is a request body that notes when its last byte was read by
// the HTTP client (handed to the connection).
type lastByte struct {
	r  io.Reader
	at time.Time
}

func (l *lastByte) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if err == io.EOF {
		l.at = time.Now()
	}
	return n, err
}

// firstSent waits for the first video frame of a pushed segment (not
// the idle picture) written after since, and returns when it was written
// and its source frame (0 unless a late sender skipped the first).
func (s *sentRec) firstSent(tb testing.TB, since time.Time) (time.Time, int) {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		video, _, _ := s.snapshot()
		for _, it := range video {
			if it.SourceIndex >= 0 && it.Wall.After(since) {
				return it.Wall, it.SourceIndex
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	video, _, _ := s.snapshot()
	tb.Fatalf("the pushed segment's first frame never went out; last sent %+v", video[max(0, len(video)-3):])
	return time.Time{}, 0
}

// backToIdle interrupts and waits until an idle frame went out after
// that, so the next push starts from idle.
func (r *ctlRig) backToIdle(tb testing.TB) {
	tb.Helper()
	r.loop.Interrupt(true)
	at := time.Now()
	deadline := at.Add(time.Minute)
	for time.Now().Before(deadline) {
		video, _, _ := r.sent.snapshot()
		if it := video[len(video)-1]; it.SourceIndex < 0 && it.Wall.After(at) {
			r.sent.mu.Lock()
			r.sent.video, r.sent.audio, r.sent.flashes = nil, nil, nil // keep the benchmark's memory flat
			r.sent.mu.Unlock()
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	tb.Fatal("never back to idle")
}

func streamingRig(b *testing.B, w, h int) *ctlRig {
	r := newCtlRig(b, rigOpt{w: w, h: h, session: true, budget: 4 << 30})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rtctest.Connect(b, ctx, r.sess, rtctest.NewReceiver(b, false))
	time.Sleep(time.Second) // past the first keyframe
	return r
}

func quantiles(b *testing.B, what string, ds []time.Duration) {
	ms := make([]float64, len(ds))
	for i, d := range ds {
		ms[i] = float64(d) / 1e6
	}
	slices.Sort(ms)
	p50, p95 := stats.Quantile(ms, 0.5), stats.Quantile(ms, 0.95)
	b.ReportMetric(p50, what+"-p50-ms")
	b.ReportMetric(p95, what+"-p95-ms")
	b.ReportMetric(ms[len(ms)-1], what+"-max-ms")
	b.Logf("%s over %d: p50 %.1f ms, p95 %.1f ms, max %.1f ms", what, len(ms), p50, p95, ms[len(ms)-1])
}

// BenchmarkPushToAir POSTs a 5 s 720p30 Y4M+WAV (multipart, in memory)
// 50 times, each with nothing queued, and measures from the request's
// last byte to the segment's first RTP packet, split at the 201 (the
// server done reading and queueing; then the loop's cut and the encode
// lead); the send-time error of every item written from the last byte
// to 200 ms after the segment's first picture (across the cut, where the
// loop hands over at once what the idle lead left: engine.LoopConfig's
// IdleLead); and, separately, from the last byte to the 201 per media
// second of the same as an H.264/AAC MP4 (decoded through ffmpeg).
// Run: go test -run XXX -bench PushToAir -benchtime 1x ./rtc/share/
func BenchmarkPushToAir(b *testing.B) {
	const pushes = 50
	r := streamingRig(b, 1280, 720)
	c := newClip(1280, 720, engine.Rate30, 48000, 5*time.Second)
	body, ct := multipartBody(c.y4m(), c.wav(), false)
	data, _ := io.ReadAll(body)
	for b.Loop() {
		var toAir, to201, after201, sendErr []time.Duration
		for range pushes {
			lb := &lastByte{r: bytes.NewReader(data)}
			req, _ := http.NewRequest("POST", r.url+"segments", lb)
			req.ContentLength = int64(len(data)) // as curl -F sends it; without, the server spools (control_upload.go, fitsRaw)
			req.Header.Set("Content-Type", ct)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			answered := time.Now()
			if resp.StatusCode != 201 {
				b.Fatalf("POST: %d", resp.StatusCode)
			}
			at, src := r.sent.firstSent(b, lb.at)
			if src != 0 {
				b.Logf("push %d: source frame %d went out first (the sender skipped the first)", len(toAir), src)
			}
			toAir = append(toAir, at.Sub(lb.at))
			to201 = append(to201, answered.Sub(lb.at))
			after201 = append(after201, at.Sub(answered))
			time.Sleep(200 * time.Millisecond)
			video, audio, _ := r.sent.snapshot()
			for _, it := range append(video, audio...) {
				if it.Wall.After(lb.at) {
					sendErr = append(sendErr, it.Wrote-it.Deadline)
				}
			}
			r.backToIdle(b)
		}
		quantiles(b, "y4m-last-byte-to-rtp", toAir)
		quantiles(b, "y4m-last-byte-to-201", to201)
		quantiles(b, "y4m-201-to-rtp", after201)
		quantiles(b, "send-error-at-push", sendErr)
		slices.Sort(sendErr)
		b.ReportMetric(float64(sendErr[len(sendErr)*99/100])/1e6, "send-error-at-push-p99-ms")

		ffmpeg, err := exec.LookPath("ffmpeg")
		if err != nil {
			b.Log("no ffmpeg: MP4 load time not measured")
			continue
		}
		mp4 := filepath.Join(b.TempDir(), "c.mp4")
		if out, err := exec.Command(ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-f", "lavfi",
			"-i", "sine=f=440:r=48000", "-t", "5", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-c:a", "aac", mp4).CombinedOutput(); err != nil {
			b.Fatalf("ffmpeg: %v\n%s", err, out)
		}
		mp4Data, _ := os.ReadFile(mp4)
		var perSecond []time.Duration
		for range 10 {
			lb := &lastByte{r: bytes.NewReader(mp4Data)}
			resp, err := http.Post(r.url+"segments", "video/mp4", lb)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 201 {
				b.Fatalf("POST mp4: %d", resp.StatusCode)
			}
			perSecond = append(perSecond, time.Since(lb.at)/5)
			r.backToIdle(b)
		}
		quantiles(b, "mp4-load-per-media-s", perSecond)
	}
}

// BenchmarkLivePrerollToAir pushes 40 live segments over one WebSocket
// (720p30 bgr24, 48 kHz mono), each from idle: the pre-roll (200 ms) is
// sent, then nothing until the first frame went out. It measures to that
// frame's first RTP packet from two instants: the client's last byte of
// the pre-roll, and the server holding it (its 6th frame appended, polled
// every 0.2 ms; the sound after it is one short message more).
// Run: go test -run XXX -bench LivePrerollToAir -benchtime 1x ./rtc/share/
func BenchmarkLivePrerollToAir(b *testing.B) {
	const pushes = 40
	r := streamingRig(b, 1280, 720)
	c := newClip(1280, 720, engine.Rate30, 48000, 300*time.Millisecond).withBGR()
	p := dialLive(b, r)
	for b.Loop() {
		var fromClient, fromServer []time.Duration
		for i := range pushes {
			if err := p.text(header(c, fmt.Sprint("live ", i), nil)); err != nil {
				b.Fatal(err)
			}
			id := engine.EntryID(p.find(i, is("accepted", nil))["id"].(float64))
			var sent time.Time
			for k := range 6 { // 200 ms at 30 fps, with its sound
				p.binary('V', c.bgrs[k])
				p.binary('A', s16le(c.pcm[k*1600:(k+1)*1600]))
				sent = time.Now() // Write returns once the message is handed to the connection
			}
			for e, _ := r.loop.Entry(id); e.Frames < 6; e, _ = r.loop.Entry(id) {
				time.Sleep(200 * time.Microsecond)
			}
			held := time.Now()
			at, src := r.sent.firstSent(b, sent)
			if src != 0 {
				b.Logf("push %d: source frame %d went out first (the sender skipped the first)", i, src)
			}
			fromClient, fromServer = append(fromClient, at.Sub(sent)), append(fromServer, at.Sub(held))
			p.text(map[string]any{"end": true})
			r.backToIdle(b)
		}
		quantiles(b, "client-preroll-to-rtp", fromClient)
		quantiles(b, "server-preroll-to-rtp", fromServer)
	}
}

// BenchmarkBoundaries pushes 100 segments of random lengths (0.3–5 s;
// 25 and 30 fps sources; 16, 24 and 48 kHz sound), alternately POSTed as
// Y4M+WAV and sent live, back to back into a 640x360 stream that headless
// Chromium watches; it counts timestamp discontinuities in what was sent,
// the browser's freezes, and each first flash's distance from its beep.
// The producer is a process of its own, as a real one is: its clips,
// hundreds of MB a minute, are not this process's garbage to collect.
// About 5 minutes.
// Run: go test -run XXX -bench Boundaries -benchtime 1x -timeout 30m ./rtc/share/
func BenchmarkBoundaries(b *testing.B) {
	const n = 100
	w, h := rtctest.BrowserW, rtctest.BrowserH
	r := newCtlRig(b, rigOpt{w: w, h: h, session: true, budget: 4 << 30})
	bctx := longChromium(b, 30*time.Minute)
	srv, err := New(r.sess, Options{Addr: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	for b.Loop() {
		if err := chromedp.Do(bctx, chromedp.Navigate(srv.PageURL())); err != nil {
			b.Fatal(err)
		}
		rtctest.WaitPageConnected(bctx, b, 10*time.Second)
		// The page's stats every second: decoding must go on all along,
		// and each freeze is put beside what the sender did then.
		stats0, err := rtctest.ReadStats(bctx)
		if err != nil {
			b.Fatal(err)
		}
		statsDone := make(chan []pageSample, 1)
		statsCtx, stopStats := context.WithCancel(context.Background())
		go func() { statsDone <- watchPage(statsCtx, bctx, b) }()
		late0 := rtctest.SenderLate(r.loop, r.sess)()
		ls0, ss0 := r.loop.Stats(), r.sess.Stats()
		runProducer(b, r.url, n)
		es := r.loop.Entries()
		last := es[len(es)-1].ID
		r.waitEntry(b, last, "done", func(e engine.Entry) bool { return e.State >= engine.EntryDone })
		time.Sleep(time.Second)
		stopStats()
		samples := <-statsDone
		stats1 := samples[len(samples)-1].st
		stalls := 0 // five-second windows without a frame decoded
		for i := 5; i < len(samples); i += 5 {
			if samples[i].st.FramesDecoded <= samples[i-5].st.FramesDecoded {
				stalls++
			}
		}
		video, audio, flashes := r.sent.snapshot()
		onsets := r.heard.snapshot()
		disc := discontinuities(video, audio)
		starts := flashStarts(video, flashes)
		gaps := flashBeepGaps(engine.Rate30, starts, onsets)
		var worst time.Duration
		over := 0
		for _, g := range gaps {
			worst = max(worst, g.Abs())
			if g.Abs() > 3*time.Millisecond {
				over++
			}
		}
		var underruns, done int
		for _, e := range r.loop.Entries() {
			underruns += e.Underruns
			if e.State == engine.EntryDone {
				done++
			}
		}
		b.ReportMetric(float64(disc), "discontinuities")
		b.ReportMetric(float64(stats1.FreezeCount-stats0.FreezeCount), "freezes")
		b.ReportMetric(float64(stalls), "decode-stalls-5s")
		b.ReportMetric(float64(worst)/1e6, "max-flash-beep-ms")
		b.ReportMetric(float64(over), "flashes-over-3ms")
		b.Logf("%d entries done, %d underruns, %d flashes checked (max |beep−flash| %v, %d over 3 ms), %d discontinuities, freezes %d→%d, sender late %d, frames decoded %d→%d (%d five-second windows without progress of %d), %d dropped, %d packets lost",
			done, underruns, len(gaps), worst, over, disc, stats0.FreezeCount, stats1.FreezeCount,
			rtctest.SenderLate(r.loop, r.sess)()-late0, stats0.FramesDecoded, stats1.FramesDecoded, stalls, len(samples)/5,
			stats1.FramesDropped, stats1.PacketsLost)
		logSenderGaps(b, video, samples, 100*time.Millisecond)
		b.Logf("%d of the freezes beside a gap of 150 ms or more in the frames written; %s", explainFreezes(b, samples, video), describeSteal(samples))
		ls1, ss1 := r.loop.Stats(), r.sess.Stats()
		b.Logf("sender late, by kind: loop skipped %d frames and was late with %d audio chunks; the session skipped %d frames, wrote %d frames and %d chunks late, dropped %d; keyframes %d; send error p99 video %v, audio %v",
			ls1.SkippedVideo-ls0.SkippedVideo, ls1.LateAudio-ls0.LateAudio, ss1.VideoSkipped-ss0.VideoSkipped,
			ss1.LateVideo-ss0.LateVideo, ss1.LateAudio-ss0.LateAudio, ss1.Dropped-ss0.Dropped, ss1.Keyframes-ss0.Keyframes,
			ss1.VideoSendErr.P99, ss1.AudioSendErr.P99)
	}
}

// producerEnv gives BenchmarkBoundaryProducer, in its own process, the
// control API to push to and how many segments.
const producerEnv = "SEGCAST_BOUNDARY_PRODUCER"

// runProducer runs BenchmarkBoundaryProducer in a process of its own (this
// test binary again), pushing n segments to the control API at url, and
// waits for it.
func runProducer(b *testing.B, url string, n int) {
	cmd := exec.Command(os.Args[0], "-test.run", "^$", "-test.bench", "^BenchmarkBoundaryProducer$", "-test.benchtime", "1x")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d %s", producerEnv, n, url))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("producer process: %v", err)
	}
}

// BenchmarkBoundaryProducer is BenchmarkBoundaries' producer, which that
// benchmark runs in a process of its own: segments of random lengths
// (0.3–5 s; 25 and 30 fps; 16, 24 and 48 kHz sound), alternately POSTed as
// Y4M+WAV and sent live, back to back.
func BenchmarkBoundaryProducer(b *testing.B) {
	var n int
	var url string
	if _, err := fmt.Sscanf(os.Getenv(producerEnv), "%d %s", &n, &url); err != nil {
		b.Skipf("run by BenchmarkBoundaries as its producer process (%s: %v)", producerEnv, err)
	}
	r := &ctlRig{url: url}
	w, h := rtctest.BrowserW, rtctest.BrowserH
	for b.Loop() {
		rng := rand.New(rand.NewPCG(1, 2))
		type job struct {
			live bool
			c    clip
		}
		jobs := make(chan job, 2) // prepared ahead, so the producer keeps up
		go func() {
			defer close(jobs)
			for i := range n {
				rate := []engine.Rate{engine.Rate25, engine.Rate30}[rng.IntN(2)]
				ar := []int{16000, 24000, 48000}[rng.IntN(3)]
				d := 300*time.Millisecond + time.Duration(rng.Int64N(int64(4700*time.Millisecond)))
				c := newClip(w, h, rate, ar, d)
				if i%2 == 1 {
					c = c.withBGR()
				}
				jobs <- job{i%2 == 1, c}
			}
		}()
		p := dialLive(b, r)
		for j := range jobs {
			if j.live {
				if err := p.push(j.c, "live", nil, nil); err != nil {
					b.Fatal(err)
				}
				continue
			}
			body, ct := multipartBody(j.c.y4m(), j.c.wav(), false)
			var e entryJSON
			if resp := r.do(b, "POST", "segments", ct, body, &e); resp.StatusCode != 201 {
				b.Fatalf("POST: %d", resp.StatusCode)
			}
		}
		// Exit once the last live segment has played: a socket closed
		// with events unread could be reset under it.
		p.find(n/2-1, is("ended", nil))
	}
}

// longChromium is rtctest.StartChromium for runs longer than its one
// minute bound.
func longChromium(b *testing.B, limit time.Duration) context.Context {
	rtctest.RequireNetns(b)
	if _, err := os.Stat(chromium.DefaultPath); err != nil {
		rtctest.Missing(b, fmt.Sprintf("%s (Debian package chromium): %v", chromium.DefaultPath, err))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromium.Options(chromium.DefaultPath, b.TempDir())...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithErrorf(b.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, limit)
	b.Cleanup(func() { cancelTimeout(); cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		b.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// discontinuities counts sent items whose RTP timestamp is not the
// track's base plus their index's, and audio chunks missing.
func discontinuities(video, audio []rtc.SentItem) int {
	n := 0
	for _, items := range [][]rtc.SentItem{video, audio} {
		base := items[0].RTP - items[0].MediaRTP
		for i, it := range items {
			want := engine.Rate30.FrameRTP(it.Seq)
			if it.Kind == rtc.Audio {
				want = engine.ChunkRTP(it.Seq)
			}
			if it.MediaRTP != want || it.RTP-base != want || i > 0 && it.Seq <= items[i-1].Seq ||
				it.Kind == rtc.Audio && i > 0 && it.Seq != items[i-1].Seq+1 {
				n++
			}
		}
	}
	return n
}

// slowClock runs speed times faster than the wall clock.
type slowClock struct {
	origin time.Time
	speed  int64
}

func (c *slowClock) Now() time.Duration { return time.Since(c.origin) * time.Duration(c.speed) }

func (c *slowClock) SleepUntil(ctx context.Context, t time.Duration) error {
	d := (t - c.Now()) / time.Duration(c.speed)
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

// orderSink checks, as the loop hands frames over, that queue entries
// play in order: entries by rising ID, each one's frames never going
// back. Frames the loop skipped for running late (it may, at 25× real
// time on a busy machine) are counted apart: they were not lost, the loop
// passed their time.
type orderSink struct {
	mu        sync.Mutex
	entry     engine.EntryID
	played    []engine.EntryID
	problems  []string
	lastFrame int
	skipped   int
}

func (s *orderSink) WriteVideo(f *engine.VideoFrame) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Entry == 0 {
		return
	}
	switch {
	case f.Entry != s.entry:
		if f.Entry < s.entry {
			s.problems = append(s.problems, fmt.Sprintf("entry %d after entry %d", f.Entry, s.entry))
		}
		s.skipped += f.SourceIndex
		s.entry = f.Entry
		s.played = append(s.played, f.Entry)
	case f.SourceIndex < s.lastFrame:
		s.problems = append(s.problems, fmt.Sprintf("entry %d: source frame %d after %d", f.Entry, f.SourceIndex, s.lastFrame))
	case f.SourceIndex > s.lastFrame+1:
		s.skipped += f.SourceIndex - s.lastFrame - 1
	}
	s.lastFrame = f.SourceIndex
}

func (s *orderSink) WriteAudio(*engine.AudioChunk) {}

// BenchmarkPostQueue10PerSecond POSTs 2 s segments (160x90, Y4M) at 10 a
// second for 20 s into a loop running 25× real time (so they play as fast
// as they come), then checks that each played whole and in order, and
// that memory is flat once they played: the store empty, the heap back to
// what it was after the first second.
// Run: go test -run XXX -bench PostQueue10PerSecond -benchtime 1x ./rtc/share/
func BenchmarkPostQueue10PerSecond(b *testing.B) {
	const rate, seconds = 10, 20
	clock := &slowClock{origin: time.Now(), speed: 25}
	r := &ctlRig{store: engine.NewFrameStore(1 << 30)}
	r.loop = engine.NewLoop(engine.LoopConfig{Rate: engine.Rate30, Width: 160, Height: 90, Clock: clock, Lead: rtc.EncodeLead})
	order := &orderSink{}
	r.loop.AddSink(order)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go r.loop.Run(ctx)
	ctl, err := NewControl(r.loop, ControlOptions{Rate: engine.Rate30, Size: image.Pt(160, 90), Store: r.store, TempDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	if err := ctl.Start(); err != nil {
		b.Fatal(err)
	}
	defer ctl.Close()
	r.ctl, r.url = ctl, ctl.URL()
	data := newClip(160, 90, engine.Rate30, 48000, 2*time.Second).y4m()
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	for b.Loop() {
		var ids []engine.EntryID
		var heap1 uint64
		var posted []time.Duration
		start := time.Now()
		for i := range rate * seconds {
			time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / rate))) // absolute deadlines
			t0 := time.Now()
			var e entryJSON
			if resp := r.do(b, "POST", "segments", "", bytes.NewReader(data), &e); resp.StatusCode != 201 {
				b.Fatalf("POST %d: %d", i, resp.StatusCode)
			}
			posted = append(posted, time.Since(t0))
			ids = append(ids, e.ID)
			if i == rate {
				heap1 = heap()
			}
		}
		pushedIn := time.Since(start)
		r.waitEntry(b, ids[len(ids)-1], "done", func(e engine.Entry) bool { return e.State == engine.EntryDone })
		time.Sleep(200 * time.Millisecond) // the last release, on the loop's goroutine
		heapEnd := heap()
		order.mu.Lock()
		played, problems, skipped := slices.Clone(order.played), slices.Clone(order.problems), order.skipped
		order.mu.Unlock()
		lost := 0
		for _, id := range ids {
			if e, ok := r.loop.Entry(id); !ok || e.State != engine.EntryDone || e.Frames != 60 {
				lost++
			}
		}
		if !slices.Equal(played, ids) || len(problems) > 0 || lost > 0 {
			b.Errorf("played %d of %d entries in order (%d not done), problems %v", len(played), len(ids), lost, problems)
		}
		quantiles(b, "post-2s-segment", posted)
		b.ReportMetric(float64(len(ids))/pushedIn.Seconds(), "posts/s")
		b.ReportMetric(float64(r.store.Used()), "store-bytes-after")
		b.ReportMetric(float64(heapEnd)/(1<<20), "heap-after-MiB")
		b.ReportMetric(float64(heap1)/(1<<20), "heap-after-1s-MiB")
		b.ReportMetric(float64(skipped), "frames-skipped-late")
		b.Logf("%d POSTs in %v, %d played in order, %d lost, %d of %d frames passed over by the 25× loop running late (loop stats %+v); store %d bytes after; heap %.1f MiB after 1 s, %.1f MiB at the end; entries kept %d",
			len(ids), pushedIn.Round(time.Millisecond), len(played), lost, skipped, 60*len(ids), r.loop.Stats(), r.store.Used(),
			float64(heap1)/(1<<20), float64(heapEnd)/(1<<20), len(r.loop.Entries()))
	}
}
