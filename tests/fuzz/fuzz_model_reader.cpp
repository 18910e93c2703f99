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
// Seeds: the fixtures, tests/data/broken/, and small models of both architectures
// (hunch_fuzz::small_models();
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

inline int run(const uint8_t* data, size_t size) {
  // The reader needs 4-byte alignment for its f32 views; a copy makes that hold for every
  // caller (the regression runner's buffers included) so the result depends only on the bytes.
  std::vector<uint8_t> copy(data, data + size);
  hunch::ModelFile mf;
  hunch::Error e = hunch::read_model_file(copy.data(), copy.size(), &mf);
  if (e.ok()) hunch_fuzz::check_views(mf, copy.data(), copy.size());
  else HUNCH_FUZZ_CHECK(!e.message.empty(), "an error has a message");

  std::unique_ptr<hunch::Model> model;
  hunch::Error le = hunch::Model::load(data, size, &model);
  HUNCH_FUZZ_CHECK(le.ok() == (model != nullptr), "load sets the model exactly on success");
  // Model::load runs the same reader first: it cannot accept what the reader refused.
  if (!e.ok()) HUNCH_FUZZ_CHECK(!le.ok(), "load refuses what the reader refused");
  return 0;
}

}  // namespace hunch_fuzz_model_reader

#ifndef HUNCH_FUZZ_NO_ENTRY
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hunch_fuzz::write_seeds_if_asked(hunch_fuzz::small_models(), "small-model-", ".hunch");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return hunch_fuzz_model_reader::run(data, size);
}
#endif
