// The sparse count head (Model::count_head, Sequence::predict for a counts-only action head): its
// top-k is the dense scan's (same ids in the same order, ties to the lower id) and its
// probabilities are the full softmax's within float rounding, for both architectures, f32, int8
// and packed files (the packed bias table makes many ties), k from 1 to 64, and where the sparse
// denominator would cancel (a dominant bias pushed down: predict scans instead); a network head
// or a count head with attributes keeps the dense scan.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <vector>

#include "hunch/model.h"
#include "hunch/rng.h"
#include "hunch/sequence.h"
#include "hunch/transitions.h"
#include "model-builder.h"

using namespace hunch;

namespace {

hunch_test::ModelSpec count_spec(Arch arch, uint32_t V, bool int8, bool packed) {
  hunch_test::ModelSpec s;
  s.hyper.arch = arch;
  s.hyper.vocab_size = V;
  s.hyper.copy = 1;
  s.hyper.action_counts = 1;
  s.int8 = int8 || packed;
  s.packed_tables = packed;
  s.transition_successors = 24;
  s.seed = V + (int8 ? 7 : 0) + (packed ? 13 : 0);
  return s;
}

std::unique_ptr<Model> load(const hunch_test::ModelSpec& s) {
  const std::vector<uint8_t> bytes = hunch_test::build_model(s);
  std::unique_ptr<Model> m;
  REQUIRE(Model::load(bytes.data(), bytes.size(), &m).message == "");
  return m;
}

// Top-k and probabilities from all V logits: ids 1.. by logit descending, ties to the lower id;
// the softmax over every id (<unk> included) in double.
std::vector<Prediction> dense(const float* logits, uint32_t V, size_t k) {
  std::vector<uint32_t> ids(V - 1);
  std::iota(ids.begin(), ids.end(), 1u);
  std::stable_sort(ids.begin(), ids.end(), [&](uint32_t a, uint32_t b) { return logits[a] > logits[b]; });
  const float mx = *std::max_element(logits, logits + V);
  double z = 0;
  for (uint32_t a = 0; a < V; ++a) z += std::exp(double(logits[a]) - mx);
  std::vector<Prediction> out;
  for (size_t i = 0; i < std::min<size_t>(k, V - 1); ++i)
    out.push_back({ids[i], float(std::exp(double(logits[ids[i]]) - mx) / z)});
  return out;
}

// Pushes a stream with repeats (the copy terms) and successors of the last action (the
// transition terms), predicting after each with k in {1, 10, 64} and comparing with dense().
void check_against_dense(const Model& m, uint64_t seed) {
  const uint32_t V = m.hyper().vocab_size;
  Sequence seq(m);
  Rng rng(seed);
  std::vector<Prediction> got(64);
  uint32_t last = 1;
  for (int i = 0; i < 80; ++i) {
    Event e;
    const uint64_t pick = rng.below(4);
    e.action = pick == 0 ? last : pick == 1 ? uint32_t(rng.below(V)) : 1 + uint32_t(rng.below(std::min<uint32_t>(V - 1, 20)));
    e.type = uint32_t(rng.below(m.hyper().type_count));
    e.time = 1000.0 + 40.0 * i;
    REQUIRE(seq.push(e).message == "");
    last = e.action;
    for (size_t k : {size_t(1), size_t(10), size_t(64)}) {
      const size_t n = seq.predict(k, got.data());
      const std::vector<Prediction> want = dense(seq.action_logits(), V, k);
      REQUIRE(n == want.size());
      for (size_t j = 0; j < n; ++j) {
        CAPTURE(i);
        CAPTURE(k);
        CAPTURE(j);
        REQUIRE(got[j].action == want[j].action);
        CHECK(std::fabs(got[j].probability - want[j].probability) <= 2e-5f * want[j].probability + 1e-12f);
      }
    }
  }
}

}  // namespace

