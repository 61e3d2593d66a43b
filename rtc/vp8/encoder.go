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

// Rate-control and quality settings, as WebRTC's own VP8 sender uses them
// for live video: a short buffer so a keyframe or a scene change cannot
// queue up seconds of data, little overshoot, and a cap on keyframe size.
const (
	minQuantizer    = 2
	maxQuantizer    = 56
	undershootPct   = 100
	overshootPct    = 15
	bufMS           = 1000
	bufInitialMS    = 500
	bufOptimalMS    = 600
	minIntraPct     = 300
	staticThreshold = 1 // see bench/README.md, "Codec benchmarks", for why not higher
)

// Frame is one encoded VP8 frame, in Go memory.
type Frame struct {
	Data []byte
	Key  bool
}

// Encoder is a VP8 encoder. Its methods are safe for concurrent use:
// SetBitrate may come from a bandwidth estimator while Encode runs.
type Encoder struct {
	mu      sync.Mutex
	c       *C.sc_vp8_enc // nil once closed
	cfg     EncoderConfig
	lastPTS int64
	started bool
}

// NewEncoder opens a libvpx VP8 encoder for cfg (zero fields take defaults).
func NewEncoder(cfg EncoderConfig) (*Encoder, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return newEncoder(cfg, tuning{cpuUsed: cfg.CPUUsed, staticThresh: staticThreshold})
}

// tuning holds knobs benchmarks compare; cpuUsed is taken literally so
// they can ask for libvpx's own 0.
type tuning struct {
	cpuUsed      int
	staticThresh int
}

func newEncoder(cfg EncoderConfig, tu tuning) (*Encoder, error) {
	parts := 0 // log2 of token partitions: one per thread lets decoders use threads too
	for 1<<(parts+1) <= cfg.Threads && parts < 3 {
		parts++
	}
	fps := float64(cfg.FPSNum) / float64(cfg.FPSDen)
	p := C.sc_vp8_params{
		width:            C.int(cfg.Width),
		height:           C.int(cfg.Height),
		tb_num:           C.int(cfg.FPSDen),
		tb_den:           C.int(cfg.FPSNum),
		threads:          C.int(cfg.Threads),
		kbps:             C.int(cfg.Bitrate / 1000),
		kf_max_dist:      C.int(cfg.KeyframeInterval),
		cpu_used:         C.int(tu.cpuUsed),
		static_thresh:    C.int(tu.staticThresh),
		token_partitions: C.int(parts),
		// WebRTC's cap: a keyframe may take half the optimal buffer.
		max_intra_pct:  C.int(max(minIntraPct, int(bufOptimalMS*fps/40))),
		min_q:          minQuantizer,
		max_q:          maxQuantizer,
		undershoot_pct: undershootPct,
		overshoot_pct:  overshootPct,
		buf_ms:         bufMS,
		buf_initial_ms: bufInitialMS,
		buf_optimal_ms: bufOptimalMS,
	}
	var c *C.sc_vp8_enc
	var detail *C.char
	if rc := C.sc_vp8_enc_open(&p, &c, &detail); rc != C.VPX_CODEC_OK {
		msg := C.GoString(C.vpx_codec_err_to_string(rc))
		if detail != nil {
			msg += ": " + C.GoString(detail)
		}
		return nil, fmt.Errorf("vp8: open encoder %dx%d: %s", cfg.Width, cfg.Height, msg)
	}
	cfg.CPUUsed = tu.cpuUsed
	return &Encoder{c: c, cfg: cfg}, nil
}

// Config is the configuration in use, defaults filled in.
func (e *Encoder) Config() EncoderConfig {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cfg
}

var errClosed = errors.New("vp8: encoder is closed")

// Encode encodes img, the frame with number pts on the timeline (the
// timebase is FPSDen/FPSNum; pts must increase, and may jump over skipped
// frames). forceKey asks for a keyframe. With no lag frames and no frame
// dropping, one call gives one frame; the slice form leaves room for
// libvpx to return none or several. img is read during the call only.
func (e *Encoder) Encode(img *image.YCbCr, pts int64, forceKey bool) ([]Frame, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.c == nil {
		return nil, errClosed
	}
	if e.started && pts <= e.lastPTS {
		return nil, fmt.Errorf("vp8: encode: pts %d not after previous %d", pts, e.lastPTS)
	}
	y, u, v, err := planes(img, e.cfg.Width, e.cfg.Height)
	if err != nil {
		return nil, err
	}
	key := C.int(0)
	if forceKey {
		key = 1
	}
	// Go pointers passed as arguments satisfy the cgo rules: the memory
	// holds no Go pointers and libvpx copies the picture before returning.
	rc := C.sc_vp8_enc_encode(e.c,
		(*C.uint8_t)(unsafe.Pointer(&y[0])), (*C.uint8_t)(unsafe.Pointer(&u[0])), (*C.uint8_t)(unsafe.Pointer(&v[0])),
		C.int(img.YStride), C.int(img.CStride), C.int(img.CStride), C.int64_t(pts), key)
	if rc != C.VPX_CODEC_OK {
		return nil, fmt.Errorf("vp8: encode pts %d: %s", pts, C.GoString(C.sc_vp8_enc_error(e.c)))
	}
	e.lastPTS, e.started = pts, true
	var out []Frame
	var buf unsafe.Pointer
	var size C.size_t
	var isKey C.int
	for C.sc_vp8_enc_next(e.c, &buf, &size, &isKey) != 0 {
		// Copy out: libvpx reuses its output buffer on the next call.
		out = append(out, Frame{Data: C.GoBytes(buf, C.int(size)), Key: isKey != 0})
	}
	return out, nil
}

// SetBitrate changes the target bitrate (bits per second) from the next
// frame on, without restarting the encoder.
func (e *Encoder) SetBitrate(bps int) error {
	if err := checkBitrate(bps); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.c == nil {
		return errClosed
	}
	if rc := C.sc_vp8_enc_set_kbps(e.c, C.int(bps/1000)); rc != C.VPX_CODEC_OK {
		return fmt.Errorf("vp8: set bitrate %d: %s", bps, C.GoString(C.sc_vp8_enc_error(e.c)))
	}
	e.cfg.Bitrate = bps
	return nil
}

// Close frees the encoder. Later calls return an error; Close again is a no-op.
func (e *Encoder) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.c != nil {
		C.sc_vp8_enc_close(e.c)
		e.c = nil
	}
}
