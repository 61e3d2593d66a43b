package engine

import "time"

// The schedule: the loop's output is a sequence of runs, each one thing
// (a playlist segment, a queue entry, the idle clip or picture) shown
// from an output frame k0 to the frame before end, its sound from output
// sample frameSample(k0) to the sample before frameSample(end). Before
// audio chunk n goes out, planChunk decides every run boundary that falls
// in it, so a chunk straddling a boundary takes each sample from its run.

type runKind uint8

const (
	runIdle     runKind = iota // the idle picture, silent
	runIdleClip                // one pass of the idle clip
	runList                    // a playlist segment
	runEntry                   // a queue entry
)

type holdKind uint8

const (
	holdNone holdKind = iota
	holdHead          // paused: the frame at pos, silent
	holdLast          // underrun: the last frame shown before pos, silent
)

type endKind uint8

const (
	endOpen     endKind = iota
	endNatural          // its content ran out
	endCut              // a command cut it: the sound fades out before end
	endUnderrun         // a live producer fell behind: fades, then a hold
	endResume           // an underrun hold ends: the entry plays on
)

type run struct {
	id     uint64
	kind   runKind
	hold   holdKind
	seg    *Segment // nil for the idle picture
	ent    *entry   // runEntry
	idx    int      // runList: its playlist index in lay
	lay    *layout
	gen    uint64 // listGen (runList) or idleGen (idle runs) when planned
	k0, s0 int64  // first frame, its first sample
	pos    segPos // position in seg at k0
	a0     int64  // source sample at s0: pos.sample
	natEnd int64  // frame where its content runs out; -1 unknown
	end    int64  // first frame after the run; -1 until decided
	send   int64  // frameSample(end)
	endBy  endKind
}

// playing reports whether r is playback, for the lateness counters.
func (r *run) playing() bool { return r.kind != runIdle && r.hold == holdNone }

// idle is whether r shows the idle picture or the idle clip.
func (r *run) idle() bool { return r.kind == runIdle || r.kind == runIdleClip }

// audio is what r plays, nil when silent.
func (r *run) audio() Audio {
	if r.hold != holdNone || r.seg == nil {
		return nil
	}
	return r.seg.Audio
}

// audible reports whether r's sound may be non-silent, so a cut needs
// room for the fade.
func (r *run) audible() bool { return r.audio() != nil }

// frameAt is the source frame r shows at output frame k, -1 for the idle
// picture.
func (r *run) frameAt(out Rate, k int64) int {
	if r.seg == nil {
		return -1
	}
	n := r.seg.Frames.Len()
	d := r.pos.d
	switch r.hold {
	case holdNone:
		d += k - r.k0
	case holdLast:
		d--
	}
	if n == 0 || d < 0 {
		return -1
	}
	return int(min(segmentRate(r.seg).FrameAt(r.pos.voff+out.FrameNS(d)), int64(n-1)))
}

// horizon is what planChunk must decide for chunk n.
type horizon struct {
	kLo  int64 // first frame not yet handed over
	clo  int64 // first content sample not yet handed over
	kHi  int64 // first frame after the chunk's time
	chi  int64 // first content sample after the chunk
	need int64 // live segments must cover output frames before this
}

// planChunk decides the runs through audio chunk n: every frame due in
// its 20 ms and every content sample it carries. It returns the segment to
// prefetch for the next boundary.
func (l *Loop) planChunk(n int64) (prefetch *Segment) {
	out := l.cfg.Rate
	h := horizon{kLo: l.nextK, clo: l.nextN*ChunkSamples - l.aoff, kHi: out.FramesIn((n + 1) * ChunkNS),
		chi: (n+1)*ChunkSamples - l.aoff}
	h.need = max(h.kHi, sampleFrame(out, h.chi+l.fade))
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.runs) == 0 {
		l.runs = append(l.runs, l.nextRun(h.kLo))
	}
	for {
		r := &l.runs[len(l.runs)-1]
		if r.end < 0 {
			l.decideEnd(r, &h)
		}
		if r.end < 0 || r.end >= h.kHi && r.send >= h.chi {
			break
		}
		l.runs = append(l.runs, l.after(r))
	}
	l.releaseIdleClips()
	l.releasing, l.release = append(l.releasing, l.release...), l.release[:0]
	return l.prefetchTarget(n)
}

