package engine

import (
	"context"
	"image"
	"runtime"
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

// BenchmarkLoopPushes is the loop's cost for one media second at 29.97 fps
// while ten 0.1 s segments are pushed into the queue per second: each op
// enqueues ten and plays a second, so the loop crosses ten boundaries,
// reports twenty events and releases ten segments per op.
func BenchmarkLoopPushes(b *testing.B) {
	l := NewLoop(LoopConfig{Rate: Rate2997, Width: 1280, Height: 720, Clock: NewFakeClock()})
	l.AddSink(loopNopSink{})
	events := 0
	l.OnEvent(func(Event) { events++ })
	img := image.NewYCbCr(image.Rect(0, 0, 1280, 720), image.YCbCrSubsampleRatio420)
	audio := newLoopAudio(4800, 1)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 1; b.Loop(); i++ {
		for range 10 {
			s := &Segment{Name: "push", Rate: Rate30, Width: 1280, Height: 720,
				Frames: &loopFrames{n: 3, img: img}, Audio: audio}
			if _, err := l.Enqueue(s, EnqueueOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		if err := l.RunFor(ctx, time.Duration(i)*time.Second); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e9, "s/media-s")
	b.StopTimer()
	// The live heap once played: the same whatever b.N (the segments are
	// released, the history bounded), plus the test store's prefetch log.
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	b.ReportMetric(float64(m.HeapAlloc)/1024, "heap-KiB")
	if events < 2*b.N*9 {
		b.Fatalf("%d events for %d pushes", events, 10*b.N)
	}
}

// BenchmarkLoopLive is the loop's cost for one media second at 25 fps
// playing a live segment fed 100 ms at a time (2.5 frames, 4800 samples),
// a second ahead.
func BenchmarkLoopLive(b *testing.B) {
	l := NewLoop(LoopConfig{Rate: Rate25, Width: 1280, Height: 720, Clock: NewFakeClock()})
	l.AddSink(loopNopSink{})
	ls, err := NewLiveSegment(LiveConfig{Name: "live", Rate: Rate25, Width: 1280, Height: 720, Channels: 2})
	if err != nil {
		b.Fatal(err)
	}
	img := image.NewYCbCr(image.Rect(0, 0, 1280, 720), image.YCbCrSubsampleRatio420)
	pcm := make([]int16, 2*4800)
	frames := 0
	feed := func(upTo time.Duration) {
		for Rate25.FrameNS(int64(frames)) < int64(upTo) {
			if err := ls.AppendFrame(img); err != nil {
				b.Fatal(err)
			}
			frames++
		}
		for v, a := ls.Buffered(); a < v; v, a = ls.Buffered() {
			if err := ls.AppendAudio(pcm); err != nil {
				b.Fatal(err)
			}
		}
	}
	feed(time.Second)
	if _, err := l.Enqueue(ls.Segment(), EnqueueOptions{}); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 1; b.Loop(); i++ {
		for j := range 10 {
			feed(time.Duration(10*i+j+11) * 100 * time.Millisecond)
		}
		if err := l.RunFor(ctx, time.Duration(i)*time.Second); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e9, "s/media-s")
	if st := l.Stats(); st.Underruns != 0 {
		b.Fatalf("stats %+v", st)
	}
}
