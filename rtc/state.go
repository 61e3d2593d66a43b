package rtc

import (
	"encoding/json"
	"fmt"

	"github.com/pion/webrtc/v4"
)

// ViewerState is where a viewer's connection stands, pion-style: a typed
// enum whose String is what the UI, logs and stats files show.
type ViewerState int

const (
	// ViewerNew: signalling not finished (an offer waiting for its answer).
	ViewerNew ViewerState = iota
	// ViewerConnecting: ICE/DTLS in progress, or a connection that was
	// lost and may recover (pion's "disconnected").
	ViewerConnecting
	ViewerConnected
	ViewerFailed
	ViewerClosed
)

var viewerStateNames = [...]string{"new", "connecting", "connected", "failed", "closed"}

func (s ViewerState) String() string {
	if s < 0 || int(s) >= len(viewerStateNames) {
		return fmt.Sprintf("ViewerState(%d)", int(s))
	}
	return viewerStateNames[s]
}

// Live reports whether the viewer may still play: not failed or closed.
func (s ViewerState) Live() bool { return s != ViewerFailed && s != ViewerClosed }

// MarshalJSON writes the name, as stats files always have.
func (s ViewerState) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads a name written by MarshalJSON.
func (s *ViewerState) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return err
	}
	for i, n := range viewerStateNames {
		if n == name {
			*s = ViewerState(i)
			return nil
		}
	}
	return fmt.Errorf("viewer state %q: want one of %v", name, viewerStateNames)
}

// viewerState maps pion's connection state onto ours.
func viewerState(st webrtc.PeerConnectionState) ViewerState {
	switch st {
	case webrtc.PeerConnectionStateConnecting, webrtc.PeerConnectionStateDisconnected:
		return ViewerConnecting
	case webrtc.PeerConnectionStateConnected:
		return ViewerConnected
	case webrtc.PeerConnectionStateFailed:
		return ViewerFailed
	case webrtc.PeerConnectionStateClosed:
		return ViewerClosed
	default:
		return ViewerNew
	}
}
