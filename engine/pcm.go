package engine

import "fmt"

// PCM is a segment's sound held in memory: interleaved int16 sample frames
// at 48 kHz, mono or stereo. It is immutable after NewPCM, so any number of
// readers may call Fill at once.
type PCM struct {
	samples  []int16
	channels int
}

// NewPCM wraps interleaved 48 kHz samples (1 or 2 channels). It panics on
// another channel count: callers build PCM from already-validated input.
func NewPCM(samples []int16, channels int) *PCM {
	if channels != 1 && channels != 2 {
		panic(fmt.Sprintf("engine.NewPCM: %d channels, want 1 or 2", channels))
	}
	n := len(samples) / channels * channels // drop a dangling half frame
	return &PCM{samples: samples[:n], channels: channels}
}

// Len is the length in sample frames at 48 kHz.
func (p *PCM) Len() int64 { return int64(len(p.samples) / p.channels) }

// Channels is 1 or 2.
func (p *PCM) Channels() int { return p.channels }

// Bytes is the memory held by the samples.
func (p *PCM) Bytes() int64 { return int64(len(p.samples)) * 2 }

// Samples returns the interleaved samples (read-only), e.g. for drawing a
// waveform.
func (p *PCM) Samples() []int16 { return p.samples }

// Fill writes len(dst)/2 stereo frames starting at sample frame off; mono
// is duplicated to both sides and frames outside [0, Len) are silence.
func (p *PCM) Fill(dst []int16, off int64) {
	frames := int64(len(dst) / 2)
	n := p.Len()
	for i := int64(0); i < frames; i++ {
		src := off + i
		if src < 0 || src >= n {
			dst[2*i], dst[2*i+1] = 0, 0
			continue
		}
		if p.channels == 1 {
			s := p.samples[src]
			dst[2*i], dst[2*i+1] = s, s
		} else {
			dst[2*i], dst[2*i+1] = p.samples[2*src], p.samples[2*src+1]
		}
	}
}
