// Privacy (native/train/privacy.h, trainer.h's DP-SGD pieces): the RDP accountant against
// published values, its monotonicity and the noise search; users and the held-out split; the
// per-user gradient and its clipping by a finite-difference check; the noise's moments; the
// membership AUC on known inputs; and through the CLI that a DP model trains, records ε and stops
// at its budget, and that the membership attack finds an over-fitted model's training users.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "test-util.h"
#include "train/eval.h"
#include "train/privacy.h"
#include "train/trainer.h"

using namespace hunch::train;

namespace {

// Per-step RDP times steps, as TF-Privacy's compute_rdp(q, noise_multiplier, steps, orders).
std::vector<double> compute_rdp(double q, double sigma, double steps, const std::vector<double>& orders) {
  std::vector<double> out;
  for (double a : orders) out.push_back(steps * rdp_sampled_gaussian(q, sigma, a));
  return out;
}

std::vector<double> integer_orders(int from, int to) {
  std::vector<double> o;
  for (int a = from; a <= to; ++a) o.push_back(a);
  return o;
}

}  // namespace

// Expected values from TF-Privacy's accountant tests:
// tensorflow/privacy, tensorflow_privacy/privacy/analysis/rdp_accountant_test.py (commit
// 09270afed61a4e9ef6295217b53731f7515f0350): test_compute_rdp_scalar, test_compute_rdp_sequence,
// test_compute_rdp_no_sampling, test_get_privacy_spent_check_target_delta (improved conversion);
// and its earlier revision (the TensorFlow models repository's research/differential_privacy
// rdp_accountant_test.py, standard conversion): test_get_privacy_spent (q = 0.01, σ = 4, 10,000
// steps, δ = 1e-5 → ε = 1.258575 at order 20), test_compute_privacy_loss (3.276237 at order 8)
// and test_check_composition (8.509656 at order 2.5; the later file keeps it as an upper bound
// of the improved conversion).
TEST_CASE("RDP of the sampled Gaussian matches TF-Privacy's compute_rdp") {
  CHECK(std::fabs(compute_rdp(0.1, 2, 10, {5})[0] - 0.07737) < 5e-6);
  // Fractional orders (1.5, 2.5) take the two-series path; integer ones the binomial sum.
  const std::vector<double> got = compute_rdp(0.01, 2.5, 50, {1.5, 2.5, 5, 50, 100});
  const std::vector<double> want = {0.00065, 0.001085, 0.00218075, 0.023846, 167.416307};
  for (size_t k = 0; k < want.size(); ++k) {
    INFO("order " << std::vector<double>{1.5, 2.5, 5, 50, 100}[k]);
    CHECK(std::fabs(got[k] - want[k]) < 1e-5);
  }
  CHECK(std::isinf(rdp_sampled_gaussian(0.01, 2.5, std::numeric_limits<double>::infinity())));
  CHECK(rdp_sampled_gaussian(0, 10, 20) == 0);                         // q = 0: nothing released
  CHECK(rdp_sampled_gaussian(1, 10, 20) == doctest::Approx(0.1));      // q = 1: α / (2σ²)
}

TEST_CASE("(ε, δ) conversions match TF-Privacy's get_privacy_spent") {
  // Improved conversion (Balle et al. 2020): a constant RDP of 1.1 picks the largest order.
  const std::vector<double> orders = integer_orders(2, 32);
  const EpsilonAt pure = epsilon_from_rdp(orders, std::vector<double>(orders.size(), 1.1), 1e-5);
  CHECK(pure.order == 32);
  CHECK(pure.epsilon == doctest::Approx(1.32783806176).epsilon(1e-9));
  // Standard conversion on the subsampled Gaussian.
  const EpsilonAt std1 = epsilon_from_rdp(orders, compute_rdp(0.01, 4, 10000, orders), 1e-5, false);
  CHECK(std::fabs(std1.epsilon - 1.258575) < 1e-5);
  CHECK(std1.order == 20);
  const std::vector<double> mixed = {1.25, 1.5, 1.75, 2., 2.5, 3., 4., 5., 6., 7., 8., 10., 12., 14.,
                                     16., 20., 24., 28., 32., 64., 256.};
  std::vector<double> rdp = compute_rdp(0.01, 4, 10000, mixed);
  const std::vector<double> more = compute_rdp(0.1, 2, 100, mixed);
  for (size_t k = 0; k < rdp.size(); ++k) rdp[k] += more[k];
  const EpsilonAt std2 = epsilon_from_rdp(mixed, rdp, 1e-5, false);
  CHECK(std::fabs(std2.epsilon - 3.276237) < 1e-5);
  CHECK(std2.order == 8);
  std::vector<double> comp = compute_rdp(1e-4, 0.4, 40000, mixed);
  const std::vector<double> comp2 = compute_rdp(0.1, 2, 100, mixed);
  for (size_t k = 0; k < comp.size(); ++k) comp[k] += comp2[k];
  const EpsilonAt std3 = epsilon_from_rdp(mixed, comp, 1e-5, false);
  CHECK(std::fabs(std3.epsilon - 8.509656) < 1e-5);
  CHECK(std3.order == 2.5);
  CHECK(epsilon_from_rdp(mixed, comp, 1e-5).epsilon <= 8.509656);  // the improved one is tighter
  // The Gaussian mechanism without sampling, σ chosen for exactly (1, 1e-6)-DP (Balle & Wang
  // 2018): the RDP bound on a fine grid of orders comes out at 1 (TF-Privacy's second check).
  std::vector<double> fine;
  for (int i = 1000; i < 100000; ++i) fine.push_back(0.001 * i);
  fine.erase(fine.begin());  // order 1 itself is not an RDP order
  CHECK(epsilon_from_rdp(fine, compute_rdp(1, 4.530877117, 1, fine), 1e-6).epsilon == doctest::Approx(1).epsilon(1e-3));
}

