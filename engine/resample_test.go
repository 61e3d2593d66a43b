package engine

import (
	"segcast/bench"

	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// tone is n frames of a sine at freq Hz sampled at rate, interleaved over
// channels (same signal on each).
func sineTone(freq float64, rate, n, channels int, amp float64) []float32 {
	out := make([]float32, n*channels)
	for i := range n {
		v := float32(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
		for c := range channels {
			out[i*channels+c] = v
		}
	}
	return out
}

// amplitudeAt is the amplitude (0..1) of the freq Hz component of channel
// c of 48 kHz int16 samples over [from, from+n): one DFT bin. With n =
// 48000 every whole-Hz tone falls exactly on a bin, so nothing leaks.
func amplitudeAt(s []int16, channels, c, from, n int, freq float64) float64 {
	var re, im float64
	for i := range n {
		v := float64(s[(from+i)*channels+c]) / 32768
		ph := 2 * math.Pi * freq * float64(i) / AudioRate
		re += v * math.Cos(ph)
		im -= v * math.Sin(ph)
	}
	return 2 * math.Hypot(re, im) / float64(n)
}

func dbOf(x float64) float64 { return 20 * math.Log10(x) }

func TestResampleSine(t *testing.T) {
	for _, rate := range []int{8000, 16000, 22050, 24000, 44100, 48000, 96000} {
		for _, ch := range []int{1, 2} {
			n := 2 * rate // 2 s
			out := Resample48k(sineTone(1000, rate, n, ch, 0.5), ch, rate)
			if want := 2 * AudioRate * ch; len(out) != want {
				t.Fatalf("%d Hz ×%d: %d samples, want %d", rate, ch, len(out), want)
			}
			for c := range ch {
				a := amplitudeAt(out, ch, c, 24000, 48000, 1000)
				if math.Abs(dbOf(a/0.5)) > 0.05 {
					t.Errorf("%d Hz ch %d: 1 kHz at %.2f dB, want 0", rate, c, dbOf(a/0.5))
				}
				// The tone is at 1 kHz, not next to it.
				for _, f := range []float64{990, 1010, 2000} {
					if a2 := amplitudeAt(out, ch, c, 24000, 48000, f); dbOf(a2/0.5) > -60 {
						t.Errorf("%d Hz ch %d: %v Hz at %.1f dB, want below -60", rate, c, f, dbOf(a2/0.5))
					}
				}
			}
		}
	}
}

// Lengths are ceil(n·48000/rate) for rates that do not divide evenly.
func TestResampleLength(t *testing.T) {
	for _, c := range []struct{ rate, n, want int }{{44100, 441, 480}, {44100, 1, 2}, {16000, 7, 21}, {96000, 3, 2}, {11025, 100, 436}} {
		if got := len(Resample48k(make([]float32, c.n), 1, c.rate)); got != c.want {
			t.Errorf("%d frames at %d Hz: %d out, want %d", c.n, c.rate, got, c.want)
		}
	}
}

// A 7 kHz tone at 16 kHz is close to the input Nyquist: it must pass
// intact while its images (16−7 = 9 kHz, 16+7 = 23 kHz) are removed.
func TestResampleNearNyquist(t *testing.T) {
	out := Resample48k(sineTone(7000, 16000, 32000, 1, 0.5), 1, 16000)
	a := amplitudeAt(out, 1, 0, 24000, 48000, 7000)
	if math.Abs(dbOf(a/0.5)) > 0.1 {
		t.Errorf("7 kHz at %.2f dB, want 0 ± 0.1", dbOf(a/0.5))
	}
	for _, f := range []float64{9000, 23000} {
		im := amplitudeAt(out, 1, 0, 24000, 48000, f)
		t.Logf("image at %v Hz: %.1f dB", f, dbOf(im/a))
		if dbOf(im/a) > -50 {
			t.Errorf("image at %v Hz: %.1f dB, want ≤ -50", f, dbOf(im/a))
		}
	}
}

// Downsampling must filter before decimating: a 30 kHz tone at 96 kHz
// would alias to 18 kHz.
func TestResampleDownsampleNoAlias(t *testing.T) {
	in := sineTone(30000, 96000, 192000, 1, 0.5)
	out := Resample48k(in, 1, 96000)
	if a := amplitudeAt(out, 1, 0, 24000, 48000, 18000); dbOf(a/0.5) > -60 {
		t.Errorf("alias at 18 kHz: %.1f dB, want ≤ -60", dbOf(a/0.5))
	}
}

func BenchmarkResample(b *testing.B) {
	for _, rate := range []int{16000, 44100} {
		in := sineTone(1000, rate, 10*rate, 2, 0.5) // 10 s stereo
		b.Run(map[int]string{16000: "16k", 44100: "44k1"}[rate], func(b *testing.B) {
			cpu0 := bench.ProcessCPU()
			for b.Loop() {
				Resample48k(in, 2, rate)
			}
			b.ReportMetric(float64(b.N)*10/b.Elapsed().Seconds(), "audio-s/s")
			b.ReportMetric(float64(b.N)*10/(bench.ProcessCPU()-cpu0).Seconds(), "audio-s/cpu-s")
		})
	}
}

// A Resampler fed in blocks of any size makes exactly what Resample48k
// makes of the whole input: loaders stream long files through it.
func TestResamplerStreamMatchesWhole(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, rate := range []int{8000, 16000, 22050, 44100, 48000, 96000} {
		for _, ch := range []int{1, 2} {
			n := rate/3 + rng.IntN(1000) // a third of a second, ragged
			in := make([]float32, n*ch)
			for i := range in {
				in[i] = float32(rng.Float64()*2 - 1)
			}
			whole := Resample48k(in, ch, rate)
			if int64(len(whole)) != Frames48k(int64(n), rate)*int64(ch) {
				t.Fatalf("%d Hz: %d samples, Frames48k says %d", rate, len(whole), Frames48k(int64(n), rate)*int64(ch))
			}
			r := NewResampler(rate, ch)
			var got []int16
			for rest := in; len(rest) > 0; {
				k := min(len(rest)/ch, 1+rng.IntN(700)) * ch
				got = r.Write(got, rest[:k])
				rest = rest[k:]
			}
			got = r.Flush(got)
			if !slices.Equal(got, whole) {
				t.Errorf("%d Hz ×%d: streamed output (%d samples) differs from the whole (%d)", rate, ch, len(got), len(whole))
			}
			if r.rs != nil && len(r.hist[0]) > r.rs.taps+700 {
				t.Errorf("%d Hz: holds %d input frames after the stream", rate, len(r.hist[0]))
			}
		}
	}
}
