package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"math/big"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"
)

// loopFrames is an in-memory FrameSource: n frames sharing one image.
type loopFrames struct {
	n          int
	img        *image.YCbCr
	mu         sync.Mutex
	prefetched []int // Prefetch calls, in order
	releases   int
}

func (m *loopFrames) Len() int { return m.n }
func (m *loopFrames) Frame(i int) (*image.YCbCr, error) {
	if i < 0 || i >= m.n {
		return nil, fmt.Errorf("frame %d of %d", i, m.n)
	}
	return m.img, nil
}
func (m *loopFrames) Prefetch(i int) {
	m.mu.Lock()
	m.prefetched = append(m.prefetched, i)
	m.mu.Unlock()
}

func (m *loopFrames) prefetches() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]int(nil), m.prefetched...)
}
func (m *loopFrames) Bytes() int64 { return 0 }
func (m *loopFrames) Release() {
	m.mu.Lock()
	m.releases++
	m.mu.Unlock()
}

func (m *loopFrames) released() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.releases
}

// loopAudio is stereo sound whose left sample at s is s%30000+1 and whose
// right sample is the segment's id, so every output sample tells which
// segment and index it came from. It is precomputed so Fill is a copy.
type loopAudio struct {
	pcm []int16
}

func newLoopAudio(n int64, id int16) *loopAudio {
	a := &loopAudio{pcm: make([]int16, 2*n)}
	for s := range n {
		a.pcm[2*s], a.pcm[2*s+1] = loopSample(id, s, n)
	}
	return a
}

func (a *loopAudio) Len() int64    { return int64(len(a.pcm) / 2) }
func (a *loopAudio) Channels() int { return 2 }
func (a *loopAudio) Bytes() int64  { return int64(2 * len(a.pcm)) }
func (a *loopAudio) Fill(dst []int16, off int64) {
	lo, hi := max(off, 0), min(off+int64(len(dst)/2), a.Len())
	if lo >= hi {
		clear(dst)
		return
	}
	clear(dst[:2*(lo-off)])
	copy(dst[2*(lo-off):], a.pcm[2*lo:2*hi])
	clear(dst[2*(hi-off):])
}

func loopSample(id int16, s, n int64) (l, r int16) {
	if s < 0 || s >= n {
		return 0, 0
	}
	return int16(s%30000 + 1), id
}

// loopSeg makes a segment with frames at rate and sound of the given
// length in 48 kHz samples (0: none).
func loopSeg(id int16, rate Rate, frames int, samples int64, w, h int) *Segment {
	s := &Segment{Name: fmt.Sprintf("seg%d", id), Rate: rate, Width: w, Height: h,
		Frames: &loopFrames{n: frames, img: image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)}}
	if samples > 0 {
		s.Audio = newLoopAudio(samples, id)
	}
	return s
}

type videoRec struct {
	seq, mediaNS int64
	rtp          uint32
	deadline     time.Duration
	seg, idx     int
	img          *image.YCbCr
	entry        EntryID
}

type audioRec struct {
	seq, mediaNS int64
	rtp          uint32
	deadline     time.Duration
	seg          int
	idx          int64
	samples      []int16
	entry        EntryID
}

// loopRecSink keeps everything (short runs only).
type loopRecSink struct {
	mu    sync.Mutex
	video []videoRec
	audio []audioRec
	order []byte // 'v' or 'a' in arrival order
}

func (r *loopRecSink) WriteVideo(f *VideoFrame) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.video = append(r.video, videoRec{f.Seq, f.MediaNS, f.RTP, f.Deadline, f.Segment, f.SourceIndex, f.Image, f.Entry})
	r.order = append(r.order, 'v')
}

func (r *loopRecSink) WriteAudio(c *AudioChunk) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.audio = append(r.audio, audioRec{c.Seq, c.MediaNS, c.RTP, c.Deadline, c.Segment, c.SourceIndex,
		append([]int16(nil), c.Samples...), c.Entry})
	r.order = append(r.order, 'a')
}

// pcm is the recorded sound as one stereo stream.
func (r *loopRecSink) pcm() []int16 {
	var out []int16
	for _, a := range r.audio {
		out = append(out, a.samples...)
	}
	return out
}

func newLoopRec(rate Rate, w, h int) (*Loop, *FakeClock, *loopRecSink) {
	clk := NewFakeClock()
	l := NewLoop(LoopConfig{Rate: rate, Width: w, Height: h, Clock: clk})
	rec := &loopRecSink{}
	l.AddSink(rec)
	return l, clk, rec
}

