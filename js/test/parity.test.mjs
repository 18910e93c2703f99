// Parity with the native core: the SDK's top-10, next type, exit and conversion probabilities
// for a fixed event list equal what `hunch predict MODEL --events … --json` prints for the same
// model. The CLI is $HUNCH_CLI, or build/native/hunch (scripts/build.sh native).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Predictor } from 'hunch';
import { ATTRS_MODEL, CONVERSION_MODEL, TERMS_MODEL, fixture, modelBytes, repoRoot } from './helpers.mjs';

const cli = process.env.HUNCH_CLI ?? path.join(repoRoot, 'build/native/hunch');
const skip = !fs.existsSync(cli) && `no native CLI at ${cli}: build it (scripts/build.sh native) or set HUNCH_CLI`;

// Times in whole and fractional seconds, an unknown action, an unknown type, a late event.
const events = [
  ['view', '/page/3', 1700000000], ['click', '/page/9', 1700000004.5], ['view', '/page/120', 1700000031],
  ['add_to_cart', '/page/77', 1700000090.25], ['view', '/nope', 1700000100], ['purchase', '/page/5', 1700000400],
  ['view', '/page/250', 1700000399], ['click', '/page/3', 1700003600],
];

for (const name of ['tiny-lstm-attn.hunch', 'tiny-lstm-attn-f32.hunch', 'tiny-transformer.hunch', CONVERSION_MODEL, TERMS_MODEL]) {
  test(`parity with the native CLI: ${name}`, { skip }, async () => {
    const arg = events.map(([t, a, s]) => `${t}:${a}@${s}`).join(',');
    const native = JSON.parse(execFileSync(cli, ['predict', fixture(name), '--events', arg, '--k', '10', '--json'], { encoding: 'utf8' }));
    const p = await Predictor.fromBytes(modelBytes(name));
    const s = p.sequence();
    s.push(events.map(([type, action, sec]) => ({ action, type, time: sec * 1000 })));
    const top = s.predict({ k: 10 });
    assert.equal(native.unknown_actions, s.stats().unknownActions);
    assert.deepEqual(top.map((t) => t.action), native.top.map((t) => t.action));
    for (let i = 0; i < top.length; ++i) assert.ok(Math.abs(top[i].probability - native.top[i].probability) < 1e-6, `rank ${i}`);
    for (const t of s.nextType()) assert.ok(Math.abs(t.probability - native.next_type[t.type]) < 1e-6, t.type);
    assert.ok(Math.abs(s.exitProbability() - native.exit) < 1e-6);
    // null on both sides for a model without a conversion head.
    const conversion = s.conversionProbability();
    if (name === CONVERSION_MODEL || name === TERMS_MODEL) assert.ok(Math.abs(conversion - native.conversion) < 1e-6, `conversion: SDK ${conversion}, CLI ${native.conversion}`);
    else assert.deepEqual([conversion, native.conversion], [null, null]);
    p.close();
  });
}

// Attributes: an unknown product with its category and price, a known one with a price of its
// own, one with an attribute value the model does not know (<none>); the rest from the model.
test(`parity with the native CLI, with attributes: ${ATTRS_MODEL}`, { skip }, async () => {
  const given = [null, { attr0: 'a0v3', attr1: 25 }, null, { attr1: '7.5' }, { attr0: 'a0v11' }, { attr0: 'no such value' }, null, null];
  const attrArg = (a) => (a ? `[${Object.entries(a).map(([k, v]) => `${k}=${v}`).join(';')}]` : '');
  const arg = events.map(([t, a, s], i) => `${t}:${a}${attrArg(given[i])}@${s}`).join(',');
  const native = JSON.parse(execFileSync(cli, ['predict', fixture(ATTRS_MODEL), '--events', arg, '--k', '10', '--json'], { encoding: 'utf8' }));
  const p = await Predictor.fromBytes(modelBytes(ATTRS_MODEL));
  assert.deepEqual(p.info.attributes, ['attr0', 'attr1']);
  const s = p.sequence();
  s.push(events.map(([type, action, sec], i) => ({ action, type, time: sec * 1000, ...(given[i] ? { attributes: given[i] } : {}) })));
  const top = s.predict({ k: 10 });
  assert.deepEqual(top.map((t) => t.action), native.top.map((t) => t.action));
  for (let i = 0; i < top.length; ++i) assert.ok(Math.abs(top[i].probability - native.top[i].probability) < 1e-6, `rank ${i}`);
  assert.ok(Math.abs(s.exitProbability() - native.exit) < 1e-6);
  // The attributes matter: without them the unknown product reads <none> and the top-10 moves.
  const plain = p.sequence();
  plain.push(events.map(([type, action, sec]) => ({ action, type, time: sec * 1000 })));
  assert.notDeepEqual(plain.predict({ k: 10 }).map((t) => t.probability), top.map((t) => t.probability));
  p.close();
});

// info.privacy: a model trained with --dp-epsilon carries its (ε, δ) and DP-SGD settings; one
// trained without has none.
test('info.privacy of a differentially private model, from hunch train --dp-epsilon', { skip }, async () => {
  const dir = fs.mkdtempSync(path.join(repoRoot, 'build', 'sdk-privacy-'));
  try {
    const events = path.join(dir, 'shop.csv');
    const model = path.join(dir, 'dp.hunch');
    execFileSync(cli, ['synth', '--users', '300', '--seed', '2', '--quiet', '-o', events]);
    execFileSync(cli, ['train', events, '-o', model, '--protocol', 'sessions', '--dp-epsilon', '8', '--epochs', '1', '--embed', '16', '--ffn', '16', '--layers', '1']);
    const p = await Predictor.fromBytes(new Uint8Array(fs.readFileSync(model)));
    const pr = p.info.privacy;
    assert.ok(pr && pr.epsilon > 0 && pr.epsilon <= 8, JSON.stringify(pr));
    assert.equal(pr.epsilon, p.info.metadata['hunch.privacy.dp_epsilon']);
    assert.ok(pr.delta > 0 && pr.delta < 1 && pr.noiseMultiplier > 0 && pr.clip === 1 && pr.sampleRate > 0 && pr.steps > 0);
    assert.ok(Object.isFrozen(pr));
    // The count start's release (--dp-count-share, 0.5 by default) and the DP-SGD steps each
    // spend part of ε; composed they give ε, less than their sum.
    const cr = pr.countRelease;
    assert.ok(cr && Object.isFrozen(cr), JSON.stringify(pr));
    assert.equal(cr.share, p.info.metadata['hunch.privacy.dp_count_share']);
    assert.ok(cr.epsilon > 0 && cr.epsilon < pr.epsilon && cr.noiseMultiplier > 0 && cr.clip > 0, JSON.stringify(cr));
    assert.ok(pr.sgdEpsilon > 0 && pr.sgdEpsilon < pr.epsilon && cr.epsilon + pr.sgdEpsilon > pr.epsilon, JSON.stringify(pr));
    p.close();
    const plain = await Predictor.fromBytes(modelBytes(CONVERSION_MODEL));
    assert.equal(plain.info.privacy, null);
    plain.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
