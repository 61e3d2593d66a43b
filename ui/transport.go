package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"segcast/engine"
)

// transport holds the playback controls.
type transport struct {
	play, stop, prev, next *widget.Button
	loop, mute             *widget.Check
	seek, volume           *widget.Slider
	pos                    *widget.Label
	seeking                bool // the user is dragging the slider
}

func (c *controller) buildTransport() fyne.CanvasObject {
	t := &c.tr
	t.play = widget.NewButtonWithIcon("", theme.MediaPlayIcon(), c.togglePlay)
	t.stop = widget.NewButtonWithIcon("", theme.MediaStopIcon(), c.loop.Stop)
	t.prev = widget.NewButtonWithIcon("", theme.MediaSkipPreviousIcon(), c.loop.Prev)
	t.next = widget.NewButtonWithIcon("", theme.MediaSkipNextIcon(), c.loop.Next)
	t.loop = widget.NewCheck("Loop", c.loop.SetLoop)
	t.mute = widget.NewCheck("Mute", func(m bool) {
		if c.audio != nil {
			c.audio.SetMuted(m)
		}
	})
	t.volume = widget.NewSlider(0, 1)
	t.volume.Step = 0.05
	t.volume.SetValue(1)
	t.volume.OnChanged = func(v float64) {
		if c.audio != nil {
			c.audio.SetVolume(v)
		}
	}
	t.seek = widget.NewSlider(0, 1)
	t.seek.Step = 0.001
	t.seek.OnChanged = func(float64) { t.seeking = true }
	t.seek.OnChangeEnded = func(v float64) {
		t.seeking = false
		c.seekFraction(v)
	}
	t.pos = widget.NewLabel("stopped")
	vol := container.NewGridWrap(fyne.NewSize(120, t.volume.MinSize().Height), t.volume)
	buttons := container.NewHBox(t.prev, t.play, t.stop, t.next, t.loop, t.mute, vol, t.pos)
	return container.NewVBox(t.seek, buttons)
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

func (c *controller) togglePlay() {
	if c.loop.Position().Playing {
		c.loop.Pause()
	} else {
		c.loop.Play()
	}
}

// toggleLoop and toggleMute flip the checks, whose OnChanged does the work.
func (c *controller) toggleLoop() { c.tr.loop.SetChecked(!c.tr.loop.Checked) }
func (c *controller) toggleMute() { c.tr.mute.SetChecked(!c.tr.mute.Checked) }

// currentSegment returns the play head's segment (nil when stopped).
func (c *controller) currentSegment(p engine.Position) *engine.Segment {
	segs := c.loop.Segments()
	if p.Segment < 0 || p.Segment >= len(segs) {
		return nil
	}
	return segs[p.Segment]
}

// seekFraction seeks to a fraction of the current segment (the first
// when stopped).
func (c *controller) seekFraction(v float64) {
	p := c.loop.Position()
	if p.Segment < 0 {
		p.Segment = 0
	}
	s := c.currentSegment(p)
	if s == nil {
		return
	}
	off := time.Duration(v * float64(s.Duration()))
	off = min(max(off, 0), s.Duration()-time.Millisecond)
	if err := c.loop.Seek(p.Segment, off); err != nil {
		c.log.Warn("seek", "err", err)
	}
}

// step moves one source frame when paused and one second when playing.
func (c *controller) step(dir int) {
	p := c.loop.Position()
	s := c.currentSegment(p)
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
	if err := c.loop.Seek(p.Segment, off); err != nil {
		c.log.Warn("step", "err", err)
	}
}

// installShortcuts binds the transport keys (Space play/pause, ←/→ step,
// Page Up/Down previous/next segment, Home stop, L loop, M mute); menu
// items carry Ctrl+O and Ctrl+Q, registered on the canvas too so they work
// everywhere.
func (c *controller) installShortcuts() {
	cv := c.win.Canvas()
	cv.SetOnTypedKey(func(e *fyne.KeyEvent) {
		switch e.Name {
		case fyne.KeySpace:
			c.togglePlay()
		case fyne.KeyLeft:
			c.step(-1)
		case fyne.KeyRight:
			c.step(+1)
		case fyne.KeyPageUp:
			c.loop.Prev()
		case fyne.KeyPageDown:
			c.loop.Next()
		case fyne.KeyHome:
			c.loop.Stop()
		case fyne.KeyL:
			c.toggleLoop()
		case fyne.KeyM:
			c.toggleMute()
		}
	})
	cv.AddShortcut(shortcutOpen(), func(fyne.Shortcut) { c.openFiles() })
	cv.AddShortcut(shortcutQuit(), func(fyne.Shortcut) { c.app.Quit() })
}

func shortcutOpen() *desktop.CustomShortcut {
	return &desktop.CustomShortcut{KeyName: fyne.KeyO, Modifier: fyne.KeyModifierShortcutDefault}
}

func shortcutQuit() *desktop.CustomShortcut {
	return &desktop.CustomShortcut{KeyName: fyne.KeyQ, Modifier: fyne.KeyModifierShortcutDefault}
}
