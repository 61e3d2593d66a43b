package assets

import (
	"bytes"
	_ "embed"
)

//go:embed livekit.html
var liveKitHTML []byte

// liveKitClientJS is livekit-client's UMD build (livekit/README.md), which
// the LiveKit viewer page inlines so it works with nothing fetched.
//
//go:embed livekit/livekit-client.umd.js
var liveKitClientJS []byte

// liveKitSlot is where livekit.html takes the library.
const liveKitSlot = `/*segcast:livekit-client*/`

// LiveKitViewerPage returns the self-contained LiveKit viewer page: open it
// as PAGE#url=wss://HOST&token=JWT to play the room's first participant.
// The slice is a fresh copy.
func LiveKitViewerPage() []byte {
	return bytes.Replace(liveKitHTML, []byte(liveKitSlot), liveKitClientJS, 1)
}
