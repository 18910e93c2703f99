// Pushes events into a model through the WASM build under node and prints the top-k — the
// same computation `hunch predict` does natively, for side-by-side checks.
// usage: node scripts/wasm-predict.mjs MODEL.hunch "[type:]action[@seconds],…" [k] [--json]
import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const wasmDir = path.resolve(process.env.HUNCH_WASM_DIR ?? path.join(root, 'build', 'wasm'));
const [modelPath, eventsText = '', kText = '10'] = process.argv.slice(2).filter((a) => a !== '--json');
const json = process.argv.includes('--json');
if (!modelPath) {
  console.error('usage: node scripts/wasm-predict.mjs MODEL.hunch "[type:]action[@seconds],…" [k] [--json]');
  process.exit(2);
}

const { default: createHunchModule } = await import(pathToFileURL(path.join(wasmDir, 'hunch.mjs')).href);
const hunch = await createHunchModule({ wasmBinary: await readFile(path.join(wasmDir, 'hunch.wasm')) });
const model = new hunch.Model();
if (!model.load(await readFile(modelPath))) {
  console.error(`wasm-predict: ${modelPath}: ${model.lastError()}`);
  process.exit(1);
}
const actions = new TextDecoder().decode(model.actionNames()).split('\0');
const types = new TextDecoder().decode(model.typeNames()).split('\0');
const actionId = new Map(actions.map((a, i) => [a, i]));
const typeId = new Map(types.map((t, i) => [t, i]));

const seq = new hunch.Sequence(model);
for (let item of eventsText.split(',').filter(Boolean)) {
  let time = NaN;
  const at = item.lastIndexOf('@');
  if (at >= 0) { time = Number(item.slice(at + 1)); item = item.slice(0, at); }
  let type = 0;
  const colon = item.indexOf(':');
  if (colon > 0 && typeId.get(item.slice(0, colon))) { type = typeId.get(item.slice(0, colon)); item = item.slice(colon + 1); }
  if (!seq.push(actionId.get(item) ?? 0, type, time)) {
    console.error(`wasm-predict: ${seq.lastError()}`);
    process.exit(1);
  }
}
const n = seq.predict(Number(kText));
const ids = seq.topIds(), probs = seq.topProbs();
const top = Array.from({ length: n }, (_, i) => ({ action: actions[ids[i]], id: ids[i], probability: probs[i] }));
if (json) {
  console.log(JSON.stringify({ kernels: hunch.kernels(), top }));
} else {
  console.log(`WASM build (${hunch.kernels()} kernels): ${seq.length()} events pushed\n\n  rank  probability  action`);
  top.forEach((t, i) => console.log(`  ${String(i + 1).padStart(4)}  ${t.probability.toFixed(6).padStart(11)}  ${t.action}`));
}
seq.delete();
model.delete();
