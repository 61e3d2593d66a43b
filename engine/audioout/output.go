// Package audioout plays the engine's audio through PortAudio and offers
// the device as a clock: the sample position the listener hears now, so
// that the local preview can pick the video frame the way video players do.
// It lives apart from engine because it needs cgo.
package audioout

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gordonklaus/portaudio"

	"segcast/engine"
)

// Options choose the device and how the output copes with a device that
// runs ahead of the audio it is given.
type Options struct {
	// Device is the output device's name as Devices lists it; "" is the
	// system default.
	Device string
	// Latency is the suggested output latency; 0 is the device's default.
	Latency time.Duration
	// MaxWait is how long the callback waits for late audio once playback
	// has started before it plays silence. A device that consumes faster
	// than real time (an ALSA file PCM over "null") is then paced by the
	// audio it is given instead of being filled with gaps. Default 100 ms.
	MaxWait time.Duration
	// MaxQueue bounds the audio held ahead of the device; beyond it the
	// oldest samples are dropped (and counted). Default 1 s.
	MaxQueue time.Duration
}

// Stats count what the output had to do about timing problems.
type Stats struct {
	Played      int64 // sample frames handed to the device, silence included
	FirstSample int64 // device frame index of the first queued sample, -1 before
	Underrun    int64 // sample frames of silence inserted after playback started
	Dropped     int64 // queued sample frames dropped because the queue was full
	Latency     time.Duration
}

// Output is a PortAudio output stream. It is an engine.Sink (audio only;
// video is ignored) and an engine.Clock running on the device's sample
// clock: Now is the played position minus the output latency.
type Output struct {
	stream  *portaudio.Stream
	device  string
	maxWait time.Duration
	more    chan struct{} // signalled when audio is queued
	wait    *time.Timer   // used by the callback only

	volume atomic.Uint64 // float64 bits, 0..1
	muted  atomic.Bool

	mu       sync.Mutex
	q        *fifo
	primed   bool
	stats    Stats
	heardAt  time.Duration // heard position at the last callback
	wallAt   time.Time     // when that callback ran
	bufDur   time.Duration // duration of the last callback's buffer
	lastNow  time.Duration // Now never goes backwards
	lastWall time.Time     // when lastNow was taken (for maxSpeed)
	tick     chan struct{} // closed (and replaced) at every callback

	closeOnce sync.Once
	closeErr  error
}

var (
	_ engine.Sink  = (*Output)(nil)
	_ engine.Clock = (*Output)(nil)
)

// Open initialises PortAudio and starts a 48 kHz stereo int16 stream on
// the chosen device. Close must be called to release the device.
func Open(opt Options) (*Output, error) {
	if opt.MaxWait <= 0 {
		opt.MaxWait = 100 * time.Millisecond
	}
	if opt.MaxQueue <= 0 {
		opt.MaxQueue = time.Second
	}
	quietALSA()
	if err := portaudio.Initialize(); err != nil {
		return nil, fmt.Errorf("audio output: initialise PortAudio: %w", err)
	}
	dev, err := findDevice(opt.Device)
	if err != nil {
		portaudio.Terminate()
		return nil, err
	}
	o := &Output{
		device:  dev.Name,
		maxWait: opt.MaxWait,
		more:    make(chan struct{}, 1),
		wait:    time.NewTimer(time.Hour),
		q:       newFIFO(int(opt.MaxQueue * engine.AudioRate / time.Second)),
		tick:    make(chan struct{}),
	}
	o.wait.Stop()
	o.volume.Store(math.Float64bits(1))
	o.stats.FirstSample = -1

	p := portaudio.HighLatencyParameters(nil, dev)
	p.SampleRate = engine.AudioRate
	p.Output.Channels = engine.AudioChannels
	if opt.Latency > 0 {
		p.Output.Latency = opt.Latency
	}
	// Our callback fills the first buffers too, so the device's frame count
	// and ours agree from sample 0.
	p.Flags = portaudio.PrimeOutputBuffersUsingStreamCallback
	o.stream, err = portaudio.OpenStream(p, o.callback)
	if err != nil {
		portaudio.Terminate()
		return nil, fmt.Errorf("audio output: open %q at 48 kHz stereo: %w", dev.Name, err)
	}
	if info := o.stream.Info(); info != nil {
		o.stats.Latency = info.OutputLatency
	}
	if err := o.stream.Start(); err != nil {
		o.stream.Close()
		portaudio.Terminate()
		return nil, fmt.Errorf("audio output: start %q: %w", dev.Name, err)
	}
	return o, nil
}

