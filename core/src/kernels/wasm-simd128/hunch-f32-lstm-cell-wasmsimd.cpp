// LSTM pointwise update (gates i|f|g|o), WebAssembly SIMD128, 4 hidden units per step.
// Lane for lane the reference's operations with the vector sigmoid/tanh, so h and c are
// bit-identical to the reference.
#include <wasm_simd128.h>

#include "kernels/kernels.h"
#include "kernels/wasm-simd128/hunch-f32-vexp-wasmsimd.h"
#include "kernels/wasm-simd128/hunch-kernels-wasmsimd.h"

namespace hunch {

void hunch_f32_lstm_cell_ukernel__wasmsimd_x4(size_t hidden, const float* gates, float* h,
                                              float* c) {
  const float* gi = gates;
  const float* gf = gates + hidden;
  const float* gg = gates + 2 * hidden;
  const float* go = gates + 3 * hidden;
  size_t j = 0;
  for (; j + 4 <= hidden; j += 4) {
    const v128_t cn = wasm_f32x4_add(
        wasm_f32x4_mul(hunch_f32x4_sigmoid(wasm_v128_load(gf + j)), wasm_v128_load(c + j)),
        wasm_f32x4_mul(hunch_f32x4_sigmoid(wasm_v128_load(gi + j)),
                       hunch_f32x4_tanh(wasm_v128_load(gg + j))));
    wasm_v128_store(c + j, cn);
    wasm_v128_store(h + j, wasm_f32x4_mul(hunch_f32x4_sigmoid(wasm_v128_load(go + j)),
                                          hunch_f32x4_tanh(cn)));
  }
  for (; j < hidden; ++j) {
    const float cn = hunch_sigmoidf(gf[j]) * c[j] + hunch_sigmoidf(gi[j]) * hunch_tanhf(gg[j]);
    c[j] = cn;
    h[j] = hunch_sigmoidf(go[j]) * hunch_tanhf(cn);
  }
}

}  // namespace hunch
