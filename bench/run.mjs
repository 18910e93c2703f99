// hunch beside onnxruntime-web and tfjs-wasm, in one run, with the same weights.
//
//   node bench/run.mjs            full run (≈ 30 min on the 2-core machine)
//   node bench/run.mjs --quick    a few minutes: one process per figure, fewer scaling points
//   options: --skip-setup (no apt-get / npm ci / builds), --no-idle-guard, --idle-wait S,
//            --no-browser, --no-train (full mode trains; --quick trains only with --train),
//            --train-epochs N (2), --train-repeats N (2)
//
// What it does, in order (bench/README.md explains each figure):
//  1. setup: Debian's python3-torch / python3-onnx / libopenblas0-pthread, `npm ci` here, the
//     random-model writer (bench/peers/make-models.cpp, CMake target bench-make-models) and a
//     snapshot of the SDK (js/dist, built from build/wasm).
//  2. per model configuration, a "stage" in build/bench/stage/NAME: the .hunch pair (f32, int8),
//     hunch's f32 top-10 for fixed events (reference.json), the ONNX graph and raw weights
//     exported from the f32 file (bench/peers/export_peers.py, which also checks torch's top-10).
//  3. the shared harness (../shared/bench/peers/lib/run_one.mjs, run unmodified through the
//     stage's lib/ symlink) in fresh processes, hunch / ORT / tfjs alternating: correctness
//     against hunch f32, warm latency, cold start, memory.
//  4. shipped bytes with the shared sizes.mjs; optional training; saved states (bench/state.mjs);
//     big catalogues (bench/packed.mjs); RESULTS.md, summary.json, SVGs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH, '..');
const SHARED = path.resolve(process.env.HUNCH_SHARED_PEERS ?? path.join(ROOT, '../shared/bench/peers'));
const WORK = path.join(ROOT, 'build/bench');
const OUT = path.join(BENCH, 'results');
const NATIVE = path.join(ROOT, 'build/native');
const WASM = path.join(ROOT, 'build/wasm');
const PY = '/usr/bin/python3';  // Debian's python: a pyenv python3 on PATH has no torch

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const opt = (f, d) => { const i = args.indexOf(f); return i < 0 ? d : args[i + 1]; };
// The shared idle guard waits until other processes use < 0.25 core. On a shared 2-core machine
// that may never happen: after --idle-wait seconds it measures anyway and the load is reported.
const IDLE_WAIT = args.includes('--no-idle-guard') ? 0 : Number(opt('--idle-wait', QUICK ? 0 : 15));
const t0 = Date.now();
const log = (s) => process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${s}\n`);
const run = (cmd, argv, o = {}) => {
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28, ...o, env: { ...process.env, ...(o.env || {}) } });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${String(r.stderr).slice(-3000)}${String(r.stdout).slice(-1000)}`);
  return String(r.stdout);
};

// ---------------------------------------------------------------- plan ----------------------
const PLAN = QUICK
  ? { warmRepeats: 1, cold: 3, runs: { lstm: 2000, attn: 1000 }, scaleRuns: 300,
      contexts: [32, 128, 512], lstmContexts: [32, 512], vocabs: [1000, 3707, 100000] }
  : { warmRepeats: 3, cold: 7, runs: { lstm: 5000, attn: 2000 }, scaleRuns: 1000,
      contexts: [32, 50, 64, 128, 200, 256, 512], lstmContexts: [32, 128, 512], vocabs: [1000, 3707, 10000, 100000] };
const V0 = 3707;  // the issue's default shapes: V 3,707, D 64, H 128, A 64; W 32 (lstm-attn)
const ADAPTERS = {
  hunch: { file: path.join(BENCH, 'peers/adapters/hunch.mjs'), label: 'hunch (int8, SDK)' },
  ort: { file: path.join(BENCH, 'peers/adapters/ort.mjs'), label: 'onnxruntime-web' },
  tfjs: { file: path.join(BENCH, 'peers/adapters/tfjs.mjs'), label: 'tfjs-wasm' },
};
const PEERS = ['ort', 'tfjs'];

