package engine

import (
	"context"
	"errors"
	"fmt"
	"image"
	"sync"
	"time"
)

// LoopConfig configures the sync loop. Zero values get defaults: 30 fps,
// 1280×720, the wall clock.
type LoopConfig struct {
	Rate          Rate // output frame rate
	Width, Height int  // output size; frames of another size show as idle
	Clock         Clock
	// Lead hands items to sinks this long before their deadline, so an
	// encoder can work ahead and a player can queue.
	Lead time.Duration
	// AudioOffset is a test hook: it shifts the sound later (+) or earlier
	// (−) against the picture, for A/V drift tests.
	AudioOffset time.Duration
	// NoImages leaves VideoFrame.Image nil and never reads frames: for
	// timeline dumps, which need only the timestamps.
	NoImages bool
	// Idle is shown when nothing plays (stopped, empty, a frame of the
	// wrong size); it must be Width×Height. nil: a plain dark frame.
	Idle *image.YCbCr
}

// Position is where the play head is, as of the latest 20 ms chunk.
type Position struct {
	Segment int           // playlist index, -1 when stopped or empty
	Offset  time.Duration // into the segment
	Playing bool
	Looping bool
	MediaNS int64 // output media time of the latest item handed to sinks
}

// LoopStats counts what the loop emitted and what went wrong.
type LoopStats struct {
	VideoFrames  int64 // handed to sinks
	AudioChunks  int64
	SkippedVideo int64 // frames dropped because the loop woke too late
	LateAudio    int64 // chunks handed over after their deadline
	// MaxLateness is the longest the loop handed an item over after its
	// due time (deadline − lead).
	MaxLateness time.Duration
	WrongSize   int64 // frames shown as idle because their size differs
	FrameErrors int64 // frames shown as idle because the store failed
}

type headState int

const (
	headStopped headState = iota
	headPaused
	headPlaying
)

// Loop turns a playlist into output video frames and 20 ms audio chunks
// on one exact timeline, paced by a Clock, and hands them to sinks.
// Its methods are safe from any goroutine while Run is going; commands
// take effect at the next 20 ms chunk boundary, so picture and sound
// change together.
type Loop struct {
	cfg  LoopConfig
	idle *image.YCbCr

	mu sync.Mutex
	// The play head (seg, off) is where the next chunk starts.
	lay     *layout
	state   headState
	seg     int
	off     int64
	looping bool
	sinks   []*sinkEntry
	stats   LoopStats
	mediaNS int64
	running bool

	// Owned by the goroutine in Run.
	nextK, nextN int64 // next video frame and audio chunk
	plan         chunkPlan
	samples      []int16 // reused for every chunk; sinks copy
	prefetched   struct {
		seg *Segment
		idx int
	}
	prefetchedNext *Segment
}

type sinkEntry struct{ s Sink }

// chunkPlan is the state one 20 ms chunk plays with, taken at its start.
type chunkPlan struct {
	n       int64 // chunk index; -1 before the first
	state   headState
	pos     int64 // playlist time at the chunk's start, ns
	looping bool
	lay     *layout
}

// NewLoop returns a stopped loop with an empty playlist.
func NewLoop(cfg LoopConfig) *Loop {
	if cfg.Rate == (Rate{}) {
		cfg.Rate = Rate30
	}
	if cfg.Width == 0 && cfg.Height == 0 {
		cfg.Width, cfg.Height = 1280, 720
	}
	if cfg.Clock == nil {
		cfg.Clock = NewWallClock()
	}
	idle := cfg.Idle
	if !cfg.NoImages && (idle == nil || idle.Rect.Size() != image.Pt(cfg.Width, cfg.Height)) {
		idle = blankFrame(cfg.Width, cfg.Height)
	}
	return &Loop{
		cfg:     cfg,
		idle:    idle,
		lay:     newLayout(nil),
		seg:     0,
		plan:    chunkPlan{n: -1},
		samples: make([]int16, 2*ChunkSamples),
	}
}

// AddSink adds a sink; the returned func removes it. After remove returns
// no new call starts, but one in progress may still finish.
func (l *Loop) AddSink(s Sink) (remove func()) {
	e := &sinkEntry{s}
	l.mu.Lock()
	l.sinks = append(l.sinks[:len(l.sinks):len(l.sinks)], e)
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		for i, x := range l.sinks {
			if x == e {
				l.sinks = append(append([]*sinkEntry{}, l.sinks[:i]...), l.sinks[i+1:]...)
				return
			}
		}
	}
}

// Run emits the timeline, paced by the clock, until ctx is done; it
// returns ctx's error. The timeline continues where a previous run ended.
func (l *Loop) Run(ctx context.Context) error { return l.run(ctx, -1) }

