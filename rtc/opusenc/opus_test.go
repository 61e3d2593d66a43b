package opusenc

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hraban/opus"
)

func newPair(t testing.TB, cfg Config) (*Encoder, *Decoder) {
	t.Helper()
	e, err := NewEncoder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	return e, d
}

// A tone survives the round trip with its frequency and level, on both
// channels; 440 Hz as well as 1 kHz so a fixed answer cannot pass.
func TestToneRoundTrip(t *testing.T) {
	for _, f := range []float64{1000, 440} {
		e, d := newPair(t, Config{})
		var out []int16
		for n := range int64(50) { // 1 s
			pkt, err := e.Encode(tone(n*FrameSamples, f, 0.3))
			if err != nil {
				t.Fatal(err)
			}
			pcm, err := d.Decode(pkt)
			if err != nil {
				t.Fatal(err)
			}
			if len(pcm) != FrameSamples*Channels {
				t.Fatalf("chunk %d decoded to %d samples", n, len(pcm))
			}
			out = append(out, pcm...)
		}
		want := 0.3 / math.Sqrt2
		for ch := range Channels {
			x := channel(out, ch)[SampleRate/5:] // after the codec's start-up
			if p := peakHz(x[:SampleRate/4]); math.Abs(p-f) > 10 {
				t.Errorf("%v Hz ch %d: peak at %v Hz", f, ch, p)
			}
			if r := rms(x); math.Abs(20*math.Log10(r/want)) > 1 {
				t.Errorf("%v Hz ch %d: level %.4f, want %.4f ±1 dB", f, ch, r, want)
			}
		}
	}
}

func TestSettings(t *testing.T) {
	e, err := NewEncoder(Config{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.Settings()
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{Bitrate: 64_000, InBandFEC: true, PacketLossPerc: 10, DTX: false}
	if s != want {
		t.Errorf("settings %+v, want %+v", s, want)
	}
	if err := e.SetBitrate(32_000); err != nil {
		t.Fatal(err)
	}
	if err := e.SetPacketLossPerc(25); err != nil {
		t.Fatal(err)
	}
	if s, _ = e.Settings(); s.Bitrate != 32_000 || s.PacketLossPerc != 25 {
		t.Errorf("after setting: %+v", s)
	}
}

// Bitrate changes the packet sizes: 5 s of tone at 32 and 128 kbps.
func TestSetBitrateSize(t *testing.T) {
	sizes := map[int]int{}
	for _, bps := range []int{32_000, 128_000} {
		e, _ := newPair(t, Config{Bitrate: 64_000})
		if err := e.SetBitrate(bps); err != nil {
			t.Fatal(err)
		}
		for n := range int64(250) {
			pkt, err := e.Encode(tone(n*FrameSamples, 1000, 0.3))
			if err != nil {
				t.Fatal(err)
			}
			sizes[bps] += len(pkt)
		}
		got := sizes[bps] * 8 / 5
		t.Logf("target %d bps: %d bps", bps, got)
		if got < bps/2 || got > bps*3/2 {
			t.Errorf("target %d bps: produced %d bps", bps, got)
		}
	}
}

// lossRecovery encodes 1.2 s of speech-like sound with encode, drops
// every tenth packet, rebuilds each lost chunk from the next packet's FEC
// data, and returns each rebuilt chunk's SNR in dB against the same chunk
// decoded without loss. libopus only adds FEC data (SILK's LBRR) where its
// voice detector hears speech, so a pure tone would not exercise it.
func lossRecovery(t *testing.T, encode func([]int16) []byte) []float64 {
	ref, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	lossy, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	var snrs []float64
	var lostRef []int16
	for n := range int64(60) {
		pkt := encode(speech(n * FrameSamples))
		want, err := ref.Decode(pkt)
		if err != nil {
			t.Fatal(err)
		}
		if n%10 == 5 {
			lostRef = want
			continue
		}
		if n%10 == 6 {
			got, err := lossy.DecodeFEC(pkt)
			if err != nil {
				t.Fatal(err)
			}
			snrs = append(snrs, snr(lostRef, got))
		}
		if _, err := lossy.Decode(pkt); err != nil {
			t.Fatal(err)
		}
	}
	return snrs
}

func TestFECData(t *testing.T) {
	e, err := NewEncoder(Config{})
	if err != nil {
		t.Fatal(err)
	}
	var modes []byte
	withFEC := lossRecovery(t, func(pcm []int16) []byte {
		pkt, err := e.Encode(pcm)
		if err != nil {
			t.Fatal(err)
		}
		modes = append(modes, pkt[0]>>3)
		return pkt
	})
	// FEC lives in the SILK layer: TOC configs 0…15 are SILK or hybrid.
	for n, c := range modes[5:] {
		if c >= 16 {
			t.Fatalf("packet %d is CELT-only (TOC config %d): it can carry no FEC", n+5, c)
		}
	}
	// Control: without FEC the same loss is only concealed.
	plain, err := opus.NewEncoder(SampleRate, Channels, opus.AppAudio)
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.SetBitrate(DefaultBitrate); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, maxPacket)
	concealed := lossRecovery(t, func(pcm []int16) []byte {
		n, err := plain.Encode(pcm, buf)
		if err != nil {
			t.Fatal(err)
		}
		return append([]byte(nil), buf[:n]...)
	})
	t.Logf("rebuilt chunks' SNR with FEC %.1f dB, concealed without %.1f dB", withFEC, concealed)
	if m := mean(withFEC); m < 18 || slices.Min(withFEC) < 12 {
		t.Errorf("FEC rebuilt lost chunks at %.1f dB SNR, want mean ≥ 18 and each ≥ 12", withFEC)
	}
	if m := mean(concealed); m > 10 {
		t.Errorf("concealment alone reached %.1f dB: the FEC check proves nothing", m)
	}
}

func TestBadInput(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Bitrate: 100}, "bitrate 100 bps"},
		{Config{Bitrate: 1_000_000}, "bitrate 1000000 bps"},
		{Config{PacketLossPerc: 101}, "PacketLossPerc 101"},
	} {
		if _, err := NewEncoder(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want error containing %q", c.cfg, err, c.want)
		}
	}
	e, d := newPair(t, Config{})
	if _, err := e.Encode(make([]int16, 960)); err == nil || !strings.Contains(err.Error(), "chunk has 960 samples, want 1920") {
		t.Errorf("short chunk: %v", err)
	}
	if err := e.SetBitrate(1); err == nil {
		t.Error("SetBitrate(1): no error")
	}
	if err := e.SetPacketLossPerc(0); err == nil {
		t.Error("SetPacketLossPerc(0): no error")
	}
	for _, c := range []struct {
		pkt  []byte
		want string
	}{
		{nil, "empty packet"},
		{make([]byte, MaxPacketBytes+1), "exceeds"},
		{[]byte{0x03, 0x00}, "decode 2 bytes"}, // code 3 with zero frames
	} {
		if _, err := d.Decode(c.pkt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("decode %x: %v, want error containing %q", c.pkt, err, c.want)
		}
	}
}

