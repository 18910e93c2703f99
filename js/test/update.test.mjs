// Model updates keep history: a stored state of another model is carried over by name, and
// predictor.update() swaps the model of a live predictor (main thread and worker), carrying every
// open sequence across; a failed update changes nothing.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Predictor, HunchModelError } from 'hunch';
import { fixture, journey, modelBytes, TestStorage } from './helpers.mjs';
import { noCli, trainCsv, trainV2 } from './update-fixture.mjs';

const V1 = 'tiny-lstm-attn.hunch';
let v2Path;
const v2 = () => new Uint8Array(fs.readFileSync((v2Path ??= trainV2())));

// A v1 journey that mixes names v2 knows ("/page/1".."/page/40", view, click) and names it does
// not ("/page/41"…, add_to_cart, purchase).
const EVENTS = [
  { action: '/page/3', type: 'view', time: 1_700_000_000_000 },
  { action: '/page/7', type: 'click', time: 1_700_000_004_000 },
  { action: '/page/120', type: 'view', time: 1_700_000_008_000 }, // unknown to v2
  { action: '/page/12', type: 'add_to_cart', time: 1_700_000_012_000 }, // type unknown to v2
  { action: '/page/21', type: 'view', time: 1_700_000_016_000 },
];
const UNKNOWN_IN_V2 = 2;

// What v2 predicts after the same events pushed by name: the reference for carried sequences.
async function v2Reference(events) {
  const p = await Predictor.fromBytes(v2());
  try {
    const s = p.sequence();
    s.push(events);
    return s.predict({ k: 5 });
  } finally {
    p.close();
  }
}

test('a stored state of v1 is carried into v2 by name: history kept, predictions from v2', { skip: noCli }, async () => {
  const storage = new TestStorage();
  const p1 = await Predictor.fromBytes(modelBytes(V1), { persist: storage, consent: true });
  p1.sequence('visitor').push(EVENTS);
  await p1.flush();
  p1.close();

  const warnings = [];
  const p2 = await Predictor.fromBytes(v2(), { persist: storage, consent: true, onWarning: (m) => warnings.push(m) });
  const s = p2.sequence('visitor');
  const st = s.stats();
  assert.equal(st.events, EVENTS.length, 'every event of the ring is replayed');
  assert.equal(st.carriedEvents, EVENTS.length);
  assert.equal(st.carriedUnknown, UNKNOWN_IN_V2, 'one unknown action, one unknown type');
  assert.equal(st.unknownActions, 1);
  assert.equal(st.unknownTypes, 1);
  assert.deepEqual(s.predict({ k: 5 }), await v2Reference(EVENTS));
  assert.ok(s.predict({ k: 5 }).every((x) => p2.info.actions.includes(x.action)), 'predictions name v2 actions');
  assert.deepEqual(s.explain().map((e) => e.action).sort(), EVENTS.map((e) => e.action).sort(), 'explain() sees the carried events');
  assert.deepEqual(warnings, []);
  await p2.flush();
  p2.close();

  // Saved again for v2: the next load restores it as it is, nothing carried.
  const p3 = await Predictor.fromBytes(v2(), { persist: storage, consent: true });
  const again = p3.sequence('visitor');
  assert.equal(again.stats().events, EVENTS.length);
  assert.equal(again.stats().carriedEvents, 0);
  assert.deepEqual(again.predict({ k: 5 }), await v2Reference(EVENTS));
  p3.close();
});

