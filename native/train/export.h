// From a trained network to a .hunch file (docs/format.md): the f32 model, its int8 copy
// (per-row symmetric scales, hunch::quantize_rows) and the atomic write that never leaves a
// half-written model behind.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hunch/error.h"
#include "hunch/format.h"
#include "hunch/names.h"
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

// Copies a parsed model into *out with its action names front-coded (the tensor vocab.actions.fc,
// hunch/names.h) instead of hunch.vocab.actions: ids 1..V-1 renumbered into the names' byte
// order, and every tensor indexed by action id permuted to match (rows of the (V, ·) tensors,
// attr.table's rows, transition.table's rows and successor ids), so the model predicts the same
// names with the same probabilities and no permutation is stored. Saved states of the old file
// do not restore into the new one (other ids, other checksum). Refuses a tensor indexed by
// action id that it does not know how to permute, and a model already front-coded.
Error front_code_names(const hunch::ModelFile& in, hunch::ModelWriter* out);

// Copies a parsed model into *out with its action tables packed (hunch/packed.h, docs/format.md
// "Packed tables"): emb.action and head.action.w (f32 or int8) as int4 rows with a one-byte
// logarithmic row scale, head.action.b as u8 codes into a table of at most 256 values;
// everything else as it is. An int8 table is packed from its dequantised values. One report
// entry per packed tensor (cols 1 for the bias). Refuses a model already packed. Run after front_code_names (which permutes rows of
// f32 / int8 tables only).
Error pack_action_tables(const hunch::ModelFile& in, hunch::ModelWriter* out,
                         std::vector<TensorQuantization>* report);

// Writes bytes to path atomically: a temporary file in the same directory, fsync, rename over
// the target. On any failure the temporary file is removed and an existing file at path is
// left untouched. Temporary files of earlier writers that were killed before their rename
// (named PATH.tmp-PID-XXXXXX, PID no longer running) are removed first.
Error write_file_atomic(const std::string& path, const std::vector<uint8_t>& bytes);

}  // namespace hunch::train
