package ui

import (
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"segcast/engine"
	"segcast/engine/pattern"
)

// The label under the picture names what is on air: a playlist segment
// with its timecode, a pushed entry by its number, else idle.
func TestPreviewLabel(t *testing.T) {
	seg := pattern.New(64, 36, engine.Rate30, time.Second)
	cases := []struct {
		seg  *engine.Segment
		f    engine.VideoFrame
		want string
	}{
		{seg, engine.VideoFrame{Segment: 0, SourceIndex: 31}, "00:00:01:01   frame 31   " + seg.Name},
		{nil, engine.VideoFrame{Segment: -1, SourceIndex: 4, Entry: 12}, "pushed segment 12   frame 4"},
		{nil, engine.VideoFrame{Segment: -1, SourceIndex: -1}, "idle"},
		{nil, engine.VideoFrame{Segment: -1, SourceIndex: -1, Entry: 3}, "idle"}, // a held idle picture
	}
	for _, c := range cases {
		if got := describe(c.seg, &c.f); got != c.want {
			t.Errorf("describe(%+v) = %q, want %q", c.f, got, c.want)
		}
	}
}

// While frames flow the label changes at most once per labelEvery; a
// frame after a pause (a step) relabels at once.
func TestPreviewLabelThrottle(t *testing.T) {
	test.NewTempApp(t)
	p := newPreview(engine.NewWallClock(), func(f func()) { f() }, func(time.Duration) {})
	p.setLabel("first", true) // nothing shown yet: at once
	p.setLabel("second", true)
	if got := p.label.Text; got != "first" {
		t.Errorf("a second change while frames flow showed %q at once, want it held (label %q)", got, "first")
	}
	p.setLabel("step", false)
	if got := p.label.Text; got != "step" {
		t.Errorf("a frame after a pause showed %q, want %q at once", got, "step")
	}
	p.labelTimer.Stop()
}