test("a stored state longer than the new model's window is carried over, not dropped", { skip: noCli }, async () => {
  const storage = new TestStorage();
  const p1 = await Predictor.fromBytes(modelBytes(V1), { persist: storage, consent: true });
  p1.sequence('visitor').push(journey(12));
  await p1.flush();
  p1.close();
  const rows = ['user,action,type,time'];
  for (let u = 0; u < 50; ++u) for (let i = 0; i < 6; ++i) rows.push(`u${u},/page/${((u + i * 7) % 299) + 1},view,${1_700_000_000 + u * 10_000 + i * 30}`);
  const small = new Uint8Array(fs.readFileSync(trainCsv(rows, undefined, 1, 4)));
  const warnings = [];
  const p2 = await Predictor.fromBytes(small, { persist: storage, consent: true, onWarning: (m) => warnings.push(m) });
  assert.equal(p2.info.window, 4);
  const s = p2.sequence('visitor');
  assert.equal(s.stats().carriedEvents, 12, "the v1 ring (12 events) is longer than v2's window (4)");
  assert.equal(s.stats().events, 12);
  assert.equal(s.explain().length, 4, 'the window holds the last 4');
  assert.deepEqual(warnings, []);
  p2.close();
});

test('update(bytes) swaps the model of a live predictor and carries every open sequence', { skip: noCli }, async () => {
  const storage = new TestStorage();
  const p = await Predictor.fromBytes(modelBytes(V1), { persist: storage, consent: true });
  const keyed = p.sequence('visitor');
  keyed.push(EVENTS);
  const anon = p.sequence();
  anon.push(EVENTS.slice(0, 2));
  const empty = p.sequence('nobody');
  const oldChecksum = p.info.checksum;
  const info = await p.update(v2());
  assert.notEqual(info.checksum, oldChecksum);
  assert.equal(p.info, info, 'info is the new model');
  assert.ok(p.info.actions.includes('/new/1'));
  assert.deepEqual(keyed.predict({ k: 5 }), await v2Reference(EVENTS));
  assert.deepEqual(anon.predict({ k: 5 }), await v2Reference(EVENTS.slice(0, 2)));
  assert.equal(keyed.stats().carriedUnknown, UNKNOWN_IN_V2);
  assert.equal(anon.stats().carriedEvents, 2);
  assert.equal(empty.stats().events, 0);
  // Sequences keep working on the new model; new ones use it too.
  keyed.push({ action: '/new/3', type: 'share', time: 1_700_000_020_000 });
  assert.equal(keyed.stats().unknownActions, 1, '/new/3 is known now');
  assert.equal(p.sequence('visitor'), keyed, 'the same open sequence');
  assert.equal(p.memoryStats().models, 1, 'the old model is freed');
  await p.flush();
  // The persisted state is v2's.
  const q = await Predictor.fromBytes(v2(), { persist: storage, consent: true });
  assert.equal(q.sequence('visitor').stats().carriedEvents, 0);
  assert.equal(q.sequence('visitor').stats().events, EVENTS.length + 1);
  q.close();
  p.close();
});

test('a failed update rejects with HunchModelError and the old model keeps serving every sequence', async (t) => {
  const p = await Predictor.fromBytes(modelBytes(V1));
  const s = p.sequence('a');
  s.push(journey(6));
  const before = s.predict();
  const info = p.info;
  const newer = modelBytes(V1);
  new DataView(newer.buffer).setUint32(4, 2, true); // format version 2: newer than this core reads
  const server = http.createServer((req, res) => {
    res.writeHead(req.url === '/broken.hunch' ? 200 : 404);
    res.end(req.url === '/broken.hunch' ? modelBytes(V1).subarray(0, 100) : 'not found');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(r)));
  const origin = `http://127.0.0.1:${server.address().port}`;
  const cases = {
    'a broken file': [modelBytes(V1).subarray(0, 200), /truncated|past the end|file_size|bytes/i],
    'a newer format version': [newer, /version 2/],
    'an integrity mismatch': [modelBytes('tiny-transformer.hunch'), /integrity mismatch/, { integrity: 'sha256-' + Buffer.alloc(32).toString('base64') }],
    'HTTP 404': [`${origin}/missing.hunch`, /HTTP 404/],
    'a truncated download': [`${origin}/broken.hunch`, new RegExp(`${origin}/broken.hunch: `)],
    'a network error': ['http://127.0.0.1:9/model.hunch', /could not fetch the model at http:\/\/127\.0\.0\.1:9\/model\.hunch/],
  };
  for (const [what, [model, message, opts]] of Object.entries(cases)) {
    await assert.rejects(p.update(model, opts), (e) => e instanceof HunchModelError && message.test(e.message), what);
    assert.equal(p.info, info, `${what}: info unchanged`);
    assert.deepEqual(s.predict(), before, `${what}: the sequence is unchanged`);
    assert.equal(s.stats().carriedEvents, 0);
  }
  s.push(journey(1, 50)); // still serving
  assert.equal(s.stats().events, 7);
  assert.equal(p.memoryStats().models, 1, 'refused models are freed');
  p.close();
  await assert.rejects(p.update(modelBytes(V1)), { name: 'HunchClosedError' });
});

