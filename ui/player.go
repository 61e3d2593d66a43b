package ui

import (
	"time"

	"segcast/engine"
	"segcast/engine/pattern"
	"segcast/rtc"
)

// player is the window's media side, without widgets: the loop in the
// output format, the clock it runs on, the audio device, the frame store
// and the preview sink. It holds the timing policy: the audio device
// clocks the loop while only the preview plays; startStreaming hands over
// to the wall clock.
type player struct {
	loop    *engine.Loop
	clock   *switchClock
	wall    engine.Clock
	audio   audioDevice // nil without a device
	store   *engine.FrameStore
	preview *preview
	rate    engine.Rate
	w, h    int
}

// newPlayer builds the loop in the settings' output format, clocked by
// audio (nil: no device, the wall clock). do runs preview updates on the
// UI thread.
func newPlayer(set settings, audio audioDevice, do func(func())) *player {
	p := &player{wall: engine.NewWallClock(), audio: audio, rate: set.FPS, w: set.Width, h: set.Height}
	var base = p.wall
	if audio != nil {
		base = audio
	}
	p.clock = newSwitchClock(base)
	p.loop = engine.NewLoop(engine.LoopConfig{Rate: p.rate, Width: p.w, Height: p.h, Clock: p.clock,
		Lead: rtc.EncodeLead, Idle: pattern.IdleCard(p.w, p.h)})
	p.preview = newPreview(p.clock, do)
	p.loop.AddSink(p.preview)
	if audio != nil {
		p.loop.AddSink(audio)
		if h, ok := audio.(heardPosition); ok {
			p.preview.local.setHeard(h)
		}
	}
	p.store = engine.NewFrameStore(set.budget())
	return p
}

// start runs the loop and the preview until r's context ends.
func (p *player) start(r *runner) {
	r.start(func() {
		if err := p.loop.Run(r.ctx); err != nil && r.ctx.Err() == nil {
			r.log.Error("loop stopped", "err", err)
		}
	})
	r.start(func() { p.preview.run(r.ctx) })
}

// startStreaming makes sink (the rtc session) a sink of the loop. From
// then on the wall clock rules (viewers play at real-time pace, not the
// sound card's) and the preview waits out the device's output latency,
// so that picture and sound still match locally. It returns the function
// that takes the sink off again.
func (p *player) startStreaming(sink engine.Sink) (remove func()) {
	p.clock.Switch(p.wall)
	if p.audio != nil {
		p.preview.setDelay(p.audio.Latency())
	}
	return p.loop.AddSink(sink)
}

// remove takes seg, the loop's segment i, off the loop and frees its
// memory once the loop can no longer be reading it (its lead plus a
// margin).
func (p *player) remove(i int, seg *engine.Segment) {
	p.loop.Remove(i)
	time.AfterFunc(rtc.EncodeLead+time.Second, seg.Release)
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
