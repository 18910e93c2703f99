// Model: the weights and hyper-parameters of one .hunch file, validated and immutable after
// load. One Model serves any number of Sequences (sequence.h); it is never written after load,
// so sequences on different threads may share it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hunch/arch.h"
#include "hunch/attributes.h"
#include "hunch/error.h"
#include "hunch/format.h"
#include "hunch/names.h"
#include "hunch/routes.h"

namespace hunch {

// A weight matrix as the layers see it: f32 or int8 with per-row scales, row-major.
struct Matrix {
  uint32_t      rows = 0, cols = 0;
  const float*  f32 = nullptr;     // set when f32
  const int8_t* i8 = nullptr;      // set when int8
  const float*  scales = nullptr;  // int8 per-row scales
  bool is_int8() const { return i8 != nullptr; }
};

struct Vector {  // always f32
  uint32_t     size = 0;
  const float* data = nullptr;
};

struct Bytes {  // a u8 tensor: an encoded table (hunch/transitions.h)
  uint32_t       size = 0;
  const uint8_t* data = nullptr;
};

struct LstmAttnWeights {
  Matrix w_ih, w_hh;  // (4H, D), (4H, H)
  Vector bias;        // (4H)
  Matrix w_q, w_k;    // (A, H)
  Vector recency;     // (1)
  Matrix proj_w;      // (D, 2H)
  Vector proj_b;      // (D)
};

struct TransformerBlock {
  Vector ln1_g, ln1_b, ln2_g, ln2_b;       // (D)
  Matrix w_q, w_k, w_v, w_o;               // (D, D)
  Vector b_q, b_k, b_v, b_o;               // (D)
  Vector recency;                          // (NH)
  Matrix ffn_w1, ffn_w2;                   // (F, D), (D, F)
  Vector ffn_b1, ffn_b2;                   // (F), (D)
};

struct TransformerWeights {
  std::vector<TransformerBlock> blocks;
  Vector final_g, final_b;                 // (D)
};

struct Weights {
  Matrix emb_action, emb_type, emb_gap;    // (V, D), (T, D), (G, D)
  Matrix emb_session_position, emb_session_count;  // (16, D), (8, D), when Hyper::session_inputs
  LstmAttnWeights    lstm;                 // lstm-attn only
  TransformerWeights tf;                   // transformer only
  Matrix head_action;                      // (V, D)
  Vector head_action_b;                    // (V)
  Matrix head_type;                        // (T, D)
  Vector head_type_b;                      // (T)
  Matrix head_exit;                        // (1, D)
  Vector head_exit_b;                      // (1)
  Matrix head_conversion;                  // (1, D), when Hyper::conversion
  Vector head_conversion_b;                // (1)
  Matrix head_exit_x, head_conversion_x;   // (1, D) each, with Hyper::session_inputs: on the input x
  Vector head_copy_gate, head_copy_distance, head_copy_type, head_copy_count;  // (D), (2·16), (2T), (8): Hyper::copy
  Bytes  transition_table;                 // (transition_bytes), with Hyper::transition_bytes
  Vector head_transition_weight;           // (40) one weight per transition bucket
  Matrix emb_attr, head_attr;              // (AV, D) each, with Hyper::attr_columns
  Bytes  attr_table;                       // (2 · V · K): per action, K u16 LE value ids
  Vector head_attr_match;                  // (16 · K): per column, per distance bucket
};

// Calibration of the heads' probabilities, fitted on validation by `hunch train` and stored in
// optional metadata keys (docs/format.md); identity when absent. Binary heads use Platt
// scaling, p = sigmoid(a · logit + b); the type head divides its logits by a temperature.
struct Calibration {
  float exit_a = 1, exit_b = 0;              // hunch.calibration.exit = [a, b]
  float conversion_a = 1, conversion_b = 0;  // hunch.calibration.conversion = [a, b]
  float type_temperature = 1;                // hunch.calibration.type = [temperature]
  bool is_identity() const {
    return exit_a == 1 && exit_b == 0 && conversion_a == 1 && conversion_b == 0 && type_temperature == 1;
  }
};
// Reads the calibration keys (absent: identity). Present keys must have the documented length
// and finite values, with a and the temperature in (0, 1000].
Error read_calibration(const ModelFile& f, Calibration* out);

// The hyper-parameters a model file declares (architecture, vocabulary sizes, the table's
// metadata keys), validated as Model::load does; for tools that work on a file's tensors
// without binding them (quantisation).
Error read_hyper(const ModelFile& f, Hyper* out);

// The action normalisation of hunch.normalize.version / keep_query / rules (docs/format.md);
// off when the version key is absent. Errors name the key and entry.
Error read_routes(const ModelFile& f, Routes* out);

// A counts-only action head (Hyper::action_counts) without attributes scores every action as its
// bias plus the copy and transition terms, which touch at most window + (most successors of a
// row) actions; the rest keep their bias. So predict (k <= kCountHeadTopK) needs only the biases'
// best ids and their exp-sum, computed once at load (docs/architecture.md, "Built: the sparse count head").
constexpr size_t kCountHeadTopK = 64;
struct CountHeadIndex {
  std::vector<uint32_t> top;    // ids 1..V-1 by bias descending, ties lower id first: the best
                                // kCountHeadTopK + max_touched of them (all when fewer)
  float    bias_max = 0;        // the largest of the V biases (<unk> included)
  double   z0 = 0;              // Σ over all V actions of exp(bias − bias_max), hunch_expf terms
  uint32_t max_touched = 0;     // window + an upper bound on any row's successors
  bool built() const { return !top.empty(); }
};

// The tables a packed file stores as codes (hunch/packed.h), decoded at load; owned by the Model.
struct DecodedTables {
  std::vector<std::unique_ptr<int8_t[]>> i8;
  std::vector<std::unique_ptr<float[]>>  f32;
};

class Model {
 public:
  // Copies the bytes into an aligned buffer, reads and validates the container and the
  // architecture (every tensor present with the shape the hyper-parameters imply, vocabulary
  // sizes matching, names unique). On error returns it and leaves *out empty.
  static Error load(const uint8_t* bytes, size_t size, std::unique_ptr<Model>* out,
                    const ReadOptions& options = {});
  static Error load_file(const std::string& path, std::unique_ptr<Model>* out);

