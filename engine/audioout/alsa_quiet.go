//go:build linux

package audioout

/*
#cgo pkg-config: alsa
#include <alsa/asoundlib.h>

// PortAudio probes every ALSA device it knows of; on a machine without a
// sound card each failed probe prints "ALSA lib …" lines on stderr. Those
// say nothing the app does not already say ("no audio device"), so ALSA's
// own messages are dropped. The ALSA file device used in tests is unaffected.
static void segcast_alsa_silent(const char *file, int line, const char *function, int err, const char *fmt, ...) {}
static void segcast_quiet_alsa(void) { snd_lib_error_set_handler(segcast_alsa_silent); }
*/
import "C"

// quietALSA stops ALSA's probing messages; call before portaudio.Initialize.
func quietALSA() { C.segcast_quiet_alsa() }
