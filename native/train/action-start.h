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
#include "train/shards.h"

namespace hunch::train {

struct ActionStart {
  uint64_t columns = 0;        // training columns the weights were fitted on
  double   nll_popularity = 0;  // mean next-action log-loss of the bias alone
  double   nll_fitted = 0;      // … with the fitted copy and transition terms
  // The ranking refinement: the likelihood puts popular actions above count-1 successors and
  // older repeats (a log-linear mix multiplies a rare successor's count by its rarity), which a
  // first-order Markov chain ranks first. From the fitted θ, coordinate ascent of the training
  // columns' NDCG@10 (at most 12,000 of them, with about 12 million terms) over θ and a scale β of the biases gives the
  // count head: the action head of counts alone, ranked for the top ten.
  double   ndcg_fitted = NAN, ndcg_ranked = NAN;  // the columns' NDCG@10 before and after
  float    bias_scale = 1;                        // β
  std::vector<float>  ranked_bias;                // V: β · fitted_bias (popular_bias for a baseline's mix)
  std::vector<double> ranked_theta;               // θ after the ascent
  double   rank_seconds = 0;                      // the ascent's wall time
  // Other count heads, for the trainer to validate beside the ascent's (it ships whichever
  // validates best, choose_count_head): the other start's end where two were ascended, and the
  // simple baselines written as θ (repeat, Markov, Markov then repeat; popularity a tie-break).
  // Why: on a small log the training columns are few and the ascent can fit their noise (the
  // 20-session OTTO sample: 0.90× the repeat baseline on validation); a baseline's own mix then
  // validates better, and the count head should never ship below a baseline it can express.
  struct Alternative {
    const char*         name;         // "the other start's ascent", "the repeat baseline's mix", …
    float               bias_scale;   // β
    std::vector<double> theta;
    double              ndcg;         // on the training columns
    bool                popular = false;  // its biases: popular_bias (the baselines') or fitted_bias
  };
  std::vector<Alternative> alternatives;
  std::vector<float>       fitted_bias;    // V: the likelihood's biases (ranked_bias = β · these)
  std::vector<float>       popular_bias;   // V: the training targets' log-frequencies (a baseline's mix)
  const char*              chosen = "the ascent";  // which count head ranked_* hold
  bool                     chosen_popular = false;  // … and whether β scales popular_bias
};

// Makes alternatives[i] the count head (ranked_bias, ranked_theta, bias_scale, ndcg_ranked and
// chosen); the head it replaces takes its place in the list.
void choose_count_head(ActionStart* start, size_t i);

// Sets head.action.b and fits head.copy.distance, .type and .count (with cfg.hyper.copy) and
// head.transition.weight (with cfg.hyper.transition_bytes) on the columns of `training` (at most
// 60,000 of them, evenly spaced). Leaves every other tensor as it is.
// counts (V, positive; optional): the biases are their log-frequencies and stay as they are
// (no alternating fit, no leave-one-out in the ranking): differentially private training fits
// the weights on held-out users' columns and takes the biases from noised counts of the
// training users (privacy.h, dp_counts).
// rank: also the ranking refinement (the count head); false leaves ndcg_ranked NaN and ranked_*
// empty (--item-weights train or freeze, or a tied head: nothing would read them).
// share: the processes and threads the columns' work is split over, by user (shards.h); the
// ranking ascent takes the same steps for any split (it counts integers); the likelihood's sums
// add the parts in part order within a process and then across processes, so two parts (one
// process of 2 threads, or 2 of one) give the same fit, and more parts may round differently.
ActionStart fit_action_start(const Dataset& data, const std::vector<Sample>& training, Net* net,
                             const std::vector<double>* counts = nullptr, bool rank = true,
                             const UserParts& share = UserParts());

// The count head: the ranked biases and θ, head.action.w, the copy gate and head.attr zero (the
// action logits then read no network output: β·b + the terms).
void apply_count_head(const ActionStart& start, Net* net);
// The tensors frozen while the count head trains the other heads.
std::vector<size_t> count_head_tensors(const Net& net);

}  // namespace hunch::train
