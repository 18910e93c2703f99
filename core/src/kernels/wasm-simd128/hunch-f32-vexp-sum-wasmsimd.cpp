// Σ exp(x[i] − shift) (and optionally the exps themselves), WebAssembly SIMD128, 8 per step.
// Each exp is bit-identical to hunch_expf (hunch-f32-vexp-wasmsimd.h); the sum runs in 8 lanes,
// so it differs from the sequential reference by rounding only (all terms are positive).
#include <wasm_simd128.h>

#include "kernels/kernels.h"
#include "kernels/wasm-simd128/hunch-f32-vexp-wasmsimd.h"
#include "kernels/wasm-simd128/hunch-kernels-wasmsimd.h"

namespace hunch {

float hunch_f32_vexp_sum_ukernel__wasmsimd_x8(size_t n, const float* x, float shift, float* out) {
  const v128_t vshift = wasm_f32x4_splat(shift);
  v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const v128_t e0 = hunch_f32x4_exp(wasm_f32x4_sub(wasm_v128_load(x + i), vshift));
    const v128_t e1 = hunch_f32x4_exp(wasm_f32x4_sub(wasm_v128_load(x + i + 4), vshift));
    if (out) {
      wasm_v128_store(out + i, e0);
      wasm_v128_store(out + i + 4, e1);
    }
    s0 = wasm_f32x4_add(s0, e0);
    s1 = wasm_f32x4_add(s1, e1);
  }
  const v128_t s = wasm_f32x4_add(s0, s1);
  float sum = (wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1)) +
              (wasm_f32x4_extract_lane(s, 2) + wasm_f32x4_extract_lane(s, 3));
  for (; i < n; ++i) {
    const float e = hunch_expf(x[i] - shift);
    if (out) out[i] = e;
    sum += e;
  }
  return sum;
}

}  // namespace hunch
