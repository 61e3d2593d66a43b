//go:build linux

package publish

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"segcast/engine"
	"segcast/engine/pattern"
	"segcast/rtc"
	"segcast/rtc/opusenc"
	"segcast/rtc/publish/lkserver"
	"segcast/rtc/vp8"
)

// rig is a wall-clock loop playing the sync pattern into a session, as
// `segcast publish --pattern` runs it.
type rig struct {
	sess *rtc.Session
	rate engine.Rate
	log  *slog.Logger
}

func newRig(t testing.TB, w, h int) *rig {
	t.Helper()
	clock := engine.NewWallClock()
	rate := engine.Rate30
	loop := engine.NewLoop(engine.LoopConfig{Rate: rate, Width: w, Height: h, Clock: clock, Lead: rtc.EncodeLead})
	loop.Add(pattern.New(w, h, rate, time.Hour))
	loop.Play()
	level := slog.LevelWarn
	if testing.Verbose() {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	cfg := rtc.Config{Width: w, Height: h, Rate: rate, Clock: clock, Log: log}
	if w*h < 1280*720 {
		// Enough bits that the pattern's frame code stays readable; 720p
		// takes the session's defaults, as the app does.
		cfg.Bitrate, cfg.MinBitrate, cfg.MaxBitrate = 400_000, 200_000, 1_000_000
	}
	sess, err := rtc.NewSession(cfg)
	if err != nil {
		t.Fatal(err)
	}
	remove := loop.AddSink(sess)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = loop.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		remove()
		if err := sess.Close(); err != nil {
			t.Error(err)
		}
	})
	return &rig{sess: sess, rate: rate, log: log}
}

// check decodes what a subscriber got and checks it against the engine's
// timeline, per subscribed track (the SFU offsets each track's timestamps,
// and a track published again is a new one).
type check struct {
	t    testing.TB
	rate engine.Rate
	dec  *vp8.Decoder
	od   *opusenc.Decoder

	nf, na     int
	tracks     map[int]*trackCheck
	unreadable int
	skipped    int
	rebased    int // offsets the SFU changed while settling
	// unsteadySRs counts looks at the reports that found them disagreeing.
	unsteadySRs int
	needKey     bool
	flashes     []flash
	onsets      []onset
	quiet       int
	lastK       int64 // the highest pattern index decoded, any track
}

type trackCheck struct {
	k0, lastK int64
	ts0       uint32
	prev      *lkserver.Audio
	// frames and packets checked so far.
	frames, packets int
}

// settleItems is how many first items of a track may show the SFU
// settling its timestamp offset (LiveKit moves an audio track's by a tick
// or so once its first Sender Report aligns it); after them every step
// must be exact.
const settleItems = 25

type flash struct {
	track int
	k     int64
	ts    uint32
}

type onset struct {
	track int
	ts    uint32 // RTP time of the first loud sample
}

func newCheck(t testing.TB, rate engine.Rate) *check {
	dec, err := vp8.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dec.Close)
	od, err := opusenc.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	return &check{t: t, rate: rate, dec: dec, od: od, tracks: map[int]*trackCheck{}, lastK: -1}
}

func (c *check) track(i int) *trackCheck {
	tc := c.tracks[i]
	if tc == nil {
		tc = &trackCheck{k0: -1, lastK: -1}
		c.tracks[i] = tc
	}
	return tc
}

