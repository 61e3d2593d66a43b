package share

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"io"
	"log/slog"
	"math"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"segcast/engine"
	"segcast/engine/pattern"
	"segcast/rtc"
	"segcast/rtc/internal/rtctest"
)

// clip is a test input: the sync pattern (a flash on its first frame and
// every second after) with a 1 kHz beep starting at the same instants,
// at the clip's own frame and sample rates.
type clip struct {
	rate      engine.Rate
	audioRate int
	frames    []*image.YCbCr
	pcm       []int16  // mono at audioRate
	bgrs      [][]byte // the frames as bgr24, once withBGR made them
}

// withBGR converts every frame to bgr24 ahead, so that a producer is
// not slowed by the test's own conversion.
func (c clip) withBGR() clip {
	c.bgrs = make([][]byte, len(c.frames))
	for i := range c.frames {
		c.bgrs[i] = c.bgr(i)
	}
	return c
}

func newClip(w, h int, rate engine.Rate, audioRate int, dur time.Duration) clip {
	seg := pattern.New(w, h, rate, dur)
	c := clip{rate: rate, audioRate: audioRate}
	for i := range seg.Frames.Len() {
		img, err := seg.Frames.Frame(i)
		if err != nil {
			panic(err)
		}
		c.frames = append(c.frames, img)
	}
	n := int(int64(dur) * int64(audioRate) / int64(time.Second))
	c.pcm = make([]int16, n)
	beep := audioRate * 40 / 1000
	for s := 0; s*audioRate < n; s++ {
		for i := 0; i < beep && s*audioRate+i < n; i++ {
			c.pcm[s*audioRate+i] = int16(math.Round(16384 * math.Cos(2*math.Pi*1000*float64(i)/float64(audioRate))))
		}
	}
	return c
}

// y4m is the clip's video as a Y4M stream.
func (c clip) y4m() []byte {
	var b bytes.Buffer
	w, h := c.frames[0].Rect.Dx(), c.frames[0].Rect.Dy()
	fmt.Fprintf(&b, "YUV4MPEG2 W%d H%d F%d:%d Ip A1:1 C420jpeg\n", w, h, c.rate.Num, c.rate.Den)
	for _, img := range c.frames {
		b.WriteString("FRAME\n")
		for y := range h {
			b.Write(img.Y[y*img.YStride : y*img.YStride+w])
		}
		for _, p := range [][]byte{img.Cb, img.Cr} {
			for y := range (h + 1) / 2 {
				b.Write(p[y*img.CStride : y*img.CStride+(w+1)/2])
			}
		}
	}
	return b.Bytes()
}

// wav is the clip's sound as a 16-bit mono WAV.
func (c clip) wav() []byte {
	return wavBytes(c.pcm, c.audioRate, 1)
}

func wavBytes(pcm []int16, rate, channels int) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	binary.Write(&b, le, uint32(36+2*len(pcm)))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(channels), uint32(rate), uint32(2 * channels * rate), uint16(2 * channels), uint16(16)} {
		binary.Write(&b, le, v)
	}
	b.WriteString("data")
	binary.Write(&b, le, uint32(2*len(pcm)))
	binary.Write(&b, le, pcm)
	return b.Bytes()
}

// bgr is frame i as packed bgr24, as a producer's numpy array would be.
func (c clip) bgr(i int) []byte {
	img := c.frames[i]
	w, h := img.Rect.Dx(), img.Rect.Dy()
	out := make([]byte, 0, 3*w*h)
	for y := range h {
		for x := range w {
			c := img.YCbCrAt(x, y)
			r, g, b := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
			out = append(out, b, g, r)
		}
	}
	return out
}

// multipartBody is a form with a video part and an audio part (either
// may be nil), in that order unless audioFirst.
func multipartBody(video, audio []byte, audioFirst bool) (io.Reader, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	parts := []struct {
		name, file string
		data       []byte
	}{{"video", "clip.y4m", video}, {"audio", "clip.wav", audio}}
	if audioFirst {
		parts[0], parts[1] = parts[1], parts[0]
	}
	for _, p := range parts {
		if p.data == nil {
			continue
		}
		w, _ := mw.CreateFormFile(p.name, p.file)
		w.Write(p.data)
	}
	mw.Close()
	return &b, mw.FormDataContentType()
}

// ctlRig is a loop with a control API on it; with a session, the loop
// runs on the wall clock and streams.
type ctlRig struct {
	clock engine.Clock
	loop  *engine.Loop
	store *engine.FrameStore
	ctl   *Control
	url   string
	sess  *rtc.Session
	sent  *sentRec
	heard *beepSink
}

type rigOpt struct {
	w, h    int
	rate    engine.Rate
	run     bool // run the loop on the wall clock
	session bool // stream it (implies run)
	budget  int64
	ctl     func(*ControlOptions)
}

