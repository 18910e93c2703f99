// Picks the kernel table once and hands out the optional implementations by name.
//
// The optional implementations are compiled only when the build defines HUNCH_HAVE_WASM_SIMD128
// (Emscripten) or HUNCH_HAVE_XNNPACK (native, libxnnpack found); their source files each define
// one internal accessor, called here under the matching #if, so a build without them never
// references their symbols.
#include "kernels/kernels.h"

#include <cstdlib>
#include <cstring>

namespace hunch {

#if defined(HUNCH_HAVE_WASM_SIMD128)
// wasm-simd128/hunch-kernels-wasmsimd.cpp
const KernelTable* hunch_kernels_wasm_simd128_table();
#endif
#if defined(HUNCH_HAVE_XNNPACK)
// xnnpack/hunch-kernels-xnnpack.cpp; nullptr when xnn_initialize fails.
const KernelTable* hunch_kernels_xnnpack_table();
#endif

const KernelTable* kernels_wasm_simd128() {
#if defined(HUNCH_HAVE_WASM_SIMD128)
  return hunch_kernels_wasm_simd128_table();
#else
  return nullptr;
#endif
}

const KernelTable* kernels_xnnpack() {
#if defined(HUNCH_HAVE_XNNPACK)
  return hunch_kernels_xnnpack_table();
#else
  return nullptr;
#endif
}

const KernelTable* kernels_by_name(const char* name) {
  if (!name) return nullptr;
  if (std::strcmp(name, "ref") == 0) return &kernels_ref();
  if (std::strcmp(name, "wasm-simd128") == 0) return kernels_wasm_simd128();
  if (std::strcmp(name, "xnnpack") == 0) return kernels_xnnpack();
  return nullptr;
}

namespace {

const KernelTable& pick_default() {
  // An override naming an implementation this build lacks (or a typo) falls through to the
  // normal choice rather than failing: the variable is a testing aid, not configuration.
  if (const char* env = std::getenv("HUNCH_KERNELS")) {
    if (const KernelTable* t = kernels_by_name(env)) return *t;
  }
  if (const KernelTable* t = kernels_wasm_simd128()) return *t;
  // Natively the reference stays the default even when XNNPACK is built: its qs8_gemv rounds the
  // output to 8 bits (see xnnpack/README.md), which the int8 model format does not promise.
  return kernels_ref();
}

}  // namespace

const KernelTable& kernels_default() {
  static const KernelTable& table = pick_default();  // thread-safe one-time init (C++11)
  return table;
}

}  // namespace hunch
