package engine

import (
	"context"
	"errors"
	"fmt"
	"image"
	"sync"
	"time"
)

// LiveConfig describes a live segment's media.
type LiveConfig struct {
	Name          string
	Rate          Rate // frame rate of the frames appended
	Width, Height int
	Channels      int // of the 48 kHz sound appended: 1 or 2, 0 for none
	// Store accounts the frames held against its budget (nil: unbounded);
	// frames already played are given back as playback moves on.
	Store *FrameStore
}

// LiveSegment is a segment that grows while it plays: a producer appends
// frames in order and 48 kHz sound, then calls End. Enqueue its Segment;
// the loop starts it once the pre-roll is buffered, holds the last frame
// with silence when playback catches up with the producer (an underrun),
// and drops what it has played. Methods are safe from any goroutine.
type LiveSegment struct {
	seg   *Segment
	cfg   LiveConfig
	room  chan struct{} // signalled when playback moves on or the segment ends
	frame int64         // bytes of one frame

	mu       sync.Mutex
	frames   []*image.YCbCr // frames base…base+len−1 still held
	base     int
	pcm      [][]int16 // appended sound, interleaved, from sample abase on
	abase    int64
	pcmBytes int64
	samples  int64 // sample frames appended
	played   int   // frames before this are no longer needed
	playedA  int64 // samples before this are no longer needed
	ended    bool
	released bool
	enqueued bool
}

// NewLiveSegment returns an empty live segment.
func NewLiveSegment(c LiveConfig) (*LiveSegment, error) {
	if err := c.Rate.Valid(); err != nil {
		return nil, fmt.Errorf("live segment %q: frame rate %v: %w", c.Name, c.Rate, err)
	}
	if c.Width <= 0 || c.Height <= 0 {
		return nil, fmt.Errorf("live segment %q: size %dx%d: must be positive", c.Name, c.Width, c.Height)
	}
	if c.Channels < 0 || c.Channels > 2 {
		return nil, fmt.Errorf("live segment %q: %d channels: want 0, 1 or 2", c.Name, c.Channels)
	}
	cw, ch := (c.Width+1)/2, (c.Height+1)/2
	s := &LiveSegment{cfg: c, room: make(chan struct{}, 1),
		frame: int64(c.Width*c.Height + 2*cw*ch)}
	s.seg = &Segment{Name: c.Name, Source: "live", Rate: c.Rate, Width: c.Width, Height: c.Height,
		Frames: (*liveFrames)(s), live: s}
	if c.Channels > 0 {
		s.seg.Audio = (*liveAudio)(s)
		s.seg.SourceAudioRate, s.seg.SourceChannels = AudioRate, c.Channels
	}
	return s, nil
}

// Segment is the segment to Enqueue.
func (s *LiveSegment) Segment() *Segment { return s.seg }

var errLiveClosed = errors.New("segment ended or released")

// AppendFrame adds the next frame (I420, Width×Height). The segment keeps
// img: do not modify it afterwards. A *BudgetError means the store is full.
func (s *LiveSegment) AppendFrame(img *image.YCbCr) error {
	if img == nil || img.Rect.Dx() != s.cfg.Width || img.Rect.Dy() != s.cfg.Height ||
		img.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		return fmt.Errorf("live %q: frame is not %dx%d I420", s.cfg.Name, s.cfg.Width, s.cfg.Height)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || s.released {
		return fmt.Errorf("live %q: append frame: %w", s.cfg.Name, errLiveClosed)
	}
	if st := s.cfg.Store; st != nil && !st.take(s.frame) {
		return fmt.Errorf("live %q: frame %d: %w", s.cfg.Name, s.base+len(s.frames),
			&BudgetError{Need: s.frame, Left: st.Left()})
	}
	s.frames = append(s.frames, img)
	return nil
}