TEST_CASE("ε grows with steps and the sampling rate, falls with the noise; the noise search inverts it") {
  const double delta = 1e-5;
  double prev = 0;
  for (uint64_t steps : {1ull, 10ull, 100ull, 1000ull, 10000ull}) {
    const double e = dp_epsilon(0.01, 1.1, steps, delta);
    CHECK(e > prev);
    prev = e;
  }
  prev = std::numeric_limits<double>::infinity();
  for (double sigma : {0.6, 0.8, 1.1, 2.0, 4.0}) {
    const double e = dp_epsilon(0.01, sigma, 1000, delta);
    CHECK(e < prev);
    prev = e;
  }
  prev = 0;
  for (double q : {0.001, 0.01, 0.1, 0.5, 1.0}) {
    const double e = dp_epsilon(q, 1.1, 100, delta);
    CHECK(e > prev);
    prev = e;
  }
  for (double target : {1.0, 4.0, 8.0}) {
    double sigma = 0;
    REQUIRE_FALSE(dp_noise_for(target, delta, 0.02, 500, &sigma));
    CHECK(dp_epsilon(0.02, sigma, 500, delta) <= target);
    CHECK(dp_epsilon(0.02, sigma * 0.99, 500, delta) > target);  // not more noise than needed
  }
  double sigma = 0;
  CHECK(dp_noise_for(0, delta, 0.02, 500, &sigma));
  CHECK(dp_noise_for(1, 0, 0.02, 500, &sigma));
  CHECK(dp_noise_for(1, delta, 0, 500, &sigma));
  CHECK(dp_noise_for(1, delta, 0.02, 0, &sigma));
}

namespace {

// δ of the Gaussian mechanism at noise multiplier s (sensitivity 1) for ε, exactly (Balle & Wang
// 2018, "Improving the Gaussian mechanism", Thm 8): Φ(1/(2s) − εs) − e^ε Φ(−1/(2s) − εs).
double gaussian_delta(double s, double eps) {
  auto phi = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
  return phi(0.5 / s - eps * s) - std::exp(eps) * phi(-0.5 / s - eps * s);
}
// The exact ε of that mechanism at δ (δ falls as ε grows: bisection).
double gaussian_epsilon(double s, double delta) {
  double lo = 0, hi = 100;
  for (int k = 0; k < 200; ++k) {
    const double mid = 0.5 * (lo + hi);
    (gaussian_delta(s, mid) > delta ? lo : hi) = mid;
  }
  return hi;
}

}  // namespace

TEST_CASE("the count release composes with DP-SGD: against the Gaussian mechanism's closed forms") {
  // One release at noise multiplier σ: RDP α / (2σ²), the sampled Gaussian's at q = 1.
  for (double a : {1.5, 2.0, 8.0, 64.0}) {
    CHECK(rdp_gaussian(2.0, a) == doctest::Approx(a / 8.0));
    CHECK(rdp_gaussian(2.0, a) == doctest::Approx(rdp_sampled_gaussian(1.0, 2.0, a)));
  }
  // RDP adds up: dp_epsilon with the release is the conversion of the summed curves.
  const double delta = 1e-5;
  {
    const std::vector<double>& orders = rdp_orders();
    std::vector<double> sum;
    for (double a : orders) sum.push_back(300 * rdp_sampled_gaussian(0.02, 0.9, a) + rdp_gaussian(3.0, a));
    CHECK(dp_epsilon(0.02, 0.9, 300, delta, 3.0) == doctest::Approx(epsilon_from_rdp(orders, sum, delta).epsilon));
    CHECK(dp_epsilon(0.02, 0.9, 300, delta, 3.0) > dp_epsilon(0.02, 0.9, 300, delta));
    CHECK(dp_epsilon(0.02, 0.9, 300, delta, 3.0) > dp_epsilon(0.02, 0.9, 0, delta, 3.0));
    // Less than the two ε added (composition in RDP is tighter than in (ε, δ)).
    CHECK(dp_epsilon(0.02, 0.9, 300, delta, 3.0) < dp_epsilon(0.02, 0.9, 300, delta) + dp_epsilon(0.02, 0.9, 0, delta, 3.0));
  }
  // Without sampling, T steps at σ and the release at σc are ONE Gaussian mechanism of noise
  // multiplier (T/σ² + 1/σc²)^(−1/2): the accountant's ε lies between that mechanism's exact ε
  // (Balle & Wang) and the standard RDP conversion's closed form 1/(2s²) + √(2 log(1/δ)) / s.
  for (double sc : {1.0, 2.0, 5.0})
    for (uint64_t T : {1ull, 4ull, 25ull}) {
      const double sigma = 8.0, s = 1.0 / std::sqrt(double(T) / (sigma * sigma) + 1.0 / (sc * sc));
      const double eps = dp_epsilon(1.0, sigma, T, delta, sc);
      const double exact = gaussian_epsilon(s, delta);
      const double standard = 1.0 / (2 * s * s) + std::sqrt(2.0 * std::log(1.0 / delta)) / s;
      INFO("σc " << sc << " T " << T << ": ε " << eps << ", exact " << exact << ", standard " << standard);
      CHECK(eps >= exact);
      CHECK(eps <= standard * 1.001);
      CHECK(eps <= exact * 1.3);  // and not far above the exact value
    }
  // The noise search keeps the total at the target: more noise on the steps with the release.
  for (double target : {1.0, 4.0, 8.0}) {
    double alone = 0, composed = 0, count_sigma = 0;
    REQUIRE_FALSE(dp_noise_for(target * 0.25, delta, 1.0, 1, &count_sigma));  // the release alone: a quarter
    CHECK(dp_epsilon(0.02, 1e9, 1, delta, count_sigma) <= target * 0.25 + 1e-9);
    REQUIRE_FALSE(dp_noise_for(target, delta, 0.02, 500, &alone));
    REQUIRE_FALSE(dp_noise_for(target, delta, 0.02, 500, &composed, count_sigma));
    CHECK(composed > alone);
    CHECK(dp_epsilon(0.02, composed, 500, delta, count_sigma) <= target);
    CHECK(dp_epsilon(0.02, composed * 0.99, 500, delta, count_sigma) > target);
  }
  double sigma = 0;
  CHECK(dp_noise_for(1.0, delta, 0.02, 500, &sigma, 0.5));  // the release alone spends more than ε = 1
}

