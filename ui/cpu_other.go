//go:build !unix

package ui

import "time"

// processCPU is not measured here: the health line shows "–".
func processCPU() (time.Duration, bool) { return 0, false }
