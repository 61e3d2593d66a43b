//go:build linux

package publish

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"

	"segcast/rtc/publish/lkserver"
)

// whipEndpoint is a WHIP endpoint in-process: each POST gets a pion
// PeerConnection that receives the tracks; DELETE closes it.
type whipEndpoint struct {
	t      *testing.T
	srv    *httptest.Server
	bearer string   // required when set
	links  []string // Link headers for OPTIONS and the 201

	mu       sync.Mutex
	sessions map[string]*whipSession
	offers   []string
	deletes  []string
	auth     []string // Authorization headers seen on POST
	frames   []lkserver.Frame
	audio    []lkserver.Audio
	streams  map[webrtc.RTPCodecType]string
	tracks   int
}

type whipSession struct{ pc *webrtc.PeerConnection }

func newWHIPEndpoint(t *testing.T, bearer string, links ...string) *whipEndpoint {
	e := &whipEndpoint{t: t, bearer: bearer, links: links, sessions: map[string]*whipSession{},
		streams: map[webrtc.RTPCodecType]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("OPTIONS /whip", func(w http.ResponseWriter, r *http.Request) {
		for _, l := range e.links {
			w.Header().Add("Link", l)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /whip", e.post)
	mux.HandleFunc("DELETE /whip/session/{id}", func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		s := e.sessions[r.PathValue("id")]
		delete(e.sessions, r.PathValue("id"))
		e.deletes = append(e.deletes, r.URL.Path)
		e.mu.Unlock()
		if s == nil {
			http.NotFound(w, r)
			return
		}
		_ = s.pc.Close()
	})
	e.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		e.srv.Close()
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, s := range e.sessions {
			_ = s.pc.Close()
		}
	})
	return e
}

func (e *whipEndpoint) url() string { return e.srv.URL + "/whip" }

func (e *whipEndpoint) post(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.auth = append(e.auth, r.Header.Get("Authorization"))
	e.mu.Unlock()
	if e.bearer != "" && r.Header.Get("Authorization") != "Bearer "+e.bearer {
		http.Error(w, "bad token", http.StatusUnauthorized)
		return
	}
	if r.Header.Get("Content-Type") != "application/sdp" {
		http.Error(w, "want application/sdp", http.StatusUnsupportedMediaType)
		return
	}
	offer, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	pc.OnTrack(e.onTrack)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(offer)}); err != nil {
		_ = pc.Close()
		http.Error(w, err.Error(), http.StatusUnprocessableEntity)
		return
	}
	answer, err := pc.CreateAnswer(nil)
	if err == nil {
		gathered := webrtc.GatheringCompletePromise(pc)
		if err = pc.SetLocalDescription(answer); err == nil {
			<-gathered
		}
	}
	if err != nil {
		_ = pc.Close()
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	id := randomName("s")
	e.mu.Lock()
	e.sessions[id] = &whipSession{pc: pc}
	e.offers = append(e.offers, string(offer))
	e.mu.Unlock()
	for _, l := range e.links {
		w.Header().Add("Link", l)
	}
	w.Header().Set("Location", "/whip/session/"+id) // relative, as RFC 9725 allows
	w.Header().Set("Content-Type", "application/sdp")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, pc.LocalDescription().SDP)
}

func (e *whipEndpoint) onTrack(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	e.mu.Lock()
	idx := e.tracks
	e.tracks++
	e.streams[track.Kind()] = track.StreamID()
	e.mu.Unlock()
	if track.Kind() == webrtc.RTPCodecTypeAudio {
		for {
			pkt, _, err := track.ReadRTP()
			if err != nil {
				return
			}
			e.mu.Lock()
			e.audio = append(e.audio, lkserver.Audio{Track: idx, TS: pkt.Timestamp, Seq: pkt.SequenceNumber, Payload: pkt.Payload})
			e.mu.Unlock()
		}
	}
	lkserver.ReadVP8(track, idx, func(f lkserver.Frame) {
		e.mu.Lock()
		e.frames = append(e.frames, f)
		e.mu.Unlock()
	})
}

func (e *whipEndpoint) snapshot() ([]lkserver.Frame, []lkserver.Audio) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]lkserver.Frame(nil), e.frames...), append([]lkserver.Audio(nil), e.audio...)
}

// waitFrames checks what the endpoint receives until n frames decoded.
func (e *whipEndpoint) waitFrames(t *testing.T, ctx context.Context, chk *check, n int) {
	t.Helper()
	for chk.nf-chk.unreadable-chk.skipped < n {
		select {
		case <-ctx.Done():
			t.Fatalf("only %d frames reached the endpoint", chk.nf)
		case <-time.After(200 * time.Millisecond):
		}
		chk.feed(e.snapshot())
	}
}

