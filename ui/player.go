package ui

import (
	"context"
	"sync"
	"time"

	"segcast/engine"
	"segcast/engine/pattern"
	"segcast/rtc"
)

// outFormat is the output: frame size and rate, and how clips of another
// shape are made to fit (letterboxed, or cropped to fill).
type outFormat struct {
	W, H int
	Rate engine.Rate
	Fill bool
}

// player is the window's media side, without widgets: the loop in the
// output format, the clock it runs on, the audio device, the frame store
// and the preview sink. It holds the timing policy: the audio device
// clocks the loop while only the preview plays; startStreaming hands over
// to the wall clock. A new output format is a new loop (swap) whose
// timeline starts where the old one's ended.
//
// loop and format are the UI thread's: every command goes to the loop
// on air.
type player struct {
	loop    *engine.Loop
	format  outFormat
	clock   *switchClock
	wall    engine.Clock
	audio   audioDevice // nil without a device
	store   *engine.FrameStore
	preview *preview
	run     *runner
	// onLoop is told of each new loop (swap) on the UI thread, before it
	// runs: the control API moves to it.
	onLoop func(*engine.Loop, outFormat)

	mu       sync.Mutex
	stream   engine.Sink                               // the rtc session while streaming
	restart  func(w, h int, rate engine.Rate) error    // its Restart
	stopLoop func() (chunks int64, next time.Duration) // stops the loop on air
}

// newPlayer builds the loop in format f, clocked by audio (nil: no
// device, the wall clock). onSeek is what a click on the waveform does.
func newPlayer(f outFormat, budget int64, audio audioDevice, r *runner, onSeek func(time.Duration)) *player {
	p := &player{format: f, wall: engine.NewWallClock(), audio: audio, run: r}
	var base = p.wall
	if audio != nil {
		base = audio
	}
	p.clock = newSwitchClock(base)
	p.preview = newPreview(p.clock, r.do, onSeek)
	if h, ok := audio.(heardPosition); ok && audio != nil {
		p.preview.local.setHeard(h)
	}
	p.store = engine.NewFrameStore(budget)
	p.loop = p.newLoop(f)
	return p
}

// heldBatch is how far ahead the paused window's loop hands over its held
// frame and silence, so it wakes 20 times a second rather than 80 (paused
// CPU, BenchmarkPausedXvfb); play, a step or a seek then acts up to this
// much later.
const heldBatch = 50 * time.Millisecond

// newLoop is a stopped loop in format f with the player's sinks.
func (p *player) newLoop(f outFormat) *engine.Loop {
	l := engine.NewLoop(engine.LoopConfig{Rate: f.Rate, Width: f.W, Height: f.H, Clock: p.clock,
		Lead: rtc.EncodeLead, Idle: pattern.IdleCard(f.W, f.H), HeldBatch: heldBatch})
	l.AddSink(p.preview)
	if p.audio != nil {
		l.AddSink(p.audio)
	}
	p.mu.Lock()
	if p.stream != nil {
		l.AddSink(p.stream)
	}
	p.mu.Unlock()
	return l
}

// start runs the loop and the preview until the runner's context ends.
func (p *player) start() {
	p.runLoop(p.loop, 0)
	p.run.start(func() { p.preview.run(p.run.ctx) })
}

// runLoop runs l from clock time at (0: now) until stopped.
func (p *player) runLoop(l *engine.Loop, at time.Duration) {
	ctx, cancel := context.WithCancel(p.run.ctx)
	done := make(chan struct{})
	var last chunkTracker
	l.AddSink(&last)
	p.mu.Lock()
	p.stopLoop = func() (int64, time.Duration) {
		cancel()
		<-done
		return l.Stats().AudioChunks, last.next()
	}
	p.mu.Unlock()
	p.run.start(func() {
		defer close(done)
		if at > 0 && p.clock.SleepUntil(ctx, at) != nil {
			return
		}
		if err := rtc.RunLoop(ctx, l); err != nil && ctx.Err() == nil {
			p.run.log.Error("loop stopped", "err", err)
		}
	})
}

