package avsync

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// DataChannel messages, JSON objects told apart by "t".
//
// App → page:
//
//	{"t":"ping","id":n,"app_ms":…,"offset_ms":…}  offset_ms (optional) is the
//	                                             app's current ClockSync estimate
//	                                             of page clock − app clock
//	{"t":"frame","k":…,"send_ms":…,"rtp":…}       app clock time pattern frame k
//	                                             (the index drawn in the picture)
//	                                             was written to the track, and its
//	                                             video RTP timestamp as sent
//	{"t":"map","video_rtp":…,"wall_ms":…}         the video frame with that RTP
//	                                             timestamp was written at wall_ms
//	                                             (Unix ms, the clock the Sender
//	                                             Reports use); about once a second
//	{"t":"bye","reason":…}                        the stream is ending for this
//	                                             viewer (the host stopped sharing,
//	                                             closed it, or closed the app)
//
// Page → app:
//
//	{"t":"hello"}                                  the page measures: talk to it
//	                                             (transports without a channel of
//	                                             their own, LiveKit data messages)
//	{"t":"pong","id":n,"app_ms":…,"page_rx_ms":…,"page_tx_ms":…}
//	{"t":"m", …Measurement…}                       one row per flash/beep pair
//	{"t":"stats","page_ms":…, …Stats…}             getStats once a second
//
// Latency needs no frame-rate knowledge in the page: the app sends "frame"
// for the frames it wants latency for (at least every flash frame; every
// frame is fine too), and the page computes
// latency = present time − (send_ms + offset_ms) for a frame it has seen.
//
// An SFU rewrites RTP timestamps by an offset of its own, so a "map" means
// nothing to a page behind one until it knows that offset: the page learns
// it from a flash frame, as the rtpTimestamp it was presented with less
// the "rtp" of the frame message with the index it reads in the picture.

// MaxMessageBytes bounds a page message: rows are a few hundred bytes.
const MaxMessageBytes = 16 << 10

// Ping is the app's clock probe; the page answers with a Pong.
type Ping struct {
	T        string  `json:"t"` // "ping"
	ID       int64   `json:"id"`
	AppMS    float64 `json:"app_ms"`
	OffsetMS Opt     `json:"offset_ms"`
}

// NewPing builds a ping carrying the current clock estimate (unknown until
// the first pong).
func NewPing(id int64, appMS float64, c *ClockSync) Ping {
	p := Ping{T: "ping", ID: id, AppMS: appMS, OffsetMS: Unknown()}
	if c != nil {
		if off, ok := c.Offset(); ok {
			p.OffsetMS = Opt(off)
		}
	}
	return p
}

// Frame tells the page when pattern frame K left the app, and with which
// video RTP timestamp.
type Frame struct {
	T      string  `json:"t"` // "frame"
	K      int64   `json:"k"`
	SendMS float64 `json:"send_ms"`
	RTP    uint32  `json:"rtp"`
}

// NewFrame builds a frame message.
func NewFrame(k int64, sendMS float64, rtp uint32) Frame {
	return Frame{T: "frame", K: k, SendMS: sendMS, RTP: rtp}
}

// Map ties the video track's RTP timestamps to the sender's wall clock,
// as its Sender Reports do, for the page's lip-sync trim.
type Map struct {
	T        string  `json:"t"` // "map"
	VideoRTP uint32  `json:"video_rtp"`
	WallMS   float64 `json:"wall_ms"`
}

// NewMap builds a map message.
func NewMap(videoRTP uint32, wallMS float64) Map {
	return Map{T: "map", VideoRTP: videoRTP, WallMS: wallMS}
}

// Bye tells the page the stream is ending on purpose, before the
// connection goes, so it can say so at once rather than wait for ICE to
// notice.
type Bye struct {
	T      string `json:"t"` // "bye"
	Reason string `json:"reason"`
}

// NewBye builds a bye message; reason is shown to the viewer.
func NewBye(reason string) Bye { return Bye{T: "bye", Reason: reason} }

// Pong is the page's answer to a Ping: t1 = PageRxMS, t2 = PageTxMS on the
// page clock; AppMS echoes the ping's t0.
type Pong struct {
	ID       int64   `json:"id"`
	AppMS    float64 `json:"app_ms"`
	PageRxMS float64 `json:"page_rx_ms"`
	PageTxMS float64 `json:"page_tx_ms"`
}

// Hello is a page saying it measures, where the transport has no channel
// whose opening says so (LiveKit data messages).
type Hello struct{}

