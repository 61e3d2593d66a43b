package ui

import (
	"fmt"
	"log/slog"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"segcast/engine"
)

// transport is the playback controls under the preview: the seek bar with
// elapsed and total time, the buttons, loop and mute, the volume and the
// sound level. It drives the player's loop and the device's volume.
type transport struct {
	p       *player
	log     *slog.Logger
	changed func() // after a command: show its effect now

	play, stop, prev, next, loop, mute *widget.Button
	seek                               *seekBar
	elapsed, total                     *widget.Label
	volume                             *keySlider
	level                              *levelMeter
	looping, muted                     bool
	content                            fyne.CanvasObject

	shown struct { // what the labels and icons show, to skip redraws
		playing     bool
		elapsed     string
		elapsedAt   time.Time
		total       string
		initialised bool
	}
}

func newTransport(p *player, log *slog.Logger, keys keyHandler) *transport {
	t := &transport{p: p, log: log, changed: func() {}}
	t.play = widget.NewButtonWithIcon("", theme.MediaPlayIcon(), t.togglePlay)
	t.stop = widget.NewButtonWithIcon("", theme.MediaStopIcon(), t.doStop)
	t.prev = widget.NewButtonWithIcon("", theme.MediaSkipPreviousIcon(), func() { t.p.loop.Prev(); t.changed() })
	t.next = widget.NewButtonWithIcon("", theme.MediaSkipNextIcon(), func() { t.p.loop.Next(); t.changed() })
	t.loop = widget.NewButtonWithIcon("Loop", theme.MediaReplayIcon(), t.toggleLoop)
	t.mute = widget.NewButtonWithIcon("", theme.VolumeUpIcon(), t.toggleMute)
	t.volume = newKeySlider(0, 1, keys)
	t.volume.SetValue(1)
	t.volume.OnChanged = p.setVolume
	t.level = newLevelMeter()
	t.seek = newSeekBar(t.seekTo)
	mono := fyne.TextStyle{Monospace: true}
	t.elapsed = widget.NewLabelWithStyle("--:--.---", fyne.TextAlignTrailing, mono)
	t.total = widget.NewLabelWithStyle("--:--.---", fyne.TextAlignLeading, mono)
	vol := container.NewBorder(nil, nil, widget.NewLabel("Volume"), nil,
		container.NewGridWrap(fyne.NewSize(110, t.volume.MinSize().Height), t.volume))
	meter := container.NewGridWrap(fyne.NewSize(56, t.volume.MinSize().Height), t.level)
	buttons := container.NewHBox(t.prev, t.play, t.stop, t.next, t.loop, t.mute)
	seekRow := container.NewBorder(nil, nil, t.elapsed, t.total, t.seek)
	t.content = container.NewVBox(seekRow, container.NewBorder(nil, nil, buttons, container.NewHBox(vol, meter)))
	return t
}

// update shows the play head (UI thread); seg is the head's segment.
func (t *transport) update(p engine.Position, seg *engine.Segment) {
	elapsed, total := "--:--.---", "--:--.---"
	var dur time.Duration
	if seg != nil {
		dur = seg.Duration()
		elapsed, total = clockText(p.Offset), clockText(dur)
	}
	if !t.shown.initialised || p.Playing != t.shown.playing {
		if p.Playing {
			t.play.SetIcon(theme.MediaPauseIcon())
		} else {
			t.play.SetIcon(theme.MediaPlayIcon())
		}
	}
	// While playing, the elapsed time changes at most once a second, as
	// the label under the picture does (labelEvery): every new text is
	// shaped, rasterised and drawn anew. Paused, a step shows at once.
	steady := p.Playing && t.shown.playing && time.Since(t.shown.elapsedAt) < labelEvery
	if elapsed != t.shown.elapsed && !steady {
		t.elapsed.SetText(elapsed)
		t.shown.elapsed, t.shown.elapsedAt = elapsed, time.Now()
	}
	if total != t.shown.total {
		t.total.SetText(total)
	}
	t.shown.playing, t.shown.total, t.shown.initialised = p.Playing, total, true
	t.seek.set(p.Offset, dur)
}

// clockText is d as [h:]mm:ss.mmm, truncated to the millisecond.
func clockText(d time.Duration) string {
	ms := int64(d / time.Millisecond)
	h, m, s := ms/3_600_000, ms/60_000%60, ms/1000%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d.%03d", h, m, s, ms%1000)
	}
	return fmt.Sprintf("%02d:%02d.%03d", m, s, ms%1000)
}

func (t *transport) togglePlay() {
	if t.p.loop.Position().Playing {
		t.p.loop.Pause()
	} else {
		t.p.loop.Play()
	}
	t.changed()
}

func (t *transport) doStop() {
	t.p.loop.Stop()
	t.changed()
}

// setLooping and setMuted show the state on their buttons and apply it.
func (t *transport) setLooping(on bool) {
	t.looping = on
	t.p.loop.SetLoop(on)
	t.loop.Importance = widget.MediumImportance
	if on {
		t.loop.Importance = widget.HighImportance
	}
	t.loop.Refresh()
}

func (t *transport) setMuted(on bool) {
	t.muted = on
	t.p.setMuted(on)
	if on {
		t.mute.SetIcon(theme.VolumeMuteIcon())
	} else {
		t.mute.SetIcon(theme.VolumeUpIcon())
	}
}

func (t *transport) toggleLoop() { t.setLooping(!t.looping) }
func (t *transport) toggleMute() { t.setMuted(!t.muted) }

// seekTo moves the head to off into the current segment (the first when
// stopped), kept inside the segment.
func (t *transport) seekTo(off time.Duration) {
	p := t.p.loop.Position()
	if p.Segment < 0 {
		p.Segment = 0
	}
	s := t.p.segmentAt(p)
	if s == nil {
		return
	}
	off = min(max(off, 0), s.Duration()-time.Millisecond)
	if err := t.p.loop.Seek(p.Segment, off); err != nil {
		t.log.Warn("seek", "err", err)
	}
	t.changed()
}

// step moves one of the segment's own frames when paused (exactly: the
// head lands on the frame's start time, which shows that frame) and one
// second when playing.
func (t *transport) step(dir int) {
	p := t.p.loop.Position()
	s := t.p.segmentAt(p)
	if s == nil {
		return
	}
	if p.Playing {
		t.seekTo(p.Offset + time.Duration(dir)*time.Second)
		return
	}
	off, ok := stepOffset(s, p.Offset, dir)
	if !ok {
		return
	}
	if err := t.p.loop.Seek(p.Segment, off); err != nil {
		t.log.Warn("step", "err", err)
	}
	t.changed()
}

// stepOffset is the start time of the frame dir frames from the one shown
// at off, in s's own frame rate; ok is false at either end.
func stepOffset(s *engine.Segment, off time.Duration, dir int) (time.Duration, bool) {
	r := s.Rate
	if r.Valid() != nil {
		r = engine.Rate30
	}
	last := int64(s.Frames.Len()) - 1
	if last < 0 { // sound only: frames of the rate over its length
		last = r.FrameAt(int64(s.Duration()) - 1)
	}
	k := r.FrameAt(int64(off)) + int64(dir)
	if k < 0 || k > last {
		return 0, false
	}
	return time.Duration(r.FrameNS(k)), true
}
