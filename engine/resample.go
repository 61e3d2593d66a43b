package engine

import (
	"math"
	"slices"
	"sync"
)

// Resampler design. A Kaiser-windowed sinc, 64 taps per output sample when
// upsampling (more, proportionally, when downsampling), β = 8: about 80 dB
// of stopband with a transition band of ±4% of the lower sample rate
// centred on its Nyquist frequency (at 16 kHz: flat to 7.3 kHz, −80 dB
// from 8.7 kHz). Rates whose ratio to 48 kHz needs more than
// resampleMaxPhases filter phases use the nearest of that many; the timing
// error (under 1/8192 sample) stays below the stopband for audible tones.
const (
	resampleHalfTaps  = 32
	resampleBeta      = 8.0
	resampleMaxPhases = 4096
)

// Resample48k converts interleaved samples in [-1, 1] at rate Hz to
// interleaved int16 at 48 kHz. The output has ceil(n·48000/rate) frames
// for n input frames: the samples whose time falls inside the input.
func Resample48k(in []float32, channels, rate int) []int16 {
	r := NewResampler(rate, channels)
	out := make([]int16, 0, Frames48k(int64(len(in)/channels), rate)*int64(channels))
	return r.Flush(r.Write(out, in))
}

// Frames48k is how many 48 kHz frames n frames at rate Hz become:
// ceil(n·48000/rate), as Resample48k and a Resampler make them.
func Frames48k(n int64, rate int) int64 {
	g := rateGCD(rate, AudioRate)
	up, down := int64(AudioRate/g), int64(rate/g)
	return (n*up + down - 1) / down
}

// Resampler is Resample48k over a stream: samples go in block by block
// and the output is the same as Resample48k's on the whole input, while
// only the filter's span of input is held.
type Resampler struct {
	rs       *resampler // nil when the input is at 48 kHz
	rate     int
	channels int
	hist     [][]float32 // per channel, input frames from histAt on
	histAt   int64
	in, out  int64 // input frames written, output frames made
}

// NewResampler starts a stream of channels-channel input at rate Hz.
func NewResampler(rate, channels int) *Resampler {
	r := &Resampler{rate: rate, channels: channels, hist: make([][]float32, channels)}
	if rate != AudioRate {
		r.rs = newResampler(rate)
	}
	return r
}

// Write takes interleaved input frames and appends to dst the output they
// complete; it returns dst.
func (r *Resampler) Write(dst []int16, in []float32) []int16 {
	frames := len(in) / r.channels
	in = in[:frames*r.channels]
	r.in += int64(frames)
	if r.rs == nil {
		for _, v := range in {
			dst = append(dst, toInt16(v))
		}
		r.out = r.in
		return dst
	}
	for c := range r.channels {
		for i := c; i < len(in); i += r.channels {
			r.hist[c] = append(r.hist[c], in[i])
		}
	}
	// Output j is complete once input idx(j)+half has arrived:
	// floor(j·down/up) < in−half ⇔ j < (in−half)·up/down.
	var ready int64
	if avail := r.in - int64(r.rs.half); avail > 0 {
		ready = (avail*r.rs.up + r.rs.down - 1) / r.rs.down
	}
	return r.emit(dst, ready)
}

// Flush appends the rest of the output, silence standing for the input
// past the end, and returns dst. The stream must not be written after.
func (r *Resampler) Flush(dst []int16) []int16 {
	if r.rs == nil {
		return dst
	}
	return r.emit(dst, Frames48k(r.in, r.rate))
}

