// Privacy of the training users (issue 16, parts 3 and 4): the accountant of differentially
// private training (DP-SGD with one user as the privacy unit, trainer.cpp), the users of a
// dataset and the held-out users, and the loss-threshold membership-inference attack that
// measures what a model file gives away about who trained it.
//
// Accountant: Rényi DP of the sampled Gaussian mechanism (Mironov, Talwar, Zhang 2019, "Rényi
// Differential Privacy of the Sampled Gaussian Mechanism", §3.3: integer orders by the binomial
// expansion, fractional orders by the two convergent series), which assumes POISSON sampling:
// each user joins each step independently with probability q (what the trainer does). RDP adds
// up over steps; the (ε, δ) conversion is the improved one (Balle et al. 2020, "Hypothesis
// testing interpretations and Rényi DP", Thm 21; also Canonne, Kamath, Steinke 2020):
//   ε = min_α  RDP(α) + log((α−1)/α) − (log δ + log α) / (α − 1),
// the one TF-Privacy's and Opacus' get_privacy_spent use today; epsilon_from_rdp can also give
// the standard conversion RDP(α) + log(1/δ)/(α−1) (Mironov 2017, Prop. 3), for comparison.
// The neighbouring relation is add/remove one user (the sampled Gaussian's analysis).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hunch/error.h"
#include "hunch/rng.h"
#include "train/collective.h"
#include "train/dataset.h"
#include "train/nn-model.h"
#include "train/secret-rng.h"
#include "train/sessions.h"
#include "train/transitions.h"

namespace hunch {
class Model;
}

