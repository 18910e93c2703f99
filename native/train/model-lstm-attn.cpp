#include "train/model-lstm-attn.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace hunch::train {

namespace {

// The recurrence runs all samples of a pass in lockstep, one GEMM per time step. Samples are
// ranked by length (longest first), so the ones still running at step t are a prefix of the
// ranking and the step's hidden states gather into one contiguous block.
struct LstmPass : Pass {
  Buffer x, mask_e;     // (D, N) event encodings after dropout
  Buffer gates;         // (4H, N) i, f, g, o after their nonlinearities
  Buffer c, tc;         // (H, N) cell and tanh(cell)
  Buffer hc;            // (2H, N) [h ; attention context]: proj's input
  Buffer q, k;          // (A, N)
  Buffer probs;
  std::vector<size_t> probs_off;
  Buffer mask_z;        // (D, N)
  std::vector<size_t> rank;         // samples by decreasing length
  Buffer step_a, step_b, step_c;  // per-step gathered blocks
  Buffer dg, dhc, dq, dk, hprev, scratch_x;
  Buffer attn_scratch;
};

class LstmAttn : public Net {
 public:
  explicit LstmAttn(const NetConfig& c) : Net(c) {
    add_params();
    w_ih_ = param("lstm.w_ih");
    w_hh_ = param("lstm.w_hh");
    bias_ = param("lstm.bias");
    w_q_ = param("attn.w_q");
    w_k_ = param("attn.w_k");
    rec_ = param("attn.recency");
    proj_w_ = param("proj.w");
    proj_b_ = param("proj.b");
  }

  void init(Rng& rng) override {
    init_embeddings_and_heads(rng);
    for (size_t m : {w_ih_, w_hh_, w_q_, w_k_, proj_w_}) init_xavier_normal(params, m, rng);
    // Forget-gate bias 1: the usual start that lets the cell keep its state early in training.
    float* b = params.ptr(bias_);
    for (uint32_t k = 0; k < cfg.hyper.hidden; ++k) b[cfg.hyper.hidden + k] = 1.0f;
    params.ptr(rec_)[0] = 0.05f;
  }

  std::unique_ptr<Pass> make_pass() const override { return std::make_unique<LstmPass>(); }
  void forward(const Dataset& data, Pass& base) const override;
  void backward(const Dataset& data, Pass& base, float* grad) const override;

