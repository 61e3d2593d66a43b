package engine

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
)

// FrameStore accounts for the memory that loaded segments hold, frames and
// 48 kHz sound, against a budget. Loaders allocate every segment from one
// store; a load that cannot fit is refused with a *BudgetError, before
// decoding when the headers show it, and leaves Used unchanged.
type FrameStore struct {
	mu     sync.Mutex
	budget int64
	used   int64
}

// NewFrameStore returns a store that holds at most budget bytes of frames.
func NewFrameStore(budget int64) *FrameStore { return &FrameStore{budget: budget} }

// fallbackBudget is used when physical RAM cannot be read.
const fallbackBudget = 2 << 30

// DefaultBudget is a quarter of physical RAM (MemTotal in /proc/meminfo),
// or 2 GiB where that cannot be read.
func DefaultBudget() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return fallbackBudget
	}
	defer f.Close()
	total, err := memTotal(f)
	if err != nil {
		return fallbackBudget
	}
	return total / 4
}

// memTotal reads the MemTotal line of /proc/meminfo, in bytes.
func memTotal(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("meminfo: MemTotal line %q", sc.Text())
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb <= 0 {
			return 0, fmt.Errorf("meminfo: MemTotal %q", f[0])
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("meminfo: no MemTotal line")
}

// Used is the memory held by frames of loaded segments.
func (s *FrameStore) Used() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}

// Budget is the most the store will hold.
func (s *FrameStore) Budget() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.budget
}

// SetBudget changes the budget. Lowering it below Used keeps what is loaded
// and refuses further loads until segments are released.
func (s *FrameStore) SetBudget(b int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.budget = b
}

// Left is what may still be allocated.
func (s *FrameStore) Left() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(0, s.budget-s.used)
}

// take reserves n bytes if they fit.
func (s *FrameStore) take(n int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used+n > s.budget {
		return false
	}
	s.used += n
	return true
}

// reserve takes n bytes for what, or refuses with a *BudgetError.
func (s *FrameStore) reserve(n int64, what string) error {
	if !s.take(n) {
		return &BudgetError{What: what, Need: n, Left: s.Left()}
	}
	return nil
}

// give returns n bytes.
func (s *FrameStore) give(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used -= n
}

// BudgetError refuses a load that would not fit in the store's budget even
// with frames compressed.
type BudgetError struct {
	What string // what needs the memory: frameMemory or soundMemory
	Need int64  // bytes it needs
	Left int64  // bytes that were left in the budget when the load began
}

// What a BudgetError is about.
const (
	frameMemory = "frame memory"
	soundMemory = "memory for its sound (48 kHz)"
)

func (e *BudgetError) Error() string {
	return fmt.Sprintf("needs %.1f MiB of %s but only %.1f MiB of the budget is left", mib(e.Need), e.What, mib(e.Left))
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// frameJPEGQuality trades the compressed frames' size against fidelity.
// Measured on 720p (bench/README.md, "Loading and the frame store"): testsrc2 frames are 67 KB at
// ≥ 46.7 dB PSNR, gradients with noise 110 KB at ≥ 45 dB, so ten minutes
// of 720p30 take 1.2–1.9 GiB. Quality 80 would save a quarter at ~41 dB.
const frameJPEGQuality = 90

func encodeFrame(img *image.YCbCr) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: frameJPEGQuality}); err != nil {
		return nil, err
	}
	return bytes.Clone(buf.Bytes()), nil
}

// decodeFrame decodes a compressed frame into a tightly packed I420 image,
// the layout every FrameSource returns.
func decodeFrame(data []byte) (*image.YCbCr, error) {
	m, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	y, ok := m.(*image.YCbCr)
	if !ok || y.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		return nil, fmt.Errorf("compressed frame is %T, not 4:2:0", m)
	}
	return packYCbCr(y), nil
}

