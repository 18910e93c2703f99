// Cold start: a fresh node process imports the package and makes its first prediction from a
// model already in memory. Prints the median of RUNS processes, in ms.
// Usage: node scripts/cold-start.mjs [runs]   (prints JSON: {median, runs: [...]})
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const model = path.resolve(root, '../tests/data/fixtures/tiny-lstm-attn.hunch');
const child = `
const bytes = new Uint8Array((await import('node:fs')).readFileSync(${JSON.stringify(model)}));
const t0 = performance.now();
const { Predictor } = await import('hunch');
const p = await Predictor.fromBytes(bytes);
const s = p.sequence();
s.push({ action: '/page/3', type: 'view' });
const top = s.predict({ k: 10 });
const ms = performance.now() - t0;
if (top.length !== 10) throw new Error('no prediction');
console.log(ms);
`;
const runs = Number(process.argv[2] ?? 7);
const times = [];
for (let i = 0; i < runs; ++i)
  times.push(Number(execFileSync(process.execPath, ['--input-type=module', '-e', child], { cwd: root, encoding: 'utf8' })));
const sorted = [...times].sort((a, b) => a - b);
console.log(JSON.stringify({ median: sorted[sorted.length >> 1], runs: times.map((t) => +t.toFixed(2)) }));
if (!fs.existsSync(model)) process.exit(1);
