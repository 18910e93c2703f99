// Timing of qs8_gemv (and the per-step helpers) for every kernel implementation in this build, at
// the model's shapes. Not a test: numbers only. CMake target bench-kernels; run: README.md here.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "kernels/kernels.h"

namespace {

struct Shape {
  size_t rows, cols;
  const char* what;
};

const Shape kShapes[] = {
    {3707, 64, "output head"},
    {512, 64, "LSTM w_ih (H=128, D=64)"},
    {512, 128, "LSTM w_hh (H=128)"},
    {64, 128, "attention projection"},
    {64, 256, "attention projection"},
};

double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

uint32_t lcg(uint32_t& s) { return s = s * 1664525u + 1013904223u; }

// Repeats fn until at least 0.2 s have passed, returns seconds per call (best of 3 rounds).
template <class F>
double time_per_call(F&& fn) {
  double best = 1e30;
  for (int round = 0; round < 3; ++round) {
    size_t calls = 0;
    const double t0 = now_s();
    double t1 = t0;
    do {
      for (int i = 0; i < 16; ++i) fn();
      calls += 16;
      t1 = now_s();
    } while (t1 - t0 < 0.2);
    best = std::min(best, (t1 - t0) / double(calls));
  }
  return best;
}

}  // namespace

int main() {
  std::vector<const hunch::KernelTable*> impls{&hunch::kernels_ref()};
  for (const char* name : {"wasm-simd128", "xnnpack"}) {
    if (const hunch::KernelTable* t = hunch::kernels_by_name(name)) impls.push_back(t);
  }
  uint32_t seed = 12345;
  std::printf("%-14s %-26s %6s %5s %10s %8s\n", "kernels", "shape", "rows", "cols", "us/call", "GMAC/s");
  for (const Shape& s : kShapes) {
    std::vector<int8_t> w(s.rows * s.cols), xq(s.cols);
    std::vector<float> scale(s.rows, 0.01f), bias(s.rows, 0.5f), y(s.rows);
    for (auto& v : w) v = int8_t(int(lcg(seed) >> 24) - 128);
    for (auto& v : xq) v = int8_t(int(lcg(seed) % 255) - 127);
    for (const hunch::KernelTable* t : impls) {
      const double sec = time_per_call([&] {
        t->qs8_gemv(s.rows, s.cols, w.data(), scale.data(), xq.data(), 0.02f, bias.data(), y.data());
      });
      std::printf("%-14s %-26s %6zu %5zu %10.3f %8.2f\n", t->name, s.what, s.rows, s.cols, sec * 1e6,
                  double(s.rows * s.cols) / sec * 1e-9);
    }
  }
  // The other per-step kernels at the head's size: quantise the 64-wide input, softmax over 3707.
  std::vector<float> x(3707), out(3707);
  std::vector<int8_t> q(3707);
  for (auto& v : x) v = float(int(lcg(seed) % 2001) - 1000) * 0.01f;
  for (const hunch::KernelTable* t : impls) {
    const double tq = time_per_call([&] { t->f32_quantize_qs8(64, x.data(), q.data()); });
    const double te = time_per_call([&] { t->f32_exp_sum(3707, x.data(), 10.0f, out.data()); });
    std::printf("%-14s f32_quantize_qs8(64) %.3f us, f32_exp_sum(3707) %.3f us\n", t->name, tq * 1e6,
                te * 1e6);
  }
  // The per-64 block maxima the top-k reads, at V = 3,707 and 100,000, against one f32_max pass.
  for (size_t V : {size_t(3707), size_t(100000)}) {
    std::vector<float> y(V), bmax((V + hunch::kHeadBlock - 1) / hunch::kHeadBlock);
    for (auto& v : y) v = float(int(lcg(seed) % 2001) - 1000) * 0.01f;
    for (const hunch::KernelTable* t : impls) {
      volatile float sink = 0;
      const double mx = time_per_call([&] { sink = sink + t->f32_max(V, y.data()); });
      const double bm = time_per_call([&] { t->f32_block_max(V, y.data(), bmax.data()); });
      std::printf("%-14s V=%zu: f32_max %.2f us, f32_block_max %.2f us\n", t->name, V, mx * 1e6, bm * 1e6);
    }
  }
  return 0;
}
