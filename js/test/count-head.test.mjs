// A counts-only action head (hunch.head.action.counts: what `hunch train` ships on sparse logs)
// ranks through the sparse top-k (docs/architecture.md, "Built: the sparse count head"): the SDK's WASM core
// predicts what the native CLI's core predicts (`hunch predict --json`: same ids in the same
// order, probabilities within float rounding) for k 10 and 64, on the fixture as written and
// packed with front-coded names (the 100k-action recipe). That the sparse top-k is the dense
// scan's is tests/core/test-count-head.cpp (native and WASM builds).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Predictor } from 'hunch';
import { T0, fixture, journey, repoRoot } from './helpers.mjs';

const COUNTS_MODEL = 'tiny-transformer-counts.hunch';
const cli = process.env.HUNCH_CLI ?? path.join(repoRoot, 'build/native/hunch');
const skip = !fs.existsSync(cli) && `no native CLI at ${cli}: build it (scripts/build.sh native) or set HUNCH_CLI`;

test('count head: the SDK predicts what the native core predicts, plain and packed', { skip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hunch-counts-'));
  try {
    const packed = path.join(dir, 'packed.hunch');
    execFileSync(cli, ['quantize', fixture(COUNTS_MODEL), '-o', packed, '--front-code-names', '--int4-embeddings'], { stdio: 'ignore' });
    for (const file of [fixture(COUNTS_MODEL), packed]) {
      const p = await Predictor.fromBytes(new Uint8Array(fs.readFileSync(file)));
      // Repeats (the copy terms) and a walk over the fixture's pages (the transition terms).
      const events = [...journey(10), ...journey(6, 3), ...journey(4)];
      const s = p.sequence();
      for (const e of events) s.push(e);
      const arg = events.map((e) => `${e.type}:${e.action}@${(e.time - T0) / 1000}`).join(',');
      for (const k of [10, 64]) {
        const top = s.predict({ k });
        const native = JSON.parse(execFileSync(cli, ['predict', file, '--events', arg, '--json', '--k', String(k)], { encoding: 'utf8' }));
        assert.equal(top.length, k);
        assert.deepEqual(top.map((t) => t.action), native.top.map((t) => t.action), `${path.basename(file)} k ${k}`);
        for (let i = 0; i < k; ++i)
          assert.ok(Math.abs(top[i].probability - native.top[i].probability) < 1e-6, `${top[i].probability} ${native.top[i].probability}`);
        for (let i = 1; i < k; ++i) assert.ok(top[i].probability <= top[i - 1].probability);
      }
      p.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
