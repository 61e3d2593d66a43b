package share

import (
	"net"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// WHEP joins are rate-limited per source address with a token bucket:
// joinBurst at once, then one per joinEvery. With the connect deadline
// (rtc.DefaultConnectTimeout, 10 s) one address can hold at most about
// joinBurst + 10 s / joinEvery = 9 slots with offers that never connect,
// so with the default cap of 16 a viewer from elsewhere still gets in.
// A person reloading the page a few times stays well inside the burst.
const (
	joinBurst = 4
	joinEvery = 2 * time.Second
	// limiterPrune is the number of addresses above which buckets that
	// have refilled (idle for joinBurst × joinEvery) are forgotten.
	limiterPrune = 256
)

// joinLimiter holds one token bucket per source address.
type joinLimiter struct {
	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// allow takes a join token for the request's remote address at now. When
// there is none it takes nothing and returns how long until there is one.
func (l *joinLimiter) allow(remoteAddr string, now time.Time) (ok bool, retry time.Duration) {
	key := sourceKey(remoteAddr)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*rate.Limiter{}
	}
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= limiterPrune {
			for k, old := range l.buckets {
				if old.TokensAt(now) >= joinBurst {
					delete(l.buckets, k)
				}
			}
		}
		b = rate.NewLimiter(rate.Every(joinEvery), joinBurst)
		l.buckets[key] = b
	}
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sourceKey names the sender of a request: its IPv4 address, or the /64
// of an IPv6 one (a host picks addresses in its /64 at will).
func sourceKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	switch {
	case ip == nil:
		return host
	case ip.To4() != nil:
		return ip.To4().String()
	default:
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
}
