// The architecture table: for each architecture, every hyper-parameter with its metadata key,
// and every tensor with its name, its shape as a function of the hyper-parameters, the part of
// the network it belongs to and whether it is quantised.
//
// Everything that lays out a model walks this table and nothing else: Model binding
// (core/src/model.cpp), the trainer's parameter registration (native/train/nn-model.cpp), the
// export's metadata (native/train/export.cpp), quantisation (quantize_model) and the random-weight
// test model builder (tests/model-builder.cpp). Adding a tensor, a head or an architecture is
// an entry here plus the code that computes with it (docs/architecture.md, "Adding an
// architecture").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hunch/error.h"

namespace hunch {

enum class Arch : uint32_t { LSTM_ATTN = 0, TRANSFORMER = 1 };
const char* arch_name(Arch a);  // "lstm-attn", "transformer"

// Hyper-parameters. V, T and G come from the vocabularies and the gap edges; the others from
// the metadata keys of the architecture's table (hyper_keys below; docs/format.md lists them).
struct Hyper {
  Arch     arch         = Arch::LSTM_ATTN;
  uint32_t vocab_size   = 0;  // V, actions incl. id 0 = <unk>
  uint32_t type_count   = 0;  // T, event types incl. id 0 = <none>
  uint32_t gap_buckets  = 0;  // G = len(gap_edges) + 2
  uint32_t embed        = 0;  // D
  uint32_t hidden       = 0;  // H (lstm-attn)
  uint32_t attn_size    = 0;  // A (lstm-attn)
  uint32_t window       = 0;  // W, both
  uint32_t layers       = 0;  // L (transformer)
  uint32_t heads        = 0;  // NH (transformer)
  uint32_t ffn          = 0;  // F (transformer)
  // 1 when the model has a conversion head (the metadata key hunch.conversion.goal_types is
  // present): its tensors are in the layout only then, so files written before it still load.
  uint32_t conversion   = 0;
  // 1 when the model reads where each event stands in its session (the metadata key
  // hunch.session.gap is present): the inputs add emb.session_position[position bucket] and
  // emb.session_count[sessions-so-far bucket], sessions split where the gap exceeds that key.
  uint32_t session_inputs = 0;
  // 1 when the action head also scores the actions in the window directly (the metadata key
  // hunch.copy is 1): each distinct action a of the window adds to its logit
  //   head.copy.gate · z + head.copy.distance[distance bucket + CD · same session]
  //   + head.copy.type[type + T · (it is the last event)] + head.copy.count[count bucket]
  // read at a's most recent event in the window (distance, session, type) and from how many of
  // the window's events are a (docs/architecture.md, "Copy"). Repeats (view → cart of one
  // product) then need no embedding.
  uint32_t copy = 0;
  // Wc: how many of the last events the count-like terms read (the copy terms and the attribute
  // match terms): the metadata key hunch.copy.window; absent, W. It may exceed W: these terms keep
  // only ids (12 bytes an event), so a repeat of a product seen 200 events ago still counts
  // while the attention reads the last W. Read it through copy_window_of (0 here means W).
  uint32_t copy_window = 0;
  // > 0 when the model has a transition table of this many bytes (the metadata key
  // hunch.transition.bytes; hunch/transitions.h): after each event, the counted successors of its
  // action get head.transition.weight[their bucket] added to their logits.
  uint32_t transition_bytes = 0;
  // > 0 when events carry attributes (the metadata key hunch.attr.columns is present): K
  // categorical columns (category, brand, a bucketised price) whose values share one id space of
  // attr_values ids (AV, each column's block starting with its "<none>"). Each event's encoding
  // adds emb.attr[its value] per column, each action's logit adds head.attr[its value] · z per
  // column, and attr.table holds every action's values (docs/architecture.md, "Attributes"):
  // a product seen a few times, or never, still gets its category's signal. And every action
  // whose value of column k is a value of one of the window's events gets
  // head.attr.match[16 · k + distance bucket of the most recent such event] (the next product of
  // a session is mostly of a category just viewed: a count-like term, no per-value weight).
  uint32_t attr_columns = 0;
  uint32_t attr_values  = 0;
  // 1 when the action head is counts only (the metadata key hunch.head.action.counts is 1, the
  // trainer's count head): its logits read nothing of z, so head.action.w and head.attr are not
  // in the file and the head's GEMV is skipped: logits = head.action.b + the copy, transition and
  // attribute-match terms. The bytes saved go to a larger transition table.
  uint32_t action_counts = 0;
};

// Wc (Hyper::copy_window): the events the copy and attribute-match terms read.
inline uint32_t copy_window_of(const Hyper& h) { return h.copy_window ? h.copy_window : h.window; }

// Attributes (Hyper::attr_columns): at most this many columns and value ids in all (ids are u16
// in attr.table).
constexpr uint32_t kMaxAttrColumns = 8;
constexpr uint32_t kMaxAttrValues  = 65535;

// Buckets of the session inputs (Hyper::session_inputs): position 1..12 one each, then 13-16,
// 17-24, 25-48, 49+; sessions so far 1..4 one each, then 5-7, 8-12, 13-24, 25+.
constexpr uint32_t kSessionPositionBuckets = 16;
constexpr uint32_t kSessionCountBuckets    = 8;
uint32_t session_position_bucket(uint64_t position);
// Buckets of an event's distance back from the last pushed one (Hyper::copy): 0..7 one each,
// then 8-11, 12-15, 16-23, 24-31, 32-63, 64-127, 128-255, 256+.
constexpr uint32_t kCopyDistanceBuckets = 16;
uint32_t copy_distance_bucket(uint64_t distance);
// Buckets of how many events of the window are one action (Hyper::copy): 1..4 one each, then
// 5-6, 7-9, 10-15, 16+.
constexpr uint32_t kCopyCountBuckets = 8;
uint32_t copy_count_bucket(uint64_t count);  // count >= 1  // position >= 1 (0 is taken as 1)
uint32_t session_count_bucket(uint64_t sessions);     // sessions >= 1

// Limits on hyper-parameters (docs/limits.md), checked at load before any allocation.
constexpr uint32_t kMaxVocab    = 1000000;
constexpr uint32_t kMaxTypes    = 1024;
constexpr uint32_t kMaxGapEdges = 64;
constexpr uint32_t kMaxWidth    = 4096;  // D, H, A, F
constexpr uint32_t kMaxWindow   = 4096;
constexpr uint32_t kMaxLayers   = 16;

// One u32 hyper-parameter stored under a metadata key, with the range a loader accepts.
struct HyperKey {
  const char* key;    // "hunch.embedding_size"
  uint32_t Hyper::*field;
  uint32_t min, max;
};

// The hyper-parameters a symbol in a shape stands for.
// AV: attribute value ids (Hyper::attr_values); AB: attr.table bytes, 2 · V · attr_columns; AK:
// attr_columns.
enum class Sym : uint8_t { ONE, V, T, G, D, H, A, F, NH, SP, SC, CD, CC, TB, TK, AV, AB, AK };
uint32_t sym_value(Sym s, const Hyper& h);

// One dimension of a tensor: factor × a hyper-parameter (4H, 2H, D, …).
struct Dim {
  uint32_t factor;
  Sym      sym;
};

// Which part of the network a tensor belongs to.
enum class Part : uint8_t { EMBEDDING, BODY, HEAD };
const char* part_name(Part p);  // "embedding", "body", "head"

struct Matrix;
struct Vector;
struct Bytes;
struct Weights;

struct TensorSpec {
  const char* name;   // the tensor's name in the file; per-block tensors without "blk.N."
  Dim         rows;
  Dim         cols;   // factor 0: a vector (rank 1, always f32)
  Part        part;
  bool        quantised;  // a matrix stored int8 with per-row scales in a quantised model
  // The trainer may share this tensor's storage with another (weight tying, --tie): that
  // tensor's name, else nullptr. The file holds the partner only (hunch.head.action.tied).
  const char* tied_with;
  // Random-weight models (tests, fixtures, benchmarks) draw it uniform in
  // center ± range / sqrt(range_over) (range_over ONE: ± range): magnitudes like a trained
  // model's, so their softmaxes are neither flat nor saturated.
  float center, range;
  Sym   range_over;
  // Where Model binds the tensor in its Weights (model.h); exactly one is set. `block` is the
  // transformer block for per-block tensors, else 0.
  Matrix* (*matrix)(Weights&, uint32_t block);
  Vector* (*vector)(Weights&, uint32_t block);
  // Set instead of both for a u8 tensor (an encoded table, not trained: the trainer builds it
  // from the data and writes it itself).
  Bytes* (*bytes)(Weights&, uint32_t block) = nullptr;

