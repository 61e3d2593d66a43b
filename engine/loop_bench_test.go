package engine

import (
	"context"
	"segcast/bench"
	"testing"
	"time"
)

type loopNopSink struct{}

func (loopNopSink) WriteVideo(*VideoFrame) {}
func (loopNopSink) WriteAudio(*AudioChunk) {}

// BenchmarkLoopMediaSecond is the loop's own cost for one second of media
// (30 frames + 50 chunks at 29.97 fps) on the fake clock, with in-memory
// frames and sound and a sink that does nothing.
func BenchmarkLoopMediaSecond(b *testing.B) {
	l := NewLoop(LoopConfig{Rate: Rate2997, Width: 1280, Height: 720, Clock: NewFakeClock()})
	l.Add(loopSeg(1, Rate2997, 300, 10*AudioRate, 1280, 720))
	l.SetLoop(true)
	l.Play()
	l.AddSink(loopNopSink{})
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 1; b.Loop(); i++ {
		if err := l.RunFor(ctx, time.Duration(i)*time.Second); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e9, "s/media-s")
}

// BenchmarkLoopWallClock paces one media second per op in real time on
// the wall clock and reports the process CPU it took and the worst
// wake-up lateness. Run it with a small -benchtime (each op is 1 s).
func BenchmarkLoopWallClock(b *testing.B) {
	l := NewLoop(LoopConfig{Rate: Rate2997, Width: 1280, Height: 720, Clock: NewWallClock()})
	l.Add(loopSeg(1, Rate2997, 300, 10*AudioRate, 1280, 720))
	l.SetLoop(true)
	l.Play()
	l.AddSink(loopNopSink{})
	ctx := context.Background()
	cpu0 := bench.ProcessCPU()
	for i := 1; b.Loop(); i++ {
		if err := l.RunFor(ctx, time.Duration(i)*time.Second); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((bench.ProcessCPU()-cpu0).Microseconds())/1e3/float64(b.N), "cpu-ms/media-s")
	b.ReportMetric(float64(l.Stats().MaxLateness.Microseconds()), "max-late-µs")
}
