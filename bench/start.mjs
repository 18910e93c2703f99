// Where hunch's cold start goes (node): fresh processes, medians.
//
//   node bench/start.mjs [--runs N] [--compare OTHER_SDK_DIR [--compare-label TEXT]] [--no-write]
//   (--compare: the same figures for another build of the SDK's dist/, e.g. before a change,
//    its processes alternating with this one's)
//   env: HUNCH_SDK_DIR (default js/dist), HUNCH_MAKE_MODELS (default build/native/bench-make-models)
//
// Two figures per model (the benchmark's int8 files: lstm-attn V 3,707 W 32, transformer W 200):
//  - end to end, as an app does it: `import` of the SDK → `Predictor.fromUrl(file URL)` (wasm
//    compile overlapped with the model read) → push → predict(10). This is the harness's "import →
//    first prediction" without the harness's own adapter.
//  - the split, each step on its own: SDK import; wasm read + `WebAssembly.compile`; the first
//    `fromBytes` (instantiate, heap growth, model parse); a second `fromBytes` of the same bytes
//    on the same instance (the parse alone); the core's `Model.load` under it; the SDK's
//    vocabulary decoding (names → JS strings); first push; first predict.
// Writes its table into bench/results/RESULTS.md between <!-- bench:start --> marks.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH, '..');
const SDK = path.resolve(process.env.HUNCH_SDK_DIR ?? path.join(ROOT, 'js/dist'));

async function child(mode, model) {
  const t0 = performance.now(), c0 = process.cpuUsage();
  const { Predictor } = await import(pathToFileURL(path.join(SDK, 'index.js')).href);
  const t1 = performance.now();
  if (mode === 'e2e') {
    const p = await Predictor.fromUrl(pathToFileURL(model));
    const s = p.sequence();
    s.push({ action: p.info.actions[1], time: 1.7e12 });
    s.predict({ k: 10 });
    const t2 = performance.now(), c = process.cpuUsage(c0);
    // CPU time of the process over the same span (all its threads): on a loaded machine the wall
    // time includes waiting for a core, the CPU time does not.
    return { importMs: t1 - t0, importToFirstPredictionMs: t2 - t0, importToFirstPredictionCpuMs: (c.user + c.system) / 1000 };
  }
  const wasm = fs.readFileSync(path.join(SDK, 'hunch.wasm'));
  const module = await WebAssembly.compile(wasm);
  const t2 = performance.now();
  const bytes = fs.readFileSync(model);
  const t3 = performance.now();
  const p = await Predictor.fromBytes(bytes, { wasmModule: module });
  const t4 = performance.now();
  const p2 = await Predictor.fromBytes(bytes, { wasmModule: module });
  const t5 = performance.now();
  const raw = new (p._rt().raw.Model)();
  raw.load(bytes);
  const t6 = performance.now();
  const names = new TextDecoder().decode(raw.actionNames()).split('\0');
  const t7 = performance.now();
  const s = p.sequence();
  s.push({ action: names[1], time: 1.7e12 });
  const t8 = performance.now();
  s.predict({ k: 10 });
  const t9 = performance.now();
  raw.delete(); p2.close(); p.close();
  return {
    sdkImportMs: t1 - t0, wasmCompileMs: t2 - t1, firstFromBytesMs: t4 - t3, secondFromBytesMs: t5 - t4,
    coreModelLoadMs: t6 - t5, vocabDecodeMs: t7 - t6, firstPushMs: t8 - t7, firstPredictMs: t9 - t8,
    wasmBytes: wasm.length, modelBytes: bytes.length,
  };
}

