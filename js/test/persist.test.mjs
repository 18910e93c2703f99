// Persistence through the public entry: consent gating, restore on load, fallbacks (quota,
// blocked storage, corrupted bytes) with one warning, other-model states ignored, forget(),
// several tabs.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Predictor } from 'hunch';
import { CONVERSION_MODEL, modelBytes, journey, TestStorage, quotaError } from './helpers.mjs';

const load = (opts, name) => Predictor.fromBytes(modelBytes(name), opts);

// Stores the state of sequence `key` after three events, as a predictor of model `name` saves it.
async function storeState(storage, key, name) {
  const p = await load({ persist: storage, consent: true }, name);
  p.sequence(key).push(journey(3));
  await p.flush();
  p.close();
}

test('nothing is read or written before consent; consent persists and restores', async () => {
  const storage = new TestStorage();
  const warnings = [];
  const p = await load({ persist: storage, onWarning: (m) => warnings.push(m) });
  const s = p.sequence('user');
  s.push(journey(4));
  await p.flush();
  assert.deepEqual(storage.calls, [], 'no storage access without consent');
  assert.equal(s.stats().persistence, 'none');
  await p.setConsent(true);
  await p.flush();
  assert.ok(storage.map.has('hunch:user'), 'saved after consent');
  assert.equal(s.stats().persistence, 'custom');
  s.push(journey(2, 40));
  s.push(journey(1, 90)); // same task: one write for both pushes
  const sets = storage.calls.filter((c) => c.startsWith('set')).length;
  await p.flush();
  assert.equal(storage.calls.filter((c) => c.startsWith('set')).length, sets + 1, 'pushes of one task are batched');
  const expected = s.predict();
  p.close();

  const q = await load({ persist: storage, consent: true });
  const r = q.sequence('user');
  assert.equal(r.stats().events, 7);
  assert.deepEqual(r.predict(), expected);
  assert.deepEqual(q.sequence('other').predict(), []);
  q.close();
  assert.deepEqual(warnings, []);
});

test('a persisted sequence of a model with a conversion head comes back with the same conversionProbability', async () => {
  const storage = new TestStorage();
  const a = await load({ persist: storage, consent: true }, CONVERSION_MODEL);
  const s = a.sequence('u');
  s.push(journey(6));
  const expected = { conversion: s.conversionProbability(), exit: s.exitProbability(), top: s.predict() };
  assert.ok(expected.conversion > 0 && expected.conversion < 1);
  await a.flush();
  a.close();
  const b = await load({ persist: storage, consent: true }, CONVERSION_MODEL);
  const r = b.sequence('u');
  assert.equal(r.stats().events, 6);
  assert.deepEqual({ conversion: r.conversionProbability(), exit: r.exitProbability(), top: r.predict() }, expected);
  b.close();
});

test('setConsent(true) later restores into sequences that have no events yet', async () => {
  const storage = new TestStorage();
  const a = await load({ persist: storage, consent: true });
  a.sequence('u').push(journey(3));
  const expected = a.sequence('u').predict();
  a.close(); // a pending save is still written
  await new Promise((r) => setTimeout(r, 10));
  assert.ok(storage.map.has('hunch:u'));
  const b = await load({ persist: storage });
  const s = b.sequence('u');
  assert.equal(s.stats().events, 0);
  await b.setConsent(true);
  assert.deepEqual(s.predict(), expected);
  b.close();
});

test('setConsent(false) stops persisting and erases what was stored', async () => {
  const storage = new TestStorage();
  const p = await load({ persist: storage, consent: true });
  p.sequence('u').push(journey(2));
  await p.flush();
  assert.equal(storage.map.size, 1);
  await p.setConsent(false);
  assert.equal(storage.map.size, 0);
  p.sequence('u').push(journey(2));
  await p.flush();
  assert.equal(storage.map.size, 0);
  p.close();
});

test('a quota error falls back to memory with one warning, never an exception', async () => {
  const storage = new TestStorage();
  storage.fail.set = quotaError();
  const warnings = [];
  const p = await load({ persist: storage, consent: true, onWarning: (m) => warnings.push(m) });
  const s = p.sequence('u');
  for (let i = 0; i < 5; ++i) {
    s.push(journey(1, i));
    await p.flush();
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /custom storage failed \(write: The quota has been exceeded\.\); keeping sequence states in memory/);
  assert.equal(s.stats().persistence, 'memory');
  assert.equal(s.stats().events, 5);
  p.close();
});

