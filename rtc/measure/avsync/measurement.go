package avsync

// Measurement is one flash/beep pair as the viewer page reports it. Times
// ending in _ms are milliseconds; VideoMS and AudioMS are on the page's
// performance.now() scale. Every number is an Opt so that a row, however
// built, always encodes as JSON; decoded rows have the first four known.
type Measurement struct {
	// FlashIndex is the pattern frame index k read from the flash frame.
	FlashIndex int64 `json:"flash_index"`
	// VideoMS is when the flash frame was presented (requestVideoFrameCallback's
	// expectedDisplayTime, else presentationTime).
	VideoMS Opt `json:"video_ms"`
	// AudioMS is when its beep was heard (onset, output latency included).
	AudioMS Opt `json:"audio_ms"`
	// AudioPath says how the page heard it: AudioPathTrack or
	// AudioPathWebAudio (see assets/measure.js).
	AudioPath string `json:"audio_path,omitempty"`
	// OffsetMS is AudioMS − VideoMS: positive when audio is late.
	OffsetMS Opt `json:"offset_ms"`
	// LatencyMS is send-to-present for the flash frame, when the page knew
	// the app's send time and the clock offset.
	LatencyMS Opt `json:"latency_ms"`
	// AtMS is the app's clock when the row arrived (filled by the app).
	AtMS Opt `json:"at_ms"`
	Stats
}

// Stats are the getStats figures the page sends with each row (and alone
// in "stats" messages). Counters are cumulative since the viewer connected.
type Stats struct {
	// JitterBufferMS is the video jitter buffer delay over the last stats
	// interval (Δ jitterBufferDelay / Δ jitterBufferEmittedCount).
	JitterBufferMS Opt `json:"jitter_buffer_ms"`
	// JitterTargetMS is the same for jitterBufferTargetDelay.
	JitterTargetMS Opt `json:"jitter_target_ms"`
	// Freezes is the video track's freezeCount.
	Freezes Opt `json:"freezes"`
	// ConcealedSamples is the audio track's concealedSamples.
	ConcealedSamples Opt `json:"concealed_samples"`
	// FramesDropped is the video track's framesDropped.
	FramesDropped Opt `json:"frames_dropped"`
	// PlayoutOffsetMS is video − audio estimatedPlayoutTimestamp from one
	// getStats call: the offset (audio late positive) for any content.
	PlayoutOffsetMS Opt `json:"playout_offset_ms"`
	// PlayoutDelayMS is the audio output path's delay, from the jitter
	// buffer to the device, over the last stats interval (media-playout
	// Δ totalPlayoutDelay / Δ totalSamplesCount).
	PlayoutDelayMS Opt `json:"playout_delay_ms"`
	// TimelineMS is the page's own estimate of the offset from timing
	// alone, never the content: the video frame on screen against the
	// audio playing now, both on the sender's clock (see "Lip-sync trim"
	// in assets/measure.js). Positive when audio is late, as OffsetMS; an
	// offset inside the content shows in OffsetMS but not here.
	TimelineMS Opt `json:"timeline_ms"`
	// TrimAudioMS and TrimVideoMS are the jitterBufferTarget values the
	// page's lip-sync trim has set on the audio and video receivers (0:
	// none); unknown when the trim is off.
	TrimAudioMS Opt `json:"trim_audio_ms"`
	TrimVideoMS Opt `json:"trim_video_ms"`
}

// How the page heard a beep (Measurement.AudioPath).
const (
	// AudioPathTrack: the received track's own samples, stamped when the
	// audio renderer pulled them, plus PlayoutDelayMS.
	AudioPathTrack = "track"
	// AudioPathWebAudio: a Web Audio copy of the track, timed by the
	// AudioContext's output clock; buffered apart from what the page
	// plays, so it reads late (a fallback where the track path is
	// missing).
	AudioPathWebAudio = "webaudio"
)

// UnknownStats has every field unknown; decoding starts from it so that a
// field the page left out stays unknown rather than becoming 0.
func UnknownStats() Stats {
	u := Unknown()
	return Stats{u, u, u, u, u, u, u, u, u, u}
}

// unknownMeasurement is the starting point for decoding a row.
func unknownMeasurement() Measurement {
	u := Unknown()
	return Measurement{
		FlashIndex: -1, VideoMS: u, AudioMS: u, OffsetMS: u,
		LatencyMS: Unknown(), AtMS: Unknown(), Stats: UnknownStats(),
	}
}
