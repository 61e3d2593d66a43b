// Unit tests for measure.js's pure parts: node --test assets/
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  readPatternIndex, isFlash, codeWord, crc8, cellX, codeBand, detectOnsets, OnsetDetector, TrackOnsets, stampOnPageClock,
  pairFlashes, statsFromReport, contextToPageMs, summarise, quantile, driftPerMinute,
  rtpDiff, timelineOffset, LipSyncTrim, NTP_UNIX_MS, AUDIO_FRAME_MS, byeReason, viewerStatus,
  rtpOffsetOf, shiftMap, Measurer,
} from './measure.js';

// patternFrame draws what engine/pattern.go draws for frame k (teal-ish
// background, code band, optional flash) into an RGBA buffer.
function patternFrame(w, h, k, { flash = false, blur = false } = {}) {
  const data = new Uint8ClampedArray(w * h * 4);
  const bg = flash ? 255 : 40;
  for (let i = 0; i < w * h; i++) data.set([bg, bg, bg, 255], i * 4);
  const [y0, y1] = codeBand(h);
  codeWord(k).forEach((bit, i) => {
    const [x0, x1] = cellX(w, i);
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) {
      const v = bit ? 255 : 0;
      data.set([v, v, v, 255], (y * w + x) * 4);
    }
  });
  if (blur) {
    // A 3-tap horizontal box blur: scaling and codec softening of edges.
    const src = data.slice();
    for (let y = 0; y < h; y++) for (let x = 1; x < w - 1; x++) for (let c = 0; c < 3; c++) {
      const i = (y * w + x) * 4 + c;
      data[i] = (src[i - 4] + src[i] + src[i + 4]) / 3;
    }
  }
  return { data, width: w, height: h };
}

test('crc8 is CRC-8/SMBUS', () => {
  // Standard check value of CRC-8/SMBUS over "123456789".
  assert.equal(crc8([...'123456789'].map((c) => c.charCodeAt(0))), 0xf4);
});

test('readPatternIndex decodes the pattern code at several sizes', () => {
  for (const [w, h] of [[384, 216], [1280, 720], [200, 150], [640, 360]]) {
    for (const k of [0, 1, 29, 30, 12345, 0xfffffe, 0xffffff]) {
      assert.equal(readPatternIndex(patternFrame(w, h, k)), k, `k=${k} at ${w}x${h}`);
      assert.equal(readPatternIndex(patternFrame(w, h, k, { blur: true, flash: true })), k, `blurred flash k=${k} at ${w}x${h}`);
    }
  }
});

test('readPatternIndex refuses a damaged code', () => {
  const f = patternFrame(384, 216, 4242);
  // Flip one data cell (bit 5): the CRC no longer matches.
  const [x0, x1] = cellX(384, 2 + 5);
  const [y0, y1] = codeBand(216);
  const was = f.data[(y0 * 384 + x0) * 4];
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) f.data.fill(255 - was, (y * 384 + x) * 4, (y * 384 + x) * 4 + 3);
  assert.equal(readPatternIndex(f), -1);
  // Grey where a cell should be: refused, not guessed.
  const g = patternFrame(384, 216, 7);
  for (let i = 0; i < g.data.length; i += 4) g.data.fill(128, i, i + 3);
  assert.equal(readPatternIndex(g), -1);
  assert.equal(readPatternIndex({ data: new Uint8ClampedArray(4 * 10 * 10), width: 10, height: 10 }), -1);
});

test('isFlash tells the flash frame from a normal one', () => {
  assert.equal(isFlash(patternFrame(384, 216, 30, { flash: true })), true);
  assert.equal(isFlash(patternFrame(384, 216, 31)), false);
});

// beep writes the pattern's beep (40 ms of 1 kHz cosine from its peak,
// amplitude 0.5) at sample `at` of buf.
function beep(buf, at, rate = 48000, { phase = 0, amp = 0.5 } = {}) {
  const n = Math.round(0.04 * rate);
  for (let i = 0; i < n && at + i < buf.length; i++) buf[at + i] += amp * Math.cos((2 * Math.PI * 1000 * i) / rate + phase);
}

