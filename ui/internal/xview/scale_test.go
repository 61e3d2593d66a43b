package xview

import (
	"image"
	"image/color"
	"testing"
)

// Each output pixel is the source pixel under its top-left corner, in
// X's byte order (blue, green, red, 0), from a sub-image too.
func TestScaleBGRX(t *testing.T) {
	full := image.NewRGBA(image.Rect(0, 0, 8, 6))
	for y := range 6 {
		for x := range 8 {
			full.SetRGBA(x, y, color.RGBA{R: uint8(10*x + 1), G: uint8(10*y + 2), B: uint8(x*y + 3), A: 255})
		}
	}
	for _, c := range []struct {
		src  *image.RGBA
		w, h int
	}{
		{full, 8, 6},  // copy
		{full, 4, 3},  // halved
		{full, 16, 9}, // enlarged, another aspect
		{full.SubImage(image.Rect(2, 1, 7, 5)).(*image.RGBA), 3, 2},
	} {
		b := c.src.Bounds()
		dst := make([]byte, c.w*c.h*4)
		scaleBGRX(dst, c.w, c.h, c.src)
		for y := range c.h {
			for x := range c.w {
				want := c.src.RGBAAt(b.Min.X+x*b.Dx()/c.w, b.Min.Y+y*b.Dy()/c.h)
				got := dst[(y*c.w+x)*4:][:4]
				if got[0] != want.B || got[1] != want.G || got[2] != want.R || got[3] != 0 {
					t.Fatalf("%v → %dx%d: pixel (%d,%d) = %v, want BGRX of %v", b, c.w, c.h, x, y, got, want)
				}
			}
		}
	}
}

// The preview's case: a frame shrunk to 640×360 shown at 632×356.
func BenchmarkScaleBGRX(b *testing.B) {
	src := image.NewRGBA(image.Rect(0, 0, 640, 360))
	dst := make([]byte, 632*356*4)
	for b.Loop() {
		scaleBGRX(dst, 632, 356, src)
	}
}
