// Hands out the kernel tables by name and keeps the default one (hunch/kernels.h).
//
// The optional implementations are compiled only when the build defines HUNCH_HAVE_WASM_SIMD128
// (Emscripten) or HUNCH_HAVE_XNNPACK (native, libxnnpack found); their source files each define
// one internal accessor, called here under the matching #if, so a build without them never
// references their symbols.
//
// The default is the build's best table unless the program chose another with
// set_default_kernels: the library reads no environment variable (the CLI and the test programs
// read HUNCH_KERNELS themselves and pass it in).
#include "kernels/kernels.h"

#include <atomic>
#include <cstring>

namespace hunch {

#if defined(HUNCH_HAVE_WASM_SIMD128)
// wasm-simd128/hunch-kernels-wasmsimd.cpp
const KernelTable* hunch_kernels_wasm_simd128_table();
#endif
#if defined(HUNCH_HAVE_XNNPACK)
// xnnpack/hunch-qs8-gemv-xnnpack.cpp; nullptr when xnn_initialize fails.
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

namespace {

// Every table name a build can have, in the order kernels_available() lists them.
const char* const kTableNames[] = {"ref", "wasm-simd128", "xnnpack"};

// The table set_default_kernels chose; nullptr = the build's best.
std::atomic<const KernelTable*> g_chosen{nullptr};

const KernelTable& build_best() {
  if (const KernelTable* t = kernels_wasm_simd128()) return *t;
  // Natively the reference stays the default even when XNNPACK is built: its qs8_gemv rounds the
  // output to 8 bits (see xnnpack/README.md), which the int8 model format does not promise.
  return kernels_ref();
}

}  // namespace

const KernelTable* kernels_by_name(const char* name) {
  if (!name) return nullptr;
  if (std::strcmp(name, "ref") == 0) return &kernels_ref();
  if (std::strcmp(name, "wasm-simd128") == 0) return kernels_wasm_simd128();
  if (std::strcmp(name, "xnnpack") == 0) return kernels_xnnpack();
  return nullptr;
}

std::vector<std::string> kernels_available() {
  std::vector<std::string> names;
  for (const char* name : kTableNames)
    if (kernels_by_name(name)) names.push_back(name);
  return names;
}

const char* kernels_name(const KernelTable& table) { return table.name; }

const KernelTable& kernels_default() {
  if (const KernelTable* t = g_chosen.load(std::memory_order_acquire)) return *t;
  static const KernelTable& best = build_best();  // thread-safe one-time init (C++11)
  return best;
}

Error set_default_kernels(const std::string& name) {
  // (A name with a NUL byte is no table's name, whatever precedes the NUL.)
  const KernelTable* t = name.find('\0') == std::string::npos ? kernels_by_name(name.c_str()) : nullptr;
  if (!t) {
    std::string available;
    for (const std::string& n : kernels_available()) available += (available.empty() ? "" : ", ") + n;
    return Error("kernel table '" + name + "' is not available in this build (available: " + available + ")");
  }
  g_chosen.store(t, std::memory_order_release);
  return Error();
}

}  // namespace hunch
