package ui

import (
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"segcast/engine"
	"segcast/engine/pattern"
)

var clipColour = color.RGBA{R: 200, G: 40, B: 160, A: 255}

// clip writes a tiny Y4M with a WAV beside it and returns its path.
func clip(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "clip.y4m")
	writeY4M(t, p, 32, 18, 12, 30, clipColour)
	writeWAV(t, filepath.Join(dir, "clip.wav"), 16000, 0.4)
	return p
}

func near(a, b uint8) bool { return int(a)-int(b) <= 12 && int(b)-int(a) <= 12 }

// A file given at start loads, joins the loop, plays, and its picture
// reaches the preview image.
func TestAddSegmentFromFile(t *testing.T) {
	path := clip(t, t.TempDir())
	h := newHarness(t, Options{Inputs: []string{path}, Loop: true})
	h.waitFor("the clip to load", func() bool { return len(h.c.list.rows) == 1 && h.c.list.rows[0].seg != nil })
	var detail string
	h.onUI(func() {
		segs := h.c.player.loop.Segments()
		if len(segs) != 1 || segs[0] != h.c.list.rows[0].seg {
			t.Fatalf("loop playlist = %v, want the loaded segment", segs)
		}
		view := newRowView(h.c.list)
		h.c.list.updateRow(0, view)
		detail = view.detail.Text
	})
	// The clip's own size, not the output's it was scaled to.
	for _, want := range []string{"32×18", "30 fps", "16000 Hz ×1", "MiB"} {
		if !strings.Contains(detail, want) {
			t.Errorf("row detail %q lacks %q", detail, want)
		}
	}
	h.waitFor("autoplay", func() bool { p := h.c.player.loop.Position(); return p.Playing && p.Segment == 0 })
	h.waitFor("the clip's colour in the preview", func() bool {
		img, ok := h.c.player.preview.pic.last, h.c.player.preview.pic.last != nil
		if !ok || img.Bounds().Dx() < 16 {
			return false
		}
		c := img.RGBAAt(img.Bounds().Dx()/2, img.Bounds().Dy()/2)
		return near(c.R, clipColour.R) && near(c.G, clipColour.G) && near(c.B, clipColour.B)
	})
	h.waitFor("the timecode label", func() bool { return strings.Contains(h.c.player.preview.label.Text, "frame ") })
}

