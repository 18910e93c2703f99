// Native int8 matrix × vector through XNNPACK (libxnnpack-dev, 2022 API), and the "xnnpack"
// kernel table (its other entries are the reference kernels).
//
// XNNPACK's per-output-channel int8 operator is a convolution with a 1×1 kernel
// (xnn_create_convolution2d_nhwc_qc8), used here as a fully connected layer on a 1×1 image. It
// takes a fixed input scale and requantises its result to int8 with a fixed output scale, while
// our activations are quantised per call. Because the output is linear in the input scale, the
// operator is built with input scale 1 and kernel scales w_scale[r], and an output step
//   S = max_r w_scale[r] · Σ_c |w[r][c]|
// which no |xq| <= 127 input can overflow. Per call: out[r] = round(acc_r · w_scale[r] / S), then
//   y[r] = out[r] · (S · x_scale) + bias[r]
// so the result is the reference's to within half an output step; README.md states the bound.
//
// Creating an operator packs the weights, so operators are created once per matrix and cached by
// weight pointer; the scales are compared on every call so that a different matrix reusing the
// address (same shape, freed and reallocated) is not served by a stale operator.
#include <xnnpack.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "kernels/kernels.h"

namespace hunch {

namespace {

struct GemvOperator {
  std::mutex mu;  // xnn_setup + xnn_run write into the operator and the buffers below
  xnn_operator_t op = nullptr;  // nullptr: XNNPACK refused the matrix, use the reference kernel
  size_t rows = 0, cols = 0;
  std::vector<float> w_scale;  // the scales it was built with (fingerprint)
  std::vector<float> step;     // per row: S (0 for rows with scale 0, whose outputs are 0)
  std::vector<int8_t> x;       // cols + XNN_EXTRA_BYTES: XNNPACK may read past the input's end
  std::vector<int8_t> out;

  ~GemvOperator() {
    if (op) xnn_delete_operator(op);
  }
};

bool usable_scale(float s) { return std::isfinite(s) && (s == 0.0f || std::isnormal(s)) && s >= 0.0f; }

std::shared_ptr<GemvOperator> create_operator(size_t rows, size_t cols, const int8_t* w,
                                              const float* w_scale) {
  auto g = std::make_shared<GemvOperator>();
  g->rows = rows;
  g->cols = cols;
  g->w_scale.assign(w_scale, w_scale + rows);
  g->x.assign(cols + XNN_EXTRA_BYTES, 0);
  g->out.assign(rows, 0);
  g->step.assign(rows, 0.0f);

  std::vector<double> l1(rows, 0.0);
  double s_max = 0.0;
  for (size_t r = 0; r < rows; ++r) {
    if (!usable_scale(w_scale[r])) return g;  // NaN/inf/subnormal: leave it to the reference
    for (size_t c = 0; c < cols; ++c) l1[r] += std::abs(int(w[r * cols + c]));
    s_max = std::max(s_max, double(w_scale[r]) * l1[r]);
  }
  float S = float(s_max);
  if (!std::isnormal(S)) S = 1.0f;  // every row zero (or zero-scaled): outputs are all 0

  // Rows whose products are always 0 (all-zero weights or scale 0) get kernel scale S: any valid
  // value does, and w_scale[r]/S could otherwise exceed XNNPACK's limit on the requantisation
  // scale (< 256). For the others w_scale[r]/S <= 1/Σ|w[r]| <= 1.
  std::vector<float> kernel_scale(rows);
  for (size_t r = 0; r < rows; ++r) {
    const bool zero_row = l1[r] == 0.0 || w_scale[r] == 0.0f;
    kernel_scale[r] = zero_row ? S : w_scale[r];
    g->step[r] = zero_row ? 0.0f : S;
  }
  xnn_operator_t op = nullptr;
  const xnn_status st = xnn_create_convolution2d_nhwc_qc8(
      /*padding*/ 0, 0, 0, 0, /*kernel*/ 1, 1, /*subsampling*/ 1, 1, /*dilation*/ 1, 1,
      /*groups*/ 1, /*group_input_channels*/ cols, /*group_output_channels*/ rows,
      /*input_channel_stride*/ cols, /*output_channel_stride*/ rows,
      /*input_zero_point*/ 0, /*input_scale*/ 1.0f, kernel_scale.data(), w, /*bias*/ nullptr,
      /*output_zero_point*/ 0, /*output_scale*/ S, /*output_min*/ -128, /*output_max*/ 127,
      /*flags*/ 0, &op);
  if (st == xnn_status_success) g->op = op;
  return g;
}

// Operators by weight pointer. Held through a pointer that is never freed so that no operator is
// deleted during static destruction, after XNNPACK's own state may be gone.
struct OperatorCache {
  std::mutex mu;
  std::unordered_map<const int8_t*, std::shared_ptr<GemvOperator>> map;
};

// A model has a few dozen matrices; more live pointers than this means matrices come and go
// (tests, repeated loads), and forgetting everything is simpler than tracking use.
constexpr size_t kMaxCachedOperators = 256;

std::shared_ptr<GemvOperator> operator_for(size_t rows, size_t cols, const int8_t* w,
                                           const float* w_scale) {
  static OperatorCache* cache = new OperatorCache;
  std::lock_guard<std::mutex> lock(cache->mu);
  auto it = cache->map.find(w);
  if (it != cache->map.end()) {
    const GemvOperator& g = *it->second;
    if (g.rows == rows && g.cols == cols &&
        std::memcmp(g.w_scale.data(), w_scale, rows * sizeof(float)) == 0) {
      return it->second;
    }
  }
  if (cache->map.size() >= kMaxCachedOperators) cache->map.clear();
  auto g = create_operator(rows, cols, w, w_scale);
  cache->map[w] = g;
  return g;
}

void xnnpack_qs8_gemv(size_t rows, size_t cols, const int8_t* w, const float* w_scale,
                      const int8_t* xq, float x_scale, const float* bias, float* y) {
  if (rows == 0) return;
  std::shared_ptr<GemvOperator> g = cols ? operator_for(rows, cols, w, w_scale) : nullptr;
  if (!g || !g->op) {
    kernels_ref().qs8_gemv(rows, cols, w, w_scale, xq, x_scale, bias, y);
    return;
  }
  std::lock_guard<std::mutex> lock(g->mu);
  std::memcpy(g->x.data(), xq, cols);
  if (xnn_setup_convolution2d_nhwc_qc8(g->op, /*batch*/ 1, /*height*/ 1, /*width*/ 1, g->x.data(),
                                       g->out.data(), /*threadpool*/ nullptr) != xnn_status_success ||
      xnn_run_operator(g->op, nullptr) != xnn_status_success) {
    kernels_ref().qs8_gemv(rows, cols, w, w_scale, xq, x_scale, bias, y);
    return;
  }
  for (size_t r = 0; r < rows; ++r) {
    float v = float(g->out[r]) * (g->step[r] * x_scale);
    if (bias) v += bias[r];
    y[r] = v;
  }
}

}  // namespace

const KernelTable* hunch_kernels_xnnpack_table() {
  static const KernelTable* table = []() -> const KernelTable* {
    if (xnn_initialize(nullptr) != xnn_status_success) return nullptr;
    static KernelTable t = kernels_ref();
    t.name = "xnnpack";
    t.qs8_gemv = xnnpack_qs8_gemv;
    return &t;
  }();
  return table;
}

}  // namespace hunch
