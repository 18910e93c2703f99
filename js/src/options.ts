// Public option and result types. Plain objects; every field documented with its default and
// unit, because this file is what editors show users.

// The types below name DOM / WebAssembly types only where the environment declares them: a
// node-only TypeScript project (`lib: ["ES2022"]`, no DOM) then still compiles the SDK's types.

/** A URL: a string, or a `URL` object where the environment declares `URL` (DOM or node types). */
export type UrlLike = string | (typeof globalThis extends { URL: { prototype: infer U } } ? U : never);

/** `WebAssembly.Module` where declared (DOM lib or node types), else any object. */
export type WasmModule = typeof globalThis extends { WebAssembly: { Module: { prototype: infer M } } } ? M : object;

/** `RequestInit` (the options of `fetch()`) where declared, else a plain object. */
export type FetchInit = typeof globalThis extends { fetch(input: never, init?: infer I): unknown } ? NonNullable<I> : Record<string, unknown>;

/** Where persisted sequence states live. */
export type PersistMode = 'indexeddb' | 'localStorage' | 'memory' | false;

/**
 * A storage backend for persisted sequence states. Inject one (for tests, or to keep states in
 * your own store); the SDK calls it only after consent. Methods may be sync or async and may
 * throw: a failure makes the SDK fall back to memory with one warning.
 */
export interface PersistStorage {
  /** The stored bytes for `key`, or undefined/null when none. */
  get(key: string): Uint8Array | undefined | null | Promise<Uint8Array | undefined | null>;
  set(key: string, bytes: Uint8Array): void | Promise<void>;
  delete(key: string): void | Promise<void>;
  /** Every stored key that starts with `prefix`. */
  keys(prefix: string): string[] | Promise<string[]>;
}

/** Options of {@link Predictor.fromUrl} and {@link Predictor.fromBytes}. */
export interface PredictorOptions {
  /**
   * URL of `hunch.wasm`. Relative URLs resolve against the page (`document.baseURI`).
   * @defaultValue `new URL('./hunch.wasm', import.meta.url)`: the file beside the SDK's JS (bundlers copy it)
   */
  wasmUrl?: UrlLike;
  /**
   * Maps a file name the SDK needs (`"hunch.wasm"`) to its URL; used when `wasmUrl` is not given.
   * @defaultValue undefined (the file beside the SDK's JS)
   */
  locateFile?: (file: string) => UrlLike;
  /**
   * The bytes of `hunch.wasm`, when the app already has them: nothing is fetched.
   * @defaultValue undefined
   */
  wasmBinary?: Uint8Array | ArrayBuffer;
  /**
   * A compiled `hunch.wasm` (WebAssembly.Module): nothing is fetched or compiled.
   * @defaultValue undefined
   */
  wasmModule?: WasmModule;
  /**
   * Run the model in a Web Worker (node: a worker thread). The factory then resolves to an
   * {@link AsyncPredictor} whose methods return promises; the main thread never compiles wasm.
   * @defaultValue false
   */
  worker?: boolean;
  /**
   * URL of the SDK's worker script, in worker mode.
   * @defaultValue `new URL('./worker.js', import.meta.url)`
   */
  workerUrl?: UrlLike;
  /**
   * Keep each keyed sequence's state across page loads: `'indexeddb'`, `'localStorage'`,
   * `'memory'` (this page only), `false` (nothing kept), or your own {@link PersistStorage}
   * (not in worker mode). Nothing is read or written before consent (see `consent`).
   * @defaultValue false
   */
  persist?: PersistMode | PersistStorage;
  /**
   * Whether the user agreed to on-device storage. Until true (here or via
   * `predictor.setConsent(true)`), persisted states are neither read nor written.
   * @defaultValue false
   */
  consent?: boolean;
  /**
   * Prefix of every storage key (IndexedDB key, localStorage item): `<storageKey>:<sequence key>`.
   * Use one per app sharing an origin.
   * @defaultValue 'hunch'
   */
  storageKey?: string;
  /**
   * Longest accepted `action` / `type` string, in UTF-16 code units; longer events are refused.
   * @defaultValue 512
   */
  maxEventStringLength?: number;
  /**
   * What an event `type` the model does not know becomes: `'none'` maps it to the `<none>` type
   * (counted in `stats().unknownTypes`), `'error'` refuses the event.
   * @defaultValue 'none'
   */
  unknownType?: 'none' | 'error';
  /**
   * How far in the future (ms after `Date.now()`) an event time may be before it is refused.
   * @defaultValue 86_400_000 (one day)
   */
  maxFutureMs?: number;
  /**
   * Called with each warning (storage fallback, state ignored…). Warnings never throw.
   * @defaultValue `console.warn`
   */
  onWarning?: (message: string) => void;
  /**
   * Passed to `fetch()` for the model (headers, credentials…). Not used for the wasm.
   * @defaultValue undefined
   */
  fetchInit?: FetchInit;
  /**
   * Subresource-integrity hash of the model file (`'sha256-<base64>'`, also sha384/sha512, as
   * `openssl dgst -sha256 -binary m.hunch | base64` prints): the bytes are checked (WebCrypto)
   * before they are parsed, and refused with HunchModelError when they differ.
   * @defaultValue undefined (not checked)
   */
  integrity?: string;
  /**
   * Keep the model's bytes in the Cache API (browsers and workers; ignored where `caches` is
   * missing, e.g. node) and revalidate them on each load with a conditional request
   * (`If-None-Match` / `If-Modified-Since`): an unchanged model costs a 304, not a download, and
   * the cached copy serves when the network fails. `true`: the cache named `'hunch-models'`;
   * a string: that cache name; an object: your own {@link ModelCache}.
   * @defaultValue false
   */
  cache?: boolean | string | ModelCache;
}

