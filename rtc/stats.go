package rtc

import (
	"math"
	"slices"
	"sync"
	"time"

	"segcast/engine/ring"
	"segcast/engine/stats"
)

// ViewerInfo is one viewer as the UI's list and the stats file show it.
type ViewerInfo struct {
	ID    string      `json:"id"`
	State ViewerState `json:"state"`
	// CandidateType is the most indirect end of the selected ICE pair
	// (relay > srflx > prflx > host), "" before a pair is selected.
	CandidateType string `json:"candidate_type"`
	// BitrateBps is the send-side estimate (GCC) of what this viewer's
	// path carries.
	BitrateBps int           `json:"bitrate_bps"`
	RTT        time.Duration `json:"rtt_ns"`
	// PacketLoss is the fraction (0..1) of video packets lost, from the
	// viewer's last receiver report.
	PacketLoss float64 `json:"packet_loss"`
}

// SessionStats is a snapshot of what the session has sent.
type SessionStats struct {
	VideoFramesSent int64 `json:"video_frames_sent"`
	AudioChunksSent int64 `json:"audio_chunks_sent"`
	// Idle counts items not encoded because no viewer was there.
	VideoFramesIdle int64 `json:"video_frames_idle"`
	AudioChunksIdle int64 `json:"audio_chunks_idle"`
	// VideoSkipped counts frames not encoded because the encoder had
	// fallen behind: already past their deadline with newer frames queued.
	VideoSkipped int64 `json:"video_frames_skipped"`
	// Late counts items written more than LateAfter after their deadline.
	LateVideo int64 `json:"late_video"`
	LateAudio int64 `json:"late_audio"`
	// Dropped counts items refused because the send queue was full (the
	// sender fell far behind) or the encoder failed.
	Dropped      int64 `json:"dropped"`
	Keyframes    int64 `json:"keyframes"`
	VideoBytes   int64 `json:"video_bytes"`
	AudioBytes   int64 `json:"audio_bytes"`
	VideoPackets int64 `json:"video_packets"`
	AudioPackets int64 `json:"audio_packets"`
	// BitrateBps is the VP8 encoder's current target.
	BitrateBps int `json:"target_bitrate_bps"`
	// Send-time error: when the packets of an item were written minus
	// the item's deadline, over the last sendErrWindow items.
	VideoSendErr Percentiles  `json:"video_send_error"`
	AudioSendErr Percentiles  `json:"audio_send_error"`
	Viewers      []ViewerInfo `json:"viewers"`
}

// LateAfter is how far past its deadline an item may leave before it is
// counted late.
const LateAfter = 5 * time.Millisecond

// Percentiles summarises send-time errors.
type Percentiles struct {
	N   int           `json:"n"`
	P50 time.Duration `json:"p50_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
}

// sendErrWindow is how many recent items the percentiles cover: about
// four minutes of video at 30 fps.
const sendErrWindow = 8192

// sendErrKeep is how many send-time errors SendErrors keeps per track
// for reports: ten minutes of audio (50 chunks/s) or of 60 fps video.
const sendErrKeep = 36_000

// errRing keeps the last n send-time errors of one track; the sender
// adds while stats and reports read.
type errRing struct {
	mu  sync.Mutex
	buf *ring.Buffer[time.Duration]
}

func newErrRing(n int) *errRing { return &errRing{buf: ring.New[time.Duration](n)} }

func (r *errRing) add(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf.Add(d)
}

// all returns a copy of what is held, oldest first.
func (r *errRing) all() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.All()
}

func (r *errRing) percentiles() Percentiles {
	return PercentilesOf(r.all())
}

// PercentilesOf summarises send-time errors ds (sorting ds in place).
func PercentilesOf(ds []time.Duration) Percentiles {
	if len(ds) == 0 {
		return Percentiles{}
	}
	slices.Sort(ds)
	sorted := make([]float64, len(ds))
	for i, d := range ds {
		sorted[i] = float64(d)
	}
	at := func(q float64) time.Duration { return time.Duration(math.Round(stats.Quantile(sorted, q))) }
	return Percentiles{N: len(ds), P50: at(0.50), P99: at(0.99), Max: ds[len(ds)-1]}
}

// SendErrors returns the recent send-time errors (actual write −
// deadline) in ms, audio and video, up to about ten minutes of each, for
// reports (avsync.NewSendError).
func (s *Session) SendErrors() (audioMS, videoMS []float64) {
	toMS := func(ds []time.Duration) []float64 {
		out := make([]float64, len(ds))
		for i, d := range ds {
			out[i] = float64(d) / float64(time.Millisecond)
		}
		return out
	}
	return toMS(s.audio.longErrs.all()), toMS(s.video.longErrs.all())
}