// ---------------------------------------------------------------- 1. setup ------------------
function setup() {
  const haveTorch = spawnSync(PY, ['-c', 'import torch, onnx'], { stdio: 'ignore' }).status === 0;
  if (!haveTorch) {
    log('apt-get install -y python3-torch python3-onnx libopenblas0-pthread');
    run('apt-get', ['update'], { stdio: 'inherit' });
    run('apt-get', ['install', '-y', 'python3-torch', 'python3-onnx', 'libopenblas0-pthread'], { stdio: 'inherit', env: { DEBIAN_FRONTEND: 'noninteractive' } });
  }
  log('npm ci (bench/)');
  run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: BENCH });
  // The project's own build (scripts/build.sh): build/native has the CLI (training row) and the
  // random-model writer (CMake target bench-make-models); build/wasm the SDK's hunch.wasm.
  log('scripts/build.sh all; js/: npm run build');
  run('bash', [path.join(ROOT, 'scripts/build.sh'), 'all']);
  if (!fs.existsSync(path.join(ROOT, 'js/node_modules'))) run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: path.join(ROOT, 'js') });
  run('npm', ['run', 'build'], { cwd: path.join(ROOT, 'js'), env: { HUNCH_WASM_DIR: WASM } });
}

// A snapshot, so that a rebuild of js/dist during the run cannot mix two builds.
function snapshotSdk() {
  const sdk = path.join(WORK, 'sdk');
  fs.rmSync(sdk, { recursive: true, force: true });
  fs.cpSync(path.join(ROOT, 'js/dist'), sdk, { recursive: true });
  // js/package.json makes dist/*.js ES modules; without it node re-parses them (slower cold start)
  fs.writeFileSync(path.join(sdk, 'package.json'), '{"type": "module"}\n');
  return sdk;
}

// ---------------------------------------------------------------- 2. stages -----------------
const stages = new Map();
function stage(arch, V, W) {
  const key = arch === 'lstm-attn' ? 'lstm' : `attn${W}`;
  const name = `${arch === 'lstm-attn' ? 'lstm' : 'attn'}-v${V}-w${W}`;
  if (stages.has(name)) return stages.get(name);
  const dir = path.join(WORK, 'stage', name);
  const models = path.join(dir, 'models');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(models, { recursive: true });
  for (const f of ['lib', 'sizes.mjs']) fs.symlinkSync(path.join(SHARED, f), path.join(dir, f));
  fs.symlinkSync(path.join(BENCH, 'node_modules'), path.join(dir, 'node_modules'));
  run(path.join(NATIVE, 'bench-make-models'), [path.join(models, 'hunch'), arch, String(V), String(W)]);
  // spec.json: what the shared harness reads (V for its event ids) and our adapters read (shapes)
  const spec = { V, T: 5, D: 64, H: 128, A: 64, W, NH: 1, LAYERS: 2, TOPK: 10 };
  fs.writeFileSync(path.join(dir, 'spec.json'), JSON.stringify(spec));
  run(process.execPath, [path.join(BENCH, 'peers/reference.mjs'), dir, key], { env: { HUNCH_SDK_DIR: SDK } });
  const out = run(PY, [path.join(BENCH, 'peers/export_peers.py'), path.join(models, 'hunch-f32.hunch'), models, key, '--check', path.join(models, 'reference.json')]);
  const info = JSON.parse(fs.readFileSync(path.join(models, `${key}.info.json`), 'utf8'));
  for (const k of ['V', 'T', 'W', 'D']) if (info[k] !== spec[k]) throw new Error(`${name}: exported ${k}=${info[k]}, spec ${spec[k]}`);
  const s = { name, arch, V, W, key, dir, models, exportLog: out.trim(), torch: torchCheck(models, key) };
  s.bytes = Object.fromEntries(['hunch-int8.hunch', 'hunch-f32.hunch', `${key}.onnx`, `${key}.weights.bin`].map((f) => [f, fs.statSync(path.join(models, f)).size]));
  stages.set(name, s);
  log(`stage ${name}: torch vs hunch f32 top-10 ${s.torch.exact}/${s.torch.of} identical, max |Δp| ${s.torch.maxAbsValErr.toExponential(1)}`);
  return s;
}