TEST_CASE("DP counts: one user moves the summed counts by at most the clip; every cell gets its noise") {
  // Users of one or two sequences ("u3#1", "u3#2" are one user), repeats of the same action
  // and the same pair included.
  Dataset d;
  const uint32_t V = 9;
  d.actions.push_back("<unk>");
  for (uint32_t k = 1; k < V; ++k) d.actions.push_back("a" + std::to_string(k));
  d.types = {"<none>", "view"};
  d.gap_edges = {60.0f};
  d.offsets.push_back(0);
  hunch::Rng rng(11);
  for (size_t u = 0; u < 24; ++u)
    for (int part = 0; part < (u % 3 == 0 ? 2 : 1); ++part) {
      const size_t n = 4 + rng.below(u % 4 == 0 ? 30 : 6);  // at least one training column
      for (size_t k = 0; k < n; ++k) {
        d.action.push_back(u % 5 == 0 ? 1 + uint32_t(k % 2) : 1 + uint32_t(rng.below(V - 1)));  // some only repeat
        d.type.push_back(1);
        d.time.push_back(NAN);
        d.gap.push_back(0);
      }
      d.offsets.push_back(d.action.size());
      d.sequence_key.push_back("u" + std::to_string(u) + (u % 3 == 0 ? "#" + std::to_string(part + 1) : ""));
    }
  d.flags.assign(d.action.size(), 0);
  d.line.assign(d.action.size(), 0);
  d.session_position.assign(d.action.size(), 1);
  d.session_number.assign(d.action.size(), 1);
  const std::vector<Sample> all = training_samples(d, 200);
  std::vector<std::string> users;
  const std::vector<uint32_t> user_of = sequence_users(d, &users);
  REQUIRE(users.size() == 24);
  // The sums as one dense vector over the V action cells and the V x V pair cells.
  auto dense = [&](const CountSums& c) {
    std::vector<double> v(c.actions);
    v.resize(V + V * V, 0.0);
    for (const auto& [key, x] : c.pairs) v[V + (key >> 32) * V + uint32_t(key)] += x;
    return v;
  };
  for (double clip : {1.0, 2.5, 100.0}) {
    const CountSums full = count_sums(d, all, clip, true);
    CHECK(full.users == 24);
    const std::vector<double> fv = dense(full);
    double largest = 0;
    for (uint32_t u = 0; u < users.size(); ++u) {
      std::vector<Sample> rest;
      for (const Sample& s : all) {
        const size_t q = size_t(std::upper_bound(d.offsets.begin(), d.offsets.end(), s.first) - d.offsets.begin() - 1);
        if (user_of[q] != u) rest.push_back(s);
      }
      const std::vector<double> rv = dense(count_sums(d, rest, clip, true));
      double sq = 0;
      for (size_t k = 0; k < fv.size(); ++k) sq += (fv[k] - rv[k]) * (fv[k] - rv[k]);
      INFO("clip " << clip << " user " << users[u]);
      CHECK(std::sqrt(sq) <= clip * (1 + 1e-12));  // the sensitivity dp_counts' noise is scaled to
      largest = std::max(largest, std::sqrt(sq));
    }
    CHECK(largest > (clip == 100.0 ? 4.0 : clip * 0.999));  // the bound is reached (clip 1, 2.5)
    if (clip == 100.0) {  // unclipped, a user adds exactly 1 to each distinct cell: repeats count once
      CHECK(full.clipped_users == 0);
      for (double x : fv) CHECK(x == std::floor(x));
      CHECK(fv[V + 1 * V + 2] >= 5);  // a1 → a2: every repeating user (u0, u5, …) once
      CHECK(fv[V + 1 * V + 2] <= 24);
    }
  }
  CHECK(count_sums(d, all, 1.0, true).clipped_users > 0);
  // The noise: N(0, (σ · clip)²) on every action cell and every pair cell, counted or not. With
  // nothing counted, the action cells' spread is σ · clip, and about Q(3) of the (V−1)² pair
  // cells pass the threshold of 3 σ · clip.
  Dataset big;
  for (uint32_t k = 0; k < 400; ++k) big.actions.push_back("b" + std::to_string(k));
  big.offsets.push_back(0);
  CountSums none;
  none.actions.assign(400, 0.0);
  DpCountOptions o;
  o.sigma = 1.5;
  o.clip = 2;
  o.max_successors = 400;
  o.max_bytes = 1 << 20;
  o.threshold = 3;
  DpCounts c;
  SecretRng noise(SecretRng::test_key(3));
  REQUIRE_FALSE(dp_counts(big, none, o, noise, &c));
  double sq = 0;
  for (double x : c.actions) sq += x * x;
  CHECK(std::sqrt(sq / 400) == doctest::Approx(3.0).epsilon(0.12));
  const double expected = 0.0013499 * 399.0 * 399.0;  // Q(3) of the cells
  CHECK(double(c.candidates) > expected * 0.7);
  CHECK(double(c.candidates) < expected * 1.3);
  REQUIRE(c.transitions);
  CHECK(c.transitions->kept == c.candidates);
  for (uint32_t a : c.transitions->counted) CHECK(a == 0);
  none.actions.resize(3);
  CHECK(dp_counts(big, none, o, noise, &c));  // sums of another vocabulary
  o.sigma = 0;
  none.actions.assign(400, 0.0);
  CHECK(dp_counts(big, none, o, noise, &c));  // no noise: refused
}

