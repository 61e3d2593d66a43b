package ui

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"segcast/rtc/measure/avsync"
)

// The export writes report.json with the keys `segcast measure` promises
// and every measurement, a PNG that decodes and an SVG with the summary.
func TestExportReportFiles(t *testing.T) {
	dir := t.TempDir()
	r := avsync.Summarise(knownRows())
	r.SendError = avsync.NewSendError([]float64{0.5, 1}, []float64{2, 3})
	if err := exportReport(dir, r); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("report.json is not JSON: %v", err)
	}
	obj := func(key string) map[string]any {
		m, ok := got[key].(map[string]any)
		if !ok {
			t.Fatalf("report.json %q is %T, want an object", key, got[key])
		}
		return m
	}
	off := obj("offset_ms")
	for key, want := range map[string]float64{"median": 6, "p95": 7.8, "max_abs": 8, "samples": 121} {
		if v, ok := off[key].(float64); !ok || v < want-1e-9 || v > want+1e-9 {
			t.Errorf("offset_ms.%s = %v, want %v", key, off[key], want)
		}
	}
	lat := obj("latency_ms")
	if lat["p50"] != 54.0 || lat["p95"] != 59.0 {
		t.Errorf("latency_ms = %v, want p50 54 p95 59", lat)
	}
	if d, ok := got["drift_ms_per_min"].(float64); !ok || d < 2-1e-9 || d > 2+1e-9 {
		t.Errorf("drift_ms_per_min = %v, want 2", got["drift_ms_per_min"])
	}
	if got["freezes"] != 2.0 {
		t.Errorf("freezes = %v, want 2", got["freezes"])
	}
	if rows, ok := got["measurements"].([]any); !ok || len(rows) != 121 {
		t.Errorf("measurements: %d rows, want 121", len(rows))
	}
	if se := obj("send_error_ms"); se["video_p50"] != 2.5 {
		t.Errorf("send_error_ms = %v, want video_p50 2.5", se)
	}

	fh, err := os.Open(filepath.Join(dir, "report.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatalf("report.png does not decode: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 560 {
		t.Errorf("report.png is %v, want 1200x560", b.Size())
	}
	svg, err := os.ReadFile(filepath.Join(dir, "report.svg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "median 6.0 ms", "time (s)"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("report.svg lacks %q", want)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.partial")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// A folder that is not there is an error naming it, and nothing is written.
func TestExportReportBadFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	err := exportReport(dir, avsync.Summarise(knownRows()))
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("export to a missing folder: %v, want an error naming %s", err, dir)
	}
	file := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := exportReport(file, avsync.Summarise(nil)); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Fatalf("export to a file: %v, want 'not a folder'", err)
	}
}

// The export button writes into the folder the picker returns and says so.
func TestDriftViewExportButton(t *testing.T) {
	dir := t.TempDir()
	done := make(chan struct{})
	v := newDriftView(fakeFeed{rows: knownRows()}, func(f func()) { f(); close(done) }, "Latency", "Freezes")
	v.pickDir = func() (string, error) { return dir, nil }
	v.exportClicked()
	<-done
	if !strings.Contains(v.note.Text, "121 measurements") {
		t.Errorf("note %q, want it to report 121 measurements", v.note.Text)
	}
	for _, name := range []string{"report.json", "report.png", "report.svg"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", name, err)
		}
	}
}
