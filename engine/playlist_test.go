package engine

import (
	"strings"
	"testing"
	"time"
)

// Three segments back to back, played once at 60 fps: each starts on the
// frame grid, its sound at that frame's first sample; frames map by media
// time; each slot's silent tail fills to the next frame boundary; then the
// loop stops and goes idle.
func TestPlaylistContinuityAcrossSegments(t *testing.T) {
	a := loopSeg(1, Rate25, 26, 50_000, 32, 18)   // 1.04 s of frames, 1.0417 s of sound
	b := loopSeg(2, Rate2997, 20, 24_001, 32, 18) // 0.667 s of frames, 0.5 s of sound
	c := loopSeg(3, Rate23976, 3, 0, 32, 18)      // frames only: 0.125 s
	segs := []*Segment{a, b, c}
	l, _, rec := newLoopRec(Rate60, 32, 18)
	for _, s := range segs {
		l.Add(s)
	}
	l.Play()
	loopRunFor(t, l, 3*time.Second)
	// Slots: a 63 frames (its sound needs 62.5), b 41 (frames to 0.6673 s),
	// c 8 (to 0.1251 s); at 60 fps every frame is 800 samples.
	starts := []int64{0, 63, 104, 112}
	for i, s := range segs {
		if got := wantSlot(s, Rate60); got != starts[i+1]-starts[i] {
			t.Fatalf("segment %d: slot %d frames, want %d", i, got, starts[i+1]-starts[i])
		}
	}
	for _, v := range rec.video {
		wantSeg, wantIdx := -1, -1
		for j, s := range segs {
			if v.seq >= starts[j] && v.seq < starts[j+1] {
				wantSeg, wantIdx = j, wantSourceFrame(s, Rate60, v.seq-starts[j])
			}
		}
		if v.seg != wantSeg || v.idx != wantIdx {
			t.Fatalf("frame %d at %d: %d/%d, want %d/%d", v.seq, v.mediaNS, v.seg, v.idx, wantSeg, wantIdx)
		}
	}
	// The expected sound, sample by sample.
	pcm := rec.pcm()
	for s := range int64(len(pcm) / 2) {
		var l, r int16
		switch {
		case s < 50_400:
			l, r = loopSample(1, s, 50_000)
		case s < 83_200:
			l, r = loopSample(2, s-50_400, 24_001)
		}
		if pcm[2*s] != l || pcm[2*s+1] != r {
			t.Fatalf("output sample %d = %d,%d; want %d,%d", s, pcm[2*s], pcm[2*s+1], l, r)
		}
	}
	for n, ch := range rec.audio {
		s0 := int64(n) * ChunkSamples
		wantSeg, wantIdx := -1, int64(-1)
		for j, s := range segs {
			if first := starts[j] * 800; s0 >= first && s0 < starts[j+1]*800 {
				wantSeg, wantIdx = j, s0-first
				if s.Audio == nil || wantIdx >= s.Audio.Len() {
					wantIdx = -1 // the slot's silent tail
				}
			}
		}
		if ch.seg != wantSeg || ch.idx != wantIdx {
			t.Fatalf("chunk %d: %d/%d, want %d/%d", n, ch.seg, ch.idx, wantSeg, wantIdx)
		}
	}
	if p := l.Position(); p.Segment != -1 || p.Playing {
		t.Fatalf("after the end: %+v", p)
	}
}

