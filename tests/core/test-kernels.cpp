// Parity tests for the kernel table (kernels/kernels.h, a private header of the core: this test
// links the white-box target hunch_core_internal), and the public choice of table
// (hunch/kernels.h). One source, run against every implementation the build has — ref always, wasm-simd128 in the Emscripten build, xnnpack in a
// native build with libxnnpack. The reference itself is checked against independent formulas
// (int64 sums, double precision, std::exp), every other implementation against the reference:
//   qs8_gemv, f32_quantize_qs8       bit-exact (memcmp), except xnnpack's qs8_gemv (see below);
//   f32 kernels                      relative 1e-5 of the size of the result's terms;
//   hunch_expf                       relative 3e-7 of std::exp on [-87, 88];
//   hunch_sigmoidf / hunch_tanhf     absolute 1e-6.
// Sizes 1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33 hit every tail of 4/8/16-wide kernels; every test
// counts the cases it ran and fails when there were none.
#include <doctest/doctest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "hunch/rng.h"
#include "kernels/kernels.h"

namespace {

using hunch::KernelTable;

const size_t kSizes[] = {1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33, 64, 100, 128, 257};

// Random test inputs from the one stream (hunch/rng.h): the same numbers on every platform.
struct Rng : hunch::Rng {
  using hunch::Rng::Rng;
  int   int_in(int lo, int hi) { return lo + int(below(uint64_t(hi - lo + 1))); }
  float uniform(float lo, float hi) { return lo + (hi - lo) * hunch::Rng::uniform(); }
};

std::vector<const KernelTable*> implementations() {
  std::vector<const KernelTable*> out{&hunch::kernels_ref()};
  for (const char* name : {"wasm-simd128", "xnnpack"}) {
    if (const KernelTable* t = hunch::kernels_by_name(name)) out.push_back(t);
  }
  return out;
}

bool is_ref(const KernelTable* t) { return t == &hunch::kernels_ref(); }
bool is_xnnpack(const KernelTable* t) { return std::strcmp(t->name, "xnnpack") == 0; }

// |got − want| <= rel · scale, scale being the size of the terms that made `want` (Σ|a·b| for a
// dot product): a plain relative error is meaningless when the terms cancel.
bool close_rel(double got, double want, double scale, double rel) {
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(want)) return got == want;
  return std::fabs(got - want) <= rel * std::max(scale, 1e-30);
}

enum class Fill { kRandom, kExtreme, kZeroInput };

struct Qs8Case {
  size_t rows, cols;
  std::vector<int8_t> w, xq;
  std::vector<float> w_scale, bias;
  float x_scale;
};

Qs8Case make_qs8_case(size_t rows, size_t cols, Fill fill, Rng& rng) {
  Qs8Case k{rows, cols, std::vector<int8_t>(rows * cols), std::vector<int8_t>(cols),
            std::vector<float>(rows), std::vector<float>(rows), rng.uniform(1e-4f, 0.1f)};
  for (size_t i = 0; i < k.w.size(); ++i) {
    // Extreme: only ±127 and −128 (int8 products at their largest; −128 is legal for the kernel
    // even though our quantiser never writes it).
    k.w[i] = fill == Fill::kExtreme ? int8_t((rng.next() & 1) ? 127 : (rng.next() & 1) ? -127 : -128)
                                    : int8_t(rng.int_in(-128, 127));
  }
  for (size_t c = 0; c < cols; ++c) {
    // x stays in the quantiser's range [-127, 127], the range xnnpack's bound assumes.
    k.xq[c] = fill == Fill::kZeroInput ? 0
              : fill == Fill::kExtreme ? int8_t((rng.next() & 1) ? 127 : -127)
                                       : int8_t(rng.int_in(-127, 127));
  }
  for (size_t r = 0; r < rows; ++r) {
    k.w_scale[r] = rng.uniform(1e-4f, 0.05f);
    k.bias[r] = rng.uniform(-2.0f, 2.0f);
  }
  return k;
}

