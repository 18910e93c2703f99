// From a trained network to a .hunch file (docs/format.md): the f32 model, its int8 copy
// (per-row symmetric scales, hunch::quantize_rows) and the atomic write that never leaves a
// half-written model behind.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hunch/error.h"
#include "hunch/format.h"
#include "train/dataset.h"
#include "train/nn-model.h"

namespace hunch::train {

// Architecture, tool version, hyper-parameters, vocabularies, gap edges and every tensor (f32)
// of `net`, with the names and keys of docs/format.md. Training facts are added by the caller.
void write_network(const Net& net, const Dataset& data, hunch::ModelWriter* out);

struct TensorQuantization {
  std::string name;
  uint64_t    rows = 0, cols = 0;
  float       max_error = 0;   // largest |w − q·scale| over the tensor
  float       max_abs = 0;     // largest |w|, to read the error against
};

// Copies a parsed model into *out (metadata included), storing every 2-D f32 tensor as int8 with
// per-row scales; vectors (biases, layer norms, recency) stay f32, int8 tensors are copied.
// One report entry per tensor quantised here.
Error quantize_model(const hunch::ModelFile& in, hunch::ModelWriter* out,
                     std::vector<TensorQuantization>* report);

// Writes bytes to path atomically: a temporary file in the same directory, fsync, rename over
// the target. On any failure the temporary file is removed and an existing file at path is
// left untouched. Temporary files of earlier writers that were killed before their rename
// (named PATH.tmp-PID-XXXXXX, PID no longer running) are removed first.
Error write_file_atomic(const std::string& path, const std::vector<uint8_t>& bytes);

}  // namespace hunch::train
