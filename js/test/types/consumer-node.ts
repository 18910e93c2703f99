// A node-only consumer (no DOM lib, no @types): the SDK's declarations must compile under
// `lib: ["ES2022"]`, `types: []`, `skipLibCheck: false` (tsconfig.node-only.json), and the option
// types must refuse what would throw at run time.
import {
  Predictor, HunchError, type AnyPredictor, type HunchErrorName, type PersistStorage, type SequenceStats,
} from 'hunch';

const storage: PersistStorage = { get: () => undefined, set: () => {}, delete: () => {}, keys: () => [] };

export async function node(bytes: Uint8Array): Promise<string> {
  const p: AnyPredictor = await Predictor.fromBytes(bytes, { persist: storage, consent: true, integrity: 'sha256-abc' });
  const info = await p.update(bytes, { integrity: 'sha256-abc' });
  const stats: SequenceStats = (p as Predictor).sequence('k').stats();
  const w = await Predictor.fromBytes(bytes, { worker: true, persist: 'indexeddb' });
  await w.close();
  try {
    p.close();
  } catch (e) {
    if (e instanceof HunchError) {
      const n: HunchErrorName = e.name;
      // Literal names: a comparison with a name no error has is a type error.
      // @ts-expect-error 'HunchModelErorr' is not the name of any hunch error
      if (e.name === 'HunchModelErorr') return n;
    }
  }
  return info.architecture + stats.carriedEvents;
}

// @ts-expect-error a custom storage object cannot be used in worker mode (it cannot cross to the worker)
export const bad = Predictor.fromBytes(new Uint8Array(0), { worker: true, persist: storage });
// @ts-expect-error nor a custom model cache
export const badCache = Predictor.fromBytes(new Uint8Array(0), { worker: true, cache: { match: async () => undefined, put: async () => {} } });
const flag = Math.random() > 0.5;
// A boolean `worker` is fine without a custom storage (either form of predictor comes back)…
export const either: Promise<AnyPredictor> = Predictor.fromBytes(new Uint8Array(0), { worker: flag, persist: 'indexeddb' });
// @ts-expect-error …and refused with one, since it may be true
export const maybeBad = Predictor.fromBytes(new Uint8Array(0), { worker: flag, persist: storage });
