package ui

import (
	"image"
	"image/draw"
	"testing"
)

func testFrame(w, h int) *image.YCbCr {
	m := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for i := range m.Y {
		m.Y[i] = byte(i * 3)
	}
	for i := range m.Cb {
		m.Cb[i], m.Cr[i] = byte(i*7), byte(i*13)
	}
	return m
}

// Shrunk by 2 or 3, every kept pixel has the colour image/draw gives the
// same source pixel, within one level.
func TestToRGBAMatchesDraw(t *testing.T) {
	src := testFrame(1280, 720)
	full := image.NewRGBA(src.Rect)
	draw.Draw(full, full.Bounds(), src, image.Point{}, draw.Src)
	for _, f := range []int{1, 2, 3} {
		d := image.NewRGBA(image.Rect(0, 0, 1280/f, 720/f))
		toRGBA(d, src, f)
		for y := range d.Rect.Dy() {
			for x := range d.Rect.Dx() {
				a, b := d.RGBAAt(x, y), full.RGBAAt(f*x, f*y)
				if absDiff(a.R, b.R) > 1 || absDiff(a.G, b.G) > 1 || absDiff(a.B, b.B) > 1 || a.A != 0xff {
					t.Fatalf("f=%d at %d,%d: %v, draw gives %v", f, x, y, a, b)
				}
			}
		}
	}
	if got := shrinkFactor(1280, 630, false); got != 2 {
		t.Errorf("1280 shown at 630: factor %d, want 2", got)
	}
	if got := shrinkFactor(1280, 0, true); got != 2 {
		t.Errorf("unknown width, reduced: factor %d, want 2", got)
	}
	if got := shrinkFactor(1280, 2000, false); got != 1 {
		t.Errorf("shown larger: factor %d, want 1", got)
	}
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// BenchmarkToRGBA720pHalf is what the preview pays per 720p frame shown
// at about 640 px across.
func BenchmarkToRGBA720pHalf(b *testing.B) {
	src := testFrame(1280, 720)
	d := image.NewRGBA(image.Rect(0, 0, 640, 360))
	for b.Loop() {
		toRGBA(d, src, 2)
	}
}