func newCtlRig(t testing.TB, o rigOpt) *ctlRig {
	t.Helper()
	if o.w == 0 {
		o.w, o.h = 320, 180
	}
	if o.rate == (engine.Rate{}) {
		o.rate = engine.Rate30
	}
	if o.budget == 0 {
		o.budget = 1 << 30
	}
	r := &ctlRig{clock: engine.NewWallClock(), store: engine.NewFrameStore(o.budget), sent: &sentRec{}, heard: &beepSink{}}
	r.loop = engine.NewLoop(engine.LoopConfig{Rate: o.rate, Width: o.w, Height: o.h, Clock: r.clock, Lead: rtc.EncodeLead, IdleLead: rtc.IdleEncodeLead,
		Idle: pattern.IdleCard(o.w, o.h)})
	r.loop.AddSink(r.heard)
	if o.session {
		o.run = true
		cfg := rtctest.BrowserConfig(r.clock, o.w, o.h)
		cfg.Rate = o.rate
		cfg.Observers = []rtc.Observer{rtctest.Observer{OnSent: r.sent.add}}
		sess, err := rtc.NewSession(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sess.Close() })
		t.Cleanup(r.loop.AddSink(sess))
		r.sess = sess
	}
	if o.run {
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- rtc.RunLoop(ctx, r.loop) }() // as serve runs it
		t.Cleanup(func() { stop(); <-done })
	}
	copt := ControlOptions{Rate: o.rate, Size: image.Pt(o.w, o.h), Store: r.store, TempDir: t.TempDir()}
	if testing.Verbose() {
		copt.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if o.ctl != nil {
		o.ctl(&copt)
	}
	ctl, err := NewControl(r.loop, copt)
	if err != nil {
		t.Fatal(err)
	}
	if err := ctl.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctl.Close() })
	r.ctl, r.url = ctl, ctl.URL()
	return r
}

// do sends a request to the control API and decodes a JSON answer into
// out (when non-nil and the answer is JSON).
func (r *ctlRig) do(t testing.TB, method, path, contentType string, body io.Reader, out any) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, r.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %d %q: %v", method, path, resp.StatusCode, data, err)
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return resp
}

func bodyOf(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// entries is GET segments.
func (r *ctlRig) entries(t testing.TB) []entryJSON {
	t.Helper()
	var es []entryJSON
	if resp := r.do(t, "GET", "segments", "", nil, &es); resp.StatusCode != 200 {
		t.Fatalf("GET segments: %d", resp.StatusCode)
	}
	return es
}

// waitEntry polls an entry until ok says so (the loop runs on the wall
// clock; the deadline only ends a test that would hang).
func (r *ctlRig) waitEntry(t testing.TB, id engine.EntryID, what string, ok func(engine.Entry) bool) engine.Entry {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		e, found := r.loop.Entry(id)
		if found && ok(e) {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("entry %d never %s: %+v", id, what, e)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sentRec keeps what the session sent: every video item's sequence and
// RTP, and the flash frames among them.
type sentRec struct {
	mu      sync.Mutex
	video   []rtc.SentItem // Image dropped
	audio   []rtc.SentItem
	flashes []int64 // Seq of sent flash frames
	onSent  func(rtc.SentItem)
}

func (s *sentRec) add(item rtc.SentItem) {
	flash := item.Kind == rtc.Video && item.Image != nil && item.SourceIndex >= 0 && pattern.IsFlash(item.Image)
	s.mu.Lock()
	f := s.onSent
	item.Image = nil
	if item.Kind == rtc.Video {
		s.video = append(s.video, item)
		if flash {
			s.flashes = append(s.flashes, item.Seq)
		}
	} else {
		s.audio = append(s.audio, item)
	}
	s.mu.Unlock()
	if f != nil {
		f(item)
	}
}

func (s *sentRec) snapshot() (video, audio []rtc.SentItem, flashes []int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]rtc.SentItem(nil), s.video...), append([]rtc.SentItem(nil), s.audio...), append([]int64(nil), s.flashes...)
}

// beepSink is an engine sink that finds beep onsets in the sound handed
// to the session: the first loud sample after 20 ms of quiet, as a 48 kHz
// sample index on the output timeline.
type beepSink struct {
	mu     sync.Mutex
	quiet  int
	onsets []int64
}

func (b *beepSink) WriteVideo(*engine.VideoFrame) {}

func (b *beepSink) WriteAudio(c *engine.AudioChunk) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for j := range engine.ChunkSamples {
		if v := c.Samples[2*j]; v > 4000 || v < -4000 {
			if b.quiet > engine.AudioRate/50 { // longer than a beep's dips

				b.onsets = append(b.onsets, c.Seq*engine.ChunkSamples+int64(j))
			}
			b.quiet = 0
		} else {
			b.quiet++
		}
	}
}

func (b *beepSink) snapshot() []int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int64(nil), b.onsets...)
}

// flashStarts are the flash frames that follow a sent frame without a
// flash (a 25 fps flash shows on two frames of a 30 fps output). A flash
// after a frame the late sender skipped is left out: it may be a second
// frame of a flash.
func flashStarts(video []rtc.SentItem, flashes []int64) []int64 {
	sent, flash := map[int64]bool{}, map[int64]bool{}
	for _, it := range video {
		sent[it.Seq] = true
	}
	for _, k := range flashes {
		flash[k] = true
	}
	var out []int64
	for _, k := range flashes {
		if sent[k-1] && !flash[k-1] {
			out = append(out, k)
		}
	}
	return out
}

// flashBeepGaps pairs each flash with the nearest beep onset and returns
// beep − flash, on the output timeline.
func flashBeepGaps(rate engine.Rate, flashes, onsets []int64) []time.Duration {
	var out []time.Duration
	for _, k := range flashes {
		fns := rate.FrameNS(k)
		best := time.Duration(math.MaxInt64)
		for _, s := range onsets {
			if d := time.Duration(s*int64(time.Second)/engine.AudioRate - fns); d.Abs() < best.Abs() {
				best = d
			}
		}
		out = append(out, best)
	}
	return out
}
