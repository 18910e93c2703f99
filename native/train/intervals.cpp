#include "train/intervals.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "hunch/rng.h"

namespace hunch::train {

uint32_t bootstrap_resamples(uint64_t units) {
  if (units == 0) return 0;
  return uint32_t(std::clamp<uint64_t>(200'000'000 / units, 200, 1000));
}

double ndcg10_of_rank(int64_t rank) { return rank >= 0 && rank < 10 ? 1.0 / std::log2(double(rank) + 2.0) : 0.0; }

void UnitScores::add_ranks(size_t unit, int64_t model_rank, int64_t baseline_rank) {
  if (unit == points.size()) {
    points.push_back(0);
    model.push_back(0);
    baseline.push_back(0);
  }
  points[unit] += 1;
  model[unit] += ndcg10_of_rank(model_rank);
  baseline[unit] += ndcg10_of_rank(baseline_rank);
}

PairedInterval paired_bootstrap(const UnitScores& s, uint64_t seed) {
  PairedInterval out;
  const size_t n = s.points.size();
  out.units = n;
  if (s.model.size() != n || s.baseline.size() != n) return out;
  double model_total = 0, base_total = 0, points = 0;
  for (size_t k = 0; k < n; ++k) {
    model_total += s.model[k];
    base_total += s.baseline[k];
    points += s.points[k];
  }
  out.model = points > 0 ? model_total / points : 0;
  out.ratio = base_total > 0 ? model_total / base_total : NAN;
  if (n == 0 || !(base_total > 0)) return out;
  const uint32_t B = bootstrap_resamples(n);
  std::vector<double> model(B), ratio;
  ratio.reserve(B);
  hunch::Rng rng(seed);
  for (uint32_t r = 0; r < B; ++r) {
    double m = 0, b = 0, p = 0;
    for (size_t k = 0; k < n; ++k) {
      const size_t u = size_t(rng.below(n));
      m += s.model[u];
      b += s.baseline[u];
      p += s.points[u];
    }
    model[r] = p > 0 ? m / p : 0;
    // A resample whose baseline scored nothing: +inf when the model scored (it sorts to the
    // top: an upper end "unbounded"), no ratio at all when neither did (left out).
    if (b > 0 || m > 0) ratio.push_back(b > 0 ? m / b : INFINITY);
  }
  auto percentile = [&](std::vector<double>& v, double q) {
    // The nearest-rank percentile: the ceil(q·n)-th smallest (the 25th and 975th of 1,000).
    const size_t rank = std::max<size_t>(1, size_t(std::ceil(q * double(v.size()) - 1e-9)));
    const size_t at = std::min(v.size(), rank) - 1;
    std::nth_element(v.begin(), v.begin() + long(at), v.end());
    return v[at];
  };
  if (ratio.empty()) return out;
  out.resamples = B;
  out.model_lo = percentile(model, 0.025);
  out.model_hi = percentile(model, 0.975);
  out.ratio_lo = percentile(ratio, 0.025);
  out.ratio_hi = percentile(ratio, 0.975);
  return out;
}

std::string interval_end(double v, int digits) {
  if (std::isinf(v)) return "unbounded";
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

namespace {
std::string json_fixed(double v) { return std::isfinite(v) ? interval_end(v, 6) : "null"; }
}  // namespace

std::string interval_text(const PairedInterval& v, const std::string& baseline, const char* unit) {
  if (!v.resamples) return "";
  return "  95% interval (paired bootstrap over " + std::to_string(v.units) + " " + unit + ", " +
         std::to_string(v.resamples) + " resamples): model NDCG@10 " + interval_end(v.model_lo, 4) + "-" + interval_end(v.model_hi, 4) +
         ", model / " + baseline + " " + interval_end(v.ratio_lo, 2) + "-" + interval_end(v.ratio_hi, 2) + "\n";
}

std::string interval_json(const std::string& baseline, const PairedInterval& v) {
  std::string j = "{\"baseline\": \"" + baseline + "\", \"ratio\": " + json_fixed(v.ratio) +
                  ", \"units\": " + std::to_string(v.units) + ", \"resamples\": " + std::to_string(v.resamples);
  if (v.resamples)
    j += ", \"ndcg10_ci95\": [" + json_fixed(v.model_lo) + ", " + json_fixed(v.model_hi) + "], \"ratio_ci95\": [" +
         json_fixed(v.ratio_lo) + ", " + json_fixed(v.ratio_hi) + "]";
  return j + "}";
}

}  // namespace hunch::train
