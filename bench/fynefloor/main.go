// Command fynefloor is the floor under the window's preview cost: a Fyne
// window of the app's default size holding one picture of the size the
// window shows its preview at, replaced 30 times a second from four
// ready buffers (nothing converted, nothing else drawn). Run under Xvfb,
// its CPU is what Fyne's GL painter on Mesa's software rasteriser costs
// for that alone (ui's BenchmarkFyneFloorXvfb measures it). Benchmark
// only; not part of the app.
package main

import (
	"flag"
	"image"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
)

func main() {
	w := flag.Int("w", 632, "picture width in pixels")
	h := flag.Int("h", 356, "picture height in pixels")
	fps := flag.Int("fps", 30, "pictures per second")
	flag.Parse()

	a := app.New()
	win := a.NewWindow("fynefloor")
	pics := make([]*image.RGBA, 4)
	for i := range pics {
		pics[i] = image.NewRGBA(image.Rect(0, 0, *w, *h))
		for j := range pics[i].Pix {
			pics[i].Pix[j] = uint8(j*(i+1)) | 3 // differs per buffer; opaque
		}
	}
	img := canvas.NewImageFromImage(pics[0])
	img.FillMode = canvas.ImageFillOriginal
	img.ScaleMode = canvas.ImageScaleFastest
	win.SetContent(container.NewCenter(img))
	win.Resize(fyne.NewSize(1280, 760))

	go func() {
		// Absolute deadlines: picture k is due at start + k/fps.
		start := time.Now()
		for k := 1; ; k++ {
			time.Sleep(time.Until(start.Add(time.Duration(k) * time.Second / time.Duration(*fps))))
			pic := pics[k%len(pics)]
			fyne.Do(func() {
				img.Image = pic
				img.Refresh()
			})
		}
	}()
	win.ShowAndRun()
}
