package avsync

import (
	"encoding/json"
	"testing"
)

// tenMinutes is a 10-minute run at one flash a second, as `segcast
// measure` collects it.
func tenMinutes() []Measurement {
	ms := make([]Measurement, 600)
	for i := range ms {
		ms[i] = row(int64(i*30), float64(i)*1000, float64(i%17)-8)
		ms[i].LatencyMS = Opt(60 + float64(i%5))
		ms[i].Freezes = 0
	}
	return ms
}

func BenchmarkSummariseTenMinutes(b *testing.B) {
	ms := tenMinutes()
	b.ReportAllocs()
	for b.Loop() {
		Summarise(ms)
	}
}

// The drift view's redraw: 800×500 pixels of a 10-minute run.
func BenchmarkRenderTenMinutes(b *testing.B) {
	r := Summarise(tenMinutes())
	b.ReportAllocs()
	for b.Loop() {
		Render(r, 800, 500, nil)
	}
}

func BenchmarkDecodePageMessage(b *testing.B) {
	msg, _ := json.Marshal(struct {
		T string `json:"t"`
		Measurement
	}{"m", tenMinutes()[7]})
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodePageMessage(msg); err != nil {
			b.Fatal(err)
		}
	}
}
