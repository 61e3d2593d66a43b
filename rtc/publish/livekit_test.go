//go:build linux

package publish

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pion/webrtc/v4"

	"segcast/engine"
	"segcast/rtc/publish/lkserver"
)

func randomName(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// publishCase is one way of reaching a room.
type publishCase struct {
	name        string
	serverSync  bool // the server's room.sync_streams
	useKey      bool // API key and secret (we create the room), else a token
	wantOneMSID bool
}

func TestLiveKitSingleNode(t *testing.T) {
	for _, pc := range []publishCase{
		{name: "server sync_streams, token", serverSync: true, wantOneMSID: true},
		{name: "room created through the API", useKey: true, wantOneMSID: true},
		// The control: LiveKit's default puts the tracks in two streams,
		// which a browser does not lip-sync.
		{name: "neither", wantOneMSID: false},
	} {
		t.Run(pc.name, func(t *testing.T) {
			c := lkserver.Start(t, lkserver.Options{SyncStreams: pc.serverSync})
			runPublish(t, pc, c.Nodes[0], c.Nodes[0])
		})
	}
}

// Two nodes over redis: the publisher signals to one, the subscriber to
// the other; the room lives on one of them.
func TestLiveKitTwoNodes(t *testing.T) {
	c := lkserver.Start(t, lkserver.Options{Nodes: 2})
	runPublish(t, publishCase{useKey: true, wantOneMSID: true}, c.Nodes[0], c.Nodes[1])
}

// runPublish publishes the pattern through pubNode and subscribes through
// subNode until three flashes and their beeps are mapped by Sender
// Reports, then checks what arrived.
func runPublish(t *testing.T, pc publishCase, pubNode, subNode *lkserver.Node) {
	r := newRig(t, 320, 240)
	room := randomName("room-")
	opt := LiveKitOptions{URL: pubNode.URL, Room: room, Log: r.log}
	if pc.useKey {
		opt.APIKey, opt.APISecret = lkserver.APIKey, lkserver.APISecret
	} else {
		opt.Token = lkserver.Token(t, room, "segcast", true)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p, err := PublishLiveKit(ctx, r.sess, opt)
	if err != nil {
		t.Fatalf("%v; server log:\n%s", err, pubNode.Log())
	}
	defer p.Close()
	if p.Room() != room || p.Status().State != StateConnected {
		t.Errorf("room %q state %q, want %q connected", p.Room(), p.Status().State, room)
	}
	sub := lkserver.Subscribe(t, subNode.URL, room, "viewer", true)

	chk := newCheck(t, r.rate)
	var gaps []time.Duration
	var tracks []lkserver.Track
	for len(gaps) < 3 {
		select {
		case <-ctx.Done():
			t.Fatalf("machine too busy? no three flashes with their beeps mapped by steady Sender Reports in time: %d frames, %d onsets, %d looks at disagreeing reports, gaps %v; stats %+v",
				chk.nf, len(chk.onsets), chk.unsteadySRs, gaps, r.sess.Stats())
		case <-time.After(500 * time.Millisecond):
		}
		var frames []lkserver.Frame
		var audio []lkserver.Audio
		frames, audio, tracks = sub.Snapshot()
		chk.feed(frames, audio)
		gaps = chk.srGaps(trackOf(tracks, webrtc.RTPCodecTypeVideo), trackOf(tracks, webrtc.RTPCodecTypeAudio), tracks)
	}
	t.Logf("%d frames (%d unreadable, %d skipped after loss), %d audio packets, %d offset changes while the SFU settled, %d looks at disagreeing Sender Reports; streams %q %q",
		chk.nf, chk.unreadable, chk.skipped, chk.na, chk.rebased, chk.unsteadySRs, tracks[0].StreamID, tracks[1].StreamID)

	v, a := tracks[trackOf(tracks, webrtc.RTPCodecTypeVideo)], tracks[trackOf(tracks, webrtc.RTPCodecTypeAudio)]
	if one := v.StreamID == a.StreamID; one != pc.wantOneMSID {
		t.Errorf("video stream %q, audio stream %q: one stream = %v, want %v", v.StreamID, a.StreamID, one, pc.wantOneMSID)
	}
	if chk.unreadable > chk.nf/10 {
		t.Errorf("%d of %d frames decoded without a readable pattern index", chk.unreadable, chk.nf)
	}
	frame := time.Duration(r.rate.FrameNS(1))
	for i, g := range gaps {
		t.Logf("flash %d: beep %v after it by the SFU's Sender Reports", i, g)
		if g.Abs() > frame {
			t.Errorf("beep %v off its flash by the SFU's Sender Reports, over one frame (%v)", g, frame)
		}
	}
}

// trackOf is the index of the first subscribed track of kind, or -1.
func trackOf(tracks []lkserver.Track, kind webrtc.RTPCodecType) int {
	for i, tr := range tracks {
		if tr.Kind == kind {
			return i
		}
	}
	return len(tracks) // out of range: srGaps says nothing yet
}

// Each way a first connection can fail gives one clear error, never a
// hang: every attempt is bounded by ConnectTimeout.
func TestLiveKitConnectErrors(t *testing.T) {
	c := lkserver.Start(t, lkserver.Options{})
	url := c.Nodes[0].URL
	r := newRig(t, 160, 120)

	// A server that accepts connections and never answers.
	silent, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	// A port nobody listens on.
	closed, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downURL := "ws://" + closed.Addr().String()
	closed.Close()

	// The SDK's token builder only makes tokens valid from now on.
	now := time.Now()
	expired, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": lkserver.APIKey, "sub": "x", "nbf": now.Add(-time.Hour).Unix(), "exp": now.Add(-10 * time.Minute).Unix(),
		"video": map[string]any{"roomJoin": true, "room": "r"},
	}).SignedString([]byte(lkserver.APISecret))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opt  LiveKitOptions
		want string
	}{
		{"bad scheme", LiveKitOptions{URL: "ftp://127.0.0.1", Token: "x"}, "want a ws://"},
		{"no host", LiveKitOptions{URL: "ws://", Token: "x"}, "no host"},
		{"no credentials", LiveKitOptions{URL: url}, "a token, or an API key"},
		{"key without room", LiveKitOptions{URL: url, APIKey: "k", APISecret: "s"}, "a room is needed"},
		{"wrong secret", LiveKitOptions{URL: url, APIKey: lkserver.APIKey, APISecret: "wrong", Room: "r"}, "rejected the API key or secret"},
		{"unknown key", LiveKitOptions{URL: url, APIKey: "nokey", APISecret: "s", Room: "r"}, "rejected the API key or secret"},
		{"expired token", LiveKitOptions{URL: url, Token: expired}, "expired"},
		{"garbage token", LiveKitOptions{URL: url, Token: "not-a-jwt"}, "unauthorized"},
		{"server down", LiveKitOptions{URL: downURL, Token: expired}, "connection refused"},
		{"server silent", LiveKitOptions{URL: "ws://" + silent.Addr().String(), Token: expired}, "no answer within"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opt.ConnectTimeout = 3 * time.Second
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			p, err := PublishLiveKit(ctx, r.sess, tc.opt)
			if err == nil {
				p.Close()
				t.Fatal("connected")
			}
			var ce *ConnectError
			if !errors.As(err, &ce) {
				t.Errorf("error %T, want *ConnectError", err)
			}
			msg := err.Error()
			t.Logf("error: %s", msg)
			if !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line containing %q", msg, tc.want)
			}
			if len(tc.opt.Token) > 8 && strings.Contains(msg, tc.opt.Token) {
				t.Errorf("error %q shows the token", msg)
			}
			if ctx.Err() != nil {
				t.Errorf("took over the test's deadline")
			}
		})
	}
}

