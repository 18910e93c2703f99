// WASM soak (issue 7): one predictor takes 1,000,000 events and answers 100,000 predictions, then
// 10,000 predictors are created and closed. The wasm heap must stay flat across each phase; the
// script prints heapUsed / memoryBytes at the start and end of each and exits 1 on growth.
//
//   cd js && node scripts/soak.mjs [--events N] [--predictions N] [--predictors N]
//
// Tolerance: heapUsed may end at most TOLERANCE bytes above where its phase started (a few malloc
// headers of free-list reshuffling); a leak of one sequence state or one model per iteration
// would be megabytes. memoryBytes (the wasm memory, which never shrinks) must not grow at all.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Predictor, memoryStats } from '../dist/index.js';

const TOLERANCE = 1024;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const N_EVENTS = arg('events', 1_000_000);
const N_PREDICTIONS = arg('predictions', 100_000);
const N_PREDICTORS = arg('predictors', 10_000);

const bytes = new Uint8Array(fs.readFileSync(path.join(root, 'tests/data/fixtures/tiny-lstm-attn.hunch')));
const TYPES = ['view', 'click', 'add_to_cart', 'purchase'];
const T0 = 1_700_000_000_000;
const eventAt = (i) => ({
  // Every 101st action is outside the vocabulary, so the <unk> path is soaked too.
  action: i % 101 === 0 ? `/new/${i}` : `/page/${((i * 7) % 299) + 1}`,
  type: TYPES[i % 4],
  time: T0 + i * 3000,
});

let failed = false;
const fmt = (s) => `heapUsed ${s.heapUsed} B, memoryBytes ${s.memoryBytes} B, models ${s.models}, sequences ${s.sequences}`;
function check(phase, start, end, ms) {
  console.log(`${phase}: start ${fmt(start)}`);
  console.log(`${phase}: end   ${fmt(end)}  (${(ms / 1000).toFixed(1)} s)`);
  const grew = end.heapUsed - start.heapUsed;
  if (grew > TOLERANCE) {
    console.log(`${phase}: FAIL heapUsed grew by ${grew} B (tolerance ${TOLERANCE} B)`);
    failed = true;
  }
  if (end.memoryBytes > start.memoryBytes) {
    console.log(`${phase}: FAIL wasm memory grew by ${end.memoryBytes - start.memoryBytes} B`);
    failed = true;
  }
}

const started = performance.now();
const p = await Predictor.fromBytes(bytes);

// Phase 1: one sequence, events pushed in batches of 10 with a prediction after each batch
// (the push-then-predict cadence of a page), so both loops reach their counts together.
{
  const s = p.sequence();
  // The state exists from the first event on, and the first prediction allocates its scratch
  // once: measure from there, so what remains is growth per event or per prediction.
  s.push(eventAt(0));
  s.predict({ k: 5 });
  const start = p.memoryStats();
  const t = performance.now();
  const perPrediction = Math.max(1, Math.floor(N_EVENTS / N_PREDICTIONS));
  let pushed = 1, predicted = 0, batch = [];
  while (pushed < N_EVENTS || predicted < N_PREDICTIONS) {
    if (pushed < N_EVENTS) {
      batch.length = 0;
      for (let j = 0; j < perPrediction && pushed < N_EVENTS; ++j) batch.push(eventAt(pushed++));
      s.push(batch);
    }
    if (predicted < N_PREDICTIONS) {
      const top = s.predict({ k: 5 });
      if (top.length !== 5 || !(top[0].probability > 0)) throw new Error(`prediction ${predicted} is wrong: ${JSON.stringify(top)}`);
      ++predicted;
    }
  }
  const end = p.memoryStats();
  if (s.stats().events !== N_EVENTS) throw new Error(`${s.stats().events} events pushed, expected ${N_EVENTS}`);
  check(`phase 1 (${N_EVENTS} events, ${N_PREDICTIONS} predictions)`, start, end, performance.now() - t);
  s.close();
}

// Phase 2: predictors created and closed, each with a keyed and an anonymous sequence.
{
  const start = memoryStats();
  const t = performance.now();
  const few = [eventAt(1), eventAt(2), eventAt(3)];
  for (let i = 0; i < N_PREDICTORS; ++i) {
    const q = await Predictor.fromBytes(bytes);
    q.sequence('k').push(few);
    q.sequence().push(few);
    q.close();
  }
  check(`phase 2 (${N_PREDICTORS} predictors)`, start, memoryStats(), performance.now() - t);
}

p.close();
console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s: ${failed ? 'FAIL' : 'ok, the wasm heap stayed flat'}`);
process.exit(failed ? 1 : 0);
