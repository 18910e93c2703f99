#!/usr/bin/env bash
# Micro-benchmark of the core: median push + top-10 at the default shapes (V 3,707, D 64,
# H 128, W 32 / transformer L 2, W 200), int8 and f32, natively and in the WASM build under
# node, measured in the same run, with the WASM/native ratio.
# usage: bench/push-latency.sh [calls]   (default 5000; builds first if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-5000}
[ -x build/native/bench-push ] && [ -f build/wasm/bench-push.js ] || bash scripts/build.sh all >/dev/null
native=$(build/native/bench-push "$calls")
wasm=$(node build/wasm/bench-push.js "$calls")
node - "$native" "$wasm" <<'JS'
const [native, wasm] = process.argv.slice(2).map((s) => s.trim().split('\n').map((l) => JSON.parse(l)));
const key = (r) => `${r.arch} ${r.dtype}`;
const nat = new Map(native.map((r) => [key(r), r]));
console.log(`push + top-10, ${native[0].calls} calls each after warm-up (node ${process.version})`);
console.log('| model | WASM kernels | WASM median µs | WASM p95 µs | native kernels | native median µs | native p95 µs | WASM/native | model bytes | state bytes |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const w of wasm) {
  const n = nat.get(key(w));
  console.log(`| ${key(w)} | ${w.kernels} | ${w.median_us.toFixed(1)} | ${w.p95_us.toFixed(1)} | ${n.kernels} | ${n.median_us.toFixed(1)} | ${n.p95_us.toFixed(1)} | ${(w.median_us / n.median_us).toFixed(2)} | ${w.model_bytes} | ${w.state_bytes} |`);
}
JS
