// livekit_sync.js — the LiveKit viewer page's end of Segcast's sync
// messages (ping/pong, frame send times, map, rows; formats:
// rtc/measure/avsync/messages.go). Behind the SFU the page cannot open a
// DataChannel to the app, so the messages travel as LiveKit data messages
// on topic "segcast-sync": the page says {"t":"hello"} to the publisher
// (the participant whose tracks it plays) and sends it everything after,
// and takes messages on that topic from the publisher alone. The app
// forgets a page that stays silent and talks only to pages that said
// hello, so the page says it again whenever the app has been quiet a
// while (the app joined the room again, say).
//
// An ES module: SyncLink is exported for Node's tests
// (assets/livekit_sync_test.mjs); the page uses window.SegcastLiveKitSync.

export const SYNC_TOPIC = 'segcast-sync';
// As the app's avsync.MaxMessageBytes: nothing the app sends comes near it.
export const MAX_MESSAGE_BYTES = 16 << 10;
// The app pings every second: quiet longer than this means it is not
// talking to the page.
export const QUIET_MS = 3000;
// Hellos are at least this far apart.
export const HELLO_EVERY_MS = 2000;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export class SyncLink {
  // publish(bytes, identity) sends one reliable data message on
  // SYNC_TOPIC to identity and returns a promise; deliver(text, rxMs)
  // takes each app message (Measurer.handleMessage).
  constructor({ publish, deliver }) {
    Object.assign(this, { publish, deliver });
    this.publisher = ''; // identity of the app's participant
    this.lastHeardMs = -Infinity;
    this.lastHelloMs = -Infinity;
    this.stats = { hellos: 0, sent: 0, received: 0, dropped: 0, sendErrors: 0 };
  }

  // setPublisher names the participant the page plays; messages go to it.
  setPublisher(identity) {
    if (identity === this.publisher) return;
    this.publisher = identity;
    this.lastHeardMs = -Infinity;
    this.lastHelloMs = -Infinity;
  }

  // send takes one page message (a JSON-able object) to the publisher;
  // false when there is none yet.
  send(obj) {
    if (!this.publisher) return false;
    this.stats.sent++;
    Promise.resolve(this.publish(encoder.encode(JSON.stringify(obj)), this.publisher)).catch((err) => {
      this.stats.sendErrors++;
      console.warn('sync: publishData', err);
    });
    return true;
  }

  // receive takes one data message (payload bytes, the sender's identity,
  // its topic) and hands the app's to deliver. Messages on other topics
  // are not ours; ours from anyone but the publisher, over the size
  // limit or not UTF-8 are dropped and counted.
  receive(payload, fromIdentity, topic, nowMs) {
    if (topic !== SYNC_TOPIC) return false;
    if (!this.publisher || fromIdentity !== this.publisher || !payload || payload.byteLength > MAX_MESSAGE_BYTES) {
      this.stats.dropped++;
      return false;
    }
    let text;
    try {
      text = decoder.decode(payload);
    } catch {
      this.stats.dropped++;
      return false;
    }
    this.lastHeardMs = nowMs;
    this.stats.received++;
    this.deliver(text, nowMs);
    return true;
  }

  // tick (call it every few hundred ms) says hello while the app is quiet.
  tick(nowMs) {
    if (!this.publisher || nowMs - this.lastHeardMs <= QUIET_MS || nowMs - this.lastHelloMs < HELLO_EVERY_MS) return false;
    this.lastHelloMs = nowMs;
    this.stats.hellos++;
    return this.send({ t: 'hello' });
  }
}

// For classic scripts in the page.
globalThis.SegcastLiveKitSync = { SyncLink, SYNC_TOPIC };
