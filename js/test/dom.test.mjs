// hunch/dom: prefetch links and auto-tracking, against a minimal DOM double (node has no DOM;
// the e2e test runs them in Chromium).
import test from 'node:test';
import assert from 'node:assert/strict';
import { Predictor } from 'hunch';
import { prefetch, autoTrack } from 'hunch/dom';
import { modelBytes, journey } from './helpers.mjs';

class FakeElement {
  constructor(tag, attrs = {}, parent = null) { this.tag = tag; this.attrs = { ...attrs }; this.parent = parent; this.children = []; }
  setAttribute(k, v) { this.attrs[k] = String(v); }
  getAttribute(k) { return k in this.attrs ? this.attrs[k] : null; }
  appendChild(c) { this.children.push(c); c.parent = this; return c; }
  closest(sel) {
    const attr = sel.match(/^\[([\w-]+)\]$/)[1];
    for (let e = this; e; e = e.parent) if (e.getAttribute(attr) !== null) return e;
    return null;
  }
}
function fakeDocument(href = 'https://shop.example/page/1') {
  const head = new FakeElement('head');
  const listeners = {};
  return {
    baseURI: href,
    location: { href },
    head,
    createElement: (tag) => new FakeElement(tag),
    querySelectorAll: () => head.children.filter((c) => c.rel === 'prefetch'),
    addEventListener: (t, f) => ((listeners[t] ??= []).push(f)),
    removeEventListener: (t, f) => (listeners[t] = (listeners[t] ?? []).filter((g) => g !== f)),
    dispatch: (t, e) => (listeners[t] ?? []).forEach((f) => f(e)),
    listeners,
  };
}

test('prefetch adds links for likely path actions, once, honouring threshold and max', async () => {
  const p = await Predictor.fromBytes(modelBytes());
  const s = p.sequence();
  s.push(journey(4));
  const doc = fakeDocument();
  const top = s.predict({ k: 3 });
  const added = await prefetch(s, { document: doc, threshold: 0, max: 2 });
  assert.deepEqual(added, top.slice(0, 2).map((t) => 'https://shop.example' + t.action));
  assert.equal(doc.head.children.length, 2);
  assert.equal(doc.head.children[0].rel, 'prefetch');
  assert.deepEqual(await prefetch(s, { document: doc, threshold: 0, max: 2 }), [], 'no duplicates');
  assert.deepEqual(await prefetch(s, { document: fakeDocument(), threshold: 0.99 }), [], 'threshold');
  assert.deepEqual(await prefetch(s, { document: fakeDocument(), threshold: 0, toUrl: () => 'https://evil.example/x' }), [], 'same origin only');
  assert.equal((await prefetch(s, { document: fakeDocument(), threshold: 0, max: 1, toUrl: (a) => 'https://cdn.example' + a, crossOrigin: true })).length, 1);
  p.close();
});

test('prefetch does nothing when the user asked to save data, or without a document', async (t) => {
  const p = await Predictor.fromBytes(modelBytes());
  const s = p.sequence();
  s.push(journey(2));
  assert.deepEqual(await prefetch(s, { threshold: 0 }), [], 'no document in node');
  const nav = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', { configurable: true, value: { connection: { saveData: true } } });
  t.after(() => (nav ? Object.defineProperty(globalThis, 'navigator', nav) : delete globalThis.navigator));
  const doc = fakeDocument();
  assert.deepEqual(await prefetch(s, { document: doc, threshold: 0 }), []);
  assert.equal(doc.head.children.length, 0);
  p.close();
});

test('autoTrack pushes page views and [data-hunch-action] clicks; stop() detaches', async () => {
  const p = await Predictor.fromBytes(modelBytes());
  const s = p.sequence();
  const doc = fakeDocument();
  const winListeners = {};
  const win = { location: { pathname: '/page/4' }, addEventListener: (t, f) => (winListeners[t] = f), removeEventListener: (t) => delete winListeners[t] };
  const errors = [];
  const stop = autoTrack(s, { root: doc, window: win, onError: (e) => errors.push(e) });
  assert.equal(s.stats().events, 1);
  const card = new FakeElement('div', { 'data-hunch-action': '/page/8', 'data-hunch-type': 'add_to_cart' });
  const inner = card.appendChild(new FakeElement('span'));
  doc.dispatch('click', { target: inner });
  doc.dispatch('click', { target: new FakeElement('p') }); // not tracked
  win.location.pathname = '/page/5';
  winListeners.popstate();
  winListeners.popstate(); // same page: not a new view
  const ex = s.explain().sort((a, b) => a.index - b.index);
  assert.deepEqual(ex.map((e) => [e.action, e.type]), [['/page/4', 'view'], ['/page/8', 'add_to_cart'], ['/page/5', 'view']]);
  doc.dispatch('click', { target: new FakeElement('a', { 'data-hunch-action': 'x'.repeat(600) }) });
  assert.equal(errors.length, 1, 'refused events go to onError, never throw into the page');
  stop();
  assert.equal(doc.listeners.click.length, 0);
  assert.equal(winListeners.popstate, undefined);
  p.close();
});
