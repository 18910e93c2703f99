// Evaluation: the leave-one-out protocol of ../shared/bench/reference/PROTOCOL.md on a Dataset,
// for any scorer (a .hunch model through hunch::Sequence, or the trainer's own f32 forward),
// with the most-popular and first-order Markov baselines ranked by the same code.
//
// Split (dataset.h): a sequence of n >= 3 events validates on target n-2 with input [0, n-2)
// and tests on target n-1 with input [0, n-1). Shorter sequences are not evaluated.
//
// Ranking (PROTOCOL.md §5-6): candidates are action ids 1..V-1 (0 = <unk> is never a
// candidate). rank = number of candidates other than the target whose score is >= the
// target's (ties count against the target). With exclude_seen, candidates that occur in the
// input history (other than the target) score -inf. HR@k = [rank < k], NDCG@k =
// [rank < k] / log2(rank + 2), MRR = 1 / (rank + 1); means over evaluated sequences. A target
// that is <unk> (out of the vocabulary) or whose score is NaN is a miss in every metric: it is
// counted in unknown_targets, never dropped.
//
// Sampled (§5): rank = number of the sequence's N negatives with score >= the target's
// (history never masked, as in the reference). A negative outside the vocabulary scores -inf
// (counted in Negatives::out_of_vocabulary).
//
// Type head: predicted type = argmax of the type scores over ids 1..T-1; accuracy and macro-F1
// (mean over the types that occur as target or prediction) on targets whose type is not
// <none>. Only when the data has types (T > 1).
//
// Exit head ("probability that the sequence ends after this event"): each evaluated sequence
// gives one positive, the exit probability after all n events (nothing follows), and one
// negative, after the test input [0, n-1) (the test event follows). exit AUC is the
// Mann-Whitney AUC over these (ties 1/2): does the head tell a finished sequence from one
// with an event still to come, at the same position in the protocol.
//
// Baselines, from the training part of every sequence ([0, n-2), or all of a shorter one):
//   popularity: score(j) = count of j;
//   markov:     score(j) = transitions(last input action → j) · (max count + 1) + count(j),
//               i.e. transition counts, ties and unseen rows broken by popularity.
// Types are predicted the same ways (type counts; type transitions).
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hunch/error.h"
#include "train/collective.h"
#include "train/dataset.h"
#include "train/intervals.h"

namespace hunch {
class Model;
struct Event;
}