TEST_CASE("the sparse count head predicts what the dense scan of all V logits predicts") {
  for (Arch arch : {Arch::LSTM_ATTN, Arch::TRANSFORMER})
    for (uint32_t V : {50u, 400u, 5000u})
      for (int kind = 0; kind < 3; ++kind) {
        CAPTURE(arch_name(arch));
        CAPTURE(V);
        CAPTURE(kind);
        const std::unique_ptr<Model> m = load(count_spec(arch, V, kind == 1, kind == 2));
        REQUIRE(m->count_head().built());
        CHECK(m->count_head().top.size() == std::min<size_t>(V - 1, kCountHeadTopK + m->count_head().max_touched));
        check_against_dense(*m, V + kind);
      }
}

TEST_CASE("a copy window longer than W: the sparse count head still predicts what the dense scan does") {
  // 80 events with repeats over a copy window of 48 (W is the builder's default, far below): the
  // touched buffers are sized for Wc, and the copy table reads events the attention does not.
  for (Arch arch : {Arch::LSTM_ATTN, Arch::TRANSFORMER}) {
    CAPTURE(arch_name(arch));
    hunch_test::ModelSpec s = count_spec(arch, 400, true, false);
    s.hyper.copy_window = 48;
    const std::unique_ptr<Model> m = load(s);
    REQUIRE(m->hyper().window < 48);
    REQUIRE(copy_window_of(m->hyper()) == 48);
    CHECK(m->count_head().max_touched >= 48);
    check_against_dense(*m, 17);
  }
}

TEST_CASE("a network head, and a count head with attributes, keep the dense scan") {
  hunch_test::ModelSpec s = count_spec(Arch::LSTM_ATTN, 400, true, false);
  s.hyper.action_counts = 0;
  CHECK_FALSE(load(s)->count_head().built());
  s.hyper.action_counts = 1;
  s.attr_sizes = {5};
  const std::unique_ptr<Model> m = load(s);
  CHECK_FALSE(m->count_head().built());
  check_against_dense(*m, 3);
}

TEST_CASE("a dominant bias that the terms push down: the denominator is not a cancellation") {
  // Action 1's successors get bias 30 (the rest are O(1)) and every transition bucket weighs −60:
  // after action 1, Σ exp(bias) is almost all theirs and the sparse difference would keep no
  // digits of what is left; predict must still give the dense softmax.
  hunch_test::ModelSpec s = count_spec(Arch::LSTM_ATTN, 400, false, false);
  std::vector<uint8_t> bytes = hunch_test::build_model(s);
  std::unique_ptr<Model> m;
  REQUIRE(Model::load(bytes.data(), bytes.size(), &m).message == "");
  std::vector<uint32_t> successors;
  TransitionRow row(m->weights().transition_table.data, m->transition_rows()[1]);
  for (Transition t; row.next(&t);) successors.push_back(t.next);
  REQUIRE(!successors.empty());
  bytes = hunch_test::edit_f32_tensor(bytes, "head.action.b", [&](std::vector<float>* b) {
    for (uint32_t a : successors) (*b)[a] = 30.f;
  });
  bytes = hunch_test::edit_f32_tensor(bytes, "head.transition.weight", [](std::vector<float>* w) {
    std::fill(w->begin(), w->end(), -60.f);
  });
  REQUIRE(Model::load(bytes.data(), bytes.size(), &m).message == "");
  REQUIRE(m->count_head().built());
  Sequence seq(*m);
  Event e;
  e.action = 1;
  e.time = 100;
  REQUIRE(seq.push(e).message == "");
  std::vector<Prediction> got(10);
  REQUIRE(seq.predict(10, got.data()) == 10);
  const std::vector<Prediction> want = dense(seq.action_logits(), 400, 10);
  for (size_t j = 0; j < 10; ++j) {
    CAPTURE(j);
    CHECK(got[j].action == want[j].action);
    CHECK(std::fabs(got[j].probability - want[j].probability) <= 2e-5f * want[j].probability);
  }
}
