#include "train/nn.h"

#include <algorithm>
#include <limits>

namespace hunch::train {

size_t ParamSet::add(const std::string& name, std::vector<uint64_t> shape) {
  Entry e;
  e.name = name;
  e.shape = std::move(shape);
  e.size = 1;
  for (auto d : e.shape) e.size *= d;
  e.offset = data.size();
  data.resize(data.size() + e.size, 0.0f);
  entries.push_back(std::move(e));
  return entries.size() - 1;
}

size_t ParamSet::alias(const std::string& name, size_t of) {
  Entry e = entries[of];
  e.name = name;
  entries.push_back(std::move(e));
  return entries.size() - 1;
}

bool ParamSet::is_alias(size_t i) const {
  for (size_t k = 0; k < i; ++k)
    if (entries[k].offset == entries[i].offset && entries[k].size) return true;
  return false;
}

long ParamSet::find(const std::string& name) const {
  for (size_t i = 0; i < entries.size(); ++i)
    if (entries[i].name == name) return long(i);
  return -1;
}

void init_xavier_normal(ParamSet& p, size_t i, Rng& rng) {
  const auto& e = p.entries[i];
  float std = std::sqrt(2.0f / float(e.rows() + e.cols()));
  init_normal(p, i, std, rng);
}

void init_normal(ParamSet& p, size_t i, float stddev, Rng& rng) {
  float* w = p.ptr(i);
  for (size_t k = 0; k < p.entries[i].size; ++k) w[k] = stddev * rng.normal();
}

void init_constant(ParamSet& p, size_t i, float value) {
  std::fill_n(p.ptr(i), p.entries[i].size, value);
}

void Adam::step(Buffer& params, const Buffer& grad, float lr) {
  if (m.size() != params.size()) {
    m.assign(params.size(), 0.0f);
    v.assign(params.size(), 0.0f);
  }
  ++steps;
  const float bc1 = 1.0f - std::pow(beta1, float(steps));
  const float bc2 = 1.0f - std::pow(beta2, float(steps));
  const float step_size = lr / bc1;
  const float inv_sqrt_bc2 = 1.0f / std::sqrt(bc2);
  float* w = params.data();
  const float* g = grad.data();
  float* mm = m.data();
  float* vv = v.data();
  auto run = [&](size_t begin, size_t end, float size) {
    for (size_t k = begin; k < end; ++k) {
      mm[k] = beta1 * mm[k] + (1.0f - beta1) * g[k];
      vv[k] = beta2 * vv[k] + (1.0f - beta2) * g[k] * g[k];
      // As torch.optim.Adam: denominator sqrt(v)/sqrt(bc2) + eps.
      w[k] -= size * mm[k] / (std::sqrt(vv[k]) * inv_sqrt_bc2 + eps);
    }
  };
  if (scaled.empty()) return run(0, params.size(), step_size);
  std::vector<Scaled> parts = scaled;
  std::sort(parts.begin(), parts.end(), [](const Scaled& a, const Scaled& b) { return a.begin < b.begin; });
  size_t at = 0;
  for (const Scaled& p : parts) {
    run(at, p.begin, step_size);
    run(p.begin, p.end, step_size * p.scale);
    at = p.end;
  }
  run(at, params.size(), step_size);
}

double clip_grad_norm(Buffer& grad, double max_norm) {
  double sq = 0;
  for (float g : grad) sq += double(g) * double(g);
  double norm = std::sqrt(sq);
  if (max_norm > 0 && norm > max_norm) {
    float s = float(max_norm / (norm + 1e-6));
    for (float& g : grad) g *= s;
  }
  return norm;
}

// ---- layer norm -----------------------------------------------------------------------------

void layer_norm_forward(const float* x, size_t dim, size_t n, const float* g, const float* b,
                        float* xhat, float* rstd, float* y) {
  const float inv_dim = 1.0f / float(dim);
  for (size_t c = 0; c < n; ++c) {
    const float* xc = x + c * dim;
    float* hc = xhat + c * dim;
    float* yc = y + c * dim;
    float mean = 0;
    for (size_t k = 0; k < dim; ++k) mean += xc[k];
    mean *= inv_dim;
    float var = 0;
    for (size_t k = 0; k < dim; ++k) var += (xc[k] - mean) * (xc[k] - mean);
    var *= inv_dim;
    float r = 1.0f / std::sqrt(var + 1e-5f);
    rstd[c] = r;
    for (size_t k = 0; k < dim; ++k) {
      hc[k] = (xc[k] - mean) * r;
      yc[k] = g[k] * hc[k] + b[k];
    }
  }
}

void layer_norm_backward(const float* dy, const float* xhat, const float* rstd, size_t dim,
                         size_t n, const float* g, float* dx, float* dg, float* db, bool accumulate) {
  const float inv_dim = 1.0f / float(dim);
  for (size_t c = 0; c < n; ++c) {
    const float* dyc = dy + c * dim;
    const float* hc = xhat + c * dim;
    float* dxc = dx + c * dim;
    float s1 = 0, s2 = 0;  // mean(dxhat), mean(dxhat ⊙ xhat)
    for (size_t k = 0; k < dim; ++k) {
      float dh = dyc[k] * g[k];
      s1 += dh;
      s2 += dh * hc[k];
      dg[k] += dyc[k] * hc[k];
      db[k] += dyc[k];
    }
    s1 *= inv_dim;
    s2 *= inv_dim;
    const float r = rstd[c];
    if (accumulate) {
      for (size_t k = 0; k < dim; ++k) dxc[k] += r * (dyc[k] * g[k] - s1 - hc[k] * s2);
    } else {
      for (size_t k = 0; k < dim; ++k) dxc[k] = r * (dyc[k] * g[k] - s1 - hc[k] * s2);
    }
  }
}

void dropout_mask(float* mask, size_t count, float p, Rng& rng) {
  if (p <= 0) {
    std::fill_n(mask, count, 1.0f);
    return;
  }
  const float keep = 1.0f / (1.0f - p);
  // 24 random bits per entry, two entries per draw: the masks are a visible cost otherwise.
  const uint32_t threshold = uint32_t(double(p) * 16777216.0);
  size_t k = 0;
  for (; k + 1 < count; k += 2) {
    uint64_t r = rng.next();
    mask[k] = (uint32_t(r & 0xFFFFFF) < threshold) ? 0.0f : keep;
    mask[k + 1] = (uint32_t((r >> 32) & 0xFFFFFF) < threshold) ? 0.0f : keep;
  }
  if (k < count) mask[k] = (uint32_t(rng.next() & 0xFFFFFF) < threshold) ? 0.0f : keep;
}

// ---- windowed causal attention ------------------------------------------------------------

size_t attn_block_size(size_t W) { return std::clamp<size_t>(W, 32, 256); }

namespace {

struct Block {
  size_t i0, nq, j0, nk;
};

template <class F>
void for_each_block(size_t T, size_t W, F&& f) {
  const size_t qb = attn_block_size(W);
  for (size_t i0 = 0; i0 < T; i0 += qb) {
    size_t i1 = std::min(T, i0 + qb);
    size_t j0 = i0 + 1 >= W ? i0 + 1 - W : 0;
    f(Block{i0, i1 - i0, j0, i1 - j0});
  }
}

// Keys a query sees inside its block: rows [lo, hi] of the block's (nk, nq) score matrix.
inline void visible_rows(const Block& b, size_t qi, size_t W, size_t* lo, size_t* hi) {
  size_t i = b.i0 + qi;
  size_t first = i + 1 >= W ? i + 1 - W : 0;
  *lo = first - b.j0;
  *hi = i - b.j0;
}

}  // namespace

size_t attn_probs_size(size_t T, size_t W) {
  size_t total = 0;
  for_each_block(T, W, [&](const Block& b) { total += b.nk * b.nq; });
  return total;
}

void attn_forward(const AttnShape& s, const float* Q, const float* K, const float* V, float* Out,
                  float* P, Buffer* scratch) {
  size_t off = 0;
  for_each_block(s.T, s.W, [&](const Block& b) {
    float* S;
    if (P) {
      S = P + off;
      off += b.nk * b.nq;
    } else {
      if (scratch->size() < b.nk * b.nq) scratch->resize(b.nk * b.nq);
      S = scratch->data();
    }
    MapA Sm(S, b.nk, b.nq);
    CMapAS Kb(K + b.j0 * s.ldk, s.dq, b.nk, Eigen::OuterStride<>(s.ldk));
    CMapAS Qb(Q + b.i0 * s.ldq, s.dq, b.nq, Eigen::OuterStride<>(s.ldq));
    Sm.noalias() = Kb.transpose() * Qb;
    for (size_t qi = 0; qi < b.nq; ++qi) {
      float* col = S + qi * b.nk;
      size_t lo, hi;
      visible_rows(b, qi, s.W, &lo, &hi);
      const size_t i = b.i0 + qi;
      float mx = -std::numeric_limits<float>::infinity();
      for (size_t r = lo; r <= hi; ++r) {
        col[r] = col[r] * s.scale - s.slope * float(i - (b.j0 + r));
        mx = std::max(mx, col[r]);
      }
      float sum = 0;
      for (size_t r = lo; r <= hi; ++r) {
        col[r] = std::exp(col[r] - mx);
        sum += col[r];
      }
      const float inv = 1.0f / sum;
      for (size_t r = 0; r < lo; ++r) col[r] = 0;
      for (size_t r = lo; r <= hi; ++r) col[r] *= inv;
      for (size_t r = hi + 1; r < b.nk; ++r) col[r] = 0;
    }
    CMapAS Vb(V + b.j0 * s.ldv, s.dv, b.nk, Eigen::OuterStride<>(s.ldv));
    MapAS Ob(Out + b.i0 * s.ldo, s.dv, b.nq, Eigen::OuterStride<>(s.ldo));
    Ob.noalias() = Vb * Sm;
  });
}

void attn_backward(const AttnShape& s, const float* Q, const float* K, const float* V,
                   const float* P, const float* dOut, size_t ld_dout, float* dQ, float* dK,
                   float* dV, float* dslope) {
  thread_local Buffer dp_buf;
  size_t off = 0;
  double slope_grad = 0;
  for_each_block(s.T, s.W, [&](const Block& b) {
    CMapA Pm(P + off, b.nk, b.nq);
    off += b.nk * b.nq;
    if (dp_buf.size() < b.nk * b.nq) dp_buf.resize(b.nk * b.nq);
    MapA dS(dp_buf.data(), b.nk, b.nq);
    CMapAS dOb(dOut + b.i0 * ld_dout, s.dv, b.nq, Eigen::OuterStride<>(ld_dout));
    CMapAS Vb(V + b.j0 * s.ldv, s.dv, b.nk, Eigen::OuterStride<>(s.ldv));
    MapAS dVb(dV + b.j0 * s.ldv, s.dv, b.nk, Eigen::OuterStride<>(s.ldv));
    dS.noalias() = Vb.transpose() * dOb;  // dP
    dVb.noalias() += dOb * Pm.transpose();
    for (size_t qi = 0; qi < b.nq; ++qi) {
      float* dcol = dp_buf.data() + qi * b.nk;
      const float* pcol = Pm.data() + qi * b.nk;
      size_t lo, hi;
      visible_rows(b, qi, s.W, &lo, &hi);
      const size_t i = b.i0 + qi;
      float dot = 0;
      for (size_t r = lo; r <= hi; ++r) dot += pcol[r] * dcol[r];
      for (size_t r = 0; r < lo; ++r) dcol[r] = 0;
      for (size_t r = lo; r <= hi; ++r) {
        float ds = pcol[r] * (dcol[r] - dot);
        slope_grad -= double(ds) * double(i - (b.j0 + r));
        dcol[r] = ds * s.scale;
      }
      for (size_t r = hi + 1; r < b.nk; ++r) dcol[r] = 0;
    }
    CMapAS Kb(K + b.j0 * s.ldk, s.dq, b.nk, Eigen::OuterStride<>(s.ldk));
    CMapAS Qb(Q + b.i0 * s.ldq, s.dq, b.nq, Eigen::OuterStride<>(s.ldq));
    MapAS dQb(dQ + b.i0 * s.ldq, s.dq, b.nq, Eigen::OuterStride<>(s.ldq));
    MapAS dKb(dK + b.j0 * s.ldk, s.dq, b.nk, Eigen::OuterStride<>(s.ldk));
    dQb.noalias() += Kb * dS;
    dKb.noalias() += Qb * dS.transpose();
  });
  *dslope += float(slope_grad);
}

}  // namespace hunch::train
