// Headless Chromium: hunch and onnxruntime-web on one stage's models, each page load in a fresh
// browser profile (no HTTP or wasm code cache), served by the shared browser/serve.mjs
// (127.0.0.1, COOP/COEP for 5 µs timers). Never downloads a browser: /usr/bin/chromium.
//   node bench/peers/browser.mjs STAGE_DIR MODEL [--runs 1000] [--repeat 3]   → one JSON line
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SHARED = path.resolve(process.env.HUNCH_SHARED_PEERS ?? path.join(HERE, '../../../shared/bench/peers'));
const { chromium } = await import('playwright-core');
const { serve } = await import(pathToFileURL(path.join(SHARED, 'browser/serve.mjs')).href);
const argv = process.argv.slice(2);
const [stage, model] = argv;
const opt = (f, d) => { const i = argv.indexOf(f); return i < 0 ? d : argv[i + 1]; };
const runs = Number(opt('--runs', 1000)), repeat = Number(opt('--repeat', 3));

// the page must live under the served root
fs.rmSync(path.join(stage, 'page.html'), { force: true });
fs.symlinkSync(path.join(HERE, 'browser/page.html'), path.join(stage, 'page.html'));
const { server, port } = await serve(path.resolve(stage));
const results = { hunch: [], ort: [] };
try {
  for (let k = 0; k < repeat; k++)
    for (const rt of ['hunch', 'ort']) {  // alternating, each in a fresh profile
      const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'hunch-bench-chromium-'));
      const ctx = await chromium.launchPersistentContext(profile, {
        executablePath: '/usr/bin/chromium', headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      });
      try {
        const page = ctx.pages()[0] || (await ctx.newPage());
        await page.goto(`http://127.0.0.1:${port}/page.html?rt=${rt}&model=${model}&runs=${runs}`);
        await page.waitForFunction(() => window.__result, null, { timeout: 600000, polling: 200 });
        results[rt].push(await page.evaluate(() => window.__result));
      } finally {
        await ctx.close();
        fs.rmSync(profile, { recursive: true, force: true });
      }
    }
} finally {
  server.close();
}
const med = (xs) => { const s = xs.filter((x) => x != null).sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : null; };
const out = { model, chromium: results.hunch[0]?.userAgent, crossOriginIsolated: results.hunch[0]?.crossOriginIsolated };
for (const [rt, rs] of Object.entries(results)) {
  const errors = rs.filter((r) => r.error).map((r) => r.error);
  out[rt] = {
    op: rs[0]?.op, exact: rs.every((r) => r.exact), minOverlap: Math.min(...rs.map((r) => r.minOverlap ?? 0)), errors, repeats: rs.length,
    median: med(rs.map((r) => r.lat?.median)), p95: med(rs.map((r) => r.lat?.p95)), runs: rs[0]?.lat?.n,
    coldNavToFirstMs: med(rs.map((r) => r.coldNavToFirstMs)), coldImportToFirstMs: med(rs.map((r) => r.coldImportToFirstMs)),
  };
}
console.log(JSON.stringify(out));
