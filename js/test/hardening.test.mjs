// Hostile input end to end (issue 7): the deploy accidents a real site serves instead of the model
// or the wasm (each must be its own readable, typed error), and events an app or an attacker
// can hand to push() (each refused as js/README.md documents, nothing applied, no freeze).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Predictor, HunchError, HunchEventError, HunchModelError, HunchEnvironmentError } from 'hunch';
import { modelBytes, journey, repoRoot, T0 } from './helpers.mjs';

const broken = (name) => fs.readFileSync(path.join(repoRoot, 'tests/data/broken', name));

const LFS_POINTER =
  'version https://git-lfs.github.com/spec/v1\n' +
  'oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n' +
  'size 53448\n';

/** A local server with the usual ways a deploy goes wrong, one route each. */
async function accidentServer(t) {
  const model = modelBytes();
  const server = http.createServer((req, res) => {
    switch (req.url) {
      case '/ok.hunch':
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(model);
        return;
      case '/lfs.hunch': // the repository was deployed without `git lfs pull`
        res.writeHead(200, { 'content-type': 'text/plain' }).end(LFS_POINTER);
        return;
      case '/cut.hunch': // the connection drops mid-download: Content-Length promises more
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(model.length) });
        res.write(model.subarray(0, 4096));
        setTimeout(() => res.destroy(), 10);
        return;
      case '/short.hunch': // a proxy or CDN stored a cut copy and serves it as complete
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(model.subarray(0, model.length - 300));
        return;
      case '/v2.hunch': // a model written by a newer trainer than this SDK
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(broken('version-2.hunch'));
        return;
      case '/app/hunch.wasm': // an SPA fallback answers every unknown path with index.html
        res.writeHead(200, { 'content-type': 'text/html' }).end('<!DOCTYPE html><html><head><title>Shop</title></head><body></body></html>');
        return;
      default:
        res.writeHead(404, { 'content-type': 'text/html' }).end('<!DOCTYPE html><h1>404</h1>');
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return `http://127.0.0.1:${server.address().port}`;
}

test('deploy accidents: each is its own typed error saying what happened', async (t) => {
  const base = await accidentServer(t);
  const messages = [];
  const rejects = async (promise, cls, re, what) => {
    await assert.rejects(promise, (e) => {
      assert.ok(e instanceof cls && e instanceof HunchError, `${what}: ${e?.name} ${e?.message}`);
      assert.match(e.message, re, what);
      messages.push(e.message);
      return true;
    });
  };
  await rejects(Predictor.fromUrl(`${base}/lfs.hunch`), HunchModelError, /lfs\.hunch: .*Git LFS pointer.*git lfs pull/, 'LFS pointer');
  await rejects(Predictor.fromUrl(`${base}/cut.hunch`), HunchModelError, /could not fetch the model at .*\/cut\.hunch/, 'connection cut');
  await rejects(Predictor.fromUrl(`${base}/short.hunch`), HunchModelError, /short\.hunch: truncated: header says 53448 bytes, file has 53148/, 'truncated copy');
  await rejects(Predictor.fromUrl(`${base}/v2.hunch`), HunchModelError, /v2\.hunch: format version 2 .* newer than this build supports \(1\): upgrade hunch/, 'newer version');
  await rejects(Predictor.fromUrl(`${base}/gone.hunch`), HunchModelError, /HTTP 404/, 'missing model');
  // The wasm is fetched before any model is looked at, so the environment error comes first.
  await rejects(Predictor.fromUrl(`${base}/ok.hunch`, { wasmUrl: `${base}/app/hunch.wasm` }), HunchEnvironmentError, /app\/hunch\.wasm does not compile \(it is text starting with "<": an HTML page, not hunch\.wasm\): .*3c 21 44 4f/, "HTML as wasm");
  await rejects(Predictor.fromBytes(modelBytes(), { wasmUrl: `${base}/nowhere/hunch.wasm` }), HunchEnvironmentError, /could not load hunch\.wasm from .*\/nowhere\/hunch\.wasm: HTTP 404/, 'wasm 404');
  assert.equal(new Set(messages).size, messages.length, 'every accident has its own message');
  // None of that harmed the shared runtime: the real model still loads and predicts.
  const p = await Predictor.fromUrl(`${base}/ok.hunch`);
  const s = p.sequence();
  s.push(journey(3));
  assert.equal(s.predict({ k: 3 }).length, 3);
  p.close();
});

test('every file of the broken-model corpus is a HunchModelError, and the runtime survives all of them', async () => {
  const dir = path.join(repoRoot, 'tests/data/broken');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.hunch'));
  assert.ok(files.length > 40, 'the corpus is there');
  for (const f of files) {
    await assert.rejects(Predictor.fromBytes(broken(f)), (e) => e instanceof HunchModelError && e.message.length > 10, f);
  }
  const p = await Predictor.fromBytes(modelBytes());
  p.sequence().push(journey(2));
  p.close();
});

test('hostile single events are refused with a HunchEventError and change nothing', async () => {
  const p = await Predictor.fromBytes(modelBytes());
  const s = p.sequence();
  s.push(journey(4));
  const before = s.save();
  const circular = { action: '/page/1', type: 'view' };
  circular.self = circular;
  circular.type = circular; // the circular reference sits in a field the SDK reads
  const huge = '/'.repeat(1 << 20);
  const cases = [
    [{ action: huge }, 'action', /is 1048576 characters long \(at most 512\)/],
    [{ action: '/page/1', type: huge }, 'type', /is 1048576 characters long/],
    [{ action: { path: '/page/1' } }, 'action', /got an object/],
    [{ action: ['/page/1'] }, 'action', /got an array/],
    [{ action: new String('/page/1') }, 'action', /got an object/],
    [circular, 'type', /got an object/],
    [42, 'event', /got number/],
    [true, 'event', /got boolean/],
    [undefined, 'event', /got undefined/],
    [Symbol('click'), 'event', /got symbol/],
    [{ action: 42 }, 'action', /got number/],
    [{ action: false }, 'action', /got boolean/],
    [{ action: null }, 'action', /got null/],
    [{ action: Symbol('x') }, 'action', /got symbol/],
    [{ action: 10n }, 'action', /got bigint/],
    [{ action: '/page/1', time: 10n }, 'time', /must be a number/],
    [{ action: '/page/1', time: -Infinity }, 'time', /not a finite time/],
  ];
  for (const [i, [event, field, re]] of cases.entries()) {
    assert.throws(() => s.push(event), (e) => e instanceof HunchEventError && e.field === field && e.index === 0 && re.test(e.message), `case ${i}`);
  }
  // The message quotes no part of the 1 MB value: an error log line stays a line.
  try {
    s.push({ action: huge });
  } catch (e) {
    assert.ok(e.message.length < 200, `message is ${e.message.length} characters`);
  }
  assert.deepEqual(s.save(), before);
  assert.equal(s.stats().events, 4);
  assert.equal(s.stats().rejectedEvents, cases.length + 1);
  p.close();
});

test('events whose property reads throw: the app\'s error propagates, nothing is applied', async () => {
  // Not a HunchEventError: the SDK cannot know what a throwing getter meant, so the app's own
  // exception comes out unchanged; what matters is that the sequence is left as it was.
  const p = await Predictor.fromBytes(modelBytes());
  const s = p.sequence();
  s.push(journey(3));
  const before = s.save();
  const boom = new Error('boom from the app');
  const trap = new Proxy({}, { get() { throw boom; }, has() { throw boom; } });
  const getter = { get action() { throw boom; } };
  const lateGetter = { action: '/page/1', get time() { throw boom; } };
  const arrayTrap = new Proxy([], { get(target, k) { if (k === 'length') throw boom; return Reflect.get(target, k); } });
  for (const [i, bad] of [trap, getter, lateGetter, [journey(1)[0], getter], arrayTrap].entries()) {
    assert.throws(() => s.push(bad), (e) => e === boom, `case ${i}`);
  }
  assert.deepEqual(s.save(), before);
  assert.equal(s.stats().events, 3);
  s.push(journey(1, 50)); // still usable
  assert.equal(s.stats().events, 4);
  p.close();
});

test('a batch with one bad event in the middle applies nothing and names its index', async () => {
  const p = await Predictor.fromBytes(modelBytes());
  const s = p.sequence();
  s.push(journey(2));
  const before = s.save();
  const statsBefore = s.stats();
  const batch = journey(1000, 3);
  batch[517] = { action: '/page/1', time: 'yesterday' };
  assert.throws(() => s.push(batch), (e) => e instanceof HunchEventError && e.index === 517 && e.field === 'time' && /^event 517: "time"/.test(e.message));
  const sparse = journey(5, 3);
  delete sparse[2]; // a hole reads as undefined
  assert.throws(() => s.push(sparse), (e) => e instanceof HunchEventError && e.index === 2 && e.field === 'event');
  assert.deepEqual(s.save(), before);
  assert.deepEqual({ ...s.stats(), rejectedEvents: 0 }, { ...statsBefore, rejectedEvents: 0 });
  assert.equal(s.stats().rejectedEvents, 2);
  p.close();
});

test('100,000 events in one push: fast, and the same as pushing them one by one', async () => {
  const p = await Predictor.fromBytes(modelBytes());
  const n = 100_000;
  // Unknown actions and out-of-order times mixed in, so the counters are exercised too.
  const events = Array.from({ length: n }, (_, i) => ({
    action: i % 97 === 0 ? `/unknown/${i}` : `/page/${((i * 13) % 299) + 1}`,
    type: ['view', 'click', 'add_to_cart', 'purchase'][i % 4],
    time: T0 + i * 1500 - (i % 50 === 0 ? 10_000 : 0),
  }));
  const batch = p.sequence();
  const t0 = performance.now();
  batch.push(events);
  const ms = performance.now() - t0;
  // Generous: this machine is shared; a quadratic path would take minutes, not seconds.
  assert.ok(ms < 10_000, `push of ${n} events took ${ms.toFixed(0)} ms`);
  const single = p.sequence();
  for (const e of events) single.push(e);
  assert.deepEqual(batch.predict({ k: 20 }), single.predict({ k: 20 }));
  assert.deepEqual(batch.nextType(), single.nextType());
  assert.equal(batch.exitProbability(), single.exitProbability());
  assert.equal(batch.conversionProbability(), single.conversionProbability());
  assert.deepEqual(batch.explain(), single.explain());
  assert.deepEqual(batch.save(), single.save());
  const st = batch.stats();
  assert.deepEqual(st, single.stats());
  assert.equal(st.events, n);
  assert.equal(st.unknownActions, Math.ceil(n / 97));
  assert.ok(st.clampedTimes > 0);
  p.close();
});
