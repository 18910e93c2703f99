// Model::load — from container (format.cpp) to a validated, immutable set of weights.
//
// format.cpp has already proved the container sound (offsets, sizes, CRC). Here we prove the
// contents make a model: hyper-parameters present and within limits, every tensor the
// architecture needs present with exactly the implied shape and an allowed dtype, no tensor
// left over, vocabularies of the right size with unique names. Only then do sequences get to
// compute with it.
#include "hunch/model.h"

#include "hunch/packed.h"
#include "hunch/transitions.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <set>

namespace hunch {

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

#define HUNCH_TRY(expr)        \
  do {                         \
    Error e_ = (expr);         \
    if (e_) return e_;         \
  } while (0)

// Checks the tensor `name` exists with `shape` and an allowed dtype, and returns its view.
class Binder {
 public:
  // Packed tensors (hunch/packed.h) are decoded into buffers appended to *decoded.
  Binder(const ModelFile& f, DecodedTables* decoded) : f_(f), decoded_(decoded) {}

  Error matrix(const std::string& name, uint32_t rows, uint32_t cols, Matrix* out) {
    if (const MetaEntry* key = f_.find_meta("hunch.int4." + name)) return int4_matrix(name, rows, cols, *key, out);
    const TensorEntry* t = take(name);
    if (!t) return missing(name);
    if (t->shape.size() != 2 || t->shape[0] != rows || t->shape[1] != cols)
      return Error(format_message("tensor '%s' has shape %s, the architecture needs (%u, %u)",
                                  name.c_str(), shape_str(t->shape).c_str(), rows, cols));
    if (t->dtype == DType::U8)
      return Error(format_message("tensor '%s' is u8, matrices must be F32 or I8", name.c_str()));
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
    if (const MetaEntry* key = f_.find_meta("hunch.u8." + name)) return u8_vector(name, size, *key, out);
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

  Error bytes(const std::string& name, uint32_t size, Bytes* out) {
    const TensorEntry* t = take(name);
    if (!t) return missing(name);
    if (t->dtype != DType::U8)
      return Error(format_message("tensor '%s' is %s, the architecture needs U8", name.c_str(), dtype_name(t->dtype)));
    if (t->shape.size() != 1 || t->shape[0] != size)
      return Error(format_message("tensor '%s' has shape %s, the architecture needs (%u)", name.c_str(),
                                  shape_str(t->shape).c_str(), size));
    out->size = size;
    out->data = t->u8;
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
  // hunch.int4.X (F32, the largest row scale): X is the tensors X.q4 (U8, rows × ⌈cols/2⌉) and
  // X.q4.scale (U8, rows), decoded into int8 rows with f32 scales (docs/format.md, "Packed tables").
  Error int4_matrix(const std::string& name, uint32_t rows, uint32_t cols, const MetaEntry& key, Matrix* out) {
    if (take(name))
      return Error(format_message("model: key '%s' says tensor '%s' is packed, but the file also has '%s' "
                                  "(a packed matrix is %s.q4 and %s.q4.scale only)", key.key.c_str(), name.c_str(),
                                  name.c_str(), name.c_str(), name.c_str()));
    if (key.value.type != MetaType::F32)
      return Error(format_message("model metadata: key '%s' has type %s, expected F32", key.key.c_str(),
                                  meta_type_name(key.value.type)));
    const TensorEntry *q = take(name + ".q4"), *s = take(name + ".q4.scale");
    if (!q) return missing(name + ".q4");
    if (!s) return missing(name + ".q4.scale");
    HUNCH_TRY(check_u8(*q, {rows, int4_row_bytes(cols)}));
    HUNCH_TRY(check_u8(*s, {rows}));
    decoded_->i8.emplace_back(new (std::nothrow) int8_t[size_t(rows) * cols]);
    decoded_->f32.emplace_back(new (std::nothrow) float[rows]);
    if (!decoded_->i8.back() || !decoded_->f32.back())
      return Error(format_message("out of memory decoding tensor '%s' (%u × %u)", name.c_str(), rows, cols));
    HUNCH_TRY(decode_rows_int4(rows, cols, q->u8, s->u8, key.value.f, "tensor '" + name + ".q4'",
                               decoded_->i8.back().get(), decoded_->f32.back().get()));
    out->rows = rows;
    out->cols = cols;
    out->i8 = decoded_->i8.back().get();
    out->scales = decoded_->f32.back().get();
    return {};
  }

  // hunch.u8.X (F32_ARRAY, 1..256 values): X is the tensor X.u8 (U8, size), x[i] = table[code[i]].
  Error u8_vector(const std::string& name, uint32_t size, const MetaEntry& key, Vector* out) {
    if (take(name))
      return Error(format_message("model: key '%s' says tensor '%s' is packed, but the file also has '%s' "
                                  "(a packed vector is %s.u8 only)", key.key.c_str(), name.c_str(), name.c_str(),
                                  name.c_str()));
    if (key.value.type != MetaType::F32_ARRAY)
      return Error(format_message("model metadata: key '%s' has type %s, expected F32_ARRAY", key.key.c_str(),
                                  meta_type_name(key.value.type)));
    const TensorEntry* t = take(name + ".u8");
    if (!t) return missing(name + ".u8");
    HUNCH_TRY(check_u8(*t, {size}));
    decoded_->f32.emplace_back(new (std::nothrow) float[size]);
    if (!decoded_->f32.back()) return Error(format_message("out of memory decoding tensor '%s'", name.c_str()));
    HUNCH_TRY(decode_u8_table(size, t->u8, key.value.floats, "tensor '" + name + ".u8' (table " + key.key + ")",
                              decoded_->f32.back().get()));
    out->size = size;
    out->data = decoded_->f32.back().get();
    return {};
  }

  static Error check_u8(const TensorEntry& t, const std::vector<uint64_t>& shape) {
    if (t.dtype != DType::U8 || t.shape != shape)
      return Error(format_message("tensor '%s' is %s of shape %s, a packed table needs U8 of shape %s", t.name.c_str(),
                                  dtype_name(t.dtype), shape_str(t.shape).c_str(), shape_str(shape).c_str()));
    return {};
  }

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
  DecodedTables*        decoded_;
  std::set<std::string> used_;
};

constexpr const char* kActionsFc = kActionsFcTensor;

// The front-coded action names (hunch/names.h), checked in full; null *fc when the file names its
// actions with hunch.vocab.actions instead. A file has exactly one of the two.
Error open_actions_fc(const ModelFile& f, const TensorEntry** fc, FrontCodedNames* out) {
  *fc = f.find_tensor(kActionsFc);
  if (!*fc) return {};
  if (f.find_meta("hunch.vocab.actions"))
    return Error("model: both the key hunch.vocab.actions and the tensor vocab.actions.fc name the actions "
                 "(a file has one of them)");
  if ((*fc)->dtype != DType::U8 || (*fc)->shape.size() != 1)
    return Error(format_message("tensor '%s' must be a 1-D U8 tensor (it is %s of rank %zu)", kActionsFc,
                                dtype_name((*fc)->dtype), (*fc)->shape.size()));
  return out->open((*fc)->u8, size_t((*fc)->shape[0]), kMaxVocab, "tensor vocab.actions.fc");
}

Error read_hyper_names(const ModelFile& f, Hyper* out, FrontCodedNames* fc_names);

}  // namespace

Error read_calibration(const ModelFile& f, Calibration* out) {
  Calibration c;
  const char* const keys[] = {"hunch.calibration.exit", "hunch.calibration.conversion", "hunch.calibration.type"};
  float* const values[][2] = {{&c.exit_a, &c.exit_b}, {&c.conversion_a, &c.conversion_b}, {&c.type_temperature, nullptr}};
  for (size_t k = 0; k < 3; ++k) {
    const MetaEntry* e = f.find_meta(keys[k]);
    if (!e) continue;
    const size_t size = k < 2 ? 2 : 1;
    const std::vector<float>& v = e->value.floats;
    if (e->value.type != MetaType::F32_ARRAY || v.size() != size)
      return Error(format_message("model metadata: %s must be an F32_ARRAY of %zu values", keys[k], size));
    for (size_t i = 0; i < size; ++i) {
      // The first value is a scale (a or the temperature): > 0.
      if (!(std::fabs(v[i]) <= 1000.f) || (i == 0 && !(v[0] > 0)))
        return Error(format_message("model metadata: %s[%zu] = %g must be %s", keys[k], i, double(v[i]),
                                    i == 0 ? "> 0 (a scale) and at most 1000" : "finite and within ±1000"));
      *values[k][i] = v[i];
    }
  }
  *out = c;
  return {};
}

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

Error read_hyper(const ModelFile& f, Hyper* out) {
  FrontCodedNames names;
  return read_hyper_names(f, out, &names);
}

namespace {

// read_hyper, keeping the front-coded names it checked (Model::bind reads them in place).
Error read_hyper_names(const ModelFile& f, Hyper* out, FrontCodedNames* fc_names) {
  Hyper hp;
  const MetaEntry* arch = f.find_meta("general.architecture");
  if (!arch) return Error("model metadata: missing key 'general.architecture'");
  if (arch->value.type != MetaType::STRING)
    return Error("model metadata: general.architecture must be a STRING");
  const ArchSpec* spec = find_arch(arch->value.str);
  if (!spec)
    return Error(format_message("model metadata: unknown architecture '%.64s' (this build knows "
                                "%s)", arch->value.str.c_str(), arch_names().c_str()));
  hp.arch = spec->arch;

  const std::vector<std::string> *actions = nullptr, *types = nullptr;
  const TensorEntry* fc = nullptr;
  HUNCH_TRY(open_actions_fc(f, &fc, fc_names));
  if (!fc) HUNCH_TRY(get_strings(f, "hunch.vocab.actions", kMaxVocab, &actions));
  HUNCH_TRY(get_strings(f, "hunch.vocab.event_types", kMaxTypes, &types));
  const size_t V = fc ? fc_names->size() : actions->size();
  if (V < 2)
    return Error(format_message("model metadata: %s needs <unk> and at least one action",
                                fc ? "vocab.actions.fc" : "hunch.vocab.actions"));

  const MetaEntry* edges = f.find_meta("hunch.time.gap_edges");
  if (!edges) return Error("model metadata: missing key 'hunch.time.gap_edges'");
  if (edges->value.type != MetaType::F32_ARRAY)
    return Error("model metadata: hunch.time.gap_edges must be an F32_ARRAY");
  if (edges->value.floats.size() > kMaxGapEdges)
    return Error(format_message("model metadata: hunch.time.gap_edges has %zu edges, limit %u",
                                edges->value.floats.size(), kMaxGapEdges));
  const std::vector<float>& e = edges->value.floats;
  for (size_t i = 0; i < e.size(); ++i)
    if (!std::isfinite(e[i]) || e[i] < 0 || (i && !(e[i] > e[i - 1])))
      return Error(format_message("model metadata: hunch.time.gap_edges[%zu] = %g: edges must be finite, "
                                  ">= 0 and strictly increasing", i, e[i]));

  hp.vocab_size  = static_cast<uint32_t>(V);
  hp.type_count  = static_cast<uint32_t>(types->size());
  hp.gap_buckets = static_cast<uint32_t>(e.size() + 2);
  for (const HyperKey& k : hyper_keys(hp.arch)) HUNCH_TRY(get_u32(f, k.key, k.min, k.max, &(hp.*k.field)));
  // The conversion head is optional: its goal types' key says the head is there.
  if (const MetaEntry* g = f.find_meta("hunch.conversion.goal_types")) {
    if (g->value.type == MetaType::STRING_ARRAY && g->value.strings.empty())
      return Error("model metadata: hunch.conversion.goal_types is empty (the head needs a goal type)");
    const std::vector<std::string>* goals = nullptr;
    HUNCH_TRY(get_strings(f, "hunch.conversion.goal_types", kMaxTypes, &goals));
    for (size_t i = 0; i < goals->size(); ++i) {
      const auto& g = (*goals)[i];
      const auto at = std::find(types->begin() + 1, types->end(), g);
      if (at == types->end())
        return Error(format_message("model metadata: hunch.conversion.goal_types[%zu] '%.64s' is not one of "
                                    "hunch.vocab.event_types", i, g.c_str()));
    }
    hp.conversion = 1;
  }
  // Session inputs are optional too: the session gap's key says they are there.
  if (const MetaEntry* g = f.find_meta("hunch.session.gap")) {
    if (g->value.type != MetaType::F32 || !std::isfinite(g->value.f) || !(g->value.f > 0))
      return Error("model metadata: hunch.session.gap must be an F32 number of seconds > 0");
    hp.session_inputs = 1;
  }
  // The copy terms too: hunch.copy = 1 says they are there.
  if (f.find_meta("hunch.copy")) HUNCH_TRY(get_u32(f, "hunch.copy", 1, 1, &hp.copy));
  // And the transition table: its size in bytes is the key.
  if (f.find_meta("hunch.transition.bytes"))
    HUNCH_TRY(get_u32(f, "hunch.transition.bytes", 1, uint32_t(kMaxDimSize), &hp.transition_bytes));
  // And attributes: their columns' key says they are there (bind checks the values in full).
  if (f.find_meta("hunch.attr.columns")) {
    const std::vector<std::string> *columns = nullptr, *values = nullptr;
    HUNCH_TRY(get_strings(f, "hunch.attr.columns", kMaxAttrColumns, &columns));
    HUNCH_TRY(get_strings(f, "hunch.attr.values", kMaxAttrValues, &values));
    hp.attr_columns = uint32_t(columns->size());
    hp.attr_values = uint32_t(values->size());
  }
  // The copy window: optional, only with terms that read it (absent: W).
  if (f.find_meta("hunch.copy.window")) {
    if (!hp.copy && !hp.attr_columns)
      return Error("model metadata: hunch.copy.window without copy terms or attributes (nothing reads it)");
    HUNCH_TRY(get_u32(f, "hunch.copy.window", 1, kMaxWindow, &hp.copy_window));
  }
  // And a counts-only action head (the trainer's count head): no head.action.w or head.attr.
  if (f.find_meta("hunch.head.action.counts"))
    HUNCH_TRY(get_u32(f, "hunch.head.action.counts", 1, 1, &hp.action_counts));
  const std::string unsound = spec->check(hp);
  if (!unsound.empty()) return Error("model metadata: " + unsound);
  *out = hp;
  return {};
}

}  // namespace

Error Model::bind() {
  const ModelFile& f = file_;
  Hyper& hp = hyper_;
  HUNCH_TRY(read_hyper_names(f, &hp, &actions_fc_));
  // read_hyper proved these present and sound (the front-coded names in full).
  const MetaEntry* named = f.find_meta("hunch.vocab.actions");
  actions_ = named ? &named->value.strings : nullptr;
  types_ = &f.find_meta("hunch.vocab.event_types")->value.strings;
  gap_edges_ = f.find_meta("hunch.time.gap_edges")->value.floats;

  // Vocabulary maps; duplicate names would make a name ambiguous.
  // Names never contain NUL (the WASM bindings pass the vocabulary as one NUL-joined string).
  for (const auto* names : {actions_, types_})
    for (size_t i = 0; names && i < names->size(); ++i)
      if ((*names)[i].find('\0') != std::string::npos)
        return Error(format_message("model metadata: %s[%zu] contains a NUL byte",
                                    names == actions_ ? "hunch.vocab.actions" : "hunch.vocab.event_types", i));
  if (actions_) action_ids_.reserve(actions_->size());
  for (uint32_t i = 0; actions_ && i < actions_->size(); ++i)
    if (!action_ids_.emplace((*actions_)[i], i).second)
      return Error(format_message("model metadata: hunch.vocab.actions[%u] '%.64s' is a duplicate", i,
                                  (*actions_)[i].c_str()));
  for (uint32_t i = 0; i < types_->size(); ++i)
    if (!type_ids_.emplace((*types_)[i], i).second)
      return Error(format_message("model metadata: hunch.vocab.event_types[%u] '%.64s' is a duplicate", i,
                                  (*types_)[i].c_str()));

  // Every tensor of the architecture's table (hunch/arch.h), bound into its slot of w_.
  w_.tf.blocks.resize(arch_spec(hp.arch).block.empty() ? 0 : hp.layers);
  Binder b(f, &decoded_);
  if (!actions_) {  // the names' block is no weight, but it is this file's (not a leftover)
    Bytes names;
    HUNCH_TRY(b.bytes(kActionsFc, uint32_t(f.find_tensor(kActionsFc)->shape[0]), &names));
  }
  // A tied head (hunch.head.action.tied = 1, docs/format.md): no head.action.w in the file; the
  // head scores with emb.action's rows (same shape, same dtype), so the kernels see one matrix.
  uint32_t tied = 0;
  if (f.find_meta("hunch.head.action.tied")) HUNCH_TRY(get_u32(f, "hunch.head.action.tied", 1, 1, &tied));
  if (tied && f.find_tensor("head.action.w"))
    return Error("model: hunch.head.action.tied = 1, so tensor 'head.action.w' must be absent (the head uses emb.action)");
  for (const TensorLayout& t : tensor_layout(hp)) {
    if (tied && t.name == "head.action.w") continue;
    if (t.spec->bytes) HUNCH_TRY(b.bytes(t.name, t.rows, t.spec->bytes(w_, t.block)));
    else if (t.is_matrix()) HUNCH_TRY(b.matrix(t.name, t.rows, t.cols, t.spec->matrix(w_, t.block)));
    else HUNCH_TRY(b.vector(t.name, t.rows, t.spec->vector(w_, t.block)));
  }
  HUNCH_TRY(b.leftovers());
  if (tied) w_.head_action = w_.emb_action;
  if (hp.conversion) {
    const std::vector<std::string>& goals = f.find_meta("hunch.conversion.goal_types")->value.strings;
    goal_types_.resize(goals.size());
    for (size_t i = 0; i < goals.size(); ++i) goal_types_[i] = type_ids_.find(goals[i])->second;  // read_hyper checked
  }
  HUNCH_TRY(read_calibration(f, &calibration_));
  if (hp.transition_bytes)
    HUNCH_TRY(index_transitions(w_.transition_table.data, w_.transition_table.size, hp.vocab_size, &transition_rows_));
  if (hp.session_inputs) session_gap_ = f.find_meta("hunch.session.gap")->value.f;
  if (hp.attr_columns) HUNCH_TRY(bind_attributes());
  HUNCH_TRY(read_routes(f, &routes_));
  index_count_head();
  return {};
}

// hunch.normalize.*: the action normalisation (hunch/routes.h), checked as a rules file is.
Error read_routes(const ModelFile& f, Routes* out) {
  out->off();
  const MetaEntry* keep = f.find_meta("hunch.normalize.keep_query");
  const MetaEntry* rules = f.find_meta("hunch.normalize.rules");
  if (!f.find_meta("hunch.normalize.version")) {
    if (keep || rules) return Error("model metadata: hunch.normalize.keep_query / rules need hunch.normalize.version");
    return {};
  }
  const MetaEntry* v = f.find_meta("hunch.normalize.version");
  if (v->value.type != MetaType::U32 || v->value.u < 1 || v->value.u > kRoutesVersion)
    return Error(format_message("model metadata: hunch.normalize.version must be a U32 from 1 to %u (the normalisations "
                                "this core knows); the model needs a newer hunch", kRoutesVersion));
  static const std::vector<std::string> none;
  for (const MetaEntry* e : {keep, rules})
    if (e && e->value.type != MetaType::STRING_ARRAY)
      return Error(format_message("model metadata: key '%s' has type %s, expected STRING_ARRAY", e->key.c_str(),
                                  meta_type_name(e->value.type)));
  return out->set(keep ? keep->value.strings : none, rules ? rules->value.strings : none,
                  "model metadata: hunch.normalize", v->value.u);
}

// The attribute metadata (Hyper::attr_columns) and attr.table, checked in full: docs/format.md.
Error Model::bind_attributes() {
  const ModelFile& f = file_;
  const uint32_t K = hyper_.attr_columns, V = hyper_.vocab_size;
  const std::vector<std::string>* kinds = nullptr;
  HUNCH_TRY(get_strings(f, "hunch.attr.kinds", kMaxAttrColumns, &kinds));
  std::vector<bool> numeric;
  for (size_t k = 0; k < kinds->size(); ++k) {
    if ((*kinds)[k] != "category" && (*kinds)[k] != "numeric")
      return Error(format_message("model metadata: hunch.attr.kinds[%zu] is '%.64s', expected category or numeric",
                                  k, (*kinds)[k].c_str()));
    numeric.push_back((*kinds)[k] == "numeric");
  }
  // read_hyper proved both present.
  HUNCH_TRY(attrs_.build(f.find_meta("hunch.attr.columns")->value.strings, numeric,
                         &f.find_meta("hunch.attr.values")->value.strings));
  // Every action's value of column k lies in column k's block.
  for (uint32_t a = 0; a < V; ++a)
    for (uint32_t k = 0; k < K; ++k) {
      const uint32_t id = action_attr(a, k);
      if (id < attrs_.start(k) || id >= attrs_.start(k + 1))
        return Error(format_message("attr.table: action %u column '%.64s' (byte offset %zu) holds value id %u, "
                                    "outside the column's ids [%u, %u)", a, attrs_.names()[k].c_str(),
                                    2 * (size_t(a) * K + k), id, attrs_.start(k), attrs_.start(k + 1)));
    }
  return {};
}

uint32_t Model::action_id(const std::string& action) const {
  if (!actions_) return actions_fc_.find(action);
  auto it = action_ids_.find(action);
  return it == action_ids_.end() ? 0 : it->second;
}

uint32_t Model::type_id(const std::string& type) const {
  auto it = type_ids_.find(type);
  return it == type_ids_.end() ? 0 : it->second;
}

uint32_t Model::gap_bucket(double prev_time, double now_time) const {
  return hunch::gap_bucket(gap_edges_, prev_time, now_time);
}

}  // namespace hunch
