//go:build !linux

package rtc

import "errors"

// Real-time priority is asked for on Linux only (priority_linux.go).
const (
	senderPriority = 5
	loopPriority   = 4
)

func raisePriority(int) error { return errors.New("real-time priority is asked for on Linux only") }
