#include "train/privacy.h"
#include "train/shards.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <numeric>
#include <thread>
#include <unordered_map>

#include "hunch/model.h"
#include "hunch/sequence.h"
#include "train/eval.h"

namespace hunch::train {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// log(e^a + e^b) and log(e^a − e^b) (a >= b), with −inf for log 0.
double log_add(double a, double b) {
  if (a == -kInf) return b;
  if (b == -kInf) return a;
  const double m = std::max(a, b);
  return m + std::log1p(std::exp(-std::fabs(a - b)));
}
double log_sub(double a, double b) {
  if (b == -kInf) return a;
  if (a <= b) return -kInf;  // rounding: the series' partial sums stay positive in exact arithmetic
  return a + std::log1p(-std::exp(b - a));
}

// log(erfc(x)), also where erfc underflows (x > ~26): the asymptotic series
// erfc(x) = e^{−x²} / (x √π) · (1 − 1/(2x²) + 3/(4x⁴) − 15/(8x⁶) + …).
double log_erfc(double x) {
  if (x < 20) return std::log(std::erfc(x));
  const double r = 1 / (x * x);
  return -x * x - std::log(x) - 0.5 * std::log(M_PI) + std::log1p(-0.5 * r + 0.75 * r * r - 1.875 * r * r * r);
}

// log A_α for an integer α (Mironov et al. 2019, §3.3, eq. for integer α):
// A_α = Σ_{k=0}^{α} C(α, k) (1−q)^{α−k} q^k exp((k² − k) / (2σ²)).
double log_a_integer(double q, double sigma, int alpha) {
  double log_a = -kInf, log_binom = 0;  // log C(α, 0)
  for (int k = 0; k <= alpha; ++k) {
    if (k > 0) log_binom += std::log(double(alpha - k + 1)) - std::log(double(k));
    const double term = log_binom + k * std::log(q) + (alpha - k) * std::log1p(-q) +
                        (double(k) * k - k) / (2 * sigma * sigma);
    log_a = log_add(log_a, term);
  }
  return log_a;
}

// log A_α for a fractional α (Mironov et al. 2019, §3.3): A_α = A_0 + A_1, two series over
// i = 0, 1, … with the generalised binomial C(α, i), split at z0 = σ² log(1/q − 1) + 1/2:
//   A_0 = Σ C(α,i) q^i (1−q)^{α−i} exp((i² − i)/(2σ²)) · ½ erfc((i − z0) / (√2 σ))
//   A_1 = Σ C(α,i) q^{α−i} (1−q)^i exp(((α−i)² − (α−i))/(2σ²)) · ½ erfc((z0 − (α−i)) / (√2 σ)),
// summed until both terms are below e^−30 (the coefficients' signs alternate past i > α).
double log_a_fractional(double q, double sigma, double alpha) {
  double log_a0 = -kInf, log_a1 = -kInf;
  const double z0 = sigma * sigma * std::log(1 / q - 1) + 0.5;
  double log_coef = 0;  // log |C(α, i)|
  bool positive = true;  // sign of C(α, i)
  for (int i = 0; i < 100000; ++i) {
    if (i > 0) {
      const double f = (alpha - (i - 1)) / i;  // C(α, i) = C(α, i−1) · (α − i + 1) / i
      if (f < 0) positive = !positive;
      log_coef += std::log(std::fabs(f));
    }
    const double j = alpha - i;
    const double log_t0 = log_coef + i * std::log(q) + j * std::log1p(-q);
    const double log_t1 = log_coef + j * std::log(q) + i * std::log1p(-q);
    const double log_e0 = std::log(0.5) + log_erfc((i - z0) / (std::sqrt(2.0) * sigma));
    const double log_e1 = std::log(0.5) + log_erfc((z0 - j) / (std::sqrt(2.0) * sigma));
    const double log_s0 = log_t0 + (double(i) * i - i) / (2 * sigma * sigma) + log_e0;
    const double log_s1 = log_t1 + (j * j - j) / (2 * sigma * sigma) + log_e1;
    if (positive) {
      log_a0 = log_add(log_a0, log_s0);
      log_a1 = log_add(log_a1, log_s1);
    } else {
      log_a0 = log_sub(log_a0, log_s0);
      log_a1 = log_sub(log_a1, log_s1);
    }
    if (std::max(log_s0, log_s1) < -30) break;
  }
  return log_add(log_a0, log_a1);
}

}  // namespace

