package rtc_test

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"segcast/engine"
	"segcast/engine/pattern"
	"segcast/rtc"
	"segcast/rtc/internal/rtctest"
	"segcast/rtc/opusenc"
	"segcast/rtc/vp8"
)

// sentLog records, per track and wire timestamp, each item's send-time
// error and the wall time its packets were written, and the tracks'
// timestamp bases (wire − engine).
type sentLog struct {
	mu    sync.Mutex
	err   map[string]map[uint32]sentItem
	bases map[string]uint32
}

type sentItem struct {
	sendErr time.Duration
	wrote   time.Time
}

func (l *sentLog) add(item rtc.SentItem) {
	kind := item.Kind.String()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		l.err = map[string]map[uint32]sentItem{}
		l.bases = map[string]uint32{}
	}
	if l.err[kind] == nil {
		l.err[kind] = map[uint32]sentItem{}
	}
	l.err[kind][item.RTP] = sentItem{item.Wrote - item.Deadline, item.Wall}
	l.bases[kind] = item.RTP - item.MediaRTP
}

func (l *sentLog) base(kind string) uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bases[kind]
}

func (l *sentLog) get(kind string, ts uint32) (sentItem, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.err[kind][ts]
	return e, ok
}

// syncCheck decodes what a receiver got, incrementally, and checks the
// timestamps against the engine's timeline as it goes.
type syncCheck struct {
	t            testing.TB
	rate         engine.Rate
	dec          *vp8.Decoder
	od           *opusenc.Decoder
	nf, na       int
	k0, lastK    int64
	ts0          uint32
	flashes      []rtctest.Frame
	flashK       []int64
	onsets       []onset
	quiet        int
	prev         *rtctest.AudioPacket
	decodedAudio int
	needKey      bool
	skipped      int
	unreadable   int
}

type onset struct {
	ts      uint32 // RTP time of the first loud sample
	pktTS   uint32 // its packet's timestamp
	arrived time.Time
}

func newSyncCheck(t testing.TB, rate engine.Rate) *syncCheck {
	dec, err := vp8.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dec.Close)
	od, err := opusenc.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	return &syncCheck{t: t, rate: rate, dec: dec, od: od, k0: -1, lastK: -1}
}

// feed checks frames and packets not seen before.
func (c *syncCheck) feed(frames []rtctest.Frame, audio []rtctest.AudioPacket) {
	t := c.t
	for ; c.nf < len(frames); c.nf++ {
		f := frames[c.nf]
		if f.AfterLoss {
			c.needKey = true
		}
		if c.needKey && !f.IsKeyframe() {
			c.skipped++ // undecodable until the keyframe the receiver asked for
			continue
		}
		c.needKey = false
		img, err := c.dec.Decode(f.Data)
		if err != nil {
			t.Fatalf("frame %d (ts %d): decode: %v", c.nf, f.TS, err)
		}
		k, ok := pattern.ReadIndex(img)
		if !ok {
			// Congestion control may squeeze the bitrate until the code
			// band blurs; such frames are counted and bounded below.
			c.unreadable++
			continue
		}
		if c.k0 < 0 {
			c.k0, c.ts0 = k, f.TS
		}
		if k <= c.lastK {
			t.Fatalf("frame %d: index %d after %d", c.nf, k, c.lastK)
		}
		c.lastK = k
		if got, want := f.TS-c.ts0, c.rate.FrameRTP(k)-c.rate.FrameRTP(c.k0); got != want {
			t.Fatalf("frame %d (index %d): RTP offset %d, the engine's timeline says %d", c.nf, k, got, want)
		}
		if pattern.IsFlash(img) {
			c.flashes = append(c.flashes, f)
			c.flashK = append(c.flashK, k)
		}
	}
	for ; c.na < len(audio); c.na++ {
		p := audio[c.na]
		if c.prev != nil {
			if ds, dt := p.Seq-c.prev.Seq, p.TS-c.prev.TS; dt != uint32(ds)*engine.ChunkSamples {
				t.Fatalf("audio packet %d: ts step %d for seq step %d", c.na, dt, ds)
			}
		}
		c.prev = &audio[c.na]
		pcm, err := c.od.Decode(p.Payload)
		n := len(pcm) / engine.AudioChannels
		if err != nil {
			t.Fatalf("audio packet %d: opus decode: %v", c.na, err)
		}
		if n != engine.ChunkSamples {
			t.Fatalf("audio packet %d: %d samples, want %d", c.na, n, engine.ChunkSamples)
		}
		c.decodedAudio++
		for j := range n {
			if abs16(pcm[2*j]) > 4000 {
				if c.quiet > engine.AudioRate/10 {
					c.onsets = append(c.onsets, onset{ts: p.TS + uint32(j), pktTS: p.TS, arrived: p.Arrived})
				}
				c.quiet = 0
			} else {
				c.quiet++
			}
		}
	}
}