// FuzzDecode: any bytes give samples or an error, never a crash, and
// never more than 120 ms.
func FuzzDecode(f *testing.F) {
	e, err := NewEncoder(Config{})
	if err != nil {
		f.Fatal(err)
	}
	pkt, err := e.Encode(tone(0, 1000, 0.3))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pkt)
	f.Add(pkt[:3])
	f.Add([]byte{0x03, 0x00})
	f.Add([]byte{0xfc, 0xff, 0xfe})
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := NewDecoder()
		if err != nil {
			t.Fatal(err)
		}
		pcm, err := d.Decode(data)
		if err == nil && len(pcm) > maxFrameSamples*Channels {
			t.Fatalf("%d samples from %d bytes", len(pcm), len(data))
		}
		_, _ = d.DecodeFEC(data)
	})
}

// The decoded output lags the input by Lookahead: a 1 kHz cosine burst
// starting at its peak at an odd sample reaches half its amplitude that
// much later after the round trip.
func TestLookahead(t *testing.T) {
	const amp = 0.3
	e, d := newPair(t, Config{})
	for _, onset := range []int64{SampleRate/2 + 17, SampleRate/2 + 611} {
		var out []int16
		for n := range int64(50) { // 1 s: silence, then the burst at onset
			pcm := make([]int16, FrameSamples*Channels)
			for i := range int64(FrameSamples) {
				if s := n*FrameSamples + i; s >= onset {
					v := int16(amp * 32767 * math.Cos(2*math.Pi*1000*float64(s-onset)/SampleRate))
					pcm[2*i], pcm[2*i+1] = v, v
				}
			}
			pkt, err := e.Encode(pcm)
			if err != nil {
				t.Fatal(err)
			}
			dec, err := d.Decode(pkt)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, dec...)
		}
		x := channel(out, 0)
		got := int64(-1)
		for i := SampleRate / 4; i < len(x); i++ {
			if math.Abs(x[i]) >= amp/2 {
				got = int64(i)
				break
			}
		}
		want := onset + int64(Lookahead*SampleRate/time.Second)
		t.Logf("onset at %d decoded at %d: lag %d samples", onset, got, got-onset)
		if got < want-6 || got > want+6 {
			t.Errorf("burst at sample %d decoded at %d, want %d ±6 (Lookahead %v)", onset, got, want, Lookahead)
		}
	}
}
