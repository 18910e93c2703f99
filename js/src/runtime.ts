// The wasm runtime: one compiled module and one instance per wasm source, shared by every
// Predictor of the page, so a second model costs its weights, not another 4 MiB memory.
// An instance that trapped is dropped from the cache: the next Predictor gets a fresh one.
import type { RawModule } from './hunch.mjs';
import { HunchEnvironmentError } from './errors.js';
import { isNode, readUrl, resolveUrl, simdSupported, toBytes } from './env.js';
import type { MemoryStats, PredictorOptions } from './options.js';

/** @internal */
export interface Runtime {
  raw: RawModule;
  models: number;
  sequences: number;
  broken: boolean;
  key: unknown;
}

const byKey = new Map<unknown, Promise<Runtime>>();
let warnSink: (m: string) => void = (m) => console.warn(m);
let last: Runtime | undefined;

type WasmOptions = Pick<PredictorOptions, 'wasmUrl' | 'locateFile' | 'wasmBinary' | 'wasmModule'>;

/** @internal */
export function wasmKey(o: WasmOptions): unknown {
  if (o.wasmModule) return o.wasmModule;
  if (o.wasmBinary) return o.wasmBinary;
  try {
    return wasmUrl(o).href;
  } catch {
    return 'hunch.wasm'; // a default location a bundler made unparsable (node resolves the package file)
  }
}

/** @internal */
export function wasmUrl(o: WasmOptions): URL {
  if (o.wasmUrl) return resolveUrl(o.wasmUrl);
  if (o.locateFile) return resolveUrl(o.locateFile('hunch.wasm'));
  return new URL('./hunch.wasm', import.meta.url);
}

/** @internal */
export function getRuntime(o: WasmOptions): Promise<Runtime> {
  const key = wasmKey(o);
  let p = byKey.get(key);
  if (!p) {
    p = create(o, key);
    byKey.set(key, p);
    p.catch(() => byKey.delete(key));
  }
  return p;
}

async function compile(o: WasmOptions): Promise<WebAssembly.Module> {
  if (o.wasmModule) return o.wasmModule;
  let bytes: Uint8Array;
  let from = 'wasmBinary';
  if (o.wasmBinary) bytes = toBytes(o.wasmBinary, 'wasmBinary');
  else {
    const url = o.wasmUrl || o.locateFile || !isNode() ? wasmUrl(o) : await (await import('./node-wasm.js')).nodeWasmUrl();
    // Over http(s), compile while the bytes arrive. A server that sends another MIME type than
    // application/wasm (or an error page) makes compileStreaming throw: the bytes path below
    // then says why, from the (usually cached) response.
    if (url.protocol !== 'file:' && typeof WebAssembly.compileStreaming === 'function' && typeof fetch === 'function') {
      try {
        return await WebAssembly.compileStreaming(fetch(url));
      } catch {
        // fall through
      }
    }
    from = url.href;
    const r = await readUrl(url);
    if (!r.ok)
      throw new HunchEnvironmentError(
        `could not load hunch.wasm from ${url.href}: ${r.why} (serve it beside the SDK, or set the wasmUrl option)`,
      );
    bytes = r.bytes;
  }
  try {
    return await WebAssembly.compile(bytes as BufferSource);
  } catch (e) {
    // The usual deploy accident: the server answers the .wasm URL with its HTML page.
    const html = bytes[0] === 0x3c ? ' (it is text starting with "<": an HTML page, not hunch.wasm)' : '';
    throw new HunchEnvironmentError(`hunch.wasm from ${from} does not compile${html}: ${(e as Error).message}`);
  }
}

async function create(o: WasmOptions, key: unknown): Promise<Runtime> {
  if (typeof WebAssembly !== 'object') throw new HunchEnvironmentError('this JavaScript environment has no WebAssembly');
  if (!simdSupported())
    throw new HunchEnvironmentError(
      'this browser runs WebAssembly without SIMD (128-bit), which hunch needs: ' +
        'Chrome/Edge 91+, Firefox 89+, Safari 16.4+, node 16.4+',
    );
  const [module, { default: factory }] = await Promise.all([compile(o), import('./hunch.mjs')]);
  let fail!: (e: unknown) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  // The module is built for web/worker only (CMakeLists.txt); under node it runs the same
  // loader because the wasm is always handed over here, never fetched by Emscripten.
  const ready: Promise<RawModule> = factory({
    instantiateWasm(imports, receive) {
      WebAssembly.instantiate(module, imports as WebAssembly.Imports).then((inst) => receive(inst, module), fail);
      return {};
    },
    print: (t) => warnSink(t),
    printErr: (t) => warnSink(t),
  });
  let raw: RawModule;
  try {
    raw = await Promise.race([ready, failed]);
  } catch (e) {
    throw new HunchEnvironmentError(`hunch.wasm failed to start: ${(e as Error)?.message ?? e}`);
  }
  return (last = { raw, models: 0, sequences: 0, broken: false, key });
}

/** Runs a call into wasm; a trap marks the instance broken so later predictors start afresh. */
/** @internal */
export function guard<T>(rt: Runtime, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) {
      rt.broken = true;
      if (byKey.get(rt.key)) byKey.delete(rt.key);
    }
    throw e;
  }
}

/** @internal */
export function setWarnSink(f: (m: string) => void): void {
  warnSink = f;
}

/** @internal */
export function statsOf(rt: Runtime): MemoryStats {
  return { heapUsed: rt.raw.heapUsed(), memoryBytes: rt.raw.memoryBytes(), models: rt.models, sequences: rt.sequences };
}

/**
 * Memory of the most recently started wasm instance (main thread), or null before any
 * Predictor was created. For leak checks: `heapUsed` returns to its level after close().
 */
export function memoryStats(): MemoryStats | null {
  return last ? statsOf(last) : null;
}