func TestWHIPPublish(t *testing.T) {
	e := newWHIPEndpoint(t, "s3cret")
	r := newRig(t, 320, 240)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	w, err := PublishWHIP(ctx, r.sess, WHIPOptions{URL: e.url(), Bearer: "s3cret", Log: r.log})
	if err != nil {
		t.Fatal(err)
	}
	if want := e.srv.URL + "/whip/session/"; !strings.HasPrefix(w.Resource(), want) {
		t.Errorf("resource %q, want the Location resolved against the endpoint, %q…", w.Resource(), want)
	}
	chk := newCheck(t, r.rate)
	e.waitFrames(t, ctx, chk, 30)
	e.mu.Lock()
	streams, auth := e.streams, e.auth
	e.mu.Unlock()
	if streams[webrtc.RTPCodecTypeVideo] != StreamID || streams[webrtc.RTPCodecTypeAudio] != StreamID {
		t.Errorf("streams %v: want both tracks in stream %q", streams, StreamID)
	}
	if len(auth) != 1 || auth[0] != "Bearer s3cret" {
		t.Errorf("Authorization headers %q", auth)
	}
	resource := w.Resource()
	if err := w.Close(); err != nil {
		t.Error(err)
	}
	e.mu.Lock()
	deletes, left := e.deletes, len(e.sessions)
	e.mu.Unlock()
	if len(deletes) != 1 || !strings.HasSuffix(resource, deletes[0]) || left != 0 {
		t.Errorf("DELETEs %q for resource %q, %d sessions left; want the one DELETE", deletes, resource, left)
	}
	if st := w.Status(); st.State != StateClosed {
		t.Errorf("status after Close: %+v", st)
	}
}

