package rtc

import (
	"runtime"
	"testing"
)

// SpareProcs doubles the runtime's default, once however often it is
// called, and leaves a GOMAXPROCS the user set alone.
func TestSpareProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	t.Setenv("GOMAXPROCS", "")
	runtime.SetDefaultGOMAXPROCS()
	def := runtime.GOMAXPROCS(0)
	for i := range 2 {
		if n := SpareProcs(); n != 2*def || runtime.GOMAXPROCS(0) != n {
			t.Errorf("call %d: SpareProcs() = %d, GOMAXPROCS %d; want both %d (twice the default %d)",
				i+1, n, runtime.GOMAXPROCS(0), 2*def, def)
		}
	}
	t.Setenv("GOMAXPROCS", "3")
	runtime.GOMAXPROCS(3)
	if n := SpareProcs(); n != 3 || runtime.GOMAXPROCS(0) != 3 {
		t.Errorf("with GOMAXPROCS=3 set: SpareProcs() = %d, GOMAXPROCS %d; want 3", n, runtime.GOMAXPROCS(0))
	}
}
