package avsync

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// pixelAt is where data (x, y) of pn landed in a picture h pixels tall.
func pixelAt(pn *panel, h int, x, y float64) image.Point {
	trX, trY := pn.p.Transforms(&draw.Canvas{Rectangle: pn.data})
	toPx := func(l vg.Length) float64 { return float64(l) * pixelDPI / float64(vg.Inch) }
	return image.Pt(int(toPx(trX(x))), h-1-int(toPx(trY(y))))
}

// closeTo reports whether c is within tol of 0xRRGGBB want in each channel
// (lines are anti-aliased at their edges).
func closeTo(c image.Image, p image.Point, want uint32, tol int) bool {
	r, g, b, _ := c.At(p.X, p.Y).RGBA()
	w := rgb(want)
	d := func(a uint32, b uint8) bool { return math.Abs(float64(int(a>>8)-int(b))) <= float64(tol) }
	return d(r, w.R) && d(g, w.G) && d(b, w.B)
}

// hasColour reports whether any pixel of r is within tol of want.
func hasColour(img image.Image, r image.Rectangle, want uint32, tol int) bool {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if closeTo(img, image.Pt(x, y), want, tol) {
				return true
			}
		}
	}
	return false
}

// around is the square of side 2d+1 centred on p.
func around(p image.Point, d int) image.Rectangle {
	return image.Rect(p.X-d, p.Y-d, p.X+d+1, p.Y+d+1)
}

func TestRenderBandSeriesAndFreezes(t *testing.T) {
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
	const w, h = 800, 400
	img, panels := render(Summarise(ms), w, h, nil)
	if img.Bounds() != image.Rect(0, 0, w, h) {
		t.Fatalf("bounds %v", img.Bounds())
	}
	if len(panels) != 2 {
		t.Fatalf("%d panels, want offset and latency", len(panels))
	}
	off, lat := panels[0], panels[1]
	if off.data.Max.Y <= lat.data.Max.Y {
		t.Errorf("offset panel %v is not above the latency panel %v", off.data, lat.data)
	}
	if math.Abs(float64(off.data.Min.X-lat.data.Min.X)) > 0.5 || math.Abs(float64(off.data.Max.X-lat.data.Max.X)) > 0.5 {
		t.Errorf("time axes not lined up: offset %v, latency %v", off.data, lat.data)
	}
	const tx = 15.5 // between samples
	// Inside R37 (−40…+60) shaded, outside not. A grid line may cross a
	// pixel, so look at the 5×5 around it.
	for _, c := range []struct {
		ms     float64
		shaded bool
	}{{50, true}, {-30, true}, {70, false}, {-50, false}} {
		p := pixelAt(off, h, tx, c.ms)
		if got := hasColour(img, around(p, 2), colBand, 0); got != c.shaded {
			t.Errorf("%v ms (pixel %v, colour %v): shaded %v, want %v", c.ms, p, img.At(p.X, p.Y), got, c.shaded)
		}
	}
	// The band's edges are where the axis puts −40 and +60 (on a column
	// clear of the vertical grid).
	col := pixelAt(off, h, tx, 0).X
	for hasColour(img, image.Rect(col, 0, col+1, h), colGrid, 0) {
		col++
	}
	top, bottom := -1, -1
	for y := range h {
		if closeTo(img, image.Pt(col, y), colBand, 0) {
			if top < 0 {
				top = y
			}
			bottom = y
		}
	}
	if d := top - pixelAt(off, h, tx, BandLateMS).Y; d < -1 || d > 1 {
		t.Errorf("band top at y=%d, +60 ms at y=%d", top, pixelAt(off, h, tx, BandLateMS).Y)
	}
	if d := bottom - pixelAt(off, h, tx, BandEarlyMS).Y; d < -1 || d > 1 {
		t.Errorf("band bottom at y=%d, −40 ms at y=%d", bottom, pixelAt(off, h, tx, BandEarlyMS).Y)
	}
	// The offset series runs along 0 ms, the latency along 50 ms.
	if p := pixelAt(off, h, tx, 0); !hasColour(img, around(p, 1), colOffset, 24) {
		t.Errorf("no offset line at %v", p)
	}
	if p := pixelAt(lat, h, tx, 50); !hasColour(img, around(p, 1), colLatency, 24) {
		t.Errorf("no latency line at %v", p)
	}
	if p := pixelAt(off, h, tx, 50); hasColour(img, around(p, 3), colOffset, 60) {
		t.Errorf("offset colour at 50 ms (%v) where the series is not", p)
	}
	// Freeze markers: red on the column at t = 30 s in both panels, not at 20 s.
	for _, pn := range []*panel{off, lat} {
		column := func(ts float64) image.Rectangle {
			top, bottom := pixelAt(pn, h, ts, pn.p.Y.Max), pixelAt(pn, h, ts, pn.p.Y.Min)
			return image.Rect(top.X-1, top.Y+2, top.X+2, bottom.Y-2)
		}
		if !hasColour(img, column(30), colFreeze, 24) {
			t.Error("no freeze marker at 30 s")
		}
		if hasColour(img, column(20), colFreeze, 60) {
			t.Error("freeze marker at 20 s where none happened")
		}
	}
	// Tick labels: dark text left of the offset panel's data area.
	corner := pixelAt(off, h, off.p.X.Min, off.p.Y.Max)
	if !hasColour(img, image.Rect(0, corner.Y, corner.X-2, pixelAt(off, h, 0, off.p.Y.Min).Y), colText, 40) {
		t.Error("no tick labels left of the offset panel")
	}
}

