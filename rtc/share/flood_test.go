package share

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"segcast/rtc"
	"segcast/rtc/internal/rtctest"
)

// clientFrom is an HTTP client whose connections come from local address ip.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}, Timeout: 30 * time.Second}
}

// whepJoin does what the viewer page does: rx's offer to the WHEP
// endpoint, the answer back into rx. It returns the viewer's URL.
func whepJoin(c *http.Client, endpoint string, rx *rtctest.Receiver, t testing.TB) (string, error) {
	offer, err := rtc.DecodeSignal(rx.Offer(t))
	if err != nil {
		return "", err
	}
	resp, err := c.Post(endpoint, "application/sdp", strings.NewReader(offer.SDP))
	if err != nil {
		return "", err
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("POST %s: %d %s (%v)", endpoint, resp.StatusCode, answer, err)
	}
	loc, err := resp.Location()
	if err != nil {
		return "", fmt.Errorf("POST %s: %w", endpoint, err)
	}
	desc := webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}
	if err := rx.PC.SetRemoteDescription(desc); err != nil {
		return "", fmt.Errorf("apply the answer: %w", err)
	}
	return loc.String(), nil
}

// A flood of offers that never complete ICE, from one address and ignoring
// every 429, must not lock out a real viewer arriving meanwhile (issue 11:
// sixteen such offers held every slot until ICE failed, 30 s later). The
// flood is rate-limited, its viewers are dropped by the connect deadline,
// and a pion viewer from another address joins and plays.
func TestWHEPFloodDoesNotLockOutARealViewer(t *testing.T) {
	_, sess := rtctest.StreamPattern(t, 160, 120)       // rtc.DefaultConnectTimeout
	srv, err := New(sess, Options{Addr: "127.0.0.1:0"}) // the default cap, 16
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	offers := offerPool(t, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	flooder := clientFrom("127.0.0.2")
	var joined, limited, full, answered atomic.Int64
	// The real viewer comes once the flood has had its burst and two
	// refills, each held until the connect deadline.
	const floodJoins = joinBurst + 2
	flooding := make(chan struct{})
	var once sync.Once
	floodCtx, stopFlood := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; floodCtx.Err() == nil; i++ {
				req, _ := http.NewRequestWithContext(floodCtx, http.MethodPost, srv.WHEPURL(), strings.NewReader(offers[(g+i)%len(offers)]))
				req.Header.Set("Content-Type", "application/sdp")
				resp, err := flooder.Do(req)
				if err != nil {
					continue // the flood is being stopped
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				answered.Add(1)
				switch resp.StatusCode {
				case http.StatusCreated:
					if joined.Add(1) == floodJoins {
						once.Do(func() { close(flooding) })
					}
				case http.StatusTooManyRequests:
					if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 {
						t.Errorf("429 with Retry-After %q, want whole seconds ≥ 1", resp.Header.Get("Retry-After"))
					}
					limited.Add(1)
				case http.StatusServiceUnavailable:
					full.Add(1)
				default:
					t.Errorf("flood POST: %d", resp.StatusCode)
				}
			}
		}()
	}
	defer func() { stopFlood(); wg.Wait() }()
	select {
	case <-flooding:
	case <-ctx.Done():
		t.Fatalf("the flood got %d responses", answered.Load())
	}

	// A real viewer, from another address, while the flood goes on.
	rx := rtctest.NewReceiver(t, false)
	if _, err := whepJoin(clientFrom("127.0.0.1"), srv.WHEPURL(), rx, t); err != nil {
		t.Fatalf("real viewer during the flood: %v (flood: %d joined, %d limited, %d refused at the cap)",
			err, joined.Load(), limited.Load(), full.Load())
	}
	rx.WaitConnected(t, ctx)
	for frames, _ := rx.Counts(); frames < 30; frames, _ = rx.Counts() {
		select {
		case <-ctx.Done():
			t.Fatalf("real viewer got %d frames", frames)
		case <-time.After(50 * time.Millisecond):
		}
	}
	stopFlood()
	wg.Wait()
	t.Logf("flood: %d joined, %d limited (429), %d refused at the cap (503)", joined.Load(), limited.Load(), full.Load())
	if limited.Load() == 0 {
		t.Error("the flood was never rate-limited")
	}

	// The flood's viewers never connect: the deadline drops them all,
	// long before ICE's own failure; the real viewer stays.
	dropCtx, cancelDrop := context.WithTimeout(ctx, rtc.DefaultConnectTimeout+10*time.Second)
	defer cancelDrop()
	for {
		changed := sess.Changed()
		vs := sess.Viewers()
		if len(vs) == 1 && vs[0].State == rtc.ViewerConnected {
			break
		}
		select {
		case <-dropCtx.Done():
			t.Fatalf("flood viewers not dropped: %+v", vs)
		case <-changed:
		}
	}
}
