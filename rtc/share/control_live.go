package share

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"segcast/engine"
)

// Live producer limits.
const (
	liveHeaderWait  = 10 * time.Second // from connecting to the first header
	liveIdle        = 10 * time.Minute // between segments, for the next header
	liveDataWait    = 10 * time.Second // inside a segment, between messages
	maxLiveText     = 4 << 10          // a header or {"end":true}
	maxAudioMessage = 1 << 20          // an 'A' message: 5.4 s of 48 kHz stereo
	maxLiveSide     = 8192             // frame width or height
	maxLivePreroll  = 10 * time.Second
	// maxLiveSkew bounds how far one track may run ahead of the other:
	// the producer is slowed only while both are ahead (WaitRoom), so a
	// producer sending all its video first would otherwise fill memory.
	maxLiveSkew   = 10 * time.Second
	maxLiveEvents = 4096 // events not yet written before the producer is dropped
)

// liveAhead is how far a producer may run ahead of playback before its
// socket is no longer read: past the pre-roll, so the segment can start.
func liveAhead(preroll time.Duration) time.Duration {
	return max(2*preroll, preroll+time.Second)
}

// liveHeader is the first text message of each live segment.
type liveHeader struct {
	Width       int     `json:"width"`
	Height      int     `json:"height"`
	FPS         fpsText `json:"fps"`
	PixelFormat string  `json:"pixel_format"`
	SampleRate  int     `json:"sample_rate"`
	Channels    int     `json:"channels"`
	Mode        string  `json:"mode"`
	Name        string  `json:"name"`
	PrerollMS   *int64  `json:"preroll_ms"`
}

// liveText is any text message from a producer: a header or the end.
type liveText struct {
	liveHeader
	End *bool `json:"end"`
}

// fpsText is a frame rate written "25", "30000/1001" or as a number.
type fpsText string

func (f *fpsText) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = fpsText(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return errors.New(`fps: want a string like "25" or "30000/1001"`)
	}
	*f = fpsText(n.String())
	return nil
}

// liveParams is a checked header.
type liveParams struct {
	w, h, frameBytes     int
	rate                 engine.Rate
	pf                   string
	sampleRate, channels int
	mode                 engine.Mode
	name                 string
	preroll              time.Duration
}

func (h liveHeader) params() (liveParams, error) {
	p := liveParams{w: h.Width, h: h.Height, pf: h.PixelFormat, sampleRate: h.SampleRate, channels: h.Channels,
		name: cleanName(h.Name), preroll: engine.DefaultPreroll}
	var err error
	if p.w <= 0 || p.h <= 0 || p.w > maxLiveSide || p.h > maxLiveSide {
		return p, fmt.Errorf("width %d, height %d: want 1..%d each", p.w, p.h, maxLiveSide)
	}
	if p.frameBytes, err = rawFrameBytes(p.pf, p.w, p.h); err != nil {
		return p, err
	}
	if h.FPS == "" {
		return p, errors.New(`fps missing: want e.g. "25" or "30000/1001"`)
	}
	if p.rate, err = engine.ParseRate(string(h.FPS)); err == nil {
		err = engine.CheckFPS(p.rate)
	}
	if err != nil {
		return p, fmt.Errorf("fps: %w", err)
	}
	switch {
	case p.channels == 0 && p.sampleRate == 0: // no sound
	case p.channels != 1 && p.channels != 2:
		return p, fmt.Errorf("channels %d: want 1 or 2 (0 with sample_rate 0 for no sound)", p.channels)
	case p.sampleRate < 8000 || p.sampleRate > 192000:
		return p, fmt.Errorf("sample_rate %d: want 8000..192000 Hz", p.sampleRate)
	}
	if p.mode, err = engine.ParseMode(h.Mode); err != nil {
		return p, err
	}
	if h.PrerollMS != nil {
		if ms := *h.PrerollMS; ms < 0 || ms > maxLivePreroll.Milliseconds() {
			return p, fmt.Errorf("preroll_ms %d: want 0..%d", ms, maxLivePreroll.Milliseconds())
		} else if ms > 0 {
			p.preroll = time.Duration(ms) * time.Millisecond
		}
	}
	if p.name == "" {
		p.name = "live"
	}
	return p, nil
}

