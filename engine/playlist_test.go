package engine

import (
	"strings"
	"testing"
	"time"
)

// wantFrame is, from the definitions alone, the source frame of seg shown
// at time t into its slot: the latest i with floor(i·1e9·den/num) ≤ t,
// clamped to the last frame.
func wantFrame(seg *Segment, t int64) int {
	r := seg.Rate
	return int(min(((t+1)*r.Num-1)/(1e9*r.Den), int64(seg.Frames.Len()-1)))
}

// Two segments back to back, played once: frames map by media time, the
// sound is each segment's samples back to back (each slot padded with
// silence to the 20 ms grid), then the loop stops and goes idle.
func TestPlaylistContinuityAcrossSegments(t *testing.T) {
	a := loopSeg(1, Rate25, 26, 50_000, 32, 18)   // 1.04 s of frames, 1.0417 s of sound: slot 1.06 s
	b := loopSeg(2, Rate2997, 20, 24_001, 32, 18) // 0.667 s of frames, 0.5 s of sound: slot 0.68 s
	c := loopSeg(3, Rate23976, 3, 0, 32, 18)      // frames only: slot 0.14 s
	l, _, rec := newLoopRec(Rate60, 32, 18)
	for _, s := range []*Segment{a, b, c} {
		l.Add(s)
	}
	l.Play()
	loopRunFor(t, l, 3*time.Second)
	starts := []int64{0, 1_060_000_000, 1_740_000_000, 1_880_000_000}
	for i, s := range []*Segment{a, b, c} {
		if got := slotNS(s); got != starts[i+1]-starts[i] {
			t.Fatalf("segment %d slot %d, want %d", i, got, starts[i+1]-starts[i])
		}
	}
	for _, v := range rec.video {
		wantSeg, wantIdx := -1, -1
		for j, s := range []*Segment{a, b, c} {
			if v.mediaNS >= starts[j] && v.mediaNS < starts[j+1] {
				wantSeg, wantIdx = j, wantFrame(s, v.mediaNS-starts[j])
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
		case s < 50_880:
			l, r = loopSample(1, s, 50_000)
		case s < 83_520:
			l, r = loopSample(2, s-50_880, 24_001)
		}
		if pcm[2*s] != l || pcm[2*s+1] != r {
			t.Fatalf("output sample %d = %d,%d; want %d,%d", s, pcm[2*s], pcm[2*s+1], l, r)
		}
	}
	for n, ch := range rec.audio {
		t0 := int64(n) * ChunkNS
		wantSeg, wantIdx := -1, int64(-1)
		for j, s := range []*Segment{a, b, c} {
			if t0 >= starts[j] && t0 < starts[j+1] {
				wantSeg, wantIdx = j, (t0-starts[j])*48/1e6
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

// A seek off the 20 ms grid: samples come from the exact position, and a
// chunk straddling the boundary takes each sample from its owner.
func TestPlaylistSeekOffGrid(t *testing.T) {
	a := loopSeg(1, Rate30, 30, AudioRate, 32, 18) // slot 1 s
	b := loopSeg(2, Rate30, 30, AudioRate, 32, 18)
	l, _, rec := newLoopRec(Rate30, 32, 18)
	l.Add(a)
	l.Add(b)
	off := 993_123_457 * time.Nanosecond // 6.88 ms before segment b
	if err := l.Seek(0, off); err != nil {
		t.Fatal(err)
	}
	if p := l.Position(); p.Playing || p.Segment != 0 || p.Offset != off {
		t.Fatalf("after Seek from stopped: %+v", p)
	}
	l.Play()
	loopRunFor(t, l, 100*time.Millisecond)
	first := int64(off) * 48 / 1e6 // 47669
	pcm := rec.pcm()
	for i := range int64(len(pcm) / 2) {
		var l, r int16
		if s := first + i; s < AudioRate {
			l, r = loopSample(1, s, AudioRate)
		} else {
			l, r = loopSample(2, s-AudioRate, AudioRate)
		}
		if pcm[2*i] != l || pcm[2*i+1] != r {
			t.Fatalf("sample %d after the seek = %d,%d; want %d,%d", i, pcm[2*i], pcm[2*i+1], l, r)
		}
	}
	if rec.audio[0].seg != 0 || rec.audio[0].idx != first || rec.audio[1].seg != 1 || rec.audio[1].idx != first+960-AudioRate {
		t.Fatalf("chunks %d/%d, %d/%d", rec.audio[0].seg, rec.audio[0].idx, rec.audio[1].seg, rec.audio[1].idx)
	}
	for _, v := range rec.video {
		pos := int64(off) + v.mediaNS
		wantSeg, wantIdx := 0, wantFrame(a, pos)
		if pos >= 1e9 {
			wantSeg, wantIdx = 1, wantFrame(b, pos-1e9)
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

// Skip, next and prev act at the next chunk boundary, together for
// picture and sound.
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
	for i, st := range steps {
		st.do()
		if p := l.Position(); p.Segment != st.want || p.Offset != 0 || !p.Playing {
			t.Fatalf("step %d: position %+v", i, p)
		}
		nv, na := len(rec.video), len(rec.audio)
		loopRunFor(t, l, time.Duration(i+2)*100*time.Millisecond)
		// The first chunk and frame after the command start the segment.
		if a := rec.audio[na]; a.seg != st.want || a.idx != 0 {
			t.Fatalf("step %d: chunk %d plays %d/%d", i, a.seq, a.seg, a.idx)
		}
		if v := rec.video[nv]; v.seg != st.want || v.idx != 0 {
			t.Fatalf("step %d: frame %d shows %d/%d", i, v.seq, v.seg, v.idx)
		}
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
