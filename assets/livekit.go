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

// liveKitSyncJS carries the sync messages over LiveKit data messages.
//
//go:embed livekit_sync.js
var liveKitSyncJS []byte

// Where livekit.html takes the library and livekit_sync.js.
const (
	liveKitSlot     = `/*segcast:livekit-client*/`
	liveKitSyncSlot = `/*segcast:livekit_sync.js*/`
)

// LiveKitViewerPage returns the self-contained LiveKit viewer page, with
// livekit-client, measure.js and livekit_sync.js inlined: open it as
// PAGE#url=wss://HOST&token=JWT[&lipsync=off] to play (and measure) the
// room's first participant; the token must allow publishing data, which
// carries the sync messages. The slice is a fresh copy.
func LiveKitViewerPage() []byte {
	page := bytes.Replace(liveKitHTML, []byte(liveKitSlot), liveKitClientJS, 1)
	page = bytes.Replace(page, []byte(liveKitSyncSlot), liveKitSyncJS, 1)
	return bytes.Replace(page, []byte(measureSlot), measureJS, 1)
}
