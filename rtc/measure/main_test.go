package measure

import (
	"testing"

	"segcast/rtc"
	"segcast/rtc/internal/rtctest"
)

// The tests run in a private network namespace (rtctest.Main): the
// browser tests' traffic never leaves it.
func TestMain(m *testing.M) { rtctest.Main(m) }

// withHub gives a stream's session a Hub on the loop's clock, closed
// after the session; *hub is set when the session is made.
func withHub(tb testing.TB, hub **Hub) func(*rtc.Config) {
	return func(c *rtc.Config) {
		*hub = NewHub(c.Clock, nil)
		tb.Cleanup((*hub).Close)
		c.Observers = append(c.Observers, *hub)
	}
}
