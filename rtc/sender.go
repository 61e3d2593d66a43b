package rtc

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"segcast/engine"
	"segcast/rtc/opusenc"
	"segcast/rtc/vp8"
)

// The send path. The loop hands each item to the session Lead before its
// deadline. An encoder goroutine per track encodes and packetises it at
// once; a sender goroutine per track waits for the item's deadline on the
// loop's clock and writes its packets then. Encode time therefore never
// shows up as A/V offset: audio and video of the same media time leave at
// the same instant, which is what RTCP Sender Reports tell the browser.

// rtpPayloadMTU leaves room in a 1200-byte packet for the RTP header, the
// TWCC and mid header extensions and the SRTP auth tag.
const rtpPayloadMTU = 1100

// The Opus encoder takes exactly one engine chunk: these constants
// overflow (a compile error) unless the two packages agree.
const (
	_ = uint(opusenc.FrameSamples-engine.ChunkSamples) + uint(engine.ChunkSamples-opusenc.FrameSamples)
	_ = uint(opusenc.SampleRate-engine.AudioRate) + uint(engine.AudioRate-opusenc.SampleRate)
	_ = uint(opusenc.Channels-engine.AudioChannels) + uint(engine.AudioChannels-opusenc.Channels)
)

// queueLen bounds the items between the loop and the wire (several
// seconds at 30 fps + 50 chunks/s; a normal lead holds a handful).
const queueLen = 256

// batch is one media item on its way out.
type batch struct {
	deadline time.Duration
	ready    chan struct{} // closed by the encoder when pkts is final
	pkts     []*rtp.Packet // nil: nothing to send (idle or failed)
	bytes    int
	// item describes it to observers; the sender fills in the write.
	item SentItem
}

type videoJob struct {
	frame engine.VideoFrame // copy: the loop reuses its struct
	b     *batch
	gen   uint64 // the timeline it belongs to (restart.go)
}

type audioJob struct {
	seq     int64
	rtp     uint32
	samples []int16 // our copy
	b       *batch
	gen     uint64
}

// trackSender writes one track's batches at their deadlines.
type trackSender struct {
	track *webrtc.TrackLocalStaticRTP
	queue chan *batch
	errs  *errRing
	// longErrs keeps about ten minutes of send-time errors for reports
	// (avsync.NewSendError).
	longErrs *errRing
	sent     atomic.Int64 // items written with at least one packet
	late     atomic.Int64
	bytes    atomic.Int64
	packets  atomic.Int64
	// observers see every item written (Config.Observers).
	observers []Observer
}

func newTrackSender(track *webrtc.TrackLocalStaticRTP) *trackSender {
	return &trackSender{track: track, queue: make(chan *batch, queueLen),
		errs: newErrRing(sendErrWindow), longErrs: newErrRing(sendErrKeep)}
}

// run writes batches in order, each at its absolute deadline, on a
// thread of its own at real-time priority where allowed (priority_linux.go).
func (t *trackSender) run(ctx context.Context, clock engine.Clock, log *slog.Logger) {
	runtime.LockOSThread() // never unlocked: the thread ends with run
	if err := raisePriority(senderPriority); err != nil {
		log.Debug("sender keeps ordinary priority", "err", err)
	}
	for {
		var b *batch
		select {
		case <-ctx.Done():
			return
		case b = <-t.queue:
		}
		select {
		case <-ctx.Done():
			return
		case <-b.ready:
		}
		if len(b.pkts) == 0 {
			continue
		}
		if err := sleepUntilPrecise(ctx, clock, b.deadline); err != nil {
			return
		}
		wrote := clock.Now()
		sendErr := wrote - b.deadline
		for _, p := range b.pkts {
			// An error here is one viewer's transport closing; the
			// others still got the packet, and the viewer's own state
			// callback removes it.
			_ = t.track.WriteRTP(p)
		}
		b.item.RTP, b.item.Wrote, b.item.Wall = b.pkts[0].Timestamp, wrote, time.Now()
		for _, o := range t.observers {
			o.Sent(b.item)
		}
		t.errs.add(sendErr)
		t.longErrs.add(sendErr)
		if sendErr > LateAfter {
			t.late.Add(1)
		}
		t.sent.Add(1)
		t.bytes.Add(int64(b.bytes))
		t.packets.Add(int64(len(b.pkts)))
	}
}

// enqueue hands b to the sender without blocking the loop; false when the
// queue is full.
func (t *trackSender) enqueue(b *batch) bool {
	select {
	case t.queue <- b:
		return true
	default:
		return false
	}
}

// WriteVideo implements engine.Sink: queue the frame for encoding now and
// sending at f.Deadline.
func (s *Session) WriteVideo(f *engine.VideoFrame) {
	if s.ctx.Err() != nil {
		return
	}
	b := &batch{deadline: f.Deadline, ready: make(chan struct{}), item: SentItem{
		Kind: Video, Seq: f.Seq, MediaRTP: f.RTP, Deadline: f.Deadline,
		Image: f.Image, Segment: f.Segment, SourceIndex: f.SourceIndex,
	}}
	if !s.video.enqueue(b) {
		s.dropped.Add(1)
		return
	}
	select {
	case s.videoJobs <- videoJob{frame: *f, b: b, gen: s.timelines.gen.Load()}:
	default:
		s.dropped.Add(1)
		close(b.ready)
	}
}

