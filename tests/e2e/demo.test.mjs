// The demo shop in headless Chromium and Firefox, end to end: a scripted visit whose panel must show exactly
// what the SDK computes in node for the same events (top-5, next type, calibrated exit risk and
// purchase chance, attention), predictions that move with each click, a reload that brings the
// sequence back (IndexedDB), "forget me" that erases it, and not one request after the page has
// loaded. Saves test-results/demo.png (Chromium) and demo-firefox.png.
//
// Run: node --test tests/e2e/   (needs: js/dist built, npm ci --prefix demo, /usr/bin/chromium and
// /usr/bin/firefox-esr; HUNCH_ENGINES=chromium runs one)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { serveDemo } from '../../scripts/serve-demo.mjs';
import { ENGINES, demoModelPath, importSdk, launch, root, sdkDir, siteMap, skipFor } from './helpers.mjs';

// Each engine (engines.mjs: Chromium, Firefox) runs the same visit.
for (const engine of ENGINES) describe(engine, { skip: skipFor(engine) }, () => {
  let server;
  let browser;
  let page;
  const requests = [];     // every request the page made: { url, method, at } (at = index of the phase)
  const problems = [];     // console errors, page errors, CSP violations
  let phase = 'load';

  before(async () => {
    server = await serveDemo({ port: 0, csp: true, model: demoModelPath(), sdkDir: sdkDir() });
    browser = await launch(engine);
    page = browser.page;
    page.on('request', (r) => requests.push({ url: r.url(), method: r.method(), phase }));
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  async function ready() {
    await page.waitForSelector('body[data-ready]', { timeout: 30_000 });
    const state = await page.getAttribute('body', 'data-ready');
    if (state !== 'true') assert.fail(`the demo did not start: ${await page.evaluate(() => window.hunchDemo?.error)}`);
  }

  // What the panel shows now, read from the DOM.
  function panel() {
    return page.evaluate(() => {
      const rows = (sel, key) => [...document.querySelectorAll(sel)].map((li) => ({ [key]: li.dataset[key], probability: Number(li.dataset.probability) }));
      const exit = document.getElementById('exit-text').dataset.probability;
      const conversion = document.getElementById('conversion-text').dataset.probability;
      return {
        events: Number(document.getElementById('event-count').textContent),
        top: rows('#predictions li[data-action]', 'action'),
        types: rows('#types li[data-type]', 'type'),
        exit: exit === '' || exit === undefined ? null : Number(exit),
        conversion: conversion === '' || conversion === undefined ? null : Number(conversion),
        conversionShown: !document.getElementById('conversion-section').hidden,
        calibrationShown: !document.getElementById('calibration').hidden,
        attention: [...document.querySelectorAll('#attention li[data-index]')].map((li) => ({ index: Number(li.dataset.index), weight: Number(li.dataset.weight) })),
        network: Number(document.getElementById('net-count').textContent),
      };
    });
  }

  const during = (p) => requests.filter((r) => r.phase === p);

  function assertClose(actual, expected, what) {
    assert.equal(actual.length, expected.length, `${what}: length`);
    for (let i = 0; i < expected.length; ++i) {
      const a = actual[i], e = expected[i];
      for (const key of Object.keys(e)) {
        if (typeof e[key] === 'number') assert.ok(Math.abs(a[key] - e[key]) <= 1e-6, `${what}[${i}].${key}: page ${a[key]}, node ${e[key]}`);
        else assert.equal(a[key], e[key], `${what}[${i}].${key}`);
      }
    }
  }

  test(`demo in ${engine}: a scripted visit — live predictions equal the SDK in node, no request after load, reload restores, forget clears`, async (t) => {
    const site = siteMap();
    await page.goto(server.url);
    await ready();
    phase = 'browse';

    assert.match(await page.textContent('#privacy'), /Your events never leave this page/);
    assert.equal(await page.isChecked('#consent'), true, 'the demo stores with consent ticked by default');

    // The scripted path: each step is a real navigation or an in-page action of the shop.
    const steps = [
      { name: 'land on /', act: async () => {}, expect: { action: '/', type: 'view' } },
      { name: 'Coffee in the menu', act: () => page.click('#categories a[href="/c/coffee"]'), expect: { action: '/c/coffee', type: 'view' } },
      { name: 'a product', act: () => page.click('main a.card[href="/p/burr-grinder"]'), expect: { action: '/p/burr-grinder', type: 'view' } },
      { name: 'reviews tab', act: () => page.click('#reviews-button'), expect: { action: '/p/burr-grinder', type: 'click' } },
      { name: 'add to cart', act: () => page.click('#add-to-cart'), expect: { action: '/p/burr-grinder', type: 'add_to_cart' } },
      { name: 'a related product', act: () => page.click('main .grid a.card'), expect: { type: 'view' } },
      { name: 'the cart', act: () => page.click('#cart-link'), expect: { action: '/cart', type: 'view' } },
      { name: 'checkout', act: () => page.click('#to-checkout'), expect: { action: '/checkout', type: 'view' } },
    ];
    const seen = [];
    for (const [i, step] of steps.entries()) {
      await step.act();
      await page.waitForFunction((n) => document.getElementById('event-count').textContent === String(n), i + 1);
      const pushed = await page.evaluate(() => window.hunchDemo.pushed.map((e) => ({ ...e })));
      assert.equal(pushed.length, i + 1, `${step.name}: one event per step`);
      const last = pushed.at(-1);
      for (const [k, v] of Object.entries(step.expect)) assert.equal(last[k], v, `${step.name}: event ${k}`);
      if (last.type === 'view') assert.equal(new URL(page.url()).pathname, last.action, `${step.name}: the URL changed`);
      const shown = await panel();
      assert.equal(shown.top.length, 5, `${step.name}: five predictions`);
      assert.ok(shown.conversionShown, `${step.name}: the purchase chance is shown`);
      assert.ok(shown.conversion > 0 && shown.conversion < 1, `${step.name}: purchase chance ${shown.conversion}`);
      assert.ok(shown.exit > 0 && shown.exit < 1, `${step.name}: exit risk ${shown.exit}`);
      seen.push({ step: step.name, pushed, shown });
      if (step.name === 'add to cart') {
        fs.mkdirSync(path.join(root, 'test-results'), { recursive: true });
        await page.screenshot({ path: path.join(root, engine === 'chromium' ? 'test-results/demo.png' : `test-results/demo-${engine}.png`) });
      }
    }

    await t.test('every predicted and attended action is a page of the site map', () => {
      const paths = new Set(site.pages.map((p) => p.path));
      for (const s of seen) for (const p of s.shown.top) assert.ok(paths.has(p.action), `${s.step}: ${p.action} is not in the site map`);
    });

    await t.test('predictions change after every click', () => {
      for (let i = 1; i < seen.length; ++i)
        assert.notDeepEqual(seen[i].shown.top, seen[i - 1].shown.top, `${seen[i].step}: the top-5 did not change`);
    });

    await t.test('the panel shows what the SDK computes in node for the same events', async () => {
      const { Predictor } = await importSdk();
      const predictor = await Predictor.fromBytes(fs.readFileSync(server.model));
      try {
        for (const p of site.pages) assert.ok(predictor.info.actions.includes(p.path), `the model does not know ${p.path}: not trained on the shop data`);
        // The main job trains the shop model with the session protocol: a conversion head whose
        // goal is the shop's purchase, and calibrated exit / conversion probabilities.
        assert.deepEqual(predictor.info.goalTypes, ['purchase'], 'the demo model has a conversion head (hunch train --protocol sessions)');
        assert.ok(Array.isArray(predictor.info.metadata['hunch.calibration.exit']), 'the demo model holds its exit calibration');
        assert.ok(Array.isArray(predictor.info.metadata['hunch.calibration.conversion']), 'the demo model holds its conversion calibration');
        assert.ok(seen.every((s) => s.shown.calibrationShown), 'the panel says the probabilities are calibrated');
        for (const s of seen) {
          const seq = predictor.sequence();
          seq.push(s.pushed);
          assertClose(s.shown.top, seq.predict({ k: 5 }), `${s.step}: top-5`);
          const types = seq.nextType().filter((x) => x.type !== '<none>' || x.probability >= 0.01);
          assertClose(s.shown.types, types, `${s.step}: next type`);
          assert.ok(Math.abs(s.shown.exit - seq.exitProbability()) <= 1e-6, `${s.step}: exit probability`);
          assert.ok(Math.abs(s.shown.conversion - seq.conversionProbability()) <= 1e-6, `${s.step}: conversion probability`);
          assertClose(s.shown.attention, seq.explain({ top: 5 }).map((e) => ({ index: e.index, weight: e.weight })), `${s.step}: attention`);
          seq.close();
        }
      } finally {
        predictor.close();
      }
    });

    await t.test('no request leaves the page after load', async () => {
      assert.deepEqual(during('browse'), [], 'requests while browsing');
      assert.equal((await panel()).network, 0, 'the network counter on the page');
    });

    await t.test('a reload restores the sequence from IndexedDB', async () => {
      await page.waitForFunction(() => document.getElementById('saved').textContent.includes('saved'));
      const before = await panel();
      phase = 'reload';
      await page.reload();
      await ready();
      phase = 'after-reload';
      const restored = await panel();
      assert.equal(restored.events, before.events, 'events in the sequence after the reload');
      assertClose(restored.top, before.top, 'top-5 after the reload');
      assert.equal(restored.exit, before.exit, 'exit risk after the reload');
      assert.equal(restored.conversion, before.conversion, 'purchase chance after the reload (recomputed by the core on restore)');
      assert.ok(during('reload').some((r) => r.url.endsWith('/model.hunch')), 'the reload loaded the model again');
    });

    await t.test('prefetch adds links for likely pages, and those are the only requests', async () => {
      const top = (await panel()).top;
      phase = 'prefetch';
      await page.check('#prefetch');
      const { looksStateChanging } = await import(pathToFileURL(path.join(sdkDir(), 'dom.js')).href);
      const expected = top.filter((p) => p.probability >= 0.15 && !looksStateChanging(new URL(p.action, server.url))).slice(0, 2).map((p) => p.action);
      if (expected.length === 0) return; // nothing is likely enough at this point of the visit
      await page.waitForFunction((n) => document.querySelectorAll('link[rel="prefetch"][data-hunch]').length >= n, expected.length);
      const links = await page.$$eval('link[rel="prefetch"][data-hunch]', (ls) => ls.map((l) => new URL(l.href).pathname));
      assert.deepEqual(links.sort(), [...expected].sort());
      await page.waitForTimeout(300);
      for (const r of during('prefetch')) {
        assert.equal(new URL(r.url).origin, new URL(server.url).origin, 'prefetch stays on this site');
        assert.ok(expected.includes(new URL(r.url).pathname), `unexpected request ${r.url}`);
      }
      await page.uncheck('#prefetch');
    });

    await t.test('"forget me" erases the sequence, here and in storage', async () => {
      phase = 'forget';
      await page.click('#forget');
      await page.waitForFunction(() => document.getElementById('event-count').textContent === '0');
      const cleared = await panel();
      assert.equal(cleared.top.length, 0, 'no predictions without events');
      assert.deepEqual([cleared.exit, cleared.conversion], [null, null], 'no exit risk or purchase chance without events');
      assert.equal(cleared.attention.length, 0);
      assert.deepEqual(during('forget'), [], 'forgetting makes no request');
      phase = 'reload-after-forget';
      await page.reload();
      await ready();
      const fresh = await panel();
      assert.equal(fresh.events, 1, 'after forget + reload, only the view of this page');
    });

    assert.deepEqual(problems, [], 'console errors or CSP violations');
  });
});
