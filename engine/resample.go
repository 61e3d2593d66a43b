package engine

import (
	"math"
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
	frames := len(in) / channels
	if rate == AudioRate {
		out := make([]int16, frames*channels)
		for i := range out {
			out[i] = toInt16(in[i])
		}
		return out
	}
	rs := newResampler(rate)
	outFrames := int((int64(frames)*rs.up + rs.down - 1) / rs.down)
	out := make([]int16, outFrames*channels)
	// Channels are independent: one goroutine each uses both cores.
	var wg sync.WaitGroup
	for c := range channels {
		wg.Go(func() {
			x := make([]float32, frames)
			for i := range x {
				x[i] = in[i*channels+c]
			}
			rs.run(x, out[c:], channels, outFrames)
		})
	}
	wg.Wait()
	return out
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

// run filters one channel x into out[0], out[stride], … (n outputs).
func (rs *resampler) run(x []float32, out []int16, stride, n int) {
	for j := range n {
		pos := int64(j) * rs.down
		idx := pos / rs.up
		ph := pos % rs.up
		if rs.phases != rs.up {
			ph = ph * rs.phases / rs.up
		}
		row := rs.coef[int(ph)*rs.taps : int(ph+1)*rs.taps]
		base := int(idx) - rs.half + 1
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
		out[j*stride] = toInt16(acc)
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
