// The loss-weight policy of `hunch train`: which LossWeights a run trains with, from the flags
// the user gave and what the data holds. A head whose weight the user did not set gets 1 when
// the data has a signal for it, else 0: the type head needs event types in the log; the exit
// head needs sessions (--session-gap > 0: with one sequence per user, its end is where the log
// stops, not where the user left) and at least one exit positive. With leave-one-out, the exit
// positives come from sequences too short to evaluate (kept whole as training data): the
// held-out ends of evaluated sequences are never shown to the model.
#pragma once

#include <cstdint>
#include <optional>

#include "train/dataset.h"
#include "train/nn-model.h"

namespace hunch::train {

// What the flags ask of the losses. An unset weight is chosen by loss_weights().
struct LossRequest {
  std::optional<double> type_weight;  // --type-weight
  std::optional<double> exit_weight;  // --exit-weight
  std::optional<double> conversion_weight;  // --conversion-weight
  uint32_t lookahead = 1;             // --lookahead
  float    lookahead_decay = 0.5f;    // --lookahead-decay
  uint32_t sampled_softmax = 0;       // --sampled-softmax
  bool     mask_seen = false;         // --mask-seen
};

// What the policy reads from the data.
struct LossSignals {
  bool     has_types = false;   // some event has a type other than <none> (id 0)
  bool     sessions = false;    // sequences are sessions (session gap > 0), not one per user
  uint64_t exit_positives = 0;  // training samples that end where their sequence ends
  bool     conversion = false;  // the network has a conversion head (goal types, session protocol)
  bool     session_protocol = false;  // --protocol sessions: exit and conversion weigh 3 by default
};

// Reads the signals from a dataset ingested with `session_gap` and trained on windows of
// `max_len` events (training_samples).
LossSignals loss_signals(const Dataset& data, double session_gap, uint32_t max_len);

// The weights to train with: action 1; type and exit as asked, else by the signals (above);
// lookahead, its decay, sampled softmax and mask_seen as asked.
LossWeights loss_weights(const LossRequest& request, const LossSignals& signals);

}  // namespace hunch::train