function torchCheck(models, key) {
  const ref = JSON.parse(fs.readFileSync(path.join(models, 'reference.json'), 'utf8'));
  const tor = JSON.parse(fs.readFileSync(path.join(models, `${key}.torch.json`), 'utf8'));
  const pairs = key === 'lstm' ? ref.lstm.steps.map((s, i) => [s, tor.lstm.steps[i]]) : Object.keys(ref.attn).map((L) => [ref.attn[L], tor.attn[L]]);
  let exact = 0, maxAbsValErr = 0;
  for (const [a, b] of pairs) {
    if (JSON.stringify(a.indices) === JSON.stringify(b.indices)) exact++;
    a.values.forEach((v, k) => { maxAbsValErr = Math.max(maxAbsValErr, Math.abs(v - b.values[k])); });
  }
  return { exact, of: pairs.length, maxAbsValErr };
}

// ---------------------------------------------------------------- 3. measurements -----------
let idleLog = [];
async function idle(what) {
  const { waitForIdle } = await import(path.join(SHARED, 'lib/idle.mjs'));
  const r = await waitForIdle({ maxWaitS: IDLE_WAIT, log: () => {} });
  idleLog.push({ what, ...r });
  if (!r.ok) log(`idle guard: ${r.busyCoresBeforeRun} cores busy with other processes before ${what} (waited ${r.waitedS} s); measuring anyway`);
  return r;
}

// One fresh process of the shared harness: node --preserve-symlinks STAGE/lib/run_one.mjs ADAPTER MODEL
function runOne(s, adapter, extra, env = {}) {
  const out = run(process.execPath, ['--preserve-symlinks', '--preserve-symlinks-main', path.join(s.dir, 'lib/run_one.mjs'), ADAPTERS[adapter].file, s.key, ...extra],
    { cwd: s.dir, env: { HUNCH_BENCH_STAGE: s.dir, HUNCH_SDK_DIR: SDK, ...env } });
  return JSON.parse(out.trim().split('\n').filter((l) => l.startsWith('{')).pop());
}
const med = (xs) => { const v = xs.filter((x) => x != null).sort((a, b) => a - b); return v.length ? v[Math.floor((v.length - 1) / 2)] : null; };
const opOf = (r) => r.step || r.window || r.incremental;

// Warm latency: `repeats` fresh processes per runtime, alternating hunch / ORT / tfjs so that a
// change in machine load hits all of them; the process whose median is the median is reported.
async function warm(s, runs, repeats) {
  await idle(`${s.name} warm`);
  const by = Object.fromEntries(Object.keys(ADAPTERS).map((a) => [a, []]));
  for (let r = 0; r < repeats; r++)
    for (const a of Object.keys(ADAPTERS)) {
      try { by[a].push(runOne(s, a, ['--runs', String(runs), '--warmup', '200'])); }
      catch (e) { log(`${s.name} ${a}: FAILED ${String(e.message).slice(0, 800)}`); }
    }
  const res = {};
  for (const [a, rs] of Object.entries(by)) {
    if (!rs.length) { res[a] = { error: 'failed' }; continue; }
    rs.sort((x, y) => opOf(x).median - opOf(y).median);
    const m = rs[Math.floor((rs.length - 1) / 2)];
    res[a] = { ...m, op: opOf(m), opName: m.step ? 'step' : m.window ? 'window' : 'incremental', medians: rs.map((x) => opOf(x).median), busy: rs.map((x) => x.othersBusyCores) };
  }
  log(`${s.name}: ` + Object.entries(res).map(([a, r]) => r.error ? `${a} FAILED` : `${a} ${r.op.median.toFixed(4)} ms (p95 ${r.op.p95.toFixed(3)}, ${r.correctness.allExact ? 'top-10 exact' : `overlap ≥ ${r.correctness.minOverlap}/10`})`).join(', '));
  return res;
}

