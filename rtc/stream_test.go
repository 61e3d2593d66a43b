package rtc

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
)

func streamLoop(w, h int) (*engine.Loop, engine.Clock) {
	clock := engine.NewWallClock()
	loop := engine.NewLoop(engine.LoopConfig{Rate: engine.Rate30, Width: w, Height: h, Clock: clock, Lead: EncodeLead})
	loop.Add(pattern.New(w, h, engine.Rate30, time.Minute))
	return loop, clock
}

func readSummary(t *testing.T, path string) StreamSummary {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sum StreamSummary
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
			rx := newTestReceiver(t, false)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			done := make(chan error, 1)
			go func() {
				done <- Stream(ctx, loop, StreamOptions{
					Config:    Config{Width: 160, Height: 120, Rate: engine.Rate30, Clock: clock, LoopbackOnly: true},
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
				answer := rx.answer(t, strings.TrimSpace(offer))
				desc, _ := DecodeSignal(answer)
				go io.WriteString(inW, "\n"+strings.ReplaceAll(desc.SDP, "\r\n", "\n")+"\n")
			} else {
				go io.WriteString(inW, rx.offer(t)+"\n")
				answer, err := out.ReadString('\n')
				if err != nil {
					t.Fatal(err)
				}
				rx.accept(t, strings.TrimSpace(answer))
			}
			rest, _ := io.ReadAll(out) // stdout holds nothing but the one line
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if len(rest) != 0 {
				t.Errorf("extra output after the description: %q", rest)
			}
			frames, chunks := rx.counts()
			sum := readSummary(t, stats)
			// Counts depend on how busy the machine is; what must hold is
			// that what was sent arrived (loopback loses nothing).
			sent := int(sum.Session.VideoFramesSent)
			if frames == 0 || chunks == 0 || frames > sent || frames < sent-2-sent/10 ||
				len(sum.Session.Viewers) != 1 || sum.Session.Viewers[0].State != "connected" || sum.Streamed < 1500*time.Millisecond {
				t.Errorf("received %d frames, %d chunks; summary %+v", frames, chunks, sum)
			}
		})
	}
}

func TestStreamBadInput(t *testing.T) {
	loop, clock := streamLoop(160, 120)
	stats := filepath.Join(t.TempDir(), "stats.json")
	var out strings.Builder
	err := Stream(context.Background(), loop, StreamOptions{
		Config:    Config{Width: 160, Height: 120, Rate: engine.Rate30, Clock: clock, LoopbackOnly: true},
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
	if err := Stream(context.Background(), loop, StreamOptions{Config: Config{Width: 160, Height: 120, Rate: engine.Rate30},
		In: strings.NewReader(""), Out: &out}); err == nil || !strings.Contains(err.Error(), "no description") {
		t.Errorf("empty input: err %v", err)
	}
}

func TestReadSignal(t *testing.T) {
	for in, want := range map[string]string{
		"\n  abc==  \nrest\n":      "abc==",
		"v=0\no=x\n\nignored\n":    "v=0\r\no=x\r\n",
		"v=0\r\no=x":               "v=0\r\no=x\r\n",
		"\n\nv=0\ns=-\nt=0 0\n":    "v=0\r\ns=-\r\nt=0 0\r\n",
		"onlyline-without-newline": "onlyline-without-newline",
	} {
		got, err := readSignal(bufio.NewReader(strings.NewReader(in)))
		if err != nil || got != want {
			t.Errorf("readSignal(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := readSignal(bufio.NewReader(strings.NewReader("\n\n"))); err == nil {
		t.Error("blank input accepted")
	}
	big := "v=0\n" + strings.Repeat("a=x\n", MaxSignalBytes/4)
	if _, err := readSignal(bufio.NewReader(strings.NewReader(big))); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("oversized SDP: %v", err)
	}
}
