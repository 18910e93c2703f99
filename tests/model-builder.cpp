#include "model-builder.h"

#include <cmath>
#include <random>

#include "hunch/format.h"
#include "kernels/kernels.h"

#include <cstdio>

namespace hunch_test {

namespace {

class Builder {
 public:
  Builder(const ModelSpec& s) : s_(s), rng_(s.seed) {}

  void matrix(const std::string& name, uint32_t rows, uint32_t cols, float range) {
    std::vector<float> w(size_t(rows) * cols);
    std::uniform_real_distribution<float> u(-range, range);
    for (float& v : w) v = u(rng_);
    if (s_.int8) {
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
  const ModelSpec& s_;
  std::mt19937_64  rng_;
};

}  // namespace

std::vector<uint8_t> build_model(const ModelSpec& s) {
  Builder b(s);
  hunch::ModelWriter& w = b.writer;
  const bool lstm = s.arch == hunch::Arch::LSTM_ATTN;
  w.set_string("general.architecture", lstm ? "lstm-attn" : "transformer");
  w.set_string("general.tool_version", "hunch tests/model-builder");
  w.set_u32("general.quantization_version", s.int8 ? 1 : 0);
  w.set_u32("hunch.embedding_size", s.embed);
  w.set_u32("hunch.attention.window", s.window);
  if (lstm) {
    w.set_u32("hunch.lstm.hidden_size", s.hidden);
    w.set_u32("hunch.attention.size", s.attn);
  } else {
    w.set_u32("hunch.transformer.layers", s.layers);
    w.set_u32("hunch.transformer.heads", s.heads);
    w.set_u32("hunch.transformer.ffn_size", s.ffn);
  }
  std::vector<std::string> actions{"<unk>"}, types{"<none>"};
  for (uint32_t i = 1; i < s.vocab; ++i) actions.push_back("/page/" + std::to_string(i));
  const char* type_names[] = {"view", "click", "add_to_cart", "purchase"};
  for (uint32_t i = 1; i < s.types; ++i)
    types.push_back(i <= 4 ? type_names[i - 1] : "type" + std::to_string(i));
  w.set_strings("hunch.vocab.actions", actions);
  w.set_strings("hunch.vocab.event_types", types);
  w.set_floats("hunch.time.gap_edges", s.gap_edges);
  w.set_f32("hunch.train.valid_ndcg_10", 0.f);

  const uint32_t D = s.embed, G = uint32_t(s.gap_edges.size() + 2);
  b.matrix("emb.action", s.vocab, D, 1.0f);
  b.matrix("emb.type", s.types, D, 0.5f);
  b.matrix("emb.gap", G, D, 0.5f);
  if (lstm) {
    const uint32_t H = s.hidden, A = s.attn;
    b.matrix("lstm.w_ih", 4 * H, D, 1.f / std::sqrt(float(D)));
    b.matrix("lstm.w_hh", 4 * H, H, 1.f / std::sqrt(float(H)));
    b.vector("lstm.bias", 4 * H, 0.f, 0.1f);
    b.matrix("attn.w_q", A, H, 1.f / std::sqrt(float(H)));
    b.matrix("attn.w_k", A, H, 1.f / std::sqrt(float(H)));
    b.vector("attn.recency", 1, 0.05f, 0.01f);
    b.matrix("proj.w", D, 2 * H, 1.f / std::sqrt(float(H)));
    b.vector("proj.b", D, 0.f, 0.1f);
  } else {
    for (uint32_t l = 0; l < s.layers; ++l) {
      const std::string p = "blk." + std::to_string(l) + ".";
      const float r = 1.f / std::sqrt(float(D));
      b.vector(p + "ln1.g", D, 1.f, 0.1f);
      b.vector(p + "ln1.b", D, 0.f, 0.1f);
      b.vector(p + "ln2.g", D, 1.f, 0.1f);
      b.vector(p + "ln2.b", D, 0.f, 0.1f);
      for (const char* m : {"attn.w_q", "attn.w_k", "attn.w_v", "attn.w_o"}) b.matrix(p + m, D, D, r);
      for (const char* v : {"attn.b_q", "attn.b_k", "attn.b_v", "attn.b_o"}) b.vector(p + v, D, 0.f, 0.05f);
      b.vector(p + "attn.recency", s.heads, 0.05f, 0.04f);
      b.matrix(p + "ffn.w1", s.ffn, D, r);
      b.vector(p + "ffn.b1", s.ffn, 0.f, 0.05f);
      b.matrix(p + "ffn.w2", D, s.ffn, 1.f / std::sqrt(float(s.ffn)));
      b.vector(p + "ffn.b2", D, 0.f, 0.05f);
    }
    b.vector("final_ln.g", D, 1.f, 0.1f);
    b.vector("final_ln.b", D, 0.f, 0.1f);
  }
  b.matrix("head.action.w", s.vocab, D, 1.f);
  b.vector("head.action.b", s.vocab, 0.f, 0.5f);
  b.matrix("head.type.w", s.types, D, 0.5f);
  b.vector("head.type.b", s.types, 0.f, 0.1f);
  b.matrix("head.exit.w", 1, D, 0.3f);
  b.vector("head.exit.b", 1, -1.f, 0.1f);

  std::vector<uint8_t> bytes;
  hunch::Error e = w.serialize(&bytes);
  if (e) bytes.clear();  // callers check Model::load on the result; an empty file fails there
  return bytes;
}

ModelSpec default_spec(hunch::Arch arch, bool int8) {
  ModelSpec s;
  s.arch = arch;
  s.vocab = 3707;
  s.types = 5;
  s.embed = 64;
  s.hidden = 128;
  s.attn = 64;
  s.window = arch == hunch::Arch::LSTM_ATTN ? 32 : 200;
  s.layers = 2;
  s.heads = 1;
  s.ffn = 64;
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
  hunch::Sequence seq(model, &hunch::kernels_ref());
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