TEST_CASE("DP counts: the uncounted cells drawn only where they pass, in the distribution of a draw per cell") {
  // Q(t) = P(N(0, 1) >= t) and the tail's mean E[Z | Z >= t] = φ(t) / Q(t).
  auto q = [](double t) { return 0.5 * std::erfc(t / std::sqrt(2.0)); };
  auto tail_mean = [&](double t) { return std::exp(-0.5 * t * t) / std::sqrt(2 * M_PI) / q(t); };
  auto vocabulary = [](uint32_t V) {
    Dataset d;
    for (uint32_t k = 0; k < V; ++k) d.actions.push_back("b" + std::to_string(k));
    d.offsets.push_back(0);
    return d;
  };
  DpCountOptions o;
  o.sigma = 50;  // noise std 100: the rounding of a value to a count is negligible
  o.clip = 2;
  o.max_bytes = uint64_t(1) << 30;
  o.threshold = 3;

  // Nothing counted: about Q(t) of the (V - 1)^2 releasable cells pass, anywhere (never in row
  // or column 0: <unk>), each at most once, with values from the normal's tail above t: its mean
  // φ(t)/Q(t) and variance 1 + t·mean − mean². At t = 3 (Robert's sampler; V = 2001: 5,400
  // cells, the mean to 0.1%, the variance to 4%) and t = 0.2 (drawn by rejection).
  for (const double t : {3.0, 0.2}) {
    const uint32_t V = t == 3.0 ? 2001 : 201;
    const Dataset d = vocabulary(V);
    CountSums none;
    none.actions.assign(V, 0.0);
    o.threshold = t;
    o.max_successors = V;
    SecretRng rng(SecretRng::test_key(5));
    DpCounts c;
    REQUIRE_FALSE(dp_counts(d, none, o, rng, &c));
    CHECK(c.threshold == t);
    const double cells = double(V - 1) * double(V - 1), expected = q(t) * cells;
    CHECK(std::fabs(double(c.candidates) - expected) < 5 * std::sqrt(expected * (1 - q(t))));
    REQUIRE(c.transitions);
    CHECK(c.transitions->rows[0].empty());
    uint64_t low = 0, kept = 0;
    double sum = 0, sq = 0;
    for (const auto& row : c.transitions->rows)
      for (size_t k = 0; k < row.size(); ++k) {
        CHECK(row[k].action > 0);
        if (k) CHECK(row[k].action > row[k - 1].action);  // each cell once
        low += row[k].action <= (V - 1) / 2;
        ++kept;
        const double z = double(row[k].count) / c.noise_std;
        sum += z;
        sq += z * z;
      }
    CHECK(kept == c.candidates);
    CHECK(std::fabs(double(low) - 0.5 * double(kept)) < 5 * std::sqrt(0.25 * double(kept)));  // uniform over the row
    const double mean = sum / double(kept), var = sq / double(kept) - mean * mean;
    const double tail = tail_mean(t), tail_var = 1 + t * tail - tail * tail;
    CHECK(mean == doctest::Approx(tail).epsilon(0.004));
    CHECK(var == doctest::Approx(tail_var).epsilon(0.12));
  }
  o.threshold = 3;

  // Counted cells get their own draw: over 300 draws of a V = 41 table whose every other cell
  // holds a sum, the mean number of candidates is the sum over cells of Q(t - sum / deviation).
  {
    const uint32_t V = 41;
    const Dataset small = vocabulary(V);
    CountSums sums;
    sums.actions.assign(V, 0.0);
    double mean = 0;
    for (uint64_t a = 1; a < V; ++a)
      for (uint64_t b = 1; b < V; ++b)
        if ((a + b) % 2 == 0) {
          const double sum = double((a * 7 + b * 3) % 9) * 50.0;  // 0 to 4 deviations
          if (sum > 0) sums.pairs.push_back({a << 32 | b, sum});
          mean += q(3 - sum / 100.0);
        } else {
          mean += q(3);
        }
    sums.pairs.push_back({uint64_t(5) << 32, 1e9});  // a pair into <unk>: never released
    std::sort(sums.pairs.begin(), sums.pairs.end());
    o.max_successors = V;
    double total = 0, sq = 0;
    for (uint64_t seed = 0; seed < 300; ++seed) {
      SecretRng draw(SecretRng::test_key(100 + seed));
      DpCounts r;
      REQUIRE_FALSE(dp_counts(small, sums, o, draw, &r));
      total += double(r.candidates);
      sq += double(r.candidates) * double(r.candidates);
      if (!r.transitions) continue;
      CHECK(std::none_of(r.transitions->rows[5].begin(), r.transitions->rows[5].end(),
                         [](const auto& s) { return s.action == 0; }));
      for (const auto& row : r.transitions->rows)  // each cell once: a pure pass landing on a counted cell is not a second candidate
        for (size_t k = 1; k < row.size(); ++k) CHECK(row[k].action > row[k - 1].action);
    }
    const double m = total / 300, sd = std::sqrt(sq / 300 - m * m);
    CHECK(std::fabs(m - mean) < 5 * sd / std::sqrt(300.0));
  }

  // A vocabulary above 20,000 actions (refused before the cells were drawn this way): the
  // threshold rises so that a row still holds about Q(3) x 19,999 = 27 pure-noise candidates,
  // of which each row keeps its max_successors largest.
  CHECK(dp_count_threshold(3, 20000) == 3);
  CHECK(dp_count_threshold(3, 100) == 3);
  for (size_t V : {size_t(60000), size_t(1000000)}) {
    const double t = dp_count_threshold(3, V);
    CHECK(t > 3);
    CHECK(q(t) * double(V - 1) == doctest::Approx(q(3) * 19999.0).epsilon(1e-6));
  }
  const Dataset big = vocabulary(60000);
  CountSums empty;
  empty.actions.assign(60000, 0.0);
  o.max_successors = 16;
  o.max_bytes = uint64_t(1) << 30;
  DpCounts b;
  SecretRng rng(SecretRng::test_key(6));
  REQUIRE_FALSE(dp_counts(big, empty, o, rng, &b));
  CHECK(b.threshold == dp_count_threshold(3, 60000));
  const double per_row = q(b.threshold) * 59999.0;
  CHECK(std::fabs(double(b.candidates) - per_row * 59999.0) < 5 * std::sqrt(per_row * 59999.0));
  REQUIRE(b.transitions);
  CHECK(b.transitions->distinct == b.candidates);
  size_t most = 0;
  for (const auto& row : b.transitions->rows) most = std::max(most, row.size());
  CHECK(most == 16);
  CHECK(b.transitions->kept <= 16 * 59999);
}