test('failing reads at load fall back to memory too', async () => {
  const storage = new TestStorage();
  storage.fail.keys = new Error('private mode');
  const warnings = [];
  const p = await load({ persist: storage, consent: true, onWarning: (m) => warnings.push(m) });
  p.sequence('u').push(journey(2));
  await p.flush();
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /private mode/);
  p.close();
});

test('corrupted stored bytes: one warning, a fresh sequence, the record dropped', async () => {
  const storage = new TestStorage();
  await storeState(storage, 'u');
  const bytes = storage.map.get('hunch:u');
  bytes[bytes.length - 5] ^= 0xff;
  storage.map.set('hunch:v', new TextEncoder().encode('garbage'));
  const warnings = [];
  const q = await load({ persist: storage, consent: true, onWarning: (m) => warnings.push(m) });
  const s = q.sequence('u');
  assert.equal(s.stats().events, 0);
  assert.equal(q.sequence('v').stats().events, 0);
  assert.equal(warnings.length, 1, 'one warning per predictor');
  assert.match(warnings[0], /stored state of sequence "u" is unreadable.*CRC mismatch/);
  await q.flush();
  assert.ok(!storage.map.has('hunch:u') && !storage.map.has('hunch:v'));
  s.push(journey(1));
  assert.equal(s.predict().length, 10);
  q.close();
});

test('a state saved for another model is not misapplied: its events are carried over by name, without a warning', async () => {
  const storage = new TestStorage();
  await storeState(storage, 'u', 'tiny-lstm-attn-f32.hunch');
  const warnings = [];
  const q = await load({ persist: storage, consent: true, onWarning: (m) => warnings.push(m) });
  const s = q.sequence('u');
  assert.equal(s.stats().events, 3);
  assert.equal(s.stats().carriedEvents, 3);
  assert.equal(s.stats().carriedUnknown, 0, 'the f32 fixture has the same vocabulary');
  const fresh = q.sequence();
  fresh.push(journey(3));
  assert.deepEqual(s.predict(), fresh.predict(), 'the same as pushing the events into this model');
  assert.deepEqual(warnings, []);
  q.close();
});

test("another model's state is told apart by the core's error code, not by the message's wording", async () => {
  const storage = new TestStorage();
  await storeState(storage, 'u', 'tiny-lstm-attn-f32.hunch');
  await storeState(storage, 'v');
  storage.map.get('hunch:v')[storage.map.get('hunch:v').length - 5] ^= 0xff; // damaged: CRC mismatch
  const warnings = [];
  const q = await load({ persist: storage, consent: true, onWarning: (m) => warnings.push(m) });
  // Reword every core message of the shared wasm instance (internal accessor): only the code
  // still says "another model".
  const proto = q._rt().raw.Sequence.prototype;
  const lastError = proto.lastError;
  proto.lastError = function () {
    return 'reworded: ' + lastError.call(this).replace(/another model/g, 'a different file');
  };
  try {
    assert.equal(q.sequence('u').stats().carriedEvents, 3, "another model's state is carried over");
    assert.equal(q.sequence('v').stats().events, 0);
    assert.equal(warnings.length, 1, 'only the damaged state warns');
    assert.match(warnings[0], /sequence "v" is unreadable.*reworded: saved state CRC mismatch/);
    await q.flush();
    assert.ok(!storage.map.has('hunch:v'), 'the damaged record is dropped');
    assert.ok(storage.map.has('hunch:u'), 'the carried state is saved again, for this model');
  } finally {
    proto.lastError = lastError;
    q.close();
  }
});

test('forget() erases stored states everywhere and resets open sequences', async () => {
  const storage = new TestStorage();
  storage.map.set('otherapp:u', new Uint8Array([1]));
  const p = await load({ persist: storage, consent: true });
  p.sequence('a').push(journey(2));
  p.sequence('b').push(journey(2));
  await p.flush();
  assert.equal(storage.map.size, 3);
  await p.forget();
  assert.deepEqual([...storage.map.keys()], ['otherapp:u'], 'only this storageKey is erased');
  assert.equal(p.sequence('a').stats().events, 0);
  p.close();
});