// noise is deterministic white noise (a small LCG) of the given amplitude.
function noise(n, amp, seed = 1) {
  const buf = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    buf[i] = amp * (2 * (s / 2147483648) - 1);
  }
  return buf;
}

test('onset of the pattern beep is found within one sample', () => {
  for (const at of [4800, 4801, 4847, 5000, 5111]) {
    const buf = new Float32Array(48000);
    beep(buf, at);
    beep(buf, at + 24000); // a second beep half a second later
    assert.deepEqual(detectOnsets(buf, 48000), [at, at + 24000], `beep at ${at}`);
  }
});

test('onset detection holds with noise, other phases and 44.1 kHz', () => {
  const buf = noise(48000 * 2, 0.01);
  const at = [7000, 55123];
  beep(buf, at[0], 48000, { phase: Math.PI / 2 }); // starts at zero, rising
  beep(buf, at[1], 48000, { amp: 0.1 });
  const got = detectOnsets(buf, 48000);
  assert.equal(got.length, 2, `onsets ${got}`);
  got.forEach((g, i) => assert.ok(g >= at[i] && g - at[i] <= 5, `onset ${g} for beep at ${at[i]}`));
  const b44 = noise(44100, 0.005, 7);
  beep(b44, 10000, 44100);
  const o44 = detectOnsets(b44, 44100);
  assert.equal(o44.length, 1);
  assert.ok(Math.abs(o44[0] - 10000) <= 1, `44.1 kHz onset ${o44[0]}`);
});

test('no onset for silence, noise, other tones, or a beep already playing', () => {
  assert.deepEqual(detectOnsets(noise(48000, 0.02), 48000), []);
  const tone = new Float32Array(48000);
  for (let i = 0; i < tone.length; i++) tone[i] = 0.5 * Math.sin((2 * Math.PI * 3000 * i) / 48000);
  assert.deepEqual(detectOnsets(tone, 48000), []);
  const late = new Float32Array(48000);
  beep(late, 0); // starts before the detector has heard quiet
  beep(late, 24000);
  assert.deepEqual(detectOnsets(late, 48000), [24000]);
});

test('OnsetDetector keeps absolute indices across pushes and resets on gaps', () => {
  const d = new OnsetDetector(48000);
  const buf = new Float32Array(9600);
  beep(buf, 5000);
  assert.deepEqual(d.push(buf.subarray(0, 4000), 1000000).concat(d.push(buf.subarray(4000))), [1005000]);
  // A gap: the next push starts elsewhere; it needs quiet before arming.
  assert.deepEqual(d.push(buf, 2000000), [2005000]);
});

test('TrackOnsets times onsets from the stamp of the chunk holding them', () => {
  // 10 ms chunks stamped irregularly, as a renderer's pulls are; the beep
  // starts 123 samples into a chunk (and again 331 samples into a later
  // one), so each onset is that chunk's stamp plus its place in it.
  const rate = 48000, n = 480;
  const buf = new Float32Array(rate);
  beep(buf, 40 * n + 123);
  beep(buf, 90 * n + 331);
  const stamps = Array.from({ length: 100 }, (_, i) => 5000 + i * 10 + ((i * 7) % 5) * 0.9);
  const tr = new TrackOnsets();
  const got = [];
  for (let i = 0; i < 100; i++) got.push(...tr.push(buf.subarray(i * n, (i + 1) * n), stamps[i], rate));
  assert.equal(got.length, 2, `onsets ${got}`);
  assert.ok(Math.abs(got[0] - (stamps[40] + (123 * 1000) / rate)) < 0.03, `first ${got[0]}`);
  assert.ok(Math.abs(got[1] - (stamps[90] + (331 * 1000) / rate)) < 0.03, `second ${got[1]}`);
});

