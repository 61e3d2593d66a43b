package share

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"segcast/rtc"
)

// offerPool is a few real pion offers (their peers closed: nothing will
// answer ICE), reused by the concurrent clients below.
func offerPool(t testing.TB, n int) []string {
	t.Helper()
	offers := make([]string, n)
	for i := range offers {
		pc, offer := whepOfferer(t)
		_ = pc.Close()
		offers[i] = offer
	}
	return offers
}

// clientAddr is a distinct source address per client, so the per-address
// join limit stays out of the way of these tests of the cap.
func clientAddr(i int) string { return fmt.Sprintf("10.%d.%d.%d:40000", i>>16&255, i>>8&255, i&255) }

func postFrom(h http.Handler, endpoint, addr, offer string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, endpoint, bytes.NewReader([]byte(offer)))
	req.Header.Set("Content-Type", "application/sdp")
	req.RemoteAddr = addr
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// liveViewers counts the session's viewers that may still play.
func liveViewers(sess *rtc.Session) int {
	n := 0
	for _, vi := range sess.Viewers() {
		if vi.State.Live() {
			n++
		}
	}
	return n
}

// watchLive samples the live viewer count until stop is closed and
// returns the highest seen.
func watchLive(sess *rtc.Session, stop <-chan struct{}) <-chan int {
	most := make(chan int, 1)
	go func() {
		top := 0
		for {
			top = max(top, liveViewers(sess))
			select {
			case <-stop:
				most <- top
				return
			default:
			}
		}
	}()
	return most
}

// Many clients joining and leaving at once: the cap is never exceeded,
// and every Location handed out can be DELETEd (issue 11: the old
// reservation read the session's list outside the server's lock, so one
// finishing answer could drop another viewer from the table).
func TestWHEPConcurrentJoinsKeepCapAndLocations(t *testing.T) {
	const maxViewers, clients, rounds = 16, 48, 10
	sess := newWHEPTestSession(t)
	srv := newWHEPTestServer(t, sess, maxViewers)
	h := srv.Handler()
	endpoint := "/" + srv.token + "/whep"
	offers := offerPool(t, 4)

	stop := make(chan struct{})
	most := watchLive(sess, stop)
	var created, refused, lost atomic.Int64
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				rec := postFrom(h, endpoint, clientAddr(c*rounds+r), offers[(c+r)%len(offers)])
				switch rec.Code {
				case http.StatusCreated:
					created.Add(1)
				case http.StatusServiceUnavailable:
					refused.Add(1)
					continue
				default:
					t.Errorf("POST: %d %s", rec.Code, rec.Body)
					continue
				}
				loc := rec.Header().Get("Location")
				time.Sleep(time.Duration(r%4) * 5 * time.Millisecond) // a client holds it a moment
				if del := whepDo(h, http.MethodDelete, loc, "", nil); del.Code != http.StatusNoContent {
					lost.Add(1)
					t.Errorf("DELETE %s just handed out: %d, want 204", loc, del.Code)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	top := <-most
	t.Logf("%d joined, %d refused at the cap, %d Locations lost; at most %d live viewers", created.Load(), refused.Load(), lost.Load(), top)
	if created.Load() == 0 || refused.Load() == 0 {
		t.Errorf("the clients did not contend for the cap: %d joined, %d refused", created.Load(), refused.Load())
	}
	if top > maxViewers {
		t.Errorf("%d live viewers at once, over the cap of %d", top, maxViewers)
	}
	if n := len(sess.Viewers()); n != 0 {
		t.Errorf("%d viewers left after every client deleted its own: %+v", n, sess.Viewers())
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.viewers) != 0 || srv.busy != 0 {
		t.Errorf("server still counts %d viewers, %d busy", len(srv.viewers), srv.busy)
	}
}

// Stopping the share while clients keep joining ends every viewer it made:
// when Close returns none is left, answers that were in flight included,
// and nothing new appears afterwards.
func TestWHEPCloseEndsEveryViewerUnderLoad(t *testing.T) {
	const clients = 16
	sess := newWHEPTestSession(t)
	srv := newWHEPTestServer(t, sess, 8)
	h := srv.Handler()
	endpoint := "/" + srv.token + "/whep"
	offers := offerPool(t, 4)

	var next atomic.Int64
	var created atomic.Int64
	firstJoins := make(chan struct{})
	var once sync.Once
	done := make(chan struct{})
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				rec := postFrom(h, endpoint, clientAddr(int(next.Add(1))), offers[(c+i)%len(offers)])
				if rec.Code != http.StatusCreated {
					continue
				}
				if created.Add(1) == clients {
					once.Do(func() { close(firstJoins) })
				}
				if i%2 == 0 { // half leave again, half stay
					whepDo(h, http.MethodDelete, rec.Header().Get("Location"), "", nil)
				}
			}
		}()
	}
	select {
	case <-firstJoins:
	case <-time.After(60 * time.Second):
		close(done)
		wg.Wait()
		t.Fatalf("only %d joins in 60 s", created.Load())
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	left := liveViewers(sess)
	close(done)
	wg.Wait()
	if left != 0 {
		t.Errorf("%d live viewers right after Close", left)
	}
	if n := liveViewers(sess); n != 0 {
		t.Errorf("%d live viewers after the clients stopped: %+v", n, sess.Viewers())
	}
}