// A server killed and started again: the publisher joins again by itself
// (into a room its token recreates with sync streams), and the timeline
// goes on where the clock is, never from the start.
func TestLiveKitServerRestart(t *testing.T) {
	c := lkserver.Start(t, lkserver.Options{})
	n := c.Nodes[0]
	r := newRig(t, 320, 240)
	room := randomName("room-")
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	p, err := PublishLiveKit(ctx, r.sess, LiveKitOptions{URL: n.URL, APIKey: lkserver.APIKey,
		APISecret: lkserver.APISecret, Room: room, Log: r.log})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	before := receive(t, ctx, lkserver.Subscribe(t, n.URL, room, "before", true), r.rate, 30)

	n.Kill()
	killedAt, lastK := time.Now(), before.lastK
	time.Sleep(2 * time.Second) // longer than the SDK's first tries to resume
	n.Start(t)
	back := time.Now()
	for st := p.Status(); st.State != StateConnected || st.Reconnects < 1; st = p.Status() {
		select {
		case <-ctx.Done():
			t.Fatalf("publisher not back after the restart: %+v", st)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Logf("publisher connected again %v after the server was (down %v)", time.Since(back), back.Sub(killedAt))

	after := receive(t, ctx, lkserver.Subscribe(t, n.URL, room, "after", true), r.rate, 30)
	// The pattern index is the timeline's frame number: at least the
	// outage's worth of frames later than before, never back to the start.
	if first, outage := after.firstK(), r.rate.FramesIn(int64(back.Sub(killedAt))); first < lastK+outage {
		t.Errorf("first frame after the restart is %d; before the kill it was %d and %d frames went by", first, lastK, outage)
	}
	_, _, tracks := after.sub.Snapshot()
	if v, a := tracks[trackOf(tracks, webrtc.RTPCodecTypeVideo)], tracks[trackOf(tracks, webrtc.RTPCodecTypeAudio)]; v.StreamID != a.StreamID {
		t.Errorf("after the restart, video stream %q and audio stream %q differ: the room lost sync streams", v.StreamID, a.StreamID)
	}
}

// received is what one subscriber got, checked.
type received struct {
	*check
	sub *lkserver.Subscriber
}

// receive checks what sub gets until it has n readable frames and a
// second of audio.
func receive(t *testing.T, ctx context.Context, sub *lkserver.Subscriber, rate engine.Rate, n int) received {
	t.Helper()
	chk := newCheck(t, rate)
	for chk.nf-chk.unreadable-chk.skipped < n || chk.na < 50 {
		select {
		case <-ctx.Done():
			t.Fatalf("only %d frames arrived", chk.nf)
		case <-time.After(200 * time.Millisecond):
		}
		frames, audio, _ := sub.Snapshot()
		chk.feed(frames, audio)
	}
	return received{chk, sub}
}

// firstK is the first pattern index decoded.
func (c *check) firstK() int64 {
	first := int64(-1)
	for _, tc := range c.tracks {
		if tc.k0 >= 0 && (first < 0 || tc.k0 < first) {
			first = tc.k0
		}
	}
	return first
}

// The network goes silent (the server is stopped, not killed: no
// connection is refused, packets just stop), then comes back: the
// publisher notices, gets its room back, and media flows on.
func TestLiveKitNetworkDrop(t *testing.T) {
	c := lkserver.Start(t, lkserver.Options{})
	n := c.Nodes[0]
	r := newRig(t, 160, 120)
	room := randomName("room-")
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	p, err := PublishLiveKit(ctx, r.sess, LiveKitOptions{URL: n.URL, APIKey: lkserver.APIKey,
		APISecret: lkserver.APISecret, Room: room, Log: r.log, ConnectTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	before := receive(t, ctx, lkserver.Subscribe(t, n.URL, room, "before", true), r.rate, 10)
	n.Pause()
	for p.Status().State == StateConnected { // until the SDK sees the silence
		select {
		case <-ctx.Done():
			n.Resume()
			t.Fatal("the publisher never noticed the silence")
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Logf("noticed: %+v", p.Status())
	time.Sleep(time.Second)
	n.Resume()
	back := time.Now()
	for st := p.Status(); st.State != StateConnected; st = p.Status() {
		select {
		case <-ctx.Done():
			t.Fatalf("not connected again: %+v", st)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Logf("connected again %v after the network came back: %+v", time.Since(back), p.Status())
	after := receive(t, ctx, lkserver.Subscribe(t, n.URL, room, "after", true), r.rate, 10)
	if after.firstK() <= before.lastK {
		t.Errorf("first frame after the drop is %d, before it %d: the timeline went back", after.firstK(), before.lastK)
	}
}
