package rtc

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"
)

// A minimal browser-like offer: VP8 video and Opus audio, recvonly.
const testOfferSDP = "v=0\r\n" +
	"o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n" +
	"s=-\r\nt=0 0\r\n" +
	"a=group:BUNDLE 0 1\r\n" +
	"a=fingerprint:sha-256 19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n" +
	"a=setup:actpass\r\na=mid:0\r\na=recvonly\r\na=rtcp-mux\r\n" +
	"a=rtpmap:96 VP8/90000\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n" +
	"a=setup:actpass\r\na=mid:1\r\na=recvonly\r\na=rtcp-mux\r\n" +
	"a=rtpmap:111 opus/48000/2\r\n"

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestDecodeSignalForms(t *testing.T) {
	enc, err := EncodeSignal(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: testOfferSDP})
	if err != nil {
		t.Fatal(err)
	}
	lfOnly := strings.ReplaceAll(testOfferSDP, "\r\n", "\n")
	wrapped := enc[:40] + "\n  " + enc[40:] + "\n"
	for name, text := range map[string]string{
		"base64": enc, "base64 wrapped": wrapped, "raw CRLF": testOfferSDP,
		"raw LF, no final newline": strings.TrimSuffix(lfOnly, "\n"),
	} {
		desc, err := DecodeSignal(text)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if desc.Type != webrtc.SDPTypeOffer || desc.SDP != testOfferSDP {
			t.Errorf("%s: got type %v, SDP equal %v", name, desc.Type, desc.SDP == testOfferSDP)
		}
	}
	answer := strings.ReplaceAll(testOfferSDP, "a=setup:actpass", "a=setup:active")
	if desc, err := DecodeSignal(answer); err != nil || desc.Type != webrtc.SDPTypeAnswer {
		t.Errorf("raw answer: type %v, err %v", desc.Type, err)
	}
}

func TestDecodeSignalRejects(t *testing.T) {
	for name, tc := range map[string]struct{ text, want string }{
		"empty":       {"  \n", "empty"},
		"too big":     {strings.Repeat("A", MaxSignalBytes+1), "limit"},
		"not base64":  {"hello, world!", "base64"},
		"not JSON":    {b64("not json"), "JSON"},
		"bad type":    {b64(`{"type":"rollback","sdp":""}`), "type"},
		"pranswer":    {b64(`{"type":"pranswer","sdp":"v=0"}`), "want offer or answer"},
		"bad SDP":     {b64(`{"type":"offer","sdp":"v=0\r\nbogus"}`), "SDP"},
		"no media":    {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", "no media"},
		"raw garbage": {"v=0\r\nxyz", "SDP"},
	} {
		_, err := DecodeSignal(tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one mentioning %q", name, err, tc.want)
		}
	}
}

func TestCheckMedia(t *testing.T) {
	offer := webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: testOfferSDP}
	if err := checkMedia(offer, "offer", true); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct{ old, new, want string }{
		"H264 only":      {"a=rtpmap:96 VP8/90000", "a=rtpmap:96 H264/90000", "VP8"},
		"no opus":        {"a=rtpmap:111 opus/48000/2", "a=rtpmap:111 PCMU/8000", "Opus"},
		"video rejected": {"m=video 9", "m=video 0", "VP8"},
		"audio sendonly": {"a=mid:1\r\na=recvonly", "a=mid:1\r\na=sendonly", "Opus"},
	} {
		d := webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: strings.Replace(testOfferSDP, tc.old, tc.new, 1)}
		err := checkMedia(d, "offer", true)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one naming %s", name, err, tc.want)
		}
	}
}

func TestCheckAnswerFits(t *testing.T) {
	if err := checkAnswerFits(testOfferSDP, testOfferSDP); err != nil {
		t.Fatal(err)
	}
	other := strings.ReplaceAll(testOfferSDP, "a=mid:0", "a=mid:vxyz")
	if err := checkAnswerFits(testOfferSDP, other); err == nil || !strings.Contains(err.Error(), "different offer") {
		t.Fatalf("mismatched mids: %v", err)
	}
}

// FuzzDecodeSignal: whatever is pasted, DecodeSignal never panics, and
// what it accepts is an offer or answer that round-trips.
func FuzzDecodeSignal(f *testing.F) {
	enc, _ := EncodeSignal(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: testOfferSDP})
	for _, seed := range []string{
		enc, testOfferSDP, "", "v=0", "v=0\r\nm=video 9 RTP/AVP 96\r\n", b64(`{"type":"answer","sdp":"v=0"}`),
		b64(`{"type":"offer"}`), b64("{"), "====", strings.Repeat("v=0\n", 100),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		desc, err := DecodeSignal(text)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if desc.Type != webrtc.SDPTypeOffer && desc.Type != webrtc.SDPTypeAnswer {
			t.Fatalf("accepted type %v", desc.Type)
		}
		again, err := EncodeSignal(desc)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeSignal(again)
		if err != nil || back != desc {
			t.Fatalf("round trip: %v (%v != %v)", err, back, desc)
		}
	})
}
