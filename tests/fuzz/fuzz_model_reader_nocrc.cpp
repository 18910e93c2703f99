// fuzz_model_reader_nocrc: the model reader and Model::load with the CRC check off, so that
// mutated files get past the checksum into the structure checks (counts, lengths, offsets,
// tensor table, blocks, int8 scales) and the architecture checks (hyper-parameters, shapes,
// vocabularies). A model that loads is then used: a few events pushed, predictions taken, the
// state saved and restored — a model the loader accepts must never crash the sequence code.
//
// Checked beyond "no crash": the reader and the loader agree (load fails iff the reader fails
// or the architecture is refused), every tensor view lies inside the buffer, and predictions
// name valid action ids.
//
// Seeds: the fixtures, tests/data/broken/, and small models of both architectures
// (hunch_fuzz::small_models();
// HUNCH_FUZZ_WRITE_SEEDS=dir writes them). Regression replay: tests/native/test-fuzz-regressions.cpp.
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
#include "hunch/sequence.h"
#include "../model-builder.h"
#include "fuzz-common.h"


namespace hunch_fuzz_model_reader_nocrc {

// A loaded model in use: the ids cycle through the vocabulary (and one past it, which must be
// refused), times go forward, back, and unknown.
inline void exercise(const hunch::Model& model) {
  const hunch::Hyper& hp = model.hyper();
  hunch::Sequence seq(model);
  const double times[] = {0.0, 5.0, 2.0, __builtin_nan(""), 4000.0, 1e9};
  for (uint32_t i = 0; i < 6; ++i) {
    hunch::Event ev;
    ev.action = (i * 7 + 1) % hp.vocab_size;
    ev.type = i % hp.type_count;
    ev.time = times[i];
    HUNCH_FUZZ_CHECK(seq.push(ev).ok(), "an in-range event is accepted");
  }
  hunch::Event bad;
  bad.action = hp.vocab_size;
  HUNCH_FUZZ_CHECK(!seq.push(bad).ok(), "an out-of-range action is refused");
  HUNCH_FUZZ_CHECK(seq.length() == 6, "a refused event is not counted");

  hunch::Prediction top[5];
  size_t n = seq.predict(5, top);
  HUNCH_FUZZ_CHECK(n <= 5 && n <= size_t(hp.vocab_size) - 1, "predict writes at most k");
  for (size_t i = 0; i < n; ++i)
    HUNCH_FUZZ_CHECK(top[i].action >= 1 && top[i].action < hp.vocab_size, "predicted id in range");
  std::vector<uint64_t> idx;
  std::vector<float> w;
  HUNCH_FUZZ_CHECK(seq.attention(&idx, &w) <= hp.window, "attention covers at most the window");

  // Weights from a fuzzed file may be NaN, which makes the saved floats non-finite: restore may
  // refuse those, but must not crash, and must leave a fresh sequence at length 0 when it does.
  std::vector<uint8_t> state;
  seq.save(&state);
  hunch::Sequence other(model);
  if (!other.restore(state.data(), state.size()).ok())
    HUNCH_FUZZ_CHECK(other.length() == 0, "a refused restore leaves the sequence unchanged");
  else
    HUNCH_FUZZ_CHECK(other.length() == seq.length(), "a restored sequence has the saved length");
}

inline int run(const uint8_t* data, size_t size) {
  hunch::ReadOptions no_crc;
  no_crc.verify_crc = false;
  std::vector<uint8_t> copy(data, data + size);  // 4-byte aligned for the f32 views
  hunch::ModelFile mf;
  hunch::Error e = hunch::read_model_file(copy.data(), copy.size(), &mf, no_crc);
  if (e.ok()) hunch_fuzz::check_views(mf, copy.data(), copy.size());

  std::unique_ptr<hunch::Model> model;
  hunch::Error le = hunch::Model::load(data, size, &model, no_crc);
  HUNCH_FUZZ_CHECK(le.ok() == (model != nullptr), "load sets the model exactly on success");
  if (!e.ok()) HUNCH_FUZZ_CHECK(!le.ok(), "load refuses what the reader refused");
  if (model) exercise(*model);
  return 0;
}

}  // namespace hunch_fuzz_model_reader_nocrc

#ifndef HUNCH_FUZZ_NO_ENTRY
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hunch_fuzz::write_seeds_if_asked(hunch_fuzz::small_models(), "small-model-", ".hunch");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return hunch_fuzz_model_reader_nocrc::run(data, size);
}
#endif
