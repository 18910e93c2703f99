// Shared by the tests: fixture paths and a storage double that can fail on demand.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const jsRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = path.resolve(jsRoot, '..');
export const fixture = (name) => path.join(repoRoot, 'tests/data/fixtures', name);
export const modelBytes = (name = 'tiny-lstm-attn.hunch') => new Uint8Array(fs.readFileSync(fixture(name)));

// The fixture with a conversion head (goal type "purchase") and calibration keys; the others have none.
export const CONVERSION_MODEL = 'tiny-transformer-conversion.hunch';
// Conversion head and session inputs too, plus the action head's copy terms and transition table.
export const TERMS_MODEL = 'tiny-transformer-terms.hunch';
// TERMS_MODEL's parts plus attribute columns: attr0 (categories a0v1..a0v12), attr1 (numeric: -inf, 10, 20, …).
export const ATTRS_MODEL = 'tiny-transformer-attrs.hunch';

// The fixtures' vocabulary: "/page/1".."/page/299", types view/click/add_to_cart/purchase.
export const T0 = 1_700_000_000_000;
export const journey = (n, start = 1) =>
  Array.from({ length: n }, (_, i) => ({ action: `/page/${((start + i * 7) % 299) + 1}`, type: ['view', 'click', 'add_to_cart'][i % 3], time: T0 + i * 4000 }));

/** A PersistStorage over a Map whose operations can be made to throw, and that counts calls. */
export class TestStorage {
  constructor(map = new Map()) {
    this.map = map;
    this.calls = [];
    this.fail = {}; // op -> Error to throw
  }
  #op(op, key) {
    this.calls.push(`${op}:${key}`);
    if (this.fail[op]) throw this.fail[op];
  }
  async get(k) { this.#op('get', k); return this.map.get(k); }
  async set(k, b) { this.#op('set', k); this.map.set(k, new Uint8Array(b)); }
  async delete(k) { this.#op('delete', k); this.map.delete(k); }
  async keys(p) { this.#op('keys', p); return [...this.map.keys()].filter((k) => k.startsWith(p)); }
}

export function quotaError() {
  const e = new Error('The quota has been exceeded.');
  e.name = 'QuotaExceededError';
  return e;
}