// RunFor emits every item with output media time before d (counted from
// the session start) as fast as the clock allows, then returns nil.
func (l *Loop) RunFor(ctx context.Context, d time.Duration) error {
	return l.run(ctx, int64(max(d, 0)))
}

func (l *Loop) run(ctx context.Context, limit int64) error {
	if err := l.start(); err != nil {
		return err
	}
	defer func() {
		l.mu.Lock()
		l.running = false
		l.mu.Unlock()
	}()
	clk, rate, lead := l.cfg.Clock, l.cfg.Rate, l.cfg.Lead
	t0 := clk.Now() - time.Duration(min(rate.FrameNS(l.nextK), l.nextN*ChunkNS))
	for {
		videoNS, audioNS := rate.FrameNS(l.nextK), l.nextN*ChunkNS
		isVideo := videoNS <= audioNS // ties: video first
		mediaNS := min(videoNS, audioNS)
		if limit >= 0 && mediaNS >= limit {
			return nil
		}
		for l.plan.n < mediaNS/ChunkNS {
			l.beginChunk(l.plan.n + 1)
		}
		deadline := t0 + time.Duration(mediaNS)
		due := max(deadline-lead, t0) // nothing is due before the run began
		now := clk.Now()
		if now < due {
			if err := clk.SleepUntil(ctx, due); err != nil {
				return err
			}
			now = clk.Now()
		} else if err := ctx.Err(); err != nil {
			return err
		}
		if isVideo {
			k := l.nextK
			l.nextK++
			if now >= t0+time.Duration(rate.FrameNS(k+1)) {
				l.count(func(s *LoopStats) { s.SkippedVideo++ })
				continue
			}
			l.emitVideo(k, deadline, now-due)
		} else {
			n := l.nextN
			l.nextN++
			l.emitAudio(n, deadline, now-due)
		}
	}
}

func (l *Loop) start() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running {
		return errors.New("loop: already running")
	}
	c := l.cfg
	if err := c.Rate.Valid(); err != nil {
		return fmt.Errorf("loop: output rate %v: %w", c.Rate, err)
	}
	if c.Width <= 0 || c.Height <= 0 {
		return fmt.Errorf("loop: output size %dx%d: must be positive", c.Width, c.Height)
	}
	if c.Lead < 0 {
		return fmt.Errorf("loop: lead %v: must not be negative", c.Lead)
	}
	l.running = true
	return nil
}

func (l *Loop) count(f func(*LoopStats)) {
	l.mu.Lock()
	f(&l.stats)
	l.mu.Unlock()
}

// beginChunk takes the play head for chunk n and moves the head to where
// chunk n+1 starts; commands arriving meanwhile act from there.
func (l *Loop) beginChunk(n int64) {
	next := l.takePlan(n)
	if next != nil && next != l.prefetchedNext {
		next.Frames.Prefetch(0) // outside mu: a store may take a moment
	}
	l.prefetchedNext = next // once per approach to a segment's end

}

// takePlan does beginChunk's work under mu and returns the segment that
// plays next when it starts within a second, for prefetching.
func (l *Loop) takePlan(n int64) (next *Segment) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.plan = chunkPlan{n: n, state: l.state, looping: l.looping, lay: l.lay}
	if l.state == headStopped {
		return nil
	}
	l.plan.pos = l.lay.start[l.seg] + l.off
	if l.state != headPlaying {
		return nil
	}
	l.off += ChunkNS
	l.normalise()
	if l.state != headPlaying || l.lay.slot(l.seg)-l.off >= int64(time.Second) {
		return nil
	}
	j := l.seg + 1
	if j == len(l.lay.segs) {
		j = 0
	}
	return l.lay.segs[j]
}

// videoAt maps output time t (inside the planned chunk) to the segment
// and source frame shown, or -1, -1 for the idle frame.
func (p *chunkPlan) videoAt(t int64) (seg, idx int) {
	if p.state == headStopped || p.lay.total() == 0 {
		return -1, -1
	}
	pos := p.pos
	if p.state == headPlaying {
		pos += t - p.n*ChunkNS
	}
	if total := p.lay.total(); pos >= total {
		if p.looping {
			pos %= total
		} else {
			pos = total - 1 // the last segment's tail: its last frame
		}
	}
	seg = p.lay.find(pos)
	s := p.lay.segs[seg]
	n := s.Frames.Len()
	if n == 0 {
		return -1, -1
	}
	return seg, int(min(segmentRate(s).FrameAt(pos-p.lay.start[seg]), int64(n-1)))
}

