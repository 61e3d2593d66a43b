package ui

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"segcast/rtc/measure/avsync"
)

// sendSample is the sender's timing as sampled by a drift view: the
// send-time error (actual write − deadline) percentiles over the
// session's recent items, and the late-item counters.
type sendSample struct {
	atS                  float64 // seconds since the view opened
	audioP50, audioP99   float64 // ms
	videoP50, videoP99   float64 // ms
	lateAudio, lateVideo int64
}

// Colours of the send-error strip (0xRRGGBB), apart from avsync.Plot's
// blue offset and orange latency lines.
const (
	stripAudio = 0x2a9d4a
	stripVideo = 0x8e44ad
	stripLate  = 0xd21e1e
	stripAxis  = 0x282828
	stripGrid  = 0xe1e1e1
	stripBG    = 0xffffff
)

// Layout of the drift picture: avsync.Plot on top, the send strip below
// (its margins match avsync.Plot's so the plot areas line up).
const (
	driftPlotW, driftPlotH = 960, 400
	sendStripH             = 130
	stripMarginL           = 58
	stripMarginR           = 58
	stripMarginT           = 22
	stripMarginB           = 22
)

// renderDrift draws the report with avsync.Plot and, when the sender's
// timing is known, a strip under it with the audio and video send-time
// error p99 over time and a red tick where late items were counted.
func renderDrift(r avsync.Report, sends []sendSample) *image.RGBA {
	top := avsync.Plot(r, driftPlotW, driftPlotH)
	if len(sends) == 0 {
		return top
	}
	w, h := top.Rect.Dx(), top.Rect.Dy()
	img := image.NewRGBA(image.Rect(0, 0, w, h+sendStripH))
	draw.Draw(img, top.Rect, top, image.Point{}, draw.Src)
	drawSendStrip(img, image.Rect(0, h, w, h+sendStripH), sends)
	return img
}

// drawSendStrip plots send-time error p99 (ms) against view time (s).
func drawSendStrip(img *image.RGBA, r image.Rectangle, sends []sendSample) {
	stripFill(img, r, stripBG)
	a := image.Rect(r.Min.X+stripMarginL, r.Min.Y+stripMarginT, r.Max.X-stripMarginR, r.Max.Y-stripMarginB)
	lo, hi := 0.0, 5.0 // always show the 5 ms "late" line's range
	t1 := 1.0
	for _, s := range sends {
		lo = min(lo, s.audioP99, s.videoP99)
		hi = max(hi, s.audioP99, s.videoP99)
		t1 = max(t1, s.atS)
	}
	x := func(t float64) int { return a.Min.X + int(math.Round(t/t1*float64(a.Dx()-1))) }
	y := func(v float64) int { return a.Max.Y - 1 - int(math.Round((v-lo)/(hi-lo)*float64(a.Dy()-1))) }
	for _, v := range []float64{lo, 0, hi} {
		stripFill(img, image.Rect(a.Min.X, y(v), a.Max.X, y(v)+1), stripGrid)
		stripText(img, strconv.FormatFloat(v, 'f', 1, 64), a.Min.X-4-stripTextW(strconv.FormatFloat(v, 'f', 1, 64)), y(v), stripAxis)
	}
	stripText(img, "send error p99 ms (write - deadline):", a.Min.X, r.Min.Y+10, stripAxis)
	lx := a.Min.X + stripTextW("send error p99 ms (write - deadline):") + 10
	for _, e := range []struct {
		name string
		c    uint32
	}{{"audio", stripAudio}, {"video", stripVideo}, {"late items", stripLate}} {
		stripFill(img, image.Rect(lx, r.Min.Y+5, lx+10, r.Min.Y+15), e.c)
		stripText(img, e.name, lx+14, r.Min.Y+10, stripAxis)
		lx += 14 + stripTextW(e.name) + 12
	}
	stripText(img, "view time (s) "+strconv.FormatFloat(t1, 'f', 0, 64), a.Max.X-stripTextW("view time (s) "+strconv.FormatFloat(t1, 'f', 0, 64)), r.Max.Y-8, stripAxis)
	for i, s := range sends {
		if i > 0 {
			p := sends[i-1]
			if s.lateAudio+s.lateVideo > p.lateAudio+p.lateVideo {
				stripFill(img, image.Rect(x(s.atS), a.Min.Y, x(s.atS)+1, a.Max.Y), stripLate)
			}
			stripLine(img, a, x(p.atS), y(p.audioP99), x(s.atS), y(s.audioP99), stripAudio)
			stripLine(img, a, x(p.atS), y(p.videoP99), x(s.atS), y(s.videoP99), stripVideo)
		}
		stripFill(img, image.Rect(x(s.atS)-1, y(s.audioP99)-1, x(s.atS)+2, y(s.audioP99)+2).Intersect(a), stripAudio)
		stripFill(img, image.Rect(x(s.atS)-1, y(s.videoP99)-1, x(s.atS)+2, y(s.videoP99)+2).Intersect(a), stripVideo)
	}
	// Frame.
	for _, e := range []image.Rectangle{
		image.Rect(a.Min.X, a.Min.Y, a.Max.X, a.Min.Y+1), image.Rect(a.Min.X, a.Max.Y-1, a.Max.X, a.Max.Y),
		image.Rect(a.Min.X, a.Min.Y, a.Min.X+1, a.Max.Y), image.Rect(a.Max.X-1, a.Min.Y, a.Max.X, a.Max.Y),
	} {
		stripFill(img, e, stripAxis)
	}
}

func rgbOf(c uint32) color.RGBA { return color.RGBA{uint8(c >> 16), uint8(c >> 8), uint8(c), 255} }

func stripFill(img *image.RGBA, r image.Rectangle, c uint32) {
	draw.Draw(img, r.Intersect(img.Rect), image.NewUniform(rgbOf(c)), image.Point{}, draw.Src)
}

// stripLine joins two points with a straight line (sampled along its longer
// side), clipped to clip.
func stripLine(img *image.RGBA, clip image.Rectangle, x0, y0, x1, y1 int, c uint32) {
	n := max(intAbs(x1-x0), intAbs(y1-y0), 1)
	col := rgbOf(c)
	for i := 0; i <= n; i++ {
		p := image.Pt(x0+(x1-x0)*i/n, y0+(y1-y0)*i/n)
		if p.In(clip) {
			img.SetRGBA(p.X, p.Y, col)
		}
	}
}

func intAbs(v int) int { return max(v, -v) }

func stripTextW(s string) int { return font.MeasureString(basicfont.Face7x13, s).Ceil() }

// stripText draws s with its vertical middle at y.
func stripText(img *image.RGBA, s string, x, y int, c uint32) {
	f := basicfont.Face7x13
	d := font.Drawer{Dst: img, Src: image.NewUniform(rgbOf(c)), Face: f,
		Dot: fixed.P(x, y+f.Ascent-f.Height/2)}
	d.DrawString(s)
}
