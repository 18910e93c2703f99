// A consumer of the published package: must type-check under moduleResolution bundler and
// node16 (test/pack.test.mjs runs tsc --noEmit on it inside a fresh install of the tarball).
import {
  Predictor, HunchError, HunchEventError, HunchModelError, memoryStats,
  type AsyncPredictor, type HunchEvent, type Prediction, type PredictorOptions, type PersistStorage,
} from 'hunch';
import { prefetch, autoTrack } from 'hunch/dom';

const storage: PersistStorage = {
  get: () => undefined,
  set: () => {},
  delete: () => {},
  keys: () => [],
};
const options = { persist: storage, consent: false, storageKey: 'app', maxEventStringLength: 256, unknownType: 'none' } satisfies PredictorOptions;

export async function main(bytes: Uint8Array): Promise<number> {
  const p: Predictor = await Predictor.fromBytes(bytes, options);
  const s = p.sequence('user');
  const e: HunchEvent = { action: '/home', type: 'view', time: new Date() };
  s.push(e);
  s.push([e, { action: '/cart' }]);
  const top: Prediction[] = s.predict({ k: 5 });
  const exit: number | null = s.exitProbability();
  const conversion: number | null = p.info.goalTypes.length ? s.conversionProbability() : null;
  const first: string | null = s.explain({ top: 1 })[0]?.action ?? null;
  const saved: Uint8Array = s.save();
  s.restore(saved);
  await p.setConsent(true);
  await prefetch(s, { threshold: 0.2, max: 2 });
  const stop: () => void = autoTrack(s);
  stop();
  const w: AsyncPredictor = await Predictor.fromUrl('/model.hunch', { worker: true });
  const wtop: Prediction[] = await w.sequence().predict();
  const wconversion: number | null = await w.sequence().conversionProbability();
  const goals: readonly string[] = w.info.goalTypes;
  await w.close();
  try {
    s.push({ action: '' });
  } catch (err) {
    if (err instanceof HunchEventError) console.log(err.field, err.index);
    else if (err instanceof HunchModelError || err instanceof HunchError) throw err;
  }
  p.close();
  return top.length + wtop.length + (exit ?? 0) + (conversion ?? 0) + (wconversion ?? 0) + goals.length + (first ? 1 : 0) +
    (memoryStats()?.heapUsed ?? 0);
}

// @ts-expect-error conversionProbability() may be null (no event yet, or no conversion head)
export const notNull = (s: ReturnType<Predictor['sequence']>): number => s.conversionProbability();

// @ts-expect-error the constructor is not public
new Predictor();
// @ts-expect-error worker mode resolves to an AsyncPredictor, whose methods return promises
export const wrong: Predictor = await Predictor.fromUrl('/m.hunch', { worker: true });
