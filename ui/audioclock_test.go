package ui

import (
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"segcast/engine"
)

// fakeAudio is an audio device whose played position only moves when the
// test says so.
type fakeAudio struct {
	*manualClock
	latency time.Duration
	mu      sync.Mutex
	volume  float64
	muted   bool
}

func (f *fakeAudio) WriteVideo(*engine.VideoFrame) {}
func (f *fakeAudio) WriteAudio(*engine.AudioChunk) {}
func (f *fakeAudio) Device() string                { return "fake" }
func (f *fakeAudio) Latency() time.Duration        { return f.latency }
func (f *fakeAudio) SetVolume(v float64)           { f.mu.Lock(); f.volume = v; f.mu.Unlock() }
func (f *fakeAudio) SetMuted(m bool)               { f.mu.Lock(); f.muted = m; f.mu.Unlock() }
func (f *fakeAudio) Close() error                  { return nil }

var frameRE = regexp.MustCompile(`frame (\d+)`)

// The audio device's played position decides which frame is on screen:
// nothing later than the device's position is shown. Once streaming
// starts, the wall clock takes over and the preview waits out the
// device's output latency.
func TestPreviewFollowsAudioClock(t *testing.T) {
	dev := &fakeAudio{manualClock: newManualClock(), latency: 180 * time.Millisecond}
	h := newHarnessAudio(t, Options{}, dev) // the pattern plays at start
	shownFrame := func() int {
		var n int
		h.onUI(func() {
			if m := frameRE.FindStringSubmatch(h.c.player.preview.label.Text); m != nil {
				n, _ = strconv.Atoi(m[1])
			} else {
				n = -1
			}
		})
		return n
	}
	// The loop may start a chunk before Play lands, so at device time 0
	// the idle frame or the pattern's frame 0 is on screen, nothing later.
	h.waitFor("a first frame", func() bool { return h.c.player.preview.shown.Load() > 0 })
	time.Sleep(300 * time.Millisecond) // real time passes; the device does not
	if n := shownFrame(); n > 0 {
		t.Fatalf("device at 0 s: frame %d on screen, want idle or 0", n)
	}
	dev.Advance(500 * time.Millisecond)
	h.waitFor("frames up to 0.5 s", func() bool {
		m := frameRE.FindStringSubmatch(h.c.player.preview.label.Text)
		return m != nil && m[1] != "0"
	})
	time.Sleep(300 * time.Millisecond)
	if n := shownFrame(); n < 1 || n > 15 {
		t.Fatalf("device at 0.5 s: frame %d on screen, want 1..15", n)
	}
	h.onUI(func() {
		if h.c.statusText(engine.LoopStats{}, 0) == "" || !regexp.MustCompile(`audio: fake`).MatchString(h.c.statusText(engine.LoopStats{}, 0)) {
			t.Errorf("status %q does not name the device", h.c.statusText(engine.LoopStats{}, 0))
		}
		if _, err := h.c.stream.session(); err != nil {
			t.Fatal(err)
		}
		if h.c.player.clock.Current() != h.c.player.wall {
			t.Error("streaming did not hand the clock to the wall clock")
		}
		if d := time.Duration(h.c.player.preview.delay.Load()); d != dev.latency {
			t.Errorf("preview delay %v while streaming, want the output latency %v", d, dev.latency)
		}
	})
}

// Without a device the status bar says so.
func TestNoAudioDeviceStatus(t *testing.T) {
	h := newHarness(t, Options{})
	h.onUI(func() {
		if s := h.c.statusText(engine.LoopStats{}, 0); !regexp.MustCompile(`no audio device`).MatchString(s) {
			t.Errorf("status %q lacks \"no audio device\"", s)
		}
	})
}

// The volume slider and the mute box reach the device.
func TestVolumeAndMute(t *testing.T) {
	dev := &fakeAudio{manualClock: newManualClock(), volume: 1}
	h := newHarnessAudio(t, Options{}, dev)
	h.onUI(func() { h.c.tr.volume.SetValue(0.25) })
	h.tap(h.c.tr.mute)
	dev.mu.Lock()
	defer dev.mu.Unlock()
	if dev.volume != 0.25 || !dev.muted {
		t.Errorf("device volume %v muted %v, want 0.25 and muted", dev.volume, dev.muted)
	}
}
