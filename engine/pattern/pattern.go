// Package pattern is the built-in sync test pattern and the idle card.
// Every pattern frame shows a timecode and a frame counter, carries its
// index as a row of black/white blocks, and once a second a full-frame
// white flash coincides with a 40 ms 1 kHz beep. Frames and samples are
// synthesised on demand, so an hour costs no more memory than a second.
// It builds engine Segments; the engine itself never imports it.
package pattern

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"sync"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"segcast/engine"
)

const (
	beepSamples   = engine.AudioRate * 40 / 1000 // 40 ms
	beepHz        = 1000
	beepAmplitude = 16384
	cacheFrames   = 8 // rendered frames kept; the loop reads each a few times

	// Frame index code: start guard (1,0), 24 bits of k MSB first, CRC-8
	// of those 3 bytes, end guard (0,1). Cells sit on a grid of codeUnits
	// across the width with one empty unit each side, so the decoder can
	// find them from the image size alone, at any scale.
	codeBits  = 24
	codeCells = 2 + codeBits + 8 + 2
	codeUnits = codeCells + 2

	minSide = 16
	maxSide = 8192
)

// Luma levels (full-range YCbCr, as image.YCbCr is).
const (
	lumaBackground = 40
	lumaText       = 235
	lumaBlack      = 0
	lumaWhite      = 255
)

// DefaultLength is how long the pattern segment is when nobody says: the
// window and the subcommands loop it.
const DefaultLength = time.Minute

// New returns the built-in sync test pattern: dur of video at rate
// and w×h, with matching 48 kHz mono sound. Sizes are clamped to
// [16, 8192] and rounded up to even (I420); an invalid rate becomes 30 fps.
func New(w, h int, rate engine.Rate, dur time.Duration) *engine.Segment {
	w, h = side(w), side(h)
	if rate.Valid() != nil {
		rate = engine.Rate30
	}
	dur = max(dur, 0)
	n := rate.FramesIn(int64(dur))
	samples := int64(dur) * engine.AudioRate / int64(time.Second)
	frames := &frames{w: w, h: h, rate: rate, n: int(n), bg: background(w, h)}
	return &engine.Segment{
		Name:   fmt.Sprintf("Sync pattern %dx%d %s fps", w, h, rate),
		Source: "pattern",
		Rate:   rate,
		Width:  w,
		Height: h,
		Frames: frames,
		Audio:  &beeps{rate: rate, frames: n, samples: samples, table: beepTable()},
		// The pattern is born at 48 kHz mono.
		SourceAudioRate: engine.AudioRate,
		SourceChannels:  1,
	}
}

func side(v int) int {
	v = min(max(v, minSide), maxSide)
	return v + v%2
}

// isFlashFrame reports whether frame k of a stream at rate r is the first
// whose time is at or past a whole second: the flash frame for it.
func isFlashFrame(r engine.Rate, k int64) bool {
	if k == 0 {
		return true
	}
	sec := r.FrameNS(k) / 1e9 * 1e9
	return r.FrameNS(k-1) < sec
}

// BeepOnsetSample is the first 48 kHz sample at or after the media time of
// a flash frame: where the pattern's beep starts. When the flash time is a
// whole number of samples (every common rate) it is exactly
// flashNS·48000/1e9.
func BeepOnsetSample(flashNS int64) int64 {
	return (flashNS*(engine.AudioRate/1000) + 999_999) / 1_000_000
}

// frames renders frames on request and keeps the last few.
type frames struct {
	w, h int
	rate engine.Rate
	n    int
	bg   *image.YCbCr // immutable background, copied into each frame

	mu    sync.Mutex
	cache [cacheFrames]struct {
		k   int
		img *image.YCbCr
	}
	next int // cache slot to overwrite
}

func (p *frames) Len() int     { return p.n }
func (p *frames) Prefetch(int) {} // rendering is cheap enough on demand
func (p *frames) Bytes() int64 {
	return int64(cacheFrames) * int64(len(p.bg.Y)+len(p.bg.Cb)+len(p.bg.Cr))
}

func (p *frames) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.cache {
		p.cache[i].img = nil
	}
}

func (p *frames) Frame(i int) (*image.YCbCr, error) {
	if i < 0 || i >= p.n {
		return nil, fmt.Errorf("pattern frame %d out of range [0,%d)", i, p.n)
	}
	p.mu.Lock()
	for _, c := range p.cache {
		if c.img != nil && c.k == i {
			p.mu.Unlock()
			return c.img, nil
		}
	}
	p.mu.Unlock()
	img := renderFrame(p.bg, p.rate, int64(i))
	p.mu.Lock()
	p.cache[p.next].k, p.cache[p.next].img = i, img
	p.next = (p.next + 1) % cacheFrames
	p.mu.Unlock()
	return img, nil
}

// background is a dark teal field with the code band in neutral
// grey, drawn once per pattern.
func background(w, h int) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	fill(img.Y, lumaBackground)
	fill(img.Cb, 140)
	fill(img.Cr, 112)
	return img
}

func fill(b []byte, v byte) {
	for i := range b {
		b[i] = v
	}
}

