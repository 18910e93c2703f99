// A model whose action names are front-coded (issue 17: `hunch quantize --front-code-names`, the
// tensor vocab.actions.fc) works through the SDK unchanged: the same names, the same predictions
// by name, name lookups on push and names decoded on demand. Makes the model with the native CLI
// ($HUNCH_CLI, or build/native/hunch) from a fixture.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Predictor } from 'hunch';
import { TERMS_MODEL, fixture, journey, repoRoot } from './helpers.mjs';

const cli = process.env.HUNCH_CLI ?? path.join(repoRoot, 'build/native/hunch');
const skip = !fs.existsSync(cli) && `no native CLI at ${cli}: build it (scripts/build.sh native) or set HUNCH_CLI`;

test('front-coded names: same names and predictions as the model they came from', { skip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hunch-fc-'));
  try {
    const out = path.join(dir, 'fc.hunch');
    execFileSync(cli, ['quantize', fixture(TERMS_MODEL), '-o', out, '--front-code-names'], { stdio: 'ignore' });
    const a = await Predictor.fromBytes(new Uint8Array(fs.readFileSync(fixture(TERMS_MODEL))));
    const b = await Predictor.fromBytes(new Uint8Array(fs.readFileSync(out)));
    // Predictions first: names are decoded one by one (the whole vocabulary is not read yet).
    const sa = a.sequence(), sb = b.sequence();
    sa.push(journey(12));
    sb.push(journey(12));
    const ta = sa.predict({ k: 10 }), tb = sb.predict({ k: 10 });
    assert.deepEqual(tb.map((t) => t.action), ta.map((t) => t.action));
    for (let i = 0; i < ta.length; ++i) assert.ok(Math.abs(ta[i].probability - tb[i].probability) < 1e-5, `${ta[i].probability} ${tb[i].probability}`);
    // An unknown name is <unk> in both.
    sa.push({ action: '/nowhere', time: Date.now() });
    sb.push({ action: '/nowhere', time: Date.now() });
    assert.deepEqual(sb.predict({ k: 5 }).map((t) => t.action), sa.predict({ k: 5 }).map((t) => t.action));
    // The whole vocabulary: the same names, ids 1.. in byte order.
    assert.equal(b.info.actions.length, a.info.actions.length);
    assert.equal(b.info.actions[0], '<unk>');
    assert.deepEqual([...b.info.actions].sort(), [...a.info.actions].sort());
    const rest = b.info.actions.slice(1);
    assert.deepEqual(rest, [...rest].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    assert.notDeepEqual(b.info.actions, a.info.actions, 'renumbered ("/page/10" before "/page/2")');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