double rdp_sampled_gaussian(double q, double sigma, double alpha) {
  if (q <= 0) return 0;
  if (std::isinf(alpha)) return kInf;
  if (q >= 1) return alpha / (2 * sigma * sigma);  // the Gaussian mechanism itself
  const double log_a = alpha == std::floor(alpha) ? log_a_integer(q, sigma, int(alpha)) : log_a_fractional(q, sigma, alpha);
  return log_a / (alpha - 1);
}

const std::vector<double>& rdp_orders() {
  static const std::vector<double> orders = [] {
    std::vector<double> o;
    for (int x = 1; x < 100; ++x) o.push_back(1 + x / 10.0);
    for (int a = 12; a < 64; ++a) o.push_back(a);
    for (double a : {64.0, 80.0, 96.0, 128.0, 256.0, 512.0}) o.push_back(a);
    return o;
  }();
  return orders;
}

EpsilonAt epsilon_from_rdp(const std::vector<double>& orders, const std::vector<double>& rdp, double delta, bool improved) {
  EpsilonAt best;
  best.epsilon = kInf;
  for (size_t k = 0; k < orders.size() && k < rdp.size(); ++k) {
    const double a = orders[k];
    if (a <= 1 || std::isnan(rdp[k])) continue;
    const double eps = improved ? rdp[k] + std::log((a - 1) / a) - (std::log(delta) + std::log(a)) / (a - 1)
                                : rdp[k] - std::log(delta) / (a - 1);
    if (eps < best.epsilon) {
      best.epsilon = eps;
      best.order = a;
    }
  }
  best.epsilon = std::max(0.0, best.epsilon);
  return best;
}

double rdp_gaussian(double sigma, double alpha) { return alpha / (2 * sigma * sigma); }

double dp_epsilon(double q, double sigma, uint64_t steps, double delta, double count_sigma) {
  const std::vector<double>& orders = rdp_orders();
  std::vector<double> rdp(orders.size());
  for (size_t k = 0; k < orders.size(); ++k)
    rdp[k] = double(steps) * rdp_sampled_gaussian(q, sigma, orders[k]) +
             (count_sigma > 0 ? rdp_gaussian(count_sigma, orders[k]) : 0.0);
  return epsilon_from_rdp(orders, rdp, delta).epsilon;
}

Error dp_noise_for(double epsilon, double delta, double q, uint64_t steps, double* sigma, double count_sigma) {
  if (!(epsilon > 0) || !std::isfinite(epsilon)) return Error("--dp-epsilon must be a positive number");
  if (!(delta > 0 && delta < 1)) return Error("--dp-delta must lie strictly between 0 and 1");
  if (!(q > 0 && q <= 1)) return Error("the sampling rate must lie in (0, 1]");
  if (steps == 0) return Error("no training step is planned");
  if (count_sigma > 0 && dp_epsilon(q, 1e6, steps, delta, count_sigma) > epsilon)
    return Error("the count release alone spends ε = " + std::to_string(epsilon) + ": lower --dp-count-share");
  // ε falls as σ grows: double until the target is met, then bisect.
  double lo = 0.05, hi = 0.1;
  while (dp_epsilon(q, hi, steps, delta, count_sigma) > epsilon) {
    lo = hi;
    hi *= 2;
    if (hi > 1e6) return Error("no noise level reaches ε = " + std::to_string(epsilon) + " in " + std::to_string(steps) + " steps");
  }
  while (hi - lo > 1e-3 * hi) {
    const double mid = 0.5 * (lo + hi);
    (dp_epsilon(q, mid, steps, delta, count_sigma) > epsilon ? lo : hi) = mid;
  }
  *sigma = hi;  // the upper end: its ε is at most the target
  return Error();
}

// ---- differentially private counts

