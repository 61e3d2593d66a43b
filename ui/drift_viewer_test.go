package ui

import (
	"sync"
	"testing"
	"time"

	"segcast/rtc"
	"segcast/rtc/measure/avsync"
)

// fakeSession is the part of *rtc.Session a viewer's drift view reads.
type fakeSession struct {
	mu           sync.Mutex
	rows         map[string][]avsync.Measurement
	stats        rtc.SessionStats
	audio, video []float64
}

func (f *fakeSession) Measurements(id string) []avsync.Measurement {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rows[id]
}

func (f *fakeSession) Stats() rtc.SessionStats { return f.stats }

func (f *fakeSession) SendErrors() (a, v []float64) { return f.audio, f.video }

// The viewer's rows reach the view; once the session forgets the viewer
// (closed) the last rows stay; send timing comes from the raw errors.
func TestViewerFeed(t *testing.T) {
	sess := &fakeSession{rows: map[string][]avsync.Measurement{"v1": knownRows()}}
	sess.stats.AudioSendErr = rtc.Percentiles{N: 3, P50: time.Millisecond, P99: 2 * time.Millisecond}
	sess.stats.VideoSendErr = rtc.Percentiles{N: 3, P50: time.Millisecond, P99: 2 * time.Millisecond}
	sess.stats.LateVideo = 4
	sess.audio = []float64{0.1, 0.2, 0.3}
	sess.video = []float64{1, 2, 3, 4, 5}
	f := newViewerFeed("v1", sess, sess)
	v := newDriftView(f, syncDo, "Latency", "Freezes")
	v.update()
	if v.samples.Text != "121" || v.median.Text != "6.0 ms" {
		t.Fatalf("viewer view shows %s samples, median %s; want 121, 6.0 ms", v.samples.Text, v.median.Text)
	}
	if a, vv := v.sendAudio.Text, v.sendVideo.Text; a != "p50 0.20 · p99 0.30 ms" || vv != "p50 3.00 · p99 4.96 ms" {
		t.Errorf("send error %q, %q; want p50 0.20 · p99 0.30 ms, p50 3.00 · p99 4.96 ms", a, vv)
	}
	sess.mu.Lock()
	delete(sess.rows, "v1")
	sess.mu.Unlock()
	v.update()
	if v.samples.Text != "121" {
		t.Errorf("after the viewer closed the view shows %s samples, want the last 121", v.samples.Text)
	}
	if other := newViewerFeed("v2", sess, sess); len(other.measurements()) != 0 {
		t.Error("another viewer's feed shows v1's rows")
	}
	if none := newViewerFeed("v1", nil, nil); none.measurements() != nil || none.unavailable() == "" {
		t.Error("a session without measurements gives rows or no explanation")
	}
}
