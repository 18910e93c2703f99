// What both architectures share: hyper-parameters, the batch layout (samples → columns), the
// event encoding, the three heads with their losses, and the Net interface the trainer drives.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hunch/model.h"
#include "train/dataset.h"
#include "train/nn.h"

namespace hunch::train {

struct TransitionCounts;  // train/transitions.h

struct NetConfig {
  // Arch and sizes, as the core reads them back: set in full by whoever builds the config
  // (hunch train's net_config_from, the tests); V, T and G come from the data.
  hunch::Hyper hyper;
  float    dropout = 0.2f;
  float    embed_init = 0.2f;  // std of the N(0, σ²) action-embedding initialisation
  float    recency_init = 0.01f;   // initial attention recency slope (head n: / 2^n)
  bool     tie_embeddings = false;  // head.action.w shares emb.action's weights (as SASRec)
  // With hyper.session_inputs: the session gap the core splits sessions at (hunch.session.gap);
  // the trainer reads positions from Dataset::session_position / session_number.
  float    session_gap = 0;
  // With hyper.transition_bytes: the counted successor pairs (train/transitions.h) the action
  // head scores with head.transition.weight, and the table the export writes.
  std::shared_ptr<const TransitionCounts> transitions;
  // The count head's table (hyper.action_counts): a count head ships no head.action.w or
  // head.attr, and the table may take their bytes (hunch train's budget). nullptr: the same
  // table as the network's. The trainer swaps it in while the count head is the action head.
  std::shared_ptr<const TransitionCounts> count_transitions;
};

// One example: the dataset's events [begin, begin + len) are the input positions. Position p's
// targets are the event after it (action, type) when that event lies before target_end. Its
// exit label (Dataset::flags, kSessionEnd) is trained when the next event is known (before
// target_end) or the sample `ends` at a real session end; its conversion label (kConverts) when
// the end of its session lies before target_end (no held-out event can hold the goal).
struct Sample {
  uint64_t begin = 0;
  uint32_t len = 0;
  uint64_t first = 0;  // the earliest event an input window may start at (random_crops)
  uint64_t target_end = 0;
  bool     ends = false;
  uint64_t id = 0;  // seeds this sample's dropout masks (independent of thread split)
};

// Per-thread state of one forward/backward pass: the column layout and what backward needs.
// Each column is one input event; event dropout (prepare_pass) removes events from a sample,
// so the column → event maps below, not `begin + p`, say what each column reads and predicts.
struct Pass {
  static constexpr uint64_t kNoTarget = UINT64_MAX;
  virtual ~Pass() = default;
  std::vector<Sample> samples;  // len = the columns the sample kept
  std::vector<size_t> start;   // first column of each sample; size samples + 1
  size_t              N = 0;   // columns (positions)
  bool                train = false;
  uint64_t            seed = 0;  // dropout stream of this step
  std::vector<uint64_t> event;   // per column: the input event
  std::vector<uint64_t> next;    // per column: the target event (next kept one), or kNoTarget
  std::vector<uint8_t>  gap;     // per column: time-gap bucket after the previous kept event
  static constexpr uint8_t kUnknown = 2;
  std::vector<uint8_t>  ends;    // per column: exit label (0, 1, or kUnknown: not trained)
  std::vector<uint8_t>  conv;    // per column: conversion label (0, 1, or kUnknown)
  Buffer  z, dz;   // (D, N): the heads' input and its gradient
  // With session inputs: the input encoding x before dropout (D, N), read by the binary heads'
  // wide terms, and its gradient from them (added to the embeddings' by embed_backward).
  Buffer  xin, dxin;
};

class Net {
 public:
  explicit Net(const NetConfig& c) : cfg(c) {}
  virtual ~Net() = default;
  virtual std::unique_ptr<Pass> make_pass() const = 0;
  virtual void init(Rng& rng) = 0;
  // Computes pass.z for the samples in pass (laid out by prepare_pass).
  virtual void forward(const Dataset& data, Pass& pass) const = 0;
  // Back-propagates pass.dz, adding parameter gradients into grad (laid out as params).
  virtual void backward(const Dataset& data, Pass& pass, float* grad) const = 0;

