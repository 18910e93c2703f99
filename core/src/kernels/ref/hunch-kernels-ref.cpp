// Reference kernels: plain scalar C++, the definition of "correct" for every other implementation.
//
// This file is also the native default (built with -O3), so the hot loops are written for GCC's
// auto-vectoriser without changing any result: integer sums are exact in any order, and float
// reductions stay strictly sequential (the order is part of the reference; without -ffast-math
// the compiler keeps it). No FMA contraction (-ffp-contract=off), so every other implementation
// can reproduce qs8_gemv, f32_quantize_qs8 and hunch_expf bit for bit with the same operations.
//
// Not here: SIMD intrinsics, threading, packing. Those belong to wasm-simd128/ and xnnpack/.
#include "kernels/ref/hunch-expf.h"
#include "kernels/kernels.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace hunch {

namespace {

// Rounds |v| < 2^22 to the nearest integer, ties to even, like nearbyint() in the default
// rounding mode: adding 1.5·2^23 leaves no fraction bits, and that constant is even so the tie
// rule of the addition is the tie rule of v. Unlike nearbyintf() it vectorises on plain SSE2 and
// is written the same way in the SIMD kernels.
inline float round_half_even(float v) {
  return (v + expf_consts::kRoundMagic) - expf_consts::kRoundMagic;
}

inline float pow2i(int32_t e) {  // 2^e for e in [-126, 127]
  uint32_t bits = static_cast<uint32_t>(e + 127) << 23;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// Natively on x86-64 the compiler also emits an AVX2 clone, picked at load time by the CPU: the
// integer dot product vectorises 2-3x wider and stays bit-exact (integer sums are exact). The
// f32 kernels get no clone, so their summation order — the reference's definition — is fixed.
#if defined(__x86_64__) && !defined(__EMSCRIPTEN__) && defined(__GNUC__) && !defined(__SANITIZE_ADDRESS__)
#define HUNCH_INT_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define HUNCH_INT_CLONES
#endif

HUNCH_INT_CLONES
void ref_qs8_gemv(size_t rows, size_t cols, const int8_t* w, const float* w_scale,
                  const int8_t* xq, float x_scale, const float* bias, float* y) {
  for (size_t r = 0; r < rows; ++r) {
    const int8_t* wr = w + r * cols;
    int32_t acc = 0;
    for (size_t c = 0; c < cols; ++c) acc += int32_t(wr[c]) * int32_t(xq[c]);
    float v = float(acc) * (w_scale[r] * x_scale);
    if (bias) v += bias[r];
    y[r] = v;
  }
}

void ref_f32_gemv(size_t rows, size_t cols, const float* w, const float* x, const float* bias,
                  float* y) {
  for (size_t r = 0; r < rows; ++r) {
    const float* wr = w + r * cols;
    float s = 0.0f;
    for (size_t c = 0; c < cols; ++c) s += wr[c] * x[c];
    if (bias) s += bias[r];
    y[r] = s;
  }
}

float ref_f32_quantize_qs8(size_t n, const float* x, int8_t* q) {
  float m = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    float a = std::fabs(x[i]);
    m = m < a ? a : m;  // NaN never wins; the SIMD kernels use the same comparison (pmax)
  }
  if (m == 0.0f) {
    if (n) std::memset(q, 0, n);
    return 0.0f;
  }
  const float inv = 127.0f / m;
  for (size_t i = 0; i < n; ++i) {
    float v = x[i] * inv;
    // Clamp before rounding: x·(127/m) can exceed 127 by an ulp, and NaN must not reach the
    // integer conversion (it becomes 0, as i32x4.trunc_sat does in the SIMD kernel).
    v = 127.0f < v ? 127.0f : v;
    v = v < -127.0f ? -127.0f : v;
    v = v == v ? v : 0.0f;
    q[i] = int8_t(int32_t(round_half_even(v)));
  }
  return m / 127.0f;
}

float ref_f32_dot(size_t n, const float* a, const float* b) {
  float s = 0.0f;
  for (size_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

void ref_f32_axpy(size_t n, float a, const float* x, float* y) {
  for (size_t i = 0; i < n; ++i) y[i] += a * x[i];
}

float ref_f32_max(size_t n, const float* x) {
  float m = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < n; ++i) m = m < x[i] ? x[i] : m;
  return m;
}

float ref_f32_exp_sum(size_t n, const float* x, float shift, float* out) {
  float s = 0.0f;
  if (out) {
    for (size_t i = 0; i < n; ++i) {
      float e = hunch_expf(x[i] - shift);
      out[i] = e;
      s += e;
    }
  } else {
    for (size_t i = 0; i < n; ++i) s += hunch_expf(x[i] - shift);
  }
  return s;
}

// g or b may be null (treated as 1 and 0): the header does not promise it, but a caller without
// affine parameters should not have to allocate them.
void ref_f32_layernorm(size_t n, const float* x, const float* g, const float* b, float eps,
                       float* y) {
  if (n == 0) return;
  float sum = 0.0f;
  for (size_t i = 0; i < n; ++i) sum += x[i];
  const float mean = sum / float(n);
  float sq = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    float d = x[i] - mean;
    sq += d * d;
  }
  const float inv = 1.0f / std::sqrt(sq / float(n) + eps);
  for (size_t i = 0; i < n; ++i) {
    float v = (x[i] - mean) * inv;
    if (g) v *= g[i];
    if (b) v += b[i];
    y[i] = v;
  }
}

void ref_f32_lstm_cell(size_t hidden, const float* gates, float* h, float* c) {
  const float* gi = gates;
  const float* gf = gates + hidden;
  const float* gg = gates + 2 * hidden;
  const float* go = gates + 3 * hidden;
  for (size_t j = 0; j < hidden; ++j) {
    float cn = hunch_sigmoidf(gf[j]) * c[j] + hunch_sigmoidf(gi[j]) * hunch_tanhf(gg[j]);
    c[j] = cn;
    h[j] = hunch_sigmoidf(go[j]) * hunch_tanhf(cn);
  }
}

void ref_f32_block_max(size_t n, const float* x, float* block_max) {
  for (size_t s = 0, b = 0; s < n; s += kHeadBlock, ++b) {
    const size_t end = n - s < kHeadBlock ? n : s + kHeadBlock;
    float m = -std::numeric_limits<float>::infinity();
    for (size_t i = s; i < end; ++i) m = m < x[i] ? x[i] : m;
    block_max[b] = m;
  }
}

const KernelTable kRefTable = {
    "ref",
    ref_qs8_gemv,
    ref_f32_gemv,
    ref_f32_quantize_qs8,
    ref_f32_dot,
    ref_f32_axpy,
    ref_f32_max,
    ref_f32_exp_sum,
    ref_f32_layernorm,
    ref_f32_lstm_cell,
    ref_f32_block_max,
};

}  // namespace

