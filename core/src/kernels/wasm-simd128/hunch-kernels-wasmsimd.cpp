// The WebAssembly SIMD128 kernel table. Every entry has a SIMD128 kernel today; a kernel added to
// KernelTable later starts here as its reference function (kernels_ref().<name>) until it gets one.
#include "kernels/kernels.h"
#include "kernels/wasm-simd128/hunch-kernels-wasmsimd.h"

namespace hunch {

const KernelTable* hunch_kernels_wasm_simd128_table() {
  static const KernelTable table = {
      "wasm-simd128",
      hunch_qs8_gemv_ukernel_4x16__wasmsimd,
      hunch_f32_gemv_ukernel_4x4__wasmsimd,
      hunch_f32_quantize_qs8_ukernel__wasmsimd_x16,
      hunch_f32_dot_ukernel__wasmsimd_x8,
      hunch_f32_axpy_ukernel__wasmsimd_x8,
      hunch_f32_max_ukernel__wasmsimd_x8,
      hunch_f32_vexp_sum_ukernel__wasmsimd_x8,
      hunch_f32_layernorm_ukernel__wasmsimd_x4,
      hunch_f32_lstm_cell_ukernel__wasmsimd_x4,
      hunch_f32_block_max_ukernel__wasmsimd_x16,
  };
  return &table;
}

}  // namespace hunch
