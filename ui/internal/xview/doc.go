// Package xview shows pictures in child windows of an X11 window, drawn
// with XPutImage on a connection of its own.
//
// Fyne repaints its whole window for any change, and on software GL
// (llvmpipe) that repaint, not the picture, is most of what a playing
// preview costs (bench/README.md, "Window"). A child window at the
// picture's place is drawn by the X server alone: a new frame costs one
// copy, and nothing else in the window is painted again. Child windows
// select no input, so clicks and motion over them reach the Fyne window
// beneath as before.
//
// Where X11 is not available (Windows, macOS, Wayland, Fyne's test
// driver) Dial fails and the caller draws through Fyne.
package xview
