// hunch/dom: prefetch links and auto-tracking, against a minimal DOM double (node has no DOM;
// the e2e test runs them in Chromium).
import test from 'node:test';
import assert from 'node:assert/strict';
import { Predictor } from 'hunch';
import { prefetch, autoTrack } from 'hunch/dom';
import fs from 'node:fs';
import { modelBytes, journey } from './helpers.mjs';
import { noCli, trainCsv } from './update-fixture.mjs';

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
function fakeDocument(href = 'https://shop.example/page/1', defaultView = null) {
  const head = new FakeElement('head');
  const listeners = {};
  return {
    defaultView,
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

// A predictor double: prefetch() reads only predict().
const predicting = (top) => ({ predict: () => top });
const LOGOUT = [{ action: '/logout', probability: 0.9 }, { action: '/page/2', probability: 0.05 }];

test('prefetch never fetches a state-changing-looking URL: /logout at 0.9 adds nothing', async () => {
  const doc = fakeDocument();
  const reports = [];
  assert.deepEqual(await prefetch(predicting(LOGOUT), { document: doc, threshold: 0.3, onReport: (r) => reports.push(r) }), []);
  assert.equal(doc.head.children.length, 0, 'no link');
  assert.deepEqual(reports[0].skipped, [{ url: 'https://shop.example/logout', reason: 'state-changing' }]);
  const risky = ['/account/sign-out', '/cart/remove', '/cart/add/12', '/unsubscribe', '/orders/7/delete', '/checkout', '/pay', '/user/opt-out', '/api/logoff'];
  for (const action of risky) {
    const d = fakeDocument();
    assert.deepEqual(await prefetch(predicting([{ action, probability: 0.9 }]), { document: d, threshold: 0 }), [], action);
    assert.equal(d.head.children.length, 0, action);
  }
  // A query string is skipped too, unless allowed; harmless paths that merely contain a word pass.
  const d = fakeDocument();
  const top = [{ action: '/search?q=shoes', probability: 0.8 }, { action: '/orders', probability: 0.7 }, { action: '/payments-faq', probability: 0.6 }, { action: '/cart', probability: 0.5 }];
  assert.deepEqual(await prefetch(predicting(top), { document: d, threshold: 0, max: 4, onReport: (r) => reports.push(r) }),
    ['https://shop.example/orders', 'https://shop.example/payments-faq', 'https://shop.example/cart']);
  assert.deepEqual(reports.at(-1).skipped.map((x) => x.reason), ['query-string']);
  assert.deepEqual(await prefetch(predicting(top), { document: fakeDocument(), threshold: 0, max: 1, allow: ['/search*'] }), ['https://shop.example/search?q=shoes']);
});

test('prefetch skips routes with a placeholder segment (/p/:id names many pages); toUrl can map them', async () => {
  const reports = [];
  const top = [{ action: '/p/:id', probability: 0.85 }, { action: 'https://shop.example/u/:user/orders', probability: 0.5 }, { action: '/cart', probability: 0.4 }];
  const d = fakeDocument('https://shop.example/home');
  assert.deepEqual(await prefetch(predicting(top), { document: d, threshold: 0, max: 3, onReport: (r) => reports.push(r) }), ['https://shop.example/cart']);
  assert.deepEqual(reports[0].skipped, [{ url: '/p/:id', reason: 'not-a-url' }, { url: 'https://shop.example/u/:user/orders', reason: 'not-a-url' }]);
  const mapped = await prefetch(predicting(top), { document: fakeDocument('https://shop.example/home'), threshold: 0, max: 1, toUrl: (a) => a.replace('/:id', '/latest') });
  assert.deepEqual(mapped, ['https://shop.example/p/latest']);
});

test('prefetch: exclude (patterns or a function) wins over allow; the current page is skipped', async () => {
  const top = [{ action: '/page/1', probability: 0.9 }, { action: '/page/2', probability: 0.8 }, { action: '/help', probability: 0.7 }];
  assert.deepEqual(await prefetch(predicting(top), { document: fakeDocument('https://shop.example/home'), threshold: 0, max: 3, exclude: [/^\/page\//] }), ['https://shop.example/help']);
  assert.deepEqual(await prefetch(predicting(top), { document: fakeDocument('https://shop.example/home'), threshold: 0, max: 3, exclude: (u) => u.pathname === '/page/2' }),
    ['https://shop.example/page/1', 'https://shop.example/help']);
  assert.deepEqual(await prefetch(predicting(top), { document: fakeDocument('https://shop.example/home'), threshold: 0, max: 3, exclude: ['/help'], allow: ['/help'] }),
    ['https://shop.example/page/1', 'https://shop.example/page/2']);
  // The page the visitor is on is never prefetched (the model often predicts an event on it).
  const reports = [];
  assert.deepEqual(await prefetch(predicting(top), { document: fakeDocument('https://shop.example/page/1'), threshold: 0, max: 1, onReport: (r) => reports.push(r) }),
    ['https://shop.example/page/2']);
  assert.deepEqual(reports[0].skipped, [{ url: 'https://shop.example/page/1', reason: 'current-page' }]);
});

test('prefetch emits Speculation Rules where supported: prerender only for allow-listed URLs above prerenderThreshold', async () => {
  const view = { HTMLScriptElement: { supports: (t) => t === 'speculationrules' } };
  const doc = fakeDocument('https://shop.example/page/1', view);
  const top = [{ action: '/product/1', probability: 0.7 }, { action: '/page/2', probability: 0.65 }, { action: '/product/3', probability: 0.4 }, { action: '/logout', probability: 0.35 }];
  const reports = [];
  const added = await prefetch(predicting(top), { document: doc, threshold: 0.3, max: 4, allow: ['/product/*'], nonce: 'n0nce', onReport: (r) => reports.push(r) });
  assert.deepEqual(added, ['https://shop.example/page/2', 'https://shop.example/product/3', 'https://shop.example/product/1']);
  assert.equal(doc.head.children.length, 1);
  const script = doc.head.children[0];
  assert.equal(script.type, 'speculationrules');
  assert.equal(script.nonce, 'n0nce');
  assert.deepEqual(JSON.parse(script.textContent), {
    prefetch: [{ source: 'list', urls: ['https://shop.example/page/2', 'https://shop.example/product/3'], eagerness: 'immediate' }],
    prerender: [{ source: 'list', urls: ['https://shop.example/product/1'], eagerness: 'immediate' }],
  });
  assert.equal(reports[0].mechanism, 'speculationrules');
  assert.deepEqual(reports[0].prerendered, ['https://shop.example/product/1']);
  assert.deepEqual(reports[0].skipped, [{ url: 'https://shop.example/logout', reason: 'state-changing' }]);
  assert.deepEqual(await prefetch(predicting(top), { document: doc, threshold: 0.3, max: 4, allow: ['/product/*'] }), [], 'nothing twice');
  assert.equal(doc.head.children.length, 1);
  // mechanism 'link' forces links even where rules are supported.
  const d2 = fakeDocument('https://shop.example/', view);
  await prefetch(predicting(top), { document: d2, threshold: 0.3, mechanism: 'link', onReport: (r) => reports.push(r) });
  assert.deepEqual(d2.head.children.map((c) => c.rel), ['prefetch', 'prefetch']);
  assert.equal(reports.at(-1).mechanism, 'link');
});

test('prefetch does nothing on a 2G connection, and says why', async (t) => {
  const nav = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', { configurable: true, value: { connection: { effectiveType: 'slow-2g' } } });
  t.after(() => (nav ? Object.defineProperty(globalThis, 'navigator', nav) : delete globalThis.navigator));
  const reports = [];
  const doc = fakeDocument();
  assert.deepEqual(await prefetch(predicting([{ action: '/page/2', probability: 0.9 }]), { document: doc, onReport: (r) => reports.push(r) }), []);
  assert.equal(reports[0].reason, 'slow-connection');
  globalThis.navigator.connection = { effectiveType: '4g', saveData: true };
  await prefetch(predicting([{ action: '/page/2', probability: 0.9 }]), { document: doc, onReport: (r) => reports.push(r) });
  assert.equal(reports[1].reason, 'save-data');
  globalThis.navigator.connection = { effectiveType: '3g' };
  assert.deepEqual(await prefetch(predicting([{ action: '/page/2', probability: 0.9 }]), { document: doc }), ['https://shop.example/page/2']);
});

test('a real model that predicts /logout after /account: nothing fetched; /orders is', { skip: noCli }, async () => {
  // Visitors go /home -> a page -> /account -> /logout, one visit in five /account -> /orders instead.
  const rows = ['user,action,type,time'];
  for (let u = 0, t = 1_700_000_000; u < 300; ++u)
    for (let v = 0; v < 4; ++v)
      for (const a of ['/home', `/page/${(u + v) % 7}`, '/account', (u + v) % 5 ? '/logout' : '/orders']) rows.push(`u${u},${a},view,${(t += 20)}`);
  const p = await Predictor.fromBytes(new Uint8Array(fs.readFileSync(trainCsv(rows, undefined, 30))));
  const s = p.sequence();
  s.push([{ action: '/home' }, { action: '/page/3' }, { action: '/account' }]);
  const top = s.predict({ k: 2 });
  assert.equal(top[0].action, '/logout');
  assert.ok(top[0].probability >= 0.5, `the model is sure of /logout: ${top[0].probability}`);
  const doc = fakeDocument();
  const reports = [];
  assert.deepEqual(await prefetch(s, { document: doc, threshold: 0.01, onReport: (r) => reports.push(r) }), ['https://shop.example/orders']);
  assert.deepEqual(reports[0].skipped[0], { url: 'https://shop.example/logout', reason: 'state-changing' });
  assert.deepEqual(doc.head.children.map((c) => c.href), ['https://shop.example/orders']);
  p.close();
});
