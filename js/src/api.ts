// The shape of the SDK's objects, written once: the main-thread classes (predictor.ts) implement
// these interfaces, their worker-mode mirrors (worker-client.ts) implement the Async form, and
// the worker (worker.ts) lets the other side call exactly the methods named here.
import type {
  Explanation, ExplainOptions, HunchEvent, MemoryStats, ModelInfo, PredictOptions, Prediction, SequenceStats,
  TypePrediction, UpdateOptions, UrlLike,
} from './options.js';

/** One user's events over a model: what `Sequence` does on the calling thread. */
export interface SequenceApi {
  /** The persistence key, or null for an anonymous sequence. */
  readonly key: string | null;
  readonly closed: boolean;
  push(events: HunchEvent | readonly HunchEvent[]): void;
  predict(options?: PredictOptions): Prediction[];
  nextType(): TypePrediction[];
  exitProbability(): number | null;
  conversionProbability(): number | null;
  explain(options?: ExplainOptions): Explanation[];
  reset(): void;
  save(): Uint8Array;
  restore(bytes: Uint8Array | ArrayBuffer): void;
  stats(): SequenceStats;
  forget(): Promise<void>;
  close(): void;
}

/**
 * A loaded model: what `Predictor` does on the calling thread. `sequence()` is left out: the
 * worker-mode mirror hands out its sequence at once, not as a promise.
 */
export interface PredictorApi {
  readonly info: ModelInfo;
  readonly closed: boolean;
  setConsent(consent: boolean): Promise<void>;
  forget(): Promise<void>;
  flush(): Promise<void>;
  /** Swaps in another model, carrying every open sequence over by name; resolves to the new info. */
  update(model: Uint8Array | ArrayBuffer | UrlLike, options?: UpdateOptions): Promise<ModelInfo>;
  memoryStats(): MemoryStats;
  close(): void;
}

/** T with every method returning a promise of what it returns (properties unchanged): the worker-mode form. */
export type Async<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : T[K];
};

/** The names of T's methods. */
export type MethodOf<T> = { [K in keyof T]-?: T[K] extends (...args: never[]) => unknown ? K : never }[keyof T];

/** The parameters of T's method K. */
export type ArgsOf<T, K extends keyof T> = T[K] extends (...args: infer A) => unknown ? A : never;

/** The methods of T that the list L does not name: `never` when L names them all. */
export type Unlisted<T, L extends readonly unknown[]> = Exclude<MethodOf<T>, L[number]>;
