// Builds the npm package into js/dist:
//   1. tsc: type-checks src/ and emits JS + .d.ts into dist/.tsc (declarations kept in dist/)
//   2. rolldown: bundles the entries (index.js, worker.js) with code splitting and minifies them,
//      so the main path is one small file (the size budget counts every byte a page loads)
//   3. copies hunch.mjs (minified: Emscripten's -O3 glue keeps long local names) and hunch.wasm
//      from the wasm build dir: $HUNCH_WASM_DIR, default ../build/wasm
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';
import { minifySync } from 'rolldown/utils';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dist = path.join(root, 'dist');
const tscOut = path.join(dist, '.tsc');
const wasmDir = path.resolve(root, process.env.HUNCH_WASM_DIR ?? '../build/wasm');

for (const f of ['hunch.mjs', 'hunch.wasm']) {
  if (!fs.existsSync(path.join(wasmDir, f))) {
    console.error(`build: ${path.join(wasmDir, f)} is missing: build the wasm target first (scripts/build.sh wasm), or set HUNCH_WASM_DIR`);
    process.exit(1);
  }
}

fs.rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', root, '--outDir', tscOut], { stdio: 'inherit' });

for (const f of fs.readdirSync(tscOut)) if (f.endsWith('.d.ts')) fs.copyFileSync(path.join(tscOut, f), path.join(dist, f));
fs.copyFileSync(path.join(root, 'src/hunch.d.mts'), path.join(dist, 'hunch.d.mts'));

// One build per entry: each entry is then one file (plus the chunks it imports dynamically:
// persistence, worker client), which gzips smaller than shared chunks would.
for (const entry of ['index', 'worker', 'dom']) {
  const bundle = await rolldown({
    input: { [entry]: path.join(tscOut, entry + '.js') },
    // The worker is one self-contained file (glue included): bundlers copy `new URL('./worker.js',
    // import.meta.url)` as a plain asset, without the chunks a split worker would import.
    external: entry === 'worker' ? [/^node:/] : [/\/hunch\.mjs$/, /^node:/],
    plugins: entry === 'worker' ? [{ name: 'hunch-glue', resolveId: (id) => (id.endsWith('/hunch.mjs') || id === './hunch.mjs' ? path.join(wasmDir, 'hunch.mjs') : null) }] : [],
    platform: 'neutral',
    treeshake: true,
    // Lets the dynamic chunks import shared code from the entry file instead of a third chunk.
    preserveEntrySignatures: 'allow-extension',
    transform: { target: 'es2022' },
  });
  // import.meta.url and the `new URL('./x', import.meta.url)` patterns stay as written: the
  // files sit side by side in dist/, and the bundlers of apps rewrite them.
  await bundle.write({
    dir: dist,
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: `${entry}-[name]-[hash].js`,
    codeSplitting: entry !== 'worker',
    minify: true,
    paths: (id) => (id.endsWith('/hunch.mjs') ? './hunch.mjs' : id),
  });
  await bundle.close();
}
fs.rmSync(tscOut, { recursive: true, force: true });

const glue = fs.readFileSync(path.join(wasmDir, 'hunch.mjs'), 'utf8');
const min = minifySync('hunch.mjs', glue, { module: true, compress: true, mangle: { toplevel: true } });
if (min.errors?.length) throw new Error('minifying hunch.mjs: ' + JSON.stringify(min.errors));
fs.writeFileSync(path.join(dist, 'hunch.mjs'), min.code);
fs.copyFileSync(path.join(wasmDir, 'hunch.wasm'), path.join(dist, 'hunch.wasm'));
// require('hunch'): node ≥ 20.19 / 22.12 loads the ES module itself (the "module-sync" export
// condition); older nodes get this file, which says what to do instead of a resolution error.
fs.writeFileSync(
  path.join(dist, 'require.cjs'),
  `'use strict';
// Reached only where require() cannot load ES modules (node < 20.19, 22.0-22.11).
const e = new Error("hunch is an ES module package and this node cannot require() ES modules (node >= 20.19 or >= 22.12 can): use import { Predictor } from 'hunch', or const { Predictor } = await import('hunch') from CommonJS");
e.code = 'ERR_REQUIRE_ESM';
throw e;
`,
);
console.log('build: dist/', fs.readdirSync(dist).filter((f) => !f.endsWith('.d.ts')).join(' '));
