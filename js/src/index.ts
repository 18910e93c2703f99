// The public entry of the `hunch` package. Importing it touches no browser or node global and
// loads no wasm: that happens in Predictor.fromUrl / fromBytes.
export { Predictor, Sequence } from './predictor.js';
export type { AsyncPredictor, AsyncSequence } from './worker-client.js';
export {
  HunchError, HunchModelError, HunchEventError, HunchStateError, HunchClosedError, HunchEnvironmentError,
  type HunchEventField, type HunchErrorName,
} from './errors.js';
export type {
  PredictorOptions, PersistMode, PersistStorage, HunchEvent, PredictOptions, Prediction, TypePrediction, Explanation,
  ExplainOptions, SequenceStats, MemoryStats, ModelInfo, UpdateOptions, ModelCache, FetchResponse, MainThreadOptions, WorkerOptions, WasmModule, FetchInit, UrlLike,
} from './options.js';
export type { AnyPredictor } from './predictor.js';
export { memoryStats } from './runtime.js';
export { simdSupported } from './env.js';
