// The e2e page (TypeScript, as in many apps; also keeps node's test runner, which runs every .js
// under test/, away from it): imports the packed `hunch` as any app would and exercises, under the server's
// strict CSP, the paths node cannot: fetch + compile in a page, worker mode, IndexedDB
// persistence across reloads, forget(), and prefetch links. `?phase=` picks the step (the test
// reloads between steps); results go into the DOM, which the test reads.
import { Predictor, simdSupported, type Prediction } from 'hunch';
import { autoTrack, prefetch } from 'hunch/dom';
import events from './events.json';

const MODEL = '/models/tiny.hunch';
const KEY = 'visitor';
const MISSING_WORKER = '/no-such-worker.js'; // answered 404 by the test's server
const WORKER_STORE = 'hunch-worker'; // storageKey of the predictor persisting from a worker
const q = new URLSearchParams(location.search);
const phase = q.get('phase') ?? 'run';
const facts: Record<string, any> = {};
const warnings: string[] = [];
const onWarning = (m: string) => void warnings.push(m);
const byId = (id: string) => document.getElementById(id)!;

byId('phase').textContent = phase;

function showTop(id: string, title: string, top: Prediction[]) {
  document.getElementById(id)?.parentElement?.remove();
  const section = document.createElement('section');
  const h = document.createElement('h2');
  h.textContent = title;
  const ol = document.createElement('ol');
  ol.id = id;
  for (const { action, probability } of top) {
    const li = document.createElement('li');
    li.dataset.action = action;
    // String(number) round-trips a double exactly: the test compares what the SDK returned.
    li.dataset.probability = String(probability);
    li.textContent = `${action}  ${probability.toFixed(6)}`;
    ol.append(li);
  }
  section.append(h, ol);
  byId('sections').append(section);
}

// Counts the stored states without creating the database when it is not there (opening a
// missing database would create it without the SDK's object store).
async function storedStates(): Promise<{ database: boolean; keys: string[] }> {
  const dbs = await indexedDB.databases();
  if (!dbs.some((d) => d.name === 'hunch')) return { database: false, keys: [] };
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const r = indexedDB.open('hunch');
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  try {
    if (!db.objectStoreNames.contains('states')) return { database: true, keys: [] };
    const keys = await new Promise<string[]>((resolve, reject) => {
      const r = db.transaction('states', 'readonly').objectStore('states').getAllKeys();
      r.onsuccess = () => resolve(r.result.map(String));
      r.onerror = () => reject(r.error);
    });
    return { database: true, keys };
  } finally {
    db.close();
  }
}

// Runs one part of a phase; its error is recorded under facts.errors[name] and shown.
async function part(name: string, f: () => Promise<void>): Promise<void> {
  try {
    await f();
  } catch (e) {
    (facts.errors ??= {})[name] = errorText(e);
  }
}

const errorText = (e: any) => `${e?.name}: ${e?.message}\n${e?.stack ?? ''}`;

