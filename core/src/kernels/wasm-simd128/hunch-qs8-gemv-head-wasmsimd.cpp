// The action head's GEMV with its softmax statistics per block of kHeadBlock rows, WebAssembly
// SIMD128 (KernelTable::qs8_gemv_head, f32_head_stats). Each block runs the 4x16 GEMV, then the
// max and the exp-sum over its 64 outputs while they are still in L1: the V logits are written
// once and never read again by the denominator; the top-k scan reads only the blocks whose max
// can enter the top k. Outputs and maxima are bit-identical to the reference (same GEMV and the
// same pmax comparison); each block's sum differs by summation order only.
#include "kernels/kernels.h"
#include "kernels/wasm-simd128/hunch-kernels-wasmsimd.h"

namespace hunch {

namespace {
// Called through pointers so that the link-time optimiser keeps one copy of each loop (the
// table's) instead of inlining them here: the SDK's wasm bytes are budgeted.
void (*volatile gemv_4x16)(size_t, size_t, const int8_t*, const float*, const int8_t*, float, const float*,
                           float*) = hunch_qs8_gemv_ukernel_4x16__wasmsimd;
float (*volatile max_x8)(size_t, const float*) = hunch_f32_max_ukernel__wasmsimd_x8;
float (*volatile exp_sum_x8)(size_t, const float*, float, float*) = hunch_f32_vexp_sum_ukernel__wasmsimd_x8;
}  // namespace

void hunch_f32_head_stats_ukernel__wasmsimd(size_t n, const float* y, float* block_max,
                                            float* block_sum) {
  for (size_t s = 0, b = 0; s < n; s += kHeadBlock, ++b) {
    const size_t len = n - s < kHeadBlock ? n - s : kHeadBlock;
    block_max[b] = max_x8(len, y + s);
    block_sum[b] = exp_sum_x8(len, y + s, block_max[b], nullptr);
  }
}

void hunch_qs8_gemv_head_ukernel_4x16__wasmsimd(size_t rows, size_t cols, const int8_t* w,
                                                const float* w_scale, const int8_t* xq,
                                                float x_scale, const float* bias, float* y,
                                                float* block_max, float* block_sum) {
  for (size_t s = 0, b = 0; s < rows; s += kHeadBlock, ++b) {
    const size_t len = rows - s < kHeadBlock ? rows - s : kHeadBlock;
    gemv_4x16(len, cols, w + s * cols, w_scale + s, xq, x_scale,
              bias ? bias + s : nullptr, y + s);
    hunch_f32_head_stats_ukernel__wasmsimd(len, y + s, block_max + b, block_sum + b);
  }
}

}  // namespace hunch