test('storageKey prefixes the keys', async () => {
  const storage = new TestStorage();
  const p = await load({ persist: storage, consent: true, storageKey: 'shop' });
  p.sequence('u').push(journey(1));
  await p.flush();
  assert.deepEqual([...storage.map.keys()], ['shop:u']);
  p.close();
});

test("'memory' keeps states for this page; 'indexeddb' without IndexedDB falls back with a warning", async () => {
  const p = await load({ persist: 'memory', consent: true });
  p.sequence('m').push(journey(3));
  await p.flush();
  p.close();
  const q = await load({ persist: 'memory', consent: true });
  assert.equal(q.sequence('m').stats().events, 3);
  await q.forget();
  q.close();

  const warnings = [];
  const r = await load({ persist: 'indexeddb', consent: true, onWarning: (m) => warnings.push(m) });
  r.sequence('x').push(journey(1));
  await r.flush();
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /indexeddb storage failed \(open: IndexedDB is not available here\)/);
  assert.equal(r.sequence('x').stats().persistence, 'memory');
  r.close();
});

test("'localStorage': stored as base64, quota errors and blocked storage fall back", async (t) => {
  const items = new Map();
  let quota = false;
  const ls = {
    get length() { return items.size; },
    key: (i) => [...items.keys()][i] ?? null,
    getItem: (k) => (items.has(k) ? items.get(k) : null),
    setItem: (k, v) => { if (quota) throw quotaError(); items.set(k, String(v)); },
    removeItem: (k) => items.delete(k),
  };
  globalThis.localStorage = ls;
  t.after(() => delete globalThis.localStorage);
  const p = await load({ persist: 'localStorage', consent: true });
  p.sequence('u').push(journey(3));
  await p.flush();
  assert.match(items.get('hunch:u'), /^[A-Za-z0-9+/]+=*$/);
  const expected = p.sequence('u').predict();
  p.close();
  const q = await load({ persist: 'localStorage', consent: true });
  assert.deepEqual(q.sequence('u').predict(), expected);
  quota = true;
  const warnings = [];
  const r = await load({ persist: 'localStorage', consent: true, onWarning: (m) => warnings.push(m) });
  r.sequence('u').push(journey(1));
  await r.flush();
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /localStorage storage failed/);
  q.close();
  r.close();

  Object.defineProperty(globalThis, 'localStorage', { configurable: true, get() { throw new Error('SecurityError: storage is blocked'); } });
  const w2 = [];
  const s = await load({ persist: 'localStorage', consent: true, onWarning: (m) => w2.push(m) });
  s.sequence('u').push(journey(1));
  await s.flush();
  assert.equal(w2.length, 1);
  assert.match(w2[0], /blocked/);
  s.close();
});

test('several tabs: a write in one is adopted by the other', async () => {
  const storage = new TestStorage();
  const tabA = await load({ persist: storage, consent: true });
  const tabB = await load({ persist: storage, consent: true });
  const a = tabA.sequence('u');
  const b = tabB.sequence('u');
  a.push(journey(4));
  await tabA.flush();
  // BroadcastChannel delivers asynchronously
  for (let i = 0; i < 50 && b.stats().events === 0; ++i) await new Promise((r) => setTimeout(r, 10));
  assert.equal(b.stats().events, 4);
  assert.deepEqual(b.predict(), a.predict());
  b.push(journey(1, 77)); // continues from the shared history
  await tabB.flush();
  for (let i = 0; i < 50 && a.stats().events === 4; ++i) await new Promise((r) => setTimeout(r, 10));
  assert.equal(a.stats().events, 5);
  assert.deepEqual(a.predict(), b.predict());
  await tabA.forget();
  for (let i = 0; i < 50 && b.stats().events !== 0; ++i) await new Promise((r) => setTimeout(r, 10));
  assert.equal(b.stats().events, 0, 'forget() reaches the other tab');
  tabA.close();
  tabB.close();
});
