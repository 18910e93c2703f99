// close() releases everything: creating and closing 10,000 predictors and sequences leaves the
// wasm heap where it started. Also: the FinalizationRegistry frees what was not closed.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Predictor, memoryStats } from 'hunch';
import { modelBytes, journey } from './helpers.mjs';

test('10,000 sequences and 10,000 predictors: heap does not grow after close()', async () => {
  const bytes = modelBytes();
  const p = await Predictor.fromBytes(bytes);
  const events = journey(3);
  // One sequence, then two predictors, made and closed before the baseline, in the loops' order:
  // the allocator's first peaks with two models alive grow the heap once (a few bytes of its own
  // bookkeeping, 4 since the Model holds an attribute index; since it also holds the sparse count
  // head's index, the second cycle's, not the first's; with the copy window's build, the third's:
  // the cycle it falls in moves with the allocation pattern), which is not a leak: 1 or 10,000
  // cycles after them grow it by the same (4 bytes after two warm-up cycles at 1, 10, ..., 20,000
  // cycles; 0 after three).
  const first = p.sequence();
  first.push(events);
  first.close();
  for (let i = 0; i < 3; ++i) {
    const warm = await Predictor.fromBytes(bytes);
    warm.sequence('k').push(events);
    warm.sequence();
    warm.close();
  }
  const base = memoryStats();
  for (let i = 0; i < 10_000; ++i) {
    const s = p.sequence();
    s.push(events);
    s.close();
  }
  const afterSeqs = memoryStats();
  assert.equal(afterSeqs.heapUsed, base.heapUsed, 'sequences');
  assert.equal(afterSeqs.sequences, 0);
  for (let i = 0; i < 10_000; ++i) {
    const q = await Predictor.fromBytes(bytes);
    q.sequence('k').push(events);
    q.sequence();
    q.close();
  }
  const after = memoryStats();
  assert.equal(after.heapUsed, base.heapUsed, 'predictors');
  assert.equal(after.memoryBytes, base.memoryBytes, 'wasm memory did not grow');
  assert.equal(after.models, 1);
  p.close();
  assert.ok(memoryStats().heapUsed < base.heapUsed, 'the last model freed too');
});

test('objects dropped without close() are freed by the FinalizationRegistry', { skip: typeof globalThis.gc !== 'function' && 'run node with --expose-gc' }, async () => {
  const bytes = modelBytes();
  const keep = await Predictor.fromBytes(bytes);
  const base = memoryStats().heapUsed;
  // In a function of its own, so that no local of this test keeps the last one reachable.
  const dropOne = async () => {
    const q = await Predictor.fromBytes(bytes);
    q.sequence().push(journey(2));
    q.sequence('k').push(journey(2));
  };
  for (let i = 0; i < 20; ++i) await dropOne();
  assert.ok(memoryStats().heapUsed > base);
  // Tolerance: a few malloc headers of free-list fragmentation (the name lookups pass strings
  // through malloc); a leaked predictor would be its whole model, tens of KB.
  const slack = 1024;
  for (let i = 0; i < 20 && memoryStats().heapUsed > base + slack; ++i) {
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(memoryStats().heapUsed - base <= slack, `heap ${memoryStats().heapUsed - base} B above the start`);
  keep.close();
});