// Looping wraps to the first segment on the same grid, without a gap.
func TestPlaylistLoopWraps(t *testing.T) {
	l, _, rec := newLoopRec(Rate25, 32, 18)
	l.Add(loopSeg(1, Rate25, 10, 19_000, 32, 18)) // slot 0.4 s
	l.Add(loopSeg(2, Rate25, 5, 0, 32, 18))       // slot 0.2 s
	l.SetLoop(true)
	l.Play()
	loopRunFor(t, l, 2*time.Second)
	for _, v := range rec.video {
		p := v.mediaNS % 600_000_000
		wantSeg, wantIdx := 0, int(p/40_000_000)
		if p >= 400_000_000 {
			wantSeg, wantIdx = 1, int((p-400_000_000)/40_000_000)
		}
		if v.seg != wantSeg || v.idx != wantIdx {
			t.Fatalf("frame %d: %d/%d, want %d/%d", v.seq, v.seg, v.idx, wantSeg, wantIdx)
		}
	}
	for n, ch := range rec.audio {
		p := int64(n) * ChunkNS % 600_000_000
		if p < 400_000_000 {
			if ch.seg != 0 || ch.idx != p*48/1e6 {
				t.Fatalf("chunk %d: %d/%d", n, ch.seg, ch.idx)
			}
			checkSamples(t, n, ch.samples, 1, p*48/1e6, 19_000)
		} else if ch.seg != 1 || ch.idx != -1 || !isSilence(ch.samples) {
			t.Fatalf("chunk %d: %d/%d", n, ch.seg, ch.idx)
		}
	}
	if p := l.Position(); !p.Playing || !p.Looping {
		t.Fatalf("position %+v", p)
	}
}

// A seek off the frame grid: the segment plays from there on the grid,
// picture and sound from the exact position; its rest ends at a frame
// boundary, where the next segment starts.
func TestPlaylistSeekOffGrid(t *testing.T) {
	a := loopSeg(1, Rate30, 30, AudioRate, 32, 18) // slot 1 s
	b := loopSeg(2, Rate30, 30, AudioRate, 32, 18)
	l, _, rec := newLoopRec(Rate30, 32, 18)
	l.Add(a)
	l.Add(b)
	off := 993_123_457 * time.Nanosecond // 6.88 ms before segment a's end
	if err := l.Seek(0, off); err != nil {
		t.Fatal(err)
	}
	if p := l.Position(); p.Playing || p.Segment != 0 || p.Offset != off {
		t.Fatalf("after Seek from stopped: %+v", p)
	}
	l.Play()
	loopRunFor(t, l, 100*time.Millisecond)
	// a's rest (331 samples, one frame's picture) fills frame 0; b starts
	// at frame 1, sample 1600.
	first := int64(off) * 48 / 1e6 // 47669
	pcm := rec.pcm()
	for i := range int64(len(pcm) / 2) {
		var l, r int16
		switch {
		case first+i < AudioRate:
			l, r = loopSample(1, first+i, AudioRate)
		case i >= 1600:
			l, r = loopSample(2, i-1600, AudioRate)
		}
		if pcm[2*i] != l || pcm[2*i+1] != r {
			t.Fatalf("sample %d after the seek = %d,%d; want %d,%d", i, pcm[2*i], pcm[2*i+1], l, r)
		}
	}
	if rec.audio[0].seg != 0 || rec.audio[0].idx != first || rec.audio[2].seg != 1 || rec.audio[2].idx != 2*960-1600 {
		t.Fatalf("chunks %d/%d, %d/%d", rec.audio[0].seg, rec.audio[0].idx, rec.audio[2].seg, rec.audio[2].idx)
	}
	for _, v := range rec.video {
		wantSeg, wantIdx := 1, int(v.seq-1)
		if v.seq == 0 {
			wantSeg, wantIdx = 0, 29
		}
		if v.seg != wantSeg || v.idx != wantIdx {
			t.Fatalf("frame %d: %d/%d, want %d/%d", v.seq, v.seg, v.idx, wantSeg, wantIdx)
		}
	}

	for _, bad := range []struct {
		seg  int
		off  time.Duration
		want string
	}{{2, 0, "segment 2 out of range"}, {-1, 0, "out of range"}, {0, -time.Nanosecond, "outside segment 0"}, {1, time.Second, "outside segment 1"}} {
		if err := l.Seek(bad.seg, bad.off); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("Seek(%d, %v) = %v, want %q", bad.seg, bad.off, err, bad.want)
		}
	}
	if err := l.SkipTo(5); err == nil || !strings.Contains(err.Error(), "skip: segment 5") {
		t.Errorf("SkipTo(5) = %v", err)
	}
}

