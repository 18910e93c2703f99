// An exact pruned top-10 for a network action head, measured before it is built (issue 17, big
// catalogues): the head's rows in the basis of their second-moment matrix's eigenvectors (what
// quantise time would store), then per held-out context a first pass over the first r
// coordinates, bias[a] + w'_a[:r] · z'[:r], with the Cauchy-Schwarz bound |w'_a[r:]| · |z'[r:]|
// on the rest; rows in order of that upper bound are scored exactly until the next bound falls
// below the 10th exact logit (the copy and transition terms' actions are always scored). Exact
// (recall 1) by construction; what it saves is measured: the share of rows scored exactly, beside
// r/D (the first pass's share of a full GEMV).
//
// usage: lowrank-bound MODEL.hunch ITEMS.txt [users]
//   ITEMS.txt as bench/core/cluster-recall.cpp (the validation split's contexts).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "contexts.h"
#include "hunch/model.h"
#include "hunch/sequence.h"
#include "hunch/transitions.h"

using namespace hunch;

namespace {

// Eigen-decomposition of a symmetric n × n matrix (row-major, destroyed) by cyclic Jacobi
// rotations: eigenvalues in ev, eigenvectors in the columns of U.
void jacobi(std::vector<double>& A, int n, std::vector<double>* U, std::vector<double>* ev) {
  U->assign(size_t(n) * n, 0);
  for (int i = 0; i < n; ++i) (*U)[size_t(i) * n + i] = 1;
  for (int sweep = 0; sweep < 60; ++sweep) {
    double off = 0;
    for (int p = 0; p < n; ++p)
      for (int q = p + 1; q < n; ++q) off += A[p * n + q] * A[p * n + q];
    if (off < 1e-18) break;
    for (int p = 0; p < n; ++p)
      for (int q = p + 1; q < n; ++q) {
        const double apq = A[p * n + q];
        if (std::fabs(apq) < 1e-30) continue;
        const double th = (A[q * n + q] - A[p * n + p]) / (2 * apq);
        const double t = (th >= 0 ? 1 : -1) / (std::fabs(th) + std::sqrt(th * th + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int k = 0; k < n; ++k) {
          const double akp = A[k * n + p], akq = A[k * n + q];
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (int k = 0; k < n; ++k) {
          const double apk = A[p * n + k], aqk = A[q * n + k];
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
        for (int k = 0; k < n; ++k) {
          const double ukp = (*U)[k * n + p], ukq = (*U)[k * n + q];
          (*U)[k * n + p] = c * ukp - s * ukq;
          (*U)[k * n + q] = s * ukp + c * ukq;
        }
      }
  }
  ev->resize(n);
  for (int i = 0; i < n; ++i) (*ev)[i] = A[i * n + i];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: lowrank-bound MODEL.hunch ITEMS.txt [users]\n");
    return 2;
  }
  const std::unique_ptr<Model> model = bench::load_model("lowrank-bound", argv[1]);
  if (!model) return 1;
  const size_t max_users = argc > 3 ? size_t(std::atol(argv[3])) : 1000;
  const Hyper& hp = model->hyper();
  if (hp.action_counts) {
    std::fprintf(stderr, "lowrank-bound: %s has a counts-only head (no rows to bound)\n", argv[1]);
    return 1;
  }
  const uint32_t V = hp.vocab_size, D = hp.embed;
  const Matrix& H = model->weights().head_action;
  const float* bias = model->weights().head_action_b.data;
  std::vector<float> rows(size_t(V) * D);
  for (uint32_t a = 0; a < V; ++a)
    for (uint32_t d = 0; d < D; ++d)
      rows[size_t(a) * D + d] = H.is_int8() ? float(H.i8[size_t(a) * D + d]) * H.scales[a] : H.f32[size_t(a) * D + d];
  std::vector<double> M(size_t(D) * D, 0), U, ev;
  for (uint32_t a = 1; a < V; ++a)
    for (uint32_t i = 0; i < D; ++i)
      for (uint32_t j = 0; j < D; ++j) M[i * D + j] += double(rows[size_t(a) * D + i]) * rows[size_t(a) * D + j];
  jacobi(M, int(D), &U, &ev);
  std::vector<uint32_t> ord(D);
  std::iota(ord.begin(), ord.end(), 0u);
  std::sort(ord.begin(), ord.end(), [&](uint32_t x, uint32_t y) { return ev[x] > ev[y]; });
  const double total = std::accumulate(ev.begin(), ev.end(), 0.0);
  auto project = [&](const float* x, float* out) {
    for (uint32_t k = 0; k < D; ++k) {
      double s = 0;
      for (uint32_t d = 0; d < D; ++d) s += double(x[d]) * U[d * D + ord[k]];
      out[k] = float(s);
    }
  };
  std::vector<float> P(size_t(V) * D);
  for (uint32_t a = 0; a < V; ++a) project(&rows[size_t(a) * D], &P[size_t(a) * D]);
  const std::vector<uint32_t> rs = {4, 8, 16, 32};
  std::vector<std::vector<float>> rest(rs.size(), std::vector<float>(V));  // |w'_a[r:]|
  for (size_t ri = 0; ri < rs.size(); ++ri)
    for (uint32_t a = 0; a < V; ++a) {
      double s = 0;
      for (uint32_t k = rs[ri]; k < D; ++k) s += double(P[size_t(a) * D + k]) * P[size_t(a) * D + k];
      rest[ri][a] = float(std::sqrt(s));
    }

  std::vector<double> scored(rs.size(), 0);
  size_t contexts = 0;
  Sequence seq(*model);
  std::vector<float> ub(V), zp(D);
  std::vector<uint32_t> ids(V);
  std::vector<char> touched(V);
  const long n_contexts = bench::replay_contexts("lowrank-bound", argv[2], max_users, *model, &seq, [&](const std::vector<uint32_t>& window) {
    const float* logits = seq.action_logits();
    project(seq.output().data(), zp.data());
    std::fill(touched.begin(), touched.end(), 0);
    if (hp.copy)
      for (size_t i = window.size() > copy_window_of(hp) ? window.size() - copy_window_of(hp) : 0; i < window.size(); ++i)
        touched[window[i]] = 1;
    if (hp.transition_bytes) {
      TransitionRow r(model->weights().transition_table.data, model->transition_rows()[window.back()]);
      for (Transition t; r.next(&t);) touched[t.next] = 1;
    }
    for (size_t ri = 0; ri < rs.size(); ++ri) {
      const uint32_t r = rs[ri];
      double zr = 0;
      for (uint32_t k = r; k < D; ++k) zr += double(zp[k]) * zp[k];
      zr = std::sqrt(zr);
      std::vector<float> best;  // the 10 best exact logits so far, descending
      auto add = [&](float v) {
        best.insert(std::upper_bound(best.begin(), best.end(), v, std::greater<float>()), v);
        if (best.size() > 10) best.pop_back();
      };
      size_t n = 0;
      for (uint32_t a = 1; a < V; ++a)
        if (touched[a]) add(logits[a]), ++n;
      // Slack for the core's int8 rounding of z in the exact GEMV.
      for (uint32_t a = 1; a < V; ++a) {
        float s = bias[a];
        for (uint32_t k = 0; k < r; ++k) s += P[size_t(a) * D + k] * zp[k];
        ub[a] = s + rest[ri][a] * float(zr) + 0.02f * (1 + std::fabs(s));
      }
      std::iota(ids.begin(), ids.end(), 0u);
      std::sort(ids.begin() + 1, ids.end(), [&](uint32_t x, uint32_t y) { return ub[x] > ub[y]; });
      for (uint32_t j = 1; j < V; ++j) {
        const uint32_t a = ids[j];
        if (touched[a]) continue;
        if (best.size() == 10 && ub[a] < best.back()) break;
        add(logits[a]);
        ++n;
      }
      scored[ri] += double(n) / double(V - 1);
    }
  });
  if (n_contexts < 0) return 1;
  contexts = size_t(n_contexts);
  std::printf("{\"model\": \"%s\", \"V\": %u, \"contexts\": %zu, \"rows\": [", argv[1], V, contexts);
  for (size_t ri = 0; ri < rs.size(); ++ri) {
    double energy = 0;
    for (uint32_t k = 0; k < rs[ri]; ++k) energy += ev[ord[k]];
    std::printf("%s{\"r\": %u, \"energy\": %.3f, \"first_pass_share\": %.3f, \"share_scored_exactly\": %.4f}",
                ri ? ", " : "", rs[ri], energy / total, double(rs[ri]) / D, scored[ri] / double(contexts));
  }
  std::printf("]}\n");
  return 0;
}
