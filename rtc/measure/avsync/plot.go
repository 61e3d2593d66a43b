package avsync

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// EBU R37: audio may lead video by at most 40 ms and lag by at most 60 ms.
// With offset = audio − video (audio late positive) that is this band.
const (
	BandEarlyMS = -40.0
	BandLateMS  = 60.0
)

// SendSample is the sender's timing as a live view samples it: the
// send-time error (actual write − deadline) percentiles over the recent
// items, and the cumulative late-item counters.
type SendSample struct {
	AtS                  float64 // seconds since sampling began
	AudioP50, AudioP99   float64 // ms
	VideoP50, VideoP99   float64 // ms
	LateAudio, LateVideo int64
}

// Plot colours as 0xRRGGBB constants (no package-level variables), chosen
// to stay apart for colour-blind readers; rgb turns them into colours.
const (
	colBackground = 0xffffff
	colBand       = 0xd6eed6
	colGrid       = 0xdcdcdc
	colText       = 0x202020
	colZero       = 0x808080
	colOffset     = 0x1f5fd0
	colLatency    = 0xe68010
	colFreeze     = 0xd21e1e
	colSendAudio  = 0x2a9d4a
	colSendVideo  = 0x8e44ad
)

func rgb(c uint32) color.RGBA { return color.RGBA{uint8(c >> 16), uint8(c >> 8), uint8(c), 255} }

// Pixel sizes: Render clamps to these (the least height leaves each
// panel a data area under the title and legends), and the files are
// drawn at pngW×pngH pixels (the SVG at the same size at pixelDPI).
const (
	plotMinW, plotMinH = 480, 160
	panelMinH          = 110
	plotMaxSide        = 8192
	pngW, pngH         = 1200, 560
	pixelDPI           = vgimg.DefaultDPI
)

// pixels is n pixels as a length at pixelDPI.
func pixels(n int) vg.Length { return vg.Length(n) * vg.Inch / pixelDPI }

// Render draws the report at w×h pixels (at least 480 wide and 160 +
// 110 per panel tall, at most 8192 each way): the summary as title, the offset per flash over time with
// the EBU R37 band shaded, latency in a panel below it (when any row has
// one), freezes as dashed red lines, and, when send is not empty, a
// panel of the sender's send-time error over its own time axis.
func Render(r Report, w, h int, send []SendSample) *image.RGBA {
	img, _ := render(r, w, h, send)
	return img
}

// render is Render, also returning the panels as drawn (tests map data
// to pixels with them).
func render(r Report, w, h int, send []SendSample) (*image.RGBA, []*panel) {
	panels := newPanels(r, send)
	w = min(max(w, plotMinW), plotMaxSide)
	h = min(max(h, plotMinH+panelMinH*len(panels)), plotMaxSide)
	c := vgimg.NewWith(vgimg.UseWH(pixels(w), pixels(h)), vgimg.UseDPI(pixelDPI))
	figure(draw.New(c), r, panels)
	return c.Image().(*image.RGBA), panels
}

// WritePNG writes the report's plot (Render without send strip) at
// 1200×560 pixels to path.
func WritePNG(path string, r Report) error {
	return writeFile(path, func(w io.Writer) error { return png.Encode(w, Render(r, pngW, pngH, nil)) })
}

// WriteSVG writes the plot WritePNG draws as SVG to path: text as text,
// in the font embedded (≈ 0.6 MB) so that it reads the same everywhere.
func WriteSVG(path string, r Report) error {
	c := vgsvg.NewWith(vgsvg.UseWH(pixels(pngW), pixels(pngH)), vgsvg.EmbedFonts(true))
	figure(draw.New(c), r, newPanels(r, nil))
	return writeFile(path, func(w io.Writer) error {
		_, err := c.WriteTo(w)
		return err
	})
}

// No PDF: gonum's vgpdf writes text as cp1252 bytes, which has no "−"
// and garbles every other non-ASCII character of the labels.

// writeFile creates path and has write fill it, buffered.
func writeFile(path string, write func(io.Writer) error) error {
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write plot %s: %w", path, err)
	}
	bw := bufio.NewWriter(fh)
	err = write(bw)
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

