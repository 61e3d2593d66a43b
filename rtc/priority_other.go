//go:build !linux

package rtc

import "errors"

// raisePriority: real-time priority is asked for on Linux only
// (priority_linux.go).
func raisePriority(int) error { return errors.New("real-time priority is asked for on Linux only") }
