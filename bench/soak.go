package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// RSS is the resident set size of process pid in bytes, from
// /proc/PID/status (Linux).
func RSS(pid int) (int64, error) {
	path := fmt.Sprintf("/proc/%d/status", pid)
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("rss: %w", err)
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("rss: %s: VmRSS %q: %w", path, rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("rss: %s has no VmRSS line", path)
}

// SchedTraceEnv makes a Go child process print its scheduler state,
// every goroutine included, every interval (ms) on stderr; read it with
// Goroutines. It costs a brief stop of the world per trace.
func SchedTraceEnv(intervalMS int) string {
	return fmt.Sprintf("GODEBUG=schedtrace=%d,scheddetail=1", intervalMS)
}

var (
	schedHeader = regexp.MustCompile(`^SCHED \d+ms:`)
	schedG      = regexp.MustCompile(`^\s+G\d+: status=(\d+)\(`)
)

// Goroutines reads a child's stderr under SchedTraceEnv and calls each
// with the number of goroutines in each complete trace (those neither
// dead nor a cgo callback's parked one: what runtime.NumGoroutine counts,
// plus the runtime's own). Other lines (the child's logs) are passed to
// other when it is not nil. It returns at the end of r.
func Goroutines(r io.Reader, each func(n int), other func(line string)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	n, inTrace := 0, false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case schedHeader.MatchString(line):
			if inTrace {
				each(n)
			}
			n, inTrace = 0, true
		case schedG.MatchString(line):
			st, _ := strconv.Atoi(schedG.FindStringSubmatch(line)[1])
			// Dead (6) and dead-extra (11), with or without the scan bit.
			if st &^= 0x1000; st != 6 && st != 11 {
				n++
			}
		case strings.HasPrefix(line, "  P") || strings.HasPrefix(line, "  M"):
		default:
			if other != nil {
				other(line)
			}
		}
	}
	return sc.Err()
}

// Slope is the least-squares slope of y over x.
func Slope(x, y []float64) float64 {
	if len(x) < 2 || len(x) != len(y) {
		return 0
	}
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= float64(len(x))
	my /= float64(len(y))
	var sxy, sxx float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
	}
	if sxx == 0 {
		return 0
	}
	return sxy / sxx
}
