package rtc_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"segcast/bench"
	"segcast/engine"
	"segcast/engine/pattern"
	"segcast/rtc"
	"segcast/rtc/internal/rtctest"
)

// BenchmarkStream720p30 streams the 720p30 pattern on the wall clock to
// N in-process pion viewers and reports CPU seconds per media second
// (the whole process: loop, pattern rendering, encoders, packetising,
// SRTP for every viewer, and the receivers' own decryption), and the
// send-time error percentiles. viewers=0 is the loop alone (no encoding).
// Run with -benchtime=1x; each iteration is benchSeconds of media.
func BenchmarkStream720p30(b *testing.B) {
	for _, n := range []int{0, 1, 5, 20} {
		b.Run(fmt.Sprintf("viewers=%d", n), func(b *testing.B) {
			for range b.N {
				benchStream(b, n, false)
			}
		})
	}
}

// BenchmarkStream720p30Sender is the same with the viewers in a child
// process (this test binary re-run as TestHelperReceiverFarm), so the
// CPU measured is the sender's alone.
func BenchmarkStream720p30Sender(b *testing.B) {
	for _, n := range []int{1, 5, 20} {
		b.Run(fmt.Sprintf("viewers=%d", n), func(b *testing.B) {
			for range b.N {
				benchStream(b, n, true)
			}
		})
	}
}

func benchStream(b *testing.B, viewers int, farm bool) {
	const w, h = 1280, 720
	var (
		mu        sync.Mutex
		measuring bool
		errs      = map[string][]time.Duration{}
	)
	onSent := func(item rtc.SentItem) {
		mu.Lock()
		if measuring {
			errs[item.Kind.String()] = append(errs[item.Kind.String()], item.Wrote-item.Deadline)
		}
		mu.Unlock()
	}
	clock := engine.NewWallClock()
	loop := engine.NewLoop(engine.LoopConfig{Rate: engine.Rate30, Width: w, Height: h, Clock: clock, Lead: rtc.EncodeLead})
	loop.Add(pattern.New(w, h, engine.Rate30, 10*time.Minute))
	loop.Play()
	sess, err := rtc.NewSession(rtc.Config{Width: w, Height: h, Rate: engine.Rate30, Clock: clock, LoopbackOnly: true,
		Observers: []rtc.Observer{rtctest.Observer{OnSent: onSent}}})
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	remove := loop.AddSink(sess)
	defer remove()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute+2*bench.Span(10*time.Second))
	defer cancel()
	loopDone := make(chan struct{})
	go func() { defer close(loopDone); _ = loop.Run(ctx) }()
	defer func() { cancel(); <-loopDone }()

	var rxs []*rtctest.Receiver
	var farmDone func() []int
	if farm {
		farmDone = startFarm(b, ctx, sess, viewers)
	} else {
		for range viewers {
			rx := rtctest.NewReceiver(b, false)
			rtctest.Connect(b, ctx, sess, rx)
			rxs = append(rxs, rx)
		}
	}
	// Let keyframes and bandwidth estimation settle before measuring.
	time.Sleep(2 * time.Second)
	mu.Lock()
	measuring = true
	mu.Unlock()
	before, start := sess.Stats(), time.Now()
	cpu0 := bench.ProcessCPU()
	time.Sleep(bench.Span(10 * time.Second))
	cpu := bench.ProcessCPU() - cpu0
	media := time.Since(start)
	after := sess.Stats()
	mu.Lock()
	measuring = false
	video, audio := rtc.PercentilesOf(errs["video"]), rtc.PercentilesOf(errs["audio"])
	mu.Unlock()

	b.ReportMetric(cpu.Seconds()/media.Seconds(), "cpu-s/media-s")
	b.ReportMetric(float64(video.P50)/1e6, "video-err-p50-ms")
	b.ReportMetric(float64(video.P99)/1e6, "video-err-p99-ms")
	b.ReportMetric(float64(audio.P50)/1e6, "audio-err-p50-ms")
	b.ReportMetric(float64(audio.P99)/1e6, "audio-err-p99-ms")
	b.ReportMetric(float64(after.LateVideo-before.LateVideo+after.LateAudio-before.LateAudio), "late-items")
	b.ReportMetric(float64(after.VideoBytes-before.VideoBytes)*8/media.Seconds()/1e3, "video-kbps")
	var got []int
	for _, rx := range rxs {
		f, _ := rx.Counts()
		got = append(got, f)
	}
	if farm {
		got = farmDone()
	}
	for i, f := range got {
		if f == 0 {
			b.Errorf("viewer %d received no frames", i)
		}
	}
	ls := loop.Stats()
	b.Logf("viewers=%d media %.1fs cpu %.2fs; video err %+v; audio err %+v; loop skipped %d late audio %d; bitrate %d",
		viewers, media.Seconds(), cpu.Seconds(), video, audio, ls.SkippedVideo, ls.LateAudio, after.BitrateBps)
}

// startFarm runs n receivers in a child process and connects them; the
// returned func ends the child and returns each receiver's frame count.
func startFarm(b *testing.B, ctx context.Context, sess *rtc.Session, n int) func() []int {
	child := bench.StartChild(b, ctx, "TestHelperReceiverFarm", "SEGCAST_RX_FARM="+strconv.Itoa(n))
	out := child.Out
	out.Buffer(nil, rtc.MaxSignalBytes)
	for range n {
		if !out.Scan() {
			b.Fatalf("receiver farm: %v", out.Err())
		}
		_, answer, err := sess.Answer(ctx, out.Text())
		if err != nil {
			b.Fatal(err)
		}
		fmt.Fprintln(child.Stdin, answer)
	}
	for range n { // one "connected" line each
		if !out.Scan() {
			b.Fatalf("receiver farm: %v", out.Err())
		}
	}
	return func() []int { return child.Counts(n) }
}

// TestHelperReceiverFarm is not a test: startFarm runs it in a child
// process to host receivers. It offers for each, reads the answers,
// reports connections, and on EOF prints each receiver's frame count.
func TestHelperReceiverFarm(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv("SEGCAST_RX_FARM"))
	if err != nil {
		t.Skip("only run by BenchmarkStream720p30Sender")
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(nil, rtc.MaxSignalBytes)
	rxs := make([]*rtctest.Receiver, n)
	for i := range rxs {
		rxs[i] = rtctest.NewReceiver(t, false)
		fmt.Println(rxs[i].Offer(t))
		if !in.Scan() {
			t.Fatal("farm: no answer")
		}
		rxs[i].Accept(t, in.Text())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, rx := range rxs {
		rx.WaitConnected(t, ctx)
		fmt.Println("connected")
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, rx := range rxs {
		f, _ := rx.Counts()
		fmt.Println(f)
	}
}
