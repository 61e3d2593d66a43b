package share

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"image"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"segcast/engine"
)

// fuzzLoop is a loop on a fake clock with a small store, and a way to let
// it play on until what it was handed is released.
type fuzzLoop struct {
	loop  *engine.Loop
	store *engine.FrameStore
	ctl   *Control
	until time.Duration
}

func newFuzzLoop(t testing.TB, budget int64) *fuzzLoop {
	f := &fuzzLoop{store: engine.NewFrameStore(budget)}
	f.loop = engine.NewLoop(engine.LoopConfig{Rate: engine.Rate25, Width: 32, Height: 18, Clock: engine.NewFakeClock(), Lead: 40 * time.Millisecond})
	ctl, err := NewControl(f.loop, ControlOptions{Rate: engine.Rate25, Size: image.Pt(32, 18), Store: f.store, MaxUpload: 1 << 20, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	f.ctl = ctl
	return f
}

// drain cuts everything and plays on until the store is empty again; a
// store that stays in use means something pushed was never released.
func (f *fuzzLoop) drain(t *testing.T) {
	f.loop.Interrupt(true)
	_ = f.loop.SetIdle(nil)
	f.until += time.Second
	if err := f.loop.RunFor(context.Background(), f.until); err != nil {
		t.Fatal(err)
	}
	if u := f.store.Used(); u != 0 {
		t.Fatalf("store holds %d bytes after everything was cut and played out", u)
	}
}

// liveMessages splits fuzz data into messages: a type byte (even: text),
// a little-endian uint16 length, then the payload.
func liveMessages(data []byte) (typs []websocket.MessageType, msgs [][]byte) {
	for len(data) >= 3 {
		typ := websocket.MessageBinary
		if data[0]%2 == 0 {
			typ = websocket.MessageText
		}
		n := min(int(binary.LittleEndian.Uint16(data[1:3])), len(data)-3)
		typs, msgs = append(typs, typ), append(msgs, data[3:3+n])
		data = data[3+n:]
	}
	return typs, msgs
}

func encodeLive(typs []websocket.MessageType, msgs [][]byte) []byte {
	var b bytes.Buffer
	for i, m := range msgs {
		t := byte(1)
		if typs[i] == websocket.MessageText {
			t = 0
		}
		b.WriteByte(t)
		binary.Write(&b, binary.LittleEndian, uint16(len(m)))
		b.Write(m)
	}
	return b.Bytes()
}

// FuzzLiveMessages feeds any sequence of producer messages to a live
// session. Whatever comes, it must not panic; a message is refused (and
// the session stops, as the server closes the socket) or taken; an
// accepted event comes only for a header; and once everything is cut
// and played out, every byte pushed is given back to the store.
func FuzzLiveMessages(f *testing.F) {
	hdr, _ := json.Marshal(map[string]any{"width": 4, "height": 2, "fps": "25", "pixel_format": "bgr24",
		"sample_rate": 16000, "channels": 1, "preroll_ms": 40})
	i420, _ := json.Marshal(map[string]any{"width": 3, "height": 3, "fps": "30000/1001", "pixel_format": "i420", "mode": "now"})
	frame := append([]byte{'V'}, make([]byte, 4*2*3)...)
	end := []byte(`{"end":true}`)
	bin, txt := websocket.MessageBinary, websocket.MessageText
	f.Add(encodeLive([]websocket.MessageType{txt, bin, bin, bin, txt}, [][]byte{hdr, frame, {'A', 1, 2, 3}, frame, end}))
	f.Add(encodeLive([]websocket.MessageType{txt, bin, txt, txt, bin, txt}, [][]byte{i420, append([]byte{'V'}, make([]byte, 9+2+2)...), end, hdr, frame, end}))
	f.Add(encodeLive([]websocket.MessageType{bin, txt}, [][]byte{frame, hdr}))
	f.Add(encodeLive([]websocket.MessageType{txt}, [][]byte{[]byte(`{"width":1e9,"fps":25}`)}))
	fl := newFuzzLoop(f, 4<<20)
	f.Fuzz(func(t *testing.T, data []byte) {
		var events []map[string]any
		sess, remove := newLiveSession(fl.ctl, func(v any) { events = append(events, v.(map[string]any)) })
		typs, msgs := liveMessages(data)
		headers := 0
		for i, m := range msgs {
			if typs[i] == websocket.MessageText && !bytes.Contains(m, []byte("end")) {
				headers++
			}
			if err := sess.handle(typs[i], m); err != nil {
				sess.fail(err)
				break
			}
		}
		sess.finish()
		remove()
		accepted := 0
		for _, ev := range events {
			if ev["event"] == "accepted" {
				accepted++
			}
		}
		if accepted > headers {
			t.Fatalf("%d accepted events for %d headers", accepted, headers)
		}
		fl.drain(t)
	})
}

// FuzzControlRequest drives the control API's handler with any method,
// path, query, content type and body. It must not panic; without the
// token it answers 404; only a 201 to POST segments adds an entry;
// nothing is left in the upload folder; and what was taken is released
// once cut and played out.
func FuzzControlRequest(f *testing.F) {
	c := newClip(32, 18, engine.Rate25, 16000, 200*time.Millisecond)
	mp, ct := multipartBody(c.y4m(), c.wav(), false)
	mpBytes, _ := io.ReadAll(mp)
	f.Add("POST", true, "segments", "mode=now&name=x", "", c.y4m())
	f.Add("POST", true, "segments", "", ct, mpBytes)
	f.Add("POST", true, "segments", "", "multipart/form-data; boundary=x", []byte("--x\r\n\r\n--x--"))
	f.Add("PUT", true, "idle", "", "", c.wav())
	f.Add("DELETE", true, "segments/1", "", "", []byte{})
	f.Add("POST", true, "interrupt", "clear=1", "", []byte{})
	f.Add("GET", true, "segments", "", "", []byte{})
	f.Add("GET", true, "live", "", "", []byte{})
	f.Add("POST", false, "segments", "", "", c.wav())
	f.Add("POST", true, "segments/../segments", "", "", []byte("PK\x03\x04"))
	fl := newFuzzLoop(f, 8<<20)
	h := fl.ctl.Handler()
	f.Fuzz(func(t *testing.T, method string, withToken bool, rest, query, contentType string, body []byte) {
		path := "/api/" + rest
		if withToken {
			path = "/api/" + fl.ctl.token + "/" + rest
		}
		u, err := url.Parse("http://x" + path)
		if err != nil || !strings.HasPrefix(u.Path, "/") {
			return // not a request a server would parse
		}
		u.RawQuery = query
		req := &http.Request{Method: method, URL: u, Header: http.Header{"Content-Type": {contentType}},
			Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), RemoteAddr: "127.0.0.1:1", Host: "x"}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		before := len(fl.loop.Entries())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req.WithContext(ctx))
		after := len(fl.loop.Entries())
		tokened := strings.HasPrefix(u.Path, "/api/"+fl.ctl.token+"/")
		if !tokened && rec.Code != http.StatusNotFound {
			t.Fatalf("%s %q without the token: %d, want 404", method, u.Path, rec.Code)
		}
		if rec.Code == http.StatusCreated {
			if method != http.MethodPost || after != before+1 {
				t.Fatalf("201 for %s %q, entries %d → %d", method, u.Path, before, after)
			}
		} else if after > before {
			t.Fatalf("%s %q: status %d yet an entry was added", method, u.Path, rec.Code)
		}
		if left, _ := os.ReadDir(fl.ctl.opt.TempDir); len(left) != 0 {
			t.Fatalf("%s %q left %d uploads behind", method, u.Path, len(left))
		}
		fl.drain(t)
	})
}
