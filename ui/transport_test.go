package ui

import (
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"segcast/engine"
	"segcast/engine/pattern"
)

// While playing, the elapsed time changes at most once per labelEvery (a
// new text costs software GL a redraw of its own); paused, every step
// shows at once, to the millisecond.
func TestElapsedThrottle(t *testing.T) {
	test.NewTempApp(t)
	tr := &transport{play: widget.NewButton("", nil), elapsed: widget.NewLabel(""), total: widget.NewLabel(""),
		seek: newSeekBar(func(time.Duration) {})}
	seg := pattern.New(64, 36, engine.Rate30, 10*time.Second)
	show := func(playing bool, at time.Duration, want string) {
		t.Helper()
		tr.update(engine.Position{Segment: 0, Offset: at, Playing: playing}, seg)
		if got := tr.elapsed.Text; got != want {
			t.Errorf("playing %v at %v: elapsed %q, want %q", playing, at, got, want)
		}
	}
	show(true, time.Second, "00:01.000") // starting to play: at once
	show(true, 1250*time.Millisecond, "00:01.000")
	show(true, 1500*time.Millisecond, "00:01.000")
	show(false, 1533*time.Millisecond, "00:01.533") // paused: at once
	show(false, 1566*time.Millisecond, "00:01.566") // a step
}
