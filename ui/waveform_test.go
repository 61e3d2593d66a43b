package ui

import (
	"image"
	"slices"
	"testing"
	"time"

	"segcast/engine"
	"segcast/engine/pattern"
)

// waitEnvelope draws until the segment's envelope is ready.
func waitEnvelope(t *testing.T, w *waveStrip, seg *engine.Segment) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for w.envelope(seg) == nil {
		if time.Now().After(deadline) {
			t.Fatal("envelope not computed")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The strip shows the segment's own sound around the play head: a loud
// 20 ms burst at 1 s is under the head with the head at 1 s, 20 ms (four
// columns) left of it with the head 20 ms later, and off the strip with
// the head 3 s away; paused, the same head draws the same strip.
func TestWaveformShowsSoundAroundHead(t *testing.T) {
	samples := make([]int16, engine.AudioRate*4)
	for i := engine.AudioRate; i < engine.AudioRate+engine.ChunkSamples; i++ {
		samples[i] = 30000
	}
	seg := &engine.Segment{Name: "burst", Rate: engine.Rate30, Frames: emptyFrames{}, Audio: engine.NewPCM(samples, 1)}
	w := newWaveStrip(nil)
	waitEnvelope(t, w, seg)
	img := image.NewRGBA(image.Rect(0, 0, waveWidth, waveHeight))
	loudCols := func() []int {
		var cols []int
		for x := range waveWidth {
			if x != waveHead && img.RGBAAt(x, waveHeight/8) == waveFG { // near the top: only loud sound
				cols = append(cols, x)
			}
		}
		return cols
	}
	cols := func(first int) []int {
		var want []int
		for x := first; x < first+engine.ChunkNS/waveColNS; x++ {
			if x != waveHead {
				want = append(want, x)
			}
		}
		return want
	}
	w.draw(img, seg, 1e9)
	if got := loudCols(); !slices.Equal(got, cols(waveHead)) {
		t.Fatalf("head at 1 s: loud columns %v, want %v", got, cols(waveHead))
	}
	w.draw(img, seg, 1e9+engine.ChunkNS)
	if got := loudCols(); !slices.Equal(got, cols(waveHead-4)) {
		t.Fatalf("head at 1.02 s: loud columns %v, want %v", got, cols(waveHead-4))
	}
	w.draw(img, seg, 3.5e9)
	if got := loudCols(); len(got) != 0 {
		t.Fatalf("head at 3.5 s: loud columns %v, want none", got)
	}
}

// The pattern's strip marks each flash (top) and beep onset (bottom) at
// their times: at 30 fps both at every whole second.
func TestWaveformPatternMarks(t *testing.T) {
	seg := pattern.New(64, 36, engine.Rate2997, 10*time.Second)
	w := newWaveStrip(nil)
	waitEnvelope(t, w, seg)
	img := image.NewRGBA(image.Rect(0, 0, waveWidth, waveHeight))
	head := int64(3_100_000_000) // no mark under the head line
	w.draw(img, seg, head)
	var flashes, beeps []int
	for x := range waveWidth {
		if img.RGBAAt(x, 1) == waveFlash && (x == 0 || img.RGBAAt(x-1, 1) != waveFlash) {
			flashes = append(flashes, x)
		}
		if img.RGBAAt(x, waveHeight-2) == waveBeep && (x == 0 || img.RGBAAt(x-1, waveHeight-2) != waveBeep) {
			beeps = append(beeps, x)
		}
	}
	var want []int
	for s := int64(1); s <= 6; s++ {
		// The first 29.97 fps frame at or after each second.
		flashNS := engine.Rate2997.FrameNS(engine.Rate2997.FramesIn(s * 1e9))
		if x := (flashNS - (head - waveHead*waveColNS)) / waveColNS; x >= 0 && x < waveWidth {
			want = append(want, int(x))
		}
	}
	if !slices.Equal(flashes, want) {
		t.Errorf("flash marks at columns %v, want %v", flashes, want)
	}
	if !slices.Equal(beeps, want) {
		t.Errorf("beep marks at columns %v, want %v (the beep starts with its flash)", beeps, want)
	}
}

// emptyFrames is a segment without pictures.
type emptyFrames struct{}

func (emptyFrames) Len() int                        { return 0 }
func (emptyFrames) Frame(int) (*image.YCbCr, error) { return nil, nil }
func (emptyFrames) Prefetch(int)                    {}
func (emptyFrames) Bytes() int64                    { return 0 }
func (emptyFrames) Release()                        {}
