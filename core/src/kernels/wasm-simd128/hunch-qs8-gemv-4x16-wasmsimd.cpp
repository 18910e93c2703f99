// int8 matrix × int8 vector → f32, 4 rows × 16 columns per step, WebAssembly SIMD128.
//
// Without relaxed-simd there is no int8 dot product, so each 8-byte half is loaded sign-extended
// to int16 (v128.load8x8_s, one instruction) and multiplied pairwise into int32 lanes with
// i32x4.dot_i16x8_s; that is exact for every int8 pair, −128·−128 included. Four rows share the
// x loads. The int32 sums are exact, so the order of accumulation does not matter, and the
// epilogue is the reference's float expression lane for lane: bit-identical outputs.
#include <wasm_simd128.h>

#include "kernels/wasm-simd128/hunch-kernels-wasmsimd.h"

namespace hunch {

namespace {

// Σ over c in [c0, cols) of w[c]·x[c], scalar: the 0..7 columns left after the 8-wide steps.
inline int32_t dot_tail(size_t c0, size_t cols, const int8_t* w, const int8_t* x) {
  int32_t s = 0;
  for (size_t c = c0; c < cols; ++c) s += int32_t(w[c]) * int32_t(x[c]);
  return s;
}

// [Σa, Σb, Σc, Σd] of four i32x4 accumulators.
inline v128_t reduce4(v128_t a, v128_t b, v128_t c, v128_t d) {
  const v128_t ab = wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 4, 1, 5),
                                   wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
  const v128_t cd = wasm_i32x4_add(wasm_i32x4_shuffle(c, d, 0, 4, 1, 5),
                                   wasm_i32x4_shuffle(c, d, 2, 6, 3, 7));
  return wasm_i32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5),
                        wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
}

inline int32_t reduce1(v128_t a) {
  return wasm_i32x4_extract_lane(a, 0) + wasm_i32x4_extract_lane(a, 1) +
         wasm_i32x4_extract_lane(a, 2) + wasm_i32x4_extract_lane(a, 3);
}

}  // namespace

void hunch_qs8_gemv_ukernel_4x16__wasmsimd(size_t rows, size_t cols, const int8_t* w,
                                           const float* w_scale, const int8_t* xq, float x_scale,
                                           const float* bias, float* y) {
  const size_t c16 = cols & ~size_t(15);
  const size_t c8 = cols & ~size_t(7);
  const v128_t vxs = wasm_f32x4_splat(x_scale);
  size_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const int8_t* w0 = w + r * cols;
    const int8_t* w1 = w0 + cols;
    const int8_t* w2 = w1 + cols;
    const int8_t* w3 = w2 + cols;
    v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
    size_t c = 0;
    for (; c < c16; c += 16) {
      const v128_t xl = wasm_i16x8_load8x8(xq + c);
      const v128_t xh = wasm_i16x8_load8x8(xq + c + 8);
      a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w0 + c), xl));
      a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w1 + c), xl));
      a2 = wasm_i32x4_add(a2, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w2 + c), xl));
      a3 = wasm_i32x4_add(a3, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w3 + c), xl));
      a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w0 + c + 8), xh));
      a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w1 + c + 8), xh));
      a2 = wasm_i32x4_add(a2, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w2 + c + 8), xh));
      a3 = wasm_i32x4_add(a3, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w3 + c + 8), xh));
    }
    if (c < c8) {
      const v128_t xl = wasm_i16x8_load8x8(xq + c);
      a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w0 + c), xl));
      a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w1 + c), xl));
      a2 = wasm_i32x4_add(a2, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w2 + c), xl));
      a3 = wasm_i32x4_add(a3, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w3 + c), xl));
      c += 8;
    }
    v128_t acc = reduce4(a0, a1, a2, a3);
    if (c < cols) {
      acc = wasm_i32x4_add(acc, wasm_i32x4_make(dot_tail(c, cols, w0, xq), dot_tail(c, cols, w1, xq),
                                                dot_tail(c, cols, w2, xq), dot_tail(c, cols, w3, xq)));
    }
    // (float)acc · (w_scale[r] · x_scale) + bias[r], the reference's operations per lane.
    const v128_t scale = wasm_f32x4_mul(wasm_v128_load(w_scale + r), vxs);
    v128_t out = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(acc), scale);
    if (bias) out = wasm_f32x4_add(out, wasm_v128_load(bias + r));
    wasm_v128_store(y + r, out);
  }
  for (; r < rows; ++r) {
    const int8_t* w0 = w + r * cols;
    v128_t a0 = wasm_i32x4_splat(0);
    size_t c = 0;
    for (; c < c8; c += 8) {
      a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w0 + c),
                                                   wasm_i16x8_load8x8(xq + c)));
    }
    const int32_t acc = reduce1(a0) + dot_tail(c, cols, w0, xq);
    float v = float(acc) * (w_scale[r] * x_scale);
    if (bias) v += bias[r];
    y[r] = v;
  }
}

}  // namespace hunch