// packYCbCr copies a 4:2:0 image into a new one with YStride = width,
// CStride = (width+1)/2 and its origin at 0,0.
func packYCbCr(src *image.YCbCr) *image.YCbCr {
	b := src.Rect
	dst := image.NewYCbCr(image.Rect(0, 0, b.Dx(), b.Dy()), image.YCbCrSubsampleRatio420)
	for y := range b.Dy() {
		copy(dst.Y[y*dst.YStride:(y+1)*dst.YStride], src.Y[src.YOffset(b.Min.X, b.Min.Y+y):])
	}
	cw, ch := (b.Dx()+1)/2, (b.Dy()+1)/2
	for y := range ch {
		off := src.COffset(b.Min.X, b.Min.Y+2*y)
		copy(dst.Cb[y*cw:(y+1)*cw], src.Cb[off:])
		copy(dst.Cr[y*cw:(y+1)*cw], src.Cr[off:])
	}
	return dst
}

// frameBytes is the memory of one packed I420 frame.
func frameBytes(w, h int) int64 {
	return int64(w*h + 2*((w+1)/2)*((h+1)/2))
}

// Decoding ahead of the play head: the worker keeps prefetchAhead frames
// decoded from the hinted one on, in a cache of cacheFrames (least recently
// used goes first, which is the frames already played).
const (
	prefetchAhead = 4
	cacheFrames   = 8
)

// storedFrames is the FrameSource of a loaded segment: frame i is either
// raw I420 (raw[i] != nil) or a JPEG in jpg[i], decoded on demand.
type storedFrames struct {
	store *FrameStore
	w, h  int

	mu   sync.Mutex
	raw  []*image.YCbCr
	jpg  [][]byte
	held int64 // bytes reserved in store for the frames
	// sound is the segment's 48 kHz sound reserved in store. It rides
	// here because Segment.Release releases the frames: Release gives it
	// back with them. Bytes does not count it (the Audio does).
	sound    int64
	released bool
	cache    []cachedFrame
	tick     uint64

	compressed int // how many frames are in jpg
	workerOnce sync.Once
	hint       chan int
	done       chan struct{}
}

type cachedFrame struct {
	i    int
	img  *image.YCbCr
	used uint64
}

func (s *storedFrames) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.raw)
}

func (s *storedFrames) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

// Frame returns frame i, decoding it now when it is compressed and the
// worker has not got to it yet.
func (s *storedFrames) Frame(i int) (*image.YCbCr, error) {
	s.mu.Lock()
	if s.released {
		s.mu.Unlock()
		return nil, fmt.Errorf("frame %d: segment released", i)
	}
	if i < 0 || i >= len(s.raw) {
		n := len(s.raw)
		s.mu.Unlock()
		return nil, fmt.Errorf("frame %d out of range (%d frames)", i, n)
	}
	if img := s.raw[i]; img != nil {
		s.mu.Unlock()
		return img, nil
	}
	if img := s.cachedLocked(i); img != nil {
		s.mu.Unlock()
		return img, nil
	}
	data := s.jpg[i]
	s.mu.Unlock()
	img, err := decodeFrame(data)
	if err != nil {
		return nil, fmt.Errorf("frame %d: decode: %w", i, err)
	}
	s.mu.Lock()
	s.putLocked(i, img)
	s.mu.Unlock()
	return img, nil
}

func (s *storedFrames) cachedLocked(i int) *image.YCbCr {
	for k := range s.cache {
		if s.cache[k].i == i {
			s.tick++
			s.cache[k].used = s.tick
			return s.cache[k].img
		}
	}
	return nil
}

func (s *storedFrames) putLocked(i int, img *image.YCbCr) {
	if s.released || s.cachedLocked(i) != nil {
		return
	}
	s.tick++
	if len(s.cache) < cacheFrames {
		s.cache = append(s.cache, cachedFrame{i, img, s.tick})
		return
	}
	lru := 0
	for k := range s.cache {
		if s.cache[k].used < s.cache[lru].used {
			lru = k
		}
	}
	// Dropped images are not reused: readers may still hold them.
	s.cache[lru] = cachedFrame{i, img, s.tick}
}

