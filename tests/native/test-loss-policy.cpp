// The loss-weight policy of `hunch train` (train/loss-policy.h) by value: which weights an unset
// --type-weight / --exit-weight gets from the data, that given ones win, that the other loss
// flags pass through, and what loss_signals reads from a dataset.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "train/loss-policy.h"

using namespace hunch::train;

namespace {

// One sequence per entry of `lengths`, every event of type `type`.
Dataset make_data(const std::vector<size_t>& lengths, uint16_t type) {
  Dataset d;
  d.actions = {"<unk>", "a", "b", "c"};
  d.types = {"<none>", "view", "buy"};
  d.offsets.push_back(0);
  for (size_t n : lengths) {
    for (size_t k = 0; k < n; ++k) {
      d.action.push_back(uint32_t(1 + k % 3));
      d.type.push_back(type);
      d.gap.push_back(0);
      d.time.push_back(double(k));
    }
    d.offsets.push_back(d.action.size());
    d.sequence_key.push_back("u" + std::to_string(d.sequence_key.size()));
  }
  return d;
}

LossSignals signals(bool has_types, bool sessions, uint64_t exit_positives) {
  LossSignals s;
  s.has_types = has_types;
  s.sessions = sessions;
  s.exit_positives = exit_positives;
  return s;
}

}  // namespace

TEST_CASE("loss policy: unset weights follow the data's signals") {
  const LossRequest unset;
  struct Case {
    bool     has_types, sessions;
    uint64_t exit_positives;
    float    type, exit;
  };
  const Case cases[] = {
      {true, true, 7, 1.0f, 1.0f},    // types, sessions with exit positives: every head on
      {false, true, 7, 0.0f, 1.0f},   // no types in the log: type head off
      {true, false, 7, 1.0f, 0.0f},   // one sequence per user: its end is not an exit
      {true, true, 0, 1.0f, 0.0f},    // sessions, but no exit positive to learn from
      {false, false, 0, 0.0f, 0.0f},  // nothing: only the action head
  };
  for (const Case& c : cases) {
    CAPTURE(c.has_types);
    CAPTURE(c.sessions);
    CAPTURE(c.exit_positives);
    const LossWeights w = loss_weights(unset, signals(c.has_types, c.sessions, c.exit_positives));
    CHECK(w.action == 1.0f);
    CHECK(w.type == c.type);
    CHECK(w.exit == c.exit);
    CHECK(w.lookahead == 1u);
    CHECK(w.lookahead_decay == 0.5f);
    CHECK(w.sampled_softmax == 0u);
    CHECK(w.mask_seen == false);
  }
}

TEST_CASE("loss policy: given weights win over the signals, and the other flags pass through") {
  LossRequest r;
  r.type_weight = 0.25;
  r.exit_weight = 3.0;
  r.lookahead = 3;
  r.lookahead_decay = 0.7f;
  r.sampled_softmax = 1024;
  r.mask_seen = true;
  for (const LossSignals& s : {signals(false, false, 0), signals(true, true, 5)}) {
    const LossWeights w = loss_weights(r, s);
    CHECK(w.action == 1.0f);
    CHECK(w.type == 0.25f);
    CHECK(w.exit == 3.0f);
    CHECK(w.lookahead == 3u);
    CHECK(w.lookahead_decay == 0.7f);
    CHECK(w.sampled_softmax == 1024u);
    CHECK(w.mask_seen == true);
  }

  // A given 0 turns a head off even where the data has its signal; one given weight leaves the
  // other to the policy.
  LossRequest off;
  off.type_weight = 0.0;
  LossWeights w = loss_weights(off, signals(true, true, 5));
  CHECK(w.type == 0.0f);
  CHECK(w.exit == 1.0f);
  off = LossRequest();
  off.exit_weight = 0.0;
  w = loss_weights(off, signals(true, true, 5));
  CHECK(w.type == 1.0f);
  CHECK(w.exit == 0.0f);
}

TEST_CASE("loss policy: the signals of a dataset") {
  // Lengths 1 and 2 are too short to evaluate: training samples that reach the sequence end
  // (exit positives). Length 3 has no training input; 4 and 6 are evaluated (their ends held
  // out), so not positives.
  const std::vector<size_t> lengths = {1, 2, 3, 4, 6, 2};
  const Dataset typed = make_data(lengths, 2), untyped = make_data(lengths, 0);

  LossSignals s = loss_signals(typed, 1800, 200);
  CHECK(s.has_types);
  CHECK(s.sessions);
  CHECK(s.exit_positives == 3u);
  s = loss_signals(untyped, 0, 200);
  CHECK_FALSE(s.has_types);
  CHECK_FALSE(s.sessions);
  CHECK(s.exit_positives == 3u);
  CHECK(loss_signals(typed, 1800, 1).exit_positives == 3u);  // windows do not change the ends
  CHECK(loss_signals(make_data({3, 5, 8}, 1), 1800, 200).exit_positives == 0u);

  // End to end: the defaults `hunch train` picks for these logs.
  LossWeights w = loss_weights(LossRequest(), loss_signals(typed, 1800, 200));
  CHECK(w.type == 1.0f);
  CHECK(w.exit == 1.0f);
  w = loss_weights(LossRequest(), loss_signals(untyped, 0, 200));
  CHECK(w.type == 0.0f);
  CHECK(w.exit == 0.0f);
  w = loss_weights(LossRequest(), loss_signals(make_data({3, 5, 8}, 1), 1800, 200));
  CHECK(w.type == 1.0f);
  CHECK(w.exit == 0.0f);
}