func TestRenderWidensForOutliersAndEmpty(t *testing.T) {
	// An offset of 300 ms must still be on the plot, above the band; no
	// latency, so one panel.
	const w, h = 600, 400
	img, panels := render(Summarise([]Measurement{row(0, 0, 300), row(30, 1000, 300)}), w, h, nil)
	if len(panels) != 1 {
		t.Fatalf("%d panels, want the offset panel alone", len(panels))
	}
	off := panels[0]
	if y, band, plotTop := pixelAt(off, h, 0.5, 300).Y, pixelAt(off, h, 0.5, BandLateMS).Y, pixelAt(off, h, 0.5, off.p.Y.Max).Y; y <= plotTop || y >= band {
		t.Errorf("300 ms at y=%d, plot top %d, band top %d", y, plotTop, band)
	}
	if p := pixelAt(off, h, 0.5, 300); !hasColour(img, around(p, 1), colOffset, 24) {
		t.Errorf("no 300 ms line at %v", p)
	}
	// At the smallest size every panel keeps a data area, in order.
	lat := row(0, 0, 5)
	lat.LatencyMS = 60
	img, panels = render(Summarise([]Measurement{lat}), 1, 1, []SendSample{{AtS: 1, AudioP99: 1}})
	if b := img.Bounds(); len(panels) != 3 || b.Dx() != plotMinW || b.Dy() != plotMinH+3*panelMinH {
		t.Errorf("three panels at the smallest size: %d panels, %v", len(panels), b)
	}
	for i, pn := range panels {
		if hgt := pn.data.Max.Y - pn.data.Min.Y; hgt < vg.Points(20) {
			t.Errorf("panel %d data area %v tall", i, hgt)
		}
		if i > 0 && pn.data.Max.Y >= panels[i-1].data.Min.Y {
			t.Errorf("panel %d (%v) overlaps the one above (%v)", i, pn.data, panels[i-1].data)
		}
	}
	// No rows and silly sizes: clamped, still with the band.
	img, panels = render(Summarise(nil), 1, 1, nil)
	if img.Bounds().Dx() != plotMinW || img.Bounds().Dy() != plotMinH+panelMinH {
		t.Errorf("clamped size %v", img.Bounds())
	}
	if p := pixelAt(panels[0], plotMinH+panelMinH, 0.25, 10); !hasColour(img, around(p, 2), colBand, 0) {
		t.Errorf("empty plot: pixel %v is %v, want the band", p, img.At(p.X, p.Y))
	}
}

func TestRenderSendStrip(t *testing.T) {
	// 20 s of samples: audio p99 1 ms, video p99 4 ms, a late video
	// item counted at 10 s.
	var send []SendSample
	for i := range 41 {
		s := SendSample{AtS: float64(i) / 2, AudioP50: 0.5, AudioP99: 1, VideoP50: 2, VideoP99: 4}
		if i >= 20 {
			s.LateVideo = 1
		}
		send = append(send, s)
	}
	const w, h = 900, 600
	img, panels := render(Summarise(nil), w, h, send)
	if len(panels) != 2 {
		t.Fatalf("%d panels, want offset and send error", len(panels))
	}
	sp := panels[1]
	const tx = 4.25
	for _, c := range []struct {
		name string
		ms   float64
		col  uint32
	}{{"audio p99", 1, colSendAudio}, {"video p99", 4, colSendVideo}} {
		if p := pixelAt(sp, h, tx, c.ms); !hasColour(img, around(p, 1), c.col, 24) {
			t.Errorf("no %s line at %v", c.name, p)
		}
	}
	// The dashed p50 lines: somewhere along 2 ms in the video colour.
	y := pixelAt(sp, h, 0, 2).Y
	if !hasColour(img, image.Rect(pixelAt(sp, h, 1, 0).X, y-1, pixelAt(sp, h, 9, 0).X, y+2), colSendVideo, 24) {
		t.Error("no video p50 line at 2 ms")
	}
	late := pixelAt(sp, h, 10, (sp.p.Y.Min+sp.p.Y.Max)/2)
	if !hasColour(img, around(late, 1), colFreeze, 24) {
		t.Errorf("no late marker at 10 s (%v)", late)
	}
	if p := pixelAt(sp, h, 5, (sp.p.Y.Min+sp.p.Y.Max)/2); hasColour(img, around(p, 2), colFreeze, 60) {
		t.Errorf("late marker at 5 s (%v) where none was counted", p)
	}
}

