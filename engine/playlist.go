package engine

import (
	"fmt"
	"sort"
	"time"
)

// layout is an immutable snapshot of the playlist placed on its own
// timeline: segment j owns [start[j], start[j+1]) ns, each slot a whole
// number of 20 ms chunks so every segment starts on the audio grid.
// Edits build a new layout; the loop keeps using the one its current chunk
// started with.
type layout struct {
	segs  []*Segment
	start []int64 // len(segs)+1 entries; the last is the playlist length
}

func newLayout(segs []*Segment) *layout {
	l := &layout{segs: segs, start: make([]int64, len(segs)+1)}
	for j, s := range segs {
		l.start[j+1] = l.start[j] + slotNS(s)
	}
	return l
}

func (l *layout) total() int64 { return l.start[len(l.segs)] }

// find returns the segment owning playlist time p (0 ≤ p < total).
// Empty slots own nothing, so they are never returned.
func (l *layout) find(p int64) int {
	return sort.Search(len(l.segs), func(j int) bool { return l.start[j+1] > p })
}

// slot returns segment j's slot length in ns.
func (l *layout) slot(j int) int64 { return l.start[j+1] - l.start[j] }

// slotNS is the segment's length rounded up to whole 20 ms chunks: the
// longer of its frames and its sound.
func slotNS(s *Segment) int64 {
	var video, samples int64
	if n := int64(s.Frames.Len()); n > 0 {
		video = segmentRate(s).FrameNS(n)
	}
	if s.Audio != nil {
		samples = s.Audio.Len()
	}
	chunks := max(loopCeilDiv(video, ChunkNS), loopCeilDiv(samples, ChunkSamples))
	return chunks * ChunkNS
}

// segmentRate guards the loop against a segment with a broken rate: its
// frames are then timed at 30 fps rather than dividing by zero.
func segmentRate(s *Segment) Rate {
	if s.Rate.Valid() != nil {
		return Rate30
	}
	return s.Rate
}

func loopCeilDiv(a, b int64) int64 { return (a + b - 1) / b }

// floorDiv rounds towards −∞ (positions before the playlist start are
// negative when AudioOffset delays the sound).
func loopFloorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Add appends seg to the playlist and returns its index (-1 for nil).
func (l *Loop) Add(seg *Segment) int {
	if seg == nil || seg.Frames == nil {
		return -1
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.setPlaylist(append(l.lay.segs[:len(l.lay.segs):len(l.lay.segs)], seg))
	return len(l.lay.segs) - 1
}

// Remove takes segment i off the playlist (no-op when out of range). If it
// was playing, the next segment plays from its start. The loop reads a
// removed segment until the current 20 ms chunk ends (plus the lead):
// release its memory after that.
func (l *Loop) Remove(i int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.lay.segs
	if i < 0 || i >= len(old) {
		return
	}
	segs := append(append([]*Segment{}, old[:i]...), old[i+1:]...)
	l.setPlaylist(segs)
	switch {
	case i < l.seg:
		l.seg--
	case i == l.seg:
		l.off = 0
	}
	l.normalise()
}

// Move puts segment from at index to (no-op when either is out of range).
// The play head stays on the segment it was on.
func (l *Loop) Move(from, to int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.lay.segs
	if from < 0 || from >= len(old) || to < 0 || to >= len(old) || from == to {
		return
	}
	segs := append([]*Segment{}, old...)
	s := segs[from]
	if from < to {
		copy(segs[from:], segs[from+1:to+1])
	} else {
		copy(segs[to+1:], segs[to:from])
	}
	segs[to] = s
	l.setPlaylist(segs)
	switch {
	case l.seg == from:
		l.seg = to
	case from < l.seg && to >= l.seg:
		l.seg--
	case from > l.seg && to <= l.seg:
		l.seg++
	}
}

// Segments returns a snapshot of the playlist.
func (l *Loop) Segments() []*Segment {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*Segment{}, l.lay.segs...)
}

