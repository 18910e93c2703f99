// Pieces every fuzz target shares: the invariant check, the seed writer behind
// HUNCH_FUZZ_WRITE_SEEDS, and small random-weight models for the targets that need one.
// tests/native/test-fuzz-regressions.cpp includes all targets into one file, so this header is
// included several times there (pragma once) and its HUNCH_FUZZ_CHECK can be predefined.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "hunch/model.h"
#include "../model-builder.h"

#ifndef HUNCH_FUZZ_CHECK
// A broken promise is a crash for libFuzzer: it keeps the input as a crash artifact.
#define HUNCH_FUZZ_CHECK(cond, what)                                                         \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", what, __FILE__, __LINE__); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)
#endif

namespace hunch_fuzz {

// In LLVMFuzzerInitialize: with HUNCH_FUZZ_WRITE_SEEDS=dir, writes the target's seeds as
// dir/<prefix><i><suffix> and exits; otherwise returns.
inline void write_seeds_if_asked(const std::vector<std::vector<uint8_t>>& seeds, const char* prefix,
                                 const char* suffix) {
  const char* dir = std::getenv("HUNCH_FUZZ_WRITE_SEEDS");
  if (!dir) return;
  for (size_t i = 0; i < seeds.size(); ++i) {
    std::string path = std::string(dir) + "/" + prefix + std::to_string(i) + suffix;
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f || std::fwrite(seeds[i].data(), 1, seeds[i].size(), f) != seeds[i].size()) std::abort();
    std::fclose(f);
  }
  std::exit(0);
}

// A model built from `spec`; aborts (a harness bug, not a finding) if it does not load.
inline std::unique_ptr<hunch::Model> build_and_load(const hunch_test::ModelSpec& spec, const char* who) {
  std::vector<uint8_t> bytes = hunch_test::build_model(spec);
  std::unique_ptr<hunch::Model> m;
  if (hunch::Error e = hunch::Model::load(bytes.data(), bytes.size(), &m)) {
    std::fprintf(stderr, "%s: cannot build a model: %s\n", who, e.message.c_str());
    std::abort();
  }
  return m;
}

}  // namespace hunch_fuzz