// The reference's formula with an independently computed (int64) sum.
std::vector<float> qs8_expected(const Qs8Case& k, bool with_bias) {
  std::vector<float> y(k.rows);
  for (size_t r = 0; r < k.rows; ++r) {
    int64_t acc = 0;
    for (size_t c = 0; c < k.cols; ++c) acc += int64_t(k.w[r * k.cols + c]) * k.xq[c];
    float v = float(int32_t(acc)) * (k.w_scale[r] * k.x_scale);
    if (with_bias) v += k.bias[r];
    y[r] = v;
  }
  return y;
}

// xnnpack/README.md: the operator's int8 output has step S·x_scale with S = max_r w_scale[r]·
// Σ_c|w[r][c]| (no clipping for |xq| <= 127), so each output is off by at most half a step; 1e-4
// of a step covers XNNPACK's float requantisation scale, 4 ulp our float epilogue.
float xnnpack_bound(const Qs8Case& k, float y_ref) {
  double s = 0.0;
  for (size_t r = 0; r < k.rows; ++r) {
    double l1 = 0.0;
    for (size_t c = 0; c < k.cols; ++c) l1 += std::abs(int(k.w[r * k.cols + c]));
    s = std::max(s, double(k.w_scale[r]) * l1);
  }
  return float((0.5 + 1e-4) * s * k.x_scale + 4.0 * FLT_EPSILON * std::fabs(y_ref) + 1e-30);
}

}  // namespace

TEST_CASE("kernels: implementations under test") {
  const auto impls = implementations();
  std::string names;
  for (const KernelTable* t : impls) {
    REQUIRE(t->name != nullptr);
    names += names.empty() ? t->name : std::string(", ") + t->name;
  }
  MESSAGE("kernel implementations tested: " << names);
  CHECK(impls.size() >= 1);
  CHECK(std::string(hunch::kernels_ref().name) == "ref");
  CHECK(hunch::kernels_by_name("no-such-kernels") == nullptr);
  CHECK(hunch::kernels_by_name(nullptr) == nullptr);

  // The default is the table HUNCH_KERNELS names (tests/doctest-main.cpp passes it in), else
  // SIMD128 where built, else the reference (never xnnpack: it rounds outputs to 8 bits).
  const KernelTable* want = hunch::kernels_wasm_simd128() ? hunch::kernels_wasm_simd128()
                                                          : &hunch::kernels_ref();
  if (const char* env = std::getenv("HUNCH_KERNELS"); env && *env) want = hunch::kernels_by_name(env);
  CHECK(&hunch::kernels_default() == want);
}

TEST_CASE("kernels: the public choice of table (hunch/kernels.h)") {
  const auto impls = implementations();
  const std::vector<std::string> names = hunch::kernels_available();
  REQUIRE(names.size() == impls.size());
  CHECK(names[0] == "ref");
  std::string listed;
  for (size_t i = 0; i < names.size(); ++i) {
    CHECK(hunch::kernels_by_name(names[i].c_str()) == impls[i]);
    CHECK(std::string(hunch::kernels_name(*impls[i])) == names[i]);
    listed += (i ? ", " : "") + names[i];
  }

  const KernelTable* before = &hunch::kernels_default();
  // An unknown name, a table of another build and a name with a NUL byte are errors naming the
  // table asked for and the available ones; the default stays.
  for (const std::string& bad : {std::string("no-such-kernels"), std::string("REF"), std::string("ref\0x", 5),
                                 std::string(hunch::kernels_wasm_simd128() ? "xnnpack" : "wasm-simd128")}) {
    CAPTURE(bad);
    hunch::Error e = hunch::set_default_kernels(bad);
    REQUIRE(e);
    CHECK(e.message == "kernel table '" + bad + "' is not available in this build (available: " + listed + ")");
    CHECK(&hunch::kernels_default() == before);
  }
  // Every available name becomes the default; the previous default comes back the same way.
  for (const std::string& name : names) {
    CAPTURE(name);
    CHECK(!hunch::set_default_kernels(name));
    CHECK(&hunch::kernels_default() == hunch::kernels_by_name(name.c_str()));
  }
  CHECK(!hunch::set_default_kernels(hunch::kernels_name(*before)));
  CHECK(&hunch::kernels_default() == before);
}

