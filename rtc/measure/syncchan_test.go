package measure

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pion/webrtc/v4"

	"segcast/engine"
	"segcast/rtc"
	"segcast/rtc/internal/rtctest"
	"segcast/rtc/measure/avsync"
)

// videoBase learns the video track's RTP timestamp base (wire − engine)
// from the items sent.
type videoBase struct {
	mu   sync.Mutex
	base uint32
}

func (b *videoBase) sent(item rtc.SentItem) {
	if item.Kind == rtc.Video {
		b.mu.Lock()
		b.base = item.RTP - item.MediaRTP
		b.mu.Unlock()
	}
}

func (b *videoBase) get() uint32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.base
}

// syncPeer is a pion peer playing the viewer page's part on the sync
// channel: it records what the app sends and can send anything back.
type syncPeer struct {
	dc   *webrtc.DataChannel
	open chan struct{}
	mu   sync.Mutex
	msgs []map[string]any
}

func newSyncPeer(t *testing.T, rx *rtctest.Receiver) *syncPeer {
	t.Helper()
	dc, err := rx.PC.CreateDataChannel(SyncChannelLabel, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &syncPeer{dc: dc, open: make(chan struct{})}
	dc.OnOpen(func() { close(p.open) })
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		var v map[string]any
		if err := json.Unmarshal(m.Data, &v); err != nil {
			t.Errorf("app sent non-JSON on the sync channel: %q", m.Data)
			return
		}
		p.mu.Lock()
		p.msgs = append(p.msgs, v)
		p.mu.Unlock()
	})
	return p
}

// first returns the first message of type typ, waiting up to d.
func (p *syncPeer) first(t *testing.T, typ string, d time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		for _, m := range p.msgs {
			if m["t"] == typ {
				p.mu.Unlock()
				return m
			}
		}
		p.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %q message from the app within %v", typ, d)
	return nil
}

// all returns the messages of type typ received so far.
func (p *syncPeer) all(typ string) []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []map[string]any
	for _, m := range p.msgs {
		if m["t"] == typ {
			out = append(out, m)
		}
	}
	return out
}

func (p *syncPeer) sendJSON(t *testing.T, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.dc.SendText(string(b)); err != nil {
		t.Fatal(err)
	}
}

