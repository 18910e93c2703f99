// Worker entry (worker mode): runs a Predictor in a Web Worker, or a node worker thread, and
// answers the requests of worker-client.ts. One predictor per worker.
import type { MethodOf, PredictorApi, SequenceApi, Unlisted } from './api.js';
import { errorToRecord } from './errors.js';
import { isNode, nodeImport } from './env.js';
import type { PredictorOptions } from './options.js';
import { Predictor, type Sequence } from './predictor.js';
import type { Request, Response } from './worker-client.js';

const g = globalThis as any;
const port: { postMessage(m: unknown, t?: Transferable[]): void } =
  typeof g.WorkerGlobalScope === 'function' || !isNode() ? g : (await nodeImport('worker_threads')).parentPort;

let predictor: Predictor | undefined;
const sequences = new Map<number, Sequence>();

// The methods the main thread may call, and no others (not the internal _-prefixed ones). Each
// list compiles only while it names every method of its interface and nothing else.
const SEQUENCE_METHODS = [
  'push', 'predict', 'nextType', 'exitProbability', 'conversionProbability', 'explain', 'reset', 'save', 'restore', 'stats',
  'forget', 'close',
] as const satisfies readonly MethodOf<SequenceApi>[];
const PREDICTOR_METHODS = ['setConsent', 'forget', 'flush', 'update', 'memoryStats', 'close'] as const satisfies readonly MethodOf<PredictorApi>[];
type Listed<Missing extends never> = Missing;
type AllListed = [
  Listed<Unlisted<SequenceApi, typeof SEQUENCE_METHODS>>,
  Listed<Unlisted<PredictorApi, typeof PREDICTOR_METHODS>>,
];

function allowed<L extends readonly string[]>(list: L, method: string): method is L[number] {
  return list.includes(method);
}

function post(m: Response): void {
  const t = m.value instanceof Uint8Array ? [m.value.buffer as ArrayBuffer] : [];
  port.postMessage(m, t);
}

async function handle(r: Request): Promise<unknown> {
  switch (r.op) {
    case 'init': {
      const o: PredictorOptions = { ...r.options, worker: false, onWarning: (m) => port.postMessage({ id: -1, warn: m }) };
      predictor = r.url !== undefined ? await Predictor.fromUrl(r.url, o as PredictorOptions & { worker: false }) : await Predictor.fromBytes(r.bytes!, o as PredictorOptions & { worker: false });
      return predictor.info;
    }
    case 'sequence': {
      sequences.set(r.seq, predictor!.sequence(r.key));
      return;
    }
    case 'call': {
      const s = sequences.get(r.seq);
      if (!s) throw new Error('internal: unknown sequence');
      if (!allowed(SEQUENCE_METHODS, r.method)) throw new Error(`internal: no sequence method ${r.method}`);
      const v = Reflect.apply(s[r.method], s, r.args);
      if (r.method === 'close') sequences.delete(r.seq);
      return v;
    }
    case 'predictor': {
      if (!allowed(PREDICTOR_METHODS, r.method)) throw new Error(`internal: no predictor method ${r.method}`);
      if (r.method === 'close') await predictor!.flush(); // the worker stops right after
      const v = await Reflect.apply(predictor![r.method], predictor, r.args);
      if (r.method === 'close') {
        sequences.clear();
        g.close?.();
      }
      if (r.method === 'forget') return;
      return v;
    }
  }
}

function onMessage(r: Request): void {
  handle(r).then(
    (value) => post({ id: r.id, ok: true, value }),
    (e) => post({ id: r.id, ok: false, error: errorToRecord(e) }),
  );
}

if (port === g) g.onmessage = (e: MessageEvent<Request>) => onMessage(e.data);
else (port as any).on('message', onMessage);
