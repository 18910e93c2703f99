// The main-thread API through the public entry: predictions, explain, stats, save/restore.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Predictor, Sequence, HunchClosedError, HunchStateError, simdSupported } from 'hunch';
import { CONVERSION_MODEL, TERMS_MODEL, modelBytes, journey, T0 } from './helpers.mjs';

for (const name of ['tiny-lstm-attn.hunch', 'tiny-lstm-attn-f32.hunch', 'tiny-transformer.hunch', CONVERSION_MODEL, TERMS_MODEL]) {
  test(`${name}: predict, nextType, exitProbability, conversionProbability, explain`, async () => {
    const p = await Predictor.fromBytes(modelBytes(name));
    assert.equal(p.info.actions.length, 300);
    assert.equal(p.info.actions[0], '<unk>');
    assert.deepEqual(p.info.types.slice(1), ['view', 'click', 'add_to_cart', 'purchase']);
    const s = p.sequence();
    assert.deepEqual(s.predict(), []);
    assert.deepEqual(s.nextType(), []);
    assert.equal(s.exitProbability(), null);
    assert.equal(s.conversionProbability(), null, 'null before the first event');
    const head = name === CONVERSION_MODEL || name === TERMS_MODEL;
    assert.deepEqual(p.info.goalTypes, head ? ['purchase'] : []);
    assert.ok(Object.isFrozen(p.info.goalTypes));
    s.push(journey(5));
    const top = s.predict({ k: 10 });
    assert.equal(top.length, 10);
    for (let i = 1; i < top.length; ++i) assert.ok(top[i - 1].probability >= top[i].probability, 'sorted');
    assert.ok(top.every((t) => t.action !== '<unk>' && p.info.actions.includes(t.action)));
    assert.equal(s.predict({ k: 100000 }).length, 299, 'k clamps to V-1');
    assert.throws(() => s.predict({ k: 0 }), RangeError);
    const types = s.nextType();
    assert.equal(types.length, 5);
    assert.ok(Math.abs(types.reduce((a, t) => a + t.probability, 0) - 1) < 1e-4);
    const exit = s.exitProbability();
    assert.ok(exit > 0 && exit < 1);
    const conversion = s.conversionProbability();
    if (head) assert.ok(conversion > 0 && conversion < 1, `conversion ${conversion}`);
    else assert.equal(conversion, null, 'null for a model without a conversion head');
    const ex = s.explain();
    assert.equal(ex.length, 5);
    assert.ok(Math.abs(ex.reduce((a, e) => a + e.weight, 0) - 1) < 1e-3);
    for (let i = 1; i < ex.length; ++i) assert.ok(ex[i - 1].weight >= ex[i].weight);
    const pushed = journey(5);
    for (const e of ex) {
      assert.equal(e.action, pushed[e.index].action);
      assert.equal(e.time, pushed[e.index].time);
      assert.equal(e.type, pushed[e.index].type);
    }
    assert.equal(s.explain({ top: 2 }).length, 2);
    p.close();
  });
}

test('explain maps attention back to events beyond the window', async () => {
  const p = await Predictor.fromBytes(modelBytes());
  const W = p.info.window;
  const s = p.sequence();
  const events = journey(W + 9);
  for (const e of events) s.push(e);
  const ex = s.explain();
  assert.equal(ex.length, W);
  const idx = ex.map((e) => e.index).sort((a, b) => a - b);
  assert.deepEqual(idx, Array.from({ length: W }, (_, i) => 9 + i));
  for (const e of ex) assert.equal(e.action, events[e.index].action);
  p.close();
});

test('batch push equals one-by-one push; Date times equal ms', async () => {
  const p = await Predictor.fromBytes(modelBytes());
  const a = p.sequence();
  const b = p.sequence();
  a.push(journey(6));
  for (const e of journey(6)) b.push({ ...e, time: new Date(e.time) });
  assert.deepEqual(a.predict(), b.predict());
  p.close();
});