TEST_CASE("users of sequence keys, the held-out users") {
  CHECK(user_of_sequence_key("alice#3") == "alice");
  CHECK(user_of_sequence_key("alice") == "alice");
  CHECK(user_of_sequence_key("a#b") == "a#b");
  CHECK(user_of_sequence_key("#12") == "#12");
  CHECK(user_of_sequence_key("x#") == "x#");
  size_t held = 0;
  for (int u = 0; u < 20000; ++u) {
    const std::string name = "user" + std::to_string(u);
    const bool h = holdout_user(name, 42, 0.1);
    CHECK(h == holdout_user(name, 42, 0.1));  // the same in train and eval
    held += h;
    CHECK_FALSE(holdout_user(name, 42, 0));
  }
  CHECK(held > 1800);
  CHECK(held < 2200);
  // The sequences of one user go together.
  Dataset ds;
  ds.offsets = {0, 2, 4, 6};
  ds.action = {1, 1, 1, 1, 1, 1};
  ds.sequence_key = {"bob#1", "carol", "bob#2"};
  std::vector<std::string> users;
  const std::vector<uint32_t> of = sequence_users(ds, &users);
  CHECK(users == std::vector<std::string>{"bob", "carol"});
  CHECK(of == std::vector<uint32_t>{0, 1, 0});
}

TEST_CASE("membership AUC on known inputs (ties count 1/2)") {
  // Pairs (member, non-member): 3>1, 3>2, 2>1, 2=2 → 3.5 / 4.
  CHECK(mann_whitney_auc({3, 2}, {1, 2}) == doctest::Approx(0.875));
  CHECK(mann_whitney_auc({1, 1}, {1, 1}) == doctest::Approx(0.5));
  CHECK(mann_whitney_auc({5, 6}, {1, 2, 3}) == doctest::Approx(1.0));
  CHECK(mann_whitney_auc({0}, {1, 2, 3}) == doctest::Approx(0.0));
  CHECK(std::isnan(mann_whitney_auc({}, {1})));
}

namespace {

Dataset toy_users(size_t users, uint32_t V) {
  Dataset d;
  d.actions.push_back("<unk>");
  for (uint32_t k = 1; k < V; ++k) d.actions.push_back("a" + std::to_string(k));
  d.types = {"<none>", "view"};
  d.gap_edges = {60.0f};
  d.offsets.push_back(0);
  hunch::Rng rng(5);
  for (size_t s = 0; s < users; ++s) {
    const size_t n = 6 + rng.below(6);
    for (size_t k = 0; k < n; ++k) {
      d.action.push_back(1 + uint32_t(rng.below(V - 1)));
      d.type.push_back(1);
      d.time.push_back(NAN);
      d.gap.push_back(0);
    }
    d.offsets.push_back(d.action.size());
    d.sequence_key.push_back("u" + std::to_string(s));
  }
  d.flags.assign(d.action.size(), 0);
  d.line.assign(d.action.size(), 0);
  d.session_position.assign(d.action.size(), 1);
  d.session_number.assign(d.action.size(), 1);
  return d;
}

}  // namespace