const phases: Record<string, () => Promise<void>> = {
  async run() {
    facts.simd = simdSupported();

    // Main thread: fetch the model, compile the wasm, predict.
    const p = await Predictor.fromUrl(MODEL, { onWarning });
    facts.kernels = p.info.kernels;
    const s = p.sequence();
    s.push(events);
    facts.mainStats = s.stats();
    showTop('top-main', 'main thread', s.predict({ k: 10 }));

    // The parts below are independent: one failing must not hide how the others fare.
    await part('worker', async () => {
      // Worker mode: the same model and events in a module worker.
      const w = await Predictor.fromUrl(MODEL, { worker: true, onWarning });
      const ws = w.sequence();
      await ws.push(events);
      facts.workerEvents = (await ws.stats()).events;
      showTop('top-worker', 'worker', await ws.predict({ k: 10 }));
      await w.close();
    });

    await part('workerMissing', async () => {
      // A worker script that cannot load must reject with a typed error naming it, not hang.
      try {
        const w = await Predictor.fromUrl(MODEL, { worker: true, workerUrl: MISSING_WORKER, onWarning });
        await w.close();
        facts.workerMissing = 'started';
      } catch (e: any) {
        facts.workerMissing = { name: e.name, message: e.message };
      }
    });

    await part('prefetch', async () => {
      // hunch/dom prefetch: links for the likely next pages above the threshold the test chose.
      const threshold = Number(q.get('threshold'));
      facts.prefetched = await prefetch(s, { threshold, max: 5, mechanism: 'link' });
      facts.prefetchAgain = await prefetch(s, { threshold, max: 5, mechanism: 'link' }); // no duplicates
    });
    p.close();

    await part('persist', async () => {
      // Persistence: nothing stored before consent, stored in IndexedDB after it.
      const pp = await Predictor.fromUrl(MODEL, { persist: 'indexeddb', onWarning });
      const ps = pp.sequence(KEY);
      ps.push(events);
      await pp.flush();
      facts.beforeConsent = { stored: await storedStates(), persistence: ps.stats().persistence };
      await pp.setConsent(true);
      await pp.flush();
      facts.afterConsent = { stored: await storedStates(), persistence: ps.stats().persistence, events: ps.stats().events };
      showTop('top-persisted', 'persisted sequence, before reload', ps.predict({ k: 10 }));
      pp.close();
    });

    await part('workerPersist', async () => {
      // The worker's own IndexedDB: the first half of the events, restored in the next phase.
      const w = await Predictor.fromUrl(MODEL, { worker: true, persist: 'indexeddb', consent: true, storageKey: WORKER_STORE, onWarning });
      const ws = w.sequence(KEY);
      await ws.push(events.slice(0, 6));
      await w.flush();
      const st = await ws.stats();
      facts.workerPersisted = { events: st.events, persistence: st.persistence, stored: await storedStates() };
      await w.close();
    });
  },

  async restore() {
    await part('workerPersist', async () => {
      const w = await Predictor.fromUrl(MODEL, { worker: true, persist: 'indexeddb', consent: true, storageKey: WORKER_STORE, onWarning });
      const ws = w.sequence(KEY);
      const st = await ws.stats();
      facts.workerRestored = { events: st.events, persistence: st.persistence };
      showTop('top-worker-restored', 'restored in a worker', await ws.predict({ k: 10 }));
      await w.forget();
      facts.workerAfterForget = { events: (await ws.stats()).events, stored: await storedStates() };
      await w.close();
    });

    const pp = await Predictor.fromUrl(MODEL, { persist: 'indexeddb', consent: true, onWarning });
    const ps = pp.sequence(KEY);
    facts.restored = { events: ps.stats().events, persistence: ps.stats().persistence };
    showTop('top-restored', 'restored after reload', ps.predict({ k: 10 }));
    await pp.forget();
    facts.afterForget = { events: ps.stats().events, stored: await storedStates() };
    pp.close();
  },

  async forgotten() {
    const pp = await Predictor.fromUrl(MODEL, { persist: 'indexeddb', consent: true, onWarning });
    const ps = pp.sequence(KEY);
    facts.afterReload = { events: ps.stats().events, top: ps.predict({ k: 10 }).length, stored: await storedStates() };
    pp.close();
  },

  // autoTrack: the page view now, clicks on [data-hunch-action], history navigations. The test
  // clicks and navigates; every tracked event re-renders what the sequence holds.
  async track() {
    const p = await Predictor.fromUrl(MODEL, { onWarning });
    const s = p.sequence();
    const trackErrors: string[] = [];
    autoTrack(s, { onError: (e) => trackErrors.push(String(e)) });
    const button = document.createElement('button');
    button.id = 'tracked';
    button.dataset.hunchAction = '/page/9';
    button.dataset.hunchType = 'click';
    button.textContent = 'a tracked button';
    byId('sections').append(button);
    const render = () => {
      const held = s.explain().sort((a, b) => a.index - b.index);
      facts.track = { events: held.map(({ action, type, time }) => ({ action, type, time })), errors: trackErrors };
      showTop('top-track', 'tracked sequence', s.predict({ k: 10 }));
      writeFacts();
    };
    // Registered after autoTrack's (capturing) listeners on the same targets: run after them.
    document.addEventListener('click', render);
    addEventListener('popstate', render);
    (globalThis as any).navigation?.addEventListener('navigatesuccess', render);
    render();
  },

  // Speculation Rules (Chromium supports them): prefetch above the threshold, prerender for the
  // allow-listed URLs above prerenderThreshold; the test checks what the browser then fetched.
  async speculate() {
    const p = await Predictor.fromUrl(MODEL, { onWarning });
    const s = p.sequence();
    s.push(events);
    const reports: unknown[] = [];
    facts.speculated = await prefetch(s, {
      threshold: Number(q.get('threshold')), max: 5, allow: ['/page/*'], prerenderThreshold: Number(q.get('prerender')),
      onReport: (r) => void reports.push(r),
    });
    facts.speculationReport = reports[0];
    facts.rules = [...document.querySelectorAll('script[type="speculationrules"]')].map((e) => JSON.parse(e.textContent!));
    p.close();
  },

  // Model updates keep history: a keyed sequence persisted under the model served at
  // /models/live.hunch (the test swaps v1 for v2 between loads). `push=1` pushes the events;
  // `update=URL` also runs a live predictor.update() in a worker.
  async browse() {
    const p = await Predictor.fromUrl('/models/live.hunch', { persist: 'indexeddb', consent: true, storageKey: 'upd', onWarning });
    const s = p.sequence(KEY);
    if (q.get('push')) s.push(events);
    await p.flush();
    facts.browse = { checksum: p.info.checksum, stats: s.stats() };
    showTop('top-browse', 'after a model update', s.predict({ k: 5 }));
    p.close();
    const to = q.get('update');
    if (to)
      await part('liveUpdate', async () => {
        const w = await Predictor.fromUrl(MODEL, { worker: true, onWarning });
        const ws = w.sequence();
        await ws.push(events);
        const failed = await w.update('/models/missing.hunch').catch((e) => e.name);
        const info = await w.update(to);
        facts.liveUpdate = { failed, checksum: info.checksum, stats: await ws.stats() };
        showTop('top-live-update', 'worker, after update()', await ws.predict({ k: 5 }));
        await w.close();
      });
  },

  // Proves the CSP is enforced here (so the other phases' silence means something): string
  // evaluation must be refused and reported.
  async control() {
    try {
      facts.functionResult = new Function('return 41 + 1')();
    } catch (e: any) {
      facts.functionError = e.name;
    }
  },
};

const status = byId('status');
try {
  if (!phases[phase]) throw new Error(`unknown phase ${phase}`);
  await phases[phase]();
  status.dataset.state = facts.errors ? 'error' : 'done';
  status.textContent = facts.errors ? `failed: ${Object.keys(facts.errors).join(', ')}` : 'done';
} catch (e: any) {
  facts.error = errorText(e);
  status.dataset.state = 'error';
  status.textContent = 'error: ' + e?.message;
}
writeFacts();

function writeFacts() {
  facts.warnings = warnings;
  byId('facts').textContent = JSON.stringify(facts, null, 1);
}
