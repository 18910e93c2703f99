// The compact storage ingestion holds a log in: train::ChunkedVector (native/train/chunked.h), its
// events in blocks, must read and sort like a std::vector across block edges and hand blocks back
// as said; train::NameTable (name-table.h), its user, action and type names, must give the ids and
// names an unordered_map would.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "train/chunked.h"
#include "train/name-table.h"

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

TEST_CASE("name table: ids in order of first sight, found again, names back, across arena blocks and rehashes") {
  hunch::train::NameTable t;
  CHECK(t.find("u1") == hunch::train::NameTable::kNone);
  std::vector<std::string> names;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 200000; ++i) {
    // Lengths from 1 to 300 bytes: about 30 MB of names, so the 1 MiB arena blocks fill and
    // names land at block ends; the table grows many times.
    std::string s = "user-" + std::to_string(rng() % 150000);
    s.resize(1 + rng() % 300, char('a' + i % 26));
    names.push_back(s);
  }
  std::vector<std::string> first;  // distinct, in order of first sight
  std::unordered_map<std::string, uint32_t> ref;
  for (const std::string& s : names) {
    auto it = ref.find(s);
    uint32_t want = it == ref.end() ? uint32_t(ref.size()) : it->second;
    if (it == ref.end()) ref.emplace(s, want), first.push_back(s);
    REQUIRE(t.id(s) == want);
  }
  CHECK(t.size() == ref.size());
  size_t same = 0;
  for (uint32_t i = 0; i < t.size(); ++i) same += t.name(i) == first[i] && t.find(first[i]) == i;
  CHECK(same == first.size());
  CHECK(t.names() == first);
  CHECK(t.find("user-x") == hunch::train::NameTable::kNone);
  // Empty and over-long names (longer than an arena block) keep their bytes too.
  const uint32_t e = t.id("");
  const std::string huge(3u << 20, 'h');
  const uint32_t h = t.id(huge);
  const uint32_t after = t.id("after the long one");
  CHECK(t.name(e).empty());
  CHECK(t.name(h) == huge);
  CHECK(t.name(after) == "after the long one");
  CHECK(t.id(huge) == h);
  // Compact: per name its bytes + a few dozen, not a heap node per name.
  uint64_t chars = 0;
  for (const std::string& s : first) chars += s.size();
  CHECK(t.bytes() < chars + huge.size() + 48 * first.size() + (4u << 20));
}
