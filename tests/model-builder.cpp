#include "model-builder.h"

#include <algorithm>
#include <functional>

#include <cmath>
#include <random>

#include "hunch/format.h"
#include "hunch/kernels.h"
#include "hunch/packed.h"
#include "hunch/rng.h"
#include "hunch/transitions.h"

#include <cstdio>
#include <cstdlib>

namespace hunch_test {

namespace {

class Builder {
 public:
  explicit Builder(uint64_t seed) : rng_(seed) {}

  void matrix(const std::string& name, uint32_t rows, uint32_t cols, float range, bool quantise) {
    std::vector<float> w(size_t(rows) * cols);
    std::uniform_real_distribution<float> u(-range, range);
    for (float& v : w) v = u(rng_);
    if (quantise) {
      std::vector<int8_t> q(w.size());
      std::vector<float>  scales(rows);
      hunch::quantize_rows(rows, cols, w.data(), q.data(), scales.data());
      writer.add_i8(name, rows, cols, q.data(), scales.data());
    } else {
      writer.add_f32(name, {rows, cols}, w.data());
    }
  }
  void vector(const std::string& name, uint32_t n, float center, float range) {
    std::vector<float> v(n);
    std::uniform_real_distribution<float> u(center - range, center + range);
    for (float& x : v) x = u(rng_);
    writer.add_f32(name, {n}, v.data());
  }

  hunch::ModelWriter writer;

