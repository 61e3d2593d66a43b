package audioout

// fifo is a bounded ring of interleaved stereo int16 sample frames. It is
// not safe for concurrent use: Output guards it with its mutex.
type fifo struct {
	buf   []int16 // len = capacity·2
	start int     // index of the oldest sample frame
	n     int     // sample frames held
}

func newFIFO(frames int) *fifo { return &fifo{buf: make([]int16, frames*2)} }

func (f *fifo) capacity() int { return len(f.buf) / 2 }

// push appends src (interleaved stereo). When full, the oldest frames are
// dropped to make room; it returns how many were dropped.
func (f *fifo) push(src []int16) (dropped int) {
	frames := len(src) / 2
	if frames > f.capacity() {
		dropped += frames - f.capacity()
		src = src[len(src)-f.capacity()*2:]
		frames = f.capacity()
	}
	if over := f.n + frames - f.capacity(); over > 0 {
		f.discard(over)
		dropped += over
	}
	end := (f.start + f.n) % f.capacity()
	k := copy(f.buf[end*2:], src)
	copy(f.buf, src[k:])
	f.n += frames
	return dropped
}

// pop copies up to len(dst)/2 frames into dst and returns how many.
func (f *fifo) pop(dst []int16) int {
	frames := min(len(dst)/2, f.n)
	first := min(frames, f.capacity()-f.start)
	copy(dst, f.buf[f.start*2:(f.start+first)*2])
	copy(dst[first*2:], f.buf[:(frames-first)*2])
	f.discard(frames)
	return frames
}

func (f *fifo) discard(frames int) {
	f.start = (f.start + frames) % f.capacity()
	f.n -= frames
}
