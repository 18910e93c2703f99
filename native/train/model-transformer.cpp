#include "train/model-transformer.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace hunch::train {

namespace {

struct BlockIdx {
  size_t ln1_g, ln1_b, ln2_g, ln2_b, wq, wk, wv, wo, bq, bk, bv, bo, recency, w1, b1, w2, b2;
};

// Activations of one block kept for backward. The residual stream itself is not stored: the
// backward pass needs only the normalised inputs of the two layer norms.
struct LayerAct {
  Buffer xhat1, rstd1;  // (D, N), (N): first layer norm's normalised input and 1/std
  Buffer u;             // (D, N) LN1 output: the attention's input
  Buffer q, k, v;       // (D, N) projections; head n is rows [n·D/NH, (n+1)·D/NH)
  Buffer o;             // (D, N) attention output, heads side by side (w_o's input)
  Buffer mask_a;        // (D, N) dropout on the attention branch (training only)
  Buffer xhat2, rstd2;  // (D, N), (N): second layer norm's
  Buffer y;             // (D, N) LN2 output: the FFN's input
  Buffer h1;            // (F, N) ReLU(w1·y + b1)
  Buffer mask_h, h1d;   // (F, N) dropout on h1 and the dropped h1 (training only)
  Buffer mask_f;        // (D, N) dropout on the FFN branch (training only)
  Buffer probs;       // attention probabilities, per sample and head
  std::vector<size_t> probs_off;  // offset per (sample, head)
};

struct TfPass : Pass {
  Buffer x, mask_e;      // (D, N) the residual stream (event encodings at first), its dropout
  Buffer xhatf, rstdf;   // (D, N), (N): the final layer norm's
  std::vector<LayerAct> layers;
  Buffer t1, t2, t3, dq, dk, dv;  // scratch: (D, N) each, t2 (max(D, F), N)
  Buffer attn_scratch;
};

class Transformer : public Net {
 public:
  explicit Transformer(const NetConfig& c) : Net(c) {
    add_params();
    for (uint32_t l = 0; l < c.hyper.layers; ++l) {
      const std::string p = "blk." + std::to_string(l) + ".";
      BlockIdx b;
      b.ln1_g = param(p + "ln1.g");
      b.ln1_b = param(p + "ln1.b");
      b.ln2_g = param(p + "ln2.g");
      b.ln2_b = param(p + "ln2.b");
      b.wq = param(p + "attn.w_q");
      b.wk = param(p + "attn.w_k");
      b.wv = param(p + "attn.w_v");
      b.wo = param(p + "attn.w_o");
      b.bq = param(p + "attn.b_q");
      b.bk = param(p + "attn.b_k");
      b.bv = param(p + "attn.b_v");
      b.bo = param(p + "attn.b_o");
      b.recency = param(p + "attn.recency");
      b.w1 = param(p + "ffn.w1");
      b.b1 = param(p + "ffn.b1");
      b.w2 = param(p + "ffn.w2");
      b.b2 = param(p + "ffn.b2");
      blk_.push_back(b);
    }
    fin_g_ = param("final_ln.g");
    fin_b_ = param("final_ln.b");
  }

  void init(Rng& rng) override {
    init_embeddings_and_heads(rng);
    for (const BlockIdx& b : blk_) {
      for (size_t m : {b.wq, b.wk, b.wv, b.wo, b.w1, b.w2}) init_xavier_normal(params, m, rng);
      init_constant(params, b.ln1_g, 1.0f);
      init_constant(params, b.ln2_g, 1.0f);
      // ALiBi-like: head n starts with a gentle recency preference, halving per head.
      float* r = params.ptr(b.recency);
      for (uint32_t n = 0; n < cfg.hyper.heads; ++n) r[n] = cfg.recency_init / float(1u << std::min(n, 20u));
    }
    init_constant(params, fin_g_, 1.0f);
  }

  std::unique_ptr<Pass> make_pass() const override { return std::make_unique<TfPass>(); }

  void forward(const Dataset& data, Pass& base) const override;
  void backward(const Dataset& data, Pass& base, float* grad) const override;

 private:
  AttnShape attn_shape(size_t T, size_t head, const float* recency) const {
    const size_t D = cfg.hyper.embed, dh = D / cfg.hyper.heads;
    return AttnShape{T, cfg.hyper.window, dh, dh, D, D, D, D, 1.0f / std::sqrt(float(dh)), recency[head]};
  }

