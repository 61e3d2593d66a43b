// LiveKit's own SDK (@livekit/rtc-node) publishing Segcast's sync pattern:
// a white flash carrying its frame index in the code band (as
// engine/pattern draws it) once a second, with a 40 ms 1 kHz beep starting
// at the same instant, so the LiveKit viewer page measures it exactly as it
// measures Segcast. Frames and 10 ms audio chunks are captured on absolute
// deadlines of one clock.
//
//   node publish.mjs URL TOKEN [WIDTH HEIGHT]
//
// Prints "publishing" once both tracks are up; runs until killed.
import {
  AudioFrame, AudioSource, LocalAudioTrack, LocalVideoTrack, Room, TrackPublishOptions, TrackSource,
  VideoBufferType, VideoCodec, VideoFrame, VideoSource,
} from '@livekit/rtc-node';

const [url, token, wArg, hArg] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node publish.mjs URL TOKEN [WIDTH HEIGHT]');
  process.exit(2);
}
const W = Number(wArg || 1280), H = Number(hArg || 720);
const FPS = 30, RATE = 48000, CHUNK = RATE / 100; // 10 ms
const BEEP = (RATE * 40) / 1000, BEEP_HZ = 1000, AMPLITUDE = 16384;

// ---- The picture (engine/pattern.go's code; luma only, neutral chroma) ----
const CODE_BITS = 24, CODE_CELLS = 2 + CODE_BITS + 8 + 2, CODE_UNITS = CODE_CELLS + 2;
function crc8(bytes) {
  let c = 0;
  for (const x of bytes) {
    c ^= x;
    for (let i = 0; i < 8; i++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
  }
  return c;
}
function codeWord(k) {
  const v = k & 0xffffff, c = new Array(CODE_CELLS).fill(false);
  c[0] = true;
  for (let i = 0; i < CODE_BITS; i++) c[2 + i] = ((v >>> (CODE_BITS - 1 - i)) & 1) === 1;
  const crc = crc8([(v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
  for (let i = 0; i < 8; i++) c[2 + CODE_BITS + i] = ((crc >>> (7 - i)) & 1) === 1;
  c[CODE_CELLS - 1] = true;
  return c;
}
function fillY(buf, x0, y0, x1, y1, v) {
  for (let y = y0; y < y1; y++) buf.fill(v, y * W + x0, y * W + x1);
}
// frame k: I420, background 40 (255 on a flash), a bar growing through
// each second, the code band.
function frame(k) {
  const buf = new Uint8Array((W * H * 3) / 2);
  const flash = k % FPS === 0;
  buf.fill(flash ? 255 : 40, 0, W * H);
  buf.fill(128, W * H);
  const barW = Math.floor(((W - W / 5) * (k % FPS)) / FPS);
  const by = Math.floor((H * 68) / 100);
  fillY(buf, Math.floor(W / 10), by, Math.floor(W / 10) + barW, by + Math.max(2, Math.floor(H / 40)), flash ? 0 : 235);
  const y0 = Math.floor((H * 10) / 12), y1 = Math.floor((H * 11) / 12);
  codeWord(k).forEach((bit, i) => {
    fillY(buf, Math.floor((W * (i + 1)) / CODE_UNITS), y0, Math.floor((W * (i + 2)) / CODE_UNITS), y1, bit ? 255 : 0);
  });
  return new VideoFrame(buf, W, H, VideoBufferType.I420);
}
// chunk i: 10 ms of silence, or the beep (a cosine from its peak) where
// one starts at each whole second.
function chunk(i) {
  const s = new Int16Array(CHUNK);
  for (let j = 0; j < CHUNK; j++) {
    const n = (i * CHUNK + j) % RATE;
    if (n < BEEP) s[j] = Math.round(AMPLITUDE * Math.cos((2 * Math.PI * BEEP_HZ * n) / RATE));
  }
  return new AudioFrame(s, RATE, 1, CHUNK);
}

const room = new Room();
await room.connect(url, token, { autoSubscribe: false, dynacast: false });
const video = new VideoSource(W, H);
const audio = new AudioSource(RATE, 1);
// As Segcast publishes: one VP8 layer, plain Opus without DTX or RED; the
// two tracks in one stream.
await room.localParticipant.publishTrack(LocalVideoTrack.createVideoTrack('video', video),
  new TrackPublishOptions({ source: TrackSource.SOURCE_CAMERA, videoCodec: VideoCodec.VP8, simulcast: false, stream: 'sdk' }));
await room.localParticipant.publishTrack(LocalAudioTrack.createAudioTrack('audio', audio),
  new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE, dtx: false, red: false, stream: 'sdk' }));
console.log('publishing');

const t0 = performance.now() + 100;
const sleepUntil = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms - performance.now())));
async function videoLoop() {
  for (let k = 0; ; k++) {
    await sleepUntil(t0 + (k * 1000) / FPS);
    video.captureFrame(frame(k)); // stamped now by the SDK, as a camera would be
  }
}
async function audioLoop() {
  for (let i = 0; ; i++) {
    await sleepUntil(t0 + i * 10);
    await audio.captureFrame(chunk(i));
  }
}
process.on('SIGTERM', async () => { await room.disconnect(); process.exit(0); });
await Promise.all([videoLoop(), audioLoop()]);
