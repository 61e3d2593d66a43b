// Package stats holds the one quantile definition Segcast reports with:
// send-time errors (rtc), A/V offsets and latencies (rtc/measure/avsync).
package stats

import "math"

// Quantile is the q-quantile (q in [0,1]) of sorted values, interpolating
// linearly between neighbours (the "R-7" definition of spreadsheets and
// numpy). It is NaN for an empty slice.
func Quantile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	q = min(max(q, 0), 1)
	pos := q * float64(n-1)
	i := int(pos)
	if i >= n-1 {
		return sorted[n-1]
	}
	return sorted[i] + (pos-float64(i))*(sorted[i+1]-sorted[i])
}
