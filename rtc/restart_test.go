package rtc_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"segcast/engine"
	"segcast/engine/pattern"
	"segcast/rtc"
	"segcast/rtc/internal/rtctest"
)

// nextChunk is a sink noting when the loop's next audio chunk is due.
type nextChunk struct {
	mu  sync.Mutex
	due time.Duration
}

func (n *nextChunk) WriteVideo(*engine.VideoFrame) {}
func (n *nextChunk) WriteAudio(c *engine.AudioChunk) {
	n.mu.Lock()
	n.due = c.Deadline + engine.ChunkNS
	n.mu.Unlock()
}

// vp8Size reads the picture size from a VP8 keyframe (RFC 6386 9.1).
func vp8Size(frame []byte) (w, h int, ok bool) {
	if len(frame) < 10 || frame[0]&1 != 0 || frame[3] != 0x9d || frame[4] != 0x01 || frame[5] != 0x2a {
		return 0, 0, false
	}
	return int(frame[6]) | int(frame[7]&0x3f)<<8, int(frame[8]) | int(frame[9]&0x3f)<<8, true
}

// A new timeline in another size and rate keeps the viewer going: its
// first frame is a keyframe of the new size, video timestamps move on by
// the time between frames across the change, and the audio timestamps
// run on (960 per 20 ms chunk, and the clock time between at the change).
func TestRestartNewFormat(t *testing.T) {
	rig := rtctest.NewRig(t, 320, 180, 10*time.Second)
	var next nextChunk
	rig.Loop.AddSink(&next)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rx := rtctest.NewReceiver(t, true)
	rtctest.Connect(t, ctx, rig.Sess, rx)
	stop := rig.Run(t)
	time.Sleep(time.Second)
	stop()

	if err := rig.Sess.Restart(240, 320, engine.Rate25); err != nil {
		t.Fatal(err)
	}
	if w, h, r := rig.Sess.Format(); w != 240 || h != 320 || r != engine.Rate25 {
		t.Fatalf("Format after Restart: %dx%d at %v", w, h, r)
	}
	nl := engine.NewLoop(engine.LoopConfig{Rate: engine.Rate25, Width: 240, Height: 320, Clock: rig.Clock, Lead: rtc.EncodeLead})
	nl.Add(pattern.New(240, 320, engine.Rate25, 10*time.Second))
	nl.Play()
	nl.AddSink(rig.Sess)
	runCtx, stopNew := context.WithCancel(context.Background())
	done := make(chan struct{})
	next.mu.Lock()
	start := next.due
	next.mu.Unlock()
	go func() {
		defer close(done)
		if rig.Clock.SleepUntil(runCtx, start) == nil {
			_ = nl.Run(runCtx)
		}
	}()
	time.Sleep(1500 * time.Millisecond)
	stopNew()
	<-done
	time.Sleep(200 * time.Millisecond) // the last packets' way through

	frames, audio, _, _ := rx.Snapshot()
	var sizes []string
	changed := -1
	for i, f := range frames {
		if w, h, ok := vp8Size(f.Data); ok {
			if w == 240 && h == 320 && changed < 0 {
				changed = i
			}
			sizes = append(sizes, time.Duration(i).String())
		}
		if i > 0 {
			d := int64(int32(f.TS - frames[i-1].TS))
			if d <= 0 || d > 90000/5 {
				t.Errorf("video frame %d: timestamp step %d, want a step forward of at most 200 ms", i, d)
			}
		}
	}
	if changed < 0 {
		t.Fatalf("no 240x320 keyframe among %d frames (keyframes at %v)", len(frames), sizes)
	}
	for _, f := range frames[changed+1:] {
		if w, h, ok := vp8Size(f.Data); ok && (w != 240 || h != 320) {
			t.Errorf("keyframe of %dx%d after the change", w, h)
		}
	}
	if changed < 20 || len(frames)-changed < 25 {
		t.Errorf("%d frames before the change and %d after, want about 30 and 37", changed, len(frames)-changed)
	}
	// The new loop starts when its clock wakes, a little after the old
	// one's next chunk was due: that one step covers the gap.
	gaps := 0
	for i := 1; i < len(audio); i++ {
		d := audio[i].TS - audio[i-1].TS
		if d != 960 {
			gaps++
		}
		if d < 960 || d > 2*960 || audio[i].Seq != audio[i-1].Seq+1 {
			t.Errorf("audio packet %d: timestamp step %d, seq step %d; want 960 (up to 1920 once) and 1", i, d, audio[i].Seq-audio[i-1].Seq)
		}
	}
	if gaps > 1 {
		t.Errorf("%d audio timestamp steps other than 960, want at most the one at the change", gaps)
	}
	if len(audio) < 100 {
		t.Errorf("%d audio packets in 2.5 s", len(audio))
	}
}