TEST_CASE("kernels: qs8_gemv is bit-exact with the reference") {
  for (const KernelTable* impl : implementations()) {
    Rng rng(0x5EED0001);
    size_t cases = 0, xnn_worst_rows = 0;
    double xnn_worst_ratio = 0.0;
    for (size_t rows : kSizes) {
      for (size_t cols : kSizes) {
        for (Fill fill : {Fill::kRandom, Fill::kExtreme, Fill::kZeroInput}) {
          const Qs8Case k = make_qs8_case(rows, cols, fill, rng);
          for (bool with_bias : {false, true}) {
            const float* bias = with_bias ? k.bias.data() : nullptr;
            std::vector<float> ref(rows), got(rows, -1.0f);
            hunch::kernels_ref().qs8_gemv(rows, cols, k.w.data(), k.w_scale.data(), k.xq.data(),
                                          k.x_scale, bias, ref.data());
            impl->qs8_gemv(rows, cols, k.w.data(), k.w_scale.data(), k.xq.data(), k.x_scale, bias,
                           got.data());
            ++cases;
            if (is_ref(impl)) {
              const std::vector<float> want = qs8_expected(k, with_bias);
              INFO(std::string(impl->name) << " rows=" << rows << " cols=" << cols << " bias=" << with_bias);
              CHECK(std::memcmp(got.data(), want.data(), rows * sizeof(float)) == 0);
            } else if (is_xnnpack(impl)) {
              for (size_t r = 0; r < rows; ++r) {
                const float bound = xnnpack_bound(k, ref[r]);
                const double err = std::fabs(double(got[r]) - ref[r]);
                if (err / bound > xnn_worst_ratio) {
                  xnn_worst_ratio = err / bound;
                  xnn_worst_rows = rows;
                }
                if (!(err <= bound)) {
                  INFO("xnnpack rows=" << rows << " cols=" << cols << " r=" << r << " got="
                                       << got[r] << " ref=" << ref[r] << " bound=" << bound);
                  CHECK(err <= bound);
                }
              }
            } else {
              INFO(std::string(impl->name) << " rows=" << rows << " cols=" << cols << " bias=" << with_bias);
              CHECK(std::memcmp(got.data(), ref.data(), rows * sizeof(float)) == 0);
            }
          }
        }
      }
    }
    if (is_xnnpack(impl)) {
      MESSAGE("xnnpack qs8_gemv: worst error / stated bound = " << xnn_worst_ratio
                                                                << " (rows=" << xnn_worst_rows << ")");
    }
    INFO(std::string(impl->name));
    CHECK(cases == 15 * 15 * 3 * 2);
  }
}

TEST_CASE("kernels: qs8_gemv repeated on the same weights (operator caches)") {
  // xnnpack packs weights once per matrix and caches by pointer; new x every call must still be
  // honoured, and new scales at the same address must not reuse the stale operator.
  for (const KernelTable* impl : implementations()) {
    Rng rng(0x5EED0002);
    Qs8Case k = make_qs8_case(37, 64, Fill::kRandom, rng);
    size_t cases = 0, inexact = 0;
    for (int call = 0; call < 6; ++call) {
      for (auto& v : k.xq) v = int8_t(rng.int_in(-127, 127));
      if (call == 3) {
        for (auto& s : k.w_scale) s = rng.uniform(1e-4f, 0.05f);
      }
      std::vector<float> ref(k.rows), got(k.rows);
      hunch::kernels_ref().qs8_gemv(k.rows, k.cols, k.w.data(), k.w_scale.data(), k.xq.data(),
                                    k.x_scale, k.bias.data(), ref.data());
      impl->qs8_gemv(k.rows, k.cols, k.w.data(), k.w_scale.data(), k.xq.data(), k.x_scale,
                     k.bias.data(), got.data());
      for (size_t r = 0; r < k.rows; ++r) {
        INFO(std::string(impl->name) << " call=" << call << " r=" << r);
        if (is_xnnpack(impl)) {
          CHECK(std::fabs(got[r] - ref[r]) <= xnnpack_bound(k, ref[r]));
          inexact += got[r] != ref[r];
        } else {
          CHECK(got[r] == ref[r]);
        }
        ++cases;
      }
    }
    CHECK(cases > 0);
    // The 8-bit output cannot match the reference everywhere: if it does, the XNNPACK operator
    // was not used (creation failed and the reference fallback ran).
    if (is_xnnpack(impl)) CHECK(inexact > 0);
  }
}

