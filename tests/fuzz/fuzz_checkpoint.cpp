// fuzz_checkpoint: arbitrary bytes through decode_checkpoint (native/train/checkpoint.h), as a
// training checkpoint that a killed run, a full disk or another program left behind.
//
// Input layout: byte 0 is a mode, the rest is the file.
//   bit 0  recompute the trailing CRC-32 first, so the fuzzer reaches the field checks behind it
// Checked: a refused file gives an Error with a message naming it; an accepted one encodes back
// to exactly the bytes decoded, with the arrays the sizes its header promised.
//
// Seeds: real encodings (seeds()); run the binary with HUNCH_FUZZ_WRITE_SEEDS=dir to write
// them (scripts/fuzz.sh does). Regression replay: tests/native/test-fuzz-regressions.cpp.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "../dp-checkpoint-example.h"
#include "fuzz-common.h"
#include "hunch/error.h"
#include "train/checkpoint.h"

namespace hunch_fuzz_checkpoint {

inline std::vector<std::vector<uint8_t>> seeds() {
  std::vector<std::vector<uint8_t>> out;
  for (int k = 0; k < 3; ++k) {
    hunch::train::TrainCheckpoint c;
    c.fingerprint = 0x1234 + k;
    c.phase = k == 2 ? 2 : 1;
    c.epoch = 3 + k;
    c.phase_ended = k == 1;
    c.step = 40 + k;
    c.epoch_seconds = {0.5, 0.25};
    c.params.assign(5 + k, 0.5f);
    c.best.assign(5 + k, -0.5f);
    if (k) c.adam_m.assign(5 + k, 0.01f), c.adam_v.assign(5 + k, 0.02f);
    if (k == 2) c.adam_scaled.push_back({1, 3, 0.0f});
    c.result.log.resize(size_t(k) + 1);
    c.result.best_epoch = 1;
    std::vector<uint8_t> bytes = hunch::train::encode_checkpoint(c);
    bytes.insert(bytes.begin(), uint8_t(0));
    out.push_back(bytes);
  }
  // A differentially private run's: the accountant's state and the count release with a table.
  const hunch::train::TrainCheckpoint c = hunch_test::dp_checkpoint_example();
  std::vector<uint8_t> bytes = hunch::train::encode_checkpoint(c);
  bytes.insert(bytes.begin(), uint8_t(1));  // mutations get their CRC recomputed
  out.push_back(bytes);
  return out;
}

inline int run(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  std::vector<uint8_t> file(data + 1, data + size);
  if ((mode & 1) && file.size() >= 8) {
    const uint32_t crc = hunch::crc32(file.data(), file.size() - 4);
    std::memcpy(file.data() + file.size() - 4, &crc, 4);
  }
  hunch::train::TrainCheckpoint c;
  hunch::Error e = hunch::train::decode_checkpoint("fuzz.ckpt", file, &c);
  if (e) {
    HUNCH_FUZZ_CHECK(e.message.rfind("fuzz.ckpt: ", 0) == 0, "an error names the file");
    return 0;
  }
  HUNCH_FUZZ_CHECK(c.best.size() == c.params.size(), "best weights sized as the weights");
  HUNCH_FUZZ_CHECK(c.adam_m.empty() || c.adam_m.size() == c.params.size(), "Adam's moments sized as the weights");
  if (c.dp_release && c.dp_release->transitions) {
    const hunch::train::TransitionCounts& t = *c.dp_release->transitions;
    HUNCH_FUZZ_CHECK(t.rows.size() == c.dp_release->actions.size() && t.from.size() == t.rows.size(),
                     "a DP table's rows and row sums per action");
    HUNCH_FUZZ_CHECK(!t.table.empty(), "a DP table is encoded");
  }
  HUNCH_FUZZ_CHECK(hunch::train::encode_checkpoint(c) == file, "an accepted checkpoint encodes back to its bytes");
  return 0;
}

}  // namespace hunch_fuzz_checkpoint

#ifndef HUNCH_FUZZ_NO_ENTRY
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hunch_fuzz::write_seeds_if_asked(hunch_fuzz_checkpoint::seeds(), "seed-", "");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return hunch_fuzz_checkpoint::run(data, size);
}
#endif
