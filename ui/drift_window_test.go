package ui

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// windowTitled finds an open window of the app by title prefix.
func windowTitled(h *harness, prefix string) fyne.Window {
	for _, w := range h.c.app.Driver().AllWindows() {
		if strings.HasPrefix(w.Title(), prefix) {
			return w
		}
	}
	return nil
}

// The Sync menu's "Local sync…" opens a window whose summary follows the
// preview's log as frames are shown.
func TestLocalSyncWindow(t *testing.T) {
	dev := &heardAudio{fakeAudio: &fakeAudio{manualClock: newManualClock()}, ahead: 50 * time.Millisecond}
	h := newHarnessAudio(t, Options{}, dev)
	var item *fyne.MenuItem
	h.onUI(func() {
		for _, m := range h.c.win.MainMenu().Items {
			for _, it := range m.Items {
				if it.Label == "Local sync…" {
					item = it
				}
			}
		}
	})
	if item == nil {
		t.Fatal("no Local sync… menu item")
	}
	h.onUI(item.Action)
	var w fyne.Window
	h.waitFor("the Local sync window", func() bool { w = windowTitled(h, "Local sync"); return w != nil })
	for k := int64(0); k < 10; k++ {
		dev.Advance(time.Duration(h.c.player.format.Rate.FrameNS(k)) - dev.Now())
		h.waitFor("frame shown", func() bool {
			rows := h.c.player.preview.local.measurements()
			return len(rows) > 0 && rows[len(rows)-1].FlashIndex >= k
		})
	}
	v := findDriftLabels(t, h, w)
	h.waitFor("the summary to count the frames", func() bool {
		n, _ := strconv.Atoi(v.samples.Text)
		return n >= 10
	})
	h.onUI(func() {
		if v.median.Text != "-50.0 ms" {
			t.Errorf("median label %q, want -50.0 ms (audio 50 ms early)", v.median.Text)
		}
	})
}

// findDriftLabels returns the driftView whose content is w's.
func findDriftLabels(t *testing.T, h *harness, w fyne.Window) *driftView {
	t.Helper()
	var v *driftView
	h.onUI(func() {
		if p, ok := w.Content().(*driftPanel); ok {
			v = p.view
		}
	})
	if v == nil {
		t.Fatal("window holds no drift view")
	}
	return v
}

// Every viewer row has a Drift… button that opens that viewer's window.
func TestViewerDriftButton(t *testing.T) {
	h := newHarness(t, Options{})
	s := h.c.stream
	h.tap(s.addViewer)
	var id string
	h.waitFor("the app's offer", func() bool {
		if s.pending != nil {
			id = s.pending.ID()
		}
		return s.pending != nil && s.offerOut != ""
	})
	var btn *widget.Button
	h.waitFor("a Drift… button in the viewer list", func() bool {
		btn, _ = viewerButtons(s, id)
		return btn != nil && btn.Text == "Drift…"
	})
	h.tap(btn)
	h.waitFor("the viewer's drift window", func() bool { return windowTitled(h, "A/V drift – viewer "+id) != nil })
	v := findDriftLabels(t, h, windowTitled(h, "A/V drift – viewer "+id))
	h.onUI(func() {
		if v.samples.Text != "–" && v.samples.Text != "0" {
			t.Errorf("no viewer page measured, yet %s samples", v.samples.Text)
		}
	})
}
