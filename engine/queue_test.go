package engine

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// span is one stretch of expected output, from the rules: frames
// [k0, k1) (k1 < 0: to the end of the recording) show seg from position
// (d0, a0), its sound from output sample wantFirstSample(k0); a nil seg is
// the idle picture with silence; cut fades the last 240 samples before
// k1's first sample; hold shows frame position d0 throughout, silent.
type span struct {
	seg    *Segment
	id     int16 // loopSeg id: the right channel
	entry  EntryID
	k0, k1 int64
	d0, a0 int64
	cut    bool
	hold   bool
}

// checkSpans checks every recorded frame and sample against spans, which
// must cover the recording back to back.
func checkSpans(t *testing.T, rec *loopRecSink, out Rate, spans []span) {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	end := func(sp span) int64 {
		if sp.k1 < 0 {
			return int64(len(rec.video)) + 100
		}
		return sp.k1
	}
	j := 0
	for _, v := range rec.video {
		for v.seq >= end(spans[j]) {
			j++
		}
		sp := spans[j]
		wantIdx := -1
		switch {
		case sp.hold:
			wantIdx = wantSourceFrame(sp.seg, out, sp.d0)
		case sp.seg != nil:
			wantIdx = wantSourceFrame(sp.seg, out, sp.d0+v.seq-sp.k0)
		}
		if v.idx != wantIdx || v.entry != sp.entry {
			t.Fatalf("frame %d shows %d (entry %d), want %d (entry %d, span %d from frame %d)",
				v.seq, v.idx, v.entry, wantIdx, sp.entry, j, sp.k0)
		}
	}
	var pcm []int16
	for _, a := range rec.audio {
		pcm = append(pcm, a.samples...)
	}
	j = 0
	for o := range int64(len(pcm) / 2) {
		for o >= wantFirstSample(out, end(spans[j])) {
			j++
		}
		sp := spans[j]
		var l, r int16
		if sp.seg != nil && sp.seg.Audio != nil && !sp.hold {
			l, r = loopSample(sp.id, sp.a0+o-wantFirstSample(out, sp.k0), sp.seg.Audio.Len())
			if s1 := wantFirstSample(out, end(sp)); sp.cut && o >= s1-240 {
				g := int32(s1 - o)
				l, r = int16(int32(l)*g/240), int16(int32(r)*g/240)
			}
		}
		if pcm[2*o] != l || pcm[2*o+1] != r {
			t.Fatalf("sample %d = %d,%d, want %d,%d (span %d from frame %d)", o, pcm[2*o], pcm[2*o+1], l, r, j, sp.k0)
		}
	}
}

// checkRTP checks the recording's timestamps run on unbroken: every frame
// one frame step after the last (computed from k), every chunk 960 on.
func checkRTP(t *testing.T, rec *loopRecSink, out Rate) {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for i, v := range rec.video {
		k := int64(i)
		if v.seq != k || v.mediaNS != bigFloor(k, 1e9*out.Den, out.Num) || v.rtp != uint32(bigFloor(k, 90000*out.Den, out.Num)) {
			t.Fatalf("frame %d: seq %d media %d rtp %d", k, v.seq, v.mediaNS, v.rtp)
		}
	}
	for i, a := range rec.audio {
		n := int64(i)
		if a.seq != n || a.mediaNS != n*ChunkNS || a.rtp != uint32(n*960) {
			t.Fatalf("chunk %d: seq %d media %d rtp %d", n, a.seq, a.mediaNS, a.rtp)
		}
	}
}

// eventLog records events (handlers run on the loop's goroutine, which is
// the test's during RunFor).
type eventLog struct{ events []Event }

func (e *eventLog) String() string { return fmt.Sprint(e.events) }

func (e *eventLog) kinds() string {
	s := ""
	for _, ev := range e.events {
		s += fmt.Sprintf("%s%d ", ev.Kind, ev.Entry)
	}
	return s
}

func newQueueLoop(out Rate) (*Loop, *loopRecSink, *eventLog) {
	l, _, rec := newLoopRec(out, 32, 18)
	log := &eventLog{}
	l.OnEvent(func(ev Event) { log.events = append(log.events, ev) })
	return l, rec, log
}

