package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"segcast/engine"
	"segcast/rtc"
	"segcast/rtc/measure/avsync"
)

// The output follows the first clip's frame rate by default ("match
// source"), and a portrait clip in a landscape output offers the portrait
// presets; taking one reloads the clip at the new size, the row still
// showing the clip's own size, and the play head comes back.
func TestMatchSourceAndPortraitPreset(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "portrait.y4m")
	writeY4M(t, p, 36, 64, 50, 25, clipColour)
	h := newHarness(t, Options{Inputs: []string{p}})
	h.waitFor("the clip", func() bool { return len(h.c.list.rows) == 1 && h.c.list.rows[0].seg != nil })
	h.waitFor("the 25 fps output", func() bool { return h.c.player.format.Rate == engine.Rate25 })
	h.onUI(func() {
		if !h.c.set.MatchFPS {
			t.Error("settings do not match the source by default")
		}
		if !h.c.output.banner.Visible() || !strings.Contains(h.c.output.note.Text, "portrait") {
			t.Errorf("no portrait offer (banner visible %v: %q)", h.c.output.banner.Visible(), h.c.output.note.Text)
		}
		h.c.player.loop.Pause()
		if err := h.c.player.loop.Seek(0, time.Second); err != nil {
			t.Fatal(err)
		}
		h.c.output.setSize(720, 1280)
	})
	h.waitFor("the clip reloaded at 720x1280", func() bool {
		r := h.c.list.rows[0]
		return r.seg != nil && r.seg.Width == 720 && r.seg.Height == 1280 && h.c.player.loop.Position().Segment == 0
	})
	h.onUI(func() {
		f := h.c.player.format
		if f.W != 720 || f.H != 1280 || f.Rate != engine.Rate25 {
			t.Errorf("format %+v, want 720x1280 at 25", f)
		}
		if h.c.output.banner.Visible() {
			t.Error("the offer stays after a choice")
		}
		pos := h.c.player.loop.Position()
		if pos.Offset != time.Second || pos.Playing {
			t.Errorf("play head %+v, want paused at 1 s as before", pos)
		}
		v := newRowView(h.c.list)
		h.c.list.updateRow(0, v)
		if !strings.Contains(v.detail.Text, "36×64") {
			t.Errorf("row %q: want the clip's own 36×64", v.detail.Text)
		}
		if got := loadSettings(h.c.app.Preferences()); got.Width != 720 || got.Height != 1280 {
			t.Errorf("saved output %dx%d", got.Width, got.Height)
		}
	})
}

// A preset applied while streaming keeps the viewer: the session starts
// a new timeline at the new size and keeps sending, with a keyframe.
func TestPresetWhileStreaming(t *testing.T) {
	h := newHarness(t, Options{Size: "320x180"})
	s := h.c.stream
	h.tap(s.addViewer)
	var offer string
	h.waitFor("the app's offer", func() bool { offer = s.offerOut; return offer != "" })
	answer, _ := pagePeerPC(t, offer, nil)
	h.onUI(func() { s.answerIn.SetText(answer) })
	h.tap(s.connect)
	h.waitFor("a connected viewer", func() bool { return s.connected() == 1 })
	before := s.sess.Stats()
	h.onUI(func() { h.c.output.setSize(180, 320) })
	h.waitFor("frames of the new format sent", func() bool {
		w, hh, _ := s.sess.Format()
		st := s.sess.Stats()
		return w == 180 && hh == 320 && st.Keyframes > before.Keyframes && st.VideoFramesSent > before.VideoFramesSent+30
	})
	h.onUI(func() {
		infos := s.sess.Viewers()
		if len(infos) != 1 || infos[0].State != rtc.ViewerConnected {
			t.Errorf("viewers after the change: %+v", infos)
		}
		if st := s.sess.Stats(); st.Dropped > before.Dropped+2 {
			t.Errorf("%d items dropped across the change", st.Dropped-before.Dropped)
		}
	})
}

