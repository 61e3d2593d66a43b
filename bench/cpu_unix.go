//go:build unix

package bench

import (
	"syscall"
	"time"
)

// ProcessCPU is the user+system CPU time this process (all its threads,
// cgo's included) has used so far, or 0 if it cannot be read. The machines
// are shared, so CPU time per unit of work is steadier than wall time.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
