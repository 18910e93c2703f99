// Small models trained by the native CLI for the tests. trainV2: a "retrained" model for the model-update tests (node and Chromium): trained in a fraction of
// a second by the native CLI on a generated log whose vocabulary overlaps the fixtures' only in
// part: "/page/1".."/page/40" (also in the fixtures) plus "/new/1".."/new/20" (not), and the
// types view, click (shared) and share (new). The fixtures' "/page/41".."/page/299" and their
// add_to_cart / purchase types are unknown to it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './helpers.mjs';

export const cli = process.env.HUNCH_CLI ?? path.join(repoRoot, 'build/native/hunch');
export const noCli = !fs.existsSync(cli) && `no native CLI at ${cli}: build it (scripts/build.sh native) or set HUNCH_CLI`;

/** Trains the v2 model into `dir` (a temporary folder by default); returns its path. */
export function trainV2(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hunch-v2-'))) {
  let seed = 7;
  const rand = (n) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
  const rows = ['user,action,type,time'];
  for (let u = 0; u < 200; ++u) {
    let cur = rand(40) + 1;
    for (let i = 0, n = 4 + rand(9); i < n; ++i) {
      rows.push(`u${u},${cur <= 40 ? `/page/${cur}` : `/new/${cur - 40}`},${['view', 'click', 'share'][rand(3)]},${1_700_000_000 + u * 10_000 + i * 30}`);
      cur = ((cur * 3 + rand(3)) % 60) + 1;
    }
  }
  return trainCsv(rows, path.join(dir, 'v2'));
}

/** Trains a small lstm-attn model (attention window `window`) on CSV `rows` (header first) in well under a second; returns the model's path. */
export function trainCsv(rows, base = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hunch-model-')), 'm'), epochs = 2, window = 16) {
  const log = base + '.csv';
  const out = base + '.hunch';
  fs.writeFileSync(log, rows.join('\n') + '\n');
  // --min-users 1 --no-normalize: the tests' tiny logs name pages a handful of users visit, as
  // /page/N (hunch train's defaults would withhold them and fold the numbers into /page/:id).
  execFileSync(cli, ['train', log, '-o', out, '--min-users', '1', '--no-normalize', '--arch', 'lstm-attn', '--epochs', String(epochs), '--embed', '16', '--hidden', '16', '--attn-size', '16', '--window', String(window)], { stdio: 'pipe' });
  return out;
}
