// Predictor (one loaded model) and Sequence (one user's events over it), running the wasm core
// on the calling thread. Every wasm handle is owned by exactly one of these objects and freed
// by its close(); a FinalizationRegistry frees what the app forgot to close.
import type { PredictorApi, SequenceApi } from './api.js';
import type { RawModel, RawSequence } from './hunch.mjs';
import { HunchClosedError, HunchError, HunchModelError, HunchStateError } from './errors.js';
import { resolveUrl, readUrl, toBytes } from './env.js';
import { checkEvents, checkKey, type CheckedEvent, type Vocab } from './events.js';
import {
  DEFAULTS, type Explanation, type ExplainOptions, type HunchEvent, type MemoryStats, type ModelInfo, type PersistStorage,
  type PredictOptions, type Prediction, type PredictorOptions, type SequenceStats, type TypePrediction, type UpdateOptions,
  type MainThreadOptions, type WorkerOptions, type UrlLike,
} from './options.js';
import type { Persistence } from './persist.js';
import { getRuntime, guard, statsOf, type Runtime } from './runtime.js';
import type { AsyncPredictor } from './worker-client.js';

const TOKEN = Symbol('hunch');

// Frees handles of objects the app dropped without close(). Held value: what to delete.
const finalizer =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<{ rt: Runtime; h: RawModel | RawSequence; seq: boolean }>(({ rt, h, seq }) => {
        if (!h.isDeleted()) h.delete();
        if (seq) rt.sequences--;
        else rt.models--;
      })
    : undefined;

/** @internal */
export interface RingEntry {
  a: string | null; // action as pushed
  k: boolean; // known to the model
  t: string | null; // type as pushed
  m: number | null; // time, ms
}

// Saved-state envelope (docs/format.md "SDK saved state"): "HNJS", u32 version, u32 JSON
// length, JSON (the JS-side ring and counters), then the core's own state bytes ("Sequence state").
const ENVELOPE = 0x534a4e48; // "HNJS" little-endian
const CORE_MAGIC = 0x54534e48; // "HNST"

// Splits saved bytes into the envelope's JSON (null for the core's own bytes) and the core state.
// `window`: the longest event ring accepted (a model update reads a ring of the old model's window).
function readEnvelope(b: Uint8Array, window: number): { meta: any; core: Uint8Array } {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length >= 12 && dv.getUint32(0, true) === ENVELOPE) {
    const v = dv.getUint32(4, true);
    if (v !== 1) throw new HunchStateError(`saved state envelope version ${v} is not supported (this SDK reads 1)`);
    const n = dv.getUint32(8, true);
    if (12 + n > b.length) throw new HunchStateError(`saved state envelope: JSON of ${n} bytes overruns the ${b.length} bytes given`);
    let meta: any;
    try {
      meta = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(12, 12 + n)));
    } catch (e) {
      throw new HunchStateError(`saved state envelope: unreadable JSON at offset 12 (${(e as Error).message})`);
    }
    if (!meta || !Array.isArray(meta.r) || !meta.r.every(Array.isArray)) throw new HunchStateError('saved state envelope: malformed event ring');
    if (meta.r.length > window) {
      // This model never saves more than its window: the state is another model's (or forged),
      // so its events are carried over by name, never restored.
      const e = new HunchStateError(`saved state envelope: an event ring of ${meta.r.length} events is longer than ${window === MAX_CARRIED ? 'any' : "this model's"} window (${window}): saved for another model`);
      forOtherModel.add(e);
      throw e;
    }
    return { meta, core: b.subarray(12 + n) };
  }
  if (!(b.length >= 4 && dv.getUint32(0, true) === CORE_MAGIC))
    throw new HunchStateError('not a hunch saved state: no "HNJS" or "HNST" magic at offset 0');
  return { meta: null, core: b };
}