CountSums count_sums(const Dataset& data, const std::vector<Sample>& training, double clip, bool with_pairs,
                     Collective* collective) {
  CountSums out;
  const size_t V = data.actions.size();
  out.actions.assign(V, 0.0);
  std::vector<std::string> names;
  const std::vector<uint32_t> user_of = sequence_users(data, &names);
  const std::vector<uint32_t> seq_of = sample_sequences(data, training);
  // Each user's samples, then their distinct cells.
  std::vector<std::vector<uint32_t>> of_user(names.size());
  for (size_t k = 0; k < training.size(); ++k) of_user[user_of[seq_of[k]]].push_back(uint32_t(k));
  std::vector<uint8_t> counted(with_pairs ? data.events() : 0, 0);
  std::vector<uint8_t> has(V, 0);
  std::unordered_map<uint64_t, double> pair_sum;
  std::vector<uint32_t> acts;
  std::vector<uint64_t> pairs;
  std::vector<Sample> mine;
  for (const std::vector<uint32_t>& ks : of_user) {
    if (ks.empty()) continue;
    acts.clear();
    pairs.clear();
    mine.clear();
    for (uint32_t k : ks) {
      const Sample& s = training[k];
      mine.push_back(s);
      // The targets the start's bias counts (action-start.cpp): columns c → c + 1 of the sample.
      for (uint64_t c = s.begin; c < s.begin + s.len && c + 1 < s.target_end; ++c) {
        const uint32_t a = data.action[c + 1];
        if (!has[a]) {
          has[a] = 1;
          acts.push_back(a);
        }
      }
    }
    for (uint32_t a : acts) has[a] = 0;
    if (with_pairs) {
      for_counted_pairs(data, mine, &counted, [&](uint64_t, uint32_t a, uint32_t b) { pairs.push_back(uint64_t(a) << 32 | b); });
      std::sort(pairs.begin(), pairs.end());
      pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
    }
    ++out.users;
    const double n = double(acts.size() + pairs.size());
    if (n == 0) continue;
    const double w = std::min(1.0, clip / std::sqrt(n));
    out.clipped_users += w < 1.0;
    for (uint32_t a : acts) out.actions[a] += w;
    for (uint64_t p : pairs) pair_sum[p] += w;
  }
  out.pairs.assign(pair_sum.begin(), pair_sum.end());
  std::sort(out.pairs.begin(), out.pairs.end());
  if (data.sharded && collective && collective->size() > 1) {
    // Every shard's users' contributions (users are disjoint: the sums add), the pair sums
    // merged in (a, b) order alike everywhere.
    std::vector<double> v(out.actions);
    v.push_back(double(out.users));
    v.push_back(double(out.clipped_users));
    collective->sum(v.data(), v.size());
    std::copy(v.begin(), v.begin() + ptrdiff_t(V), out.actions.begin());
    out.users = uint64_t(v[V]), out.clipped_users = uint64_t(v[V + 1]);
    out.pairs = sum_by_key(*collective, out.pairs);
  }
  return out;
}

namespace {

// N(0, 1) pairs by Box-Muller in double precision from 53-bit uniforms (as DP-SGD's noise,
// trainer.cpp's add_dp_noise).
class Normals {
 public:
  explicit Normals(SecretRng& rng) : rng_(rng) {}
  double next() {
    if (has_) {
      has_ = false;
      return spare_;
    }
    const double u1 = 1.0 - rng_.uniform53(), u2 = rng_.uniform53();
    const double r = std::sqrt(-2.0 * std::log(u1)), t = 6.283185307179586 * u2;
    spare_ = r * std::sin(t);
    has_ = true;
    return r * std::cos(t);
  }

 private:
  SecretRng& rng_;
  double spare_ = 0;
  bool   has_ = false;
};

}  // namespace

namespace {
// Q(t) = P(N(0, 1) >= t).
double normal_upper_tail(double t) { return 0.5 * std::erfc(t / std::sqrt(2.0)); }
}  // namespace

double dp_count_threshold(double base, size_t V) {
  if (V <= kDpPairActionsAtBase) return base;
  // Q decreases: the t whose (V - 1) Q(t) equals the base's count at kDpPairActionsAtBase
  // actions, by bisection.
  const auto q = normal_upper_tail;
  const double want = q(base) * double(kDpPairActionsAtBase - 1) / double(V - 1);
  double lo = base, hi = base + 40;
  for (int k = 0; k < 100; ++k) {
    const double mid = 0.5 * (lo + hi);
    (q(mid) > want ? lo : hi) = mid;
  }
  return hi;
}

