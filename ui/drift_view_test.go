package ui

import (
	"image"
	"image/color"
	"math"
	"strings"
	"testing"

	"segcast/rtc/measure/avsync"
)

// fakeFeed serves fixed rows and, optionally, a send sample.
type fakeFeed struct {
	rows []avsync.Measurement
	send *sendSample
}

func (f *fakeFeed) measurements() []avsync.Measurement { return f.rows }
func (f *fakeFeed) unavailable() string                { return "" }
func (f *fakeFeed) sendTiming() (sendSample, bool) {
	if f.send == nil {
		return sendSample{}, false
	}
	return *f.send, true
}

// knownRows is two minutes of one flash a second whose offset rises
// linearly from 4 to 8 ms (drift exactly 2 ms/min), latency cycling
// 50..59 ms, and freezes counted at 60 s and 90 s. By hand: median 6 ms
// (row 60), p95 of |offset| 7.8 ms (row 114), max 8 ms; latency p50 54
// (rows 49..60 are 54), p95 59 (rows 109..120 are 59).
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

func syncDo(f func()) { f() }

func TestDriftViewSummaryLabels(t *testing.T) {
	v := newDriftView(&fakeFeed{rows: knownRows()}, syncDo, "Latency", "Freezes")
	v.update()
	for _, c := range []struct {
		name, got, want string
	}{
		{"median", v.median.Text, "6.0 ms"},
		{"p95", v.p95.Text, "7.8 ms"},
		{"max", v.maxAbs.Text, "8.0 ms"},
		{"samples", v.samples.Text, "121"},
		{"drift", v.drift.Text, "2.00 ms/min"},
		{"latency", v.latency.Text, "p50 54.0 ms · p95 59.0 ms"},
		{"freezes", v.freezes.Text, "2"},
		{"send error audio", v.sendAudio.Text, "n/a"},
		{"send error video", v.sendVideo.Text, "n/a"},
	} {
		if c.got != c.want {
			t.Errorf("%s label %q, want %q", c.name, c.got, c.want)
		}
	}
}

// A view fed the sender's timing shows it in its label and draws the
// send strip under the offset and latency plots.
func TestDriftViewSendTiming(t *testing.T) {
	s := sendSample{audioP50: 0.25, audioP99: 1.5, videoP50: 0.5, videoP99: 3.25}
	v := newDriftView(&fakeFeed{rows: knownRows(), send: &s}, syncDo, "Latency", "Freezes")
	v.update()
	s.lateVideo = 3 // late items counted between the two samples
	v.feed = &fakeFeed{rows: knownRows(), send: &s}
	v.update()
	if a, v := v.sendAudio.Text, v.sendVideo.Text; a != "p50 0.25 · p99 1.50 ms" || v != "p50 0.50 · p99 3.25 ms" {
		t.Errorf("send error labels %q, %q; want p50 0.25 · p99 1.50 ms, p50 0.50 · p99 3.25 ms", a, v)
	}
	img := v.img.Image.(*image.RGBA)
	if got, want := img.Bounds().Dy(), driftPlotH+sendStripH; got != want {
		t.Fatalf("picture height %d, want %d (plot + send strip)", got, want)
	}
	// The strip is below the latency plot (the lowest orange pixel): it
	// holds both series' colours and a late marker.
	latency := color.RGBA{0xe6, 0x80, 0x10, 0xff}
	lowest := -1
	for y := range img.Bounds().Dy() {
		if countColour(img, image.Rect(0, y, img.Bounds().Dx(), y+1), latency) > 0 {
			lowest = y
		}
	}
	if lowest < 0 || lowest > img.Bounds().Dy()*3/4 {
		t.Fatalf("latency plot's lowest pixel at y=%d of %d", lowest, img.Bounds().Dy())
	}
	strip := image.Rect(0, lowest+1, img.Bounds().Dx(), img.Bounds().Dy())
	for _, c := range []struct {
		name string
		col  color.RGBA
	}{{"audio", color.RGBA{0x2a, 0x9d, 0x4a, 0xff}}, {"video", color.RGBA{0x8e, 0x44, 0xad, 0xff}}, {"late marker", color.RGBA{0xd2, 0x1e, 0x1e, 0xff}}} {
		if n := countNear(img, strip, c.col); n < 10 {
			t.Errorf("send strip has %d %s pixels", n, c.name)
		}
	}
	r, _ := v.report()
	if r.SendError == nil || r.SendError.VideoP99 != 3.25 {
		t.Errorf("report send error %+v, want video p99 3.25", r.SendError)
	}
}

func countColour(img *image.RGBA, r image.Rectangle, c color.RGBA) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if img.RGBAAt(x, y) == c {
				n++
			}
		}
	}
	return n
}

// countNear counts the pixels of r within 24 of c in each channel (lines
// are anti-aliased).
func countNear(img *image.RGBA, r image.Rectangle, c color.RGBA) int {
	n := 0
	d := func(a, b uint8) bool { return max(a, b)-min(a, b) <= 24 }
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			p := img.RGBAAt(x, y)
			if d(p.R, c.R) && d(p.G, c.G) && d(p.B, c.B) {
				n++
			}
		}
	}
	return n
}