// flashSync pairs each flash with the nearest beep onset, mapping both to
// the sender's wall clock through the Sender Reports as a browser does.
type flashSync struct {
	k                 int64
	srGap, arrivalGap time.Duration
	// onTime: both items left within onTimeSlack of their deadline and
	// were read by the receiver within onTimeSlack of being written, so arrival
	// times say something about the sender (a loaded machine delays
	// either side).
	onTime bool
}

// onTimeSlack bounds the delays a flash may have met and still be judged
// on arrival: a quarter frame each way, so a pair within it that arrives
// more than a frame apart is the sender's fault.
const onTimeSlack = 8 * time.Millisecond

// srSlack bounds the decoded beep's offset from its flash through the
// Sender Reports: on-time send errors are well under it, the encoder's
// 6.5 ms look-ahead (opusenc.Lookahead) is not.
const srSlack = 3 * time.Millisecond

func (c *syncCheck) pairs(videoSR, audioSR *rtcp.SenderReport, sent *sentLog) []flashSync {
	if videoSR == nil || audioSR == nil || len(c.onsets) == 0 {
		return nil
	}
	var out []flashSync
	for i, f := range c.flashes {
		flashAt := srTime(videoSR, f.TS, 90000)
		best := c.onsets[0]
		for _, o := range c.onsets {
			if srTime(audioSR, o.ts, 48000).Sub(flashAt).Abs() < srTime(audioSR, best.ts, 48000).Sub(flashAt).Abs() {
				best = o
			}
		}
		ve, vok := sent.get("video", f.TS)
		ae, aok := sent.get("audio", best.pktTS)
		out = append(out, flashSync{
			k:          c.flashK[i],
			srGap:      srTime(audioSR, best.ts, 48000).Sub(flashAt),
			arrivalGap: best.arrived.Sub(f.Arrived),
			onTime: vok && aok && ve.sendErr <= onTimeSlack && ae.sendErr <= onTimeSlack &&
				f.Arrived.Sub(ve.wrote) <= onTimeSlack && best.arrived.Sub(ae.wrote) <= onTimeSlack,
		})
	}
	return out
}