// Prefetch asks the worker to decode frames i… ahead of the play head.
// Only the latest hint matters; it never blocks.
func (s *storedFrames) Prefetch(i int) {
	if s.compressed == 0 {
		return
	}
	s.workerOnce.Do(func() { go s.worker() })
	for {
		select {
		case s.hint <- i:
			return
		default:
		}
		select {
		case <-s.hint: // replace a stale hint
		default:
		}
	}
}

func (s *storedFrames) worker() {
	for {
		select {
		case <-s.done:
			return
		case i := <-s.hint:
			for k := i; k < i+prefetchAhead; k++ {
				if !s.prefetchOne(k) {
					break
				}
				if len(s.hint) > 0 {
					break // a newer hint: follow the play head
				}
			}
		}
	}
}

// prefetchOne decodes frame k into the cache; false when k is past the end
// or the source is released.
func (s *storedFrames) prefetchOne(k int) bool {
	s.mu.Lock()
	if s.released || k < 0 || k >= len(s.raw) {
		s.mu.Unlock()
		return false
	}
	if s.raw[k] != nil || s.cachedLocked(k) != nil {
		s.mu.Unlock()
		return true
	}
	data := s.jpg[k]
	s.mu.Unlock()
	img, err := decodeFrame(data)
	if err != nil {
		return true // Frame(k) will report it
	}
	s.mu.Lock()
	s.putLocked(k, img)
	s.mu.Unlock()
	return true
}

// Release returns the memory to the store and stops the worker.
func (s *storedFrames) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.released {
		return
	}
	s.released = true
	s.store.give(s.held + s.sound)
	s.held, s.sound = 0, 0
	s.raw, s.jpg, s.cache = nil, nil, nil
	close(s.done)
}

// frameBuilder fills a storedFrames during a load and applies the policy:
// a frame stays raw while the rest of the expected frames, compressed, and
// the decode cache still fit in the budget; otherwise it is compressed. If
// compressed frames turn out bigger than estimated, raw frames already
// held are compressed to make room. Only when that is not enough is the
// load refused, and abort gives everything back.
type frameBuilder struct {
	s        *storedFrames
	expect   int   // expected number of frames (may be an estimate)
	left0    int64 // budget left when the load began
	rawSize  int64
	estComp  int64 // estimated bytes of one compressed frame; 0 = unknown
	compSum  int64 // bytes of compressed frames so far
	cacheRes bool  // the decode cache is reserved
	demoted  int   // raw frames compressed later to make room
}

// newFrameBuilder starts a store of expect frames of w×h. It refuses, with
// a *BudgetError and before anything is decoded, a load whose frames
// cannot fit even as the smallest JPEGs.
func newFrameBuilder(store *FrameStore, w, h, expect int) (*frameBuilder, error) {
	b := &frameBuilder{
		s: &storedFrames{
			store: store, w: w, h: h,
			hint: make(chan int, 1), done: make(chan struct{}),
		},
		expect:  expect,
		left0:   store.Left(),
		rawSize: frameBytes(w, h),
	}
	if need := b.leastNeed(); need > b.left0 {
		return nil, &BudgetError{What: frameMemory, Need: need, Left: b.left0}
	}
	return b, nil
}

func (b *frameBuilder) cacheBytes() int64 { return cacheFrames * b.rawSize }

// minCompressedRatio bounds how small a compressed frame gets: a flat
// picture at frameJPEGQuality is 1/92 (720p) to 1/96 (8K) of its raw size.
const minCompressedRatio = 128

// leastNeed is the least the expected frames can take: all raw, or the
// decode cache and every frame compressed as small as a flat picture.
func (b *frameBuilder) leastNeed() int64 {
	n := int64(b.expect)
	if n == 0 {
		return 0
	}
	return min(n*b.rawSize, b.cacheBytes()+n*(b.rawSize/minCompressedRatio))
}

