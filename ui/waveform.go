package ui

import (
	"image"
	"image/color"
	"sync"

	"segcast/engine"
)

// The strip shows waveColumns columns of waveColNS each: the last few
// seconds played and the loop's lead ahead, the play head at waveHead.
const (
	waveColNS      = 5_000_000 // 5 ms per column
	waveColsPerChk = engine.ChunkNS / waveColNS
	waveWidth      = 800 // 4 s
	waveHeight     = 64
	waveHead       = waveWidth * 7 / 8
	waveChunks     = waveWidth/waveColsPerChk + 8 // history ring size
)

var (
	waveBG    = color.RGBA{0x14, 0x18, 0x22, 0xff}
	waveFG    = color.RGBA{0x38, 0xbd, 0xf8, 0xff}
	waveHeadC = color.RGBA{0xf9, 0x73, 0x16, 0xff}
)

// waveChunk is the peak envelope of one 20 ms chunk.
type waveChunk struct {
	seq    int64
	lo, hi [waveColsPerChk]int16
}

// waveHistory keeps the envelope of recent chunks, indexed by sequence
// number, written by the loop and read by the preview goroutine.
type waveHistory struct {
	mu    sync.Mutex
	ring  [waveChunks]waveChunk
	valid [waveChunks]bool
}

func newWaveHistory() *waveHistory { return &waveHistory{} }

func (w *waveHistory) add(c *engine.AudioChunk) {
	var wc waveChunk
	wc.seq = c.Seq
	per := engine.ChunkSamples / waveColsPerChk
	for col := range waveColsPerChk {
		lo, hi := int16(0), int16(0)
		for i := col * per; i < (col+1)*per && 2*i+1 < len(c.Samples); i++ {
			v := c.Samples[2*i] // left is enough to see where sound is
			lo, hi = min(lo, v), max(hi, v)
		}
		wc.lo[col], wc.hi[col] = lo, hi
	}
	k := c.Seq % waveChunks
	w.mu.Lock()
	w.ring[k], w.valid[k] = wc, true
	w.mu.Unlock()
}

// draw renders the strip around media time headNS into dst.
func (w *waveHistory) draw(dst *image.RGBA, headNS int64) {
	h := dst.Bounds().Dy()
	pix := dst.Pix
	for i := 0; i < len(pix); i += 4 {
		pix[i], pix[i+1], pix[i+2], pix[i+3] = waveBG.R, waveBG.G, waveBG.B, 0xff
	}
	headCol := headNS / waveColNS
	mid := h / 2
	w.mu.Lock()
	defer w.mu.Unlock()
	for x := range dst.Bounds().Dx() {
		col := headCol - waveHead + int64(x)
		if col < 0 {
			continue
		}
		seq := col / waveColsPerChk
		k := seq % waveChunks
		if !w.valid[k] || w.ring[k].seq != seq {
			continue
		}
		c := col % waveColsPerChk
		y0 := mid - int(w.ring[k].hi[c])*mid/32768
		y1 := mid - int(w.ring[k].lo[c])*mid/32768
		for y := max(y0, 0); y <= min(y1, h-1); y++ {
			dst.SetRGBA(x, y, waveFG)
		}
	}
	for y := range h {
		dst.SetRGBA(waveHead, y, waveHeadC)
	}
}