// The endpoint names a TURN server in Link headers: the client asks for
// it before gathering (OPTIONS) and gathers relay candidates through it
// with the credentials given.
func TestWHIPLinkICEServers(t *testing.T) {
	const realm, user, pass = "segcast", "whip-user", "whip-pass"
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	key := turn.GenerateAuthKey(user, realm, pass)
	var mu sync.Mutex
	var users []string
	server, err := turn.NewServer(turn.ServerConfig{
		Realm: realm,
		AuthHandler: func(ra *turn.RequestAttributes) (string, []byte, bool) {
			mu.Lock()
			users = append(users, ra.Username)
			mu.Unlock()
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
	link := fmt.Sprintf(`<turn:%s?transport=udp>; rel="ice-server"; username="%s"; credential="%s"; credential-type="password"`,
		conn.LocalAddr(), user, pass)
	e := newWHIPEndpoint(t, "", link)
	r := newRig(t, 160, 120)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	w, err := PublishWHIP(ctx, r.sess, WHIPOptions{URL: e.url(), Log: r.log})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	e.mu.Lock()
	offer := e.offers[0]
	e.mu.Unlock()
	if !strings.Contains(offer, "typ relay") {
		t.Errorf("the offer has no relay candidate from the Link's TURN server:\n%s", offer)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(users) == 0 || users[len(users)-1] != user {
		t.Errorf("TURN server saw users %q, want %q", users, user)
	}
}

func TestParseICELinks(t *testing.T) {
	got := parseICELinks([]string{
		`<stun:stun.example.net>; rel="ice-server"`,
		`<turn:turn.example.net?transport=udp>; rel="ice-server"; username="user"; credential="pw"; credential-type="password", <https://example.org/>; rel="help"`,
		`<turn%3Aescaped.example.net%3A3478%3Ftransport%3Dtcp>; rel="ice-server"`, // LiveKit escapes its URLs
		`<http://not-ice.example>; rel="ice-server"`,
	})
	want := []webrtc.ICEServer{
		{URLs: []string{"stun:stun.example.net"}},
		{URLs: []string{"turn:turn.example.net?transport=udp"}, Username: "user", Credential: "pw"},
		{URLs: []string{"turn:escaped.example.net:3478?transport=tcp"}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func FuzzParseICELinks(f *testing.F) {
	f.Add(`<turn:turn.example.net?transport=udp>; rel="ice-server"; username="user"; credential="pw"`)
	f.Add(`<stun:a>; rel=ice-server, <turn%3Ab>;rel="ice-server";username=`)
	f.Fuzz(func(t *testing.T, h string) {
		for _, s := range parseICELinks([]string{h}) {
			if len(s.URLs) != 1 || !strings.HasPrefix(s.URLs[0], "stun") && !strings.HasPrefix(s.URLs[0], "turn") {
				t.Fatalf("%q gave %+v", h, s)
			}
		}
	})
}

// Every refusal and failure of the endpoint is one clear error line, and
// no exchange waits past ConnectTimeout.
func TestWHIPErrors(t *testing.T) {
	r := newRig(t, 160, 120)
	reply := func(status int, header map[string]string, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost {
				w.WriteHeader(http.StatusNoContent)
				return
			}
			for k, v := range header {
				w.Header().Set(k, v)
			}
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
		}))
		t.Cleanup(srv.Close)
		return srv.URL + "/whip"
	}
	silent, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	closed, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downURL := "http://" + closed.Addr().String() + "/whip"
	closed.Close()
	sdp := map[string]string{"Content-Type": "application/sdp"}

	for _, tc := range []struct {
		name, url, want string
	}{
		{"bad scheme", "ws://example.org/whip", "want an http:// or https:// URL"},
		{"401", reply(401, nil, "bad token"), "rejected the bearer token (401 Unauthorized): bad token"},
		{"404", reply(404, nil, ""), "no such WHIP endpoint (404 Not Found)"},
		{"422", reply(422, nil, "no\nvideo"), "rejected the offer (422 Unprocessable Entity): no video"},
		{"500", reply(500, nil, strings.Repeat("x", 5000)), "the endpoint failed (500 Internal Server Error): xxx"},
		{"503", reply(503, nil, ""), "the endpoint failed (503 Service Unavailable)"},
		{"no Location", reply(201, sdp, "v=0"), "201 without a Location"},
		{"not SDP", reply(201, map[string]string{"Location": "/x", "Content-Type": "text/html"}, "<html>"), `want application/sdp`},
		{"huge answer", reply(201, map[string]string{"Location": "/x", "Content-Type": "application/sdp"}, strings.Repeat("a", maxAnswer+1)), "over 65536 bytes"},
		{"bad answer", reply(201, map[string]string{"Location": "/x", "Content-Type": "application/sdp"}, "v=0"), "the endpoint's answer"},
		{"down", downURL, "connection refused"},
		{"silent", "http://" + silent.Addr().String() + "/whip", "no answer within 2s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			w, err := PublishWHIP(ctx, r.sess, WHIPOptions{URL: tc.url, Bearer: "tok", ConnectTimeout: 2 * time.Second})
			if err == nil {
				w.Close()
				t.Fatal("connected")
			}
			msg := err.Error()
			t.Logf("error: %s", msg)
			if !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") || len(msg) > 400 {
				t.Errorf("error %q: want one short line containing %q", msg, tc.want)
			}
			if strings.Contains(msg, "tok") && !strings.Contains(tc.want, "tok") {
				t.Errorf("error %q shows the bearer token", msg)
			}
			if ctx.Err() != nil {
				t.Error("took over the test's deadline")
			}
		})
	}
}

// The endpoint ends the session (a restart, say): the client publishes
// again by itself, a new session, and media flows on.
func TestWHIPReconnect(t *testing.T) {
	e := newWHIPEndpoint(t, "")
	r := newRig(t, 160, 120)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	w, err := PublishWHIP(ctx, r.sess, WHIPOptions{URL: e.url(), Log: r.log})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	first := w.Resource()
	e.waitFrames(t, ctx, newCheck(t, r.rate), 10)
	e.mu.Lock()
	for id, s := range e.sessions {
		_ = s.pc.Close()
		delete(e.sessions, id)
	}
	e.frames, e.audio = nil, nil
	e.mu.Unlock()
	for st := w.Status(); st.State != StateConnected || st.Reconnects < 1; st = w.Status() {
		select {
		case <-ctx.Done():
			t.Fatalf("not published again: %+v", st)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if w.Resource() == first {
		t.Errorf("same resource %q after publishing again", first)
	}
	e.waitFrames(t, ctx, newCheck(t, r.rate), 10)
}

// WHIP into a real LiveKit server's own WHIP endpoint (/whip/v1, the
// token as bearer): a server-sdk-go subscriber gets both tracks, in one
// stream, decoding with exact steps.
func TestWHIPToLiveKit(t *testing.T) {
	c := lkserver.Start(t, lkserver.Options{SyncStreams: true})
	n := c.Nodes[0]
	r := newRig(t, 320, 240)
	room := randomName("whip-")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	w, err := PublishWHIP(ctx, r.sess, WHIPOptions{URL: fmt.Sprintf("http://127.0.0.1:%d/whip/v1", n.Port),
		Bearer: lkserver.Token(t, room, "segcast-whip", true), Log: r.log})
	if err != nil {
		t.Fatalf("%v; server log:\n%s", err, n.Log())
	}
	defer w.Close()
	got := receive(t, ctx, lkserver.Subscribe(t, n.URL, room, "viewer", true), r.rate, 30)
	_, _, tracks := got.sub.Snapshot()
	v, a := trackOf(tracks, webrtc.RTPCodecTypeVideo), trackOf(tracks, webrtc.RTPCodecTypeAudio)
	if v >= len(tracks) || a >= len(tracks) || tracks[v].StreamID != tracks[a].StreamID {
		t.Errorf("tracks %+v: want video and audio in one stream", tracks)
	}
}
