package publish

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

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
			t.Fatalf("no three flashes with their beeps mapped by Sender Reports in time: %d frames, %d onsets, tracks %+v, gaps %v; stats %+v",
				chk.nf, len(chk.onsets), tracks, gaps, r.sess.Stats())
		case <-time.After(500 * time.Millisecond):
		}
		var frames []lkserver.Frame
		var audio []lkserver.Audio
		frames, audio, tracks = sub.Snapshot()
		chk.feed(frames, audio)
		gaps = chk.srGaps(trackOf(tracks, webrtc.RTPCodecTypeVideo), trackOf(tracks, webrtc.RTPCodecTypeAudio), tracks)
	}
	t.Logf("%d frames (%d unreadable, %d skipped after loss), %d audio packets; tracks %+v",
		chk.nf, chk.unreadable, chk.skipped, chk.na, tracks)

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