// The sequence of float operations here is mirrored exactly by the vector exp in
// wasm-simd128/hunch-f32-vexp-wasmsimd.h; change both together.
float hunch_expf(float x) {
  using namespace expf_consts;
  if (x < kMinInput) return 0.0f;
  if (x > kMaxInput) return std::numeric_limits<float>::infinity();
  if (x != x) return x;
  // x = n·ln2 + r, |r| <= ln2/2. ln2 is split in two (Cody-Waite): kLn2Hi has 9 significant bits,
  // so n·kLn2Hi and x − n·kLn2Hi are exact for |n| <= 128.
  const float n = round_half_even(x * kLog2e);
  float r = x - n * kLn2Hi;
  r = r - n * kLn2Lo;
  // e^r = 1 + r + r²·q(r); q is a degree-4 least-squares fit of (e^r − 1 − r)/r² weighted by
  // relative error (see kernels/ref/hunch-expf.h). Keeping 1 + r outside the
  // fit keeps the float-rounded coefficients from costing accuracy.
  float q = kC6;
  q = q * r + kC5;
  q = q * r + kC4;
  q = q * r + kC3;
  q = q * r + kC2;
  const float p = 1.0f + (r + (r * r) * q);
  // n ranges over [-126, 128]; 2^128 is not a float, so scale in two exact steps.
  const int32_t ni = int32_t(n);
  const int32_t n1 = ni >> 1;  // floor(n/2)
  return (p * pow2i(n1)) * pow2i(ni - n1);
}

float hunch_sigmoidf(float x) { return 1.0f / (1.0f + hunch_expf(-x)); }

float hunch_tanhf(float x) { return 2.0f * hunch_sigmoidf(2.0f * x) - 1.0f; }

const KernelTable& kernels_ref() { return kRefTable; }

}  // namespace hunch
