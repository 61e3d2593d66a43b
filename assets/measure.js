// measure.js — A/V sync measurement in the Segcast viewer page.
//
// Measures what the viewer actually plays: for each white flash of the
// sync pattern, when the frame is presented (requestVideoFrameCallback)
// and when its 1 kHz beep is heard (onset detection on the received
// track's samples, see "When a beep is heard"); offset = audio − video, so
// positive means audio late. Rows, getStats
// figures and ping/pong answers go to the app as JSON over a DataChannel
// (formats: rtc/avsync/messages.go).
//
// An ES module: the pure helpers are exported for Node's tests
// (assets/measure_test.mjs); the page uses window.SegcastMeasure, set at
// the end, so a classic script can reach it. The AudioWorklet needs the
// page served over http(s) or loopback, not file://.

// ---- The pattern's frame index code (port of engine/pattern.go) ----

const CODE_BITS = 24;
const CODE_CELLS = 2 + CODE_BITS + 8 + 2; // start guard, data, CRC-8, end guard
const CODE_UNITS = CODE_CELLS + 2; // one empty unit each side

// Go's color.GrayModel on 8-bit RGB, so levels match ReadPatternIndex.
export function lumaAt(frame, x, y) {
  const i = (y * frame.width + x) * 4;
  const d = frame.data;
  const r = d[i] * 0x101, g = d[i + 1] * 0x101, b = d[i + 2] * 0x101;
  return Math.floor((19595 * r + 38470 * g + 7471 * b + 0x8000) / 0x1000000);
}

// meanLuma averages at most 16×16 points spread over [x0,x1)×[y0,y1),
// the same points engine's patMeanLuma reads.
export function meanLuma(frame, x0, y0, x1, y1) {
  x0 = Math.max(x0, 0); y0 = Math.max(y0, 0);
  x1 = Math.min(x1, frame.width); y1 = Math.min(y1, frame.height);
  const dx = x1 - x0, dy = y1 - y0;
  if (dx <= 0 || dy <= 0) return 0;
  const nx = Math.min(16, dx), ny = Math.min(16, dy);
  let sum = 0;
  for (let j = 0; j < ny; j++) {
    const y = y0 + Math.floor(((2 * j + 1) * dy) / (2 * ny));
    for (let i = 0; i < nx; i++) {
      const x = x0 + Math.floor(((2 * i + 1) * dx) / (2 * nx));
      sum += lumaAt(frame, x, y);
    }
  }
  return sum / (nx * ny);
}

