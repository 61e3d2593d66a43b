//go:build linux

package publish

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"segcast/bench"
	"segcast/rtc/publish/lkserver"
)

// BenchmarkLiveKit720p30 publishes the 720p30 pattern into a LiveKit room
// on loopback with N server-sdk-go subscribers in a child process (this
// test binary re-run as TestHelperLiveKitSubscribers), and reports this
// process's CPU per media second (loop, pattern, encoders, the one
// publisher PeerConnection) and the server's: the SFU does the fan-out,
// so ours should stay flat. Run with -benchtime=1x.
func BenchmarkLiveKit720p30(b *testing.B) {
	for _, n := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			for range b.N {
				benchLiveKit(b, n)
			}
		})
	}
}

func benchLiveKit(b *testing.B, subscribers int) {
	c := lkserver.Start(b, lkserver.Options{})
	n := c.Nodes[0]
	r := newRig(b, 1280, 720)
	room := randomName("bench-")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute+2*bench.Span(10*time.Second))
	defer cancel()
	p, err := PublishLiveKit(ctx, r.sess, LiveKitOptions{URL: n.URL, APIKey: lkserver.APIKey, APISecret: lkserver.APISecret, Room: room})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	done := startSubscribers(b, ctx, n.URL, room, subscribers)
	time.Sleep(2 * time.Second) // keyframes and the SFU's estimates settle
	start, cpu0, srv0 := time.Now(), bench.ProcessCPU(), n.CPU()
	time.Sleep(bench.Span(10 * time.Second))
	cpu, srv, media := bench.ProcessCPU()-cpu0, n.CPU()-srv0, time.Since(start)
	counts := done()
	b.ReportMetric(cpu.Seconds()/media.Seconds(), "cpu-s/media-s")
	b.ReportMetric(srv.Seconds()/media.Seconds(), "server-cpu-s/media-s")
	low := -1
	for _, f := range counts {
		if low < 0 || f < low {
			low = f
		}
	}
	b.ReportMetric(float64(low), "min-frames/subscriber")
	if len(counts) != subscribers || low <= 0 {
		b.Errorf("subscriber frame counts %v", counts)
	}
	b.Logf("subscribers=%d media %.1fs cpu %.2fs server %.2fs; frames per subscriber %v; %+v",
		subscribers, media.Seconds(), cpu.Seconds(), srv.Seconds(), counts, p.Status())
}

// startSubscribers runs n subscribers in a child process; the returned
// func ends them and returns each one's frame count.
func startSubscribers(b *testing.B, ctx context.Context, url, room string, n int) func() []int {
	child := bench.StartChild(b, ctx, "TestHelperLiveKitSubscribers", fmt.Sprintf("SEGCAST_LK_SUBSCRIBERS=%d %s %s", n, url, room))
	if !child.Out.Scan() || child.Out.Text() != "ready" {
		b.Fatalf("subscribers: %q %v", child.Out.Text(), child.Out.Err())
	}
	return func() []int { return child.Counts(n) }
}

// TestHelperLiveKitSubscribers is not a test: startSubscribers runs it in
// a child process. It joins N subscribers, says "ready" once each has a
// frame, and on EOF prints each one's frame count.
func TestHelperLiveKitSubscribers(t *testing.T) {
	args := strings.Fields(os.Getenv("SEGCAST_LK_SUBSCRIBERS"))
	if len(args) != 3 {
		t.Skip("only run by BenchmarkLiveKit720p30")
	}
	n, _ := strconv.Atoi(args[0])
	subs := make([]*lkserver.Subscriber, n)
	for i := range subs {
		subs[i] = lkserver.Subscribe(t, args[1], args[2], fmt.Sprintf("sub-%d", i), false)
	}
	deadline := time.Now().Add(time.Minute)
	for _, s := range subs {
		for f, _ := s.Counts(); f == 0; f, _ = s.Counts() {
			if time.Now().After(deadline) {
				t.Fatal("a subscriber got no frame within a minute")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, s := range subs {
		f, _ := s.Counts()
		fmt.Println(f)
	}
}

// BenchmarkLiveKitRestart kills the server mid-stream and starts it again
// after two seconds, and reports how long after it serves again the
// publisher is back, a fresh viewer gets its first frame, and the viewer
// that was watching (server-sdk-go's own reconnect) gets frames again.
func BenchmarkLiveKitRestart(b *testing.B) {
	for range b.N {
		c := lkserver.Start(b, lkserver.Options{})
		n := c.Nodes[0]
		r := newRig(b, 640, 360)
		room := randomName("bench-")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		p, err := PublishLiveKit(ctx, r.sess, LiveKitOptions{URL: n.URL, APIKey: lkserver.APIKey, APISecret: lkserver.APISecret, Room: room})
		if err != nil {
			b.Fatal(err)
		}
		old := lkserver.Subscribe(b, n.URL, room, "old", false)
		waitCount(b, ctx, old, 30)
		n.Kill()
		time.Sleep(2 * time.Second)
		n.Start(b)
		back := time.Now()
		before, _ := old.Counts()
		for st := p.Status(); st.State != StateConnected || st.Reconnects < 1; st = p.Status() {
			time.Sleep(10 * time.Millisecond)
		}
		pub := time.Since(back)
		fresh := lkserver.Subscribe(b, n.URL, room, "fresh", false)
		waitCount(b, ctx, fresh, 1)
		first := time.Since(back)
		waitCount(b, ctx, old, before+1)
		again := time.Since(back)
		b.ReportMetric(float64(pub.Milliseconds()), "publisher-back-ms")
		b.ReportMetric(float64(first.Milliseconds()), "fresh-viewer-frame-ms")
		b.ReportMetric(float64(again.Milliseconds()), "old-viewer-frame-ms")
		p.Close()
		cancel()
	}
}

func waitCount(b *testing.B, ctx context.Context, s *lkserver.Subscriber, frames int) {
	for f, _ := s.Counts(); f < frames; f, _ = s.Counts() {
		select {
		case <-ctx.Done():
			b.Fatalf("%d frames, waited for %d", f, frames)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
