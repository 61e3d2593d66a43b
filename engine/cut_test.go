package engine

import (
	"fmt"
	"testing"
	"time"
)

// onFrame is a sink calling f as frame k is handed over, on the loop's
// goroutine: a command given at exactly that moment.
type onFrame struct {
	k int64
	f func()
}

func (o *onFrame) WriteVideo(v *VideoFrame) {
	if v.Seq == o.k {
		o.f()
	}
}
func (o *onFrame) WriteAudio(*AudioChunk) {}

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
					l.AddSink(&onFrame{k: j, f: func() { id = mustEnqueue(t, l, e, mode) }})
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