func copyFrame(src *image.YCbCr) *image.YCbCr {
	dst := image.NewYCbCr(src.Rect, src.SubsampleRatio)
	copy(dst.Y, src.Y)
	copy(dst.Cb, src.Cb)
	copy(dst.Cr, src.Cr)
	return dst
}

func renderFrame(bg *image.YCbCr, r engine.Rate, k int64) *image.YCbCr {
	img := copyFrame(bg)
	w, h := img.Rect.Dx(), img.Rect.Dy()
	ns := r.FrameNS(k)
	textLuma := byte(lumaText)
	if isFlashFrame(r, k) {
		fill(img.Y, lumaWhite)
		fill(img.Cb, 128)
		fill(img.Cr, 128)
		textLuma = lumaBlack
	}
	// Frame within the second: k minus the first frame of this second.
	sec := ns / 1e9
	ff := k - r.FramesIn(sec*1e9)
	tc := fmt.Sprintf("%02d:%02d:%02d:%02d", sec/3600, sec/60%60, sec%60, ff)
	big := max(1, h/90)
	drawText(img, tc, h*14/100, big, textLuma)
	drawText(img, fmt.Sprintf("frame %d", k), h*42/100, max(1, big/2), textLuma)
	drawText(img, fmt.Sprintf("%dx%d  %s fps", w, h, r), h*56/100, max(1, big/3), textLuma)
	// A bar growing through each second, so motion is visible at a glance.
	barW := int(int64(w-w/5) * (ns % 1e9) / 1e9)
	fillLuma(img, image.Rect(w/10, h*68/100, w/10+barW, h*68/100+max(2, h/40)), textLuma)
	drawCode(img, k)
	return img
}

// fillLuma sets the luma of rect (clipped to img).
func fillLuma(img *image.YCbCr, rect image.Rectangle, v byte) {
	rect = rect.Intersect(img.Rect)
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		row := img.Y[img.YOffset(rect.Min.X, y) : img.YOffset(rect.Max.X-1, y)+1]
		fill(row, v)
	}
}

// drawText writes s in basicfont's 7×13 face scaled by an integer factor,
// centred horizontally with its top at y. The factor shrinks to fit.
func drawText(img *image.YCbCr, s string, y, scale int, v byte) {
	face := basicfont.Face7x13
	tw := font.MeasureString(face, s).Ceil()
	th := face.Height
	mask := image.NewAlpha(image.Rect(0, 0, tw, th))
	d := font.Drawer{Dst: mask, Src: image.Opaque, Face: face, Dot: fixed.P(0, face.Ascent)}
	d.DrawString(s)
	w := img.Rect.Dx()
	for scale > 1 && tw*scale > w*9/10 {
		scale--
	}
	x0 := img.Rect.Min.X + (w-tw*scale)/2
	y0 := img.Rect.Min.Y + y
	for my := 0; my < th; my++ {
		for mx := 0; mx < tw; mx++ {
			if mask.AlphaAt(mx, my).A < 128 {
				continue
			}
			fillLuma(img, image.Rect(x0+mx*scale, y0+my*scale, x0+(mx+1)*scale, y0+(my+1)*scale), v)
		}
	}
}

// codeBand is the rows holding the index code: the second-to-last twelfth.
func codeBand(b image.Rectangle) (y0, y1 int) {
	h := b.Dy()
	return b.Min.Y + h*10/12, b.Min.Y + h*11/12
}

// codeCellX is the horizontal span of code cell i.
func cellX(b image.Rectangle, i int) (x0, x1 int) {
	w := b.Dx()
	return b.Min.X + w*(i+1)/codeUnits, b.Min.X + w*(i+2)/codeUnits
}

// codeWord is the cell values for frame index k (mod 2^24).
func codeWord(k int64) [codeCells]bool {
	var c [codeCells]bool
	v := uint32(k) & (1<<codeBits - 1)
	c[0] = true
	for i := range codeBits {
		c[2+i] = v>>(codeBits-1-i)&1 == 1
	}
	crc := crc8([]byte{byte(v >> 16), byte(v >> 8), byte(v)})
	for i := range 8 {
		c[2+codeBits+i] = crc>>(7-i)&1 == 1
	}
	c[codeCells-1] = true
	return c
}

// crc8 is CRC-8/SMBUS (polynomial 0x07): it catches every single and
// double bit error in the 24 data bits.
func crc8(b []byte) byte {
	var c byte
	for _, x := range b {
		c ^= x
		for range 8 {
			if c&0x80 != 0 {
				c = c<<1 ^ 0x07
			} else {
				c <<= 1
			}
		}
	}
	return c
}

func drawCode(img *image.YCbCr, k int64) {
	y0, y1 := codeBand(img.Rect)
	// Neutral chroma under the band so colour bleed cannot shift luma.
	for y := y0 / 2; y < (y1+1)/2; y++ {
		for x := img.Rect.Min.X / 2; x < (img.Rect.Max.X+1)/2; x++ {
			i := img.COffset(x*2, y*2)
			img.Cb[i], img.Cr[i] = 128, 128
		}
	}
	for i, bit := range codeWord(k) {
		x0, x1 := cellX(img.Rect, i)
		v := byte(lumaBlack)
		if bit {
			v = lumaWhite
		}
		fillLuma(img, image.Rect(x0, y0, x1, y1), v)
	}
}

