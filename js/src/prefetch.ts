// Prefetch helper: fetches ahead the pages the user will most likely open next, and never one
// that could change state. A prefetch is a GET sent with the visitor's cookies because a model
// found it likely: `/logout`, `/cart/remove?id=…`, `/unsubscribe` must never be fetched, so URLs
// that look state-changing (and any URL with a query string) are skipped unless `allow`ed.
//
// Mechanism: Speculation Rules where the browser supports them (prefetch above `threshold`;
// prerender, which runs the page's scripts, only for `allow`-listed URLs above
// `prerenderThreshold`), `<link rel="prefetch">` elsewhere. Nothing on Save-Data or a 2G
// connection. Inline speculation rules need `script-src 'inline-speculation-rules'` (or `nonce`).
import type { Prediction } from './options.js';

/** A URL pattern: a RegExp tested on path + query, or a string equal to it (a trailing `*` matches any rest). */
export type UrlPattern = RegExp | string;

/** Options of {@link prefetch}. */
export interface PrefetchOptions {
  /**
   * Only actions at least this likely (0…1) are prefetched.
   * @defaultValue 0.3
   */
  threshold?: number;
  /**
   * Prefetch the `max` most likely actions that pass the filters (links already in the page count).
   * @defaultValue 2
   */
  max?: number;
  /**
   * Maps an action to the URL to prefetch, or null to skip it.
   * @defaultValue actions that look like a path (`/…`) or an http(s) URL, taken as they are; routes
   * with a placeholder segment (`/p/:id`) are skipped as `not-a-url` (map them yourself to prefetch)
   */
  toUrl?: (action: string) => string | null;
  /**
   * Allow URLs of another origin.
   * @defaultValue false
   */
  crossOrigin?: boolean;
  /**
   * URLs never to fetch, besides the default exclusion ({@link looksStateChanging}): patterns,
   * or a function of the URL returning true to skip it.
   * @defaultValue none
   */
  exclude?: readonly UrlPattern[] | ((url: URL) => boolean);
  /**
   * URLs that may be fetched although they have a query string or look state-changing, and the
   * only URLs that may be prerendered. `exclude` still wins.
   * @defaultValue none
   */
  allow?: readonly UrlPattern[];
  /**
   * Speculation Rules: prerender (which runs the page's scripts) `allow`-listed URLs at least this
   * likely; the others are prefetched. Above 1: never prerender.
   * @defaultValue 0.6
   */
  prerenderThreshold?: number;
  /**
   * `'auto'`: Speculation Rules where supported (`HTMLScriptElement.supports('speculationrules')`),
   * else `<link rel="prefetch">`; `'link'`: links only.
   * @defaultValue 'auto'
   */
  mechanism?: 'auto' | 'link';
  /**
   * Nonce for the speculation rules `<script>` (a CSP with nonces); otherwise the CSP needs
   * `script-src 'inline-speculation-rules'`.
   * @defaultValue undefined
   */
  nonce?: string;
  /** Receives what this call did (also for calls that did nothing). */
  onReport?: (report: PrefetchReport) => void;
  /**
   * The document to add links to.
   * @defaultValue `globalThis.document`
   */
  document?: Document;
}

/** What one {@link prefetch} call did. */
export interface PrefetchReport {
  /** How: Speculation Rules, `<link rel=prefetch>`, or nothing (see `reason`). */
  mechanism: 'speculationrules' | 'link' | 'none';
  /** Why nothing was fetched at all: no document, Save-Data, a slow (2G) connection. */
  reason?: 'no-document' | 'save-data' | 'slow-connection';
  /** URLs newly prefetched by this call. */
  prefetched: string[];
  /** URLs newly prerendered by this call (Speculation Rules only). */
  prerendered: string[];
  /** Candidates above the threshold that were not fetched, and why. */
  skipped: { url: string; reason: 'current-page' | 'excluded' | 'state-changing' | 'query-string' | 'cross-origin' | 'not-a-url' }[];
}

interface Predicts {
  predict(o?: { k?: number }): Prediction[] | Promise<Prediction[]>;
}

// A route with a placeholder segment (`/p/:id`, what `hunch train` makes of `/p/83472`) names
// many pages, not one: fetched as written it would be a 404 or the wrong page.
const asUrl = (a: string): string | null => (/^(\/(?!\/)|https?:\/\/)/.test(a) && !/\/:/.test(a) ? a : null);

// Path segments that name an action rather than a page: sign-out, deletion, unsubscription,
// cart and checkout steps, payment. Matched as whole words of the path (separated by / - _ .).
const STATE_CHANGING =
  /(?:^|[/_.-])(?:log-?out|log-?off|sign-?out|sign-?off|delete|remove|destroy|erase|unsubscribe|opt-?out|deactivate|cancel|add-?to-?cart|add|empty|clear|checkout|pay|payment|purchase|buy|order|confirm|subscribe|vote|like|follow|reset)(?:[/_.-]|$)/i;

