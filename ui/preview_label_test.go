package ui

import (
	"testing"
	"time"

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
