package ui

import (
	"image"
	"slices"
	"testing"

	"segcast/engine"
)

// A loud chunk shows in the strip at its media time: under the play head
// when the head is at that time, and 20 ms (four columns) to the left of
// it one chunk later. Silence draws only the centre line.
func TestWaveformPlacesSound(t *testing.T) {
	w := newWaveHistory()
	samples := make([]int16, engine.ChunkSamples*2)
	for seq := int64(0); seq < 100; seq++ {
		v := int16(0)
		if seq == 50 {
			v = 30000
		}
		for i := range samples {
			samples[i] = v
		}
		w.add(&engine.AudioChunk{Seq: seq, Samples: samples})
	}
	img := image.NewRGBA(image.Rect(0, 0, waveWidth, waveHeight))
	loudCols := func() []int {
		var cols []int
		for x := range waveWidth {
			if x != waveHead && img.RGBAAt(x, waveHeight/4) == waveFG { // near the top: only loud sound
				cols = append(cols, x)
			}
		}
		return cols
	}
	expect := func(headChunk int64, first int) {
		t.Helper()
		w.draw(img, headChunk*engine.ChunkNS)
		var want []int
		for x := first; x < first+waveColsPerChk; x++ {
			if x != waveHead { // the head line is drawn over the sound
				want = append(want, x)
			}
		}
		if got := loudCols(); !slices.Equal(got, want) {
			t.Fatalf("head at chunk %d: loud columns %v, want %v", headChunk, got, want)
		}
	}
	expect(50, waveHead)
	expect(51, waveHead-waveColsPerChk)
	expect(90, waveHead-40*waveColsPerChk)
}