namespace {

// The cells of a pair row that nobody counted hold noise alone; each passes the floor of t noise
// standard deviations independently, with probability Q(t). Visiting only those that pass (the
// gaps between them are geometric) and drawing each one's value from the normal's tail above t
// releases what drawing every cell would, in the same distribution, at the cost of the cells
// that pass: (V - 1) Q(t) a row instead of V.
class NoiseExceedances {
 public:
  NoiseExceedances(SecretRng& rng, double t)
      : rng_(rng), t_(t), pass_(normal_upper_tail(t)), log_fail_(std::log1p(-pass_)),
        rate_(0.5 * (t + std::sqrt(t * t + 4))) {}
  // How many cells fail before the next one passes (UINT64_MAX: none ever does).
  uint64_t gap() {
    if (!(pass_ > 0)) return UINT64_MAX;
    const double g = std::floor(std::log(1.0 - rng_.uniform53()) / log_fail_);  // log of (0, 1]
    return g < 1.8e19 ? uint64_t(g) : UINT64_MAX;
  }
  // A standard normal given that it is at least t: below t = 0.5 by drawing normals until one
  // is (at least 31% pass); above, Robert's (1995) exponential proposal shifted to t, whose
  // acceptance grows with t.
  double tail(Normals& normal) {
    if (t_ < 0.5) {
      for (;;)
        if (const double z = normal.next(); z >= t_) return z;
    }
    for (;;) {
      const double z = t_ - std::log(1.0 - rng_.uniform53()) / rate_;
      if (rng_.uniform53() <= std::exp(-0.5 * (z - rate_) * (z - rate_))) return z;
    }
  }

 private:
  SecretRng&   rng_;
  const double t_, pass_, log_fail_, rate_;
};

}  // namespace

Error dp_counts(const Dataset& data, const CountSums& sums, const DpCountOptions& o, SecretRng& rng, DpCounts* out) {
  *out = DpCounts();
  const size_t V = data.actions.size();
  if (!(o.clip > 0) || !(o.sigma > 0)) return Error("dp_counts: the clip and the noise multiplier must be positive");
  if (sums.actions.size() != V) return Error("dp_counts: the sums are of another vocabulary");
  out->users = sums.users;
  out->clipped_users = sums.clipped_users;
  out->noise_std = o.sigma * o.clip;
  Normals normal(rng);
  out->actions = sums.actions;
  for (double& x : out->actions) x += out->noise_std * normal.next();
  if (!o.transitions) return Error();
  // Every cell of every row gets its noise: a counted cell its own draw, the others by
  // NoiseExceedances (only the ones that pass are drawn). A row's candidates are the cells at
  // or above the threshold; only its max_successors largest can be kept (keep_transitions'
  // first cut, made here per row so that memory follows V x max_successors, not the candidates).
  auto t = std::make_shared<TransitionCounts>();
  t->from.assign(V, 0);
  t->counted.assign(data.events(), 0);
  out->threshold = dp_count_threshold(o.threshold, V);
  const double floor = out->threshold * out->noise_std;
  NoiseExceedances noise(rng, out->threshold);
  std::vector<TransitionPair> all, row;
  size_t p = 0;
  for (size_t a = 0; a < V; ++a) {
    const size_t row_end = size_t(std::lower_bound(sums.pairs.begin() + long(p), sums.pairs.end(),
                                                    std::make_pair(uint64_t(a + 1) << 32, -kInf)) - sums.pairs.begin());
    // Neither end <unk> (as counted pairs): those cells are never released, so never drawn.
    if (a == 0) {
      p = row_end;
      continue;
    }
    row.clear();
    double from = 0;
    auto candidate = [&](uint64_t b, double value) {
      const uint32_t c = uint32_t(std::min(4e9, std::max(1.0, std::round(value))));
      row.push_back({uint32_t(a), uint32_t(b), c});
      from += c;
    };
    auto step = [&](uint64_t b) {
      const uint64_t g = noise.gap();
      return g >= uint64_t(V) ? uint64_t(V) : b + 1 + g;
    };
    uint64_t pure = step(0);  // the next uncounted cell that passes (V: none left)
    for (; p < row_end || pure < V;) {
      const uint64_t counted = p < row_end ? uint32_t(sums.pairs[p].first) : uint64_t(V);
      if (pure < counted) {
        candidate(pure, out->noise_std * noise.tail(normal));
        pure = step(pure);
        continue;
      }
      // A counted cell: its own draw (a pure cell's pass landing on it is not that cell's noise).
      if (pure == counted) pure = step(pure);
      if (counted > 0) {
        const double value = sums.pairs[p].second + out->noise_std * normal.next();
        if (value >= floor) candidate(counted, value);
      }
      ++p;
    }
    t->from[a] = uint32_t(std::min(from, 4e9));
    out->candidates += row.size();
    if (row.size() > o.max_successors) {
      row.resize(most_frequent_first(row.data(), row.data() + row.size(), o.max_successors));
      std::sort(row.begin(), row.end(), [](const TransitionPair& x, const TransitionPair& y) { return x.b < y.b; });
    }
    all.insert(all.end(), row.begin(), row.end());
  }
  t->pairs = uint64_t(std::accumulate(t->from.begin(), t->from.end(), 0.0));
  t->distinct = out->candidates;
  keep_transitions(V, std::move(all), o.max_successors, o.max_bytes, t.get());
  if (!t->table.empty()) out->transitions = std::move(t);
  return Error();
}

