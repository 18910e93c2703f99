// The paired bootstrap of hunch eval's "model / best baseline" (native/train/intervals.h): exact
// where no resample can move it, the nominal coverage on units drawn from a known ratio, a width
// that shrinks with the units, the same interval from the same input, and what it prints; the
// CLI's JSON and table carry it for both protocols (test-sessions.cpp, test-eval.cpp).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "test-util.h"

#include <unistd.h>

#include "hunch/rng.h"
#include "train/eval.h"
#include "train/intervals.h"

using namespace hunch::train;

namespace {

// n units of 1-4 points each; a point's NDCG@10 is the model's hit with probability pm, the
// baseline's with pb (each hit worth 1: the ratio of the sums is then pm / pb in expectation).
UnitScores draw_units(size_t n, double pm, double pb, uint64_t seed) {
  hunch::Rng rng(seed);
  UnitScores u;
  for (size_t k = 0; k < n; ++k) {
    const uint32_t points = 1 + uint32_t(rng.below(4));
    double m = 0, b = 0;
    for (uint32_t p = 0; p < points; ++p) {
      m += rng.uniform53() < pm;
      b += rng.uniform53() < pb;
    }
    u.points.push_back(points);
    u.model.push_back(m);
    u.baseline.push_back(b);
  }
  return u;
}

// Two units of one point each: (model, baseline) NDCG@10 of the first, then of the second.
UnitScores two_units(double m0, double b0, double m1, double b1) {
  UnitScores u;
  u.points = {1, 1};
  u.model = {m0, m1};
  u.baseline = {b0, b1};
  return u;
}

}  // namespace

TEST_CASE("NDCG@10 of a rank is what add_rank adds") {
  for (int64_t r : {-2, -1, 0, 1, 5, 9, 10, 50}) {
    RankMetrics m;
    add_rank(&m, r);
    CHECK(ndcg10_of_rank(r) == doctest::Approx(m.ndcg_at(10) * 1.0));  // m.users is 1: the sum is the mean
  }
  CHECK(ndcg10_of_rank(0) == 1.0);
  CHECK(ndcg10_of_rank(10) == 0.0);
}

TEST_CASE("paired bootstrap: exact where nothing can move, covers a known ratio, narrows with units") {
  // The model scores every unit exactly twice the baseline: every resample's ratio is 2.
  UnitScores twice;
  for (uint32_t k = 0; k < 30; ++k) {
    twice.points.push_back(1 + k % 3);
    twice.baseline.push_back(0.25 * (1 + k % 3) * (k % 5 == 0 ? 0.5 : 1.0));
    twice.model.push_back(2 * twice.baseline.back());
  }
  PairedInterval v = paired_bootstrap(twice);
  CHECK(v.units == 30);
  CHECK(v.resamples == 1000);
  CHECK(v.ratio == doctest::Approx(2.0));
  CHECK(v.ratio_lo == doctest::Approx(2.0));
  CHECK(v.ratio_hi == doctest::Approx(2.0));
  CHECK(v.model_lo <= v.model);
  CHECK(v.model_hi >= v.model);
  CHECK(v.model_lo < v.model_hi);  // the NDCG itself does move with the units drawn

  // A resample of units where neither scores has no ratio: left out, not counted as 1 (here a
  // quarter of the resamples draw only the empty unit).
  const PairedInterval sp = paired_bootstrap(two_units(0, 0, 1, 0.5));
  CHECK(sp.ratio_lo == doctest::Approx(2.0));
  CHECK(sp.ratio_hi == doctest::Approx(2.0));

  // The same input, the same interval; another seed, another (close) one.
  const UnitScores u = draw_units(300, 0.30, 0.25, 7);
  const PairedInterval a = paired_bootstrap(u), b = paired_bootstrap(u);
  CHECK(a.ratio_lo == b.ratio_lo);
  CHECK(a.ratio_hi == b.ratio_hi);
  const PairedInterval c = paired_bootstrap(u, 99);
  CHECK(c.ratio_lo != a.ratio_lo);
  CHECK(c.ratio_lo == doctest::Approx(a.ratio_lo).epsilon(0.03));

  // Coverage: of 200 logs of 200 units drawn with a true ratio of 1.2, the 95% interval holds
  // 1.2 in about 95% (the binomial's 5-sigma band around 0.95 at 200 trials: 0.87 to 1).
  int covered = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const PairedInterval r = paired_bootstrap(draw_units(200, 0.36, 0.30, 1000 + seed), seed);
    covered += r.ratio_lo <= 1.2 && 1.2 <= r.ratio_hi;
  }
  CHECK(covered >= 174);
  // Width: about 1 / sqrt(units).
  const PairedInterval small = paired_bootstrap(draw_units(40, 0.36, 0.30, 5));
  const PairedInterval big = paired_bootstrap(draw_units(4000, 0.36, 0.30, 5));
  CHECK(big.ratio_hi - big.ratio_lo < (small.ratio_hi - small.ratio_lo) / 5);
  CHECK(big.ratio_lo < 1.2);
  CHECK(big.ratio_hi > 1.2);
}

