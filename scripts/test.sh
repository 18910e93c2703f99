#!/usr/bin/env bash
# The test command (README, .ci/run): set-up, both builds, then every suite —
#   native doctest suites (CTest)          build/native
#   the same core suites on WASM under node build/wasm (SIMD128 kernels)
#   the SDK's node tests, packaging, types  js/
#   the main job on a small budget         scripts/main.sh --quick --no-serve (trains the demo model)
#   browser end-to-end tests               npm run test:e2e (Chromium and Firefox ESR; the examples/
#                                           apps built from the packed SDK)
#   the native suite under ASan+UBSan+LSan scripts/sanitize.sh
#   every fuzz target for 30 s             scripts/fuzz.sh 30
# Fails on the first failing suite. HUNCH_SKIP_SETUP=1 skips the package installs.
#
# scripts/test.sh --quick: the contributor's loop — set-up, both builds, then only the first three
# (native and WASM ctest, the SDK's node tests): no soak, main job, browser, sanitizer build or
# fuzzing. About 30 s on a warm build (2 cores), plus rebuilding what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
case "${1:-}" in
  --quick) quick=1 ;;
  "") ;;
  *) echo "usage: scripts/test.sh [--quick]" >&2; exit 2 ;;
esac
[ "${HUNCH_SKIP_SETUP:-0}" = 1 ] || bash scripts/setup.sh
bash scripts/build.sh all

echo "== native tests (ctest, build/native) =="
ctest --test-dir build/native --output-on-failure -j2
echo "== WASM tests (ctest, build/wasm, node $(node --version)) =="
ctest --test-dir build/wasm --output-on-failure -j2

echo "== SDK tests (js/: build, node --test, packaging, types, parity with build/native/hunch) =="
(cd js && HUNCH_WASM_DIR=../build/wasm npm run --silent build && HUNCH_CLI="$PWD/../build/native/hunch" npm test)
if [ "$quick" = 1 ]; then
  echo "== quick suites passed (full run: bash scripts/test.sh) =="
  echo "suites: 3 passed, 0 failed (quick: soak, main job, browser, sanitizers and fuzzing not run)"
  exit 0
fi
echo "== WASM soak: 1,000,000 events + 100,000 predictions, 10,000 predictors: heap stays flat =="
(cd js && node scripts/soak.mjs)
echo "== main job, quick (synth -> train -> eval -> demo model) =="
HUNCH_SKIP_SETUP=1 bash scripts/main.sh --quick --no-serve
echo "== browser end-to-end tests (headless Chromium and Firefox ESR; examples/ built from the packed SDK) =="
npm run --silent test:e2e
echo "== native suite under ASan + UBSan + LeakSanitizer (scripts/sanitize.sh) =="
bash scripts/sanitize.sh
echo "== fuzz targets, 30 s each (scripts/fuzz.sh 30; long runs: scripts/fuzz.sh 600) =="
bash scripts/fuzz.sh 30
echo "== all test suites passed =="
# set -e: reaching this line means every suite above passed.
echo "suites: 8 passed, 0 failed"
