// The architecture table (hunch/arch.h). docs/architecture.md says what each tensor computes;
// docs/format.md how it is stored.
#include "hunch/arch.h"

#include <cmath>
#include <cstdlib>

#include "hunch/model.h"
#include "hunch/transitions.h"

namespace hunch {

namespace {

constexpr Dim kOne{1, Sym::ONE};
constexpr Dim kNone{0, Sym::ONE};  // the columns of a vector
constexpr Dim dim(uint32_t factor, Sym s) { return Dim{factor, s}; }
constexpr Dim dim(Sym s) { return Dim{1, s}; }

// Binding slots: where each tensor lands in Model's Weights.
#define HUNCH_MATRIX(expr) [](Weights& w, uint32_t b) -> Matrix* { (void)b; return &(expr); }, nullptr
#define HUNCH_VECTOR(expr) nullptr, [](Weights& w, uint32_t b) -> Vector* { (void)b; return &(expr); }

// Shared by every architecture: the event encoding in front, the three heads behind.
const std::vector<TensorSpec>& embeddings() {
  static const std::vector<TensorSpec> t = {
      {"emb.action", dim(Sym::V), dim(Sym::D), Part::EMBEDDING, true, nullptr, 0.f, 1.0f, Sym::ONE,
       HUNCH_MATRIX(w.emb_action)},
      {"emb.type", dim(Sym::T), dim(Sym::D), Part::EMBEDDING, true, nullptr, 0.f, 0.5f, Sym::ONE,
       HUNCH_MATRIX(w.emb_type)},
      {"emb.gap", dim(Sym::G), dim(Sym::D), Part::EMBEDDING, true, nullptr, 0.f, 0.5f, Sym::ONE,
       HUNCH_MATRIX(w.emb_gap)},
  };
  return t;
}

// The action head's matrix: absent when the head is counts only (Hyper::action_counts).
const std::vector<TensorSpec>& action_matrix() {
  static const std::vector<TensorSpec> t = {
      {"head.action.w", dim(Sym::V), dim(Sym::D), Part::HEAD, true, "emb.action", 0.f, 1.0f, Sym::ONE,
       HUNCH_MATRIX(w.head_action)},
  };
  return t;
}

const std::vector<TensorSpec>& heads() {
  static const std::vector<TensorSpec> t = {
      {"head.action.b", dim(Sym::V), kNone, Part::HEAD, false, nullptr, 0.f, 0.5f, Sym::ONE,
       HUNCH_VECTOR(w.head_action_b)},
      {"head.type.w", dim(Sym::T), dim(Sym::D), Part::HEAD, true, nullptr, 0.f, 0.5f, Sym::ONE,
       HUNCH_MATRIX(w.head_type)},
      {"head.type.b", dim(Sym::T), kNone, Part::HEAD, false, nullptr, 0.f, 0.1f, Sym::ONE,
       HUNCH_VECTOR(w.head_type_b)},
      {"head.exit.w", kOne, dim(Sym::D), Part::HEAD, true, nullptr, 0.f, 0.3f, Sym::ONE,
       HUNCH_MATRIX(w.head_exit)},
      {"head.exit.b", kOne, kNone, Part::HEAD, false, nullptr, -1.f, 0.1f, Sym::ONE,
       HUNCH_VECTOR(w.head_exit_b)},
  };
  return t;
}

// Optional (Hyper::session_inputs): where the event stands in its session and in the user's
// sessions, added to the event encoding like the type and gap embeddings.
const std::vector<TensorSpec>& session_embeddings() {
  static const std::vector<TensorSpec> t = {
      {"emb.session_position", dim(Sym::SP), dim(Sym::D), Part::EMBEDDING, true, nullptr, 0.f, 0.5f, Sym::ONE,
       HUNCH_MATRIX(w.emb_session_position)},
      {"emb.session_count", dim(Sym::SC), dim(Sym::D), Part::EMBEDDING, true, nullptr, 0.f, 0.5f, Sym::ONE,
       HUNCH_MATRIX(w.emb_session_count)},
  };
  return t;
}

// Optional (Hyper::conversion): P(a goal event follows in this session), a logistic head on z as
// the exit head.
const std::vector<TensorSpec>& conversion_head() {
  static const std::vector<TensorSpec> t = {
      {"head.conversion.w", kOne, dim(Sym::D), Part::HEAD, true, nullptr, 0.f, 0.3f, Sym::ONE,
       HUNCH_MATRIX(w.head_conversion)},
      {"head.conversion.b", kOne, kNone, Part::HEAD, false, nullptr, -2.f, 0.1f, Sym::ONE,
       HUNCH_VECTOR(w.head_conversion_b)},
  };
  return t;
}

// Optional (Hyper::session_inputs): the binary heads also read the event's context encoding (its
// type, gap and session embeddings, without the action's), a "wide" linear term beside z: what the
// event and its place in the session say about leaving or buying reaches the heads whatever the
// body makes of it.
const std::vector<TensorSpec>& wide_exit_head() {
  static const std::vector<TensorSpec> t = {
      {"head.exit.wx", kOne, dim(Sym::D), Part::HEAD, true, nullptr, 0.f, 0.3f, Sym::ONE, HUNCH_MATRIX(w.head_exit_x)},
  };
  return t;
}
const std::vector<TensorSpec>& wide_conversion_head() {
  static const std::vector<TensorSpec> t = {
      {"head.conversion.wx", kOne, dim(Sym::D), Part::HEAD, true, nullptr, 0.f, 0.3f, Sym::ONE,
       HUNCH_MATRIX(w.head_conversion_x)},
  };
  return t;
}

// Optional (Hyper::copy): the action head's copy terms, a score for every action in the window
// from where its most recent event stands (distance back, same session or not, its type), how
// often it is there, and a gate on z.
const std::vector<TensorSpec>& copy_head() {
  static const std::vector<TensorSpec> t = {
      {"head.copy.gate", dim(Sym::D), kNone, Part::HEAD, false, nullptr, 0.f, 0.1f, Sym::ONE,
       HUNCH_VECTOR(w.head_copy_gate)},
      {"head.copy.distance", dim(2, Sym::CD), kNone, Part::HEAD, false, nullptr, 0.5f, 0.5f, Sym::ONE,
       HUNCH_VECTOR(w.head_copy_distance)},
      {"head.copy.type", dim(2, Sym::T), kNone, Part::HEAD, false, nullptr, 0.f, 0.3f, Sym::ONE,
       HUNCH_VECTOR(w.head_copy_type)},
      {"head.copy.count", dim(Sym::CC), kNone, Part::HEAD, false, nullptr, 0.f, 0.3f, Sym::ONE,
       HUNCH_VECTOR(w.head_copy_count)},
  };
  return t;
}

// Optional (Hyper::transition_bytes): the counted successors of each action (hunch/transitions.h)
// and the learned weight of each of their buckets.
const std::vector<TensorSpec>& transition_head() {
  static const std::vector<TensorSpec> t = {
      {"transition.table", dim(Sym::TB), kNone, Part::HEAD, false, nullptr, 0.f, 0.f, Sym::ONE, nullptr, nullptr,
       [](Weights& w, uint32_t) -> Bytes* { return &w.transition_table; }},
      {"head.transition.weight", dim(Sym::TK), kNone, Part::HEAD, false, nullptr, 0.5f, 0.5f, Sym::ONE,
       HUNCH_VECTOR(w.head_transition_weight)},
  };
  return t;
}

std::string check_nothing(const Hyper&) { return ""; }

std::string check_transformer(const Hyper& h) {
  if (h.embed % h.heads)
    return format_message("hunch.transformer.heads = %u does not divide hunch.embedding_size = %u",
                          h.heads, h.embed);
  return "";
}

std::vector<ArchSpec> make_specs() {
  const Part B = Part::BODY;
  std::vector<ArchSpec> s;

  ArchSpec lstm;
  lstm.arch = Arch::LSTM_ATTN;
  lstm.name = "lstm-attn";
  lstm.hypers = {{"hunch.lstm.hidden_size", &Hyper::hidden, 1, kMaxWidth},
                 {"hunch.attention.size", &Hyper::attn_size, 1, kMaxWidth}};
  lstm.body = {
      {"lstm.w_ih", dim(4, Sym::H), dim(Sym::D), B, true, nullptr, 0.f, 1.f, Sym::D, HUNCH_MATRIX(w.lstm.w_ih)},
      {"lstm.w_hh", dim(4, Sym::H), dim(Sym::H), B, true, nullptr, 0.f, 1.f, Sym::H, HUNCH_MATRIX(w.lstm.w_hh)},
      {"lstm.bias", dim(4, Sym::H), kNone, B, false, nullptr, 0.f, 0.1f, Sym::ONE, HUNCH_VECTOR(w.lstm.bias)},
      {"attn.w_q", dim(Sym::A), dim(Sym::H), B, true, nullptr, 0.f, 1.f, Sym::H, HUNCH_MATRIX(w.lstm.w_q)},
      {"attn.w_k", dim(Sym::A), dim(Sym::H), B, true, nullptr, 0.f, 1.f, Sym::H, HUNCH_MATRIX(w.lstm.w_k)},
      {"attn.recency", kOne, kNone, B, false, nullptr, 0.05f, 0.01f, Sym::ONE, HUNCH_VECTOR(w.lstm.recency)},
      {"proj.w", dim(Sym::D), dim(2, Sym::H), B, true, nullptr, 0.f, 1.f, Sym::H, HUNCH_MATRIX(w.lstm.proj_w)},
      {"proj.b", dim(Sym::D), kNone, B, false, nullptr, 0.f, 0.1f, Sym::ONE, HUNCH_VECTOR(w.lstm.proj_b)},
  };
  lstm.check = check_nothing;
  s.push_back(lstm);

  ArchSpec tf;
  tf.arch = Arch::TRANSFORMER;
  tf.name = "transformer";
  tf.hypers = {{"hunch.transformer.layers", &Hyper::layers, 1, kMaxLayers},
               {"hunch.transformer.heads", &Hyper::heads, 1, kMaxWidth},
               {"hunch.transformer.ffn_size", &Hyper::ffn, 1, kMaxWidth}};
#define HUNCH_BLOCK_M(field) HUNCH_MATRIX(w.tf.blocks[b].field)
#define HUNCH_BLOCK_V(field) HUNCH_VECTOR(w.tf.blocks[b].field)
  tf.block = {
      {"ln1.g", dim(Sym::D), kNone, B, false, nullptr, 1.f, 0.1f, Sym::ONE, HUNCH_BLOCK_V(ln1_g)},
      {"ln1.b", dim(Sym::D), kNone, B, false, nullptr, 0.f, 0.1f, Sym::ONE, HUNCH_BLOCK_V(ln1_b)},
      {"ln2.g", dim(Sym::D), kNone, B, false, nullptr, 1.f, 0.1f, Sym::ONE, HUNCH_BLOCK_V(ln2_g)},
      {"ln2.b", dim(Sym::D), kNone, B, false, nullptr, 0.f, 0.1f, Sym::ONE, HUNCH_BLOCK_V(ln2_b)},
      {"attn.w_q", dim(Sym::D), dim(Sym::D), B, true, nullptr, 0.f, 1.f, Sym::D, HUNCH_BLOCK_M(w_q)},
      {"attn.w_k", dim(Sym::D), dim(Sym::D), B, true, nullptr, 0.f, 1.f, Sym::D, HUNCH_BLOCK_M(w_k)},
      {"attn.w_v", dim(Sym::D), dim(Sym::D), B, true, nullptr, 0.f, 1.f, Sym::D, HUNCH_BLOCK_M(w_v)},
      {"attn.w_o", dim(Sym::D), dim(Sym::D), B, true, nullptr, 0.f, 1.f, Sym::D, HUNCH_BLOCK_M(w_o)},
      {"attn.b_q", dim(Sym::D), kNone, B, false, nullptr, 0.f, 0.05f, Sym::ONE, HUNCH_BLOCK_V(b_q)},
      {"attn.b_k", dim(Sym::D), kNone, B, false, nullptr, 0.f, 0.05f, Sym::ONE, HUNCH_BLOCK_V(b_k)},
      {"attn.b_v", dim(Sym::D), kNone, B, false, nullptr, 0.f, 0.05f, Sym::ONE, HUNCH_BLOCK_V(b_v)},
      {"attn.b_o", dim(Sym::D), kNone, B, false, nullptr, 0.f, 0.05f, Sym::ONE, HUNCH_BLOCK_V(b_o)},
      {"attn.recency", dim(Sym::NH), kNone, B, false, nullptr, 0.05f, 0.04f, Sym::ONE, HUNCH_BLOCK_V(recency)},
      {"ffn.w1", dim(Sym::F), dim(Sym::D), B, true, nullptr, 0.f, 1.f, Sym::D, HUNCH_BLOCK_M(ffn_w1)},
      {"ffn.b1", dim(Sym::F), kNone, B, false, nullptr, 0.f, 0.05f, Sym::ONE, HUNCH_BLOCK_V(ffn_b1)},
      {"ffn.w2", dim(Sym::D), dim(Sym::F), B, true, nullptr, 0.f, 1.f, Sym::F, HUNCH_BLOCK_M(ffn_w2)},
      {"ffn.b2", dim(Sym::D), kNone, B, false, nullptr, 0.f, 0.05f, Sym::ONE, HUNCH_BLOCK_V(ffn_b2)},
  };
#undef HUNCH_BLOCK_M
#undef HUNCH_BLOCK_V
  tf.final_ = {
      {"final_ln.g", dim(Sym::D), kNone, B, false, nullptr, 1.f, 0.1f, Sym::ONE, HUNCH_VECTOR(w.tf.final_g)},
      {"final_ln.b", dim(Sym::D), kNone, B, false, nullptr, 0.f, 0.1f, Sym::ONE, HUNCH_VECTOR(w.tf.final_b)},
  };
  tf.check = check_transformer;
  s.push_back(tf);
  return s;
}

// Optional (Hyper::attr_columns): attribute embeddings added to the event encoding, their output
// vectors added to every action's head row through its attributes, and the action → attributes
// table (u16 little-endian value ids, V rows of K columns) that says which.
const std::vector<TensorSpec>& attribute_inputs() {
  static const std::vector<TensorSpec> t = {
      {"emb.attr", dim(Sym::AV), dim(Sym::D), Part::EMBEDDING, true, nullptr, 0.f, 0.5f, Sym::ONE,
       HUNCH_MATRIX(w.emb_attr)},
  };
  return t;
}
// head.attr: absent when the action head is counts only (Hyper::action_counts).
const std::vector<TensorSpec>& attribute_head() {
  static const std::vector<TensorSpec> t = {
      {"head.attr", dim(Sym::AV), dim(Sym::D), Part::HEAD, true, nullptr, 0.f, 0.5f, Sym::ONE,
       HUNCH_MATRIX(w.head_attr)},
  };
  return t;
}
const std::vector<TensorSpec>& attribute_tensors() {
  static const std::vector<TensorSpec> t = {
      {"attr.table", dim(Sym::AB), kNone, Part::EMBEDDING, false, nullptr, 0.f, 0.f, Sym::ONE, nullptr, nullptr,
       [](Weights& w, uint32_t) -> Bytes* { return &w.attr_table; }},
      {"head.attr.match", dim(kCopyDistanceBuckets, Sym::AK), kNone, Part::HEAD, false, nullptr, 0.5f, 0.5f, Sym::ONE,
       HUNCH_VECTOR(w.head_attr_match)},
  };
  return t;
}

#undef HUNCH_MATRIX
#undef HUNCH_VECTOR

void append(std::vector<TensorLayout>* out, const std::vector<TensorSpec>& specs, const Hyper& h,
            const std::string& prefix, uint32_t block) {
  for (const TensorSpec& t : specs) {
    TensorLayout l;
    l.name = prefix + t.name;
    l.rows = t.rows.factor * sym_value(t.rows.sym, h);
    l.cols = t.cols.factor * sym_value(t.cols.sym, h);
    l.block = block;
    l.spec = &t;
    out->push_back(std::move(l));
  }
}

}  // namespace

uint32_t sym_value(Sym s, const Hyper& h) {
  switch (s) {
    case Sym::ONE: return 1;
    case Sym::V: return h.vocab_size;
    case Sym::T: return h.type_count;
    case Sym::G: return h.gap_buckets;
    case Sym::D: return h.embed;
    case Sym::H: return h.hidden;
    case Sym::A: return h.attn_size;
    case Sym::F: return h.ffn;
    case Sym::NH: return h.heads;
    case Sym::SP: return kSessionPositionBuckets;
    case Sym::SC: return kSessionCountBuckets;
    case Sym::CD: return kCopyDistanceBuckets;
    case Sym::CC: return kCopyCountBuckets;
    case Sym::TB: return h.transition_bytes;
    case Sym::TK: return kTransitionBuckets;
    case Sym::AV: return h.attr_values;
    case Sym::AB: return 2 * h.vocab_size * h.attr_columns;
    case Sym::AK: return h.attr_columns;
  }
  return 0;
}

const char* part_name(Part p) {
  switch (p) {
    case Part::EMBEDDING: return "embedding";
    case Part::BODY: return "body";
    case Part::HEAD: return "head";
  }
  return "?";
}

const std::vector<ArchSpec>& arch_specs() {
  static const std::vector<ArchSpec> specs = make_specs();
  return specs;
}

const ArchSpec& arch_spec(Arch a) {
  for (const ArchSpec& s : arch_specs())
    if (s.arch == a) return s;
  // Unreachable (tests/core/test-arch.cpp): an Arch without an entry is a programming error, and
  // binding another architecture's layout would be worse than stopping.
  std::abort();
}

const ArchSpec* find_arch(std::string_view name) {
  for (const ArchSpec& s : arch_specs())
    if (name == s.name) return &s;
  return nullptr;
}

std::string arch_names() {
  std::string r;
  for (const ArchSpec& s : arch_specs()) r += (r.empty() ? "" : ", ") + std::string(s.name);
  return r;
}

const char* arch_name(Arch a) { return arch_spec(a).name; }

std::vector<HyperKey> hyper_keys(Arch a) {
  std::vector<HyperKey> keys = {{"hunch.embedding_size", &Hyper::embed, 1, kMaxWidth},
                                {"hunch.attention.window", &Hyper::window, 1, kMaxWindow}};
  for (const HyperKey& k : arch_spec(a).hypers) keys.push_back(k);
  return keys;
}

std::vector<uint64_t> TensorLayout::shape() const {
  if (is_matrix()) return {rows, cols};
  return {rows};
}

std::vector<TensorLayout> tensor_layout(const Hyper& h) {
  const ArchSpec& a = arch_spec(h.arch);
  std::vector<TensorLayout> out;
  append(&out, embeddings(), h, "", 0);
  if (h.session_inputs) append(&out, session_embeddings(), h, "", 0);
  append(&out, a.body, h, "", 0);
  if (!a.block.empty())
    for (uint32_t b = 0; b < h.layers; ++b) append(&out, a.block, h, "blk." + std::to_string(b) + ".", b);
  append(&out, a.final_, h, "", 0);
  if (!h.action_counts) append(&out, action_matrix(), h, "", 0);
  append(&out, heads(), h, "", 0);
  if (h.conversion) append(&out, conversion_head(), h, "", 0);
  if (h.session_inputs) append(&out, wide_exit_head(), h, "", 0);
  if (h.session_inputs && h.conversion) append(&out, wide_conversion_head(), h, "", 0);
  if (h.copy) append(&out, copy_head(), h, "", 0);
  if (h.transition_bytes) append(&out, transition_head(), h, "", 0);
  if (h.attr_columns) {
    append(&out, attribute_inputs(), h, "", 0);
    if (!h.action_counts) append(&out, attribute_head(), h, "", 0);
    append(&out, attribute_tensors(), h, "", 0);
  }
  return out;
}

uint32_t session_position_bucket(uint64_t p) {
  if (p <= 12) return p == 0 ? 0 : uint32_t(p - 1);
  if (p <= 16) return 12;
  if (p <= 24) return 13;
  if (p <= 48) return 14;
  return 15;
}

uint32_t copy_distance_bucket(uint64_t d) {
  if (d < 8) return uint32_t(d);
  if (d < 12) return 8;
  if (d < 16) return 9;
  if (d < 24) return 10;
  if (d < 32) return 11;
  if (d < 64) return 12;
  if (d < 128) return 13;
  if (d < 256) return 14;
  return 15;
}

uint32_t copy_count_bucket(uint64_t n) {
  if (n <= 4) return n == 0 ? 0 : uint32_t(n - 1);
  if (n <= 6) return 4;
  if (n <= 9) return 5;
  if (n <= 15) return 6;
  return 7;
}

uint32_t session_count_bucket(uint64_t n) {
  if (n <= 4) return n == 0 ? 0 : uint32_t(n - 1);
  if (n <= 7) return 4;
  if (n <= 12) return 5;
  if (n <= 24) return 6;
  return 7;
}

uint32_t gap_bucket(const std::vector<float>& edges, double prev_time, double now_time) {
  if (!std::isfinite(prev_time) || !std::isfinite(now_time)) return 0;
  double gap = now_time - prev_time;
  if (!(gap > 0)) gap = 0;  // time going backwards is clamped
  uint32_t n = 0;
  while (n < edges.size() && double(edges[n]) <= gap) ++n;  // edges are few (<= 64)
  return 1 + n;
}

}  // namespace hunch