// WriteAudio implements engine.Sink.
func (s *Session) WriteAudio(c *engine.AudioChunk) {
	if s.ctx.Err() != nil {
		return
	}
	// The packet's decoded audio is opusenc.Lookahead older than the
	// chunk, so it leaves that much earlier: then the Sender Reports map
	// what the viewer hears, not what was encoded, onto the video clock.
	deadline := c.Deadline - opusenc.Lookahead
	b := &batch{deadline: deadline, ready: make(chan struct{}), item: SentItem{
		Kind: Audio, Seq: c.Seq, MediaRTP: c.RTP, Deadline: deadline, Segment: c.Segment, SourceIndex: -1,
	}}
	if !s.audio.enqueue(b) {
		s.dropped.Add(1)
		return
	}
	job := audioJob{seq: c.Seq, rtp: c.RTP, samples: append([]int16(nil), c.Samples...), b: b,
		gen: s.timelines.gen.Load()}
	select {
	case s.audioJobs <- job:
	default:
		s.dropped.Add(1)
		close(b.ready)
	}
}

// videoEncoder turns frames into VP8 RTP packets with the engine's
// timestamps and our own sequence numbers.
type videoEncoder struct {
	enc *vp8.Encoder
	// payloader fragments frames; picture IDs help receivers tell
	// which frame a lost packet belonged to.
	payloader codecs.VP8Payloader
	seq       uint16
	tsBase    uint32
	bitrate   int
	// The format enc encodes, and the timeline (restart.go).
	width, height int
	rate          engine.Rate
	tl            trackTimeline
}

func (s *Session) encodeVideo(ve *videoEncoder) {
	defer func() {
		if ve.enc != nil {
			ve.enc.Close()
		}
	}()
	for {
		var job videoJob
		select {
		case <-s.ctx.Done():
			return
		case job = <-s.videoJobs:
		}
		s.followVideo(ve, &job)
		if s.viewerCount() == 0 {
			// Nobody to send to: skip the encode, and start the next
			// viewer's stream on a keyframe.
			s.videoIdle.Add(1)
			s.needKey.Store(true)
			close(job.b.ready)
			continue
		}
		if late := s.clock.Now() - job.frame.Deadline; late > 0 && len(s.videoJobs) > 0 {
			// The encoder has fallen behind (a busy machine): a frame
			// already past its deadline with newer ones waiting is
			// skipped, so latency stays bounded; VP8 copes with gaps in
			// pts and the receiver just sees a lower frame rate.
			s.videoBehind.Add(1)
			close(job.b.ready)
			continue
		}
		if err := s.encodeFrame(ve, &job); err != nil {
			s.dropped.Add(1)
			s.log.Warn("video encode", "frame", job.frame.Seq, "err", err)
		}
		close(job.b.ready)
	}
}

func (s *Session) encodeFrame(ve *videoEncoder, job *videoJob) error {
	img := job.frame.Image
	if img == nil {
		return fmt.Errorf("frame %d has no image", job.frame.Seq)
	}
	if w, h := img.Rect.Dx(), img.Rect.Dy(); ve.enc == nil || w != ve.width || h != ve.height {
		return fmt.Errorf("frame %d is %dx%d, session is %dx%d", job.frame.Seq, w, h, ve.width, ve.height)
	}
	if target := s.targetBitrate(); target != ve.bitrate {
		if err := ve.enc.SetBitrate(target); err != nil {
			s.log.Warn("set VP8 bitrate", "bps", target, "err", err)
		} else {
			ve.bitrate = target
			s.bitrate.Store(int64(target))
		}
	}
	force := s.needKey.Swap(false)
	frames, err := ve.enc.Encode(img, job.frame.Seq, force)
	if err != nil {
		return err
	}
	for _, fr := range frames {
		if fr.Key {
			s.keyframes.Add(1)
		}
		payloads := ve.payloader.Payload(rtpPayloadMTU, fr.Data)
		for i, pl := range payloads {
			job.b.pkts = append(job.b.pkts, &rtp.Packet{
				Header: rtp.Header{
					Version:        2,
					Marker:         i == len(payloads)-1,
					SequenceNumber: ve.seq,
					Timestamp:      ve.tsBase + job.frame.RTP,
				},
				Payload: pl,
			})
			ve.seq++
			job.b.bytes += len(pl)
		}
	}
	return nil
}

// audioEncoder turns 20 ms chunks into one Opus packet each (opusenc:
// 48 kHz stereo, in-band FEC, no DTX so silence keeps flowing).
type audioEncoder struct {
	enc    *opusenc.Encoder
	seq    uint16
	tsBase uint32
	tl     trackTimeline // restart.go
}

func (s *Session) encodeAudio(ae *audioEncoder) {
	for {
		var job audioJob
		select {
		case <-s.ctx.Done():
			return
		case job = <-s.audioJobs:
		}
		s.followAudio(ae, &job)
		if s.viewerCount() == 0 {
			s.audioIdle.Add(1)
			close(job.b.ready)
			continue
		}
		pkt, err := ae.enc.Encode(job.samples)
		if err != nil {
			s.dropped.Add(1)
			s.log.Warn("opus encode", "chunk", job.seq, "err", err)
			close(job.b.ready)
			continue
		}
		job.b.pkts = []*rtp.Packet{{
			Header: rtp.Header{
				Version:        2,
				SequenceNumber: ae.seq,
				Timestamp:      ae.tsBase + job.rtp,
			},
			Payload: pkt,
		}}
		job.b.bytes = len(pkt)
		ae.seq++
		close(job.b.ready)
	}
}