// ---- users

std::string user_of_sequence_key(const std::string& key) {
  const size_t hash = key.rfind('#');
  if (hash == std::string::npos || hash == 0 || hash + 1 == key.size()) return key;
  for (size_t k = hash + 1; k < key.size(); ++k)
    if (key[k] < '0' || key[k] > '9') return key;
  return key.substr(0, hash);
}

std::vector<uint32_t> sequence_users(const Dataset& ds, std::vector<std::string>* users) {
  std::vector<uint32_t> out(ds.sequences());
  std::unordered_map<std::string, uint32_t> index;
  users->clear();
  for (size_t q = 0; q < ds.sequences(); ++q) {
    std::string u = user_of_sequence_key(ds.sequence_key[q]);
    auto it = index.find(u);
    if (it == index.end()) {
      it = index.emplace(u, uint32_t(users->size())).first;
      users->push_back(std::move(u));
    }
    out[q] = it->second;
  }
  return out;
}

bool holdout_user(const std::string& user, uint64_t seed, double fraction) {
  if (fraction <= 0) return false;
  return Rng::derive(seed, 0x40D0, user_hash(user)).uniform53() < fraction;  // mixed with the seed
}

std::vector<uint32_t> sample_sequences(const Dataset& ds, const std::vector<Sample>& samples) {
  std::vector<uint32_t> out(samples.size());
  for (size_t k = 0; k < samples.size(); ++k)
    out[k] = uint32_t(std::upper_bound(ds.offsets.begin(), ds.offsets.end(), samples[k].first) - ds.offsets.begin() - 1);
  return out;
}

std::vector<uint8_t> holdout_sequences(const Dataset& ds, double fraction, uint64_t seed) {
  std::vector<uint8_t> out(ds.sequences(), 0);
  if (fraction <= 0) return out;
  std::vector<std::string> users;
  const std::vector<uint32_t> user_of = sequence_users(ds, &users);
  std::vector<uint8_t> held(users.size());
  for (size_t u = 0; u < users.size(); ++u) held[u] = holdout_user(users[u], seed, fraction);
  for (size_t q = 0; q < out.size(); ++q) out[q] = held[user_of[q]];
  return out;
}

uint64_t drop_samples_of(const Dataset& ds, const std::vector<uint8_t>& held_out, std::vector<Sample>* samples) {
  const std::vector<uint32_t> seq = sample_sequences(ds, *samples);
  size_t kept = 0;
  for (size_t k = 0; k < samples->size(); ++k)
    if (!held_out[seq[k]]) (*samples)[kept++] = (*samples)[k];
  const uint64_t dropped = samples->size() - kept;
  samples->resize(kept);
  for (size_t k = 0; k < kept; ++k) (*samples)[k].id = k;
  return dropped;
}

SessionSplit validation_split_of(const Dataset& ds, const SessionSplit& split, const std::vector<uint8_t>& only) {
  SessionSplit out = split;
  out.valid_sessions = out.valid_events = 0;
  for (size_t q = 0; q < ds.sequences(); ++q) {
    if (!only[q]) out.valid_begin[q] = out.test_begin[q];
    out.valid_events += out.test_begin[q] - out.valid_begin[q];
    for (uint64_t i = out.valid_begin[q]; i < out.test_begin[q]; ++i) out.valid_sessions += (ds.flags[i] & kSessionStart) != 0;
  }
  return out;
}