// decideEnd ends r if it must end by the horizon: cut by a command (at
// the first frame boundary leaving room for the fade), underrun, resume,
// or its content running out. mu is held.
func (l *Loop) decideEnd(r *run, h *horizon) {
	out := l.cfg.Rate
	margin := int64(0)
	if r.audible() {
		margin = l.fade
	}
	at, by := int64(-1), endOpen
	cut := max(h.kLo, sampleFrame(out, h.clo+margin), r.k0)
	switch {
	case l.preempted(r):
		at, by = cut, endCut
	case r.hold == holdLast && l.resumable(r, cut, h.need):
		at, by = cut, endResume
	}
	if r.kind == runEntry && r.hold == holdNone && r.natEnd < 0 {
		if r.seg.live.state().ended {
			r.natEnd = r.k0 + slotFrames(r.seg, out, r.pos)
		} else if ku := l.covered(r.seg, r.pos, r.k0); ku < h.need && (at < 0 || ku < at) {
			at, by = max(ku, r.k0), endUnderrun
		}
	}
	if r.natEnd >= 0 && (at >= 0 && r.natEnd <= at || at < 0 && (r.natEnd < h.kHi || frameSample(out, r.natEnd) < h.chi)) {
		at, by = r.natEnd, endNatural
	}
	if at >= 0 {
		l.endRun(r, at, by)
	}
}

// endRun fixes r's end. A playlist head following r stops with it: at its
// position for a cut, at the next segment for a natural end. mu is held.
func (l *Loop) endRun(r *run, at int64, by endKind) {
	out := l.cfg.Rate
	r.end, r.send, r.endBy = at, frameSample(out, at), by
	if r.kind == runList && l.head.run == r.id {
		if by == endNatural {
			l.advanceHead()
		} else {
			l.head.pos, l.head.run = posAt(r.pos, r.k0, at), 0
		}
	}
	if r.kind == runEntry && (by == endNatural || by == endCut) {
		r.ent.ending = true
	}
}

// after returns the run that follows r at r.end. mu is held.
func (l *Loop) after(r *run) run {
	k := r.end
	switch r.endBy {
	case endUnderrun:
		return l.newRun(runEntry, holdLast, r.seg, r.ent, k, posAt(r.pos, r.k0, k))
	case endResume:
		return l.newRun(runEntry, holdNone, r.seg, r.ent, k, r.pos)
	}
	return l.nextRun(k)
}

// nextRun is what plays from frame k: the queue's head once ready (queued
// entries wait for the playlist segment on air to end; while the head
// buffers its pre-roll, the idle clip plays), else the playlist when
// playing or paused, else the idle clip, else the idle picture. mu is held.
func (l *Loop) nextRun(k int64) run {
	if len(l.queue) > 0 {
		e := l.queue[0]
		if !l.ready(e, segPos{}) {
			return l.idleRun(k)
		}
		copy(l.queue, l.queue[1:])
		l.queue[len(l.queue)-1] = nil
		l.queue = l.queue[:len(l.queue)-1]
		e.state, e.now = EntryPlaying, false
		l.active = append(l.active, e)
		return l.newRun(runEntry, holdNone, e.seg, e, k, segPos{})
	}
	h := &l.head
	switch h.state {
	case headPlaying:
		r := l.newRun(runList, holdNone, l.lay.segs[h.seg], nil, k, h.pos)
		h.run, h.k0 = r.id, r.k0
		return r
	case headPaused:
		return l.newRun(runList, holdHead, l.lay.segs[h.seg], nil, k, h.pos)
	}
	return l.idleRun(k)
}

func (l *Loop) idleRun(k int64) run {
	if s := l.idleSeg; s != nil && slotFrames(s, l.cfg.Rate, segPos{}) > 0 {
		return l.newRun(runIdleClip, holdNone, s, nil, k, segPos{})
	}
	return l.newRun(runIdle, holdNone, nil, nil, k, segPos{})
}

func (l *Loop) newRun(kind runKind, hold holdKind, seg *Segment, e *entry, k int64, p segPos) run {
	out := l.cfg.Rate
	l.lastRn++
	r := run{id: l.lastRn, kind: kind, hold: hold, seg: seg, ent: e, k0: k, s0: frameSample(out, k),
		pos: p, a0: p.sample(out), natEnd: -1, end: -1}
	switch kind {
	case runList:
		r.idx, r.lay, r.gen = l.head.seg, l.lay, l.listGen
	case runIdle, runIdleClip:
		r.gen = l.idleGen
	}
	if seg != nil && hold == holdNone && (seg.live == nil || seg.live.state().ended) {
		r.natEnd = k + slotFrames(seg, out, p)
	}
	return r
}

// preempted reports whether the state calls for cutting r. mu is held.
func (l *Loop) preempted(r *run) bool {
	head := l.readyHead()
	switch r.kind {
	case runList:
		return head != nil && (head.now || r.hold != holdNone) || r.gen != l.listGen
	case runEntry:
		return r.ent.state != EntryPlaying || head != nil && head.now
	}
	// Idle: anything else to play, or a new idle clip.
	switch {
	case head != nil:
		return true
	case len(l.queue) > 0: // its head is buffering: stay idle
		return false
	case l.head.state != headStopped:
		return true
	}
	return r.gen != l.idleGen
}

