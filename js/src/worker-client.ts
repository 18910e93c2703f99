// Worker mode, main-thread side: AsyncPredictor / AsyncSequence mirror Predictor / Sequence
// with promises (the Async form of api.ts's interfaces), forwarding each call to worker.ts.
// Requests are answered in order, so sequence() can hand out its object at once.
import type { ArgsOf, Async, MethodOf, PredictorApi, SequenceApi } from './api.js';
import { errorFromRecord, HunchClosedError, HunchEnvironmentError, HunchEventError, type ErrorRecord } from './errors.js';
import { isNode, nodeImport, resolveUrl } from './env.js';
import { checkKey } from './events.js';
import {
  DEFAULTS, type Explanation, type ExplainOptions, type HunchEvent, type MemoryStats, type ModelInfo, type PredictOptions,
  type Prediction, type PredictorOptions, type SequenceStats, type TypePrediction, type UpdateOptions, type UrlLike,
} from './options.js';
import { wasmUrl } from './runtime.js';

/** @internal What the main thread asks of the worker (a Request without its id). */
export type Call =
  | { op: 'init'; url?: string; bytes?: Uint8Array; options: PredictorOptions }
  | { op: 'sequence'; seq: number; key?: string }
  | { op: 'call'; seq: number; method: MethodOf<SequenceApi>; args: unknown[] }
  | { op: 'predictor'; method: MethodOf<PredictorApi>; args: unknown[] };
/** @internal */
export type Request = Call & { id: number };
/** @internal */
export interface Response {
  id: number;
  ok?: boolean;
  value?: any;
  error?: ErrorRecord;
  warn?: string;
}

interface Port {
  post(m: Request): void;
  terminate(): void;
}

class Channel {
  #port!: Port;
  #next = 1;
  #waiting = new Map<number, [(v: any) => void, (e: Error) => void]>();
  #dead: Error | null = null;
  warn: (m: string) => void = DEFAULTS.onWarning;

  async open(url: URL): Promise<void> {
    const onMessage = (m: Response) => {
      if (m.warn !== undefined) return this.warn(m.warn);
      const w = this.#waiting.get(m.id);
      if (!w) return;
      this.#waiting.delete(m.id);
      if (m.ok) w[0](m.value);
      else w[1](errorFromRecord(m.error!));
    };
    // A worker script that does not load (404, wrong MIME type, a failed import) fires a bare
    // Event with no message: name the URL instead.
    const onError = (e: any) =>
      this.#die(new HunchEnvironmentError(`the hunch worker failed: ${typeof e?.message === 'string' && e.message ? e.message : `could not load ${url.href} (is worker.js served there? set the workerUrl option)`}`));
    const g = globalThis as any;
    if (typeof g.Worker === 'function') {
      const w: Worker = new g.Worker(url, { type: 'module' });
      w.onmessage = (e) => onMessage(e.data);
      w.onerror = (e) => onError(e);
      this.#port = { post: (m) => w.postMessage(m), terminate: () => w.terminate() };
    } else if (isNode()) {
      const { Worker } = await nodeImport('worker_threads');
      const w = new Worker(url);
      w.on('message', onMessage);
      w.on('error', onError);
      this.#port = { post: (m) => w.postMessage(m), terminate: () => void w.terminate() };
    } else throw new HunchEnvironmentError('worker mode needs Web Workers, which this environment lacks');
  }

  #die(e: Error): void {
    this.#dead = e;
    for (const [, w] of this.#waiting) w[1](e);
    this.#waiting.clear();
  }

  call(m: Call): Promise<any> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, [resolve, reject]);
      try {
        this.#port.post({ ...m, id });
      } catch (e) {
        this.#waiting.delete(id);
        // An event holding a function or a DOM node cannot be sent to the worker.
        reject(m.op === 'call' && m.method === 'push' ? new HunchEventError('event', 0, `cannot be sent to the worker (${(e as Error).message})`) : e);
      }
    });
  }

  terminate(): void {
    this.#port.terminate();
    this.#die(new HunchClosedError('this Predictor is closed'));
  }
}

/** @internal */
export async function startWorker(source: { url?: string; bytes?: Uint8Array }, options: PredictorOptions): Promise<AsyncPredictor> {
  if (typeof options.persist === 'object' && options.persist)
    throw new TypeError('a custom persist storage object cannot be used in worker mode: use "indexeddb"');
  if (typeof options.cache === 'object' && options.cache)
    throw new TypeError('a custom cache object cannot be used in worker mode: use cache: true (the Cache API, in the worker)');
  const ch = new Channel();
  if (options.onWarning) ch.warn = options.onWarning;
  await ch.open(options.workerUrl ? resolveUrl(options.workerUrl) : new URL('./worker.js', import.meta.url));
  // Functions cannot cross to the worker: resolve locations here.
  const { onWarning: _w, locateFile: _l, fetchInit, ...rest } = options;
  const o: PredictorOptions = { ...rest, wasmUrl: options.wasmModule || options.wasmBinary ? undefined : wasmUrl(options).href };
  if (fetchInit) o.fetchInit = { ...fetchInit, signal: undefined } as RequestInit;
  let info: ModelInfo;
  try {
    info = await ch.call({ op: 'init', ...source, options: o });
  } catch (e) {
    ch.terminate();
    throw e;
  }
  return AsyncPredictor._new(ch, info);
}