// AppendAudio adds interleaved 48 kHz samples (Channels per sample frame).
// The segment keeps pcm (no copy): do not modify it afterwards.
func (s *LiveSegment) AppendAudio(pcm []int16) error {
	ch := s.cfg.Channels
	if ch == 0 || len(pcm)%ch != 0 {
		return fmt.Errorf("live %q: %d samples for %d channels", s.cfg.Name, len(pcm), ch)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || s.released {
		return fmt.Errorf("live %q: append audio: %w", s.cfg.Name, errLiveClosed)
	}
	if len(pcm) > 0 {
		s.pcm = append(s.pcm, pcm)
		s.pcmBytes += 2 * int64(len(pcm))
		s.samples += int64(len(pcm) / ch)
	}
	return nil
}

// End marks the segment complete: nothing more will be appended.
func (s *LiveSegment) End() {
	s.mu.Lock()
	s.ended = true
	s.mu.Unlock()
	s.signal()
}

// Buffered is the media appended but not yet played, video and sound.
func (s *LiveSegment) Buffered() (video, audio time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bufferedLocked()
}

func (s *LiveSegment) bufferedLocked() (video, audio time.Duration) {
	r := s.cfg.Rate
	n := s.base + len(s.frames)
	video = time.Duration(r.FrameNS(int64(n)) - r.FrameNS(int64(min(s.played, n))))
	audio = time.Duration((s.samples - min(s.playedA, s.samples)) * int64(time.Second) / AudioRate)
	return video, audio
}

// WaitRoom blocks while both the video and the sound buffered ahead of
// playback are at least ahead (only the video for a segment without
// sound), so a producer far ahead is slowed rather than held in memory. It
// returns ctx's error, or nil once there is room or the segment ended. Use
// an ahead above the pre-roll, or the segment never starts.
func (s *LiveSegment) WaitRoom(ctx context.Context, ahead time.Duration) error {
	for {
		s.mu.Lock()
		v, a := s.bufferedLocked()
		done := s.ended || s.released || v < ahead || (s.cfg.Channels > 0 && a < ahead)
		s.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.room:
		}
	}
}

func (s *LiveSegment) signal() {
	select {
	case s.room <- struct{}{}:
	default:
	}
}

// claim marks the segment enqueued; false if it already was.
func (s *LiveSegment) claim() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	was := s.enqueued
	s.enqueued = true
	return !was
}

// liveState is what the loop may play of a live segment.
type liveState struct {
	frames  int64
	samples int64
	ended   bool
}

func (s *LiveSegment) state() liveState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return liveState{int64(s.base + len(s.frames)), s.samples, s.ended}
}

// consumed tells the segment the loop will not read frames before frame
// or samples before sample again; they are dropped.
func (s *LiveSegment) consumed(frame int, sample int64) {
	s.mu.Lock()
	moved := frame > s.played || sample > s.playedA
	s.played, s.playedA = max(s.played, frame), max(s.playedA, sample)
	if drop := min(s.played-s.base, len(s.frames)); drop > 0 {
		clear(s.frames[:drop])
		s.frames = s.frames[drop:]
		s.base += drop
		if st := s.cfg.Store; st != nil {
			st.give(int64(drop) * s.frame)
		}
	}
	if ch := int64(s.cfg.Channels); ch > 0 {
		for len(s.pcm) > 0 && s.abase+int64(len(s.pcm[0]))/ch <= s.playedA {
			s.abase += int64(len(s.pcm[0])) / ch
			s.pcmBytes -= 2 * int64(len(s.pcm[0]))
			s.pcm[0] = nil
			s.pcm = s.pcm[1:]
		}
	}
	s.mu.Unlock()
	if moved {
		s.signal()
	}
}

// liveFrames is a LiveSegment seen as its FrameSource.
type liveFrames LiveSegment

func (f *liveFrames) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.base + len(f.frames)
}

func (f *liveFrames) Frame(i int) (*image.YCbCr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i < f.base || i >= f.base+len(f.frames) {
		return nil, fmt.Errorf("live %q: frame %d not held (%d to %d)", f.cfg.Name, i, f.base, f.base+len(f.frames)-1)
	}
	return f.frames[i-f.base], nil
}

func (f *liveFrames) Prefetch(int) {}

func (f *liveFrames) Bytes() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return int64(len(f.frames))*f.frame + f.pcmBytes
}

// Release frees the frames and the sound; appends fail afterwards.
func (f *liveFrames) Release() {
	f.mu.Lock()
	if !f.released {
		f.released = true
		if st := f.cfg.Store; st != nil {
			st.give(int64(len(f.frames)) * f.frame)
		}
		f.base += len(f.frames) // Len stays what was appended
		f.frames, f.pcm, f.pcmBytes = nil, nil, 0
	}
	f.mu.Unlock()
	(*LiveSegment)(f).signal()
}

// liveAudio is a LiveSegment seen as its Audio.
type liveAudio LiveSegment

func (a *liveAudio) Len() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.samples
}

func (a *liveAudio) Channels() int { return a.cfg.Channels }

func (a *liveAudio) Bytes() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pcmBytes
}

// Fill copies the held samples; anything not held is silence.
func (a *liveAudio) Fill(dst []int16, off int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(dst)
	ch := int64(a.cfg.Channels)
	n := int64(len(dst) / 2)
	start := a.abase // first sample of chunk
	for _, c := range a.pcm {
		end := start + int64(len(c))/ch
		lo, hi := max(start, off), min(end, off+n)
		if ch == 1 {
			for i := lo; i < hi; i++ {
				v := c[i-start]
				dst[2*(i-off)], dst[2*(i-off)+1] = v, v
			}
		} else if lo < hi {
			copy(dst[2*(lo-off):2*(hi-off)], c[2*(lo-start):2*(hi-start)])
		}
		if end >= off+n {
			return
		}
		start = end
	}
}
