// Training checkpoints: everything the training loop (trainer.cpp) needs to go on after the
// last completed epoch as if it had never stopped — the weights, the best epoch's weights,
// Adam's moments, the step and epoch counters, the early-stopping and learning-rate state and
// the epoch log. A run resumed from one gives the result of the uninterrupted run (the shuffles
// and dropout draws derive from the seed, the epoch and the step, not from a running stream).
//
// File: "HNCK", version (u32), then the fields in order (little-endian, lengths before arrays),
// then the CRC32 of everything before it. Written atomically (write_file_atomic); read strictly
// (every length checked against the bytes left, the CRC, the version, and the run's
// fingerprint: a checkpoint of another log or other options is refused, not continued).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hunch/error.h"
#include "train/collective.h"
#include "train/nn.h"
#include "train/privacy.h"
#include "train/trainer.h"

namespace hunch::train {

// 2: phase 3 (the count head) and its result fields; 3: the state of a differentially private run
constexpr uint32_t kCheckpointVersion = 3;

struct TrainCheckpoint {
  uint64_t fingerprint = 0;  // checkpoint_fingerprint() of the run that wrote it
  uint32_t phase = 1;        // the training loop's phase (trainer.cpp: 2 = per-action weights frozen, 3 = the count head)
  uint32_t epoch = 0;        // the last completed (validated) epoch
  uint8_t  phase_ended = 0;  // early stopping ended the phase after it
  uint64_t step = 0;
  float    lr_scale = 1;
  uint32_t bad_epochs = 0;
  double   best_score = -1, train_seconds = 0;
  std::vector<double> epoch_seconds;
  Buffer   params, best;
  Buffer   adam_m, adam_v;
  uint64_t adam_steps = 0;
  std::vector<Adam::Scaled> adam_scaled;
  TrainResult result;  // the log so far and the best epoch's figures (the action start is refitted)
  // A differentially private run (TrainOptions::dp): the accountant's steps so far and the users
  // sampled and clipped, so that ε counts every step of the whole run; and the count start's
  // release (its noised values; null without one), which a resumed run reuses: drawing it again
  // would release the counts a second time. Its table's `counted` is left empty (the reader sizes
  // it to the data: all zero under DP). No secret is in the file: the noise's seed is not kept.
  // The noise multiplier and the planned steps are the run's plan: a resumed run must keep them
  // (another --epochs would change σ, and the accountant's sum assumes one σ for every step).
  bool     dp = false;
  uint64_t dp_steps = 0, dp_users_seen = 0, dp_users_clipped = 0, dp_planned_steps = 0;
  double   dp_sigma = 0;
  std::shared_ptr<const DpCounts> dp_release;
};

// What must match for a checkpoint to continue a run: the data, the network's shape and the
// options that change the result (not --epochs, --time-budget, --threads or the process count).
// The network's windows (W, Wc) count too: they change what it computes, not its parameters.
uint64_t checkpoint_fingerprint(const Dataset& data, const std::vector<Sample>& samples, const TrainOptions& opt,
                                size_t params, const hunch::Hyper& hyper);

std::vector<uint8_t> encode_checkpoint(const TrainCheckpoint& c);
// `name` is used in messages ("run.ckpt: truncated at byte 4120 (reading adam_m)").
Error decode_checkpoint(const std::string& name, const std::vector<uint8_t>& bytes, TrainCheckpoint* out);

// The whole file (at most 16 GiB), or an Error naming it.
Error read_checkpoint_file(const std::string& path, std::vector<uint8_t>* bytes);

// --resume across the processes of a run (collective.h): whether rank 0 finds the checkpoint at
// `path` decides for every rank (*found); then every rank reads and decodes it, and an Error on
// any rank is an Error on all (a rank that cannot see the file, as when the path is not on a
// shared file system, would otherwise train afresh beside ranks that resumed). One process: the
// file's existence, then read_checkpoint_file and decode_checkpoint.
Error read_checkpoint_agreed(Collective& world, const std::string& path, bool* found, TrainCheckpoint* out);

}  // namespace hunch::train
