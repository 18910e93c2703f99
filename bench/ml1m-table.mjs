// Prints the ML-1M accuracy table (Markdown) from the results bench/ml1m-quality.sh writes:
// hunch-<arch>.json (`hunch eval --json`), hunch-<arch>.log (training log), ref-<model>.json
// (seqrec_ref.py --out). The shipped reference result (../shared/bench/reference/
// sasrec-ce-d64.json) stands in for a SASRec-CE reference not run here, and is labelled so.
// usage: node bench/ml1m-table.mjs DIR
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node bench/ml1m-table.mjs DIR');
  process.exit(2);
}
const read = (f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : null);
const f4 = (x) => (typeof x === 'number' ? x.toFixed(4) : '–');
const rows = [];
let baselines = null;

for (const arch of ['transformer', 'lstm-attn']) {
  const json = read(path.join(dir, `hunch-${arch}.json`));
  if (!json) continue;
  const r = JSON.parse(json);
  const log = read(path.join(dir, `hunch-${arch}.log`)) || '';
  // "best epoch 37: valid NDCG@10 …; 20.9 s per epoch" and the epoch lines before it
  const best = /best epoch (\d+):.*?; ([\d.]+) s per epoch/.exec(log);
  const ran = [...log.matchAll(/^epoch +(\d+) /gm)].length;
  const budget = /time budget reached/.test(log);
  rows.push({
    name: `hunch ${arch} (int8)`,
    test: r.model,
    epochs: best ? `${best[1]} of ${ran}${budget ? ' (budget)' : ''}` : '–',
    secPerEpoch: best ? Number(best[2]) : null,
  });
  baselines ??= r;
}

const refs = [
  ['ref-sasrec-ce.json', 'PyTorch SASRec-CE reference'],
  ['ref-lstm-ce.json', 'PyTorch LSTM-CE reference'],
];
for (const [file, label] of refs) {
  let text = read(path.join(dir, file));
  let name = label;
  if (!text && file === 'ref-sasrec-ce.json') {
    text = read(path.join(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname),
      '../../shared/bench/reference/sasrec-ce-d64.json'));
    name = `${label} (shipped result)`;
  }
  if (!text) continue;
  const r = JSON.parse(text);
  const t = r.test_at_best_valid;
  // Converged = stopped by its patience (validation no longer improving), not by budget or epochs.
  const converged = r.args.patience > 0 && r.epochs_run - r.best_epoch >= r.args.patience * r.args.eval_every;
  rows.push({
    name,
    test: {
      'NDCG@10': t.full['NDCG@10'], 'HR@10': t.full['HR@10'],
      'sampled_NDCG@10': t.sampled['NDCG@10'], 'sampled_HR@10': t.sampled['HR@10'],
    },
    epochs: `${r.best_epoch} of ${r.epochs_run}${converged ? '' : ' (not converged)'}`,
    secPerEpoch: r.sec_per_epoch_median,
  });
}
if (baselines) {
  rows.push({ name: 'first-order Markov', test: baselines.markov, epochs: '', secPerEpoch: null });
  rows.push({ name: 'popularity', test: baselines.popularity, epochs: '', secPerEpoch: null });
}
if (!rows.length) {
  console.error(`ml1m-table: no results in ${dir}`);
  process.exit(1);
}

console.log('| model | test NDCG@10 | test HR@10 | 100-neg NDCG@10 | 100-neg HR@10 | best epoch | s/epoch |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  const s = r.secPerEpoch == null ? '' : r.secPerEpoch.toFixed(1);
  console.log(`| ${r.name} | ${f4(r.test['NDCG@10'])} | ${f4(r.test['HR@10'])} | ${f4(r.test['sampled_NDCG@10'])} | ${f4(r.test['sampled_HR@10'])} | ${r.epochs} | ${s} |`);
}
console.log('\ns/epoch: as each run went (threads and machine load differ between rows): not a speed');
console.log('comparison; `node bench/run.mjs` times hunch and PyTorch side by side on the same shape.');
