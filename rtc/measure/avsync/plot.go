package avsync

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// EBU R37: audio may lead video by at most 40 ms and lag by at most 60 ms.
// With offset = audio − video (audio late positive) that is this band.
const (
	BandEarlyMS = -40.0
	BandLateMS  = 60.0
)

// Plot colours as 0xRRGGBB constants (no package-level variables), chosen
// to stay apart for colour-blind readers; rgb turns them into colours.
const (
	colBackground = 0xffffff
	colBand       = 0xd6eed6
	colGrid       = 0xe1e1e1
	colAxis       = 0x282828
	colOffset     = 0x1f5fd0
	colLatency    = 0xe68010
	colFreeze     = 0xd21e1e
)

func rgb(c uint32) color.RGBA { return color.RGBA{uint8(c >> 16), uint8(c >> 8), uint8(c), 255} }

const (
	plotMinW, plotMinH = 240, 160
	plotMaxSide        = 8192
	// Margins hold tick labels (left: offset, right: latency), the legend
	// (top) and the time axis (bottom).
	marginLeft, marginRight, marginTop, marginBottom = 58, 58, 26, 34
)

// plotFrame maps data to pixels: time in seconds from the first flash,
// offset and latency in ms on the left and right axes.
type plotFrame struct {
	area           image.Rectangle
	t0, t1         float64
	off0, off1     float64
	lat0, lat1     float64
	hasLat         bool
	tStart         float64 // VideoMS of time 0
	offStep, tStep float64
	latStep        float64
}

func (f plotFrame) x(t float64) int {
	return f.area.Min.X + int(math.Round((t-f.t0)/(f.t1-f.t0)*float64(f.area.Dx()-1)))
}

func (f plotFrame) yOff(ms float64) int {
	return f.area.Max.Y - 1 - int(math.Round((ms-f.off0)/(f.off1-f.off0)*float64(f.area.Dy()-1)))
}

func (f plotFrame) yLat(ms float64) int {
	return f.area.Max.Y - 1 - int(math.Round((ms-f.lat0)/(f.lat1-f.lat0)*float64(f.area.Dy()-1)))
}

// tOf is the plot time of a row, in seconds.
func (f plotFrame) tOf(m Measurement) float64 { return (float64(m.VideoMS) - f.tStart) / 1000 }

func newPlotFrame(r Report, w, h int) plotFrame {
	f := plotFrame{area: image.Rect(marginLeft, marginTop, w-marginRight, h-marginBottom)}
	f.tStart = math.Inf(1)
	tEnd := math.Inf(-1)
	offLo, offHi := BandEarlyMS-20, BandLateMS+20 // the band always shows, with room outside it
	latHi := 100.0
	for _, m := range r.Measurements {
		if !m.VideoMS.Known() {
			continue
		}
		f.tStart = min(f.tStart, float64(m.VideoMS))
		tEnd = max(tEnd, float64(m.VideoMS))
		if m.OffsetMS.Known() {
			offLo, offHi = min(offLo, float64(m.OffsetMS)-10), max(offHi, float64(m.OffsetMS)+10)
		}
		if m.LatencyMS.Known() {
			f.hasLat = true
			latHi = max(latHi, float64(m.LatencyMS)*1.1)
		}
	}
	if math.IsInf(f.tStart, 1) {
		f.tStart, tEnd = 0, 0
	}
	f.t0, f.t1 = 0, max((tEnd-f.tStart)/1000, 1)
	f.tStep = niceStep(f.t1, 8)
	f.t1 = math.Ceil(f.t1/f.tStep) * f.tStep
	f.offStep = niceStep(offHi-offLo, 8)
	f.off0, f.off1 = math.Floor(offLo/f.offStep)*f.offStep, math.Ceil(offHi/f.offStep)*f.offStep
	f.latStep = niceStep(latHi, 8)
	f.lat0, f.lat1 = 0, math.Ceil(latHi/f.latStep)*f.latStep
	return f
}

