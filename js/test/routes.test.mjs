// Routes, not URLs (issue 16): a model trained on page URLs holds routes (/product/:id), and the
// SDK's push maps a page's path + query to the same route through the core's normalisation (the
// model's hunch.normalize.* keys), as `hunch predict` does. Trains a small model with the native
// CLI ($HUNCH_CLI, or build/native/hunch).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Predictor } from 'hunch';
import { repoRoot } from './helpers.mjs';

const cli = process.env.HUNCH_CLI ?? path.join(repoRoot, 'build/native/hunch');
const skip = !fs.existsSync(cli) && `no native CLI at ${cli}: build it (scripts/build.sh native) or set HUNCH_CLI`;

// 40 visitors: home, a category with a sort parameter, a product by numeric id with tracking
// parameters, the cart; one page only one visitor opened.
function log() {
  let csv = 'user,time,action,type\n';
  for (let u = 0; u < 40; ++u) {
    const pages = ['/', `/c/coffee?sort=${u % 3}`, `/product/${1000 + (u % 7)}?utm_source=mail&u=${u}`, '/cart#top', '/c/café'];
    if (u === 0) pages.push('/account/orders/83472/invoice-for-alice');
    pages.forEach((p, i) => (csv += `u${u},${1700000000 + u * 3600 + i * 30},${p},view\n`));
  }
  return csv;
}

test('a pushed URL maps to the route the model was trained on', { skip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hunch-routes-'));
  try {
    fs.writeFileSync(path.join(dir, 'log.csv'), log());
    const model = path.join(dir, 'm.hunch');
    execFileSync(cli, ['train', path.join(dir, 'log.csv'), '-o', model, '--epochs', '1', '--embed', '16', '--layers', '1', '--float'], { stdio: 'ignore' });
    const p = await Predictor.fromBytes(new Uint8Array(fs.readFileSync(model)));
    assert.equal(p.info.metadata['hunch.normalize.version'], 2);
    assert.equal(p.info.metadata['hunch.vocab.min_users'], 5);
    assert.ok(p.info.actions.includes('/product/:id'), p.info.actions.join(' '));
    assert.ok(p.info.actions.every((a) => !a.includes('?') && !a.includes('#') && !a.includes('alice')), p.info.actions.join(' '));

    const raw = p.sequence();
    // Typed as the CLI's events below are ('view:'): the model reads the type too.
    raw.push([{ action: '/', type: 'view', time: 1700000000000 }, { action: '/product/123?utm=x', type: 'view', time: 1700000010000 }, { action: '/cart#top', type: 'view', time: 1700000020000 }]);
    assert.equal(raw.stats().unknownActions, 0);
    const route = p.sequence();
    route.push([{ action: '/', type: 'view', time: 1700000000000 }, { action: '/product/:id', type: 'view', time: 1700000010000 }, { action: '/cart', type: 'view', time: 1700000020000 }]);
    assert.deepEqual(raw.predict({ k: 5 }), route.predict({ k: 5 }));
    // Version 2: the browser's spelling of a page the log wrote otherwise is the same route
    // (location.pathname percent-encodes 'é'; a default port; a doubled slash).
    assert.ok(p.info.actions.includes('/c/café'), p.info.actions.join(' '));
    const browser = p.sequence();
    browser.push([{ action: '/c/caf%C3%A9', time: 1700000000000 }, { action: 'https://shop.example:443//cart', time: 1700000010000 }]);
    const logged = p.sequence();
    logged.push([{ action: '/c/café', time: 1700000000000 }, { action: 'https://shop.example/cart', time: 1700000010000 }]);
    assert.equal(browser.stats().unknownActions, logged.stats().unknownActions);
    assert.deepEqual(browser.predict({ k: 5 }), logged.predict({ k: 5 }));

    // The native CLI maps the same names to the same routes.
    const native = JSON.parse(execFileSync(cli, ['predict', model, '--events', 'view:/@1700000000,view:/product/123?utm=x@1700000010,view:/cart#top@1700000020', '--k', '5', '--json'], { encoding: 'utf8' }));
    assert.equal(native.unknown_actions, 0);
    // Per action (an untrained model's near-ties may rank differently across kernels).
    const sdk = new Map(raw.predict({ k: 5 }).map((t) => [t.action, t.probability]));
    assert.equal(sdk.size, native.top.length);
    for (const t of native.top) assert.ok(Math.abs(sdk.get(t.action) - t.probability) < 1e-4, `${t.action}: SDK ${sdk.get(t.action)}, CLI ${t.probability}`);
    p.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