TEST_CASE("validation on some users only: EvalOptions::only and validation_split_of") {
  const Dataset d = toy_users(6, 12);
  std::vector<uint8_t> only = {1, 0, 0, 1, 0, 1};
  EvalOptions o;
  o.only = &only;
  EvalResult r;
  REQUIRE_FALSE(evaluate(d, ScoreFn(), o, &r));
  CHECK(r.evaluated == 3);
  CHECK(r.find("popularity")->test.full.users == 3);
  EvalResult all;
  REQUIRE_FALSE(evaluate(d, ScoreFn(), EvalOptions(), &all));
  CHECK(all.find("popularity")->test.full.users == 6);
  std::vector<uint8_t> wrong(2, 1);
  o.only = &wrong;
  CHECK(evaluate(d, ScoreFn(), o, &r));  // a filter of another dataset is an error
  // Sessions: the unmarked users' validation sessions are gone, the marked ones' kept.
  SessionSplit split;
  split.valid_begin.resize(d.sequences());
  split.test_begin.resize(d.sequences());
  Dataset ds = d;
  for (size_t q = 0; q < d.sequences(); ++q) {
    split.valid_begin[q] = d.offsets[q] + 2;
    split.test_begin[q] = d.offsets[q] + 4;
    ds.flags[d.offsets[q] + 2] |= kSessionStart;
  }
  const SessionSplit v = validation_split_of(ds, split, only);
  CHECK(v.valid_sessions == 3);
  CHECK(v.valid_events == 6);
  CHECK(v.valid_begin[1] == v.test_begin[1]);
  CHECK(v.valid_begin[0] == split.valid_begin[0]);
}

TEST_CASE("one user's gradient is the gradient of their mean loss; clipping caps its norm at C") {
  const Dataset d = toy_users(4, 12);
  NetConfig c;
  c.hyper.arch = hunch::Arch::TRANSFORMER;
  c.hyper.vocab_size = uint32_t(d.actions.size());
  c.hyper.type_count = uint32_t(d.types.size());
  c.hyper.gap_buckets = uint32_t(d.gap_edges.size() + 2);
  c.hyper.embed = 8;
  c.hyper.ffn = 8;
  c.hyper.layers = 1;
  c.hyper.heads = 1;
  c.hyper.window = 16;
  c.dropout = 0;  // a deterministic loss for the finite differences
  auto net = make_net(c, 3);
  LossWeights w;
  w.type = 1;
  const std::vector<Sample> all = training_samples(d, 200);
  const std::vector<uint32_t> seq = sample_sequences(d, all);
  std::vector<Sample> user;  // user u1's samples
  for (size_t k = 0; k < all.size(); ++k)
    if (seq[k] == 1) user.push_back(all[k]);
  REQUIRE(!user.empty());
  auto pass = net->make_pass();
  Buffer g(net->params.size());
  LossTotals lt;
  REQUIRE(user_gradient(*net, d, *pass, user, w, 1, 0, &g, &lt));
  auto loss_at = [&]() {
    prepare_pass(*pass, d, user, true, 1, 0);
    const LossTotals n = count_targets(*pass);
    net->forward(d, *pass);
    LossTotals t;
    heads_loss(*net, d, *pass, w, n, &t, nullptr);
    return t.weighted(w);
  };
  // Central differences on the largest coordinates (float32: a step of 1e-2, 3% agreement).
  std::vector<size_t> idx(g.size());
  for (size_t k = 0; k < idx.size(); ++k) idx[k] = k;
  std::partial_sort(idx.begin(), idx.begin() + 6, idx.end(), [&](size_t a, size_t b) { return std::fabs(g[a]) > std::fabs(g[b]); });
  for (size_t r = 0; r < 6; ++r) {
    const size_t k = idx[r];
    const float keep = net->params.data[k];
    net->params.data[k] = keep + 1e-2f;
    const double up = loss_at();
    net->params.data[k] = keep - 1e-2f;
    const double down = loss_at();
    net->params.data[k] = keep;
    const double fd = (up - down) / 2e-2;
    INFO("parameter " << k << ": analytic " << g[k] << ", finite difference " << fd);
    CHECK(std::fabs(fd - g[k]) <= 0.03 * std::fabs(g[k]) + 1e-4);
  }
  double sq = 0;
  for (float v : g) sq += double(v) * v;
  const double norm = std::sqrt(sq);
  REQUIRE(norm > 0);
  // Over C: scaled to norm C exactly; under C: untouched (factor 1, the unclipped gradient).
  const float C = float(norm / 2);
  const float s = clip_scale(g, C);
  double csq = 0;
  for (float v : g) csq += double(s * v) * double(s * v);
  CHECK(std::sqrt(csq) <= C * (1 + 1e-5));
  CHECK(std::sqrt(csq) == doctest::Approx(C).epsilon(1e-5));
  CHECK(clip_scale(g, float(norm * 2)) == 1.0f);
  // A user without targets has no gradient.
  Sample lone = user[0];
  lone.len = 1;
  lone.target_end = lone.begin + 1;
  lone.ends = false;
  Buffer z(net->params.size(), 7.0f);
  CHECK_FALSE(user_gradient(*net, d, *pass, {lone}, LossWeights(), 1, 0, &z, &lt));
  CHECK(z[0] == 7.0f);
}

TEST_CASE("the noise: N(0, stddev²) per coordinate, then scaled") {
  Buffer g(400000, 0.0f);
  SecretRng rng(SecretRng::test_key(11));
  add_dp_noise(g, 2.0, 0.5, rng);
  double sum = 0, sq = 0, far = 0;
  for (float v : g) {
    sum += v;
    sq += double(v) * v;
    far += std::fabs(v) > 3.0;  // beyond 3σ of N(0, 1): 0.27%
  }
  const double mean = sum / double(g.size()), var = sq / double(g.size()) - mean * mean;
  CHECK(std::fabs(mean) < 0.01);
  CHECK(std::sqrt(var) == doctest::Approx(1.0).epsilon(0.01));
  CHECK(far / double(g.size()) == doctest::Approx(0.0027).epsilon(0.15));
}

