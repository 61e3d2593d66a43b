package avsync

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rgbaAt is the pixel as a 0xRRGGBB colour constant.
func rgbaAt(img *image.RGBA, x, y int) uint32 {
	c := img.RGBAAt(x, y)
	return uint32(c.R)<<16 | uint32(c.G)<<8 | uint32(c.B)
}

func TestPlotBandSeriesAndFreezes(t *testing.T) {
	// 60 s at 0 ms offset with latency 50 ms, a freeze at 30 s.
	var ms []Measurement
	for i := range 61 {
		m := row(int64(i*30), 2000+float64(i)*1000, 0)
		m.LatencyMS = 50
		m.Freezes = 0
		if i >= 30 {
			m.Freezes = 1
		}
		ms = append(ms, m)
	}
	r := Summarise(ms)
	const w, h = 800, 400
	img := Plot(r, w, h)
	if img.Bounds() != image.Rect(0, 0, w, h) {
		t.Fatalf("bounds %v", img.Bounds())
	}
	f := newPlotFrame(r, w, h)
	x := f.x(15.5) // between samples and grid lines
	for _, tc := range []struct {
		ms   float64
		want uint32
	}{
		{50, colBand}, {-30, colBand}, {-39, colBand}, {59, colBand}, // inside R37
		{70, colBackground}, {-50, colBackground}, {-41, colBackground}, {61, colBackground},
	} {
		if got := rgbaAt(img, x, f.yOff(tc.ms)); got != tc.want {
			t.Errorf("pixel at offset %v ms = %v, want %v", tc.ms, got, tc.want)
		}
	}
	// The band's edges are where the data axis says: ±1 px of −40 and +60.
	if top, bottom := f.yOff(BandLateMS), f.yOff(BandEarlyMS); bottom-top < 50 {
		t.Errorf("band only %d px tall", bottom-top)
	}
	// The offset series runs along 0 ms and the latency along 50 ms (right axis).
	if got := rgbaAt(img, x, f.yOff(0)); got != colOffset {
		t.Errorf("offset line pixel = %v, want %v", got, colOffset)
	}
	if got := rgbaAt(img, x, f.yLat(50)); got != colLatency {
		t.Errorf("latency line pixel = %v, want %v", got, colLatency)
	}
	// The freeze marker: red somewhere on the column at t = 30 s, not at 20 s.
	if !columnHas(img, f.x(30), f.area, colFreeze) {
		t.Error("no freeze marker at 30 s")
	}
	if columnHas(img, f.x(20), f.area, colFreeze) {
		t.Error("freeze marker at 20 s where none happened")
	}
	// Tick labels: axis-coloured text left of the plot area.
	if !regionHas(img, image.Rect(0, f.area.Min.Y, f.area.Min.X-2, f.area.Max.Y), colAxis) {
		t.Error("no tick labels left of the plot")
	}
}

func columnHas(img *image.RGBA, x int, a image.Rectangle, c uint32) bool {
	return regionHas(img, image.Rect(x, a.Min.Y+1, x+1, a.Max.Y-1), c)
}

func regionHas(img *image.RGBA, r image.Rectangle, c uint32) bool {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if rgbaAt(img, x, y) == c {
				return true
			}
		}
	}
	return false
}

func TestPlotWidensForOutliersAndEmpty(t *testing.T) {
	// An offset of 300 ms must still be on the plot, above the band.
	r := Summarise([]Measurement{row(0, 0, 300), row(30, 1000, 300)})
	img := Plot(r, 600, 300)
	f := newPlotFrame(r, 600, 300)
	if y := f.yOff(300); y <= f.area.Min.Y || y >= f.yOff(BandLateMS) {
		t.Errorf("300 ms at y=%d, plot top %d, band top %d", y, f.area.Min.Y, f.yOff(BandLateMS))
	}
	if got := rgbaAt(img, f.x(0.5), f.yOff(300)); got != colOffset {
		t.Errorf("pixel of the 300 ms line = %v", got)
	}
	// No rows and silly sizes: still a labelled plot with the band.
	img = Plot(Summarise(nil), 1, 1)
	if img.Bounds().Dx() != plotMinW || img.Bounds().Dy() != plotMinH {
		t.Errorf("clamped size %v", img.Bounds())
	}
	f = newPlotFrame(Summarise(nil), plotMinW, plotMinH)
	if got := rgbaAt(img, f.x(0.5), f.yOff(10)); got != colBand {
		t.Errorf("empty plot band pixel = %v", got)
	}
}

func TestWritePNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.png")
	if err := WritePNG(path, Summarise([]Measurement{row(0, 0, 5)})); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	cfg, err := png.DecodeConfig(fh)
	if err != nil || cfg.Width != pngW || cfg.Height != pngH {
		t.Errorf("PNG %dx%d, %v", cfg.Width, cfg.Height, err)
	}
	bad := filepath.Join(t.TempDir(), "missing", "report.png")
	if err := WritePNG(bad, Report{}); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("error %v should name %s", err, bad)
	}
}