async function cold(s, n) {
  await idle(`${s.name} cold`);
  const by = Object.fromEntries(Object.keys(ADAPTERS).map((a) => [a, []]));
  for (let i = 0; i < n; i++) for (const a of Object.keys(ADAPTERS)) by[a].push(runOne(s, a, ['--cold-only']));
  const res = {};
  for (const [a, rs] of Object.entries(by)) {
    const c = rs.map((r) => r.cold);
    res[a] = {
      n, importToFirstPredictMs: med(c.map((x) => x.readyFromImportMs + x.firstPredictMs)), importToReadyMs: med(c.map((x) => x.readyFromImportMs)),
      processToFirstPredictMs: med(c.map((x) => x.readyFromProcessStartMs + x.firstPredictMs)), firstPredictMs: med(c.map((x) => x.firstPredictMs)),
      busy: med(rs.map((r) => r.othersBusyCores)),
    };
  }
  log(`${s.name} cold (median of ${n}): ` + Object.entries(res).map(([a, r]) => `${a} ${r.importToFirstPredictMs.toFixed(0)} ms`).join(', '));
  return res;
}

// Per-sequence state: what hunch's Sequence holds in wasm memory, and its saved bytes, vs what a
// peer's caller must keep per user (the cache tensors / the window of ids).
function stateBytes(s) {
  const code = `
    const { load } = await import(${JSON.stringify(ADAPTERS.hunch.file)});
    const p = await load(${JSON.stringify(s.key)});
    for (let i = 0; i < ${s.W + 5}; i++) p.step(1 + (i * 7) % ${s.V - 1});
    const o = { hunchStateBytes: p.stateBytes(), hunchSavedBytes: p.saveState().length };
    const ort = await (await import(${JSON.stringify(ADAPTERS.ort.file)})).load(${JSON.stringify(s.key)});
    o.peerStateBytes = ort.stateBytes();
    console.log(JSON.stringify(o)); process.exit(0);`;
  return JSON.parse(run(process.execPath, ['--input-type=module', '-e', code], { env: { HUNCH_BENCH_STAGE: s.dir, HUNCH_SDK_DIR: SDK } }).trim());
}

// Shipped bytes with the shared sizes.mjs (raw, gzip -9, brotli 11), run from a stage so that
// its node_modules/ are ours; hunch's bundle is what a page fetches for Predictor.fromUrl.
async function sizes(s) {
  fs.rmSync(path.join(s.dir, 'sdk'), { force: true, recursive: true });
  fs.symlinkSync(SDK, path.join(s.dir, 'sdk'));
  const code = `
    const m = await import(${JSON.stringify(path.join(s.dir, 'sizes.mjs'))});
    const pick = (k) => Object.entries(m.BUNDLES).filter(([n]) => n.startsWith(k));
    const b = Object.fromEntries([...pick('onnxruntime-web/wasm'), ...pick('tfjs-core + tfjs-backend-wasm')]);
    b['hunch SDK (index.js + hunch.mjs + hunch.wasm)'] = ['sdk/index.js', 'sdk/hunch.mjs', 'sdk/hunch.wasm'];
    const fs = await import('node:fs');
    const key = JSON.stringify(Object.values(b).flat().map((f) => { const st = fs.statSync(f); return [f, st.size, st.mtimeMs]; }));
    // brotli 11 of ORT's 14 MB wasm takes minutes on this machine: reuse the figures while no file changed
    const cacheFile = ${JSON.stringify(path.join(WORK, 'sizes-cache.json'))};
    let cache = {}; try { cache = JSON.parse(fs.readFileSync(cacheFile, 'utf8')); } catch {}
    if (cache.key !== key) { cache = { key, sizes: m.allSizes(b) }; fs.writeFileSync(cacheFile, JSON.stringify(cache)); }
    console.log(JSON.stringify(cache.sizes));`;
  return JSON.parse(run(process.execPath, ['--preserve-symlinks', '--preserve-symlinks-main', '--input-type=module', '-e', code], { cwd: s.dir }).trim());
}

