// The action head's count-based start: before the network trains, the output bias is set to the
// training targets' log-frequency and the copy and transition weights are fitted on the training
// columns with the network's W·z taken as zero. The model then starts as a fitted mix of
// popularity, repeats and first-order transitions (the simple baselines, combined by their
// likelihood), and the network learns what it adds to them.
//
// Why: on small or sparse logs an epoch is a few dozen steps and the network's item embeddings
// over-fit within a few epochs, long before a few scalars trained by the same optimiser from zero
// reach the several logits a repeat is worth (REES46: the distance-0 copy weight was +2.3 when
// early stopping picked epoch 1). Fitting them first costs a second and puts them where the
// counts say.
#pragma once

#include <cstdint>
#include <vector>

#include "train/dataset.h"
#include "train/nn-model.h"

namespace hunch::train {

struct ActionStart {
  uint64_t columns = 0;        // training columns the weights were fitted on
  double   nll_popularity = 0;  // mean next-action log-loss of the bias alone
  double   nll_fitted = 0;      // … with the fitted copy and transition terms
};

// Sets head.action.b and fits head.copy.distance, .type and .count (with cfg.hyper.copy) and
// head.transition.weight (with cfg.hyper.transition_bytes) on the columns of `training` (at most
// 60,000 of them, evenly spaced). Leaves every other tensor as it is.
ActionStart fit_action_start(const Dataset& data, const std::vector<Sample>& training, Net* net);

}  // namespace hunch::train