// add takes a packed I420 frame of the builder's size. kept says whether
// the store holds img itself; when it does not (the frame was compressed)
// the caller may reuse img for the next frame.
func (b *frameBuilder) add(img *image.YCbCr) (kept bool, err error) {
	s := b.s
	i := len(s.raw)
	rest := int64(max(0, b.expect-i-1))
	left := s.store.Left()
	var data []byte
	if b.estComp == 0 && b.rawSize*(rest+1) > left {
		// Raw will not do for everything: measure what a compressed
		// frame of this content costs.
		var err error
		if data, err = encodeFrame(img); err != nil {
			return false, fmt.Errorf("frame %d: compress: %w", i, err)
		}
		b.estComp = int64(len(data)) * 5 / 4
	}
	allRaw := b.rawSize*(rest+1) <= left
	if (allRaw || b.rawSize+b.compNeed(rest) <= left) && s.store.take(b.rawSize) {
		s.raw = append(s.raw, img)
		s.jpg = append(s.jpg, nil)
		s.held += b.rawSize
		return true, nil
	}
	if data == nil {
		var err error
		if data, err = encodeFrame(img); err != nil {
			return false, fmt.Errorf("frame %d: compress: %w", i, err)
		}
	}
	need := int64(len(data))
	if !b.cacheRes {
		need += b.cacheBytes()
	}
	for !s.store.take(need) {
		if !b.demote() {
			return false, &BudgetError{What: frameMemory, Need: s.held + need + rest*b.estimate(), Left: b.left0}
		}
	}
	b.cacheRes = true
	s.raw = append(s.raw, nil)
	s.jpg = append(s.jpg, data)
	s.held += need
	s.compressed++
	b.compSum += int64(len(data))
	// Refuse early, not after compressing frames for minutes, once enough
	// frames say the rest will clearly not fit (half again the room left).
	if mean := b.compSum / int64(s.compressed); s.compressed >= earlyRefusalFrames && rest*mean > s.store.Left()*3/2 {
		return false, &BudgetError{What: frameMemory, Need: s.held + rest*mean, Left: b.left0}
	}
	return false, nil
}

// earlyRefusalFrames is how many compressed frames the size projection
// behind an early refusal rests on.
const earlyRefusalFrames = 30

// estimate is the expected size of a compressed frame: the running mean
// with a margin, never below the first measurement.
func (b *frameBuilder) estimate() int64 {
	if b.s.compressed > 0 {
		return max(b.estComp, b.compSum/int64(b.s.compressed)*5/4)
	}
	if b.estComp > 0 {
		return b.estComp
	}
	return b.rawSize / 8
}

// compNeed is what n more compressed frames would need, cache included.
func (b *frameBuilder) compNeed(n int64) int64 {
	if n == 0 {
		return 0
	}
	need := n * b.estimate()
	if !b.cacheRes {
		need += b.cacheBytes()
	}
	return need
}

// demote compresses the latest raw frame to free memory; false when there
// is none left (or compressing it would not save anything).
func (b *frameBuilder) demote() bool {
	s := b.s
	for k := len(s.raw) - 1; k >= 0; k-- {
		if s.raw[k] == nil {
			continue
		}
		data, err := encodeFrame(s.raw[k])
		if err != nil || int64(len(data)) >= b.rawSize {
			return false
		}
		s.raw[k], s.jpg[k] = nil, data
		freed := b.rawSize - int64(len(data))
		s.store.give(freed)
		s.held -= freed
		s.compressed++
		b.compSum += int64(len(data))
		b.demoted++
		return true
	}
	return false
}

// finish hands over the source; the builder must not be used after.
func (b *frameBuilder) finish() FrameSource { return b.s }

// abort gives back everything the load held.
func (b *frameBuilder) abort() { b.s.Release() }