Holdout holdout_of(const hunch::Model& model) {
  Holdout h;
  if (const MetaEntry* e = model.file().find_meta("hunch.privacy.holdout_users"); e && e->value.type == MetaType::F32)
    h.fraction = e->value.f;
  if (const MetaEntry* e = model.file().find_meta("hunch.privacy.holdout_seed"); e && e->value.type == MetaType::U64)
    h.seed = e->value.u;
  return h;
}

std::string privacy_summary(const hunch::Model& model) {
  auto f32 = [&](const char* key) {
    const MetaEntry* e = model.file().find_meta(key);
    return e && e->value.type == MetaType::F32 ? double(e->value.f) : NAN;
  };
  auto u64 = [&](const char* key) -> unsigned long long {
    const MetaEntry* e = model.file().find_meta(key);
    return e && e->value.type == MetaType::U64 ? e->value.u : 0;
  };
  char buf[400];
  const double eps = f32("hunch.privacy.dp_epsilon");
  if (std::isnan(eps)) {
    std::snprintf(buf, sizeof buf, "not differentially private");
  } else {
    std::snprintf(buf, sizeof buf,
                  "(ε = %.3g, δ = %.3g)-DP per user (DP-SGD: noise σ = %.3g · clip %.3g, Poisson rate q = %.4g, %llu steps, "
                  "%llu users; RDP accountant)",
                  eps, f32("hunch.privacy.dp_delta"), f32("hunch.privacy.dp_noise_multiplier"), f32("hunch.privacy.dp_clip"),
                  f32("hunch.privacy.dp_sample_rate"), u64("hunch.privacy.dp_steps"), u64("hunch.privacy.dp_users"));
  }
  std::string out = buf;
  const double count_eps = f32("hunch.privacy.dp_count_epsilon");
  if (!std::isnan(eps) && !std::isnan(count_eps)) {
    std::snprintf(buf, sizeof buf, "; composed with the count start's release (noise σ = %.3g · clip %.3g, ε = %.3g alone; "
                  "DP-SGD alone ε = %.3g)", f32("hunch.privacy.dp_count_noise_multiplier"), f32("hunch.privacy.dp_count_clip"),
                  count_eps, f32("hunch.privacy.dp_sgd_epsilon"));
    out += buf;
  }
  const Holdout h = holdout_of(model);
  if (h.fraction > 0) {
    std::snprintf(buf, sizeof buf, "; %.3g of users held out of training (seed %llu)", h.fraction, (unsigned long long)h.seed);
    out += buf;
  }
  return out;
}

// ---- membership inference

std::string membership_json(const MembershipResult& r) {
  char buf[400];
  std::snprintf(buf, sizeof buf,
                "{\"auc\": %.6f, \"members\": %llu, \"non_members\": %llu, \"targets\": %llu, \"member_loss\": %.6f, "
                "\"non_member_loss\": %.6f, \"holdout\": %.6g}",
                r.auc, (unsigned long long)r.members, (unsigned long long)r.non_members, (unsigned long long)r.targets,
                r.member_loss, r.non_member_loss, r.holdout);
  return buf;
}

std::string membership_text(const MembershipResult& r) {
  char buf[600];
  std::snprintf(buf, sizeof buf,
                "membership inference (loss threshold, per user): AUC %.4f (0.5 = no signal) over %llu training users "
                "and %llu held-out users (%llu targets); mean loss %.4f trained, %.4f held out\n",
                r.auc, (unsigned long long)r.members, (unsigned long long)r.non_members, (unsigned long long)r.targets,
                r.member_loss, r.non_member_loss);
  return buf;
}