// IndexMask: the picture carries the frame index modulo 2^24, so
// ReadIndex returns k & IndexMask.
const IndexMask = 1<<codeBits - 1

// ReadIndex decodes the frame index drawn by the sync pattern, from
// a frame as decoded by a receiver (any scale, mild compression). ok is
// false when the guards, the cell levels or the CRC do not match. The
// index is k mod 2^24.
func ReadIndex(img image.Image) (k int64, ok bool) {
	b := img.Bounds()
	if b.Dx() < codeUnits || b.Dy() < 12 {
		return 0, false
	}
	y0, y1 := codeBand(b)
	var cells [codeCells]bool
	for i := range cells {
		x0, x1 := cellX(b, i)
		// The middle half of the cell, away from blurred edges.
		in := image.Rect(x0+(x1-x0)/4, y0+(y1-y0)/4, x1-(x1-x0)/4, y1-(y1-y0)/4)
		m := meanLuma(img, in)
		switch {
		case m < 96:
			cells[i] = false
		case m > 160:
			cells[i] = true
		default:
			return 0, false
		}
	}
	var v uint32
	for i := range codeBits {
		v <<= 1
		if cells[2+i] {
			v |= 1
		}
	}
	if codeWord(int64(v)) != cells {
		return 0, false
	}
	return int64(v), true
}

// IsFlash reports whether img is the pattern's full-frame white flash: the
// picture above the code band is mostly white.
func IsFlash(img image.Image) bool {
	b := img.Bounds()
	y0, _ := codeBand(b)
	return meanLuma(img, image.Rect(b.Min.X, b.Min.Y, b.Max.X, y0)) > 160
}

// meanLuma averages luma over at most 16×16 points spread across r.
func meanLuma(img image.Image, r image.Rectangle) float64 {
	r = r.Intersect(img.Bounds())
	if r.Empty() {
		return 0
	}
	nx, ny := min(16, r.Dx()), min(16, r.Dy())
	yc, isYCbCr := img.(*image.YCbCr)
	sum := 0
	for j := range ny {
		y := r.Min.Y + (2*j+1)*r.Dy()/(2*ny)
		for i := range nx {
			x := r.Min.X + (2*i+1)*r.Dx()/(2*nx)
			if isYCbCr {
				sum += int(yc.Y[yc.YOffset(x, y)])
			} else {
				sum += int(color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y)
			}
		}
	}
	return float64(sum) / float64(nx*ny)
}

// IdleCard is what the loop shows with nothing to play: dark grey with
// "Segcast" and "idle" written in the middle.
func IdleCard(w, h int) *image.YCbCr {
	w, h = max(w, 2), max(h, 2)
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	fill(img.Y, 24)
	fill(img.Cb, 128)
	fill(img.Cr, 128)
	big := max(1, h/80)
	drawText(img, "Segcast", h*35/100, big, 200)
	drawText(img, "idle", h*60/100, max(1, big/2), 140)
	return img
}

// beeps synthesises the beeps: silence except a 40 ms 1 kHz tone
// starting at the first sample at or after each flash frame's time.
type beeps struct {
	rate    engine.Rate
	frames  int64 // video frames: a beep needs its flash frame
	samples int64
	table   [engine.AudioRate / beepHz]int16 // one period, starting at the peak
}

// beepTable is one period of the tone as a cosine, so the onset sample is
// at full amplitude and detectable exactly.
func beepTable() (t [engine.AudioRate / beepHz]int16) {
	for i := range t {
		t[i] = int16(math.Round(beepAmplitude * math.Cos(2*math.Pi*float64(i)/float64(len(t)))))
	}
	return t
}

func (a *beeps) Len() int64    { return a.samples }
func (a *beeps) Channels() int { return 1 }
func (a *beeps) Bytes() int64  { return 0 }

func (a *beeps) Fill(dst []int16, off int64) {
	clear(dst)
	n := int64(len(dst) / 2)
	lo, hi := max(off, 0), min(off+n, a.samples) // audible part of the request
	if lo >= hi {
		return
	}
	// Beeps starting in [lo-beepSamples, hi) can overlap. A flash comes at
	// most one frame after its second, so scan seconds from a frame's
	// length (rounded up to seconds) before that.
	back := (a.rate.Den + a.rate.Num - 1) / a.rate.Num
	first := max(0, (lo-beepSamples)/engine.AudioRate-back-1)
	for sec := first; sec*engine.AudioRate < hi; sec++ {
		k := a.rate.FramesIn(sec * 1e9) // first frame at or after the second
		if k >= a.frames || a.rate.FrameNS(k)/1e9 != sec || !isFlashFrame(a.rate, k) {
			continue
		}
		onset := BeepOnsetSample(a.rate.FrameNS(k))
		for s := max(onset, lo); s < min(onset+beepSamples, hi); s++ {
			v := a.table[(s-onset)%int64(len(a.table))]
			dst[2*(s-off)], dst[2*(s-off)+1] = v, v
		}
	}
}
