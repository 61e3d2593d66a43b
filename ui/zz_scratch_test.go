package ui

import (
	"image/png"
	"os"
	"testing"
)

func TestScratchDriftPNG(t *testing.T) {
	s := sendSample{audioP50: 0.2, audioP99: 1, videoP50: 0.4, videoP99: 2}
	v := newDriftView(fakeFeed{rows: fullLocalLog().measurements(), send: &s}, syncDo, "Latency", "Freezes")
	for i := range sendHistoryCap {
		v.sends = append(v.sends, sendSample{atS: float64(i) / 2, audioP99: 1 + float64(i%13)/10, videoP99: 2, audioP50: 0.2, videoP50: 0.4, lateVideo: int64(i / 500)})
	}
	r, sends := v.report()
	img := renderDrift(r, sends)
	f, _ := os.Create("/tmp/p_full.png")
	png.Encode(f, img)
	f.Close()
	v2 := newDriftView(fakeFeed{rows: knownRows()}, syncDo, "Latency", "Freezes")
	r, sends = v2.report()
	f, _ = os.Create("/tmp/p_known.png")
	png.Encode(f, renderDrift(r, sends))
	f.Close()
}