// The viewer offers with the sync channel (as the page does over WHEP):
// the app pings, tells flash frames' send times, estimates the clock from
// pongs, keeps good rows with its own arrival time, and counts and drops
// everything malformed without disturbing the stream.
func TestSyncChannelPingsFramesAndDropsBadMessages(t *testing.T) {
	var hub *Hub
	var bases videoBase
	rig := rtctest.NewRig(t, 320, 180, 30*time.Second, withHub(t, &hub),
		rtctest.WithObservers(rtctest.Observer{OnSent: bases.sent}))
	var cbMu sync.Mutex
	var cbRows []avsync.Measurement
	hub.OnMeasurement(func(id string, m avsync.Measurement) {
		cbMu.Lock()
		cbRows = append(cbRows, m)
		cbMu.Unlock()
	})
	stop := rig.Run(t)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rx := rtctest.NewReceiver(t, false)
	peer := newSyncPeer(t, rx)
	v := rtctest.Connect(t, ctx, rig.Sess, rx)
	select {
	case <-peer.open:
	case <-ctx.Done():
		t.Fatal("sync channel did not open")
	}

	ping := peer.first(t, "ping", 3*time.Second)
	appMS, ok := ping["app_ms"].(float64)
	if !ok || appMS < 0 {
		t.Fatalf("ping without app_ms: %v", ping)
	}
	if now := float64(rig.Clock.Now()) / 1e6; appMS > now {
		t.Errorf("ping app_ms %.1f is after the loop clock's now %.1f", appMS, now)
	}
	// Answer as a page whose clock runs 5000 ms ahead of the app's.
	peer.sendJSON(t, map[string]any{"t": "pong", "id": ping["id"], "app_ms": appMS,
		"page_rx_ms": appMS + 5000.2, "page_tx_ms": appMS + 5000.4})

	frame := peer.first(t, "frame", 3*time.Second)
	if k, _ := frame["k"].(float64); int64(k)%30 != 0 {
		t.Errorf("frame message for k %v: not a flash frame of the 30 fps pattern", frame["k"])
	}
	if sent, _ := frame["send_ms"].(float64); sent <= 0 || sent > float64(rig.Clock.Now())/1e6 {
		t.Errorf("frame send_ms %v is not a past loop clock time", frame["send_ms"])
	}

	// Map messages tie the video's RTP timestamps (the track's base plus
	// whole 30 fps frames) to wall times, about once a second.
	peer.first(t, "map", 3*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for len(peer.all("map")) < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	maps := peer.all("map")
	if len(maps) < 2 {
		t.Fatalf("%d map messages in 5 s, want one a second", len(maps))
	}
	var rtps [2]uint32
	var walls [2]float64
	for i, m := range maps[:2] {
		rtp, _ := m["video_rtp"].(float64)
		rtps[i], walls[i] = uint32(rtp), m["wall_ms"].(float64)
		if d := rtps[i] - bases.get(); d%3000 != 0 {
			t.Errorf("map video_rtp %d is not the track's base %d plus whole frames", rtps[i], bases.get())
		}
		if age := float64(time.Now().UnixNano())/1e6 - walls[i]; age < 0 || age > 10_000 {
			t.Errorf("map wall_ms %.1f is %.1f ms before now: not a recent Unix time in ms", walls[i], age)
		}
	}
	dWall, dMedia := walls[1]-walls[0], float64(rtps[1]-rtps[0])/90
	if dWall < 900 || math.Abs(dMedia-dWall) > 500 {
		t.Errorf("consecutive maps %.1f ms of wall time and %.1f ms of video apart; want ≈ a second of each", dWall, dMedia)
	}

	bad := []string{
		"not json",
		`{"t":"m"}`,
		`{"t":"zzz","x":1}`,
		`{"t":"m","flash_index":30,"video_ms":1000,"audio_ms":1010,"offset_ms":-10}`, // sign flipped
		`{"t":"pong","id":1,"app_ms":1,"page_rx_ms":5,"page_tx_ms":4}`,               // sent before received
		`{"t":"stats","page_ms":1}` + strings.Repeat(" ", avsync.MaxMessageBytes),    // over the limit
		`{"t":"m","flash_index":30,"video_ms":1000,"audio_ms":1010} trailing`,
	}
	for _, b := range bad {
		if err := peer.dc.SendText(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := peer.dc.Send([]byte{0xff, 0x00, 0x13}); err != nil { // binary junk
		t.Fatal(err)
	}
	peer.sendJSON(t, map[string]any{"t": "m", "flash_index": 60, "video_ms": 1000.0, "audio_ms": 1012.5,
		"latency_ms": 55.0, "at_ms": 1.0, "freezes": 0})
	wantBad := int64(len(bad) + 1)

	var info SyncInfo
	deadline = time.Now().Add(5 * time.Second)
	for {
		info, ok = hub.Sync(v.ID())
		if !ok {
			t.Fatal("Sync: viewer unknown")
		}
		if (info.Rows == 1 && info.BadMessages == wantBad) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if info.Rows != 1 || info.BadMessages != wantBad {
		t.Fatalf("sync info %+v: want 1 row and %d bad messages", info, wantBad)
	}
	if !info.Open || !info.ClockOffsetMS.Known() || math.Abs(float64(info.ClockOffsetMS)-5000) > 50 {
		t.Errorf("clock offset %v after a pong 5000 ms ahead (open %v)", float64(info.ClockOffsetMS), info.Open)
	}
	rows := hub.Measurements(v.ID())
	if len(rows) != 1 {
		t.Fatalf("Measurements: %d rows, want 1", len(rows))
	}
	m := rows[0]
	if m.FlashIndex != 60 || m.OffsetMS != 12.5 || m.LatencyMS != 55 {
		t.Errorf("row %+v: want flash 60, offset 12.5, latency 55", m)
	}
	if now := float64(rig.Clock.Now()) / 1e6; !m.AtMS.Known() || float64(m.AtMS) < appMS || float64(m.AtMS) > now {
		t.Errorf("row at_ms %v: want the app's arrival time in [%.0f, %.0f], not the page's 1", float64(m.AtMS), appMS, now)
	}
	rows[0].FlashIndex = 999
	if hub.Measurements(v.ID())[0].FlashIndex != 60 {
		t.Error("Measurements returned the session's own slice, not a copy")
	}
	cbMu.Lock()
	if len(cbRows) != 1 || cbRows[0].FlashIndex != 60 {
		t.Errorf("OnMeasurement saw %+v, want the one good row", cbRows)
	}
	cbMu.Unlock()
	if hub.Measurements("nobody") != nil {
		t.Error("Measurements of an unknown viewer is not nil")
	}

	// The stream went on: more frames arrive after the junk.
	before, _ := rx.Counts()
	time.Sleep(500 * time.Millisecond)
	if after, _ := rx.Counts(); after <= before {
		t.Errorf("video stopped after the bad messages: %d → %d frames", before, after)
	}
	audioMS, videoMS := rig.Sess.SendErrors()
	if len(audioMS) == 0 || len(videoMS) == 0 {
		t.Errorf("SendErrors: %d audio, %d video, want both", len(audioMS), len(videoMS))
	}

	// Bye reaches the page with its reason before Bye returns.
	hub.Bye("the host stopped sharing", "someone-else")
	if got := peer.all("bye"); len(got) != 0 {
		t.Fatalf("a bye for another viewer arrived: %v", got)
	}
	hub.Bye("the host stopped sharing", v.ID())
	if bye := peer.first(t, "bye", 2*time.Second); bye["reason"] != "the host stopped sharing" {
		t.Errorf("bye %v: want the reason", bye)
	}
}

// When the app offers, it creates the sync channel and the answering
// viewer receives it.
func TestSyncChannelWhenAppOffers(t *testing.T) {
	var hub *Hub
	rig := rtctest.NewRig(t, 320, 180, 30*time.Second, withHub(t, &hub))
	stop := rig.Run(t)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rx := rtctest.NewReceiver(t, false)
	got := make(chan string, 4)
	rx.PC.OnDataChannel(func(dc *webrtc.DataChannel) {
		dc.OnMessage(func(m webrtc.DataChannelMessage) {
			select {
			case got <- dc.Label() + " " + string(m.Data):
			default:
			}
		})
	})
	v, offer, err := rig.Sess.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Accept(rx.Answer(t, offer)); err != nil {
		t.Fatal(err)
	}
	rx.WaitConnected(t, ctx)
	select {
	case msg := <-got:
		if !strings.HasPrefix(msg, SyncChannelLabel+" {") {
			t.Errorf("first message %q, want JSON on %q", msg, SyncChannelLabel)
		}
	case <-ctx.Done():
		t.Fatal("no message on an app-created sync channel")
	}
}

// pageSync is window.segcastSync, as the viewer page publishes it.
type pageSync struct {
	Open      bool `json:"open"`
	Measuring bool `json:"measuring"`
	Rows      int  `json:"rows"`
	Summary   *struct {
		Samples int      `json:"samples"`
		Median  *float64 `json:"median"`
	} `json:"summary"`
}

// Paste mode with the app offering: the app creates the sync channel, the
// shipped page takes it through ondatachannel, measures, shows the
// numbers and sends its rows back.
func TestBrowserPasteModeMeasuresSync(t *testing.T) {
	ctx := rtctest.StartChromium(t)
	var hub *Hub
	_, sess := rtctest.StreamPattern(t, rtctest.BrowserW, rtctest.BrowserH, withHub(t, &hub))
	pageURL := rtctest.ServePage(t)

	viewer := rtctest.ConnectPastedOffer(ctx, t, sess, pageURL)

	const want = 4
	deadline := time.Now().Add(30 * time.Second)
	var ps pageSync
	for {
		var err error
		ps, err = chromedp.Run(ctx, chromedp.Evaluate[pageSync](`window.segcastSync`))
		if err != nil {
			t.Fatal(err)
		}
		if len(hub.Measurements(viewer.ID())) >= want && ps.Rows >= want {
			break
		}
		if time.Now().After(deadline) {
			msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("error")))
			t.Fatalf("after 30 s: page sync %+v, app has %d rows; page error %q", ps, len(hub.Measurements(viewer.ID())), msg)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if !ps.Open || !ps.Measuring || ps.Summary == nil || ps.Summary.Median == nil || ps.Summary.Samples < want {
		t.Errorf("page sync state %+v: want open, measuring, a summary with a median", ps)
	}
	shown, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("sync")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(shown, "Offset, median") || !strings.Contains(shown, " ms") {
		t.Errorf("page shows %q, want the offset numbers", shown)
	}
	rows := hub.Measurements(viewer.ID())
	withLatency := 0
	for _, m := range rows {
		if m.FlashIndex%30 != 0 || !m.OffsetMS.Known() || !m.AtMS.Known() {
			t.Errorf("row %+v: want a flash frame with offset and arrival time", m)
		}
		if m.LatencyMS.Known() {
			withLatency++
		}
	}
	if withLatency == 0 {
		t.Errorf("no row has a latency: the page got no clock or frame send times (%d rows)", len(rows))
	}
	info, _ := hub.Sync(viewer.ID())
	t.Logf("%d rows, %d with latency; sync %+v", len(rows), withLatency, info)
	if info.BadMessages != 0 {
		t.Errorf("the shipped page sent %d bad messages", info.BadMessages)
	}
}

// FuzzSyncReceive feeds arbitrary page messages to a viewer's sync end:
// it never panics, and every message is either dropped and counted or
// taken (a row then carries the app's arrival time, never the page's).
func FuzzSyncReceive(f *testing.F) {
	for _, s := range []string{
		`{"t":"m","flash_index":30,"video_ms":1000,"audio_ms":1012.5,"at_ms":7}`,
		`{"t":"pong","id":1,"app_ms":1,"page_rx_ms":5,"page_tx_ms":6}`,
		`{"t":"stats","page_ms":1,"freezes":2}`,
		`{"t":"m","flash_index":-1}`, `{"t":null}`, `[]`, `{"t":"m","video_ms":1e400}`, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		clock := engine.NewFakeClock()
		clock.Advance(1234 * time.Millisecond)
		hub := &Hub{clock: clock, log: slog.New(slog.DiscardHandler), ctx: context.Background()}
		vs := hub.newViewerSync("fuzz")
		_, decodeErr := avsync.DecodePageMessage(b)
		vs.receive(b)
		info := vs.info()
		if (decodeErr != nil) != (info.BadMessages == 1) {
			t.Fatalf("decode error %v but %d counted bad", decodeErr, info.BadMessages)
		}
		for _, m := range vs.measurements() {
			if m.AtMS != 1234 {
				t.Fatalf("row at_ms %v, want the app's 1234", float64(m.AtMS))
			}
		}
	})
}
