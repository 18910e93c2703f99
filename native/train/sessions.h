// The session protocol (`hunch train/eval --protocol sessions`): what a web app asks of the
// model after every event, measured on whole held-out sessions with the user's earlier history
// as context, for next action, next type, exit and conversion, beside simple baselines.
//
// Split: the dataset holds one sequence per user (IngestOptions::whole_users) with sessions
// marked in Dataset::flags. All sessions are ordered by start time (the first event's time; the
// file line when a session has no time); the last `test_fraction` of them are test, the same
// number before those validation, the rest training. A user's sessions are in time order, so
// per user the split is a prefix of training sessions, then validation, then test sessions.
// Training sees only training sessions.
//
// Prediction points: after every event i of a held-out session (the input is the user's
// events up to and including i: earlier sessions of every split as context, as the SDK keeps
// them). At each point:
//   next action / type: the target is event i + 1 when it is in the same session (else none);
//   exit:               label 1 when i is the last event of its session;
//   conversion:         label 1 when a goal event follows i in the same session.
// A session that ends within a session gap of the log's last time may be cut by the log
// (kCensored): its last event's exit label and its 0 conversion labels are unknown and left out.
//
// Metrics: HR@k, NDCG@k, MRR over the full vocabulary (eval.h's ranking, ties against the
// target, <unk> targets are misses); next type accuracy, macro-F1 and log-loss; exit and
// conversion AUC (Mann-Whitney, ties 1/2), log-loss and expected calibration error (10 equal
// bins of predicted probability, |mean p − rate| weighted by the bin's share). Also by the
// point's position in its session.
//
// Baselines, from training sessions only: popularity; first-order Markov over within-session
// transitions (ties and unseen rows by popularity); repeat (the user's own earlier actions,
// most recent first, then popularity); for types, type popularity and type Markov; for exit and
// conversion, a logistic regression on hand features (position in session, last event type,
// last time-gap bucket, events so far, sessions so far), fitted on every training event.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "hunch/error.h"
#include "train/dataset.h"
#include "train/eval.h"
#include "train/intervals.h"
#include "train/nn-model.h"