/** Where `cache` keeps model responses: the Cache API's `Cache` fits (`await caches.open(name)`). */
export interface ModelCache {
  match(url: string): Promise<FetchResponse | undefined>;
  put(url: string, response: FetchResponse): Promise<void>;
}

/** `Response` where the environment declares it (DOM or node types), a plain object otherwise. */
export type FetchResponse = typeof globalThis extends { Response: { prototype: infer R } } ? R : object;

/** Options of `predictor.update()`. */
export interface UpdateOptions {
  /**
   * Subresource-integrity hash of the new model (see {@link PredictorOptions.integrity}); the
   * old model's `integrity` never applies to the new one.
   */
  integrity?: string;
}

/** Options of a predictor on the calling thread (`worker` absent or false). */
export type MainThreadOptions = PredictorOptions & { worker?: false };

/**
 * Options of a predictor in a worker: `persist` cannot be a custom storage object there, nor
 * `cache` a custom cache (objects with methods cannot cross to the worker): a type error.
 */
export type WorkerOptions = Omit<PredictorOptions, 'worker' | 'persist' | 'cache'> & { worker: true; persist?: PersistMode; cache?: boolean | string };

/** One event of a user's sequence. */
export interface HunchEvent {
  /** The action, as named in the model's vocabulary (e.g. a page path). Unknown actions count as `<unk>`. */
  action: string;
  /** Event type (e.g. `'view'`, `'click'`); absent = `<none>`. */
  type?: string;
  /** When it happened: ms since the epoch (`Date.now()`) or a Date. Absent = now. */
  time?: number | Date;
  /**
   * What describes the action, for a model trained with attribute columns (`info.attributes`,
   * e.g. `{category: 'shoes', price: 49.9}`): a product the model has never seen still gets its
   * category's signal. Absent, or a column not given: the model's own values for a known action.
   * Keys the model does not read are ignored.
   */
  attributes?: Record<string, string | number>;
}

/** Options of `sequence.predict()`. */
export interface PredictOptions {
  /**
   * How many next actions to return (clamped to the vocabulary size minus one).
   * @defaultValue 10
   */
  k?: number;
}

export interface Prediction {
  /** The predicted next action. */
  action: string;
  /** Its probability (0…1) under the model. */
  probability: number;
}

export interface TypePrediction {
  type: string;
  probability: number;
}

/** One past event with the attention weight the model gave it for the current prediction. */
export interface Explanation {
  /** The action string pushed (also for actions unknown to the model); null when pushed before a restore of core-only bytes. */
  action: string | null;
  /** Whether the model knew the action (false: it was fed as `<unk>`). */
  known: boolean;
  type: string | null;
  /** Time in ms since the epoch, null when unknown. */
  time: number | null;
  /** Index of the event since the last reset (0 = first). */
  index: number;
  /** Attention weight, 0…1; weights of one explain() call sum to about 1. */
  weight: number;
}

export interface ExplainOptions {
  /**
   * At most this many events, highest weight first.
   * @defaultValue all events in the model's attention window
   */
  top?: number;
}