TEST_CASE("paired bootstrap: a baseline that never scores, the resample count, the printed forms") {
  UnitScores none;
  none.points = {1, 2};
  none.model = {0.5, 1.0};
  none.baseline = {0, 0};
  const PairedInterval v = paired_bootstrap(none);
  CHECK(v.resamples == 0);
  CHECK(std::isnan(v.ratio));
  CHECK(v.model == doctest::Approx(0.5));
  CHECK(interval_text(v, "markov", "users").empty());
  CHECK(interval_json("markov", v) == "{\"baseline\": \"markov\", \"ratio\": null, \"units\": 2, \"resamples\": 0}");
  CHECK(paired_bootstrap(UnitScores()).resamples == 0);

  // One unit where the baseline scores and one where only the model does: some resamples draw
  // the second alone, an unbounded ratio, printed as such.
  const PairedInterval w = paired_bootstrap(two_units(0, 1, 1, 0));
  CHECK(w.ratio == doctest::Approx(1.0));
  CHECK(std::isinf(w.ratio_hi));
  CHECK(interval_text(w, "repeat", "users").find("model / repeat 0.00-unbounded") != std::string::npos);
  CHECK(interval_json("repeat", w).find("\"ratio_ci95\": [0.000000, null]") != std::string::npos);

  CHECK(bootstrap_resamples(0) == 0);
  CHECK(bootstrap_resamples(10) == 1000);
  CHECK(bootstrap_resamples(400000) == 500);
  CHECK(bootstrap_resamples(100000000) == 200);
  const std::string text = interval_text(paired_bootstrap(draw_units(50, 0.4, 0.3, 1)), "markov", "users");
  CHECK(text.rfind("  95% interval (paired bootstrap over 50 users, 1000 resamples): model NDCG@10 0.", 0) == 0);
  CHECK(text.find(", model / markov ") != std::string::npos);
}

#ifdef HUNCH_CLI_PATH
TEST_CASE("hunch eval (leave-one-out): the model against the better baseline, with its interval over sequences") {
  // 150 users walking a ring of 30 items one step at a time: a model learns it, popularity
  // cannot, Markov knows it too.
  const std::string dir = "/tmp/hunch-test-intervals-" + std::to_string(getpid());
  {
    std::FILE* f = std::fopen((dir + ".txt").c_str(), "w");
    REQUIRE(f);
    hunch::Rng rng(4);
    for (int u = 0; u < 150; ++u) {
      const uint64_t start = rng.below(30), n = 6 + rng.below(6);
      for (uint64_t k = 0; k < n; ++k) std::fprintf(f, "u%d i%llu\n", u, (unsigned long long)((start + k) % 30));
    }
    std::fclose(f);
  }
  auto cli = [&](const std::string& args, std::string* out) {
    out->clear();
    return hunch_test::run_command(std::string("'") + HUNCH_CLI_PATH + "' " + args + " 2>/dev/null", out);
  };
  std::string out;
  const std::string flags = " --format pairs --session-gap 0 --min-count 1";
  REQUIRE(cli("train " + dir + ".txt -o " + dir + ".hunch" + flags + " --epochs 2 --embed 16 --layers 1", &out) == 0);
  REQUIRE(cli("eval " + dir + ".hunch " + dir + ".txt" + flags + " --json", &out) == 0);
  INFO(out);
  const size_t vs = out.find("\"model_vs_best\": {\"baseline\": \"markov\", \"ratio\": ");
  REQUIRE(vs != std::string::npos);
  auto after = [&](const std::string& key, size_t from) {
    const size_t at = out.find(key, from);
    REQUIRE(at != std::string::npos);
    return std::strtod(out.c_str() + at + key.size(), nullptr);
  };
  const double model = after("\"NDCG@10\": ", out.find("\"model\": {"));
  const double markov = after("\"NDCG@10\": ", out.find("\"markov\": {"));
  CHECK(markov > after("\"NDCG@10\": ", out.find("\"popularity\": {")));
  CHECK(after("\"ratio\": ", vs) == doctest::Approx(model / markov).epsilon(1e-4));
  CHECK(after("\"units\": ", vs) == 150);  // every sequence has its test target
  CHECK(after("\"ndcg10_ci95\": [", vs) <= model);
  REQUIRE(cli("eval " + dir + ".hunch " + dir + ".txt" + flags, &out) == 0);
  CHECK(out.find("  95% interval (paired bootstrap over 150 users, 1000 resamples): model NDCG@10 ") != std::string::npos);
  // The same walks as two sessions of each user (3 hours apart, split at the 30-minute gap):
  // 300 sequences scored, 150 units, each user's two drawn together.
  {
    std::FILE* in = std::fopen((dir + ".txt").c_str(), "r");
    std::FILE* f = std::fopen((dir + ".csv").c_str(), "w");
    REQUIRE(in);
    REQUIRE(f);
    std::fprintf(f, "user,time,action\n");
    char user[32], item[32], last[32] = "";
    long t = 0, k = 0;
    while (std::fscanf(in, "%31s %31s", user, item) == 2) {
      if (std::string(user) != last) k = 0;
      std::snprintf(last, sizeof last, "%s", user);
      t = 1700000000 + 60 * k + (k >= 3 ? 3 * 3600 : 0);  // events 0-2 the first session, the rest the second
      std::fprintf(f, "%s,%ld,%s\n", user, t, item);
      ++k;
    }
    std::fclose(in);
    std::fclose(f);
  }
  REQUIRE(cli("eval --baselines-only " + dir + ".csv --min-count 1 --json", &out) == 0);
  CHECK(out.find("\"model_vs_best\"") == std::string::npos);  // no model: nothing to compare
  REQUIRE(cli("eval " + dir + ".hunch " + dir + ".csv --min-count 1 --json", &out) == 0);
  CHECK(out.find("\"sequences\": 300") != std::string::npos);
  CHECK(out.find("\"units\": 150,") != std::string::npos);
  std::remove((dir + ".txt").c_str());
  std::remove((dir + ".csv").c_str());
  std::remove((dir + ".hunch").c_str());
}
#endif