 private:
  AttnShape attn_shape(size_t T) const {
    const size_t H = cfg.hyper.hidden, A = cfg.hyper.attn_size;
    return AttnShape{T, cfg.hyper.window, A, H, A, A, 2 * H, 2 * H, 1.0f / std::sqrt(float(A)),
                     params.ptr(rec_)[0]};
  }
  // Number of samples still running at step t (a prefix of the ranking).
  static size_t active(const LstmPass& ps, size_t t) {
    size_t lo = 0, hi = ps.rank.size();
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (ps.samples[ps.rank[mid]].len > t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  size_t w_ih_, w_hh_, bias_, w_q_, w_k_, rec_, proj_w_, proj_b_;
};

void LstmAttn::forward(const Dataset& data, Pass& base) const {
  LstmPass& ps = static_cast<LstmPass&>(base);
  const size_t D = cfg.hyper.embed, H = cfg.hyper.hidden, A = cfg.hyper.attn_size, N = ps.N, S = ps.samples.size();
  const float drop = ps.train ? cfg.dropout : 0.0f;
  ps.x.resize(D * N);
  embed(data, ps, ps.x.data());
  MapA X(ps.x.data(), D, N);
  if (drop > 0) {
    ps.mask_e.resize(D * N);
    sample_masks(ps, ps.mask_e.data(), D, 1, drop);
    X.array() *= MapA(ps.mask_e.data(), D, N).array();
  }
  ps.gates.resize(4 * H * N);
  ps.c.resize(H * N);
  ps.tc.resize(H * N);
  ps.hc.resize(2 * H * N);
  MapA G(ps.gates.data(), 4 * H, N);
  G.noalias() = params.mat(w_ih_) * X;
  G.colwise() += CMapV(params.ptr(bias_), 4 * H);

  ps.rank.resize(S);
  std::iota(ps.rank.begin(), ps.rank.end(), size_t(0));
  std::stable_sort(ps.rank.begin(), ps.rank.end(),
                   [&](size_t a, size_t b) { return ps.samples[a].len > ps.samples[b].len; });
  const size_t max_t = S ? ps.samples[ps.rank[0]].len : 0;
  ps.step_a.resize(H * S);
  ps.step_b.resize(4 * H * S);
  const CMapR Whh = params.mat(w_hh_);
  for (size_t t = 0; t < max_t; ++t) {
    const size_t B = active(ps, t);
    if (t > 0) {
      MapA Hp(ps.step_a.data(), H, B);
      for (size_t r = 0; r < B; ++r) {
        const size_t col = ps.start[ps.rank[r]] + t - 1;
        Hp.col(r) = CMapV(ps.hc.data() + col * 2 * H, H);
      }
      MapA Gt(ps.step_b.data(), 4 * H, B);
      Gt.noalias() = Whh * Hp;
    }
    for (size_t r = 0; r < B; ++r) {
      const size_t col = ps.start[ps.rank[r]] + t;
      float* g = ps.gates.data() + col * 4 * H;
      if (t > 0) {
        const float* gt = ps.step_b.data() + r * 4 * H;
        for (size_t k = 0; k < 4 * H; ++k) g[k] += gt[k];
      }
      const float* cprev = t > 0 ? ps.c.data() + (col - 1) * H : nullptr;
      float* c = ps.c.data() + col * H;
      float* tc = ps.tc.data() + col * H;
      float* h = ps.hc.data() + col * 2 * H;
      for (size_t k = 0; k < H; ++k) {
        const float i = sigmoid(g[k]), f = sigmoid(g[H + k]), gg = std::tanh(g[2 * H + k]),
                    o = sigmoid(g[3 * H + k]);
        g[k] = i;
        g[H + k] = f;
        g[2 * H + k] = gg;
        g[3 * H + k] = o;
        c[k] = (cprev ? f * cprev[k] : 0.0f) + i * gg;
        tc[k] = std::tanh(c[k]);
        h[k] = o * tc[k];
      }
    }
  }

  // Attention over each sample's own hidden states (values = h, read in place from hc).
  ps.q.resize(A * N);
  ps.k.resize(A * N);
  CMapAS Hs(ps.hc.data(), H, N, Eigen::OuterStride<>(2 * H));
  MapA(ps.q.data(), A, N).noalias() = params.mat(w_q_) * Hs;
  MapA(ps.k.data(), A, N).noalias() = params.mat(w_k_) * Hs;
  if (ps.train) {
    ps.probs_off.resize(S + 1);
    size_t off = 0;
    for (size_t s = 0; s < S; ++s) {
      ps.probs_off[s] = off;
      off += attn_probs_size(ps.samples[s].len, cfg.hyper.window);
    }
    ps.probs_off[S] = off;
    ps.probs.resize(off);
  }
  for (size_t s = 0; s < S; ++s) {
    const size_t c0 = ps.start[s];
    attn_forward(attn_shape(ps.samples[s].len), ps.q.data() + c0 * A, ps.k.data() + c0 * A,
                 ps.hc.data() + c0 * 2 * H, ps.hc.data() + c0 * 2 * H + H,
                 ps.train ? ps.probs.data() + ps.probs_off[s] : nullptr, &ps.attn_scratch);
  }
  ps.z.resize(D * N);
  MapA Z(ps.z.data(), D, N);
  Z.noalias() = params.mat(proj_w_) * MapA(ps.hc.data(), 2 * H, N);
  Z.colwise() += CMapV(params.ptr(proj_b_), D);
  if (drop > 0) {
    ps.mask_z.resize(D * N);
    sample_masks(ps, ps.mask_z.data(), D, 2, drop);
    Z.array() *= MapA(ps.mask_z.data(), D, N).array();
  }
}

void LstmAttn::backward(const Dataset& data, Pass& base, float* grad) const {
  LstmPass& ps = static_cast<LstmPass&>(base);
  const size_t D = cfg.hyper.embed, H = cfg.hyper.hidden, A = cfg.hyper.attn_size, N = ps.N, S = ps.samples.size();
  const bool dropped = ps.train && cfg.dropout > 0;
  const ParamSet& P = params;

  MapA dZ(ps.dz.data(), D, N);
  if (dropped) dZ.array() *= MapA(ps.mask_z.data(), D, N).array();
  MapA HC(ps.hc.data(), 2 * H, N);
  grad_mat(P, grad, proj_w_).noalias() += dZ * HC.transpose();
  grad_vec(P, grad, proj_b_) += dZ.rowwise().sum();
  ps.dhc.resize(2 * H * N);
  MapA dHC(ps.dhc.data(), 2 * H, N);
  dHC.noalias() = P.mat(proj_w_).transpose() * dZ;

  ps.dq.assign(A * N, 0.0f);
  ps.dk.assign(A * N, 0.0f);
  float* grec = grad + P.entries[rec_].offset;
  for (size_t s = 0; s < S; ++s) {
    const size_t c0 = ps.start[s];
    // Values are h (top half of hc): their gradient lands in the top half of dhc.
    attn_backward(attn_shape(ps.samples[s].len), ps.q.data() + c0 * A, ps.k.data() + c0 * A,
                  ps.hc.data() + c0 * 2 * H, ps.probs.data() + ps.probs_off[s],
                  ps.dhc.data() + c0 * 2 * H + H, 2 * H, ps.dq.data() + c0 * A,
                  ps.dk.data() + c0 * A, ps.dhc.data() + c0 * 2 * H, grec);
  }
  CMapAS Hs(ps.hc.data(), H, N, Eigen::OuterStride<>(2 * H));
  MapAS dHs(ps.dhc.data(), H, N, Eigen::OuterStride<>(2 * H));
  MapA dQ(ps.dq.data(), A, N), dK(ps.dk.data(), A, N);
  grad_mat(P, grad, w_q_).noalias() += dQ * Hs.transpose();
  grad_mat(P, grad, w_k_).noalias() += dK * Hs.transpose();
  dHs.noalias() += P.mat(w_q_).transpose() * dQ;
  dHs.noalias() += P.mat(w_k_).transpose() * dK;

  // Back-propagation through time, lockstep over the ranked samples.
  ps.dg.resize(4 * H * N);
  ps.step_a.assign(H * S, 0.0f);      // dh carried to step t-1, by rank
  ps.step_c.assign(H * S, 0.0f);      // dc carried to step t-1, by rank
  ps.step_b.resize(4 * H * S);        // this step's gate gradients, by rank
  const CMapR Whh = P.mat(w_hh_);
  const size_t max_t = S ? ps.samples[ps.rank[0]].len : 0;
  for (size_t t = max_t; t-- > 0;) {
    const size_t B = active(ps, t);
    for (size_t r = 0; r < B; ++r) {
      const size_t col = ps.start[ps.rank[r]] + t;
      const float* g = ps.gates.data() + col * 4 * H;
      const float* tc = ps.tc.data() + col * H;
      const float* cprev = t > 0 ? ps.c.data() + (col - 1) * H : nullptr;
      const float* dh_up = ps.dhc.data() + col * 2 * H;
      float* dh_carry = ps.step_a.data() + r * H;
      float* dc_carry = ps.step_c.data() + r * H;
      float* dg = ps.dg.data() + col * 4 * H;
      for (size_t k = 0; k < H; ++k) {
        const float i = g[k], f = g[H + k], gg = g[2 * H + k], o = g[3 * H + k];
        const float dh = dh_up[k] + dh_carry[k];
        const float dc = dc_carry[k] + dh * o * (1.0f - tc[k] * tc[k]);
        const float cp = cprev ? cprev[k] : 0.0f;
        dg[k] = dc * gg * i * (1.0f - i);
        dg[H + k] = dc * cp * f * (1.0f - f);
        dg[2 * H + k] = dc * i * (1.0f - gg * gg);
        dg[3 * H + k] = dh * tc[k] * o * (1.0f - o);
        dc_carry[k] = dc * f;
      }
      std::copy(dg, dg + 4 * H, ps.step_b.data() + r * 4 * H);
    }
    if (t > 0) {
      MapA(ps.step_a.data(), H, B).noalias() = Whh.transpose() * MapA(ps.step_b.data(), 4 * H, B);
    }
  }
  MapA dG(ps.dg.data(), 4 * H, N);
  MapA X(ps.x.data(), D, N);
  grad_mat(P, grad, w_ih_).noalias() += dG * X.transpose();
  grad_vec(P, grad, bias_) += dG.rowwise().sum();
  // h_{t-1} for every column (zero at a sample's first position), for dW_hh in one GEMM.
  ps.hprev.resize(H * N);
  for (size_t s = 0; s < S; ++s) {
    const size_t c0 = ps.start[s];
    std::fill_n(ps.hprev.data() + c0 * H, H, 0.0f);
    for (size_t p = 1; p < ps.samples[s].len; ++p)
      std::copy_n(ps.hc.data() + (c0 + p - 1) * 2 * H, H, ps.hprev.data() + (c0 + p) * H);
  }
  grad_mat(P, grad, w_hh_).noalias() += dG * MapA(ps.hprev.data(), H, N).transpose();
  ps.scratch_x.resize(D * N);
  MapA dX(ps.scratch_x.data(), D, N);
  dX.noalias() = P.mat(w_ih_).transpose() * dG;
  if (dropped) dX.array() *= MapA(ps.mask_e.data(), D, N).array();
  embed_backward(data, ps, ps.scratch_x.data(), grad);
}

}  // namespace

std::unique_ptr<Net> make_lstm_attn(const NetConfig& c) { return std::make_unique<LstmAttn>(c); }

}  // namespace hunch::train