func loopRunFor(t testing.TB, l *Loop, d time.Duration) {
	t.Helper()
	if err := l.RunFor(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

// bigCeil is ceil(a·b/c) and bigFloor floor(a·b/c) in arbitrary
// precision (a, b, c ≥ 0): the oracle for the grid arithmetic.
func bigCeil(a, b, c int64) int64 {
	x := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
	x.Add(x, big.NewInt(c-1))
	return x.Quo(x, big.NewInt(c)).Int64()
}

func bigFloor(a, b, c int64) int64 {
	x := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
	return x.Quo(x, big.NewInt(c)).Int64()
}

// wantSlot is, from the timing rules alone, how many output frames seg
// occupies at rate out: enough frames d for its video (those with
// floor(d·1e9·den/num) < its video's end, floor(n·1e9·sden/snum)) and for
// its sound (d·48000·den/num ≥ its samples).
func wantSlot(seg *Segment, out Rate) int64 {
	var video, audio int64
	if n := int64(seg.Frames.Len()); n > 0 {
		end := bigFloor(n, 1e9*seg.Rate.Den, seg.Rate.Num)
		video = bigCeil(end, out.Num, 1e9*out.Den)
	}
	if seg.Audio != nil {
		audio = bigCeil(seg.Audio.Len(), out.Num, AudioRate*out.Den)
	}
	return max(video, audio)
}

// wantFirstSample is the output sample where a segment placed at output
// frame k starts: the first at or after k·den/num s.
func wantFirstSample(out Rate, k int64) int64 { return bigCeil(k, AudioRate*out.Den, out.Num) }

// wantSourceFrame is the source frame of seg shown d output frames into
// its slot: the latest i with floor(i·1e9·sden/snum) ≤ floor(d·1e9·den/num),
// clamped to the last frame.
func wantSourceFrame(seg *Segment, out Rate, d int64) int {
	t := bigFloor(d, 1e9*out.Den, out.Num)
	r := seg.Rate
	return int(min(((t+1)*r.Num-1)/(1e9*r.Den), int64(seg.Frames.Len()-1)))
}

// placement is where the m-th segment of a looped playlist sits.
type placement struct {
	seg      int   // playlist index
	k0, kEnd int64 // output frames
	s0, sEnd int64 // output samples
}

// placer walks a looped playlist's placements from the rules alone.
type placer struct {
	out   Rate
	segs  []*Segment
	slots []int64
	cur   placement
}

func newPlacer(out Rate, segs []*Segment) *placer {
	p := &placer{out: out, segs: segs}
	for _, s := range segs {
		p.slots = append(p.slots, wantSlot(s, out))
	}
	p.cur = placement{seg: 0, kEnd: p.slots[0], sEnd: wantFirstSample(out, p.slots[0])}
	return p
}

func (p *placer) next() {
	j := (p.cur.seg + 1) % len(p.segs)
	k0 := p.cur.kEnd
	p.cur = placement{seg: j, k0: k0, kEnd: k0 + p.slots[j], s0: p.cur.sEnd,
		sEnd: wantFirstSample(p.out, k0+p.slots[j])}
}

// exactSink checks every item of a long looped run as it arrives against
// the placement rules, storing nothing.
type exactSink struct {
	rate      Rate
	segs      []*Segment
	ids       []int16
	vp, ap    *placer // video and audio walk the placements separately
	nextK     int64
	nextN     int64
	lastMedia int64
	lastKind  byte
	lastV     videoRec
	starts    int // segment starts checked sample-exactly
	err       error
}

func newExactSink(out Rate, segs []*Segment, ids []int16) *exactSink {
	return &exactSink{rate: out, segs: segs, ids: ids, vp: newPlacer(out, segs), ap: newPlacer(out, segs)}
}

func (s *exactSink) fail(format string, a ...any) {
	if s.err == nil {
		s.err = fmt.Errorf(format, a...)
	}
}

// bigFrameNS is floor(k·1e9·den/num) in arbitrary precision.
func bigFrameNS(r Rate, k int64) (ns int64, rtp uint32) {
	x := new(big.Int).Mul(big.NewInt(k), big.NewInt(r.Den))
	q := new(big.Int).Quo(new(big.Int).Mul(x, big.NewInt(1e9)), big.NewInt(r.Num))
	p := new(big.Int).Quo(new(big.Int).Mul(x, big.NewInt(90000)), big.NewInt(r.Num))
	return q.Int64(), uint32(p.Uint64())
}

func (s *exactSink) order(kind byte, media int64) {
	if media < s.lastMedia || media == s.lastMedia && kind == 'v' && s.lastKind == 'a' {
		s.fail("%c at %d after %c at %d", kind, media, s.lastKind, s.lastMedia)
	}
	s.lastMedia, s.lastKind = media, kind
}

func (s *exactSink) WriteVideo(f *VideoFrame) {
	k := f.Seq
	if k != s.nextK {
		s.fail("video seq %d, want %d (gap)", k, s.nextK)
	}
	s.nextK = k + 1
	s.order('v', f.MediaNS)
	// Steps between frames are the floor or ceiling of the exact step, and
	// every 1009th frame (and frame 0) matches arbitrary precision.
	stepLo, stepHi := 1e9*s.rate.Den/s.rate.Num, (1e9*s.rate.Den+s.rate.Num-1)/s.rate.Num
	rtpLo, rtpHi := 90000*s.rate.Den/s.rate.Num, (90000*s.rate.Den+s.rate.Num-1)/s.rate.Num
	if k > 0 {
		if d := f.MediaNS - s.lastV.mediaNS; d < stepLo || d > stepHi {
			s.fail("video %d: media step %d not in [%d,%d]", k, d, stepLo, stepHi)
		}
		if d := int64(f.RTP - s.lastV.rtp); d < rtpLo || d > rtpHi {
			s.fail("video %d: rtp step %d not in [%d,%d]", k, d, rtpLo, rtpHi)
		}
	}
	if k%1009 == 0 {
		if ns, rtp := bigFrameNS(s.rate, k); ns != f.MediaNS || rtp != f.RTP {
			s.fail("video %d: media %d rtp %d, want %d %d", k, f.MediaNS, f.RTP, ns, rtp)
		}
	}
	for k >= s.vp.cur.kEnd {
		s.vp.next()
	}
	pl := s.vp.cur
	want := wantSourceFrame(s.segs[pl.seg], s.rate, k-pl.k0)
	if f.Segment != pl.seg || f.SourceIndex != want {
		s.fail("video %d: shows %d/%d, want %d/%d (placed at frame %d)", k, f.Segment, f.SourceIndex, pl.seg, want, pl.k0)
	}
	s.lastV = videoRec{seq: k, mediaNS: f.MediaNS, rtp: f.RTP, seg: f.Segment, idx: f.SourceIndex}
}

// wantSample is output sample o's left and right value.
func (s *exactSink) wantSample(pl placement, o int64) (l, r int16) {
	seg := s.segs[pl.seg]
	if seg.Audio == nil {
		return 0, 0
	}
	return loopSample(s.ids[pl.seg], o-pl.s0, seg.Audio.Len())
}

func (s *exactSink) WriteAudio(c *AudioChunk) {
	n := c.Seq
	if n != s.nextN {
		s.fail("audio seq %d, want %d (gap)", n, s.nextN)
	}
	s.nextN = n + 1
	s.order('a', c.MediaNS)
	if c.MediaNS != n*20_000_000 || c.RTP != uint32(n*960%(1<<32)) {
		s.fail("audio %d: media %d rtp %d", n, c.MediaNS, c.RTP)
	}
	first, last := n*ChunkSamples, (n+1)*ChunkSamples
	for first >= s.ap.cur.sEnd {
		s.ap.next()
		s.starts++
	}
	pl := s.ap.cur
	wantIdx := first - pl.s0
	if a := s.segs[pl.seg].Audio; a == nil || wantIdx >= a.Len() {
		wantIdx = -1
	}
	if c.Segment != pl.seg || c.SourceIndex != wantIdx {
		s.fail("audio %d: %d/%d, want %d/%d", n, c.Segment, c.SourceIndex, pl.seg, wantIdx)
	}
	// Every sample of a chunk holding a segment start, the first and last
	// of the others.
	p := *s.ap
	for o := first; o < last; o++ {
		if o >= p.cur.sEnd {
			p.next()
			s.starts++
		}
		l, r := s.wantSample(p.cur, o)
		if c.Samples[2*(o-first)] != l || c.Samples[2*(o-first)+1] != r {
			s.fail("audio sample %d = %d,%d, want %d,%d (segment %d placed at sample %d)", o,
				c.Samples[2*(o-first)], c.Samples[2*(o-first)+1], l, r, p.cur.seg, p.cur.s0)
		}
		if o == first && p.cur.sEnd >= last {
			o = last - 2 // no boundary here: the last sample next
		}
	}
}

// raceEnabled reports whether the test binary has the race detector.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// resampledLen is how many 48 kHz samples d seconds of sound at rate hz
// become (what a loader produces), for odd segment lengths.
func resampledLen(frames, hz int64) int64 { return (frames*AudioRate + hz - 1) / hz }

// TestLoopExact24h plays a looped two-segment playlist for 24 h of media on
// the fake clock at each output rate and checks every item.
func TestLoopExact24h(t *testing.T) {
	// 24 h takes about 5 s of CPU; -short and the race detector (which
	// checks the locking, not the arithmetic) run less.
	day := 24 * time.Hour
	if testing.Short() {
		day = time.Hour
	}
	if raceEnabled() {
		day = 10 * time.Minute
	}
	cases := []struct {
		out   Rate
		hz    int64
		other Rate // the second segment's frame rate
	}{
		{Rate2997, 44100, Rate25},
		{Rate25, 16000, Rate2997},
		{Rate23976, 24000, Rate60},
		{Rate60, 48000, Rate23976},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%v_%dHz", c.out, c.hz), func(t *testing.T) {
			t.Parallel()
			// 7.3 s and 4.1 s of sound at c.hz; frames a little shorter.
			a := loopSeg(1, c.out, int(c.out.FramesIn(7e9)), resampledLen(c.hz*73/10, c.hz), 32, 18)
			b := loopSeg(2, c.other, int(c.other.FramesIn(4e9)), resampledLen(c.hz*41/10, c.hz), 32, 18)
			l := NewLoop(LoopConfig{Rate: c.out, Width: 32, Height: 18, Clock: NewFakeClock()})
			l.Add(a)
			l.Add(b)
			l.SetLoop(true)
			l.Play()
			s := newExactSink(c.out, []*Segment{a, b}, []int16{1, 2})
			l.AddSink(s)
			loopRunFor(t, l, day)
			if s.err != nil {
				t.Fatal(s.err)
			}
			if s.starts < int(day/(12*time.Second)) {
				t.Fatalf("only %d segment starts checked", s.starts)
			}
			// Independent counts: frames with k·den/num < day, chunks of 20 ms.
			secs := int64(day / time.Second)
			wantK := (secs*c.out.Num + c.out.Den - 1) / c.out.Den
			if s.nextK != wantK || s.nextN != secs*50 {
				t.Fatalf("%d frames, %d chunks; want %d, %d", s.nextK, s.nextN, wantK, secs*50)
			}
			if st := l.Stats(); st.VideoFrames != wantK || st.AudioChunks != secs*50 || st.SkippedVideo != 0 || st.LateAudio != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

func TestLoopIdleWhenEmpty(t *testing.T) {
	l, _, rec := newLoopRec(Rate25, 64, 36)
	l.Play() // nothing to play: stays stopped
	loopRunFor(t, l, time.Second)
	if len(rec.video) != 25 || len(rec.audio) != 50 {
		t.Fatalf("%d frames, %d chunks; want 25, 50", len(rec.video), len(rec.audio))
	}
	idle := blankFrame(64, 36)
	for i, v := range rec.video {
		if v.seq != int64(i) || v.mediaNS != int64(i)*40_000_000 || v.rtp != uint32(i*3600) ||
			v.seg != -1 || v.idx != -1 || v.img == nil || !bytes.Equal(v.img.Y, idle.Y) {
			t.Fatalf("frame %d: %+v", i, v)
		}
	}
	for i, a := range rec.audio {
		if a.seq != int64(i) || a.seg != -1 || a.idx != -1 || len(a.samples) != 2*ChunkSamples || !isSilence(a.samples) {
			t.Fatalf("chunk %d: seq %d seg %d idx %d", i, a.seq, a.seg, a.idx)
		}
	}
	if p := l.Position(); p.Segment != -1 || p.Playing || p.MediaNS != 49*ChunkNS {
		t.Fatalf("position %+v", p)
	}
}

func isSilence(pcm []int16) bool {
	for _, v := range pcm {
		if v != 0 {
			return false
		}
	}
	return true
}

// Pausing cuts at the first frame boundary that leaves room for the
// fade, then holds that frame with silence, timestamps running on;
// resuming continues picture and sound on the very next frame and sample.
func TestLoopPauseResume(t *testing.T) {
	l, _, rec := newLoopRec(Rate30, 32, 18)
	l.Add(loopSeg(1, Rate30, 300, 10*AudioRate, 32, 18))
	l.Play()
	loopRunFor(t, l, time.Second)
	l.Pause()
	if p := l.Position(); p.Playing || p.Segment != 0 || p.Offset != time.Second {
		t.Fatalf("position right after Pause %+v", p)
	}
	loopRunFor(t, l, 2*time.Second)
	pause := wantCut(Rate30, 50) // frame 31: 1.0333 s, sample 49 600
	if pause != 31 {
		t.Fatalf("pause at frame %d, want 31", pause)
	}
	if p := l.Position(); p.Playing || p.Segment != 0 || p.Offset != time.Duration(Rate30.FrameNS(pause)) {
		t.Fatalf("paused position %+v", p)
	}
	l.Play()
	loopRunFor(t, l, 3*time.Second)
	if len(rec.video) != 90 || len(rec.audio) != 150 {
		t.Fatalf("%d frames, %d chunks", len(rec.video), len(rec.audio))
	}
	for k, v := range rec.video {
		want := k // playing
		if k >= int(pause) && k < 60 {
			want = int(pause) // held at the pause point
		} else if k >= 60 {
			want = k - 60 + int(pause) // resumed on the next frame, at frame 60 (the hold has no sound to fade)
		}
		if v.seq != int64(k) || v.seg != 0 || v.idx != want {
			t.Fatalf("frame %d: seq %d shows %d/%d, want 0/%d", k, v.seq, v.seg, v.idx, want)
		}
	}
	pcm := rec.pcm()
	sp := pause * 1600
	for o := range int64(len(pcm) / 2) {
		var l, r int16
		switch {
		case o < sp:
			l, r = loopSample(1, o, 10*AudioRate)
			if g := int32(sp - o); g < 240 {
				l, r = int16(int32(l)*g/240), int16(int32(r)*g/240)
			}
		case o >= 96_000:
			l, r = loopSample(1, o-96_000+sp, 10*AudioRate)
		}
		if pcm[2*o] != l || pcm[2*o+1] != r {
			t.Fatalf("sample %d = %d,%d, want %d,%d", o, pcm[2*o], pcm[2*o+1], l, r)
		}
	}
	for n, a := range rec.audio {
		wantSeg, wantIdx := 0, int64(n)*960
		if n > 51 && n < 100 {
			wantSeg, wantIdx = -1, -1
		} else if n >= 100 {
			wantIdx = int64(n)*960 - 96_000 + sp
		}
		if a.seg != wantSeg || a.idx != wantIdx {
			t.Fatalf("chunk %d: %d/%d, want %d/%d", n, a.seg, a.idx, wantSeg, wantIdx)
		}
	}
	if st := l.Stats(); st.SkippedVideo != 0 || st.LateAudio != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// checkSamples checks a chunk holds loopAudio id's samples from index from.
func checkSamples(t *testing.T, n int, pcm []int16, id int16, from, length int64) {
	t.Helper()
	for i := range int64(len(pcm) / 2) {
		l, r := loopSample(id, from+i, length)
		if pcm[2*i] != l || pcm[2*i+1] != r {
			t.Fatalf("chunk %d sample %d = %d,%d; want %d,%d (segment %d index %d)",
				n, i, pcm[2*i], pcm[2*i+1], l, r, id, from+i)
		}
	}
}

// stallClock is a fake clock that stalls once: the first sleep to a time
// at or after at returns stall later.
type stallClock struct {
	*FakeClock
	at, stall time.Duration
	done      bool
}

func (c *stallClock) SleepUntil(ctx context.Context, t time.Duration) error {
	err := c.FakeClock.SleepUntil(ctx, t)
	if !c.done && t >= c.at {
		c.done = true
		c.Advance(c.stall)
	}
	return err
}

// When the loop wakes late, frames whose successor is already due are
// skipped; no audio chunk is dropped, and the late ones are counted.
func TestLoopLateDeadlinesSkipVideoNotAudio(t *testing.T) {
	// Waking at 1.48 s puts frame 37 and chunk 74 exactly on time: the
	// boundaries of "skipped" and "late".
	clk := &stallClock{FakeClock: NewFakeClock(), at: time.Second, stall: 480 * time.Millisecond}
	l := NewLoop(LoopConfig{Rate: Rate25, Width: 32, Height: 18, Clock: clk})
	rec := &loopRecSink{}
	l.AddSink(rec)
	l.Add(loopSeg(1, Rate25, 100, 4*AudioRate, 32, 18))
	l.Play()
	loopRunFor(t, l, 2*time.Second)
	// The loop sleeps to 1 s for frame 25 and wakes at 1.48 s: frames whose
	// successor was due by then (k+1 ≤ 37, at 40 ms each) are skipped.
	wake := int64(1480 * time.Millisecond)
	var wantSkipped, wantLate int64
	shown := map[int64]bool{}
	for k := int64(0); k < 50; k++ {
		if k >= 25 && (k+1)*40_000_000 <= wake {
			wantSkipped++
		} else {
			shown[k] = true
		}
	}
	for n := int64(50); n*ChunkNS < wake; n++ {
		wantLate++
	}
	st := l.Stats()
	if st.SkippedVideo != wantSkipped || st.LateAudio != wantLate || st.VideoFrames != 50-wantSkipped ||
		st.AudioChunks != 100 || st.MaxLateness != 480*time.Millisecond {
		t.Fatalf("stats %+v; want %d skipped, %d late", st, wantSkipped, wantLate)
	}
	if len(rec.video) != len(shown) || len(rec.audio) != 100 {
		t.Fatalf("%d frames, %d chunks given to the sink", len(rec.video), len(rec.audio))
	}
	for _, v := range rec.video {
		if !shown[v.seq] || v.idx != int(v.seq) {
			t.Fatalf("frame %d (source %d) should have been skipped", v.seq, v.idx)
		}
	}
	for n, a := range rec.audio {
		if a.seq != int64(n) || a.idx != int64(n)*960 {
			t.Fatalf("chunk %d: seq %d index %d", n, a.seq, a.idx)
		}
	}
	if rec.video[25].seq != 37 {
		t.Fatalf("first frame after the stall is %d, want 37", rec.video[25].seq)
	}
}

// Pictures reach sinks Lead before their deadline, sound one chunk and
// the cut fade later, at T0 + media time.
func TestLoopLeadAndDeadlines(t *testing.T) {
	clk := NewFakeClock()
	clk.Advance(7 * time.Second) // T0 is the clock time at Run start
	l := NewLoop(LoopConfig{Rate: Rate2997, Width: 32, Height: 18, Clock: clk, Lead: 60 * time.Millisecond})
	at := &timeSink{clk: clk}
	l.AddSink(at)
	loopRunFor(t, l, time.Second)
	for _, v := range at.items {
		lead := 60 * time.Millisecond
		if v.audio {
			lead -= ChunkNS + CutFade
		}
		if v.deadline != 7*time.Second+time.Duration(v.media) || v.handed != v.deadline-lead && v.handed != 7*time.Second {
			t.Fatalf("item at %d (audio %v): deadline %v handed at %v", v.media, v.audio, v.deadline, v.handed)
		}
	}
	if len(at.items) != 30+50 {
		t.Fatalf("%d items", len(at.items))
	}
	// Handing items over early at the start is not lateness.
	if st := l.Stats(); st.MaxLateness != 0 || st.LateAudio != 0 || st.SkippedVideo != 0 {
		t.Fatalf("stats %+v", st)
	}
}

type timeSink struct {
	clk   Clock
	items []timedItem
}

type timedItem struct {
	audio            bool
	media            int64
	deadline, handed time.Duration
}

func (s *timeSink) WriteVideo(f *VideoFrame) {
	s.items = append(s.items, timedItem{false, f.MediaNS, f.Deadline, s.clk.Now()})
}
func (s *timeSink) WriteAudio(c *AudioChunk) {
	s.items = append(s.items, timedItem{true, c.MediaNS, c.Deadline, s.clk.Now()})
}

// A segment of the wrong size shows the idle frame and is counted.
func TestLoopWrongSizeShowsIdle(t *testing.T) {
	l, _, rec := newLoopRec(Rate30, 64, 36)
	l.Add(loopSeg(1, Rate30, 30, AudioRate, 32, 18))
	l.Play()
	loopRunFor(t, l, 500*time.Millisecond)
	if st := l.Stats(); st.WrongSize != 15 || st.VideoFrames != 15 {
		t.Fatalf("stats %+v", st)
	}
	for _, v := range rec.video {
		if v.seg != -1 || v.img.Rect.Dx() != 64 {
			t.Fatalf("frame %d: segment %d, %v", v.seq, v.seg, v.img.Rect)
		}
	}
	if rec.audio[3].seg != 0 { // the sound still plays
		t.Fatalf("chunk 3 segment %d", rec.audio[3].seg)
	}
}

func TestLoopSinkRemove(t *testing.T) {
	l, _, rec := newLoopRec(Rate30, 32, 18)
	l.Add(loopSeg(1, Rate30, 30, 0, 32, 18))
	other := &loopRecSink{}
	remove := l.AddSink(other)
	l.Play()
	loopRunFor(t, l, 500*time.Millisecond)
	remove()
	remove() // twice is harmless
	loopRunFor(t, l, time.Second)
	if len(other.video) != 15 || len(rec.video) != 30 {
		t.Fatalf("removed sink got %d frames, kept sink %d", len(other.video), len(rec.video))
	}
}

// The loop asks the playing segment's store for the frame after the one
// shown, and the next segment's for its first frame a second ahead.
func TestLoopPrefetchesAhead(t *testing.T) {
	l, _, rec := newLoopRec(Rate25, 32, 18)
	a := loopSeg(1, Rate25, 50, 0, 32, 18) // 2 s
	b := loopSeg(2, Rate25, 50, 0, 32, 18)
	l.Add(a)
	l.Add(b)
	l.Play()
	loopRunFor(t, l, 500*time.Millisecond)
	if got := b.Frames.(*loopFrames).prefetches(); len(got) != 0 {
		t.Fatalf("segment b prefetched %v 1.5 s before it plays", got)
	}
	loopRunFor(t, l, 1500*time.Millisecond)
	if got := b.Frames.(*loopFrames).prefetches(); len(got) != 1 || got[0] != 0 {
		t.Fatalf("segment b prefetched %v in a's last second, want [0]", got)
	}
	for _, v := range rec.video {
		if v.seg != 0 {
			t.Fatalf("frame %d already shows segment %d", v.seq, v.seg)
		}
	}
	got := a.Frames.(*loopFrames).prefetches()
	if len(got) != 38 || got[0] != 1 || got[37] != 38 { // frames 0…37 shown
		t.Fatalf("segment a prefetched %v, want 1…38 once each", got)
	}
}

func TestLoopConfigErrors(t *testing.T) {
	for _, cfg := range []LoopConfig{
		{Rate: Rate{30, 0}, Clock: NewFakeClock()},
		{Rate: Rate30, Width: -1, Height: 10, Clock: NewFakeClock()},
		{Rate: Rate30, Lead: -time.Second, Clock: NewFakeClock()},
		{Rate: Rate30, Lead: 100 * time.Millisecond, IdleLead: 10 * time.Millisecond, Clock: NewFakeClock()}, // under the sound's lag
		{Rate: Rate30, Lead: 100 * time.Millisecond, IdleLead: 200 * time.Millisecond, Clock: NewFakeClock()},
	} {
		if err := NewLoop(cfg).RunFor(context.Background(), time.Second); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
	// One Run at a time.
	busy := NewLoop(LoopConfig{Clock: NewFakeClock()})
	bctx, bcancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- busy.Run(bctx) }()
	for busy.Position().MediaNS == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := busy.RunFor(context.Background(), time.Second); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("second Run: %v", err)
	}
	bcancel()
	<-done
	// Run stops with ctx's error.
	l := NewLoop(LoopConfig{Clock: NewFakeClock()})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run with a cancelled ctx: %v", err)
	}
}

// Commands from other goroutines while Run goes: race-free, and the
// timeline stays gapless whatever they do.
func TestLoopConcurrentCommands(t *testing.T) {
	clk := NewFakeClock()
	l := NewLoop(LoopConfig{Rate: Rate2997, Width: 32, Height: 18, Clock: clk})
	s := &orderSink{}
	l.AddSink(s)
	for i := range 3 {
		l.Add(loopSeg(int16(i+1), Rate25, 50, 2*AudioRate, 32, 18))
	}
	l.SetLoop(true)
	l.Play()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	var ids []EntryID
	l.OnEvent(func(Event) {})
	for i := range 2000 {
		switch i % 14 {
		case 9:
			id, err := l.Enqueue(loopSeg(8, Rate25, 3, 2000, 32, 18), EnqueueOptions{Mode: Mode(i / 14 % 2)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		case 10:
			_ = l.Cancel(ids[len(ids)/2])
		case 11:
			l.Interrupt(i%3 == 0)
			l.Play()
		case 12:
			if i%4 == 0 {
				_ = l.SetIdle(loopSeg(7, Rate30, 4, 0, 32, 18))
			} else {
				_ = l.SetIdle(nil)
			}
		case 13:
			_ = l.Entries()
			_, _ = l.Entry(ids[0])
		case 0:
			l.Pause()
		case 1:
			l.Play()
		case 2:
			_ = l.Seek(i%3, time.Duration(i)*time.Millisecond%time.Second)
		case 3:
			l.Next()
		case 4:
			l.Prev()
		case 5:
			l.Move(i%3, (i+1)%3)
		case 6:
			_ = l.SkipTo(i % 3)
		case 7:
			l.Add(loopSeg(9, Rate30, 10, 0, 32, 18))
			l.Remove(3)
		case 8:
			_ = l.Position()
			_ = l.Stats()
			_ = l.Segments()
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		t.Fatal(s.err)
	}
}

// orderSink checks seq numbers are gapless and media time ordered.
type orderSink struct {
	mu         sync.Mutex
	k, n, last int64
	err        error
}

func (s *orderSink) check(kind string, seq *int64, got, media int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil && (got != *seq || media < s.last) {
		s.err = fmt.Errorf("%s seq %d at %d after seq %d, media %d", kind, got, media, *seq, s.last)
	}
	*seq, s.last = got+1, media
}
func (s *orderSink) WriteVideo(f *VideoFrame) { s.check("video", &s.k, f.Seq, f.MediaNS) }
func (s *orderSink) WriteAudio(c *AudioChunk) { s.check("audio", &s.n, c.Seq, c.MediaNS) }

// On the wall clock nothing is handed over before its due time (lateness
// is allowed: the machine may be busy; earliness never).
func TestLoopWallClockNeverEarly(t *testing.T) {
	clk := NewWallClock()
	const lead = 30 * time.Millisecond
	l := NewLoop(LoopConfig{Rate: Rate2997, Width: 32, Height: 18, Clock: clk, Lead: lead})
	l.Add(loopSeg(1, Rate2997, 30, AudioRate, 32, 18))
	l.Play()
	at := &timeSink{clk: clk}
	l.AddSink(at)
	start := clk.Now()
	loopRunFor(t, l, 300*time.Millisecond)
	if len(at.items) == 0 {
		t.Fatal("nothing emitted")
	}
	for _, it := range at.items {
		if due := max(it.deadline-lead, start); it.handed < due {
			t.Fatalf("item at %d handed at %v, before its due time %v", it.media, it.handed, due)
		}
		if it.deadline < start+time.Duration(it.media) {
			t.Fatalf("item at %d: deadline %v before T0 + media time", it.media, it.deadline)
		}
	}
}

// A looped segment starts every pass on the output frame grid with its
// first sample at that frame's first sample: at 25 fps output a 25 fps
// clip's picture and sound start together (0 samples apart) on every pass,
// and at 30000/1001 a 30 fps clip's first sample is the first at or after
// its first frame's exact time. The sound (1.0417 s) is longer than the
// frames (1.04 s), as with an AAC track's padding: on the old 20 ms grid
// the passes alternated between 0 and 20 ms apart.
func TestLoopLoopedPassesOnFrameGrid(t *testing.T) {
	for _, c := range []struct {
		out, src Rate
		frames   int
	}{
		{Rate25, Rate25, 26},
		{Rate2997, Rate30, 31},
	} {
		t.Run(c.out.String(), func(t *testing.T) {
			l, _, rec := newLoopRec(c.out, 32, 18)
			seg := loopSeg(7, c.src, c.frames, 50_000, 32, 18)
			l.Add(seg)
			l.SetLoop(true)
			l.Play()
			loopRunFor(t, l, time.Minute)
			var frameStarts, sampleStarts []int64
			for i, v := range rec.video {
				if v.idx == 0 && (i == 0 || rec.video[i-1].idx != 0) {
					frameStarts = append(frameStarts, v.seq)
				}
			}
			pcm := rec.pcm()
			for o := int64(0); o < int64(len(pcm)/2); o++ {
				if pcm[2*o] == 1 && pcm[2*o+1] == 7 && (o == 0 || pcm[2*o-2] == 0) {
					sampleStarts = append(sampleStarts, o)
				}
			}
			slot := wantSlot(seg, c.out)
			if len(frameStarts) < 50 || len(sampleStarts) != len(frameStarts) {
				t.Fatalf("%d passes by picture, %d by sound", len(frameStarts), len(sampleStarts))
			}
			for m, k := range frameStarts {
				if k != int64(m)*slot {
					t.Fatalf("pass %d starts at frame %d, want %d", m, k, int64(m)*slot)
				}
				// o/48000 ≥ k·den/num > (o−1)/48000, exactly.
				o := sampleStarts[m]
				lhs, rhs := o*c.out.Num, k*AudioRate*c.out.Den
				if lhs < rhs || lhs-c.out.Num >= rhs {
					t.Fatalf("pass %d: first sample %d is not the first at or after frame %d", m, o, k)
				}
				if c.out == Rate25 && o != k*1920 {
					t.Fatalf("pass %d: sound starts %d samples after the picture", m, o-k*1920)
				}
			}
		})
	}
}

// The lateness counters count only during playback: a stall while paused
// or idle counts nothing; the same stall while playing does.
func TestLoopCountsOnlyWhilePlaying(t *testing.T) {
	for _, c := range []struct {
		name    string
		setup   func(l *Loop)
		counted bool
	}{
		{"empty", func(*Loop) {}, false},
		{"paused", func(l *Loop) { _ = l.Seek(0, time.Second) }, false},
		{"stopped", func(l *Loop) { l.Play(); l.Stop() }, false},
		{"playing", func(l *Loop) { l.Play() }, true},
	} {
		clk := &stallClock{FakeClock: NewFakeClock(), at: time.Second, stall: 480 * time.Millisecond}
		l := NewLoop(LoopConfig{Rate: Rate25, Width: 32, Height: 18, Clock: clk})
		if c.name != "empty" {
			l.Add(loopSeg(1, Rate25, 100, 4*AudioRate, 32, 18))
		}
		c.setup(l)
		loopRunFor(t, l, 2*time.Second)
		st := l.Stats()
		if got := st.SkippedVideo > 0 && st.LateAudio > 0 && st.MaxLateness > 0; got != c.counted {
			t.Errorf("%s: stats %+v, counted %v", c.name, st, c.counted)
		}
		// The stall drops 12 frames either way (from 1 s, those whose
		// successor is due by 1.48 s).
		if st.VideoFrames != 38 || st.AudioChunks != 100 {
			t.Errorf("%s: stats %+v", c.name, st)
		}
	}
}

// HeldBatch: while the play head is paused, items go out in batches (never
// late, at most HeldBatch early, far fewer wake-ups); playing, or with
// HeldBatch 0, each at its own time.
func TestHeldBatch(t *testing.T) {
	const lead, batch = 100 * time.Millisecond, 50 * time.Millisecond
	for _, c := range []struct {
		name       string
		batch      time.Duration
		pause      bool
		maxWakeUps int
	}{
		{"paused", batch, true, 21},        // 1 s in batches of 50 ms (+ the first)
		{"playing", batch, false, 30 + 50}, // every item
		{"paused, no batch", 0, true, 30 + 50},
	} {
		t.Run(c.name, func(t *testing.T) {
			clk := NewFakeClock()
			l := NewLoop(LoopConfig{Rate: Rate30, Width: 32, Height: 18, Clock: clk, Lead: lead, HeldBatch: c.batch})
			l.Add(loopSeg(1, Rate30, 90, AudioRate, 32, 18))
			l.Play()
			if c.pause {
				l.Pause()
			}
			at := &timeSink{clk: clk}
			l.AddSink(at)
			loopRunFor(t, l, time.Second)
			if len(at.items) != 30+50 {
				t.Fatalf("%d items", len(at.items))
			}
			wakeUps := map[time.Duration]bool{}
			for _, v := range at.items {
				itemLead := lead
				if v.audio {
					itemLead -= ChunkNS + CutFade
				}
				due := max(v.deadline-itemLead, 0)
				early := due - v.handed
				if early < 0 || early > c.batch || (!c.pause && early != 0) {
					t.Fatalf("item at %d (audio %v): due %v, handed %v", v.media, v.audio, due, v.handed)
				}
				wakeUps[v.handed] = true
			}
			if len(wakeUps) > c.maxWakeUps || (c.batch > 0 && c.pause && len(wakeUps) < 15) {
				t.Fatalf("%d wake-ups for 80 items, want at most %d", len(wakeUps), c.maxWakeUps)
			}
			t.Logf("%d wake-ups for 80 items", len(wakeUps))
		})
	}
}