func TestNiceTicks(t *testing.T) {
	var got []string
	for _, tk := range (niceTicks{n: 8}).Ticks(-60, 80) {
		got = append(got, tk.Label)
	}
	if s := strings.Join(got, " "); s != "−60 −40 −20 0 20 40 60 80" {
		t.Errorf("ticks %q", s)
	}
	got = got[:0]
	for _, tk := range (niceTicks{n: 4}).Ticks(-0.3, 0.35) {
		got = append(got, tk.Label)
	}
	if s := strings.Join(got, " "); s != "−0.2 0.0 0.2" {
		t.Errorf("ticks %q", s)
	}
	if ts := (niceTicks{n: 4}).Ticks(math.Inf(-1), 1); ts != nil {
		t.Errorf("ticks over an infinite range: %v", ts)
	}
	// Far from 0 a step is below float64's resolution: still ends.
	if ts := (niceTicks{n: 4}).Ticks(1e17, 1e17+100); len(ts) > 16 {
		t.Errorf("%d ticks at 1e17", len(ts))
	}
}

// The files: a PNG of the stated size, an SVG whose text is text; each
// writer names the path it could not write.
func TestWritePlotFiles(t *testing.T) {
	var ms []Measurement
	for i := range 30 {
		m := row(int64(i), float64(i)*1000, 5)
		m.LatencyMS = 70
		ms = append(ms, m)
	}
	r := Summarise(ms)
	dir := t.TempDir()
	for _, c := range []struct {
		name  string
		write func(string, Report) error
	}{{"report.png", WritePNG}, {"report.svg", WriteSVG}} {
		if err := c.write(filepath.Join(dir, c.name), r); err != nil {
			t.Fatal(err)
		}
		bad := filepath.Join(dir, "missing", c.name)
		if err := c.write(bad, r); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("error %v should name %s", err, bad)
		}
	}

	fh, err := os.Open(filepath.Join(dir, "report.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil || img.Bounds().Dx() != pngW || img.Bounds().Dy() != pngH {
		t.Fatalf("PNG %v, %v; want %dx%d", img, err, pngW, pngH)
	}
	if !hasColour(img, img.Bounds(), colOffset, 24) || !hasColour(img, img.Bounds(), colBand, 0) {
		t.Error("PNG lacks the offset series or the band")
	}

	svg, err := os.ReadFile(filepath.Join(dir, "report.svg"))
	if err != nil {
		t.Fatal(err)
	}
	texts := svgTexts(t, svg)
	for _, want := range []string{
		"A/V offset (audio − video): median 5.0 ms", "time (s)", "latency (ms)", "A/V offset (ms)",
		"EBU R37 band (−40 … +60 ms)", "freeze", "−40", "60",
	} {
		if !strings.Contains(texts, want) {
			t.Errorf("SVG text lacks %q", want)
		}
	}
}

// svgTexts is the SVG's <text> contents, one a line; it fails t if the
// SVG is not well-formed XML.
func svgTexts(t *testing.T, svg []byte) string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(svg))
	var b strings.Builder
	inText := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return b.String()
		}
		if err != nil {
			t.Fatalf("SVG is not XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			inText = tok.Name.Local == "text"
		case xml.EndElement:
			inText = false
		case xml.CharData:
			if inText {
				b.WriteString(string(tok) + "\n")
			}
		}
	}
}

// Rows and send timing with any numbers (a page can send huge or
// negative values) render without panicking, at the smallest size.
func FuzzRender(f *testing.F) {
	f.Add(10.0, 50.0, 1.0, 2.0, 1000.0)
	f.Add(-1e300, math.Inf(1), math.NaN(), -5.0, 0.0)
	f.Add(1e12, -1e12, 1e9, 1e-300, -1e15)
	f.Fuzz(func(t *testing.T, off, lat, p99, at, video float64) {
		var rows []Measurement
		for i := range 3 {
			m := row(int64(i), video*float64(i-1), off*float64(i))
			m.LatencyMS, m.Freezes = Opt(lat), Opt(i)
			rows = append(rows, m)
		}
		send := []SendSample{{AtS: at, AudioP99: p99, VideoP99: -p99}, {AtS: at + 1, AudioP50: p99, LateVideo: 1}}
		img, panels := render(Summarise(rows), 1, 1, send)
		if b := img.Bounds(); b.Dx() != plotMinW || b.Dy() != plotMinH+panelMinH*len(panels) {
			t.Fatalf("picture %v with %d panels", b.Size(), len(panels))
		}
	})
}
