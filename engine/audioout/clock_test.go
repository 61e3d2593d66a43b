package audioout

import (
	"testing"
	"time"
)

// Sample counts convert to time exactly, also past the point where n·1e9
// overflows int64 (53 hours).
func TestFramesToDuration(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want time.Duration
	}{
		{0, 0},
		{48, time.Millisecond},
		{48000, time.Second},
		{48000*3600*24*30 + 24, 30*24*time.Hour + 500*time.Microsecond},
	} {
		if got := framesToDuration(c.n); got != c.want {
			t.Errorf("framesToDuration(%d) = %v, want %v", c.n, got, c.want)
		}
	}
}
