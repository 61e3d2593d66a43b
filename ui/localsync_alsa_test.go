package ui

import (
	"encoding/json"
	"math"
	"os"
	"testing"
	"time"

	"segcast/engine/audioout"
	"segcast/engine/audioout/alsafile"
	"segcast/rtc/measure/avsync"
)

// envLocalSyncChild tells the re-run test binary to play through the real
// PortAudio output (HOME points at an .asoundrc whose default device is
// an ALSA file PCM) and where to write what it measured.
const envLocalSyncChild = "SEGCAST_UI_LOCALSYNC_RESULT"

type localSyncChildResult struct {
	Skip   string
	Rows   []avsync.Measurement
	Stats  audioout.Stats
	Report avsync.Report
}

// The window's preview on a real audio device (PortAudio into an ALSA
// file PCM) records its own sync: rows arrive for the frames shown and
// the heard position stays within the output's queue (1 s) of the
// picture. An ALSA file PCM over "null" takes samples as fast as they are
// queued, in large bursts, with no real-time playout, so the offset it
// gives is logged, not held to a sync target: that needs a sound card.
func TestLocalSyncRealDevice(t *testing.T) {
	if path := os.Getenv(envLocalSyncChild); path != "" {
		localSyncChild(t, path)
		return
	}
	var res localSyncChildResult
	alsafile.RunChild(t, "TestLocalSyncRealDevice", envLocalSyncChild, &res)
	if res.Skip != "" {
		missing(t, "ALSA file device unusable: %s", res.Skip)
	}
	r := avsync.Summarise(res.Rows)
	t.Logf("device stats %+v; %s; display delay p50 %v ms", res.Stats, r.OneLine(), r.Latency.P50)
	if r.Offset.Samples < 30 {
		t.Fatalf("%d rows recorded, want ≥ 30", r.Offset.Samples)
	}
	// A frame shown L late meets sound L further on (offset −L); without
	// that, the heard position is within the output's 1 s queue of the
	// frame's due time.
	for _, m := range res.Rows {
		if base := float64(m.OffsetMS + m.LatencyMS); math.Abs(base) > 1100 {
			t.Errorf("frame %d: offset %v ms shown %v ms late: the heard position is not tracking the picture",
				m.FlashIndex, m.OffsetMS, m.LatencyMS)
		}
	}
}

func localSyncChild(t *testing.T, resPath string) {
	res := localSyncChildResult{}
	defer func() {
		b, _ := json.Marshal(res)
		if err := os.WriteFile(resPath, b, 0o644); err != nil {
			t.Error(err)
		}
	}()
	out, err := audioout.Open(audioout.Options{})
	if err != nil {
		res.Skip = err.Error()
		return
	}
	h := newHarnessAudio(t, Options{}, out) // the pattern plays at start
	// However slow the machine, wait for 60 frames shown (2 s of pattern).
	deadline := time.Now().Add(60 * time.Second)
	for len(h.c.player.preview.local.measurements()) < 60 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	res.Rows = h.c.player.preview.local.measurements()
	res.Stats = out.Stats()
}
