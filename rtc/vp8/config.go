// Package vp8 encodes and decodes VP8 with libvpx (Debian's libvpx-dev)
// through a thin cgo wrapper, set up for live streaming: realtime
// deadline, CBR, no lag frames, error resilient, keyframes on demand.
package vp8

import "fmt"

// Limits checked before libvpx sees a config.
const (
	MaxDimension = 16383 // VP8's frame header holds 14 bits per dimension
	MinBitrate   = 10_000
	MaxBitrate   = 100_000_000
	MaxThreads   = 16
	// maxKeyframeInterval keeps the value inside libvpx's C int.
	maxKeyframeInterval = 1 << 30
)

// Defaults for zero fields of EncoderConfig.
const (
	DefaultCPUUsed         = 8
	DefaultThreads         = 2
	DefaultBitrate         = 1_500_000
	DefaultKeyframeSeconds = 10
)

// EncoderConfig sets up an Encoder. Zero fields take the defaults above.
type EncoderConfig struct {
	Width, Height int
	// FPSNum/FPSDen is the frame rate; the encoder's timebase is its
	// inverse, so pts passed to Encode is the frame number k of the
	// timeline.
	FPSNum, FPSDen int64
	Bitrate        int // target, bits per second
	// CPUUsed is libvpx's speed knob, -16…16. Positive values let libvpx
	// pick its speed so that encoding takes about (16-CPUUsed)/16 of the
	// frame interval (measured on wall time, so the cost follows machine
	// load); negative values fix the speed at |CPUUsed|, a steady cost
	// (WebRTC itself uses -6…-12). 0 means DefaultCPUUsed (libvpx's own 0,
	// the slowest, is never what we want).
	CPUUsed int
	// Threads is the encoder's thread count. libvpx's threads spin-wait
	// for each other's macroblock rows, so on a machine with no idle core
	// 2 threads cost several times the CPU of 1 (bench/README.md, "Codec benchmarks").
	Threads int
	// KeyframeInterval is the most frames between keyframes
	// (default DefaultKeyframeSeconds of frames).
	KeyframeInterval int
}

// withDefaults validates c and fills in zero fields.
func (c EncoderConfig) withDefaults() (EncoderConfig, error) {
	if c.Width <= 0 || c.Height <= 0 || c.Width > MaxDimension || c.Height > MaxDimension {
		return c, fmt.Errorf("vp8: size %dx%d: width and height must be 1…%d", c.Width, c.Height, MaxDimension)
	}
	if c.Width%2 != 0 || c.Height%2 != 0 {
		// 4:2:0 chroma of an odd size is ambiguous between our frame
		// store and libvpx; the timeline's frames are always even.
		return c, fmt.Errorf("vp8: size %dx%d: width and height must be even", c.Width, c.Height)
	}
	if c.FPSNum <= 0 || c.FPSDen <= 0 || c.FPSNum > 1<<31-1 || c.FPSDen > 1<<31-1 {
		return c, fmt.Errorf("vp8: rate %d/%d: must be positive, each part below 2^31", c.FPSNum, c.FPSDen)
	}
	if c.Bitrate == 0 {
		c.Bitrate = DefaultBitrate
	}
	if err := checkBitrate(c.Bitrate); err != nil {
		return c, err
	}
	if c.CPUUsed == 0 {
		c.CPUUsed = DefaultCPUUsed
	}
	if c.CPUUsed < -16 || c.CPUUsed > 16 {
		return c, fmt.Errorf("vp8: CPUUsed %d: must be -16…16", c.CPUUsed)
	}
	if c.Threads == 0 {
		c.Threads = DefaultThreads
	}
	if c.Threads < 1 || c.Threads > MaxThreads {
		return c, fmt.Errorf("vp8: Threads %d: must be 1…%d", c.Threads, MaxThreads)
	}
	if c.KeyframeInterval == 0 {
		c.KeyframeInterval = int(max(1, DefaultKeyframeSeconds*c.FPSNum/c.FPSDen))
	}
	if c.KeyframeInterval < 1 || c.KeyframeInterval > maxKeyframeInterval {
		return c, fmt.Errorf("vp8: KeyframeInterval %d: must be 1…%d", c.KeyframeInterval, maxKeyframeInterval)
	}
	return c, nil
}

func checkBitrate(bps int) error {
	if bps < MinBitrate || bps > MaxBitrate {
		return fmt.Errorf("vp8: bitrate %d bps: must be %d…%d", bps, MinBitrate, MaxBitrate)
	}
	return nil
}