// Device is the name of the device playing.
func (o *Output) Device() string { return o.device }

// Latency is the output latency last reported by the device.
func (o *Output) Latency() time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.stats.Latency
}

// Stats returns the counters so far.
func (o *Output) Stats() Stats {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.stats
}

// SetVolume sets the gain, clamped to 0..1.
func (o *Output) SetVolume(v float64) {
	o.volume.Store(math.Float64bits(min(max(v, 0), 1)))
}

// SetMuted silences the output without stopping its clock.
func (o *Output) SetMuted(m bool) { o.muted.Store(m) }

// WriteVideo ignores video: the preview shows it.
func (o *Output) WriteVideo(*engine.VideoFrame) {}

// WriteAudio queues a chunk; it is played after what is already queued.
func (o *Output) WriteAudio(c *engine.AudioChunk) {
	o.mu.Lock()
	o.stats.Dropped += int64(o.q.push(c.Samples))
	o.mu.Unlock()
	select {
	case o.more <- struct{}{}:
	default:
	}
}

// Flush drops queued audio and goes back to playing silence without
// waiting, as before the first chunk (use it when the feeder stops).
func (o *Output) Flush() {
	o.mu.Lock()
	o.q.discard(o.q.n)
	o.primed = false
	o.mu.Unlock()
}

// Close stops the stream and releases PortAudio. It is safe to call twice.
func (o *Output) Close() error {
	o.closeOnce.Do(func() {
		err1 := o.stream.Abort()
		err2 := o.stream.Close()
		err3 := portaudio.Terminate()
		o.closeErr = errors.Join(err1, err2, err3)
	})
	return o.closeErr
}

// callback runs on PortAudio's thread for every buffer the device wants.
func (o *Output) callback(out []int16, ti portaudio.StreamCallbackTimeInfo) {
	frames := len(out) / 2
	done := 0
	deadline := time.Now().Add(o.maxWait)
	o.mu.Lock()
	start := o.stats.Played
	for {
		got := o.q.pop(out[done*2:])
		if got > 0 && !o.primed {
			o.primed = true
			o.stats.FirstSample = start + int64(done)
		}
		done += got
		if done == frames || !o.primed {
			break
		}
		// Queue ran dry after playback started: give the feeder a moment.
		remain := time.Until(deadline)
		if remain <= 0 {
			break
		}
		o.mu.Unlock()
		o.wait.Reset(remain)
		select {
		case <-o.more:
		case <-o.wait.C:
		}
		o.wait.Stop()
		o.mu.Lock()
	}
	clear(out[done*2:])
	if o.primed {
		o.stats.Underrun += int64(frames - done)
	}
	o.stats.Played += int64(frames)
	if lat := ti.OutputBufferDacTime - ti.CurrentTime; lat >= 0 && lat < 2*time.Second {
		o.stats.Latency = lat
	}
	// The first sample of this buffer is heard at DAC time; the one heard
	// now was handed over `latency` earlier.
	o.heardAt = framesToDuration(start) - o.stats.Latency
	o.wallAt = time.Now()
	o.bufDur = time.Duration(frames) * time.Second / engine.AudioRate
	close(o.tick)
	o.tick = make(chan struct{})
	o.mu.Unlock()
	o.applyGain(out[:done*2])
}

func (o *Output) applyGain(s []int16) {
	if o.muted.Load() {
		clear(s)
		return
	}
	g := math.Float64frombits(o.volume.Load())
	if g >= 1 {
		return
	}
	for i, v := range s {
		s[i] = int16(float64(v) * g)
	}
}

// framesToDuration converts a 48 kHz sample count to time without
// overflowing (n·1e9 would pass int64 after two days of playing).
func framesToDuration(n int64) time.Duration {
	return time.Duration(n/engine.AudioRate)*time.Second +
		time.Duration(n%engine.AudioRate)*time.Second/engine.AudioRate
}