TEST_CASE("kernels: qs8_gemv with all-zero rows and zero scales") {
  // Degenerate rows a real model has (pruned or never-trained outputs); xnnpack must special-case
  // them (a zero row's scale is unconstrained, and XNNPACK limits kernel/output scale ratios).
  for (const KernelTable* impl : implementations()) {
    Rng rng(0x5EED0006);
    size_t cases = 0;
    for (size_t rows : {size_t(3), size_t(17), size_t(64)}) {
      Qs8Case k = make_qs8_case(rows, 33, Fill::kRandom, rng);
      for (size_t c = 0; c < k.cols; ++c) k.w[c] = 0;  // row 0: all-zero weights, large scale
      k.w_scale[0] = 1e3f;
      k.w_scale[1] = 0.0f;  // row 1: scale 0
      std::vector<float> ref(rows), got(rows);
      hunch::kernels_ref().qs8_gemv(rows, k.cols, k.w.data(), k.w_scale.data(), k.xq.data(),
                                    k.x_scale, k.bias.data(), ref.data());
      impl->qs8_gemv(rows, k.cols, k.w.data(), k.w_scale.data(), k.xq.data(), k.x_scale,
                     k.bias.data(), got.data());
      INFO(std::string(impl->name) << " rows=" << rows);
      CHECK(got[0] == k.bias[0]);
      CHECK(got[1] == k.bias[1]);
      for (size_t r = 0; r < rows; ++r) {
        if (is_xnnpack(impl)) {
          CHECK(std::fabs(got[r] - ref[r]) <= xnnpack_bound(k, ref[r]));
        } else {
          CHECK(got[r] == ref[r]);
        }
        ++cases;
      }
    }
    CHECK(cases > 0);
  }
}

TEST_CASE("kernels: f32_quantize_qs8 is bit-exact with the reference") {
  for (const KernelTable* impl : implementations()) {
    Rng rng(0x5EED0003);
    size_t cases = 0;
    for (size_t n : kSizes) {
      for (int pattern = 0; pattern < 4; ++pattern) {
        std::vector<float> x(n);
        for (size_t i = 0; i < n; ++i) {
          switch (pattern) {
            case 0: x[i] = rng.uniform(-3.0f, 3.0f); break;
            case 1: x[i] = 0.0f; break;
            // Halfway cases: with max|x| = 127 the scale is exactly 1, so k + 0.5 is a tie.
            case 2: x[i] = float(rng.int_in(-126, 125)) + 0.5f; break;
            default: x[i] = (rng.next() & 1) ? 1e-30f : -5e4f; break;
          }
        }
        if (pattern == 2) x[rng.int_in(0, int(n) - 1)] = (rng.next() & 1) ? 127.0f : -127.0f;
        std::vector<int8_t> ref(n), got(n, 99);
        const float s_ref = hunch::kernels_ref().f32_quantize_qs8(n, x.data(), ref.data());
        const float s_got = impl->f32_quantize_qs8(n, x.data(), got.data());
        INFO(std::string(impl->name) << " n=" << n << " pattern=" << pattern);
        CHECK(std::memcmp(&s_got, &s_ref, sizeof(float)) == 0);
        CHECK(std::memcmp(got.data(), ref.data(), n) == 0);
        if (is_ref(impl)) {
          // The header's definition, computed independently.
          float m = 0.0f;
          for (float v : x) m = std::max(m, std::fabs(v));
          CHECK(s_ref == (m == 0.0f ? 0.0f : m / 127.0f));
          for (size_t i = 0; i < n; ++i) {
            const float want = m == 0.0f ? 0.0f
                                         : std::min(127.0f, std::max(-127.0f, std::nearbyint(x[i] * (127.0f / m))));
            CHECK(float(ref[i]) == want);
          }
        }
        ++cases;
      }
    }
    std::vector<int8_t> none(1, 5);
    CHECK(impl->f32_quantize_qs8(0, nullptr, none.data()) == 0.0f);
    CHECK(cases == 15 * 4);
  }
}