const ringOf = (meta: any): RingEntry[] =>
  meta.r.map((e: any[]) => ({
    a: typeof e[0] === 'string' ? e[0] : null, k: e[1] === 1, t: typeof e[2] === 'string' ? e[2] : null, m: typeof e[3] === 'number' ? e[3] : null,
  }));

// How many events' names a sequence keeps (saved, replayed on a model update): as many as the
// model reads, through its attention (window) or its copy terms (copyWindow).
const keptEvents = (info: ModelInfo): number => Math.max(info.window, info.copyWindow);

// The longest ring a state of another model may carry: its window is not known beforehand, and
// the core caps windows far below this (docs/limits.md).
const MAX_CARRIED = 4096;

export type AnyPredictor = Predictor | AsyncPredictor;

// restore() errors for a state saved for another model, told apart by the core's error code
// (RawSequence.lastErrorCode), never by the wording of its message.
const forOtherModel = new WeakSet<Error>();

// Action name -> id: the core's hash map answers, a JS map remembers the names this page has
// actually sent (a user touches a handful of the vocabulary; no vocabulary-sized map is built).
function actionLookup(model: RawModel): (action: string) => number {
  const seen = new Map<string, number>();
  return (action) => {
    let id = seen.get(action);
    if (id === undefined) {
      id = model.actionId(action);
      if (seen.size < 4096) seen.set(action, id);
    }
    return id;
  };
}

// The model's bytes from a URL: through the Cache API when `cache` is set (model-cache.ts).
async function modelFrom(u: URL, o: PredictorOptions): Promise<[Uint8Array, string]> {
  if (o.cache) return [await (await import('./model-cache.js')).cachedModel(u, o), `${u.href}: `];
  const r = await readUrl(u, o.fetchInit);
  if (!r.ok) throw new HunchModelError(`could not fetch the model at ${u.href}: ${r.why}`);
  return [r.bytes, `${u.href}: `];
}

// Checks `integrity` (when set) before the bytes are parsed.
async function checked(bytes: Uint8Array, o: PredictorOptions, where: string): Promise<void> {
  if (o.integrity) await (await import('./model-cache.js')).checkIntegrity(bytes, o.integrity, where ? where.slice(0, -2) : 'the model bytes');
}

/** A loaded model. Create with {@link Predictor.fromUrl} or {@link Predictor.fromBytes}; free with close(). */
export class Predictor implements PredictorApi {
  /** What the model is: architecture, window, vocabularies, metadata. */
  readonly info: ModelInfo;
  #rt: Runtime;
  #model: RawModel | null;
  #vocab: Vocab;
  #keyed = new Map<string, Sequence>();
  #anon = new Set<WeakRef<Sequence> | Sequence>();
  #persist: Persistence | null;
  #opts: PredictorOptions;