// parseLiveText reads a text message strictly: unknown fields are
// refused, so a misspelt field is an error rather than a default.
func parseLiveText(b []byte) (liveText, error) {
	var m liveText
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("text message: %w", err)
	}
	if dec.More() {
		return m, errors.New("text message: more than one JSON value")
	}
	return m, nil
}

// liveStream is the segment a producer is sending.
type liveStream struct {
	p      liveParams
	live   *engine.LiveSegment
	id     engine.EntryID
	rs     *engine.Resampler // nil without sound
	pend   []byte            // a partial sample frame, carried over
	floats []float32         // reused for the resampler's input
	// pendingOut is resampled sound not yet appended; once appended the
	// segment keeps the slice, so each append gets a new one.
	pendingOut []int16
}

// liveSession is one producer's connection, apart from the socket: it
// turns messages into live segments and entry events into messages.
type liveSession struct {
	c    *Control
	send func(v any) // queues an event message; never blocks

	mu  sync.Mutex
	ids map[engine.EntryID]bool // this producer's entries not yet ended
	cur *liveStream
}

func newLiveSession(c *Control, send func(v any)) (*liveSession, func()) {
	s := &liveSession{c: c, send: send, ids: map[engine.EntryID]bool{}}
	remove := c.loop.OnEvent(s.onEvent)
	return s, remove
}

// onEvent runs on the loop's goroutine: it only queues.
func (s *liveSession) onEvent(ev engine.Event) {
	s.mu.Lock()
	mine := s.ids[ev.Entry]
	if ev.Kind == engine.EventEnded {
		delete(s.ids, ev.Entry)
	}
	s.mu.Unlock()
	if !mine {
		return
	}
	switch ev.Kind {
	case engine.EventStarted:
		s.send(map[string]any{"event": "started", "id": ev.Entry, "media_ms": ev.MediaNS / 1e6,
			"unix_ms": s.c.unixAt(ev.Deadline).UnixMilli()})
	case engine.EventUnderrun:
		s.send(map[string]any{"event": "underrun", "id": ev.Entry, "ms": ev.Duration.Milliseconds()})
	case engine.EventEnded:
		s.send(map[string]any{"event": "ended", "id": ev.Entry, "state": ev.State})
	}
}

