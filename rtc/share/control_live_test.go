package share

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"segcast/engine"
	"segcast/rtc"
	"segcast/rtc/internal/rtctest"
)

// producer is a live producer over GET live, as a program would be; it
// keeps every event the server sends.
type producer struct {
	t    testing.TB
	conn *websocket.Conn
	done chan struct{} // closed when the server's side ended

	mu      sync.Mutex
	events  []map[string]any
	readErr error // how the socket ended
}

func dialLive(t testing.TB, r *ctlRig) *producer {
	t.Helper()
	conn, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(r.url, "http")+"live", nil)
	if err != nil {
		t.Fatalf("dial live: %v", err)
	}
	p := &producer{t: t, conn: conn, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for {
			typ, data, err := conn.Read(context.Background())
			var ev map[string]any
			if err == nil && (typ != websocket.MessageText || json.Unmarshal(data, &ev) != nil) {
				err = fmt.Errorf("server sent %v %q", typ, data)
			}
			p.mu.Lock()
			if err != nil {
				p.readErr = err
			} else {
				p.events = append(p.events, ev)
			}
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { conn.CloseNow() })
	return p
}

// all is every event so far.
func (p *producer) all() []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]map[string]any(nil), p.events...)
}

// find waits for the n-th (from 0) event that match says; the deadline
// only ends a test that would hang.
func (p *producer) find(n int, match func(ev map[string]any) bool) map[string]any {
	p.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		i := 0
		for _, ev := range p.all() {
			if ev["event"] == "error" {
				p.t.Fatalf("error event: %v", ev)
			}
			if match(ev) {
				if i == n {
					return ev
				}
				i++
			}
		}
		select {
		case <-p.done:
			p.t.Fatalf("live socket ended (%v) before the event; events %v", p.readErr, p.all())
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("event never came; events %v", p.all())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func is(kind string, id any) func(map[string]any) bool {
	return func(ev map[string]any) bool { return ev["event"] == kind && (id == nil || ev["id"] == id) }
}

// of is the events of one entry.
func (p *producer) of(id float64) []map[string]any {
	var out []map[string]any
	for _, ev := range p.all() {
		if ev["id"] == id {
			out = append(out, ev)
		}
	}
	return out
}

func (p *producer) text(v any) error {
	b, _ := json.Marshal(v)
	return p.conn.Write(context.Background(), websocket.MessageText, b)
}

func (p *producer) binary(kind byte, data []byte) error {
	return p.conn.Write(context.Background(), websocket.MessageBinary, append([]byte{kind}, data...))
}

// header is a live header for c, sound as s16le at c's rate, mono.
func header(c clip, name string, extra map[string]any) map[string]any {
	w, h := c.frames[0].Rect.Dx(), c.frames[0].Rect.Dy()
	m := map[string]any{"width": w, "height": h, "fps": c.rate.String(), "pixel_format": "bgr24",
		"sample_rate": c.audioRate, "channels": 1, "mode": "queue", "name": name}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func s16le(pcm []int16) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, pcm)
	return b.Bytes()
}

// push sends c as one live segment: the header, then each frame followed
// by the sound up to its end time, then the end. pause, when set, runs
// before frame i.
func (p *producer) push(c clip, name string, extra map[string]any, pause func(i int)) error {
	bgr := c.bgrs
	if bgr == nil {
		bgr = c.withBGR().bgrs
	}
	if err := p.text(header(c, name, extra)); err != nil {
		return err
	}
	sent := 0
	for i := range c.frames {
		if pause != nil {
			pause(i)
		}
		if err := p.binary('V', bgr[i]); err != nil {
			return err
		}
		upTo := min(len(c.pcm), int(c.rate.FrameNS(int64(i+1))*int64(c.audioRate)/1e9))
		if upTo > sent {
			if err := p.binary('A', s16le(c.pcm[sent:upTo])); err != nil {
				return err
			}
			sent = upTo
		}
	}
	if sent < len(c.pcm) {
		if err := p.binary('A', s16le(c.pcm[sent:])); err != nil {
			return err
		}
	}
	return p.text(map[string]any{"end": true})
}

// Live and POSTed segments of several frame and sample rates play back to
// back: the receiver sees RTP timestamps run on at exactly one frame and
// one chunk step across every boundary, and each segment's first flash
// and beep leave together.
func TestControlLiveAndPostBoundaries(t *testing.T) {
	start := time.Now()
	r := newCtlRig(t, rigOpt{session: true})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rx := rtctest.NewReceiver(t, true)
	rtctest.Connect(t, ctx, r.sess, rx)

	type push struct {
		live bool
		c    clip
	}
	pushes := []push{
		{true, newClip(320, 180, engine.Rate25, 24000, 1300*time.Millisecond)},
		{false, newClip(320, 180, engine.Rate30, 16000, 700*time.Millisecond)},
		{true, newClip(320, 180, engine.Rate30, 16000, 400*time.Millisecond)},
		{true, newClip(160, 120, engine.Rate30, 48000, 1100*time.Millisecond)}, // letterboxed
		{false, newClip(320, 180, engine.Rate25, 48000, 1500*time.Millisecond)},
		{true, newClip(320, 180, engine.Rate25, 16000, 900*time.Millisecond)},
	}
	prod := dialLive(t, r)
	var ids []engine.EntryID
	var liveIDs []float64
	for i, ps := range pushes {
		name := fmt.Sprintf("seg%d", i)
		if ps.live {
			if err := prod.push(ps.c, name, nil, nil); err != nil {
				t.Fatal(err)
			}
			ev := prod.find(len(liveIDs), is("accepted", nil))
			liveIDs = append(liveIDs, ev["id"].(float64))
			ids = append(ids, engine.EntryID(ev["id"].(float64)))
			continue
		}
		body, ct := multipartBody(ps.c.y4m(), ps.c.wav(), false)
		var e entryJSON
		if resp := r.do(t, "POST", "segments?name="+name, ct, body, &e); resp.StatusCode != 201 {
			t.Fatalf("POST: %d %s", resp.StatusCode, bodyOf(resp))
		}
		ids = append(ids, e.ID)
	}
	// Events of each live segment: started (with its times), then ended.
	for _, id := range liveIDs {
		prod.find(0, is("ended", id))
		evs := prod.of(id)
		if len(evs) < 3 || evs[0]["event"] != "accepted" || evs[1]["event"] != "started" {
			t.Fatalf("segment %v: events %v, want accepted, started, (underruns on a starved machine,) ended", id, evs)
		}
		for _, ev := range evs[2 : len(evs)-1] {
			if ev["event"] != "underrun" {
				t.Fatalf("segment %v: events %v, want only underruns between started and ended", id, evs)
			}
		}
		started := evs[1]
		unix := time.UnixMilli(int64(started["unix_ms"].(float64)))
		if unix.Before(start.Add(-time.Second)) || unix.After(time.Now().Add(time.Second)) {
			t.Errorf("started unix_ms %v is not around now", unix)
		}
		if evs[len(evs)-1]["state"] != "done" {
			t.Errorf("segment %v ended %v", id, evs[len(evs)-1])
		}
	}
	last := r.waitEntry(t, ids[len(ids)-1], "done", func(e engine.Entry) bool { return e.State == engine.EntryDone })
	_ = last
	time.Sleep(500 * time.Millisecond) // some idle after
	var prevEnd int64 = -1
	var starts []int64
	for i, id := range ids {
		e, _ := r.loop.Entry(id)
		if e.State != engine.EntryDone || !e.Started {
			t.Fatalf("entry %d (%s): %+v", id, e.Name, e)
		}
		k := engine.Rate30.FrameAt(e.StartedMediaNS)
		if engine.Rate30.FrameNS(k) != e.StartedMediaNS {
			t.Errorf("entry %d starts at %d ns, not on the output frame grid", id, e.StartedMediaNS)
		}
		if k <= prevEnd {
			t.Errorf("entry %d starts at frame %d, before the previous one ended", id, k)
		}
		prevEnd = k + int64(pushes[i].c.rate.FramesIn(int64(e.Duration))) - 1
		starts = append(starts, k)
	}

	video, audio, flashes := r.sent.snapshot()
	onsets := r.heard.snapshot()
	checkSentContinuity(t, video, audio)
	t.Logf("starts %v flashes %v onsets %v", starts, flashes, onsets)
	// Every segment's first frame is a flash, and every flash has its
	// beep within 3 ms on the send side.
	isFlash, sent := map[int64]bool{}, map[int64]bool{}
	for _, k := range flashes {
		isFlash[k] = true
	}
	for _, it := range video {
		sent[it.Seq] = true
	}
	for i, k := range starts {
		if !sent[k] {
			t.Logf("segment %d: its first frame (output frame %d) was skipped by a late sender (stats %+v)", i, k, r.sess.Stats())
		} else if !isFlash[k] {
			t.Errorf("segment %d: its first frame (output frame %d) did not go out as a flash", i, k)
		}
	}
	flashes = flashStarts(video, flashes)
	for i, gap := range flashBeepGaps(engine.Rate30, flashes, onsets) {
		if gap.Abs() > 3*time.Millisecond {
			t.Errorf("flash at output frame %d: beep %v from it, over 3 ms", flashes[i], gap)
		}
	}
	if len(flashes) == 0 {
		t.Fatal("no flash went out after a sent frame: nothing to check")
	}
	checkReceived(t, rx, r.sess)
}

// checkSentContinuity: every sent item's RTP timestamp is the track's
// base plus its index's exact timestamp, and indices never go back.
func checkSentContinuity(t *testing.T, video, audio []rtc.SentItem) {
	t.Helper()
	for _, items := range [][]rtc.SentItem{video, audio} {
		if len(items) < 10 {
			t.Fatalf("only %d items sent", len(items))
		}
		base := items[0].RTP - items[0].MediaRTP
		for i, it := range items {
			want := engine.Rate30.FrameRTP(it.Seq)
			if it.Kind == rtc.Audio {
				want = engine.ChunkRTP(it.Seq)
			}
			if it.MediaRTP != want || it.RTP-base != want {
				t.Fatalf("%v item %d (seq %d): RTP %d (media %d), want base+%d", it.Kind, i, it.Seq, it.RTP, it.MediaRTP, want)
			}
			if i > 0 && it.Seq <= items[i-1].Seq {
				t.Fatalf("%v item %d: seq %d after %d", it.Kind, i, it.Seq, items[i-1].Seq)
			}
			if it.Kind == rtc.Audio && i > 0 && it.Seq != items[i-1].Seq+1 {
				t.Fatalf("audio chunk %d dropped (seq %d after %d)", items[i-1].Seq+1, it.Seq, items[i-1].Seq)
			}
		}
	}
}

// checkReceived: what the pion receiver got runs on unbroken, one frame
// step and one chunk step at a time (a frame the sender skipped for
// being late is a whole number of steps).
func checkReceived(t *testing.T, rx *rtctest.Receiver, sess *rtc.Session) {
	t.Helper()
	frames, audio, _, _ := rx.Snapshot()
	if len(frames) < 30 || len(audio) < 50 {
		t.Fatalf("receiver got %d frames, %d audio packets", len(frames), len(audio))
	}
	step := engine.Rate30.FrameRTP(1)
	for i := 1; i < len(frames); i++ {
		if d := frames[i].TS - frames[i-1].TS; d == 0 || d%step != 0 {
			t.Fatalf("received frame %d: RTP step %d, want a multiple of %d", i, d, step)
		} else if d != step {
			t.Logf("received frame %d: RTP step %d (%d frames skipped by a late sender; stats %+v)", i, d, d/step-1, sess.Stats())
		}
	}
	for i := 1; i < len(audio); i++ {
		ds, dt := audio[i].Seq-audio[i-1].Seq, audio[i].TS-audio[i-1].TS
		if dt != uint32(ds)*engine.ChunkSamples {
			t.Fatalf("audio packet %d: RTP step %d for sequence step %d", i, dt, ds)
		}
	}
	if n := rx.BrokenFrames(); n > 0 {
		t.Logf("%d frames lost to sequence gaps (loopback under load)", n)
	}
}

func TestControlLiveRefusesBadInput(t *testing.T) {
	r := newCtlRig(t, rigOpt{})
	c := newClip(64, 36, engine.Rate25, 24000, 400*time.Millisecond)
	cases := []struct {
		what string
		send func(p *producer) error
		say  string
	}{
		{"wrong frame size", func(p *producer) error {
			p.text(header(c, "x", nil))
			return p.binary('V', c.bgr(0)[1:])
		}, "want 6912"},
		{"unknown pixel format", func(p *producer) error {
			return p.text(header(c, "x", map[string]any{"pixel_format": "yuyv"}))
		}, "pixel_format"},
		{"unknown field", func(p *producer) error { return p.text(header(c, "x", map[string]any{"colour": "red"})) }, "colour"},
		{"bad fps", func(p *producer) error { return p.text(header(c, "x", map[string]any{"fps": "0"})) }, "fps"},
		{"bad mode", func(p *producer) error { return p.text(header(c, "x", map[string]any{"mode": "soon"})) }, "mode"},
		{"binary first", func(p *producer) error { return p.binary('V', c.bgr(0)[:100]) }, "before a header"},
		{"unknown message", func(p *producer) error {
			p.text(header(c, "x", nil))
			return p.binary('X', nil)
		}, "'V' or 'A'"},
		{"sound without a rate", func(p *producer) error {
			p.text(header(c, "x", map[string]any{"sample_rate": 0, "channels": 0}))
			return p.binary('A', []byte{1, 2})
		}, "no sound"},
		{"second header", func(p *producer) error {
			p.text(header(c, "x", nil))
			return p.text(header(c, "y", nil))
		}, "segment is open"},
		{"end alone", func(p *producer) error { return p.text(map[string]any{"end": true}) }, "no segment open"},
		{"not JSON", func(p *producer) error { return p.conn.Write(context.Background(), websocket.MessageText, []byte("{")) }, "text message"},
		{"frame too big", func(p *producer) error {
			p.text(header(c, "x", nil))
			return p.binary('V', make([]byte, 2<<20))
		}, ""}, // over the read limit: the socket closes
	}
	for _, cs := range cases {
		p := dialLive(t, r)
		if err := cs.send(p); err != nil && cs.say != "" { // a message over the limit may meet a closed socket
			t.Fatalf("%s: send: %v", cs.what, err)
		}
		<-p.done
		var errEv map[string]any
		var accepted float64
		for _, ev := range p.all() {
			switch ev["event"] {
			case "accepted":
				accepted = ev["id"].(float64)
			case "error":
				errEv = ev
			}
		}
		closeErr := p.readErr
		if cs.say != "" && (errEv == nil || !strings.Contains(errEv["message"].(string), cs.say)) {
			t.Errorf("%s: error event %v, want one mentioning %q (events %v, end %v)", cs.what, errEv, cs.say, p.all(), p.readErr)
		}
		if st := websocket.CloseStatus(closeErr); st != websocket.StatusUnsupportedData && st != websocket.StatusMessageTooBig {
			t.Errorf("%s: socket ended with %v, want close status unsupported data (or message too big)", cs.what, closeErr)
		}
		if accepted != 0 {
			e := r.waitEntry(t, engine.EntryID(accepted), "failed", func(e engine.Entry) bool { return e.State == engine.EntryFailed })
			if cs.say != "" && !strings.Contains(e.Err, cs.say) {
				t.Errorf("%s: entry failed with %q", cs.what, e.Err)
			}
		}
	}
	waitFor(t, "the failed segments released", func() bool { return r.store.Used() == 0 })
}

// A producer slower than playback: the segment holds its last frame
// (an underrun event says how long) and plays on; a producer far ahead
// is held back, its segment never buffering much past the pre-roll.
func TestControlLiveSlowAndFastProducers(t *testing.T) {
	r := newCtlRig(t, rigOpt{run: true})
	c := newClip(320, 180, engine.Rate30, 24000, 2*time.Second)
	p := dialLive(t, r)
	go p.push(c, "slow", nil, func(i int) {
		if i == 15 { // 0.5 s in: stall well past what is buffered
			time.Sleep(1500 * time.Millisecond)
		}
	})
	id := p.find(0, is("accepted", nil))["id"].(float64)
	p.find(0, is("ended", id))
	evs := p.of(id)[1:]
	var kinds []string
	var held float64
	for _, ev := range evs {
		kinds = append(kinds, ev["event"].(string))
		if ev["event"] == "underrun" {
			held += ev["ms"].(float64)
		}
	}
	e, _ := r.loop.Entry(engine.EntryID(id))
	t.Logf("events %v; held %v ms; entry %+v", kinds, held, e)
	if kinds[0] != "started" || !strings.Contains(strings.Join(kinds, ","), "underrun") || e.State != engine.EntryDone {
		t.Fatalf("events %v, state %v: want started, at least one underrun, ended done", kinds, e.State)
	}
	if e.Underruns < 1 || e.Frames != 60 {
		t.Fatalf("entry %+v: want an underrun and all 60 frames", e)
	}

	// Fast: 8 s of frames as quickly as the socket takes them.
	fast := newClip(320, 180, engine.Rate30, 24000, 8*time.Second)
	frameBytes := int64(320*180 + 2*160*90)
	var peak int64
	done := make(chan error, 1)
	go func() { done <- p.push(fast, "fast", nil, nil) }()
	for {
		peak = max(peak, r.store.Used())
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			held := liveAhead(engine.DefaultPreroll) + 500*time.Millisecond // + the played frames not yet dropped, a message
			if limit := int64(engine.Rate30.FramesIn(int64(held))) * frameBytes; peak > limit {
				t.Fatalf("store peaked at %d bytes (%d frames) for a producer 8 s ahead, want at most %d: buffering is not bounded",
					peak, peak/frameBytes, limit)
			}
			t.Logf("store peak %d frames while the producer ran ahead", peak/frameBytes)
			return
		default:
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// Close ends live producers too (their sockets are hijacked from the
// HTTP server, which would not wait for them); what they sent plays.
func TestControlCloseEndsLiveProducers(t *testing.T) {
	r := newCtlRig(t, rigOpt{})
	c := newClip(64, 36, engine.Rate25, 24000, 400*time.Millisecond)
	p := dialLive(t, r)
	if err := p.text(header(c, "x", nil)); err != nil {
		t.Fatal(err)
	}
	id := p.find(0, is("accepted", nil))["id"].(float64)
	if err := r.ctl.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		t.Fatal("live socket still open after Close")
	}
	if e, _ := r.loop.Entry(engine.EntryID(id)); e.State != engine.EntryQueued {
		t.Fatalf("entry %+v, want it left queued (ended, to play what arrived)", e)
	}
}
