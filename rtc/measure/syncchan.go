package measure

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"segcast/engine"
	"segcast/engine/pattern"
	"segcast/rtc"
	"segcast/rtc/measure/avsync"
)

// The sync channel: the app pings every viewer page with its clock (the
// loop's), tells when each flash frame of the sync pattern was written
// and which video RTP timestamp left at which wall time (the page's
// lip-sync trim needs that), and receives the page's A/V measurements
// (formats: avsync/messages.go). A Hub is the app's end of it for every
// viewer of one rtc.Session, as an rtc.Observer: it sees sent items from
// outside the send path. The protocol is one (viewerSync); it runs over a
// transport that opens a viewer's channel with a send function and feeds
// it what the page sends: a DataChannel "segcast-sync" on each direct
// viewer's PeerConnection (below), or LiveKit data messages on topic
// "segcast-sync" for the pages in a room the session publishes into
// (livekit.go).

// SyncChannelLabel names the DataChannel. Whichever side offers creates
// it: the app when it offers (paste "Add viewer"), the page when it
// offers (WHEP, pasted offer).
const SyncChannelLabel = "segcast-sync"

const (
	// pingEvery is the clock probe period the page's latency needs.
	pingEvery = time.Second
	// mapEvery is how often viewers are told the video RTP ↔ wall clock
	// pair: often enough to follow a pause or seek within a second.
	mapEvery = time.Second
	// syncOutbox bounds messages waiting for one DataChannel: a viewer
	// that cannot keep up loses messages, the sender never waits.
	syncOutbox = 128
	// sentBacklog bounds video items waiting for the hub's goroutine.
	sentBacklog = 256
	// maxMeasurements bounds the rows kept per viewer: ten hours at one
	// flash a second.
	maxMeasurements = 36_000
)

// SyncInfo is the state of one viewer's sync channel.
type SyncInfo struct {
	Open bool `json:"open"`
	// Rows is how many measurements the page has sent.
	Rows int `json:"rows"`
	// BadMessages counts page messages dropped as malformed or oversized.
	BadMessages int64 `json:"bad_messages"`
	// OutDropped counts app messages dropped because the outbox was full.
	OutDropped int64 `json:"out_dropped"`
	// ClockOffsetMS is page clock − app clock, RTTMS its best round trip;
	// both unknown before the first pong.
	ClockOffsetMS avsync.Opt `json:"clock_offset_ms"`
	RTTMS         avsync.Opt `json:"rtt_ms"`
	// LastStats is the page's latest getStats figures.
	LastStats avsync.Stats `json:"last_stats"`
}

// Hub runs the sync channel of every viewer of a session. Make it before
// the session and pass it in rtc.Config.Observers; Close it after the
// session.
type Hub struct {
	clock  engine.Clock
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	sent   chan rtc.SentItem // video items, for the hub's goroutine
	missed atomic.Int64      // items dropped because the backlog was full

	mu            sync.Mutex
	viewers       map[string]*viewerSync
	onMeasurement func(viewerID string, m avsync.Measurement)
}

// NewHub starts a hub on the loop's clock (the one item deadlines are on).
func NewHub(clock engine.Clock, log *slog.Logger) *Hub {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub{clock: clock, log: log, ctx: ctx, cancel: cancel, done: make(chan struct{}),
		sent: make(chan rtc.SentItem, sentBacklog), viewers: map[string]*viewerSync{}}
	go h.run()
	return h
}

// Close stops the hub's goroutines.
func (h *Hub) Close() {
	h.cancel()
	<-h.done
}

// appMS is the loop clock in ms: the app time of every sync message.
func (h *Hub) appMS() float64 { return msOf(h.clock.Now()) }

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ViewerCreated implements rtc.Observer: it opens (when the app offers) or
// awaits the viewer's sync DataChannel.
func (h *Hub) ViewerCreated(v *rtc.Viewer) {
	vs := h.add(v.ID())
	pc := v.PeerConnection()
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		if dc.Label() == SyncChannelLabel {
			vs.attach(dc)
		}
	})
	if v.Offering() {
		// The offerer creates the channel: a page answering our offer
		// gets it through ondatachannel.
		dc, err := pc.CreateDataChannel(SyncChannelLabel, nil)
		if err != nil {
			h.log.Warn("sync data channel", "viewer", vs.id, "err", err)
			return
		}
		vs.attach(dc)
	}
}

// ViewerClosed implements rtc.Observer.
func (h *Hub) ViewerClosed(v *rtc.Viewer) { h.remove(v.ID()) }

// add registers a viewer whose channel is not open yet (replacing one of
// the same id).
func (h *Hub) add(id string) *viewerSync {
	vs := h.newViewerSync(id)
	h.mu.Lock()
	old := h.viewers[id]
	h.viewers[id] = vs
	h.mu.Unlock()
	if old != nil {
		old.cancel()
	}
	return vs
}

