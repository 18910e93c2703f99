// Symmetric per-vector quantisation f32 → int8, WebAssembly SIMD128, 16 values per step.
//
// Bit-exact with the reference: the max uses pmax (m < a ? a : m, the reference's comparison, so
// NaN never wins), the clamps use pmin/pmax with the reference's comparisons, f32x4.nearest rounds
// ties to even like the reference's magic-number rounding does for |v| <= 127, and
// i32x4.trunc_sat maps NaN to 0 as the reference does explicitly.
#include <wasm_simd128.h>

#include <cstring>

#include "kernels/wasm-simd128/hunch-kernels-wasmsimd.h"

namespace hunch {

namespace {

inline v128_t quantize4(const float* x, v128_t inv, v128_t lo, v128_t hi) {
  v128_t v = wasm_f32x4_mul(wasm_v128_load(x), inv);
  v = wasm_f32x4_pmax(wasm_f32x4_pmin(v, hi), lo);
  return wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(v));
}

}  // namespace

float hunch_f32_quantize_qs8_ukernel__wasmsimd_x16(size_t n, const float* x, int8_t* q) {
  v128_t vm = wasm_f32x4_splat(0.0f);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) vm = wasm_f32x4_pmax(vm, wasm_f32x4_abs(wasm_v128_load(x + i)));
  float m = 0.0f;
  for (int l = 0; l < 4; ++l) {
    const float a = wasm_f32x4_extract_lane(vm, 0);
    m = m < a ? a : m;
    vm = wasm_i32x4_shuffle(vm, vm, 1, 2, 3, 0);
  }
  for (; i < n; ++i) {
    const float a = __builtin_fabsf(x[i]);
    m = m < a ? a : m;
  }
  if (m == 0.0f) {
    if (n) std::memset(q, 0, n);
    return 0.0f;
  }

  const float inv_s = 127.0f / m;
  const v128_t inv = wasm_f32x4_splat(inv_s);
  const v128_t lo = wasm_f32x4_splat(-127.0f);
  const v128_t hi = wasm_f32x4_splat(127.0f);
  i = 0;
  for (; i + 16 <= n; i += 16) {
    const v128_t a = wasm_i16x8_narrow_i32x4(quantize4(x + i, inv, lo, hi),
                                             quantize4(x + i + 4, inv, lo, hi));
    const v128_t b = wasm_i16x8_narrow_i32x4(quantize4(x + i + 8, inv, lo, hi),
                                             quantize4(x + i + 12, inv, lo, hi));
    wasm_v128_store(q + i, wasm_i8x16_narrow_i16x8(a, b));
  }
  for (; i + 4 <= n; i += 4) {
    const v128_t v = quantize4(x + i, inv, lo, hi);
    const v128_t b = wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(v, v), wasm_i16x8_narrow_i32x4(v, v));
    wasm_v128_store32_lane(q + i, b, 0);
  }
  for (; i < n; ++i) {
    float v = x[i] * inv_s;
    v = 127.0f < v ? 127.0f : v;
    v = v < -127.0f ? -127.0f : v;
    v = v == v ? v : 0.0f;
    q[i] = int8_t(int32_t(__builtin_nearbyintf(v)));
  }
  return m / 127.0f;
}

}  // namespace hunch
