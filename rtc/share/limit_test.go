package share

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestJoinLimiterTokenBucket(t *testing.T) {
	var l joinLimiter
	t0 := time.Unix(1_000_000, 0)
	for i := range joinBurst {
		if ok, _ := l.allow("192.168.1.20:5000", t0); !ok {
			t.Fatalf("join %d of the burst refused", i+1)
		}
	}
	ok, retry := l.allow("192.168.1.20:5001", t0) // another port, same address
	if ok || retry <= 0 || retry > joinEvery {
		t.Fatalf("join past the burst: ok %v, retry after %v; want refused, ≤ %v", ok, retry, joinEvery)
	}
	if ok, _ := l.allow("192.168.1.21:5000", t0); !ok {
		t.Fatal("another address refused")
	}
	// A refused join takes no token: one comes back after joinEvery.
	if ok, _ := l.allow("192.168.1.20:5000", t0.Add(joinEvery)); !ok {
		t.Fatal("no join allowed after the refill interval")
	}
	if ok, _ := l.allow("192.168.1.20:5000", t0.Add(joinEvery)); ok {
		t.Fatal("two joins allowed for one refill")
	}
	// IPv6 addresses count per /64.
	for i := range joinBurst {
		if ok, _ := l.allow("[2001:db8:1:2::"+string(rune('a'+i))+"]:443", t0); !ok {
			t.Fatalf("IPv6 join %d refused", i+1)
		}
	}
	if ok, _ := l.allow("[2001:db8:1:2:ffff::1]:443", t0); ok {
		t.Fatal("a new address in the same /64 got a fresh bucket")
	}
	if ok, _ := l.allow("[2001:db8:1:3::1]:443", t0); !ok {
		t.Fatal("another /64 refused")
	}
}

// Idle addresses are forgotten: many one-off sources do not grow the
// table without bound.
func TestJoinLimiterForgetsIdleAddresses(t *testing.T) {
	var l joinLimiter
	t0 := time.Unix(1_000_000, 0)
	// A new address every 100 ms: a bucket refills in joinBurst×joinEvery
	// (8 s), so about 80 are not idle at any time.
	for i := range 3 * limiterPrune {
		l.allow(clientAddr(i), t0.Add(time.Duration(i)*100*time.Millisecond))
		if n := len(l.buckets); n > limiterPrune {
			t.Fatalf("%d buckets after %d addresses, want at most %d", n, i+1, limiterPrune)
		}
	}
	// A full table at once; long after, one new address prunes every
	// refilled bucket.
	for i := range limiterPrune {
		l.allow(clientAddr(1<<20+i), t0)
	}
	l.allow("192.168.1.1:1", t0.Add(time.Hour))
	if n := len(l.buckets); n != 1 {
		t.Fatalf("%d buckets after an hour idle, want 1", n)
	}
}

// Over HTTP: the join past the burst is a 429 naming the limit, with a
// Retry-After in whole seconds; others still get in.
func TestWHEPJoinsRateLimitedPerAddress(t *testing.T) {
	srv := newWHEPTestServer(t, newWHEPTestSession(t), 0)
	h := srv.Handler()
	post := func(addr string) *httptest.ResponseRecorder {
		return postFrom(h, "/"+srv.token+"/whep", addr, "v=0\r\n") // a bad offer is a join too
	}
	for range joinBurst {
		if rec := post("192.168.1.20:5000"); rec.Code != http.StatusBadRequest {
			t.Fatalf("join within the burst: %d %s", rec.Code, rec.Body)
		}
	}
	rec := post("192.168.1.20:5000")
	if rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), "too many joins") {
		t.Fatalf("join past the burst: %d %q, want 429 saying why", rec.Code, rec.Body)
	}
	if ra := rec.Header().Get("Retry-After"); ra != "1" && ra != "2" {
		t.Errorf("Retry-After %q, want the seconds until the next token (1–2)", ra)
	}
	if rec := post("192.168.1.21:5000"); rec.Code != http.StatusBadRequest {
		t.Errorf("another address: %d, want its offer read", rec.Code)
	}
	// DELETE is not a join.
	for range 2 * joinBurst {
		req := httptest.NewRequest(http.MethodDelete, "/"+srv.token+"/whep/nobody", nil)
		req.RemoteAddr = "192.168.1.20:5000"
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, req)
		if rr.Code != http.StatusNotFound {
			t.Fatalf("DELETE from a limited address: %d, want 404", rr.Code)
		}
	}
}
