// Writes a stage's models/reference.json (the shared harness's layout) from hunch's FLOAT model
// through the SDK: the top-10 every peer and the int8 model are checked against.
//   node bench/peers/reference.mjs STAGE lstm|attnW
//   lstm: 40 events from a fresh sequence (past the window of 32: the ring wraps);
//   attnW: W events from a fresh sequence (the peer's window then holds the whole sequence).
import fs from 'node:fs';
import path from 'node:path';

const [stage, model] = process.argv.slice(2);
process.env.HUNCH_BENCH_STAGE = path.resolve(stage);
process.env.HUNCH_DTYPE = 'f32';
const { SPEC } = await import('./adapters/stage.mjs');
const { load } = await import('./adapters/hunch.mjs');

function ids(n, seed) {  // deterministic, in [1, V)
  let x = seed >>> 0;
  return Array.from({ length: n }, () => { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; return 1 + (x % (SPEC.V - 1)); });
}
const pred = await load(model);
const top = (r) => ({ indices: Array.from(r.indices), values: Array.from(r.values) });
const ref = {};
if (model === 'lstm') {
  const items = ids(40, 4242);
  pred.reset();
  ref.lstm = { items, steps: items.map((it) => top(pred.step(it))) };
} else {
  const W = Number(model.replace('attn', ''));
  const win = ids(W, 1000 + W);
  pred.reset();
  let r;
  for (const it of win) r = pred.step(it);
  ref.attn = { [String(W)]: { ids: win, ...top(r) } };
}
fs.writeFileSync(path.join(stage, 'models', 'reference.json'), JSON.stringify(ref));
pred.dispose();
