// Kernel table: every numeric kernel the layers call, behind one set of signatures. Private to
// the core: the rest of the tree sees KernelTable as an opaque handle through hunch/kernels.h,
// which also declares the lookup by name and the default table. Only the white-box kernel tests
// and benchmarks include this header (CMake target hunch_core_internal).
//
// Implementations:
//   ref/            plain scalar C++, the definition of "correct"; always built
//   wasm-simd128/   WebAssembly SIMD128 (built only by Emscripten, with -msimd128)
//   xnnpack/        native int8 matrix-vector product through XNNPACK (x86-64, optional)
// An implementation that lacks a kernel takes the reference one (see dispatch.cpp). Layers never
// contain SIMD: they call through the table picked once at start-up.
//
// Parity contract (tests/core/test-kernels.cpp):
//   - qs8_gemv and f32_quantize_qs8 are bit-exact with the reference (integer accumulation,
//     same float operations per output, no FMA contraction);
//   - f32 reductions (dot, gemv, exp_sum, layernorm) may sum in another order: relative 1e-5;
//   - the xnnpack qs8_gemv requantises its output to int8, see xnnpack/README.md for its bound.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hunch/kernels.h"

namespace hunch {

// Logits per block of f32_block_max: the top-k's per-block test is cheap next to the 64 logits it
// lets the scan skip, and V/64 maxima stay small enough to select from.
constexpr size_t kHeadBlock = 64;

struct KernelTable {
  const char* name;

  // y[r] = (float)(Σ_c w[r*cols+c] * xq[c]) * (w_scale[r] * x_scale) + (bias ? bias[r] : 0)
  // for r in [0, rows). The int32 sum is exact (cols <= 2^16 keeps it in range).
  void (*qs8_gemv)(size_t rows, size_t cols, const int8_t* w, const float* w_scale,
                   const int8_t* xq, float x_scale, const float* bias, float* y);

  // y[r] = Σ_c w[r*cols+c] * x[c] + (bias ? bias[r] : 0)
  void (*f32_gemv)(size_t rows, size_t cols, const float* w, const float* x, const float* bias,
                   float* y);

  // Symmetric per-vector quantisation. m = max|x|; if m == 0 (or n == 0): q = 0, returns 0.
  // Otherwise inv = 127.0f / m, q[i] = nearbyint(x[i] * inv) (ties to even) clamped to
  // [-127, 127], returns m / 127.0f. Bit-exact in every implementation.
  float (*f32_quantize_qs8)(size_t n, const float* x, int8_t* q);

  float (*f32_dot)(size_t n, const float* a, const float* b);
  // y[i] += a * x[i]
  void (*f32_axpy)(size_t n, float a, const float* x, float* y);
  float (*f32_max)(size_t n, const float* x);  // -inf for n == 0
  // Σ exp(x[i] - shift); when out != nullptr also writes out[i] = exp(x[i] - shift).
  // exp is hunch_expf below in every implementation (same polynomial).
  float (*f32_exp_sum)(size_t n, const float* x, float shift, float* out);
  // y = g ⊙ (x − mean) / sqrt(var + eps) + b   (g / b may be null: 1 / 0)
  void (*f32_layernorm)(size_t n, const float* x, const float* g, const float* b, float eps,
                        float* y);
  // LSTM pointwise update, gates laid out i|f|g|o (4*hidden): c = σ(f)c + σ(i)tanh(g);
  // h = σ(o) tanh(c). In place on h and c.
  void (*f32_lstm_cell)(size_t hidden, const float* gates, float* h, float* c);

  // block_max[b] = max of x over block b of kHeadBlock elements (the last may be shorter), as
  // f32_max (-inf for a block of only NaN), one pass without a call per block. Exact in every
  // implementation. The action head's top-k reads only the blocks whose maximum can enter it
  // (docs/architecture.md, "Heads").
  void (*f32_block_max)(size_t n, const float* x, float* block_max);
};

// Reference implementations (always present).
const KernelTable& kernels_ref();
// SIMD128 table, or nullptr when this build has none (native builds).
const KernelTable* kernels_wasm_simd128();
// XNNPACK-backed table, or nullptr when not built / not initialisable.
const KernelTable* kernels_xnnpack();
// kernels_default(), kernels_by_name(), kernels_available(), set_default_kernels(): hunch/kernels.h.

// Scalar exp used by all implementations: Cody-Waite range reduction + degree-6 polynomial,
// relative error < 2e-7 on [-87, 88]; returns 0 below -87.3 and +inf above 88.7.
float hunch_expf(float x);
// σ(x) = 1 / (1 + exp(-x)); tanh(x) = 2σ(2x) − 1, both through hunch_expf.
float hunch_sigmoidf(float x);
float hunch_tanhf(float x);

}  // namespace hunch
