// The examples/ apps as a user gets them: `npm pack` of js/ (its built dist/), the tarball
// installed into each example (its other dependencies pinned by its package-lock.json, installed
// by scripts/setup.sh), a production build, then the page in headless Chromium and Firefox
// (engines.mjs):
//   examples/vite-react: `vite build`, served as static files under a strict CSP;
//   examples/next:       `next build` + `next start`: the server component's prediction is in the
//                        HTML the server sends, and the client component predicts in the browser.
// Each page must show, after three clicks, the top-3 next actions the SDK computes in node for the
// same events (same times), with no console error, page error or CSP violation.
//
// Run: node --test tests/e2e/examples.test.mjs (needs js/dist, the demo model from
// `bash scripts/main.sh --quick --no-serve`, `npm ci` in each example, /usr/bin/chromium and
// /usr/bin/firefox-esr; HUNCH_ENGINES=chromium runs one)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ENGINES, demoModelPath, importSdk, launch, root, sdkDir, skipFor } from './helpers.mjs';

const run = promisify(execFile);
const env = { ...process.env, npm_config_update_notifier: 'false', npm_config_audit: 'false', npm_config_fund: 'false', NEXT_TELEMETRY_DISABLED: '1' };
const CLICKS = ['/', '/c/coffee', '/p/burr-grinder'];
const SERVER_VISIT = ['/', '/c/coffee', '/p/burr-grinder']; // examples/next/app/page.jsx's VISIT
// The policy the SDK promises to work under (the Vite example needs no inline script).
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'";
const timings = {};

const missing = (dir) => {
  const why = !fs.existsSync(path.join(root, 'examples', dir, 'node_modules/.package-lock.json')) &&
    `examples/${dir} has no node_modules: run \`npm ci\` there (scripts/setup.sh does)`;
  if (why && process.env.CI) throw new Error(why);
  return why;
};
const noModel = (() => {
  try {
    demoModelPath();
    return false;
  } catch (e) {
    return e.message;
  }
})();
const skipAll = noModel || (!fs.existsSync(path.join(sdkDir(), 'index.js')) && 'js/dist is not built');

let tarball; // npm pack of js/, once for both examples
let tmp;
async function packed() {
  if (!tarball) {
    const t0 = Date.now();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hunch-examples-'));
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: path.join(sdkDir(), '..'), env });
    tarball = path.join(tmp, JSON.parse(stdout)[0].filename);
    timings.pack = Date.now() - t0;
  }
  return tarball;
}

/** The example's folder, with the packed hunch installed (not saved) and the demo model in public/. */
async function prepare(name) {
  const dir = path.join(root, 'examples', name);
  const t0 = Date.now();
  const lock = fs.readFileSync(path.join(dir, 'package-lock.json'));
  await run('npm', ['install', '--no-save', '--prefer-offline', await packed()], { cwd: dir, env, maxBuffer: 16 << 20 });
  assert.deepEqual(fs.readFileSync(path.join(dir, 'package-lock.json')), lock, `installing the tarball changed examples/${name}/package-lock.json`);
  const installed = JSON.parse(fs.readFileSync(path.join(dir, 'node_modules/hunch/package.json'), 'utf8'));
  assert.equal(installed.version, JSON.parse(fs.readFileSync(path.join(root, 'js/package.json'), 'utf8')).version);
  fs.mkdirSync(path.join(dir, 'public'), { recursive: true });
  fs.copyFileSync(demoModelPath(), path.join(dir, 'public/model.hunch'));
  timings[`${name}.install`] = Date.now() - t0;
  return dir;
}

async function build(name, dir, args) {
  const t0 = Date.now();
  try {
    await run(process.execPath, args, { cwd: dir, env, maxBuffer: 16 << 20 });
  } catch (e) {
    assert.fail(`${name}: the build failed:\n${e.stdout}${e.stderr}`);
  }
  timings[`${name}.build`] = Date.now() - t0;
}

