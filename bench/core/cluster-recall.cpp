// The recall of a cluster shortlist for the action head's top-10 (issue 17, "Big catalogues",
// step 3 measured before it is built): k-means of the head's rows (≈ √V centroids, at what would
// be quantise time), then per held-out event the clusters ranked by centroid · z + the largest
// bias among their actions, the actions of the best m clusters (plus the actions the copy and
// transition terms touch: the window's and the last action's successors) scored exactly, and their
// top-10 compared with the exact top-10 of all V logits. Prints, per m, the mean recall and the
// share of the V actions scored (what the head's GEMV would cost against the exhaustive one); and
// under "bound" the exact search: clusters in order of centroid · z + radius · |z| + largest bias
// (no member can score above it), scanned until the next cannot beat the 10th logit so far.
//
// usage: cluster-recall MODEL.hunch ITEMS.txt [users] [mips] [clusters] [bias_share]
//   mips (0|1, default 0): cluster the rows extended by the bias and a norm coordinate
//   (x = [w, b, √(M² − |w|² − b²)], so that the largest inner product with [z, 1, 0] is the
//   nearest x: maximum inner product search as Euclidean k-means), clusters ranked by
//   centroid · [z, 1, 0]; clusters (default round(√V)); bias_share (default 0): the share of the
//   actions with the largest biases always scored (counted in share_scored).
//   ITEMS.txt: `user item item …` per line in time order (../shared/data/amazon-s3rec). Each user's
//   items but the last two are pushed (the last two are the validation and test targets of
//   leave-one-out: neither is pushed nor read), so the contexts are the validation split's.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "contexts.h"
#include "hunch/model.h"
#include "hunch/rng.h"
#include "hunch/sequence.h"
#include "hunch/transitions.h"

