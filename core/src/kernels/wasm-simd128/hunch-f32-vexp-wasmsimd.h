// Vector hunch_expf / sigmoid / tanh: lane for lane the same float operations, in the same order,
// as the scalar reference in ref/hunch-kernels-ref.cpp, so every lane is bit-identical to it.
// Change both together (the parity test compares them).
#pragma once

#include <wasm_simd128.h>

#include "kernels/ref/hunch-expf.h"

namespace hunch {

static inline v128_t hunch_f32x4_exp(v128_t x) {
  using namespace expf_consts;
  const v128_t magic = wasm_f32x4_splat(kRoundMagic);
  // The reference returns early outside [kMinInput, kMaxInput]; here every lane runs the
  // polynomial on a clamped input and the out-of-range lanes are replaced at the end. pmax/pmin
  // keep NaN lanes NaN (their comparison is false), as the reference's `return x` does.
  const v128_t lo = wasm_f32x4_splat(kMinInput);
  const v128_t hi = wasm_f32x4_splat(kMaxInput);
  const v128_t xc = wasm_f32x4_pmin(wasm_f32x4_pmax(x, lo), hi);

  const v128_t n = wasm_f32x4_sub(wasm_f32x4_add(wasm_f32x4_mul(xc, wasm_f32x4_splat(kLog2e)), magic), magic);
  v128_t r = wasm_f32x4_sub(xc, wasm_f32x4_mul(n, wasm_f32x4_splat(kLn2Hi)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, wasm_f32x4_splat(kLn2Lo)));

  v128_t q = wasm_f32x4_splat(kC6);
  q = wasm_f32x4_add(wasm_f32x4_mul(q, r), wasm_f32x4_splat(kC5));
  q = wasm_f32x4_add(wasm_f32x4_mul(q, r), wasm_f32x4_splat(kC4));
  q = wasm_f32x4_add(wasm_f32x4_mul(q, r), wasm_f32x4_splat(kC3));
  q = wasm_f32x4_add(wasm_f32x4_mul(q, r), wasm_f32x4_splat(kC2));
  const v128_t p = wasm_f32x4_add(wasm_f32x4_splat(1.0f),
                                  wasm_f32x4_add(r, wasm_f32x4_mul(wasm_f32x4_mul(r, r), q)));

  // 2^n as two exact factors 2^floor(n/2) · 2^(n − floor(n/2)); NaN lanes convert to 0 (harmless,
  // p is NaN there).
  const v128_t ni = wasm_i32x4_trunc_sat_f32x4(n);
  const v128_t n1 = wasm_i32x4_shr(ni, 1);
  const v128_t n2 = wasm_i32x4_sub(ni, n1);
  const v128_t bias = wasm_i32x4_splat(127);
  const v128_t s1 = wasm_i32x4_shl(wasm_i32x4_add(n1, bias), 23);
  const v128_t s2 = wasm_i32x4_shl(wasm_i32x4_add(n2, bias), 23);
  v128_t e = wasm_f32x4_mul(wasm_f32x4_mul(p, s1), s2);

  e = wasm_v128_andnot(e, wasm_f32x4_lt(x, lo));  // 0 below the range
  e = wasm_v128_bitselect(wasm_f32x4_splat(__builtin_inff()), e, wasm_f32x4_gt(x, hi));
  return e;
}

static inline v128_t hunch_f32x4_sigmoid(v128_t x) {
  const v128_t one = wasm_f32x4_splat(1.0f);
  return wasm_f32x4_div(one, wasm_f32x4_add(one, hunch_f32x4_exp(wasm_f32x4_neg(x))));
}

static inline v128_t hunch_f32x4_tanh(v128_t x) {
  const v128_t two = wasm_f32x4_splat(2.0f);
  return wasm_f32x4_sub(wasm_f32x4_mul(two, hunch_f32x4_sigmoid(wasm_f32x4_mul(two, x))),
                        wasm_f32x4_splat(1.0f));
}

}  // namespace hunch