func mustEnqueue(t *testing.T, l *Loop, s *Segment, m Mode) EntryID {
	t.Helper()
	id, err := l.Enqueue(s, EnqueueOptions{Mode: m})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func released(s *Segment) int { return s.Frames.(*loopFrames).released() }

// Pushed segments play once each, in order, back to back on the frame
// grid; the first cuts the idle picture at the next frame; then idle
// again. Each reports started (its first frame's media time and deadline)
// and ended, and is released once played.
func TestQueuePlaysInOrder(t *testing.T) {
	out := Rate2997
	l, rec, log := newQueueLoop(out)
	a := loopSeg(1, Rate25, 20, 40_000, 32, 18)   // frames 0.8 s, sound 0.833 s
	b := loopSeg(2, Rate30, 15, 0, 32, 18)        // frames only
	c := loopSeg(3, Rate2997, 10, 30_000, 32, 18) // sound longer than the frames
	loopRunFor(t, l, 300*time.Millisecond)
	ids := []EntryID{mustEnqueue(t, l, a, ModeQueue), mustEnqueue(t, l, b, ModeQueue), mustEnqueue(t, l, c, ModeQueue)}
	if e := l.Entries(); len(e) != 3 || e[0].State != EntryQueued || e[0].ID != ids[0] || e[2].Name != "seg3" {
		t.Fatalf("entries %+v", e)
	}
	loopRunFor(t, l, 5*time.Second)
	// The idle picture has no sound: a starts at the first frame not yet
	// handed over, frame 9 (300.3 ms).
	ka := out.FramesIn(int64(300 * time.Millisecond))
	kb := ka + wantSlot(a, out)
	kc := kb + wantSlot(b, out)
	kEnd := kc + wantSlot(c, out)
	checkSpans(t, rec, out, []span{
		{k0: 0, k1: ka},
		{seg: a, id: 1, entry: ids[0], k0: ka, k1: kb},
		{seg: b, id: 2, entry: ids[1], k0: kb, k1: kc},
		{seg: c, id: 3, entry: ids[2], k0: kc, k1: kEnd},
		{k0: kEnd, k1: -1},
	})
	checkRTP(t, rec, out)
	if got, want := log.kinds(), fmt.Sprintf("started%d ended%d started%d ended%d started%d ended%d ", ids[0], ids[0], ids[1], ids[1], ids[2], ids[2]); got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
	for i, k := range []int64{ka, kb, kc} {
		ev := log.events[2*i]
		if v := rec.video[k]; ev.MediaNS != v.mediaNS || ev.Deadline != v.deadline {
			t.Fatalf("started %+v, want frame %d's media time %d and deadline %v", ev, k, v.mediaNS, v.deadline)
		}
		if ev := log.events[2*i+1]; ev.State != EntryDone {
			t.Fatalf("ended %+v", ev)
		}
	}
	for i, e := range l.Entries() {
		if e.ID != ids[i] || e.State != EntryDone || !e.Started || e.StartedMediaNS != log.events[2*i].MediaNS {
			t.Fatalf("entry %+v", e)
		}
	}
	for _, s := range []*Segment{a, b, c} {
		if n := released(s); n != 1 {
			t.Fatalf("%s released %d times", s.Name, n)
		}
	}
	if p := l.Position(); p.OnAir != 0 || p.Segment != -1 {
		t.Fatalf("position %+v", p)
	}
}

// ModeNow cuts the playlist segment on air at the first frame boundary
// that leaves room for the fade; queued entries follow it; then the
// playlist resumes where it was cut. A ModeQueue entry pushed while the
// playlist plays waits for the playlist segment to end.
func TestQueueNowCutsPlaylist(t *testing.T) {
	out := Rate25
	l, rec, log := newQueueLoop(out)
	p := loopSeg(9, Rate25, 100, 4*AudioRate, 32, 18) // 4 s
	e1 := loopSeg(1, Rate25, 12, 24_000, 32, 18)      // 13 frames (its sound needs 12.5)
	e2 := loopSeg(2, Rate30, 15, 24_000, 32, 18)      // 13 frames
	e3 := loopSeg(3, Rate25, 5, 9_600, 32, 18)        // 5 frames
	l.Add(p)
	l.Play()
	loopRunFor(t, l, time.Second)
	id1 := mustEnqueue(t, l, e1, ModeNow)
	id2 := mustEnqueue(t, l, e2, ModeQueue)
	loopRunFor(t, l, 3*time.Second)
	if pos := l.Position(); pos.OnAir != 0 || pos.Segment != 0 || !pos.Playing {
		t.Fatalf("position while the playlist plays again: %+v", pos)
	}
	id3 := mustEnqueue(t, l, e3, ModeQueue)
	loopRunFor(t, l, 7*time.Second)
	cut := wantCut(out, 50) // frame 26
	k2 := cut + 13
	kp := k2 + 13
	k3 := kp + 100 - cut
	checkSpans(t, rec, out, []span{
		{seg: p, id: 9, k0: 0, k1: cut, cut: true},
		{seg: e1, id: 1, entry: id1, k0: cut, k1: k2},
		{seg: e2, id: 2, entry: id2, k0: k2, k1: kp},
		{seg: p, id: 9, k0: kp, k1: k3, d0: cut, a0: wantFirstSample(out, cut)},
		{seg: e3, id: 3, entry: id3, k0: k3, k1: k3 + 5},
		{k0: k3 + 5, k1: -1},
	})
	checkRTP(t, rec, out)
	if got, want := log.kinds(), fmt.Sprintf("started%d ended%d started%d ended%d started%d ended%d ", id1, id1, id2, id2, id3, id3); got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
	if n := released(p); n != 0 {
		t.Fatalf("the playlist's segment was released %d times: the playlist keeps ownership", n)
	}
}

// Cancel drops a queued entry or cuts a playing one; Interrupt cuts what
// plays, the next queued entry following, or idle when it clears the
// queue. Cut entries end cancelled, are reported and released.
func TestQueueCancelAndInterrupt(t *testing.T) {
	out := Rate30
	l, rec, log := newQueueLoop(out)
	segs := make([]*Segment, 5)
	for i := range segs {
		segs[i] = loopSeg(int16(i+1), Rate30, 60, 2*AudioRate, 32, 18) // 2 s each
	}
	a := mustEnqueue(t, l, segs[0], ModeQueue)
	b := mustEnqueue(t, l, segs[1], ModeQueue)
	c := mustEnqueue(t, l, segs[2], ModeQueue)
	if err := l.Cancel(b); err != nil {
		t.Fatal(err)
	}
	if e, ok := l.Entry(b); !ok || e.State != EntryCancelled {
		t.Fatalf("cancelled queued entry: %+v", e)
	}
	loopRunFor(t, l, 500*time.Millisecond)
	if err := l.Cancel(a); err != nil { // playing: cut
		t.Fatal(err)
	}
	loopRunFor(t, l, time.Second)
	d := mustEnqueue(t, l, segs[3], ModeQueue)
	l.Interrupt(false) // cuts c, d follows
	loopRunFor(t, l, 1500*time.Millisecond)
	e := mustEnqueue(t, l, segs[4], ModeQueue)
	l.Interrupt(true) // cuts d, drops e: idle
	loopRunFor(t, l, 2*time.Second)

	k1, k2, k3 := wantCut(out, 25), wantCut(out, 50), wantCut(out, 75)
	checkSpans(t, rec, out, []span{
		{seg: segs[0], id: 1, entry: a, k0: 0, k1: k1, cut: true},
		{seg: segs[2], id: 3, entry: c, k0: k1, k1: k2, cut: true},
		{seg: segs[3], id: 4, entry: d, k0: k2, k1: k3, cut: true},
		{k0: k3, k1: -1},
	})
	checkRTP(t, rec, out)
	want := fmt.Sprintf("ended%d started%d ended%d started%d ended%d started%d ended%d ended%d ", b, a, a, c, c, d, e, d)
	if got := log.kinds(); got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
	for _, id := range []EntryID{a, b, c, d, e} {
		if x, _ := l.Entry(id); x.State != EntryCancelled {
			t.Fatalf("entry %+v", x)
		}
	}
	for i, s := range segs {
		if n := released(s); n != 1 {
			t.Fatalf("segment %d released %d times", i, n)
		}
	}
	if err := l.Cancel(a); !errors.Is(err, ErrFinished) {
		t.Fatalf("Cancel of a finished entry: %v", err)
	}
	if err := l.Cancel(99); !errors.Is(err, ErrNoEntry) {
		t.Fatalf("Cancel of an unknown entry: %v", err)
	}
	if err := l.Fail(99, errors.New("x")); !errors.Is(err, ErrNoEntry) {
		t.Fatalf("Fail of an unknown entry: %v", err)
	}
}

// Fail ends an entry like Cancel, with state failed and the reason.
func TestQueueFail(t *testing.T) {
	l, _, log := newQueueLoop(Rate25)
	s := loopSeg(1, Rate25, 50, 0, 32, 18)
	id := mustEnqueue(t, l, s, ModeQueue)
	loopRunFor(t, l, 200*time.Millisecond)
	if err := l.Fail(id, errors.New("bad frame")); err != nil {
		t.Fatal(err)
	}
	loopRunFor(t, l, 400*time.Millisecond)
	if e, _ := l.Entry(id); e.State != EntryFailed || e.Err != "bad frame" || !e.Started {
		t.Fatalf("entry %+v", e)
	}
	if ev := log.events[len(log.events)-1]; ev.Kind != EventEnded || ev.State != EntryFailed {
		t.Fatalf("events %v", log)
	}
}

// The idle clip loops on the frame grid whenever nothing is queued; a
// pushed segment cuts it (with the fade: it has sound); after the push it
// starts again from its start. Replacing it cuts to the new clip; nil
// restores the idle picture. Replaced clips are released once off air.
func TestQueueIdleClip(t *testing.T) {
	out := Rate25
	l, rec, log := newQueueLoop(out)
	clip := loopSeg(5, Rate25, 10, 20_000, 32, 18) // 11 frames: its sound needs 10.4
	other := loopSeg(6, Rate25, 7, 0, 32, 18)
	e := loopSeg(1, Rate25, 8, 15_360, 32, 18) // 8 frames
	if err := l.SetIdle(clip); err != nil {
		t.Fatal(err)
	}
	loopRunFor(t, l, time.Second)
	id := mustEnqueue(t, l, e, ModeQueue)
	loopRunFor(t, l, 3*time.Second)
	if err := l.SetIdle(other); err != nil {
		t.Fatal(err)
	}
	loopRunFor(t, l, 4*time.Second)
	if l.IdleClip() != other {
		t.Fatal("IdleClip is not the one set")
	}
	if err := l.SetIdle(nil); err != nil {
		t.Fatal(err)
	}
	loopRunFor(t, l, 5*time.Second)

	cut := wantCut(out, 50) // 26, inside the third pass (22–33)
	back := cut + 8
	spans := []span{
		{seg: clip, id: 5, k0: 0, k1: 11}, {seg: clip, id: 5, k0: 11, k1: 22},
		{seg: clip, id: 5, k0: 22, k1: cut, cut: true},
		{seg: e, id: 1, entry: id, k0: cut, k1: back},
	}
	k := back
	for ; k+11 <= wantCut(out, 150); k += 11 {
		spans = append(spans, span{seg: clip, id: 5, k0: k, k1: k + 11})
	}
	cut2 := wantCut(out, 150)
	spans = append(spans, span{seg: clip, id: 5, k0: k, k1: cut2, cut: true})
	// other has no sound: replacing it needs no room for a fade.
	cut3 := out.FramesIn(4e9)
	for k = cut2; k+7 <= cut3; k += 7 {
		spans = append(spans, span{seg: other, id: 6, k0: k, k1: k + 7})
	}
	spans = append(spans, span{seg: other, id: 6, k0: k, k1: cut3}, span{k0: cut3, k1: -1})
	checkSpans(t, rec, out, spans)
	checkRTP(t, rec, out)
	if released(clip) != 1 || released(other) != 1 || released(e) != 1 {
		t.Fatalf("released: clip %d, other %d, pushed %d", released(clip), released(other), released(e))
	}
	if log.kinds() != fmt.Sprintf("started%d ended%d ", id, id) {
		t.Fatalf("events %s", log.kinds())
	}
	if err := l.SetIdle(&Segment{Name: "x"}); err == nil {
		t.Fatal("SetIdle accepted a segment without frames")
	}
}

// Played entries are released and only a bounded history is kept, so the
// queue's memory stays flat however many segments pass through it.
func TestQueueReleasesAndForgets(t *testing.T) {
	out := Rate30
	l, _, log := newQueueLoop(out)
	const n = 600
	segs := make([]*Segment, n)
	for i := range segs {
		segs[i] = loopSeg(int16(i%100+1), Rate30, 3, 4800, 32, 18) // 0.1 s
		mustEnqueue(t, l, segs[i], ModeQueue)
	}
	loopRunFor(t, l, time.Duration(n+10)*100*time.Millisecond)
	for i, s := range segs {
		if released(s) != 1 {
			t.Fatalf("segment %d released %d times", i, released(s))
		}
	}
	entries := l.Entries()
	if len(entries) != historyLen || entries[0].ID != n-historyLen+1 || entries[len(entries)-1].ID != n {
		t.Fatalf("%d entries kept, from %d to %d", len(entries), entries[0].ID, entries[len(entries)-1].ID)
	}
	if _, ok := l.Entry(1); ok {
		t.Fatal("entry 1 still kept")
	}
	l.mu.Lock()
	for _, e := range l.history {
		if e.seg != nil {
			t.Errorf("finished entry %d still holds its segment", e.id)
		}
	}
	l.mu.Unlock()
	if len(log.events) != 2*n {
		t.Fatalf("%d events", len(log.events))
	}
	for i, ev := range log.events {
		if ev.Entry != EntryID(i/2+1) {
			t.Fatalf("event %d: %+v", i, ev)
		}
	}
}

func TestQueueEnqueueErrors(t *testing.T) {
	l := NewLoop(LoopConfig{Clock: NewFakeClock()})
	s := loopSeg(1, Rate30, 3, 0, 32, 18)
	for _, c := range []struct {
		seg  *Segment
		opt  EnqueueOptions
		want string
	}{
		{nil, EnqueueOptions{}, "no segment"},
		{s, EnqueueOptions{Mode: 7}, "unknown mode"},
		{s, EnqueueOptions{Preroll: -time.Second}, "negative"},
	} {
		if _, err := l.Enqueue(c.seg, c.opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Enqueue(%v, %+v) = %v, want %q", c.seg, c.opt, err, c.want)
		}
	}
	for in, want := range map[string]Mode{"": ModeQueue, "queue": ModeQueue, "now": ModeNow} {
		if m, err := ParseMode(in); err != nil || m != want {
			t.Errorf("ParseMode(%q) = %v, %v", in, m, err)
		}
	}
	if _, err := ParseMode("later"); err == nil {
		t.Error("ParseMode accepted later")
	}
}

// An idle clip set again before the loop released it stays usable.
func TestQueueIdleClipSetAgain(t *testing.T) {
	l, rec, _ := newQueueLoop(Rate25)
	a := loopSeg(1, Rate25, 10, 0, 32, 18)
	b := loopSeg(2, Rate25, 10, 0, 32, 18)
	_ = l.SetIdle(a)
	_ = l.SetIdle(b)
	_ = l.SetIdle(a)
	loopRunFor(t, l, 2*time.Second)
	if released(a) != 0 || released(b) != 1 {
		t.Fatalf("released: a %d, b %d", released(a), released(b))
	}
	checkSpans(t, rec, Rate25, []span{{seg: a, id: 1, k0: 0, k1: 10}, {seg: a, id: 1, k0: 10, k1: 20},
		{seg: a, id: 1, k0: 20, k1: 30}, {seg: a, id: 1, k0: 30, k1: 40}, {seg: a, id: 1, k0: 40, k1: -1}})
}
