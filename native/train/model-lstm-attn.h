// The `lstm-attn` architecture of docs/architecture.md: an LSTM whose hidden states attend over
// the last W of themselves (with a recency slope), projected to D for the heads. Trained with
// dropout on the event encoding and on the heads' input.
#pragma once

#include <memory>

#include "train/nn-model.h"

namespace hunch::train {

std::unique_ptr<Net> make_lstm_attn(const NetConfig& c);

}  // namespace hunch::train