test('integrity: the right hash loads, another is refused before parsing', async () => {
  const bytes = modelBytes(V1);
  const sha = async (alg) => `${alg}-` + createHash(alg).update(bytes).digest('base64');
  for (const alg of ['sha256', 'sha384', 'sha512']) {
    const p = await Predictor.fromBytes(bytes, { integrity: await sha(alg) });
    p.close();
  }
  const url = pathToFileURL(fixture(V1));
  (await Predictor.fromUrl(url, { integrity: `sha256-AAAA ${await sha('sha256')}` })).close(); // any listed hash
  await assert.rejects(Predictor.fromBytes(bytes, { integrity: await sha('sha256').then((h) => h.replace(/^sha256-./, 'sha256-A')) }), (e) =>
    e instanceof HunchModelError && /the model bytes: integrity mismatch: expected sha256-/.test(e.message));
  await assert.rejects(Predictor.fromUrl(url, { integrity: 'sha256-' + 'A'.repeat(43) + '=' }), (e) =>
    e instanceof HunchModelError && e.message.startsWith(`${url.href}: integrity mismatch`));
  await assert.rejects(Predictor.fromBytes(bytes, { integrity: 'md5-abc' }), { name: 'TypeError', message: /sha256-<base64>/ });
});

test('worker mode: update(url) swaps the model in the worker and carries its sequences', { skip: noCli }, async () => {
  const p = await Predictor.fromUrl(pathToFileURL(fixture(V1)), { worker: true });
  try {
    const s = p.sequence('visitor');
    await s.push(EVENTS);
    const rel = path.relative(process.cwd(), v2Path ?? (v2(), v2Path));
    const info = await p.update(rel); // relative to the working directory, as fromUrl's
    assert.equal(p.info.checksum, info.checksum);
    assert.ok(p.info.actions.includes('/new/1'));
    assert.deepEqual(await s.predict({ k: 5 }), await v2Reference(EVENTS));
    assert.equal((await s.stats()).carriedUnknown, UNKNOWN_IN_V2);
    await assert.rejects(p.update(modelBytes(V1).subarray(0, 50)), { name: 'HunchModelError' });
    assert.equal(p.info.checksum, info.checksum, 'a failed update leaves the worker on v2');
    assert.deepEqual(await s.predict({ k: 5 }), await v2Reference(EVENTS));
  } finally {
    await p.close();
  }
});

test('a stored ring longer than any model window (forged) is dropped with one warning, never thrown', async () => {
  const json = new TextEncoder().encode(JSON.stringify({ r: Array.from({ length: 5000 }, (_, i) => [`/page/${(i % 299) + 1}`, 1, 'view', 1_700_000_000_000 + i]), u: 0, y: 0, c: 0, l: null }));
  const bytes = new Uint8Array(12 + json.length + 8);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(0, 0x534a4e48, true); // "HNJS"
  dv.setUint32(4, 1, true);
  dv.setUint32(8, json.length, true);
  bytes.set(json, 12);
  const storage = new TestStorage(new Map([['hunch:v', bytes]]));
  const warnings = [];
  const p = await Predictor.fromBytes(modelBytes(V1), { persist: storage, consent: true, onWarning: (m) => warnings.push(m) });
  const s = p.sequence('v');
  assert.equal(s.stats().events, 0);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /sequence "v" is unreadable and was dropped .*5000 events is longer than any window \(4096\)/);
  p.close();
});
