// Package engine holds Segcast's media model: segments and their frame
// store, the loaders, the exact timeline and the sync loop that feeds
// sinks. It is pure Go: no cgo, no UI, no network.
//
// # Timeline
//
// Output frame k has media time k·den/num s (VideoFrame.MediaNS is its
// floor in ns), audio chunk n covers samples n·960 to n·960+959 at 48 kHz;
// both timestamps come from k and n alone, so they run on unbroken
// across every boundary. Everything that plays — a playlist segment, a
// queue entry, the idle clip — starts on an output frame boundary k, and
// its first sound sample is output sample ceil(k·48000·den/num): the first
// at or after the frame's exact time (0 samples apart at 25, 30, 60 fps;
// under 1/48000 s at 30000/1001). A segment occupies a whole number of
// output frames, enough for its frames and its sound; the rest of its last
// frame is silent. Chunks may straddle boundaries: each sample comes from
// what owns it.
//
// # Playlist, queue and idle clip
//
// The playlist (Add, Remove, Move, Play, Seek, …: the window's rows) stays
// and may loop; the loop never releases its segments. The on-air queue
// (Enqueue, for producers) plays each entry once and releases it once the
// loop cannot read it any more; only the latest 256 finished entries are
// remembered. What plays, in order of precedence:
//
//   - the queue's head, once ready (a live segment: its pre-roll buffered).
//     A ModeQueue entry waits for a playing playlist segment to end, then
//     plays before the playlist moves on; it cuts the idle clip, the idle
//     picture and a paused playlist at once. A
//     ModeNow entry cuts whatever is on air. A playlist segment cut by it
//     resumes where it was cut once the queue is empty;
//   - the playlist, while playing or paused (paused: its frame held, silent);
//   - the idle clip (SetIdle), looping, each pass from its start;
//   - the idle picture (LoopConfig.Idle), silent.
//
// While the queue's head buffers its pre-roll, the idle clip plays.
// Playlist commands never touch the queue; Interrupt stops both.
//
// # Cuts
//
// A command (a playlist command, ModeNow, Cancel, Fail, Interrupt,
// SetIdle) acts at the first output frame boundary K the loop can still
// change: after every item already handed to sinks and, when what is on
// air has sound, at least CutFade (5 ms) after the last sample handed
// over. Frames before K show the outgoing picture, frame K the incoming;
// the outgoing sound's last 240 samples before K's first sample ramp
// linearly to zero and the incoming sound starts there unfaded. The loop
// looks for commands before every item it hands over, and hands the sound
// over one chunk and the fade later than the pictures (LoopConfig.Lead),
// so K is the first frame not yet handed over: from the call, a cut takes
// at most one frame plus the lead. While the play head is paused with
// nothing queued, LoopConfig.HeldBatch hands items over up to that much
// early, and a command given then takes up to HeldBatch longer. While
// idle is on air, LoopConfig.IdleLead hands items over with that shorter
// lead, so a cut from idle takes at most one frame plus IdleLead; the
// items up to the whole lead are then handed over at once.
//
// # Live segments
//
// A LiveSegment grows while it plays. It starts once its pre-roll (default
// 200 ms, at least two frames) of both frames and sound is buffered. If
// playback catches up with the producer (an underrun), the segment is cut
// at the last frame boundary its data covers, its sound fading as at any
// cut; the last frame shown is held with silence — never old sound —
// until the pre-roll is buffered again, then it resumes at a frame
// boundary with the next frame and the sound from where it stopped: the
// segment's own timeline shifts later by the hold, whole frames, and its
// sound stays aligned with its frames (within one sample at fractional
// rates). Each hold is counted (LoopStats.Underruns) and reported (an
// EventUnderrun with its length) — 0 ms when data came just after the fade
// began. Frames already played are dropped and given back to the store.
package engine