test('stampOnPageClock accepts stamps up to a second before arrival', () => {
  assert.ok(stampOnPageClock(990, 1000));
  assert.ok(stampOnPageClock(1000.5, 1000)); // rounding
  assert.ok(!stampOnPageClock(1_700_000_000_000, 1000)); // Unix ms, not page time
  assert.ok(!stampOnPageClock(-5000, 1000));
});

test('pairFlashes pairs nearest beeps within the window', () => {
  const flashes = [{ k: 0, ms: 1000 }, { k: 30, ms: 2000 }, { k: 60, ms: 3000 }];
  const beeps = [2590 + 1000, 1040, 2035, 4000]; // 3590 is 590 ms from the last flash
  const { pairs, used } = pairFlashes(flashes, beeps, 500);
  assert.deepEqual(pairs.map((p) => [p.flash.k, p.beepMs, p.beep]), [[0, 1040, 1], [30, 2035, 2]]);
  assert.deepEqual([...used].sort(), [1, 2]);
  // Each beep is used once, and early beeps pair too (negative offset).
  const r = pairFlashes([{ k: 0, ms: 1000 }, { k: 1, ms: 1010 }], [980], 500);
  assert.equal(r.pairs.length, 1);
  assert.equal(r.pairs[0].beepMs - r.pairs[0].flash.ms, -20);
});

test('statsFromReport reads both tracks, interval jitter and the playout offset', () => {
  const mk = (v, a) => new Map([
    ['v', { type: 'inbound-rtp', kind: 'video', ...v }],
    ['a', { type: 'inbound-rtp', kind: 'audio', ...a }],
    ['x', { type: 'outbound-rtp', kind: 'video', freezeCount: 99 }],
  ]);
  const first = statsFromReport(mk(
    { jitterBufferDelay: 2, jitterBufferEmittedCount: 50, jitterBufferTargetDelay: 1.5, freezeCount: 0, framesDropped: 1, estimatedPlayoutTimestamp: 5000 },
    { concealedSamples: 10, estimatedPlayoutTimestamp: 4980 },
  ), null);
  assert.equal(first.stats.jitter_buffer_ms, 40);
  assert.equal(first.stats.jitter_target_ms, 30);
  assert.equal(first.stats.playout_offset_ms, 20); // audio plays older media: late
  const second = statsFromReport(mk(
    { jitterBufferDelay: 5, jitterBufferEmittedCount: 80, jitterBufferTargetDelay: 2.7, freezeCount: 1, framesDropped: 2 },
    { concealedSamples: 12 },
  ), first.raw);
  assert.equal(second.stats.jitter_buffer_ms, 100); // 3 s over 30 frames
  assert.equal(second.stats.freezes, 1);
  assert.equal(second.stats.concealed_samples, 12);
  assert.equal(second.stats.playout_offset_ms, null);
  assert.equal(statsFromReport(new Map(), null).stats.freezes, null);
});

test('statsFromReport reads the output delay of the track\'s media-playout over the interval', () => {
  const mk = (total, count) => new Map([
    ['a', { type: 'inbound-rtp', kind: 'audio', playoutId: 'P1' }],
    ['p0', { type: 'media-playout', id: 'P0', totalPlayoutDelay: 999, totalSamplesCount: 1 }],
    ['p1', { type: 'media-playout', id: 'P1', totalPlayoutDelay: total, totalSamplesCount: count }],
  ]);
  const first = statsFromReport(mk(1440, 48000), null);
  assert.equal(first.stats.playout_delay_ms, 30);
  const second = statsFromReport(mk(1440 + 960, 96000), first.raw);
  assert.equal(second.stats.playout_delay_ms, 20);
  assert.equal(statsFromReport(mk(2400, 96000), second.raw).stats.playout_delay_ms, null); // no new samples
});

