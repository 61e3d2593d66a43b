package engine

import "math/bits"

// The output grid. Output frame k starts at the exact time k·den/num s;
// audio runs on unbroken in 48 kHz samples. A segment placed at frame k
// has its first sound sample at output sample frameSample(k): the first
// sample at or after the frame's exact time, ceil(k·48000·den/num), the
// same rounding as the pattern's beep onset. Both are computed from k,
// never accumulated; for 25, 30 and 60 fps the division is exact.

// frameSample is output frame k's first audio sample, ceil(k·48000·den/num),
// for k ≥ 0.
func frameSample(r Rate, k int64) int64 { return ceilMulDiv(k, AudioRate*r.Den, r.Num) }

// sampleFrame is the first output frame whose first sample is at or after
// sample s: the least k with frameSample(k) ≥ s. ceil(k·x) ≥ s ⇔ k·x > s−1
// ⇔ k ≥ floor((s−1)/x) + 1 for s ≥ 1.
func sampleFrame(r Rate, s int64) int64 {
	if s <= 0 {
		return 0
	}
	return muldiv(s-1, r.Num, AudioRate*r.Den) + 1
}

// ceilMulDiv returns ceil(a·b/c) for a, b ≥ 0 and c > 0, with the product
// held in 128 bits.
func ceilMulDiv(a, b, c int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	q, rem := bits.Div64(hi, lo, uint64(c))
	if rem != 0 {
		q++
	}
	return int64(q)
}

// floorDiv rounds towards −∞ (AudioOffset and seek positions may be
// negative before conversion).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// segPos is a position inside a segment, kept in the units that stay
// exact: voff is a source time (ns) the position was set to (a seek), d
// the output frames played since. Video shows the source frame at
// voff + FrameNS(d) of the output rate, so a segment played from its
// start shows the same frames on every pass and a pause resumes on the
// very next frame. The sound is derived from d, never carried over: at
// position d it is at source sample abase + frameSample(d) (abase: the
// sample at voff), so however often playback stops and resumes, picture
// and sound stay within a sample of each other. Within one stretch of
// playback the sound runs on sample by sample; a resume (after a pause or
// an underrun) may repeat or skip one sample at fractional rates (never
// at 25, 30 or 60 fps, where a frame is a whole number of samples).
type segPos struct {
	voff, d, abase int64
}

// posAt returns p advanced from output frame k0 to frame k.
func posAt(p segPos, k0, k int64) segPos {
	return segPos{voff: p.voff, d: p.d + k - k0, abase: p.abase}
}

// sample is the source sample where the sound is at p.
func (p segPos) sample(out Rate) int64 { return p.abase + frameSample(out, p.d) }

// offset is p as a time into the segment, for Position and the UI.
func (p segPos) offset(out Rate) int64 { return p.voff + out.FrameNS(p.d) }

// slotFrames is how many output frames segment s occupies from position p:
// enough for the rest of its frames and of its sound. From the start this
// is its slot on the output grid, the same length on every pass, since
// frameSample(k+m) − frameSample(k) ≥ floor(m·48000·den/num) for any k.
func slotFrames(s *Segment, out Rate, p segPos) int64 {
	var video, audio int64
	if n := int64(s.Frames.Len()); n > 0 {
		video = out.FramesIn(segmentRate(s).FrameNS(n)-p.voff) - p.d
	}
	if s.Audio != nil {
		if rest := s.Audio.Len() - p.sample(out); rest > 0 {
			audio = ceilMulDiv(rest, out.Num, AudioRate*out.Den)
		}
	}
	return max(video, audio, 0)
}

// segmentRate guards the loop against a segment with a broken rate: its
// frames are then timed at 30 fps rather than dividing by zero.
func segmentRate(s *Segment) Rate {
	if s.Rate.Valid() != nil {
		return Rate30
	}
	return s.Rate
}