// remove forgets a viewer and stops its goroutines.
func (h *Hub) remove(id string) {
	h.mu.Lock()
	vs := h.viewers[id]
	delete(h.viewers, id)
	h.mu.Unlock()
	if vs != nil {
		vs.cancel()
	}
}

// Sent implements rtc.Observer: video items go to the hub's goroutine,
// which tells viewers of flash frames and RTP ↔ wall clock pairs.
func (h *Hub) Sent(item rtc.SentItem) {
	if item.Kind != rtc.Video {
		return
	}
	select {
	case h.sent <- item:
	default:
		h.missed.Add(1)
	}
}

func (h *Hub) run() {
	defer close(h.done)
	var lastMap time.Time
	for {
		var item rtc.SentItem
		select {
		case <-h.ctx.Done():
			return
		case item = <-h.sent:
		}
		if item.SourceIndex >= 0 && item.Image != nil && pattern.IsFlash(item.Image) {
			// The sync pattern draws its frame index in the picture; the
			// page reads it back to match our send time.
			h.broadcast(avsync.NewFrame(int64(item.SourceIndex)&pattern.IndexMask, msOf(item.Wrote), item.RTP))
		}
		if item.Wall.Sub(lastMap) >= mapEvery {
			lastMap = item.Wall
			h.broadcast(avsync.NewMap(item.RTP, float64(item.Wall.UnixNano())/float64(time.Millisecond)))
		}
	}
}

func (h *Hub) broadcast(msg any) {
	h.mu.Lock()
	vs := make([]*viewerSync, 0, len(h.viewers))
	for _, v := range h.viewers {
		vs = append(vs, v)
	}
	h.mu.Unlock()
	for _, v := range vs {
		v.send(msg)
	}
}

func (h *Hub) viewer(id string) *viewerSync {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.viewers[id]
}

// byeWait bounds how long Bye waits for its messages to leave.
const byeWait = 300 * time.Millisecond

