package ui

import (
	"image"
	"image/draw"
)

// toRGBA puts src, shrunk by the whole factor f (every f-th pixel of
// every f-th row), into dst, which must be src's size divided by f. At f
// = 1 (or for anything but the engine's packed 4:2:0) image/draw's fast
// path does it; larger factors read only the pixels kept, a quarter of
// the work at f = 2. The colour conversion is image/color's YCbCrToRGB
// (within one level).
func toRGBA(dst *image.RGBA, src *image.YCbCr, f int) {
	if f <= 1 || src.SubsampleRatio != image.YCbCrSubsampleRatio420 || src.Rect.Min != (image.Point{}) {
		draw.Draw(dst, dst.Bounds(), src, src.Rect.Min, draw.Src)
		return
	}
	w, h := dst.Rect.Dx(), dst.Rect.Dy()
	for y := range h {
		sy := y * f
		yrow := src.Y[sy*src.YStride:]
		crow := (sy / 2) * src.CStride
		out := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
		for x := range w {
			sx := x * f
			yy := int32(yrow[sx]) * 0x10101
			ci := crow + sx/2
			cb, cr := int32(src.Cb[ci])-128, int32(src.Cr[ci])-128
			o := out[4*x : 4*x+4 : 4*x+4]
			o[0] = clamp16(yy + 91881*cr)
			o[1] = clamp16(yy - 22554*cb - 46802*cr)
			o[2] = clamp16(yy + 116130*cb)
			o[3] = 0xff
		}
	}
}

// clamp16 is v>>16 clamped to a byte (v is 16.16 fixed point).
func clamp16(v int32) uint8 {
	if uint32(v)&0xff000000 == 0 {
		return uint8(v >> 16)
	}
	if v < 0 {
		return 0
	}
	return 0xff
}

// shrinkFactor is the whole factor to shrink a srcW-wide frame by for a
// picture showW pixels across (0: unknown, 1), doubled when reduced.
func shrinkFactor(srcW, showW int, reduced bool) int {
	f := 1
	if showW > 0 {
		f = max(srcW/showW, 1)
	}
	if reduced {
		f *= 2
	}
	return min(f, max(srcW/16, 1))
}