function sizeOfModels(s) {  // gzip -9 / brotli of the model files, same method as sizes.mjs
  const files = ['hunch-int8.hunch', 'hunch-f32.hunch', `${s.key}.onnx`, `${s.key}.weights.bin`].map((f) => `models/${f}`);
  const code = `const m = await import(${JSON.stringify(path.join(s.dir, 'sizes.mjs'))}); console.log(JSON.stringify(${JSON.stringify(files)}.map(m.sizeOf)));`;
  return JSON.parse(run(process.execPath, ['--preserve-symlinks', '--preserve-symlinks-main', '--input-type=module', '-e', code], { cwd: s.dir }).trim());
}

// ---------------------------------------------------------------- 4. training ---------------
// `hunch train` vs the shared PyTorch reference (SASRec-CE) on MovieLens-1M, the same
// architecture and sizes (2 blocks, 1 head, d 64, FFN 64, window/max length 200, batch 128, Adam
// 1e-3, dropout 0.2, 2 threads), alternating runs. Seconds per epoch = each tool's own training
// wall time of an epoch (evaluation excluded, as PROTOCOL.md §9); peak RSS from /usr/bin/time.
// Validation NDCG@10 (full ranking, seen items excluded) after the same number of epochs: a
// short run, not the converged figure.
function training() {
  const hunch = process.env.HUNCH_CLI ?? [path.join(NATIVE, 'hunch'), path.join(ROOT, 'build/native/hunch')].find((p) => fs.existsSync(p)) ?? path.join(NATIVE, 'hunch');
  const data = path.resolve(ROOT, '../shared/data/ml-1m/ml-1m.txt');
  const ref = path.join(path.dirname(SHARED), 'reference/seqrec_ref.py');
  if (!fs.existsSync(hunch) || spawnSync(hunch, ['train', '--help'], { stdio: 'ignore' }).status !== 0)
    return { skipped: `no working \`${path.relative(ROOT, hunch)} train\` (build it: scripts/build.sh native; or set HUNCH_CLI)` };
  if (!fs.existsSync(data)) return { skipped: `${data} missing` };
  const epochs = Number(opt('--train-epochs', 2)), repeats = Number(opt('--train-repeats', 2));
  const tmp = path.join(WORK, 'train');
  fs.mkdirSync(tmp, { recursive: true });
  const runs = [];
  for (let r = 0; r < repeats; r++) {
    const h = timed(hunch, ['train', data, '--format', 'pairs', '--session-gap', '0', '--min-count', '1', '--arch', 'transformer',
      '--embed', '64', '--layers', '2', '--heads', '1', '--ffn', '64', '--window', '200', '--max-len', '200', '--batch', '128',
      '--dropout', '0.2', '--epochs', String(epochs), '--patience', '0', '--exclude-seen', '--threads', '2', '-o', path.join(tmp, 'ml1m.hunch')]);
    h.epochs = [...h.out.matchAll(/epoch\s+(\d+)\s+loss\s+([\d.]+)\s+valid NDCG@10\s+([\d.]+).*?\s([\d.]+) s \(/g)].map((m) => ({ epoch: +m[1], ndcg10: +m[3], seconds: +m[4] }));
    runs.push({ who: 'hunch', ...h });
    log(`train hunch: ${h.epochs.map((e) => `${e.seconds} s`).join(', ')}; NDCG@10 ${h.epochs.at(-1)?.ndcg10}; peak RSS ${(h.peakRss / 2 ** 20).toFixed(0)} MiB`);
    const jsonOut = path.join(tmp, `torch-${r}.json`);
    const t = timed(PY, [ref, '--data', data, '--model', 'sasrec-ce', '--d', '64', '--blocks', '2', '--heads', '1', '--maxlen', '200',
      '--batch', '128', '--dropout', '0.2', '--threads', '2', '--epochs', String(epochs), '--out', jsonOut], { OMP_WAIT_POLICY: 'PASSIVE' });
    try {
      const j = JSON.parse(fs.readFileSync(jsonOut, 'utf8'));
      t.epochs = j.log.map((e) => ({ epoch: e.epoch, ndcg10: e.valid?.full?.['NDCG@10'], seconds: e.epoch_s }));
    } catch { t.epochs = []; }
    runs.push({ who: 'pytorch', ...t });
    log(`train pytorch: ${t.epochs.map((e) => `${e.seconds?.toFixed(1)} s`).join(', ')}; NDCG@10 ${t.epochs.at(-1)?.ndcg10}; peak RSS ${(t.peakRss / 2 ** 20).toFixed(0)} MiB`);
  }
  for (const r of runs) r.out = r.out.slice(-3000);
  return { epochs, repeats, runs };
}
function timed(cmd, argv, env = {}) {
  const a = Date.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'MAXRSS_KB=%M', cmd, ...argv], { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, ...env } });
  const rss = Number((r.stderr.match(/MAXRSS_KB=(\d+)/) || [])[1]) * 1024;
  return { cmd: [cmd, ...argv].map((x) => x.replace(ROOT + '/', '')).join(' '), status: r.status, wallS: (Date.now() - a) / 1000, peakRss: rss, out: r.stdout + r.stderr };
}

