package rtc

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"segcast/rtc/measure/avsync"
)

// The sync channel: every viewer's PeerConnection carries a DataChannel
// "segcast-sync" on which the app pings its clock (the loop's), tells
// when each flash frame of the sync pattern was written, and receives the
// viewer page's A/V measurements (formats: rtc/avsync/messages.go).

// SyncChannelLabel names the DataChannel. Whichever side offers creates
// it: the app in Session.Offer, the page when it offers (WHEP, paste).
const SyncChannelLabel = "segcast-sync"

const (
	// pingEvery is the clock probe period the page's latency needs.
	pingEvery = time.Second
	// syncOutbox bounds messages waiting for the DataChannel: a viewer
	// that cannot keep up loses messages, the sender never waits.
	syncOutbox = 128
	// maxMeasurements bounds the rows kept per viewer: ten hours at one
	// flash a second.
	maxMeasurements = 36_000
	// sendErrKeep is how many send-time errors the report ring keeps per
	// track: ten minutes of audio (50 chunks/s) or of 60 fps video.
	sendErrKeep = 36_000
	// patternIndexMask: the pattern draws its frame index mod 2^24.
	patternIndexMask = 1<<24 - 1
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

// viewerSync is one viewer's end of the sync channel.
type viewerSync struct {
	viewerID string
	s        *Session
	ctx      context.Context // ends when the viewer closes
	clock    avsync.ClockSync
	out      chan []byte
	bad      atomic.Int64
	dropped  atomic.Int64
	open     atomic.Bool

	mu        sync.Mutex
	dc        *webrtc.DataChannel
	rows      []avsync.Measurement
	lastStats avsync.Stats
}

func newViewerSync(s *Session, viewerID string, ctx context.Context) *viewerSync {
	return &viewerSync{viewerID: viewerID, s: s, ctx: ctx, out: make(chan []byte, syncOutbox),
		lastStats: avsync.UnknownStats()}
}

// appMS is the loop clock in ms: the app time of every sync message.
func (vs *viewerSync) appMS() float64 {
	return float64(vs.s.clock.Now()) / float64(time.Millisecond)
}

// attach takes dc as the viewer's sync channel (the first one only).
func (vs *viewerSync) attach(dc *webrtc.DataChannel) {
	vs.mu.Lock()
	if vs.dc != nil {
		vs.mu.Unlock()
		vs.s.log.Warn("viewer opened a second sync channel; ignored", "viewer", vs.viewerID)
		_ = dc.Close()
		return
	}
	vs.dc = dc
	vs.mu.Unlock()
	dc.OnOpen(func() {
		if vs.open.Swap(true) {
			return
		}
		vs.s.log.Info("sync channel open", "viewer", vs.viewerID)
		go vs.write(dc)
		go vs.ping()
	})
	dc.OnClose(func() { vs.open.Store(false) })
	dc.OnMessage(func(msg webrtc.DataChannelMessage) { vs.receive(msg.Data) })
}

// write sends queued messages in order until the viewer closes.
func (vs *viewerSync) write(dc *webrtc.DataChannel) {
	for {
		select {
		case <-vs.ctx.Done():
			return
		case b := <-vs.out:
			if err := dc.SendText(string(b)); err != nil {
				vs.s.log.Debug("sync channel send", "viewer", vs.viewerID, "err", err)
			}
		}
	}
}

// ping probes the clock once per pingEvery, on absolute deadlines.
func (vs *viewerSync) ping() {
	clk := vs.s.clock
	start := clk.Now()
	for i := int64(0); ; i++ {
		if err := clk.SleepUntil(vs.ctx, start+time.Duration(i)*pingEvery); err != nil {
			return
		}
		vs.send(avsync.NewPing(i, vs.appMS(), &vs.clock))
	}
}

// send queues v as JSON without blocking; a full outbox drops it.
func (vs *viewerSync) send(v any) {
	if !vs.open.Load() {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		vs.s.log.Error("sync message", "err", err)
		return
	}
	select {
	case vs.out <- b:
	default:
		vs.dropped.Add(1)
	}
}

// receive handles one page message. Anything malformed or oversized is
// counted and dropped (avsync.DecodePageMessage enforces the limit).
func (vs *viewerSync) receive(b []byte) {
	at := vs.appMS()
	msg, err := avsync.DecodePageMessage(b)
	if err != nil {
		if n := vs.bad.Add(1); n <= 10 || n%1000 == 0 {
			vs.s.log.Warn("dropped a bad sync message", "viewer", vs.viewerID, "bad", n, "err", err)
		}
		return
	}
	switch m := msg.(type) {
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
		vs.s.measured(vs.viewerID, m)
	}
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

// flashSent tells every viewer when pattern frame k was written (clock
// time wrote). Called by the video sender: never blocks.
func (s *Session) flashSent(k int64, wrote time.Duration) {
	f := avsync.NewFrame(k, float64(wrote)/float64(time.Millisecond))
	for _, v := range s.viewerList() {
		v.sync.send(f)
	}
}

// mapEvery is how often viewers are told the video RTP ↔ wall clock
// pair: often enough to follow a pause or seek within a second.
const mapEvery = time.Second

// videoWritten sends every viewer a map message (video RTP timestamp ↔
// wall time) at most once per mapEvery. Called by the video sender.
func (s *Session) videoWritten(ts uint32, wall time.Time) {
	last, now := s.lastMap.Load(), wall.UnixNano()
	if now-last < int64(mapEvery) || !s.lastMap.CompareAndSwap(last, now) {
		return
	}
	m := avsync.NewMap(ts, float64(now)/float64(time.Millisecond))
	for _, v := range s.viewerList() {
		v.sync.send(m)
	}
}

// measured passes a row to the OnMeasurement callback.
func (s *Session) measured(viewerID string, m avsync.Measurement) {
	s.mu.Lock()
	f := s.onMeasurement
	s.mu.Unlock()
	if f != nil {
		f(viewerID, m)
	}
}

// OnMeasurement sets f to be called (from a pion goroutine; f must not
// block long) with every A/V measurement a viewer page sends. AtMS is the
// loop clock, in ms, when the row arrived.
func (s *Session) OnMeasurement(f func(viewerID string, m avsync.Measurement)) {
	s.mu.Lock()
	s.onMeasurement = f
	s.mu.Unlock()
}

// Measurements is a copy of the rows a live viewer's page has sent (the
// last maxMeasurements), oldest first; nil for an unknown viewer.
func (s *Session) Measurements(viewerID string) []avsync.Measurement {
	for _, v := range s.viewerList() {
		if v.id == viewerID {
			return v.sync.measurements()
		}
	}
	return nil
}

// Sync is the sync channel state of a live viewer; ok is false for an
// unknown viewer.
func (s *Session) Sync(viewerID string) (info SyncInfo, ok bool) {
	for _, v := range s.viewerList() {
		if v.id == viewerID {
			return v.sync.info(), true
		}
	}
	return SyncInfo{}, false
}

// SendErrors returns the recent send-time errors (actual write −
// deadline) in ms, audio and video, up to about ten minutes of each, for
// avsync.NewSendError.
func (s *Session) SendErrors() (audioMS, videoMS []float64) {
	toMS := func(ds []time.Duration) []float64 {
		out := make([]float64, len(ds))
		for i, d := range ds {
			out[i] = float64(d) / float64(time.Millisecond)
		}
		return out
	}
	return toMS(s.audio.longErrs.all()), toMS(s.video.longErrs.all())
}
