// fuzz_model_reader: arbitrary bytes through the model reader exactly as a download meets it —
// read_model_file with the CRC checked, then Model::load.
//
// With the CRC on, almost every mutation stops at the checksum, so what this target really
// covers is everything before it: empty and short inputs, the magic and its hints (HTML, Git
// LFS, gzip, ...), version and byte order, and the truncated-file path, which parses whatever
// arrived to say where the cut falls. fuzz_model_reader_nocrc covers the structure behind it.
//
// Besides "no crash" it checks what the reader promises on success: every tensor view lies
// inside the buffer it was given, with the size its shape implies.
//
// Seeds: the fixtures, tests/data/broken/, and small models of both architectures (seeds();
// HUNCH_FUZZ_WRITE_SEEDS=dir writes them). Built by CMake (HUNCH_FUZZ=ON) as a libFuzzer
// executable; tests/native/test-fuzz-regressions.cpp includes this file with HUNCH_FUZZ_NO_ENTRY
// defined to replay regression inputs through the same run() function.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "hunch/format.h"
#include "hunch/model.h"
#include "../model-builder.h"
#include "fuzz-common.h"


namespace hunch_fuzz_model_reader {

// Every view the reader hands out must lie inside [data, data + size).
inline void check_views(const hunch::ModelFile& mf, const uint8_t* data, size_t size) {
  HUNCH_FUZZ_CHECK(mf.file_size == size, "file_size equals the bytes given");
  HUNCH_FUZZ_CHECK(mf.data_offset <= size, "data_offset inside the file");
  const uint8_t* end = data + size;
  for (const hunch::TensorEntry& t : mf.tensors) {
    uint64_t expected = 0;
    HUNCH_FUZZ_CHECK(hunch::tensor_block_bytes(t.dtype, t.shape, &expected), "block size computes");
    HUNCH_FUZZ_CHECK(t.nbytes == expected, "nbytes matches the shape");
    const uint8_t* block = t.dtype == hunch::DType::F32
                               ? reinterpret_cast<const uint8_t*>(t.f32)
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

inline int run(const uint8_t* data, size_t size) {
  // The reader needs 4-byte alignment for its f32 views; a copy makes that hold for every
  // caller (the regression runner's buffers included) so the result depends only on the bytes.
  std::vector<uint8_t> copy(data, data + size);
  hunch::ModelFile mf;
  hunch::Error e = hunch::read_model_file(copy.data(), copy.size(), &mf);
  if (e.ok()) check_views(mf, copy.data(), copy.size());
  else HUNCH_FUZZ_CHECK(!e.message.empty(), "an error has a message");

  std::unique_ptr<hunch::Model> model;
  hunch::Error le = hunch::Model::load(data, size, &model);
  HUNCH_FUZZ_CHECK(le.ok() == (model != nullptr), "load sets the model exactly on success");
  // Model::load runs the same reader first: it cannot accept what the reader refused.
  if (!e.ok()) HUNCH_FUZZ_CHECK(!le.ok(), "load refuses what the reader refused");
  return 0;
}

// Small valid models of both architectures and dtypes (a few KB, against 50-170 KB for the
// fixtures): cheap to execute, and most mutations land in a header or table field.
inline std::vector<std::vector<uint8_t>> seeds() {
  std::vector<std::vector<uint8_t>> out;
  for (int which = 0; which < 4; ++which) {
    hunch_test::ModelSpec s;
    s.arch = which < 2 ? hunch::Arch::LSTM_ATTN : hunch::Arch::TRANSFORMER;
    s.int8 = which % 2 == 1;
    s.vocab = 6;
    s.types = 2;
    s.embed = 4;
    s.hidden = 4;
    s.attn = 2;
    s.window = 3;
    s.layers = 1;
    s.heads = 2;
    s.ffn = 4;
    s.gap_edges = {10, 600};
    out.push_back(hunch_test::build_model(s));
  }
  return out;
}

}  // namespace hunch_fuzz_model_reader

#ifndef HUNCH_FUZZ_NO_ENTRY
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hunch_fuzz::write_seeds_if_asked(hunch_fuzz_model_reader::seeds(), "small-model-", ".hunch");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return hunch_fuzz_model_reader::run(data, size);
}
#endif