// readyHead is the queue's head if it can start now. mu is held.
func (l *Loop) readyHead() *entry {
	if len(l.queue) > 0 && l.ready(l.queue[0], segPos{}) {
		return l.queue[0]
	}
	return nil
}

// ready reports whether e can play from p: always for a loaded segment;
// for a live one once it ended or holds its pre-roll (at least two output
// frames) of both video and sound beyond p. mu is held.
func (l *Loop) ready(e *entry, p segPos) bool {
	live := e.seg.live
	if live == nil {
		return true
	}
	st := live.state()
	if st.ended {
		return true
	}
	out := l.cfg.Rate
	need := max(e.preroll, out.FrameNS(2))
	if segmentRate(e.seg).FrameNS(st.frames)-p.offset(out) < need {
		return false
	}
	return e.seg.Audio == nil || (st.samples-p.sample(out))*1e9 >= need*AudioRate
}

// resumable reports whether an underrun hold r may end at frame k: the
// producer ended, or its pre-roll is buffered again and covers the frames
// to need, so playback does not run dry at once. mu is held.
func (l *Loop) resumable(r *run, k, need int64) bool {
	return r.seg.live.state().ended || l.ready(r.ent, r.pos) && l.covered(r.seg, r.pos, k) >= need
}

// covered returns the first output frame that live segment s, played
// from position p at output frame k0, cannot play from what has arrived
// (an ended segment: its end): frame k needs its source frame and the
// sound up to frameSample(k+1).
func (l *Loop) covered(s *Segment, p segPos, k0 int64) int64 {
	out := l.cfg.Rate
	st := s.live.state()
	end := k0 - p.d + out.FramesIn(segmentRate(s).FrameNS(st.frames)-p.voff)
	if s.Audio != nil {
		// The last k with frameSample(k) ≤ the output sample where the sound ends.
		end = min(end, sampleFrame(out, st.samples-p.sample(out)+frameSample(out, k0)+1)-1)
	}
	return end
}

// retire drops the oldest run once everything of it has been handed over:
// its entry ends (released, reported), an underrun is counted.
func (l *Loop) retire() {
	for len(l.runs) > 1 {
		r := &l.runs[0]
		if r.end < 0 || l.nextK < r.end || l.nextN*ChunkSamples-l.aoff < r.send {
			return
		}
		l.mu.Lock()
		l.retireRun(r)
		copy(l.runs, l.runs[1:])
		l.runs = l.runs[:len(l.runs)-1]
		l.mu.Unlock()
	}
}

func (l *Loop) retireRun(r *run) {
	e := r.ent
	if r.hold == holdLast { // 0 long when data came in time after the fade began
		out := l.cfg.Rate
		d := out.FrameNS(r.end) - out.FrameNS(r.k0)
		l.stats.Underruns++
		l.stats.UnderrunTime += time.Duration(d)
		e.underruns++
		e.underrunNS += d
		l.events = append(l.events, Event{Kind: EventUnderrun, Entry: e.id, MediaNS: out.FrameNS(r.k0), Duration: time.Duration(d)})
	}
	if r.kind == runEntry && (r.endBy == endNatural || r.endBy == endCut) {
		if e.state == EntryPlaying {
			e.state = EntryDone
			if r.endBy == endCut {
				e.state = EntryCancelled
			}
		}
		for i, x := range l.active {
			if x == e {
				l.active = append(l.active[:i], l.active[i+1:]...)
				break
			}
		}
		l.retireEntry(e)
	}
}

// releaseIdleClips releases replaced idle clips no run shows. mu is held.
func (l *Loop) releaseIdleClips() {
	for i := 0; i < len(l.idleOld); i++ {
		s := l.idleOld[i]
		used := false
		for j := range l.runs {
			used = used || l.runs[j].seg == s
		}
		if !used {
			l.release = append(l.release, s)
			l.idleOld = append(l.idleOld[:i], l.idleOld[i+1:]...)
			i--
		}
	}
}

// prefetchTarget is the segment to warm up when the last run ends within
// a second: what nextRun would pick then. mu is held.
func (l *Loop) prefetchTarget(n int64) *Segment {
	out := l.cfg.Rate
	r := &l.runs[len(l.runs)-1]
	end := r.natEnd
	if r.end >= 0 {
		end = r.end
	}
	if end < 0 || out.FrameNS(end)-n*ChunkNS >= 1e9 {
		return nil
	}
	if e := l.readyHead(); e != nil {
		return e.seg
	}
	h := &l.head
	if h.state == headPlaying {
		j := h.seg
		if r.kind == runList && h.run == r.id { // it will move on
			if j++; j == len(l.lay.segs) {
				j = 0
			}
		}
		return l.lay.segs[j]
	}
	return l.idleSeg
}