// swap puts a new loop in format f on air with segs as its playlist; set
// restores the play head on it (UI thread, before it runs). The new
// timeline starts where the old one ended: its first items are due when
// the old loop's next would have been, so the sound device plays on
// without a gap or an overlap, and a stream continues its timestamps
// (rtc.Session.Restart). It returns at once; the old loop stops on a
// goroutine.
func (p *player) swap(f outFormat, segs []*engine.Segment, set func(*engine.Loop)) {
	nl := p.newLoop(f)
	for _, s := range segs {
		nl.Add(s)
	}
	set(nl)
	p.loop, p.format = nl, f
	if p.onLoop != nil {
		p.onLoop(nl, f)
	}
	p.mu.Lock()
	stopOld := p.stopLoop
	p.stopLoop = nil
	p.mu.Unlock()
	if stopOld == nil {
		return // a swap is under way: it starts whichever loop is on air
	}
	p.run.start(func() {
		chunks, next := stopOld()
		// The local sync log counts sound from the first loop's start.
		p.preview.mediaBase.Add(chunks * engine.ChunkNS)
		p.run.do(func() {
			p.mu.Lock()
			restart := p.restart
			p.mu.Unlock()
			if restart != nil {
				f := p.format
				if err := restart(f.W, f.H, f.Rate); err != nil {
					p.run.log.Error("restart the stream's encoders", "err", err)
				}
			}
			p.runLoop(p.loop, next)
		})
	})
}

// chunkTracker is a sink noting when the loop's next audio chunk is due,
// so that a following loop can start there.
type chunkTracker struct {
	mu  sync.Mutex
	due time.Duration
}

func (c *chunkTracker) WriteVideo(*engine.VideoFrame) {}
func (c *chunkTracker) WriteAudio(a *engine.AudioChunk) {
	c.mu.Lock()
	c.due = a.Deadline + engine.ChunkNS
	c.mu.Unlock()
}

func (c *chunkTracker) next() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.due
}

// startStreaming makes sink (the rtc session; restart is its Restart) a
// sink of the loop, and of every loop after it. From then on the wall
// clock rules (viewers play at real-time pace, not the sound card's) and
// the preview waits out the device's output latency, so that picture and
// sound still match locally. It returns the function that takes the sink
// off again.
func (p *player) startStreaming(sink engine.Sink, restart func(w, h int, rate engine.Rate) error) (remove func()) {
	p.clock.Switch(p.wall)
	if p.audio != nil {
		p.preview.setDelay(p.audio.Latency())
	}
	p.mu.Lock()
	p.stream, p.restart = sink, restart
	p.mu.Unlock()
	rm := p.loop.AddSink(sink)
	return func() {
		p.mu.Lock()
		p.stream, p.restart = nil, nil
		p.mu.Unlock()
		rm()
	}
}

// remove takes seg, the loop's segment i, off the loop and frees its
// memory once the loop can no longer be reading it.
func (p *player) remove(i int, seg *engine.Segment) {
	p.loop.Remove(i)
	p.releaseLater(seg)
}

// releaseLater frees segs once no loop can be reading them: their lead
// plus a margin (the loop hands items over that far ahead).
func (p *player) releaseLater(segs ...*engine.Segment) {
	time.AfterFunc(rtc.EncodeLead+time.Second, func() {
		for _, s := range segs {
			s.Release()
		}
	})
}

// segmentAt returns the play head's segment (nil when stopped).
func (p *player) segmentAt(pos engine.Position) *engine.Segment {
	segs := p.loop.Segments()
	if pos.Segment < 0 || pos.Segment >= len(segs) {
		return nil
	}
	return segs[pos.Segment]
}

// setVolume and setMuted reach the device, if any.
func (p *player) setVolume(v float64) {
	if p.audio != nil {
		p.audio.SetVolume(v)
	}
}

func (p *player) setMuted(m bool) {
	if p.audio != nil {
		p.audio.SetMuted(m)
	}
}

// device names the audio output for the status bar.
func (p *player) device() string {
	if p.audio == nil {
		return "no audio device"
	}
	return "audio: " + p.audio.Device()
}

// close releases the audio device; the loop must have stopped.
func (p *player) close() error {
	if p.audio == nil {
		return nil
	}
	return p.audio.Close()
}
