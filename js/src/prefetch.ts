// Prefetch helper: <link rel="prefetch"> for the pages the user will most likely open next.
import type { Prediction } from './options.js';

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
   * @defaultValue actions that look like a path (`/…`) or an http(s) URL, taken as they are
   */
  toUrl?: (action: string) => string | null;
  /**
   * Allow URLs of another origin.
   * @defaultValue false
   */
  crossOrigin?: boolean;
  /**
   * The document to add links to.
   * @defaultValue `globalThis.document`
   */
  document?: Document;
}

interface Predicts {
  predict(o?: { k?: number }): Prediction[] | Promise<Prediction[]>;
}

const asUrl = (a: string): string | null => (/^(\/(?!\/)|https?:\/\/)/.test(a) ? a : null);

/**
 * Adds `<link rel="prefetch">` for the predicted next actions of `sequence` above `threshold`
 * that look like URLs; does nothing when the user asked to save data
 * (`navigator.connection.saveData`) or there is no document. Resolves to the URLs added.
 */
export async function prefetch(sequence: Predicts, options: PrefetchOptions = {}): Promise<string[]> {
  const doc = options.document ?? (globalThis as any).document;
  if (!doc || (globalThis as any).navigator?.connection?.saveData) return [];
  const max = options.max ?? 2;
  const threshold = options.threshold ?? 0.3;
  const toUrl = options.toUrl ?? asUrl;
  const added: string[] = [];
  let taken = 0; // links for the top candidates, including those already in the page
  const top = await sequence.predict({ k: Math.max(max, 1) * 4 });
  for (const p of top) {
    if (taken >= max || p.probability < threshold) break;
    const raw = toUrl(p.action);
    if (!raw) continue;
    let url: URL;
    try {
      url = new URL(raw, doc.baseURI);
    } catch {
      continue;
    }
    if (!/^https?:$/.test(url.protocol)) continue;
    if (!options.crossOrigin && doc.location && url.origin !== new URL(doc.location.href).origin) continue;
    const href = url.href;
    taken++;
    if ([...doc.querySelectorAll('link[rel="prefetch"]')].some((l: any) => l.href === href)) continue;
    const link = doc.createElement('link');
    link.rel = 'prefetch';
    link.href = href;
    link.setAttribute('data-hunch', '');
    doc.head.appendChild(link);
    added.push(href);
  }
  return added;
}
