package share

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"segcast/engine"
	"segcast/rtc"
	"segcast/rtc/internal/rtctest"
)

// A viewer in headless Chromium watches `segcast serve` while a producer
// pushes live segments back to back (25 and 30 fps sources, 16, 24 and
// 48 kHz sound): playback never stalls or freezes at the boundaries.
func TestBrowserLivePushPlaysWithoutFreezes(t *testing.T) {
	w, h := rtctest.BrowserW, rtctest.BrowserH
	clips := []clip{ // made before the browser's one minute starts
		newClip(w, h, engine.Rate25, 24000, 2500*time.Millisecond).withBGR(),
		newClip(w, h, engine.Rate30, 16000, 1700*time.Millisecond).withBGR(),
		newClip(w, h, engine.Rate25, 48000, 900*time.Millisecond).withBGR(),
	}
	ctx := rtctest.StartChromium(t)
	clock := engine.NewWallClock()
	// Between segments (under -race the producer is slower than real
	// time) the idle picture shows: a pattern frame, not the dark idle
	// card, so that the check for a black picture stays meaningful.
	loop := engine.NewLoop(engine.LoopConfig{Rate: engine.Rate30, Width: w, Height: h, Clock: clock, Lead: rtc.EncodeLead, IdleLead: rtc.IdleEncodeLead,
		Idle: clips[0].frames[1]})
	pr, pw := io.Pipe()
	serveCtx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	type started struct {
		sess *rtc.Session
		ctl  *Control
	}
	hook := make(chan started, 1)
	go func() {
		opt := ServeOptions{Config: rtctest.BrowserConfig(clock, w, h), Addr: "127.0.0.1:0", Out: pw}
		served <- serveWithHook(serveCtx, loop, opt, func(s *rtc.Session, c *Control) { hook <- started{s, c} })
		pw.Close()
	}()
	defer func() {
		stop()
		pr.Close()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	rd := bufio.NewReader(pr)
	pageURL := readServeLine(t, rd)
	go io.Copy(io.Discard, rd)
	st := <-hook

	// The producer runs from before the page joins until the watch ends.
	p := dialLive(t, &ctlRig{url: st.ctl.URL()})
	var pushed atomic.Int64
	pushCtx, stopPush := context.WithCancel(context.Background())
	pushDone := make(chan error, 1)
	go func() {
		for i := 0; pushCtx.Err() == nil; i++ {
			if err := p.push(clips[i%len(clips)], fmt.Sprintf("live %d", i), nil, nil); err != nil {
				pushDone <- err
				return
			}
			pushed.Add(1)
		}
		pushDone <- nil
	}()
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatalf("open %s: %v", pageURL, err)
	}
	rtctest.WaitPageConnected(ctx, t, 10*time.Second)
	samples := rtctest.WatchPlayback(ctx, t, rtctest.BrowserWatch, rtctest.SenderLate(loop, st.sess))
	t.Logf("per second:\n%s", rtctest.FmtSamples(samples))
	stopPush()
	if err := <-pushDone; err != nil {
		t.Fatalf("producer: %v", err)
	}
	var underruns, onAir, done int
	for _, e := range st.ctl.Entries() {
		underruns += e.Underruns
		if e.Started {
			onAir++
		}
		if e.State == engine.EntryDone {
			done++
		}
		if e.State == engine.EntryFailed {
			t.Errorf("live segment %d failed: %s", e.ID, e.Err)
		}
	}
	// How many played depends on the machine (under -race the producer
	// runs far slower than real time and underruns); that one did is not.
	t.Logf("%d segments pushed, %d started, %d played out, %d underruns (sender late %d)",
		pushed.Load(), onAir, done, underruns, rtctest.SenderLate(loop, st.sess)())
	if onAir == 0 {
		t.Fatal("no live segment went on air during the watch")
	}
}
