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

// WriteReport writes report.json holding the report (every row and the
// figures `segcast measure` promises, under their JSON names) and a PNG
// of it, and leaves no temporary file.
func TestWriteReportFiles(t *testing.T) {
	dir := t.TempDir()
	r := avsync.Summarise(rampRows(40))
	r.SendError = avsync.NewSendError([]float64{0.5, 1}, []float64{2, 3})
	if err := WriteReport(dir, r); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, ReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		t.Fatalf("report.json is not JSON: %v", err)
	}
	for _, k := range []string{"offset_ms", "drift_ms_per_min", "latency_ms", "freezes", "send_error_ms", "measurements"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("report.json lacks %q", k)
		}
	}
	var got avsync.Report
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("report.json does not decode as a report: %v", err)
	}
	if got.Offset != r.Offset || got.Latency != r.Latency || got.DriftMSPerMin != r.DriftMSPerMin ||
		got.Freezes != r.Freezes || got.SendError == nil || *got.SendError != *r.SendError || len(got.Measurements) != 40 {
		t.Errorf("report.json holds %+v, want %+v", got, r)
	}

	fh, err := os.Open(filepath.Join(dir, ReportPNG))
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
	svg, err := os.ReadFile(filepath.Join(dir, ReportSVG))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "time (s)"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("report.svg lacks %q", want)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.partial")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// A folder that is not there yet is made; a file in the way is an error
// naming it.
func TestWriteReportFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "folder")
	if err := WriteReport(dir, avsync.Summarise(rampRows(3))); err != nil {
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

// rampRows are n rows a second apart whose offset and latency rise by
// 1 ms a row.
func rampRows(n int) []avsync.Measurement {
	var ms []avsync.Measurement
	for i := range n {
		video, off := float64(i)*1000, float64(i)
		ms = append(ms, avsync.Measurement{
			FlashIndex: int64(i * 30), VideoMS: avsync.Opt(video), AudioMS: avsync.Opt(video + off),
			OffsetMS: avsync.Opt(off), LatencyMS: avsync.Opt(50 + off), AtMS: avsync.Opt(video),
			Stats: avsync.UnknownStats(),
		})
	}
	return ms
}