const TOKEN = Symbol('hunch-worker');

/** A Predictor running in a worker: the same API, every method returning a promise. */
export class AsyncPredictor implements Async<PredictorApi> {
  readonly info: ModelInfo;
  #ch: Channel;
  #nextSeq = 1;
  #keyed = new Map<string, AsyncSequence>();
  #closed = false;

  /** @internal */
  static _new(ch: Channel, info: ModelInfo): AsyncPredictor {
    return new AsyncPredictor(TOKEN, ch, info);
  }

  private constructor(token: symbol, ch: Channel, info: ModelInfo) {
    if (token !== TOKEN) throw new TypeError('use Predictor.fromUrl(url, {worker: true})');
    this.#ch = ch;
    this.info = info;
  }

  sequence(key?: string): AsyncSequence {
    if (this.#closed) throw new HunchClosedError('this Predictor is closed');
    if (key !== undefined) {
      checkKey(key);
      const open = this.#keyed.get(key);
      if (open && !open.closed) return open;
    }
    const id = this.#nextSeq++;
    const p = this.#ch.call({ op: 'sequence', seq: id, key });
    p.catch(() => {});
    const s = AsyncSequence._new(this.#ch, id, key ?? null);
    if (key !== undefined) this.#keyed.set(key, s);
    return s;
  }

  #call<M extends MethodOf<PredictorApi>>(method: M, ...args: ArgsOf<PredictorApi, M>): Promise<any> {
    if (this.#closed) return Promise.reject(new HunchClosedError('this Predictor is closed'));
    return this.#ch.call({ op: 'predictor', method, args });
  }

  setConsent(consent: boolean): Promise<void> { return this.#call('setConsent', consent); }
  forget(): Promise<void> { return this.#call('forget'); }
  flush(): Promise<void> { return this.#call('flush'); }
  /** See Predictor.update: the worker fetches and swaps the model; `info` follows. */
  async update(model: Uint8Array | ArrayBuffer | UrlLike, options?: UpdateOptions): Promise<ModelInfo> {
    // The worker resolves relative URLs against its own script: resolve them against the page here.
    const m = typeof model === 'string' || model instanceof URL ? resolveUrl(model).href : model;
    return ((this as { info: ModelInfo }).info = await this.#call('update', m, options));
  }
  memoryStats(): Promise<MemoryStats> { return this.#call('memoryStats'); }

  /** Flushes pending saves, frees the model and stops the worker. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#call('close');
    } finally {
      this.#closed = true;
      this.#ch.terminate();
    }
  }

  get closed(): boolean {
    return this.#closed;
  }
}

/** A Sequence living in the worker. */
export class AsyncSequence implements Async<SequenceApi> {
  readonly key: string | null;
  #ch: Channel;
  #id: number;
  #closed = false;

  /** @internal */
  static _new(ch: Channel, id: number, key: string | null): AsyncSequence {
    return new AsyncSequence(TOKEN, ch, id, key);
  }

  private constructor(token: symbol, ch: Channel, id: number, key: string | null) {
    if (token !== TOKEN) throw new TypeError('use predictor.sequence()');
    this.#ch = ch;
    this.#id = id;
    this.key = key;
  }

  #call<M extends MethodOf<SequenceApi>>(method: M, ...args: ArgsOf<SequenceApi, M>): Promise<any> {
    if (this.#closed) return Promise.reject(new HunchClosedError('this Sequence is closed'));
    return this.#ch.call({ op: 'call', seq: this.#id, method, args });
  }

  push(events: HunchEvent | readonly HunchEvent[]): Promise<void> { return this.#call('push', events); }
  predict(options?: PredictOptions): Promise<Prediction[]> { return this.#call('predict', options); }
  nextType(): Promise<TypePrediction[]> { return this.#call('nextType'); }
  exitProbability(): Promise<number | null> { return this.#call('exitProbability'); }
  conversionProbability(): Promise<number | null> { return this.#call('conversionProbability'); }
  explain(options?: ExplainOptions): Promise<Explanation[]> { return this.#call('explain', options); }
  reset(): Promise<void> { return this.#call('reset'); }
  save(): Promise<Uint8Array> { return this.#call('save'); }
  restore(bytes: Uint8Array | ArrayBuffer): Promise<void> { return this.#call('restore', bytes); }
  stats(): Promise<SequenceStats> { return this.#call('stats'); }
  forget(): Promise<void> { return this.#call('forget'); }
  async close(): Promise<void> {
    if (this.#closed) return;
    const p = this.#call('close');
    this.#closed = true;
    await p;
  }
  get closed(): boolean {
    return this.#closed;
  }
}