export interface SequenceStats {
  /** Events pushed since the last reset (including restored ones). */
  events: number;
  /** Of those pushed through this object, how many had an action unknown to the model. */
  unknownActions: number;
  /** How many had a type unknown to the model (mapped to `<none>`). */
  unknownTypes: number;
  /** How many had a time earlier than the previous event (clamped: gap 0). */
  clampedTimes: number;
  /** Events refused by validation (the sequence was left unchanged). */
  rejectedEvents: number;
  /** Bytes of wasm memory this sequence's state holds. */
  stateBytes: number;
  /** Where this sequence is persisted now: after a storage failure, `'memory'`. */
  persistence: 'indexeddb' | 'localStorage' | 'memory' | 'custom' | 'none';
  /**
   * Events carried over from a state of another model (a stored state after a model update, or
   * an open sequence across `predictor.update()`): the old state's last max(`window`, `copyWindow`) events,
   * replayed by action and type name into this model. 0 when nothing was carried.
   */
  carriedEvents: number;
  /**
   * Of the carried events, how many named an action or type this model does not know (fed as
   * `<unk>` / `<none>`), or were refused by it (left out).
   */
  carriedUnknown: number;
}

export interface MemoryStats {
  /** Bytes allocated in the wasm heap (models + sequences). */
  heapUsed: number;
  /** Size of the wasm linear memory, in bytes (never shrinks). */
  memoryBytes: number;
  /** Open models / sequences in this wasm instance. */
  models: number;
  sequences: number;
}

export interface ModelInfo {
  architecture: string;
  /** Attention window W: how many past events explain() can weigh. */
  window: number;
  /**
   * Copy window Wc: how many past events the model's count-like terms read (a repeat of a product
   * viewed that many events ago still counts). Equal to `window` in models without it; it may be
   * larger (`hunch train --copy-window`). A sequence keeps the names of its last
   * max(window, copyWindow) events, what a model update replays.
   */
  copyWindow: number;
  /** CRC-32 of the model file: states saved for another model are refused. */
  checksum: number;
  /** Action vocabulary, id order (index 0 is `<unk>`). */
  actions: readonly string[];
  /** Event types, id order (index 0 is `<none>`). */
  types: readonly string[];
  /**
   * The event types the model's conversion head predicts (e.g. `['purchase']`): a sequence's
   * `conversionProbability()` is the probability that one of them follows in this session.
   * Empty when the model has no conversion head (then `conversionProbability()` is always null).
   */
  goalTypes: readonly string[];
  /** The attribute columns the model reads from `event.attributes` (e.g. `['category', 'price']`); empty without. */
  attributes: readonly string[];
  /** The model file's metadata (vocabularies left out). */
  metadata: Record<string, unknown>;
  /**
   * What the weights promise the users they were trained on: `(epsilon, delta)`-differential
   * privacy per user (`hunch train --dp-epsilon`), with the noise multiplier, clip norm, sampling
   * rate and steps of its DP-SGD; null for a model trained without it. Covers the training users,
   * not this visitor's own events (which never leave the page). Where the count-based start's
   * counts were released under DP too (`--dp-count-share`), `countRelease` gives that release's
   * share of ε, its own ε, noise multiplier and clip norm, and `sgdEpsilon` the DP-SGD steps' own
   * ε (the two compose to `epsilon`, less than their sum); both null otherwise.
   */
  privacy: Readonly<{
    epsilon: number; delta: number; noiseMultiplier: number; clip: number; sampleRate: number; steps: number;
    sgdEpsilon: number | null;
    countRelease: Readonly<{ share: number; epsilon: number; noiseMultiplier: number; clip: number }> | null;
  }> | null;
  /** Kernel set running the model (e.g. `wasm-simd128`). */
  kernels: string;
  /** Version of the hunch core. */
  coreVersion: string;
}

/**
 * @internal The defaults the SDK fills in for absent {@link PredictorOptions} fields, in one
 * place (each is documented with its field above).
 */
export const DEFAULTS = {
  storageKey: 'hunch',
  maxEventStringLength: 512,
  unknownType: 'none',
  maxFutureMs: 86_400_000,
  onWarning: (message: string): void => console.warn(message),
} as const satisfies Required<Pick<PredictorOptions, 'storageKey' | 'maxEventStringLength' | 'unknownType' | 'maxFutureMs' | 'onWarning'>>;
