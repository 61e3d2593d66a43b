package audioout

import (
	"testing"
	"time"
)

// The counters turn the device's heard position into media time: silence
// before the first sample and in underruns does not count, dropped
// samples do.
func TestHeardMediaNS(t *testing.T) {
	if _, ok := heardMediaNS(time.Second, Stats{FirstSample: -1, Played: 48000}); ok {
		t.Error("heard position known before the first sample played")
	}
	// First sample at device frame 4800 (0.1 s), 20 ms of underrun, 10 ms dropped.
	// Now says 1.5 s is heard; 1.52 s were handed over with 10 ms latency.
	st := Stats{FirstSample: 4800, Underrun: 960, Dropped: 480, Played: 72960, Latency: 10 * time.Millisecond}
	now := 1500 * time.Millisecond
	for _, c := range []struct {
		why    string
		played int64
		want   time.Duration
	}{
		{"Now rules", 72960, (1500 - 100 - 20 + 10) * time.Millisecond},
		// 1.5 s handed, 10 ms of it still in the device.
		{"bounded by the frames handed over", 72000, (1490 - 100 - 20 + 10) * time.Millisecond},
		// A device 3 s ahead of its Now (faster than real time).
		{"a device racing ahead is taken at its count", 72000 + 3*48000, (4490 - 100 - 20 + 10) * time.Millisecond},
	} {
		st.Played = c.played
		got, ok := heardMediaNS(now, st)
		if !ok || time.Duration(got) != c.want {
			t.Errorf("%s: heard %v (ok %v), want %v", c.why, time.Duration(got), ok, c.want)
		}
	}
	// Still hearing the silence before the first sample.
	if _, ok := heardMediaNS(50*time.Millisecond, Stats{FirstSample: 4800, Played: 9600}); ok {
		t.Error("heard position known while the lead-in silence plays")
	}
}

// durationToFrames floors to whole samples, also past the point where
// d·48000 overflows int64 (53 hours).
func TestDurationToFrames(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want int64
	}{
		{0, 0},
		{time.Millisecond, 48},
		{time.Millisecond - 1, 47},
		{time.Second, 48000},
		{30*24*time.Hour + 500*time.Microsecond, 48000*3600*24*30 + 24},
	} {
		if got := durationToFrames(c.d); got != c.want {
			t.Errorf("durationToFrames(%v) = %d, want %d", c.d, got, c.want)
		}
	}
}