func TestEndToEnd(t *testing.T) {
	const w, h = 320, 240
	sent := &sentLog{}
	rig := rtctest.NewRig(t, w, h, time.Minute, rtctest.WithObservers(rtctest.Observer{OnSent: sent.add}))
	stop := rig.Run(t)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	rx := rtctest.NewReceiver(t, true)
	rtctest.Connect(t, ctx, rig.Sess, rx)

	// Stream until two flashes have gone out on time with their beeps
	// (one a second; a busy machine may make some late) and the Sender
	// Reports map both tracks.
	check := newSyncCheck(t, rig.Rate)
	var syncs []flashSync
	for onTime := 0; onTime < 2; {
		select {
		case <-ctx.Done():
			t.Fatalf("machine too busy? no two flashes went out and arrived on time within the timeout: %+v; stats %+v", syncs, rig.Sess.Stats())
		case <-time.After(500 * time.Millisecond):
		}
		frames, audio, videoSR, audioSR := rx.Snapshot()
		check.feed(frames, audio)
		syncs = check.pairs(videoSR, audioSR, sent)
		onTime = 0
		for _, s := range syncs {
			if s.onTime {
				onTime++
			}
		}
	}
	info := rig.Sess.Viewers()
	st := rig.Sess.Stats()
	stop()
	t.Logf("received %d frames (%d skipped after loss, %d unreadable), %d audio packets; stats: %+v", check.nf, check.skipped, check.unreadable, check.na, st)

	if len(info) != 1 || info[0].State != rtc.ViewerConnected || info[0].CandidateType != "host" {
		t.Errorf("viewers: %+v, want one connected over host candidates", info)
	}
	if st.Keyframes < 1 || st.VideoFramesSent < int64(check.nf) || st.AudioChunksSent < int64(check.na) {
		t.Errorf("stats do not cover what arrived: %+v", st)
	}
	if st.BitrateBps < 200_000 || st.BitrateBps > 1_000_000 {
		t.Errorf("encoder bitrate %d outside the configured 200k…1M", st.BitrateBps)
	}
	if check.unreadable > check.nf/20 {
		t.Errorf("%d of %d frames decoded without a readable pattern index", check.unreadable, check.nf)
	}
	if sentFrames := check.lastK - check.k0 + 1; int64(check.nf) < sentFrames*9/10-int64(st.LateVideo) {
		t.Errorf("received %d of the %d frames in the span on loopback", check.nf, sentFrames)
	}
	// Exact timestamps against the engine's timeline: the wire timestamp
	// is the session's base plus FrameRTP(k); the beep's onset, on the
	// audio clock, is at the flash's media time (plus libopus's 312-sample
	// encoder delay, which decoders drop as pre-skip).
	frame := time.Duration(rig.Rate.FrameNS(1))
	vBase, aBase := sent.base("video"), sent.base("audio")
	for i, f := range check.flashes {
		k := check.flashK[i]
		if got, want := f.TS-vBase, rig.Rate.FrameRTP(k); got != want {
			t.Errorf("flash frame %d: RTP %d − base = %d, want FrameRTP = %d", k, f.TS, got, want)
		}
		want := uint32(pattern.BeepOnsetSample(rig.Rate.FrameNS(k)))
		nearest := int64(math.MaxInt32)
		for _, o := range check.onsets {
			if d := int64(int32(o.ts - aBase - want)); abs64(d) < abs64(nearest) {
				nearest = d
			}
		}
		gap := time.Duration(nearest * int64(time.Second) / engine.AudioRate)
		t.Logf("flash at frame %d: beep onset %v after it on the RTP clocks", k, gap)
		if gap.Abs() > frame {
			t.Errorf("flash at frame %d: nearest beep onset is %v off on the RTP clocks, over one frame", k, gap)
		}
	}
	// Send times: the beep's packet left with the flash frame (earlier by
	// the encoder's look-ahead), so they arrive together; and the Sender
	// Reports map the decoded beep onto the flash.
	for _, s := range syncs {
		t.Logf("flash at frame %d: beep %v after it by Sender Reports, its packet arrived %v after the frame (on time: %v)",
			s.k, s.srGap, s.arrivalGap, s.onTime)
		if s.onTime && s.arrivalGap.Abs() > frame {
			t.Errorf("flash at frame %d: beep packet arrived %v off the flash frame, over one frame", s.k, s.arrivalGap)
		}
		if s.onTime && s.srGap.Abs() > srSlack {
			t.Errorf("flash at frame %d: the decoded beep is %v off the flash by Sender Reports, over %v", s.k, s.srGap, srSlack)
		}
	}
}

// srTime maps an RTP timestamp to the sender's wall clock through a
// Sender Report, as a browser's lip sync does.
func srTime(sr *rtcp.SenderReport, ts uint32, clockRate int64) time.Time {
	sec := int64(sr.NTPTime >> 32)
	frac := int64(sr.NTPTime & 0xffffffff)
	base := time.Unix(sec-2208988800, frac*1e9>>32)
	delta := int64(int32(ts - sr.RTPTime))
	return base.Add(time.Duration(delta * int64(time.Second) / clockRate))
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func abs16(v int16) int {
	if v < 0 {
		return -int(v)
	}
	return int(v)
}
