//go:build !linux

package rtc

import "errors"

// raiseSendPriority is Linux only; elsewhere senders keep the ordinary
// priority.
func raiseSendPriority() error { return errors.New("real-time priority is asked for on Linux only") }