/** The SDK in node: top-3 after `events` (the demo model). */
async function nodeTop(events) {
  const { Predictor } = await importSdk();
  const p = await Predictor.fromBytes(fs.readFileSync(demoModelPath()));
  try {
    const s = p.sequence();
    s.push(events);
    return s.predict({ k: 3 });
  } finally {
    p.close();
  }
}

function assertSameTop(actual, expected, what) {
  assert.equal(actual.length, 3, `${what}: three predictions shown`);
  assert.deepEqual(actual.map((p) => p.action), expected.map((p) => p.action), `${what}: actions`);
  for (let i = 0; i < expected.length; ++i)
    assert.ok(Math.abs(actual[i].probability - expected[i].probability) <= 1e-6, `${what}[${i}]: page ${actual[i].probability}, node ${expected[i].probability}`);
}

const readTop = (page, list) =>
  page.$$eval(`#${list} li[data-action]`, (lis) => lis.map((li) => ({ action: li.dataset.action, probability: Number(li.dataset.probability) })));

/** Clicks through CLICKS in the client-side part of the page; checks its top-3 against node. */
async function clickThrough(page, what) {
  await page.waitForSelector('button[data-page]', { timeout: 30_000 });
  for (const [i, action] of CLICKS.entries()) {
    await page.click(`button[data-page="${action}"]`);
    await page.waitForFunction((n) => document.querySelectorAll('#visited [data-action]').length === n, i + 1);
  }
  const events = await page.$$eval('#visited [data-action]', (els) => els.map((e) => ({ action: e.dataset.action, type: 'view', time: Number(e.dataset.time) })));
  assert.deepEqual(events.map((e) => e.action), CLICKS);
  const shown = await readTop(page, 'next');
  assertSameTop(shown, await nodeTop(events), what);
  assert.ok(shown[0].probability > 0 && shown[0].probability < 1);
}

// A browser with the page's problems recorded: console errors, uncaught errors, CSP violations.
async function browse(engine) {
  const browser = await launch(engine, { chromiumArgs: ['--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'] });
  const problems = [];
  const requests = [];
  await browser.context.addInitScript(() =>
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`)),
  );
  // The browser asks for /favicon.ico on its own; the examples have none (a 404 logged as an error).
  const favicon = (m) => new URL(m.location()?.url || 'http://x/').pathname === '/favicon.ico';
  browser.page.on('console', (m) => m.type() === 'error' && !favicon(m) && problems.push(`console: ${m.text()} (${m.location()?.url})`));
  browser.page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  browser.page.on('request', (r) => requests.push(r.url()));
  return { ...browser, problems, requests };
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  if (Object.keys(timings).length) console.log(`examples timings (ms): ${JSON.stringify(timings)}`);
});

describe('examples/vite-react: built from the packed tarball, in the browsers under a strict CSP', { skip: skipAll || missing('vite-react'), timeout: 300_000 }, () => {
  let dir, server;
  before(async () => {
    dir = await prepare('vite-react');
    fs.rmSync(path.join(dir, 'dist'), { recursive: true, force: true });
    await build('vite-react', dir, ['node_modules/vite/bin/vite.js', 'build']);
    const dist = path.join(dir, 'dist');
    const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.hunch': 'application/octet-stream' };
    server = http.createServer((req, res) => {
      const p = new URL(req.url, 'http://x').pathname;
      const file = path.join(dist, p === '/' ? 'index.html' : path.normalize(p));
      const ok = file.startsWith(dist + path.sep) && fs.existsSync(file) && fs.statSync(file).isFile();
      res.writeHead(ok ? 200 : 404, { 'Content-Type': ok ? MIME[path.extname(file)] ?? 'application/octet-stream' : 'text/plain', 'Content-Security-Policy': CSP });
      res.end(ok ? fs.readFileSync(file) : 'not found');
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
  });
  after(() => new Promise((r) => (server ? server.close(r) : r())));

  it('vite emitted hunch.wasm as an asset', () => {
    assert.ok(fs.readdirSync(path.join(dir, 'dist/assets')).some((f) => f.endsWith('.wasm')), 'hunch.wasm in dist/assets');
  });

  for (const engine of ENGINES)
    it(`${engine}: the page predicts the same top-3 as node after three clicks`, { skip: skipFor(engine) }, async () => {
      const browser = await browse(engine);
      try {
        const origin = `http://127.0.0.1:${server.address().port}`;
        await browser.page.goto(origin);
        await clickThrough(browser.page, `vite-react in ${engine}`);
        fs.mkdirSync(path.join(root, 'test-results'), { recursive: true });
        await browser.page.screenshot({ path: path.join(root, `test-results/example-vite-react-${engine}.png`) });
        assert.ok(browser.requests.some((u) => u === `${origin}/model.hunch`), 'the model was fetched');
        assert.deepEqual(browser.requests.filter((u) => new URL(u).origin !== origin), [], 'requests elsewhere');
        assert.deepEqual(browser.problems, [], 'console errors, page errors or CSP violations');
      } finally {
        await browser.close();
      }
    });
});