if (process.argv[2] === '--child') {
  console.log(JSON.stringify(await child(process.argv[3], process.argv[4])));
  process.exit(0);
}

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] || 0) || 9;
const makeModels = process.env.HUNCH_MAKE_MODELS ?? path.join(ROOT, 'build/native/bench-make-models');
const work = path.join(ROOT, 'build/bench/state');  // shared with bench/state.mjs: the same files
fs.mkdirSync(work, { recursive: true });
const med = (xs) => { const v = [...xs].sort((a, b) => a - b); return v[(v.length - 1) >> 1]; };
const rows = [];
const other = args.includes('--compare') ? path.resolve(args[args.indexOf('--compare') + 1]) : null;
const otherLabel = args.includes('--compare-label') ? args[args.indexOf('--compare-label') + 1] : other;
const sdks = other ? [[other, otherLabel], [SDK, 'this']] : [[SDK, '']];
for (const [arch, V, W] of [['lstm-attn', 3707, 32], ['transformer', 3707, 200]]) {
  const prefix = path.join(work, `${arch}-v${V}-w${W}`);
  if (!fs.existsSync(`${prefix}-int8.hunch`)) {
    const r = spawnSync(makeModels, [prefix, arch, String(V), String(W)], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${makeModels} failed (build it: scripts/build.sh native)`);
  }
  const one = (mode, sdk) => JSON.parse(spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', mode, `${prefix}-int8.hunch`],
    { encoding: 'utf8', env: { ...process.env, HUNCH_SDK_DIR: sdk } }).stdout.trim().split('\n').pop());
  const e2e = sdks.map(() => []), split = sdks.map(() => []);
  for (let i = 0; i < runs; i++)  // alternating, so that a change of load hits all
    sdks.forEach(([sdk], j) => { e2e[j].push(one('e2e', sdk)); split[j].push(one('split', sdk)); });
  const m = (xs, k) => med(xs.map((x) => x[k]));
  sdks.forEach(([sdk, label], j) => {
    const row = { model: `${arch} W ${W}${label ? ` (${label === 'this' ? path.relative(ROOT, sdk) : label})` : ''}`, runs,
      importToFirstPredictionMs: m(e2e[j], 'importToFirstPredictionMs'), importToFirstPredictionCpuMs: m(e2e[j], 'importToFirstPredictionCpuMs') };
    for (const k of Object.keys(split[j][0])) row[k] = m(split[j], k);
    rows.push(row);
    console.error(JSON.stringify(row));
  });
}
const f = (x) => x.toFixed(x < 10 ? 2 : 1);
const lines = ['### Where hunch\'s cold start goes (node, `node bench/start.mjs`)', '',
  `Load average at start ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')} on ${os.cpus().length} cores (with other jobs running, wall times include waiting for a core; the CPU time column does not). Fresh node processes, medians of ${runs}, the benchmark's int8 models, SDK from \`${path.relative(ROOT, SDK)}\`. End to end: import of the SDK → \`Predictor.fromUrl\` (file URL: the wasm compile overlaps the model read) → push → predict. The split times each step alone in another process: the first \`fromBytes\` is instantiate + heap growth + model parse + the SDK's vocabulary strings; the second one is the same without the instantiate; "core Model.load" and "vocabulary decode" are its two parts.`, '',
  '| model | import → first prediction ms | its CPU time ms | SDK import | wasm compile | first fromBytes | second fromBytes | core Model.load | vocabulary decode | first push | first predict | hunch.wasm / model bytes |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|'];
for (const r of rows)
  lines.push(`| ${r.model} | ${f(r.importToFirstPredictionMs)} | ${f(r.importToFirstPredictionCpuMs)} | ${f(r.sdkImportMs)} | ${f(r.wasmCompileMs)} | ${f(r.firstFromBytesMs)} | ${f(r.secondFromBytesMs)} | ${f(r.coreModelLoadMs)} | ${f(r.vocabDecodeMs)} | ${f(r.firstPushMs)} | ${f(r.firstPredictMs)} | ${r.wasmBytes} / ${r.modelBytes} |`);
const section = lines.join('\n');
console.log(section);
if (!args.includes('--no-write')) {
  const { writeSection } = await import('./state.mjs');
  writeSection(path.join(BENCH, 'results/RESULTS.md'), `${section}\n\nMeasured ${new Date().toISOString()}.`, 'start');
}
process.exit(0);
