// f32 matrix × vector, 4 rows × 4 columns per step, WebAssembly SIMD128. Each row sums in 4
// lanes (not sequentially as the reference does): equal within the contract's relative 1e-5.
#include <wasm_simd128.h>

#include "kernels/wasm-simd128/hunch-kernels-wasmsimd.h"

namespace hunch {

void hunch_f32_gemv_ukernel_4x4__wasmsimd(size_t rows, size_t cols, const float* w,
                                          const float* x, const float* bias, float* y) {
  const size_t c4 = cols & ~size_t(3);
  size_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* w0 = w + r * cols;
    const float* w1 = w0 + cols;
    const float* w2 = w1 + cols;
    const float* w3 = w2 + cols;
    v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
    for (size_t c = 0; c < c4; c += 4) {
      const v128_t vx = wasm_v128_load(x + c);
      a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load(w0 + c), vx));
      a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_v128_load(w1 + c), vx));
      a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wasm_v128_load(w2 + c), vx));
      a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(wasm_v128_load(w3 + c), vx));
    }
    // Transpose-add: lane k of the result is the sum of row k's four lanes.
    const v128_t ab = wasm_f32x4_add(wasm_i32x4_shuffle(a0, a1, 0, 4, 1, 5),
                                     wasm_i32x4_shuffle(a0, a1, 2, 6, 3, 7));
    const v128_t cd = wasm_f32x4_add(wasm_i32x4_shuffle(a2, a3, 0, 4, 1, 5),
                                     wasm_i32x4_shuffle(a2, a3, 2, 6, 3, 7));
    v128_t s = wasm_f32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5),
                              wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
    if (c4 < cols) {
      float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
      for (size_t c = c4; c < cols; ++c) {
        t[0] += w0[c] * x[c];
        t[1] += w1[c] * x[c];
        t[2] += w2[c] * x[c];
        t[3] += w3[c] * x[c];
      }
      s = wasm_f32x4_add(s, wasm_v128_load(t));
    }
    if (bias) s = wasm_f32x4_add(s, wasm_v128_load(bias + r));
    wasm_v128_store(y + r, s);
  }
  for (; r < rows; ++r) {
    const float* w0 = w + r * cols;
    v128_t a0 = wasm_f32x4_splat(0.0f);
    for (size_t c = 0; c < c4; c += 4)
      a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load(w0 + c), wasm_v128_load(x + c)));
    float s = (wasm_f32x4_extract_lane(a0, 0) + wasm_f32x4_extract_lane(a0, 1)) +
              (wasm_f32x4_extract_lane(a0, 2) + wasm_f32x4_extract_lane(a0, 3));
    for (size_t c = c4; c < cols; ++c) s += w0[c] * x[c];
    if (bias) s += bias[r];
    y[r] = s;
  }
}

}  // namespace hunch
