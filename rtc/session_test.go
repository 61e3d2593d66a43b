package rtc

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pion/interceptor/pkg/cc"

	"segcast/engine"
)

func TestKeyframeRequestsAreRateLimited(t *testing.T) {
	clk := engine.NewFakeClock()
	s, err := NewSession(Config{Width: 64, Height: 48, Rate: engine.Rate30, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	step := func(advance time.Duration, want bool) {
		t.Helper()
		clk.Advance(advance)
		s.needKey.Store(false)
		s.keyframeRequested()
		if got := s.needKey.Load(); got != want {
			t.Errorf("at %v: keyframe forced %v, want %v", clk.Now(), got, want)
		}
	}
	step(0, true)                             // first PLI: at once
	step(0, false)                            // second at the same instant
	step(keyframeGap-time.Millisecond, false) // still inside the gap
	step(time.Millisecond, true)              // gap over
	step(keyframeGap/2, false)                // limited again
	s.keyframeNow()                           // a new viewer is never limited
	if !s.needKey.Load() {
		t.Error("keyframeNow did not force a keyframe")
	}
}

func TestConfigDefaultsAndErrors(t *testing.T) {
	c, err := Config{Width: 1280, Height: 720, Rate: engine.Rate30}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.Bitrate != DefaultBitrate || c.MinBitrate != DefaultMinBitrate || c.MaxBitrate != DefaultMaxBitrate {
		t.Errorf("720p defaults: %d %d %d", c.Bitrate, c.MinBitrate, c.MaxBitrate)
	}
	c, err = Config{Width: 640, Height: 360, Rate: engine.Rate30}.withDefaults()
	if err != nil || c.Bitrate != DefaultBitrate/4 || c.MaxBitrate != DefaultMaxBitrate/4 {
		t.Errorf("360p defaults: %+v, %v", c, err)
	}
	for name, tc := range map[string]struct {
		cfg  Config
		want string
	}{
		"no size":      {Config{Rate: engine.Rate30}, "size"},
		"bad rate":     {Config{Width: 64, Height: 48}, "rate"},
		"min > max":    {Config{Width: 64, Height: 48, Rate: engine.Rate30, MinBitrate: 2e6, Bitrate: 1e6, MaxBitrate: 3e6}, "min"},
		"tiny bitrate": {Config{Width: 64, Height: 48, Rate: engine.Rate30, MinBitrate: 1, Bitrate: 2, MaxBitrate: 3}, "within"},
	} {
		_, err := NewSession(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one mentioning %q", name, err, tc.want)
		}
	}
}

func TestPercentiles(t *testing.T) {
	r := newErrRing(sendErrWindow)
	for i := range sendErrWindow + 100 {
		r.add(time.Duration(i%100) * time.Millisecond)
	}
	p := r.percentiles()
	if p.N != sendErrWindow || p.P50 < 45*time.Millisecond || p.P50 > 55*time.Millisecond ||
		p.P99 < 97*time.Millisecond || p.Max != 99*time.Millisecond {
		t.Errorf("percentiles %+v", p)
	}
	if newErrRing(sendErrWindow).percentiles() != (Percentiles{}) {
		t.Error("empty ring has percentiles")
	}
}

// fixedEstimate is a bandwidth estimator stuck at one value, to check
// how the session combines viewers' estimates (real GCC runs in the
// end-to-end tests).
type fixedEstimate struct {
	cc.BandwidthEstimator
	bps int
}

func (f fixedEstimate) GetTargetBitrate() int { return f.bps }

func TestBitrateIsLowestEstimateClamped(t *testing.T) {
	clk := engine.NewFakeClock()
	s, err := NewSession(Config{Width: 1280, Height: 720, Rate: engine.Rate30, Clock: clk,
		MinBitrate: 300_000, Bitrate: 1_000_000, MaxBitrate: 2_000_000})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		s.mu.Lock()
		s.viewers = nil // stand-ins without a PeerConnection to close
		s.mu.Unlock()
		s.Close()
	}()
	add := func(bps int, st ViewerState) {
		s.mu.Lock()
		s.viewers = append(s.viewers, &Viewer{s: s, est: fixedEstimate{bps: bps}, state: st})
		s.mu.Unlock()
	}
	check := func(want int) {
		t.Helper()
		clk.Advance(bitrateCheckEvery)
		if got := s.targetBitrate(); got != want {
			t.Errorf("target %d, want %d", got, want)
		}
	}
	check(1_000_000) // no viewers: the configured start
	add(5_000_000, ViewerConnected)
	check(2_000_000) // clamped to max
	add(700_000, ViewerConnected)
	check(700_000) // the lowest viewer
	add(50_000, ViewerConnecting)
	check(700_000) // a viewer still connecting has no say
	add(100_000, ViewerConnected)
	check(300_000) // clamped to min
}

// TestOfferSDP checks what a browser needs from our offer: both tracks
// in one stream (lip sync), the feedback that drives keyframes, NACK and
// GCC, and every ICE candidate (no trickle).
func TestOfferSDP(t *testing.T) {
	s, err := NewSession(Config{Width: 64, Height: 48, Rate: engine.Rate30, Clock: engine.NewWallClock(), LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v, offer, err := s.Offer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	desc, err := DecodeSignal(offer)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"a=msid:" + streamID + " video", "a=msid:" + streamID + " audio",
		"a=rtpmap:96 VP8/90000", "a=rtpmap:111 opus/48000/2", "useinbandfec=1",
		"a=rtcp-fb:96 nack\r\n", "a=rtcp-fb:96 nack pli", "a=rtcp-fb:96 ccm fir", "a=rtcp-fb:96 transport-cc",
		"transport-wide-cc", "a=sendonly", "typ host", "a=end-of-candidates",
		"a=mid:v" + v.ID(), "a=mid:a" + v.ID(),
	} {
		if !strings.Contains(desc.SDP, want) {
			t.Errorf("offer lacks %q", want)
		}
	}
	if got := s.Viewers(); len(got) != 1 || got[0].ID != v.ID() || got[0].State != ViewerNew {
		t.Errorf("viewers after Offer: %+v", got)
	}
}
