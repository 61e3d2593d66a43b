package rtc

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// ICEServer is one STUN or TURN server from the settings or a flag.
// Credential is a secret: it is never logged (see LogValue).
type ICEServer struct {
	URL, Username, Credential string
}

// String keeps the credential out of logs and error messages.
func (s ICEServer) String() string {
	if s.Username == "" {
		return s.URL
	}
	return s.URL + " (user " + s.Username + ")"
}

// ParseICEServer reads "URL[,user,cred]" as given to --ice-server, for
// example "stun:stun.example.org:3478" or
// "turn:turn.example.org:3478?transport=udp,alice,secret".
func ParseICEServer(s string) (ICEServer, error) {
	parts := strings.Split(strings.TrimSpace(s), ",")
	var srv ICEServer
	switch len(parts) {
	case 1:
		srv.URL = parts[0]
	case 3:
		srv = ICEServer{URL: parts[0], Username: parts[1], Credential: parts[2]}
	default:
		return ICEServer{}, fmt.Errorf("ice server %q: want URL or URL,user,credential", redactICE(s))
	}
	srv.URL = strings.TrimSpace(srv.URL)
	scheme, _, ok := strings.Cut(srv.URL, ":")
	if !ok {
		return ICEServer{}, fmt.Errorf("ice server %q: URL has no scheme (stun:, stuns:, turn:, turns:)", srv.URL)
	}
	switch scheme {
	case "stun", "stuns":
	case "turn", "turns":
		if srv.Username == "" || srv.Credential == "" {
			return ICEServer{}, fmt.Errorf("ice server %q: TURN needs a username and a credential", srv.URL)
		}
	default:
		return ICEServer{}, fmt.Errorf("ice server %q: scheme %q is not stun, stuns, turn or turns", srv.URL, scheme)
	}
	if _, err := url.Parse(srv.URL); err != nil {
		return ICEServer{}, fmt.Errorf("ice server %q: %w", srv.URL, err)
	}
	return srv, nil
}

// redactICE drops everything after the first comma, where a credential
// may be, before a bad flag value is echoed in an error.
func redactICE(s string) string {
	if i := strings.IndexByte(s, ','); i >= 0 {
		return s[:i] + ",…"
	}
	return s
}

func pionICEServers(servers []ICEServer) []webrtc.ICEServer {
	out := make([]webrtc.ICEServer, 0, len(servers))
	for _, s := range servers {
		ps := webrtc.ICEServer{URLs: []string{s.URL}}
		if s.Username != "" {
			ps.Username = s.Username
			ps.Credential = s.Credential
			ps.CredentialType = webrtc.ICECredentialTypePassword
		}
		out = append(out, ps)
	}
	return out
}

// settingEngine returns the pion settings for one viewer. With
// loopbackOnly (tests, benchmarks) ICE gathers only 127.0.0.1 host
// candidates, so nothing leaves the machine and gathering is instant; the
// app uses every LAN interface.
func settingEngine(loopbackOnly bool) webrtc.SettingEngine {
	var se webrtc.SettingEngine
	if loopbackOnly {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
		se.SetIncludeLoopbackCandidate(true)
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	}
	return se
}
