#!/usr/bin/env bash
# Where the microseconds of push + top-10 go, before and after issue 17's action-head change:
# `bench-push --profile` (bench/core/bench-push.cpp) in the WASM build under node (the SDK's
# core) at V 3,707 and 100,000, both architectures. "before" is the previous predict (a max pass,
# an exp-sum pass and a scan calling f32_max per 64-logit block, reading every block that beat a
# still-low threshold), kept in the benchmark and timed in the same process, alternating with
# the current one (one block-maxima pass, the exp-sum, the scan of the ~k blocks that can hold a
# top-k logit). Writes bench/results/step-profile.md,
# which `node bench/run.mjs` copies into RESULTS.md.
# usage: bench/step-profile.sh [calls]   (default 5000 at V 3,707; a fifth of it at 100,000)
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-5000}
[ -f build/wasm/bench-push.js ] || bash scripts/build.sh wasm >/dev/null
small=$(node build/wasm/bench-push.js --profile "$calls" 3707)
big=$(node build/wasm/bench-push.js --profile "$((calls / 5))" 100000)
node - "$small
$big" "$(uptime)" > bench/results/step-profile.md <<'JS'
const rows = process.argv[2].trim().split('\n').map((l) => JSON.parse(l));
const f = (x) => x.toFixed(1);
const out = [];
out.push(`\`bash bench/step-profile.sh\`, ${new Date().toISOString()}, node ${process.version}, WASM SIMD128 build; load: ${process.argv[3].trim().replace(/.*load average: /, '')} (1/5/15 min; 2 cores, shared). Medians per event; "alone" = the kernel timed on its own on the same model and logits. "rest" = predict − the kernels it runs (GEMV, max / block maxima, exp-sum): the top-10 scan, z's quantisation, calls.`, '');
out.push('| model | V | push µs | predict before µs | predict after µs | push + predict before → after µs | head GEMV alone µs | max pass µs | exp-sum pass µs | rest of predict before µs | block-maxima pass µs | rest of predict after µs | top-10 ids differing |');
out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const restBefore = r.predict_before_us - r.gemv_us - r.max_us - r.expsum_us;
  const restAfter = r.predict_us - r.gemv_us - r.expsum_us - r.block_max_us;
  out.push(`| ${r.profile} | ${r.V} | ${f(r.push_us)} | ${f(r.predict_before_us)} | ${f(r.predict_us)} | ${f(r.push_us + r.predict_before_us)} → ${f(r.push_us + r.predict_us)} | ${f(r.gemv_us)} | ${f(r.max_us)} | ${f(r.expsum_us)} | ${f(restBefore)} | ${f(r.block_max_us)} | ${f(restAfter)} | ${r.top10_ids_differing} of ${10 * r.calls} |`);
}
console.log(out.join('\n'));
JS
cat bench/results/step-profile.md
