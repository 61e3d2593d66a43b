package vp8

/*
#cgo pkg-config: vpx
#include "vpxglue.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"sync"
	"unsafe"
)

// MaxFrameBytes bounds one compressed frame given to Decode. Data comes
// from the network; a real 4K keyframe is well under this.
const MaxFrameBytes = 8 << 20

// Decoder is a VP8 decoder, safe for concurrent use.
type Decoder struct {
	mu sync.Mutex
	d  *C.sc_vp8_dec // nil once closed
}

// NewDecoder opens a libvpx VP8 decoder.
func NewDecoder() (*Decoder, error) {
	var d *C.sc_vp8_dec
	// One thread: libvpx's threads spin-wait on row progress, which burns
	// CPU on a busy machine (bench/README.md, "Codec benchmarks").
	if rc := C.sc_vp8_dec_open(1, &d); rc != C.VPX_CODEC_OK {
		return nil, fmt.Errorf("vp8: open decoder: %s", C.GoString(C.vpx_codec_err_to_string(rc)))
	}
	return &Decoder{d: d}, nil
}

// Decode decodes one complete VP8 frame and returns the picture, copied
// into Go memory as tightly packed 4:2:0.
func (d *Decoder) Decode(data []byte) (*image.YCbCr, error) {
	if len(data) == 0 {
		return nil, errors.New("vp8: decode: empty frame")
	}
	if len(data) > MaxFrameBytes {
		return nil, fmt.Errorf("vp8: decode: frame of %d bytes exceeds %d", len(data), MaxFrameBytes)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.d == nil {
		return nil, errors.New("vp8: decoder is closed")
	}
	rc := C.sc_vp8_dec_decode(d.d, (*C.uint8_t)(unsafe.Pointer(&data[0])), C.uint(len(data)))
	if rc != C.VPX_CODEC_OK {
		return nil, fmt.Errorf("vp8: decode %d bytes: %s", len(data), C.GoString(C.sc_vp8_dec_error(d.d)))
	}
	var img *image.YCbCr
	for vi := C.sc_vp8_dec_next(d.d); vi != nil; vi = C.sc_vp8_dec_next(d.d) {
		if vi.fmt != C.VPX_IMG_FMT_I420 {
			return nil, fmt.Errorf("vp8: decode: unexpected image format %d", vi.fmt)
		}
		img = copyImage(vi)
	}
	if img == nil {
		return nil, fmt.Errorf("vp8: decode %d bytes: no picture", len(data))
	}
	return img, nil
}

// copyImage copies a libvpx I420 picture into Go memory.
func copyImage(vi *C.vpx_image_t) *image.YCbCr {
	w, h := int(vi.d_w), int(vi.d_h)
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	copyPlane(img.Y, img.YStride, vi.planes[0], int(vi.stride[0]), w, h)
	cw, ch := (w+1)/2, (h+1)/2
	copyPlane(img.Cb, img.CStride, vi.planes[1], int(vi.stride[1]), cw, ch)
	copyPlane(img.Cr, img.CStride, vi.planes[2], int(vi.stride[2]), cw, ch)
	return img
}

func copyPlane(dst []byte, dstStride int, src *C.uchar, srcStride, w, h int) {
	s := unsafe.Slice((*byte)(unsafe.Pointer(src)), (h-1)*srcStride+w)
	for row := range h {
		copy(dst[row*dstStride:row*dstStride+w], s[row*srcStride:])
	}
}

// Close frees the decoder; Close again is a no-op.
func (d *Decoder) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.d != nil {
		C.sc_vp8_dec_close(d.d)
		d.d = nil
	}
}
