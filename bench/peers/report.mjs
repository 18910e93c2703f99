// Turns the raw figures of bench/run.mjs into bench/results/RESULTS.md, summary.json and the two
// SVG plots. Every number printed comes from the raw object; nothing here measures.
import fs from 'node:fs';
import path from 'node:path';
import { STATE_TARGETS } from '../state.mjs';
import { PACKED_TARGETS } from '../packed.mjs';

const PEER = { ort: 'onnxruntime-web', tfjs: 'tfjs-wasm' };
const f = (x, d = 3) => (x == null || Number.isNaN(x) ? '–' : Number(x).toFixed(d));
const us = (ms) => (ms == null ? '–' : ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`);
const kib = (b) => (b == null ? '–' : `${(b / 1024).toFixed(1)}`);
const ratioTxt = (r) => (r == null ? '–' : r < 0.01 ? `1/${(1 / r).toFixed(0)}` : r.toFixed(3));

// How far a row is from its target: hunch's figure for an absolute target, the ratio otherwise.
const timesTarget = (r) => (r.absolute ? r.hunch : r.ratio) / r.target;
const fmtValue = (r, v) => (v == null ? '–' : r.unit === 'ms' ? us(v) : r.unit === 'bytes' ? `${kib(v)} KiB` : r.unit === 'B' ? `${Math.round(v).toLocaleString('en')} B` : r.unit === 's' ? `${v.toFixed(1)} s` : f(v, 4));

// Where the time of a missed target goes, from this run's profile (bench/peers/profile.mjs), and
// what would close it. The reasoning behind each sentence: bench/README.md, "The missed targets".
function whyMissed(r, R) {
  // The headline model the row is about: named in the metric, or by its architecture (W 200 for the transformer)
  const names = Object.keys(R.headline);
  const name = names.find((n) => r.metric.includes(n)) ??
    names.find((n) => (/lstm-attn/.test(r.metric) && n.startsWith('lstm')) || (/transformer/.test(r.metric) && n.endsWith('w200')));
  const p = name ? R.profile?.[name] : null;
  const split = p ? `push ${f(p.warm.rawPushUs, 1)} µs (the network step and the type/exit heads), predict ${f(p.warm.rawPredictUs, 1)} µs (the int8 action head's GEMV over all V rows, the softmax denominator's exp-sum over all V, the top-10 scan) and the SDK's JS ${f(p.warm.sdkOverheadUs, 1)} µs (bench/peers/profile.mjs, medians of fresh processes)` : '';
  if (/vs its int8 MACs/.test(r.metric))
    return `The limit counts only multiply-adds. hunch's step: ${split}. The action head's GEMV is 64 × V of the step's MACs and runs near the SIMD peak; what the limit does not count is the exp-sum over all V logits (its own pass, one exp per action), the gates' sigmoid/tanh, quantising each activation vector, the top-10 scan and the Embind call. What would close it: a denominator that does not touch every action (it is there only for the returned probabilities), or a cheaper vectorised exp; the GEMV itself has no room.`;
  if (/^latency lstm-attn W=32 median/.test(r.metric) && name) {
    const w = R.headline[name].warm;
    return `The processes' medians: hunch ${(w.hunch?.medians ?? []).map(us).join(', ')}; ORT ${(w.ort?.medians ?? []).map(us).join(', ')}. hunch's step: ${split}. On 2026-12-04 a process ran either at ~31 µs or at ~45 µs per push + top-10 on a quiet machine while push alone and predict alone kept their speed (bench/README.md, "The missed targets"), so the median of three processes moves between the two. What would close it: removing the slow mode, and the predict half (see the MAC-limit row).`;
  }
  if (/^latency transformer/.test(r.metric)) {
    const flat = R.context.filter((x) => x.W === 32 || x.W === 512).map((x) => `${us(x.warm.hunch?.op?.median)} at W ${x.W}`).join(', ');
    return `hunch's step grows slowly with W (the attention over the cached window; §5: ${flat}) while ORT's window forward grows with W, so the ratio is mostly ORT's window time. hunch's step: ${split}. The target needs ${us(r.peer_value * r.target)}, ${us(r.hunch - r.peer_value * r.target)} less (Chromium's figure for the same pair: §2). What would close it: the predict half, which does not depend on W and is the same work as lstm-attn's (the MAC-limit row), or a faster push (two blocks of int8 GEMVs and attention over the cached window).`;
  }
  if (/^cold start/.test(r.metric) && p) {
    const c = p.cold;
    return `hunch's import → first prediction in this run: SDK import ${f(c.sdkImportMs, 1)} ms, \`WebAssembly.compile\` ${f(c.wasmCompileMs, 1)} ms, \`fromBytes\` ${f(c.fromBytesMs, 1)} ms (instantiate, Emscripten and Embind start-up, the model's parse — a second load of the same model, the parse alone: ${f(c.secondModelLoadMs, 1)} ms), the first push ${f(c.firstPushMs, 1)} ms (node compiles each wasm function on its first call) and the first predict ${f(c.firstPredictMs, 2)} ms (hunch.wasm ${c.wasmBytes.toLocaleString('en')} B, model ${c.modelBytes.toLocaleString('en')} B). The target leaves ${f(r.peer_value * r.target, 1)} ms for all of it. What would close it: the instantiate and first-call compilation are V8's costs of the module as shipped — fewer, smaller functions on the load and first-push path, or a compiled-code cache (browsers keep one for a repeat visit; node's harness starts fresh every time).`;
  }
  if (/^chromium cold start/.test(r.metric)) {
    const b = Object.entries(R.browser ?? {}).find(([n]) => r.metric.includes(n))?.[1];
    if (b?.hunch?.coldImportToFirstMs != null) {
      const fixed = b.hunch.coldNavToFirstMs - b.hunch.coldImportToFirstMs;
      const need = b.hunch.coldNavToFirstMs - r.target * b.ort.coldNavToFirstMs;
      return `Of hunch's ${f(b.hunch.coldNavToFirstMs, 0)} ms, the page's own script (runtime import → first prediction: the SDK, hunch.wasm and the model fetched from 127.0.0.1, compile, instantiate, parse, first push) is ${f(b.hunch.coldImportToFirstMs, 0)} ms (ORT's: ${f(b.ort.coldImportToFirstMs, 0)} ms, hunch/ORT ${ratioTxt(b.hunch.coldImportToFirstMs / b.ort.coldImportToFirstMs)}); the other ${f(fixed, 0)} ms pass before any runtime code runs (a fresh profile's navigation and the page itself), a cost ORT pays too. Meeting ≤ ${r.target} needs ${f(need, 0)} ms less, all of it from the script part (node's split of the same work: the cold-start rows). What would close it: what closes the node cold start, and overlapping the model's download with the wasm's compile: the benchmark page (bench/peers/browser/page.html) fetches the model and then calls \`Predictor.fromBytes\`, which fetches and compiles hunch.wasm after it; \`Predictor.fromUrl\`, the SDK's path for pages, starts the compile while the model downloads.`;
    }
  }
  if (/V=100,000, network head/.test(r.metric))
    return 'The network head computes all 100,000 logits (an int8 GEMV of 100,000 × 64) and their exp-sum for the denominator: both are linear in V (§5\'s vocabulary table; bench/step-profile.sh splits them). An approximate shortlist would have to keep exact-top-10 recall ≥ 0.99: on the trained Amazon Toys network it needs ~60 % of the rows ("Big catalogues" below), not the ≲ 15 % that 100 µs allows. What would close it: the count head (met above), which `hunch train` ships wherever it wins on validation; for a network head, an output layer trained with its shortlist (clustered or hierarchical softmax), so the first stage is exact by construction — a training change, not built.';
  if (/^shipped JS/.test(r.metric))
    return 'hunch.wasm is most of the bundle (§3 lists the files); bench/README.md, "The missed targets", says what is in it.';
  return 'bench/README.md, "The missed targets", discusses it.';
}