// ---------------------------------------------------------------- main ----------------------
if (!args.includes('--skip-setup')) setup();
const SDK = snapshotSdk();
const versions = {
  node: process.version,
  ...Object.fromEntries(['onnxruntime-web', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm'].map((p) => [p, JSON.parse(fs.readFileSync(path.join(BENCH, 'node_modules', p, 'package.json'), 'utf8')).version])),
  torch: run(PY, ['-c', 'import torch, onnx; print(torch.__version__, onnx.__version__)']).trim(),
  hunchWasmBytes: fs.statSync(path.join(SDK, 'hunch.wasm')).size,
};
const machine = { cpu: os.cpus()[0].model, cores: os.cpus().length, memGiB: +(os.totalmem() / 2 ** 30).toFixed(1), os: `${os.type()} ${os.release()}`, loadavgStart: os.loadavg().map((x) => +x.toFixed(2)) };
log(`machine: ${machine.cpu}, ${machine.cores} cores, load ${machine.loadavgStart.join(' ')}; ${QUICK ? 'QUICK' : 'FULL'} run`);

const R = { quick: QUICK, plan: PLAN, versions, machine, started: new Date().toISOString(), headline: {}, browser: {}, profile: {}, context: [], vocab: [], lstmContext: [] };
// headline shapes
for (const [arch, W, cls] of [['lstm-attn', 32, 'lstm'], ['transformer', 50, 'attn'], ['transformer', 200, 'attn']]) {
  const s = stage(arch, V0, W);
  R.headline[s.name] = { stage: pick(s), warm: await warm(s, PLAN.runs[cls], PLAN.warmRepeats), cold: await cold(s, PLAN.cold), state: stateBytes(s), modelSizes: sizeOfModels(s) };
}
// where hunch's time goes (notes on missed targets): cold start split, push vs predict vs SDK
R.profile = {};
for (const name of [`lstm-v${V0}-w32`, `attn-v${V0}-w200`]) {
  const s = stages.get(name);
  const model = path.join(s.models, 'hunch-int8.hunch');
  const prof = (mode) => JSON.parse(run(process.execPath, [path.join(BENCH, 'peers/profile.mjs'), mode, SDK, model]).trim().split('\n').pop());
  const colds = Array.from({ length: PLAN.cold }, () => prof('cold'));
  const warms = Array.from({ length: PLAN.warmRepeats }, () => prof('warm'));
  const medOf = (xs) => Object.fromEntries(Object.keys(xs[0]).map((k) => [k, med(xs.map((x) => x[k]))]));
  R.profile[name] = { cold: medOf(colds), warm: medOf(warms) };
  log(`${name} profile: ${JSON.stringify(R.profile[name])}`);
}
R.sizes = await sizes(stages.get(`lstm-v${V0}-w32`));
// context scaling (transformer: peers recompute the window; lstm-attn: peers pass the cache)
for (const W of PLAN.contexts) {
  const s = stage('transformer', V0, W);
  const h = R.headline[s.name];
  R.context.push({ W, stage: pick(s), warm: h ? h.warm : await warm(s, PLAN.scaleRuns, 1) });
}
for (const W of PLAN.lstmContexts) {
  const s = stage('lstm-attn', V0, W);
  const h = R.headline[s.name];
  R.lstmContext.push({ W, stage: pick(s), warm: h ? h.warm : await warm(s, PLAN.scaleRuns, 1) });
}
// vocabulary scaling, both architectures (transformer at W 200)
for (const V of PLAN.vocabs)
  for (const [arch, W] of [['lstm-attn', 32], ['transformer', 200]]) {
    const s = stage(arch, V, W);
    const h = R.headline[s.name];
    R.vocab.push({ V, arch, stage: pick(s), warm: h ? h.warm : await warm(s, PLAN.scaleRuns, 1) });
  }
if (!args.includes('--no-browser'))
  for (const name of [`lstm-v${V0}-w32`, `attn-v${V0}-w50`, `attn-v${V0}-w200`]) {
    const s = stages.get(name);
    fs.rmSync(path.join(s.dir, 'sdk'), { force: true, recursive: true });
    fs.symlinkSync(SDK, path.join(s.dir, 'sdk'));
    await idle(`${name} browser`);
    try {
      const r = JSON.parse(run(process.execPath, [path.join(BENCH, 'peers/browser.mjs'), s.dir, s.key, '--runs', '1000', '--repeat', String(PLAN.warmRepeats)]).trim().split('\n').pop());
      R.browser[name] = r;
      log(`${name} chromium: hunch ${r.hunch.median?.toFixed(3)} ms, ort ${r.ort.median?.toFixed(3)} ms; cold nav→first prediction hunch ${r.hunch.coldNavToFirstMs?.toFixed(0)} ms, ort ${r.ort.coldNavToFirstMs?.toFixed(0)} ms`);
    } catch (e) { R.browser[name] = { error: String(e.message).slice(0, 1500) }; log(`${name} chromium FAILED`); }
  }
if (QUICK ? args.includes('--train') : !args.includes('--no-train')) {
  await idle('training');
  log('training: hunch train vs seqrec_ref.py (alternating)');
  R.training = training();
}
// Saved states: size at 1, 5, W/2, W, 2W events and what a restore reproduces (bench/state.mjs)
{
  const { measureStates } = await import('./state.mjs');
  R.states = await measureStates({ sdkDir: SDK, makeModels: path.join(NATIVE, 'bench-make-models'), work: path.join(WORK, 'state') });
}
// Big catalogues (issue 17): packed tables and the sparse count head at V 1k / 10k / 100k, in
// this run so that the targets table has its file-size and 100k push + top-10 rows from it
{
  await idle('packed tables');
  const { measurePacked } = await import('./packed.mjs');
  const calls = QUICK ? 1000 : 3000;
  R.packed = await measurePacked({ sdkDir: SDK, hunch: path.join(NATIVE, 'hunch'), makeModels: path.join(NATIVE, 'bench-make-models'),
    work: path.join(WORK, 'packed'), calls, command: `node bench/run.mjs${QUICK ? ' --quick' : ''}` });
  log(`packed: ${R.packed.summary.map((x) => `V ${x.V}: ${x.packedBytes} B, tied packed ${x.packedUs.toFixed(1)} µs, count head ${x.countsUs.toFixed(1)} µs`).join('; ')}`);
}
R.idle = idleLog;
R.machine.loadavgEnd = os.loadavg().map((x) => +x.toFixed(2));
R.finished = new Date().toISOString();
R.wallS = (Date.now() - t0) / 1000;
function pick(s) { return { name: s.name, arch: s.arch, V: s.V, W: s.W, bytes: s.bytes, torch: s.torch }; }

fs.mkdirSync(OUT, { recursive: true });
fs.mkdirSync(path.join(OUT, 'tmp'), { recursive: true });
fs.writeFileSync(path.join(OUT, 'tmp', 'raw.json'), JSON.stringify(R, null, 1));
const { report } = await import('./peers/report.mjs');
report(R, OUT);
{
  const { stateSection, writeSection } = await import('./state.mjs');
  writeSection(path.join(OUT, 'RESULTS.md'), stateSection(R.states, 'node bench/run.mjs'));
}
log(`wrote ${path.relative(ROOT, OUT)}/RESULTS.md, summary.json, latency-vs-context.svg, latency-vs-vocab.svg (raw: results/tmp/raw.json)`);
