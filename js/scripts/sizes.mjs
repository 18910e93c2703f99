// Bytes a page downloads for the default (main-thread) path and for worker mode: raw and
// gzip -9. Usage: node scripts/sizes.mjs [--json]
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dist = path.join(path.dirname(path.dirname(fileURLToPath(import.meta.url))), 'dist');

// The entry and what it imports statically (dynamic imports load only when a feature is used).
function closure(entry, seen = new Set()) {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  const src = fs.readFileSync(path.join(dist, entry), 'utf8');
  for (const m of src.matchAll(/(?:^|[;}\s])(?:import|export)\s*(?:[\w*{}\s,$]+from\s*)?["'](\.\/[^"']+)["']/g)) closure(m[1].slice(2), seen);
  return seen;
}

// `gzip -9` itself where present (the budget is stated in its bytes; zlib's level 9 differs a little).
function gzipSize(b) {
  try {
    return execFileSync('gzip', ['-9c'], { input: b, maxBuffer: 1 << 26 }).length;
  } catch {
    return zlib.gzipSync(b, { level: 9 }).length;
  }
}

function measure(files) {
  let raw = 0;
  let gz = 0;
  const detail = {};
  for (const f of files) {
    const b = fs.readFileSync(path.join(dist, f));
    const g = gzipSize(b);
    raw += b.length;
    gz += g;
    detail[f] = { raw: b.length, gzip: g };
  }
  return { raw, gzip: gz, files: detail };
}

const chunk = (prefix) => fs.readdirSync(dist).find((f) => f.startsWith(prefix));
export function sizes() {
  const main = measure([...closure('index.js'), 'hunch.mjs', 'hunch.wasm']);
  const worker = measure([...closure('index.js'), chunk('index-worker-client-'), ...closure('worker.js'), 'hunch.mjs', 'hunch.wasm']);
  return { main, worker };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const s = sizes();
  if (process.argv.includes('--json')) console.log(JSON.stringify(s, null, 2));
  else
    for (const [k, v] of Object.entries(s)) {
      console.log(`${k}: ${v.raw} bytes raw, ${v.gzip} bytes gzip -9`);
      for (const [f, d] of Object.entries(v.files)) console.log(`  ${f.padEnd(36)} ${String(d.raw).padStart(7)} ${String(d.gzip).padStart(7)}`);
    }
}