// feed checks the frames and packets not seen before.
func (c *check) feed(frames []lkserver.Frame, audio []lkserver.Audio) {
	t := c.t
	for ; c.nf < len(frames); c.nf++ {
		f := frames[c.nf]
		if _, seen := c.tracks[f.Track]; f.AfterLoss || !seen {
			c.needKey = true // a new track may start on delta frames encoded before it joined
		}
		if c.needKey && !f.IsKeyframe() {
			c.skipped++
			continue
		}
		c.needKey = false
		img, err := c.dec.Decode(f.Data)
		if err != nil {
			t.Fatalf("frame %d (track %d, ts %d): decode: %v", c.nf, f.Track, f.TS, err)
		}
		k, ok := pattern.ReadIndex(img)
		if !ok {
			c.unreadable++
			continue
		}
		tc := c.track(f.Track)
		if tc.k0 < 0 {
			tc.k0, tc.ts0 = k, f.TS
		}
		if k <= tc.lastK {
			t.Fatalf("frame %d (track %d): index %d after %d", c.nf, f.Track, k, tc.lastK)
		}
		tc.lastK = k
		tc.frames++
		if got, want := f.TS-tc.ts0, c.rate.FrameRTP(k)-c.rate.FrameRTP(tc.k0); got != want && tc.frames < settleItems {
			c.rebased++ // the SFU settling its offset: steps count from here
			tc.k0, tc.ts0 = k, f.TS
		} else if got != want {
			t.Fatalf("frame %d (track %d, index %d): RTP offset %d from the first, the engine's timeline says %d",
				c.nf, f.Track, k, got, want)
		}
		c.lastK = max(c.lastK, k)
		if pattern.IsFlash(img) {
			c.flashes = append(c.flashes, flash{track: f.Track, k: k, ts: f.TS})
		}
	}
	for ; c.na < len(audio); c.na++ {
		p := audio[c.na]
		tc := c.track(p.Track)
		tc.packets++
		if tc.prev != nil {
			if ds, dt := p.Seq-tc.prev.Seq, p.TS-tc.prev.TS; dt != uint32(ds)*engine.ChunkSamples && tc.packets <= settleItems {
				c.rebased++
			} else if dt != uint32(ds)*engine.ChunkSamples {
				t.Fatalf("audio packet %d (track %d): ts step %d for seq step %d", c.na, p.Track, dt, ds)
			}
		}
		tc.prev = &audio[c.na]
		pcm, err := c.od.Decode(p.Payload)
		if err != nil {
			t.Fatalf("audio packet %d: opus decode: %v", c.na, err)
		}
		n := len(pcm) / engine.AudioChannels
		if n != engine.ChunkSamples {
			t.Fatalf("audio packet %d: %d samples, want %d", c.na, n, engine.ChunkSamples)
		}
		for j := range n {
			if v := pcm[2*j]; v > 4000 || v < -4000 {
				if c.quiet > engine.AudioRate/10 {
					c.onsets = append(c.onsets, onset{track: p.Track, ts: p.TS + uint32(j)})
				}
				c.quiet = 0
			} else {
				c.quiet++
			}
		}
	}
}

// srGaps pairs each flash with the nearest beep onset, both mapped to the
// sender's wall clock through the tracks' latest Sender Reports, as a
// browser's lip sync does. Only flashes and onsets of the given tracks
// count. It says nothing (nil) unless each track's last two reports agree
// with each other: a report made from a packet written late (a stalled
// machine, on our side or the SFU's) maps the whole track off by the
// stall, which is the machine's fault, not the sync's.
func (c *check) srGaps(video, audio int, tracks []lkserver.Track) []time.Duration {
	if video >= len(tracks) || audio >= len(tracks) {
		return nil
	}
	vsr, asr := steadySR(tracks[video].SRs, 90000), steadySR(tracks[audio].SRs, 48000)
	if vsr == nil || asr == nil {
		c.unsteadySRs++
		return nil
	}
	var gaps []time.Duration
	for _, f := range c.flashes {
		if f.track != video {
			continue
		}
		at := srTime(vsr, f.ts, 90000)
		best, found := time.Duration(0), false
		for _, o := range c.onsets {
			if o.track != audio {
				continue
			}
			if d := srTime(asr, o.ts, 48000).Sub(at); !found || d.Abs() < best.Abs() {
				best, found = d, true
			}
		}
		if found {
			gaps = append(gaps, best)
		}
	}
	return gaps
}

// srSteady bounds the disagreement between two consecutive Sender
// Reports of a track for them to be trusted.
const srSteady = 2 * time.Millisecond

// steadySR is the latest report if it agrees with the one before it.
func steadySR(srs []*rtcp.SenderReport, clockRate int64) *rtcp.SenderReport {
	if len(srs) < 2 {
		return nil
	}
	a, b := srs[len(srs)-2], srs[len(srs)-1]
	if srTime(b, a.RTPTime, clockRate).Sub(srTime(a, a.RTPTime, clockRate)).Abs() > srSteady {
		return nil
	}
	return b
}

// srTime maps an RTP timestamp to the sender's wall clock through a
// Sender Report.
func srTime(sr *rtcp.SenderReport, ts uint32, clockRate int64) time.Time {
	sec := int64(sr.NTPTime >> 32)
	frac := int64(sr.NTPTime & 0xffffffff)
	base := time.Unix(sec-2208988800, frac*1e9>>32)
	delta := int64(int32(ts - sr.RTPTime))
	return base.Add(time.Duration(delta * int64(time.Second) / clockRate))
}
