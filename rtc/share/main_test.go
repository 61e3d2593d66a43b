package share

import (
	"testing"

	"segcast/rtc/internal/rtctest"
)

// The tests run in a private network namespace (rtctest.Main): the
// browser tests' traffic never leaves it.
func TestMain(m *testing.M) { rtctest.Main(m) }
