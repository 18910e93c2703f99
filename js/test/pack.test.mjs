// The published package: `npm pack` holds only what users need; the tarball installs into a
// fresh folder where a consumer imports it, predicts, and type-checks under moduleResolution
// bundler and node16.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { jsRoot, fixture } from './helpers.mjs';

const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } });

test('npm pack → install into a fresh folder → import, predict, type-check', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hunch-pack-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const [info] = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], jsRoot));
  const files = info.files.map((f) => f.path).sort();
  console.log(`pack: ${info.filename} ${info.size} B, ${files.length} files: ${files.join(' ')}`);
  for (const f of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/hunch.mjs', 'dist/hunch.wasm', 'dist/worker.js', 'dist/dom.js'])
    assert.ok(files.includes(f), `${f} in the tarball`);
  for (const f of files) assert.match(f, /^(package\.json|README\.md|dist\/[^/]+\.(js|mjs|cjs|d\.ts|d\.mts|wasm))$/, `${f} does not belong in the tarball`);

  const app = path.join(dir, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  npm(['install', '--offline', '--no-package-lock', path.join(dir, info.filename)], app);
  fs.writeFileSync(
    path.join(app, 'main.mjs'),
    `import fs from 'node:fs';
import { Predictor } from 'hunch';
const wasmPath = (await import('node:url')).fileURLToPath(import.meta.resolve('hunch/hunch.wasm'));
const p = await Predictor.fromBytes(fs.readFileSync(${JSON.stringify(fixture('tiny-lstm-attn.hunch'))}));
const s = p.sequence();
s.push({ action: '/page/3', type: 'view' });
console.log(JSON.stringify({ top: s.predict({ k: 3 }).length, wasm: fs.statSync(wasmPath).size }));
p.close();`,
  );
  const out = JSON.parse(execFileSync(process.execPath, ['main.mjs'], { cwd: app, encoding: 'utf8' }));
  assert.equal(out.top, 3);
  assert.ok(out.wasm > 50_000);

  // A server bundle (Next.js) rewrites the wasm's location into its static asset path, which node
  // cannot read or parse: node then resolves the package's own file. Both rewrites, on a copy.
  const dist = path.join(app, 'node_modules/hunch/dist');
  const index = fs.readFileSync(path.join(dist, 'index.js'), 'utf8');
  const original = 'new URL(`./hunch.wasm`,import.meta.url)';
  assert.ok(index.includes(original), 'the built SDK locates the wasm with new URL(…, import.meta.url)');
  for (const rewrite of ['new URL(`/_next/static/media/hunch.0123abcd.wasm`)', 'new URL(`/_next/static/media/hunch.0123abcd.wasm`,`http://localhost:9/`)']) {
    fs.writeFileSync(path.join(dist, 'index.js'), index.replace(original, rewrite));
    const r = JSON.parse(execFileSync(process.execPath, ['main.mjs'], { cwd: app, encoding: 'utf8' }));
    assert.equal(r.top, 3, `node loads the wasm despite ${rewrite}`);
  }
  fs.writeFileSync(path.join(dist, 'index.js'), index);

  // require('hunch'): loads the ES module where node can (this one: ${process.version}); where it
  // cannot, a message that says to import it.
  fs.writeFileSync(path.join(app, 'req.cjs'), `const { Predictor, HunchError } = require('hunch');
const { prefetch } = require('hunch/dom');
console.log(JSON.stringify([typeof Predictor.fromBytes, new HunchError('x').name, typeof prefetch]));`);
  const [major, minor] = process.versions.node.split('.').map(Number);
  if ((major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major > 22)
    assert.deepEqual(JSON.parse(execFileSync(process.execPath, ['req.cjs'], { cwd: app, encoding: 'utf8' })), ['function', 'HunchError', 'function']);
  let refused = '';
  try {
    execFileSync(process.execPath, ['--no-experimental-require-module', 'req.cjs'], { cwd: app, encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    refused = e.stderr;
  }
  assert.match(refused, /hunch is an ES module package .* use import \{ Predictor \} from 'hunch'/, 'without require(esm): the stub explains');

  const types = path.join(app, 'types');
  fs.cpSync(path.join(jsRoot, 'test/types'), types, { recursive: true });
  fs.symlinkSync(path.join(app, 'node_modules'), path.join(types, 'node_modules'));
  const tsc = path.join(jsRoot, 'node_modules/typescript/bin/tsc');
  for (const cfg of ['tsconfig.bundler.json', 'tsconfig.node16.json', 'tsconfig.node-only.json']) {
    try {
      execFileSync(process.execPath, [tsc, '-p', cfg], { cwd: types, encoding: 'utf8' });
    } catch (e) {
      assert.fail(`tsc -p ${cfg}:\n${e.stdout}${e.stderr}`);
    }
  }
});
