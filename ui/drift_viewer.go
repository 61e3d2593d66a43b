package ui

import (
	"sync"
	"time"

	"segcast/rtc"
	"segcast/rtc/measure/avsync"
)

// measurementSource is what the drift view needs from the viewers' sync
// channels: the rows a viewer page sent back over its DataChannel (with
// AtMS set on arrival). *measure.Hub satisfies it.
type measurementSource interface {
	Measurements(viewerID string) []avsync.Measurement
}

// sendStatser is the session's sender counters (*rtc.Session).
type sendStatser interface {
	Stats() rtc.SessionStats
}

// sendErrorser gives the recent send-time errors themselves, in ms
// (*rtc.Session), so the report's percentiles are over every item.
type sendErrorser interface {
	SendErrors() (audioMS, videoMS []float64)
}

// viewerFeed is one viewer's measurements plus the shared sender timing.
type viewerFeed struct {
	id    string
	rows  measurementSource // nil: this session does not collect them
	stats sendStatser       // nil: no sender
	errs  sendErrorser      // nil: only the counters' percentiles

	mu   sync.Mutex
	last []avsync.Measurement // kept once the viewer has gone
}

// sender is the session's send timing: counters and raw errors.
type sender interface {
	sendStatser
	sendErrorser
}

// newViewerFeed follows viewer id: its rows from rows (nil: not
// collected), the send timing from snd (nil: no sender).
func newViewerFeed(id string, rows measurementSource, snd sender) *viewerFeed {
	f := &viewerFeed{id: id, rows: rows}
	if snd != nil {
		f.stats, f.errs = snd, snd
	}
	return f
}

// measurements are the viewer's rows; after the viewer closes (the
// session forgets it) the last rows stay on view and exportable.
func (f *viewerFeed) measurements() []avsync.Measurement {
	if f.rows == nil {
		return nil
	}
	rows := f.rows.Measurements(f.id)
	f.mu.Lock()
	defer f.mu.Unlock()
	if rows == nil {
		return f.last
	}
	f.last = rows
	return rows
}

func (f *viewerFeed) sendTiming() (sendSample, bool) {
	if f.stats == nil {
		return sendSample{}, false
	}
	st := f.stats.Stats()
	if st.AudioSendErr.N == 0 && st.VideoSendErr.N == 0 {
		return sendSample{}, false // nothing sent yet
	}
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	s := sendSample{
		audioP50: ms(st.AudioSendErr.P50), audioP99: ms(st.AudioSendErr.P99),
		videoP50: ms(st.VideoSendErr.P50), videoP99: ms(st.VideoSendErr.P99),
		lateAudio: st.LateAudio, lateVideo: st.LateVideo,
	}
	if f.errs != nil {
		e := avsync.NewSendError(f.errs.SendErrors())
		if e.AudioP50.Known() {
			s.audioP50, s.audioP99 = float64(e.AudioP50), float64(e.AudioP99)
		}
		if e.VideoP50.Known() {
			s.videoP50, s.videoP99 = float64(e.VideoP50), float64(e.VideoP99)
		}
	}
	return s, true
}

func (f *viewerFeed) unavailable() string {
	if f.rows == nil {
		return "This stream does not collect the viewer page's measurements: only the send timing is shown."
	}
	return "Offsets arrive once the viewer page measures the sync pattern's flashes (play the pattern)."
}

// openViewerDrift opens the drift window of one viewer.
func (s *streamPanel) openViewerDrift(id string) *driftView {
	if s.sess == nil {
		return nil
	}
	return openDriftWindow(s.app, s.run, "A/V drift – viewer "+id, newViewerFeed(id, s.hub, s.sess),
		"Latency (send→present)", "Freezes")
}