// wantCut is, from the rules, the output frame where a command takes
// effect when given with chunks before n handed over: the first frame not
// handed over whose first sample leaves CutFade (240 samples) of the
// chunks still to come for the fade.
func wantCut(out Rate, n int64) int64 {
	k := bigCeil(n, ChunkNS*out.Num, 1e9*out.Den) // first frame at or after chunk n's time
	for wantFirstSample(out, k) < n*ChunkSamples+240 {
		k++
	}
	return k
}

// checkCut checks a cut at output frame k from playlist segment from to
// segment to (ids from+1 and to+1, loopSeg sound): the picture changes at
// k, the new sound starts at k's first sample, and the old sound's last
// 240 samples ramp linearly to zero.
func checkCut(t *testing.T, rec *loopRecSink, out Rate, k int64, from, to int) {
	t.Helper()
	if v := rec.video[k-1]; v.seg != from {
		t.Fatalf("frame %d before the cut shows segment %d, want %d", k-1, v.seg, from)
	}
	if v := rec.video[k]; v.seg != to || v.idx != 0 {
		t.Fatalf("frame %d at the cut shows %d/%d, want %d/0", k, v.seg, v.idx, to)
	}
	pcm := rec.pcm()
	sk := wantFirstSample(out, k)
	if l, r := pcm[2*sk], pcm[2*sk+1]; l != 1 || r != int16(to+1) {
		t.Fatalf("sample %d at the cut = %d,%d, want segment %d's first", sk, l, r, to+1)
	}
	for o := sk - 240; o < sk; o++ {
		ch := rec.audio[o/ChunkSamples]
		if ch.seg != from {
			t.Fatalf("chunk %d under the fade plays segment %d, want %d", ch.seq, ch.seg, from)
		}
		l, r := loopSample(int16(from+1), ch.idx+o%ChunkSamples, 2*AudioRate)
		g := int32(sk - o)
		l, r = int16(int32(l)*g/240), int16(int32(r)*g/240)
		if pcm[2*o] != l || pcm[2*o+1] != r {
			t.Fatalf("sample %d, %d before the cut = %d,%d, want %d,%d", o, sk-o, pcm[2*o], pcm[2*o+1], l, r)
		}
	}
}

// Skip, next and prev cut at the first frame boundary after the chunks
// already handed over that leaves room for the fade, picture and sound
// together.
func TestPlaylistSkipNextPrev(t *testing.T) {
	l, _, rec := newLoopRec(Rate25, 32, 18)
	for i := range 3 {
		l.Add(loopSeg(int16(i+1), Rate25, 50, 2*AudioRate, 32, 18))
	}
	l.Play()
	loopRunFor(t, l, 100*time.Millisecond)
	steps := []struct {
		do   func()
		want int
	}{
		{func() { _ = l.SkipTo(2) }, 2},
		{l.Prev, 1},
		{l.Next, 2},
		{l.Prev, 1},
		{l.Prev, 0},
		{l.Prev, 0},
	}
	was := 0
	for i, st := range steps {
		st.do()
		if p := l.Position(); p.Segment != st.want || p.Offset != 0 || !p.Playing {
			t.Fatalf("step %d: position %+v", i, p)
		}
		at := time.Duration(i+1) * 100 * time.Millisecond
		loopRunFor(t, l, at+100*time.Millisecond)
		checkCut(t, rec, Rate25, wantCut(Rate25, int64(at/ChunkNS)), was, st.want)
		was = st.want
	}
	l.SkipTo(2)
	l.Next() // past the last, not looping: stop
	if p := l.Position(); p.Segment != -1 || p.Playing {
		t.Fatalf("Next past the end: %+v", p)
	}
	l.SetLoop(true)
	l.SkipTo(2)
	l.Next() // looping: back to the first
	if p := l.Position(); p.Segment != 0 {
		t.Fatalf("Next past the end, looping: %+v", p)
	}
}