Error membership_attack(const hunch::Model& model, const Dataset& ds, const SessionSplit* split,
                        uint32_t targets_per_user, unsigned threads, MembershipResult* out, Collective* collective) {
  *out = MembershipResult();
  const Holdout ho = holdout_of(model);
  if (!(ho.fraction > 0))
    return Error("membership: the model was trained on every user (no hunch.privacy.holdout_users): train it with "
                 "--holdout-users F (or --dp-epsilon) to leave users out to compare with");
  const size_t V = model.hyper().vocab_size;
  if (ds.actions.size() != V) return Error("membership: the data's vocabulary is not the model's");
  if (split && split->valid_begin.size() != ds.sequences()) return Error("membership: the split is not this data's");
  out->holdout = ho.fraction;
  std::vector<std::string> users;
  const std::vector<uint32_t> user_of = sequence_users(ds, &users);
  // Per user: summed loss and count over its sequences (one thread per sequence range).
  std::vector<double> loss(users.size(), 0);
  std::vector<uint64_t> count(users.size(), 0);
  // The training part of sequence q: events [o, end); targets are events [first_target, end).
  auto part = [&](size_t q, uint64_t* first_target, uint64_t* end) {
    const uint64_t o = ds.offsets[q], n = ds.length(q);
    *end = split ? split->valid_begin[q] : (n >= kMinEvaluatedLength ? o + n - 2 : o + n);
    *first_target = std::max<uint64_t>(o + 1, *end > targets_per_user ? *end - targets_per_user : 0);
  };
  // The per-sequence sums, written by the thread that scored it.
  std::vector<double> seq_loss(ds.sequences(), 0);
  std::vector<uint64_t> seq_count(ds.sequences(), 0);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  Error first_error;
  std::mutex error_mutex;
  // Under mpirun each rank scores its own users (shards.h); the sums are gathered below.
  const SequenceOwners owners = sequence_owners(ds, UserParts{collective, std::max(1u, threads)});
  auto work = [&]() {
    hunch::Sequence sq(model);
    for (size_t q; (q = next.fetch_add(1)) < ds.sequences() && !failed;) {
      if (!owners.mine(q)) continue;
      uint64_t first, end;
      part(q, &first, &end);
      if (first >= end) continue;
      sq.reset();
      const uint64_t o = ds.offsets[q];
      for (uint64_t i = o; i < end; ++i) {
        if (i >= first && ds.action[i] != 0) {
          const float* lg = sq.action_logits();
          float mx = -INFINITY;
          for (size_t a = 1; a < V; ++a) mx = std::max(mx, lg[a]);
          double sum = 0;
          for (size_t a = 1; a < V; ++a) sum += std::exp(double(lg[a] - mx));
          seq_loss[q] += double(mx) + std::log(sum) - double(lg[ds.action[i]]);
          ++seq_count[q];
        }
        hunch::Event e;
        e.action = ds.action[i];
        e.type = ds.type[i];
        e.time = ds.time[i];
        for (size_t k = 0; k < ds.attr_count(); ++k) e.attr[k] = ds.attr[i * ds.attr_count() + k];
        if (Error err = sq.push(e)) {
          std::lock_guard<std::mutex> lock(error_mutex);
          if (!failed) first_error = Error("membership: sequence " + ds.sequence_key[q] + ": " + err.message);
          failed = true;
          return;
        }
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < std::max(1u, threads); ++t) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
  if (owners.world->any(failed))
    return failed ? first_error : Error("membership: another MPI rank failed (its own message says why)");
  const Error shared = owners.gather(  // every sequence's sums from its owner
      [&](size_t q, std::vector<double>* own) { own->insert(own->end(), {seq_loss[q], double(seq_count[q])}); },
      [&](size_t q, const double* v, size_t left) -> size_t {
        if (left < 2) return SIZE_MAX;
        seq_loss[q] = v[0];
        seq_count[q] = uint64_t(v[1]);
        return 2;
      });
  if (shared) return Error("membership: " + shared.message);
  for (size_t q = 0; q < ds.sequences(); ++q) {
    loss[user_of[q]] += seq_loss[q];
    count[user_of[q]] += seq_count[q];
    out->targets += seq_count[q];
  }
  std::vector<float> member_score, non_member_score;
  double ml = 0, nl = 0;
  for (size_t u = 0; u < users.size(); ++u) {
    if (!count[u]) continue;
    const double mean = loss[u] / double(count[u]);
    if (holdout_user(users[u], ho.seed, ho.fraction)) {
      non_member_score.push_back(float(-mean));
      nl += mean;
    } else {
      member_score.push_back(float(-mean));
      ml += mean;
    }
  }
  out->members = member_score.size();
  out->non_members = non_member_score.size();
  if (!out->members || !out->non_members)
    return Error("membership: " + std::string(out->members ? "no held-out user" : "no training user") +
                 " has a scored target in this log");
  out->member_loss = ml / double(out->members);
  out->non_member_loss = nl / double(out->non_members);
  out->auc = mann_whitney_auc(member_score, non_member_score);
  return Error();
}

}  // namespace hunch::train
