// How sure a comparison is: a paired bootstrap over evaluation units for "the model's NDCG@10"
// and "the model's NDCG@10 over the best baseline's" (hunch eval's and hunch train's result
// tables). On a small log a ratio of 0.9 or 1.1 may be one or two ranked events; the interval
// says so.
//
// The unit is what the protocol draws independently: a user (their points share a history, so
// they are not independent draws) or, in leave-one-out, a sequence (one point each). A resample
// draws as many units as there are, with replacement, and recomputes both figures from the
// drawn units' summed NDCG@10 and their points; the model and the baseline are drawn together
// (paired), so what the two share cancels. The interval is the 2.5th and 97.5th percentile of
// the resamples (the percentile bootstrap; Efron and Tibshirani 1993, ch. 13), from a fixed seed:
// the same evaluation prints the same interval.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hunch::train {

// Per unit: its points with a target and the summed NDCG@10 of the model and of the baseline
// over them (equal sizes).
struct UnitScores {
  std::vector<uint32_t> points;
  std::vector<double>   model, baseline;
  // One ranked target of unit `unit` (rank < 0: a miss); unit == points.size() opens a new unit.
  void add_ranks(size_t unit, int64_t model_rank, int64_t baseline_rank);
};

struct PairedInterval {
  double   model = 0, ratio = 0;            // the figures themselves (ratio NaN: the baseline scored 0)
  uint64_t units = 0;
  uint32_t resamples = 0;                   // 0: no interval (no unit, or the baseline scored 0)
  double   model_lo = 0, model_hi = 0;      // the model's NDCG@10
  double   ratio_lo = 0, ratio_hi = 0;      // model / baseline
};

// The resamples: 1,000, fewer on logs where units x 1,000 passes 2·10⁸ draws (at least 200).
uint32_t bootstrap_resamples(uint64_t units);
PairedInterval paired_bootstrap(const UnitScores& s, uint64_t seed = 2024);

// How the tables print it: a line "  95% interval (paired bootstrap over N <unit>, B
// resamples): model NDCG@10 lo-hi, model / <baseline> lo-hi" (empty without resamples), and
// the JSON object {"baseline", "ratio", "units", "resamples", "ndcg10_ci95": [lo, hi],
// "ratio_ci95": [lo, hi]} (an unbounded upper end is null).
std::string interval_text(const PairedInterval& v, const std::string& baseline, const char* unit);
// An interval's end as the text prints it: `digits` decimals, or "unbounded".
std::string interval_end(double v, int digits);
std::string interval_json(const std::string& baseline, const PairedInterval& v);

// NDCG@10 of one ranked target (rank < 0: a miss), as eval.h's add_rank counts it.
double ndcg10_of_rank(int64_t rank);

}  // namespace hunch::train