// panel is one plot of the figure, stacked top to bottom.
type panel struct {
	p      *plot.Plot
	legend []legendItem // drawn in a row above the plot
	weight float64      // share of the figure's height
	data   vg.Rectangle // the data area, once drawn
	// unlabelledX: the panel below names the shared time axis.
	unlabelledX bool
}

// figure draws the whole picture onto c: the title, then the panels.
func figure(c draw.Canvas, r Report, panels []*panel) {
	c.SetColor(rgb(colBackground))
	c.Fill(c.Rectangle.Path())
	c = draw.Crop(c, pad, -pad, pad, -pad)
	title := textStyle(titleSize)
	title.XAlign, title.YAlign = draw.XCenter, draw.YTop
	txt := wrap(title, titleParts(r), c.Max.X-c.Min.X)
	c.FillText(title, vg.Point{X: c.Center().X, Y: c.Max.Y}, txt)
	c.Max.Y -= title.Height(txt) + pad
	stack(c, panels)
}

// newPanels are the figure's plots: offset, latency when any row has
// one, send error when send is not empty.
func newPanels(r Report, send []SendSample) []*panel {
	tl := newTimeline(r.Measurements)
	freezes := markers{xs: tl.freezes(r.Measurements), style: dashed(colFreeze)}
	panels := []*panel{offsetPanel(r, tl, freezes)}
	if lat := tl.series(r.Measurements, func(m Measurement) Opt { return m.LatencyMS }); len(lat) > 0 {
		panels = append(panels, latencyPanel(lat, tl, freezes))
		// The panels share the time axis: named only at the bottom.
		panels[0].p.X.Label.Text = ""
		panels[0].unlabelledX = true
	}
	if len(send) > 0 {
		panels = append(panels, sendPanel(send))
	}
	return panels
}

// titleParts is the report's summary: offset figures, then latency,
// freezes and send error, as phrases to wrap between.
func titleParts(r Report) [][]string {
	second := []string{
		"latency p50 " + fmtOpt(r.Latency.P50, 1) + " ms", "p95 " + fmtOpt(r.Latency.P95, 1) + " ms",
		fmt.Sprintf("freezes %d", r.Freezes),
	}
	if e := r.SendError; e != nil {
		second = append(second, fmt.Sprintf("send error p50/p99 audio %s/%s ms, video %s/%s ms",
			fmtOpt(e.AudioP50, 2), fmtOpt(e.AudioP99, 2), fmtOpt(e.VideoP50, 2), fmtOpt(e.VideoP99, 2)))
	}
	return [][]string{{
		"A/V offset (audio − video): median " + fmtOpt(r.Offset.Median, 1) + " ms",
		"p95 |offset| " + fmtOpt(r.Offset.P95, 1) + " ms", "max |offset| " + fmtOpt(r.Offset.MaxAbs, 1) + " ms",
		"drift " + fmtOpt(r.DriftMSPerMin, 2) + " ms/min", fmt.Sprintf("%d samples", r.Offset.Samples),
	}, second}
}