  bool is_matrix() const { return cols.factor != 0; }
};

struct ArchSpec {
  Arch        arch;
  const char* name;                 // general.architecture
  std::vector<HyperKey>   hypers;   // beyond the shared ones (hyper_keys), in writing order
  std::vector<TensorSpec> body;     // between the embeddings and the blocks
  std::vector<TensorSpec> block;    // repeated `layers` times as "blk.N.<name>"
  std::vector<TensorSpec> final_;   // after the blocks, before the heads
  // Checks across hyper-parameters after every key is in range; a message, or "" when sound.
  std::string (*check)(const Hyper&);
};

const std::vector<ArchSpec>& arch_specs();
const ArchSpec&              arch_spec(Arch a);
const ArchSpec*              find_arch(std::string_view name);  // nullptr when unknown
// "lstm-attn, transformer": the architectures this build knows, for error messages.
std::string                  arch_names();

// Every u32 metadata key of an architecture, shared ones first, in the order writers write them.
std::vector<HyperKey> hyper_keys(Arch a);

// One tensor of a concrete model: the table entry with its name and shape resolved.
struct TensorLayout {
  std::string       name;
  uint32_t          rows = 0, cols = 0;  // cols 0: a vector of `rows`
  uint32_t          block = 0;           // the transformer block of a per-block tensor
  const TensorSpec* spec = nullptr;
  bool is_matrix() const { return cols != 0; }
  std::vector<uint64_t> shape() const;   // (rows, cols) or (rows)
};

// Every tensor of a model with these hyper-parameters, in file order: embeddings, body,
// blocks, final, heads (the session embeddings after the other embeddings when
// Hyper::session_inputs, the conversion head's after the exit head's when Hyper::conversion, then
// with session inputs the binary heads' wide terms head.exit.wx and head.conversion.wx, then
// with Hyper::copy the copy terms head.copy.*, then with Hyper::transition_bytes transition.table
// and head.transition.weight, then with Hyper::attr_columns emb.attr, head.attr, attr.table and
// head.attr.match).
std::vector<TensorLayout> tensor_layout(const Hyper& h);

// Bucket of a time gap in seconds (docs/architecture.md): 0 when either time is not finite,
// else 1 + the number of edges <= the gap (a negative gap counts as 0). The one definition:
// the core at inference and the trainer's ingestion both use it.
uint32_t gap_bucket(const std::vector<float>& edges, double prev_time, double now_time);

}  // namespace hunch
