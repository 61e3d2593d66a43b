package rtc_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"segcast/engine"
	"segcast/engine/pattern"
	"segcast/rtc"
	"segcast/rtc/internal/rtctest"
)

func streamLoop(w, h int) (*engine.Loop, engine.Clock) {
	clock := engine.NewWallClock()
	loop := engine.NewLoop(engine.LoopConfig{Rate: engine.Rate30, Width: w, Height: h, Clock: clock, Lead: rtc.EncodeLead})
	loop.Add(pattern.New(w, h, engine.Rate30, time.Minute))
	return loop, clock
}

func readSummary(t *testing.T, path string) rtc.StreamSummary {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sum rtc.StreamSummary
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatalf("stats file: %v\n%s", err, data)
	}
	return sum
}

func TestStreamModes(t *testing.T) {
	for _, offerMode := range []bool{false, true} {
		t.Run(map[bool]string{false: "answer", true: "offer"}[offerMode], func(t *testing.T) {
			loop, clock := streamLoop(160, 120)
			inR, inW := io.Pipe()
			outR, outW := io.Pipe()
			stats := filepath.Join(t.TempDir(), "stats.json")
			rx := rtctest.NewReceiver(t, false)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			done := make(chan error, 1)
			go func() {
				done <- rtc.Stream(ctx, loop, rtc.StreamOptions{
					Config:    rtc.Config{Width: 160, Height: 120, Rate: engine.Rate30, Clock: clock, LoopbackOnly: true},
					OfferMode: offerMode, Duration: 1500 * time.Millisecond, StatsFile: stats, In: inR, Out: outW,
				})
				outW.Close()
			}()
			out := bufio.NewReader(outR)
			if offerMode {
				offer, err := out.ReadString('\n')
				if err != nil {
					t.Fatal(err)
				}
				// Raw SDP ended by a blank line, as someone might paste it.
				answer := rx.Answer(t, strings.TrimSpace(offer))
				desc, _ := rtc.DecodeSignal(answer)
				go io.WriteString(inW, "\n"+strings.ReplaceAll(desc.SDP, "\r\n", "\n")+"\n")
			} else {
				go io.WriteString(inW, rx.Offer(t)+"\n")
				answer, err := out.ReadString('\n')
				if err != nil {
					t.Fatal(err)
				}
				rx.Accept(t, strings.TrimSpace(answer))
			}
			rest, _ := io.ReadAll(out) // stdout holds nothing but the one line
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if len(rest) != 0 {
				t.Errorf("extra output after the description: %q", rest)
			}
			frames, chunks := rx.Counts()
			sum := readSummary(t, stats)
			// Counts depend on how busy the machine is; what must hold is
			// that what was sent arrived (loopback loses nothing).
			sent := int(sum.Session.VideoFramesSent)
			if frames == 0 || chunks == 0 || frames > sent || frames < sent-2-sent/10 ||
				len(sum.Session.Viewers) != 1 || sum.Session.Viewers[0].State != rtc.ViewerConnected || sum.Streamed < 1500*time.Millisecond {
				t.Errorf("received %d frames, %d chunks; summary %+v", frames, chunks, sum)
			}
		})
	}
}

func TestStreamBadInput(t *testing.T) {
	loop, clock := streamLoop(160, 120)
	stats := filepath.Join(t.TempDir(), "stats.json")
	var out strings.Builder
	err := rtc.Stream(context.Background(), loop, rtc.StreamOptions{
		Config:    rtc.Config{Width: 160, Height: 120, Rate: engine.Rate30, Clock: clock, LoopbackOnly: true},
		StatsFile: stats, In: strings.NewReader("\n\nnot-a-description!\n"), Out: &out,
	})
	if err == nil || !strings.Contains(err.Error(), "base64") {
		t.Fatalf("err %v, want a base64 complaint", err)
	}
	if out.Len() != 0 {
		t.Errorf("wrote %q to stdout on bad input", out.String())
	}
	if sum := readSummary(t, stats); !strings.Contains(sum.Error, "base64") {
		t.Errorf("stats file error %q", sum.Error)
	}
	if err := rtc.Stream(context.Background(), loop, rtc.StreamOptions{Config: rtc.Config{Width: 160, Height: 120, Rate: engine.Rate30},
		In: strings.NewReader(""), Out: &out}); err == nil || !strings.Contains(err.Error(), "no description") {
		t.Errorf("empty input: err %v", err)
	}
}
