#!/usr/bin/env bash
# The main job (README command one): set-up, build both targets, then show a model working
# natively and in the WASM build.
# TODO(#5): train on the bundled shop data, evaluate, and serve the demo page.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh all

model=tests/data/fixtures/tiny-lstm-attn.hunch
events="view:/page/3@0,click:/page/7@20,add_to_cart:/page/9@95,view:/page/12@140"
echo
echo "== hunch inspect $model =="
build/native/hunch inspect "$model"
echo
echo "== native: hunch predict =="
build/native/hunch predict "$model" --events "$events" --k 10
echo
echo "== WASM build under node =="
node scripts/wasm-predict.mjs "$model" "$events" 10
