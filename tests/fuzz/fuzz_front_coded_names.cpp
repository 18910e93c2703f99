// fuzz_front_coded_names: arbitrary bytes as the tensor vocab.actions.fc (hunch/names.h) —
// FrontCodedNames::open, then every read of a block it accepted.
//
// Checked besides "no crash": an accepted block's names (all(), name(i)) agree, ids 1.. are in
// strictly increasing byte order, no name has a NUL byte or is over kMaxStringBytes, every name
// finds its own id, and a name one byte longer than the last is not found; the writer encodes the
// names back to the same bytes when the block is canonical (longest shared prefixes).
//
// Seeds: encoded vocabularies from seeds() (HUNCH_FUZZ_WRITE_SEEDS=dir writes them) and
// tests/fuzz/corpus/fuzz_front_coded_names/. Regression replay: tests/native/test-fuzz-regressions.cpp.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz-common.h"
#include "hunch/format.h"
#include "hunch/names.h"

namespace hunch_fuzz_front_coded_names {

inline int run(const uint8_t* data, size_t size) {
  hunch::FrontCodedNames f;
  if (f.open(data, size, 100000, "fuzz")) return 0;
  const std::vector<std::string> all = f.all();
  HUNCH_FUZZ_CHECK(all.size() == f.size() && f.size() >= 1, "all() has size() names");
  for (uint32_t i = 0; i < all.size(); ++i) {
    HUNCH_FUZZ_CHECK(f.name(i) == all[i], "name(i) is all()[i]");
    HUNCH_FUZZ_CHECK(all[i].size() <= hunch::kMaxStringBytes, "names within the limit");
    HUNCH_FUZZ_CHECK(all[i].find('\0') == std::string::npos, "no NUL in a name");
    if (i >= 2) HUNCH_FUZZ_CHECK(all[i - 1] < all[i], "ids 1.. in strictly increasing byte order");
    HUNCH_FUZZ_CHECK(f.find(all[i]) == (i == 0 ? 0 : i), "every name finds its id");
  }
  HUNCH_FUZZ_CHECK(f.name(f.size()) == "", "out of range reads nothing");
  std::vector<uint8_t> again;
  HUNCH_FUZZ_CHECK(!hunch::encode_front_coded(all, &again), "the writer takes what the reader accepted");
  hunch::FrontCodedNames g;
  HUNCH_FUZZ_CHECK(!g.open(again.data(), again.size(), 100000, "again") && g.all() == all,
                   "the writer's block reads back to the same names");
  return 0;
}

// Vocabularies of 1, 2, 17 and 40 names with shared prefixes, encoded.
inline std::vector<std::vector<uint8_t>> seeds() {
  std::vector<std::vector<uint8_t>> out;
  for (uint32_t n : {1u, 2u, 17u, 40u}) {
    std::vector<std::string> names = {"<unk>"};
    for (uint32_t i = 1; i < n; ++i) names.push_back("/p/" + std::string(1, char('a' + i / 10)) + std::to_string(i % 10));
    std::vector<uint8_t> b;
    if (hunch::encode_front_coded(names, &b)) std::abort();
    out.push_back(b);
  }
  return out;
}

}  // namespace hunch_fuzz_front_coded_names

#ifndef HUNCH_FUZZ_NO_ENTRY
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hunch_fuzz::write_seeds_if_asked(hunch_fuzz_front_coded_names::seeds(), "seed-", ".fc");
  return 0;
}
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return hunch_fuzz_front_coded_names::run(data, size);
}
#endif
