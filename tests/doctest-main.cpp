// The one doctest main shared by every test executable (native and WASM).
//
// HUNCH_KERNELS=ref|wasm-simd128|xnnpack runs a suite on another kernel table than the build's
// default. The library reads no environment: the test programs read the variable here and pass
// the choice in; a name this build has no table for stops the program with the library's error.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>

#include "hunch/kernels.h"

int main(int argc, char** argv) {
  if (const char* env = std::getenv("HUNCH_KERNELS"); env && *env) {
    if (hunch::Error e = hunch::set_default_kernels(env)) {
      std::fprintf(stderr, "HUNCH_KERNELS: %s\n", e.message.c_str());
      return 2;
    }
  }
  return doctest::Context(argc, argv).run();
}
