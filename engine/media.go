package engine

import (
	"context"
	"image"
	"time"
)

// Output audio format. Every sink receives 20 ms chunks of interleaved
// stereo int16 at 48 kHz, whatever the sources were: Opus's RTP clock is
// always 48 kHz and PortAudio plays that rate everywhere.
const (
	AudioRate     = 48000
	AudioChannels = 2
	ChunkSamples  = 960 // per channel, 20 ms at 48 kHz
	ChunkNS       = 20_000_000
)

// ChunkRTP is the RTP timestamp of audio chunk n (48 kHz clock).
// uint32 wraps as RTP timestamps do.
func ChunkRTP(n int64) uint32 { return uint32(n * ChunkSamples) }

// FrameSource holds one segment's video frames. Implementations are safe
// for concurrent use: the loop reads frames while a UI lists segments.
type FrameSource interface {
	// Len is the number of frames.
	Len() int
	// Frame returns frame i as I420 (4:2:0 YCbCr). The image must not be
	// modified by the caller; it may be shared with other readers.
	Frame(i int) (*image.YCbCr, error)
	// Prefetch hints that frames from i on will be asked for soon, so a
	// store holding compressed frames can decode them ahead of the play head.
	Prefetch(i int)
	// Bytes is the memory held for these frames.
	Bytes() int64
	// Release frees the memory held; the source must not be used after.
	Release()
}

// Audio holds one segment's sound, already at 48 kHz.
type Audio interface {
	// Len is the length in sample frames (one sample per channel) at 48 kHz.
	Len() int64
	// Channels is 1 or 2.
	Channels() int
	// Fill writes len(dst)/2 stereo sample frames starting at sample frame
	// off into dst (interleaved L,R; mono is duplicated). Frames before 0 or
	// past Len are silence.
	Fill(dst []int16, off int64)
	// Bytes is the memory held.
	Bytes() int64
}

// Segment is one clip: frames, sound, and the rate its frames were made at.
type Segment struct {
	Name   string // shown to the user
	Source string // path it came from, or "pattern"
	Rate   Rate   // frame rate of the frames
	Width  int
	Height int
	Frames FrameSource // never nil; may have Len 0 for audio-only input
	Audio  Audio       // nil when the input has no sound
	// SourceWidth and SourceHeight are the input's own picture size, before
	// scaling to Width×Height (0 when it has no picture).
	SourceWidth, SourceHeight int
	// SourceAudioRate and SourceChannels describe the sound before
	// resampling (0 when there is none).
	SourceAudioRate int
	SourceChannels  int

	live *LiveSegment // set for a growing segment (NewLiveSegment)
}

// VideoDuration is the media time the frames cover.
func (s *Segment) VideoDuration() time.Duration {
	return time.Duration(s.Rate.FrameNS(int64(s.Frames.Len())))
}

// AudioDuration is the media time the sound covers.
func (s *Segment) AudioDuration() time.Duration {
	if s.Audio == nil {
		return 0
	}
	return time.Duration(s.Audio.Len() * int64(time.Second) / AudioRate)
}

// Duration is the longer of the video and the audio.
func (s *Segment) Duration() time.Duration {
	return max(s.VideoDuration(), s.AudioDuration())
}

// MemoryBytes is what the segment holds in memory.
func (s *Segment) MemoryBytes() int64 {
	n := s.Frames.Bytes()
	if s.Audio != nil {
		n += s.Audio.Bytes()
	}
	return n
}

// Release frees the segment's memory (frames back to their store).
func (s *Segment) Release() { s.Frames.Release() }

// VideoFrame is one output video frame on the session timeline.
type VideoFrame struct {
	Seq      int64         // k, from 0 at session start
	MediaNS  int64         // floor(k·1e9·den/num)
	RTP      uint32        // floor(k·90000·den/num), wrapping
	Deadline time.Duration // clock time at which it should leave / be shown
	Image    *image.YCbCr  // shared, read-only
	// Segment is the playlist index shown, or -1 for anything else.
	Segment     int
	SourceIndex int     // frame index inside the segment shown, -1 for the idle picture
	Entry       EntryID // the queue entry shown, 0 for none
}

// AudioChunk is one 20 ms output audio chunk on the session timeline.
type AudioChunk struct {
	Seq      int64 // n, from 0 at session start
	MediaNS  int64 // n·20 ms
	RTP      uint32
	Deadline time.Duration
	// Samples is ChunkSamples stereo frames, interleaved. It is only valid
	// during the WriteAudio call: copy what you keep.
	Samples []int16
	// Segment is the playlist index the chunk starts in, or -1 for
	// anything else (silence, a queue entry, the idle clip).
	Segment int
	// SourceIndex is the index, in the 48 kHz sound of what plays, of the
	// chunk's first sample frame; -1 for silence.
	SourceIndex int64
	Entry       EntryID // the queue entry the chunk starts in, 0 for none
}

// Sink receives the loop's output in media-time order, ahead of each
// item's Deadline by the loop's lead. Calls come from the loop goroutine;
// a sink must not block for long (hand work to its own goroutine). The
// *VideoFrame and *AudioChunk are reused: copy what you keep (the frame's
// Image may be kept; it is never modified).
type Sink interface {
	WriteVideo(f *VideoFrame)
	WriteAudio(c *AudioChunk)
}

// Clock is the loop's time source. Times are durations since the clock's
// own origin on a monotonic scale.
type Clock interface {
	Now() time.Duration
	// SleepUntil returns when Now() >= t or ctx is done (then ctx.Err()).
	SleepUntil(ctx context.Context, t time.Duration) error
}
