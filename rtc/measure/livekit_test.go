//go:build linux

package measure

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"

	"segcast/engine"
	"segcast/engine/pattern"
	"segcast/rtc"
	"segcast/rtc/internal/chromium"
	"segcast/rtc/internal/rtctest"
	"segcast/rtc/measure/avsync"
	"segcast/rtc/publish"
	"segcast/rtc/publish/lkserver"
)

// fakePage is a server-sdk-go participant playing the LiveKit viewer
// page's part on the sync topic: it records what it is sent and can send
// anything to the publisher.
type fakePage struct {
	room *lksdk.Room
	mu   sync.Mutex
	msgs []map[string]any
	raw  int // messages on the topic that were not JSON objects
}

func joinFakePage(t *testing.T, url, room, identity string) *fakePage {
	t.Helper()
	fp := &fakePage{}
	cb := lksdk.NewRoomCallback()
	cb.OnDataPacket = func(d lksdk.DataPacket, _ lksdk.DataReceiveParams) {
		u, ok := d.(*lksdk.UserDataPacket)
		if !ok || u.Topic != SyncTopic {
			return
		}
		var v map[string]any
		fp.mu.Lock()
		defer fp.mu.Unlock()
		if json.Unmarshal(u.Payload, &v) != nil {
			fp.raw++
			return
		}
		fp.msgs = append(fp.msgs, v)
	}
	fp.room = lksdk.NewRoom(cb)
	// A token that may publish, so also data.
	if err := fp.room.JoinWithToken(url, lkserver.Token(t, room, identity, true), lksdk.WithAutoSubscribe(false)); err != nil {
		t.Fatalf("%s: join: %v", identity, err)
	}
	t.Cleanup(fp.room.Disconnect)
	return fp
}

func (fp *fakePage) send(t *testing.T, to string, topic string, payload []byte) {
	t.Helper()
	if err := fp.room.LocalParticipant.PublishDataPacket(&lksdk.UserDataPacket{Payload: payload, Topic: topic},
		lksdk.WithDataPublishReliable(true), lksdk.WithDataPublishDestination([]string{to})); err != nil {
		t.Fatal(err)
	}
}

func (fp *fakePage) all(typ string) []map[string]any {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	var out []map[string]any
	for _, m := range fp.msgs {
		if m["t"] == typ {
			out = append(out, m)
		}
	}
	return out
}

