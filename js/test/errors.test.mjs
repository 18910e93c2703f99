// Refusals: malformed events (typed, naming the field, sequence unchanged), bad models (the core's
// message; the instance survives), fetch failures, and missing WebAssembly SIMD.
import test from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { Predictor, HunchError, HunchEventError, HunchModelError, HunchEnvironmentError } from 'hunch';
import { ATTRS_MODEL, fixture, modelBytes, journey, T0 } from './helpers.mjs';

test('malformed events are refused with the field named, and change nothing', async () => {
  const p = await Predictor.fromBytes(modelBytes());
  const s = p.sequence();
  s.push(journey(3));
  const before = s.save();
  const circular = { action: '/page/1' };
  circular.self = circular;
  const cases = [
    [null, 'event', /must be an object/],
    ['"/page/1"', 'event', /must be an object/],
    [{}, 'action', /must be a string, got undefined/],
    [{ action: 42 }, 'action', /got number/],
    [{ action: { toString: () => '/page/1' } }, 'action', /got an object/],
    [{ action: circular }, 'action', /got an object/],
    [{ action: '' }, 'action', /is empty/],
    [{ action: 'x'.repeat(513) }, 'action', /513 characters long \(at most 512\)/],
    [{ action: '/page/1', type: 7 }, 'type', /must be a string/],
    [{ action: '/page/1', type: '' }, 'type', /is empty/],
    [{ action: '/page/1', time: NaN }, 'time', /not a finite time/],
    [{ action: '/page/1', time: Infinity }, 'time', /not a finite time/],
    [{ action: '/page/1', time: new Date('nope') }, 'time', /invalid Date/],
    [{ action: '/page/1', time: '2024-01-01' }, 'time', /must be a number/],
    [{ action: '/page/1', time: Date.now() + 2 * 86_400_000 }, 'time', /hours in the future/],
    [{ action: '/page/1', attributes: 'shoes' }, 'attributes', /must be an object/],
    [{ action: '/page/1', attributes: ['shoes'] }, 'attributes', /must be an object/],
  ];
  for (const [i, [event, field, re]] of cases.entries()) {
    assert.throws(() => s.push(event), (e) => e instanceof HunchEventError && e instanceof HunchError && e.field === field && re.test(e.message), `case ${i} → ${field}`);
  }
  // In a batch, the bad event's index is named and none of the batch is applied.
  assert.throws(() => s.push([...journey(2), { action: 5 }]), (e) => e.index === 2 && e.field === 'action');
  assert.deepEqual(s.save(), before);
  assert.equal(s.stats().events, 3);
  assert.equal(s.stats().rejectedEvents, cases.length + 1);
  s.push({ action: '/page/1', time: Date.now() + 3_600_000 }); // an hour ahead (clock skew): accepted
  p.close();
});

test('attribute values must be strings or finite numbers, the column named; unknown columns are ignored', async () => {
  const p = await Predictor.fromBytes(modelBytes(ATTRS_MODEL));
  const s = p.sequence();
  for (const bad of [{ attr0: {} }, { attr1: NaN }, { attr0: 'x'.repeat(513) }, { attr0: 'a\0b' }])
    assert.throws(() => s.push({ action: '/new', attributes: bad }), (e) => e instanceof HunchEventError && e.field === 'attributes' && /"attr[01]" must be a string/.test(e.message));
  assert.equal(s.stats().events, 0);
  s.push({ action: '/new', attributes: { color: 'red', attr0: 'a0v2' } });
  assert.equal(s.stats().events, 1);
  p.close();
});

test('maxEventStringLength, unknownType: "error", maxFutureMs options', async () => {
  const p = await Predictor.fromBytes(modelBytes(), { maxEventStringLength: 8, unknownType: 'error', maxFutureMs: 0 });
  const s = p.sequence();
  assert.throws(() => s.push({ action: '/page/100', time: T0 }), /at most 8/);
  assert.throws(() => s.push({ action: '/page/1', type: 'hover', time: T0 }), (e) => e.field === 'type' && /not a type of this model/.test(e.message));
  assert.throws(() => s.push({ action: '/page/1', time: Date.now() + 60_000 }), (e) => e.field === 'time');
  s.push({ action: '/page/1', type: 'view', time: T0 });
  assert.equal(s.stats().events, 1);
  p.close();
});

test('a missing time means now', async () => {
  const p = await Predictor.fromBytes(modelBytes());
  const s = p.sequence();
  const t = Date.now();
  s.push({ action: '/page/1' });
  const [e] = s.explain();
  assert.ok(e.time >= t && e.time <= Date.now());
  p.close();
});

test('bad models give HunchModelError with the core message; the next good model still loads', async () => {
  const html = new TextEncoder().encode('<!DOCTYPE html><html><body>Not found</body></html>');
  await assert.rejects(Predictor.fromBytes(html), (e) => e instanceof HunchModelError && /not a hunch model: file starts with '<!DO'/.test(e.message));
  const good = modelBytes();
  for (const bad of [new Uint8Array(0), good.subarray(0, 100), good.subarray(0, good.length - 1)]) {
    await assert.rejects(Predictor.fromBytes(bad), HunchModelError);
  }
  const flipped = good.slice();
  flipped[flipped.length >> 1] ^= 0x55;
  await assert.rejects(Predictor.fromBytes(flipped), HunchModelError);
  await assert.rejects(Predictor.fromBytes('not bytes'), TypeError);
  const p = await Predictor.fromBytes(good);
  const s = p.sequence();
  s.push(journey(2));
  assert.equal(s.predict().length, 10);
  p.close();
});

test('fromUrl: http, file: URLs, HTTP errors and HTML fallbacks', async (t) => {
  const model = modelBytes();
  const server = http.createServer((req, res) => {
    if (req.url === '/m.hunch') res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(model);
    else if (req.url === '/spa.hunch') res.writeHead(200, { 'content-type': 'text/html' }).end('<!DOCTYPE html><html></html>');
    else res.writeHead(404).end('nope');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${server.address().port}`;
  const p = await Predictor.fromUrl(`${base}/m.hunch`);
  assert.equal(p.info.actions.length, 300);
  p.close();
  await assert.rejects(Predictor.fromUrl(`${base}/missing.hunch`), (e) => e instanceof HunchModelError && /HTTP 404/.test(e.message) && e.message.includes('/missing.hunch'));
  await assert.rejects(Predictor.fromUrl(`${base}/spa.hunch`), (e) => e instanceof HunchModelError && /spa\.hunch: not a hunch model/.test(e.message));
  const q = await Predictor.fromUrl(pathToFileURL(fixture('tiny-transformer.hunch')));
  assert.equal(q.info.architecture, 'transformer');
  q.close();
});

test('a wrong wasmUrl is a HunchEnvironmentError naming the URL', async () => {
  await assert.rejects(Predictor.fromBytes(modelBytes(), { wasmUrl: 'file:///nonexistent/hunch.wasm' }), (e) => e instanceof HunchEnvironmentError && /\/nonexistent\/hunch\.wasm/.test(e.message));
});

test('without WebAssembly SIMD the SDK says so', async () => {
  const validate = WebAssembly.validate;
  WebAssembly.validate = () => false; // an engine without SIMD refuses the probe module
  try {
    // A wasm source of its own: the shared runtime of the other tests is already started.
    await assert.rejects(Predictor.fromBytes(modelBytes(), { wasmUrl: new URL('../dist/hunch.wasm?nosimd', import.meta.url) }), (e) => e instanceof HunchEnvironmentError && /without SIMD/.test(e.message));
  } finally {
    WebAssembly.validate = validate;
  }
});