#ifdef HUNCH_CLI_PATH
namespace {

int cli(const std::string& args, std::string* out) {
  out->clear();
  return hunch_test::run_command(std::string("'") + HUNCH_CLI_PATH + "' " + args + " 2>&1", out);
}

// 300 users of 30 events drawn uniformly from 200 items: nothing to learn but the users' own
// events, so a model trained without dropout for long learns its training users by heart.
std::string write_random_pairs(const std::string& path) {
  std::ofstream f(path);
  hunch::Rng rng(7);
  for (int u = 0; u < 300; ++u)
    for (int k = 0; k < 30; ++k) f << "u" << u << " i" << rng.below(200) << "\n";
  return path;
}

double number_after(const std::string& text, const std::string& key) {
  const size_t at = text.find(key);
  if (at == std::string::npos) return NAN;
  return std::strtod(text.c_str() + at + key.size(), nullptr);
}

// The value of a metadata key in hunch inspect's listing ("key  f32  value").
double meta_number(const std::string& text, const std::string& key) {
  const size_t at = text.find(key + " ");
  if (at == std::string::npos) return NAN;
  const size_t type = text.find("f32", at + key.size());
  return type == std::string::npos ? NAN : std::strtod(text.c_str() + type + 3, nullptr);
}

}  // namespace

TEST_CASE("hunch train --dp-epsilon: trains, records ε, stops at its budget; eval --membership") {
  const std::string dir = "/tmp/hunch-test-privacy-" + std::to_string(getpid());
  std::string out;
  REQUIRE(cli("synth --users 600 --seed 3 --quiet -o " + dir + "-shop.csv", &out) == 0);
  const std::string model = dir + "-dp.hunch";
  REQUIRE(cli("train " + dir + "-shop.csv -o " + model + " --protocol sessions --dp-epsilon 4 --epochs 2 --batch 64", &out) == 0);
  INFO(out);
  // The planned steps (2 epochs of ceil(1/q)) done, ε at most the target and close to it.
  CHECK(out.find("(budget spent)") != std::string::npos);
  const double eps = number_after(out, "differential privacy: ε = ");
  CHECK(eps <= 4.0);
  CHECK(eps > 3.5);
  // No DP step past the planned ones, even in the count head's epoch after --epochs (validated only).
  CHECK(number_after(out, " spent (target 4, δ = ") > 0);
  const size_t over = out.find(" planned steps");
  REQUIRE(over != std::string::npos);
  const std::string steps_text = out.substr(out.rfind("over ", over) + 5, over - out.rfind("over ", over) - 5);
  INFO("steps: " << steps_text);
  CHECK(steps_text.substr(0, steps_text.find(" of ")) == steps_text.substr(steps_text.find(" of ") + 4));
  // The count start runs on the noised counts (the held-out users' columns fit its weights),
  // its release composed into the same ε.
  CHECK(out.find("DP counts (the count start's release, ε = 2 alone") != std::string::npos);
  CHECK(out.find("action head start") != std::string::npos);
  CHECK(out.find("warning: --dp-delta") == std::string::npos);  // the default δ = 1 / users
  {
    std::string big;
    REQUIRE(cli("train " + dir + "-shop.csv -o " + model + "-delta --dp-epsilon 4 --dp-delta 0.5 --epochs 1 --batch 64", &big) == 0);
    CHECK(big.find("warning: --dp-delta 0.5 is above 1 / training users") != std::string::npos);
  }
  CHECK(out.find("composed with the count start's release") != std::string::npos);
  CHECK(out.find("transition table:") == std::string::npos);  // never counted outside the release
  REQUIRE(cli("inspect " + model, &out) == 0);
  CHECK(out.find("hunch.privacy.dp_epsilon ") != std::string::npos);
  CHECK(out.find("hunch.privacy.dp_count_share") != std::string::npos);
  const double count_eps = meta_number(out, "hunch.privacy.dp_count_epsilon");
  const double sgd_eps = meta_number(out, "hunch.privacy.dp_sgd_epsilon");
  CHECK(count_eps == doctest::Approx(2.0).epsilon(0.01));  // half of 4 (--dp-count-share 0.5)
  CHECK(sgd_eps < eps);
  CHECK(count_eps + sgd_eps > eps);  // RDP composes below the sum
  CHECK(out.find("composed with the count start's release") != std::string::npos);
  CHECK(out.find("hunch.privacy.dp_noise_multiplier") != std::string::npos);
  CHECK(out.find("hunch.privacy.holdout_users") != std::string::npos);
  CHECK(out.find("-DP per user") != std::string::npos);
  REQUIRE(cli("eval " + model + " " + dir + "-shop.csv --protocol sessions --membership --json", &out) == 0);
  CHECK(out.find("\"membership\": {\"auc\": ") != std::string::npos);
  CHECK(out.find("warning: --membership") == std::string::npos);  // the training log
  // Another log's users are not the model's training users: said.
  REQUIRE(cli("synth --users 300 --seed 99 --quiet -o " + dir + "-other.csv", &out) == 0);
  REQUIRE(cli("eval " + model + " " + dir + "-other.csv --protocol sessions --membership", &out) == 0);
  CHECK(out.find("warning: --membership: the model was trained on ") != std::string::npos);
  // Bad combinations are usage errors.
  CHECK(cli("train " + dir + "-shop.csv -o " + model + " --dp-epsilon 4 --holdout-users 0", &out) == 2);
  CHECK(out.find("--holdout-users") != std::string::npos);
  CHECK(cli("train " + dir + "-shop.csv -o " + model + " --dp-clip 2", &out) == 2);
  CHECK(cli("train " + dir + "-shop.csv -o " + model + " --dp-count-share 0.5", &out) == 2);
  CHECK(cli("train " + dir + "-shop.csv -o " + model + " --protocol sessions --dp-epsilon 4 --dp-count-share 0.99", &out) == 2);
  // --dp-count-share 0: no count start, no table, DP-SGD alone.
  REQUIRE(cli("train " + dir + "-shop.csv -o " + model + " --protocol sessions --dp-epsilon 4 --epochs 1 --batch 64 "
              "--dp-count-share 0", &out) == 0);
  CHECK(out.find("DP counts") == std::string::npos);
  CHECK(out.find("action head start") == std::string::npos);
  CHECK(out.find("transition table") == std::string::npos);
  CHECK(number_after(out, "differential privacy: ε = ") <= 4.0);
  // Checkpoints hold the accountant's steps (test-checkpoint.cpp resumes a run with a count
  // release): DP-SGD alone, stopped after its first epoch and resumed, spends what one run does.
  const std::string ckpt_run = "train " + dir + "-shop.csv -o " + model + " --protocol sessions --dp-epsilon 4 "
                               "--epochs 2 --batch 64 --dp-count-share 0 --checkpoint-every 1";
  REQUIRE(cli(ckpt_run + " --time-budget 0.001", &out) == 0);
  CHECK(out.find("over 8 of 16 planned steps") != std::string::npos);
  REQUIRE(cli(ckpt_run + " --resume", &out) == 0);
  CHECK(out.find("resumed from " + model + ".ckpt after epoch 1") != std::string::npos);
  CHECK(out.find("over 16 of 16 planned steps (budget spent)") != std::string::npos);
  CHECK(number_after(out, "differential privacy: ε = ") <= 4.0);
  std::remove((model + ".ckpt").c_str());
  std::remove((dir + "-shop.csv").c_str());
  std::remove(model.c_str());
}