// current is the open segment, nil between segments.
func (s *liveSession) current() *liveStream {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// handle takes one message. An error is the producer's fault: the caller
// reports it and closes (fail has cut the open segment).
func (s *liveSession) handle(typ websocket.MessageType, data []byte) error {
	cur := s.current()
	if typ == websocket.MessageText {
		m, err := parseLiveText(data)
		switch {
		case err != nil:
			return err
		case m.End != nil && m.liveHeader != (liveHeader{}):
			return errors.New(`{"end":true} carries no other field`)
		case m.End != nil && !*m.End:
			return errors.New(`"end" must be true`)
		case m.End != nil && cur == nil:
			return errors.New(`{"end":true} with no segment open`)
		case m.End != nil:
			s.finish()
			return nil
		case cur != nil:
			return errors.New(`header while a segment is open: send {"end":true} first`)
		}
		p, err := m.liveHeader.params()
		if err != nil {
			return fmt.Errorf("header: %w", err)
		}
		return s.start(p)
	}
	if cur == nil {
		return errors.New("binary message before a header")
	}
	if len(data) == 0 {
		return errors.New("empty binary message: want 'V' or 'A' first")
	}
	switch data[0] {
	case 'V':
		if len(data)-1 != cur.p.frameBytes {
			return fmt.Errorf("video message of %d bytes after 'V', want %d (one %dx%d %s frame)",
				len(data)-1, cur.p.frameBytes, cur.p.w, cur.p.h, cur.p.pf)
		}
		img := engine.Letterbox(toI420(cur.p.pf, data[1:], cur.p.w, cur.p.h), s.c.opt.Size)
		if err := cur.live.AppendFrame(img); err != nil {
			return err
		}
	case 'A':
		if cur.rs == nil {
			return errors.New("audio message, but the header has no sound (sample_rate, channels)")
		}
		if len(data)-1 > maxAudioMessage {
			return fmt.Errorf("audio message of %d bytes, over %d", len(data)-1, maxAudioMessage)
		}
		if err := cur.appendPCM(data[1:]); err != nil {
			return err
		}
	default:
		return fmt.Errorf("binary message starts with %q, want 'V' or 'A'", data[0])
	}
	if cur.rs != nil {
		v, a := cur.live.Buffered()
		if d := v - a; d > maxLiveSkew || -d > maxLiveSkew {
			return fmt.Errorf("video and sound are %v apart: send them interleaved (at most %v apart)", d.Round(time.Millisecond), maxLiveSkew)
		}
	}
	return nil
}

// start opens a segment for a header and queues it.
func (s *liveSession) start(p liveParams) error {
	out := s.c.opt.Size
	live, err := engine.NewLiveSegment(engine.LiveConfig{Name: p.name, Rate: p.rate, Width: out.X, Height: out.Y,
		Channels: p.channels, Store: s.c.opt.Store})
	if err != nil {
		return err
	}
	st := &liveStream{p: p, live: live}
	if p.channels > 0 {
		st.rs = engine.NewResampler(p.sampleRate, p.channels)
		live.Segment().SourceAudioRate = p.sampleRate
	}
	// Hold mu across Enqueue so the entry's events find it mapped.
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.c.enqueue(live.Segment(), engine.EnqueueOptions{Mode: p.mode, Preroll: p.preroll}, OriginLive)
	if err != nil {
		return err
	}
	st.id = id
	s.ids[id] = true
	s.cur = st
	s.send(map[string]any{"event": "accepted", "id": id})
	return nil
}

// appendPCM resamples s16le samples to 48 kHz and appends them; a
// partial sample frame waits for the next message.
func (st *liveStream) appendPCM(b []byte) error {
	fb := 2 * st.p.channels
	if len(st.pend) > 0 {
		need := min(fb-len(st.pend), len(b))
		st.pend = append(st.pend, b[:need]...)
		b = b[need:]
		if len(st.pend) == fb {
			st.write(st.pend)
			st.pend = st.pend[:0]
		}
	}
	whole := len(b) / fb * fb
	st.write(b[:whole])
	st.pend = append(st.pend, b[whole:]...)
	return st.flush(false)
}

// write resamples whole sample frames into the stream's pending output.
func (st *liveStream) write(b []byte) {
	if len(b) == 0 {
		return
	}
	f := st.floats[:0]
	for i := 0; i+1 < len(b); i += 2 {
		f = append(f, float32(int16(binary.LittleEndian.Uint16(b[i:])))/(1<<15))
	}
	st.floats = f
	st.pendingOut = st.rs.Write(st.pendingOut, f)
}

// flush appends the resampled output so far (and the resampler's tail at
// the end) to the segment; the segment keeps the slice.
func (st *liveStream) flush(last bool) error {
	if last {
		st.pendingOut = st.rs.Flush(st.pendingOut)
	}
	if len(st.pendingOut) == 0 {
		return nil
	}
	out := st.pendingOut
	st.pendingOut = nil
	return st.live.AppendAudio(out)
}

// finish ends the open segment: what arrived plays.
func (s *liveSession) finish() {
	s.mu.Lock()
	cur := s.cur
	s.cur = nil
	s.mu.Unlock()
	if cur == nil {
		return
	}
	if cur.rs != nil {
		_ = cur.flush(true) // fails only once released (cancelled): nothing to keep
	}
	cur.live.End()
}

// fail cuts the open segment for bad input.
func (s *liveSession) fail(err error) {
	s.mu.Lock()
	cur := s.cur
	s.cur = nil
	s.mu.Unlock()
	if cur != nil {
		_ = s.c.loop.Fail(cur.id, err) // it may have ended meanwhile
	}
}

// eventQueue holds events for the socket's writer; it never blocks the
// loop's goroutine. Past maxLiveEvents the producer is not reading its
// events and is dropped.
type eventQueue struct {
	mu       sync.Mutex
	q        []any
	wake     chan struct{}
	overflow bool
}

func (e *eventQueue) push(v any) {
	e.mu.Lock()
	if len(e.q) >= maxLiveEvents {
		e.overflow = true
	} else {
		e.q = append(e.q, v)
	}
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *eventQueue) take() ([]any, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	q := e.q
	e.q = nil
	return q, e.overflow
}

// serveLive runs one producer: GET live upgraded to a WebSocket.
func (c *Control) serveLive(w http.ResponseWriter, r *http.Request) {
	if !acquire(w, c.lives, "live producers") {
		return
	}
	defer func() { <-c.lives }()
	conn, err := websocket.Accept(w, r, nil) // same-origin only: no page elsewhere may drive it
	if err != nil {
		return // Accept answered
	}
	defer conn.CloseNow()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(c.done, cancel)() // Close ends producers
	events := &eventQueue{wake: make(chan struct{}, 1)}
	sess, remove := newLiveSession(c, events.push)
	defer remove()
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeEvents(ctx, conn, events)
		cancel()
	}()
	reason := c.readLive(ctx, conn, sess)
	sess.finish() // a producer gone mid-segment: what arrived plays
	if reason != nil {
		c.log.Info("live producer dropped", "remote", r.RemoteAddr, "err", reason)
		events.push(map[string]any{"event": "error", "message": reason.Error()})
	}
	events.push(nil) // the writer's last message: close
	select {
	case <-writerDone:
	case <-time.After(5 * time.Second):
	}
}

