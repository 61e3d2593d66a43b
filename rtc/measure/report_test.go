package measure

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"segcast/rtc/measure/avsync"
)

// WriteReport writes report.json with the keys `segcast measure` promises
// and every measurement, and a PNG that decodes.
func TestExportReportFiles(t *testing.T) {
	dir := t.TempDir()
	r := avsync.Summarise(knownRows())
	r.SendError = avsync.NewSendError([]float64{0.5, 1}, []float64{2, 3})
	if err := WriteReport(dir, r); err != nil {
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
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 500 {
		t.Errorf("report.png is %v, want 1200x500", b.Size())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.partial")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// A folder that is not there yet is made; a file in the way is an error
// naming it.
func TestWriteReportFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "folder")
	if err := WriteReport(dir, avsync.Summarise(knownRows())); err != nil {
		t.Fatalf("report into a new folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ReportJSON)); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteReport(file, avsync.Summarise(nil)); err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("report into a file: %v, want an error naming %s", err, file)
	}
}

// knownRows are 121 rows a second apart: offset 4 ms rising 2 ms a
// minute, latency 50–59 ms, two freezes.
func knownRows() []avsync.Measurement {
	var ms []avsync.Measurement
	for i := range 121 {
		video := float64(i) * 1000
		off := 4 + float64(i)/30
		freezes := 0.0
		switch {
		case i >= 90:
			freezes = 2
		case i >= 60:
			freezes = 1
		}
		st := avsync.UnknownStats()
		st.Freezes = avsync.Opt(freezes)
		ms = append(ms, avsync.Measurement{
			FlashIndex: int64(i * 30), VideoMS: avsync.Opt(video), AudioMS: avsync.Opt(video + off),
			OffsetMS: avsync.Opt(off), LatencyMS: avsync.Opt(50 + i%10), AtMS: avsync.Opt(video),
			Stats: st,
		})
	}
	return ms
}