test('unknown actions and types are counted; backwards time is clamped', async () => {
  const p = await Predictor.fromBytes(modelBytes());
  const s = p.sequence();
  s.push({ action: '/page/1', time: T0 });
  s.push({ action: '/not-in-model', type: 'hover', time: T0 + 1000 });
  s.push({ action: '/page/2', type: 'view', time: T0 - 50000 });
  const st = s.stats();
  assert.equal(st.events, 3);
  assert.equal(st.unknownActions, 1);
  assert.equal(st.unknownTypes, 1);
  assert.equal(st.clampedTimes, 1);
  assert.equal(st.persistence, 'none');
  assert.ok(st.stateBytes > 0);
  const unk = s.explain().find((e) => e.index === 1);
  assert.equal(unk.action, '/not-in-model');
  assert.equal(unk.known, false);
  p.close();
});

test('save/restore round trip, across predictors of the same model', async () => {
  const p = await Predictor.fromBytes(modelBytes());
  const s = p.sequence();
  s.push(journey(7));
  const bytes = s.save();
  const q = await Predictor.fromBytes(modelBytes());
  const r = q.sequence();
  r.restore(bytes);
  assert.deepEqual(r.predict(), s.predict());
  assert.deepEqual(r.explain(), s.explain());
  assert.equal(r.stats().events, 7);
  // The next event reads the restored rings, saved as int8 rows: within the bound of
  // docs/format.md "Sequence state" (0.02 for an int8 model), the same actions here.
  s.push(journey(1, 50));
  r.push(journey(1, 50));
  const [a, b] = [s.predict({ k: 5 }), r.predict({ k: 5 })];
  assert.deepEqual(new Set(b.map((x) => x.action)), new Set(a.map((x) => x.action)));
  for (const x of a) assert.ok(Math.abs(b.find((y) => y.action === x.action).probability - x.probability) <= 0.02);
  p.close();
  q.close();
});

test('conversionProbability moves with the events, resets, and is the same after a restore (the saved layout has no field for it)', async () => {
  const p = await Predictor.fromBytes(modelBytes(CONVERSION_MODEL));
  const s = p.sequence();
  const seen = new Set();
  for (const e of journey(12)) {
    s.push(e);
    seen.add(s.conversionProbability());
  }
  assert.ok(seen.size > 1, 'the probability follows the events');
  const expected = s.conversionProbability();
  const exit = s.exitProbability();
  const bytes = s.save();
  // Envelope: the same length as for a model without the head, for the same events.
  const plain = await Predictor.fromBytes(modelBytes('tiny-transformer.hunch'));
  const t = plain.sequence();
  t.push(journey(12));
  assert.equal(bytes.length, t.save().length, 'the saved state holds nothing more for the conversion head');
  plain.close();

  const q = await Predictor.fromBytes(modelBytes(CONVERSION_MODEL));
  const r = q.sequence();
  r.restore(bytes);
  assert.equal(r.conversionProbability(), expected, 'restored from the SDK envelope');
  assert.equal(r.exitProbability(), exit);
  const core = bytes.subarray(12 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true));
  const c = q.sequence();
  c.restore(core);
  assert.equal(c.conversionProbability(), expected, "restored from the core's own HNST bytes");
  s.push(journey(1, 60));
  r.push(journey(1, 60));
  assert.ok(Math.abs(r.conversionProbability() - s.conversionProbability()) <= 0.02, 'and continues within the restore bound');
  s.reset();
  assert.equal(s.conversionProbability(), null, 'null after reset');
  const empty = q.sequence();
  empty.restore(s.save());
  assert.equal(empty.conversionProbability(), null, 'null after restoring an empty state');
  p.close();
  q.close();
});