namespace hunch::train {

// ---- the accountant

// RDP at order alpha (> 1; +inf gives +inf) of one step of the sampled Gaussian mechanism with
// sampling rate q in [0, 1] and noise multiplier sigma (> 0: noise std / L2 sensitivity).
double rdp_sampled_gaussian(double q, double sigma, double alpha);
// The orders the accountant minimises over: 1.1, 1.2, …, 10.9, 12, 13, …, 63 (Opacus' default
// set), then 64, 80, 96, 128, 256, 512.
const std::vector<double>& rdp_orders();

struct EpsilonAt {
  double epsilon = 0;
  double order = 0;  // the minimising order
};
// (ε, δ) from RDP values at `orders` (equal sizes, orders > 1); improved = false: the standard
// conversion.
EpsilonAt epsilon_from_rdp(const std::vector<double>& orders, const std::vector<double>& rdp, double delta,
                           bool improved = true);
// RDP at order alpha of the Gaussian mechanism without sampling at noise multiplier sigma:
// alpha / (2 sigma^2) (Mironov 2017, Prop. 7).
double rdp_gaussian(double sigma, double alpha);
// ε after `steps` steps at rate q and noise sigma, for delta (rdp_orders, improved conversion),
// composed (RDP adds up order by order) with one release of the Gaussian mechanism at noise
// multiplier count_sigma (the DP counts below; 0: none).
double dp_epsilon(double q, double sigma, uint64_t steps, double delta, double count_sigma = 0);
// The smallest noise multiplier (to 0.1% relative, rounded up) whose dp_epsilon after `steps`
// steps (composed with the count release at count_sigma) is at most epsilon. Error when epsilon,
// delta, q or steps are out of range, or when the count release alone spends epsilon.
Error dp_noise_for(double epsilon, double delta, double q, uint64_t steps, double* sigma, double count_sigma = 0);

// ---- differentially private counts (the count-based start under DP)
//
// What the count-based start reads from the training users (action-start.h): how many took
// each action (the bias) and which actions follow which (the transition table), released once
// by the Gaussian mechanism with one user as the privacy unit. One user's contribution is a
// vector over the V action cells and the V x V pair cells: 1 in the cell of every DISTINCT target
// action of their training samples and of every DISTINCT counted pair (transitions.h's rule),
// each counted once per user whatever its repeats, the whole vector then scaled by
// min(1, clip / its L2 norm) (a user of n distinct cells counts 1 per cell up to n = clip^2).
// Adding or removing one user changes the summed vector by at most `clip` in L2: N(0,
// (sigma * clip)^2) on EVERY cell (all V action cells and all V x V pair cells, counted or not)
// makes the release (RDP alpha / (2 sigma^2)) of the sums, and whatever is computed from them
// afterwards (thresholds, top successors, the table's buckets, the biases) is post-processing.
struct CountSums {
  std::vector<double>                         actions;  // V: the summed contributions per action
  std::vector<std::pair<uint64_t, double>>    pairs;    // (a << 32 | b, sum), increasing; only nonzero
  uint64_t users = 0, clipped_users = 0;                // users with samples; of them scaled down
};
// Sums the contributions of the users of `training` (sample_sequences / sequence_users); pairs
// only when with_pairs. A shard (Dataset::sharded; collective: the run's): every process's sums.
CountSums count_sums(const Dataset& data, const std::vector<Sample>& training, double clip, bool with_pairs,
                     Collective* collective = nullptr);

struct DpCountOptions {
  double   clip = 6;            // L2 norm of one user's contribution
  double   sigma = 0;           // noise multiplier (> 0)
  bool     transitions = true;  // release the pair cells (and build the table)
  uint32_t max_successors = 16;
  uint64_t max_bytes = 0;
  // A pair is a candidate successor only when its noised sum is at least threshold x the noise's
  // standard deviation (sigma x clip): of the V x V cells without a count, a share
  // Q(threshold) (0.13% at 3) would otherwise fill the table with pure noise. 3 was chosen on
  // validation: on ML-1M (V = 3,416) it lets through about 15,700 pure-noise pairs of 16,900
  // candidates, yet the count head validated no worse than at 3.85 (0.2 noise pairs per action;
  // bench/results/privacy/NOTES.md): the fitted bucket weights learn what a small share is worth.
  // Past 20,000 actions dp_count_threshold raises it, so a row's pure-noise candidates stay at 27.
  double   threshold = 3;
};
struct DpCounts {
  std::vector<double> actions;  // V: noised user counts per action (id 0 included)
  // The table from the noised pair sums (null without pairs or when none passed the threshold):
  // counts rounded to users (at least 1), `from` the noised row's sum over its candidates,
  // `counted` all zero (no pair is any one event's: nothing to leave out).
  std::shared_ptr<TransitionCounts> transitions;
  uint64_t users = 0, clipped_users = 0, candidates = 0;
  double   noise_std = 0, threshold = 0;  // the threshold used, in noise standard deviations
};
// The noise on every cell of sums (count_sums with o.clip, and pairs when o.transitions; from
// rng), then the table. The pair cells nobody counted are not drawn one by one: only those that
// pass the threshold are (the same distribution as V x V draws, at the cost of the passing ones).
Error dp_counts(const Dataset& data, const CountSums& sums, const DpCountOptions& o, SecretRng& rng, DpCounts* out);
// The threshold dp_counts uses at V actions: `base` up to kDpPairActionsAtBase actions; above,
// the one whose share of pure-noise cells is the base's at kDpPairActionsAtBase ((V - 1) Q(t) =
// 27 cells a row at base 3), so a row's pure-noise candidates stop growing with V (3.46 at
// 100,000 actions, 4.04 at 1,000,000).
constexpr size_t kDpPairActionsAtBase = 20000;
double dp_count_threshold(double base, size_t V);

// ---- users

// The user of a sequence key (Dataset::sequence_key): the key without a trailing "#<digits>"
// (ingest's suffix for a user's n-th session when sessions are sequences). A user whose own id
// ends in "#<digits>" is merged with the user named by the rest: for privacy one larger unit,
// never a split one.
std::string user_of_sequence_key(const std::string& key);
// Per sequence of ds, the index of its user in *users (user names in first-seen order).
std::vector<uint32_t> sequence_users(const Dataset& ds, std::vector<std::string>* users);
// Whether `user` is held out of training (never a training target; the membership attack's
// non-members): a hash of (seed, user name) below `fraction`. The same users in train and eval.
bool holdout_user(const std::string& user, uint64_t seed, double fraction);
// The sequence index of each sample (Sample::first lies in its sequence).
std::vector<uint32_t> sample_sequences(const Dataset& ds, const std::vector<Sample>& samples);

// Per sequence of ds: 1 when its user is held out.
std::vector<uint8_t> holdout_sequences(const Dataset& ds, double fraction, uint64_t seed);
// Removes the samples whose sequence is marked in held_out; returns how many went.
uint64_t drop_samples_of(const Dataset& ds, const std::vector<uint8_t>& held_out, std::vector<Sample>* samples);
// `split` with only the marked sequences' validation sessions (the others' validation begins
// where their test does), valid_sessions / valid_events counted again.
SessionSplit validation_split_of(const Dataset& ds, const SessionSplit& split, const std::vector<uint8_t>& only);

// The held-out users of a model trained with them (hunch train --holdout-users): the model's
// hunch.privacy.holdout_users and hunch.privacy.holdout_seed metadata.
struct Holdout {
  double   fraction = 0;  // 0: every user trained
  uint64_t seed = 0;
};
Holdout holdout_of(const hunch::Model& model);

// One line on what a model promises its training users: "(ε = …, δ = …)-DP per user (DP-SGD, …)"
// or "not differentially private", with the held-out fraction (hunch inspect, eval's report).
std::string privacy_summary(const hunch::Model& model);

// ---- membership inference

struct MembershipResult {
  uint64_t members = 0, non_members = 0;  // users with at least one scored target
  uint64_t targets = 0;                   // next-action targets scored
  double   auc = NAN;  // of −(the user's mean loss) as the member score; 0.5 = no signal
  double   member_loss = NAN, non_member_loss = NAN;  // mean over users of their mean loss
  double   holdout = 0;
};

// The loss-threshold attack (Yeom et al. 2018), per user: the mean next-action cross-entropy
// (softmax over actions 1..V−1, through the core as the browser computes it) over the last
// `targets_per_user` events of the user's training part (leave-one-out: events [1, n−2) of each
// sequence of 3 or more, [1, n) of shorter ones; sessions: the training sessions, split given),
// <unk> targets left out. Members are the users the model trained on, non-members the held-out
// ones (holdout_user with the model's fraction and seed); the AUC is exact (Mann-Whitney, ties
// count 1/2). ds must use the model's vocabulary. Error when the model has no held-out users.
// The result as a JSON object ({"auc": …, "members": …, …}) and as the terminal's lines.
std::string membership_json(const MembershipResult& r);
std::string membership_text(const MembershipResult& r);

// collective: under mpirun each rank scores its own users (shards.h) and every rank gets the
// whole result.
Error membership_attack(const hunch::Model& model, const Dataset& ds, const SessionSplit* split,
                        uint32_t targets_per_user, unsigned threads, MembershipResult* out,
                        Collective* collective = nullptr);

}  // namespace hunch::train