// emit appends outputs r.out..end-1 and drops the input no later output
// needs.
func (r *Resampler) emit(dst []int16, end int64) []int16 {
	n := end - r.out
	if n <= 0 {
		return dst
	}
	at := len(dst)
	dst = slices.Grow(dst, int(n)*r.channels)[:at+int(n)*r.channels]
	out := dst[at:]
	var wg sync.WaitGroup
	for c := r.channels - 1; c >= 0; c-- {
		run := func() { r.rs.run(r.hist[c], r.histAt, out[c:], r.channels, r.out, end) }
		if c > 0 && n >= 4096 { // channels are independent: the others on their own cores
			wg.Go(run)
		} else {
			run()
		}
	}
	wg.Wait()
	r.out = end
	if drop := r.out*r.rs.down/r.rs.up - int64(r.rs.half) + 1 - r.histAt; drop > 0 {
		drop = min(drop, int64(len(r.hist[0])))
		for c := range r.hist {
			r.hist[c] = r.hist[c][:copy(r.hist[c], r.hist[c][drop:])]
		}
		r.histAt += drop
	}
	return dst
}

// resampler holds the polyphase filter bank for one input rate.
type resampler struct {
	up, down int64     // output/input rate ratio up/down, reduced
	phases   int64     // filter phases in coef
	taps     int       // taps per phase
	half     int       // taps on each side of the output instant
	coef     []float32 // phases × taps
}

func newResampler(rate int) *resampler {
	g := rateGCD(rate, AudioRate)
	rs := &resampler{up: int64(AudioRate / g), down: int64(rate / g)}
	rs.phases = min(rs.up, resampleMaxPhases)
	// Cutoff at the lower Nyquist frequency, in cycles per input sample;
	// when downsampling the kernel widens by the same factor.
	ratio := min(1, float64(AudioRate)/float64(rate))
	fc := 0.5 * ratio
	rs.half = int(math.Ceil(resampleHalfTaps / ratio))
	rs.taps = 2 * rs.half
	rs.coef = make([]float32, int(rs.phases)*rs.taps)
	i0beta := besselI0(resampleBeta)
	for p := range int(rs.phases) {
		frac := float64(p) / float64(rs.phases)
		row := rs.coef[p*rs.taps : (p+1)*rs.taps]
		var sum float64
		v := make([]float64, rs.taps)
		for i := range v {
			// Distance from the output instant to input sample i.
			t := frac + float64(rs.half-1-i)
			x := t / float64(rs.half)
			if x*x >= 1 {
				continue
			}
			w := besselI0(resampleBeta*math.Sqrt(1-x*x)) / i0beta
			v[i] = 2 * fc * sincPi(2*fc*t) * w
			sum += v[i]
		}
		// Unity gain at DC in every phase, so no phase-dependent ripple.
		for i := range v {
			row[i] = float32(v[i] / sum)
		}
	}
	return rs
}

// run filters one channel into out[0], out[stride], …: outputs j0..j1-1.
// x holds input frames from x0 on; frames outside it are taken as silence
// (callers keep every frame these outputs need that exists).
func (rs *resampler) run(x []float32, x0 int64, out []int16, stride int, j0, j1 int64) {
	for j := j0; j < j1; j++ {
		pos := j * rs.down
		idx := pos / rs.up
		ph := pos % rs.up
		if rs.phases != rs.up {
			ph = ph * rs.phases / rs.up
		}
		row := rs.coef[int(ph)*rs.taps : int(ph+1)*rs.taps]
		base := int(idx-x0) - rs.half + 1
		var acc float32
		if base >= 0 && base+rs.taps <= len(x) {
			xs := x[base : base+rs.taps]
			for i, c := range row {
				acc += c * xs[i]
			}
		} else {
			for i, c := range row {
				if k := base + i; k >= 0 && k < len(x) {
					acc += c * x[k]
				}
			}
		}
		out[int(j-j0)*stride] = toInt16(acc)
	}
}

func toInt16(v float32) int16 {
	return int16(max(-32768, min(32767, math.Round(float64(v)*32768))))
}

func sincPi(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the modified Bessel function of the first kind, order 0, by
// its power series (converges fast for the small arguments of a window).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / 2 / float64(k)) * (x / 2 / float64(k))
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

func rateGCD(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
