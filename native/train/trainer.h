// The training loop: leave-one-out samples, shuffled batches of sequences split over threads,
// Adam with warm-up and gradient clipping, validation NDCG@10 after every epoch (eval.h),
// early stopping that keeps the best epoch's weights, and a clean stop on request (Ctrl-C).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hunch/error.h"
#include "train/dataset.h"
#include "train/eval.h"
#include "train/action-start.h"
#include "train/nn-model.h"
#include "train/sessions.h"
#include "train/collective.h"
#include "train/secret-rng.h"

namespace hunch::train {

struct DpCounts;  // privacy.h

struct TrainOptions {
  NetConfig   net;              // arch and sizes; vocab/types/gaps are taken from the data
  uint32_t    epochs = 200;
  uint32_t    batch = 128;      // sequences per step
  uint32_t    max_len = 200;    // training input: the last max_len positions (as the reference)
  uint32_t    patience = 5;     // epochs without a better validation score (EpochLog); 0 = never stop
  uint32_t    threads = 2;
  uint32_t    warmup_steps = 50;  // linear learning-rate warm-up
  float       lr = 3e-3f;         // 1e-3 (the reference's) sits on the popularity plateau for epochs
  uint32_t    lr_plateau = 0;   // halve the learning rate after this many epochs without a better
                                // validation NDCG@10 (again after as many more); 0 = constant
  float       clip = 5.0f;      // global gradient-norm clip; 0 = off
  float       event_drop = 0.0f;  // probability of removing each input event while training (prepare_pass)
  bool        random_crops = false;  // a random max_len window per epoch, not always the last (random_crops)
  LossWeights weights;
  uint64_t    seed = 42;
  double      time_budget = 0;  // seconds of training; 0 = none (checked after each epoch)
  bool        exclude_seen = false;  // validation ranking (PROTOCOL.md §6)
  bool        progress = true;  // progress bar on stderr when it is a terminal
  // The network's per-action weights (emb.action, head.action.w, head.action.b): trained, frozen
  // at the counts' start, or (AUTO, with the counts' start) trained, and when no epoch reaches
  // the start's validation NDCG@10, trained again from the start with them frozen, keeping the
  // better of the two runs. On logs whose actions are seen a handful of times each they learn
  // the training events by heart within an epoch (Taobao: 0.132 at the start, 0.112 after one
  // epoch, 0.078 after three), while the rest of the network still has the exit, conversion and
  // type heads and the copy gate to learn.
  // COUNT: the count head from the start (ActionStart; TrainResult::count_head), no network in
  // the action logits.
  enum class ItemWeights { AUTO, TRAIN, FREEZE, COUNT };
  ItemWeights item_weights = ItemWeights::AUTO;
  // Set: the session protocol (sessions.h): samples from the training sessions, validation
  // NDCG@10 over the validation sessions' points. Null: leave-one-out.
  const SessionSplit* sessions = nullptr;
  // Users held out of training (privacy.h: holdout_user with this fraction and seed): their
  // samples are dropped, so they are the membership attack's non-members (hunch eval --membership).
  double   holdout_users = 0;
  uint64_t holdout_seed = 0;
  // Differentially private training (DP-SGD, one user as the privacy unit), on when epsilon > 0:
  // each step samples every training user with probability q = batch / users (Poisson), clips
  // each sampled user's gradient (of the mean of their own losses) to L2 norm `clip`, adds
  // N(0, σ²·clip²) to every coordinate of the sum and divides by q·users; σ is the smallest
  // noise for which the RDP accountant (privacy.h) gives ε <= epsilon at delta after the planned
  // epochs × ceil(users / batch) steps, and training stops when those steps are done. The noise
  // and the sampling draw from the operating system's random source, not from `seed` (which the
  // model file records). The global gradient clip (clip above) does not apply.
  // The count-based start under DP: with `counts` (V noised action counts of the training
  // users, privacy.h dp_counts, released with noise multiplier count_sigma; the transition
  // table in net's config is the same release's) it runs on the HELD-OUT users' training
  // columns with the biases from the counts (fit_action_start), and the accountant composes the
  // count release with DP-SGD's steps: σ is searched so that both together spend epsilon.
  // Without counts the count-based start and so AUTO's later phases are off.
  struct Dp {
    double epsilon = 0;
    double delta = 0;  // 0: 1 / training users
    double clip = 1;
    double count_sigma = 0, count_clip = 0;  // the count release (0: none)
    std::vector<double> counts;
    // The release itself (privacy.h dp_counts), which checkpoints keep for a resumed run.
    std::shared_ptr<const DpCounts> release;
  } dp;
  // Validation reads only these (null: everything the protocol validates on): the session
  // protocol's split with only some users' validation sessions (privacy.h:
  // holdout_validation_split), or leave-one-out's sequences with a nonzero entry. hunch train
  // sets both to the held-out users under DP, so no training user's event is read outside DP-SGD.
  const SessionSplit* valid_sessions = nullptr;
  const std::vector<uint8_t>* valid_sequences = nullptr;
  // Set: the processes of a data-parallel run (collective.h). Every rank holds the same data
  // and options; each batch is split into size × threads parts and this rank computes parts
  // [rank × threads, (rank + 1) × threads); target counts, gradients and losses are summed
  // across ranks, and stop, time-budget and early-stopping decisions agree. Null: one process.
  Collective* collective = nullptr;
  // Checkpoints (checkpoint.h): after every checkpoint_every-th validated epoch the run's state
  // goes to `checkpoint` (atomically; rank 0 writes). With resume and an existing checkpoint
  // of this run (same data and result-changing options), training goes on after its epoch and
  // ends as the uninterrupted run would have.
  std::string checkpoint;
  uint32_t    checkpoint_every = 0;  // 0 = no checkpoints
  bool        resume = false;
};

// What differentially private training spent (TrainResult::dp; zeros when it was off).
struct DpSpent {
  double   epsilon = 0;        // ε after the steps taken (RDP accountant, improved conversion)
  double   epsilon_target = 0, delta = 0, sigma = 0, clip = 0, sample_rate = 0;
  uint64_t steps = 0, planned_steps = 0, users = 0;
  double   clipped_fraction = 0;  // of the per-user gradients, over every step
  double   users_per_step = 0;    // the users sampled, a mean over the steps (about q · users)
  bool     budget_spent = false;  // stopped because the planned steps were done
  // The count release composed into epsilon (TrainOptions::Dp::counts; 0 without): its noise
  // multiplier and clip, and what each part would spend alone (they compose to less than the sum).
  double   count_sigma = 0, count_clip = 0, epsilon_counts = 0, epsilon_sgd = 0;
};

struct EpochLog {
  uint32_t epoch = 0;
  double   loss = 0;            // weighted training loss, mean over the epoch's targets
  double   seconds = 0;         // training wall time (validation excluded)
  double   events_per_s = 0;
  double   valid_ndcg_10 = 0, valid_hr_10 = 0;
  // Session protocol: the validation sessions' exit and conversion AUC (NaN when not scored),
  // and the epoch's selection score, NDCG@10 + the AUCs scored (leave-one-out: NDCG@10).
  double   valid_exit_auc = NAN, valid_conversion_auc = NAN;
  double   valid_score = 0;
  double   valid_seconds = 0;
  float    lr = 0;              // learning rate at the end of the epoch (after warm-up)
  bool     partial = false;     // stopped mid-epoch (not validated)
};

struct TrainResult {
  std::vector<EpochLog> log;
  uint32_t best_epoch = 0;      // 0 when no epoch completed
  double   best_valid_ndcg_10 = 0, best_valid_hr_10 = 0;
  double   best_valid_exit_auc = NAN, best_valid_conversion_auc = NAN, best_valid_score = 0;
  bool     interrupted = false, early_stopped = false, out_of_time = false;
  double   seconds_per_epoch = 0;  // median over complete epochs
  uint64_t train_samples = 0, train_positions = 0;
  ActionStart action_start;  // what the count-based start fitted (columns 0: it did not run)
  // Validation NDCG@10 of the counts' start (NaN when not measured), and whether the per-action
  // weights were frozen (TrainOptions::item_weights): from the start, or after epoch 1.
  double   start_valid_ndcg_10 = NAN;
  double   best_free_valid_ndcg_10 = -1;  // the best epoch's with the per-action weights training
  bool     items_frozen = false;
  uint32_t items_frozen_after = 0;  // the last epoch before they were frozen (0: from the start)
  // The count head (ActionStart's ranking refinement, TrainOptions::item_weights AUTO): its
  // validation NDCG@10 (NaN when not measured), the best NDCG@10 of any epoch before it, and
  // whether it was trained (phase 3: when no epoch reached it, the other heads train on a network
  // whose action logits are the counts' alone), after which epoch.
  double   count_valid_ndcg_10 = NAN;
  double   count_valid_ndcg_ascent = NAN;  // the ascent's own, before the alternatives were validated
  double   best_network_valid_ndcg_10 = -1;
  bool     count_head = false;
  uint32_t count_head_after = 0;
  // The kept epoch is the count head's: the network's config then says so
  // (hyper.action_counts, the count head's table), and the export writes its file.
  bool     ships_count_head = false;
  uint32_t resumed_after = 0;       // TrainOptions::resume: the checkpoint's epoch (0: a fresh run)
  uint32_t checkpoints_written = 0;
  DpSpent  dp;
  uint64_t holdout_samples = 0;  // samples dropped as the held-out users' (TrainOptions::holdout_users)
};

// Trains *net on data. On return net holds the weights of the best validated epoch.
// on_epoch (optional) is called after every epoch, e.g. to print the line.
Error train(const Dataset& data, const TrainOptions& options, Net* net, TrainResult* result,
            const std::function<void(const EpochLog&, const TrainResult&)>& on_epoch = {});

// Training samples (PROTOCOL.md §8): a sequence of n >= 3 events gives input = train[:-1]
// with targets train[1:], train = [0, n-2), cut to the last max_len positions; a shorter
// sequence is training data whole (its end is a real end: exit label 1).
std::vector<Sample> training_samples(const Dataset& data, uint32_t max_len);

// For one epoch (TrainOptions::random_crops): each sample whose training part is longer than its
// window gets a window of the same length ending at a uniformly drawn position instead of the
// last one, so over the epochs the whole training part is learnt from, not only its last
// max_len events. Never reaches a validation or test event; drawn from (seed, epoch, sample id).
void random_crops(std::vector<Sample>* samples, uint64_t seed, uint32_t epoch);

// A scorer for eval.h over the f32 network (full history, no dropout): what the exported
// file computes. Batches the sequences of evaluate()'s work chunks.
ScoreFn net_scorer(const Net& net, const Dataset& data, unsigned threads);

// The session protocol's scorer over the f32 network: one forward pass over the sequence up to
// its last point, the heads at each point (raw logits included, for calibration).
SessionScoreFn net_session_scorer(const Net& net, const Dataset& data, unsigned threads);

// Validation NDCG@10 / HR@10 of the network (eval.h's ranking, no baselines).
// only (optional): validate only the sequences with a nonzero entry. collective: shared across
// processes (EvalOptions::collective).
Error validate(const Net& net, const Dataset& data, unsigned threads, bool exclude_seen,
               double* ndcg_10, double* hr_10, const std::vector<uint8_t>* only = nullptr,
               Collective* collective = nullptr);

// DP-SGD's pieces (TrainOptions::dp). One user's gradient: a pass over that user's samples
// alone (dropout drawn from seed), the gradient of the mean of their own losses (each head's
// sum over their targets / their target count, weighted as the batch loss) into *g
// (overwritten), their summed losses added to *loss; false (g untouched) when they have no
// target. Then the factor min(1, clip / ‖g‖₂) that clips one user's gradient, and
// g ← (g + N(0, stddev²) per coordinate) · scale, drawn from rng.
bool  user_gradient(const Net& net, const Dataset& data, Pass& pass, const std::vector<Sample>& samples,
                    const LossWeights& w, uint64_t seed, float event_drop, Buffer* g, LossTotals* loss);
float clip_scale(const Buffer& g, float clip);
void  add_dp_noise(Buffer& g, double stddev, double scale, SecretRng& rng);

// Asks a running train() to stop after the current batch (signal-safe).
void request_stop();
void clear_stop();
bool stop_requested();

}  // namespace hunch::train
