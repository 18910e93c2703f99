// WebAssembly SIMD128 micro-kernels (compiled with -msimd128 by Emscripten only).
// Names follow XNNPACK: hunch_<datatype>_<op>_ukernel_<tile>__wasmsimd; each lives in the file of
// the same name with dashes. Signatures are the KernelTable ones (kernels/kernels.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace hunch {

// 4 rows per pass sharing the x loads, 16 columns per step; exact for any rows and cols.
void hunch_qs8_gemv_ukernel_4x16__wasmsimd(size_t rows, size_t cols, const int8_t* w,
                                           const float* w_scale, const int8_t* xq, float x_scale,
                                           const float* bias, float* y);
void hunch_f32_gemv_ukernel_4x4__wasmsimd(size_t rows, size_t cols, const float* w,
                                          const float* x, const float* bias, float* y);
float hunch_f32_quantize_qs8_ukernel__wasmsimd_x16(size_t n, const float* x, int8_t* q);
float hunch_f32_dot_ukernel__wasmsimd_x8(size_t n, const float* a, const float* b);
void hunch_f32_axpy_ukernel__wasmsimd_x8(size_t n, float a, const float* x, float* y);
float hunch_f32_max_ukernel__wasmsimd_x8(size_t n, const float* x);
float hunch_f32_vexp_sum_ukernel__wasmsimd_x8(size_t n, const float* x, float shift, float* out);
void hunch_f32_layernorm_ukernel__wasmsimd_x4(size_t n, const float* x, const float* g,
                                              const float* b, float eps, float* y);
void hunch_f32_lstm_cell_ukernel__wasmsimd_x4(size_t hidden, const float* gates, float* h,
                                              float* c);
void hunch_f32_block_max_ukernel__wasmsimd_x16(size_t n, const float* x, float* block_max);

}  // namespace hunch
