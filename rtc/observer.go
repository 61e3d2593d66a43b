package rtc

import (
	"image"
	"time"
)

// An Observer watches a session from outside its send path: viewers as
// they are made and end, and every media item as it leaves. The A/V
// measurement (rtc/measure) and tests are observers; the session never
// looks at the media for them. Methods are called on the session's own
// goroutines and must not block: hand work to a goroutine of your own.
type Observer interface {
	// ViewerCreated is called for a new viewer before signalling starts,
	// so the observer may add DataChannels to v.PeerConnection().
	ViewerCreated(v *Viewer)
	// ViewerClosed is called once when the viewer has ended.
	ViewerClosed(v *Viewer)
	// Sent is called after an item's packets were written to the tracks.
	Sent(item SentItem)
}

// MediaKind tells the two tracks apart.
type MediaKind int

const (
	Video MediaKind = iota
	Audio
)

func (k MediaKind) String() string {
	if k == Video {
		return "video"
	}
	return "audio"
}

// SentItem is one media item (a video frame or a 20 ms audio chunk) as it
// left.
type SentItem struct {
	Kind MediaKind
	// Seq is the engine's frame or chunk index; MediaRTP its RTP
	// timestamp on the engine's timeline, RTP the one on the wire (a
	// random per-track base added).
	Seq      int64
	MediaRTP uint32
	RTP      uint32
	// Deadline and Wrote are times on the loop's clock: when the item was
	// due and when its packets were written.
	Deadline, Wrote time.Duration
	// Wall is the wall-clock time of the write: the clock RTCP Sender
	// Reports map RTP time onto.
	Wall time.Time
	// For video: the frame sent (shared, read-only) and where it came
	// from (engine.VideoFrame's Segment and SourceIndex; -1 for idle).
	Image       *image.YCbCr
	Segment     int
	SourceIndex int
}
