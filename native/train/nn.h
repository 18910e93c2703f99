// Building blocks of the trainer: a flat parameter store, Adam, and the layers of
// docs/architecture.md with hand-written backward passes (no autodiff).
//
// Layout convention: activations are column-major (dim, N) matrices, one column per position,
// so a batch of sequences is one wide matrix and every dense layer is one GEMM over all of its
// positions. Weights are stored row-major (rows, cols) exactly as the model file holds them, so
// export is a copy. Gradients live in a flat buffer with the same offsets as the parameters:
// summing the threads' gradients, clipping and Adam are loops over one array.
#pragma once

#include <Eigen/Core>
#include <new>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "hunch/rng.h"

namespace hunch::train {

using MatR   = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapR   = Eigen::Map<MatR>;                // a weight (rows, cols), row-major
using CMapR  = Eigen::Map<const MatR>;
using MapA   = Eigen::Map<Eigen::MatrixXf>;     // activations (dim, N), column per position
using CMapA  = Eigen::Map<const Eigen::MatrixXf>;
using MapAS  = Eigen::Map<Eigen::MatrixXf, 0, Eigen::OuterStride<>>;  // strided column view
using CMapAS = Eigen::Map<const Eigen::MatrixXf, 0, Eigen::OuterStride<>>;
using MapV   = Eigen::Map<Eigen::VectorXf>;
using CMapV  = Eigen::Map<const Eigen::VectorXf>;

// 64-byte aligned allocation through C++17 aligned new: independent of Eigen's alignment
// macros, which differ between translation units built with and without -mavx2.
template <class T>
struct Aligned64 {
  using value_type = T;
  Aligned64() = default;
  template <class U>
  Aligned64(const Aligned64<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64))); }
  void deallocate(T* p, size_t) { ::operator delete(p, std::align_val_t(64)); }
  template <class U>
  bool operator==(const Aligned64<U>&) const { return true; }
  template <class U>
  bool operator!=(const Aligned64<U>&) const { return false; }
};

// Float storage for parameters, gradients and activations. Aligned the same way on every run:
// Eigen's matrix-vector kernels peel differently at different alignments, and a fixed seed
// must give bit-identical training.
using Buffer = std::vector<float, Aligned64<float>>;

// The one random stream (hunch/rng.h): initialisation, shuffling and dropout masks. Streams are
// derived from (seed, purpose, index) so results do not depend on thread count.
using hunch::Rng;

// All trainable tensors in one contiguous array, named as in docs/format.md.
struct ParamSet {
  struct Entry {
    std::string           name;
    std::vector<uint64_t> shape;  // (rows, cols) for matrices, (n) for vectors
    size_t                offset = 0, size = 0;
    uint64_t rows() const { return shape[0]; }
    uint64_t cols() const { return shape.size() > 1 ? shape[1] : 1; }
  };
  std::vector<Entry> entries;
  Buffer             data;

  // Declares a tensor (zero-initialised); call before any pointer is taken.
  size_t add(const std::string& name, std::vector<uint64_t> shape);
  // Declares a tensor that shares the storage of `of` (weight tying): the same floats are
  // exported under both names and both uses' gradients land in the same place.
  size_t alias(const std::string& name, size_t of);
  bool   is_alias(size_t i) const;
  float*       ptr(size_t i) { return data.data() + entries[i].offset; }
  const float* ptr(size_t i) const { return data.data() + entries[i].offset; }
  MapR  mat(size_t i) { return MapR(ptr(i), entries[i].rows(), entries[i].cols()); }
  CMapR mat(size_t i) const { return CMapR(ptr(i), entries[i].rows(), entries[i].cols()); }
  // -1 when absent.
  long find(const std::string& name) const;
  size_t size() const { return data.size(); }
};

// Views of a gradient buffer laid out like a ParamSet.
inline MapR grad_mat(const ParamSet& p, float* g, size_t i) {
  return MapR(g + p.entries[i].offset, p.entries[i].rows(), p.entries[i].cols());
}
inline MapV grad_vec(const ParamSet& p, float* g, size_t i) {
  return MapV(g + p.entries[i].offset, p.entries[i].size);
}

// Xavier-normal (std = sqrt(2 / (fan_in + fan_out))), as the PyTorch reference initialises.
void init_xavier_normal(ParamSet& p, size_t i, Rng& rng);
void init_normal(ParamSet& p, size_t i, float stddev, Rng& rng);
void init_constant(ParamSet& p, size_t i, float value);

// Adam (Kingma & Ba) with bias correction, β = (0.9, 0.98) by default as the reference.
struct Adam {
  float  beta1 = 0.9f, beta2 = 0.98f, eps = 1e-8f;
  Buffer   m, v;
  uint64_t steps = 0;
  // Parameters [begin, end) that step at lr × scale (0: frozen, TrainOptions::item_weights).
  struct Scaled {
    size_t begin, end;
    float  scale;
  };
  std::vector<Scaled> scaled;
  void step(Buffer& params, const Buffer& grad, float lr);
};

// Scales the gradient so its global L2 norm is at most max_norm (0 = off). Returns the norm.
double clip_grad_norm(Buffer& grad, double max_norm);

// ---- layers (forward stores what backward needs) -----------------------------------------

// Layer norm over each column (biased variance, eps 1e-5, as docs/architecture.md):
// y = g ⊙ xhat + b with xhat = (x − mean) · rstd.
void layer_norm_forward(const float* x, size_t dim, size_t n, const float* g, const float* b,
                        float* xhat, float* rstd, float* y);
// dx = LN'(dy) written or added (accumulate) into dx; dg, db accumulate.
void layer_norm_backward(const float* dy, const float* xhat, const float* rstd, size_t dim,
                         size_t n, const float* g, float* dx, float* dg, float* db, bool accumulate);

// Inverted dropout: mask entries are 0 or 1/(1-p). Fills `mask` from rng; p = 0 gives all ones.
void dropout_mask(float* mask, size_t count, float p, Rng& rng);

// Causal attention of one head over one sequence of T positions, where position i sees keys
// j in [i−W+1, i] with score (q_i·k_j)·scale − slope·(i−j) (docs/architecture.md). Columns of
// Q/K (dq rows) and V/Out (dv rows) are strided by their leading dimensions, so a head's slice
// of a wider matrix is used in place. Queries are processed in blocks (attn_block_size) against
// only the keys they can see, each block one pair of GEMMs.
struct AttnShape {
  size_t T, W, dq, dv;
  size_t ldq, ldk, ldv, ldo;
  float  scale, slope;
};
size_t attn_block_size(size_t W);
// Floats of P storage the forward pass needs for backward.
size_t attn_probs_size(size_t T, size_t W);
// P: attn_probs_size floats, kept for backward; may be nullptr (inference) when scratch is given
// (at least block × (block + W) floats).
void attn_forward(const AttnShape& s, const float* Q, const float* K, const float* V, float* Out,
                  float* P, Buffer* scratch);
// Accumulates into dQ, dK, dV (same strides as Q, K, V) and *dslope.
void attn_backward(const AttnShape& s, const float* Q, const float* K, const float* V,
                   const float* P, const float* dOut, size_t ld_dout, float* dQ, float* dK,
                   float* dV, float* dslope);

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

}  // namespace hunch::train