// The shaded EBU R37 band spans −40…+60 ms on the offset axis and the
// width of the plot's data area, whose time axis runs over the rows'
// 120 s. Found from the picture alone: the band's extent gives the
// scale, and the offset line must cross t = 10 s at 4.33 ms, 55.7 % of
// the way down from the band's top (+60) to its bottom (−40).
func TestDriftViewPlotBand(t *testing.T) {
	v := newDriftView(&fakeFeed{rows: knownRows()}, syncDo, "Latency", "Freezes")
	v.update()
	img, ok := v.img.Image.(*image.RGBA)
	if !ok {
		t.Fatalf("plot is %T, want *image.RGBA", v.img.Image)
	}
	if b := img.Bounds(); b.Dx() != driftPlotW || b.Dy() != driftPlotH {
		t.Fatalf("plot size %v, want %dx%d", b.Size(), driftPlotW, driftPlotH)
	}
	band := color.RGBA{0xd6, 0xee, 0xd6, 0xff}
	extent := func(n int, at func(i int) color.RGBA) (first, last int) {
		first, last = -1, -1
		for i := range n {
			if at(i) == band {
				if first < 0 {
					first = i
				}
				last = i
			}
		}
		return first, last
	}
	// The band's width is the data area's: measured on a row 10 px below
	// its top (+60), above the offset line (≈ +4).
	row := 0
	for row < driftPlotH && countColour(img, image.Rect(0, row, driftPlotW, row+1), band) < driftPlotW/2 {
		row++
	}
	row += 10
	left, right := extent(driftPlotW, func(x int) color.RGBA { return img.RGBAAt(x, row) })
	if right-left < driftPlotW*2/3 {
		t.Fatalf("band %d…%d px wide on row %d, want most of the %d px picture", left, right, row, driftPlotW)
	}
	x := left + int(math.Round(10.0/120*float64(right-left)))
	if img.RGBAAt(x, row) != band { // on a vertical grid line
		x++
	}
	top, bottom := extent(driftPlotH, func(y int) color.RGBA { return img.RGBAAt(x, y) })
	if bottom-top < driftPlotH/4 {
		t.Fatalf("band %d…%d px tall in a %d px picture", top, bottom, driftPlotH)
	}
	y := top + int(math.Round((60-4.33)/100*float64(bottom-top)))
	blue := color.RGBA{0x1f, 0x5f, 0xd0, 0xff}
	if n := countNear(img, image.Rect(x-2, y-2, x+3, y+3), blue); n == 0 {
		t.Errorf("no offset line near (%d, %d) at t=10 s, 4.33 ms (band %d…%d)", x, y, top, bottom)
	}
	// Nothing blue far from it in that column inside the band.
	for _, yy := range []int{top + 3, bottom - 3} {
		if n := countNear(img, image.Rect(x-1, yy-1, x+2, yy+2), blue); n > 0 {
			t.Errorf("offset colour at y=%d, away from the line at y=%d", yy, y)
		}
	}
	// The latency plot is below the band: orange there, none inside it.
	orange := color.RGBA{0xe6, 0x80, 0x10, 0xff}
	if countNear(img, image.Rect(left, bottom+1, right, driftPlotH), orange) == 0 {
		t.Error("no latency series below the offset plot")
	}
	if n := countNear(img, image.Rect(left, top, right, bottom), orange); n > 0 {
		t.Errorf("%d latency pixels inside the offset band", n)
	}
}

// Without rows the labels say n/a rather than inventing numbers.
func TestDriftViewEmpty(t *testing.T) {
	v := newDriftView(&fakeFeed{}, syncDo, "Latency", "Freezes")
	v.update()
	if v.median.Text != "n/a" || v.samples.Text != "0" || !strings.HasPrefix(v.drift.Text, "n/a") {
		t.Errorf("empty view shows median %q samples %q drift %q", v.median.Text, v.samples.Text, v.drift.Text)
	}
}

// An idle drift view (no new rows, the sender idle) does not redraw; a
// new row redraws it, and so does a full log whose oldest row gave way.
func TestDriftViewRedrawsOnlyWhenSomethingChanged(t *testing.T) {
	row := func(k int64) avsync.Measurement {
		m := avsync.Measurement{FlashIndex: k, VideoMS: avsync.Opt(float64(k)), AudioMS: avsync.Opt(float64(k)),
			OffsetMS: 0, LatencyMS: avsync.Unknown(), AtMS: avsync.Opt(float64(k)), Stats: avsync.UnknownStats()}
		return m
	}
	s := sendSample{audioP99: 1, videoP99: 2}
	feed := &fakeFeed{rows: []avsync.Measurement{row(1), row(2)}, send: &s}
	v := newDriftView(feed, syncDo, "Latency", "Freezes")
	v.update()
	first := v.img.Image
	v.update()
	if v.img.Image != first {
		t.Error("redrawn with nothing new")
	}
	feed.rows = append(feed.rows, row(3))
	v.update()
	second := v.img.Image
	if second == first {
		t.Error("not redrawn for a new row")
	}
	feed.rows = []avsync.Measurement{row(2), row(3), row(4)}[1:] // same length as before, newer rows
	feed.rows = append(feed.rows, row(5))
	v.update()
	if v.img.Image == second {
		t.Error("not redrawn when a full log moved on")
	}
}