TEST_CASE("hunch train --dp-epsilon with a transition table past 20,000 actions") {
  // 30,000 products each bought by one or two of 3,000 users (--min-users 1): the noised
  // successor table of a 30,001 x 30,001 grid (refused before, when every cell was drawn).
  const std::string dir = "/tmp/hunch-test-privacy-big-" + std::to_string(getpid());
  {
    std::ofstream f(dir + ".csv");
    f << "user,time,action\n";
    hunch::Rng rng(3);
    std::vector<uint32_t> acts(36000);
    for (uint32_t k = 0; k < acts.size(); ++k) acts[k] = k % 30000;
    for (size_t k = acts.size(); k > 1; --k) std::swap(acts[k - 1], acts[rng.below(k)]);
    for (uint32_t u = 0, i = 0; u < 3000; ++u)
      for (uint32_t k = 0; k < 12; ++k, ++i) f << "u" << u << "," << 1700000000 + u * 7 + k * 60 << ",p" << acts[i] << "\n";
  }
  std::string out;
  REQUIRE(cli("train " + dir + ".csv -o " + dir + ".hunch --min-users 1 --min-count 1 --dp-epsilon 4 --epochs 1 "
              "--embed 8 --layers 1 --threads 1", &out) == 0);
  INFO(out);
  CHECK(out.find("on each of 30001 action cells and every successor cell") != std::string::npos);
  // The threshold past 20,000 actions: 3.12 deviations at 30,001 (27 pure-noise cells a row).
  CHECK(number_after(out, " pairs at or above ") == doctest::Approx(dp_count_threshold(3, 30001)).epsilon(0.002));
  const double pairs = number_after(out, "every successor cell; ");
  CHECK(pairs > 0.9 * 27 * 30000);
  CHECK(pairs < 1.1 * 27 * 30000);
  CHECK(number_after(out, "· σ, kept ") > 0);
  REQUIRE(cli("inspect " + dir + ".hunch", &out) == 0);
  CHECK(out.find("transition.table ") != std::string::npos);
  std::remove((dir + ".csv").c_str());
  std::remove((dir + ".hunch").c_str());
}

TEST_CASE("hunch eval --membership: an over-fitted model gives its training users away, a DP one does not") {
  const std::string dir = "/tmp/hunch-test-privacy-" + std::to_string(getpid());
  const std::string data = write_random_pairs(dir + "-pairs.txt");
  const std::string flags = " --format pairs --session-gap 0 --min-count 1";
  std::string out;
  REQUIRE(cli("train " + data + " -o " + dir + "-over.hunch" + flags +
                  " --holdout-users 0.3 --epochs 30 --patience 0 --dropout 0 --no-copy --transitions 0 --item-weights train",
              &out) == 0);
  REQUIRE(cli("eval " + dir + "-over.hunch " + data + flags + " --membership", &out) == 0);
  INFO(out);
  const double plain_auc = number_after(out, "membership inference (loss threshold, per user): AUC ");
  CHECK(plain_auc > 0.9);
  REQUIRE(cli("train " + data + " -o " + dir + "-dp.hunch" + flags +
                  " --dp-epsilon 1 --holdout-users 0.3 --epochs 30 --patience 0 --dropout 0 --no-copy --batch 64",
              &out) == 0);
  REQUIRE(cli("eval " + dir + "-dp.hunch " + data + flags + " --membership", &out) == 0);
  const double dp_auc = number_after(out, "membership inference (loss threshold, per user): AUC ");
  CHECK(dp_auc < 0.65);  // 208 against 92 users: one standard error of the AUC is about 0.035
  // A model trained on every user has nobody to compare with.
  REQUIRE(cli("train " + data + " -o " + dir + "-all.hunch" + flags + " --epochs 1", &out) == 0);
  CHECK(cli("eval " + dir + "-all.hunch " + data + flags + " --membership", &out) == 1);
  CHECK(out.find("--holdout-users") != std::string::npos);
  for (const char* f : {"-pairs.txt", "-over.hunch", "-dp.hunch", "-all.hunch"}) std::remove((dir + f).c_str());
}
#endif