test('contextToPageMs uses the output stamp, else declared latency', () => {
  assert.equal(contextToPageMs(10.5, { contextTime: 10, performanceTime: 2000 }, 10.2, 9999, 0.01, 0.02), 2500);
  assert.ok(Math.abs(contextToPageMs(10.5, { contextTime: 0, performanceTime: 0 }, 10.2, 1000, 0.01, 0.02) - 1330) < 1e-9);
});

test('summarise matches rtc/avsync conventions', () => {
  const rows = [-3, 10, 5, -20, 1].map((o) => ({ offset_ms: o, latency_ms: o > 0 ? 60 : null }));
  const s = summarise(rows);
  assert.equal(s.samples, 5);
  assert.equal(s.median, 1);
  assert.ok(Math.abs(s.p95 - 18) < 1e-9); // |x| sorted 1,3,5,10,20; pos 3.8
  assert.equal(s.latencyP50, 60);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

test('driftPerMinute is the least-squares slope in ms per minute', () => {
  // +2 ms every 10 s, plus alternating ±1 ms noise that cancels out.
  const rows = [0, 1, 2, 3, 4, 5].map((i) => ({ video_ms: 10000 * i, offset_ms: 5 + 2 * i + (i % 2 ? 1 : -1) }));
  const d = driftPerMinute(rows);
  // Slope per flash 2 + Σ(i−2.5)e_i / Σ(i−2.5)² = 2 + 3/17.5; 6 flashes a minute.
  assert.ok(Math.abs(d - (2 + 3 / 17.5) * 6) < 1e-9, `drift ${d}`);
  assert.ok(Math.abs(summarise(rows).drift - d) < 1e-12);
  assert.ok(Number.isNaN(driftPerMinute([{ video_ms: 1, offset_ms: 2 }])));
  assert.ok(Number.isNaN(driftPerMinute([{ video_ms: 1, offset_ms: 2 }, { video_ms: 1, offset_ms: 4 }])));
});

test('rtpDiff is signed across the 32-bit wrap', () => {
  assert.equal(rtpDiff(3000, 0), 3000);
  assert.equal(rtpDiff(0, 3000), -3000);
  assert.equal(rtpDiff(1000, 0xffffff00), 1256);
  assert.equal(rtpDiff(0xffffff00, 1000), -1256);
});

test('timelineOffset puts the frame on screen and the audio playing on the sender clock', () => {
  // Frame RTP 9000 ticks (100 ms) after the mapped one, shown at page
  // time 500 ms; the map says the mapped frame left at wall 1e12 ms.
  const map = { rtp: 0xffffe000, wallMs: 1e12 };
  const frame = { rtp: (0xffffe000 + 9000) >>> 0, ms: 500 };
  // At page time 510 the video on screen is content from wall 1e12+110.
  // Audio playing the content from wall 1e12+95 (its estimatedPlayoutTimestamp
  // reads one 10 ms frame ahead, in NTP ms): audio is 15 ms late.
  const ept = 1e12 + 95 + AUDIO_FRAME_MS + NTP_UNIX_MS;
  assert.ok(Math.abs(timelineOffset(frame, map, ept, 510) - 15) < 1e-6);
  // Audio ahead of the picture: negative.
  assert.ok(Math.abs(timelineOffset(frame, map, ept + 40, 510) + 25) < 1e-6);
  // Missing pieces or a stalled picture give NaN.
  assert.ok(Number.isNaN(timelineOffset(null, map, ept, 510)));
  assert.ok(Number.isNaN(timelineOffset(frame, null, ept, 510)));
  assert.ok(Number.isNaN(timelineOffset(frame, map, 0, 510)));
  assert.ok(Number.isNaN(timelineOffset(frame, map, undefined, 510)));
  assert.ok(Number.isNaN(timelineOffset(frame, map, ept, 500 + 1000)));
});

test('rtpOffsetOf and shiftMap move the app\'s map into an SFU\'s RTP timestamps', () => {
  // The SFU forwards app RTP 0xffffe000 as 0x00001000 (across the wrap).
  const off = rtpOffsetOf(0x00001000, 0xffffe000);
  assert.equal(off, 0x3000);
  assert.deepEqual(shiftMap({ rtp: 0xffffe000 + 9000 - 0x100000000, wallMs: 7 }, off), { rtp: 0x1000 + 9000, wallMs: 7 });
  assert.deepEqual(shiftMap({ rtp: 5, wallMs: 7 }, 0), { rtp: 5, wallMs: 7 }, 'direct: unchanged');
  assert.equal(shiftMap({ rtp: 5, wallMs: 7 }, NaN), null, 'offset unknown: no map');
  assert.equal(shiftMap(null, 0), null);
  assert.ok(Number.isNaN(rtpOffsetOf(undefined, 5)));
  assert.ok(Number.isNaN(rtpOffsetOf(5, undefined)));
  assert.ok(Number.isNaN(rtpOffsetOf(5.5, 5)));
  // Through the SFU, the timeline offset is the direct one once shifted.
  const map = { rtp: 1000, wallMs: 1e12 };
  const sfu = 123456789;
  const shown = { rtp: (1000 + 9000 + sfu) >>> 0, ms: 500 };
  const ept = 1e12 + 95 + AUDIO_FRAME_MS + NTP_UNIX_MS;
  const direct = timelineOffset({ rtp: 10000, ms: 500 }, map, ept, 510);
  assert.ok(Math.abs(timelineOffset(shown, shiftMap(map, rtpOffsetOf(sfu + 1000, 1000)), ept, 510) - direct) < 1e-6);
});

test('Measurer learns the SFU\'s offset from a flash and the app\'s frame message', () => {
  const sent = [];
  const m = new Measurer({ video: null, stream: null, send: (x) => sent.push(x), rtpOffset: NaN });
  m.learnRtpOffset(30, 5000);
  assert.ok(Number.isNaN(m.rtpOffset), 'no frame message for 30 yet');
  assert.equal(m.handleMessage(JSON.stringify({ t: 'frame', k: 30, send_ms: 1000, rtp: 4294967000 })), true);
  assert.equal(m.handleMessage({ t: 'frame', k: 60, send_ms: 2000 }), true, 'an app that sends no rtp');
  m.learnRtpOffset(30, 704);
  assert.equal(m.rtpOffset, 1000);
  m.learnRtpOffset(60, 9999);
  assert.equal(m.rtpOffset, 1000, 'flash 60 came without rtp: offset kept');
  // The picture carries the index mod 2^24; the message's k is read so too.
  m.handleMessage({ t: 'frame', k: 0x1000000 + 90, send_ms: 3000, rtp: 8000 });
  m.learnRtpOffset(90, 8000 + 2000);
  assert.equal(m.rtpOffset, 2000, 'the SFU rebased: the next flash says so');
  assert.equal(m.frameSends.get(30), 1000);
  assert.equal(new Measurer({ video: null, stream: null, send() {} }).rtpOffset, 0, 'a direct viewer starts at 0');
  assert.equal(sent.length, 0);
});

test('LipSyncTrim holds audio back when it is early, from its current delay', () => {
  const t = new LipSyncTrim({ gain: 0.5, deadMs: 2 });
  assert.deepEqual(t.update(1.5, 30, 50), { audio: 0, video: 0 }, 'inside the dead band');
  assert.deepEqual(t.update(NaN, 30, 50), { audio: 0, video: 0 }, 'no estimate');
  assert.deepEqual(t.update(-20, 30, 50), { audio: 40, video: 0 });
  assert.deepEqual(t.update(-4, 31, 50), { audio: 42, video: 0 }, 'integrates from its own target');
  // Audio now late: the trim is taken back down to where it began, no
  // further, and then video waits.
  assert.deepEqual(t.update(6, 40, 50), { audio: 39, video: 0 });
  assert.deepEqual(t.update(30, 40, 50), { audio: 30, video: 0 });
  assert.deepEqual(t.update(4, 30, 50), { audio: 30, video: 52 });
});

test('LipSyncTrim delays video only when audio is late with no trim left, a step at a time', () => {
  const t = new LipSyncTrim({ gain: 0.5, deadMs: 2, videoStepMs: 8 });
  assert.deepEqual(t.update(40, 30, 50), { audio: 0, video: 58 }, 'at most one step per update');
  assert.deepEqual(t.update(6, 30, 60), { audio: 0, video: 61 });
  // The video step overshoots (a display frame): audio takes the rest.
  assert.deepEqual(t.update(-12, 30, 60), { audio: 36, video: 61 });
});

test('LipSyncTrim takes video delay back while audio is held back over a display frame', () => {
  const t = new LipSyncTrim({ gain: 1, deadMs: 2, frameMs: 16.7 });
  t.update(10, 30, 50); // video 58
  t.update(-30, 30, 58); // audio 60
  assert.equal(t.update(0, 60, 58).video, 58, 'NetEq\'s own least delay unknown: kept');
  assert.equal(t.update(0, 60, 58, 30).video, 57, '30 ms held back: taken back');
  assert.equal(t.update(0, 60, 57, 45).video, 57, '15 ms held back: kept');
});

test('LipSyncTrim keeps its targets within maxMs and maxHoldMs past where they began', () => {
  const t = new LipSyncTrim({ gain: 1, maxMs: 400, maxHoldMs: 1000 });
  assert.equal(t.update(-5000, 30, 50).audio, 400);
  const u = new LipSyncTrim({ gain: 1, maxMs: 400, maxHoldMs: 1000, videoStepMs: 1000 });
  assert.equal(u.update(5000, 30, 50).video, 400);
  const h = new LipSyncTrim({ gain: 1, maxHoldMs: 100 });
  for (let i = 0; i < 50; i++) h.update(-20, 30, 50);
  assert.equal(h.audio, 130, 'audio held back at most 100 ms past its start');
  const v = new LipSyncTrim({ gain: 1, maxHoldMs: 100 });
  for (let i = 0; i < 50; i++) v.update(20, 30, 50);
  assert.equal(v.video, 150, 'video delayed at most 100 ms past its start');
});

test('byeReason reads the host\'s goodbye and nothing else', () => {
  assert.equal(byeReason('{"t":"bye","reason":"The host stopped sharing."}'), 'The host stopped sharing.');
  assert.equal(byeReason({ t: 'bye' }), 'The host ended the stream.');
  assert.equal(byeReason({ t: 'bye', reason: 'x'.repeat(500) }).length, 200);
  for (const other of ['{"t":"ping","id":1}', 'not json', null, 42, { t: 'map' }]) assert.equal(byeReason(other), null);
});

test('viewerStatus says when the stream has ended, and why', () => {
  assert.deepEqual(viewerStatus({ state: 'connected' }), { label: 'connected', ended: false, reason: '' });
  assert.equal(viewerStatus({ state: 'connected', bye: 'The host stopped sharing.' }).reason, 'The host stopped sharing.');
  assert.equal(viewerStatus({ state: 'connected', bye: 'bye' }).ended, true);
  assert.equal(viewerStatus({ state: 'connected', syncClosed: true }).ended, true);
  const lost = viewerStatus({ state: 'disconnected', wasConnected: true });
  assert.equal(lost.ended, false);
  assert.equal(lost.label, 'reconnecting');
  assert.match(viewerStatus({ state: 'failed', wasConnected: true }).reason, /lost/);
  assert.match(viewerStatus({ state: 'failed' }).reason, /Could not connect/);
  assert.equal(viewerStatus({ state: 'closed' }).ended, true);
  assert.deepEqual(viewerStatus({ state: 'checking' }), { label: 'checking', ended: false, reason: '' });
});
