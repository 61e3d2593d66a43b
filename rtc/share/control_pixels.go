package share

import (
	"fmt"
	"image"
)

// Raw pixel formats a live producer may send.
const (
	pixBGR24 = "bgr24"
	pixRGB24 = "rgb24"
	pixI420  = "i420"
)

// rawFrameBytes is the size of one raw w×h frame in format pf.
func rawFrameBytes(pf string, w, h int) (int, error) {
	switch pf {
	case pixBGR24, pixRGB24:
		return 3 * w * h, nil
	case pixI420:
		return w*h + 2*((w+1)/2)*((h+1)/2), nil
	}
	return 0, fmt.Errorf("pixel_format %q: want bgr24, rgb24 or i420", pf)
}

// toI420 converts one raw frame (len(raw) == rawFrameBytes) to a new
// packed I420 image, BT.601 limited range as the loaders make them (i420
// is taken as already in that range).
func toI420(pf string, raw []byte, w, h int) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	if pf == pixI420 {
		n := copy(img.Y, raw)
		n += copy(img.Cb, raw[n:])
		copy(img.Cr, raw[n:])
		return img
	}
	ri, bi := 0, 2 // byte offsets of red and blue in a pixel
	if pf == pixBGR24 {
		ri, bi = 2, 0
	}
	px := func(x, y int) (r, g, b int32) {
		p := raw[3*(y*w+x):]
		return int32(p[ri]), int32(p[1]), int32(p[bi])
	}
	// The coefficients (×65536) are the loaders' (engine rgbaRowsToI420);
	// chroma comes from the mean RGB of each 2×2 block.
	for y := range h {
		for x := range w {
			r, g, b := px(x, y)
			img.Y[y*w+x] = uint8((16829*r+33039*g+6416*b+1<<15)>>16 + 16)
		}
	}
	cw := (w + 1) / 2
	for cy := range (h + 1) / 2 {
		for cx := range cw {
			var r, g, b, n int32
			for dy := range 2 {
				for dx := range 2 {
					if x, y := 2*cx+dx, 2*cy+dy; x < w && y < h {
						pr, pg, pb := px(x, y)
						r, g, b, n = r+pr, g+pg, b+pb, n+1
					}
				}
			}
			r, g, b = (r+n/2)/n, (g+n/2)/n, (b+n/2)/n
			img.Cb[cy*cw+cx] = uint8((-9714*r-19070*g+28784*b+1<<15)>>16 + 128)
			img.Cr[cy*cw+cx] = uint8((28784*r-24103*g-4681*b+1<<15)>>16 + 128)
		}
	}
	return img
}
