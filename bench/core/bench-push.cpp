// push + top-10 latency at the default shapes (V 3,707, D 64, H 128, A 64, W 32 for lstm-attn;
// L 2, W 200 for the transformer), int8 and f32, and int8 with the copy and transition terms,
// with the build's kernels. Built natively and
// with Emscripten from the same source; bench/push-latency.sh runs both and prints the ratio.
//
// Output: one JSON line per configuration, {"arch","dtype","kernels","median_us","p95_us",...}.
// HUNCH_KERNELS=ref|xnnpack|wasm-simd128 times another kernel table than the build's default
// (bench/push-latency.sh runs it with xnnpack).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "hunch/kernels.h"
#include "hunch/model.h"
#include "kernels/kernels.h"
#include "hunch/sequence.h"
#include "model-builder.h"

namespace {

double now_us() {
  using namespace std::chrono;
  return double(duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count()) / 1000.0;
}

// terms: the same shape with the action head's copy terms and a transition table of 16
// successors per action (issue 14's cost: push + top-10 at most +10%). copy_window: their Wc
// (0: W, the file without hunch.copy.window; `hunch train --copy-window 256` writes 256).
void run(hunch::Arch arch, bool int8, bool terms, size_t calls, const char* platform, uint32_t copy_window = 0) {
  hunch_test::ModelSpec spec = hunch_test::default_spec(arch, int8);
  if (terms) {
    spec.hyper.copy = 1;
    spec.hyper.copy_window = copy_window;
    spec.transition_successors = 16;
  }
  auto bytes = hunch_test::build_model(spec);
  std::unique_ptr<hunch::Model> model;
  if (hunch::Error e = hunch::Model::load(bytes.data(), bytes.size(), &model)) {
    std::fprintf(stderr, "bench-push: %s\n", e.message.c_str());
    std::exit(1);
  }
  hunch::Sequence seq(*model);
  std::mt19937_64 rng(1);
  std::vector<hunch::Prediction> top(10);
  double t = 1.7e9;
  auto next = [&] {
    hunch::Event e;
    e.action = 1 + uint32_t(rng() % (model->hyper().vocab_size - 1));
    e.type = uint32_t(rng() % model->hyper().type_count);
    t += double(rng() % 600);
    e.time = t;
    return e;
  };
  // Warm-up past the window so attention runs at full width (W events), as in steady state.
  const size_t warm = std::max<size_t>(2 * model->hyper().window, 500);
  for (size_t i = 0; i < warm; ++i) {
    seq.push(next());
    seq.predict(10, top.data());
  }
  std::vector<double> us(calls);
  double checksum = 0;
  for (size_t i = 0; i < calls; ++i) {
    hunch::Event e = next();
    double t0 = now_us();
    seq.push(e);
    size_t n = seq.predict(10, top.data());
    us[i] = now_us() - t0;
    checksum += n ? top[0].probability : 0;
  }
  std::sort(us.begin(), us.end());
  std::printf("{\"platform\":\"%s\",\"arch\":\"%s\",\"dtype\":\"%s\",\"kernels\":\"%s\",\"calls\":%zu,"
              "\"median_us\":%.2f,\"p95_us\":%.2f,\"min_us\":%.2f,\"model_bytes\":%zu,\"state_bytes\":%zu,"
              "\"checksum\":%.4f}\n",
              platform,
              (std::string(hunch::arch_name(arch)) + (terms ? "+copy+transitions" : "") +
               (copy_window ? "+Wc" + std::to_string(copy_window) : ""))
                  .c_str(),
              int8 ? "int8" : "f32", hunch::kernels_name(hunch::kernels_default()), calls,
              us[calls / 2], us[calls * 95 / 100], us[0], bytes.size(), seq.state_bytes(), checksum);
  std::fflush(stdout);
}

// The predict of before issue 17, kept here to time before and after in one process: the head
// GEMV (action_logits), then a max pass, an exp-sum pass and a top-k scan that skips 64-logit
// blocks by a third pass (f32_max per block) over the V logits.
size_t predict_before(hunch::Sequence& seq, const hunch::KernelTable& kt, size_t k, hunch::Prediction* out) {
  const float* logits = seq.action_logits();
  const size_t V = seq.model().hyper().vocab_size;
  const float mx = kt.f32_max(V, logits);
  const float sum = kt.f32_exp_sum(V, logits, mx, nullptr);
  constexpr size_t kBlock = 64;
  size_t n = 0;
  for (size_t start = 1; start < V; start += kBlock) {
    const size_t end = std::min(V, start + kBlock);
    if (n == k && !(kt.f32_max(end - start, logits + start) > logits[out[n - 1].action])) continue;
    for (size_t id = start; id < end; ++id) {
      const float v = logits[id];
      if (n == k && !(v > logits[out[n - 1].action])) continue;
      size_t pos = n < k ? n++ : k - 1;
      while (pos > 0 && v > logits[out[pos - 1].action]) {
        out[pos] = out[pos - 1];
        --pos;
      }
      out[pos].action = uint32_t(id);
    }
  }
  for (size_t i = 0; i < n; ++i) out[i].probability = hunch::hunch_expf(logits[out[i].action] - mx) / sum;
  return n;
}

// --profile: where the microseconds of push + top-10 go, int8, no copy/transition terms, at
// vocabulary V. Per event: push; predict (logits + softmax denominator + top-10); and, on the
// same model and logits, the action head's kernels alone: the int8 GEMV (V×D), the max pass,
// the exp-sum pass and the per-64 block maxima. "rest of predict" = predict − the kernels it
// runs, timed alone (the top-10 scan, z's quantisation). Medians over `calls` events.
void profile(hunch::Arch arch, uint32_t V, size_t calls, const char* platform) {
  hunch_test::ModelSpec spec = hunch_test::default_spec(arch, true);
  spec.hyper.vocab_size = V;
  auto bytes = hunch_test::build_model(spec);
  std::unique_ptr<hunch::Model> model;
  if (hunch::Error e = hunch::Model::load(bytes.data(), bytes.size(), &model)) {
    std::fprintf(stderr, "bench-push: %s\n", e.message.c_str());
    std::exit(1);
  }
  const hunch::KernelTable& k = hunch::kernels_default();
  hunch::Sequence seq(*model);
  std::mt19937_64 rng(1);
  std::vector<hunch::Prediction> top(10);
  const hunch::Matrix& head = model->weights().head_action;
  const size_t D = head.cols;
  std::vector<int8_t> xq(D);
  std::vector<float> y(V), bmax((V + hunch::kHeadBlock - 1) / hunch::kHeadBlock);
  double t = 1.7e9;
  auto next = [&] {
    hunch::Event e;
    e.action = 1 + uint32_t(rng() % (V - 1));
    e.type = uint32_t(rng() % model->hyper().type_count);
    t += double(rng() % 600);
    e.time = t;
    return e;
  };
  for (size_t i = 0; i < std::max<size_t>(2 * model->hyper().window, 500); ++i) {
    seq.push(next());
    seq.predict(10, top.data());
  }
  std::vector<double> push_us(calls), predict_us(calls), gemv_us(calls), max_us(calls), expsum_us(calls),
      blockmax_us(calls), before_us(calls);
  std::vector<hunch::Prediction> top_before(10);
  size_t differ = 0;
  volatile float sink = 0;
  for (size_t i = 0; i < calls; ++i) {
    hunch::Event e = next();
    // predict and predict_before alternate in order, so that neither always finds the head's
    // weights in cache after the other.
    double t0 = now_us();
    seq.push(e);
    double t1 = now_us();
    double t2, t3b;
    if (i % 2) {
      seq.predict(10, top.data());
      t2 = now_us();
      predict_before(seq, k, 10, top_before.data());
      t3b = now_us();
      predict_us[i] = t2 - t1;
      before_us[i] = t3b - t2;
    } else {
      predict_before(seq, k, 10, top_before.data());
      t2 = now_us();
      seq.predict(10, top.data());
      t3b = now_us();
      before_us[i] = t2 - t1;
      predict_us[i] = t3b - t2;
    }
    push_us[i] = t1 - t0;
    for (size_t j = 0; j < 10; ++j) differ += top[j].action != top_before[j].action;
    const float* logits = seq.action_logits();
    for (size_t c = 0; c < D; ++c) xq[c] = int8_t(int(rng() % 255) - 127);
    t0 = now_us();
    k.qs8_gemv(V, D, head.i8, head.scales, xq.data(), 0.01f, model->weights().head_action_b.data, y.data());
    t1 = now_us();
    const float mx = k.f32_max(V, logits);
    t2 = now_us();
    sink = sink + k.f32_exp_sum(V, logits, mx, nullptr);
    double t3 = now_us();
    k.f32_block_max(V, logits, bmax.data());
    double t4 = now_us();
    gemv_us[i] = t1 - t0;
    max_us[i] = t2 - t1;
    expsum_us[i] = t3 - t2;
    blockmax_us[i] = t4 - t3;
  }
  auto med = [](std::vector<double> v) { std::sort(v.begin(), v.end()); return v[v.size() / 2]; };
  std::printf("{\"platform\":\"%s\",\"profile\":\"%s\",\"V\":%u,\"kernels\":\"%s\",\"calls\":%zu,"
              "\"push_us\":%.2f,\"predict_us\":%.2f,\"gemv_us\":%.2f,\"max_us\":%.2f,\"expsum_us\":%.2f,"
              "\"block_max_us\":%.2f,\"predict_before_us\":%.2f,\"top10_ids_differing\":%zu,\"model_bytes\":%zu}\n",
              platform, hunch::arch_name(arch), V, hunch::kernels_name(k), calls, med(push_us), med(predict_us),
              med(gemv_us), med(max_us), med(expsum_us), med(blockmax_us), med(before_us), differ, bytes.size());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  size_t calls = 5000;
  bool prof = argc > 1 && std::strcmp(argv[1], "--profile") == 0;
  if (prof) { ++argv; --argc; }
  if (argc > 1) calls = size_t(std::strtoul(argv[1], nullptr, 10));
  if (calls < 100) calls = 100;
  if (const char* env = std::getenv("HUNCH_KERNELS"); env && *env) {
    if (hunch::Error e = hunch::set_default_kernels(env)) {
      std::fprintf(stderr, "bench-push: HUNCH_KERNELS: %s\n", e.message.c_str());
      return 2;
    }
  }
#ifdef __EMSCRIPTEN__
  const char* platform = "wasm";
#else
  const char* platform = "native";
#endif
  if (prof) {  // bench-push --profile [calls] [V...]
    std::vector<uint32_t> vs;
    for (int i = 2; i < argc; ++i) vs.push_back(uint32_t(std::strtoul(argv[i], nullptr, 10)));
    if (vs.empty()) vs.push_back(3707);
    for (uint32_t V : vs)
      for (hunch::Arch arch : {hunch::Arch::LSTM_ATTN, hunch::Arch::TRANSFORMER}) profile(arch, V, calls, platform);
    return 0;
  }
  for (hunch::Arch arch : {hunch::Arch::LSTM_ATTN, hunch::Arch::TRANSFORMER}) {
    for (bool int8 : {true, false}) run(arch, int8, false, calls, platform);
    run(arch, true, true, calls, platform);
    run(arch, true, true, calls, platform, 256);  // --copy-window 256: its cost (issue 14's +10%)
  }
  return 0;
}
