// Worker mode: the same API with promises, the core in a worker (node: worker_threads; the
// browser Web Worker path is covered by the e2e test).
import test from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { Predictor, HunchEventError, HunchModelError, HunchClosedError, HunchStateError } from 'hunch';
import { CONVERSION_MODEL, fixture, modelBytes, journey } from './helpers.mjs';

test('worker mode mirrors the main-thread API and results', async () => {
  const local = await Predictor.fromBytes(modelBytes());
  const ls = local.sequence();
  ls.push(journey(6));

  const p = await Predictor.fromUrl(pathToFileURL(fixture('tiny-lstm-attn.hunch')), { worker: true });
  assert.deepEqual(p.info.actions, local.info.actions);
  const s = p.sequence();
  await s.push(journey(6));
  assert.deepEqual(await s.predict({ k: 10 }), ls.predict({ k: 10 }));
  assert.deepEqual(await s.nextType(), ls.nextType());
  assert.equal(await s.exitProbability(), ls.exitProbability());
  assert.equal(await s.conversionProbability(), null, 'no conversion head in this model');
  assert.deepEqual(await s.explain(), ls.explain());
  assert.deepEqual(await s.stats(), ls.stats());
  const saved = await s.save();
  assert.ok(saved instanceof Uint8Array);
  assert.deepEqual(saved, ls.save());
  await assert.rejects(s.push({ action: 3 }), (e) => e instanceof HunchEventError && e.field === 'action' && e.index === 0);
  await assert.rejects(s.push({ action: '/page/1', bad: () => 1 }), (e) => e instanceof HunchEventError && /cannot be sent to the worker/.test(e.message));
  await assert.rejects(s.restore(new Uint8Array(50)), HunchStateError);
  await s.reset();
  assert.deepEqual(await s.predict(), []);
  await s.restore(saved);
  assert.deepEqual(await s.predict(), ls.predict());
  const stats = await p.memoryStats();
  assert.ok(stats.heapUsed > 0 && stats.sequences === 1);
  await s.close();
  await assert.rejects(s.predict(), HunchClosedError);
  await p.close();
  await assert.rejects(p.memoryStats(), HunchClosedError);
  assert.throws(() => p.sequence(), HunchClosedError);
  local.close();
});

test('worker mode: conversionProbability and goalTypes as on the main thread, also after a restore', async () => {
  const local = await Predictor.fromBytes(modelBytes(CONVERSION_MODEL));
  const ls = local.sequence();
  const p = await Predictor.fromBytes(modelBytes(CONVERSION_MODEL), { worker: true });
  assert.deepEqual(p.info.goalTypes, ['purchase']);
  const s = p.sequence();
  assert.equal(await s.conversionProbability(), null, 'null before the first event');
  ls.push(journey(9));
  await s.push(journey(9));
  const expected = ls.conversionProbability();
  assert.ok(expected > 0 && expected < 1);
  assert.equal(await s.conversionProbability(), expected);
  const saved = await s.save();
  await s.reset();
  assert.equal(await s.conversionProbability(), null);
  await s.restore(saved);
  assert.equal(await s.conversionProbability(), expected);
  await p.close();
  local.close();
});

test('worker mode: bad models reject with HunchModelError', async () => {
  await assert.rejects(Predictor.fromBytes(new TextEncoder().encode('<!DOCTYPE html>'), { worker: true }), (e) => e instanceof HunchModelError && /not a hunch model/.test(e.message));
  const p = await Predictor.fromBytes(modelBytes('tiny-transformer.hunch'), { worker: true, persist: 'memory', consent: true });
  const s = p.sequence('u');
  assert.equal(p.sequence('u'), s);
  await s.push(journey(2));
  assert.equal((await s.stats()).persistence, 'memory');
  await p.flush();
  await p.close();
});
