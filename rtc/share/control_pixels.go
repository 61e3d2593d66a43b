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
	// Two rows at a time: each 2×2 block's pixels give their lumas and,
	// through their mean RGB, the block's chroma. The coefficients (×65536)
	// are the loaders' (engine rgbaRowsToI420). At an odd last row or
	// column the missing pixels repeat their neighbours.
	cw := (w + 1) / 2
	for y := 0; y < h; y += 2 {
		y1 := min(y+1, h-1) // the second row, or the first again
		l0, l1 := raw[3*y*w:3*(y+1)*w], raw[3*y1*w:3*(y1+1)*w]
		o0, o1 := img.Y[y*w:(y+1)*w], img.Y[y1*w:(y1+1)*w]
		cb, cr := img.Cb[y/2*cw:(y/2+1)*cw], img.Cr[y/2*cw:(y/2+1)*cw]
		for cx := range cw {
			x0, x1 := 2*cx, min(2*cx+1, w-1) // the second column, or the first again
			ra, ga, ba := rgbAt(l0, x0, ri, bi)
			rb, gb, bb := rgbAt(l0, x1, ri, bi)
			rc, gc, bc := rgbAt(l1, x0, ri, bi)
			rd, gd, bd := rgbAt(l1, x1, ri, bi)
			o0[x0], o0[x1] = luma(ra, ga, ba), luma(rb, gb, bb)
			o1[x0], o1[x1] = luma(rc, gc, bc), luma(rd, gd, bd)
			r, g, b := (ra+rb+rc+rd+2)/4, (ga+gb+gc+gd+2)/4, (ba+bb+bc+bd+2)/4
			cb[cx] = uint8((-9714*r-19070*g+28784*b+1<<15)>>16 + 128)
			cr[cx] = uint8((28784*r-24103*g-4681*b+1<<15)>>16 + 128)
		}
	}
	return img
}

// rgbAt reads pixel x of a packed 24-bit row.
func rgbAt(line []byte, x, ri, bi int) (r, g, b int32) {
	p := line[3*x : 3*x+3]
	return int32(p[ri]), int32(p[1]), int32(p[bi])
}

// luma is BT.601 limited-range Y of an RGB pixel.
func luma(r, g, b int32) uint8 { return uint8((16829*r+33039*g+6416*b+1<<15)>>16 + 16) }
