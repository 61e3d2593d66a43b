//go:build !linux

package ui

// lowerUIThreadPriority is Linux only (per-thread nice values); elsewhere
// the preview's own reduction under pressure has to do.
func lowerUIThreadPriority() error { return nil }
