package rtc_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"segcast/rtc"
	"segcast/rtc/internal/rtctest"

	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"
)

// TestTURNRelay streams through a real TURN server (pion/turn, on
// loopback) with username/credential from an ICEServer, the viewer
// allowing relay candidates only: the viewer list must say "relay".
func TestTURNRelay(t *testing.T) {
	const realm, user, pass = "segcast", "alice", "s3cret"
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	key := turn.GenerateAuthKey(user, realm, pass)
	server, err := turn.NewServer(turn.ServerConfig{
		Realm: realm,
		AuthHandler: func(ra *turn.RequestAttributes) (string, []byte, bool) {
			return ra.Username, key, ra.Username == user
		},
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn: conn,
			RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{
				RelayAddress: net.ParseIP("127.0.0.1"), Address: "127.0.0.1",
			},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	srv, err := rtc.ParseICEServer(fmt.Sprintf("turn:%s?transport=udp,%s,%s", conn.LocalAddr(), user, pass))
	if err != nil {
		t.Fatal(err)
	}

	rig := rtctest.NewRig(t, 160, 120, time.Minute, func(c *rtc.Config) { c.ICEServers = []rtc.ICEServer{srv} })
	stop := rig.Run(t)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rx := rtctest.NewReceiverWith(t, false, webrtc.Configuration{
		ICEServers:         []webrtc.ICEServer{{URLs: []string{srv.URL}, Username: user, Credential: pass}},
		ICETransportPolicy: webrtc.ICETransportPolicyRelay,
	})
	rtctest.Connect(t, ctx, rig.Sess, rx)
	waitFrames(t, ctx, rx, 10)
	info := rig.Sess.Viewers()
	if len(info) != 1 || info[0].CandidateType != "relay" {
		t.Fatalf("viewers %+v, want one on a relay path", info)
	}
}
