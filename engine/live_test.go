package engine

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// liveFeed appends to a live segment the frames and the loopSample sound
// of id (stereo), remembering how much it appended.
type liveFeed struct {
	t      *testing.T
	ls     *LiveSegment
	id     int16
	img    *image.YCbCr
	frames int
	sample int64
}

func newLiveFeed(t *testing.T, rate Rate, id int16, store *FrameStore) *liveFeed {
	ls, err := NewLiveSegment(LiveConfig{Name: fmt.Sprintf("live%d", id), Rate: rate, Width: 32, Height: 18,
		Channels: 2, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	return &liveFeed{t: t, ls: ls, id: id, img: image.NewYCbCr(image.Rect(0, 0, 32, 18), image.YCbCrSubsampleRatio420)}
}

// add appends frames and samples of sound.
func (f *liveFeed) add(frames int, samples int64) {
	f.t.Helper()
	for range frames {
		if err := f.ls.AppendFrame(f.img); err != nil {
			f.t.Fatal(err)
		}
		f.frames++
	}
	pcm := make([]int16, 2*samples)
	for i := range samples {
		pcm[2*i], pcm[2*i+1] = int16((f.sample+i)%30000+1), f.id
	}
	if err := f.ls.AppendAudio(pcm); err != nil {
		f.t.Fatal(err)
	}
	f.sample += samples
}

// A live segment starts once its pre-roll is buffered; when playback
// catches up with the producer it cuts (fading) at the last frame it can
// play whole, holds that frame with silence, reports the underrun with its
// length, and resumes on the frame grid once the pre-roll is buffered
// again, picture and sound on from where they stopped.
func TestLiveUnderrunHoldsAndResumes(t *testing.T) {
	out := Rate25
	l, rec, log := newQueueLoop(out)
	f := newLiveFeed(t, Rate25, 3, nil)
	loopRunFor(t, l, 200*time.Millisecond)
	id, err := l.Enqueue(f.ls.Segment(), EnqueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.add(3, 5760) // 120 ms: below the pre-roll
	loopRunFor(t, l, 400*time.Millisecond)
	if e, _ := l.Entry(id); e.State != EntryQueued || !e.Live {
		t.Fatalf("entry before its pre-roll %+v", e)
	}
	f.add(7, 13440) // 400 ms buffered
	loopRunFor(t, l, time.Second)
	f.add(10, 19200)
	f.ls.End()
	loopRunFor(t, l, 2*time.Second)

	// Starts at frame 10 (400 ms, the idle picture needs no fade); runs
	// dry at frame 20 (its 10 frames and 19 200 samples played), decided at
	// chunk 39 when the fade's room reached it; held frames 20–24; resumes
	// at frame 25 (1 s) with source frame 10 and sample 19 200.
	checkSpans(t, rec, out, []span{
		{k0: 0, k1: 10},
		{seg: f.ls.Segment(), id: 3, entry: id, k0: 10, k1: 20, cut: true},
		{seg: f.ls.Segment(), id: 3, entry: id, k0: 20, k1: 25, d0: 9, hold: true},
		{seg: f.ls.Segment(), id: 3, entry: id, k0: 25, k1: 35, d0: 10, a0: 19_200},
		{k0: 35, k1: -1},
	})
	checkRTP(t, rec, out)
	want := fmt.Sprintf("started%d underrun%d ended%d ", id, id, id)
	if log.kinds() != want {
		t.Fatalf("events %s, want %s", log.kinds(), want)
	}
	if ev := log.events[1]; ev.Duration != 200*time.Millisecond || ev.MediaNS != 800e6 {
		t.Fatalf("underrun %+v", ev)
	}
	e, _ := l.Entry(id)
	if e.State != EntryDone || e.Underruns != 1 || e.UnderrunTime != 200*time.Millisecond || e.StartedMediaNS != 400e6 || e.Frames != 20 {
		t.Fatalf("entry %+v", e)
	}
	if st := l.Stats(); st.Underruns != 1 || st.UnderrunTime != 200*time.Millisecond {
		t.Fatalf("stats %+v", st)
	}
	if _, err := f.ls.Segment().Frames.Frame(19); err == nil {
		t.Fatal("frames still held after release")
	}
	if err := f.ls.AppendFrame(f.img); err == nil {
		t.Fatal("append after End accepted")
	}
}

// Playback runs dry on the sound alone when the producer sends frames
// ahead of it: the cut falls where the sound ends, the frames wait.
func TestLiveUnderrunOnSound(t *testing.T) {
	out := Rate25
	l, rec, log := newQueueLoop(out)
	f := newLiveFeed(t, Rate25, 4, nil)
	id, _ := l.Enqueue(f.ls.Segment(), EnqueueOptions{Preroll: 100 * time.Millisecond})
	f.add(30, 4800) // 1.2 s of frames, 100 ms of sound
	loopRunFor(t, l, time.Second)
	f.add(0, 48000)
	f.ls.End()
	loopRunFor(t, l, 3*time.Second)
	// 100 ms of sound covers 2.5 frames: frames 0 and 1 play whole, the
	// cut at frame 2; the sound resumes at frame 50 (1 s) from sample 3840.
	checkSpans(t, rec, out, []span{
		{seg: f.ls.Segment(), id: 4, entry: id, k0: 0, k1: 2, cut: true},
		{seg: f.ls.Segment(), id: 4, entry: id, k0: 2, k1: 25, d0: 1, hold: true},
		{seg: f.ls.Segment(), id: 4, entry: id, k0: 25, k1: 25 + 28, d0: 2, a0: 3840},
		{k0: 53, k1: -1},
	})
	checkRTP(t, rec, out)
	if log.kinds() != fmt.Sprintf("started%d underrun%d ended%d ", id, id, id) {
		t.Fatalf("events %s", log.kinds())
	}
}

// A live segment cancelled while it holds ends cancelled; its underrun is
// still reported.
func TestLiveCancelWhileHolding(t *testing.T) {
	l, rec, log := newQueueLoop(Rate30)
	f := newLiveFeed(t, Rate30, 5, nil)
	id, _ := l.Enqueue(f.ls.Segment(), EnqueueOptions{})
	f.add(9, 14_400) // 300 ms
	loopRunFor(t, l, time.Second)
	if err := l.Cancel(id); err != nil {
		t.Fatal(err)
	}
	loopRunFor(t, l, 1500*time.Millisecond)
	checkSpans(t, rec, Rate30, []span{
		{seg: f.ls.Segment(), id: 5, entry: id, k0: 0, k1: 9, cut: true},
		{seg: f.ls.Segment(), id: 5, entry: id, k0: 9, k1: 30, d0: 8, hold: true},
		{k0: 30, k1: -1},
	})
	if log.kinds() != fmt.Sprintf("started%d underrun%d ended%d ", id, id, id) || log.events[2].State != EntryCancelled {
		t.Fatalf("events %v", log)
	}
}

// A producer pushing and ending at random, faster and slower than real
// time, at 25 and 30000/1001 fps: every source frame shows in order,
// every source sample plays once in order, each frame's first sample
// carries its own sound (exactly at 25 fps, 1920 samples a frame; within
// a sample at 30000/1001, however many underruns), fades only before
// holds, timestamps unbroken, the underruns add up, and the store gets
// every frame back.
func TestLiveRandomProducer(t *testing.T) {
	for _, out := range []Rate{Rate25, Rate2997} {
		for seed := range uint64(6) {
			t.Run(fmt.Sprintf("%v/%d", out, seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 7))
				store := NewFrameStore(1 << 30)
				l, rec, log := newQueueLoop(out)
				f := newLiveFeed(t, out, 240, store) // right channel 240: reads the fade's gain
				id, _ := l.Enqueue(f.ls.Segment(), EnqueueOptions{Preroll: time.Duration(rng.IntN(300)) * time.Millisecond})
				at := time.Duration(0)
				for f.frames < 400 {
					n := rng.IntN(12)
					f.add(n, max(0, (int64(f.frames+n)*AudioRate*out.Den)/out.Num-f.sample+int64(rng.IntN(1200))-600))
					at += time.Duration(rng.IntN(500)) * time.Millisecond
					loopRunFor(t, l, at)
				}
				f.ls.End()
				loopRunFor(t, l, at+30*time.Second)
				checkRTP(t, rec, out)
				if e, _ := l.Entry(id); e.State != EntryDone || store.Used() != 0 {
					t.Fatalf("entry %+v, store holds %d", e, store.Used())
				}
				checkLiveOutput(t, rec, out, log, f)
			})
		}
	}
}

// checkLiveOutput checks the invariants of TestLiveRandomProducer.
func checkLiveOutput(t *testing.T, rec *loopRecSink, out Rate, log *eventLog, f *liveFeed) {
	t.Helper()
	pcm := rec.pcm()
	next := int64(0) // next source sample expected
	src := make([]int64, len(pcm)/2)
	fading := false
	for o := range int64(len(pcm) / 2) {
		l, g := pcm[2*o], pcm[2*o+1]
		src[o] = -1
		switch {
		case g == 0:
			if l != 0 {
				t.Fatalf("sample %d: %d,%d", o, l, g)
			}
			fading = false
			continue
		case g < 240:
			fading = true
		case fading:
			// Data came in after the fade began: an underrun of 0 ms.
			if !slices.Contains(log.events, Event{Kind: EventUnderrun, Entry: 1, MediaNS: bigFloor(sampleFrame(out, o), 1e9*out.Den, out.Num)}) {
				t.Fatalf("sample %d: the fade stops before silence with no underrun reported", o)
			}
			fading = false
		}
		// Fading or not, the sound runs on by one source sample, except
		// that a resume (after silence or a fade) may repeat or skip one
		// at 30000/1001.
		s := next
		if o > 0 && g == 240 && pcm[2*o-1] < 240 && next > 0 {
			for _, c := range []int64{next, next - 1, next + 1} {
				if l == int16(c%30000+1) {
					s = c
					break
				}
			}
		}
		if want := int16(int32(s%30000+1) * int32(g) / 240); l != want {
			t.Fatalf("sample %d = %d (gain %d), want source sample %d: %d", o, l, g, s, want)
		}
		if s != next && out.Den == 1 {
			t.Fatalf("sample %d: source sample %d after %d at %v", o, s, next-1, out)
		}
		src[o] = s
		next = s + 1
	}
	if d := next - f.sample; d < -1 || d > 1 || out.Den == 1 && d != 0 {
		t.Fatalf("the sound ended at source sample %d of %d", next, f.sample)
	}
	held := map[int64]bool{} // output frames in underrun holds, from the events
	for _, ev := range log.events {
		if ev.Kind == EventUnderrun {
			for k := out.FramesIn(ev.MediaNS); k < out.FramesIn(ev.MediaNS+int64(ev.Duration)); k++ {
				held[k] = true
			}
		}
	}
	nextFrame := 0
	for _, v := range rec.video {
		if v.entry == 0 {
			continue
		}
		s := wantFirstSample(out, v.seq)
		silent := s >= int64(len(src)) || src[s] < 0
		switch {
		case held[v.seq]:
			if v.idx != nextFrame-1 || !silent {
				t.Fatalf("frame %d in an underrun shows source frame %d (next %d), silent %v", v.seq, v.idx, nextFrame, silent)
			}
		case v.idx == nextFrame:
			nextFrame++
			if silent {
				break
			}
			want := wantFirstSample(out, int64(v.idx)) // a 1:1 rate: output frame d shows source frame d
			if d := src[s] - want; d < -1 || d > 1 || out.Den == 1 && d != 0 {
				t.Fatalf("frame %d shows source frame %d with source sample %d, want %d", v.seq, v.idx, src[s], want)
			}
		case v.idx == nextFrame-1 && nextFrame == f.frames:
			// the sound outlasts the frames: the last one stays
		default:
			t.Fatalf("frame %d shows source frame %d, next is %d", v.seq, v.idx, nextFrame)
		}
	}
	if nextFrame != f.frames {
		t.Fatalf("%d source frames shown, %d appended", nextFrame, f.frames)
	}
}

// WaitRoom holds a producer far ahead and lets it go as playback moves
// on; the store accounts the frames held until played or released.
func TestLiveWaitRoomAndBudget(t *testing.T) {
	store := NewFrameStore(10 * (32*18 + 2*16*9))
	l, _, _ := newQueueLoop(Rate25)
	f := newLiveFeed(t, Rate25, 1, store)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	f.add(10, 19_200)
	if err := f.ls.WaitRoom(cancelled, 300*time.Millisecond); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitRoom with 400 ms buffered: %v", err)
	}
	var be *BudgetError
	if err := f.ls.AppendFrame(f.img); !errors.As(err, &be) {
		t.Fatalf("11th frame in a 10-frame budget: %v", err)
	}
	if v, a := f.ls.Buffered(); v != 400*time.Millisecond || a != 400*time.Millisecond {
		t.Fatalf("buffered %v %v", v, a)
	}
	id, _ := l.Enqueue(f.ls.Segment(), EnqueueOptions{})
	loopRunFor(t, l, 200*time.Millisecond)
	if err := f.ls.WaitRoom(cancelled, 300*time.Millisecond); err != nil {
		t.Fatalf("WaitRoom after 200 ms played: %v", err)
	}
	if used := store.Used(); used > 6*(32*18+2*16*9) {
		t.Fatalf("store holds %d bytes after 5 frames played", used)
	}
	if err := l.Cancel(id); err != nil {
		t.Fatal(err)
	}
	loopRunFor(t, l, 400*time.Millisecond)
	if store.Used() != 0 {
		t.Fatalf("store holds %d bytes after the cancelled segment was released", store.Used())
	}
	if _, err := l.Enqueue(f.ls.Segment(), EnqueueOptions{}); err == nil {
		t.Fatal("a live segment enqueued twice")
	}
	if l.Add(f.ls.Segment()) != -1 {
		t.Fatal("a live segment added to the playlist")
	}
}

func TestLiveConfigErrors(t *testing.T) {
	for _, c := range []LiveConfig{
		{Rate: Rate{0, 1}, Width: 32, Height: 18},
		{Rate: Rate25, Width: 0, Height: 18},
		{Rate: Rate25, Width: 32, Height: 18, Channels: 3},
	} {
		if _, err := NewLiveSegment(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	ls, _ := NewLiveSegment(LiveConfig{Name: "x", Rate: Rate25, Width: 32, Height: 18, Channels: 1})
	if err := ls.AppendFrame(image.NewYCbCr(image.Rect(0, 0, 30, 18), image.YCbCrSubsampleRatio420)); err == nil {
		t.Error("wrong frame size accepted")
	}
	for _, pcm := range [][]int16{{5, 6}, {7}} {
		if err := ls.AppendAudio(pcm); err != nil {
			t.Errorf("mono samples: %v", err)
		}
	}
	dst := make([]int16, 10)
	ls.Segment().Audio.Fill(dst, -1)
	if !slices.Equal(dst, []int16{0, 0, 5, 5, 6, 6, 7, 7, 0, 0}) {
		t.Errorf("mono fill %v", dst)
	}
}
