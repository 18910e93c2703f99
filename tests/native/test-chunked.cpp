// train::ChunkedVector (native/train/chunked.h), the block storage ingestion keeps its events in:
// it must read and sort like a std::vector across block edges, and hand blocks back as said.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "train/chunked.h"

using hunch::train::ChunkedVector;

namespace {
struct Rec {
  uint64_t key;
  uint32_t a, b;
};
}  // namespace

TEST_CASE("chunked vector: push, index and sort across blocks like a std::vector") {
  ChunkedVector<Rec, 4> v;  // 16 records a block
  std::vector<Rec> ref;
  std::mt19937_64 rng(7);
  for (uint32_t i = 0; i < 1000; ++i) {
    Rec r{rng() % 97, i, uint32_t(rng())};
    v.push_back(r);
    ref.push_back(r);
  }
  REQUIRE(v.size() == 1000);
  for (size_t i = 0; i < ref.size(); ++i) CHECK(v[i].a == ref[i].a);
  auto less = [](const Rec& x, const Rec& y) { return x.key != y.key ? x.key < y.key : x.a < y.a; };
  std::sort(v.begin(), v.end(), less);
  std::sort(ref.begin(), ref.end(), less);
  size_t same = 0;
  for (size_t i = 0; i < ref.size(); ++i) same += v[i].key == ref[i].key && v[i].a == ref[i].a && v[i].b == ref[i].b;
  CHECK(same == ref.size());
  // Range-for and iterator arithmetic.
  uint64_t sum = 0, want = 0;
  for (const Rec& r : v) sum += r.a;
  for (const Rec& r : ref) want += r.a;
  CHECK(sum == want);
  CHECK(v.end() - v.begin() == 1000);
  CHECK((v.begin() + 17)->a == ref[17].a);
  CHECK(v.begin()[33].a == ref[33].a);
}

TEST_CASE("chunked vector: shrink and release_front free whole blocks, bytes counts what is held") {
  using V = ChunkedVector<Rec, 4>;
  V v;
  CHECK(v.bytes() == 0);
  for (uint32_t i = 0; i < 100; ++i) v.push_back({i, i, i});
  const uint64_t table = v.bytes() - 100 * sizeof(Rec);  // the block pointers
  CHECK(table < 100 * sizeof(Rec));
  v.shrink(40);  // blocks 0..2 stay (48 slots), the last filled to 40
  CHECK(v.size() == 40);
  CHECK(v.bytes() < 48 * sizeof(Rec) + table + 1);
  CHECK(v[39].a == 39);
  v.release_front(35);  // blocks 0 and 1 (records 0..31) go; 32..39 remain readable
  CHECK(v.size() == 40);
  CHECK(v[32].a == 32);
  CHECK(v[39].a == 39);
  CHECK(v.bytes() <= 16 * sizeof(Rec) + table);
  V w = std::move(v);
  CHECK(v.size() == 0);
  CHECK(w[35].a == 35);
  w.clear();
  CHECK(w.bytes() == 0);
  w.push_back({1, 2, 3});
  CHECK(w[0].b == 3);
}