  std::vector<BlockIdx> blk_;
  size_t fin_g_ = 0, fin_b_ = 0;
};

void Transformer::forward(const Dataset& data, Pass& base) const {
  TfPass& ps = static_cast<TfPass&>(base);
  const size_t D = cfg.hyper.embed, F = cfg.hyper.ffn, N = ps.N, NH = cfg.hyper.heads, dh = D / NH;
  const float drop = ps.train ? cfg.dropout : 0.0f;
  ps.x.resize(D * N);
  embed(data, ps, ps.x.data());
  MapA X(ps.x.data(), D, N);
  if (drop > 0) {
    ps.mask_e.resize(D * N);
    sample_masks(ps, ps.mask_e.data(), D, 1, drop);
    X.array() *= MapA(ps.mask_e.data(), D, N).array();
  }
  ps.layers.resize(cfg.hyper.layers);
  ps.t1.resize(D * N);
  for (size_t l = 0; l < cfg.hyper.layers; ++l) {
    const BlockIdx& b = blk_[l];
    LayerAct& a = ps.layers[l];
    for (auto* v : {&a.xhat1, &a.u, &a.q, &a.k, &a.v, &a.o, &a.xhat2, &a.y}) v->resize(D * N);
    a.rstd1.resize(N);
    a.rstd2.resize(N);
    a.h1.resize(F * N);
    layer_norm_forward(ps.x.data(), D, N, params.ptr(b.ln1_g), params.ptr(b.ln1_b), a.xhat1.data(),
                       a.rstd1.data(), a.u.data());
    CMapA U(a.u.data(), D, N);
    MapA Q(a.q.data(), D, N), K(a.k.data(), D, N), Vv(a.v.data(), D, N);
    Q.noalias() = params.mat(b.wq) * U;
    Q.colwise() += CMapV(params.ptr(b.bq), D);
    K.noalias() = params.mat(b.wk) * U;
    K.colwise() += CMapV(params.ptr(b.bk), D);
    Vv.noalias() = params.mat(b.wv) * U;
    Vv.colwise() += CMapV(params.ptr(b.bv), D);

    const float* rec = params.ptr(b.recency);
    const size_t S = ps.samples.size();
    if (ps.train) {
      a.probs_off.resize(S * NH + 1);
      size_t off = 0;
      for (size_t s = 0; s < S; ++s)
        for (size_t n = 0; n < NH; ++n) {
          a.probs_off[s * NH + n] = off;
          off += attn_probs_size(ps.samples[s].len, cfg.hyper.window);
        }
      a.probs_off[S * NH] = off;
      a.probs.resize(off);
    }
    for (size_t s = 0; s < S; ++s) {
      const size_t c0 = ps.start[s], T = ps.samples[s].len;
      for (size_t n = 0; n < NH; ++n) {
        const size_t h0 = c0 * D + n * dh;
        attn_forward(attn_shape(T, n, rec), a.q.data() + h0, a.k.data() + h0, a.v.data() + h0,
                     a.o.data() + h0, ps.train ? a.probs.data() + a.probs_off[s * NH + n] : nullptr,
                     &ps.attn_scratch);
      }
    }
    MapA A(ps.t1.data(), D, N);
    A.noalias() = params.mat(b.wo) * MapA(a.o.data(), D, N);
    A.colwise() += CMapV(params.ptr(b.bo), D);
    if (drop > 0) {
      a.mask_a.resize(D * N);
      sample_masks(ps, a.mask_a.data(), D, 16 + 4 * l, drop);
      A.array() *= MapA(a.mask_a.data(), D, N).array();
    }
    X += A;

    layer_norm_forward(ps.x.data(), D, N, params.ptr(b.ln2_g), params.ptr(b.ln2_b), a.xhat2.data(),
                       a.rstd2.data(), a.y.data());
    MapA H1(a.h1.data(), F, N);
    H1.noalias() = params.mat(b.w1) * MapA(a.y.data(), D, N);
    H1.colwise() += CMapV(params.ptr(b.b1), F);
    H1 = H1.cwiseMax(0.0f);
    const float* h1d = a.h1.data();
    if (drop > 0) {
      a.mask_h.resize(F * N);
      a.h1d.resize(F * N);
      sample_masks(ps, a.mask_h.data(), F, 17 + 4 * l, drop);
      MapA(a.h1d.data(), F, N) = H1.array() * MapA(a.mask_h.data(), F, N).array();
      h1d = a.h1d.data();
    }
    A.noalias() = params.mat(b.w2) * CMapA(h1d, F, N);
    A.colwise() += CMapV(params.ptr(b.b2), D);
    if (drop > 0) {
      a.mask_f.resize(D * N);
      sample_masks(ps, a.mask_f.data(), D, 18 + 4 * l, drop);
      A.array() *= MapA(a.mask_f.data(), D, N).array();
    }
    X += A;
  }
  ps.xhatf.resize(D * N);
  ps.rstdf.resize(N);
  ps.z.resize(D * N);
  layer_norm_forward(ps.x.data(), D, N, params.ptr(fin_g_), params.ptr(fin_b_), ps.xhatf.data(),
                     ps.rstdf.data(), ps.z.data());
}

void Transformer::backward(const Dataset& data, Pass& base, float* grad) const {
  TfPass& ps = static_cast<TfPass&>(base);
  const size_t D = cfg.hyper.embed, F = cfg.hyper.ffn, N = ps.N, NH = cfg.hyper.heads, dh = D / NH;
  const bool dropped = ps.train && cfg.dropout > 0;
  const ParamSet& P = params;
  auto gv = [&](size_t i) { return grad + P.entries[i].offset; };

  // dx: gradient of the residual stream, carried down through the blocks.
  Buffer& dx = ps.x;  // the forward stream is no longer needed
  layer_norm_backward(ps.dz.data(), ps.xhatf.data(), ps.rstdf.data(), D, N, P.ptr(fin_g_), dx.data(),
                      gv(fin_g_), gv(fin_b_), false);
  MapA dX(dx.data(), D, N);
  ps.t1.resize(D * N);
  ps.t2.resize(std::max(D, F) * N);
  ps.t3.resize(D * N);
  ps.dq.resize(D * N);
  ps.dk.resize(D * N);
  ps.dv.resize(D * N);
  for (size_t l = cfg.hyper.layers; l-- > 0;) {
    const BlockIdx& b = blk_[l];
    LayerAct& a = ps.layers[l];
    // Feed-forward branch.
    MapA dF(ps.t1.data(), D, N);
    dF = dX;
    if (dropped) dF.array() *= MapA(a.mask_f.data(), D, N).array();
    const float* h1d = dropped ? a.h1d.data() : a.h1.data();
    grad_mat(P, grad, b.w2).noalias() += dF * CMapA(h1d, F, N).transpose();
    grad_vec(P, grad, b.b2) += dF.rowwise().sum();
    MapA dH(ps.t2.data(), F, N);
    dH.noalias() = P.mat(b.w2).transpose() * dF;
    if (dropped) dH.array() *= MapA(a.mask_h.data(), F, N).array();
    dH.array() *= (MapA(a.h1.data(), F, N).array() > 0.0f).cast<float>();
    grad_mat(P, grad, b.w1).noalias() += dH * MapA(a.y.data(), D, N).transpose();
    grad_vec(P, grad, b.b1) += dH.rowwise().sum();
    MapA dY(ps.t3.data(), D, N);
    dY.noalias() = P.mat(b.w1).transpose() * dH;
    layer_norm_backward(ps.t3.data(), a.xhat2.data(), a.rstd2.data(), D, N, P.ptr(b.ln2_g), dx.data(),
                        gv(b.ln2_g), gv(b.ln2_b), true);
    // Attention branch.
    MapA dA(ps.t1.data(), D, N);
    dA = dX;
    if (dropped) dA.array() *= MapA(a.mask_a.data(), D, N).array();
    grad_mat(P, grad, b.wo).noalias() += dA * MapA(a.o.data(), D, N).transpose();
    grad_vec(P, grad, b.bo) += dA.rowwise().sum();
    MapA dO(ps.t3.data(), D, N);
    dO.noalias() = P.mat(b.wo).transpose() * dA;
    std::fill(ps.dq.begin(), ps.dq.end(), 0.0f);
    std::fill(ps.dk.begin(), ps.dk.end(), 0.0f);
    std::fill(ps.dv.begin(), ps.dv.end(), 0.0f);
    const float* rec = P.ptr(b.recency);
    float* grec = gv(b.recency);
    for (size_t s = 0; s < ps.samples.size(); ++s) {
      const size_t c0 = ps.start[s], T = ps.samples[s].len;
      for (size_t n = 0; n < NH; ++n) {
        const size_t h0 = c0 * D + n * dh;
        attn_backward(attn_shape(T, n, rec), a.q.data() + h0, a.k.data() + h0, a.v.data() + h0,
                      a.probs.data() + a.probs_off[s * NH + n], ps.t3.data() + h0, D,
                      ps.dq.data() + h0, ps.dk.data() + h0, ps.dv.data() + h0, &grec[n]);
      }
    }
    MapA dQ(ps.dq.data(), D, N), dK(ps.dk.data(), D, N), dV(ps.dv.data(), D, N);
    CMapA U(a.u.data(), D, N);
    grad_mat(P, grad, b.wq).noalias() += dQ * U.transpose();
    grad_mat(P, grad, b.wk).noalias() += dK * U.transpose();
    grad_mat(P, grad, b.wv).noalias() += dV * U.transpose();
    grad_vec(P, grad, b.bq) += dQ.rowwise().sum();
    grad_vec(P, grad, b.bk) += dK.rowwise().sum();
    grad_vec(P, grad, b.bv) += dV.rowwise().sum();
    MapA dU(ps.t3.data(), D, N);
    dU.noalias() = P.mat(b.wq).transpose() * dQ;
    dU.noalias() += P.mat(b.wk).transpose() * dK;
    dU.noalias() += P.mat(b.wv).transpose() * dV;
    layer_norm_backward(ps.t3.data(), a.xhat1.data(), a.rstd1.data(), D, N, P.ptr(b.ln1_g), dx.data(),
                        gv(b.ln1_g), gv(b.ln1_b), true);
  }
  if (dropped) dX.array() *= MapA(ps.mask_e.data(), D, N).array();
  embed_backward(data, ps, dx.data(), grad);
}

}  // namespace

std::unique_ptr<Net> make_transformer(const NetConfig& c) { return std::make_unique<Transformer>(c); }

}  // namespace hunch::train
