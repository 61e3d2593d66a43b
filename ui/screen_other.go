//go:build js || wasm || android || ios

package ui

// screenSize is unknown here: the window takes its default size.
func screenSize() (w, h int) { return 0, 0 }
