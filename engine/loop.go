package engine

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"slices"
	"sync"
	"time"
)

// LoopConfig configures the sync loop. Zero values get defaults: 30 fps,
// 1280×720, the wall clock.
type LoopConfig struct {
	Rate          Rate // output frame rate
	Width, Height int  // output size; frames of another size show as idle
	Clock         Clock
	// Lead hands pictures to sinks this long before their deadline, so an
	// encoder can work ahead and a player can queue; sound goes one chunk
	// and CutFade later (never after its deadline), so that commands act
	// within a frame (see "Cuts").
	Lead time.Duration
	// AudioOffset is a test hook: it shifts the sound later (+) or earlier
	// (−) against the picture, for A/V drift tests.
	AudioOffset time.Duration
	// NoImages leaves VideoFrame.Image nil and never reads frames: for
	// timeline dumps, which need only the timestamps.
	NoImages bool
	// Idle is shown when nothing plays (stopped, empty, a frame of the
	// wrong size) and no idle clip is set; it must be Width×Height. nil: a
	// plain dark frame.
	Idle *image.YCbCr
	// IdleLead, while the idle picture or idle clip is on air, hands items
	// over only IdleLead (not Lead) before their deadline: a segment pushed
	// then goes on air at the first frame not yet handed over, Lead −
	// IdleLead sooner. Once something else is on air the lead is Lead
	// again: the items between are handed over at once, and the encoder
	// catches up on them. 0: Lead always; else ChunkNS+CutFade … Lead.
	IdleLead time.Duration
	// HeldBatch, while the play head is paused and the queue is empty (the
	// same frame and silence go out), hands over every item due within
	// HeldBatch of the last wake-up at once: a paused window then wakes
	// about 1/HeldBatch times a second instead of 80 (each wake-up costs
	// its context switches: bench/README.md, "Window"). A command given
	// meanwhile acts up to HeldBatch later. 0: every item at its own time.
	HeldBatch time.Duration
}

// CutFade is how long the outgoing sound fades out before a cut.
const CutFade = 5 * time.Millisecond

// Position is where the playlist's play head is, as of the latest frame
// handed to sinks.
type Position struct {
	Segment int           // playlist index, -1 when stopped or empty
	Offset  time.Duration // into the segment
	Playing bool
	Looping bool
	MediaNS int64   // output media time of the latest item handed to sinks
	OnAir   EntryID // the queue entry shown by that frame, 0 for none
}

// LoopStats counts what the loop emitted and what went wrong. The lateness
// counters count only during playback (a playlist segment playing, a
// queue entry or the idle clip), not while paused or idle.
type LoopStats struct {
	VideoFrames  int64 // handed to sinks
	AudioChunks  int64
	SkippedVideo int64 // frames dropped because the loop woke too late
	LateAudio    int64 // chunks handed over after their deadline
	// MaxLateness is the longest the loop handed an item over after its
	// due time (deadline − lead).
	MaxLateness  time.Duration
	WrongSize    int64 // frames shown as idle because their size differs
	FrameErrors  int64 // frames shown as idle because the store failed
	Underruns    int64 // live segments that ran dry and held
	UnderrunTime time.Duration
}

// Loop turns a playlist, an on-air queue and an idle clip into output
// video frames and 20 ms audio chunks on one exact timeline, paced by a
// Clock, and hands them to sinks. Its methods are safe from any goroutine
// while Run is going; see the package comment for when commands act.
type Loop struct {
	cfg  LoopConfig
	idle *image.YCbCr
	fade int64 // CutFade in samples

	mu       sync.Mutex
	lay      *layout
	head     head
	looping  bool
	listGen  uint64 // bumped by playlist commands that change what it shows
	queue    []*entry
	active   []*entry // playing: their runs are decided, not yet retired
	history  []*entry // finished, oldest first
	lastID   EntryID
	idleSeg  *Segment
	idleGen  uint64
	idleOld  []*Segment // replaced idle clips, released once off air
	release  []*Segment // for the loop goroutine to release
	events   []Event    // for the loop goroutine to deliver
	handlers []*eventHandler
	sinks    []*sinkEntry
	stats    LoopStats
	mediaNS  int64
	headK    int64 // frames handed over (or skipped)
	onAir    EntryID
	running  bool
	// runs is what plays, decided ahead (see planChunk). Only the loop
	// goroutine writes it, under mu; it reads it without.
	runs   []run
	lastRn uint64

	// Owned by the goroutine in Run.
	nextK, nextN int64 // next video frame and audio chunk
	planned      int64 // latest chunk planned; -1 before the first
	t0           time.Duration
	aoff         int64 // AudioOffset in samples
	video        VideoFrame
	audio        AudioChunk
	samples      []int16 // reused for every chunk; sinks copy
	delivering   []Event
	releasing    []*Segment
	prefetched   struct {
		seg *Segment
		idx int
	}
	prefetchedNext *Segment
}

