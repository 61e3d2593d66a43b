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

// While idle is on air the loop hands items over only IdleLead ahead, so a
// segment queued as frame j is handed over goes on air at frame j+1, about
// IdleLead away instead of Lead; then the lead is Lead again, the items
// between handed over at once without counting as late, and once idle is
// back it drops to IdleLead again. At 25, 30000/1001 and 60 fps, from the
// idle picture and from an idle clip.
func TestIdleLead(t *testing.T) {
	const lead, idleLead = 100 * time.Millisecond, 40 * time.Millisecond
	const lag = ChunkNS + CutFade
	for _, out := range []Rate{Rate25, Rate2997, Rate60} {
		for _, clip := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/clip%v", out, clip), func(t *testing.T) {
				clk := NewFakeClock()
				l := NewLoop(LoopConfig{Rate: out, Width: 32, Height: 18, Clock: clk, Lead: lead, IdleLead: idleLead})
				rec, at := &loopRecSink{}, &timeSink{clk: clk}
				l.AddSink(rec)
				l.AddSink(at)
				var idle *Segment
				if clip {
					idle = loopSeg(1, out, 300, 10*AudioRate, 32, 18)
					if err := l.SetIdle(idle); err != nil {
						t.Fatal(err)
					}
				}
				const j, frames = 40, 45
				e := loopSeg(2, out, frames, int64(frames)*AudioRate*int64(out.Den)/int64(out.Num), 32, 18)
				var id EntryID
				var pushedAt time.Duration
				l.AddSink(onFrame(j, func() { id, pushedAt = mustEnqueue(t, l, e, ModeQueue), clk.Now() }))
				loopRunFor(t, l, 4*time.Second)

				k1 := int64(j + 1 + frames)
				checkSpans(t, rec, out, []span{
					{seg: idle, id: 1, k0: 0, k1: j + 1, cut: clip},
					{seg: e, id: 2, entry: id, k0: j + 1, k1: k1},
					{seg: idle, id: 1, k0: k1, k1: -1},
				})
				checkRTP(t, rec, out)
				start, end := time.Duration(out.FrameNS(j+1)), time.Duration(out.FrameNS(k1))
				// Pushed as frame j went out, idle lead ahead of its deadline.
				if want := idleLead + time.Duration(out.FrameNS(j+1)-out.FrameNS(j)); start-pushedAt != want {
					t.Fatalf("pushed at %v, on air at %v: want the idle lead and a frame later (%v)", pushedAt, start, want)
				}
				for _, it := range at.items {
					full := lead
					if it.audio {
						full -= lag
					}
					short, d := full-(lead-idleLead), it.deadline
					want := time.Duration(-1)
					switch {
					case it.handed < pushedAt || d >= end: // idle: the short lead
						want = max(d-short, 0)
					case d >= start+lead && (d < end-lag || !it.audio): // the segment, caught up
						want = d - full
					}
					if want >= 0 && it.handed != want {
						t.Fatalf("item at %v (audio %v) handed over at %v, want %v", d, it.audio, it.handed, want)
					}
					// Else catching up at once (by when frame j+1 went out), or
					// sound near the end (its lead follows the next picture's).
					if hi := max(d-short, start-idleLead); it.handed > hi || it.handed < d-full {
						t.Fatalf("item at %v (audio %v) handed over at %v, want from %v to %v", d, it.audio, it.handed, d-full, hi)
					}
				}
				if st := l.Stats(); st.MaxLateness != 0 || st.LateAudio != 0 || st.SkippedVideo != 0 {
					t.Fatalf("the change of lead counted as lateness: %+v", st)
				}
			})
		}
	}
}
