package engine

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"time"
)

// TimelineOptions configures WriteTimelineCSV.
type TimelineOptions struct {
	Rate          Rate // output frame rate
	Width, Height int  // output size; 0×0 takes the first segment's
	Duration      time.Duration
	Loop          bool
}

// TimelineHeader is the first line of the `segcast timeline` CSV.
const TimelineHeader = "kind,seq,media_ns,rtp_ts,segment,source_index\n"

// WriteTimelineCSV plays segs from the start on a fake clock (no sleeping)
// and writes one CSV row per video frame and per 20 ms audio chunk, in
// media-time order (video first on ties), for media time below
// opt.Duration (0: the playlist's length).
func WriteTimelineCSV(ctx context.Context, w io.Writer, segs []*Segment, opt TimelineOptions) error {
	if err := opt.Rate.Valid(); err != nil {
		return fmt.Errorf("timeline: frame rate %v: %w", opt.Rate, err)
	}
	if opt.Duration < 0 {
		return fmt.Errorf("timeline: duration %v: must not be negative", opt.Duration)
	}
	if opt.Width == 0 && opt.Height == 0 && len(segs) > 0 {
		opt.Width, opt.Height = segs[0].Width, segs[0].Height
	}
	if opt.Width <= 0 || opt.Height <= 0 {
		return fmt.Errorf("timeline: size %dx%d: must be positive", opt.Width, opt.Height)
	}
	loop := NewLoop(LoopConfig{Rate: opt.Rate, Width: opt.Width, Height: opt.Height,
		Clock: NewFakeClock(), NoImages: true})
	for i, s := range segs {
		if loop.Add(s) < 0 {
			return fmt.Errorf("timeline: segment %d: no frame source", i)
		}
	}
	dur := opt.Duration
	if dur == 0 {
		dur = time.Duration(opt.Rate.FrameNS(newLayout(segs, opt.Rate).total))
	}
	loop.SetLoop(opt.Loop)
	loop.Play()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sink := &timelineCSVSink{w: bufio.NewWriterSize(w, 64<<10), cancel: cancel}
	if _, err := sink.w.WriteString(TimelineHeader); err != nil {
		return fmt.Errorf("timeline: write: %w", err)
	}
	loop.AddSink(sink)
	runErr := loop.RunFor(ctx, dur)
	if sink.err != nil {
		return fmt.Errorf("timeline: write: %w", sink.err)
	}
	if runErr != nil {
		return fmt.Errorf("timeline: %w", runErr)
	}
	if err := sink.w.Flush(); err != nil {
		return fmt.Errorf("timeline: write: %w", err)
	}
	return nil
}

// timelineCSVSink formats rows with strconv.Append* into one reused buffer: an
// hour of 29.97 fps is about 290 000 rows.
type timelineCSVSink struct {
	w      *bufio.Writer
	buf    []byte
	err    error
	cancel func()
}

func (c *timelineCSVSink) WriteVideo(f *VideoFrame) {
	c.row("video,", f.Seq, f.MediaNS, f.RTP, f.Segment, int64(f.SourceIndex))
}

func (c *timelineCSVSink) WriteAudio(a *AudioChunk) {
	c.row("audio,", a.Seq, a.MediaNS, a.RTP, a.Segment, a.SourceIndex)
}

func (c *timelineCSVSink) row(kind string, seq, mediaNS int64, rtp uint32, seg int, idx int64) {
	if c.err != nil {
		return
	}
	b := append(c.buf[:0], kind...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, mediaNS, 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(rtp), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(seg), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, idx, 10)
	b = append(b, '\n')
	c.buf = b
	if _, err := c.w.Write(b); err != nil {
		c.err = err
		c.cancel() // stop the loop: the reader has gone
	}
}
