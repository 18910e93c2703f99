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
#include "hunch/sequence.h"
#include "model-builder.h"

namespace {

double now_us() {
  using namespace std::chrono;
  return double(duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count()) / 1000.0;
}

// terms: the same shape with the action head's copy terms and a transition table of 16
// successors per action (issue 14's cost: push + top-10 at most +10%).
void run(hunch::Arch arch, bool int8, bool terms, size_t calls, const char* platform) {
  hunch_test::ModelSpec spec = hunch_test::default_spec(arch, int8);
  if (terms) {
    spec.hyper.copy = 1;
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
              platform, (std::string(hunch::arch_name(arch)) + (terms ? "+copy+transitions" : "")).c_str(),
              int8 ? "int8" : "f32", hunch::kernels_name(hunch::kernels_default()), calls,
              us[calls / 2], us[calls * 95 / 100], us[0], bytes.size(), seq.state_bytes(), checksum);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  size_t calls = 5000;
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
  for (hunch::Arch arch : {hunch::Arch::LSTM_ATTN, hunch::Arch::TRANSFORMER}) {
    for (bool int8 : {true, false}) run(arch, int8, false, calls, platform);
    run(arch, true, true, calls, platform);
  }
  return 0;
}