// niceStep is a 1, 2 or 5 × 10ⁿ step giving at most about n ticks on span.
func niceStep(span float64, n int) float64 {
	if !(span > 0) || math.IsInf(span, 0) {
		return 1
	}
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// Plot draws the run over time: the EBU R37 band shaded, the offset per
// flash (left axis), latency (right axis), a red line where the freeze
// count rose, tick labels and a legend. Sizes are clamped to
// [240×160, 8192×8192].
func Plot(r Report, w, h int) *image.RGBA {
	w, h = min(max(w, plotMinW), plotMaxSide), min(max(h, plotMinH), plotMaxSide)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(rgb(colBackground)), image.Point{}, draw.Src)
	f := newPlotFrame(r, w, h)
	a := f.area

	band := image.Rect(a.Min.X, f.yOff(BandLateMS), a.Max.X, f.yOff(BandEarlyMS)+1).Intersect(a)
	draw.Draw(img, band, image.NewUniform(rgb(colBand)), image.Point{}, draw.Src)

	// Grid and tick labels.
	for v := f.off0; v <= f.off1+f.offStep/2; v += f.offStep {
		y := f.yOff(v)
		if v != 0 {
			hline(img, a.Min.X, a.Max.X, y, colGrid)
		}
		label(img, fmtTick(v), a.Min.X-4, y, alignRight, colAxis)
	}
	hline(img, a.Min.X, a.Max.X, f.yOff(0), colAxis)
	for t := f.t0; t <= f.t1+f.tStep/2; t += f.tStep {
		x := f.x(t)
		vline(img, x, a.Min.Y, a.Max.Y, colGrid)
		label(img, fmtTick(t), x, a.Max.Y+10, alignCentre, colAxis)
	}
	label(img, "time (s)", a.Min.X+a.Dx()/2, h-6, alignCentre, colAxis)
	label(img, "A/V offset ms (+ = audio late)", a.Min.X, marginTop-16, alignLeft, colOffset)
	if f.hasLat {
		for v := f.lat0; v <= f.lat1+f.latStep/2; v += f.latStep {
			label(img, fmtTick(v), a.Max.X+4, f.yLat(v), alignLeft, colLatency)
		}
	}
	drawLegend(img, a.Max.X, marginTop-16, f.hasLat)

	// Freeze markers where the cumulative count rose.
	lastFreezes := 0.0
	for _, m := range r.Measurements {
		if !m.Freezes.Known() || !m.VideoMS.Known() {
			continue
		}
		if float64(m.Freezes) > lastFreezes {
			dashedVLine(img, f.x(f.tOf(m)), a.Min.Y, a.Max.Y, colFreeze)
		}
		lastFreezes = float64(m.Freezes)
	}

	series(img, f, r.Measurements, colLatency, func(m Measurement) (float64, bool) {
		return float64(m.LatencyMS), m.LatencyMS.Known()
	}, f.yLat)
	series(img, f, r.Measurements, colOffset, func(m Measurement) (float64, bool) {
		return float64(m.OffsetMS), m.OffsetMS.Known()
	}, f.yOff)

	// Axes frame last, on top.
	hline(img, a.Min.X, a.Max.X, a.Max.Y-1, colAxis)
	hline(img, a.Min.X, a.Max.X, a.Min.Y, colAxis)
	vline(img, a.Min.X, a.Min.Y, a.Max.Y, colAxis)
	vline(img, a.Max.X-1, a.Min.Y, a.Max.Y, colAxis)
	return img
}

// series draws one value per row joined by lines, with a dot per sample.
func series(img *image.RGBA, f plotFrame, ms []Measurement, c uint32,
	val func(Measurement) (float64, bool), y func(float64) int) {
	havePrev := false
	var px, py int
	for _, m := range ms {
		v, ok := val(m)
		if !ok || !m.VideoMS.Known() {
			continue
		}
		x, yy := f.x(f.tOf(m)), y(v)
		if havePrev {
			line(img, f.area, px, py, x, yy, c)
		}
		fillRect(img, image.Rect(x-1, yy-1, x+2, yy+2).Intersect(f.area), c)
		px, py, havePrev = x, yy, true
	}
}

func drawLegend(img *image.RGBA, right, y int, hasLat bool) {
	type entry struct {
		name string
		c    uint32
	}
	entries := []entry{{"EBU R37 band", colBand}, {"offset", colOffset}}
	if hasLat {
		entries = append(entries, entry{"latency (right)", colLatency})
	}
	entries = append(entries, entry{"freeze", colFreeze})
	x := right
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		x -= textWidth(e.name)
		label(img, e.name, x, y, alignLeft, colAxis)
		x -= 14
		fillRect(img, image.Rect(x, y-5, x+10, y+5), e.c)
		x -= 10
	}
}

func fmtTick(v float64) string {
	if math.Abs(v) < 1e-9 {
		return "0"
	}
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%g", math.Round(v*1000)/1000)
}

type align int

const (
	alignLeft align = iota
	alignCentre
	alignRight
)

func textWidth(s string) int { return font.MeasureString(basicfont.Face7x13, s).Ceil() }

// label draws s with its vertical middle at y.
func label(img *image.RGBA, s string, x, y int, al align, c uint32) {
	face := basicfont.Face7x13
	switch al {
	case alignCentre:
		x -= textWidth(s) / 2
	case alignRight:
		x -= textWidth(s)
	}
	d := font.Drawer{Dst: img, Src: image.NewUniform(rgb(c)), Face: face,
		Dot: fixed.P(x, y+face.Ascent-face.Height/2)}
	d.DrawString(s)
}

// fillRect sets r (clipped) to c; pixel by pixel, as most calls are one
// or two pixels of a line and draw.Draw would allocate a Uniform each.
func fillRect(img *image.RGBA, r image.Rectangle, c uint32) {
	r = r.Intersect(img.Rect)
	col := rgb(c)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, col)
		}
	}
}

func hline(img *image.RGBA, x0, x1, y int, c uint32) {
	fillRect(img, image.Rect(x0, y, x1, y+1), c)
}

func vline(img *image.RGBA, x, y0, y1 int, c uint32) {
	fillRect(img, image.Rect(x, y0, x+1, y1), c)
}

func dashedVLine(img *image.RGBA, x, y0, y1 int, c uint32) {
	for y := y0; y < y1; y += 6 {
		fillRect(img, image.Rect(x, y, x+1, min(y+4, y1)), c)
	}
}

// line is Bresenham's, two pixels thick, clipped to clip.
func line(img *image.RGBA, clip image.Rectangle, x0, y0, x1, y1 int, c uint32) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for {
		fillRect(img, image.Rect(x0, y0, x0+2, y0+2).Intersect(clip), c)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int { return max(v, -v) }

func sign(v int) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}

// Default size of the exported PNG.
const pngW, pngH = 1200, 500

// WritePNG writes Plot(r) at 1200×500 to path.
func WritePNG(path string, r Report) error {
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write plot %s: %w", path, err)
	}
	bw := bufio.NewWriter(fh)
	err = png.Encode(bw, Plot(r, pngW, pngH))
	if err == nil {
		err = bw.Flush()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write plot %s: %w", path, err)
	}
	return nil
}
