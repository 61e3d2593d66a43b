package measure

import (
	"bytes"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// impairment emulates a bad network on what a viewer is sent, for the
// impaired-case benchmark (bench/README.md, "A/V sync"): this kernel has no
// sch_netem, so `tc qdisc … netem` cannot be used. Every outgoing RTP and
// RTCP packet is dropped with probability Loss, else delayed by Delay ±
// Jitter (uniform, so packets reorder as under netem's jitter).
type impairment struct {
	Loss          float64
	Delay, Jitter time.Duration
}

// interceptors is what rtc.Config.Interceptors takes: none when the
// network is not impaired.
func (im impairment) interceptors() []interceptor.Factory {
	if im.Loss == 0 && im.Delay == 0 && im.Jitter == 0 {
		return nil
	}
	return []interceptor.Factory{impairFactory{im}}
}

// impairFactory makes one impairInterceptor per PeerConnection; it is
// registered first, so it sits next to the network, after NACK
// retransmissions and TWCC stamping.
type impairFactory struct{ im impairment }

func (f impairFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &impairInterceptor{im: f.im, rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}, nil
}

type impairInterceptor struct {
	interceptor.NoOp
	im  impairment
	mu  sync.Mutex
	rng *rand.Rand
}

// fate decides one packet: dropped, or sent after the returned delay.
func (i *impairInterceptor) fate() (drop bool, delay time.Duration) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.rng.Float64() < i.im.Loss {
		return true, 0
	}
	d := i.im.Delay
	if i.im.Jitter > 0 {
		d += time.Duration((2*i.rng.Float64() - 1) * float64(i.im.Jitter))
	}
	return false, max(d, 0)
}

func (i *impairInterceptor) BindLocalStream(_ *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, _ interceptor.Attributes) (int, error) {
		n := h.MarshalSize() + len(payload)
		drop, d := i.fate()
		if drop {
			return n, nil
		}
		hdr, pl := h.Clone(), bytes.Clone(payload) // the caller reuses its buffers
		time.AfterFunc(d, func() { _, _ = w.Write(&hdr, pl, interceptor.Attributes{}) })
		return n, nil
	})
}

func (i *impairInterceptor) BindRTCPWriter(w interceptor.RTCPWriter) interceptor.RTCPWriter {
	return interceptor.RTCPWriterFunc(func(pkts []rtcp.Packet, _ interceptor.Attributes) (int, error) {
		drop, d := i.fate()
		if drop {
			return 0, nil
		}
		time.AfterFunc(d, func() { _, _ = w.Write(pkts, interceptor.Attributes{}) })
		return 0, nil
	})
}
