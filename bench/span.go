package bench

import (
	"os"
	"strconv"
	"time"
)

// Span is how long a benchmark measures: SEGCAST_BENCH_SECONDS when set
// to a positive whole number of seconds, else def.
func Span(def time.Duration) time.Duration {
	if n, err := strconv.Atoi(os.Getenv("SEGCAST_BENCH_SECONDS")); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return def
}