// Move and Remove keep the play head on its segment.
func TestPlaylistEditsFollowHead(t *testing.T) {
	l, _, _ := newLoopRec(Rate25, 32, 18)
	segs := make([]*Segment, 4)
	for i := range segs {
		segs[i] = loopSeg(int16(i+1), Rate25, 25, AudioRate, 32, 18)
		if got := l.Add(segs[i]); got != i {
			t.Fatalf("Add returned %d, want %d", got, i)
		}
	}
	if l.Add(nil) != -1 {
		t.Fatal("Add(nil) accepted")
	}
	if err := l.Seek(1, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	head := func() *Segment { return l.Segments()[l.Position().Segment] }
	l.Move(1, 3) // 0 2 3 1
	if p := l.Position(); p.Segment != 3 || head() != segs[1] || p.Offset != 300*time.Millisecond {
		t.Fatalf("after Move(1,3): %+v", p)
	}
	l.Move(0, 3) // 2 3 1 0
	if head() != segs[1] {
		t.Fatalf("after Move(0,3): head on %s", head().Name)
	}
	l.Move(3, 0) // 0 2 3 1
	if head() != segs[1] || l.Position().Segment != 3 {
		t.Fatal("after Move(3,0): head moved off its segment")
	}
	l.Remove(0) // 2 3 1
	if head() != segs[1] || l.Position().Segment != 2 {
		t.Fatal("after Remove(0): head moved off its segment")
	}
	l.Remove(2) // removing the head's segment: past the end, stop
	if p := l.Position(); p.Segment != -1 || len(l.Segments()) != 2 {
		t.Fatalf("after removing the last, playing segment: %+v", p)
	}
	l.SkipTo(0)
	l.Remove(0) // the next segment takes its place, from its start
	if p := l.Position(); p.Segment != 0 || head() != segs[3] || p.Offset != 0 {
		t.Fatalf("after removing the head's segment: %+v", p)
	}
	l.Remove(7)
	l.Move(0, 9)
	if len(l.Segments()) != 1 {
		t.Fatal("out-of-range edits changed the playlist")
	}
	l.Remove(0)
	l.Play()
	if p := l.Position(); p.Segment != -1 || p.Playing {
		t.Fatalf("empty playlist: %+v", p)
	}
}

// Frame-exact stepping as the window does it: paused, Seek to
// FrameNS(i) of the source shows frame i on the next output frame, and
// Position reports that offset exactly, so FrameAt(Offset)±1 steps one
// frame, at every pairing of output and source rate.
func TestPlaylistSeekFrameExact(t *testing.T) {
	rates := []Rate{Rate25, Rate2997, Rate60}
	for _, out := range rates {
		for _, src := range rates {
			l, _, rec := newLoopRec(out, 32, 18)
			seg := loopSeg(1, src, 400, 0, 32, 18)
			l.Add(seg)
			if err := l.Seek(0, 0); err != nil {
				t.Fatal(err)
			}
			at := time.Duration(0)
			shows := func() int {
				at += 100 * time.Millisecond
				loopRunFor(t, l, at)
				return rec.video[len(rec.video)-1].idx
			}
			want := int64(0)
			for step, dir := range []int64{1, 1, 1, 1, 1, 1, -1, -1, 1, 5, -3, 100, -1, 1} {
				p := l.Position()
				if p.Playing || p.Offset != time.Duration(src.FrameNS(want)) {
					t.Fatalf("%v from %v, step %d: position %+v, want offset %v", out, src, step, p, time.Duration(src.FrameNS(want)))
				}
				want = src.FrameAt(int64(p.Offset)) + dir
				if err := l.Seek(0, time.Duration(src.FrameNS(want))); err != nil {
					t.Fatal(err)
				}
				if got := shows(); int64(got) != want {
					t.Fatalf("%v from %v, step %d: shows frame %d, want %d", out, src, step, got, want)
				}
			}
		}
	}
}