  NetConfig cfg;
  ParamSet  params;  // every tensor of the architecture's table (hunch/arch.h), in file order, but u8 tables
  hunch::Calibration calibration;  // fitted after training (sessions.h), written with the model
  size_t emb_action = 0, emb_type = 0, emb_gap = 0;
  size_t emb_session_position = 0, emb_session_count = 0;  // when cfg.hyper.session_inputs
  size_t head_aw = 0, head_ab = 0, head_tw = 0, head_tb = 0, head_ew = 0, head_eb = 0;
  size_t head_cw = 0, head_cb = 0;  // the conversion head, when cfg.hyper.conversion
  size_t head_ewx = 0, head_cwx = 0;  // the wide terms, with cfg.hyper.session_inputs
  size_t head_copy_gate = 0, head_copy_distance = 0, head_copy_type = 0, head_copy_count = 0;  // with cfg.hyper.copy
  size_t head_transition_weight = 0;  // with cfg.hyper.transition_bytes
  size_t emb_attr = 0, head_attr = 0, head_attr_match = 0;  // with cfg.hyper.attr_columns

 protected:
  // Registers every tensor of cfg.hyper's layout (hunch/arch.h) in file order; the tensor of
  // a tied pair (TensorSpec::tied_with) aliases its partner when cfg.tie_embeddings.
  void add_params();
  // The index of a registered tensor (it must be in the layout).
  size_t param(const std::string& name) const;
  void init_embeddings_and_heads(Rng& rng);
  // x (D, N) = emb.action[a] + emb.type[t] + emb.gap[g] (+ the session embeddings) per position.
  // With session inputs also keeps a copy in pass.xin (the wide heads' input).
  void embed(const Dataset& data, Pass& pass, float* x) const;
  // Scatters dx (D, N) into the three embedding tables' gradients.
  void embed_backward(const Dataset& data, const Pass& pass, const float* dx, float* grad) const;
};

// Builds and initialises a network (Xavier-normal matrices as the reference; see .cpp).
std::unique_ptr<Net> make_net(const NetConfig& c, uint64_t seed);

// Lays the samples out as columns. With event_drop > 0 (training only), each input event but
// a sample's first is removed with that probability, independently, from the sequence itself:
// the event before it then predicts the event after it, with the time gap between those two.
// This is what a log with missing events shows at inference (ML-1M's test inputs lack the item
// just before the target), and it keeps the model from resting on the last event alone. The
// removals are drawn from (seed, sample id) as the dropout masks.
void prepare_pass(Pass& pass, const Dataset& data, const std::vector<Sample>& samples, bool train,
                  uint64_t seed, float event_drop = 0.0f);

// Dropout masks for a (dim, N) activation, drawn per sample from (pass.seed, sample id,
// purpose) so a sample gets the same mask whichever thread runs it.
void sample_masks(const Pass& pass, float* mask, size_t dim, uint64_t purpose, float p);

struct LossWeights {
  float action = 1, type = 0, exit = 0, conversion = 0;
  // The action head's target is the next `lookahead` events, weighted 1, decay, decay², …
  // (normalised): with 1, plain next-event cross-entropy. More teaches "what comes soon",
  // which is what a log with missing events asks at inference (see prepare_pass).
  uint32_t lookahead = 1;
  float    lookahead_decay = 0.5f;
  // > 0: while training, the action head's softmax runs over the targets and this many classes
  // drawn log-uniformly (corrected for the draw), not over the whole vocabulary. For
  // vocabularies where the full (V × positions) logits dominate the step.
  uint32_t sampled_softmax = 0;
  // The action head's softmax leaves out the actions already in the column's sequence, from
  // its first event through the input event (its targets excepted): they are not counted as
  // negatives. For logs where actions do not repeat (ML-1M), this is the training side of
  // evaluating with --exclude-seen: the head's capacity goes to ranking the unseen ones.
  bool     mask_seen = false;
};

struct LossTotals {
  double   action = 0, type = 0, exit = 0, conversion = 0;  // summed losses (nats)
  uint64_t n_action = 0, n_type = 0, n_exit = 0, n_conversion = 0;
  double weighted(const LossWeights& w) const;  // Σ weight · mean
};

// Number of targets of each head in the samples: the denominators of the batch means.
LossTotals count_targets(const Dataset& data, const std::vector<Sample>& samples);
// The same for a prepared pass (after event dropout).
LossTotals count_targets(const Pass& pass);

// One draw from the log-uniform (Zipf) distribution over classes 0..V-1,
// P(k) = log((k + 2) / (k + 1)) / log(V + 1) (by inverting its CDF log(k + 2) / log(V + 1)), and
// that P. The action vocabulary is ordered by count (ingest), so this follows the actions'
// popularity without counting them, as TensorFlow's log_uniform_candidate_sampler.
uint32_t draw_log_uniform(Rng& rng, size_t V);
double   log_uniform_p(uint32_t k, size_t V);

// Runs the heads on pass.z and adds the summed losses into *totals. With grad, writes pass.dz
// and accumulates head gradients for loss = Σ_head weight · (sum / norm.n_head).
void heads_loss(const Net& net, const Dataset& data, Pass& pass, const LossWeights& w,
                const LossTotals& norm, LossTotals* totals, float* grad);

// The action head's matrix as the core scores with it: head.action.w, plus with attributes
// (Hyper::attr_columns) the head.attr rows of each action's values (Dataset::action_attr):
// W[a] + Σ_k head.attr[value k of a]. Without attributes, head.action.w itself; with them, the
// sum in *storage.
CMapR action_head_matrix(const Net& net, const Dataset& data, MatR* storage);
// Adds g, a gradient at that matrix (V, D), into head.action.w's and (scattered by each action's
// values) head.attr's gradients in grad.
void action_head_matrix_backward(const Net& net, const Dataset& data, const float* g, float* grad);

// Action logits (V, samples) at each sample's last position (evaluation), with add_action_terms.
void last_action_logits(const Net& net, const Pass& pass, const Dataset& data, Eigen::MatrixXf* out);

// The copy terms' view of a window (Hyper::copy): each distinct action of positions
// [start, col] (<unk> left out), with its most recent position and how many positions hold it,
// most recent first. action_at(j) is position j's action.
struct CopyEntry {
  uint32_t action;
  size_t   recent;
  uint32_t count;
};
template <class ActionAt>
void copy_entries(size_t start, size_t col, size_t V, ActionAt action_at, std::vector<CopyEntry>* out) {
  thread_local std::vector<uint32_t> where;  // per action: its index in *out + 1 (0: not yet)
  if (where.size() < V) where.assign(V, 0);
  out->clear();
  for (size_t j = col + 1; j-- > start;) {
    const uint32_t a = action_at(j);
    if (a == 0) continue;
    if (!where[a]) {
      out->push_back({a, j, 0});
      where[a] = uint32_t(out->size());
    }
    ++(*out)[where[a] - 1].count;
  }
  for (const CopyEntry& e : *out) where[e.action] = 0;
}

// The action head's terms beyond W·z + b, added to column `col`'s V action logits as the core
// adds them (Sequence::action_logits):
// - the copy terms (Hyper::copy): the column's window is its sample's columns from
//   max(first, col - Wc + 1) through col (copy_entries; Wc = copy_window_of); distance counts columns back to the
//   action's most recent column; "same session" compares Dataset::session_number (always true
//   without session inputs);
// - the transition terms (Hyper::transition_bytes): the kept successors of the column's action,
//   their buckets leaving the column's own pair out (train/transitions.h);
// - the attribute match terms (Hyper::attr_columns): every action sharing a value with one of the
//   copy window's events (Dataset::attr), by the distance bucket of the most recent one.
void add_action_terms(const Net& net, const Dataset& data, const Pass& pass, size_t col, float* logits);
// Sets v[a] = 0 for every action those terms touch at column col (clears what add_action_terms
// wrote into a zero buffer).
void zero_action_terms(const Net& net, const Dataset& data, const Pass& pass, size_t col, float* v);
// Their backward: dlogits is the loss gradient at the column's V logits; adds into dzc (D) and
// the terms' tensors' gradients in grad.
void action_terms_backward(const Net& net, const Dataset& data, const Pass& pass, size_t col, const float* dlogits,
                           float* dzc, float* grad);

}  // namespace hunch::train
