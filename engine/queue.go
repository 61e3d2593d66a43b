package engine

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// EntryID names a pushed segment in the on-air queue; IDs start at 1.
type EntryID uint64

// Mode says where Enqueue puts a segment.
type Mode int

const (
	// ModeQueue plays the segment after everything queued before it, at
	// the end of the segment on air (it cuts only the idle clip).
	ModeQueue Mode = iota
	// ModeNow cuts whatever is on air at the next frame boundary and plays
	// the segment ahead of the queue.
	ModeNow
)

// ParseMode reads "queue" (or "") and "now".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "", "queue":
		return ModeQueue, nil
	case "now":
		return ModeNow, nil
	}
	return 0, fmt.Errorf("mode %q: want queue or now", s)
}

func (m Mode) String() string {
	if m == ModeNow {
		return "now"
	}
	return "queue"
}

// EntryState is where a queue entry is in its life.
type EntryState int

const (
	EntryQueued  EntryState = iota // waiting (a live segment also for its pre-roll)
	EntryPlaying                   // on air, or its start is decided
	EntryDone                      // played to its end
	EntryFailed                    // ended by Fail
	// EntryCancelled: dropped before playing, or cut before its end by
	// Cancel, Interrupt or a ModeNow entry.
	EntryCancelled
)

func (s EntryState) String() string {
	switch s {
	case EntryQueued:
		return "queued"
	case EntryPlaying:
		return "playing"
	case EntryDone:
		return "done"
	case EntryFailed:
		return "failed"
	case EntryCancelled:
		return "cancelled"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// MarshalText writes the state's name (for JSON).
func (s EntryState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// DefaultPreroll is how much of a live segment must be buffered before it
// starts, and again before it resumes after an underrun.
const DefaultPreroll = 200 * time.Millisecond

// historyLen bounds the finished entries kept for Entries.
const historyLen = 256

// EnqueueOptions say how a segment joins the queue.
type EnqueueOptions struct {
	Mode Mode
	// Preroll is, for a live segment, the media buffered ahead before it
	// starts or resumes (0: DefaultPreroll). At least two output frames
	// are always required, so playback makes progress.
	Preroll time.Duration
}

// Entry is a snapshot of one queue entry.
type Entry struct {
	ID       EntryID
	Name     string
	Mode     Mode
	Live     bool
	State    EntryState
	Err      string        // why it failed
	Frames   int           // video frames (so far, for a live segment)
	Duration time.Duration // media length (so far, for a live segment)
	// Started is set once its first frame went on air: at output media
	// time StartedMediaNS, due at StartedDeadline on the loop's clock
	// (its unix time is time.Now().Add(StartedDeadline − Clock().Now())).
	Started         bool
	StartedMediaNS  int64
	StartedDeadline time.Duration
	Underruns       int
	UnderrunTime    time.Duration
}

// EventKind says what happened to an entry.
type EventKind int

const (
	EventStarted  EventKind = iota // its first frame (and sample) went to the sinks
	EventUnderrun                  // playback caught up with a live producer; Duration is how long it held
	EventEnded                     // off air or dropped; State is done, failed or cancelled
)

func (k EventKind) String() string {
	switch k {
	case EventStarted:
		return "started"
	case EventUnderrun:
		return "underrun"
	case EventEnded:
		return "ended"
	}
	return fmt.Sprintf("event(%d)", int(k))
}

// Event reports an entry's progress. Events are delivered in order from
// the goroutine in Run, right after the item that caused them is handed to
// the sinks (so, like items, Lead ahead of their deadline).
type Event struct {
	Kind     EventKind
	Entry    EntryID
	MediaNS  int64         // started: the first frame's output media time; underrun: the hold's start
	Deadline time.Duration // started: that frame's deadline on the loop's clock
	Duration time.Duration // underrun: how long the last frame was held with silence
	State    EntryState    // ended: the final state
}

// Errors from Cancel and Fail.
var (
	ErrNoEntry  = errors.New("no such entry")
	ErrFinished = errors.New("entry already finished")
)

// entry is a queue entry; mu guards it.
type entry struct {
	id      EntryID
	seg     *Segment // nil once released
	name    string
	mode    Mode
	live    bool
	now     bool // cuts in when it reaches the head
	preroll int64
	state   EntryState
	err     string
	ending  bool // its last run's end is decided
	frames  int
	dur     time.Duration

	started       bool
	startNS       int64
	startDeadline time.Duration
	underruns     int
	underrunNS    int64
}

func (e *entry) snapshot() Entry {
	x := Entry{ID: e.id, Name: e.name, Mode: e.mode, Live: e.live, State: e.state, Err: e.err,
		Frames: e.frames, Duration: e.dur, Started: e.started, StartedMediaNS: e.startNS,
		StartedDeadline: e.startDeadline, Underruns: e.underruns, UnderrunTime: time.Duration(e.underrunNS)}
	if e.seg != nil {
		x.Frames, x.Duration = e.seg.Frames.Len(), e.seg.Duration()
	}
	return x
}

// Enqueue hands seg to the on-air queue and returns its ID. The loop owns
// it from then on: it plays once and is released (Segment.Release) once
// the loop can no longer read it, or when it is dropped. A live segment
// (NewLiveSegment) starts once its pre-roll is buffered.
func (l *Loop) Enqueue(seg *Segment, opt EnqueueOptions) (EntryID, error) {
	if seg == nil || seg.Frames == nil {
		return 0, errors.New("enqueue: no segment")
	}
	if opt.Mode != ModeQueue && opt.Mode != ModeNow {
		return 0, fmt.Errorf("enqueue %q: unknown mode %d", seg.Name, opt.Mode)
	}
	if opt.Preroll < 0 {
		return 0, fmt.Errorf("enqueue %q: pre-roll %v is negative", seg.Name, opt.Preroll)
	}
	if opt.Preroll == 0 {
		opt.Preroll = DefaultPreroll
	}
	if seg.live != nil && !seg.live.claim() {
		return 0, fmt.Errorf("enqueue %q: live segment already enqueued", seg.Name)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastID++
	e := &entry{id: l.lastID, seg: seg, name: seg.Name, mode: opt.Mode, live: seg.live != nil, now: opt.Mode == ModeNow,
		preroll: int64(opt.Preroll), frames: seg.Frames.Len(), dur: seg.Duration()}
	if e.now {
		// It goes first; an earlier ModeNow entry still waiting plays after.
		for _, x := range l.queue {
			x.now = false
		}
		l.queue = append(l.queue, nil)
		copy(l.queue[1:], l.queue)
		l.queue[0] = e
	} else {
		l.queue = append(l.queue, e)
	}
	return e.id, nil
}

// Cancel drops a queued entry, or cuts it at the next frame boundary if it
// is playing. ErrNoEntry: unknown (or forgotten) ID; ErrFinished: it has
// ended or its end is already decided.
func (l *Loop) Cancel(id EntryID) error { return l.finish(id, EntryCancelled, "") }

// Fail ends an entry like Cancel with state failed and the reason, e.g.
// for a live producer that sent bad data.
func (l *Loop) Fail(id EntryID, reason error) error {
	msg := "failed"
	if reason != nil {
		msg = reason.Error()
	}
	return l.finish(id, EntryFailed, msg)
}

func (l *Loop) finish(id EntryID, st EntryState, msg string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, e := range l.queue {
		if e.id == id {
			l.queue = append(l.queue[:i], l.queue[i+1:]...)
			e.state, e.err = st, msg
			l.retireEntry(e)
			return nil
		}
	}
	for _, e := range l.active {
		if e.id == id {
			if e.ending || e.state != EntryPlaying {
				return fmt.Errorf("entry %d: %w", id, ErrFinished)
			}
			e.state, e.err = st, msg // the loop cuts it (see preempted)
			return nil
		}
	}
	for _, e := range l.history {
		if e.id == id {
			return fmt.Errorf("entry %d: %w", id, ErrFinished)
		}
	}
	return fmt.Errorf("entry %d: %w", id, ErrNoEntry)
}

// Interrupt cuts whatever is on air at the next frame boundary: the
// playing entry is cancelled and the playlist stops. With clear every
// queued entry is dropped too, so the idle clip follows; otherwise the
// next queued entry does.
func (l *Loop) Interrupt(clear bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.active {
		if !e.ending && e.state == EntryPlaying {
			e.state = EntryCancelled
		}
	}
	if clear {
		for _, e := range l.queue {
			e.state = EntryCancelled
			l.retireEntry(e)
		}
		l.queue = l.queue[:0]
	}
	if l.head.state != headStopped {
		l.stop()
	}
}

// SetIdle sets the clip that loops whenever nothing else plays (nil: the
// built-in idle picture, LoopConfig.Idle). It replaces the idle clip on
// air at the next frame boundary. Like Enqueue, it hands the segment to
// the loop, which releases it once replaced and no longer read.
func (l *Loop) SetIdle(seg *Segment) error {
	if seg != nil && (seg.Frames == nil || seg.live != nil) {
		return fmt.Errorf("idle clip %q: needs a loaded (not live) segment", seg.Name)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if seg == l.idleSeg {
		return nil
	}
	if l.idleSeg != nil {
		l.idleOld = append(l.idleOld, l.idleSeg)
	}
	if i := slices.Index(l.idleOld, seg); i >= 0 { // set again before it was released
		l.idleOld = slices.Delete(l.idleOld, i, i+1)
	}
	l.idleSeg = seg
	l.idleGen++
	return nil
}

// IdleClip returns the idle clip, nil for the built-in idle picture.
func (l *Loop) IdleClip() *Segment {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.idleSeg
}

// Entries lists the queue: finished entries (at most the latest 256),
// then those playing, then those queued, in play order.
func (l *Loop) Entries() []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Entry, 0, len(l.history)+len(l.active)+len(l.queue))
	for _, list := range [][]*entry{l.history, l.active, l.queue} {
		for _, e := range list {
			out = append(out, e.snapshot())
		}
	}
	return out
}

// Entry returns one entry; false when the ID is unknown or forgotten.
func (l *Loop) Entry(id EntryID) (Entry, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, list := range [][]*entry{l.history, l.active, l.queue} {
		for _, e := range list {
			if e.id == id {
				return e.snapshot(), true
			}
		}
	}
	return Entry{}, false
}

// OnEvent adds an event handler; the returned func removes it. Handlers
// run on the loop's goroutine and must return quickly.
func (l *Loop) OnEvent(f func(Event)) (remove func()) {
	return subscribe(&l.mu, &l.handlers, &eventHandler{f})
}

type eventHandler struct{ f func(Event) }

// retireEntry moves a finished entry to the history, hands its segment to
// the loop goroutine for release and reports it ended. mu is held.
func (l *Loop) retireEntry(e *entry) {
	if e.seg != nil {
		e.frames, e.dur = e.seg.Frames.Len(), e.seg.Duration()
		l.release = append(l.release, e.seg)
		e.seg = nil
	}
	if len(l.history) == historyLen {
		copy(l.history, l.history[1:])
		l.history[len(l.history)-1] = e
	} else {
		l.history = append(l.history, e)
	}
	l.events = append(l.events, Event{Kind: EventEnded, Entry: e.id, State: e.state})
}