// first waits up to d for a message of type typ.
func (fp *fakePage) first(t *testing.T, typ string, d time.Duration) map[string]any {
	t.Helper()
	var m map[string]any
	waitFor(t, d, fmt.Sprintf("a %q message", typ), func() bool {
		if all := fp.all(typ); len(all) > 0 {
			m = all[0]
			return true
		}
		return false
	})
	return m
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Over a real LiveKit server: a participant is talked to only after it
// says hello, then gets pings, flash frames (with their RTP timestamps)
// and maps addressed to it alone; its pongs set the clock and its rows
// are kept; strangers' messages, and a page's malformed, oversized or
// binary ones, are dropped and counted; other topics are not ours.
func TestLiveKitSyncMessages(t *testing.T) {
	rtctest.RequireNetns(t)
	c := lkserver.Start(t, lkserver.Options{})
	var hub *Hub
	var bases videoBase
	rig := rtctest.NewRig(t, 320, 180, 30*time.Second, withHub(t, &hub),
		rtctest.WithObservers(rtctest.Observer{OnSent: bases.sent}))
	stop := rig.Run(t)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	room := randomName("sync-")
	p, err := publish.PublishLiveKit(ctx, rig.Sess, publish.LiveKitOptions{URL: c.Nodes[0].URL,
		APIKey: lkserver.APIKey, APISecret: lkserver.APISecret, Room: room})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	lks := hub.ServeLiveKit(p)
	defer lks.Close()
	pub := p.Identity()

	page := joinFakePage(t, c.Nodes[0].URL, room, "page")
	bystander := joinFakePage(t, c.Nodes[0].URL, room, "bystander")
	// A participant's first data message right after it joined may be
	// lost in the server (the page says hello again until answered).
	time.Sleep(3 * time.Second)
	// Before hello, a good pong is a stranger's; another topic is not ours.
	page.send(t, pub, SyncTopic, []byte(`{"t":"pong","id":0,"app_ms":1,"page_rx_ms":2,"page_tx_ms":3}`))
	page.send(t, pub, "chat", []byte(`{"t":"hello"}`))
	bystander.send(t, pub, SyncTopic, []byte(`{"t":"m","flash_index":30,"video_ms":1,"audio_ms":2}`))
	waitFor(t, 10*time.Second, "two strangers counted", func() bool { return lks.Strangers() == 2 })
	if n := lks.Pages(); n != 0 {
		t.Fatalf("%d pages before any hello", n)
	}

	page.send(t, pub, SyncTopic, []byte(`{"t":"hello"}`))
	ping := page.first(t, "ping", 10*time.Second)
	frame := page.first(t, "frame", 5*time.Second)
	page.first(t, "map", 5*time.Second)
	if k, _ := frame["k"].(float64); int64(k)%30 != 0 {
		t.Errorf("frame message for k %v: not a flash frame of the 30 fps pattern", frame["k"])
	}
	if rtp, ok := frame["rtp"].(float64); !ok || (uint32(rtp)-bases.get())%3000 != 0 {
		t.Errorf("frame rtp %v is not the video track's base %d plus whole frames", frame["rtp"], bases.get())
	}
	appMS := ping["app_ms"].(float64)
	page.send(t, pub, SyncTopic, fmt.Appendf(nil, `{"t":"pong","id":%v,"app_ms":%v,"page_rx_ms":%v,"page_tx_ms":%v}`,
		ping["id"], appMS, appMS+5000.2, appMS+5000.4))

	bad := [][]byte{
		[]byte("not json"),
		[]byte(`{"t":"zzz"}`),
		[]byte(`{"t":"m","flash_index":30,"video_ms":1000,"audio_ms":1010,"offset_ms":-10}`),
		append([]byte(`{"t":"stats","page_ms":1}`), strings.Repeat(" ", avsync.MaxMessageBytes)...),
		{0xff, 0x00, 0x13},
	}
	for _, b := range bad {
		page.send(t, pub, SyncTopic, b)
	}
	page.send(t, pub, SyncTopic, []byte(`{"t":"m","flash_index":60,"video_ms":1000,"audio_ms":1012.5,"latency_ms":55,"at_ms":1}`))
	id := LiveKitViewerID("page")
	var info SyncInfo
	waitFor(t, 10*time.Second, "the row and the bad messages counted", func() bool {
		info, _ = hub.Sync(id)
		return info.Rows == 1 && info.BadMessages == int64(len(bad))
	})
	// The fake page stamps its pong as received 5000 ms after the ping
	// left, however late it answers: the estimate is within RTT/2 of it.
	if !info.Open || !info.ClockOffsetMS.Known() || !info.RTTMS.Known() ||
		math.Abs(float64(info.ClockOffsetMS)-5000) > float64(info.RTTMS)/2+1 {
		t.Errorf("sync %+v: want open, clock offset 5000 ms ± RTT/2 from the pong", info)
	}
	rows := hub.Measurements(id)
	if len(rows) != 1 || rows[0].OffsetMS != 12.5 || !rows[0].AtMS.Known() || rows[0].AtMS == 1 {
		t.Errorf("rows %+v: want the one row with the app's arrival time", rows)
	}
	if n := lks.Strangers(); n != 2 {
		t.Errorf("%d strangers counted, want 2 (the page's later messages are its own)", n)
	}
	// The app's messages went to the page alone.
	time.Sleep(1500 * time.Millisecond)
	if n := len(bystander.all("ping")) + len(bystander.all("frame")) + len(bystander.all("map")); n != 0 {
		t.Errorf("the bystander, who never said hello, got %d sync messages", n)
	}
	if pings := page.all("ping"); len(pings) < 2 || !slices.ContainsFunc(pings, func(m map[string]any) bool { return m["offset_ms"] != nil }) {
		t.Errorf("pings %v: want one a second, carrying the clock offset once known", pings)
	}
}

// TestMeasureThroughLiveKit runs `segcast measure --livekit` as the
// command does: the pattern published into a room of a real LiveKit
// server, played by headless Chromium on the LiveKit viewer page, the
// sync messages and rows over data messages. Rows arrive with latencies;
// the page learns the SFU's RTP offset, so its timing-only timeline
// agrees with its flash/beep measurement, and the trim runs.
func TestMeasureThroughLiveKit(t *testing.T) {
	if testing.Short() {
		t.Skip("a 30 s run in Chromium")
	}
	rtctest.RequireNetns(t)
	if _, err := os.Stat(chromium.DefaultPath); err != nil {
		rtctest.Missing(t, fmt.Sprintf("%s (Debian package chromium): %v", chromium.DefaultPath, err))
	}
	c := lkserver.Start(t, lkserver.Options{})
	clock := engine.NewWallClock()
	loop := engine.NewLoop(engine.LoopConfig{Rate: engine.Rate30, Width: rtctest.BrowserW, Height: rtctest.BrowserH,
		Clock: clock, Lead: rtc.EncodeLead})
	loop.Add(pattern.New(rtctest.BrowserW, rtctest.BrowserH, engine.Rate30, time.Minute))
	loop.SetLoop(true)
	logs := &rtctest.LogBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	r, err := Run(ctx, loop, Options{
		Config:   rtc.Config{Width: rtctest.BrowserW, Height: rtctest.BrowserH, Rate: engine.Rate30, Clock: clock},
		Duration: measureFor, Settle: measureSettle, OutDir: dir,
		LiveKit: &publish.LiveKitOptions{URL: c.Nodes[0].URL, APIKey: lkserver.APIKey, APISecret: lkserver.APISecret},
		Log:     slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("Measure through LiveKit: %v\nlog:\n%s", err, logs)
	}
	t.Logf("%s", r.OneLine())
	for _, m := range r.Measurements {
		t.Logf("  k %4d offset %6.1f timeline %6.1f trim a %5.1f v %5.1f latency %6.1f jb %5.1f", m.FlashIndex,
			float64(m.OffsetMS), float64(m.TimelineMS), float64(m.TrimAudioMS), float64(m.TrimVideoMS),
			float64(m.LatencyMS), float64(m.JitterBufferMS))
	}
	if r.Offset.Samples < int(measureFor/time.Second)/2 {
		t.Fatalf("only %d rows in %v of measuring; log:\n%s", r.Offset.Samples, measureFor, logs)
	}
	checkRows(t, r, true)
	withLatency := 0
	for _, m := range r.Measurements {
		if m.LatencyMS.Known() {
			withLatency++
			if m.LatencyMS <= 0 || m.LatencyMS > 2000 {
				t.Errorf("row for frame %d: latency %v ms, not a send-to-present time", m.FlashIndex, m.LatencyMS)
			}
		}
	}
	if withLatency < r.Offset.Samples/2 {
		t.Errorf("%d of %d rows have a latency: the page lacks the clock or the frame send times", withLatency, r.Offset.Samples)
	}
	// The timeline puts the frame on screen on the sender's clock through
	// the map moved by the learnt RTP offset: a frame's worth of error in
	// the offset would show as 33 ms here.
	d := medianOf(r.Measurements, func(m avsync.Measurement) float64 { return float64(m.TimelineMS - m.OffsetMS) })
	if math.IsNaN(d) || math.Abs(d) > liveKitTimelineTolerance {
		t.Errorf("timeline − offset median %.1f ms, want within ±%.0f ms: the page's map is not on the SFU's timestamps", d, liveKitTimelineTolerance)
	}
	if !strings.Contains(logs.String(), "livekit sync: page said hello") {
		t.Errorf("no hello in the log:\n%s", logs)
	}
	checkReportFiles(t, dir)
}

// liveKitTimelineTolerance bounds timeline − offset through the SFU, whose
// Sender Reports carry ours forward (seen: within ±N ms).
const liveKitTimelineTolerance = 10.0

// FuzzLiveKitSyncReceive feeds three data messages from participants
// chosen by the fuzzer to the LiveKit transport: it never panics; a
// participant becomes a page only by a hello while it is none; every other
// message from a non-page is a stranger's, counted; a page's messages are
// taken or counted bad exactly as the one decoder says, and its rows carry
// the app's arrival time. Then a silent page is forgotten.
func FuzzLiveKitSyncReceive(f *testing.F) {
	f.Add(uint8(0), []byte(`{"t":"hello"}`), []byte(`{"t":"m","flash_index":30,"video_ms":1,"audio_ms":2}`), []byte("junk"))
	f.Add(uint8(0b100100), []byte(`{"t":"pong","id":1,"app_ms":1,"page_rx_ms":2,"page_tx_ms":3}`), []byte(`{"t":"hello"}`),
		[]byte(`{"t":"pong","id":1,"app_ms":1,"page_rx_ms":2,"page_tx_ms":3}`))
	f.Add(uint8(0b010000), []byte(`{"t":"hello"} `), []byte(`{"t":"hello","x":1}`), []byte(`{"t":"hello"}{}`))
	f.Fuzz(func(t *testing.T, senders uint8, a, b, c []byte) {
		// The wall clock: pages ping on it, and a fake one would run away.
		clock := engine.NewWallClock()
		hub := NewHub(clock, nil)
		defer hub.Close()
		s := hub.newLiveKitSync(func([]byte, string) error { return nil })
		defer s.Close()
		pages := map[string]bool{}
		var strangers int64
		bad := map[string]int64{}
		before := msOf(clock.Now())
		for i, payload := range [][]byte{a, b, c} {
			from := fmt.Sprintf("p%d", senders>>(2*i)&3)
			msg, err := avsync.DecodePageMessage(payload)
			switch {
			case pages[from] && err != nil:
				bad[from]++
			case !pages[from] && err == nil && msg == (avsync.Hello{}):
				pages[from] = true
			case !pages[from]:
				strangers++
			}
			s.receive(from, payload)
		}
		after := msOf(clock.Now())
		if s.Strangers() != strangers || s.Pages() != len(pages) {
			t.Fatalf("strangers %d pages %d, want %d and %d", s.Strangers(), s.Pages(), strangers, len(pages))
		}
		for from := range pages {
			info, ok := hub.Sync(LiveKitViewerID(from))
			if !ok || !info.Open || info.BadMessages != bad[from] {
				t.Fatalf("page %s: %+v (known %v), want open with %d bad", from, info, ok, bad[from])
			}
			for _, m := range hub.Measurements(LiveKitViewerID(from)) {
				if float64(m.AtMS) < before || float64(m.AtMS) > after {
					t.Fatalf("row at_ms %v, want the app's arrival time in [%v, %v]", float64(m.AtMS), before, after)
				}
			}
		}
		// Silent past pageSilence: forgotten.
		s.forget(clock.Now() + pageSilence + time.Millisecond)
		if s.Pages() != 0 {
			t.Fatalf("%d silent pages kept", s.Pages())
		}
		for from := range pages {
			if _, ok := hub.Sync(LiveKitViewerID(from)); ok {
				t.Fatalf("forgotten page %s still known to the hub", from)
			}
		}
	})
}