// writeEvents writes queued events until ctx ends or a nil event, which
// closes the socket (after an error event, as unsupported data).
func (c *Control) writeEvents(ctx context.Context, conn *websocket.Conn, events *eventQueue) {
	failed := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-events.wake:
		}
		q, overflow := events.take()
		if overflow {
			conn.Close(websocket.StatusPolicyViolation, "events not read")
			return
		}
		for _, v := range q {
			if v == nil {
				code := websocket.StatusNormalClosure
				if failed {
					code = websocket.StatusUnsupportedData
				}
				conn.Close(code, "")
				return
			}
			if m, ok := v.(map[string]any); ok && m["event"] == "error" {
				failed = true
			}
			b, _ := json.Marshal(v)
			wctx, cancel := context.WithTimeout(ctx, liveDataWait)
			err := conn.Write(wctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				return
			}
		}
	}
}

// readLive reads messages until the producer leaves (nil) or errs (the
// reason, its segment cut). Each append is followed by a wait for room,
// during which the socket is not read: a producer far ahead is slowed by
// TCP rather than held in memory.
func (c *Control) readLive(ctx context.Context, conn *websocket.Conn, sess *liveSession) error {
	var buf bytes.Buffer
	for n := 0; ; n++ {
		cur := sess.current()
		wait, limit := liveIdle, int64(maxLiveText)
		switch {
		case n == 0:
			wait = liveHeaderWait
		case cur != nil:
			wait, limit = liveDataWait, int64(max(cur.p.frameBytes, maxAudioMessage))+1
		}
		conn.SetReadLimit(limit)
		rctx, cancel := context.WithTimeout(ctx, wait)
		typ, rd, err := conn.Reader(rctx)
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(rd)
		}
		cancel()
		if err != nil {
			switch {
			case websocket.CloseStatus(err) != -1 || errors.Is(err, io.EOF) || ctx.Err() != nil:
				return nil // the producer closed, or we are shutting down
			case errors.Is(err, websocket.ErrMessageTooBig):
				err = fmt.Errorf("message over %d bytes", limit-1)
			case errors.Is(err, context.DeadlineExceeded):
				err = fmt.Errorf("nothing received for %v", wait)
			}
			sess.fail(err)
			return err
		}
		if err := sess.handle(typ, buf.Bytes()); err != nil {
			sess.fail(err)
			return err
		}
		if cur := sess.current(); cur != nil && typ == websocket.MessageBinary {
			if err := cur.live.WaitRoom(ctx, liveAhead(cur.p.preroll)); err != nil {
				return nil // shutting down
			}
		}
	}
}