/** Whether `url` looks like it changes state when fetched (the default exclusion of {@link prefetch}). */
export function looksStateChanging(url: URL): boolean {
  return STATE_CHANGING.test(url.pathname);
}

function matches(url: URL, patterns: readonly UrlPattern[] | undefined): boolean {
  const s = url.pathname + url.search;
  return !!patterns?.some((p) => (typeof p === 'string' ? (p.endsWith('*') ? s.startsWith(p.slice(0, -1)) : s === p) : p.test(s)));
}

// URLs this module put into each document's speculation rules (scripts cannot be searched like links).
const speculated = new WeakMap<object, Set<string>>();

/**
 * Fetches ahead the predicted next actions of `sequence` above `threshold` that look like URLs,
 * skipping the current page, state-changing-looking URLs and URLs with a query string unless `allow`ed, and
 * anything `exclude`d. Does nothing when the user asked to save data or is on a 2G connection.
 * Resolves to the URLs added (prefetched or prerendered).
 */
export async function prefetch(sequence: Predicts, options: PrefetchOptions = {}): Promise<string[]> {
  const doc = options.document ?? (globalThis as any).document;
  const conn = (globalThis as any).navigator?.connection;
  const report: PrefetchReport = { mechanism: 'none', prefetched: [], prerendered: [], skipped: [] };
  const done = () => {
    options.onReport?.(report);
    return [...report.prefetched, ...report.prerendered];
  };
  report.reason = !doc ? 'no-document' : conn?.saveData ? 'save-data' : /(^|-)2g$/.test(conn?.effectiveType ?? '') ? 'slow-connection' : undefined;
  if (report.reason) return done();
  const max = options.max ?? 2;
  const threshold = options.threshold ?? 0.3;
  const toUrl = options.toUrl ?? asUrl;
  const { exclude, allow } = options;
  const view = doc.defaultView ?? globalThis;
  const rules = options.mechanism !== 'link' && !!view.HTMLScriptElement?.supports?.('speculationrules');
  report.mechanism = rules ? 'speculationrules' : 'link';
  const seen = speculated.get(doc) ?? new Set<string>();
  speculated.set(doc, seen);
  const spec: { prefetch: string[]; prerender: string[] } = { prefetch: [], prerender: [] };
  let taken = 0; // URLs for the top candidates, including those already in the page
  const top = await sequence.predict({ k: Math.max(max, 1) * 4 });
  for (const p of top) {
    if (taken >= max || p.probability < threshold) break;
    const raw = toUrl(p.action);
    let url: URL | null = null;
    try {
      url = raw ? new URL(raw, doc.baseURI) : null;
    } catch {
      // not a URL: skipped below
    }
    if (!url || !/^https?:$/.test(url.protocol)) {
      report.skipped.push({ url: raw ?? p.action, reason: 'not-a-url' });
      continue;
    }
    const href = url.href;
    const allowed = matches(url, allow);
    const here = doc.location ? new URL(doc.location.href) : null;
    const why =
      // The likeliest next "action" is often the page itself (a click, an add to cart on it).
      here && here.origin + here.pathname + here.search === url.origin + url.pathname + url.search ? 'current-page'
      : !options.crossOrigin && here && url.origin !== here.origin ? 'cross-origin'
      : (typeof exclude === 'function' ? exclude(url) : matches(url, exclude)) ? 'excluded'
      : allowed ? null
      : looksStateChanging(url) ? 'state-changing'
      : url.search ? 'query-string'
      : null;
    if (why) {
      report.skipped.push({ url: href, reason: why });
      continue;
    }
    taken++;
    if (seen.has(href) || [...doc.querySelectorAll('link[rel="prefetch"]')].some((l: any) => l.href === href)) continue;
    if (!rules) {
      const link = doc.createElement('link');
      link.rel = 'prefetch';
      link.href = href;
      link.setAttribute('data-hunch', '');
      doc.head.appendChild(link);
      report.prefetched.push(href);
      continue;
    }
    seen.add(href);
    if (allowed && p.probability >= (options.prerenderThreshold ?? 0.6)) spec.prerender.push(href), report.prerendered.push(href);
    else spec.prefetch.push(href), report.prefetched.push(href);
  }
  if (spec.prefetch.length || spec.prerender.length) {
    const script = doc.createElement('script');
    script.type = 'speculationrules';
    if (options.nonce) script.nonce = options.nonce;
    script.setAttribute('data-hunch', '');
    const json: Record<string, unknown> = {};
    for (const k of ['prefetch', 'prerender'] as const) if (spec[k].length) json[k] = [{ source: 'list', urls: spec[k], eagerness: 'immediate' }];
    script.textContent = JSON.stringify(json);
    doc.head.appendChild(script);
  }
  return done();
}