// StatsMsg is a getStats sample sent without a flash (any content).
type StatsMsg struct {
	PageMS float64 `json:"page_ms"`
	Stats
}

// envelope reads only the message type.
type envelope struct {
	T *string `json:"t"`
}

// DecodePageMessage parses one page → app message and returns a Hello, a
// Pong, a Measurement or a StatsMsg. Messages over MaxMessageBytes, with an
// unknown "t", or missing a required field are refused with an error
// naming the field.
func DecodePageMessage(b []byte) (any, error) {
	if len(b) > MaxMessageBytes {
		return nil, fmt.Errorf("page message: %d bytes, limit %d", len(b), MaxMessageBytes)
	}
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("page message: %w", err)
	}
	if env.T == nil {
		return nil, errors.New(`page message: no "t" field`)
	}
	switch *env.T {
	case "hello":
		if err := strictDecode(b, &struct{}{}); err != nil {
			return nil, fmt.Errorf("page message hello: %w", err)
		}
		return Hello{}, nil
	case "pong":
		p, err := decodePong(b)
		if err != nil {
			return nil, err
		}
		return p, nil
	case "m":
		m, err := decodeMeasurement(b)
		if err != nil {
			return nil, err
		}
		return m, nil
	case "stats":
		s := StatsMsg{PageMS: math.NaN(), Stats: UnknownStats()}
		if err := strictDecode(b, &s); err != nil {
			return nil, fmt.Errorf("page message stats: %w", err)
		}
		if err := finite("page_ms", s.PageMS); err != nil {
			return nil, fmt.Errorf("page message stats: %w", err)
		}
		return s, nil
	default:
		return nil, fmt.Errorf("page message: unknown type %q", *env.T)
	}
}

func decodePong(b []byte) (Pong, error) {
	nan := math.NaN()
	p := Pong{ID: -1, AppMS: nan, PageRxMS: nan, PageTxMS: nan}
	if err := strictDecode(b, &p); err != nil {
		return Pong{}, fmt.Errorf("page message pong: %w", err)
	}
	if p.ID < 0 {
		return Pong{}, fmt.Errorf("page message pong: field id missing or negative")
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"app_ms", p.AppMS}, {"page_rx_ms", p.PageRxMS}, {"page_tx_ms", p.PageTxMS}} {
		if err := finite(f.name, f.v); err != nil {
			return Pong{}, fmt.Errorf("page message pong: %w", err)
		}
	}
	if p.PageTxMS < p.PageRxMS {
		return Pong{}, fmt.Errorf("page message pong: page_tx_ms %v before page_rx_ms %v", p.PageTxMS, p.PageRxMS)
	}
	return p, nil
}

// offsetSlackMS is how far a sent offset_ms may differ from audio − video
// (rounding in the page); more means the page got the sign or a field wrong.
const offsetSlackMS = 0.5

func decodeMeasurement(b []byte) (Measurement, error) {
	m := unknownMeasurement()
	if err := strictDecode(b, &m); err != nil {
		return Measurement{}, fmt.Errorf("page message m: %w", err)
	}
	if m.FlashIndex < 0 {
		return Measurement{}, fmt.Errorf("page message m: field flash_index missing or negative")
	}
	if err := finite("video_ms", float64(m.VideoMS)); err != nil {
		return Measurement{}, fmt.Errorf("page message m: %w", err)
	}
	if err := finite("audio_ms", float64(m.AudioMS)); err != nil {
		return Measurement{}, fmt.Errorf("page message m: %w", err)
	}
	switch m.AudioPath {
	case "", AudioPathTrack, AudioPathWebAudio:
	default:
		return Measurement{}, fmt.Errorf("page message m: audio_path %.20q is not %q or %q", m.AudioPath, AudioPathTrack, AudioPathWebAudio)
	}
	want := m.AudioMS - m.VideoMS
	if !want.Known() {
		return Measurement{}, fmt.Errorf("page message m: audio_ms − video_ms out of range")
	}
	switch {
	case !m.OffsetMS.Known():
		m.OffsetMS = want
	case math.Abs(float64(m.OffsetMS-want)) > offsetSlackMS:
		return Measurement{}, fmt.Errorf("page message m: offset_ms %v is not audio_ms − video_ms (%v)", m.OffsetMS, want)
	}
	// The app stamps arrival itself; a page cannot claim it.
	m.AtMS = Unknown()
	return m, nil
}

// strictDecode unmarshals one JSON object and nothing after it.
func strictDecode(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

func finite(name string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("field %s missing or not a number", name)
	}
	return nil
}