namespace hunch::train {

// The goal types found by name when none is given: purchase, buy, order, orders, transaction,
// checkout_complete, Order Completed (case-insensitive), those present in ds.types.
std::vector<std::string> default_goal_types(const Dataset& ds);
// Sets ds->goal_types and the kGoal / kConverts flags. A name that is not one of ds->types is an
// Error naming the types seen.
Error set_goal_types(Dataset* ds, const std::vector<std::string>& names);

struct SessionSplit {
  double test_fraction = 0.1;
  // Per sequence: absolute event indices where its validation and its test sessions begin
  // (equal to the next boundary when it has none).
  std::vector<uint64_t> valid_begin, test_begin;
  uint64_t sessions = 0, train_sessions = 0, valid_sessions = 0, test_sessions = 0;
  uint64_t train_events = 0, valid_events = 0, test_events = 0;
};

// Needs whole-user sequences with session flags and positions (ingestion fills both). fraction in (0, 0.5).
// The last test_fraction of all sessions by start time are the test part, the test_fraction
// before them validation. sharded (a sharded read, IngestOptions::shard): ds holds this
// process's users only; the cut is made over every process's sessions (the same sessions as
// one process holding them all picks), *out has this process's sequences and the run's totals.
Error split_sessions(const Dataset& ds, double test_fraction, SessionSplit* out, Collective* sharded = nullptr);

// Training samples: each user's training sessions, cut into windows of at most max_len inputs
// ending at the training part's end, max_len earlier, and so on, so every training event is a
// target once. The part ends at a session end: exit and conversion labels are all known.
std::vector<Sample> session_training_samples(const Dataset& ds, const SessionSplit& split, uint32_t max_len);

// What a scorer writes at one point. Probabilities as shipped (calibrated); the raw logits
// only where the scorer has them (the trainer's network, for fitting the calibration).
struct PointScores {
  const float* actions = nullptr;  // V action logits (id 0 ignored); null when not asked for
  const float* types = nullptr;    // T type probabilities; null without types
  float exit = NAN, conversion = NAN;
  const float* type_logits = nullptr;
  float exit_logit = NAN, conversion_logit = NAN;
};

// Scores sequence `seq` at input lengths `points` (increasing, each >= 1, relative to the
// sequence's first event), calling visit(k, scores) for points[k] in order. Calls for different
// sequences run concurrently on threads 0..threads-1.
using PointVisit = std::function<void(size_t k, const PointScores&)>;
using SessionScoreFn = std::function<Error(unsigned thread, size_t seq, const std::vector<uint32_t>& points,
                                           bool want_actions, const PointVisit& visit)>;

// A scorer over a .hunch model through hunch::Sequence (the browser's code path).
SessionScoreFn model_session_scorer(const hunch::Model& model, const Dataset& ds, unsigned threads);

struct BinaryMetrics {
  uint64_t n = 0, positives = 0;
  double   auc = NAN, logloss = NAN, ece = NAN;
  // Reliability diagram: 10 equal-width bins of predicted probability.
  static constexpr int kBins = 10;
  uint64_t bin_n[kBins] = {};
  double   bin_p[kBins] = {}, bin_rate[kBins] = {};  // mean prediction, observed rate
};

struct PositionBucket {
  std::string label;  // "1", "2", "3", "4-5", "6-10", "11+"
  uint64_t    points = 0;
  RankMetrics rank;   // over the bucket's points with a next-action target
  BinaryMetrics exit, conversion;
};

struct SessionMethod {
  std::string   name;  // "model", "popularity", "markov", "repeat", "logistic", "oracle"
  bool          ranks = false, types = false, binary = false;  // which metrics it has
  RankMetrics   rank;
  uint64_t      unknown_targets = 0;
  double        type_accuracy = NAN, type_macro_f1 = NAN, type_logloss = NAN;
  BinaryMetrics exit, conversion;
  std::vector<PositionBucket> by_position;
};

struct SessionSplitResult {
  uint64_t points = 0, action_points = 0, type_points = 0, exit_positives = 0, conversion_positives = 0;
  uint64_t censored = 0;  // points in sessions the log's end may cut (kCensored): exit / conversion unknown
  std::vector<SessionMethod> methods;  // the model first (if scored), then baselines, oracle
  const SessionMethod* find(const std::string& name) const;
  // The model's next action against the best of popularity, Markov and repeat by NDCG@10, with
  // its interval (intervals.h; a unit is a sequence: a user, or a session where sessions are the
  // log's only ids); empty name without a model, baselines or ranked actions.
  std::string    best_baseline;
  PairedInterval vs_best;
};

struct SessionEvalResult {
  SessionSplit split;
  uint64_t users = 0;
  std::vector<std::string> goal_types;
  // Metrics this log cannot score, with the reason ("exit" / "conversion" / "types" → why).
  std::map<std::string, std::string> unscored;
  bool has_valid = false, has_test = false;
  SessionSplitResult valid, test;
};

struct SessionEvalOptions {
  bool     valid = true, test = true;
  bool     baselines = true;
  bool     actions = true;   // rank next actions (the costliest part)
  unsigned threads = 2;
  // Per event of ds (size ds.events()), the generator's own probabilities (hunch synth
  // --truth); NaN where unknown. Reported as the "oracle" method.
  const std::vector<float>* oracle_exit = nullptr;
  const std::vector<float>* oracle_conversion = nullptr;
  // Set (a run across processes): every process scores its own users (shards.h) and the points'
  // outputs are gathered, so every process gets the result one process computes (eval.h,
  // EvalOptions::collective). Every process must call it alike.
  // A shard (Dataset::sharded): the points and outputs of every process are gathered (in rank
  // order) and summarised; no baselines or oracle (they need every user's events).
  Collective* collective = nullptr;
};

Error evaluate_sessions(const Dataset& ds, const SessionSplit& split, const SessionScoreFn& model,
                        const SessionEvalOptions& options, SessionEvalResult* out);

// The raw outputs of a scorer on one split's points, for fitting calibration: exit and
// conversion logits with labels, type logits (T per point) with targets.
struct CalibrationData {
  std::vector<float> exit_logit, conversion_logit;
  std::vector<uint8_t> exit_label, conversion_label;
  std::vector<float> type_logits;  // T per entry of type_target
  std::vector<uint32_t> type_target;
};
// collective: under mpirun every process scores its own users and gets every point (the order
// one process gives; sharded, ds holding this process's users only: in rank order).
Error collect_calibration(const Dataset& ds, const SessionSplit& split, const SessionScoreFn& scorer,
                          bool valid_split, unsigned threads, size_t type_count, CalibrationData* out,
                          Collective* collective = nullptr);
// Platt scaling: (a, b) minimising the log-loss of sigmoid(a·logit + b) (Newton, regularised
// towards (1, 0)); identity when there are no positives or no negatives.
void fit_platt(const std::vector<float>& logit, const std::vector<uint8_t>& label, float* a, float* b);
// Temperature minimising the type log-loss of softmax(logits / t) over t in [0.25, 8].
float fit_temperature(const std::vector<float>& logits, const std::vector<uint32_t>& target, size_t T);

// Reads `hunch synth --truth` (CSV `row,p_exit,p_conversion`, row = 0-based data record of the
// events file, written one record per line after a header) into per-event vectors of ds.
Error load_oracle(const std::string& path, const Dataset& ds, std::vector<float>* exit,
                  std::vector<float>* conversion);

std::string session_results_table(const SessionEvalResult& r);
std::string session_results_json(const SessionEvalResult& r);

}  // namespace hunch::train
