// Auto-tracking helper: page views and clicks on [data-hunch-action] become events.
import type { HunchEvent } from './options.js';

/** Options of {@link autoTrack}. */
export interface AutoTrackOptions {
  /**
   * Push a page view now and on each history navigation (popstate, and the Navigation API where
   * the browser has it).
   * @defaultValue true
   */
  pageViews?: boolean;
  /**
   * Push clicks on elements with a `data-hunch-action` attribute (type from `data-hunch-type`,
   * else `clickType`).
   * @defaultValue true
   */
  clicks?: boolean;
  /**
   * The action of a page view.
   * @defaultValue `location.pathname`
   */
  pageAction?: (location: Location) => string;
  /** @defaultValue 'view' */
  pageViewType?: string;
  /** @defaultValue 'click' */
  clickType?: string;
  /**
   * Where clicks are listened to.
   * @defaultValue `globalThis.document`
   */
  root?: Document | Element;
  /**
   * The window whose navigations are tracked.
   * @defaultValue `globalThis.window`
   */
  window?: Window;
  /**
   * Receives events the sequence refused (tracking never throws into the page).
   * @defaultValue `console.warn`
   */
  onError?: (error: unknown) => void;
}

interface Pushes {
  push(e: HunchEvent): void | Promise<void>;
}

/** Starts tracking into `sequence`; returns a function that stops it. */
export function autoTrack(sequence: Pushes, options: AutoTrackOptions = {}): () => void {
  const g = globalThis as any;
  const win: any = options.window ?? g.window;
  const root: any = options.root ?? g.document;
  const onError = options.onError ?? ((e: unknown) => console.warn('hunch: event not tracked:', e));
  const push = (e: HunchEvent) => {
    try {
      const r = sequence.push(e);
      if (r && typeof (r as Promise<void>).catch === 'function') (r as Promise<void>).catch(onError);
    } catch (err) {
      onError(err);
    }
  };
  const stops: (() => void)[] = [];
  const listen = (target: any, type: string, f: (e: any) => void) => {
    if (!target?.addEventListener) return;
    target.addEventListener(type, f, true);
    stops.push(() => target.removeEventListener(type, f, true));
  };
  if (options.pageViews !== false && win?.location) {
    const action = options.pageAction ?? ((l: Location) => l.pathname);
    const type = options.pageViewType ?? 'view';
    let last = '';
    const view = () => {
      const a = action(win.location);
      if (a === last) return; // hash-only navigations are not new pages
      last = a;
      push({ action: a, type });
    };
    view();
    listen(win, 'popstate', view);
    // Navigation API: also sees pushState navigations of SPA routers; fires before the URL changes.
    listen(win.navigation, 'navigatesuccess', view);
  }
  if (options.clicks !== false && root) {
    const type = options.clickType ?? 'click';
    listen(root, 'click', (e) => {
      const el = e.target?.closest?.('[data-hunch-action]');
      const action = el?.getAttribute('data-hunch-action');
      if (action) push({ action, type: el.getAttribute('data-hunch-type') || type });
    });
  }
  return () => stops.splice(0).forEach((f) => f());
}
