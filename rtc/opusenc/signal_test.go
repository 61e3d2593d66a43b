package opusenc

import "math"

// tone fills a chunk of a stereo sine of frequency f and amplitude a
// (of full scale), continuing from sample frame start.
func tone(start int64, f, a float64) []int16 {
	pcm := make([]int16, FrameSamples*Channels)
	for i := range FrameSamples {
		v := int16(a * 32767 * math.Sin(2*math.Pi*f*float64(start+int64(i))/SampleRate))
		pcm[2*i], pcm[2*i+1] = v, v
	}
	return pcm
}

// channel picks one channel out of interleaved stereo as floats.
func channel(pcm []int16, ch int) []float64 {
	out := make([]float64, len(pcm)/Channels)
	for i := range out {
		out[i] = float64(pcm[i*Channels+ch]) / 32768
	}
	return out
}

// peakHz is the frequency, searched from 100 Hz to 8 kHz in 10 Hz steps,
// where the Hann-windowed DFT of x is largest.
func peakHz(x []float64) float64 {
	best, bestF := -1.0, 0.0
	n := float64(len(x))
	for f := 100.0; f <= 8000; f += 10 {
		var re, im float64
		for i, v := range x {
			w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/(n-1))
			ph := 2 * math.Pi * f * float64(i) / SampleRate
			re += w * v * math.Cos(ph)
			im -= w * v * math.Sin(ph)
		}
		if m := re*re + im*im; m > best {
			best, bestF = m, f
		}
	}
	return bestF
}

func rms(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s / float64(len(x)))
}

// speech fills a chunk, from sample frame start, of a voiced-speech-like
// sound: 24 harmonics of a pitch gliding 100…180 Hz, loudness rising and
// falling four times a second like syllables.
func speech(start int64) []int16 {
	pcm := make([]int16, FrameSamples*Channels)
	for i := range FrameSamples {
		t := float64(start+int64(i)) / SampleRate
		// Phase of f0(t) = 140 + 40·sin(2π·3t), integrated exactly.
		ph := 2 * math.Pi * (140*t - 40/(2*math.Pi*3)*math.Cos(2*math.Pi*3*t))
		env := 0.5 + 0.5*math.Sin(2*math.Pi*4*t)
		var v float64
		for h := 1; h <= 24; h++ {
			v += env * 0.25 / float64(h) * math.Sin(float64(h)*ph)
		}
		pcm[2*i] = int16(v * 32767)
		pcm[2*i+1] = pcm[2*i]
	}
	return pcm
}

// snr is 10·log10(signal/error) of x against ref, in dB.
func snr(ref, x []int16) float64 {
	var s, e float64
	for i := range ref {
		d := float64(ref[i]) - float64(x[i])
		s += float64(ref[i]) * float64(ref[i])
		e += d * d
	}
	return 10 * math.Log10(s/e)
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}
