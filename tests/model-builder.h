// Builds complete, valid .hunch models with random weights through the public writer — for
// tests, fixtures and benchmarks that need a model of a given shape without training one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hunch/model.h"
#include "hunch/sequence.h"

namespace hunch_test {

struct ModelSpec {
  hunch::Hyper hyper = small_hyper();  // V, T and the sizes; G comes from gap_edges
  bool        int8   = false;
  uint64_t    seed   = 1;
  std::vector<float> gap_edges = {1, 10, 60, 600, 3600, 86400};
  // With hyper.conversion: the conversion head's goal types (hunch.conversion.goal_types).
  std::vector<std::string> goal_types = {"purchase"};
  // With hyper.session_inputs: the session gap in seconds (hunch.session.gap).
  float session_gap = 1800;
  // > 0: a transition table (hunch/transitions.h) with up to this many random successors per
  // action (hyper.transition_bytes is set from its encoding; whatever it held is ignored).
  uint32_t transition_successors = 0;
  // Non-empty: attribute columns (hunch/attributes.h) named "attr0", "attr1", … with this many
  // values each besides "<none>" ("a<k>v<i>"; numeric columns' edges -inf, 10, 20, …), and an
  // attr.table giving every action but <unk> a random value of each column (hyper.attr_columns
  // and attr_values are set from these; whatever they held is ignored).
  std::vector<uint32_t> attr_sizes;
  std::vector<bool>     attr_numeric;  // per column (missing entries: categorical)
  // Names of actions 1, 2, … (the rest stay "/page/<id>").
  std::vector<std::string> action_names;
  // The names as the tensor vocab.actions.fc (hunch/names.h) instead of hunch.vocab.actions;
  // names 1.. must then be in byte order (aborts otherwise): e.g. V <= 10 with the default names.
  bool front_coded_names = false;
  // A tied head: no head.action.w, the key hunch.head.action.tied = 1 (the head uses emb.action).
  bool tied_head = false;
  // Packed action tables (hunch/packed.h): the file as repack_action_tables(…, true) writes it.
  bool packed_tables = false;
  // The hunch.normalize.* keys (hunch/routes.h): normalize_version with these parameters and rules.
  bool normalize = false;
  uint32_t normalize_version = hunch::kRoutesVersion;
  std::vector<std::string> keep_query, route_rules;
  // Written as the hunch.calibration.* keys unless identity (the default: no keys).
  hunch::Calibration calibration;

  // V 50, T 4, D 16, H 24, A 16, W 8, L 2, NH 2, F 32 (lstm-attn).
  static hunch::Hyper small_hyper();
};

// Serialised model bytes (valid, CRC included).
std::vector<uint8_t> build_model(const ModelSpec& spec);

// The default benchmark shape of the issue: V 3,707, D 64, H 128, A 64, W 32 (lstm-attn) or
// L 2, NH 1, F 64, W 200 (transformer).
ModelSpec default_spec(hunch::Arch arch, bool int8);

// What repack_action_tables may damage in the packed file it writes (tests of the loader's refusals).
struct PackDamage {
  std::string drop_tensor;                // a packed tensor left out
  std::string extra_tensor;               // X also written as an f32 tensor X beside its codes
  std::string key;                        // a key set again after the rest: to key_value (F32_ARRAY) ...
  std::vector<float> key_value;
  bool key_as_u32 = false;                // ... or to the U32 1
  size_t flip_byte = SIZE_MAX;            // this byte of emb.action.q4 set to 0x08 (the unused nibble)
  bool q4_shape = false;                  // emb.action.q4 written one column short
  size_t bias_code = SIZE_MAX;            // this code of head.action.b.u8 set one past its table
};

// The model `bytes` again with emb.action / head.action.w (f32 or int8) as int4 rows and
// head.action.b as u8 codes (packed = true: the tensors X.q4, X.q4.scale, X.u8 and their keys),
// or with those tables as the int8 rows and f32 values the packed file decodes to (packed =
// false: a plain file that must predict bit for bit what the packed one predicts). Aborts on a
// file it cannot read.
std::vector<uint8_t> repack_action_tables(const std::vector<uint8_t>& bytes, bool packed,
                                          const PackDamage& damage = {});

// The model `bytes` again with the f32 tensor `name` changed by edit (aborts when the file does
// not read or has no such f32 tensor).
std::vector<uint8_t> edit_f32_tensor(const std::vector<uint8_t>& bytes, const std::string& name,
                                     const std::function<void(std::vector<float>*)>& edit);

// The fixed event list the fixture goldens were computed from (tests/data/fixtures/*.golden).
std::vector<hunch::Event> fixture_events();

// The goldens: top-10 (id, probability) after fixture_events(), one "id probability" line
// each, computed natively with the reference kernels by tests/gen/make-fixtures.cpp.
std::string golden_text(const hunch::Model& model);

}  // namespace hunch_test
