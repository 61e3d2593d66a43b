package audioout

import (
	"testing"
	"time"

	"segcast/engine"
	"segcast/engine/pattern"
)

// patternAudio is the built-in sync pattern's sound (a 1 kHz beep of 40 ms
// at every flash, once a second) for a few seconds.
func patternAudio(t *testing.T) engine.Audio {
	t.Helper()
	seg := pattern.New(320, 180, engine.Rate30, 3*time.Second)
	if seg.Audio == nil {
		t.Fatal("pattern has no audio")
	}
	return seg.Audio
}
