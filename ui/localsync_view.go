package ui

import (
	"segcast/rtc/measure/avsync"
)

// localFeed shows the preview's own sync (no sender).
type localFeed struct{ l *localSync }

func (f localFeed) measurements() []avsync.Measurement { return f.l.measurements() }
func (f localFeed) sendTiming() (sendSample, bool)     { return sendSample{}, false }

func (f localFeed) unavailable() string {
	if !f.l.hasSource() {
		return "No audio device that reports its played position: nothing heard to compare with the picture."
	}
	return "Offset = audio − picture as heard and seen here: the device's played position against the frame on screen (+ = audio late)."
}

// openLocalSync opens the local preview's sync window.
func (c *controller) openLocalSync() *driftView {
	return openDriftWindow(c.app, c.run, "Local sync – preview", localFeed{c.player.preview.local},
		"Display delay", "Preview dropped")
}