using namespace hunch;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: cluster-recall MODEL.hunch ITEMS.txt [users]\n");
    return 2;
  }
  const std::unique_ptr<Model> model = bench::load_model("cluster-recall", argv[1]);
  if (!model) return 1;
  const size_t max_users = argc > 3 ? size_t(std::atol(argv[3])) : 2000;
  const bool mips = argc > 4 && std::atoi(argv[4]) == 1;
  const double bias_share = argc > 6 ? std::atof(argv[6]) : 0.0;
  const Hyper& hp = model->hyper();
  const uint32_t V = hp.vocab_size, D0 = hp.embed, D = mips ? D0 + 2 : D0;
  const Matrix& H = model->weights().head_action;
  const float* bias = model->weights().head_action_b.data;
  // The rows as floats (dequantised when int8), extended for mips.
  std::vector<float> rows(size_t(V) * D);
  for (uint32_t a = 0; a < V; ++a)
    for (uint32_t d = 0; d < D0; ++d)
      rows[size_t(a) * D + d] = H.is_int8() ? float(H.i8[size_t(a) * D0 + d]) * H.scales[a] : H.f32[size_t(a) * D0 + d];
  if (mips) {
    double M2 = 0;
    for (uint32_t a = 0; a < V; ++a) {
      double n2 = double(bias[a]) * bias[a];
      for (uint32_t d = 0; d < D0; ++d) n2 += double(rows[size_t(a) * D + d]) * rows[size_t(a) * D + d];
      M2 = std::max(M2, n2);
    }
    for (uint32_t a = 0; a < V; ++a) {
      double n2 = double(bias[a]) * bias[a];
      for (uint32_t d = 0; d < D0; ++d) n2 += double(rows[size_t(a) * D + d]) * rows[size_t(a) * D + d];
      rows[size_t(a) * D + D0] = bias[a];
      rows[size_t(a) * D + D0 + 1] = float(std::sqrt(std::max(0.0, M2 - n2)));
    }
  }
  // The actions with the largest biases, always scored.
  std::vector<uint32_t> by_bias(V - 1);
  std::iota(by_bias.begin(), by_bias.end(), 1u);
  std::sort(by_bias.begin(), by_bias.end(), [&](uint32_t x, uint32_t y) { return bias[x] > bias[y]; });
  by_bias.resize(size_t(bias_share * double(V - 1)));
  // k-means, C = round(√V) unless given, 15 Lloyd iterations from C distinct random rows (ids 1..).
  const uint32_t C = argc > 5 && std::atol(argv[5]) > 0 ? uint32_t(std::atol(argv[5]))
                                                        : uint32_t(std::lround(std::sqrt(double(V))));
  std::vector<float> cent(size_t(C) * D);
  std::vector<uint32_t> of(V, 0);
  Rng rng(17);
  for (uint32_t c = 0; c < C; ++c) {
    const uint32_t a = 1 + uint32_t(rng.below(V - 1));
    std::copy(&rows[size_t(a) * D], &rows[size_t(a) * D] + D, &cent[size_t(c) * D]);
  }
  for (int it = 0; it < 15; ++it) {
    for (uint32_t a = 0; a < V; ++a) {
      float best = INFINITY;
      for (uint32_t c = 0; c < C; ++c) {
        float d2 = 0;
        for (uint32_t d = 0; d < D; ++d) {
          const float x = rows[size_t(a) * D + d] - cent[size_t(c) * D + d];
          d2 += x * x;
        }
        if (d2 < best) best = d2, of[a] = c;
      }
    }
    std::vector<float> sum(size_t(C) * D, 0.f);
    std::vector<uint32_t> n(C, 0);
    for (uint32_t a = 0; a < V; ++a) {
      ++n[of[a]];
      for (uint32_t d = 0; d < D; ++d) sum[size_t(of[a]) * D + d] += rows[size_t(a) * D + d];
    }
    for (uint32_t c = 0; c < C; ++c)
      if (n[c]) for (uint32_t d = 0; d < D; ++d) cent[size_t(c) * D + d] = sum[size_t(c) * D + d] / float(n[c]);
  }
  std::vector<std::vector<uint32_t>> members(C);
  std::vector<float> max_bias(C, -INFINITY), radius(C, 0.f);
  for (uint32_t a = 1; a < V; ++a) {
    members[of[a]].push_back(a);
    max_bias[of[a]] = std::max(max_bias[of[a]], bias[a]);
    float d2 = 0;
    for (uint32_t d = 0; d < D; ++d) {
      const float x = rows[size_t(a) * D + d] - cent[size_t(of[a]) * D + d];
      d2 += x * x;
    }
    radius[of[a]] = std::max(radius[of[a]], std::sqrt(d2));
  }
  double bound_recall = 0, bound_scored = 0;

  const std::vector<uint32_t> ms = {1, 2, 4, 8, 16, 32, 64, 128, 256};
  std::vector<double> recall(ms.size(), 0), scored(ms.size(), 0);
  size_t events = 0;
  Sequence seq(*model);
  std::vector<float> cscore(C);
  std::vector<uint32_t> corder(C), ids(V);
  std::vector<char> cand(V);
  const long n_contexts = bench::replay_contexts("cluster-recall", argv[2], max_users, *model, &seq, [&](const std::vector<uint32_t>& window) {
    const float* logits = seq.action_logits();
    std::iota(ids.begin(), ids.end(), 0u);
    auto top10 = [&](const std::vector<uint32_t>& pool) {
      std::vector<uint32_t> t(pool);
      const size_t k = std::min<size_t>(10, t.size());
      std::partial_sort(t.begin(), t.begin() + long(k), t.end(), [&](uint32_t x, uint32_t y) { return logits[x] > logits[y]; });
      t.resize(k);
      return t;
    };
    const std::vector<uint32_t> exact = top10(std::vector<uint32_t>(ids.begin() + 1, ids.end()));
    const std::vector<float>& z = seq.output();
    for (uint32_t c = 0; c < C; ++c) {
      float s = mips ? cent[size_t(c) * D + D0] : max_bias[c];
      for (uint32_t d = 0; d < D0; ++d) s += cent[size_t(c) * D + d] * z[d];
      cscore[c] = members[c].empty() ? -INFINITY : s;
    }
    std::iota(corder.begin(), corder.end(), 0u);
    std::sort(corder.begin(), corder.end(), [&](uint32_t x, uint32_t y) { return cscore[x] > cscore[y]; });
    // The term candidates: the window's actions (copy) and the last action's successors.
    std::vector<uint32_t> extra;
    if (hp.copy) extra.insert(extra.end(), window.end() - long(std::min<size_t>(window.size(), copy_window_of(hp))), window.end());
    if (hp.transition_bytes) {
      TransitionRow r(model->weights().transition_table.data, model->transition_rows()[window.back()]);
      Transition t;
      while (r.next(&t)) extra.push_back(t.next);
    }
    // Exact by a bound: a member's row · z + bias <= centroid · z + radius · |z| + the largest
    // bias; clusters in order of that bound until the next one cannot beat the 10th logit so far.
    {
      float zn = 0;
      for (uint32_t d = 0; d < D0; ++d) zn += z[d] * z[d];
      zn = std::sqrt(zn + (mips ? 1.f : 0.f));  // |[z, 1, 0]| for mips
      std::vector<float> ub(C);
      for (uint32_t c = 0; c < C; ++c) ub[c] = members[c].empty() ? -INFINITY : cscore[c] + radius[c] * zn;
      std::vector<uint32_t> border(C);
      std::iota(border.begin(), border.end(), 0u);
      std::sort(border.begin(), border.end(), [&](uint32_t x, uint32_t y) { return ub[x] > ub[y]; });
      std::vector<uint32_t> pool;
      std::fill(cand.begin(), cand.end(), 0);
      for (uint32_t a : extra)
        if (a && !cand[a]) cand[a] = 1, pool.push_back(a);
      size_t from_clusters = 0;
      for (uint32_t c : border) {
        if (pool.size() >= 10) {
          const std::vector<uint32_t> t = top10(pool);
          // The terms only add to the extra candidates, which are in the pool already; slack for
          // the int8 quantisation of z in the core's GEMV.
          if (ub[c] + 0.05f * (1 + std::fabs(ub[c])) < logits[t.back()]) break;
        }
        for (uint32_t a : members[c])
          if (!cand[a]) cand[a] = 1, pool.push_back(a);
        from_clusters += members[c].size();
      }
      const std::vector<uint32_t> approx = top10(pool);
      size_t hit = 0;
      for (uint32_t a : exact) hit += std::find(approx.begin(), approx.end(), a) != approx.end();
      bound_recall += double(hit) / double(exact.size());
      bound_scored += double(from_clusters) / double(V - 1);
    }
    for (size_t mi = 0; mi < ms.size(); ++mi) {
      std::fill(cand.begin(), cand.end(), 0);
      std::vector<uint32_t> pool;
      size_t from_clusters = 0;
      for (uint32_t j = 0; j < std::min(ms[mi], C); ++j)
        for (uint32_t a : members[corder[j]]) cand[a] = 1, pool.push_back(a), ++from_clusters;
      for (uint32_t a : extra)
        if (a && !cand[a]) cand[a] = 1, pool.push_back(a);
      for (uint32_t a : by_bias)
        if (!cand[a]) cand[a] = 1, pool.push_back(a), ++from_clusters;
      const std::vector<uint32_t> approx = top10(pool);
      size_t hit = 0;
      for (uint32_t a : exact) hit += std::find(approx.begin(), approx.end(), a) != approx.end();
      recall[mi] += double(hit) / double(exact.size());
      scored[mi] += double(from_clusters) / double(V - 1);
    }
  });
  if (n_contexts < 0) return 1;
  events = size_t(n_contexts);
  std::printf("{\"model\": \"%s\", \"V\": %u, \"mips\": %d, \"clusters\": %u, \"bias_share\": %.3f, \"events\": %zu, \"rows\": [",
              argv[1], V, int(mips), C, bias_share, events);
  for (size_t mi = 0; mi < ms.size(); ++mi)
    std::printf("%s{\"m\": %u, \"recall_at_10\": %.4f, \"share_scored\": %.4f}", mi ? ", " : "", ms[mi],
                recall[mi] / double(events), scored[mi] / double(events));
  std::printf("], \"bound\": {\"recall_at_10\": %.4f, \"share_scored\": %.4f}}\n", bound_recall / double(events),
              bound_scored / double(events));
  return 0;
}
