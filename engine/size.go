package engine

import (
	"fmt"
	"image"
	"strconv"
	"strings"
)

// Output sizes ParseSize accepts: even sides (I420 halves both for
// chroma) from 16x16 up to 8K UHD.
const (
	minSide             = 16
	maxWidth, maxHeight = 7680, 4320
)

// ParseSize reads an output size "WIDTHxHEIGHT" such as "1280x720"
// (spaces around the numbers and an upper-case X are allowed).
func ParseSize(s string) (image.Point, error) {
	ws, hs, ok := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "x")
	if ok {
		w, err1 := strconv.Atoi(strings.TrimSpace(ws))
		h, err2 := strconv.Atoi(strings.TrimSpace(hs))
		if err1 == nil && err2 == nil && w >= minSide && h >= minSide && w <= maxWidth && h <= maxHeight &&
			w%2 == 0 && h%2 == 0 {
			return image.Pt(w, h), nil
		}
	}
	return image.Point{}, fmt.Errorf("%q: want WIDTHxHEIGHT with even sides from %dx%d to %dx%d",
		s, minSide, minSide, maxWidth, maxHeight)
}
