package rtc

import (
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"
)

func TestParseICEServer(t *testing.T) {
	good := map[string]ICEServer{
		"stun:stun.example.org:3478": {URL: "stun:stun.example.org:3478"},
		"turn:turn.example.org:3478?transport=udp,alice,s3cret": {
			URL: "turn:turn.example.org:3478?transport=udp", Username: "alice", Credential: "s3cret"},
	}
	for in, want := range good {
		got, err := ParseICEServer(in)
		if err != nil || got != want {
			t.Errorf("ParseICEServer(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"stun.example.org":                 "no scheme",
		"http://x":                         "scheme",
		"turn:t.example.org":               "username",
		"turn:t.example.org,alice":         "URL or URL,user,credential",
		"turn:t.example.org,alice,pw,more": "URL or URL,user,credential",
	} {
		_, err := ParseICEServer(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseICEServer(%q): err %v, want one mentioning %q", in, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("ParseICEServer(%q): error leaks the credential: %v", in, err)
		}
	}
	s := ICEServer{URL: "turn:x", Username: "alice", Credential: "s3cret"}
	if strings.Contains(s.String(), "s3cret") {
		t.Errorf("String leaks the credential: %s", s)
	}
}

func TestPathType(t *testing.T) {
	h, s, p, r := webrtc.ICECandidateTypeHost, webrtc.ICECandidateTypeSrflx, webrtc.ICECandidateTypePrflx, webrtc.ICECandidateTypeRelay
	for _, tc := range []struct {
		local, remote webrtc.ICECandidateType
		want          string
	}{{h, h, "host"}, {h, s, "srflx"}, {s, h, "srflx"}, {p, h, "prflx"}, {h, r, "relay"}, {r, s, "relay"}} {
		if got := pathType(tc.local, tc.remote); got != tc.want {
			t.Errorf("pathType(%v, %v) = %q, want %q", tc.local, tc.remote, got, tc.want)
		}
	}
}