export function report(R, out) {
  const rows = [];
  const row = (metric, unit, hunch, peer, peerValue, target, note) => {
    const ratio = hunch != null && peerValue ? hunch / peerValue : null;
    rows.push({ metric, unit, hunch, peer: PEER[peer] ?? peer, peer_value: peerValue, ratio, target: target ?? null, met: target == null || ratio == null ? null : ratio <= target, ...(note ? { note } : {}) });
    return rows[rows.length - 1];
  };
  // A target on hunch's own figure (bytes, µs), no peer: issue 17's big-catalogue and state rows.
  const absRow = (metric, unit, hunch, target, note) => {
    rows.push({ metric, unit, hunch, peer: null, peer_value: null, ratio: null, target, absolute: true, met: hunch == null ? null : hunch <= target, ...(note ? { note } : {}) });
    return rows[rows.length - 1];
  };
  const md = [];
  const H = R.headline;
  const lstm = Object.values(H).find((h) => h.stage.arch === 'lstm-attn');
  const tf = (W) => Object.values(H).find((h) => h.stage.arch === 'transformer' && h.stage.W === W);

  md.push('# hunch beside onnxruntime-web and tfjs-wasm — same weights, same run', '');
  md.push(`Produced by \`node bench/run.mjs${R.quick ? ' --quick' : ''}\` on ${R.finished} (${(R.wallS / 60).toFixed(1)} min). ` +
    (R.quick ? '**Quick mode**: one process per latency figure, scaling points with fewer calls (marked); rerun without `--quick` before quoting.' : 'Full mode.'));
  md.push('', `Machine: ${R.machine.cpu}, ${R.machine.cores} cores, ${R.machine.memGiB} GiB, ${R.machine.os}. ` +
    `Load average at start ${R.machine.loadavgStart.join(' / ')}, at end ${R.machine.loadavgEnd.join(' / ')}.`);
  md.push(`Runtimes: node ${R.versions.node}, onnxruntime-web ${R.versions['onnxruntime-web']} (wasm EP, numThreads 1, SIMD), ` +
    `@tensorflow/tfjs-core + tfjs-backend-wasm ${R.versions['@tensorflow/tfjs-core']} / ${R.versions['@tensorflow/tfjs-backend-wasm']} (SIMD, 1 thread), ` +
    `torch/onnx ${R.versions.torch} (export only), hunch SDK from js/dist (hunch.wasm ${R.versions.hunchWasmBytes} B).`);
  const busy = R.idle.map((i) => i.busyCoresBeforeRun);
  const during = [];
  for (const h of Object.values(H)) for (const a of Object.values(h.warm)) if (a.busy) during.push(...a.busy);
  md.push('', `**Load during measurement**: other processes (training, fuzzing) used ${f(Math.min(...busy), 2)}–${f(Math.max(...busy), 2)} of the 2 cores ` +
    `before each group (idle guard: waited up to its limit, then measured anyway), and ${f(Math.min(...during), 2)}–${f(Math.max(...during), 2)} cores during the headline ` +
    'warm runs (the harness\'s `othersBusyCores`). Runtimes run alternately (hunch, ORT, tfjs, hunch, …) so load changes hit all of them; ratios within a run are the figure to read, absolute times are pessimistic.');

  // ------------------------------------------------------------ correctness
  md.push('', '## Correctness first: the same top-10 from the same weights', '');
  md.push('The reference is hunch\'s **float** model through the SDK (WASM core). Each peer graph was exported from that same .hunch file; "exact" = the same 10 ids in the same order for every checked prediction (lstm-attn: 40 successive events from a fresh sequence, past the window of 32; transformer: one window of W events from a fresh sequence). hunch int8 is the shipped model; its order may differ from the float one where probabilities are within the quantisation error (random weights give nearly flat distributions).', '');
  md.push('| model | torch (exporter) | onnxruntime-web | tfjs-wasm | hunch int8 | max abs prob. error of peers |', '|---|---|---|---|---|---|');
  const allStages = new Map();
  for (const h of Object.values(H)) allStages.set(h.stage.name, { stage: h.stage, warm: h.warm });
  for (const list of [R.context, R.lstmContext, R.vocab]) for (const x of list) if (!allStages.has(x.stage.name)) allStages.set(x.stage.name, x);
  for (const { stage, warm } of allStages.values()) {
    const c = (a) => (warm[a]?.correctness ? (warm[a].correctness.allExact ? 'exact' : `overlap ≥ ${warm[a].correctness.minOverlap}/10`) : 'failed');
    const err = Math.max(...['ort', 'tfjs'].map((a) => warm[a]?.correctness?.maxAbsValErr ?? 0));
    md.push(`| ${stage.name} | ${stage.torch.exact}/${stage.torch.of} exact | ${c('ort')} | ${c('tfjs')} | ${c('hunch')} | ${err.toExponential(1)} |`);
  }

  // ------------------------------------------------------------ latency
  md.push('', '## 1. Per-event latency (node, one thread)', '');
  md.push('hunch: `sequence.push(event)` + `sequence.predict({k: 10})` through the SDK, int8 — one incremental step whatever the context. ' +
    'Peers: lstm-attn = one `session.run` of the step graph with (h, c) and the attention key/value cache of the last W−1 events passed in and out; ' +
    'transformer = the **full forward over the last W events on every event** (no incremental attention cache: what a user of these runtimes computes). ' +
    'Every call includes building the inputs and reading the top-10 back into JS (shared harness `timeOp`: warm-up ≥ 200 calls and 1.5 s, then the timed calls).', '');
  md.push('| model | context | hunch median / p95 | ORT op | ORT median / p95 | hunch/ORT | tfjs median / p95 | hunch/tfjs | target (vs ORT) | met |', '|---|---|---|---|---|---|---|---|---|---|');
  const latRows = [[lstm, 'lstm-attn', 0.25], [tf(50), 'transformer', null], [tf(200), 'transformer', 1 / 50]];
  for (const [h, arch, target] of latRows) {
    if (!h) continue;
    const w = h.warm;
    const W = h.stage.W;
    const m = (a) => w[a]?.op?.median, p = (a) => w[a]?.op?.p95;
    const rO = row(`latency ${arch} W=${W} median`, 'ms', m('hunch'), 'ort', m('ort'), target);
    row(`latency ${arch} W=${W} median`, 'ms', m('hunch'), 'tfjs', m('tfjs'), null);
    row(`latency ${arch} W=${W} p95`, 'ms', p('hunch'), 'ort', p('ort'), null);
    row(`latency ${arch} W=${W} p95`, 'ms', p('hunch'), 'tfjs', p('tfjs'), null);
    md.push(`| ${arch} | ${W} | ${us(m('hunch'))} / ${us(p('hunch'))} | ${w.ort?.opName ?? '–'} | ${us(m('ort'))} / ${us(p('ort'))} | ${ratioTxt(rO.ratio)} | ${us(m('tfjs'))} / ${us(p('tfjs'))} | ${ratioTxt(m('hunch') / m('tfjs'))} | ${target ? '≤ ' + ratioTxt(target) : '–'} | ${rO.met == null ? '–' : rO.met ? 'yes' : `**no** (${(rO.ratio / target).toFixed(2)}× the target)`} |`);
  }
  md.push('', `Runs per figure: ${R.plan.runs.lstm} (lstm-attn) / ${R.plan.runs.attn} (transformer) timed calls per process, ${R.plan.warmRepeats} process(es) per runtime, the median process reported. Medians of the processes:`);
  for (const [h] of latRows) if (h) md.push(`- ${h.stage.name}: ` + Object.entries(h.warm).map(([a, x]) => `${a} ${(x.medians ?? []).map((v) => us(v)).join(', ')} (other processes ${(x.busy ?? []).join(', ')} cores)`).join('; '));

  // ------------------------------------------------------------ cold
  md.push('', '## 2. Cold start (fresh node process → first prediction)', '');
  md.push('Median of fresh processes. "import → first prediction" = dynamic import of the runtime + wasm compile/instantiate + model load (bytes from local disk) + the first prediction; it is what a page pays after its scripts arrive, and the target row. "process start" adds node\'s own boot (the same for all).', '');
  md.push('| model | runtime | import → first prediction ms | of which first prediction ms | process start → first prediction ms | fresh processes |', '|---|---|---|---|---|---|');
  for (const h of Object.values(H)) for (const a of ['hunch', 'ort', 'tfjs']) {
    const c = h.cold[a];
    md.push(`| ${h.stage.name} | ${a} | ${f(c.importToFirstPredictMs, 0)} | ${f(c.firstPredictMs, 1)} | ${f(c.processToFirstPredictMs, 0)} | ${c.n} |`);
  }
  for (const h of [lstm, tf(200)]) {
    if (!h) continue;
    const c = h.cold;
    row(`cold start ${h.stage.name} (import → first prediction)`, 'ms', c.hunch.importToFirstPredictMs, 'tfjs', c.tfjs.importToFirstPredictMs, 0.1);
    row(`cold start ${h.stage.name} (import → first prediction)`, 'ms', c.hunch.importToFirstPredictMs, 'ort', c.ort.importToFirstPredictMs, null);
    row(`cold start ${h.stage.name} (process start → first prediction)`, 'ms', c.hunch.processToFirstPredictMs, 'tfjs', c.tfjs.processToFirstPredictMs, null);
  }
  const coldRows = rows.filter((r) => r.metric.startsWith('cold') && r.target);
  md.push('', coldRows.map((r) => `${r.metric}: hunch/${r.peer} = ${ratioTxt(r.ratio)} (target ≤ 0.1: ${r.met ? 'met' : `**missed**, ${(r.ratio / 0.1).toFixed(1)}× the target`}).`).join(' '));

  // ------------------------------------------------------------ browser
  md.push('', '### Headless Chromium (hunch and onnxruntime-web)', '');
  if (!R.browser || !Object.keys(R.browser).length) md.push('Not run (`--no-browser`).');
  else {
    md.push('`bench/peers/browser.mjs`: /usr/bin/chromium headless (no GPU), the shared `browser/serve.mjs` (COOP/COEP: 5 µs timer), every page load in a fresh profile (no HTTP or wasm code cache), runtimes alternating. Cold = navigation start → first prediction (fetching the runtime, wasm and model from 127.0.0.1 included). Correctness vs hunch f32 as above. Median over page loads.', '');
    md.push('| model | hunch median / p95 | ORT op | ORT median / p95 | hunch/ORT | hunch cold ms | ORT cold ms | ORT top-10 | hunch int8 top-10 |', '|---|---|---|---|---|---|---|---|---|');
    for (const [name, b] of Object.entries(R.browser)) {
      if (b.error || !b.hunch) { md.push(`| ${name} | failed: ${String(b.error).slice(0, 200).replace(/\n/g, ' ')} | | | | | | | |`); continue; }
      md.push(`| ${name} | ${us(b.hunch.median)} / ${us(b.hunch.p95)} | ${b.ort.op} | ${us(b.ort.median)} / ${us(b.ort.p95)} | ${ratioTxt(b.hunch.median / b.ort.median)} | ${f(b.hunch.coldNavToFirstMs, 0)} | ${f(b.ort.coldNavToFirstMs, 0)} | ${b.ort.exact ? 'exact' : `overlap ≥ ${b.ort.minOverlap}`} | ${b.hunch.exact ? 'exact' : `overlap ≥ ${b.hunch.minOverlap}`} |`);
      row(`chromium latency ${name} median`, 'ms', b.hunch.median, 'ort', b.ort.median, null);
      // issue 17: navigation → first prediction in a fresh profile ≤ 0.25× ORT-web (the headline shapes)
      row(`chromium cold start ${name} (navigation → first prediction)`, 'ms', b.hunch.coldNavToFirstMs, 'ort', b.ort.coldNavToFirstMs, /w(32|200)$/.test(name) ? 0.25 : null);
      row(`chromium cold start ${name} (page import → first prediction)`, 'ms', b.hunch.coldImportToFirstMs, 'ort', b.ort.coldImportToFirstMs, null);
    }
    md.push('', `Chromium: ${Object.values(R.browser).find((b) => b.chromium)?.chromium ?? '–'}. Timer resolution in the page is 5 µs (cross-origin isolated), so sub-50 µs medians are quantised.`);
  }

  // ------------------------------------------------------------ sizes
  md.push('', '## 3. Shipped bytes', '');
  md.push('JS + wasm a page fetches to predict (shared `sizes.mjs`: raw, `gzip -9`, brotli 11). hunch: the SDK entry, the Emscripten loader and hunch.wasm (the SDK\'s persistence and worker chunks load only when used).', '');
  md.push('| bundle | raw KiB | gzip -9 KiB | brotli KiB | files |', '|---|---|---|---|---|');
  const S = R.sizes;
  const hKey = Object.keys(S).find((k) => k.startsWith('hunch'));
  const tKey = Object.keys(S).find((k) => k.startsWith('tfjs-core'));
  const oKey = Object.keys(S).find((k) => k.startsWith('onnxruntime'));
  for (const k of [hKey, oKey, tKey]) {
    const b = S[k];
    if (!b || b.missing) { md.push(`| ${k} | missing | | | |`); continue; }
    md.push(`| ${k} | ${kib(b.raw)} | ${kib(b.gzip9)} | ${kib(b.brotli11)} | ${b.files.map((x) => `${x.file.replace('node_modules/', '')} (${kib(x.gzip9)})`).join(', ')} |`);
  }
  for (const [k, peer] of [[tKey, 'tfjs'], [oKey, 'ort']]) {
    if (!S[k]?.gzip9) continue;
    row('shipped JS + wasm, gzip -9', 'bytes', S[hKey].gzip9, peer, S[k].gzip9, peer === 'tfjs' ? 0.25 : null);
    row('shipped JS + wasm, brotli 11', 'bytes', S[hKey].brotli11, peer, S[k].brotli11, null);
    row('shipped JS + wasm, raw', 'bytes', S[hKey].raw, peer, S[k].raw, null);
  }
  md.push('', '### Model files (same weights: hunch int8 as shipped; the peers load float32)', '');
  md.push('| model | hunch int8 .hunch | hunch f32 .hunch | .onnx (ORT) | raw f32 weights (tfjs) | int8 / onnx |', '|---|---|---|---|---|---|');
  for (const h of Object.values(H)) {
    const get = (re) => h.modelSizes.find((x) => re.test(x.file));
    const [i8, f32, onnx, bin] = [/int8/, /f32\.hunch/, /\.onnx$/, /weights\.bin$/].map(get);
    md.push(`| ${h.stage.name} | ${kib(i8.raw)} KiB (gzip ${kib(i8.gzip9)}) | ${kib(f32.raw)} KiB | ${kib(onnx.raw)} KiB (gzip ${kib(onnx.gzip9)}) | ${kib(bin.raw)} KiB | ${(i8.raw / onnx.raw).toFixed(3)} |`);
    row(`model file bytes ${h.stage.name}`, 'bytes', i8.raw, 'ort', onnx.raw, null);
    row(`model file bytes ${h.stage.name}`, 'bytes', i8.raw, 'tfjs', bin.raw, null);
  }

  // ------------------------------------------------------------ memory
  md.push('', '## 4. Memory', '');
  md.push('Peak RSS growth of the measuring process from before the runtime import to the end of the timed calls (`maxRSS − RSS before import`, shared harness), the wasm heap at the end, and the per-sequence state: hunch\'s `Sequence` (wasm memory, `stats().stateBytes`) and its saved bytes vs what a peer\'s caller keeps per user (lstm-attn: h, c and the W−1 key/value rows; transformer: the W event ids, as int64 tensors).', '');
  md.push('| model | hunch peak RSS Δ MiB | ORT | tfjs | hunch wasm heap MiB | tfjs wasm heap MiB | hunch state bytes / saved bytes | peer state bytes |', '|---|---|---|---|---|---|---|---|');
  for (const h of Object.values(H)) {
    const w = h.warm;
    const mib = (a) => f((w[a]?.mem?.peakRssDelta ?? NaN) / 2 ** 20, 1);
    md.push(`| ${h.stage.name} | ${mib('hunch')} | ${mib('ort')} | ${mib('tfjs')} | ${f((w.hunch?.mem?.wasmHeapBytes ?? NaN) / 2 ** 20, 1)} | ${f((w.tfjs?.mem?.wasmHeapBytes ?? NaN) / 2 ** 20, 1)} | ${h.state.hunchStateBytes} / ${h.state.hunchSavedBytes} | ${h.state.peerStateBytes} |`);
    row(`peak RSS growth ${h.stage.name}`, 'bytes', w.hunch?.mem?.peakRssDelta, 'ort', w.ort?.mem?.peakRssDelta, null);
    row(`peak RSS growth ${h.stage.name}`, 'bytes', w.hunch?.mem?.peakRssDelta, 'tfjs', w.tfjs?.mem?.peakRssDelta, null);
    row(`per-sequence state ${h.stage.name}`, 'bytes', h.state.hunchStateBytes, 'ort', h.state.peerStateBytes, null,
      'hunch: Sequence memory incl. scratch; peer: the state its caller must keep');
  }

  // ------------------------------------------------------------ scaling
  md.push('', '## 5. Scaling', '');
  const scaleNote = R.quick ? ` (quick mode: ${R.plan.scaleRuns} timed calls per point outside the headline shapes)` : ` (${R.plan.scaleRuns} timed calls per point, one process each; headline shapes reuse the figures above)`;
  md.push(`### Context (attention window W), V = 3,707${scaleNote}`, '', '![latency vs context](latency-vs-context.svg)', '');
  md.push('| arch | W | hunch median | ORT median | tfjs median | hunch/ORT | hunch int8 bytes | ONNX bytes |', '|---|---|---|---|---|---|---|---|');
  for (const [arch, list] of [['transformer', R.context], ['lstm-attn', R.lstmContext]])
    for (const x of list) {
      const m = (a) => x.warm[a]?.op?.median;
      md.push(`| ${arch} | ${x.W} | ${us(m('hunch'))} | ${us(m('ort'))} | ${us(m('tfjs'))} | ${ratioTxt(m('hunch') / m('ort'))} | ${x.stage.bytes['hunch-int8.hunch']} | ${x.stage.bytes[`${x.stage.arch === 'lstm-attn' ? 'lstm' : 'attn' + x.W}.onnx`]} |`);
      row(`latency ${arch} W=${x.W} V=${x.stage.V} median (scaling)`, 'ms', m('hunch'), 'ort', m('ort'), null);
      row(`latency ${arch} W=${x.W} V=${x.stage.V} median (scaling)`, 'ms', m('hunch'), 'tfjs', m('tfjs'), null);
    }
  md.push('', `### Vocabulary (actions), lstm-attn W = 32 and transformer W = 200${scaleNote}`, '', '![latency vs vocabulary](latency-vs-vocab.svg)', '');
  md.push('| arch | V | hunch median | ORT median | tfjs median | hunch/ORT | hunch int8 .hunch bytes | .onnx bytes | int8/onnx |', '|---|---|---|---|---|---|---|---|---|');
  for (const x of R.vocab) {
    const m = (a) => x.warm[a]?.op?.median;
    const key = x.arch === 'lstm-attn' ? 'lstm' : `attn${x.stage.W}`;
    const b = x.stage.bytes;
    md.push(`| ${x.arch} | ${x.V} | ${us(m('hunch'))} | ${us(m('ort'))} | ${us(m('tfjs'))} | ${ratioTxt(m('hunch') / m('ort'))} | ${b['hunch-int8.hunch']} | ${b[`${key}.onnx`]} | ${(b['hunch-int8.hunch'] / b[`${key}.onnx`]).toFixed(3)} |`);
    row(`latency ${x.arch} V=${x.V} W=${x.stage.W} median (scaling)`, 'ms', m('hunch'), 'ort', m('ort'), null);
    row(`latency ${x.arch} V=${x.V} W=${x.stage.W} median (scaling)`, 'ms', m('hunch'), 'tfjs', m('tfjs'), null);
    row(`model file bytes ${x.arch} V=${x.V}`, 'bytes', b['hunch-int8.hunch'], 'ort', b[`${key}.onnx`], null);
  }

  // ------------------------------------------------------------ training
  md.push('', '## 6. Training (hunch train vs the PyTorch reference)', '');
  if (!R.training) md.push('Not run in this invocation (`node bench/run.mjs --train` adds it).');
  else if (R.training.skipped) md.push(`Skipped: ${R.training.skipped}.`);
  else {
    const T = R.training;
    md.push(`MovieLens-1M (../shared/data/ml-1m/ml-1m.txt, PROTOCOL.md split), SASRec shape on both sides: 2 blocks, 1 head, d 64, FFN 64, length 200, batch 128, Adam 1e-3, dropout 0.2, 2 threads; ${T.epochs} epochs per run, ${T.repeats} runs each, alternating (hunch, PyTorch, hunch, …). Seconds per epoch = the tool's own training time of an epoch (validation excluded); peak RSS = /usr/bin/time of the whole process; NDCG@10 = validation, full ranking, seen items excluded, after epoch ${T.epochs} — a short run, not the converged figure (the shared reference converged at epoch 45 with test NDCG@10 0.131).`, '');
    md.push('| tool | run | s per epoch | peak RSS MiB | valid NDCG@10 after last epoch | exit |', '|---|---|---|---|---|---|');
    const per = { hunch: [], pytorch: [] }, rss = { hunch: [], pytorch: [] }, nd = { hunch: [], pytorch: [] };
    T.runs.forEach((t, i) => {
      const secs = t.epochs.map((e) => e.seconds).filter((x) => x != null);
      per[t.who].push(...secs); rss[t.who].push(t.peakRss); nd[t.who].push(t.epochs.at(-1)?.ndcg10);
      md.push(`| ${t.who} | ${Math.floor(i / 2) + 1} | ${secs.map((x) => x.toFixed(1)).join(', ') || '–'} | ${f(t.peakRss / 2 ** 20, 0)} | ${f(t.epochs.at(-1)?.ndcg10, 4)} | ${t.status} |`);
    });
    const medv = (xs) => { const v = xs.filter((x) => x != null).sort((a, b) => a - b); return v.length ? v[Math.floor((v.length - 1) / 2)] : null; };
    const e = row('training seconds per epoch (ML-1M, SASRec shape)', 's', medv(per.hunch), 'pytorch', medv(per.pytorch), 0.5);
    row('training peak RSS', 'bytes', medv(rss.hunch), 'pytorch', medv(rss.pytorch), null);
    const n = row(`validation NDCG@10 after ${T.epochs} epochs (higher is better)`, 'ndcg', medv(nd.hunch), 'pytorch', medv(nd.pytorch), null);
    md.push('', `Median seconds per epoch: hunch ${f(e.hunch, 1)}, PyTorch ${f(e.peer_value, 1)} → ratio ${f(e.ratio, 3)} (target ≤ 0.5: ${e.met ? 'met' : `**missed** by ${f(e.ratio / 0.5, 2)}×`}); NDCG@10 ratio ${f(n.ratio, 3)} (the target needs ≥ 1).`);
    md.push('', 'Commands:', '', ...T.runs.slice(0, 2).map((t) => '    ' + t.cmd.replace(/\/[^ ]*?\/shared\//g, '../shared/')));
  }

  // ------------------------------------------------------------ where the time goes
  md.push('', '## Where hunch\'s time goes (for the missed targets)', '');
  md.push('`bench/peers/profile.mjs`, fresh processes, medians. Warm: the SDK call vs the Embind module under it (`raw`), and the core\'s push (network step + type/exit heads) vs predict (int8 action head V×D, softmax denominator over all V, top-10 scan). Cold: the SDK import, `WebAssembly.compile` of hunch.wasm, `Predictor.fromBytes` (instantiate + model parse/validate/CRC), a second load of the same model (parse alone, heap already grown), the first push (lazily compiled wasm code runs for the first time) and the first predict.', '');
  md.push('| model | SDK push+predict µs | raw push+predict µs | raw push µs | raw predict µs | SDK JS overhead µs | MACs per event | µs at 20 GMAC/s |', '|---|---|---|---|---|---|---|---|');
  const macs = (st) => {
    const D = 64, V = st.V, T = 5;
    if (st.arch === 'lstm-attn') { const H = 128, A = 64, W = st.W; return 4 * H * (D + H) + 2 * A * H + W * (A + H) + D * 2 * H + V * D + (T + 1) * D; }
    const F = 64, W = st.W; return 2 * (4 * D * D + 2 * W * D + 2 * F * D) + V * D + (T + 1) * D;
  };
  for (const [name, pr] of Object.entries(R.profile ?? {})) {
    const st = H[name]?.stage; if (!st) continue;
    const w = pr.warm, mc = macs(st);
    md.push(`| ${name} | ${f(w.sdkPushPredictUs, 1)} | ${f(w.rawPushPredictUs, 1)} | ${f(w.rawPushUs, 1)} | ${f(w.rawPredictUs, 1)} | ${f(w.sdkOverheadUs, 1)} | ${mc.toLocaleString('en')} | ${f(mc / 20e3, 1)} |`);
    // issue 17: the lstm-attn step (the harness's median, as in the latency table) ≤ 1.15× the
    // time its int8 multiply-adds take at 20 GMAC/s
    if (st.arch === 'lstm-attn') row(`latency ${name} median vs its int8 MACs at 20 GMAC/s`, 'ms', H[name].warm.hunch?.op?.median, 'int8 MAC limit', mc / 20e6, 1.15);
  }
  md.push('', '| model | SDK import ms | wasm compile ms | fromBytes ms | second model load ms | first push ms | first predict ms | then push+predict ms | hunch.wasm / model bytes |', '|---|---|---|---|---|---|---|---|---|');
  for (const [name, pr] of Object.entries(R.profile ?? {})) {
    const c = pr.cold;
    md.push(`| ${name} | ${f(c.sdkImportMs, 1)} | ${f(c.wasmCompileMs, 1)} | ${f(c.fromBytesMs, 1)} | ${f(c.secondModelLoadMs, 1)} | ${f(c.firstPushMs, 1)} | ${f(c.firstPredictMs, 2)} | ${f(c.secondPushPredictMs, 3)} | ${c.wasmBytes} / ${c.modelBytes} |`);
  }

  // ------------------------------------------------------------ issue 17's own-figure targets
  // Saved state (bench/state.mjs) and big catalogues (bench/packed.mjs), both measured in this run.
  const st = (n) => (R.states ?? []).find((x) => x.arch === 'transformer' && x.events === n);
  if (st(5)) absRow('saved state transformer W=200 after 5 events (`save()` bytes)', 'B', st(5).sdkSaveBytes, STATE_TARGETS.fiveEvents);
  if (st(200)) absRow('saved state transformer W=200, full window (`save()` bytes)', 'B', st(200).sdkSaveBytes, STATE_TARGETS.fullWindow);
  const big = R.packed?.summary.find((x) => x.V === 100000);
  if (big) {
    absRow('int8 model file V=100,000 (lstm-attn W 32, tied head, `--int4-embeddings --front-code-names`)', 'B', big.packedBytes, PACKED_TARGETS.fileBytes);
    absRow('push + top-10 V=100,000, count head (packed: what `hunch train` ships on sparse logs)', 'ms', big.countsUs / 1000, PACKED_TARGETS.pushTop10Us / 1000);
    absRow('push + top-10 V=100,000, network head (lstm-attn W 32, tied, packed)', 'ms', big.packedUs / 1000, PACKED_TARGETS.pushTop10Us / 1000);
  }
  for (const x of R.vocab.filter((v) => v.V === 100000))
    absRow(`push + top-10 V=100,000, network head (${x.arch} W ${x.stage.W}, int8, §5)`, 'ms', x.warm.hunch?.op?.median, PACKED_TARGETS.pushTop10Us / 1000);

  // ------------------------------------------------------------ the missed targets, explained
  // Every number below comes from this run (R); the sentences say what the numbers mean.
  const missed = rows.filter((r) => r.met === false);
  md.push('', '## The missed targets: where the time goes and what would close it', '');
  if (!missed.length) md.push('Every target in this run was met.');
  for (const r of missed) md.push(`- **${r.metric}**${r.absolute ? ` (${fmtValue(r, r.hunch)} against ≤ ${fmtValue(r, r.target)})` : ` vs ${r.peer} (${ratioTxt(r.ratio)} against ≤ ${ratioTxt(r.target)})`}: ${timesTarget(r).toFixed(2)}× the target. ${whyMissed(r, R)}`);

  // ------------------------------------------------------------ notes
  // The step's profile before / after the fused action head: bench/step-profile.sh writes it
  // (a core micro-benchmark with its own command), copied here as measured.
  const stepProfile = path.join(out, 'step-profile.md');
  if (fs.existsSync(stepProfile)) {
    md.push('', '## Where the step\'s microseconds go (push + top-10, before and after the fused action head)', '');
    md.push(fs.readFileSync(stepProfile, 'utf8').trim());
  }
  // Packed action tables at V 1k / 10k / 100k (issue 17, big catalogues): bench/packed.mjs writes it.
  const packed = path.join(out, 'packed.md');
  if (R.packed) fs.writeFileSync(packed, R.packed.markdown);
  if (fs.existsSync(packed)) {
    md.push('', '## Big catalogues: packed action tables and the sparse count head (file bytes, load, push + top-10 at V = 1k / 10k / 100k)', '');
    md.push(fs.readFileSync(packed, 'utf8').trim());
  }
  // The analysis of those tables against issue 17 (accuracy, top-k recall: other commands' figures)
  const bigNotes = path.join(out, 'big-catalogues.md');
  if (fs.existsSync(bigNotes)) md.push('', fs.readFileSync(bigNotes, 'utf8').trim());
  md.push('', '## How the peers are set up, and what is not measured here', '');
  md.push('- The peer graphs (`bench/peers/export_peers.py`) compute docs/architecture.md from the float .hunch file: event encoding (action + type + time-gap embeddings), the LSTM cell or the pre-LN transformer blocks with recency slopes, and the action head; then `values = exp(logit − logsumexp(all logits))` of the top-10 ids ≥ 1 — the probabilities hunch returns. They skip the type and exit heads that hunch also computes on every push.');
  md.push('- The transformer peers\' window-W forward equals hunch exactly while a sequence has at most W events (the correctness check). Past that, hunch\'s layer-2 keys still carry what layer 1 saw before the window (its ring holds them; docs/architecture.md); an exact peer would have to recompute the last L·(W−1)+1 = 2W−1 events, twice the work timed here — the peer figures are a lower bound.');
  md.push('- lstm-attn peer step: the caller keeps (h, c) and the key/value rows of the last W−1 events and passes them in and out (the `past_key_values` pattern); the graph does not recompute past keys. A naive export that recomputes the window would be slower.');
  md.push('- Transformer peers compute every position of the window in both layers (only the last position\'s output is read); this is what an exported model does without a KV cache, and the issue asks for it. A hand-written minimal one-shot window would do about half the MACs (shared `lib/macs.mjs`), still ~W× hunch\'s step.');
  md.push('- ORT-web int8 is not measured: its quantiser is in the PyPI `onnxruntime` package, not available offline (shared README). tfjs is not run in Chromium (the shared browser runner covers ORT only; node figures above).');
  md.push('- Per-sequence state: hunch keeps the attention keys/values of the last W events (that is what makes a push one step); a peer\'s caller keeps only the W event ids for the transformer and recomputes everything from them on every event.');
  md.push('- Shared harness files run unmodified (`../shared/bench/peers/lib/{run_one,harness,idle}.mjs`, `sizes.mjs`) through a per-model stage folder (build/bench/stage/NAME) whose `lib/` is a symlink, with `node --preserve-symlinks`, so their `models/` and `spec.json` are ours.');

  // The targets at a glance, at the top of RESULTS.md and in bench/README.md
  const fmt = fmtValue;
  const glance = ['| figure | hunch | peer | peer figure | hunch / peer | target | met |', '|---|---|---|---|---|---|---|',
    ...rows.filter((r) => r.target != null).map((r) => r.absolute
      ? `| ${r.metric} | ${fmt(r, r.hunch)} | – | – | – | ≤ ${fmt(r, r.target)} | ${r.met == null ? '–' : r.met ? 'yes' : `**no** (${timesTarget(r).toFixed(2)}× the target)`} |`
      : `| ${r.metric} | ${fmt(r, r.hunch)} | ${r.peer} | ${fmt(r, r.peer_value)} | ${ratioTxt(r.ratio)} | ≤ ${ratioTxt(r.target)} | ${r.met == null ? '–' : r.met ? 'yes' : `**no** (${timesTarget(r).toFixed(2)}× the target)`} |`)];
  const at = md.indexOf('## Correctness first: the same top-10 from the same weights');
  md.splice(at - 1, 0, '', '## Targets at a glance', '', ...glance);
  fs.writeFileSync(path.join(out, 'RESULTS.md'), md.join('\n') + '\n');
  const readme = path.join(out, '..', 'README.md');
  if (fs.existsSync(readme)) {
    const text = fs.readFileSync(readme, 'utf8');
    const a = text.indexOf('<!-- bench:results -->'), b = text.indexOf('<!-- /bench:results -->');
    if (a >= 0 && b > a) {
      const block = ['<!-- bench:results -->', '### Latest results', '',
        `\`node bench/run.mjs${R.quick ? ' --quick' : ''}\`, ${R.finished.slice(0, 16).replace('T', ' ')} UTC, ${R.machine.cpu} ${R.machine.cores} cores, load average ${R.machine.loadavgStart[0]}–${R.machine.loadavgEnd[0]} (other engineers' jobs running)${R.quick ? '; quick mode' : ''}. All tables, the notes on every missed target and the plots: [results/RESULTS.md](results/RESULTS.md); machine-readable: [results/summary.json](results/summary.json).`, '',
        ...glance, '', '![latency vs context](results/latency-vs-context.svg)', '', '![latency vs vocabulary](results/latency-vs-vocab.svg)', ''].join('\n');
      fs.writeFileSync(readme, text.slice(0, a) + block + text.slice(b));
    }
  }
  fs.writeFileSync(path.join(out, 'summary.json'), JSON.stringify({ machine: { ...R.machine, versions: R.versions, quick: R.quick, finished: R.finished }, rows }, null, 1) + '\n');
  const series = (list, xKey) => ['hunch', 'ort', 'tfjs'].map((a) => ({ name: { hunch: 'hunch int8', ort: 'onnxruntime-web', tfjs: 'tfjs-wasm' }[a], pts: list.map((x) => [x[xKey] ?? x.stage[xKey], x.warm[a]?.op?.median]).filter((p) => p[1] != null) }));
  fs.writeFileSync(path.join(out, 'latency-vs-context.svg'), svgPlot('Per-event latency vs context, V 3,707 (solid: transformer, dashed: lstm-attn)', 'context W (events)', series(R.context, 'W'), series(R.lstmContext, 'W')));
  fs.writeFileSync(path.join(out, 'latency-vs-vocab.svg'), svgPlot('Per-event latency vs vocabulary (solid: transformer W 200, dashed: lstm-attn W 32)', 'vocabulary V (actions)', series(R.vocab.filter((x) => x.arch === 'transformer'), 'V'),
    series(R.vocab.filter((x) => x.arch === 'lstm-attn'), 'V')));
}

// A log-log line chart. `dashed` series (optional) are drawn dashed: lstm-attn beside transformer.
function svgPlot(title, xLabel, solid, dashed = []) {
  const Wd = 800, Ht = 420, L = 70, Rm = 260, T = 40, B = 50;
  const all = [...solid, ...dashed].flatMap((s) => s.pts);
  if (!all.length) return '<svg xmlns="http://www.w3.org/2000/svg"/>';
  const lx = (v) => Math.log10(v);
  const xs = all.map((p) => lx(p[0])), ys = all.map((p) => lx(p[1]));
  const x0 = Math.min(...xs), x1 = Math.max(...xs) + 1e-9, y0 = Math.floor(Math.min(...ys)), y1 = Math.ceil(Math.max(...ys));
  const X = (v) => L + ((lx(v) - x0) / (x1 - x0 || 1)) * (Wd - L - Rm), Y = (v) => Ht - B - ((lx(v) - y0) / (y1 - y0 || 1)) * (Ht - T - B);
  const colors = ['#d62728', '#1f77b4', '#2ca02c'];
  const o = [`<svg xmlns="http://www.w3.org/2000/svg" width="${Wd}" height="${Ht}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`, `<text x="${L}" y="22" font-size="14" font-weight="bold">${title}</text>`];
  for (let e = y0; e <= y1; e++) {
    const v = 10 ** e, y = Y(v);
    o.push(`<line x1="${L}" x2="${Wd - Rm}" y1="${y}" y2="${y}" stroke="#ddd"/>`, `<text x="${L - 6}" y="${y + 4}" text-anchor="end">${v >= 1 ? v + ' ms' : v * 1000 + ' µs'}</text>`);
  }
  const ticks = [...new Set(all.map((p) => p[0]))].sort((a, b) => a - b);
  for (const t of ticks) o.push(`<line x1="${X(t)}" x2="${X(t)}" y1="${T}" y2="${Ht - B}" stroke="#eee"/>`, `<text x="${X(t)}" y="${Ht - B + 16}" text-anchor="middle">${t}</text>`);
  o.push(`<text x="${(L + Wd - Rm) / 2}" y="${Ht - 12}" text-anchor="middle">${xLabel} (log scale)</text>`,
    `<text x="16" y="${(T + Ht - B) / 2}" transform="rotate(-90 16 ${(T + Ht - B) / 2})" text-anchor="middle">median ms per event (log scale)</text>`);
  let ly = T + 10;
  const draw = (s, i, dash, suffix) => {
    if (!s.pts.length) return;
    const c = colors[i % colors.length];
    o.push(`<polyline fill="none" stroke="${c}" stroke-width="2" ${dash ? 'stroke-dasharray="6 4"' : ''} points="${s.pts.map((p) => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(' ')}"/>`);
    for (const p of s.pts) o.push(`<circle cx="${X(p[0]).toFixed(1)}" cy="${Y(p[1]).toFixed(1)}" r="3" fill="${c}"/>`);
    o.push(`<line x1="${Wd - Rm + 10}" x2="${Wd - Rm + 34}" y1="${ly}" y2="${ly}" stroke="${c}" stroke-width="2" ${dash ? 'stroke-dasharray="6 4"' : ''}/>`, `<text x="${Wd - Rm + 40}" y="${ly + 4}">${s.name}${suffix}</text>`);
    ly += 18;
  };
  solid.forEach((s, i) => draw(s, i, false, dashed.length ? ' (transformer)' : ''));
  dashed.forEach((s, i) => draw(s, i, true, ' (lstm-attn)'));
  o.push('</svg>');
  return o.join('\n');
}
