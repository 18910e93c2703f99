// Model loading for production, loaded only when `integrity` or `cache` is set: the
// subresource-integrity check (WebCrypto) and the Cache API copy of the model with revalidation.
//
// Interplay with HTTP caching: the revalidation request carries its own If-None-Match /
// If-Modified-Since, which makes the browser bypass its HTTP cache for it (fetch standard: a
// request with author conditional headers is sent with cache mode "no-store"), so the server's
// 304 or 200 decides, whatever Cache-Control the model is served with. Without validators
// (no ETag, no Last-Modified) every load downloads the model again, and the Cache API copy only
// serves when the network fails.
import { HunchModelError } from './errors.js';
import { readUrl } from './env.js';
import type { ModelCache, PredictorOptions } from './options.js';

const ALGOS: Record<string, string> = { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };

function base64(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; ++i) s += String.fromCharCode(b[i]);
  return btoa(s);
}

async function matches(bytes: Uint8Array, integrity: string): Promise<boolean | string> {
  const subtle = (globalThis as any).crypto?.subtle;
  // Several hashes (space-separated, as in SRI): any one that matches accepts the bytes.
  const wanted = integrity.trim().split(/\s+/);
  let digest = '';
  for (const w of wanted) {
    const m = /^(sha256|sha384|sha512)-([A-Za-z0-9+/_-]+={0,2})$/.exec(w);
    if (!m) throw new TypeError(`integrity must look like 'sha256-<base64>' (or sha384-, sha512-), got '${w.slice(0, 80)}'`);
    if (!subtle) throw new HunchModelError('integrity needs WebCrypto (crypto.subtle), which is missing here (a page served over plain http from another host than localhost?)');
    digest = base64(new Uint8Array(await subtle.digest(ALGOS[m[1]], bytes)));
    if (digest === m[2].replace(/-/g, '+').replace(/_/g, '/')) return true;
  }
  return digest;
}

/** Throws HunchModelError unless `bytes` hash to one of `integrity`'s values. */
export async function checkIntegrity(bytes: Uint8Array, integrity: string, what: string): Promise<void> {
  const r = await matches(bytes, integrity);
  if (r !== true)
    throw new HunchModelError(`${what}: integrity mismatch: expected ${integrity.trim()}, the ${bytes.length} bytes hash to ${integrity.trim().split('-')[0]}-${r}`);
}

async function openCache(c: NonNullable<PredictorOptions['cache']>): Promise<ModelCache | null> {
  if (typeof c === 'object') return c;
  const caches = (globalThis as any).caches;
  if (!caches) return null;
  try {
    return await caches.open(typeof c === 'string' ? c : 'hunch-models');
  } catch {
    return null; // storage blocked (private mode, opaque origin): load without the cache
  }
}

/**
 * The model's bytes from `url`, through the cache: a stored copy is revalidated with its
 * validators (a 304 reuses it), a new 200 replaces it, a network failure falls back to it. A
 * stored copy failing `integrity` (the site shipped a new model and hash) is fetched anew.
 */
export async function cachedModel(url: URL, o: PredictorOptions): Promise<Uint8Array> {
  const cache = await openCache(o.cache!);
  const fail = (why: string) => new HunchModelError(`could not fetch the model at ${url.href}: ${why}`);
  if (!cache) {
    const r = await readUrl(url, o.fetchInit);
    if (!r.ok) throw fail(r.why);
    return r.bytes;
  }
  const key = url.href;
  let stored: Uint8Array | null = null;
  const headers = new Headers(o.fetchInit?.headers);
  try {
    const hit: any = await cache.match(key);
    if (hit) {
      stored = new Uint8Array(await hit.arrayBuffer());
      if (o.integrity && (await matches(stored, o.integrity)) !== true) stored = null;
      else {
        const etag = hit.headers.get('ETag');
        const modified = hit.headers.get('Last-Modified');
        if (etag) headers.set('If-None-Match', etag);
        if (modified) headers.set('If-Modified-Since', modified);
      }
    }
  } catch {
    stored = null; // an unreadable cache entry is refetched
  }
  let res: Response;
  try {
    res = await fetch(url, { ...o.fetchInit, headers: stored ? headers : o.fetchInit?.headers });
  } catch (e) {
    if (stored) return stored; // offline: the cached copy serves
    throw fail((e as Error)?.message ?? String(e));
  }
  if (res.status === 304 && stored) return stored;
  if (!res.ok) {
    if (stored && res.status >= 500) return stored;
    throw fail(`HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}`);
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  // Cached only once it passes integrity; validators kept so the next load can revalidate.
  if (!o.integrity || (await matches(bytes, o.integrity)) === true) {
    const keep = new Headers();
    for (const h of ['ETag', 'Last-Modified', 'Content-Type']) {
      const v = res.headers.get(h);
      if (v) keep.set(h, v);
    }
    try {
      await cache.put(key, new Response(bytes as BodyInit, { status: 200, headers: keep }) as any);
    } catch {
      // quota or blocked storage: the model still loads, only the next visit downloads again
    }
  }
  return bytes;
}