func (l *Loop) emitVideo(k int64, deadline, late time.Duration) {
	rate := l.cfg.Rate
	f := &VideoFrame{Seq: k, MediaNS: rate.FrameNS(k), RTP: rate.FrameRTP(k), Deadline: deadline}
	f.Segment, f.SourceIndex = l.plan.videoAt(f.MediaNS)
	var wrongSize, frameErr bool
	if f.Segment >= 0 {
		s := l.plan.lay.segs[f.Segment]
		if l.prefetched.seg != s || l.prefetched.idx != f.SourceIndex {
			l.prefetched.seg, l.prefetched.idx = s, f.SourceIndex
			s.Frames.Prefetch(f.SourceIndex + 1)
		}
		if l.cfg.NoImages {
			wrongSize = s.Width != l.cfg.Width || s.Height != l.cfg.Height
		} else if img, err := s.Frames.Frame(f.SourceIndex); err != nil {
			frameErr = true
		} else if img.Rect.Dx() != l.cfg.Width || img.Rect.Dy() != l.cfg.Height {
			wrongSize = true
		} else {
			f.Image = img
		}
		if wrongSize || frameErr {
			f.Segment, f.SourceIndex = -1, -1
		}
	}
	if f.Segment < 0 && !l.cfg.NoImages {
		f.Image = l.idle
	}
	sinks := l.handOver(f.MediaNS, late, func(s *LoopStats) {
		s.VideoFrames++
		if wrongSize {
			s.WrongSize++
		}
		if frameErr {
			s.FrameErrors++
		}
	})
	for _, e := range sinks {
		e.s.WriteVideo(f)
	}
}

func (l *Loop) emitAudio(n int64, deadline, late time.Duration) {
	c := &AudioChunk{Seq: n, MediaNS: n * ChunkNS, RTP: ChunkRTP(n), Deadline: deadline,
		Samples: l.samples}
	c.Segment, c.SourceIndex = l.fillAudio(c.Samples)
	sinks := l.handOver(c.MediaNS, late, func(s *LoopStats) {
		s.AudioChunks++
		if late > l.cfg.Lead {
			s.LateAudio++
		}
	})
	for _, e := range sinks {
		e.s.WriteAudio(c)
	}
}

// handOver records an item in the stats and returns the sinks to call.
func (l *Loop) handOver(mediaNS int64, late time.Duration, f func(*LoopStats)) []*sinkEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	f(&l.stats)
	l.stats.MaxLateness = max(l.stats.MaxLateness, late)
	l.mediaNS = mediaNS
	return l.sinks
}

// fillAudio writes the planned chunk's 960 sample frames, each from the
// segment owning it on the playlist (a chunk may straddle a boundary, a
// seek may be off the 20 ms grid). It returns the segment whose slot
// holds the first sample (-1 when none: paused, stopped, past the end)
// and the sample's index in that segment's sound (-1 past the sound's end,
// in the slot's silent tail).
func (l *Loop) fillAudio(dst []int16) (seg int, idx int64) {
	p := &l.plan
	totalNS := p.lay.total()
	if p.state != headPlaying || totalNS == 0 {
		clear(dst)
		return -1, -1
	}
	const perMS = AudioRate / 1000
	total := totalNS * perMS / 1e6 // exact: slots are whole chunks
	first := loopFloorDiv((p.pos-int64(l.cfg.AudioOffset))*perMS, 1e6)
	seg, idx = -1, -1
	for i := int64(0); i < ChunkSamples; {
		s := first + i
		if p.looping {
			s = (s%total + total) % total
		}
		if s < 0 { // before the playlist: silence up to its start
			run := min(ChunkSamples-i, -s)
			clear(dst[2*i : 2*(i+run)])
			i += run
			continue
		}
		if s >= total { // after the end, not looping
			clear(dst[2*i:])
			break
		}
		j := p.lay.find(s * 1e6 / perMS)
		start := p.lay.start[j] * perMS / 1e6
		run := min(ChunkSamples-i, p.lay.start[j+1]*perMS/1e6-s)
		if a := p.lay.segs[j].Audio; a != nil {
			a.Fill(dst[2*i:2*(i+run)], s-start)
		} else {
			clear(dst[2*i : 2*(i+run)])
		}
		if i == 0 {
			seg = j
			if a := p.lay.segs[j].Audio; a != nil && s-start < a.Len() {
				idx = s - start
			}
		}
		i += run
	}
	return seg, idx
}

// blankFrame is the idle picture when none is given: dark grey.
func blankFrame(w, h int) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, max(w, 2), max(h, 2)), image.YCbCrSubsampleRatio420)
	fillPlane(img.Y, 24)
	fillPlane(img.Cb, 128)
	fillPlane(img.Cr, 128)
	return img
}