type sinkEntry struct{ s Sink }

// NewLoop returns a stopped loop with an empty playlist and queue.
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
	l := &Loop{
		cfg:     cfg,
		idle:    idle,
		fade:    int64(CutFade) * AudioRate / int64(time.Second),
		planned: -1,
		aoff:    floorDiv(int64(cfg.AudioOffset)*(AudioRate/1000), 1e6),
		samples: make([]int16, 2*ChunkSamples),
	}
	l.lay = newLayout(nil, cfg.Rate)
	return l
}

// Clock is the clock the loop runs on (deadlines are on it).
func (l *Loop) Clock() Clock { return l.cfg.Clock }

// AddSink adds a sink; the returned func removes it. After remove returns
// no new call starts, but one in progress may still finish.
func (l *Loop) AddSink(s Sink) (remove func()) { return subscribe(&l.mu, &l.sinks, &sinkEntry{s}) }

// subscribe adds x to the list under mu and returns the func removing
// it. The list is copied on change, so the loop may call a snapshot of it
// outside mu.
func subscribe[T comparable](mu *sync.Mutex, list *[]T, x T) (remove func()) {
	mu.Lock()
	*list = append((*list)[:len(*list):len(*list)], x)
	mu.Unlock()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		if i := slices.Index(*list, x); i >= 0 {
			*list = slices.Delete(slices.Clone(*list), i, i+1)
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
	lag := l.audioLag()
	l.t0 = clk.Now() - time.Duration(min(rate.FrameNS(l.nextK), l.nextN*ChunkNS))
	wokeAt := time.Duration(math.MinInt64 / 2) // no batch before the first wake-up
	// raisedAt is when the lead last went from IdleLead back to Lead: the
	// items then due at once are not late.
	raisedAt, wasIdle := time.Duration(math.MinInt64/2), false
	for {
		videoNS, audioNS := rate.FrameNS(l.nextK), l.nextN*ChunkNS
		videoOK, audioOK := limit < 0 || videoNS < limit, limit < 0 || audioNS < limit
		if !videoOK && !audioOK {
			return nil
		}
		// Items go out in the order they are due; ties: video first.
		isVideo := videoOK && (!audioOK || videoNS <= audioNS+int64(lag))
		mediaNS, itemLead := audioNS, lead-lag
		if isVideo {
			mediaNS, itemLead = videoNS, lead
		}
		for l.planned < mediaNS/ChunkNS {
			l.beginChunk(l.planned + 1)
		}
		if l.cfg.IdleLead > 0 {
			// Both kinds of item shift alike, so the sound still never
			// reaches past the first picture not yet handed over.
			idle := l.runAt(l.nextK).idle()
			if idle {
				itemLead -= lead - l.cfg.IdleLead
			} else if wasIdle {
				raisedAt = clk.Now()
			}
			wasIdle = idle
		}
		deadline := l.t0 + time.Duration(mediaNS)
		due := max(deadline-itemLead, l.t0) // nothing is due before the run began
		now := clk.Now()
		err := ctx.Err()
		if now < due && err == nil && !(due <= wokeAt+l.cfg.HeldBatch && l.held()) {
			err = clk.SleepUntil(ctx, due)
			now = clk.Now()
			wokeAt = now
		}
		if err != nil {
			l.catchUpAudio()
			return err
		}
		l.retire()
		l.beginChunk(l.planned) // act on what was asked since the last item
		late := now - max(due, raisedAt)
		if isVideo {
			k := l.nextK
			l.nextK++
			skip := now >= l.t0+time.Duration(rate.FrameNS(k+1))
			l.emitVideo(k, deadline, late, skip)
		} else {
			n := l.nextN
			l.nextN++
			l.emitAudio(n, deadline, late)
		}
	}
}

// held is whether what goes out is the paused play head's frame and
// silence, with nothing queued to cut in (LoopConfig.HeldBatch).
func (l *Loop) held() bool {
	if l.cfg.HeldBatch <= 0 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.head.state == headPaused && len(l.queue) == 0 && len(l.active) == 0
}

// audioLag is how much later than a picture the sound of the same media
// time is handed over: one chunk plus the cut fade, as far as the lead
// allows. The sound handed over then never reaches past the first picture
// not yet handed over, so a cut can act at that picture (see "Cuts").
func (l *Loop) audioLag() time.Duration { return min(l.cfg.Lead, ChunkNS+CutFade) }

// catchUpAudio hands over, early, the sound for every picture already
// handed over, so that a stopped run leaves sound and pictures ending
// together and a timeline started at the next chunk's deadline (a new
// loop after a format change) follows both.
func (l *Loop) catchUpAudio() {
	rate, now := l.cfg.Rate, l.cfg.Clock.Now()
	for l.nextN*ChunkNS < rate.FrameNS(l.nextK) {
		n := l.nextN
		for l.planned < n {
			l.beginChunk(l.planned + 1)
		}
		deadline := l.t0 + time.Duration(n*ChunkNS)
		l.retire()
		l.nextN++
		l.emitAudio(n, deadline, now-(deadline-l.cfg.Lead+l.audioLag()))
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
	if lag := l.audioLag(); c.IdleLead != 0 && (c.IdleLead < lag || c.IdleLead > c.Lead) {
		return fmt.Errorf("loop: idle lead %v: must be 0 or from %v to the lead (%v)", c.IdleLead, lag, c.Lead)
	}
	l.running = true
	return nil
}

// beginChunk plans chunk n (again, before each item: commands given since
// may cut what is planned), then prefetches and releases outside mu (a
// store may take a moment).
func (l *Loop) beginChunk(n int64) {
	l.planned = n
	next := l.planChunk(n)
	if next != nil && next != l.prefetchedNext {
		next.Frames.Prefetch(0)
	}
	l.prefetchedNext = next // once per approach to a boundary
	for i, s := range l.releasing {
		s.Release()
		l.releasing[i] = nil
	}
	l.releasing = l.releasing[:0]
}

// runAt returns the run showing output frame k (k is planned).
func (l *Loop) runAt(k int64) *run {
	for i := range l.runs {
		if r := &l.runs[i]; r.end < 0 || r.end > k {
			return r
		}
	}
	return &l.runs[len(l.runs)-1]
}

func (l *Loop) emitVideo(k int64, deadline, late time.Duration, skip bool) {
	rate := l.cfg.Rate
	r := l.runAt(k)
	f := &l.video
	*f = VideoFrame{Seq: k, MediaNS: rate.FrameNS(k), RTP: rate.FrameRTP(k), Deadline: deadline,
		Segment: -1, SourceIndex: -1}
	var wrongSize, frameErr bool
	if !skip {
		if i := r.frameAt(rate, k); i >= 0 {
			s := r.seg
			if l.prefetched.seg != s || l.prefetched.idx != i {
				l.prefetched.seg, l.prefetched.idx = s, i
				s.Frames.Prefetch(i + 1)
			}
			if l.cfg.NoImages {
				wrongSize = s.Width != l.cfg.Width || s.Height != l.cfg.Height
			} else if img, err := s.Frames.Frame(i); err != nil {
				frameErr = true
			} else if img.Rect.Dx() != l.cfg.Width || img.Rect.Dy() != l.cfg.Height {
				wrongSize = true
			} else {
				f.Image = img
			}
			if !wrongSize && !frameErr {
				f.SourceIndex = i
			}
			if s.live != nil {
				s.live.consumed(i, 0)
			}
		}
		if f.Image == nil && !l.cfg.NoImages {
			f.Image = l.idle
		}
	}
	l.mu.Lock()
	st := &l.stats
	if r.playing() {
		if skip {
			st.SkippedVideo++
		}
		st.MaxLateness = max(st.MaxLateness, late)
	}
	if !skip {
		st.VideoFrames++
		if wrongSize {
			st.WrongSize++
		}
		if frameErr {
			st.FrameErrors++
		}
		l.mediaNS = f.MediaNS
	}
	l.headK = k + 1
	if f.SourceIndex >= 0 {
		f.Segment = l.listIndex(r)
	}
	if e := r.ent; e != nil {
		f.Entry = e.id
		if !e.started {
			e.started, e.startNS, e.startDeadline = true, rate.FrameNS(r.k0), l.t0+time.Duration(rate.FrameNS(r.k0))
			l.events = append(l.events, Event{Kind: EventStarted, Entry: e.id, MediaNS: e.startNS, Deadline: e.startDeadline})
		}
	}
	l.onAir = f.Entry
	sinks, events := l.sinks, len(l.events) > 0
	l.mu.Unlock()
	if !skip {
		for _, e := range sinks {
			e.s.WriteVideo(f)
		}
	}
	if events {
		l.deliver()
	}
}

// listIndex is the playlist index r plays (-1 for anything else), kept
// current across playlist edits. mu is held.
func (l *Loop) listIndex(r *run) int {
	if r.kind != runList {
		return -1
	}
	if r.lay != l.lay {
		r.idx, r.lay = l.lay.index(r.seg, r.idx), l.lay
	}
	return r.idx
}

func (l *Loop) emitAudio(n int64, deadline, late time.Duration) {
	c := &l.audio
	*c = AudioChunk{Seq: n, MediaNS: n * ChunkNS, RTP: ChunkRTP(n), Deadline: deadline,
		Samples: l.samples, Segment: -1, SourceIndex: -1}
	r := l.fillAudio(c)
	l.mu.Lock()
	st := &l.stats
	st.AudioChunks++
	if r != nil && r.playing() {
		if late > l.cfg.Lead {
			st.LateAudio++
		}
		st.MaxLateness = max(st.MaxLateness, late)
	}
	l.mediaNS = c.MediaNS
	if r != nil && r.hold == holdNone {
		c.Segment = l.listIndex(r)
	}
	sinks, events := l.sinks, len(l.events) > 0
	l.mu.Unlock()
	for _, e := range sinks {
		e.s.WriteAudio(c)
	}
	if events {
		l.deliver()
	}
}

// fillAudio writes chunk c's 960 sample frames, each from the run owning
// its content sample (a chunk may straddle run boundaries), fading the
// last CutFade of a run that was cut. It returns the run holding the first
// sample (nil before the first run) and sets c.Entry and c.SourceIndex
// from it.
func (l *Loop) fillAudio(c *AudioChunk) (first *run) {
	dst := c.Samples
	c0 := c.Seq*ChunkSamples - l.aoff // content sample of dst[0]
	j := 0
	for i := int64(0); i < ChunkSamples; {
		s := c0 + i
		for j < len(l.runs)-1 && l.runs[j].end >= 0 && l.runs[j].send <= s {
			j++
		}
		r := &l.runs[j]
		if s < r.s0 { // before the first run (AudioOffset delays the sound)
			run := min(ChunkSamples-i, r.s0-s)
			clear(dst[2*i : 2*(i+run)])
			i += run
			continue
		}
		run := ChunkSamples - i
		if r.end >= 0 {
			run = min(run, r.send-s)
		}
		part := dst[2*i : 2*(i+run)]
		src := r.a0 + s - r.s0
		if a := r.audio(); a != nil {
			a.Fill(part, src)
			if r.endBy == endCut || r.endBy == endUnderrun {
				fadeOut(part, s, r.send, l.fade)
			}
			if r.seg.live != nil {
				r.seg.live.consumed(0, src+run)
			}
		} else {
			clear(part)
		}
		if i == 0 {
			first = r
			if e := r.ent; e != nil {
				c.Entry = e.id
			}
			if a := r.audio(); a != nil && src < a.Len() {
				c.SourceIndex = src
			}
		}
		i += run
	}
	return first
}

// fadeOut ramps part (whose first sample is content sample s) linearly to
// zero over the fade samples before end.
func fadeOut(part []int16, s, end, fade int64) {
	from := max(end-fade, s)
	for t := from; t < s+int64(len(part)/2); t++ {
		g := int32(end - t) // fade…1
		i := 2 * (t - s)
		part[i] = int16(int32(part[i]) * g / int32(fade))
		part[i+1] = int16(int32(part[i+1]) * g / int32(fade))
	}
}

// deliver hands the pending events to the handlers.
func (l *Loop) deliver() {
	l.mu.Lock()
	l.delivering, l.events = l.events, l.delivering[:0]
	handlers := l.handlers
	l.mu.Unlock()
	for _, ev := range l.delivering {
		for _, h := range handlers {
			h.f(ev)
		}
	}
}

// blankFrame is the idle picture when none is given: dark grey.
func blankFrame(w, h int) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, max(w, 2), max(h, 2)), image.YCbCrSubsampleRatio420)
	fillPlane(img.Y, 24)
	fillPlane(img.Cb, 128)
	fillPlane(img.Cr, 128)
	return img
}

// Stats reports the loop's counters.
func (l *Loop) Stats() LoopStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}
