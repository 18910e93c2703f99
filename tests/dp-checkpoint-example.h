// A differentially private run's training checkpoint (native/train/checkpoint.h) with the
// accountant's state and a count release with a transition table: the example that
// tests/native/test-checkpoint.cpp checks field by field and tests/fuzz/fuzz_checkpoint.cpp
// starts its mutations from.
#pragma once

#include <memory>

#include "train/checkpoint.h"

namespace hunch_test {

// Four actions; the table's pairs 1 -> 2 (5), 1 -> 3 (20), 3 -> 1 (7).
inline hunch::train::TrainCheckpoint dp_checkpoint_example() {
  hunch::train::TrainCheckpoint c;
  c.fingerprint = 5;
  c.params = {1, 2};
  c.best = {2, 1};
  c.dp = true;
  c.dp_steps = 30;
  c.dp_planned_steps = 60;
  c.dp_sigma = 0.9;
  c.dp_users_seen = 900;
  c.dp_users_clipped = 400;
  auto d = std::make_shared<hunch::train::DpCounts>();
  d->actions = {0.5, 12.25, -3, 40};
  d->users = 200, d->clipped_users = 20, d->candidates = 9, d->noise_std = 6.02, d->threshold = 3;
  auto t = std::make_shared<hunch::train::TransitionCounts>();
  t->from = {0, 30, 0, 7};
  t->rows.assign(4, {});
  t->rows[1] = {{2, 5}, {3, 20}};
  t->rows[3] = {{1, 7}};
  t->pairs = 37, t->distinct = 9, t->kept = 3;
  d->transitions = t;
  c.dp_release = d;
  return c;
}

}  // namespace hunch_test
