package engine

import (
	"fmt"
	"image"
	"testing"
	"time"
)

// FuzzLoopCommands drives the loop with any sequence of playlist
// commands, pushes, live feeding, cancels, interrupts and idle clips (what
// a control API lets a remote producer do) and checks it never stalls or
// panics, the timestamps run on unbroken, and once every producer has
// ended everything pushed finishes and is released. Commands are given
// mid-run, as the next frame is handed over, with no lead or with the
// encoder's (then the sound lags the pictures: see "Cuts"), and with or
// without the window's batches while paused (LoopConfig.HeldBatch), and
// with or without serve's short lead while idle (LoopConfig.IdleLead).
func FuzzLoopCommands(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte{3, 3, 9, 9, 9, 15, 4, 10, 10, 15, 12, 15, 8, 15, 2, 15})
	f.Add([]byte{9, 41, 10, 10, 10, 15, 15, 10, 15, 15, 13, 15, 11, 15})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 200 {
			ops = ops[:200]
		}
		out := []Rate{Rate25, Rate2997, Rate60, Rate23976}[len(ops)%4]
		lead := []time.Duration{0, 100 * time.Millisecond}[len(ops)/4%2]
		batch := []time.Duration{0, 50 * time.Millisecond}[len(ops)/8%2] // the window's, while paused
		var idleLead time.Duration                                       // serve's, while idle is on air
		if lead > 0 && len(ops)/16%2 == 1 {
			idleLead = 40 * time.Millisecond
		}
		l := NewLoop(LoopConfig{Rate: out, Width: 32, Height: 18, Clock: NewFakeClock(), Lead: lead, HeldBatch: batch, IdleLead: idleLead})
		ts := &stampSink{out: out}
		l.AddSink(ts)
		var pending []func()
		do := func(c func()) { pending = append(pending, c) }
		l.AddSink(frameHook(func(*VideoFrame) {
			for _, c := range pending {
				c()
			}
			pending = pending[:0]
		}))
		log := &eventLog{}
		l.OnEvent(func(ev Event) { log.events = append(log.events, ev) })
		store := NewFrameStore(1 << 30)
		img := image.NewYCbCr(image.Rect(0, 0, 32, 18), image.YCbCrSubsampleRatio420)
		var pushed []*Segment
		var lives []*LiveSegment
		var ids []EntryID
		at := time.Duration(0)
		for i, op := range ops {
			arg := int(op >> 4)
			switch op & 15 {
			case 0:
				do(func() {
					l.Add(loopSeg(int16(arg+1), Rate30, arg+1, int64(arg)*2000, 32, 18))
				})
			case 1:
				do(l.Play)
			case 2:
				do(l.Pause)
			case 3:
				do(func() {
					_ = l.Seek(arg%3, time.Duration(arg)*37*time.Millisecond)
				})
			case 4:
				do(l.Next)
			case 5:
				do(func() {
					l.Remove(arg % 3)
				})
			case 6:
				do(func() {
					l.SetLoop(arg%2 == 0)
				})
			case 7:
				do(l.Stop)
			case 8:
				do(func() {
					s := loopSeg(int16(arg+1), Rate25, arg%5, int64(arg%4)*3000, 32, 18)
					if arg%3 == 0 {
						s = nil
					}
					_ = l.SetIdle(s)
				})
			case 9, 10: // push a loaded or a live segment
				do(func() {
					var s *Segment
					if op&15 == 9 {
						s = loopSeg(int16(arg+1), []Rate{Rate25, Rate30, Rate2997}[arg%3], arg%6, int64(arg%5)*2500, 32, 18)
					} else {
						ls, err := NewLiveSegment(LiveConfig{Name: "live", Rate: Rate25, Width: 32, Height: 18, Channels: 1 + arg%2, Store: store})
						if err != nil {
							t.Fatal(err)
						}
						lives = append(lives, ls)
						s = ls.Segment()
					}
					id, err := l.Enqueue(s, EnqueueOptions{Mode: Mode(arg % 2), Preroll: time.Duration(arg) * 20 * time.Millisecond})
					if err != nil {
						t.Fatal(err)
					}
					pushed, ids = append(pushed, s), append(ids, id)
				})
			case 11: // feed the latest live segment
				do(func() {
					if len(lives) > 0 {
						ls := lives[len(lives)-1]
						for range arg % 4 {
							_ = ls.AppendFrame(img)
						}
						_ = ls.AppendAudio(make([]int16, ls.cfg.Channels*arg*500))
						if arg > 12 {
							ls.End()
						}
					}
				})
			case 12:
				do(func() {
					if len(ids) > 0 {
						_ = l.Cancel(ids[arg%len(ids)])
					}
				})
			case 13:
				do(func() {
					l.Interrupt(arg%2 == 0)
				})
			case 14:
				do(func() {
					if len(ids) > 0 {
						_ = l.Fail(ids[arg%len(ids)], nil)
					}
				})
			default:
				at += time.Duration(arg*7+i%3) * 10 * time.Millisecond
				loopRunFor(t, l, at)
			}
		}
		at += time.Second // the last commands act
		loopRunFor(t, l, at)
		for _, ls := range lives {
			ls.End()
		}
		l.Stop()
		loopRunFor(t, l, at+time.Minute)
		if ts.err != nil {
			t.Fatal(ts.err)
		}
		for _, e := range l.Entries() {
			if e.State == EntryQueued || e.State == EntryPlaying {
				t.Fatalf("entry %+v still on after its producer ended", e)
			}
		}
		for _, s := range pushed {
			if lf, ok := s.Frames.(*loopFrames); ok && lf.released() != 1 {
				t.Fatalf("%s released %d times", s.Name, lf.released())
			}
		}
		if store.Used() != 0 {
			t.Fatalf("live segments hold %d bytes after release", store.Used())
		}
		ended := 0
		for _, ev := range log.events {
			if ev.Kind == EventEnded {
				ended++
			}
		}
		if ended != len(pushed) {
			t.Fatalf("%d ended events for %d pushes", ended, len(pushed))
		}
	})
}

// stampSink checks every item's sequence number and timestamps come from
// its index alone, storing nothing.
type stampSink struct {
	out  Rate
	k, n int64
	err  error
}

func (s *stampSink) WriteVideo(f *VideoFrame) {
	if s.err == nil && (f.Seq != s.k || f.MediaNS != s.out.FrameNS(s.k) || f.RTP != s.out.FrameRTP(s.k)) {
		s.err = fmt.Errorf("frame %d: seq %d media %d rtp %d", s.k, f.Seq, f.MediaNS, f.RTP)
	}
	s.k++
}

func (s *stampSink) WriteAudio(c *AudioChunk) {
	if s.err == nil && (c.Seq != s.n || c.MediaNS != s.n*ChunkNS || c.RTP != uint32(s.n*ChunkSamples)) {
		s.err = fmt.Errorf("chunk %d: seq %d media %d rtp %d", s.n, c.Seq, c.MediaNS, c.RTP)
	}
	s.n++
}