namespace hunch::train {

constexpr size_t kNumCutoffs = 4;
constexpr int    kCutoffs[kNumCutoffs] = {1, 5, 10, 20};

struct RankMetrics {
  uint64_t users = 0;  // sequences ranked (unknown targets included, as misses)
  double   hr[kNumCutoffs] = {}, ndcg[kNumCutoffs] = {};
  double   mrr = 0;
  double hr_at(int k) const;    // NaN for a k not in kCutoffs
  double ndcg_at(int k) const;
};

struct SplitMetrics {
  RankMetrics full;
  RankMetrics sampled;            // users == 0 when no negatives were given
  uint64_t    unknown_targets = 0;
  uint64_t    type_targets = 0;   // targets with a known type (type metrics are over these)
  double      type_accuracy = NAN, type_macro_f1 = NAN;
};

struct MethodResult {
  std::string  name;              // "model", "popularity", "markov"
  SplitMetrics valid, test;
  double       exit_auc = NAN;    // model only, when the scorer reports exit probabilities
};

struct EvalResult {
  uint64_t sequences = 0, evaluated = 0;  // in the dataset; of length >= 3
  bool     exclude_seen = false;
  size_t   sampled_negatives = 0;         // N of the sampled metric, 0 = none
  uint64_t negatives_out_of_vocabulary = 0;
  std::vector<MethodResult> methods;      // the model first (if scored), then the baselines
  const MethodResult* find(const std::string& name) const;
  // The model against the better baseline by NDCG@10 (intervals.h; a unit is a user: the
  // sequences of one user's sessions are drawn together), on
  // the test split (validation when only it was scored); empty name without a model or baselines.
  std::string    best_baseline;
  PairedInterval vs_best;
};

// Negatives for the sampled metric, by sequence index (empty for sequences not evaluated).
struct Negatives {
  size_t count = 0;
  std::vector<std::vector<uint32_t>> valid, test;
  uint64_t out_of_vocabulary = 0;   // listed items that are not in the vocabulary (id 0)
  uint64_t unknown_users = 0;       // lines for users the dataset does not have (ignored)
};

// Reads the shipped format ("valid|test USER n1 … nN" per line, item names mapped through
// ds.actions). USER is matched against Dataset::sequence_key. Uses the first `count` items of
// each line; a line with fewer, a bad split name, or an evaluated sequence without its two
// lines is an Error naming file:line or the user.
Error load_negatives(const std::string& path, const Dataset& ds, size_t count, Negatives* out);
// For data without a shipped file: `count` distinct actions per split from those the sequence
// never contains (all of them when fewer remain), uniform, std::mt19937_64(seed) — the same
// rule as PROTOCOL.md §5, but not numpy's random stream.
void draw_negatives(const Dataset& ds, size_t count, uint64_t seed, Negatives* out);

// What a scorer writes for one input. Fill every non-null buffer; leave exit NaN without an
// exit head.
struct Scores {
  float* actions = nullptr;  // V scores, indexed by action id (id 0 is ignored)
  float* types   = nullptr;  // T scores by type id; null when type metrics are not wanted
  float  exit    = NAN;      // P(sequence ends after the input's last event)
};

// The scorer interface. Called with (thread, seq, input_len, out): score the next event after
// events [offsets[seq], offsets[seq] + input_len) of sequence `seq`. For each evaluated
// sequence the calls come consecutively on one thread with increasing input_len — n-2
// (validation), n-1 (test), n (exit AUC; out->actions is null then) — so an incremental scorer
// can push one event between calls instead of starting over. Calls for different sequences run
// concurrently on threads 0..threads-1: keep per-thread state indexed by `thread`. Sequences
// are handed out in chunks of kEvalChunk consecutive indices starting at multiples of it; a
// thread takes a whole chunk and goes through it in increasing index order (a batching scorer
// can compute a chunk's inputs of one split in one pass).
constexpr size_t kEvalChunk = 8;
using ScoreFn = std::function<Error(unsigned thread, size_t seq, size_t input_len, Scores* out)>;

struct EvalOptions {
  bool     exclude_seen = false;
  bool     valid = true, test = true;  // which splits to score
  bool     baselines = true;
  bool     exit_auc = true;            // the extra call with input_len = n
  bool     types = true;               // type metrics when the data has types
  unsigned threads = 2;
  const Negatives* negatives = nullptr;  // set: also the sampled metrics
  // Set: only the sequences with a nonzero entry are scored and counted (hunch train's validation
  // on the held-out users under --dp-epsilon).
  const std::vector<uint8_t>* only = nullptr;
  // Set (a run across processes): every process scores its own users' sequences (shards.h: the
  // parts of ranks × threads) and the per-sequence outcomes are gathered, so every process gets
  // the whole result, the same as one process computes. Every process must call evaluate alike.
  // A shard (Dataset::sharded): every process's scored sequences are gathered (rank order) and
  // summarised. Model only: no baselines or sampled negatives.
  Collective* collective = nullptr;
};

// Options for the validation split alone, model only: what training and quantisation check.
EvalOptions validation_only(bool exclude_seen, unsigned threads, Collective* collective = nullptr);

// Scores `model` (may be empty: baselines only) and the baselines on ds. Results do not depend
// on the thread count (per-sequence results are summed in sequence order).
Error evaluate(const Dataset& ds, const ScoreFn& model, const EvalOptions& options, EvalResult* out);

// A scorer over a .hunch model: one hunch::Sequence per thread, events pushed incrementally
// (one pass per sequence gives all three calls). ds must use the model's vocabulary
// (IngestOptions::vocabulary = vocabulary_of(model)). The Model must outlive the scorer.
ScoreFn model_scorer(const hunch::Model& model, const Dataset& ds, unsigned threads);

// Event i of ds as the core takes it (action, type, time, attributes as logged). A missing
// attribute value (the column's <none>) is left to the model's table, as the SDK does when the
// app gives none: a log read for a model may lack the column.
void core_event(const Dataset& ds, uint64_t i, hunch::Event* out);

// Validation NDCG@10 / HR@10 of a .hunch model through the core, as the browser computes it
// (the before/after figures of quantisation in `hunch train` and `hunch quantize`); only as
// EvalOptions::only.
Error core_validation(const hunch::Model& model, const Dataset& ds, bool exclude_seen, unsigned threads,
                      double* ndcg, double* hr, const std::vector<uint8_t>* only = nullptr,
                      Collective* collective = nullptr);

// Text table (test split, model beside the baselines, and the relative NDCG@10 gain over the
// better baseline) and one JSON object ({"model": {"HR@10": …}, "popularity": …, "markov": …,
// "users": n, …}; test metrics by plain name, validation ones prefixed "valid_").
std::string results_table(const EvalResult& r);

// Shared with the session protocol (sessions.h): one ranked target into running sums (rank < 0
// = a miss), the sums into means, the Mann-Whitney AUC (ties 1/2; NaN without both classes,
// NaN scores left out), and how metrics print ("-" / null when not a number).
void        add_rank(RankMetrics* m, int64_t rank);
void        finish_rank(RankMetrics* m);
double      mann_whitney_auc(const std::vector<float>& positives, const std::vector<float>& negatives);
std::string metric_text(double v, int precision = 4);
std::string json_number(double v);
std::string results_json(const EvalResult& r);

}  // namespace hunch::train
