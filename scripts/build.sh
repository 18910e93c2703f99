#!/usr/bin/env bash
# Builds both targets from the one CMake tree:
#   build/native  — the hunch CLI, native tests (g++, -O3, XNNPACK when available)
#   build/wasm    — hunch.mjs + hunch.wasm (Emscripten, SIMD128 kernels) and the WASM tests
# Usage: scripts/build.sh [native|wasm|all]   (default all). Extra CMake flags: HUNCH_CMAKE_FLAGS.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
jobs=${HUNCH_JOBS:-2}
# Debian's emscripten needs this in the environment of every emcc/em++ call (its optimizer
# loads acorn from there).
export NODE_PATH=/usr/share/nodejs

if [ "$what" = native ] || [ "$what" = all ]; then
  cmake -S . -B build/native -G Ninja -DCMAKE_BUILD_TYPE=Release ${HUNCH_CMAKE_FLAGS:-} >/dev/null
  cmake --build build/native -j"$jobs"
fi
if [ "$what" = wasm ] || [ "$what" = all ]; then
  emcmake cmake -S . -B build/wasm -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build/wasm -j"$jobs"
fi