TEST_CASE("kernels: f32 kernels match the reference within relative 1e-5") {
  constexpr double kRel = 1e-5;
  for (const KernelTable* impl : implementations()) {
    const KernelTable& ref = hunch::kernels_ref();
    Rng rng(0x5EED0004);
    size_t cases = 0;
    for (size_t n : kSizes) {
      INFO(std::string(impl->name) << " n=" << n);
      std::vector<float> a(n), b(n), g(n), bb(n);
      for (size_t i = 0; i < n; ++i) {
        a[i] = rng.uniform(-4.0f, 4.0f);
        b[i] = rng.uniform(-4.0f, 4.0f);
        g[i] = rng.uniform(0.5f, 1.5f);
        bb[i] = rng.uniform(-0.5f, 0.5f);
      }
      double abs_dot = 0.0, dot64 = 0.0;
      for (size_t i = 0; i < n; ++i) {
        abs_dot += std::fabs(double(a[i]) * b[i]);
        dot64 += double(a[i]) * b[i];
      }

      // dot: against the reference and (for the reference) against double precision.
      const float d = impl->f32_dot(n, a.data(), b.data());
      CHECK(close_rel(d, ref.f32_dot(n, a.data(), b.data()), abs_dot, kRel));
      CHECK(close_rel(d, dot64, abs_dot, kRel));

      // axpy: no reduction, every element within 1e-5 of the reference's.
      std::vector<float> y1(b), y2(b);
      ref.f32_axpy(n, 0.75f, a.data(), y1.data());
      impl->f32_axpy(n, 0.75f, a.data(), y2.data());
      for (size_t i = 0; i < n; ++i) {
        CHECK(close_rel(y2[i], y1[i], std::fabs(b[i]) + 0.75 * std::fabs(a[i]), kRel));
      }

      // max: exact (a comparison has no rounding).
      CHECK(impl->f32_max(n, a.data()) == ref.f32_max(n, a.data()));

      // exp_sum: the sum within 1e-5; each exp is hunch_expf (within 1e-6 relative).
      std::vector<float> e1(n), e2(n);
      const float shift = ref.f32_max(n, a.data());
      const float s1 = ref.f32_exp_sum(n, a.data(), shift, e1.data());
      const float s2 = impl->f32_exp_sum(n, a.data(), shift, e2.data());
      const float s3 = impl->f32_exp_sum(n, a.data(), shift, nullptr);
      CHECK(close_rel(s2, s1, s1, kRel));
      CHECK(s3 == s2);
      double s64 = 0.0;
      for (size_t i = 0; i < n; ++i) {
        CHECK(close_rel(e2[i], hunch::hunch_expf(a[i] - shift), e2[i], 1e-6));
        s64 += std::exp(double(a[i]) - shift);
      }
      CHECK(close_rel(s2, s64, s64, kRel));

      // layernorm, with and without the affine parameters.
      double mean = 0.0, var = 0.0;
      for (float v : a) mean += v;
      mean /= double(n);
      for (float v : a) var += (v - mean) * (v - mean);
      var /= double(n);
      const double inv = 1.0 / std::sqrt(var + 1e-5);
      for (bool affine : {true, false}) {
        std::vector<float> l1(n), l2(n);
        const float* gp = affine ? g.data() : nullptr;
        const float* bp = affine ? bb.data() : nullptr;
        ref.f32_layernorm(n, a.data(), gp, bp, 1e-5f, l1.data());
        impl->f32_layernorm(n, a.data(), gp, bp, 1e-5f, l2.data());
        for (size_t i = 0; i < n; ++i) {
          const double want = (a[i] - mean) * inv * (affine ? g[i] : 1.0) + (affine ? bb[i] : 0.0);
          // The scale of a normalised value is ~1 (|x − mean|/σ plus the bias).
          const double scale = std::fabs((a[i] - mean) * inv) + 1.0;
          CHECK(close_rel(l2[i], l1[i], scale, kRel));
          CHECK(close_rel(l2[i], want, scale, kRel));
        }
      }

      // lstm_cell: h and c against the reference and against the formula in double.
      {
        const size_t hidden = n;
        std::vector<float> gates(4 * hidden), h1(hidden), c1(hidden);
        for (auto& v : gates) v = rng.uniform(-6.0f, 6.0f);
        for (auto& v : c1) v = rng.uniform(-2.0f, 2.0f);
        std::vector<float> h2(h1), c2(c1), c0(c1);
        ref.f32_lstm_cell(hidden, gates.data(), h1.data(), c1.data());
        impl->f32_lstm_cell(hidden, gates.data(), h2.data(), c2.data());
        auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
        for (size_t j = 0; j < hidden; ++j) {
          const double c = sig(gates[hidden + j]) * c0[j] + sig(gates[j]) * std::tanh(gates[2 * hidden + j]);
          const double h = sig(gates[3 * hidden + j]) * std::tanh(c);
          CHECK(close_rel(c2[j], c1[j], std::fabs(c0[j]) + 1.0, kRel));
          CHECK(close_rel(h2[j], h1[j], 1.0, kRel));
          CHECK(std::fabs(c2[j] - c) <= 4e-6);
          CHECK(std::fabs(h2[j] - h) <= 4e-6);
        }
      }

      // gemv: every (rows = n, cols) pair, with and without bias.
      for (size_t cols : kSizes) {
        std::vector<float> w(n * cols), x(cols), bias(n);
        for (auto& v : w) v = rng.uniform(-1.0f, 1.0f);
        for (auto& v : x) v = rng.uniform(-1.0f, 1.0f);
        for (auto& v : bias) v = rng.uniform(-1.0f, 1.0f);
        for (bool with_bias : {false, true}) {
          std::vector<float> g1(n), g2(n);
          const float* bp = with_bias ? bias.data() : nullptr;
          ref.f32_gemv(n, cols, w.data(), x.data(), bp, g1.data());
          impl->f32_gemv(n, cols, w.data(), x.data(), bp, g2.data());
          for (size_t r = 0; r < n; ++r) {
            double scale = with_bias ? std::fabs(bias[r]) : 0.0, want = with_bias ? bias[r] : 0.0;
            for (size_t c = 0; c < cols; ++c) {
              scale += std::fabs(double(w[r * cols + c]) * x[c]);
              want += double(w[r * cols + c]) * x[c];
            }
            INFO("gemv cols=" << cols << " r=" << r << " bias=" << with_bias);
            CHECK(close_rel(g2[r], g1[r], scale, kRel));
            CHECK(close_rel(g2[r], want, scale, kRel));
          }
        }
      }
      ++cases;
    }
    CHECK(impl->f32_max(0, nullptr) == -std::numeric_limits<float>::infinity());
    CHECK(impl->f32_exp_sum(0, nullptr, 0.0f, nullptr) == 0.0f);
    CHECK(impl->f32_dot(0, nullptr, nullptr) == 0.0f);
    CHECK(cases == 15);
  }
}

