// A model whose copy terms read further back than its attention (hunch.copy.window, `hunch train
// --copy-window`, docs/architecture.md "The copy window"): the SDK reports Wc, predicts what the
// native core predicts after more than W events (the WASM core reads the same Wc ids), and a
// sequence keeps the names of its last max(W, Wc) events, so a saved state restores and a model
// update replays the events the copy terms still read.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Predictor } from 'hunch';
import { repoRoot } from './helpers.mjs';

const cli = process.env.HUNCH_CLI ?? path.join(repoRoot, 'build/native/hunch');
const skip = !fs.existsSync(cli) && `no native CLI at ${cli}: build it (scripts/build.sh native) or set HUNCH_CLI`;
const T0 = 1.7e12;

// 40 users, 30 events each over 12 items (not URL-like: no routes): every user returns to items seen long before.
function writeLog(file) {
  const rows = ['user,action,type,time'];
  for (let u = 0; u < 40; ++u)
    for (let i = 0; i < 30; ++i) rows.push(`u${u},item${(u * 7 + i * (i % 3 ? 5 : 1)) % 12},${i % 4 ? 'view' : 'click'},${(T0 + (u * 100 + i) * 20_000) / 1000}`);
  fs.writeFileSync(file, rows.join('\n') + '\n');
}

test('copy window 40 over an attention window of 4: SDK and native core agree, states keep 40 names', { skip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hunch-copy-window-'));
  try {
    const log = path.join(dir, 'log.csv'), file = path.join(dir, 'm.hunch');
    writeLog(log);
    execFileSync(cli, ['train', log, '-o', file, '--arch', 'lstm-attn', '--window', '4', '--copy-window', '40', '--embed', '8',
      '--hidden', '8', '--attn-size', '4', '--epochs', '2', '--min-count', '1', '--min-users', '1', '--threads', '1'], { stdio: 'ignore' });
    const p = await Predictor.fromBytes(new Uint8Array(fs.readFileSync(file)));
    assert.equal(p.info.window, 4);
    assert.equal(p.info.copyWindow, 40);
    const events = [];
    for (let i = 0; i < 50; ++i) events.push({ action: `item${(i * 5) % 12}`, type: i % 4 ? 'view' : 'click', time: T0 + i * 20_000 });
    const s = p.sequence();
    for (const e of events) s.push(e);
    const top = s.predict({ k: 10 });
    const arg = events.map((e) => `${e.type}:${e.action}@${(e.time - T0) / 1000}`).join(',');
    const native = JSON.parse(execFileSync(cli, ['predict', file, '--events', arg, '--json', '--k', '10'], { encoding: 'utf8' }));
    assert.deepEqual(top.map((t) => t.action), native.top.map((t) => t.action));
    for (let i = 0; i < 10; ++i) assert.ok(Math.abs(top[i].probability - native.top[i].probability) < 1e-6);
    // The saved state: the last 40 names (more than W, trimmed at Wc), and it restores to the same
    // predictions.
    const bytes = s.save();
    const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
    const meta = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + n)));
    assert.equal(meta.r.length, 40);
    assert.equal(meta.r[0][0], events[10].action);
    const r = p.sequence();
    r.restore(bytes);
    assert.deepEqual(r.predict({ k: 10 }), top);
    // A model update replays every name the copy terms read: the last 40 events, as a fresh
    // sequence of them predicts (the same model here).
    const fresh = p.sequence();
    for (const e of events.slice(10)) fresh.push(e);
    const want = fresh.predict({ k: 10 });
    await p.update(new Uint8Array(fs.readFileSync(file)));
    assert.equal(s.stats().carriedEvents, 40);
    assert.deepEqual(s.predict({ k: 10 }), want);
    p.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
