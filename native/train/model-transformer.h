// The `transformer` architecture of docs/architecture.md (pre-LN, causal attention limited to
// the last W positions with per-head recency slopes, no absolute positions), trained with
// dropout on the event encoding, the attention output and the feed-forward layer.
#pragma once

#include <memory>

#include "train/nn-model.h"

namespace hunch::train {

std::unique_ptr<Net> make_transformer(const NetConfig& c);

}  // namespace hunch::train