  private constructor(token: symbol, rt: Runtime, model: RawModel, opts: PredictorOptions, persist: Persistence | null) {
    if (token !== TOKEN) throw new TypeError('use Predictor.fromUrl() or Predictor.fromBytes()');
    this.#rt = rt;
    this.#model = model;
    this.#persist = persist;
    this.#opts = opts;
    // One native decode + split each; no per-name JS work at load (cold start). The action
    // names and the metadata are decoded on first read, not at load: a large vocabulary is
    // megabytes of JS strings a page may never read whole; predict() names its k ids one by one
    // (_actionName). close() keeps their bytes for a read after it.
    const utf8 = new TextDecoder();
    let actions: readonly string[] | undefined, actionBytes: Uint8Array | undefined;
    let metadata: Record<string, unknown> | undefined, metadataJson: string | undefined;
    this.#keepLazy = () => {
      if (!actions) actionBytes ??= model.actionNames();
      if (!metadata) metadataJson ??= model.metadataJson();
    };
    this.#names = actions;
    this._vocabSize = model.vocabSize();
    const types = utf8.decode(model.typeNames()).split('\0');
    const goals = model.goalTypes();
    const goalTypes = goals.length ? utf8.decode(goals).split('\0') : [];
    const attrColumns = model.attributeColumns();
    const attributes = attrColumns.length ? utf8.decode(attrColumns).split('\0') : [];
    const self = this;
    this.info = Object.freeze({
      architecture: model.architecture(),
      window: model.window(),
      copyWindow: model.copyWindow(),
      checksum: model.checksum() >>> 0,
      get actions(): readonly string[] {
        return (actions ??= self.#names = Object.freeze(utf8.decode(actionBytes ?? model.actionNames()).split('\0')));
      },
      types: Object.freeze(types),
      goalTypes: Object.freeze(goalTypes),
      attributes: Object.freeze(attributes),
      get metadata(): Record<string, unknown> {
        if (!metadata) {
          try {
            metadata = JSON.parse(metadataJson ?? model.metadataJson()) as Record<string, unknown>;
          } catch {
            metadata = {}; // metadata is informative only
          }
        }
        return metadata;
      },
      get privacy(): ModelInfo['privacy'] {
        return privacyOf(this.metadata);
      },
      kernels: rt.raw.kernels(),
      coreVersion: rt.raw.version(),
    });
    this.#vocab = {
      actionId: actionLookup(model),
      typeIds: new Map(types.map((t, i) => [t, i])),
      maxLength: opts.maxEventStringLength ?? DEFAULTS.maxEventStringLength,
      unknownType: opts.unknownType ?? DEFAULTS.unknownType,
      maxFutureMs: opts.maxFutureMs ?? DEFAULTS.maxFutureMs,
      attributes,
    };
    rt.models++;
    finalizer?.register(this, { rt, h: model, seq: false }, this);
    if (persist) this.#attach(persist);
  }

  #attach(persist: Persistence): void {
    this.#persist = persist;
    persist.onRemote = (key, bytes) => void this.#keyed.get(key)?._adopt(bytes, false);
    persist.onForget = () => this.#keyed.forEach((s) => s._resetQuiet());
  }

  /** Fetches a `.hunch` model from a URL and loads it (in a worker with `{worker: true}`). */
  static fromUrl(url: UrlLike, options: WorkerOptions): Promise<AsyncPredictor>;
  static fromUrl(url: UrlLike, options?: MainThreadOptions): Promise<Predictor>;
  static fromUrl(url: UrlLike, options?: MainThreadOptions | WorkerOptions): Promise<Predictor | AsyncPredictor>;
  static async fromUrl(url: UrlLike, options: PredictorOptions = {}): Promise<Predictor | AsyncPredictor> {
    if (options.worker) return (await import('./worker-client.js')).startWorker({ url: resolveUrl(url).href }, options);
    const u = resolveUrl(url);
    // Start compiling the wasm while the model downloads.
    const rt = getRuntime(options);
    rt.catch(() => {});
    const [bytes, where] = await modelFrom(u, options);
    return Predictor.#load(bytes, options, where);
  }

  /** Loads a `.hunch` model from its bytes (in a worker with `{worker: true}`). */
  static fromBytes(bytes: Uint8Array | ArrayBuffer, options: WorkerOptions): Promise<AsyncPredictor>;
  static fromBytes(bytes: Uint8Array | ArrayBuffer, options?: MainThreadOptions): Promise<Predictor>;
  static fromBytes(bytes: Uint8Array | ArrayBuffer, options?: MainThreadOptions | WorkerOptions): Promise<Predictor | AsyncPredictor>;
  static async fromBytes(bytes: Uint8Array | ArrayBuffer, options: PredictorOptions = {}): Promise<Predictor | AsyncPredictor> {
    const b = toBytes(bytes, 'the model');
    if (options.worker) return (await import('./worker-client.js')).startWorker({ bytes: b }, options);
    return Predictor.#load(b, options, '');
  }

  static async #load(bytes: Uint8Array, opts: PredictorOptions, where: string): Promise<Predictor> {
    const rt = await getRuntime(opts);
    await checked(bytes, opts, where);
    const p = Predictor.#parse(rt, bytes, opts, where);
    try {
      if (opts.persist) {
        const { Persistence } = await import('./persist.js');
        const persist = new Persistence(opts.persist as Exclude<typeof opts.persist, false>, opts.storageKey ?? DEFAULTS.storageKey, opts.onWarning ?? DEFAULTS.onWarning);
        p.#attach(persist);
        if (opts.consent) p.#stored = await persist.enable();
      }
    } catch (e) {
      p.close();
      throw e;
    }
    return p;
  }

  #stored: Map<string, Uint8Array> | undefined;

  /**
   * Swaps in another model (bytes, or a URL fetched like fromUrl's, with `options.integrity`
   * checked), keeping every open sequence: each one's last max(`window`, `copyWindow`) events are replayed by name
   * into the new model (`stats().carriedEvents`, `carriedUnknown`). Stored states of the old
   * model are carried over the same way when their sequence is opened. Rejects with
   * HunchModelError (fetch failure, integrity mismatch, a file this core refuses, such as a newer
   * format version) and then changes nothing: the old model keeps serving every sequence.
   * Resolves to the new `info`.
   */
  async update(model: Uint8Array | ArrayBuffer | UrlLike, options: UpdateOptions = {}): Promise<ModelInfo> {
    this._model();
    const o = { ...this.#opts, integrity: options.integrity }; // the old model's integrity is not the new one's
    const [bytes, where] = typeof model === 'string' || model instanceof URL ? await modelFrom(resolveUrl(model), o) : [toBytes(model, 'the model'), ''];
    await checked(bytes, o, where);
    const old = this._model(); // closed while fetching: throws
    const rt = this.#rt;
    const next = Predictor.#parse(rt, bytes, o, where);
    const live = [...this.#keyed.values(), ...[...this.#anon].map((r) => (r instanceof WeakRef ? r.deref() : r))].filter((s): s is Sequence => !!s && !s.closed);
    const raws: RawSequence[] = [];
    try {
      for (const _ of live) raws.push(guard(rt, () => new rt.raw.Sequence(next.#model!)));
    } catch (e) {
      for (const r of raws) r.delete();
      next.close();
      throw new HunchModelError(`${where}no memory for the new model's sequences (${(e as Error)?.message ?? e}); the old model is kept`);
    }
    // Nothing can fail from here: the new model takes over.
    finalizer?.unregister(next);
    finalizer?.unregister(this);
    this.#keepLazy(); // the old info stays readable after its model is freed
    this.#model = next.#model;
    next.#model = null;
    rt.models--; // counted once, by this predictor
    (this as { info: ModelInfo }).info = next.info;
    this.#vocab = next.#vocab;
    // The names by id are the new model's (next's info fills next's cache; ours reads the model).
    this.#keepLazy = next.#keepLazy;
    this.#names = undefined;
    this.#named = [];
    this._vocabSize = next._vocabSize;
    finalizer?.register(this, { rt, h: this.#model!, seq: false }, this);
    live.forEach((s, i) => {
      s._carry(s._ring().slice(), raws[i]);
      s._dirty();
    });
    old.delete();
    return this.info;
  }

  // Loads model bytes into a Predictor of no persistence (update() takes its parts).
  static #parse(rt: Runtime, bytes: Uint8Array, opts: PredictorOptions, where: string): Predictor {
    const model = new rt.raw.Model();
    const ok = guard(rt, () => model.load(bytes));
    if (!ok) {
      const msg = model.lastError();
      model.delete();
      throw new HunchModelError(where + msg);
    }
    return new Predictor(TOKEN, rt, model, opts, null);
  }

  #keepLazy: () => void;
  #names: readonly string[] | undefined;
  #named: string[] = [];
  /** @internal V, the vocabulary's size */
  _vocabSize = 0;

  /** @internal an action's name by id, without decoding the whole vocabulary. */
  _actionName(id: number): string {
    return this.#names ? this.#names[id] : (this.#named[id] ??= this._model().actionName(id));
  }

  /** @internal */
  _model(): RawModel {
    if (!this.#model) throw new HunchClosedError('this Predictor is closed');
    return this.#model;
  }
  /** @internal */ _rt(): Runtime { return this.#rt; }
  /** @internal */ _vocab(): Vocab { return this.#vocab; }
  /** @internal */ _persist(): Persistence | null { return this.#persist; }
  /** @internal */
  _forgetSequence(s: Sequence): void {
    if (s.key !== null) this.#keyed.delete(s.key);
    else this.#anon.delete(s) || this.#anon.forEach((r) => r instanceof WeakRef && r.deref() === s && this.#anon.delete(r));
  }

  /**
   * A sequence of events for one user. With a key, the same open Sequence is returned for the
   * same key, and its state is persisted (when `persist` is set and consent given). Without a
   * key, a new unpersisted sequence every call.
   */
  sequence(key?: string): Sequence {
    this._model();
    if (key === undefined) {
      const s = Sequence._new(this, null);
      this.#anon.add(typeof WeakRef === 'function' ? new WeakRef(s) : s);
      return s;
    }
    checkKey(key);
    let s = this.#keyed.get(key);
    if (s) return s;
    s = Sequence._new(this, key);
    this.#keyed.set(key, s);
    const bytes = this.#stored?.get(key);
    if (bytes) s._adopt(bytes);
    return s;
  }

  /**
   * Records the user's storage consent. `true` reads back the states stored by earlier page loads
   * (restored into keyed sequences that have no events yet; others overwrite them) and persists
   * from now on. `false` stops persisting and erases what was stored.
   */
  async setConsent(consent: boolean): Promise<void> {
    this._model();
    const p = this.#persist;
    if (!p) return;
    if (!consent) {
      p.disable();
      await this.#forgetStored();
      return;
    }
    if (p.enabled) return;
    this.#stored = await p.enable();
    for (const [key, s] of this.#keyed) {
      const bytes = this.#stored.get(key);
      if (bytes && s.stats().events === 0) s._adopt(bytes);
      else s._dirty();
    }
  }

  /**
   * Erases every stored state of this app (`storageKey` prefix) from every storage the SDK may
   * have used, and resets the open sequences. Works without consent.
   */
  async forget(): Promise<void> {
    this._model();
    for (const s of this.#keyed.values()) s._resetQuiet();
    await this.#forgetStored();
  }

  async #forgetStored(): Promise<void> {
    this.#stored = undefined;
    if (this.#persist) await this.#persist.forgetAll();
  }

  /** Resolves once every pending state save has been written. */
  async flush(): Promise<void> {
    await this.#persist?.flush();
  }

  /** Memory of the wasm instance this predictor runs in. */
  memoryStats(): MemoryStats {
    return statsOf(this.#rt);
  }

  /** Frees the model and every sequence of it. Using them afterwards throws HunchClosedError. */
  close(): void {
    if (!this.#model) return;
    for (const s of [...this.#keyed.values()]) s.close();
    for (const r of [...this.#anon]) (r instanceof WeakRef ? r.deref() : r)?.close();
    this.#anon.clear();
    this.#persist?.close();
    finalizer?.unregister(this);
    this.#keepLazy();
    this.#model.delete();
    this.#model = null;
    this.#rt.models--;
  }

  get closed(): boolean {
    return this.#model === null;
  }
}

/** One user's events over a model. Create with `predictor.sequence(key?)`. */
export class Sequence implements SequenceApi {
  /** The persistence key, or null for an anonymous sequence. */
  readonly key: string | null;
  #p: Predictor;
  #raw: RawSequence | null;
  #ring: RingEntry[] = [];
  #lastMs = -Infinity;
  #unknownActions = 0;
  #unknownTypes = 0;
  #clamped = 0;
  #rejected = 0;
  #lastSaved: Uint8Array | null = null;

  /** @internal */
  static _new(p: Predictor, key: string | null): Sequence {
    return new Sequence(TOKEN, p, key);
  }

  private constructor(token: symbol, p: Predictor, key: string | null) {
    if (token !== TOKEN) throw new TypeError('use predictor.sequence()');
    const rt = p._rt();
    this.#p = p;
    this.key = key;
    this.#raw = guard(rt, () => new rt.raw.Sequence(p._model()));
    rt.sequences++;
    finalizer?.register(this, { rt, h: this.#raw, seq: true }, this);
  }

  #h(): RawSequence {
    if (!this.#raw) throw new HunchClosedError(this.#p.closed ? 'this Sequence\'s Predictor is closed' : 'this Sequence is closed');
    return this.#raw;
  }

  /**
   * Appends one event or an array of events. Throws HunchEventError (naming the field) on a
   * malformed event; then nothing of the call was applied.
   */
  push(events: HunchEvent | readonly HunchEvent[]): void {
    const h = this.#h();
    let checked;
    try {
      checked = checkEvents(events, this.#p._vocab());
    } catch (e) {
      this.#rejected++;
      throw e;
    }
    this.#apply(checked);
    if (checked.length) this._dirty();
  }

  #apply(checked: CheckedEvent[]): void {
    const h = this.#h();
    const rt = this.#p._rt();
    const W = keptEvents(this.#p.info);
    for (const e of checked) {
      const pushed = e.attrs === null ? () => h.push(e.actionId, e.typeId, e.timeMs / 1000)
        : () => h.pushWithAttributes(e.actionId, e.typeId, e.timeMs / 1000, e.attrs as string);
      if (!guard(rt, pushed)) throw new HunchError(h.lastError());
      if (e.actionId === 0) this.#unknownActions++;
      if (e.unknownType) this.#unknownTypes++;
      if (e.timeMs < this.#lastMs) this.#clamped++;
      else this.#lastMs = e.timeMs;
      this.#ring.push({ a: e.action, k: e.actionId !== 0, t: e.type, m: e.timeMs });
      if (this.#ring.length > W) this.#ring.shift();
    }
  }

  /** The k most likely next actions, most likely first; [] before the first event. */
  predict(options: PredictOptions = {}): Prediction[] {
    const h = this.#h();
    const k = options.k ?? 10;
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`predict: k must be a positive integer, got ${k}`);
    const p = this.#p;
    const n = guard(p._rt(), () => h.predict(Math.min(k, p._vocabSize)));
    if (!n) return [];
    const ids = h.topIds();
    const probs = h.topProbs();
    const out: Prediction[] = new Array(n);
    for (let i = 0; i < n; ++i) out[i] = { action: p._actionName(ids[i]), probability: probs[i] };
    return out;
  }

  /** Distribution of the next event's type, most likely first; [] before the first event. */
  nextType(): TypePrediction[] {
    const probs = this.#h().typeProbs();
    const names = this.#p.info.types;
    return Array.from(probs, (p, i) => ({ type: names[i], probability: p })).sort((a, b) => b.probability - a.probability);
  }

  /** Probability that the user leaves after the last event; null before the first event. */
  exitProbability(): number | null {
    const h = this.#h();
    return h.length() ? h.exitProbability() : null;
  }

  /**
   * Probability that one of the model's goal events (`info.goalTypes`, e.g. a purchase) follows
   * in this session; null before the first event and for a model without a conversion head.
   */
  conversionProbability(): number | null {
    const h = this.#h();
    if (!h.length()) return null;
    const p = h.conversionProbability();
    return Number.isNaN(p) ? null : p;
  }

  /** The past events the model's attention weighed for the current prediction, heaviest first. */
  explain(options: ExplainOptions = {}): Explanation[] {
    const h = this.#h();
    const idx = h.attentionIndex();
    const w = h.attentionWeights();
    const first = h.length() - this.#ring.length; // absolute index of ring[0]
    const out: Explanation[] = [];
    for (let i = 0; i < idx.length; ++i) {
      const r = this.#ring[idx[i] - first];
      out.push({ action: r?.a ?? null, known: r ? r.k : false, type: r?.t ?? null, time: r?.m ?? null, index: idx[i], weight: w[i] });
    }
    out.sort((a, b) => b.weight - a.weight);
    return options.top === undefined ? out : out.slice(0, Math.max(0, options.top));
  }

  /** Forgets every event (the persisted state too, at the next save). */
  reset(): void {
    this._resetQuiet();
    this._dirty();
  }

  /** @internal */
  _resetQuiet(): void {
    this.#h().reset();
    this.#ring = [];
    this.#lastMs = -Infinity;
    this.#unknownActions = this.#unknownTypes = this.#clamped = this.#rejected = 0;
    this.#carried = [0, 0];
  }

  /** The sequence's state as bytes (for restore(), here or on another page with the same model). */
  save(): Uint8Array {
    const core = this.#h().save();
    const json = new TextEncoder().encode(
      JSON.stringify({ r: this.#ring.map((e) => [e.a, e.k ? 1 : 0, e.t, e.m]), u: this.#unknownActions, y: this.#unknownTypes, c: this.#clamped, l: this.#lastMs === -Infinity ? null : this.#lastMs }),
    );
    const out = new Uint8Array(12 + json.length + core.length);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, ENVELOPE, true);
    dv.setUint32(4, 1, true);
    dv.setUint32(8, json.length, true);
    out.set(json, 12);
    out.set(core, 12 + json.length);
    return out;
  }

  /**
   * Replaces the state with bytes from save() (or the core's own state bytes). Throws
   * HunchStateError, leaving the sequence as it was, for bytes that are corrupted or were saved
   * for another model.
   */
  restore(bytes: Uint8Array | ArrayBuffer): void {
    this.#restore(bytes);
    this._dirty();
  }

  #restore(bytes: Uint8Array | ArrayBuffer): void {
    const h = this.#h();
    const { meta, core } = readEnvelope(toBytes(bytes, 'restore(bytes)'), keptEvents(this.#p.info));
    if (!guard(this.#p._rt(), () => h.restore(core))) {
      const e = new HunchStateError(h.lastError());
      if (h.lastErrorCode() === 'state_for_other_model') forOtherModel.add(e);
      throw e;
    }
    const ring = meta ? ringOf(meta) : [];
    this.#ring = ring.slice(Math.max(0, ring.length - h.length()));
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
    this.#unknownActions = num(meta?.u);
    this.#unknownTypes = num(meta?.y);
    this.#clamped = num(meta?.c);
    this.#rejected = 0;
    const t = h.lastTime();
    this.#lastMs = typeof meta?.l === 'number' ? meta.l : Number.isFinite(t) ? t * 1000 : -Infinity;
  }

  /** Counters of this sequence (see {@link SequenceStats}). */
  stats(): SequenceStats {
    const h = this.#h();
    const p = this.#p._persist();
    return {
      events: h.length(),
      unknownActions: this.#unknownActions,
      unknownTypes: this.#unknownTypes,
      clampedTimes: this.#clamped,
      rejectedEvents: this.#rejected,
      stateBytes: h.stateBytes(),
      persistence: this.key !== null && p?.enabled ? p.mode : 'none',
      carriedEvents: this.#carried[0],
      carriedUnknown: this.#carried[1],
    };
  }

  /** Erases this sequence's stored state (and resets it). */
  async forget(): Promise<void> {
    this._resetQuiet();
    if (this.key !== null) await this.#p._persist()?.remove(this.key);
  }

  /** Frees the sequence's wasm memory; a pending save is still written. */
  close(): void {
    if (!this.#raw) return;
    const p = this.#p._persist();
    if (this.key !== null && p) p.closing(this);
    finalizer?.unregister(this);
    this.#raw.delete();
    this.#raw = null;
    this.#p._rt().sequences--;
    this.#p._forgetSequence(this);
  }

  get closed(): boolean {
    return this.#raw === null;
  }

  /** @internal marks the state changed: saved at the next microtask when persisting. */
  _dirty(): void {
    if (this.key !== null) this.#p._persist()?.schedule(this);
  }

  /** @internal the bytes to persist now, or null when closed */
  _snapshot(): Uint8Array | null {
    return this.#raw ? (this.#lastSaved = this.save()) : this.#lastSaved;
  }

  /**
   * @internal restores stored bytes. Bytes saved for another model (a model update) are carried
   * over instead: their recent events are replayed by name into this model (stats().carried*).
   * Unreadable bytes are dropped with a warning. `local`: read from storage at load, so a carried
   * state is saved for this model; false for another tab's broadcast (saving it would echo).
   */
  _adopt(bytes: Uint8Array, local = true): boolean {
    try {
      this.#restore(bytes); // not marked dirty: re-saving what was just read would echo between tabs
      return true;
    } catch (err) {
      let e = err;
      if (forOtherModel.has(e as Error)) {
        try {
          this._carry(ringOf(readEnvelope(bytes, MAX_CARRIED).meta ?? { r: [] }));
          if (local) this._dirty();
          return true;
        } catch (e2) {
          e = e2; // a ring beyond any model's window: unreadable
        }
      }
      const p = this.#p._persist();
      if (this.key !== null && p) {
        p.warnOnce(`hunch: the stored state of sequence "${this.key}" is unreadable and was dropped (${(e as Error).message})`);
        void p.remove(this.key);
      }
      return false;
    }
  }

  /** @internal this sequence's recent events by name (what a model update carries over). */
  _ring(): RingEntry[] {
    this.#h();
    return this.#ring;
  }

  /**
   * @internal starts afresh, on `raw` when given (a new model's sequence, replacing the old
   * one), and replays `ring` by name: unknown names become `<unk>`/`<none>` (counted), events
   * the new model refuses (say, a type under unknownType 'error') are left out (counted too).
   */
  _carry(ring: readonly RingEntry[], raw?: RawSequence): void {
    if (raw) {
      const rt = this.#p._rt();
      finalizer?.unregister(this);
      this.#h().delete();
      this.#raw = raw;
      finalizer?.register(this, { rt, h: raw, seq: true }, this);
    }
    this._resetQuiet();
    const vocab = this.#p._vocab();
    const ok: CheckedEvent[] = [];
    let unknown = 0;
    for (const r of ring) {
      try {
        if (r.a === null) throw 0; // pushed before a restore of core-only bytes: no name to carry
        const [c] = checkEvents(r.t === null ? { action: r.a, time: r.m ?? undefined } : { action: r.a, type: r.t, time: r.m ?? undefined }, vocab);
        if (c.actionId === 0 || c.unknownType) unknown++;
        ok.push(c);
      } catch {
        unknown++;
      }
    }
    this.#apply(ok);
    this.#carried = [ring.length, unknown];
  }

  #carried: [events: number, unknown: number] = [0, 0];
}

export type { PersistStorage };

/** `info.privacy` from the `hunch.privacy.dp_*` metadata (docs/format.md). */
function privacyOf(m: Record<string, unknown>): ModelInfo['privacy'] {
  const n = (k: string): number => Number(m[`hunch.privacy.dp_${k}`]);
  if (typeof m['hunch.privacy.dp_epsilon'] !== 'number') return null;
  const counted = typeof m['hunch.privacy.dp_count_share'] === 'number';
  return Object.freeze({
    epsilon: n('epsilon'), delta: n('delta'), noiseMultiplier: n('noise_multiplier'), clip: n('clip'), sampleRate: n('sample_rate'), steps: n('steps'),
    sgdEpsilon: counted ? n('sgd_epsilon') : null,
    countRelease: counted
      ? Object.freeze({ share: n('count_share'), epsilon: n('count_epsilon'), noiseMultiplier: n('count_noise_multiplier'), clip: n('count_clip') })
      : null,
  });
}
