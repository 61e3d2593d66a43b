package avsync

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// row builds a measurement presented at videoMS with the given offset.
func row(k int64, videoMS, offsetMS float64) Measurement {
	m := unknownMeasurement()
	m.FlashIndex = k
	m.VideoMS, m.AudioMS, m.OffsetMS = Opt(videoMS), Opt(videoMS+offsetMS), Opt(offsetMS)
	return m
}

func near(t *testing.T, name string, got Opt, want, tol float64) {
	t.Helper()
	if !got.Known() || math.Abs(float64(got)-want) > tol {
		t.Errorf("%s = %v, want %v ± %v", name, float64(got), want, tol)
	}
}

func TestSummariseDriftRecoversSlope(t *testing.T) {
	// Ten minutes of one flash a second: offset 5 ms + 2 ms/min·t, plus
	// uniform ±4 ms noise and rVFC's 16.7 ms presentation grid.
	rng := rand.New(rand.NewPCG(1, 2))
	var ms []Measurement
	for i := range 600 {
		video := 123456.0 + float64(i)*1000 + math.Floor(rng.Float64()*2)*16.7
		off := 5 + 2*float64(i)/60 + (rng.Float64()*8 - 4)
		m := row(int64(i*30), video, off)
		m.LatencyMS = Opt(60 + rng.Float64()*10)
		ms = append(ms, m)
	}
	r := Summarise(ms)
	near(t, "drift", r.DriftMSPerMin, 2, 0.1)
	// The offset rises from 5 to 25 ms: its median is near 15.
	near(t, "median", r.Offset.Median, 15, 1)
	near(t, "latency p50", r.Latency.P50, 65, 1)
	if r.Offset.Samples != 600 {
		t.Errorf("samples = %d, want 600", r.Offset.Samples)
	}
}

func TestSummarisePercentilesAndSign(t *testing.T) {
	// Offsets −1…−100 ms (audio early), shuffled: the median keeps its
	// sign, p95 and max are of |offset|.
	var ms []Measurement
	for i := 1; i <= 100; i++ {
		m := row(int64(i), float64(i)*1000, -float64(i))
		if i%2 == 0 {
			m.LatencyMS = Opt(float64(i)) // even rows: 2, 4, …, 100
		}
		ms = append(ms, m)
	}
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
	r := Summarise(ms)
	near(t, "median", r.Offset.Median, -50.5, 1e-9)
	near(t, "p95", r.Offset.P95, 95.05, 1e-9)
	near(t, "max_abs", r.Offset.MaxAbs, 100, 1e-9)
	near(t, "latency p50", r.Latency.P50, 51, 1e-9)   // of 2…100 step 2
	near(t, "latency p95", r.Latency.P95, 95.1, 1e-9) // pos 0.95·49 = 46.55
	near(t, "drift", r.DriftMSPerMin, -60, 1e-9)      // −1 ms per second
}

func TestSummariseSkipsUnknownAndCountsFreezes(t *testing.T) {
	ms := []Measurement{row(0, 0, 10), row(30, 1000, 20), row(60, 2000, 30)}
	bad := unknownMeasurement()
	bad.FlashIndex = 90
	ms = append(ms, bad)
	ms[0].Freezes, ms[1].Freezes, ms[2].Freezes = 0, 2, 1 // cumulative; max wins
	r := Summarise(ms)
	if r.Offset.Samples != 3 || len(r.Measurements) != 4 {
		t.Fatalf("samples %d rows %d, want 3 and 4", r.Offset.Samples, len(r.Measurements))
	}
	near(t, "median", r.Offset.Median, 20, 1e-9)
	if r.Latency.P50.Known() {
		t.Errorf("latency p50 %v with no latency known", float64(r.Latency.P50))
	}
	if r.Freezes != 2 {
		t.Errorf("freezes = %d, want 2", r.Freezes)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("marshal with unknown values: %v", err)
	}
	if !strings.Contains(string(b), `"latency_ms":{"p50":null,"p95":null}`) {
		t.Errorf("unknown latency not null in %s", b)
	}
}

func TestReportJSONKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		ms   []Measurement
	}{{"empty", nil}, {"two", []Measurement{row(0, 0, 1), row(30, 1000, 3)}}} {
		b, err := json.Marshal(Summarise(tc.ms))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var top map[string]json.RawMessage
		if err := json.Unmarshal(b, &top); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var keys []string
		for k := range top {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		want := []string{"drift_ms_per_min", "freezes", "latency_ms", "measurements", "offset_ms"}
		if !slices.Equal(keys, want) {
			t.Errorf("%s: keys %v, want %v", tc.name, keys, want)
		}
		var off map[string]any
		if err := json.Unmarshal(top["offset_ms"], &off); err != nil || len(off) != 4 ||
			off["median"] == nil && tc.ms != nil || off["samples"] == nil {
			t.Errorf("%s: offset_ms = %s", tc.name, top["offset_ms"])
		}
		if tc.ms == nil && (string(top["measurements"]) != "[]" || off["samples"] != 0.0) {
			t.Errorf("empty: measurements %s samples %v", top["measurements"], off["samples"])
		}
	}
	// With send errors the extra key appears.
	r := Summarise(nil)
	r.SendError = NewSendError([]float64{0.1, 0.2, 5}, nil)
	b, _ := json.Marshal(r)
	if !strings.Contains(string(b), `"send_error_ms":{"audio_p50":0.2,`) || !strings.Contains(string(b), `"video_p50":null`) {
		t.Errorf("send error JSON: %s", b)
	}
}

func TestOneLine(t *testing.T) {
	r := Report{
		Offset:        OffsetSummary{Median: 3.14, P95: 8, MaxAbs: 9, Samples: 5},
		DriftMSPerMin: 0.21,
		Latency:       LatencySummary{P50: 61.6, P95: 70},
	}
	want := "offset median 3.1 ms p95 8.0 ms, drift 0.2 ms/min, latency p50 62 ms, freezes 0"
	if got := r.OneLine(); got != want {
		t.Errorf("OneLine = %q, want %q", got, want)
	}
	if got := Summarise(nil).OneLine(); got != "offset median n/a ms p95 n/a ms, drift n/a ms/min, latency p50 n/a ms, freezes 0" {
		t.Errorf("empty OneLine = %q", got)
	}
}