// CRC-8/SMBUS (polynomial 0x07), as the pattern writes it.
export function crc8(bytes) {
  let c = 0;
  for (const x of bytes) {
    c ^= x;
    for (let i = 0; i < 8; i++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
  }
  return c;
}

// codeWord is the cell values (true = white) for frame index k mod 2^24.
export function codeWord(k) {
  const v = k & 0xffffff;
  const c = new Array(CODE_CELLS).fill(false);
  c[0] = true;
  for (let i = 0; i < CODE_BITS; i++) c[2 + i] = ((v >>> (CODE_BITS - 1 - i)) & 1) === 1;
  const crc = crc8([(v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
  for (let i = 0; i < 8; i++) c[2 + CODE_BITS + i] = ((crc >>> (7 - i)) & 1) === 1;
  c[CODE_CELLS - 1] = true;
  return c;
}

// The code band is the second-to-last twelfth of the height; cell i spans
// units i+1…i+2 of CODE_UNITS across the width.
export function codeBand(h) { return [Math.floor((h * 10) / 12), Math.floor((h * 11) / 12)]; }
export function cellX(w, i) { return [Math.floor((w * (i + 1)) / CODE_UNITS), Math.floor((w * (i + 2)) / CODE_UNITS)]; }

// readPatternIndex decodes the frame index from an RGBA frame
// ({data, width, height}, e.g. ImageData) at any scale; -1 when the
// guards, a cell's level or the CRC do not match.
export function readPatternIndex(frame) {
  const w = frame.width, h = frame.height;
  if (w < CODE_UNITS || h < 12) return -1;
  const [y0, y1] = codeBand(h);
  const cells = new Array(CODE_CELLS);
  for (let i = 0; i < CODE_CELLS; i++) {
    const [x0, x1] = cellX(w, i);
    // The middle half of the cell, away from blurred edges.
    const qx = Math.floor((x1 - x0) / 4), qy = Math.floor((y1 - y0) / 4);
    const m = meanLuma(frame, x0 + qx, y0 + qy, x1 - qx, y1 - qy);
    if (m < 96) cells[i] = false;
    else if (m > 160) cells[i] = true;
    else return -1;
  }
  let v = 0;
  for (let i = 0; i < CODE_BITS; i++) v = (v << 1) | (cells[2 + i] ? 1 : 0);
  v >>>= 0;
  const want = codeWord(v);
  for (let i = 0; i < CODE_CELLS; i++) if (want[i] !== cells[i]) return -1;
  return v;
}

// isFlash: the picture above the code band is mostly white.
export function isFlash(frame) {
  const [y0] = codeBand(frame.height);
  return meanLuma(frame, 0, 0, frame.width, y0) > 160;
}

// ---- Beep onset detection (runs inside the AudioWorklet) ----

// OnsetDetector finds the onsets of a tone (1 kHz by default) in a stream
// of samples pushed in blocks of any size. Goertzel amplitude over one
// period at a time finds the beep; the onset is then refined to the first
// sample reaching half the beep's steady amplitude (the pattern's beep is
// a cosine starting at its peak, so that is its first sample). It needs
// `quietBlocks` periods of quiet before it arms, so it never reports the
// middle of a beep it joined late. Self-contained: its source text is
// what the worklet runs.
export class OnsetDetector {
  constructor(sampleRate, opts = {}) {
    this.freq = opts.freq || 1000;
    this.on = opts.on || 0.05; // tone amplitude (full scale 1) that starts a beep: −26 dBFS
    this.off = opts.off || 0.02; // below this a period counts as quiet
    this.quietBlocks = opts.quietBlocks || 10; // 10 ms at 1 kHz: beeps are 40 ms, a second apart
    this.block = Math.max(8, Math.round(sampleRate / this.freq));
    const w = (2 * Math.PI * this.freq) / sampleRate;
    this.coeff = 2 * Math.cos(w);
    this.ring = new Float32Array(this.block * 4); // the last four periods
    this.pos = 0; // absolute index of the next sample
    this.reset(0);
  }

  // reset forgets everything and continues at absolute sample index pos.
  reset(pos) {
    this.pos = pos;
    this.n = 0; this.s1 = 0; this.s2 = 0;
    this.quiet = 0; this.armed = false; this.pending = null;
  }

  // push feeds samples starting at absolute index start (default: right
  // after the last push; a gap resets the detector) and returns the
  // absolute indices of the onsets completed by them.
  push(samples, start = this.pos) {
    if (start !== this.pos) this.reset(start);
    const out = [];
    const ring = this.ring, rl = ring.length;
    for (let i = 0; i < samples.length; i++) {
      const x = samples[i];
      ring[this.pos % rl] = x;
      this.pos++;
      const s = x + this.coeff * this.s1 - this.s2;
      this.s2 = this.s1; this.s1 = s;
      if (++this.n < this.block) continue;
      const p = this.s1 * this.s1 + this.s2 * this.s2 - this.coeff * this.s1 * this.s2;
      const amp = (2 * Math.sqrt(Math.max(p, 0))) / this.block;
      this.n = 0; this.s1 = 0; this.s2 = 0;
      const onset = this.endBlock(amp);
      if (onset >= 0) out.push(onset);
    }
    return out;
  }

  endBlock(amp) {
    const end = this.pos, rl = this.ring.length;
    if (this.pending !== null) {
      // The period after the trigger is fully inside the beep: its
      // amplitude is the beep's. Search from a period before the trigger.
      const level = 0.5 * Math.max(amp, this.pending.amp);
      const from = Math.max(this.pending.from, end - rl);
      let onset = -1;
      for (let j = from; j < end; j++) {
        if (Math.abs(this.ring[j % rl]) >= level) { onset = j; break; }
      }
      this.pending = null;
      this.quiet = 0;
      return onset;
    }
    if (this.armed && amp >= this.on) {
      this.armed = false;
      this.pending = { amp, from: end - 2 * this.block };
      return -1;
    }
    if (amp < this.off) {
      if (++this.quiet >= this.quietBlocks) this.armed = true;
    } else {
      this.quiet = 0;
    }
    return -1;
  }
}

// detectOnsets runs an OnsetDetector over a whole buffer in render-quantum
// sized pushes, as the worklet does.
export function detectOnsets(samples, sampleRate, opts = {}, quantum = 128) {
  const d = new OnsetDetector(sampleRate, opts);
  const out = [];
  for (let i = 0; i < samples.length; i += quantum) out.push(...d.push(samples.subarray(i, i + quantum), i));
  return out;
}

// The worklet: the detector's own source plus a processor posting onsets
// as absolute frame numbers of the AudioContext.
const WORKLET_SOURCE = `${OnsetDetector.toString()}
class SegcastOnsetProcessor extends AudioWorkletProcessor {
  constructor() { super(); this.det = new OnsetDetector(sampleRate); }
  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    if (ch) for (const f of this.det.push(ch, currentFrame)) this.port.postMessage({ frame: f });
    return true;
  }
}
registerProcessor('segcast-onset', SegcastOnsetProcessor);
`;

// ---- When a beep is heard ----
//
// Chrome: the received track's own samples, read with a
// MediaStreamTrackProcessor. Chrome stamps each AudioData of a remote track
// with the performance.now() time its audio renderer pulled it from the
// jitter buffer for the output device (the samples the <video> element
// plays), so heard = stamp + the onset's place in the chunk + the output
// path's delay, which getStats reports (media-playout: totalPlayoutDelay /
// totalSamplesCount). Elsewhere (Firefox has no MediaStreamTrackProcessor)
// an AudioWorklet on a Web Audio copy of the track, timed by the context's
// output clock. That copy is buffered apart from what the element plays
// (in Chrome it reads 40–100 ms later than the track path), so its rows say
// audio_path "webaudio" and are not comparable with "track" rows.

// TrackOnsets finds beep onsets in a track's chunks, each stamped with the
// page time (ms) of its first sample.
export class TrackOnsets {
  constructor(opts = {}) {
    this.opts = opts;
    this.det = null;
    this.rate = 0;
    this.pos = 0; // absolute index of the next sample
    this.chunks = []; // {start, ms} of the last few chunks
  }

  // push takes one chunk's samples (one channel), its stamp and its
  // sample rate, and returns the page times of the onsets it completes.
  push(samples, stampMs, rate) {
    if (rate !== this.rate) {
      this.det = new OnsetDetector(rate, this.opts);
      this.rate = rate;
      this.pos = 0;
      this.chunks = [];
    }
    // The detector reports an onset up to four periods after it, so the
    // chunk holding it is among the last few.
    this.chunks.push({ start: this.pos, ms: stampMs });
    if (this.chunks.length > 4) this.chunks.shift();
    const out = [];
    for (const f of this.det.push(samples, this.pos)) {
      const c = this.chunks.findLast((x) => x.start <= f) || this.chunks[0];
      out.push(c.ms + ((f - c.start) * 1000) / rate);
    }
    this.pos += samples.length;
    return out;
  }
}

// stampOnPageClock: whether an AudioData stamp (ms) reads as the
// performance.now() time it was pulled — at most a second before it
// reached the page (now) — as Chrome stamps a remote track's audio.
export function stampOnPageClock(stampMs, nowMs) {
  const lag = nowMs - stampMs;
  return lag >= -1 && lag <= 1000;
}

// contextToPageMs converts AudioContext time t (s) to performance.now()
// ms when it is heard. getOutputTimestamp's performanceTime is when the
// sample at contextTime leaves the output device, so device latency is
// already in it; without a usable stamp, fall back to now plus the
// context's declared latencies.
export function contextToPageMs(t, stamp, currentTime, nowMs, baseLatency, outputLatency) {
  if (stamp && stamp.performanceTime > 0) return stamp.performanceTime + (t - stamp.contextTime) * 1000;
  return nowMs + (t - currentTime) * 1000 + ((baseLatency || 0) + (outputLatency || 0)) * 1000;
}

// ---- Pairing and summaries ----

// pairFlashes pairs each flash ({k, ms}) with the nearest unused beep time
// (ms) within ±windowMs, flashes in order. Returns [{flash, beepMs, beep}]
// (beep: its index) and the indices of beeps used.
export function pairFlashes(flashes, beeps, windowMs = 500) {
  const used = new Set();
  const pairs = [];
  for (const f of flashes) {
    let best = -1;
    for (let i = 0; i < beeps.length; i++) {
      if (used.has(i)) continue;
      const d = Math.abs(beeps[i] - f.ms);
      if (d <= windowMs && (best < 0 || d < Math.abs(beeps[best] - f.ms))) best = i;
    }
    if (best >= 0) {
      used.add(best);
      pairs.push({ flash: f, beepMs: beeps[best], beep: best });
    }
  }
  return { pairs, used };
}

// quantile of a sorted array, linear interpolation (as rtc/avsync).
export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1);
  const i = Math.floor(pos);
  if (i >= sorted.length - 1) return sorted[sorted.length - 1];
  return sorted[i] + (pos - i) * (sorted[i + 1] - sorted[i]);
}

// driftPerMinute is the least-squares slope of offset_ms against
// video_ms, in ms per minute (NaN with fewer than two distinct times), as
// rtc/avsync's Summarise computes it.
export function driftPerMinute(rows) {
  const pts = rows.filter((r) => Number.isFinite(r.offset_ms) && Number.isFinite(r.video_ms));
  if (pts.length < 2) return NaN;
  const n = pts.length;
  const mt = pts.reduce((a, r) => a + r.video_ms, 0) / n;
  const my = pts.reduce((a, r) => a + r.offset_ms, 0) / n;
  let sxy = 0, sxx = 0;
  for (const r of pts) {
    sxy += (r.video_ms - mt) * (r.offset_ms - my);
    sxx += (r.video_ms - mt) ** 2;
  }
  return sxx > 0 ? (sxy / sxx) * 60000 : NaN;
}

// summarise: signed median and p95 of |offset|, drift and latency p50
// over rows, for the page.
export function summarise(rows) {
  const offs = rows.map((r) => r.offset_ms).filter(Number.isFinite).sort((a, b) => a - b);
  const abs = offs.map(Math.abs).sort((a, b) => a - b);
  const lats = rows.map((r) => r.latency_ms).filter(Number.isFinite).sort((a, b) => a - b);
  return {
    samples: offs.length, median: quantile(offs, 0.5), p95: quantile(abs, 0.95),
    drift: driftPerMinute(rows), latencyP50: quantile(lats, 0.5),
  };
}

// ---- getStats ----

// statsFromReport reads the figures the app wants from one getStats()
// result (an iterable of stats objects). prev is what the last call
// returned (its .raw), so jitter buffer delay is over the last interval
// rather than since connect.
export function statsFromReport(report, prev) {
  let v = null, a = null;
  const playouts = new Map();
  for (const s of report.values ? report.values() : report) {
    if (s.type === 'media-playout') playouts.set(s.id, s);
    if (s.type !== 'inbound-rtp') continue;
    if (s.kind === 'video') v = s;
    else if (s.kind === 'audio') a = s;
  }
  // The audio output the track plays on (its playoutId), else the only one.
  const mp = (a && playouts.get(a.playoutId)) || (playouts.size === 1 ? [...playouts.values()][0] : null);
  const num = (x) => (Number.isFinite(x) ? x : null);
  const out = {
    jitter_buffer_ms: null, jitter_target_ms: null, freezes: null,
    concealed_samples: null, frames_dropped: null, playout_offset_ms: null, playout_delay_ms: null,
  };
  if (v) {
    const p = prev && prev.video;
    const dn = (v.jitterBufferEmittedCount || 0) - ((p && p.jitterBufferEmittedCount) || 0);
    if (dn > 0) {
      out.jitter_buffer_ms = num((1000 * ((v.jitterBufferDelay || 0) - ((p && p.jitterBufferDelay) || 0))) / dn);
      if (v.jitterBufferTargetDelay !== undefined) {
        out.jitter_target_ms = num((1000 * (v.jitterBufferTargetDelay - ((p && p.jitterBufferTargetDelay) || 0))) / dn);
      }
    }
    out.freezes = num(v.freezeCount);
    out.frames_dropped = num(v.framesDropped);
  }
  if (a) out.concealed_samples = num(a.concealedSamples);
  if (mp) {
    const p = prev && prev.playout;
    const dn = (mp.totalSamplesCount || 0) - ((p && p.totalSamplesCount) || 0);
    if (dn > 0) out.playout_delay_ms = num((1000 * ((mp.totalPlayoutDelay || 0) - ((p && p.totalPlayoutDelay) || 0))) / dn);
  }
  // Both from one getStats call: the same instant. Video ahead in media
  // time means audio plays late: positive, as offset_ms.
  if (v && a && Number.isFinite(v.estimatedPlayoutTimestamp) && Number.isFinite(a.estimatedPlayoutTimestamp)) {
    out.playout_offset_ms = v.estimatedPlayoutTimestamp - a.estimatedPlayoutTimestamp;
  }
  return { stats: out, raw: { video: v && { ...v }, audio: a && { ...a }, playout: mp && { ...mp } } };
}

// ---- Lip-sync trim ----
//
// Chrome's lip sync (libwebrtc's stream_synchronization.cc) corrects
// nothing while the tracks are within 30 ms of each other by its own
// reckoning, so each connection settles anywhere in ±30 ms. The page
// closes the rest from timing alone, never from the content, so an offset
// inside the content (or a sender bug) still shows in offset_ms:
//   video: the frame on screen (requestVideoFrameCallback: its RTP
//          timestamp and display time), put on the sender's wall clock by
//          the app's "map" messages (RTP timestamp ↔ wall time written);
//   audio: getStats' estimatedPlayoutTimestamp, the Sender Report time of
//          the audio playing now, less one 10 ms frame: libwebrtc takes
//          NetEq's playout timestamp, the end of the last frame pulled.
// timeline_ms = video − audio there: positive when audio is late, as
// offset_ms. LipSyncTrim turns it into jitterBufferTarget values.

export const NTP_UNIX_MS = 2208988800000; // NTP epoch (1900) to Unix epoch
export const AUDIO_FRAME_MS = 10;
const VIDEO_RTP_RATE = 90000;
const FRAME_STALE_MS = 200; // a frame shown longer than this: video stalled

// rtpDiff is a − b for 32-bit RTP timestamps, across a wrap.
export function rtpDiff(a, b) { return (a - b) | 0; }

// timelineOffset estimates audio lateness (ms) at page time atMs from the
// last frame shown ({rtp, ms}), the app's map ({rtp, wallMs}) and the
// audio track's estimatedPlayoutTimestamp (NTP ms) at the same time; NaN
// when something is missing or the video has stalled.
export function timelineOffset(frame, map, audioPlayoutNtpMs, atMs) {
  if (!frame || !map || !Number.isFinite(frame.rtp) || !(audioPlayoutNtpMs > 0)) return NaN;
  if (atMs - frame.ms > FRAME_STALE_MS) return NaN;
  const videoWall = map.wallMs + (rtpDiff(frame.rtp, map.rtp) * 1000) / VIDEO_RTP_RATE + (atMs - frame.ms);
  const audioWall = audioPlayoutNtpMs - NTP_UNIX_MS - AUDIO_FRAME_MS;
  return videoWall - audioWall;
}

// Behind an SFU (LiveKit) the page's RTP timestamps are the app's plus an
// offset of the SFU's own, so the app's map must be moved by it. A flash
// frame tells the offset: the rtpTimestamp the page presented it with less
// the rtp the app's "frame" message gives for the index read in the
// picture. Learnt at every flash, it follows the SFU when it rebases; a
// direct viewer learns 0.

// rtpOffsetOf is the SFU's offset (page − app RTP, signed 32-bit) from a
// presented frame's rtpTimestamp and the rtp the app sent it with; NaN
// when either is unknown.
export function rtpOffsetOf(presentedRtp, sentRtp) {
  if (!Number.isInteger(presentedRtp) || !Number.isInteger(sentRtp)) return NaN;
  return rtpDiff(presentedRtp, sentRtp);
}

// shiftMap is the app's map ({rtp, wallMs}) in the page's RTP timestamps;
// null while the offset is unknown.
export function shiftMap(map, offset) {
  if (!map || !Number.isFinite(offset)) return null;
  return { rtp: (map.rtp + offset) >>> 0, wallMs: map.wallMs };
}

// LipSyncTrim turns timeline offsets into receiver jitterBufferTarget
// values (ms; 0 = none). Audio delay moves in fine steps (NetEq stretches
// time), video only in display frames (16.7 ms at 60 Hz) and every ms of
// it is latency, so audio is the trim:
//   - audio early: hold audio back more (gain × offset per update, an
//     integrator, so NetEq's own tolerance band leaves no standing error);
//   - audio late: take audio trim back, down to the delay audio had when
//     the trim began (never letting go at once: NetEq would drop its
//     buffer in one jump); with none left, delay video, by at most
//     videoStepMs per update, as video moves a display frame at once;
//   - audio held back more than a display frame (+ margin) beyond the
//     least delay NetEq would keep by itself (getStats
//     jitterBufferMinimumDelay) while video is delayed: take 1 ms of video
//     delay back per update. Otherwise each slip of the picture's phase
//     against the 60 Hz display (a frame every few minutes) would add a
//     display frame of video delay for good.
// Neither target goes more than maxHoldMs past where it began. Chrome's
// lip sync answers a held-back audio track by delaying video once its own
// reckoning differs from ours by 30 ms, which under packet loss it does:
// in a 10-minute impaired run the two chased each other to 670 ms of
// delay. The cap ends that chase; audio may then stay early.
export class LipSyncTrim {
  constructor({ deadMs = 2, gain = 0.5, maxMs = 1000, maxHoldMs = 100, videoStepMs = 8, frameMs = 1000 / 60 } = {}) {
    Object.assign(this, { deadMs, gain, maxMs, maxHoldMs, videoStepMs, frameMs });
    this.audio = 0;
    this.video = 0;
    this.audioBase = 0; // the audio delay when the audio trim began
    this.videoBase = 0; // the video delay when the video trim began
  }

  // update takes the offset (ms, audio late positive), the tracks'
  // current jitter buffer delays (ms, where a new target starts) and
  // NetEq's own least delay (ms, NaN if unknown), and returns the
  // targets {audio, video}.
  update(offsetMs, audioDelayMs, videoDelayMs, audioMinMs = NaN) {
    const e = offsetMs;
    const clamp = (x, base) => Math.min(Math.max(x, 0), this.maxMs, base + this.maxHoldMs);
    if (Number.isFinite(e) && Math.abs(e) > this.deadMs) {
      if (e < 0) {
        if (this.audio === 0) this.audio = this.audioBase = audioDelayMs || 0;
        this.audio = clamp(this.audio - this.gain * e, this.audioBase);
      } else if (this.audio > this.audioBase) {
        this.audio = Math.max(this.audioBase, this.audio - this.gain * e);
      } else {
        if (this.video === 0) this.video = this.videoBase = videoDelayMs || 0;
        this.video = clamp(this.video + Math.min(this.gain * e, this.videoStepMs), this.videoBase);
      }
    }
    if (this.video > 0 && this.audio - audioMinMs > this.frameMs + 2 * this.deadMs) this.video = clamp(this.video - 1, this.videoBase);
    return { audio: this.audio, video: this.video };
  }
}

// ---- The live measurer ----

const FRAME_SEND_KEEP = 600; // app send times kept: 20 s at 30 fps
const ANALYSE_WIDTH = 384; // the frame is read at this width: 10 px per code cell
const PAIR_WINDOW_MS = 500;
const PAIR_SETTLE_MS = 200; // wait past the window for late-detected beeps
const TIMELINE_EVERY_MS = 250; // audio playout time samples
const TIMELINE_KEEP = 8; // at most, between trim updates (once a second): each update takes fresh samples

// Measurer wires the video element, the received stream and a send
// function (JSON-able object → DataChannel). Feed it the app's messages
// with handleMessage. Call start() after the stream is attached. With a
// pc and trim (the default), it also runs the lip-sync trim. rtpOffset is
// the page − app RTP timestamp offset until a flash tells it: 0 for a
// direct viewer, NaN behind an SFU (no trim before the first flash).
export class Measurer {
  constructor({ video, stream, send, pc = null, onRow = null, onStats = null, trim = true, rtpOffset = 0 }) {
    Object.assign(this, { video, stream, send, pc, onRow, onStats, rtpOffset });
    this.trim = trim && pc ? new LipSyncTrim() : null;
    this.videoMap = null; // {rtp, wallMs} from the app
    this.shown = null; // {rtp, ms}: the last frame presented
    this.timeline = []; // recent timelineOffset samples
    this.rows = [];
    this.flashes = []; // {k, ms, latency} waiting for a beep
    this.beeps = []; // {ms, path}: heard times (track: before the output delay)
    this.frameSends = new Map(); // k → app send ms
    this.frameRtps = new Map(); // k → app RTP timestamp
    this.clockOffset = NaN; // page − app, from the app's pings
    this.lastStats = null;
    this.prevRaw = null;
    this.wasFlash = false;
    this.stopped = false;
    this.canvas = null;
    this.ctx2d = null;
    this.audio = null; // the Web Audio path's AudioContext
    this.audioReader = null; // the track path's reader
    this.timer = 0;
  }

  async start() {
    this.watchVideo();
    this.timer = setInterval(() => this.tick(), 1000);
    if (this.pc) this.timelineTimer = setInterval(() => this.sampleTimeline(), TIMELINE_EVERY_MS);
    const track = this.stream.getAudioTracks()[0];
    if (track && typeof MediaStreamTrackProcessor === 'function') {
      this.listenTrack(track).catch((err) => {
        console.warn('measure: track path', err, '; using Web Audio');
        if (!this.stopped) this.listenAudio();
      });
    } else {
      await this.listenAudio();
    }
  }

  stop() {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.timelineTimer);
    if (this.audio) this.audio.close();
    if (this.audioReader) this.audioReader.cancel().catch(() => {});
  }

  async listenTrack(track) {
    const reader = new MediaStreamTrackProcessor({ track }).readable.getReader();
    this.audioReader = reader;
    const onsets = new TrackOnsets();
    let buf = new Float32Array(0);
    for (let first = true; !this.stopped; first = false) {
      const { value: a, done } = await reader.read();
      if (done) return;
      try {
        const stamp = a.timestamp / 1000;
        if (first && !stampOnPageClock(stamp, performance.now())) {
          reader.cancel().catch(() => {});
          throw new Error(`AudioData stamps are not page times (${stamp} ms at ${performance.now()} ms)`);
        }
        const n = a.numberOfFrames;
        if (buf.length < n) buf = new Float32Array(n);
        const ch = buf.subarray(0, n);
        a.copyTo(ch, { planeIndex: 0, format: 'f32-planar' });
        for (const ms of onsets.push(ch, stamp, a.sampleRate)) this.beeps.push({ ms, path: 'track' });
      } finally {
        a.close();
      }
    }
  }

  // handleMessage takes one app → page message (string or object) and
  // returns true if it was a measurement message.
  handleMessage(data, rxMs = performance.now()) {
    let m = data;
    if (typeof data === 'string') {
      try { m = JSON.parse(data); } catch { return false; }
    }
    if (!m || typeof m !== 'object') return false;
    if (m.t === 'ping') {
      if (Number.isFinite(m.offset_ms)) this.clockOffset = m.offset_ms;
      this.send({ t: 'pong', id: m.id, app_ms: m.app_ms, page_rx_ms: rxMs, page_tx_ms: performance.now() });
      return true;
    }
    if (m.t === 'frame') {
      if (Number.isInteger(m.k) && Number.isFinite(m.send_ms)) {
        this.frameSends.set(m.k & 0xffffff, m.send_ms);
        if (this.frameSends.size > FRAME_SEND_KEEP) this.frameSends.delete(this.frameSends.keys().next().value);
        if (Number.isInteger(m.rtp)) {
          this.frameRtps.set(m.k & 0xffffff, m.rtp >>> 0);
          if (this.frameRtps.size > FRAME_SEND_KEEP) this.frameRtps.delete(this.frameRtps.keys().next().value);
        }
      }
      return true;
    }
    if (m.t === 'map') {
      if (Number.isInteger(m.video_rtp) && Number.isFinite(m.wall_ms)) this.videoMap = { rtp: m.video_rtp >>> 0, wallMs: m.wall_ms };
      return true;
    }
    return false;
  }

  watchVideo() {
    const v = this.video;
    if (!v.requestVideoFrameCallback) throw new Error('measure: requestVideoFrameCallback is not supported by this browser');
    const onFrame = (now, meta) => {
      if (this.stopped) return;
      this.onVideoFrame(meta);
      v.requestVideoFrameCallback(onFrame);
    };
    v.requestVideoFrameCallback(onFrame);
  }

  onVideoFrame(meta) {
    const v = this.video;
    const shownMs = Number.isFinite(meta.expectedDisplayTime) && meta.expectedDisplayTime > 0 ? meta.expectedDisplayTime : meta.presentationTime;
    if (Number.isFinite(meta.rtpTimestamp)) this.shown = { rtp: meta.rtpTimestamp, ms: shownMs };
    if (!v.videoWidth || !v.videoHeight) return;
    const w = ANALYSE_WIDTH, h = Math.max(12, Math.round((ANALYSE_WIDTH * v.videoHeight) / v.videoWidth));
    if (!this.canvas || this.canvas.height !== h) {
      this.canvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(w, h) : Object.assign(document.createElement('canvas'), { width: w, height: h });
      this.ctx2d = this.canvas.getContext('2d', { willReadFrequently: true });
    }
    this.ctx2d.drawImage(v, 0, 0, w, h);
    const frame = this.ctx2d.getImageData(0, 0, w, h);
    const flash = isFlash(frame);
    if (flash && !this.wasFlash) {
      const k = readPatternIndex(frame);
      const ms = shownMs;
      let latency = NaN;
      const sent = k >= 0 ? this.frameSends.get(k) : undefined;
      if (sent !== undefined && Number.isFinite(this.clockOffset)) latency = ms - (sent + this.clockOffset);
      if (k >= 0) this.flashes.push({ k, ms, latency });
      if (k >= 0) this.learnRtpOffset(k, meta.rtpTimestamp);
    }
    this.wasFlash = flash;
  }

  // learnRtpOffset takes the offset from flash k presented with
  // rtpTimestamp, when the app has said which rtp it sent k with.
  learnRtpOffset(k, rtpTimestamp) {
    const off = rtpOffsetOf(rtpTimestamp, this.frameRtps.get(k));
    if (Number.isFinite(off)) this.rtpOffset = off;
  }

  async listenAudio() {
    const ctx = new AudioContext({ sampleRate: 48000 });
    this.audio = ctx;
    const url = URL.createObjectURL(new Blob([WORKLET_SOURCE], { type: 'text/javascript' }));
    try {
      await ctx.audioWorklet.addModule(url);
    } finally {
      URL.revokeObjectURL(url);
    }
    const src = ctx.createMediaStreamSource(this.stream);
    const node = new AudioWorkletNode(ctx, 'segcast-onset', { numberOfOutputs: 1 });
    // A silent path to the destination keeps the graph pulling samples.
    const mute = new GainNode(ctx, { gain: 0 });
    src.connect(node).connect(mute).connect(ctx.destination);
    node.port.onmessage = (e) => {
      const t = e.data.frame / ctx.sampleRate;
      const stamp = ctx.getOutputTimestamp ? ctx.getOutputTimestamp() : null;
      this.beeps.push({ ms: contextToPageMs(t, stamp, ctx.currentTime, performance.now(), ctx.baseLatency, ctx.outputLatency), path: 'webaudio' });
    };
    if (ctx.state !== 'running') await ctx.resume();
  }

  // receiver is the pc's receiver of kind ('audio' or 'video'), if any.
  receiver(kind) {
    return this.pc.getReceivers().find((r) => r.track && r.track.kind === kind);
  }

  // sampleTimeline reads the audio playout time and keeps the timeline
  // offset it gives against the frame on screen.
  async sampleTimeline() {
    const rc = this.receiver('audio');
    if (!rc) return;
    try {
      const t0 = performance.now();
      const report = await rc.getStats();
      const t1 = performance.now();
      for (const s of report.values()) {
        if (s.type !== 'inbound-rtp') continue;
        // The report's time (epoch ms), when it falls within the call.
        let at = s.timestamp - performance.timeOrigin;
        if (!(at >= t0 && at <= t1)) at = (t0 + t1) / 2;
        const e = timelineOffset(this.shown, shiftMap(this.videoMap, this.rtpOffset), s.estimatedPlayoutTimestamp, at);
        if (Number.isFinite(e)) {
          this.timeline.push(e);
          if (this.timeline.length > TIMELINE_KEEP) this.timeline.shift();
        }
      }
    } catch (err) {
      console.warn('measure: audio getStats', err);
    }
  }

  // applyTrim moves the receivers' jitterBufferTarget by the timeline
  // offset (median of the last samples); returns the stats fields.
  applyTrim(stats, raw) {
    const out = { timeline_ms: null, trim_audio_ms: null, trim_video_ms: null };
    if (this.trim) [out.trim_audio_ms, out.trim_video_ms] = [this.trim.audio, this.trim.video];
    if (this.timeline.length === 0) return out;
    const e = quantile([...this.timeline].sort((a, b) => a - b), 0.5);
    this.timeline = [];
    out.timeline_ms = e;
    if (!this.trim) return out;
    const ar = this.receiver('audio'), vr = this.receiver('video');
    if (!ar || !vr || !('jitterBufferTarget' in ar)) return out;
    const a = raw.audio, p = (this.prevRaw && this.prevRaw.audio) || {};
    const audioDelay = a && a.jitterBufferEmittedCount > 0 ? (1000 * a.jitterBufferDelay) / a.jitterBufferEmittedCount : 0;
    // NetEq's own least delay over the last interval, where Chrome has it.
    const dn = a ? a.jitterBufferEmittedCount - (p.jitterBufferEmittedCount || 0) : 0;
    const audioMin = a && dn > 0 && Number.isFinite(a.jitterBufferMinimumDelay)
      ? (1000 * (a.jitterBufferMinimumDelay - (p.jitterBufferMinimumDelay || 0))) / dn : NaN;
    const t = this.trim.update(e, audioDelay, stats.jitter_target_ms || stats.jitter_buffer_ms || 0, audioMin);
    ar.jitterBufferTarget = t.audio > 0 ? Math.round(t.audio) : null;
    vr.jitterBufferTarget = t.video > 0 ? Math.round(t.video) : null;
    out.trim_audio_ms = t.audio;
    out.trim_video_ms = t.video;
    return out;
  }

  // tick (once a second): read getStats, trim, pair settled flashes,
  // send rows.
  async tick() {
    if (this.pc) {
      try {
        const { stats: st, raw } = statsFromReport(await this.pc.getStats(), this.prevRaw);
        const stats = { ...st, ...this.applyTrim(st, raw) };
        this.prevRaw = raw;
        this.lastStats = stats;
        this.send({ t: 'stats', page_ms: performance.now(), ...stats });
        if (this.onStats) this.onStats(stats);
      } catch (err) {
        console.warn('measure: getStats', err);
      }
    }
    this.pairSettled(performance.now());
  }

  pairSettled(nowMs) {
    const ready = this.flashes.filter((f) => nowMs - f.ms > PAIR_WINDOW_MS + PAIR_SETTLE_MS);
    if (ready.length === 0) return;
    this.flashes = this.flashes.filter((f) => !ready.includes(f));
    // Track-path times get the output delay here, once getStats has it.
    const delay = (this.lastStats && this.lastStats.playout_delay_ms) || 0;
    const heard = this.beeps.map((b) => (b.path === 'track' ? b.ms + delay : b.ms));
    const { pairs, used } = pairFlashes(ready, heard, PAIR_WINDOW_MS);
    // Beeps used, or too old for any flash still waiting, are dropped.
    const oldest = this.flashes.length ? this.flashes[0].ms : nowMs;
    const beeps = this.beeps;
    this.beeps = beeps.filter((b, i) => !used.has(i) && heard[i] > oldest - PAIR_WINDOW_MS);
    for (const { flash, beepMs, beep } of pairs) {
      const row = {
        t: 'm', flash_index: flash.k, video_ms: flash.ms, audio_ms: beepMs, offset_ms: beepMs - flash.ms,
        audio_path: beeps[beep].path,
        latency_ms: Number.isFinite(flash.latency) ? flash.latency : null,
        ...(this.lastStats || {}),
      };
      this.rows.push(row);
      this.send(row);
      if (this.onRow) this.onRow(row);
    }
  }
}

// drawPlot draws offsets (blue) with the EBU R37 band (−40…+60 ms, green)
// on a small canvas, for the page's own display.
export function drawPlot(canvas, rows) {
  const g = canvas.getContext('2d');
  const w = canvas.width, h = canvas.height;
  const lo = -100, hi = 120;
  const y = (ms) => h - ((Math.min(Math.max(ms, lo), hi) - lo) / (hi - lo)) * h;
  g.clearRect(0, 0, w, h);
  g.fillStyle = 'rgba(60,170,60,.25)';
  g.fillRect(0, y(60), w, y(-40) - y(60));
  g.strokeStyle = '#888';
  g.beginPath(); g.moveTo(0, y(0)); g.lineTo(w, y(0)); g.stroke();
  const last = rows.slice(-w / 3);
  g.fillStyle = '#1f5fd0';
  last.forEach((r, i) => g.fillRect(i * 3, y(r.offset_ms) - 1, 3, 3));
}

// ---- Connection state as the viewer sees it ----

// byeReason is the reason of an app "bye" message (string or object), or
// null for any other message.
export function byeReason(data) {
  let m = data;
  if (typeof data === 'string') {
    try { m = JSON.parse(data); } catch { return null; }
  }
  if (!m || typeof m !== 'object' || m.t !== 'bye') return null;
  return typeof m.reason === 'string' && m.reason ? m.reason.slice(0, 200) : 'The host ended the stream.';
}

// viewerStatus maps what the page knows to what it shows: the pill's
// label, whether the stream has ended (for good: the page stops and says
// why) and the reason. state is the PeerConnection's connectionState;
// wasConnected whether it has been connected; bye the host's reason if it
// said goodbye; syncClosed whether the sync channel closed while
// connected (the host closed the connection).
export function viewerStatus({ state, wasConnected = false, bye = null, syncClosed = false }) {
  if (bye) return { label: 'ended', ended: true, reason: bye };
  switch (state) {
    case 'connected':
      if (syncClosed) return { label: 'ended', ended: true, reason: 'The host closed the connection.' };
      return { label: 'connected', ended: false, reason: '' };
    case 'disconnected':
      return { label: 'reconnecting', ended: false, reason: 'The connection was interrupted; waiting for it to come back…' };
    case 'failed':
      return { label: 'ended', ended: true, reason: wasConnected ? 'The connection to the host was lost.' : 'Could not connect to the host.' };
    case 'closed':
      return { label: 'ended', ended: true, reason: 'The stream has ended.' };
    default:
      return { label: state || 'new', ended: false, reason: '' };
  }
}

// For classic scripts in the page.
globalThis.SegcastMeasure = {
  byeReason, viewerStatus,
  Measurer, OnsetDetector, TrackOnsets, detectOnsets, readPatternIndex, isFlash, codeWord, pairFlashes,
  statsFromReport, contextToPageMs, summarise, driftPerMinute, drawPlot,
};
