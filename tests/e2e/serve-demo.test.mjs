// The demo's static server: MIME types (application/wasm for the SDK's module), client-side
// routes answered with the page, the strict CSP header, 404s, and no way out of its folders.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';

import { CSP, serveDemo } from '../../scripts/serve-demo.mjs';
import { demoModelPath, sdkDir } from './helpers.mjs';

let server;
before(async () => {
  server = await serveDemo({ port: 0, csp: true, model: demoModelPath(), sdkDir: sdkDir() });
});
after(() => server?.close());

// Raw GET (fetch would normalise "/../" away before it reaches the server).
function get(path, method = 'GET') {
  const { port } = new URL(server.url);
  return new Promise((ok, fail) => {
    const req = http.request({ host: '127.0.0.1', port, path, method }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', fail);
    req.end();
  });
}

test('serve-demo: the page, its assets and the SDK with the right types', async () => {
  const cases = [
    ['/', 'text/html'],
    ['/app.js', 'text/javascript'],
    ['/style.css', 'text/css'],
    ['/site-map.json', 'application/json'],
    ['/sdk/index.js', 'text/javascript'],
    ['/sdk/hunch.wasm', 'application/wasm'],
    ['/model.hunch', 'application/octet-stream'],
  ];
  for (const [path, type] of cases) {
    const r = await get(path);
    assert.equal(r.status, 200, path);
    assert.ok(r.headers['content-type'].startsWith(type), `${path}: ${r.headers['content-type']}`);
    assert.equal(r.headers['content-security-policy'], CSP, `${path}: CSP header`);
    assert.equal(Number(r.headers['content-length']), r.body.length);
  }
  const wasm = await get('/sdk/hunch.wasm');
  assert.deepEqual([...wasm.body.subarray(0, 4)], [0, 0x61, 0x73, 0x6d], 'wasm magic');
  const model = await get('/model.hunch');
  assert.equal(model.body.subarray(0, 4).toString('latin1'), 'HNCH', 'model magic');
});

test('serve-demo: client-side routes get the page; missing files and escapes get 404', async () => {
  const page = await get('/p/burr-grinder');
  assert.equal(page.status, 200);
  assert.match(page.body.toString(), /<main id="page"/);
  assert.equal((await get('/checkout/payment?x=1')).status, 200);
  assert.equal((await get('/nope.js')).status, 404);
  assert.equal((await get('/sdk/nope.js')).status, 404);
  for (const escape of ['/../package.json', '/sdk/../../package.json', '/%2e%2e/%2e%2e/etc/passwd', '/sdk/..%2f..%2fpackage.json']) {
    const r = await get(escape);
    // URL parsing folds "/../x" into "/x" (a file of demo/, if any); what must never come back
    // is a file from outside demo/ and js/dist: the repository's package.json, /etc/passwd.
    assert.ok(!/hunch-workspace|root:/.test(r.body.toString()), `${escape} leaked a file outside the demo (${r.status})`);
  }
  assert.equal((await get('/', 'POST')).status, 405);
  assert.equal((await get('/', 'HEAD')).status, 200);
});
