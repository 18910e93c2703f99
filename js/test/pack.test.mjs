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
  for (const f of files) assert.match(f, /^(package\.json|README\.md|dist\/[^/]+\.(js|mjs|d\.ts|d\.mts|wasm))$/, `${f} does not belong in the tarball`);

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

  const types = path.join(app, 'types');
  fs.cpSync(path.join(jsRoot, 'test/types'), types, { recursive: true });
  fs.symlinkSync(path.join(app, 'node_modules'), path.join(types, 'node_modules'));
  const tsc = path.join(jsRoot, 'node_modules/typescript/bin/tsc');
  for (const cfg of ['tsconfig.bundler.json', 'tsconfig.node16.json']) {
    try {
      execFileSync(process.execPath, [tsc, '-p', cfg], { cwd: types, encoding: 'utf8' });
    } catch (e) {
      assert.fail(`tsc -p ${cfg}:\n${e.stdout}${e.stderr}`);
    }
  }
});