// Bye tells the pages of the given viewers (every viewer when ids is
// empty) that the stream is ending, with a reason they show, and waits
// until those messages have left (at most byeWait). Call it before
// closing the viewers: after that the channel is gone.
func (h *Hub) Bye(reason string, ids ...string) {
	h.mu.Lock()
	var vs []*viewerSync
	for id, v := range h.viewers {
		if len(ids) == 0 || slices.Contains(ids, id) {
			vs = append(vs, v)
		}
	}
	h.mu.Unlock()
	for _, v := range vs {
		v.send(avsync.NewBye(reason))
	}
	deadline := time.Now().Add(byeWait)
	for _, v := range vs {
		for !v.flushed() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// OnMeasurement sets f to be called (from a pion goroutine; f must not
// block long) with every A/V measurement a viewer page sends. AtMS is the
// loop clock, in ms, when the row arrived.
func (h *Hub) OnMeasurement(f func(viewerID string, m avsync.Measurement)) {
	h.mu.Lock()
	h.onMeasurement = f
	h.mu.Unlock()
}

func (h *Hub) measured(viewerID string, m avsync.Measurement) {
	h.mu.Lock()
	f := h.onMeasurement
	h.mu.Unlock()
	if f != nil {
		f(viewerID, m)
	}
}

// Measurements is a copy of the rows a live viewer's page has sent (the
// last maxMeasurements), oldest first; nil for an unknown viewer.
func (h *Hub) Measurements(viewerID string) []avsync.Measurement {
	if v := h.viewer(viewerID); v != nil {
		return v.measurements()
	}
	return nil
}

// Sync is the sync channel state of a live viewer; ok is false for an
// unknown viewer.
func (h *Hub) Sync(viewerID string) (info SyncInfo, ok bool) {
	if v := h.viewer(viewerID); v != nil {
		return v.info(), true
	}
	return SyncInfo{}, false
}

// viewerSync is one viewer's end of the sync channel, on any transport.
type viewerSync struct {
	id      string
	h       *Hub
	ctx     context.Context // ends when the viewer closes
	cancel  context.CancelFunc
	clock   avsync.ClockSync
	out     chan []byte
	bad     atomic.Int64
	dropped atomic.Int64
	open    atomic.Bool
	pending atomic.Int32 // messages queued and not yet handed to the channel
	started atomic.Bool

	mu        sync.Mutex
	attached  bool          // a DataChannel is the viewer's sync channel
	buffered  func() uint64 // bytes the transport has yet to send (nil: none it tells of)
	rows      []avsync.Measurement
	lastStats avsync.Stats
}

func (h *Hub) newViewerSync(id string) *viewerSync {
	ctx, cancel := context.WithCancel(h.ctx)
	return &viewerSync{id: id, h: h, ctx: ctx, cancel: cancel, out: make(chan []byte, syncOutbox),
		lastStats: avsync.UnknownStats()}
}

// opened starts talking to the page once its channel is open: send writes
// one message, called in order from one goroutine until the viewer
// closes. Later calls only mark the channel open again.
func (vs *viewerSync) opened(send func([]byte) error) {
	vs.open.Store(true)
	if vs.started.Swap(true) {
		return
	}
	go vs.write(send)
	go vs.ping()
}

// attach takes dc as the viewer's sync channel (the first one only).
func (vs *viewerSync) attach(dc *webrtc.DataChannel) {
	vs.mu.Lock()
	if vs.attached {
		vs.mu.Unlock()
		vs.h.log.Warn("viewer opened a second sync channel; ignored", "viewer", vs.id)
		_ = dc.Close()
		return
	}
	vs.attached = true
	vs.buffered = dc.BufferedAmount
	vs.mu.Unlock()
	dc.OnOpen(func() {
		vs.h.log.Info("sync channel open", "viewer", vs.id)
		vs.opened(func(b []byte) error { return dc.SendText(string(b)) })
	})
	dc.OnClose(func() { vs.open.Store(false) })
	dc.OnMessage(func(msg webrtc.DataChannelMessage) { vs.receive(msg.Data) })
}

// write sends queued messages in order until the viewer closes.
func (vs *viewerSync) write(send func([]byte) error) {
	for {
		select {
		case <-vs.ctx.Done():
			return
		case b := <-vs.out:
			if err := send(b); err != nil {
				vs.h.log.Debug("sync channel send", "viewer", vs.id, "err", err)
			}
			vs.pending.Add(-1)
		}
	}
}

// ping probes the clock once per pingEvery, on absolute deadlines.
func (vs *viewerSync) ping() {
	clk := vs.h.clock
	start := clk.Now()
	for i := int64(0); ; i++ {
		if err := clk.SleepUntil(vs.ctx, start+time.Duration(i)*pingEvery); err != nil {
			return
		}
		vs.send(avsync.NewPing(i, vs.h.appMS(), &vs.clock))
	}
}

// send queues v as JSON without blocking; a full outbox drops it.
func (vs *viewerSync) send(v any) {
	if !vs.open.Load() {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		vs.h.log.Error("sync message", "err", err)
		return
	}
	vs.pending.Add(1)
	select {
	case vs.out <- b:
	default:
		vs.pending.Add(-1)
		vs.dropped.Add(1)
	}
}

// receive handles one page message. Anything malformed or oversized is
// counted and dropped (avsync.DecodePageMessage enforces the limit).
func (vs *viewerSync) receive(b []byte) {
	at := vs.h.appMS()
	msg, err := avsync.DecodePageMessage(b)
	if err != nil {
		if n := vs.bad.Add(1); n <= 10 || n%1000 == 0 {
			vs.h.log.Warn("dropped a bad sync message", "viewer", vs.id, "bad", n, "err", err)
		}
		return
	}
	switch m := msg.(type) {
	case avsync.Hello: // the transport's business
	case avsync.Pong:
		vs.clock.AddPong(m, at)
	case avsync.StatsMsg:
		vs.mu.Lock()
		vs.lastStats = m.Stats
		vs.mu.Unlock()
	case avsync.Measurement:
		m.AtMS = avsync.Opt(at)
		vs.mu.Lock()
		if len(vs.rows) >= maxMeasurements {
			vs.rows = slices.Delete(vs.rows, 0, len(vs.rows)/10) // amortised
		}
		vs.rows = append(vs.rows, m)
		vs.mu.Unlock()
		vs.h.measured(vs.id, m)
	}
}

// flushed reports whether everything queued has been handed to the
// transport and sent (or the channel is not open).
func (vs *viewerSync) flushed() bool {
	vs.mu.Lock()
	buffered := vs.buffered
	vs.mu.Unlock()
	return !vs.open.Load() || (vs.pending.Load() == 0 && (buffered == nil || buffered() == 0))
}

func (vs *viewerSync) info() SyncInfo {
	off, ok := vs.clock.Offset()
	rtt, _ := vs.clock.RTT()
	si := SyncInfo{Open: vs.open.Load(), BadMessages: vs.bad.Load(), OutDropped: vs.dropped.Load(),
		ClockOffsetMS: avsync.Unknown(), RTTMS: avsync.Unknown()}
	if ok {
		si.ClockOffsetMS, si.RTTMS = avsync.Opt(off), avsync.Opt(rtt)
	}
	vs.mu.Lock()
	si.Rows = len(vs.rows)
	si.LastStats = vs.lastStats
	vs.mu.Unlock()
	return si
}

func (vs *viewerSync) measurements() []avsync.Measurement {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	return slices.Clone(vs.rows)
}
