package ui

import (
	"log/slog"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"segcast/engine"
)

// transport is the row of playback controls under the preview: it drives
// the player's loop and the device's volume.
type transport struct {
	p   *player
	log *slog.Logger

	play, stop, prev, next *widget.Button
	loop, mute             *widget.Check
	seek, volume           *widget.Slider
	pos                    *widget.Label
	seeking                bool // the user is dragging the slider
	content                fyne.CanvasObject
}

func newTransport(p *player, log *slog.Logger) *transport {
	t := &transport{p: p, log: log}
	t.play = widget.NewButtonWithIcon("", theme.MediaPlayIcon(), t.togglePlay)
	t.stop = widget.NewButtonWithIcon("", theme.MediaStopIcon(), p.loop.Stop)
	t.prev = widget.NewButtonWithIcon("", theme.MediaSkipPreviousIcon(), p.loop.Prev)
	t.next = widget.NewButtonWithIcon("", theme.MediaSkipNextIcon(), p.loop.Next)
	t.loop = widget.NewCheck("Loop", p.loop.SetLoop)
	t.mute = widget.NewCheck("Mute", p.setMuted)
	t.volume = widget.NewSlider(0, 1)
	t.volume.Step = 0.05
	t.volume.SetValue(1)
	t.volume.OnChanged = p.setVolume
	t.seek = widget.NewSlider(0, 1)
	t.seek.Step = 0.001
	t.seek.OnChanged = func(float64) { t.seeking = true }
	t.seek.OnChangeEnded = func(v float64) {
		t.seeking = false
		t.seekFraction(v)
	}
	t.pos = widget.NewLabel("stopped")
	vol := container.NewGridWrap(fyne.NewSize(120, t.volume.MinSize().Height), t.volume)
	buttons := container.NewHBox(t.prev, t.play, t.stop, t.next, t.loop, t.mute, vol, t.pos)
	t.content = container.NewVBox(t.seek, buttons)
	return t
}

// update shows the play head (called on the UI thread by the ticker).
func (t *transport) update(p engine.Position, frac float64) {
	if p.Playing {
		t.play.SetIcon(theme.MediaPauseIcon())
	} else {
		t.play.SetIcon(theme.MediaPlayIcon())
	}
	switch {
	case p.Segment < 0:
		t.pos.SetText("stopped")
	case p.Playing:
		t.pos.SetText(p.Offset.Truncate(time.Second/10).String() + "  playing")
	default:
		t.pos.SetText(p.Offset.Truncate(time.Millisecond).String() + "  paused")
	}
	if t.seeking {
		return
	}
	t.seek.OnChanged = nil // a programmatic move is not a user seek
	t.seek.SetValue(frac)
	t.seek.OnChanged = func(float64) { t.seeking = true }
}

func (t *transport) togglePlay() {
	if t.p.loop.Position().Playing {
		t.p.loop.Pause()
	} else {
		t.p.loop.Play()
	}
}

// toggleLoop and toggleMute flip the checks, whose OnChanged does the work.
func (t *transport) toggleLoop() { t.loop.SetChecked(!t.loop.Checked) }
func (t *transport) toggleMute() { t.mute.SetChecked(!t.mute.Checked) }

// seekFraction seeks to a fraction of the current segment (the first
// when stopped).
func (t *transport) seekFraction(v float64) {
	p := t.p.loop.Position()
	if p.Segment < 0 {
		p.Segment = 0
	}
	s := t.p.segmentAt(p)
	if s == nil {
		return
	}
	off := time.Duration(v * float64(s.Duration()))
	off = min(max(off, 0), s.Duration()-time.Millisecond)
	if err := t.p.loop.Seek(p.Segment, off); err != nil {
		t.log.Warn("seek", "err", err)
	}
}

// step moves one source frame when paused and one second when playing.
func (t *transport) step(dir int) {
	p := t.p.loop.Position()
	s := t.p.segmentAt(p)
	if s == nil {
		return
	}
	var off time.Duration
	if p.Playing {
		off = p.Offset + time.Duration(dir)*time.Second
	} else {
		r := s.Rate
		if r.Valid() != nil {
			r = engine.Rate30
		}
		k := r.FrameAt(int64(p.Offset)) + int64(dir)
		off = time.Duration(r.FrameNS(max(k, 0)))
	}
	off = min(max(off, 0), s.Duration()-time.Millisecond)
	if err := t.p.loop.Seek(p.Segment, off); err != nil {
		t.log.Warn("step", "err", err)
	}
}