  const Hyper&     hyper() const { return hyper_; }
  const Weights&   weights() const { return w_; }
  const ModelFile& file() const { return file_; }
  uint32_t         checksum() const { return file_.crc32; }  // ties saved states to the model

  // Vocabulary. id 0 is <unk> / <none>. action_id returns 0 for an unknown action.
  uint32_t           action_id(const std::string& action) const;
  uint32_t           type_id(const std::string& type) const;
  // The id of an action name as an app pushes it (a page's path and query): mapped to its route
  // by the model's normalisation (routes(), hunch.normalize.*) first, then looked up.
  uint32_t           route_id(std::string_view action) const { return action_id(routes_.apply(action)); }
  // The normalisation the model was trained with (off for a model without hunch.normalize.version).
  const Routes&      routes() const { return routes_; }
  // An action's name by id (< V): from hunch.vocab.actions, or decoded from vocab.actions.fc
  // (hunch/names.h) on each call, so a large vocabulary is never decoded whole at load.
  std::string        action_name(uint32_t id) const { return actions_ ? (*actions_)[id] : actions_fc_.name(id); }
  const std::string& type_name(uint32_t id) const { return (*types_)[id]; }
  // Every action name in id order (a copy; decodes the whole block of a front-coded vocabulary).
  std::vector<std::string>        action_names() const { return actions_ ? *actions_ : actions_fc_.all(); }
  // Whether the names are the front-coded block vocab.actions.fc (ids 1.. in name order).
  bool                            front_coded_names() const { return actions_ == nullptr; }
  const std::vector<std::string>& types() const { return *types_; }
  const std::vector<float>&       gap_edges() const { return gap_edges_; }
  // Type ids that count as conversions (the conversion head's goal); empty without the head.
  const std::vector<uint32_t>&    goal_types() const { return goal_types_; }
  const Calibration&              calibration() const { return calibration_; }
  // Byte offsets of each action's row in transition.table (V + 1; hunch/transitions.h), checked
  // at load; empty without the table.
  const std::vector<uint32_t>&    transition_rows() const { return transition_rows_; }
  // Attributes (Hyper::attr_columns): the columns, their values' ids and names (hunch/attributes.h).
  const AttrIndex& attributes() const { return attrs_; }
  // Action a's value id in column k, from attr.table (checked at load to lie in column k).
  uint32_t action_attr(uint32_t a, uint32_t k) const {
    const uint8_t* p = w_.attr_table.data + 2 * (size_t(a) * hyper_.attr_columns + k);
    return uint32_t(p[0]) | uint32_t(p[1]) << 8;
  }
  // The sparse count head's index (built() only for a counts-only head without attributes whose
  // biases are all finite).
  const CountHeadIndex& count_head() const { return count_head_; }
  // Seconds of inactivity that start a new session (hunch.session.gap); 0 without session inputs.
  double                          session_gap() const { return session_gap_; }
  // Bucket of a gap in seconds (docs/architecture.md); NaN / negative-infinity → 0.
  uint32_t gap_bucket(double prev_time, double now_time) const;

 private:
  Model() = default;
  Error bind();  // fills hyper_, vocab and weights_ from file_, validating as it goes
  Error bind_attributes();  // the attribute metadata and attr.table (Hyper::attr_columns)
  void  index_count_head();  // fills count_head_ (see CountHeadIndex)

  std::unique_ptr<uint8_t[]>                    aligned_;  // 64-aligned copy of the file
  ModelFile                                     file_;
  Hyper                                         hyper_;
  Weights                                       w_;
  // The vocabularies are the metadata arrays of file_ (no copy: at 100k actions a copy is a
  // visible part of load time in the browser); the maps key on views of those strings.
  // A front-coded vocabulary (vocab.actions.fc) is read in place: actions_ stays null, no hash
  // map is built, and a name's id is a binary search (hunch/names.h).
  const std::vector<std::string>*                 actions_ = nullptr;
  FrontCodedNames                                 actions_fc_;
  const std::vector<std::string>*                 types_ = nullptr;
  std::unordered_map<std::string_view, uint32_t>  action_ids_, type_ids_;
  std::vector<float>                            gap_edges_;
  std::vector<uint32_t>                         goal_types_;
  Calibration                                   calibration_;
  double                                        session_gap_ = 0;
  std::vector<uint32_t>                         transition_rows_;
  AttrIndex                                     attrs_;
  Routes                                        routes_;
  CountHeadIndex                                count_head_;
  DecodedTables                                 decoded_;  // packed tables' decoded rows (w_ points into them)
};

}  // namespace hunch
