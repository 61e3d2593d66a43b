package opusenc

import (
	"testing"

	"segcast/bench"
)

// BenchmarkEncode20ms encodes one 20 ms stereo chunk of speech-like sound
// per op, as configured for the stream, and reports CPU seconds per media
// second and the bitrate reached.
func BenchmarkEncode20ms(b *testing.B) {
	e, err := NewEncoder(Config{})
	if err != nil {
		b.Fatal(err)
	}
	chunks := make([][]int16, 50) // 1 s, looped
	for n := range chunks {
		chunks[n] = speech(int64(n) * FrameSamples)
	}
	bytes := 0
	cpu0 := bench.ProcessCPU()
	b.ResetTimer()
	for i := range b.N {
		pkt, err := e.Encode(chunks[i%len(chunks)])
		if err != nil {
			b.Fatal(err)
		}
		bytes += len(pkt)
	}
	b.StopTimer()
	media := float64(b.N) * 0.02
	b.ReportMetric((bench.ProcessCPU()-cpu0).Seconds()/media, "cpu-s/media-s")
	b.ReportMetric(float64(bytes*8)/media/1000, "kbps")
}

// BenchmarkDecode20ms decodes one 20 ms packet per op.
func BenchmarkDecode20ms(b *testing.B) {
	e, err := NewEncoder(Config{})
	if err != nil {
		b.Fatal(err)
	}
	d, err := NewDecoder()
	if err != nil {
		b.Fatal(err)
	}
	pkts := make([][]byte, 50)
	for n := range pkts {
		if pkts[n], err = e.Encode(speech(int64(n) * FrameSamples)); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	for b.Loop() {
		if _, err := d.Decode(pkts[i%len(pkts)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
