package audioout

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"testing"
	"time"

	"segcast/engine"
	"segcast/engine/audioout/alsafile"
)

// The child process (alsafile.RunChild: ALSA's default device is a
// file) plays the audio; envChild tells it where to write its result.
const (
	envChild = "SEGCAST_AUDIOOUT_RESULT"
	playNS   = 1500 * time.Millisecond
	testLead = 100 * time.Millisecond
)

type childResult struct {
	Skip  string
	Stats Stats
}

// TestPlaysToALSAFile plays the sync pattern's sound for 1.5 s through
// PortAudio into an ALSA file device and checks the bytes written: the
// segment's 48 kHz sound, sample for sample, starting where the output
// says it started, with the 1 kHz beeps one second apart.
func TestPlaysToALSAFile(t *testing.T) {
	if path := os.Getenv(envChild); path != "" {
		playChild(t, path)
		return
	}
	var res childResult
	raw := alsafile.RunChild(t, "TestPlaysToALSAFile", envChild, &res)
	if res.Skip != "" {
		t.Skipf("ALSA file device unusable: %s", res.Skip)
	}
	t.Logf("child stats: %+v", res.Stats)

	data, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]int16, len(data)/2)
	for i := range got {
		got[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
	}
	n := int(playNS * engine.AudioRate / time.Second)
	want := make([]int16, n*2)
	patternAudio(t).Fill(want, 0)

	// The device may hold some silence of its own (PortAudio fills the ALSA
	// buffer before the first callback); find where the segment starts from
	// its first beep, then everything must line up from there.
	wantOn := beepOnsets(want)
	if len(wantOn) < 2 {
		t.Fatalf("pattern has %d beeps in %v, want 2", len(wantOn), playNS)
	}
	first := int(res.Stats.FirstSample)
	if first < 0 || first*2 > len(got) {
		t.Fatalf("first sample at frame %d, file holds %d frames", first, len(got)/2)
	}
	fileOn := beepOnsets(got[first*2:])
	if len(fileOn) < len(wantOn) {
		t.Fatalf("found beeps at %v after the first sample, want %v", fileOn, wantOn)
	}
	start := first + fileOn[0] - wantOn[0]
	t.Logf("segment starts at frame %d of the file; output says it handed it at %d", start, first)
	if pre := start - first; pre < 0 || pre > engine.AudioRate/5 {
		t.Errorf("segment starts %d frames after the output's first sample, want 0..200 ms", pre)
	}
	if (start+n)*2 > len(got) {
		t.Fatalf("file holds %d frames, want %d after %d", len(got)/2, n, start)
	}
	played := got[start*2 : (start+n)*2]
	if c := correlation(played, want); c < 0.999 {
		t.Errorf("correlation of played audio with the segment = %.4f, want ≥ 0.999", c)
	}
	// Only the device buffer that runs past the end may be padded.
	if res.Stats.Underrun >= 4096 || res.Stats.Dropped != 0 {
		t.Errorf("underrun %d, dropped %d sample frames: want < 4096 (the last buffer) and 0",
			res.Stats.Underrun, res.Stats.Dropped)
	}
	// Beeps, found in the file alone, one second apart as in the pattern.
	gotOn := beepOnsets(played)
	if len(gotOn) != len(wantOn) {
		t.Fatalf("found beeps at %v, want %v", gotOn, wantOn)
	}
	for i, w := range wantOn {
		if gotOn[i] != w {
			t.Errorf("beep %d at sample %d after the start, want %d", i, gotOn[i], w)
		}
	}
	if d := gotOn[1] - gotOn[0]; d < engine.AudioRate-48 || d > engine.AudioRate+48 {
		t.Errorf("beeps %d samples apart, want one second (%d)", d, engine.AudioRate)
	}
	for _, on := range gotOn[:2] {
		if r := toneRatio(played[on*2:(on+1920)*2], 1000); r < 0.9 {
			t.Errorf("beep at %d: 1 kHz holds %.2f of the energy, want ≥ 0.9", on, r)
		}
	}
}

// playChild feeds the pattern's sound to the default device paced by the
// output's own clock, the way the loop does, and reports its stats.
func playChild(t *testing.T, resPath string) {
	res := childResult{}
	defer func() {
		b, _ := json.Marshal(res)
		if err := os.WriteFile(resPath, b, 0o644); err != nil {
			t.Error(err)
		}
	}()
	out, err := Open(Options{})
	if err != nil {
		res.Skip = err.Error()
		return
	}
	defer out.Close()
	audio := patternAudio(t)
	ctx := context.Background()
	base := out.Now()
	buf := make([]int16, engine.ChunkSamples*2)
	chunks := int64(playNS / engine.ChunkNS)
	for k := range chunks {
		media := time.Duration(k * engine.ChunkNS)
		if err := out.SleepUntil(ctx, base+media-testLead); err != nil {
			t.Fatal(err)
		}
		audio.Fill(buf, k*engine.ChunkSamples)
		out.WriteAudio(&engine.AudioChunk{Seq: k, MediaNS: int64(media), Samples: buf, Deadline: base + media})
	}
	if err := out.SleepUntil(ctx, base+playNS); err != nil {
		t.Fatal(err)
	}
	res.Stats = out.Stats()
	// Let the device pass the end of what it was given into the file.
	if err := out.SleepUntil(ctx, base+playNS+testLead); err != nil {
		t.Fatal(err)
	}
}

// correlation is the normalised cross-correlation at lag 0.
func correlation(a, b []int16) float64 {
	var ab, aa, bb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

// beepOnsets returns the sample frames (left channel) where sound starts
// after at least 100 ms of near-silence.
func beepOnsets(s []int16) []int {
	const quiet, gap = 300, engine.AudioRate / 10
	var on []int
	last := -gap
	for i := 0; i < len(s)/2; i++ {
		if v := s[2*i]; v > quiet || v < -quiet {
			if i-last >= gap {
				on = append(on, i)
			}
			last = i
		}
	}
	return on
}

// toneRatio is the share of s's energy (left channel) at freq Hz (Goertzel).
func toneRatio(s []int16, freq float64) float64 {
	n := len(s) / 2
	w := 2 * math.Pi * freq / engine.AudioRate
	coeff := 2 * math.Cos(w)
	var s1, s2, total float64
	for i := range n {
		x := float64(s[2*i])
		total += x * x
		s0 := x + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	if total == 0 {
		return 0
	}
	return 2 * power / (float64(n) * total)
}
