package engine

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

type csvRow struct {
	kind        string
	seq, media  int64
	rtp         uint32
	seg, source int64
}

func parseTimeline(t *testing.T, b []byte) []csvRow {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(b))
	if !sc.Scan() || sc.Text()+"\n" != TimelineHeader {
		t.Fatalf("header %q", sc.Text())
	}
	var rows []csvRow
	for sc.Scan() {
		f := strings.Split(sc.Text(), ",")
		if len(f) != 6 || (f[0] != "video" && f[0] != "audio") {
			t.Fatalf("row %q", sc.Text())
		}
		var v [5]int64
		for i := range v {
			x, err := strconv.ParseInt(f[i+1], 10, 64)
			if err != nil {
				t.Fatalf("row %q: %v", sc.Text(), err)
			}
			v[i] = x
		}
		rows = append(rows, csvRow{f[0], v[0], v[1], uint32(v[2]), v[3], v[4]})
	}
	return rows
}

// The contract of `segcast timeline`: every row's numbers from the
// definitions, media-time order with video first on ties, the pattern's
// own frame and sample indices, then idle rows past the playlist.
func TestTimelineCSVContract(t *testing.T) {
	pat := loopSeg(1, Rate2997, 60, 2*AudioRate, 64, 36)
	var buf bytes.Buffer
	opt := TimelineOptions{Rate: Rate2997, Duration: 3 * time.Second}
	if err := WriteTimelineCSV(context.Background(), &buf, []*Segment{pat}, opt); err != nil {
		t.Fatal(err)
	}
	rows := parseTimeline(t, buf.Bytes())
	var k, n int64
	last := csvRow{media: -1}
	for _, r := range rows {
		if r.media < last.media || r.media == last.media && r.kind == "video" {
			t.Fatalf("row %+v after %+v", r, last)
		}
		last = r
		if r.kind == "video" {
			ns, rtp := bigFrameNS(Rate2997, k)
			wantSeg, wantSrc := int64(0), k
			if k >= 60 { // the pattern is 60 frames, its slot too (2 s of sound need 59.94)
				wantSeg, wantSrc = -1, -1
			}
			if r.seq != k || r.media != ns || r.rtp != rtp || r.seg != wantSeg || r.source != wantSrc {
				t.Fatalf("video row %+v, want seq %d media %d rtp %d %d/%d", r, k, ns, rtp, wantSeg, wantSrc)
			}
			k++
			continue
		}
		wantSeg, wantSrc := int64(0), n*960
		if n*960 >= 96_000 { // the slot's silent tail
			wantSrc = -1
		}
		if n*960 >= 96_096 { // frame 60's first sample: ceil(60·1601.6)
			wantSeg = -1
		}
		if r.seq != n || r.media != n*20_000_000 || r.rtp != uint32(n*960) || r.seg != wantSeg || r.source != wantSrc {
			t.Fatalf("audio row %+v, want %d", r, n)
		}
		n++
	}
	if k != 90 || n != 150 {
		t.Fatalf("%d video and %d audio rows, want 90 and 150", k, n)
	}
}

func TestTimelineCSVLoopAndDefaults(t *testing.T) {
	seg := loopSeg(1, Rate25, 10, 0, 32, 18) // 0.4 s
	var buf bytes.Buffer
	// Duration 0: one pass of the playlist, even when looping.
	if err := WriteTimelineCSV(context.Background(), &buf, []*Segment{seg}, TimelineOptions{Rate: Rate25, Loop: true}); err != nil {
		t.Fatal(err)
	}
	if rows := parseTimeline(t, buf.Bytes()); len(rows) != 10+20 {
		t.Fatalf("%d rows for one 0.4 s pass", len(rows))
	}
	buf.Reset()
	opt := TimelineOptions{Rate: Rate25, Loop: true, Duration: time.Second}
	if err := WriteTimelineCSV(context.Background(), &buf, []*Segment{seg}, opt); err != nil {
		t.Fatal(err)
	}
	for _, r := range parseTimeline(t, buf.Bytes()) {
		if r.kind == "video" && (r.seg != 0 || r.source != r.seq%10) {
			t.Fatalf("looped row %+v", r)
		}
	}
	// No segments: idle rows only, size from the options.
	buf.Reset()
	if err := WriteTimelineCSV(context.Background(), &buf, nil, TimelineOptions{Rate: Rate30, Width: 64, Height: 36, Duration: time.Second}); err != nil {
		t.Fatal(err)
	}
	for _, r := range parseTimeline(t, buf.Bytes()) {
		if r.seg != -1 || r.source != -1 {
			t.Fatalf("empty playlist row %+v", r)
		}
	}
}

type timelineFailWriter struct{ n int }

func (w *timelineFailWriter) Write(p []byte) (int, error) {
	if w.n += len(p); w.n > 100_000 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestTimelineCSVErrors(t *testing.T) {
	seg := loopSeg(1, Rate25, 10, 0, 32, 18)
	ctx := context.Background()
	for _, c := range []struct {
		opt  TimelineOptions
		segs []*Segment
		want string
	}{
		{TimelineOptions{Rate: Rate{0, 1}}, []*Segment{seg}, "frame rate 0: must be positive"},
		{TimelineOptions{Rate: Rate25, Duration: -time.Second}, []*Segment{seg}, "duration -1s"},
		{TimelineOptions{Rate: Rate25}, nil, "size 0x0"},
		{TimelineOptions{Rate: Rate25, Width: 8, Height: 8}, []*Segment{{Name: "x"}}, "segment 0: no frame source"},
	} {
		if err := WriteTimelineCSV(ctx, &bytes.Buffer{}, c.segs, c.opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.opt, err, c.want)
		}
	}
	// A failing writer stops the run with its error.
	err := WriteTimelineCSV(ctx, &timelineFailWriter{}, []*Segment{seg}, TimelineOptions{Rate: Rate25, Duration: time.Hour})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("failing writer: %v", err)
	}
}
