package pattern

// Engine behaviour checked with the pattern, which makes flashes, beeps
// and frame indices visible: the loop's AudioOffset hook and the
// timeline CSV over an hour.

import (
	"bytes"
	"context"
	"image"
	"io"
	"sync"
	"testing"
	"time"

	"segcast/engine"
)

// recSink keeps every frame's image and the sound (short runs only).
type recSink struct {
	mu     sync.Mutex
	frames []recFrame
	pcm    []int16
}

type recFrame struct {
	seq, mediaNS int64
	img          *image.YCbCr
}

func (r *recSink) WriteVideo(f *engine.VideoFrame) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.frames = append(r.frames, recFrame{f.Seq, f.MediaNS, f.Image})
}

func (r *recSink) WriteAudio(c *engine.AudioChunk) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pcm = append(r.pcm, c.Samples...)
}

// AudioOffset moves the pattern's beep against its flash by exactly the
// offset, in output samples.
func TestLoopAudioOffset(t *testing.T) {
	for _, off := range []time.Duration{0, 30 * time.Millisecond, -20 * time.Millisecond, 7 * time.Millisecond} {
		l := engine.NewLoop(engine.LoopConfig{Rate: engine.Rate2997, Width: 64, Height: 36,
			Clock: engine.NewFakeClock(), AudioOffset: off})
		rec := &recSink{}
		l.AddSink(rec)
		l.Add(New(64, 36, engine.Rate2997, 3*time.Second))
		l.Play()
		if err := l.RunFor(context.Background(), 3*time.Second); err != nil {
			t.Fatal(err)
		}
		var flashes []int64
		for _, v := range rec.frames {
			if IsFlash(v.img) {
				flashes = append(flashes, v.mediaNS)
			}
			if k, ok := ReadIndex(v.img); !ok || k != v.seq {
				t.Fatalf("offset %v: output frame %d shows pattern frame %d, %v", off, v.seq, k, ok)
			}
		}
		var onsets []int64
		for s := int64(0); s < int64(len(rec.pcm)/2); s++ {
			if rec.pcm[2*s] != 0 && quietBefore(rec.pcm, s, 48) {
				onsets = append(onsets, s)
			}
		}
		// The first beep is cut when the sound moves earlier.
		if off < 0 {
			flashes = flashes[1:]
			onsets = onsets[1:]
		}
		if len(flashes) != len(onsets) || len(flashes) < 2 {
			t.Fatalf("offset %v: flashes %v, beeps %v", off, flashes, onsets)
		}
		for i := range flashes {
			shift := onsets[i] - flashes[i]*48/1e6
			if shift != int64(off)*48/1e6 {
				t.Errorf("offset %v: beep %d starts %d samples after its flash, want %d", off, i, shift, int64(off)*48/1e6)
			}
		}
	}
}

// An hour of the pattern at 29.97 fps: every row is there.
func TestTimelineCSVHour(t *testing.T) {
	if testing.Short() {
		t.Skip("an hour of rows")
	}
	pat := New(1280, 720, engine.Rate2997, time.Hour)
	var w lineCounter
	if err := engine.WriteTimelineCSV(context.Background(), &w, []*engine.Segment{pat},
		engine.TimelineOptions{Rate: engine.Rate2997, Duration: time.Hour}); err != nil {
		t.Fatal(err)
	}
	// 3600·30000/1001 = 107892.1 → 107893 frames; 180000 chunks.
	if want := int64(107893 + 180000 + 1); w.lines != want {
		t.Fatalf("%d lines, want %d", w.lines, want)
	}
}

type lineCounter struct{ lines int64 }

func (w *lineCounter) Write(p []byte) (int, error) {
	w.lines += int64(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}

// BenchmarkTimelineCSV writes one minute of the pattern at 29.97 fps
// (5397 rows) per op.
func BenchmarkTimelineCSV(b *testing.B) {
	pat := New(1280, 720, engine.Rate2997, time.Minute)
	opt := engine.TimelineOptions{Rate: engine.Rate2997, Duration: time.Minute}
	rows := engine.Rate2997.FramesIn(int64(time.Minute)) + 3000
	b.ReportAllocs()
	for b.Loop() {
		if err := engine.WriteTimelineCSV(context.Background(), io.Discard, []*engine.Segment{pat}, opt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkPatternFrame renders one 720p pattern frame (cache missed).
func BenchmarkPatternFrame(b *testing.B) {
	pat := New(1280, 720, engine.Rate2997, time.Hour)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := pat.Frames.Frame(i); err != nil {
			b.Fatal(err)
		}
		i = (i + cacheFrames + 1) % pat.Frames.Len()
	}
}
