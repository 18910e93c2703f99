// The transition table (hunch/transitions.h): buckets, the encoding's round trip, the checks on
// a damaged table (each names the byte and the action), and the u8 tensor that carries it.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "hunch/format.h"
#include "hunch/rng.h"
#include "hunch/transitions.h"

using namespace hunch;

namespace {

std::vector<std::vector<Transition>> random_rows(uint32_t V, uint32_t most, uint64_t seed) {
  Rng rng(seed);
  std::vector<std::vector<Transition>> rows(V);
  for (uint32_t a = 0; a < V; ++a) {
    uint32_t id = 0;
    const uint64_t n = rng.below(most + 1);
    for (uint64_t k = 0; k < n; ++k) {
      id += uint32_t(rng.below(k == 0 ? 40 : 300));  // gaps over 127: two-byte varints
      if (id >= V) break;
      rows[a].push_back({id, uint8_t(rng.below(kTransitionBuckets))});
      ++id;
    }
  }
  return rows;
}

std::string index_error(const std::vector<uint8_t>& t, uint32_t V) {
  std::vector<uint32_t> starts;
  return index_transitions(t.data(), t.size(), V, &starts).message;
}

}  // namespace

TEST_CASE("transition buckets: pair count by powers of two, share by halvings") {
  CHECK(transition_bucket(1, 1) == 0);                              // once, always
  CHECK(transition_bucket(1, 2) == 1);                              // once, half the time
  CHECK(transition_bucket(1, 3) == 1);                              // 1/3 > 1/4
  CHECK(transition_bucket(1, 4) == 2);
  CHECK(transition_bucket(1, 1000) == kTransitionShareBuckets - 1);  // capped
  CHECK(transition_bucket(2, 2) == kTransitionShareBuckets);         // count bucket 1
  CHECK(transition_bucket(4, 8) == 2 * kTransitionShareBuckets + 1);
  CHECK(transition_bucket(9, 9) == 4 * kTransitionShareBuckets);
  CHECK(transition_bucket(1000000, 1000000) == 4 * kTransitionShareBuckets);
  for (uint64_t c = 1; c < 50; ++c)
    for (uint64_t f = c; f < 200; f += 7) CHECK(transition_bucket(c, f) < kTransitionBuckets);
}

TEST_CASE("encode then index: every row reads back, for a large vocabulary too") {
  for (uint32_t V : {1u, 2u, 50u, 5000u}) {
    CAPTURE(V);
    const auto rows = random_rows(V, 12, V);
    std::vector<uint8_t> table;
    encode_transitions(rows, &table);
    std::vector<uint32_t> starts;
    Error e = index_transitions(table.data(), table.size(), V, &starts);
    REQUIRE_MESSAGE(!e, e.message);
    REQUIRE(starts.size() == V + 1);
    CHECK(starts[V] == table.size());
    for (uint32_t a = 0; a < V; ++a) {
      TransitionRow row(table.data(), starts[a]);
      std::vector<Transition> got;
      for (Transition t; row.next(&t);) got.push_back(t);
      REQUIRE(got.size() == rows[a].size());
      for (size_t k = 0; k < got.size(); ++k) {
        CHECK(got[k].next == rows[a][k].next);
        CHECK(got[k].bucket == rows[a][k].bucket);
      }
    }
  }
}

TEST_CASE("a damaged table is refused, naming the action and the byte") {
  // Action 0: successors 1 (bucket 3) and 4 (bucket 5); action 1: none; action 2: successor 0
  // (bucket 7); actions 3 and 4: none.
  const std::vector<uint8_t> good = {2, 1, 3, 2, 5, 0, 1, 0, 7, 0, 0};
  CHECK(index_error(good, 5).empty());
  CHECK(index_error(good, 4).find("action 0, successor 1 at byte 3 is action 4, outside the 4 actions") !=
        std::string::npos);
  auto bad = good;
  bad[2] = uint8_t(kTransitionBuckets);
  CHECK(index_error(bad, 5).find("action 0, successor 0: bucket 40 at byte 2") != std::string::npos);
  bad = good;
  bad.push_back(0);
  CHECK(index_error(bad, 5).find("1 bytes left over after the 5 actions (at byte 11)") != std::string::npos);
  CHECK(index_error(good, 6).find("action 5: successor count at byte 11 is cut off") != std::string::npos);
  bad = std::vector<uint8_t>(good.begin(), good.begin() + 8);  // action 2's bucket is missing
  CHECK(index_error(bad, 5).find("action 2, successor 0 at byte 7 is cut off") != std::string::npos);
  bad = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};  // a six-byte varint
  CHECK(index_error(bad, 5).find("action 0: successor count at byte 0 is cut off or malformed") != std::string::npos);
  bad = {9, 0, 0};  // more successors than actions
  CHECK(index_error(bad, 5).find("action 0 has 9 successors") != std::string::npos);
  CHECK(index_error({}, 0).empty());
}

TEST_CASE("u8 tensors: written and read back as bytes, any rank; the reader names a dtype it does not know") {
  std::vector<uint8_t> table = {2, 1, 3, 2, 5, 0, 1, 0, 7};
  ModelWriter w;
  w.set_string("general.architecture", "lstm-attn");
  w.add_u8("transition.table", {table.size()}, table.data());
  w.add_u8("blob.2d", {2, 3}, table.data());
  std::vector<uint8_t> bytes;
  REQUIRE(!w.serialize(&bytes));
  ModelFile mf;
  Error e = read_model_file(bytes.data(), bytes.size(), &mf);
  REQUIRE_MESSAGE(!e, e.message);
  const TensorEntry* t = mf.find_tensor("transition.table");
  REQUIRE(t);
  CHECK(t->dtype == DType::U8);
  CHECK(t->nbytes == table.size());
  CHECK(std::vector<uint8_t>(t->u8, t->u8 + t->nbytes) == table);
  CHECK(t->f32 == nullptr);
  REQUIRE((t = mf.find_tensor("blob.2d")));
  CHECK(t->nbytes == 6);
  CHECK(std::string(dtype_name(DType::U8)) == "u8");

  // dtype 3 is unknown: find the table entry's dtype field (after its name) and change it.
  const std::string name = "blob.2d";
  size_t at = 0;
  for (size_t i = 0; i + name.size() < bytes.size(); ++i)
    if (std::equal(name.begin(), name.end(), bytes.begin() + long(i))) at = i + name.size();
  REQUIRE(at > 0);
  bytes[at] = 3;
  e = read_model_file(bytes.data(), bytes.size(), &mf, ReadOptions{false});
  CHECK(e.message.find("unknown dtype 3") != std::string::npos);
}
