#!/usr/bin/env bash
# One idempotent set-up for a fresh Debian machine: system packages from Debian, npm packages
# from the npm registry. Nothing else is downloaded. Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  emscripten            # em++ 3.1.6: the WASM SIMD128 build
  libeigen3-dev         # trainer math
  doctest-dev           # C++ unit tests
  libxnnpack-dev libpthreadpool-dev   # native int8 kernels (x86-64 only); xnnpack.h includes pthreadpool.h
  zlib1g-dev            # gzip-compressed event logs
  openmpi-bin libopenmpi-dev   # hunch train across processes (mpirun; CMake option HUNCH_MPI)
  clang libclang-rt-14-dev   # sanitizer / libFuzzer builds
  chromium              # headless browser tests (never a tool's own browser download)
  firefox-esr           # the second engine of the browser tests (WebDriver BiDi, puppeteer-core)
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# libxnnpack-dev exists for x86-64 only; skip it elsewhere (the native build then uses the reference kernels).
if [ "$(dpkg --print-architecture)" != "amd64" ]; then
  missing=("${missing[@]/libxnnpack-dev}")
  missing=("${missing[@]/libpthreadpool-dev}")
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends ${missing[@]}
else
  echo "setup: system packages present"
fi

# npm dependencies, exact versions from each package-lock.json; skipped when node_modules is
# already newer than the lock file. The browser drivers never download a browser: the tests use
# Debian's chromium and firefox-esr (PUPPETEER_SKIP_DOWNLOAD is a guard; puppeteer-core has no
# download step of its own).
export PUPPETEER_SKIP_DOWNLOAD=1
for dir in . js demo bench examples/vite-react examples/next; do
  [ -f "$dir/package-lock.json" ] || continue
  if [ -f "$dir/node_modules/.package-lock.json" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    continue
  fi
  echo "setup: npm ci in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
done
echo "setup: done"