 private:
  std::mt19937_64  rng_;
};

}  // namespace

hunch::Hyper ModelSpec::small_hyper() {
  hunch::Hyper h;
  h.arch = hunch::Arch::LSTM_ATTN;
  h.vocab_size = 50;
  h.type_count = 4;
  h.embed = 16;
  h.hidden = 24;
  h.attn_size = 16;
  h.window = 8;
  h.layers = 2;
  h.heads = 2;
  h.ffn = 32;
  return h;
}

std::vector<uint8_t> build_model(const ModelSpec& s) {
  Builder b(s.seed);
  hunch::ModelWriter& w = b.writer;
  hunch::Hyper h = s.hyper;
  h.gap_buckets = uint32_t(s.gap_edges.size() + 2);
  std::vector<uint8_t> table;
  h.transition_bytes = 0;
  if (s.transition_successors) {
    hunch::Rng rng(s.seed ^ 0x7a);
    std::vector<std::vector<hunch::Transition>> rows(h.vocab_size);
    for (uint32_t a = 1; a < h.vocab_size; ++a) {
      // The drawn ids sorted and deduplicated (not a V-sized mark per action: V² at V = 100,000).
      std::vector<uint32_t> taken;
      const uint64_t n = rng.below(s.transition_successors + 1);
      for (uint64_t k = 0; k < n; ++k) taken.push_back(1 + uint32_t(rng.below(h.vocab_size - 1)));
      std::sort(taken.begin(), taken.end());
      taken.erase(std::unique(taken.begin(), taken.end()), taken.end());
      for (uint32_t b : taken) rows[a].push_back({b, uint8_t(rng.below(hunch::kTransitionBuckets))});
    }
    hunch::encode_transitions(rows, &table);
    h.transition_bytes = uint32_t(table.size());
  }
  std::vector<std::string> attr_columns, attr_kinds, attr_values;
  std::vector<uint8_t> attr_table;
  h.attr_columns = uint32_t(s.attr_sizes.size());
  h.attr_values = 0;
  if (h.attr_columns) {
    std::vector<uint32_t> start;
    for (uint32_t k = 0; k < h.attr_columns; ++k) {
      const bool numeric = k < s.attr_numeric.size() && s.attr_numeric[k];
      attr_columns.push_back("attr" + std::to_string(k));
      attr_kinds.push_back(numeric ? "numeric" : "category");
      start.push_back(uint32_t(attr_values.size()));
      attr_values.push_back("<none>");
      for (uint32_t i = 0; i < s.attr_sizes[k]; ++i)
        attr_values.push_back(numeric ? (i == 0 ? std::string("-inf") : std::to_string(10 * i))
                                      : "a" + std::to_string(k) + "v" + std::to_string(i + 1));
    }
    h.attr_values = uint32_t(attr_values.size());
    hunch::Rng rng(s.seed ^ 0xa7);
    for (uint32_t a = 0; a < h.vocab_size; ++a)
      for (uint32_t k = 0; k < h.attr_columns; ++k) {
        const uint32_t id = a == 0 || s.attr_sizes[k] == 0 ? start[k] : start[k] + 1 + uint32_t(rng.below(s.attr_sizes[k]));
        attr_table.push_back(uint8_t(id & 0xff));
        attr_table.push_back(uint8_t(id >> 8));
      }
  }
  w.set_string("general.architecture", hunch::arch_name(h.arch));
  w.set_string("general.tool_version", "hunch tests/model-builder");
  w.set_u32("general.quantization_version", s.int8 ? 1 : 0);
  for (const hunch::HyperKey& k : hunch::hyper_keys(h.arch)) w.set_u32(k.key, h.*k.field);
  std::vector<std::string> actions{"<unk>"}, types{"<none>"};
  for (uint32_t i = 1; i < h.vocab_size; ++i)
    actions.push_back(i <= s.action_names.size() ? s.action_names[i - 1] : "/page/" + std::to_string(i));
  const char* type_names[] = {"view", "click", "add_to_cart", "purchase"};
  for (uint32_t i = 1; i < h.type_count; ++i)
    types.push_back(i <= 4 ? type_names[i - 1] : "type" + std::to_string(i));
  if (s.front_coded_names) {  // the tensor vocab.actions.fc (hunch/names.h), first in the file
    std::vector<uint8_t> fc;
    if (hunch::Error e = hunch::encode_front_coded(actions, &fc)) {
      std::fprintf(stderr, "model-builder: %s\n", e.message.c_str());
      std::abort();
    }
    w.add_u8(hunch::kActionsFcTensor, {fc.size()}, fc.data());
  } else {
    w.set_strings("hunch.vocab.actions", actions);
  }
  w.set_strings("hunch.vocab.event_types", types);
  w.set_floats("hunch.time.gap_edges", s.gap_edges);
  w.set_f32("hunch.train.valid_ndcg_10", 0.f);
  if (h.conversion) w.set_strings("hunch.conversion.goal_types", s.goal_types);
  if (h.session_inputs) w.set_f32("hunch.session.gap", s.session_gap);
  if (h.copy) w.set_u32("hunch.copy", 1);
  if ((h.copy || h.attr_columns) && h.copy_window) w.set_u32("hunch.copy.window", h.copy_window);
  if (h.transition_bytes) w.set_u32("hunch.transition.bytes", h.transition_bytes);
  if (h.action_counts) w.set_u32("hunch.head.action.counts", 1);
  if (s.normalize) {
    w.set_u32("hunch.normalize.version", s.normalize_version);
    if (!s.keep_query.empty()) w.set_strings("hunch.normalize.keep_query", s.keep_query);
    if (!s.route_rules.empty()) w.set_strings("hunch.normalize.rules", s.route_rules);
  }
  if (h.attr_columns) {
    w.set_strings("hunch.attr.columns", attr_columns);
    w.set_strings("hunch.attr.kinds", attr_kinds);
    w.set_strings("hunch.attr.values", attr_values);
  }
  const hunch::Calibration& c = s.calibration;
  if (!c.is_identity()) {
    w.set_floats("hunch.calibration.exit", {c.exit_a, c.exit_b});
    if (h.conversion) w.set_floats("hunch.calibration.conversion", {c.conversion_a, c.conversion_b});
    w.set_floats("hunch.calibration.type", {c.type_temperature});
  }

  // Every tensor of the architecture's table, drawn as its entry says (TensorSpec::center,
  // range, range_over).
  if (s.tied_head) w.set_u32("hunch.head.action.tied", 1);
  for (const hunch::TensorLayout& t : hunch::tensor_layout(h)) {
    if (s.tied_head && t.name == "head.action.w") continue;
    const hunch::TensorSpec& spec = *t.spec;
    const float range = spec.range_over == hunch::Sym::ONE
                            ? spec.range
                            : spec.range / std::sqrt(float(hunch::sym_value(spec.range_over, h)));
    if (spec.bytes) b.writer.add_u8(t.name, t.shape(), t.name == "attr.table" ? attr_table.data() : table.data());
    else if (t.is_matrix()) b.matrix(t.name, t.rows, t.cols, range, s.int8 && spec.quantised);
    else b.vector(t.name, t.rows, spec.center, range);
  }

  std::vector<uint8_t> bytes;
  hunch::Error e = w.serialize(&bytes);
  if (e) bytes.clear();  // callers check Model::load on the result; an empty file fails there
  if (!e && s.packed_tables) bytes = repack_action_tables(bytes, true);
  return bytes;
}

static void copy_meta_entry(const hunch::MetaEntry& m, hunch::ModelWriter* w) {
  switch (m.value.type) {
    case hunch::MetaType::U32: w->set_u32(m.key, uint32_t(m.value.u)); break;
    case hunch::MetaType::I32: w->set_i32(m.key, int32_t(m.value.i)); break;
    case hunch::MetaType::F32: w->set_f32(m.key, m.value.f); break;
    case hunch::MetaType::U64: w->set_u64(m.key, m.value.u); break;
    case hunch::MetaType::STRING: w->set_string(m.key, m.value.str); break;
    case hunch::MetaType::STRING_ARRAY: w->set_strings(m.key, m.value.strings); break;
    case hunch::MetaType::F32_ARRAY: w->set_floats(m.key, m.value.floats); break;
  }
}

std::vector<uint8_t> edit_f32_tensor(const std::vector<uint8_t>& bytes, const std::string& name,
                                     const std::function<void(std::vector<float>*)>& edit) {
  hunch::ModelFile f;
  if (hunch::read_model_file(bytes.data(), bytes.size(), &f)) std::abort();
  hunch::ModelWriter w;
  for (const hunch::MetaEntry& m : f.metadata) copy_meta_entry(m, &w);
  bool found = false;
  for (const hunch::TensorEntry& t : f.tensors) {
    if (t.dtype == hunch::DType::I8) w.add_i8(t.name, t.shape[0], t.shape[1], t.i8, t.scales);
    else if (t.dtype == hunch::DType::U8) w.add_u8(t.name, t.shape, t.u8);
    else if (t.name != name) w.add_f32(t.name, t.shape, t.f32);
    else {
      std::vector<float> x(t.f32, t.f32 + t.elements());
      edit(&x);
      w.add_f32(t.name, t.shape, x.data());
      found = true;
    }
  }
  std::vector<uint8_t> out;
  if (!found || w.serialize(&out)) std::abort();
  return out;
}

std::vector<uint8_t> repack_action_tables(const std::vector<uint8_t>& bytes, bool packed, const PackDamage& dmg) {
  hunch::ModelFile f;
  if (hunch::read_model_file(bytes.data(), bytes.size(), &f)) std::abort();
  hunch::ModelWriter w;
  for (const hunch::MetaEntry& m : f.metadata) copy_meta_entry(m, &w);
  for (const hunch::TensorEntry& t : f.tensors) {
    const bool matrix = t.name == "emb.action" || t.name == "head.action.w";
    const bool bias = t.name == "head.action.b";
    if (!matrix && !bias) {
      if (t.dtype == hunch::DType::I8) w.add_i8(t.name, t.shape[0], t.shape[1], t.i8, t.scales);
      else if (t.dtype == hunch::DType::U8) w.add_u8(t.name, t.shape, t.u8);
      else w.add_f32(t.name, t.shape, t.f32);
      continue;
    }
    const size_t rows = size_t(t.shape[0]), cols = matrix ? size_t(t.shape[1]) : 1;
    std::vector<float> x(rows * cols);
    for (size_t k = 0; k < x.size(); ++k)
      x[k] = t.dtype == hunch::DType::I8 ? float(t.i8[k]) * t.scales[k / cols] : t.f32[k];
    std::vector<uint8_t> codes(rows);
    if (matrix) {
      std::vector<uint8_t> q4(rows * hunch::int4_row_bytes(cols));
      float top = 0;
      if (!(hunch::quantize_rows_int4(rows, cols, x.data(), q4.data(), codes.data(), &top) >= 0)) std::abort();
      if (!packed) {
        std::vector<int8_t> q(rows * cols);
        std::vector<float> scales(rows);
        if (hunch::decode_rows_int4(rows, cols, q4.data(), codes.data(), top, t.name, q.data(), scales.data())) std::abort();
        w.add_i8(t.name, rows, cols, q.data(), scales.data());
        continue;
      }
      if (t.name == "emb.action" && dmg.flip_byte < q4.size()) q4[dmg.flip_byte] = 0x08;
      w.set_f32("hunch.int4." + t.name, top);
      const uint64_t rb = hunch::int4_row_bytes(cols) - (dmg.q4_shape && t.name == "emb.action");
      if (dmg.drop_tensor != t.name + ".q4") w.add_u8(t.name + ".q4", {rows, rb}, q4.data());
      if (dmg.drop_tensor != t.name + ".q4.scale") w.add_u8(t.name + ".q4.scale", {rows}, codes.data());
    } else {
      std::vector<float> table;
      if (!(hunch::quantize_u8_table(rows, x.data(), codes.data(), &table) >= 0)) std::abort();
      if (!packed) {
        std::vector<float> b(rows);
        if (hunch::decode_u8_table(rows, codes.data(), table, t.name, b.data())) std::abort();
        w.add_f32(t.name, t.shape, b.data());
        continue;
      }
      if (dmg.bias_code < rows) codes[dmg.bias_code] = uint8_t(table.size());
      w.set_floats("hunch.u8." + t.name, table);
      if (dmg.drop_tensor != t.name + ".u8") w.add_u8(t.name + ".u8", {rows}, codes.data());
    }
    if (dmg.extra_tensor == t.name) w.add_f32(t.name, t.shape, x.data());
  }
  if (!dmg.key.empty()) {
    if (dmg.key_as_u32) w.set_u32(dmg.key, 1);
    else w.set_floats(dmg.key, dmg.key_value);
  }
  std::vector<uint8_t> out;
  if (w.serialize(&out)) std::abort();
  return out;
}

ModelSpec default_spec(hunch::Arch arch, bool int8) {
  ModelSpec s;
  s.hyper.arch = arch;
  s.hyper.vocab_size = 3707;
  s.hyper.type_count = 5;
  s.hyper.embed = 64;
  s.hyper.hidden = 128;
  s.hyper.attn_size = 64;
  s.hyper.window = arch == hunch::Arch::LSTM_ATTN ? 32 : 200;
  s.hyper.layers = 2;
  s.hyper.heads = 1;
  s.hyper.ffn = 64;
  s.int8 = int8;
  s.seed = 42;
  return s;
}

std::vector<hunch::Event> fixture_events() {
  std::vector<hunch::Event> ev;
  const uint32_t actions[] = {3, 7, 9, 12, 7, 200, 45, 3, 3, 0, 150, 299, 12, 12, 88, 7, 9, 101, 2, 5,
                              6, 6, 42, 43, 44, 250, 3, 7};
  double t = 1.7e9;
  for (size_t i = 0; i < sizeof actions / sizeof actions[0]; ++i) {
    t += double((i * 37) % 700);  // gaps 0 s to ~12 min: several time buckets
    ev.push_back({actions[i], uint32_t(i % 5), t});
  }
  return ev;
}

std::string golden_text(const hunch::Model& model) {
  hunch::Sequence seq(model, hunch::kernels_by_name("ref"));
  for (const hunch::Event& e : fixture_events())
    if (seq.push(e)) return "";
  std::vector<hunch::Prediction> top(10);
  size_t n = seq.predict(10, top.data());
  std::string out;
  char line[64];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(line, sizeof line, "%u %.8f\n", top[i].action, double(top[i].probability));
    out += line;
  }
  return out;
}

}  // namespace hunch_test
