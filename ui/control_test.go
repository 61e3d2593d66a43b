package ui

import (
	"bytes"
	"encoding/json"
	"image/color"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var pushColour = color.RGBA{R: 30, G: 200, B: 60, A: 255}

// queueTexts renders every queue row as "name | detail" through the rows'
// own update.
func queueTexts(q *queueRows) []string {
	var out []string
	for i := range len(q.entries) + 1 {
		v := newQueueRowView(q)
		q.updateRow(i, v)
		out = append(out, v.name.Text+" | "+v.detail.Text)
	}
	return out
}

func hasRow(rows []string, prefix, detail string) bool {
	for _, r := range rows {
		if strings.HasPrefix(r, prefix) && strings.Contains(r, detail) {
			return true
		}
	}
	return false
}

// post sends body to the control API and returns the status and the
// decoded JSON answer.
func post(t *testing.T, method, url string, body []byte) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// The window's control API takes the calls `segcast serve` takes: a Y4M
// POSTed to the URL the section shows appears as a row, goes on air (its
// picture in the preview, its row marked, the playlist's not) and ends
// done; a wrong token is 404; bad media is refused and named on the red
// line; the idle row follows PUT idle and is on air after an interrupt.
func TestControlPushInWindow(t *testing.T) {
	h := newHarness(t, Options{Size: "320x180", FPS: "30"})
	var url string
	h.waitFor("the control URL", func() bool { url = h.c.stream.control.url.Text; return url != "" })
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.Contains(url, "/api/") {
		t.Fatalf("control URL %q: want loopback with /api/<token>/", url)
	}
	q := h.c.queue
	h.onUI(func() {
		if rows := queueTexts(q); len(rows) != 1 || !strings.HasPrefix(rows[0], "Idle: built-in card") {
			t.Fatalf("rows before any push: %q, want the built-in idle card's alone", rows)
		}
	})

	dir := t.TempDir()
	clipPath := filepath.Join(dir, "push.y4m")
	writeY4M(t, clipPath, 32, 18, 45, 30, pushColour) // 1.5 s
	y4m, err := os.ReadFile(clipPath)
	if err != nil {
		t.Fatal(err)
	}
	wrong := strings.Replace(url, "/api/", "/api/0", 1)
	if code, _ := post(t, "POST", wrong+"segments", y4m); code != http.StatusNotFound {
		t.Errorf("POST with a wrong token: %d, want 404", code)
	}
	code, ans := post(t, "POST", url+"segments?mode=now&name=green", y4m)
	if code != http.StatusCreated {
		t.Fatalf("POST segments: %d %v", code, ans)
	}
	id := uint64(ans["id"].(float64))

	h.waitFor("the pushed row on air", func() bool {
		return hasRow(queueTexts(q), "▶ green", "pushed") && h.c.list.playing == -1
	})
	h.waitFor("its picture in the preview", func() bool {
		img, ok := h.c.player.preview.pic.last, h.c.player.preview.pic.last != nil
		if !ok || img.Bounds().Dx() < 16 {
			return false
		}
		c := img.RGBAAt(img.Bounds().Dx()/2, img.Bounds().Dy()/2)
		return near(c.R, pushColour.R) && near(c.G, pushColour.G) && near(c.B, pushColour.B)
	})
	h.waitFor("the row done", func() bool { return hasRow(queueTexts(q), "green", "· done ·") })
	h.onUI(func() {
		if es := q.entries; len(es) != 1 || uint64(es[0].ID) != id {
			t.Errorf("rows' entries %+v, want the one pushed (id %d)", es, id)
		}
	})

	// Bad media: 400/415, named on the control section's red line.
	if code, _ := post(t, "POST", url+"segments?name=junk", []byte("not media at all")); code/100 != 4 {
		t.Errorf("POST junk: %d, want a 4xx", code)
	}
	h.waitFor("the refused push on the red line", func() bool {
		p := h.c.stream.control.problem
		return p.Visible() && strings.Contains(p.Text, "junk")
	})

	// PUT idle names the idle row; an interrupt stops the playlist and
	// puts it on air.
	if code, ans := post(t, "PUT", url+"idle?name=breathing", y4m); code != http.StatusOK {
		t.Fatalf("PUT idle: %d %v", code, ans)
	}
	if code, _ := post(t, "POST", url+"interrupt?clear=1", nil); code != http.StatusNoContent {
		t.Fatalf("POST interrupt: %d", code)
	}
	h.waitFor("the idle clip's row on air", func() bool { return hasRow(queueTexts(q), "▶ Idle: breathing", "looped") })
	if code, _ := post(t, "DELETE", url+"idle", nil); code != http.StatusNoContent {
		t.Fatalf("DELETE idle: %d", code)
	}
	h.waitFor("the built-in card's row back", func() bool { return hasRow(queueTexts(q), "▶ Idle: built-in card", "") })

	// Quiet when nothing changes: no rebuild of the rows.
	var builds int
	h.onUI(func() { builds = q.builds })
	time.Sleep(time.Second)
	h.onUI(func() {
		if q.builds != builds {
			t.Errorf("the rows were rebuilt %d times while nothing changed", q.builds-builds)
		}
	})
}

// --watch: a file that appears in the folder is queued and shows as a
// watched row; a broken one is named on the red line, not in a dialog.
func TestControlWatchInWindow(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, Options{Size: "320x180", FPS: "30", Watch: dir})
	h.waitFor("the watched folder named", func() bool {
		w := h.c.stream.control.watch
		return w.Visible() && strings.Contains(w.Text, dir)
	})
	h.onUI(func() { h.c.player.loop.Stop() }) // the idle card on air: a queued file plays at once
	tmp := filepath.Join(t.TempDir(), "x.y4m")
	writeY4M(t, tmp, 32, 18, 15, 30, pushColour)
	if err := os.Rename(tmp, filepath.Join(dir, "arrived.y4m")); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the watched row", func() bool { return hasRow(queueTexts(h.c.queue), "arrived", "watched") })
	if err := os.WriteFile(filepath.Join(dir, "broken.wav"), []byte("RIFF not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the broken file on the red line", func() bool {
		p := h.c.stream.control.problem
		return p.Visible() && strings.Contains(p.Text, "broken.wav")
	})
}

// A new output format is a new loop: the control API moves to it with the
// same URL, and a push then plays on the loop on air.
func TestControlFollowsNewFormat(t *testing.T) {
	h := newHarness(t, Options{Size: "320x180", FPS: "30"})
	var url string
	h.waitFor("the control URL", func() bool { url = h.c.stream.control.url.Text; return url != "" })
	h.onUI(func() {
		f := h.c.player.format
		f.W, f.H = 256, 144
		h.c.applyFormat(f)
	})
	h.waitFor("the new loop", func() bool { return h.c.api.currentLoop() == h.c.player.loop && h.c.player.format.W == 256 })
	p := filepath.Join(t.TempDir(), "x.y4m")
	writeY4M(t, p, 32, 18, 15, 30, pushColour)
	y4m, _ := os.ReadFile(p)
	if code, ans := post(t, "POST", url+"segments?mode=now&name=after", y4m); code != http.StatusCreated {
		t.Fatalf("POST after the new format: %d %v", code, ans)
	}
	h.waitFor("the row done on the new loop", func() bool { return hasRow(queueTexts(h.c.queue), "after", "· done ·") })
	h.onUI(func() {
		if got := h.c.stream.control.url.Text; got != url {
			t.Errorf("URL %q after the new format, want %q", got, url)
		}
		if _, ok := h.c.player.loop.Entry(1); !ok {
			t.Error("the push is not on the loop on air")
		}
	})
}
