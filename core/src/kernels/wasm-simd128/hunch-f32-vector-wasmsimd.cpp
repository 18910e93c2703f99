// Small f32 vector kernels (dot, axpy, max, layer norm), WebAssembly SIMD128.
//
// axpy and max give the reference's results exactly (lane-wise mul/add; pmax compares like the
// reference). dot and layernorm sum in 4–8 lanes instead of sequentially, which the parity
// contract allows (relative 1e-5).
#include <wasm_simd128.h>

#include <cmath>

#include "kernels/kernels.h"
#include "kernels/wasm-simd128/hunch-kernels-wasmsimd.h"

namespace hunch {

namespace {

inline float hsum(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
         (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

}  // namespace

float hunch_f32_dot_ukernel__wasmsimd_x8(size_t n, const float* a, const float* b) {
  v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4)));
  }
  if (i + 4 <= n) {
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
    i += 4;
  }
  float s = hsum(wasm_f32x4_add(s0, s1));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

void hunch_f32_axpy_ukernel__wasmsimd_x8(size_t n, float a, const float* x, float* y) {
  const v128_t va = wasm_f32x4_splat(a);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    wasm_v128_store(y + i, wasm_f32x4_add(wasm_v128_load(y + i), wasm_f32x4_mul(va, wasm_v128_load(x + i))));
    wasm_v128_store(y + i + 4, wasm_f32x4_add(wasm_v128_load(y + i + 4), wasm_f32x4_mul(va, wasm_v128_load(x + i + 4))));
  }
  for (; i < n; ++i) y[i] += a * x[i];
}

float hunch_f32_max_ukernel__wasmsimd_x8(size_t n, const float* x) {
  float m = -__builtin_inff();
  size_t i = 0;
  if (n >= 8) {
    v128_t m0 = wasm_f32x4_splat(m), m1 = m0;
    for (; i + 8 <= n; i += 8) {
      m0 = wasm_f32x4_pmax(m0, wasm_v128_load(x + i));
      m1 = wasm_f32x4_pmax(m1, wasm_v128_load(x + i + 4));
    }
    m0 = wasm_f32x4_pmax(m0, m1);
    for (int l = 0; l < 4; ++l) {
      const float a = wasm_f32x4_extract_lane(m0, 0);
      m = m < a ? a : m;
      m0 = wasm_i32x4_shuffle(m0, m0, 1, 2, 3, 0);
    }
  }
  for (; i < n; ++i) m = m < x[i] ? x[i] : m;
  return m;
}

// Per 64-element block: 16 loads into four pmax chains, then the lanes; a short last block goes
// through the x8 kernel above. pmax(m, x) is the reference's `m < x ? x : m`: NaN never wins.
void hunch_f32_block_max_ukernel__wasmsimd_x16(size_t n, const float* x, float* block_max) {
  static_assert(kHeadBlock == 64, "the loop below reads 64 floats per block");
  size_t s = 0, b = 0;
  for (; s + 64 <= n; s += 64, ++b) {
    const float* p = x + s;
    // Start from -inf, as the reference: a NaN first element must not stick (pmax keeps its
    // first operand when the comparison fails).
    v128_t m0 = wasm_f32x4_splat(-__builtin_inff()), m1 = m0, m2 = m0, m3 = m0;
    for (size_t i = 0; i < 64; i += 16) {
      m0 = wasm_f32x4_pmax(m0, wasm_v128_load(p + i));
      m1 = wasm_f32x4_pmax(m1, wasm_v128_load(p + i + 4));
      m2 = wasm_f32x4_pmax(m2, wasm_v128_load(p + i + 8));
      m3 = wasm_f32x4_pmax(m3, wasm_v128_load(p + i + 12));
    }
    m0 = wasm_f32x4_pmax(wasm_f32x4_pmax(m0, m1), wasm_f32x4_pmax(m2, m3));
    m0 = wasm_f32x4_pmax(m0, wasm_i32x4_shuffle(m0, m0, 2, 3, 0, 1));
    m0 = wasm_f32x4_pmax(m0, wasm_i32x4_shuffle(m0, m0, 1, 0, 3, 2));
    block_max[b] = wasm_f32x4_extract_lane(m0, 0);
  }
  if (s < n) block_max[b] = hunch_f32_max_ukernel__wasmsimd_x8(n - s, x + s);
}

void hunch_f32_layernorm_ukernel__wasmsimd_x4(size_t n, const float* x, const float* g,
                                              const float* b, float eps, float* y) {
  if (n == 0) return;
  v128_t vs = wasm_f32x4_splat(0.0f);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) vs = wasm_f32x4_add(vs, wasm_v128_load(x + i));
  float sum = hsum(vs);
  for (; i < n; ++i) sum += x[i];
  const float mean = sum / float(n);
  const v128_t vmean = wasm_f32x4_splat(mean);

  v128_t vq = wasm_f32x4_splat(0.0f);
  for (i = 0; i + 4 <= n; i += 4) {
    const v128_t d = wasm_f32x4_sub(wasm_v128_load(x + i), vmean);
    vq = wasm_f32x4_add(vq, wasm_f32x4_mul(d, d));
  }
  float sq = hsum(vq);
  for (; i < n; ++i) {
    const float d = x[i] - mean;
    sq += d * d;
  }
  const float inv = 1.0f / std::sqrt(sq / float(n) + eps);
  const v128_t vinv = wasm_f32x4_splat(inv);

  for (i = 0; i + 4 <= n; i += 4) {
    v128_t v = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(x + i), vmean), vinv);
    if (g) v = wasm_f32x4_mul(v, wasm_v128_load(g + i));
    if (b) v = wasm_f32x4_add(v, wasm_v128_load(b + i));
    wasm_v128_store(y + i, v);
  }
  for (; i < n; ++i) {
    float v = (x[i] - mean) * inv;
    if (g) v *= g[i];
    if (b) v += b[i];
    y[i] = v;
  }
}

}  // namespace hunch
