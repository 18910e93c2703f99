// Hand-written types of the raw Embind module (build/…/hunch.mjs, from wasm/bindings.cpp).
// Internal to the SDK: users never touch these handles; the TypeScript classes own and delete()
// them. Keep in step with the EMSCRIPTEN_BINDINGS block of wasm/bindings.cpp.

export interface RawHandle {
  delete(): void;
  isDeleted(): boolean;
}

export interface RawModel extends RawHandle {
  load(bytes: Uint8Array): boolean;
  loaded(): boolean;
  lastError(): string;
  vocabSize(): number;
  typeCount(): number;
  window(): number;
  copyWindow(): number;
  checksum(): number;
  architecture(): string;
  /** UTF-8 names joined with NUL. */
  actionNames(): Uint8Array;
  typeNames(): Uint8Array;
  /** Name to id through the core's hash map; 0 = unknown. */
  actionId(name: string): number;
  actionName(id: number): string;
  typeId(name: string): number;
  metadataJson(): string;
  /** The conversion head's goal type names, UTF-8 joined with NUL; empty without the head. */
  goalTypes(): Uint8Array;
  attributeColumns(): Uint8Array;
}

/**
 * Kind of a RawSequence's last failure (hunch::error_code_name in core/src/error.cpp): the SDK
 * branches on it, never on lastError()'s wording.
 */
export type RawErrorCode = 'ok' | 'generic' | 'state_for_other_model';

export interface RawSequence extends RawHandle {
  push(actionId: number, typeId: number, timeSeconds: number): boolean;
  pushWithAttributes(actionId: number, typeId: number, timeSeconds: number, values: string): boolean;
  reset(): void;
  lastError(): string;
  lastErrorCode(): RawErrorCode;
  length(): number;
  lastTime(): number;
  stateBytes(): number;
  predict(k: number): number;
  topIds(): Uint32Array;
  topProbs(): Float32Array;
  typeProbs(): Float32Array;
  exitProbability(): number;
  /** NaN when the model has no conversion head. */
  conversionProbability(): number;
  attentionIndex(): Float64Array;
  attentionWeights(): Float32Array;
  save(): Uint8Array;
  saveEncoded(encoding: number): Uint8Array;
  restore(bytes: Uint8Array): boolean;
}

export interface RawModule {
  Model: new () => RawModel;
  Sequence: new (model: RawModel) => RawSequence;
  heapUsed(): number;
  memoryBytes(): number;
  version(): string;
  kernels(): string;
}

export interface RawModuleOptions {
  wasmBinary?: ArrayBuffer | Uint8Array;
  instantiateWasm?: (
    // Loose types: this file must compile without the DOM lib (node-only TypeScript projects).
    imports: object,
    receive: (instance: object, module?: object) => void,
  ) => object | false;
  locateFile?: (path: string, scriptDirectory: string) => string;
  print?: (text: string) => void;
  printErr?: (text: string) => void;
}

declare function createHunchModule(options?: RawModuleOptions): Promise<RawModule>;
export default createHunchModule;
