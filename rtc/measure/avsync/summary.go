package avsync

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"segcast/engine/stats"
)

// Report summarises a measured run. All figures are milliseconds; unknown
// figures (no samples) are null in JSON.
type Report struct {
	Offset        OffsetSummary  `json:"offset_ms"`
	DriftMSPerMin Opt            `json:"drift_ms_per_min"`
	Latency       LatencySummary `json:"latency_ms"`
	Freezes       int            `json:"freezes"`
	SendError     *SendError     `json:"send_error_ms,omitempty"`
	Measurements  []Measurement  `json:"measurements"`
}

// OffsetSummary: Median is the signed median of audio − video (its sign
// says which way sync is off); P95 and MaxAbs are of |offset| (how far off
// it gets either way).
type OffsetSummary struct {
	Median  Opt `json:"median"`
	P95     Opt `json:"p95"`
	MaxAbs  Opt `json:"max_abs"`
	Samples int `json:"samples"`
}

// LatencySummary is send-to-present latency over the rows that have one.
type LatencySummary struct {
	P50 Opt `json:"p50"`
	P95 Opt `json:"p95"`
}

// SendError is the sender's actual write time minus deadline, per track;
// the app fills it from its own send log (NewSendError).
type SendError struct {
	AudioP50 Opt `json:"audio_p50"`
	AudioP99 Opt `json:"audio_p99"`
	VideoP50 Opt `json:"video_p50"`
	VideoP99 Opt `json:"video_p99"`
}

// NewSendError summarises send-time errors (ms) of audio and video writes.
func NewSendError(audioMS, videoMS []float64) *SendError {
	a, v := finiteSorted(audioMS), finiteSorted(videoMS)
	return &SendError{
		AudioP50: quantile(a, 0.50), AudioP99: quantile(a, 0.99),
		VideoP50: quantile(v, 0.50), VideoP99: quantile(v, 0.99),
	}
}

// Summarise computes the report of ms. Rows with a non-finite offset are
// kept in Measurements but left out of every figure; rows with unknown
// latency only out of the latency figures. Drift is the least-squares
// slope of offset against presentation time (VideoMS), in ms per minute.
// Percentiles interpolate linearly between order statistics.
func Summarise(ms []Measurement) Report {
	r := Report{Measurements: append([]Measurement{}, ms...)}
	var offs, abs, lats []float64
	var ts []float64
	freezes := math.Inf(-1)
	for _, m := range ms {
		if m.Freezes.Known() {
			freezes = max(freezes, float64(m.Freezes))
		}
		if !m.OffsetMS.Known() || !m.VideoMS.Known() {
			continue
		}
		offs = append(offs, float64(m.OffsetMS))
		abs = append(abs, math.Abs(float64(m.OffsetMS)))
		ts = append(ts, float64(m.VideoMS))
		if m.LatencyMS.Known() {
			lats = append(lats, float64(m.LatencyMS))
		}
	}
	r.DriftMSPerMin = slopePerMinute(ts, offs)
	slices.Sort(abs)
	lats = finiteSorted(lats)
	r.Offset = OffsetSummary{
		Median:  quantile(finiteSorted(offs), 0.5),
		P95:     quantile(abs, 0.95),
		MaxAbs:  quantile(abs, 1),
		Samples: len(offs),
	}
	r.Latency = LatencySummary{P50: quantile(lats, 0.5), P95: quantile(lats, 0.95)}
	if !math.IsInf(freezes, -1) {
		// The counter is cumulative: its largest value is the run's total.
		r.Freezes = int(freezes)
	}
	return r
}

// OneLine is the CLI summary, e.g.
// "offset median 3.1 ms p95 8.0 ms, drift 0.2 ms/min, latency p50 62 ms, freezes 0".
func (r Report) OneLine() string {
	return fmt.Sprintf("offset median %s ms p95 %s ms, drift %s ms/min, latency p50 %s ms, freezes %d",
		fmtOpt(r.Offset.Median, 1), fmtOpt(r.Offset.P95, 1), fmtOpt(r.DriftMSPerMin, 1),
		fmtOpt(r.Latency.P50, 0), r.Freezes)
}

func fmtOpt(o Opt, prec int) string {
	if !o.Known() {
		return "n/a"
	}
	return fmt.Sprintf("%.*f", prec, float64(o))
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// finiteSorted returns the finite values of v, sorted, in a new slice.
func finiteSorted(v []float64) []float64 {
	out := make([]float64, 0, len(v))
	for _, x := range v {
		if isFinite(x) {
			out = append(out, x)
		}
	}
	slices.SortFunc(out, cmp.Compare)
	return out
}

// quantile of sorted s (stats.Quantile); unknown if empty.
func quantile(s []float64, q float64) Opt { return Opt(stats.Quantile(s, q)) }

// slopePerMinute is the least-squares slope of y against t (ms), scaled to
// per minute; unknown with fewer than two distinct times. Centring on the
// means keeps it exact for runs of hours on a large performance.now().
func slopePerMinute(t, y []float64) Opt {
	if len(t) < 2 {
		return Unknown()
	}
	var mt, my float64
	for i := range t {
		mt += t[i]
		my += y[i]
	}
	mt /= float64(len(t))
	my /= float64(len(t))
	var sxy, sxx float64
	for i := range t {
		dt := t[i] - mt
		sxy += dt * (y[i] - my)
		sxx += dt * dt
	}
	if sxx == 0 {
		return Unknown()
	}
	return Opt(sxy / sxx * 60_000)
}