// setPlaylist installs a new layout; the caller holds mu.
func (l *Loop) setPlaylist(segs []*Segment) {
	l.lay = newLayout(segs)
	if len(segs) == 0 {
		l.stop()
	}
}

// The play head and headState. Commands change the head under mu; the
// loop reads it at each 20 ms chunk boundary (see takePlan).

// Play starts or resumes playing (from the start after Stop).
func (l *Loop) Play() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lay.segs) == 0 {
		return
	}
	l.state = headPlaying
	l.normalise()
}

// Pause holds the current frame, with silence.
func (l *Loop) Pause() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == headPlaying {
		l.state = headPaused
	}
}

// Stop shows the idle frame and rewinds to the playlist's start.
func (l *Loop) Stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stop()
}

func (l *Loop) stop() { l.state, l.seg, l.off = headStopped, 0, 0 }

// Seek moves the play head to offset into segment seg. Any offset inside
// the segment's slot is allowed, on the 20 ms grid or not. When stopped,
// the loop pauses there.
func (l *Loop) Seek(seg int, offset time.Duration) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.checkIndex("seek", seg); err != nil {
		return err
	}
	if slot := l.lay.slot(seg); offset < 0 || int64(offset) >= slot {
		return fmt.Errorf("seek: offset %v outside segment %d (%q, 0 to %v)",
			offset, seg, l.lay.segs[seg].Name, time.Duration(slot))
	}
	l.moveHead(seg, int64(offset))
	return nil
}

// SkipTo moves the play head to the start of segment seg.
func (l *Loop) SkipTo(seg int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.checkIndex("skip", seg); err != nil {
		return err
	}
	l.moveHead(seg, 0)
	return nil
}

// Next goes to the start of the next segment (the first when looping;
// stopped after the last otherwise).
func (l *Loop) Next() {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.lay.segs)
	if n == 0 {
		return
	}
	next := l.seg + 1
	if next >= n {
		if !l.looping {
			l.stop()
			return
		}
		next = 0
	}
	l.moveHead(next, 0)
}

// Prev goes to the start of the previous segment (or of the first).
func (l *Loop) Prev() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lay.segs) == 0 {
		return
	}
	l.moveHead(max(l.seg-1, 0), 0)
}

// SetLoop turns playlist looping on or off.
func (l *Loop) SetLoop(on bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.looping = on
}

// Position reports the play head.
func (l *Loop) Position() Position {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := Position{Segment: l.seg, Offset: time.Duration(l.off), Playing: l.state == headPlaying,
		Looping: l.looping, MediaNS: l.mediaNS}
	if l.state == headStopped {
		p.Segment, p.Offset = -1, 0
	}
	return p
}

// Stats reports the loop's counters.
func (l *Loop) Stats() LoopStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

func (l *Loop) checkIndex(op string, seg int) error {
	if n := len(l.lay.segs); seg < 0 || seg >= n {
		return fmt.Errorf("%s: segment %d out of range (playlist has %d)", op, seg, n)
	}
	return nil
}

// moveHead sets the play head; a stopped loop pauses there. mu is held.
func (l *Loop) moveHead(seg int, off int64) {
	l.seg, l.off = seg, off
	if l.state == headStopped {
		l.state = headPaused
	}
	l.normalise()
}

// normalise moves the head past slot ends (and empty slots), wrapping when
// looping and stopping at the end otherwise. mu is held.
func (l *Loop) normalise() {
	if l.lay.total() == 0 {
		l.stop()
		return
	}
	if l.seg >= len(l.lay.segs) { // the head's segment was the last, removed
		if !l.looping {
			l.stop()
			return
		}
		l.seg, l.off = 0, 0
	}
	for l.off >= l.lay.slot(l.seg) {
		l.off -= l.lay.slot(l.seg)
		l.seg++
		if l.seg == len(l.lay.segs) {
			if !l.looping {
				l.stop()
				return
			}
			l.seg = 0
		}
	}
}