TEST_CASE("kernels: SIMD exp, sigmoid and tanh are bit-identical to the scalar ones") {
  // f32_exp_sum and f32_lstm_cell are the only vector users of the polynomial; compare their
  // per-element output with the scalar functions over the whole range, saturation included.
  for (const KernelTable* impl : implementations()) {
    std::vector<float> x;
    for (float v = -100.0f; v <= 100.0f; v += 0.01171875f) x.push_back(v);
    for (float v : {-87.3f, -87.29999f, 88.7f, 88.70001f, -87.31f, 0.0f, -0.0f, 1e-30f,
                    std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()})
      x.push_back(v);
    std::vector<float> e(x.size());
    impl->f32_exp_sum(x.size(), x.data(), 0.0f, e.data());
    size_t mismatches = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const float want = hunch::hunch_expf(x[i]);
      if (std::memcmp(&e[i], &want, sizeof(float)) != 0 && ++mismatches <= 5) {
        INFO(std::string(impl->name) << " x=" << x[i] << " got=" << e[i] << " want=" << want);
        CHECK(close_rel(e[i], want, want, 1e-6));
      }
    }
    MESSAGE(std::string(impl->name) << ": exp elements differing in any bit from hunch_expf: " << mismatches
                       << " of " << x.size());
    CHECK(x.size() > 0);
  }
}