// A broken file shows its error in its own row; the playlist and the loop
// are otherwise untouched.
func TestFailedLoadKeepsPlaylist(t *testing.T) {
	dir := t.TempDir()
	good := clip(t, dir)
	bad := filepath.Join(dir, "broken.wav")
	if err := os.WriteFile(bad, []byte("RIFF\x10\x00\x00\x00JUNKJUNK"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Options{Inputs: []string{good}})
	h.waitFor("the good clip", func() bool { return len(h.c.list.rows) == 1 && h.c.list.rows[0].seg != nil })
	var before *engine.Segment
	h.onUI(func() {
		before = h.c.list.rows[0].seg
		h.c.list.addPaths([]string{bad})
	})
	h.waitFor("the load to fail", func() bool { return len(h.c.list.rows) == 2 && h.c.list.rows[1].err != nil })
	h.onUI(func() {
		if h.c.list.rows[0].seg != before {
			t.Error("the good row changed")
		}
		if segs := h.c.player.loop.Segments(); len(segs) != 1 || segs[0] != before {
			t.Errorf("loop playlist = %d segments, want only the good one", len(segs))
		}
		view := newRowView(h.c.list)
		h.c.list.updateRow(1, view)
		play, errText := view.play, view.errTx
		if !errText.Visible() || !strings.Contains(errText.Text, "broken.wav") {
			t.Errorf("error label visible=%v text=%q, want it naming broken.wav", errText.Visible(), errText.Text)
		}
		if !play.Disabled() {
			t.Error("a failed row can be played")
		}
	})
	// A load cancelled from its row vanishes without touching the rest.
	big := filepath.Join(dir, "big.y4m")
	writeY4M(t, big, 320, 180, 300, 30, clipColour)
	h.onUI(func() {
		h.c.list.addPaths([]string{big})
		h.c.list.removeRow(2) // the row's button cancels a load in progress
	})
	h.waitFor("the cancelled row to go", func() bool { return len(h.c.list.rows) == 2 })
	if n := len(h.c.player.loop.Segments()); n != 1 {
		t.Errorf("loop has %d segments after a cancelled load, want 1", n)
	}
	// Removing the failed row leaves the good one.
	h.onUI(func() { h.c.list.removeRow(1) })
	h.onUI(func() {
		if len(h.c.list.rows) != 1 || len(h.c.player.loop.Segments()) != 1 {
			t.Errorf("after removing the failed row: %d rows, %d segments", len(h.c.list.rows), len(h.c.player.loop.Segments()))
		}
	})
}

// Buttons and keys drive the loop: play/pause, Space, arrows (a frame when
// paused, a second when playing), stop, next/previous, loop, Ctrl+O.
func TestTransportDrivesEngine(t *testing.T) {
	h := newHarness(t, Options{Pattern: true})
	h.onUI(func() {
		h.c.list.addSegment(pattern.New(h.c.player.format.W, h.c.player.format.H, h.c.player.format.Rate, pattern.DefaultLength))
	})
	pos := func() engine.Position { return h.c.player.loop.Position() }

	if !pos().Playing {
		t.Fatal("the pattern does not play at start")
	}
	h.tap(h.c.tr.play)
	if pos().Playing {
		t.Fatal("play/pause button: still playing")
	}
	h.tap(h.c.tr.play)
	if !pos().Playing {
		t.Fatal("play/pause button: not playing")
	}
	h.key(fyne.KeySpace)
	if pos().Playing {
		t.Fatal("Space: still playing")
	}
	if err := h.c.player.loop.Seek(0, time.Second); err != nil {
		t.Fatal(err)
	}
	frame := func(k int64) time.Duration { return time.Duration(engine.Rate30.FrameNS(k)) }
	h.key(fyne.KeyRight)
	if got := pos().Offset; got != frame(31) {
		t.Fatalf("→ when paused: offset %v, want frame 31 (%v)", got, frame(31))
	}
	h.key(fyne.KeyLeft)
	h.key(fyne.KeyLeft)
	if got := pos().Offset; got != frame(29) {
		t.Fatalf("←← when paused: offset %v, want frame 29 (%v)", got, frame(29))
	}
	h.key(fyne.KeySpace)
	if !pos().Playing {
		t.Fatal("Space: not playing again")
	}
	before := pos().Offset
	h.key(fyne.KeyRight)
	if d := pos().Offset - before; d < time.Second || d > 1500*time.Millisecond {
		t.Fatalf("→ when playing moved %v, want about 1 s", d)
	}
	h.onUI(func() { h.c.list.playRow(1) })
	if p := pos(); p.Segment != 1 || !p.Playing {
		t.Fatalf("play row 1: %+v", p)
	}
	h.tap(h.c.tr.prev)
	h.tap(h.c.tr.next)
	if p := pos(); p.Segment != 1 || p.Offset > 500*time.Millisecond {
		t.Fatalf("next: at segment %d offset %v, want start of 1", p.Segment, p.Offset)
	}
	h.tap(h.c.tr.prev)
	if p := pos(); p.Segment != 0 {
		t.Fatalf("prev: at segment %d, want 0", p.Segment)
	}
	wasLooping := pos().Looping
	h.tap(h.c.tr.loop)
	if pos().Looping == wasLooping {
		t.Fatalf("loop button: looping still %v", wasLooping)
	}
	h.key(fyne.KeyL)
	if pos().Looping != wasLooping || h.c.tr.looping != wasLooping {
		t.Fatalf("L: looping %v, button %v, want both back to %v", pos().Looping, h.c.tr.looping, wasLooping)
	}
	h.key(fyne.KeyPageDown)
	if p := pos(); p.Segment != 1 {
		t.Fatalf("Page Down: at segment %d, want 1", p.Segment)
	}
	h.key(fyne.KeyPageUp)
	if p := pos(); p.Segment != 0 {
		t.Fatalf("Page Up: at segment %d, want 0", p.Segment)
	}
	muted := h.c.tr.muted
	h.key(fyne.KeyM)
	if h.c.tr.muted == muted {
		t.Fatal("M: mute did not change")
	}
	h.key(fyne.KeyHome)
	if p := pos(); p.Segment != -1 || p.Playing {
		t.Fatalf("Home: %+v, want stopped", p)
	}
	h.tap(h.c.tr.play)
	h.tap(h.c.tr.stop)
	if p := pos(); p.Segment != -1 || p.Playing {
		t.Fatalf("stop: %+v, want stopped", p)
	}
	// A click in the middle of the seek bar lands mid-segment.
	h.onUI(func() {
		h.c.tr.seek.Resize(fyne.NewSize(200, 20))
		h.c.tr.seek.set(0, pattern.DefaultLength)
		h.c.tr.seek.Tapped(&fyne.PointEvent{Position: fyne.NewPos(100, 10)})
	})
	if p, mid := pos(), pattern.DefaultLength/2; p.Segment != 0 || p.Offset < mid-100*time.Millisecond || p.Offset > mid+100*time.Millisecond {
		t.Fatalf("seek to 0.5: %+v, want segment 0 at %v", p, mid)
	}
	// Ctrl+O opens the (stubbed) dialog and loads what it returns.
	h.picks <- clip(t, t.TempDir())
	h.shortcut(shortcutOpen())
	h.waitFor("Ctrl+O to add a row", func() bool { return len(h.c.list.rows) == 3 && h.c.list.rows[2].seg != nil })
	if n := len(h.c.player.loop.Segments()); n != 3 {
		t.Fatalf("loop has %d segments after Ctrl+O, want 3", n)
	}
}

// A malformed answer pasted for an offered viewer is an error on screen;
// the viewer stays open waiting for a good answer.
func TestMalformedAnswerKeepsViewer(t *testing.T) {
	h := newHarness(t, Options{})
	s := h.c.stream
	h.tap(s.addViewer)
	h.waitFor("the app's offer", func() bool { return s.pending != nil && s.offerOut != "" })
	var id string
	h.onUI(func() {
		id = s.pending.ID()
		s.answerIn.SetText("this is not an answer")
	})
	h.tap(s.connect)
	h.onUI(func() {
		if !strings.Contains(s.message.Text, "not accepted") {
			t.Errorf("message %q, want an error", s.message.Text)
		}
		if s.pending == nil || s.pending.ID() != id {
			t.Error("the viewer is no longer waiting for an answer")
		}
	})
	found := false
	for _, v := range s.sess.Viewers() {
		if v.ID == id {
			found = true
			if !v.State.Live() {
				t.Errorf("viewer %s state %s after a bad answer", id, v.State)
			}
		}
	}
	if !found {
		t.Errorf("viewer %s gone after a bad answer", id)
	}
	var closeBtn *widget.Button
	h.waitFor("the viewer list to show it", func() bool {
		_, closeBtn = viewerButtons(s, id)
		return closeBtn != nil && strings.Contains(s.viewers.rows[id].state.Text, id)
	})
	// A browser offer that is not one is refused with a message.
	h.onUI(func() { s.offerIn.SetText("garbage") })
	h.tap(s.answerBtn)
	h.waitFor("the offer error", func() bool { return strings.Contains(s.message.Text, "Offer not accepted") })
	// The viewer's Close button ends it.
	h.tap(closeBtn)
	h.waitFor("the viewer to close", func() bool {
		for _, v := range s.sess.Viewers() {
			if v.ID == id {
				return false
			}
		}
		return s.pending == nil && s.offerOut == ""
	})
}

// viewerButtons are viewer id's Drift… and close buttons in the list
// (nil while it has no row).
func viewerButtons(s *streamPanel, id string) (drift, closeBtn *widget.Button) {
	r := s.viewers.rows[id]
	if r == nil {
		return nil, nil
	}
	line := r.obj.(*fyne.Container).Objects[0].(*fyne.Container) // the first line, a Border
	buttons := line.Objects[2].(*fyne.Container)                 // Border: centre, left, right
	return buttons.Objects[0].(*widget.Button), buttons.Objects[1].(*widget.Button)
}

// The settings dialog opens over the window with every field.
func TestSettingsDialogOpens(t *testing.T) {
	h := newHarness(t, Options{})
	h.onUI(h.c.showSettings)
	h.onUI(func() {
		if n := len(h.c.win.Canvas().Overlays().List()); n != 1 {
			t.Errorf("%d overlays after Settings…, want the dialog", n)
		}
	})
}

// Files dropped on the window join the playlist; the menu carries the
// usual shortcuts.
func TestDropAndMenu(t *testing.T) {
	h := newHarness(t, Options{})
	path := clip(t, t.TempDir())
	h.onUI(func() { h.c.list.dropped(fyne.NewPos(10, 10), []fyne.URI{storage.NewFileURI(path)}) })
	h.waitFor("the dropped clip", func() bool {
		return len(h.c.list.rows) == 2 && h.c.list.rows[1].seg != nil && h.c.list.rows[1].seg.Source == path
	})
	want := map[string]string{"Add files…": shortcutOpen().ShortcutName(), "Quit": shortcutQuit().ShortcutName()}
	h.onUI(func() {
		for _, m := range h.c.win.MainMenu().Items {
			for _, it := range m.Items {
				if name, ok := want[it.Label]; ok {
					if it.Shortcut == nil || it.Shortcut.ShortcutName() != name {
						t.Errorf("menu item %q shortcut %v, want %s", it.Label, it.Shortcut, name)
					}
					delete(want, it.Label)
				}
			}
		}
	})
	if len(want) > 0 {
		t.Errorf("menu lacks %v", want)
	}
}

// The level meter follows the sound heard with the picture: up at the
// pattern's once-a-second beep, down in the silence between.
func TestLevelMeterFollowsSound(t *testing.T) {
	h := newHarness(t, Options{Pattern: true, Size: "320x180"})
	h.waitFor("playing", func() bool { return h.c.player.loop.Position().Playing })
	h.waitFor("the meter up at a beep", func() bool { return h.c.tr.level.level > 0.1 })
	h.waitFor("the meter down between beeps", func() bool { return h.c.tr.level.level < 0.01 })
	h.waitFor("the meter up at the next beep", func() bool { return h.c.tr.level.level > 0.1 })
}
