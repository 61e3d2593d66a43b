// Package publish sends a session's one encode to an SFU: a LiveKit room
// (server-sdk-go) or any WHIP endpoint (RFC 9725). A publisher is one more
// peer of the rtc.Session: it binds the session's two tracks, so the
// packets, their RTP timestamps and their send times are the very ones the
// LAN viewers get, and both tracks share one stream so a plain subscriber
// lip-syncs them. It reconnects by itself; the timeline never stops.
package publish

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
)

// StreamID groups the two tracks into one stream (msid), which is what
// makes a subscriber lip-sync them.
const StreamID = "segcast"

// DefaultConnectTimeout bounds one connection attempt when the options
// leave it zero.
const DefaultConnectTimeout = 15 * time.Second

// Reconnect backoff: short first tries so a restarted server is found
// again within a second or two, then at most retryMax apart.
const (
	retryFirst = 250 * time.Millisecond
	retryMax   = 2 * time.Second
)

// State is where a publisher's connection is.
type State string

const (
	StateConnecting   State = "connecting"
	StateConnected    State = "connected"
	StateReconnecting State = "reconnecting"
	StateClosed       State = "closed"
)

// Status is a snapshot of a publisher for logs and the window.
type Status struct {
	Kind   string `json:"kind"`   // "livekit" or "whip"
	Target string `json:"target"` // the room, or the WHIP endpoint
	State  State  `json:"state"`
	// Reconnects counts connections made again after a loss.
	Reconnects int `json:"reconnects"`
	// LastError is the latest failure to connect, "" once connected.
	LastError string    `json:"last_error,omitempty"`
	Since     time.Time `json:"since"` // when State last changed
}

// ConnectError is a first connection that failed: a bad URL, a rejected
// key or token, a server that is down. Later losses are retried instead.
type ConnectError struct {
	Target string
	Err    error
}

func (e *ConnectError) Error() string { return fmt.Sprintf("publish to %s: %v", e.Target, e.Err) }
func (e *ConnectError) Unwrap() error { return e.Err }

// status guards a Status for the publisher that owns it.
type status struct {
	mu sync.Mutex
	st Status
}

func (s *status) get() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

func (s *status) set(st State, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st == StateConnected && s.st.State == StateReconnecting {
		s.st.Reconnects++
	}
	if st != s.st.State {
		s.st.Since = time.Now()
	}
	s.st.State = st
	s.st.LastError = ""
	if err != nil {
		s.st.LastError = err.Error()
	}
}

// retry calls connect until it succeeds or ctx ends, waiting a growing
// backoff between tries and logging each failure.
func retry(ctx context.Context, log *slog.Logger, what string, connect func(context.Context) error, failed func(error)) error {
	wait := retryFirst
	for {
		err := connect(ctx)
		if err == nil || ctx.Err() != nil {
			return err
		}
		failed(err)
		log.Warn(what+": reconnect failed", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, retryMax)
	}
}

// randomSuffix is prefix and 8 random hex digits.
func randomSuffix(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return prefix + hex.EncodeToString(b[:])
}

func discardLog(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return l
}

// keyframeOnPLI is an interceptor that sees the RTCP coming back to a
// publisher's PeerConnection and asks the session for a keyframe on every
// PLI or FIR (the session rate-limits them).
type keyframeOnPLI struct{ request func() }

func (f keyframeOnPLI) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &pliInterceptor{request: f.request}, nil
}

type pliInterceptor struct {
	interceptor.NoOp
	request func()
}

func (i *pliInterceptor) BindRTCPReader(r interceptor.RTCPReader) interceptor.RTCPReader {
	return interceptor.RTCPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, a, err := r.Read(b, a)
		if err != nil {
			return n, a, err
		}
		if a == nil {
			a = interceptor.Attributes{}
		}
		pkts, perr := a.GetRTCPPackets(b[:n])
		if perr != nil {
			return n, a, nil // not ours to judge; the other interceptors see it too
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				i.request()
			}
		}
		return n, a, nil
	})
}
