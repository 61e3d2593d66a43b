// Unit tests for livekit_sync.js: node --test assets/
import test from 'node:test';
import assert from 'node:assert/strict';
import { SyncLink, SYNC_TOPIC, MAX_MESSAGE_BYTES, QUIET_MS, HELLO_EVERY_MS } from './livekit_sync.js';

const bytes = (s) => new TextEncoder().encode(s);

function link() {
  const out = [];
  const got = [];
  const l = new SyncLink({
    publish: (b, to) => { out.push({ msg: JSON.parse(new TextDecoder().decode(b)), to }); return Promise.resolve(); },
    deliver: (text, rxMs) => got.push({ text, rxMs }),
  });
  return { l, out, got };
}

test('SyncLink says hello to the publisher until the app talks, then again when it goes quiet', () => {
  const { l, out } = link();
  assert.equal(l.tick(0), false, 'no publisher yet: nobody to greet');
  assert.equal(l.send({ t: 'pong' }), false);
  l.setPublisher('segcast-1');
  assert.equal(l.tick(100), true);
  assert.deepEqual(out, [{ msg: { t: 'hello' }, to: 'segcast-1' }]);
  assert.equal(l.tick(100 + HELLO_EVERY_MS - 1), false, 'hellos are spaced');
  assert.equal(l.tick(100 + HELLO_EVERY_MS), true);
  l.receive(bytes('{"t":"ping"}'), 'segcast-1', SYNC_TOPIC, 5000);
  assert.equal(l.tick(5000 + QUIET_MS), false, 'the app talks: no hello');
  assert.equal(l.tick(5000 + QUIET_MS + 1), true, 'quiet: hello again');
  assert.equal(l.stats.hellos, 3);
  l.setPublisher('segcast-2');
  assert.equal(l.tick(5000 + QUIET_MS + 2), true, 'a new publisher is greeted at once');
  assert.equal(out.at(-1).to, 'segcast-2');
});

test('SyncLink takes the publisher\'s messages on its topic and drops the rest, counted', () => {
  const { l, got } = link();
  assert.equal(l.receive(bytes('{"t":"ping"}'), 'segcast-1', SYNC_TOPIC, 1), false, 'no publisher yet');
  l.setPublisher('segcast-1');
  assert.equal(l.receive(bytes('{"t":"ping","id":1}'), 'segcast-1', SYNC_TOPIC, 42), true);
  assert.deepEqual(got, [{ text: '{"t":"ping","id":1}', rxMs: 42 }]);
  assert.equal(l.receive(bytes('chat'), 'someone', 'chat', 43), false, 'another topic: not ours, not counted');
  assert.equal(l.stats.dropped, 1);
  assert.equal(l.receive(bytes('{"t":"ping"}'), 'mallory', SYNC_TOPIC, 44), false, 'not the publisher');
  assert.equal(l.receive(new Uint8Array(MAX_MESSAGE_BYTES + 1), 'segcast-1', SYNC_TOPIC, 45), false, 'oversized');
  assert.equal(l.receive(new Uint8Array([0xff, 0xfe]), 'segcast-1', SYNC_TOPIC, 46), false, 'not UTF-8');
  assert.equal(l.receive(undefined, 'segcast-1', SYNC_TOPIC, 47), false, 'no payload');
  assert.equal(l.stats.dropped, 5);
  assert.equal(got.length, 1);
  assert.equal(l.stats.received, 1);
});

test('SyncLink sends JSON to the publisher and counts failed sends', async () => {
  const sent = [];
  const l = new SyncLink({ publish: (b, to) => { sent.push(to); return Promise.reject(new Error('gone')); }, deliver() {} });
  const warn = console.warn;
  console.warn = () => {};
  try {
    l.setPublisher('p');
    assert.equal(l.send({ t: 'm', flash_index: 30 }), true);
    await new Promise((r) => setTimeout(r, 0));
  } finally {
    console.warn = warn;
  }
  assert.deepEqual(sent, ['p']);
  assert.equal(l.stats.sendErrors, 1);
  assert.equal(l.stats.sent, 1);
});
