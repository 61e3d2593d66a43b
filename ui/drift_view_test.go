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

func (f fakeFeed) measurements() []avsync.Measurement { return f.rows }
func (f fakeFeed) unavailable() string                { return "" }
func (f fakeFeed) sendTiming() (sendSample, bool) {
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
	v := newDriftView(fakeFeed{rows: knownRows()}, syncDo, "Latency", "Freezes")
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
// send strip under the offset plot.
func TestDriftViewSendTiming(t *testing.T) {
	s := sendSample{audioP50: 0.25, audioP99: 1.5, videoP50: 0.5, videoP99: 3.25}
	v := newDriftView(fakeFeed{rows: knownRows(), send: &s}, syncDo, "Latency", "Freezes")
	v.update()
	s.lateVideo = 3 // late items counted between the two samples
	v.feed = fakeFeed{rows: knownRows(), send: &s}
	v.update()
	if a, v := v.sendAudio.Text, v.sendVideo.Text; a != "p50 0.25 · p99 1.50 ms" || v != "p50 0.50 · p99 3.25 ms" {
		t.Errorf("send error labels %q, %q; want p50 0.25 · p99 1.50 ms, p50 0.50 · p99 3.25 ms", a, v)
	}
	img := v.img.Image.(*image.RGBA)
	if got, want := img.Bounds().Dy(), driftPlotH+sendStripH; got != want {
		t.Fatalf("picture height %d, want %d (plot + send strip)", got, want)
	}
	// The strip holds both series' colours and a late marker.
	strip := image.Rect(0, driftPlotH, img.Bounds().Dx(), img.Bounds().Dy())
	for _, c := range []struct {
		name string
		col  uint32
	}{{"audio", stripAudio}, {"video", stripVideo}, {"late marker", stripLate}} {
		if countColour(img, strip, rgbOf(c.col)) < 10 {
			t.Errorf("send strip has no %s pixels", c.name)
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

// The shaded EBU R37 band spans −40…+60 ms on the offset axis. For these
// rows avsync.Plot's axis runs from −60 to +80 ms over the plot area
// y 26…365 (margins 26 top, 34 bottom of 400), so an offset v sits at
// y = 365 − round((v+60)/140·339).
func TestDriftViewPlotBand(t *testing.T) {
	v := newDriftView(fakeFeed{rows: knownRows()}, syncDo, "Latency", "Freezes")
	v.update()
	img, ok := v.img.Image.(*image.RGBA)
	if !ok {
		t.Fatalf("plot is %T, want *image.RGBA", v.img.Image)
	}
	if b := img.Bounds(); b.Dx() != driftPlotW || b.Dy() != driftPlotH {
		t.Fatalf("plot size %v, want %dx%d", b.Size(), driftPlotW, driftPlotH)
	}
	y := func(ms float64) int { return 365 - int(math.Round((ms+60)/140*339)) }
	band := color.RGBA{0xd6, 0xee, 0xd6, 0xff}
	const x = 128 // t = 10 s, away from the vertical grid lines
	top, bottom := -1, -1
	for yy := 0; yy < driftPlotH; yy++ {
		if img.RGBAAt(x, yy) == band {
			if top < 0 {
				top = yy
			}
			bottom = yy
		}
	}
	if d := top - y(60); d < 0 || d > 2 {
		t.Errorf("band top at y=%d, want just below +60 ms at y=%d", top, y(60))
	}
	if d := y(-40) - bottom; d < 0 || d > 2 {
		t.Errorf("band bottom at y=%d, want just above −40 ms at y=%d", bottom, y(-40))
	}
	for _, ms := range []float64{50, -30} {
		if got := img.RGBAAt(x, y(ms)); got != band {
			t.Errorf("inside the band (%v ms, y=%d) pixel %v, want band colour", ms, y(ms), got)
		}
	}
	for _, ms := range []float64{72, -52} {
		if got := img.RGBAAt(x, y(ms)); got == band {
			t.Errorf("outside the band (%v ms, y=%d) is shaded", ms, y(ms))
		}
	}
	// The offset line passes 4.33 ms at t = 10 s.
	blue := color.RGBA{0x1f, 0x5f, 0xd0, 0xff}
	if countColour(img, image.Rect(x-1, y(4.33)-3, x+2, y(4.33)+4), blue) == 0 {
		t.Errorf("no offset line near y=%d at t=10 s", y(4.33))
	}
}

// Without rows the labels say n/a rather than inventing numbers.
func TestDriftViewEmpty(t *testing.T) {
	v := newDriftView(fakeFeed{}, syncDo, "Latency", "Freezes")
	v.update()
	if v.median.Text != "n/a" || v.samples.Text != "0" || !strings.HasPrefix(v.drift.Text, "n/a") {
		t.Errorf("empty view shows median %q samples %q drift %q", v.median.Text, v.samples.Text, v.drift.Text)
	}
}
