package engine

import (
	"fmt"
	"time"
)

// layout is an immutable snapshot of the playlist: its segments and each
// one's slot on the output grid, in output frames. Edits build a new one.
type layout struct {
	segs  []*Segment
	slots []int64
	total int64 // sum of slots: one pass, in output frames
}

func newLayout(segs []*Segment, out Rate) *layout {
	l := &layout{segs: segs, slots: make([]int64, len(segs))}
	for j, s := range segs {
		l.slots[j] = slotFrames(s, out, segPos{})
		l.total += l.slots[j]
	}
	return l
}

// index returns where s is in the playlist, preferring hint when it is
// there (the same segment may be added twice), or -1.
func (l *layout) index(s *Segment, hint int) int {
	if hint >= 0 && hint < len(l.segs) && l.segs[hint] == s {
		return hint
	}
	for j, x := range l.segs {
		if x == s {
			return j
		}
	}
	return -1
}

type headState int

const (
	headStopped headState = iota
	headPaused
	headPlaying
)

// head is the playlist's play head. While a playlist run is on air the
// head follows it (run is that run's id, k0 its first frame); otherwise
// it stands at pos.
type head struct {
	state headState
	seg   int
	pos   segPos
	run   uint64
	k0    int64
}

// Add appends seg to the playlist and returns its index (-1 for nil or a
// live segment, which plays through Enqueue only). The playlist keeps no
// ownership: release a segment yourself once it is removed (see Remove).
func (l *Loop) Add(seg *Segment) int {
	if seg == nil || seg.Frames == nil || seg.live != nil {
		return -1
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.setPlaylist(append(l.lay.segs[:len(l.lay.segs):len(l.lay.segs)], seg))
	return len(l.lay.segs) - 1
}

// Remove takes segment i off the playlist (no-op when out of range). If it
// was playing, the next segment plays from its start. The loop may read a
// removed segment until its cut (the first frame boundary a fade after the
// current 20 ms chunk) plus the lead: release its memory after that.
func (l *Loop) Remove(i int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.lay.segs
	if i < 0 || i >= len(old) {
		return
	}
	l.setPlaylist(append(append([]*Segment{}, old[:i]...), old[i+1:]...))
	h := &l.head
	switch {
	case h.state == headStopped:
	case i < h.seg:
		h.seg--
	case i == h.seg:
		l.moveHead(i, segPos{})
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
	h := &l.head
	switch {
	case h.seg == from:
		h.seg = to
	case from < h.seg && to >= h.seg:
		h.seg--
	case from > h.seg && to <= h.seg:
		h.seg++
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
	l.lay = newLayout(segs, l.cfg.Rate)
	if len(segs) == 0 {
		l.stop()
	}
}

// The commands below change the head under mu; the loop acts on them at
// the next output frame boundary it can still change (see planChunk). A
// change of what the playlist shows bumps listGen, which cuts a playlist
// run on air; pushed entries on air are not affected.

// Play starts or resumes playing (from the start after Stop).
func (l *Loop) Play() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lay.segs) == 0 || l.head.state == headPlaying {
		return
	}
	l.head.state = headPlaying
	l.listGen++
	l.normalise()
}

// Pause holds the current frame, with silence.
func (l *Loop) Pause() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.head.state == headPlaying {
		l.head.state = headPaused
		l.listGen++
	}
}

// Stop shows the idle frame (or idle clip) and rewinds to the playlist's
// start.
func (l *Loop) Stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stop()
}

func (l *Loop) stop() {
	l.head = head{state: headStopped}
	l.listGen++
}

// Seek moves the play head to offset into segment seg. Any offset inside
// the segment's slot is allowed, on a frame boundary or not: the source
// frame shown is the latest at or before offset (so an offset of
// seg.Rate.FrameNS(i) shows frame i exactly) and the sound starts at
// sample floor(offset·48 kHz). When stopped, the loop pauses there.
func (l *Loop) Seek(seg int, offset time.Duration) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.checkIndex("seek", seg); err != nil {
		return err
	}
	if slot := l.cfg.Rate.FrameNS(l.lay.slots[seg]); offset < 0 || int64(offset) >= slot {
		return fmt.Errorf("seek: offset %v outside segment %d (%q, 0 to %v)",
			offset, seg, l.lay.segs[seg].Name, time.Duration(slot))
	}
	l.moveHead(seg, segPos{voff: int64(offset), abase: floorDiv(int64(offset)*(AudioRate/1000), 1e6)})
	return nil
}

// SkipTo moves the play head to the start of segment seg.
func (l *Loop) SkipTo(seg int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.checkIndex("skip", seg); err != nil {
		return err
	}
	l.moveHead(seg, segPos{})
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
	next := l.head.seg + 1
	if next >= n {
		if !l.looping {
			l.stop()
			return
		}
		next = 0
	}
	l.moveHead(next, segPos{})
}

// Prev goes to the start of the previous segment (or of the first).
func (l *Loop) Prev() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lay.segs) == 0 {
		return
	}
	l.moveHead(max(l.head.seg-1, 0), segPos{})
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
	h := &l.head
	p := Position{Segment: h.seg, Offset: time.Duration(l.headPos().offset(l.cfg.Rate)),
		Playing: h.state == headPlaying, Looping: l.looping, MediaNS: l.mediaNS, OnAir: l.onAir}
	if h.state == headStopped {
		p.Segment, p.Offset = -1, 0
	}
	return p
}

// headPos is the head's position as of the frames handed to sinks. mu is
// held.
func (l *Loop) headPos() segPos {
	h := &l.head
	if h.run == 0 {
		return h.pos
	}
	return posAt(h.pos, h.k0, max(l.headK, h.k0))
}

func (l *Loop) checkIndex(op string, seg int) error {
	if n := len(l.lay.segs); seg < 0 || seg >= n {
		return fmt.Errorf("%s: segment %d out of range (playlist has %d)", op, seg, n)
	}
	return nil
}

// moveHead sets the play head; a stopped loop pauses there. mu is held.
func (l *Loop) moveHead(seg int, p segPos) {
	h := &l.head
	h.seg, h.pos, h.run = seg, p, 0
	if h.state == headStopped {
		h.state = headPaused
	}
	l.listGen++
	l.normalise()
}

// normalise moves the head off empty slots and past the playlist's end,
// wrapping when looping and stopping otherwise. mu is held.
func (l *Loop) normalise() {
	h := &l.head
	if l.lay.total == 0 {
		l.stop()
		return
	}
	if h.state == headStopped {
		return
	}
	for h.seg >= len(l.lay.segs) || l.lay.slots[h.seg] == 0 {
		if h.seg < len(l.lay.segs) {
			h.seg++
			h.pos = segPos{}
			continue
		}
		if !l.looping {
			l.stop()
			return
		}
		h.seg, h.pos = 0, segPos{}
	}
}

// advanceHead moves the head to the start of the next segment when its
// run ends naturally. mu is held.
func (l *Loop) advanceHead() {
	h := &l.head
	h.seg++
	h.pos, h.run = segPos{}, 0
	l.normalise()
}
