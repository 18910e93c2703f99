// Model::load — from container (format.cpp) to a validated, immutable set of weights.
//
// format.cpp has already proved the container sound (offsets, sizes, CRC). Here we prove the
// contents make a model: hyper-parameters present and within limits, every tensor the
// architecture needs present with exactly the implied shape and an allowed dtype, no tensor
// left over, vocabularies of the right size with unique names. Only then do sequences get to
// compute with it.
#include "hunch/model.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>

namespace hunch {

const char* arch_name(Arch a) { return a == Arch::TRANSFORMER ? "transformer" : "lstm-attn"; }

namespace {

Error get_u32(const ModelFile& f, const char* key, uint32_t min, uint32_t max, uint32_t* out) {
  const MetaEntry* e = f.find_meta(key);
  if (!e) return Error(format_message("model metadata: missing key '%s'", key));
  if (e->value.type != MetaType::U32)
    return Error(format_message("model metadata: key '%s' has type %s, expected U32", key,
                                meta_type_name(e->value.type)));
  if (e->value.u < min || e->value.u > max)
    return Error(format_message("model metadata: %s = %llu is out of range [%u, %u]", key,
                                (unsigned long long)e->value.u, min, max));
  *out = static_cast<uint32_t>(e->value.u);
  return {};
}

Error get_strings(const ModelFile& f, const char* key, uint32_t max, const std::vector<std::string>** out) {
  const MetaEntry* e = f.find_meta(key);
  if (!e) return Error(format_message("model metadata: missing key '%s'", key));
  if (e->value.type != MetaType::STRING_ARRAY)
    return Error(format_message("model metadata: key '%s' has type %s, expected STRING_ARRAY", key,
                                meta_type_name(e->value.type)));
  if (e->value.strings.empty())
    return Error(format_message("model metadata: %s is empty (id 0 must be the unknown entry)", key));
  if (e->value.strings.size() > max)
    return Error(format_message("model metadata: %s has %zu entries, limit %u", key,
                                e->value.strings.size(), max));
  *out = &e->value.strings;
  return {};
}

// Checks the tensor `name` exists with `shape` and an allowed dtype, and returns its view.
class Binder {
 public:
  explicit Binder(const ModelFile& f) : f_(f) {}

  Error matrix(const std::string& name, uint32_t rows, uint32_t cols, Matrix* out) {
    const TensorEntry* t = take(name);
    if (!t) return missing(name);
    if (t->shape.size() != 2 || t->shape[0] != rows || t->shape[1] != cols)
      return Error(format_message("tensor '%s' has shape %s, the architecture needs (%u, %u)",
                                  name.c_str(), shape_str(t->shape).c_str(), rows, cols));
    out->rows = rows;
    out->cols = cols;
    if (t->dtype == DType::I8) {
      out->i8 = t->i8;
      out->scales = t->scales;
    } else {
      out->f32 = t->f32;
    }
    return {};
  }

  Error vector(const std::string& name, uint32_t size, Vector* out) {
    const TensorEntry* t = take(name);
    if (!t) return missing(name);
    if (t->dtype != DType::F32)
      return Error(format_message("tensor '%s' is %s, vectors must be F32", name.c_str(), dtype_name(t->dtype)));
    if (t->shape.size() != 1 || t->shape[0] != size)
      return Error(format_message("tensor '%s' has shape %s, the architecture needs (%u)", name.c_str(),
                                  shape_str(t->shape).c_str(), size));
    out->size = size;
    out->data = t->f32;
    return {};
  }

  // After binding: any tensor not asked for is an error (a file for another architecture or a
  // newer writer we do not understand).
  Error leftovers() const {
    for (const auto& t : f_.tensors)
      if (!used_.count(t.name))
        return Error(format_message("tensor '%s' is not part of this architecture", t.name.c_str()));
    return {};
  }

