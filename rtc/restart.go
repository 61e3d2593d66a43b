package rtc

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"segcast/engine"
	"segcast/rtc/vp8"
)

// A new timeline. The window changes the output size or frame rate by
// replacing its loop; the new loop's timeline starts again at frame 0 and
// chunk 0, at the clock time the old one's next items were due. Restart
// tells the session, which then keeps every viewer going: each track's
// RTP timestamps carry on from the last item by the clock time between
// (so Sender Reports and the browser's jitter buffers see one unbroken
// stream), and the VP8 encoder is made anew at the new size and rate on
// the first frame of the new timeline, which is a keyframe (VP8 changes
// resolution on a keyframe; the browser follows without renegotiation).

// format is the session's output picture format.
type format struct {
	width, height int
	rate          engine.Rate
}

// timelines is the session's count of Restarts and the format of each
// recent timeline.
type timelines struct {
	gen   atomic.Uint64 // bumped by Restart; every item carries the gen it was handed in
	mu    sync.Mutex
	cur   format
	byGen map[uint64]format // the last few timelines' formats
}

// keptFormats bounds timelines.byGen: items of older timelines than that
// are long gone (the send queue holds seconds).
const keptFormats = 8

// Restart starts a new timeline in the given format: every item handed
// to the session after it returns belongs to the new timeline. The loop
// feeding the old one must have stopped (engine.Loop.Run returned).
func (s *Session) Restart(width, height int, rate engine.Rate) error {
	if width <= 0 || height <= 0 || width%2 != 0 || height%2 != 0 {
		return fmt.Errorf("rtc restart: size %dx%d must be positive and even", width, height)
	}
	if err := rate.Valid(); err != nil {
		return fmt.Errorf("rtc restart: rate %v: %w", rate, err)
	}
	tl := &s.timelines
	tl.mu.Lock()
	tl.cur = format{width, height, rate}
	gen := tl.gen.Add(1)
	if tl.byGen == nil {
		tl.byGen = map[uint64]format{}
	}
	tl.byGen[gen] = tl.cur
	delete(tl.byGen, gen-keptFormats)
	tl.mu.Unlock()
	s.log.Info("new timeline", "width", width, "height", height, "rate", rate)
	return nil
}

// Format is the picture size and frame rate the session now encodes.
func (s *Session) Format() (width, height int, rate engine.Rate) {
	s.timelines.mu.Lock()
	defer s.timelines.mu.Unlock()
	f := s.timelines.cur
	return f.width, f.height, f.rate
}

// formatOf is timeline gen's format (the first one's for gen 0).
func (tl *timelines) formatOf(gen uint64, first format) format {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if f, ok := tl.byGen[gen]; ok {
		return f
	}
	if gen == 0 {
		return first
	}
	return tl.cur
}

// trackTimeline is one encoder's view of the timelines: which one its
// items belong to, and where the last item was, to carry the RTP
// timestamps on across a Restart.
type trackTimeline struct {
	gen      uint64
	seen     bool          // an item has been handled
	lastTS   uint32        // its wire timestamp
	lastDue  time.Duration // its deadline
	clockHz  int64         // the track's RTP clock
	restarts int           // timelines followed, for tests
}

// follow handles an item of timeline gen with engine timestamp rtp, due
// at deadline, and returns the base to add to rtp on the wire. On a new
// timeline the base is chosen so the wire timestamp moves on from the
// last item by the clock time between them; restarted reports that.
func (t *trackTimeline) follow(gen uint64, base, rtp uint32, deadline time.Duration) (newBase uint32, restarted bool) {
	if gen != t.gen {
		t.gen = gen
		if t.seen {
			step := uint32((int64(deadline-t.lastDue)*t.clockHz + int64(time.Second)/2) / int64(time.Second))
			base = t.lastTS + step - rtp
			restarted = true
			t.restarts++
		}
	}
	t.seen, t.lastTS, t.lastDue = true, base+rtp, deadline
	return base, restarted
}

// newVP8 makes the session's VP8 encoder for width×height at rate.
func newVP8(width, height int, rate engine.Rate, bitrate int) (*vp8.Encoder, error) {
	return vp8.NewEncoder(vp8.EncoderConfig{
		Width: width, Height: height, FPSNum: rate.Num, FPSDen: rate.Den,
		// Fixed speed 8, one thread: 0.16–0.28 core at 720p30 against
		// 1.1–1.5 with two threads (bench/README.md, "Codec benchmarks")
		// (libvpx's threads spin on a busy machine), and encode-ahead
		// hides the longer per-frame wall time.
		Bitrate: bitrate, CPUUsed: -8, Threads: 1,
	})
}

// followVideo moves the video encoder onto job's timeline: a new base for
// the timestamps and, when the format changed, a new encoder whose first
// frame is a keyframe.
func (s *Session) followVideo(ve *videoEncoder, job *videoJob) {
	if job.gen == ve.tl.gen && ve.tl.seen {
		ve.tsBase, _ = ve.tl.follow(job.gen, ve.tsBase, job.frame.RTP, job.frame.Deadline)
		return
	}
	ve.tsBase, _ = ve.tl.follow(job.gen, ve.tsBase, job.frame.RTP, job.frame.Deadline)
	s.needKey.Store(true) // a new timeline starts on a keyframe
	f := s.timelines.formatOf(job.gen, format{s.cfg.Width, s.cfg.Height, s.cfg.Rate})
	w, h, rate := f.width, f.height, f.rate
	if ve.enc != nil && w == ve.width && h == ve.height && rate == ve.rate {
		return
	}
	enc, err := newVP8(w, h, rate, ve.bitrate)
	if err != nil {
		s.log.Error("rtc restart: new VP8 encoder; frames of the new size are dropped", "err", err)
		return
	}
	if ve.enc != nil {
		ve.enc.Close()
	}
	ve.enc, ve.width, ve.height, ve.rate = enc, w, h, rate
}

// followAudio carries the Opus timestamps on across a new timeline.
func (s *Session) followAudio(ae *audioEncoder, job *audioJob) {
	ae.tsBase, _ = ae.tl.follow(job.gen, ae.tsBase, job.rtp, job.b.deadline)
}