test('restore refuses bad bytes and leaves the sequence as it was', async () => {
  const p = await Predictor.fromBytes(modelBytes());
  const other = await Predictor.fromBytes(modelBytes('tiny-transformer.hunch'));
  const s = p.sequence();
  s.push(journey(4));
  const before = s.predict();
  const good = s.save();
  const corrupt = good.slice();
  corrupt[corrupt.length - 10] ^= 0xff;
  assert.throws(() => s.restore(corrupt), (e) => e instanceof HunchStateError && /CRC mismatch/.test(e.message));
  assert.throws(() => s.restore(good.subarray(0, 40)), HunchStateError);
  assert.throws(() => s.restore(new TextEncoder().encode('hello world')), /no "HNJS" or "HNST"/);
  const o = other.sequence();
  o.push(journey(2));
  assert.throws(() => s.restore(o.save()), /another model/);
  assert.deepEqual(s.predict(), before);
  assert.equal(s.stats().events, 4);
  p.close();
  other.close();
});

test("the core's error code crosses the bindings: another model's state, damaged bytes", async () => {
  const p = await Predictor.fromBytes(modelBytes());
  const other = await Predictor.fromBytes(modelBytes('tiny-transformer.hunch'));
  const o = other.sequence();
  o.push(journey(2));
  const envelope = o.save(); // "HNJS", version, JSON length, JSON, then the core's HNST bytes
  const theirs = envelope.subarray(12 + new DataView(envelope.buffer, envelope.byteOffset).getUint32(8, true));
  // A raw handle of the SDK's wasm instance (internal accessors): what the SDK itself reads.
  const raw = new (p._rt().raw.Sequence)(p._model());
  try {
    assert.equal(raw.restore(theirs), false);
    assert.equal(raw.lastErrorCode(), 'state_for_other_model');
    assert.match(raw.lastError(), /another model/);
    raw.push(1, 1, 0);
    const damaged = raw.save();
    damaged[damaged.length - 10] ^= 0xff;
    assert.equal(raw.restore(damaged), false);
    assert.equal(raw.lastErrorCode(), 'generic', 'a damaged state of this model is not "another model"');
    assert.match(raw.lastError(), /CRC mismatch/);
  } finally {
    raw.delete();
    p.close();
    other.close();
  }
});

test('reset forgets events', async () => {
  const p = await Predictor.fromBytes(modelBytes());
  const s = p.sequence();
  s.push(journey(3));
  s.reset();
  assert.deepEqual(s.predict(), []);
  assert.equal(s.stats().events, 0);
  assert.equal(s.stats().unknownActions, 0);
  p.close();
});

test('keyed sequences are shared per key; anonymous ones are not', async () => {
  const p = await Predictor.fromBytes(modelBytes());
  assert.equal(p.sequence('u1'), p.sequence('u1'));
  assert.notEqual(p.sequence(), p.sequence());
  assert.throws(() => p.sequence(''), TypeError);
  assert.throws(() => p.sequence(42), TypeError);
  p.close();
});

test('closed objects throw HunchClosedError; close is idempotent', async () => {
  const p = await Predictor.fromBytes(modelBytes());
  const s = p.sequence();
  const t = p.sequence('k');
  s.push(journey(2));
  s.close();
  s.close();
  assert.ok(s.closed);
  assert.throws(() => s.predict(), HunchClosedError);
  assert.throws(() => s.push(journey(1)), HunchClosedError);
  p.close();
  p.close();
  assert.ok(t.closed, 'closing the predictor closes its sequences');
  assert.throws(() => t.stats(), HunchClosedError);
  assert.throws(() => p.sequence(), HunchClosedError);
});

test('no public constructors', () => {
  assert.throws(() => new Predictor(), TypeError);
  assert.throws(() => new Sequence(), TypeError);
});

test('model info and environment', async () => {
  assert.equal(simdSupported(), true);
  const p = await Predictor.fromBytes(modelBytes().buffer);
  assert.equal(p.info.architecture, 'lstm-attn');
  assert.equal(p.info.kernels, 'wasm-simd128');
  assert.match(p.info.coreVersion, /^\d+\.\d+\.\d+/);
  assert.equal(typeof p.info.checksum, 'number');
  assert.equal(typeof p.info.metadata, 'object');
  p.close();
});
