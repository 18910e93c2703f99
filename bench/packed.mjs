// Packed action tables (issue 17, big catalogues; `hunch quantize --int4-embeddings`): file bytes,
// load and push + top-10 through the SDK in node (WASM SIMD128, one thread) at V 1,000, 10,000
// and 100,000, before (int8 tables, front-coded names) and after (packed tables, front-coded
// names), measured in one process, alternating batches so both see the same machine load; and
// beside them a counts-only action head (`hunch.head.action.counts`, what `hunch train` ships on
// sparse logs) packed the same way, whose top-k is sparse (docs/architecture.md, "Sparse count
// head"): its push + top-10 against the 100 µs target at V = 100,000.
//
//   node bench/packed.mjs [calls]     (default 2000 push + top-10 per file and V); writes
//                                     bench/results/packed.md, which `node bench/run.mjs` copies
//                                     into RESULTS.md
//   env: HUNCH_SDK_DIR (default js/dist), HUNCH (default build/native/hunch),
//        HUNCH_MAKE_MODELS (default build/native/bench-make-models),
//        HUNCH_BASE_SDK_DIR (optional: another SDK build, e.g. one from before the sparse count
//        head, timing the count-head file too in the same rotation, its top-10 compared) and
//        HUNCH_BASE_LABEL (how the table names that build; default: its folder)
//
// Models: the vocabulary scaling table's generated lstm-attn (D 64, W 32) with a tied head
// (`bench-make-models PREFIX lstm-attn V 32 tied`), then `hunch quantize PREFIX-int8.hunch -o OUT
// --front-code-names [--int4-embeddings]`; the count head: `bench-make-models PREFIX lstm-attn V
// 32 counts` (copy terms, up to 64 successors per action), quantised with both flags. Prints two
// markdown tables.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Issue 17's big-catalogue targets at V = 100,000 (the report's targets table reads them too)
export const PACKED_TARGETS = { fileBytes: 4e6, pushTop10Us: 100 };
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.stdout}`);
}

// Measures every V in one process. `node bench/run.mjs` calls it too, so that its targets table
// has the big-catalogue rows from the same run. Returns a summary per V (bytes, median µs per
// push + top-10 of each file) and the two markdown tables.
export async function measurePacked({ sdkDir = process.env.HUNCH_SDK_DIR ?? path.join(ROOT, 'js/dist'),
  hunch = process.env.HUNCH ?? path.join(ROOT, 'build/native/hunch'),
  makeModels = process.env.HUNCH_MAKE_MODELS ?? path.join(ROOT, 'build/native/bench-make-models'),
  work = path.join(ROOT, 'build/bench/packed'), calls = 2000, baseSdkDir = process.env.HUNCH_BASE_SDK_DIR,
  baseLabel = process.env.HUNCH_BASE_LABEL, command = `node bench/packed.mjs ${calls}` } = {}) {
  const { Predictor } = await import(pathToFileURL(path.join(sdkDir, 'index.js')).href);
  const BASE = baseSdkDir;
  const Base = BASE ? (await import(pathToFileURL(path.join(path.resolve(BASE), 'index.js')).href)).Predictor : null;
  const MAKE = makeModels, HUNCH = hunch, WORK = work;
  fs.mkdirSync(WORK, { recursive: true });
  const rows = [];
  const warm = new Set();
  for (const V of [1000, 10000, 100000]) {
    const prefix = path.join(WORK, `lstm-attn-v${V}`);
    run(MAKE, [prefix, 'lstm-attn', String(V), '32', 'tied']);
    const counts = path.join(WORK, `counts-v${V}`);
    run(MAKE, [counts, 'lstm-attn', String(V), '32', 'counts']);
    const files = { before: `${prefix}-fc.hunch`, after: `${prefix}-packed.hunch`, counts: `${counts}-packed.hunch` };
    run(HUNCH, ['quantize', `${prefix}-int8.hunch`, '-o', files.before, '--front-code-names']);
    run(HUNCH, ['quantize', `${prefix}-int8.hunch`, '-o', files.after, '--front-code-names', '--int4-embeddings']);
    run(HUNCH, ['quantize', `${counts}-int8.hunch`, '-o', files.counts, '--front-code-names', '--int4-embeddings']);
    // The base SDK may predate packed files: the unpacked int8 count-head file through both SDKs.
    if (Base) Object.assign(files, { countsInt8: `${counts}-int8.hunch`, countsBase: `${counts}-int8.hunch` });
    const m = {};
    for (const [k, f] of Object.entries(files)) {
      const bytes = fs.readFileSync(f);
      const P = k === 'countsBase' ? Base : Predictor;
      if (!warm.has(P)) {  // an SDK's first load also compiles its wasm: not a model's cost
        (await P.fromBytes(bytes)).close();
        warm.add(P);
      }
      const loads = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        const p = await P.fromBytes(bytes);
        const s = p.sequence();
        s.push({ action: p.actionName ? p.actionName(1) : p.info.actions[1], type: p.info.types[0], time: 1.7e12 });
        s.predict({ k: 10 });
        loads.push(performance.now() - t0);
        p.close();
      }
      const p = await P.fromBytes(bytes);
      const { actions, types } = p.info;
      const events = Array.from({ length: 512 }, (_, i) => ({ action: actions[1 + ((i * 7919) % (V - 1))], type: types[0], time: 1.7e12 + i * 30_000 }));
      m[k] = { bytes: bytes.length, loadMs: median(loads), p, seq: p.sequence(), events, batches: [], top: [] };
    }
    // Alternating batches of 100 calls (the order reversed every other batch); the same events in
    // the same order for every file.
    const keys = Object.keys(files);
    for (let done = 0, b = 0; done < calls; done += 100, b++) {
      for (const k of b % 2 ? [...keys].reverse() : keys) {
        const x = m[k];
        const t0 = performance.now();
        for (let i = 0; i < 100; i++) {
          x.seq.push(x.events[(done + i) % 512]);
          const top = x.seq.predict({ k: 10 });
          if (i === 99) x.top.push(top.map((t) => t.action));
        }
        x.batches.push((performance.now() - t0) * 10);  // µs per call
      }
    }
    let same = 0, total = 0;
    m.before.top.forEach((t, i) => { const a = new Set(m.after.top[i]); for (const x of t) { total++; if (a.has(x)) same++; } });
    let sameTop = 0;
    if (m.countsBase) m.countsInt8.top.forEach((t, i) => { sameTop += t.join() === m.countsBase.top[i].join(); });
    rows.push({ V, before: m.before, after: m.after, counts: m.counts, countsInt8: m.countsInt8, countsBase: m.countsBase, sameTop, overlap: same / total });
    for (const x of Object.values(m)) x.p.close();
  }
  const f1 = (x) => x.toFixed(1);
  const out = [];
  out.push(`\`${command}\`, ${new Date().toISOString()}, node ${process.version}, WASM SIMD128 through the SDK, one thread; load: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (1/5/15 min, 2 cores shared). lstm-attn D 64 W 32, tied head, front-coded names; before = int8 tables, after = \`--int4-embeddings\`. Push + top-10: median µs per call over batches of 100, the two files alternating (their ratio: the median over adjacent pairs of batches, which saw the same load). The top-10 overlap compares random-weight models (int4 against int8 rounding of the same weights), not accuracy: that is bench/results/next-action/NOTES.md, "Packed tables". Load: \`fromBytes\` → first prediction, median of 5.`, '');
  out.push('| V | file before B | file after B | after / before | ≤ 4 MB (4,000,000 B) | load before ms | load after ms | push + top-10 before µs | push + top-10 after µs | after / before (median of adjacent batch pairs) | top-10 overlap (last call of each batch) |');
  out.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const pb = median(r.before.batches), pa = median(r.after.batches);
    const pairs = median(r.after.batches.map((a, i) => a / r.before.batches[i]));
    out.push(`| ${r.V.toLocaleString('en')} | ${r.before.bytes.toLocaleString('en')} | ${r.after.bytes.toLocaleString('en')} | ${(r.after.bytes / r.before.bytes).toFixed(3)} | ${r.after.bytes <= PACKED_TARGETS.fileBytes ? 'met' : 'missed'} | ${f1(r.before.loadMs)} | ${f1(r.after.loadMs)} | ${f1(pb)} | ${f1(pa)} | ${pairs.toFixed(2)} | ${r.overlap.toFixed(3)} |`);
  }
  out.push('', `Counts-only action head (\`bench-make-models PREFIX lstm-attn V 32 counts\`: copy terms and up to 64 random successors per action, every push a new action so the copy terms touch the whole window; quantised with \`--front-code-names --int4-embeddings\`), in the same rotation: its top-k from the biases' best ids and their exp-sum (docs/architecture.md, "Built: the sparse count head")${Base ? `; "int8" is the unpacked int8 count-head file, through this SDK and through the base SDK (${baseLabel ?? BASE}: the dense scan over all V), top-10 compared on the last call of each batch` : ''}.`, '');
  out.push(`| V | file B | load ms | push + top-10 µs | ≤ 100 µs | count head / tied packed (median of adjacent batch pairs) |${Base ? ' int8 µs | int8 through base µs | base / this (median of adjacent batch pairs) | same top-10 as base |' : ''}`);
  out.push(`|---|---|---|---|---|---|${Base ? '---|---|---|---|' : ''}`);
  for (const r of rows) {
    const pc = median(r.counts.batches);
    const vsTied = median(r.counts.batches.map((c, i) => c / r.after.batches[i]));
    let extra = '';
    if (r.countsBase) {
      const pb = median(r.countsBase.batches);
      extra = ` ${f1(median(r.countsInt8.batches))} | ${f1(pb)} | ${median(r.countsBase.batches.map((c, i) => c / r.countsInt8.batches[i])).toFixed(1)} | ${r.sameTop}/${r.countsInt8.top.length} |`;
    }
    out.push(`| ${r.V.toLocaleString('en')} | ${r.counts.bytes.toLocaleString('en')} | ${f1(r.counts.loadMs)} | ${f1(pc)} | ${pc <= PACKED_TARGETS.pushTop10Us ? 'met' : 'missed'} | ${vsTied.toFixed(2)} |${extra}`);
  }
  const summary = rows.map((r) => ({ V: r.V, tiedInt8Bytes: r.before.bytes, packedBytes: r.after.bytes, countsBytes: r.counts.bytes,
    tiedInt8Us: median(r.before.batches), packedUs: median(r.after.batches), countsUs: median(r.counts.batches) }));
  return { summary, markdown: out.join('\n') + '\n' };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const calls = Number(process.argv[2] ?? 2000);
  const { markdown } = await measurePacked({ calls });
  fs.writeFileSync(path.join(ROOT, 'bench/results/packed.md'), markdown);
  console.log(markdown);
}
