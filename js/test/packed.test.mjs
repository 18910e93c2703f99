// A model with packed action tables (issue 17: `hunch quantize --int4-embeddings`, int4 rows and a
// u8-coded bias decoded at load) works through the SDK unchanged, and the SDK's WASM core
// predicts what the native CLI's core predicts for it (`hunch predict --json`): the same top ten,
// probabilities within float rounding. Also with front-coded names (both options, the 100k-action
// recipe). Makes the models with the native CLI ($HUNCH_CLI, or build/native/hunch) from a fixture.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Predictor } from 'hunch';
import { TERMS_MODEL, T0, fixture, journey, repoRoot } from './helpers.mjs';

const cli = process.env.HUNCH_CLI ?? path.join(repoRoot, 'build/native/hunch');
const skip = !fs.existsSync(cli) && `no native CLI at ${cli}: build it (scripts/build.sh native) or set HUNCH_CLI`;

test('packed action tables: smaller file, the SDK predicts what the native core predicts', { skip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hunch-packed-'));
  try {
    for (const flags of [['--int4-embeddings'], ['--front-code-names', '--int4-embeddings']]) {
      const out = path.join(dir, 'packed.hunch');
      execFileSync(cli, ['quantize', fixture(TERMS_MODEL), '-o', out, ...flags], { stdio: 'ignore' });
      assert.ok(fs.statSync(out).size < fs.statSync(fixture(TERMS_MODEL)).size, 'the packed file is smaller');
      const p = await Predictor.fromBytes(new Uint8Array(fs.readFileSync(out)));
      const events = journey(12);
      const s = p.sequence();
      for (const e of events) s.push(e);
      const top = s.predict({ k: 10 });
      const arg = events.map((e) => `${e.type}:${e.action}@${(e.time - T0) / 1000}`).join(',');
      const native = JSON.parse(execFileSync(cli, ['predict', out, '--events', arg, '--json'], { encoding: 'utf8' }));
      assert.deepEqual(top.map((t) => t.action), native.top.map((t) => t.action), flags.join(' '));
      for (let i = 0; i < top.length; ++i)
        assert.ok(Math.abs(top[i].probability - native.top[i].probability) < 1e-5, `${top[i].probability} ${native.top[i].probability}`);
      p.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
