package engine

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// frameHook is a sink calling itself as each frame is handed over, on the
// loop's goroutine: commands given at exactly that moment.
type frameHook func(*VideoFrame)

func (h frameHook) WriteVideo(v *VideoFrame) { h(v) }
func (h frameHook) WriteAudio(*AudioChunk)   {}

// onFrame calls f as frame k is handed over.
func onFrame(k int64, f func()) frameHook {
	return func(v *VideoFrame) {
		if v.Seq == k {
			f()
		}
	}
}

// With a lead, the sound is handed over a chunk and the fade after the
// pictures, so a command given as frame j is handed over acts at frame
// j+1 — the first one it can — with the outgoing sound still faded: at
// every phase of frames against chunks, at 25, 30000/1001 and 60 fps, for
// a ModeNow entry cutting the playlist and for a queued entry cutting the
// idle clip.
func TestCutActsAtTheNextFrame(t *testing.T) {
	for _, out := range []Rate{Rate25, Rate2997, Rate60} {
		for j := int64(20); j < 20+out.FramesIn(5*ChunkNS)+1; j++ {
			for _, fromIdle := range []bool{false, true} {
				t.Run(fmt.Sprintf("%v/frame%d/idle%v", out, j, fromIdle), func(t *testing.T) {
					l := NewLoop(LoopConfig{Rate: out, Width: 32, Height: 18, Clock: NewFakeClock(), Lead: 100 * time.Millisecond})
					rec := &loopRecSink{}
					l.AddSink(rec)
					from := loopSeg(1, out, 300, 10*AudioRate, 32, 18)
					e := loopSeg(2, out, 300, 10*AudioRate, 32, 18)
					mode := ModeNow
					if fromIdle {
						if err := l.SetIdle(from); err != nil {
							t.Fatal(err)
						}
						mode = ModeQueue
					} else {
						l.Add(from)
						l.Play()
					}
					var id EntryID
					l.AddSink(onFrame(j, func() { id = mustEnqueue(t, l, e, mode) }))
					loopRunFor(t, l, 2*time.Second)
					checkSpans(t, rec, out, []span{
						{seg: from, id: 1, k0: 0, k1: j + 1, cut: true},
						{seg: e, id: 2, entry: id, k0: j + 1, k1: -1},
					})
					checkRTP(t, rec, out)
				})
			}
		}
	}
}

// A run stopped while the sound lags the pictures hands over the sound up
// to the next picture's time before returning, no further: a timeline
// started at the next chunk's deadline (a new loop after a format change)
// then follows both without an overlap.
func TestStoppedRunCatchesUpSound(t *testing.T) {
	for _, out := range []Rate{Rate25, Rate2997, Rate60} {
		for j := int64(10); j < 10+out.FramesIn(5*ChunkNS)+1; j++ {
			l := NewLoop(LoopConfig{Rate: out, Width: 32, Height: 18, Clock: NewFakeClock(), Lead: 100 * time.Millisecond})
			rec := &loopRecSink{}
			l.AddSink(rec)
			ctx, cancel := context.WithCancel(context.Background())
			l.AddSink(onFrame(j, cancel))
			if err := l.Run(ctx); err != context.Canceled {
				t.Fatalf("Run: %v", err)
			}
			next := out.FrameNS(j + 1) // the first picture not handed over
			last := rec.audio[len(rec.audio)-1]
			if end := last.mediaNS + ChunkNS; end < next || end >= next+ChunkNS {
				t.Errorf("%v, stopped at frame %d (next at %d ns): sound handed over to %d ns, want the chunk reaching it", out, j, next, end)
			}
			if got := rec.video[len(rec.video)-1].seq; got != j {
				t.Errorf("%v: last frame %d, want %d", out, got, j)
			}
			checkRTP(t, rec, out)
		}
	}
}
