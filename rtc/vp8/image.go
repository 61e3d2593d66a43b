package vp8

import (
	"fmt"
	"image"
)

// planes returns the Y, Cb and Cr slices of img starting at its top-left
// pixel, after checking that img is 4:2:0 of size w×h and that every row
// libvpx will read lies inside the slices (C does no bounds checks).
func planes(img *image.YCbCr, w, h int) (y, cb, cr []byte, err error) {
	if img == nil {
		return nil, nil, nil, fmt.Errorf("vp8: encode: nil image")
	}
	if img.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		return nil, nil, nil, fmt.Errorf("vp8: encode: image is %v, want 4:2:0", img.SubsampleRatio)
	}
	r := img.Rect
	if r.Dx() != w || r.Dy() != h {
		return nil, nil, nil, fmt.Errorf("vp8: encode: image is %dx%d, encoder is %dx%d", r.Dx(), r.Dy(), w, h)
	}
	cw, ch := (w+1)/2, (h+1)/2
	if img.YStride < w || img.CStride < cw {
		return nil, nil, nil, fmt.Errorf("vp8: encode: strides %d/%d below width %d/%d", img.YStride, img.CStride, w, cw)
	}
	yo, co := img.YOffset(r.Min.X, r.Min.Y), img.COffset(r.Min.X, r.Min.Y)
	if yo < 0 || co < 0 ||
		yo+(h-1)*img.YStride+w > len(img.Y) ||
		co+(ch-1)*img.CStride+cw > len(img.Cb) ||
		co+(ch-1)*img.CStride+cw > len(img.Cr) {
		return nil, nil, nil, fmt.Errorf("vp8: encode: image planes shorter than rect %v with strides %d/%d", r, img.YStride, img.CStride)
	}
	return img.Y[yo:], img.Cb[co:], img.Cr[co:], nil
}
