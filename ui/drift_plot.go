package ui

import (
	"image"

	"segcast/rtc/measure/avsync"
)

// sendSample is the sender's timing as sampled by a drift view: the
// send-time error (actual write − deadline) percentiles over the
// session's recent items, and the late-item counters.
type sendSample struct {
	atS                  float64 // seconds since the view opened
	audioP50, audioP99   float64 // ms
	videoP50, videoP99   float64 // ms
	lateAudio, lateVideo int64
}

// Size of the drift picture: the report's plot, with the send strip
// below it adding sendStripH when the sender's timing is known.
const (
	driftPlotW, driftPlotH = 960, 460
	sendStripH             = 150
)

// renderDrift draws the report with avsync.Render and, when the sender's
// timing is known, its send-time error over view time under it.
func renderDrift(r avsync.Report, sends []sendSample) *image.RGBA {
	if len(sends) == 0 {
		return avsync.Render(r, driftPlotW, driftPlotH, nil)
	}
	strip := make([]avsync.SendSample, len(sends))
	for i, s := range sends {
		strip[i] = avsync.SendSample{AtS: s.atS, AudioP50: s.audioP50, AudioP99: s.audioP99,
			VideoP50: s.videoP50, VideoP99: s.videoP99, LateAudio: s.lateAudio, LateVideo: s.lateVideo}
	}
	return avsync.Render(r, driftPlotW, driftPlotH+sendStripH, strip)
}
