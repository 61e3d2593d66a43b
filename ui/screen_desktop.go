//go:build !js && !wasm && !android && !ios

package ui

import "github.com/go-gl/glfw/v3.3/glfw"

// screenSize is the primary monitor's size in pixels (0, 0 when unknown).
// Fyne has initialised GLFW once a window exists; call it on the main
// thread (Run's), before ShowAndRun.
func screenSize() (w, h int) {
	m := glfw.GetPrimaryMonitor()
	if m == nil {
		return 0, 0
	}
	mode := m.GetVideoMode()
	if mode == nil {
		return 0, 0
	}
	return mode.Width, mode.Height
}