// wrap joins each group's phrases with " · " on lines no wider than
// width (a phrase wider than that stands alone), groups on lines of
// their own.
func wrap(sty text.Style, groups [][]string, width vg.Length) string {
	var b strings.Builder
	for _, g := range groups {
		line := ""
		for _, ph := range g {
			switch {
			case line == "":
				line = ph
			case sty.Width(line+" · "+ph) <= width:
				line += " · " + ph
			default:
				b.WriteString(line + "\n")
				line = ph
			}
		}
		b.WriteString(line + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// timeline maps rows to plot time: seconds since the first presented flash.
type timeline struct{ startMS, spanS float64 }

func newTimeline(ms []Measurement) timeline {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, m := range ms {
		if m.VideoMS.Known() {
			lo, hi = min(lo, float64(m.VideoMS)), max(hi, float64(m.VideoMS))
		}
	}
	if lo > hi {
		return timeline{spanS: 1}
	}
	return timeline{startMS: lo, spanS: min(max((hi-lo)/1000, 1), maxPlotMS)}
}

// series is (time, val) of the rows where both are known, values held
// to ±maxPlotMS so that nonsense from a page cannot break the axes.
func (tl timeline) series(ms []Measurement, val func(Measurement) Opt) plotter.XYs {
	var xys plotter.XYs
	for _, m := range ms {
		if v := val(m); v.Known() && m.VideoMS.Known() {
			xys = append(xys, plotter.XY{X: (float64(m.VideoMS) - tl.startMS) / 1000, Y: clampMS(float64(v))})
		}
	}
	return xys
}

// freezes are the plot times at which the cumulative freeze count rose.
func (tl timeline) freezes(ms []Measurement) []float64 {
	var at []float64
	last := 0.0
	for _, m := range ms {
		if !m.Freezes.Known() || !m.VideoMS.Known() {
			continue
		}
		if float64(m.Freezes) > last {
			at = append(at, (float64(m.VideoMS)-tl.startMS)/1000)
		}
		last = float64(m.Freezes)
	}
	return at
}

// maxPlotMS bounds plotted values and the time axis (a day in ms):
// beyond it only the axis arithmetic would suffer, and nothing real is
// that far off.
const maxPlotMS = 86_400_000.0

func clampMS(v float64) float64 { return min(max(v, -maxPlotMS), maxPlotMS) }

func offsetPanel(r Report, tl timeline, freezes markers) *panel {
	p := newPlot("time (s)", "A/V offset (ms)\n+ = audio late")
	off := tl.series(r.Measurements, func(m Measurement) Opt { return m.OffsetMS })
	lo, hi := BandEarlyMS-20, BandLateMS+20 // the band always shows, with room outside it
	for _, xy := range off {
		lo, hi = min(lo, xy.Y-10), max(hi, xy.Y+10)
	}
	bnd := band{lo: BandEarlyMS, hi: BandLateMS, fill: rgb(colBand)}
	p.Add(bnd, grid(), zeroLine(), freezes)
	item := legendItem{name: "A/V offset", thumbs: addSeries(p, off, colOffset)}
	setRange(&p.X, 0, tl.spanS)
	setRange(&p.Y, lo, hi)
	return &panel{p: p, weight: 5, legend: []legendItem{
		item,
		{name: "EBU R37 band (−40 … +60 ms)", thumbs: []plot.Thumbnailer{bnd}},
		{name: "freeze", thumbs: []plot.Thumbnailer{freezes}},
	}}
}

func latencyPanel(lat plotter.XYs, tl timeline, freezes markers) *panel {
	p := newPlot("time (s)", "latency (ms)")
	hi := 100.0
	for _, xy := range lat {
		hi = max(hi, xy.Y*1.1)
	}
	p.Add(grid(), freezes)
	item := legendItem{name: "latency", thumbs: addSeries(p, lat, colLatency)}
	setRange(&p.X, 0, tl.spanS)
	setRange(&p.Y, min(0, lowest(lat)), hi)
	return &panel{p: p, weight: 3, legend: []legendItem{item}}
}

// sendPanel plots send-time error p99 (solid) and p50 (dashed) of audio
// and video against view time, with a red line where late items were
// counted.
func sendPanel(send []SendSample) *panel {
	p := newPlot("view time (s)", "send error (ms)")
	var aP50, aP99, vP50, vP99 plotter.XYs
	var late []float64
	lo, hi, t1 := 0.0, 5.0, 1.0 // always up to rtc.LateAfter, 5 ms
	for i, s := range send {
		t := clampMS(s.AtS)
		vals := [4]float64{clampMS(s.AudioP50), clampMS(s.AudioP99), clampMS(s.VideoP50), clampMS(s.VideoP99)}
		for _, v := range vals {
			if isFinite(v) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
		aP50, aP99 = appendFinite(aP50, t, vals[0]), appendFinite(aP99, t, vals[1])
		vP50, vP99 = appendFinite(vP50, t, vals[2]), appendFinite(vP99, t, vals[3])
		if isFinite(t) {
			t1 = max(t1, t)
			if i > 0 && s.LateAudio+s.LateVideo > send[i-1].LateAudio+send[i-1].LateVideo {
				late = append(late, t)
			}
		}
	}
	lateMarks := markers{xs: late, style: solid(colFreeze, lineWidth)}
	p.Add(grid(), zeroLine(), lateMarks)
	p50 := func(c uint32) draw.LineStyle {
		s := solid(c, lineWidth)
		s.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		return s
	}
	p.Add(unpadded{&plotter.Line{XYs: aP50, LineStyle: p50(colSendAudio)}}, unpadded{&plotter.Line{XYs: vP50, LineStyle: p50(colSendVideo)}})
	a := legendItem{name: "audio p99", thumbs: addSeries(p, aP99, colSendAudio)}
	v := legendItem{name: "video p99", thumbs: addSeries(p, vP99, colSendVideo)}
	setRange(&p.X, 0, t1)
	setRange(&p.Y, lo, hi+(hi-lo)*0.1)
	return &panel{p: p, weight: 3, legend: []legendItem{a, v,
		{name: "p50 (dashed)", thumbs: []plot.Thumbnailer{&plotter.Line{LineStyle: p50(colZero)}}},
		{name: "late items", thumbs: []plot.Thumbnailer{lateMarks}},
	}}
}

func appendFinite(xys plotter.XYs, x, y float64) plotter.XYs {
	if !isFinite(x) || !isFinite(y) {
		return xys
	}
	return append(xys, plotter.XY{X: x, Y: y})
}

func lowest(xys plotter.XYs) float64 {
	lo := math.Inf(1)
	for _, xy := range xys {
		lo = min(lo, xy.Y)
	}
	return lo
}

// setRange fixes an axis to [lo, hi] (widened when empty).
func setRange(a *plot.Axis, lo, hi float64) {
	if !(hi > lo) {
		hi = lo + 1
	}
	a.Min, a.Max = lo, hi
}

// stack draws the panels top to bottom, each with its legend row above
// it, their data areas lined up on the left and right. Legend rows and
// time axes take the height they need; the data areas share the rest by
// weight, and the tick count follows the room each axis has.
func stack(c draw.Canvas, panels []*panel) {
	var total float64
	for _, pn := range panels {
		total += pn.weight
	}
	avail := c.Max.Y - c.Min.Y - pad*vg.Length(len(panels)-1)
	xTicks := niceTicks{n: ticksFor(c.Max.X-c.Min.X, 90)}
	for _, pn := range panels {
		pn.p.X.Tick.Marker = xTicks
		if pn.unlabelledX {
			pn.p.X.Tick.Marker = unlabelled{xTicks}
		}
		pn.p.Y.Tick.Marker = niceTicks{n: ticksFor(avail*vg.Length(pn.weight/total), 25)}
	}
	// Axis label widths do not depend on height: line up on the widest.
	var left, right vg.Length
	for _, pn := range panels {
		d := pn.p.DataCanvas(c)
		left, right = max(left, d.Min.X-c.Min.X), max(right, c.Max.X-d.Max.X)
	}
	// Heights: what legend and axes need, the rest by weight.
	rows := draw.Crop(c, left, -right, 0, 0)
	fixed := make([]vg.Length, len(panels))
	rest := avail
	for i, pn := range panels {
		d := pn.p.DataCanvas(c)
		fixed[i] = legendRow(rows, pn.legend, false) + (c.Max.Y - c.Min.Y) - (d.Max.Y - d.Min.Y)
		rest -= fixed[i]
	}
	rest = max(rest, 0)
	top := c.Max.Y
	for i, pn := range panels {
		pc := c
		pc.Max.Y, pc.Min.Y = top, top-fixed[i]-rest*vg.Length(pn.weight/total)
		top = pc.Min.Y - pad
		pc.Max.Y -= legendRow(draw.Crop(pc, left, -right, 0, 0), pn.legend, true)
		d := pn.p.DataCanvas(pc)
		pc = draw.Crop(pc, left-(d.Min.X-pc.Min.X), (c.Max.X-d.Max.X)-right, 0, 0)
		pn.p.Draw(pc)
		pn.data = pn.p.DataCanvas(pc).Rectangle
	}
}

// ticksFor is how many labelled ticks to put along length, one per
// spacing at most.
func ticksFor(length, spacing vg.Length) int { return max(2, int(length/spacing)) }
