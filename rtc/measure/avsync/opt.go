// Package avsync measures audio/video sync as a browser viewer plays it:
// the message formats the viewer page (assets/measure.js) exchanges with
// the app over a DataChannel, the clock-offset estimate for its ping/pong,
// the summary of a run (median/p95 offset, drift, latency, freezes) and
// its plot (gonum.org/v1/plot: PNG and SVG). Pure Go: no cgo, no network.
//
// Sign convention everywhere: offset = audio time − video time, so a
// positive offset means the sound is heard after the picture is shown
// (audio late). The EBU R37 tolerance (audio at most 40 ms early, at most
// 60 ms late) is therefore the band −40 ms ≤ offset ≤ +60 ms.
package avsync

import (
	"encoding/json"
	"math"
	"strconv"
)

// Opt is a number that may be unknown: NaN in Go, null in JSON (JSON has
// no NaN, and the browser leaves stats out when it has none).
type Opt float64

// Unknown is the value of an Opt nobody knows.
func Unknown() Opt { return Opt(math.NaN()) }

// Known reports whether o holds a finite value.
func (o Opt) Known() bool {
	f := float64(o)
	return !math.IsNaN(f) && !math.IsInf(f, 0)
}

// MarshalJSON writes null for unknown values.
func (o Opt) MarshalJSON() ([]byte, error) {
	if !o.Known() {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(o), 'g', -1, 64), nil
}

// UnmarshalJSON reads null as unknown.
func (o *Opt) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*o = Unknown()
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*o = Opt(f)
	return nil
}
