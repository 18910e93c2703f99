// Environment probes, all lazy: importing the SDK touches no browser or node global (SSR-safe).

const g = globalThis as any;

/** @internal */
export const isNode = (): boolean => typeof g.process === 'object' && typeof g.process.versions?.node === 'string';

// A node built-in, imported through a computed specifier so that browser bundlers neither try
// to resolve it nor warn about it.
/** @internal */
export function nodeImport(name: string): Promise<any> {
  const spec = 'node:' + name;
  return import(/* @vite-ignore */ /* webpackIgnore: true */ spec);
}

// Base for relative URLs: the page in a browser or worker, the working directory in node.
/** @internal */
export function baseUrl(): string {
  if (g.document?.baseURI) return g.document.baseURI;
  if (g.location?.href) return g.location.href;
  if (isNode()) return 'file://' + g.process.cwd().replace(/\\/g, '/').replace(/\/?$/, '/');
  return import.meta.url;
}

/** @internal */
export function resolveUrl(url: string | URL): URL {
  return new URL(String(url), baseUrl());
}

// Reads a URL to bytes; file: URLs through node's fs (node's fetch refuses them).
/** @internal */
export async function readUrl(url: URL, init?: RequestInit): Promise<{ ok: true; bytes: Uint8Array } | { ok: false; why: string }> {
  try {
    if (url.protocol === 'file:') {
      const fs = await nodeImport('fs/promises');
      return { ok: true, bytes: new Uint8Array(await fs.readFile(url)) };
    }
    const res = await fetch(url, init);
    if (!res.ok) return { ok: false, why: `HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}` };
    return { ok: true, bytes: new Uint8Array(await res.arrayBuffer()) };
  } catch (e) {
    return { ok: false, why: (e as Error)?.message ?? String(e) };
  }
}

// (func (result v128) i32.const 0 i32x4.splat): valid only where WebAssembly SIMD is.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 8, 1, 6, 0, 65, 0, 253, 17, 11]);

/** Whether this JavaScript engine runs WebAssembly with 128-bit SIMD, which hunch needs. */
export function simdSupported(): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

/** @internal */
export function toBytes(b: unknown, what: string): Uint8Array {
  if (b instanceof Uint8Array) return b;
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  throw new TypeError(`${what} must be a Uint8Array or an ArrayBuffer`);
}