 private:
  const TensorEntry* take(const std::string& name) {
    used_.insert(name);
    return f_.find_tensor(name);
  }
  static Error missing(const std::string& name) {
    return Error(format_message("model is missing tensor '%s'", name.c_str()));
  }
  static std::string shape_str(const std::vector<uint64_t>& s) {
    std::string r = "(";
    for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
    return r + ")";
  }
  const ModelFile&      f_;
  std::set<std::string> used_;
};

#define HUNCH_TRY(expr)        \
  do {                         \
    Error e_ = (expr);         \
    if (e_) return e_;         \
  } while (0)

}  // namespace

Error Model::load(const uint8_t* bytes, size_t size, std::unique_ptr<Model>* out,
                  const ReadOptions& options) {
  out->reset();
  if (size > kMaxFileBytes)
    return Error(format_message("model file is %zu bytes, limit is %llu", size, (unsigned long long)kMaxFileBytes));
  std::unique_ptr<Model> m(new Model());
  // 64-byte aligned private copy: tensor blocks are 64-aligned in the file, so they are in
  // memory too (SIMD loads), and the caller's buffer may be freed after load.
  m->aligned_.reset(new (std::nothrow) uint8_t[size + 64]);
  if (!m->aligned_) return Error(format_message("out of memory copying a %zu-byte model", size));
  uint8_t* base = m->aligned_.get();
  uint8_t* p = base + ((64 - (reinterpret_cast<uintptr_t>(base) & 63)) & 63);
  if (size) std::memcpy(p, bytes, size);
  HUNCH_TRY(read_model_file(p, size, &m->file_, options));
  HUNCH_TRY(m->bind());
  *out = std::move(m);
  return {};
}

Error Model::load_file(const std::string& path, std::unique_ptr<Model>* out) {
  std::vector<uint8_t> bytes;
  if (Error e = read_model_bytes(path, &bytes)) return e;
  Error e = load(bytes.data(), bytes.size(), out);
  if (e) return Error(path + ": " + e.message);
  return {};
}

Error Model::bind() {
  const ModelFile& f = file_;
  Hyper& hp = hyper_;

  const MetaEntry* arch = f.find_meta("general.architecture");
  if (!arch) return Error("model metadata: missing key 'general.architecture'");
  if (arch->value.type != MetaType::STRING)
    return Error("model metadata: general.architecture must be a STRING");
  if (arch->value.str == "lstm-attn") hp.arch = Arch::LSTM_ATTN;
  else if (arch->value.str == "transformer") hp.arch = Arch::TRANSFORMER;
  else
    return Error(format_message("model metadata: unknown architecture '%.64s' (this build knows "
                                "lstm-attn, transformer)", arch->value.str.c_str()));

  HUNCH_TRY(get_strings(f, "hunch.vocab.actions", kMaxVocab, &actions_));
  HUNCH_TRY(get_strings(f, "hunch.vocab.event_types", kMaxTypes, &types_));
  if (actions_->size() < 2) return Error("model metadata: hunch.vocab.actions needs <unk> and at least one action");

  const MetaEntry* edges = f.find_meta("hunch.time.gap_edges");
  if (!edges) return Error("model metadata: missing key 'hunch.time.gap_edges'");
  if (edges->value.type != MetaType::F32_ARRAY)
    return Error("model metadata: hunch.time.gap_edges must be an F32_ARRAY");
  if (edges->value.floats.size() > kMaxGapEdges)
    return Error(format_message("model metadata: hunch.time.gap_edges has %zu edges, limit %u",
                                edges->value.floats.size(), kMaxGapEdges));
  gap_edges_ = edges->value.floats;
  for (size_t i = 0; i < gap_edges_.size(); ++i) {
    float e = gap_edges_[i];
    if (!std::isfinite(e) || e < 0 || (i && !(e > gap_edges_[i - 1])))
      return Error(format_message("model metadata: hunch.time.gap_edges[%zu] = %g: edges must be finite, "
                                  ">= 0 and strictly increasing", i, e));
  }

  hp.vocab_size  = static_cast<uint32_t>(actions_->size());
  hp.type_count  = static_cast<uint32_t>(types_->size());
  hp.gap_buckets = static_cast<uint32_t>(gap_edges_.size() + 2);
  HUNCH_TRY(get_u32(f, "hunch.embedding_size", 1, kMaxWidth, &hp.embed));
  HUNCH_TRY(get_u32(f, "hunch.attention.window", 1, kMaxWindow, &hp.window));
  if (hp.arch == Arch::LSTM_ATTN) {
    HUNCH_TRY(get_u32(f, "hunch.lstm.hidden_size", 1, kMaxWidth, &hp.hidden));
    HUNCH_TRY(get_u32(f, "hunch.attention.size", 1, kMaxWidth, &hp.attn_size));
  } else {
    HUNCH_TRY(get_u32(f, "hunch.transformer.layers", 1, kMaxLayers, &hp.layers));
    HUNCH_TRY(get_u32(f, "hunch.transformer.heads", 1, kMaxWidth, &hp.heads));
    HUNCH_TRY(get_u32(f, "hunch.transformer.ffn_size", 1, kMaxWidth, &hp.ffn));
    if (hp.embed % hp.heads)
      return Error(format_message("model metadata: hunch.transformer.heads = %u does not divide "
                                  "hunch.embedding_size = %u", hp.heads, hp.embed));
  }

  // Vocabulary maps; duplicate names would make a name ambiguous.
  // Names never contain NUL (the WASM bindings pass the vocabulary as one NUL-joined string).
  for (const auto* names : {actions_, types_})
    for (size_t i = 0; i < names->size(); ++i)
      if ((*names)[i].find('\0') != std::string::npos)
        return Error(format_message("model metadata: %s[%zu] contains a NUL byte",
                                    names == actions_ ? "hunch.vocab.actions" : "hunch.vocab.event_types", i));
  action_ids_.reserve(actions_->size());
  for (uint32_t i = 0; i < actions_->size(); ++i)
    if (!action_ids_.emplace((*actions_)[i], i).second)
      return Error(format_message("model metadata: hunch.vocab.actions[%u] '%.64s' is a duplicate", i,
                                  (*actions_)[i].c_str()));
  for (uint32_t i = 0; i < types_->size(); ++i)
    if (!type_ids_.emplace((*types_)[i], i).second)
      return Error(format_message("model metadata: hunch.vocab.event_types[%u] '%.64s' is a duplicate", i,
                                  (*types_)[i].c_str()));

  const uint32_t D = hp.embed, V = hp.vocab_size, T = hp.type_count, G = hp.gap_buckets;
  Binder b(f);
  HUNCH_TRY(b.matrix("emb.action", V, D, &w_.emb_action));
  HUNCH_TRY(b.matrix("emb.type", T, D, &w_.emb_type));
  HUNCH_TRY(b.matrix("emb.gap", G, D, &w_.emb_gap));
  if (hp.arch == Arch::LSTM_ATTN) {
    const uint32_t H = hp.hidden, A = hp.attn_size;
    LstmAttnWeights& l = w_.lstm;
    HUNCH_TRY(b.matrix("lstm.w_ih", 4 * H, D, &l.w_ih));
    HUNCH_TRY(b.matrix("lstm.w_hh", 4 * H, H, &l.w_hh));
    HUNCH_TRY(b.vector("lstm.bias", 4 * H, &l.bias));
    HUNCH_TRY(b.matrix("attn.w_q", A, H, &l.w_q));
    HUNCH_TRY(b.matrix("attn.w_k", A, H, &l.w_k));
    HUNCH_TRY(b.vector("attn.recency", 1, &l.recency));
    HUNCH_TRY(b.matrix("proj.w", D, 2 * H, &l.proj_w));
    HUNCH_TRY(b.vector("proj.b", D, &l.proj_b));
  } else {
    const uint32_t F = hp.ffn;
    w_.tf.blocks.resize(hp.layers);
    for (uint32_t i = 0; i < hp.layers; ++i) {
      TransformerBlock& k = w_.tf.blocks[i];
      const std::string p = "blk." + std::to_string(i) + ".";
      HUNCH_TRY(b.vector(p + "ln1.g", D, &k.ln1_g));
      HUNCH_TRY(b.vector(p + "ln1.b", D, &k.ln1_b));
      HUNCH_TRY(b.vector(p + "ln2.g", D, &k.ln2_g));
      HUNCH_TRY(b.vector(p + "ln2.b", D, &k.ln2_b));
      HUNCH_TRY(b.matrix(p + "attn.w_q", D, D, &k.w_q));
      HUNCH_TRY(b.matrix(p + "attn.w_k", D, D, &k.w_k));
      HUNCH_TRY(b.matrix(p + "attn.w_v", D, D, &k.w_v));
      HUNCH_TRY(b.matrix(p + "attn.w_o", D, D, &k.w_o));
      HUNCH_TRY(b.vector(p + "attn.b_q", D, &k.b_q));
      HUNCH_TRY(b.vector(p + "attn.b_k", D, &k.b_k));
      HUNCH_TRY(b.vector(p + "attn.b_v", D, &k.b_v));
      HUNCH_TRY(b.vector(p + "attn.b_o", D, &k.b_o));
      HUNCH_TRY(b.vector(p + "attn.recency", hp.heads, &k.recency));
      HUNCH_TRY(b.matrix(p + "ffn.w1", F, D, &k.ffn_w1));
      HUNCH_TRY(b.vector(p + "ffn.b1", F, &k.ffn_b1));
      HUNCH_TRY(b.matrix(p + "ffn.w2", D, F, &k.ffn_w2));
      HUNCH_TRY(b.vector(p + "ffn.b2", D, &k.ffn_b2));
    }
    HUNCH_TRY(b.vector("final_ln.g", D, &w_.tf.final_g));
    HUNCH_TRY(b.vector("final_ln.b", D, &w_.tf.final_b));
  }
  HUNCH_TRY(b.matrix("head.action.w", V, D, &w_.head_action));
  HUNCH_TRY(b.vector("head.action.b", V, &w_.head_action_b));
  HUNCH_TRY(b.matrix("head.type.w", T, D, &w_.head_type));
  HUNCH_TRY(b.vector("head.type.b", T, &w_.head_type_b));
  HUNCH_TRY(b.matrix("head.exit.w", 1, D, &w_.head_exit));
  HUNCH_TRY(b.vector("head.exit.b", 1, &w_.head_exit_b));
  HUNCH_TRY(b.leftovers());
  return {};
}

uint32_t Model::action_id(const std::string& action) const {
  auto it = action_ids_.find(action);
  return it == action_ids_.end() ? 0 : it->second;
}

uint32_t Model::type_id(const std::string& type) const {
  auto it = type_ids_.find(type);
  return it == type_ids_.end() ? 0 : it->second;
}

uint32_t Model::gap_bucket(double prev_time, double now_time) const {
  if (!std::isfinite(prev_time) || !std::isfinite(now_time)) return 0;
  double gap = now_time - prev_time;
  if (!(gap > 0)) gap = 0;  // time going backwards is clamped
  uint32_t n = 0;
  while (n < gap_edges_.size() && gap_edges_[n] <= gap) ++n;
  return 1 + n;
}

}  // namespace hunch
