package avsync

import (
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Text sizes and spacing, in points.
const (
	pad         = vg.Length(6)
	titleSize   = vg.Length(10.5)
	labelSize   = vg.Length(10)
	tickSize    = vg.Length(9)
	legendSize  = vg.Length(9.5)
	lineWidth   = 1.5 // series, in points: two pixels at pixelDPI
	maxDotCount = 150 // more rows than this are drawn as a line alone
)

// textStyle is Liberation Sans (gonum's bundled font) at size.
func textStyle(size vg.Length) text.Style {
	return text.Style{
		Color:   rgb(colText),
		Font:    font.From(font.Font{Typeface: "Liberation", Variant: "Sans"}, size),
		Handler: plot.DefaultTextHandler,
	}
}

// newPlot is a plot in the figure's fonts and colours with axis names;
// the data area reaches the axes (no padding) so the band meets them.
func newPlot(xName, yName string) *plot.Plot {
	p := plot.New()
	p.BackgroundColor = nil // figure paints the background once
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Padding = 0
		a.Label.TextStyle.Font = textStyle(labelSize).Font
		a.Tick.Label.Font = textStyle(tickSize).Font
		a.Label.TextStyle.Color, a.Tick.Label.Color = rgb(colText), rgb(colText)
		a.Color, a.Tick.Color = rgb(colText), rgb(colText)
		a.Tick.Length = vg.Points(4)
	}
	p.X.Label.Text, p.Y.Label.Text = xName, yName
	return p
}

func solid(c uint32, width float64) draw.LineStyle {
	return draw.LineStyle{Color: rgb(c), Width: vg.Points(width)}
}

func dashed(c uint32) draw.LineStyle {
	s := solid(c, lineWidth)
	s.Dashes = []vg.Length{vg.Points(3), vg.Points(2)}
	return s
}

func grid() *plotter.Grid {
	return &plotter.Grid{Vertical: solid(colGrid, 0.6), Horizontal: solid(colGrid, 0.6)}
}

// zeroLine marks y = 0, the value every panel is judged against.
func zeroLine() *plotter.Function {
	f := plotter.NewFunction(func(float64) float64 { return 0 })
	f.Samples = 2
	f.LineStyle = solid(colZero, 0.8)
	return f
}

// addSeries adds xys as a line in colour c, with a dot per point while
// they are few enough to tell apart, and returns the legend thumbnails.
func addSeries(p *plot.Plot, xys plotter.XYs, c uint32) []plot.Thumbnailer {
	l := unpadded{&plotter.Line{XYs: xys, LineStyle: solid(c, lineWidth)}}
	p.Add(l)
	if len(xys) > maxDotCount {
		return []plot.Thumbnailer{l}
	}
	s := unpadded{&plotter.Scatter{XYs: xys, GlyphStyle: draw.GlyphStyle{Color: rgb(c), Radius: vg.Points(1.6), Shape: draw.CircleGlyph{}}}}
	p.Add(s)
	return []plot.Thumbnailer{l, s}
}

// unpadded is a plotter without its glyph boxes: the plot asks for one
// box per point at every layout step (most of the time and memory of a
// redraw of 9 000 rows) to pad the data area for end points and dots,
// which would also part the band from the axes.
type unpadded struct{ series }

type series interface {
	plot.Plotter
	plot.Thumbnailer
}

// band shades lo…hi across the whole data area.
type band struct {
	lo, hi float64
	fill   color.Color
}

func (b band) Plot(c draw.Canvas, p *plot.Plot) {
	_, y := p.Transforms(&c)
	y0, y1 := y(max(b.lo, p.Y.Min)), y(min(b.hi, p.Y.Max))
	if y1 > y0 {
		c.FillPolygon(b.fill, []vg.Point{{X: c.Min.X, Y: y0}, {X: c.Max.X, Y: y0}, {X: c.Max.X, Y: y1}, {X: c.Min.X, Y: y1}})
	}
}

func (b band) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(b.fill, []vg.Point{c.Min, {X: c.Max.X, Y: c.Min.Y}, c.Max, {X: c.Min.X, Y: c.Max.Y}})
}

// markers draws a vertical line across the data area at each x.
type markers struct {
	xs    []float64
	style draw.LineStyle
}

func (m markers) Plot(c draw.Canvas, p *plot.Plot) {
	x, _ := p.Transforms(&c)
	for _, v := range m.xs {
		if v >= p.X.Min && v <= p.X.Max {
			c.StrokeLine2(m.style, x(v), c.Min.Y, x(v), c.Max.Y)
		}
	}
}

func (m markers) Thumbnail(c *draw.Canvas) {
	x := (c.Min.X + c.Max.X) / 2
	c.StrokeLine2(m.style, x, c.Min.Y, x, c.Max.Y)
}

// niceTicks labels every 1, 2 or 5 × 10ⁿ, about n ticks over the range
// (gonum's DefaultTicks gives three, with fixed decimals).
type niceTicks struct{ n int }

func (t niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !isFinite(lo) || !isFinite(hi) || !(hi > lo) {
		return nil
	}
	step := niceStep(hi-lo, t.n)
	prec := max(0, -int(math.Floor(math.Log10(step))))
	k0 := math.Ceil(lo / step)
	var ts []plot.Tick
	// Bounded by count as well: far from 0, k0+i may not grow.
	for i := 0.0; i <= float64(4*t.n) && (k0+i)*step <= hi; i++ {
		v := (k0 + i) * step
		if v == 0 {
			v = 0 // not −0
		}
		label := strings.Replace(strconv.FormatFloat(v, 'f', prec, 64), "-", "−", 1)
		ts = append(ts, plot.Tick{Value: v, Label: label})
	}
	return ts
}

// niceStep is a 1, 2 or 5 × 10ⁿ step giving at most about n ticks on span.
func niceStep(span float64, n int) float64 {
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// unlabelled is a ticker's ticks without their labels, for a time axis
// that the panel below names.
type unlabelled struct{ plot.Ticker }

func (u unlabelled) Ticks(lo, hi float64) []plot.Tick {
	ts := u.Ticker.Ticks(lo, hi)
	for i := range ts {
		ts[i].Label = ""
	}
	return ts
}

// legendItem is one entry of a panel's legend: a name and the
// thumbnails of what it names.
type legendItem struct {
	name   string
	thumbs []plot.Thumbnailer
}

// legendRow lays items out left to right along the top of c, wrapping
// onto further lines when c is too narrow, and returns the height they
// take; it draws them when paint is set.
func legendRow(c draw.Canvas, items []legendItem, paint bool) vg.Length {
	if len(items) == 0 {
		return 0
	}
	x, used := c.Min.X, vg.Length(0)
	var lineH vg.Length
	for _, it := range items {
		l := plot.NewLegend()
		l.TextStyle = textStyle(legendSize)
		l.Top, l.Left = true, true
		l.Add(it.name, it.thumbs...)
		size := l.Rectangle(c).Size()
		if x > c.Min.X && x+size.X > c.Max.X {
			x, used = c.Min.X, used+lineH
		}
		if paint {
			lc := c
			lc.Min.X, lc.Max.Y = x, c.Max.Y-used
			l.Draw(lc)
		}
		x += size.X + 2*pad
		lineH = max(lineH, size.Y+pad/2)
	}
	return used + lineH
}
