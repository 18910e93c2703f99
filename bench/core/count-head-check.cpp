// The sparse count head on a trained model (issue 17, big catalogues): per held-out context, the
// top-k of Sequence::predict (O(touched + k): Model::count_head) against the dense scan of all V
// logits (action_logits(), softmax in double), and the native time of predict.
//
// usage: count-head-check MODEL.hunch ITEMS.txt [users] [k]
//   ITEMS.txt: `user item item …` per line in time order (../shared/data/amazon-s3rec); each
//   user's items but the last two are pushed (the validation split's contexts, as cluster-recall).
// Prints one JSON line: contexts, whether every top-k id list was the same, the largest relative
// probability difference, and the median µs of predict (sparse; the body's step not included).
#include <algorithm>
#include <chrono>
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
#include "hunch/sequence.h"

using namespace hunch;

namespace {
double now_us() {
  using namespace std::chrono;
  return double(duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count()) / 1000.0;
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: count-head-check MODEL.hunch ITEMS.txt [users] [k]\n");
    return 2;
  }
  const std::unique_ptr<Model> model = bench::load_model("count-head-check", argv[1]);
  if (!model) return 1;
  const size_t max_users = argc > 3 ? size_t(std::atol(argv[3])) : 2000;
  const size_t k = argc > 4 ? size_t(std::atol(argv[4])) : 10;
  if (!model->count_head().built()) {
    std::fprintf(stderr, "count-head-check: %s has no sparse count head (not counts-only, or attributes)\n", argv[1]);
    return 1;
  }
  const uint32_t V = model->hyper().vocab_size;
  Sequence seq(*model);
  std::vector<Prediction> got(k);
  std::vector<uint32_t> ids(V - 1);
  std::vector<double> t_sparse;
  size_t contexts = 0, same = 0;
  double worst = 0;
  const long n_contexts = bench::replay_contexts("count-head-check", argv[2], max_users, *model, &seq, [&](const std::vector<uint32_t>&) {
    const double t0 = now_us();
    const size_t n = seq.predict(k, got.data());
    t_sparse.push_back(now_us() - t0);
    const float* l = seq.action_logits();
    std::iota(ids.begin(), ids.end(), 1u);
    std::partial_sort(ids.begin(), ids.begin() + long(std::min<size_t>(k, V - 1)), ids.end(),
                      [&](uint32_t a, uint32_t b) { return l[a] > l[b] || (l[a] == l[b] && a < b); });
    const float mx = *std::max_element(l, l + V);
    double z = 0;
    for (uint32_t a = 0; a < V; ++a) z += std::exp(double(l[a]) - mx);
    bool ok = n == std::min<size_t>(k, V - 1);
    for (size_t j = 0; ok && j < n; ++j) {
      ok = got[j].action == ids[j];
      const double p = std::exp(double(l[ids[j]]) - mx) / z;
      worst = std::max(worst, std::fabs(double(got[j].probability) - p) / p);
    }
    same += ok;
  });
  if (n_contexts < 0) return 1;
  contexts = size_t(n_contexts);
  std::printf("{\"model\": \"%s\", \"V\": %u, \"k\": %zu, \"contexts\": %zu, \"same_top_k\": %zu, "
              "\"max_rel_prob_diff\": %.3g, \"sparse_predict_us\": %.2f}\n",
              argv[1], V, k, contexts, same, worst, median(t_sparse));
  return same == contexts ? 0 : 1;
}