TEST_CASE("kernels: hunch_expf against std::exp") {
  size_t cases = 0;
  double worst = 0.0;
  float worst_x = 0.0f;
  Rng rng(0x5EED0005);
  // A dense regular grid (step ≈ 8.5e-5, ~2M points) plus 200k random points.
  auto check = [&](float x) {
    const double want = std::exp(double(x));
    const double rel = std::fabs(hunch::hunch_expf(x) - want) / want;
    if (rel > worst) {
      worst = rel;
      worst_x = x;
    }
    ++cases;
  };
  for (int i = 0; i <= 2000000; ++i) check(-87.0f + 175.0f * float(i) / 2000000.0f);
  for (int i = 0; i < 200000; ++i) check(rng.uniform(-87.0f, 88.0f));
  MESSAGE("hunch_expf: worst relative error " << worst << " at x=" << worst_x << " over "
                                              << cases << " points");
  CHECK(cases > 0);
  CHECK(worst < 3e-7);

  // Saturation outside [-87.3, 88.7], and IEEE special values.
  const float inf = std::numeric_limits<float>::infinity();
  for (float x : {-87.31f, -88.0f, -100.0f, -1e30f, -inf}) CHECK(hunch::hunch_expf(x) == 0.0f);
  for (float x : {88.71f, 89.0f, 100.0f, 1e30f, inf}) CHECK(hunch::hunch_expf(x) == inf);
  CHECK(std::isfinite(hunch::hunch_expf(88.7f)));
  CHECK(hunch::hunch_expf(-87.3f) > 0.0f);
  CHECK(hunch::hunch_expf(0.0f) == 1.0f);
  CHECK(std::isnan(hunch::hunch_expf(std::numeric_limits<float>::quiet_NaN())));
}

TEST_CASE("kernels: hunch_sigmoidf and hunch_tanhf against std, absolute 1e-6") {
  size_t cases = 0;
  double worst_s = 0.0, worst_t = 0.0;
  for (int i = -400000; i <= 400000; ++i) {
    const float x = float(i) * 5e-5f;  // [-20, 20]
    worst_s = std::max(worst_s, std::fabs(hunch::hunch_sigmoidf(x) - 1.0 / (1.0 + std::exp(-double(x)))));
    worst_t = std::max(worst_t, std::fabs(hunch::hunch_tanhf(x) - std::tanh(double(x))));
    ++cases;
  }
  MESSAGE("sigmoid worst abs error " << worst_s << ", tanh " << worst_t);
  CHECK(cases > 0);
  CHECK(worst_s < 1e-6);
  CHECK(worst_t < 1e-6);
  const float inf = std::numeric_limits<float>::infinity();
  for (float x : {100.0f, 1e30f, inf}) {
    CHECK(hunch::hunch_sigmoidf(x) == 1.0f);
    CHECK(hunch::hunch_sigmoidf(-x) == 0.0f);
    CHECK(hunch::hunch_tanhf(x) == 1.0f);
    CHECK(hunch::hunch_tanhf(-x) == -1.0f);
  }
}

// f32_block_max (the action head's top-k reads only the blocks whose maximum can enter): exact,
// for lengths around the 64-element block and a vocabulary's worth, NaN never winning.
TEST_CASE("kernels: f32_block_max is the maximum of each 64 elements, exactly") {
  for (const KernelTable* impl : implementations()) {
    Rng rng(0x5EED0012);
    for (size_t n : {size_t(1), size_t(7), size_t(63), size_t(64), size_t(65), size_t(130), size_t(3707), size_t(100000)}) {
      INFO(std::string(impl->name) << " n=" << n);
      std::vector<float> x(n);
      for (float& v : x) v = rng.uniform(-30.0f, 30.0f);
      if (n > 5) x[n / 2] = NAN;
      const size_t blocks = (n + hunch::kHeadBlock - 1) / hunch::kHeadBlock;
      std::vector<float> got(blocks, -1.0f);
      impl->f32_block_max(n, x.data(), got.data());
      for (size_t b = 0; b < blocks; ++b) {
        const size_t s = b * hunch::kHeadBlock, len = std::min(n - s, hunch::kHeadBlock);
        CHECK(got[b] == hunch::kernels_ref().f32_max(len, x.data() + s));
        float m = -INFINITY;
        for (size_t i = s; i < s + len; ++i) m = x[i] > m ? x[i] : m;
        CHECK(got[b] == m);
      }
    }
  }
}
