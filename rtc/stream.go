package rtc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"segcast/engine"
)

// StreamOptions configures `segcast stream`.
type StreamOptions struct {
	Config
	// OfferMode: we print our offer first and read the answer. Default:
	// read the viewer's offer, print our answer (as pion's examples do).
	OfferMode bool
	// Duration is how long to stream once the connection is up; 0 means
	// until ctx is done.
	Duration time.Duration
	// StatsFile, when set, gets a JSON summary at exit.
	StatsFile string
	In        io.Reader // the remote description (stdin)
	Out       io.Writer // only our description, one base64 line (stdout)
}

// StreamSummary is what the stats file holds.
type StreamSummary struct {
	Session SessionStats     `json:"session"`
	Loop    engine.LoopStats `json:"loop"`
	// Streamed is the time from connection to the end (serve: from the
	// start).
	Streamed time.Duration `json:"streamed_ns"`
	Error    string        `json:"error,omitempty"`
}

// Stream connects one viewer through In/Out and plays loop to it: the
// loop starts playing when the connection is up and stops Duration later
// (or when ctx is done or the viewer goes away). ctx ending is a normal
// stop (nil) whenever it comes, while waiting for the viewer too: that is
// SIGINT or SIGTERM. opt.Clock should be the loop's clock (see
// Config.Clock). The stats file is written whatever the outcome.
func Stream(ctx context.Context, loop *engine.Loop, opt StreamOptions) (err error) {
	if opt.In == nil || opt.Out == nil {
		return errors.New("stream: In and Out must be set")
	}
	sess, err := NewSession(opt.Config)
	if err != nil {
		return err
	}
	log := sess.log
	var connectedAt time.Time
	defer func() {
		viewers := sess.Viewers() // as they were while streaming
		var streamed time.Duration
		if !connectedAt.IsZero() {
			streamed = time.Since(connectedAt)
		}
		if cerr := sess.Close(); err == nil {
			err = cerr
		}
		// Counted after Close, which waits for the senders: packets
		// already encoded are still written until then.
		sum := StreamSummary{Session: sess.Stats(), Loop: loop.Stats(), Streamed: streamed}
		sum.Session.Viewers = viewers
		if err != nil {
			sum.Error = err.Error()
		}
		if opt.StatsFile != "" {
			if werr := WriteSummary(opt.StatsFile, sum); err == nil {
				err = werr
			}
		}
	}()
	stopped := func() bool {
		if ctx.Err() == nil {
			return false
		}
		log.Info("stopping", "reason", ctx.Err())
		return true
	}
	v, err := signalViewer(ctx, sess, opt)
	if err != nil {
		if stopped() {
			return nil
		}
		return err
	}
	log.Info("waiting for the viewer to connect", "viewer", v.ID())
	if _, err := sess.WaitViewer(ctx, v.ID(), ViewerConnected); err != nil {
		if stopped() {
			return nil
		}
		return fmt.Errorf("stream: %w", err)
	}
	connectedAt = time.Now()
	log.Info("connected; streaming", "viewer", v.ID(), "duration", opt.Duration)

	loopDone, timeout, stopLoop := PlayLoop(ctx, loop, sess, opt.Duration)
	defer stopLoop()
	for {
		changed := sess.Changed()
		if vi, ok := sess.Viewer(v.ID()); !ok || !vi.State.Live() {
			return fmt.Errorf("stream: viewer %s is %s", v.ID(), stateOrGone(vi.State, ok))
		}
		select {
		case <-timeout:
			return nil
		case <-ctx.Done():
			stopped()
			return nil
		case err := <-loopDone:
			return fmt.Errorf("stream: loop stopped: %w", err)
		case <-changed:
		}
	}
}

// stateOrGone names a viewer's state, or "gone" when it was not found.
func stateOrGone(st ViewerState, found bool) string {
	if !found {
		return "gone"
	}
	return st.String()
}

// InputError marks a failure caused by what was read from the user (a bad
// offer or answer), as opposed to a failure of the stream itself.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// signalViewer does the one exchange of descriptions.
func signalViewer(ctx context.Context, sess *Session, opt StreamOptions) (*Viewer, error) {
	if opt.OfferMode {
		v, offer, err := sess.Offer(ctx)
		if err != nil {
			return nil, err
		}
		if _, err := fmt.Fprintln(opt.Out, offer); err != nil {
			return nil, fmt.Errorf("stream: write offer: %w", err)
		}
		answer, err := readSignalCtx(ctx, opt.In)
		if err != nil {
			return nil, &InputError{fmt.Errorf("stream: read answer from stdin: %w", err)}
		}
		if err := v.Accept(answer); err != nil {
			return nil, &InputError{fmt.Errorf("stream: answer from stdin: %w", err)}
		}
		return v, nil
	}
	offer, err := readSignalCtx(ctx, opt.In)
	if err != nil {
		return nil, &InputError{fmt.Errorf("stream: read offer from stdin: %w", err)}
	}
	v, answer, err := sess.Answer(ctx, offer)
	if err != nil {
		return nil, &InputError{fmt.Errorf("stream: offer from stdin: %w", err)}
	}
	if _, err := fmt.Fprintln(opt.Out, answer); err != nil {
		return nil, fmt.Errorf("stream: write answer: %w", err)
	}
	return v, nil
}

// readSignalCtx is readSignal that gives up when ctx is done (stdin reads
// cannot be interrupted; the reader goroutine is left behind).
func readSignalCtx(ctx context.Context, in io.Reader) (string, error) {
	type result struct {
		text string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		text, err := readSignal(in)
		done <- result{text, err}
	}()
	select {
	case r := <-done:
		return r.text, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// readSignal reads one description as people paste it: a base64 line,
// or raw SDP running to a blank line or EOF. Leading blank lines are
// skipped. It reads at most MaxSignalBytes+1 bytes of r (buffered, so
// some past the description may be consumed too): input that runs on
// without a description within the limit is refused without reading
// the rest (`cat /dev/zero | segcast stream`).
func readSignal(r io.Reader) (string, error) {
	limited := &io.LimitedReader{R: r, N: MaxSignalBytes + 1}
	in := bufio.NewReader(limited)
	var b strings.Builder
	raw := false
	for {
		line, err := in.ReadString('\n')
		if b.Len()+len(line) > MaxSignalBytes || (err == io.EOF && limited.N == 0) {
			return "", fmt.Errorf("over the %d KiB limit (stopped reading there)", MaxSignalBytes>>10)
		}
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" && b.Len() == 0:
			// leading blank line
		case trimmed == "":
			return b.String(), nil // blank line ends raw SDP
		case b.Len() == 0 && !strings.HasPrefix(trimmed, "v="):
			return trimmed, nil // one base64 line
		default:
			raw = true
			b.WriteString(trimmed)
			b.WriteString("\r\n")
		}
		if err == io.EOF {
			if raw {
				return b.String(), nil
			}
			return "", errors.New("no description before end of input")
		}
		if err != nil {
			return "", err
		}
	}
}

// WriteSummary writes a stats file (`stream --stats`, `serve --stats`).
func WriteSummary(path string, sum StreamSummary) error {
	data, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return fmt.Errorf("stats %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("stats %s: %w", path, err)
	}
	return nil
}
