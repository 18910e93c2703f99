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
# XNNPACK's int8 path (native, opt-in: it rounds outputs to 8 bits, see core/src/kernels/xnnpack/README.md)
# A build without XNNPACK refuses the name: its column then shows the reference kernels.
xnn=$(HUNCH_KERNELS=xnnpack build/native/bench-push "$calls" 2>/dev/null) || xnn=$native
wasm=$(node build/wasm/bench-push.js "$calls")
node - "$native" "$xnn" "$wasm" <<'JS'
const [native, xnn, wasm] = process.argv.slice(2).map((s) => s.trim().split('\n').map((l) => JSON.parse(l)));
const key = (r) => `${r.arch} ${r.dtype}`;
const nat = new Map(native.map((r) => [key(r), r]));
const xn = new Map(xnn.map((r) => [key(r), r]));
const f = (x) => x.toFixed(1);
console.log(`push + top-10 at the default shapes, ${native[0].calls} calls each after warm-up (node ${process.version}; ${new Date().toISOString()})`);
console.log('| model | WASM (SIMD128) median µs | p95 µs | native ref median µs | p95 µs | WASM / native ref | native XNNPACK median µs | WASM / native XNNPACK | model bytes | state bytes |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const w of wasm) {
  const n = nat.get(key(w)), x = xn.get(key(w));
  const xcol = x.kernels === 'xnnpack' && w.dtype === 'int8' ? [f(x.median_us), (w.median_us / x.median_us).toFixed(2)] : ['-', '-'];
  console.log(`| ${key(w)} | ${f(w.median_us)} | ${f(w.p95_us)} | ${f(n.median_us)} | ${f(n.p95_us)} | ${(w.median_us / n.median_us).toFixed(2)} | ${xcol[0]} | ${xcol[1]} | ${w.model_bytes} | ${w.state_bytes} |`);
}
JS