describe('examples/next: App Router, built from the packed tarball; server component and client component', { skip: skipAll || missing('next'), timeout: 400_000 }, () => {
  let dir, proc, origin;
  const output = [];
  before(async () => {
    dir = await prepare('next');
    fs.rmSync(path.join(dir, '.next'), { recursive: true, force: true });
    await build('next', dir, ['node_modules/next/dist/bin/next', 'build']);
    const port = await freePort();
    const t0 = Date.now();
    proc = spawn(process.execPath, ['node_modules/next/dist/bin/next', 'start', '-p', String(port), '-H', '127.0.0.1'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout.on('data', (d) => output.push(String(d)));
    proc.stderr.on('data', (d) => output.push(String(d)));
    origin = `http://127.0.0.1:${port}`;
    // Ready when it answers (next start prints "Ready" slightly before it listens on some systems).
    for (let deadline = Date.now() + 60_000; ; ) {
      if (proc.exitCode !== null) assert.fail(`next start exited (${proc.exitCode}):\n${output.join('')}`);
      try {
        if ((await fetch(`${origin}/model.hunch`)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) assert.fail(`next start did not answer within 60 s:\n${output.join('')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    timings['next.start'] = Date.now() - t0;
  });
  after(async () => {
    if (proc && proc.exitCode === null) {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
  });

  it('server component: the HTML the server sends holds the top-3 node computes for the same visit', async () => {
    const html = await (await fetch(origin)).text();
    const top = [...html.matchAll(/<li data-action="([^"]*)" data-probability="([^"]*)"/g)].slice(0, 3).map((m) => ({ action: m[1], probability: Number(m[2]) }));
    assert.match(html, /id="server-next"/, 'the server rendered its list');
    // The server pushes the visit in one call, at one time: gaps of 0.
    assertSameTop(top, await nodeTop(SERVER_VISIT.map((action) => ({ action, type: 'view', time: 1e12 }))), 'server component');
    assert.deepEqual(output.join('').match(/Error|HunchEnvironmentError/g) ?? [], [], `errors in next start's output:\n${output.join('')}`);
  });

  for (const engine of ENGINES)
    it(`${engine}: the client component hydrates and predicts in the browser, the same top-3 as node after three clicks`, { skip: skipFor(engine) }, async () => {
      const browser = await browse(engine);
      try {
        await browser.page.goto(origin);
        const server = await readTop(browser.page, 'server-next');
        assert.equal(server.length, 3, 'the server-rendered list is on the page');
        await clickThrough(browser.page, `next client component in ${engine}`);
        fs.mkdirSync(path.join(root, 'test-results'), { recursive: true });
        await browser.page.screenshot({ path: path.join(root, `test-results/example-next-${engine}.png`) });
        assert.ok(browser.requests.some((u) => u.endsWith('.wasm')), 'the browser fetched hunch.wasm');
        assert.deepEqual(browser.requests.filter((u) => new URL(u).origin !== origin), [], 'requests elsewhere');
        assert.deepEqual(browser.problems, [], 'console errors or page errors');
      } finally {
        await browser.close();
      }
    });
});
