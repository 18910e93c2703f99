// Pieces the fuzz targets share: the invariant check, the seed writer behind
// HUNCH_FUZZ_WRITE_SEEDS, small random-weight models for the targets that need one, and the
// two model-reader targets' view check and seeds.
// tests/native/test-fuzz-regressions.cpp includes all targets into one file, so this header is
// included several times there (pragma once) and its HUNCH_FUZZ_CHECK can be predefined.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "hunch/format.h"
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

// After read_model_file accepted data (with or without the CRC check): every view it hands out
// lies inside [data, data + size), and every block has the size its shape implies.
inline void check_views(const hunch::ModelFile& mf, const uint8_t* data, size_t size) {
  HUNCH_FUZZ_CHECK(mf.file_size == size, "file_size equals the bytes given");
  HUNCH_FUZZ_CHECK(mf.data_offset <= size, "data_offset inside the file");
  const uint8_t* end = data + size;
  for (const hunch::TensorEntry& t : mf.tensors) {
    uint64_t expected = 0;
    HUNCH_FUZZ_CHECK(hunch::tensor_block_bytes(t.dtype, t.shape, &expected), "block size computes");
    HUNCH_FUZZ_CHECK(t.nbytes == expected, "nbytes matches the shape");
    const uint8_t* block = t.dtype == hunch::DType::F32  ? reinterpret_cast<const uint8_t*>(t.f32)
                           : t.dtype == hunch::DType::U8 ? t.u8
                                                         : reinterpret_cast<const uint8_t*>(t.scales);
    HUNCH_FUZZ_CHECK(block != nullptr, "tensor has a view");
    HUNCH_FUZZ_CHECK(block >= data + mf.data_offset && block <= end, "block starts in the data section");
    HUNCH_FUZZ_CHECK(t.nbytes <= uint64_t(end - block), "block ends inside the file");
    if (t.dtype == hunch::DType::I8) {
      const uint8_t* q = reinterpret_cast<const uint8_t*>(t.i8);
      const uint64_t cells = t.shape[0] * t.shape[1];
      HUNCH_FUZZ_CHECK(q > block && q <= end && cells <= uint64_t(end - q), "int8 data inside the block");
    }
  }
}

// The model readers' seeds: small valid models of both architectures and dtypes, and one with
// the copy and transition terms (a few KB,
// against 50-170 KB for the fixtures): cheap to execute, and most mutations land in a header
// or table field.
inline std::vector<std::vector<uint8_t>> small_models() {
  std::vector<std::vector<uint8_t>> out;
  // 4: int8 transformer with copy terms (a copy window of 7 over W 3: hunch.copy.window) and a
  // transition table; 5: int8 lstm-attn whose names are
  // the front-coded tensor vocab.actions.fc; 6: int8 lstm-attn with packed action tables
  // (hunch/packed.h: int4 rows, u8 bias).
  for (int which = 0; which < 7; ++which) {
    hunch_test::ModelSpec s;
    s.hyper.arch = which < 2 ? hunch::Arch::LSTM_ATTN : hunch::Arch::TRANSFORMER;
    s.int8 = which % 2 == 1;
    s.hyper.vocab_size = 6;
    s.hyper.type_count = 2;
    s.hyper.embed = 4;
    s.hyper.hidden = 4;
    s.hyper.attn_size = 2;
    s.hyper.window = 3;
    s.hyper.layers = 1;
    s.hyper.heads = 2;
    s.hyper.ffn = 4;
    s.gap_edges = {10, 600};
    if (which == 4) {
      s.hyper.arch = hunch::Arch::TRANSFORMER;
      s.hyper.copy = 1;
      s.hyper.copy_window = 7;
      s.transition_successors = 3;
    }
    if (which == 5) {
      s.hyper.arch = hunch::Arch::LSTM_ATTN;
      s.front_coded_names = true;  // "/page/1" … "/page/5": in byte order
    }
    if (which == 6) {
      s.hyper.arch = hunch::Arch::LSTM_ATTN;
      s.hyper.embed = 5;  // odd rows: the padding nibble is checked too
      s.packed_tables = true;
    }
    out.push_back(hunch_test::build_model(s));
  }
  return out;
}

}  // namespace hunch_fuzz
