package ui

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"segcast/rtc/measure"
)

// chromiumPath is Debian's chromium.
const chromiumPath = measure.DefaultBrowser

// startChromium runs headless Chromium for a test (or skips, failing
// under CI=1, without it) and returns its tab's context, bounded by
// limit, with the flags `segcast measure` uses.
func startChromium(t testing.TB, limit time.Duration) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		missing(t, "%s (Debian package chromium): %v", chromiumPath, err)
	}
	opts := measure.BrowserOptions(chromiumPath, t.TempDir())
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, limit)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// pageEval evaluates expr in the page.
func pageEval[T any](ctx context.Context, expr string) (T, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr))
}
