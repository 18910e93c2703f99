// hunch through its public SDK (js/dist: Predictor.fromBytes → sequence → push / predict), the
// way an app calls it: events by action name, top-10 as {action, probability} objects.
// HUNCH_DTYPE=f32 loads the float file (correctness reference); default int8, as shipped.
// HUNCH_SDK_DIR overrides where the SDK's dist/ is (default: this repo's js/dist).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MODELS, SPEC, TIME_MS, typeOf } from './stage.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SDK = path.resolve(process.env.HUNCH_SDK_DIR ?? path.join(HERE, '../../../js/dist'));
const DTYPE = process.env.HUNCH_DTYPE === 'f32' ? 'f32' : 'int8';
const { Predictor } = await import(pathToFileURL(path.join(SDK, 'index.js')).href);

export const name = `hunch SDK (wasm simd, ${DTYPE}, incremental state)`;

export async function load(model) {
  const bytes = fs.readFileSync(path.join(MODELS, `hunch-${DTYPE}.hunch`));
  const p = await Predictor.fromBytes(bytes);
  const { actions, types } = p.info;
  if (actions.length !== SPEC.V) throw new Error(`model has ${actions.length} actions, spec.json says ${SPEC.V}`);
  const ids = new Map(actions.map((a, i) => [a, i]));
  const seq = p.sequence();
  // Event objects are built once per id (an app has its own anyway); the SDK validates and maps
  // names to ids on every push, which is part of the timed call.
  const events = actions.map((a, i) => ({ action: a, type: types[typeOf(i)], time: TIME_MS }));
  return {
    reset: () => seq.reset(),
    step(item) {
      seq.push(events[item]);
      const top = seq.predict({ k: 10 });
      // ids for the harness's correctness check, computed only when read (not in the timed path)
      return { get indices() { return top.map((t) => ids.get(t.action)); }, get values() { return top.map((t) => t.probability); } };
    },
    saveState: () => seq.save(),
    loadState: (s) => seq.restore(s),
    heapBytes: () => p.memoryStats().memoryBytes,
    stateBytes: () => seq.stats().stateBytes,
    dispose: () => p.close(),
  };
}