// Counters count only while playing and are the same figures in every
// window: paused, nothing rises; the local sync view's "Preview dropped"
// is the status bar's.
func TestCountersQuietWhenPaused(t *testing.T) {
	h := newHarness(t, Options{})
	h.onUI(func() { h.c.player.loop.Pause() })
	// Frames handed over before the pause may still be on their way to
	// the screen on a busy machine: wait until none has come for 500 ms.
	for last, since := int64(-1), time.Now(); time.Since(since) < 500*time.Millisecond; time.Sleep(50 * time.Millisecond) {
		if n := h.c.player.preview.shown.Load(); n != last {
			last, since = n, time.Now()
		}
	}
	var ls0 engine.LoopStats
	var shown0, dropped0 int64
	h.onUI(func() {
		ls0 = h.c.player.loop.Stats()
		shown0, dropped0 = h.c.player.preview.shown.Load(), h.c.player.preview.dropped.Load()
	})
	time.Sleep(time.Second)
	h.onUI(func() {
		ls := h.c.player.loop.Stats()
		if ls.SkippedVideo != ls0.SkippedVideo || ls.LateAudio != ls0.LateAudio {
			t.Errorf("loop counters rose while paused: %+v → %+v", ls0, ls)
		}
		if n := h.c.player.preview.shown.Load(); n != shown0 {
			t.Errorf("the preview drew %d frames while paused", n-shown0)
		}
		if d := h.c.player.preview.dropped.Load(); d != dropped0 {
			t.Errorf("preview dropped rose by %d while paused", d-dropped0)
		}
		status := h.c.statusText(ls, 0)
		h.c.player.preview.dropped.Store(7)
		h.c.player.preview.local.setHeard(&aheadHeard{})
		h.c.player.preview.local.record(shownFrame{seq: 1, mediaNS: 1, dropped: h.c.player.preview.dropped.Load()})
		if r := summaryTexts(avsync.Summarise(h.c.player.preview.local.measurements())); r[6] != "7" ||
			!strings.Contains(h.c.statusText(ls, 0), "preview dropped 7") {
			t.Errorf("local sync says %q dropped, status bar %q", r[6], status)
		}
	})
}

// Saving the playlist and opening it again gives the same rows; the file
// lists under File → Open recent.
func TestPlaylistSaveAndOpen(t *testing.T) {
	dir := t.TempDir()
	clipPath := clip(t, dir)
	h := newHarness(t, Options{Pattern: true, Inputs: []string{clipPath}})
	h.waitFor("both rows", func() bool { return len(h.c.list.rows) == 2 && h.c.list.rows[1].seg != nil })
	list := filepath.Join(dir, "show.m3u8")
	h.picks <- list
	h.onUI(h.c.list.savePlaylist)
	h.waitFor("the file", func() bool { _, err := os.Stat(list); return err == nil })
	b, err := os.ReadFile(list)
	if err != nil || !strings.Contains(string(b), clipPath) || !strings.Contains(string(b), patternTag) {
		t.Fatalf("saved %q (%v)", b, err)
	}
	h.picks <- list
	h.onUI(h.c.list.openPlaylist)
	h.waitFor("four rows, all loaded", func() bool {
		if len(h.c.list.rows) != 4 {
			return false
		}
		for _, r := range h.c.list.rows {
			if r.seg == nil {
				return false
			}
		}
		return true
	})
	h.onUI(func() {
		if h.c.list.rows[2].path != "" || h.c.list.rows[3].path != clipPath {
			t.Errorf("opened rows: %q, %q", h.c.list.rows[2].path, h.c.list.rows[3].path)
		}
		recent := h.c.app.Preferences().StringList(prefRecent)
		if len(recent) < 2 || recent[0] != list {
			t.Errorf("recent files %v, want the playlist first", recent)
		}
		if n := len(h.c.list.recentMenu.ChildMenu.Items); n != len(recent) {
			t.Errorf("Open recent lists %d, want %d", n, len(recent))
		}
	})
}
