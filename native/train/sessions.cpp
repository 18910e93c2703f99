// The session protocol: split, samples, scorers, baselines and metrics (sessions.h).
#include "train/sessions.h"
#include "train/shards.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <limits>
#include <memory>
#include <numeric>
#include <thread>
#include <unordered_map>

#include <Eigen/Dense>
#include <zlib.h>

#include "hunch/format.h"
#include "hunch/model.h"
#include "hunch/sequence.h"

namespace hunch::train {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const char* const kGoalNames[] = {"purchase", "buy", "order", "orders", "transaction", "checkout_complete",
                                  "order completed"};

std::string type_list(const Dataset& ds) {
  std::string r;
  for (size_t t = 1; t < ds.types.size() && t <= 20; ++t) r += (r.empty() ? "" : ", ") + ds.types[t];
  if (ds.types.size() > 21) r += ", …";
  return r.empty() ? "none" : r;
}

}  // namespace

std::vector<std::string> default_goal_types(const Dataset& ds) {
  std::vector<std::string> out;
  for (size_t t = 1; t < ds.types.size(); ++t)
    for (const char* g : kGoalNames)
      if (lower(ds.types[t]) == g) out.push_back(ds.types[t]);
  return out;
}

Error set_goal_types(Dataset* ds, const std::vector<std::string>& names) {
  std::vector<bool> goal(ds->types.size(), false);
  for (const std::string& n : names) {
    auto it = std::find(ds->types.begin() + (ds->types.empty() ? 0 : 1), ds->types.end(), n);
    if (it == ds->types.end())
      return Error("--goal-type '" + n + "' is not an event type of the vocabulary (types: " + type_list(*ds) + ")" +
                   (ds->min_users > 1 ? "; a type done by fewer than --min-users (" + std::to_string(ds->min_users) +
                                            ") distinct users is withheld: the cleaning report counts them"
                                      : std::string()));
    goal[size_t(it - ds->types.begin())] = true;
  }
  ds->goal_types = names;
  if (ds->flags.size() != ds->events()) ds->flags.assign(ds->events(), 0);
  for (size_t q = 0; q < ds->sequences(); ++q) {
    bool follows = false;  // a goal event later in the current session
    for (uint64_t i = ds->offsets[q + 1]; i-- > ds->offsets[q];) {
      uint8_t& f = ds->flags[i];
      f = uint8_t(f & ~(kGoal | kConverts));
      if (f & kSessionEnd) follows = false;
      if (follows) f |= kConverts;
      if (goal[ds->type[i]]) {
        f |= kGoal;
        follows = true;
      }
    }
  }
  return {};
}

namespace {

// A session start's place in the split's order: by start time, sessions without a time after
// the timed ones by file line; ties (one line can hold several records) by the user's place in
// the log and the event's, as one process's stable sort of the sequences in order leaves them.
struct StartKey {
  double v[5];  // untimed (0/1), time (0 when untimed), line, user, event
  bool operator<(const StartKey& o) const { return std::lexicographical_compare(v, v + 5, o.v, o.v + 5); }
  bool operator==(const StartKey& o) const { return std::equal(v, v + 5, o.v); }
};

// The k-th largest (k >= 1) of every process's `keys` (each sorted ascending, all distinct), by
// rounds of a weighted median of the processes' medians (Floyd and Rivest's idea, distributed):
// each round drops a quarter or more of the keys still in play, and sends a key per process.
StartKey kth_largest(const std::vector<StartKey>& keys, uint64_t k, Collective& world) {
  size_t lo = 0, hi = keys.size();
  for (;;) {
    std::vector<double> mine(6, 0.0);
    if (hi > lo) {
      mine[0] = double(hi - lo);
      const StartKey& m = keys[lo + (hi - lo) / 2];
      std::copy(m.v, m.v + 5, mine.begin() + 1);
    }
    const std::vector<double> all = world.all_gather(mine);
    std::vector<std::pair<StartKey, double>> medians;
    for (size_t r = 0; r + 5 < all.size(); r += 6)
      if (all[r] > 0) {
        StartKey m;
        std::copy(all.begin() + ptrdiff_t(r) + 1, all.begin() + ptrdiff_t(r) + 6, m.v);
        medians.emplace_back(m, all[r]);
      }
    std::sort(medians.begin(), medians.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    double weight = 0, total = 0;
    for (const auto& m : medians) total += m.second;
    StartKey pivot = medians.back().first;  // in play somewhere while k <= the keys in play
    for (const auto& m : medians)
      if ((weight += m.second) * 2 >= total) {
        pivot = m.first;
        break;
      }
    const size_t above = size_t(std::upper_bound(keys.begin() + ptrdiff_t(lo), keys.begin() + ptrdiff_t(hi), pivot) - keys.begin());
    const size_t at = size_t(std::lower_bound(keys.begin() + ptrdiff_t(lo), keys.begin() + ptrdiff_t(hi), pivot) - keys.begin());
    double counts[2] = {double(hi - above), double(above - at)};  // greater than the pivot, equal to it
    world.sum(counts, 2);
    const uint64_t greater = uint64_t(counts[0]), equal = uint64_t(counts[1]);
    if (greater >= k) {
      lo = above;
    } else if (greater + equal >= k) {
      return pivot;
    } else {
      k -= greater + equal;
      hi = at;
    }
  }
}

}  // namespace

Error split_sessions(const Dataset& ds, double fraction, SessionSplit* out, Collective* sharded) {
  if (!(fraction > 0 && fraction < 0.5)) return Error("--test-fraction must be in (0, 0.5)");
  if (ds.flags.size() != ds.events()) return Error("session split: the dataset has no session flags");
  struct Start {
    StartKey key;
    uint64_t event;
    uint32_t seq;
  };
  std::vector<Start> starts;
  for (size_t q = 0; q < ds.sequences(); ++q)
    for (uint64_t i = ds.offsets[q]; i < ds.offsets[q + 1]; ++i)
      if (ds.flags[i] & kSessionStart) {
        const bool timed = std::isfinite(ds.time[i]);
        const double user = double(ds.sequence_user.empty() ? q : ds.sequence_user[q]);
        starts.push_back({{{timed ? 0.0 : 1.0, timed ? ds.time[i] : 0.0, double(ds.line.empty() ? i : ds.line[i]), user,
                            double(i)}},
                          i, uint32_t(q)});
      }
  std::sort(starts.begin(), starts.end(), [](const Start& a, const Start& b) { return a.key < b.key; });
  if (ds.sharded && !sharded) return Error("session split: a shard of the log without the run's collective: a bug");
  if (!ds.sharded) sharded = nullptr;  // the whole log: nothing to combine
  SessionSplit s;
  s.test_fraction = fraction;
  s.sessions = starts.size();
  if (sharded) {
    double all = double(s.sessions);
    sharded->sum(&all, 1);
    s.sessions = uint64_t(all);
  }
  const uint64_t held = uint64_t(std::floor(double(s.sessions) * fraction));
  s.test_sessions = held;
  s.valid_sessions = held;
  s.train_sessions = s.sessions - 2 * held;
  s.valid_begin.assign(ds.sequences(), 0);
  s.test_begin.assign(ds.sequences(), 0);
  for (size_t q = 0; q < ds.sequences(); ++q) s.valid_begin[q] = s.test_begin[q] = ds.offsets[q + 1];
  if (held > 0) {
    // The first test start and the first validation start, in the order of every session.
    StartKey first_test, first_valid;
    if (sharded) {
      std::vector<StartKey> keys(starts.size());
      for (size_t k = 0; k < starts.size(); ++k) keys[k] = starts[k].key;
      first_test = kth_largest(keys, held, *sharded);
      first_valid = kth_largest(keys, 2 * held, *sharded);
    } else {
      first_test = starts[starts.size() - held].key;
      first_valid = starts[starts.size() - 2 * held].key;
    }
    // A user's sessions are in time order, so the earliest held-out session of each user marks
    // where its split begins.
    for (const Start& st : starts) {
      if (!(st.key < first_test)) s.test_begin[st.seq] = std::min(s.test_begin[st.seq], st.event);
      if (!(st.key < first_valid)) s.valid_begin[st.seq] = std::min(s.valid_begin[st.seq], st.event);
    }
  }
  for (size_t q = 0; q < ds.sequences(); ++q) {
    // Sessions of equal start time can order a user's later session first: keep the split a
    // prefix per user by taking the earliest held-out start (done above) and counting events.
    s.train_events += s.valid_begin[q] - ds.offsets[q];
    s.valid_events += s.test_begin[q] - s.valid_begin[q];
    s.test_events += ds.offsets[q + 1] - s.test_begin[q];
  }
  if (sharded) {
    double events[3] = {double(s.train_events), double(s.valid_events), double(s.test_events)};
    sharded->sum(events, 3);
    s.train_events = uint64_t(events[0]), s.valid_events = uint64_t(events[1]), s.test_events = uint64_t(events[2]);
  }
  *out = std::move(s);
  return {};
}

std::vector<Sample> session_training_samples(const Dataset& ds, const SessionSplit& split, uint32_t max_len) {
  std::vector<Sample> out;
  max_len = std::max<uint32_t>(1, max_len);
  for (size_t q = 0; q < ds.sequences(); ++q) {
    const uint64_t o = ds.offsets[q], end = split.valid_begin[q];
    if (end <= o) continue;
    // Windows ending at the part's end, then max_len earlier, …: every event an input once.
    for (uint64_t e = end; e > o;) {
      const uint64_t b = e > o + max_len ? e - max_len : o;
      Sample s;
      s.first = o;
      s.begin = b;
      s.len = uint32_t(e - b);
      s.target_end = end;
      s.ends = true;
      s.id = out.size();
      out.push_back(s);
      e = b;
    }
  }
  return out;
}

SessionScoreFn model_session_scorer(const hunch::Model& model, const Dataset& ds, unsigned threads) {
  auto seqs = std::make_shared<std::vector<std::unique_ptr<hunch::Sequence>>>();
  for (unsigned t = 0; t < std::max(1u, threads); ++t) seqs->push_back(std::make_unique<hunch::Sequence>(model));
  const size_t V = model.hyper().vocab_size;
  return [seqs, &ds, V](unsigned thread, size_t q, const std::vector<uint32_t>& points, bool want_actions,
                        const PointVisit& visit) -> Error {
    if (thread >= seqs->size()) return Error("scorer: thread index beyond the scorer's thread count");
    if (ds.actions.size() != V) return Error("scorer: the data's vocabulary is not the model's");
    hunch::Sequence& sq = *(*seqs)[thread];
    sq.reset();
    const uint64_t o = ds.offsets[q];
    uint32_t pushed = 0;
    for (size_t k = 0; k < points.size(); ++k) {
      for (; pushed < points[k]; ++pushed) {
        hunch::Event e;
        core_event(ds, o + pushed, &e);
        if (Error err = sq.push(e)) return err;
      }
      PointScores ps;
      if (want_actions) ps.actions = sq.action_logits();
      ps.types = sq.type_probabilities().data();
      ps.exit = sq.exit_probability();
      ps.conversion = sq.conversion_probability();
      visit(k, ps);
    }
    return {};
  };
}

// ---- metrics ---------------------------------------------------------------------------------

namespace {

constexpr int64_t kMiss = -2;  // add_rank: any negative rank is a miss
constexpr int64_t kNoTarget = -1;
constexpr uint8_t kUnknownLabel = 2;  // a label the log cannot tell (kCensored)

const char* const kBucketLabels[] = {"1", "2", "3", "4-5", "6-10", "11+"};
constexpr size_t kBuckets = 6;
size_t bucket_of(uint32_t pos) {  // 1-based position in the session
  if (pos <= 3) return pos - 1;
  if (pos <= 5) return 3;
  if (pos <= 10) return 4;
  return 5;
}

// rank = candidates 1..V-1 other than t scoring >= t's (ties against the target).
int64_t rank_of(const float* s, size_t V, uint32_t t) {
  if (t == 0 || t >= V) return kMiss;
  const float st = s[t];
  if (std::isnan(st)) return kMiss;
  int64_t r = 0;
  for (size_t j = 1; j < V; ++j) r += s[j] >= st;
  return r - 1;  // t itself
}

double clip_p(double p) { return std::min(std::max(p, 1e-7), 1 - 1e-7); }

// AUC (Mann-Whitney, ties 1/2), log-loss, ECE and the reliability bins of (p, y) pairs.
BinaryMetrics binary_metrics(const std::vector<std::pair<float, uint8_t>>& pts) {
  BinaryMetrics m;
  std::vector<std::pair<float, uint8_t>> v;
  for (const auto& pt : pts)
    if (!std::isnan(pt.first)) v.push_back(pt);
  m.n = v.size();
  if (v.empty()) return m;
  double ll = 0;
  for (const auto& [p, y] : v) {
    m.positives += y;
    ll -= y ? std::log(clip_p(p)) : std::log(1 - clip_p(p));
    const int b = std::min(BinaryMetrics::kBins - 1, std::max(0, int(p * BinaryMetrics::kBins)));
    ++m.bin_n[b];
    m.bin_p[b] += p;
    m.bin_rate[b] += y;
  }
  m.logloss = ll / double(m.n);
  double ece = 0;
  for (int b = 0; b < BinaryMetrics::kBins; ++b) {
    if (!m.bin_n[b]) continue;
    m.bin_p[b] /= double(m.bin_n[b]);
    m.bin_rate[b] /= double(m.bin_n[b]);
    ece += double(m.bin_n[b]) / double(m.n) * std::fabs(m.bin_p[b] - m.bin_rate[b]);
  }
  m.ece = ece;
  std::vector<float> pos, neg;
  for (const auto& [p, y] : v) (y ? pos : neg).push_back(p);
  m.auc = mann_whitney_auc(pos, neg);
  return m;
}

// ---- baselines -------------------------------------------------------------------------------

// Logistic regression on one-hot hand features (sessions.h), fitted by Newton's method with a
// small L2 penalty.
class HandLogistic {
 public:
  HandLogistic(size_t T, size_t G) : T_(T), G_(G) { dim_ = 1 + 9 + T_ + G_ + 13 + 6; }

  // Active features of the point after event i of sequence q.
  void features(const Dataset& ds, size_t q, uint64_t i, uint32_t* f) const {
    const uint32_t pos = ds.session_position[i], sessions = ds.session_number[i];
    static const uint32_t pos_edges[] = {1, 2, 3, 4, 6, 9, 14, 24};
    size_t pb = 0;
    while (pb < 8 && pos > pos_edges[pb]) ++pb;
    const uint64_t events = i - ds.offsets[q] + 1;
    size_t eb = 0;
    while (eb < 12 && (uint64_t(1) << eb) < events) ++eb;
    size_t sb = sessions <= 3 ? sessions - 1 : sessions <= 5 ? 3 : sessions <= 9 ? 4 : 5;
    size_t o = 0;
    f[0] = 0;
    o = 1;
    f[1] = uint32_t(o + pb);
    o += 9;
    f[2] = uint32_t(o + std::min<size_t>(ds.type[i], T_ - 1));
    o += T_;
    f[3] = uint32_t(o + std::min<size_t>(ds.gap[i], G_ - 1));
    o += G_;
    f[4] = uint32_t(o + eb);
    o += 13;
    f[5] = uint32_t(o + sb);
  }
  static constexpr size_t kActive = 6;

  void fit(const std::vector<uint32_t>& feats, const std::vector<uint8_t>& y) {
    const size_t n = y.size();
    w_.assign(dim_, 0.0);
    uint64_t pos = 0;
    for (uint8_t v : y) pos += v;
    if (n == 0) return;
    const double rate = std::min(std::max(double(pos) / double(n), 1e-4), 1 - 1e-4);
    w_[0] = std::log(rate / (1 - rate));
    const double l2 = 1.0;
    for (int it = 0; it < 25; ++it) {
      Eigen::MatrixXd H = Eigen::MatrixXd::Identity(Eigen::Index(dim_), Eigen::Index(dim_)) * l2;
      Eigen::VectorXd g = l2 * Eigen::Map<Eigen::VectorXd>(w_.data(), Eigen::Index(dim_));
      for (size_t k = 0; k < n; ++k) {
        const uint32_t* f = &feats[k * kActive];
        double z = 0;
        for (size_t a = 0; a < kActive; ++a) z += w_[f[a]];
        const double p = 1 / (1 + std::exp(-z)), r = p - y[k], h = std::max(p * (1 - p), 1e-9);
        for (size_t a = 0; a < kActive; ++a) {
          g(f[a]) += r;
          for (size_t b = 0; b < kActive; ++b) H(f[a], f[b]) += h;
        }
      }
      Eigen::VectorXd step = H.ldlt().solve(g);
      double mx = 0;
      for (size_t d = 0; d < dim_; ++d) {
        w_[d] -= step(Eigen::Index(d));
        mx = std::max(mx, std::fabs(step(Eigen::Index(d))));
      }
      if (mx < 1e-6) break;
    }
  }
  float predict(const uint32_t* f) const {
    if (w_.empty()) return NAN;
    double z = 0;
    for (size_t a = 0; a < kActive; ++a) z += w_[f[a]];
    return float(1 / (1 + std::exp(-z)));
  }
  size_t dim() const { return dim_; }

 private:
  size_t T_, G_, dim_;
  std::vector<double> w_;
};

struct Baselines {
  size_t V = 0, T = 0;
  std::vector<float> pop;                       // action counts
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> trans;  // per source: (dest, count)
  float max_count = 0;
  std::vector<double> type_count;               // by type
  double typed_events = 0;                       // Σ type_count over types 1..T-1
  std::vector<std::vector<double>> type_trans;  // [from][to]
  uint32_t top_type = 0;
  HandLogistic exit_lr, conv_lr;
  Baselines(size_t T_, size_t G_) : exit_lr(T_, G_), conv_lr(T_, G_) {}
};

std::unique_ptr<Baselines> fit_baselines(const Dataset& ds, const SessionSplit& split, bool conversion) {
  const size_t V = ds.actions.size(), T = std::max<size_t>(1, ds.types.size());
  auto b = std::make_unique<Baselines>(T, ds.gap_edges.size() + 2);
  b->V = V;
  b->T = T;
  b->pop.assign(V, 0.f);
  b->type_count.assign(T, 0.0);
  b->type_trans.assign(T, std::vector<double>(T, 0.0));
  std::vector<std::unordered_map<uint32_t, uint32_t>> tr(V);
  std::vector<uint32_t> efeats, cfeats;
  std::vector<uint8_t> ey, cy;
  uint32_t f[HandLogistic::kActive];
  for (size_t q = 0; q < ds.sequences(); ++q) {
    const uint64_t o = ds.offsets[q], end = split.valid_begin[q];
    for (uint64_t i = o; i < end; ++i) {
      b->pop[ds.action[i]] += 1;
      b->type_count[ds.type[i]] += 1;
      const bool last = (ds.flags[i] & kSessionEnd) || i + 1 == end;
      if (!last) {
        ++tr[ds.action[i]][ds.action[i + 1]];
        b->type_trans[ds.type[i]][ds.type[i + 1]] += 1;
      }
      b->exit_lr.features(ds, q, i, f);
      const uint8_t fl = ds.flags[i];
      if (!((fl & kCensored) && (fl & kSessionEnd))) {
        efeats.insert(efeats.end(), f, f + HandLogistic::kActive);
        ey.push_back((fl & kSessionEnd) ? 1 : 0);
      }
      if (!(fl & kCensored) || (fl & kConverts)) {
        cfeats.insert(cfeats.end(), f, f + HandLogistic::kActive);
        cy.push_back((fl & kConverts) ? 1 : 0);
      }
    }
  }
  b->pop[0] = 0;
  b->max_count = *std::max_element(b->pop.begin(), b->pop.end());
  b->trans.resize(V);
  for (size_t a = 0; a < V; ++a) {
    b->trans[a].assign(tr[a].begin(), tr[a].end());
    std::sort(b->trans[a].begin(), b->trans[a].end());
  }
  b->typed_events = std::accumulate(b->type_count.begin() + 1, b->type_count.end(), 0.0);
  double best = -1;
  for (size_t t = 1; t < T; ++t)
    if (b->type_count[t] > best) best = b->type_count[t], b->top_type = uint32_t(t);
  b->exit_lr.fit(efeats, ey);
  if (conversion) b->conv_lr.fit(cfeats, cy);
  return b;
}

// Type metrics over (predicted, p(target), target) triples.
void type_metrics(const std::vector<uint32_t>& pred, const std::vector<float>& p_target,
                  const std::vector<int32_t>& target, size_t T, SessionMethod* m) {
  std::vector<double> tp(T, 0), fp(T, 0), fn(T, 0);
  uint64_t n = 0, right = 0;
  double ll = 0;
  for (size_t k = 0; k < target.size(); ++k) {
    if (target[k] <= 0) continue;
    const uint32_t t = uint32_t(target[k]), p = pred[k];
    ++n;
    if (p == t) {
      ++right;
      tp[t] += 1;
    } else {
      fn[t] += 1;
      if (p < T) fp[p] += 1;
    }
    ll -= std::log(clip_p(p_target[k]));
  }
  if (!n) return;
  double f1 = 0;
  int classes = 0;
  for (size_t t = 1; t < T; ++t) {
    if (tp[t] + fp[t] + fn[t] == 0) continue;
    ++classes;
    f1 += 2 * tp[t] / (2 * tp[t] + fp[t] + fn[t]);
  }
  m->type_accuracy = double(right) / double(n);
  m->type_macro_f1 = classes ? f1 / classes : NAN;
  m->type_logloss = ll / double(n);
}

struct Point {
  uint32_t seq;
  uint64_t event;        // the input's last event
  uint8_t  bucket;
  int32_t  action;       // target action, kNoTarget (-1) when the session ends here
  int32_t  type;         // target type, -1 when none
  uint8_t  exit, conv;
};

// Per-method outputs per point.
struct Outputs {
  std::vector<int64_t> rank;
  std::vector<uint32_t> type_pred;
  std::vector<float> type_p, exit, conv;
  void resize(size_t n) {
    rank.assign(n, kNoTarget);
    type_pred.assign(n, 0);
    type_p.assign(n, NAN);
    exit.assign(n, NAN);
    conv.assign(n, NAN);
  }
};

SessionMethod summarise(const std::string& name, const std::vector<Point>& pts, const Outputs& o, bool ranks,
                        bool types, bool binary, size_t T) {
  SessionMethod m;
  m.name = name;
  m.ranks = ranks;
  m.types = types;
  m.binary = binary;
  m.by_position.resize(kBuckets);
  for (size_t b = 0; b < kBuckets; ++b) m.by_position[b].label = kBucketLabels[b];
  std::vector<std::pair<float, uint8_t>> ex, cv;
  std::vector<std::vector<std::pair<float, uint8_t>>> bex(kBuckets), bcv(kBuckets);
  std::vector<int32_t> tt;
  for (size_t k = 0; k < pts.size(); ++k) {
    const Point& p = pts[k];
    PositionBucket& pb = m.by_position[p.bucket];
    ++pb.points;
    if (ranks && p.action != kNoTarget) {
      add_rank(&m.rank, o.rank[k]);
      add_rank(&pb.rank, o.rank[k]);
      m.unknown_targets += p.action == 0;
    }
    if (binary && p.exit != kUnknownLabel) {
      ex.emplace_back(o.exit[k], p.exit);
      bex[p.bucket].emplace_back(o.exit[k], p.exit);
    }
    if (binary && p.conv != kUnknownLabel) {
      cv.emplace_back(o.conv[k], p.conv);
      bcv[p.bucket].emplace_back(o.conv[k], p.conv);
    }
    tt.push_back(p.type);
  }
  finish_rank(&m.rank);
  for (auto& pb : m.by_position) finish_rank(&pb.rank);
  if (binary) {
    m.exit = binary_metrics(ex);
    m.conversion = binary_metrics(cv);
    for (size_t b = 0; b < kBuckets; ++b) {
      m.by_position[b].exit = binary_metrics(bex[b]);
      m.by_position[b].conversion = binary_metrics(bcv[b]);
    }
  }
  if (types) type_metrics(o.type_pred, o.type_p, tt, T, &m);
  return m;
}

}  // namespace

const SessionMethod* SessionSplitResult::find(const std::string& name) const {
  for (const auto& m : methods)
    if (m.name == name) return &m;
  return nullptr;
}

Error evaluate_sessions(const Dataset& ds, const SessionSplit& split, const SessionScoreFn& model,
                        const SessionEvalOptions& opt, SessionEvalResult* out) {
  *out = SessionEvalResult();
  out->split = split;
  out->goal_types = ds.goal_types;
  const size_t V = ds.actions.size(), T = std::max<size_t>(1, ds.types.size());
  const bool has_types = T > 1;
  const bool has_goal = !ds.goal_types.empty();
  for (size_t q = 0; q < ds.sequences(); ++q) out->users += ds.length(q) > 0;
  if (!has_types) out->unscored["types"] = "the log has no event types (no type column)";
  if (!has_goal)
    out->unscored["conversion"] =
        T > 1 ? "no goal type: none of purchase, buy, order, orders, transaction, checkout_complete, Order Completed "
                "among the event types (" + type_list(ds) + "); name one with --goal-type"
              : "the log has no event types, so no goal events (no type column)";
  if (ds.sharded && !opt.collective) return Error("evaluate: a shard of the log without the run's collective: a bug");
  const bool sharded = ds.sharded && opt.collective->size() > 1;
  if (sharded && (opt.baselines || opt.oracle_exit))
    return Error("evaluate: a sharded read has no baselines or oracle (they need every user's events): a bug");
  if (sharded) {
    double users = double(out->users);
    opt.collective->sum(&users, 1);
    out->users = uint64_t(users);
  }
  std::unique_ptr<Baselines> base;
  if (opt.baselines) base = fit_baselines(ds, split, has_goal);
  // Across processes: the rank each sequence's user belongs to (shards.h); this one scores its own.
  const SequenceOwners owners = sequence_owners(ds, UserParts{opt.collective, std::max(1u, opt.threads)}, sharded);
  const bool oracle = opt.oracle_exit && opt.oracle_exit->size() == ds.events();

  for (int which = 0; which < 2; ++which) {
    const bool valid = which == 0;
    if (valid ? !opt.valid : !opt.test) continue;
    SessionSplitResult& R = valid ? out->valid : out->test;
    (valid ? out->has_valid : out->has_test) = true;
    // Points, in sequence order.
    std::vector<Point> pts;
    std::vector<size_t> seq_first(ds.sequences() + 1, 0);
    for (size_t q = 0; q < ds.sequences(); ++q) {
      seq_first[q] = pts.size();
      const uint64_t b = valid ? split.valid_begin[q] : split.test_begin[q];
      const uint64_t e = valid ? split.test_begin[q] : ds.offsets[q + 1];
      for (uint64_t i = b; i < e; ++i) {
        Point p;
        p.seq = uint32_t(q);
        p.event = i;
        p.bucket = uint8_t(bucket_of(ds.session_position[i]));
        const bool end = (ds.flags[i] & kSessionEnd) || i + 1 == ds.offsets[q + 1];
        p.action = end ? kNoTarget : int32_t(ds.action[i + 1]);
        p.type = end || !has_types ? -1 : int32_t(ds.type[i + 1]);
        const uint8_t fl = ds.flags[i];
        const bool cut = (fl & kCensored) != 0;
        p.exit = cut && end ? kUnknownLabel : end ? 1 : 0;
        p.conv = (fl & kConverts) ? 1 : cut ? kUnknownLabel : 0;
        pts.push_back(p);
        R.points += 1;
        R.action_points += !end;
        R.type_points += p.type > 0;
        R.exit_positives += p.exit == 1;
        R.conversion_positives += p.conv == 1;
        R.censored += cut;
      }
    }
    seq_first[ds.sequences()] = pts.size();

    enum { MODEL, POP, MARKOV, REPEAT, LOGIT, ORACLE, METHODS };
    std::vector<Outputs> outs(METHODS);
    for (auto& o : outs) o.resize(pts.size());
    std::atomic<size_t> next{0};
    std::vector<Error> errors(std::max(1u, opt.threads));
    auto work = [&](unsigned thread) {
      std::vector<float> buf(V);
      std::vector<uint32_t> points;
      std::unordered_map<uint32_t, uint64_t> last_seen;  // repeat baseline: action → last event
      uint32_t f[HandLogistic::kActive];
      for (size_t q; (q = next.fetch_add(1)) < ds.sequences();) {
        const size_t p0 = seq_first[q], p1 = seq_first[q + 1];
        if (p0 == p1 || !owners.mine(q)) continue;
        const uint64_t o = ds.offsets[q];
        if (model) {
          points.clear();
          for (size_t k = p0; k < p1; ++k) points.push_back(uint32_t(pts[k].event - o + 1));
          Outputs& mo = outs[MODEL];
          Error e = model(thread, q, points, opt.actions, [&](size_t k, const PointScores& s) {
            const size_t i = p0 + k;
            const Point& p = pts[i];
            if (opt.actions && p.action != kNoTarget && s.actions) mo.rank[i] = rank_of(s.actions, V, uint32_t(p.action));
            if (has_types && s.types) {
              uint32_t best = 1;
              for (uint32_t t = 2; t < T; ++t)
                if (s.types[t] > s.types[best]) best = t;
              mo.type_pred[i] = best;
              if (p.type > 0) mo.type_p[i] = s.types[p.type];
            }
            mo.exit[i] = s.exit;
            mo.conv[i] = has_goal ? s.conversion : NAN;
          });
          if (e) {
            errors[thread] = e;
            return;
          }
        }
        if (!base) continue;
        last_seen.clear();
        uint64_t i = o;
        for (size_t k = p0; k < p1; ++k) {
          const Point& p = pts[k];
          for (; i <= p.event; ++i) last_seen[ds.action[i]] = i;
          const uint32_t a = ds.action[p.event], ta = ds.type[p.event];
          if (opt.actions && p.action != kNoTarget) {
            outs[POP].rank[k] = rank_of(base->pop.data(), V, uint32_t(p.action));
            std::copy(base->pop.begin(), base->pop.end(), buf.begin());
            for (const auto& [d, c] : base->trans[a]) buf[d] += float(c) * (base->max_count + 1);
            outs[MARKOV].rank[k] = rank_of(buf.data(), V, uint32_t(p.action));
            std::copy(base->pop.begin(), base->pop.end(), buf.begin());
            // Seen actions above every unseen one, the most recent highest.
            const float big = (base->max_count + 1) * 2;
            for (const auto& [act, at] : last_seen) buf[act] = big + float(at - o);
            outs[REPEAT].rank[k] = rank_of(buf.data(), V, uint32_t(p.action));
          }
          if (has_types) {
            const double n = base->typed_events;
            outs[POP].type_pred[k] = base->top_type;
            if (p.type > 0) outs[POP].type_p[k] = float((base->type_count[p.type] + 1) / (n + double(T - 1)));
            const auto& row = base->type_trans[ta];
            const double rn = std::accumulate(row.begin() + 1, row.end(), 0.0);
            uint32_t best = base->top_type;
            for (uint32_t t = 1; t < T; ++t)
              if (row[t] > row[best]) best = t;
            outs[MARKOV].type_pred[k] = best;
            if (p.type > 0) {
              const double prior = (base->type_count[p.type] + 1) / (n + double(T - 1));
              outs[MARKOV].type_p[k] = float((row[p.type] + prior) / (rn + 1));
            }
          }
          base->exit_lr.features(ds, q, p.event, f);
          outs[LOGIT].exit[k] = base->exit_lr.predict(f);
          outs[LOGIT].conv[k] = has_goal ? base->conv_lr.predict(f) : NAN;
        }
      }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < std::max(1u, opt.threads); ++t) pool.emplace_back(work, t);
    work(0);
    for (auto& th : pool) th.join();
    Error failed;
    for (const Error& e : errors)
      if (e && !failed) failed = e;
    if (owners.world->any(!failed.ok()))
      return failed ? failed : Error("evaluate: another MPI rank failed (its own message says why)");
    // Each point's outputs as its sequence's owner found them, for the methods computed.
    std::vector<int> used;
    if (model) used.push_back(MODEL);
    if (base) used.insert(used.end(), {POP, MARKOV, REPEAT, LOGIT});
    if (sharded) {
      // Every process's points with the model's outputs, in rank order (one process's are in
      // sequence order: the same points, summed in another order), and its split's counters.
      constexpr size_t kPer = 10;
      const std::vector<double> all = owners.gather_all(
          [&](size_t q, std::vector<double>* own) {
            for (size_t k = seq_first[q]; k < seq_first[q + 1]; ++k) {
              const Point& p = pts[k];
              const Outputs& o = outs[MODEL];
              own->insert(own->end(), {double(p.bucket), double(p.action), double(p.type), double(p.exit), double(p.conv),
                                       double(o.rank[k]), double(o.type_pred[k]), double(o.type_p[k]),
                                       double(o.exit[k]), double(o.conv[k])});
            }
          },
          model ? ds.sequences() : 0);
      double counters[6] = {double(R.points), double(R.action_points), double(R.type_points),
                            double(R.exit_positives), double(R.conversion_positives), double(R.censored)};
      opt.collective->sum(counters, 6);
      R.points = uint64_t(counters[0]), R.action_points = uint64_t(counters[1]), R.type_points = uint64_t(counters[2]);
      R.exit_positives = uint64_t(counters[3]), R.conversion_positives = uint64_t(counters[4]);
      R.censored = uint64_t(counters[5]);
      if (all.size() % kPer) return Error("evaluate: the MPI ranks' points do not add up (a bug)");
      pts.assign(all.size() / kPer, Point{});
      outs[MODEL].resize(pts.size());
      for (size_t k = 0; k < pts.size(); ++k) {
        const double* v = all.data() + k * kPer;
        Point& p = pts[k];
        p.bucket = uint8_t(v[0]), p.action = int32_t(v[1]), p.type = int32_t(v[2]);
        p.exit = uint8_t(v[3]), p.conv = uint8_t(v[4]);
        Outputs& o = outs[MODEL];
        o.rank[k] = int64_t(v[5]), o.type_pred[k] = uint32_t(v[6]);
        o.type_p[k] = float(v[7]), o.exit[k] = float(v[8]), o.conv[k] = float(v[9]);
      }
      if (model) R.methods.push_back(summarise("model", pts, outs[MODEL], opt.actions, has_types, true, T));
      continue;
    }
    const Error shared = owners.gather(
        [&](size_t q, std::vector<double>* own) {
          for (size_t k = seq_first[q]; k < seq_first[q + 1]; ++k)
            for (int m : used) {
              const Outputs& o = outs[size_t(m)];
              own->insert(own->end(), {double(o.rank[k]), double(o.type_pred[k]), double(o.type_p[k]),
                                       double(o.exit[k]), double(o.conv[k])});
            }
        },
        [&](size_t q, const double* v, size_t left) -> size_t {
          const size_t n = 5 * used.size() * (seq_first[q + 1] - seq_first[q]);
          if (n > left) return SIZE_MAX;
          for (size_t k = seq_first[q]; k < seq_first[q + 1]; ++k)
            for (int m : used) {
              Outputs& o = outs[size_t(m)];
              o.rank[k] = int64_t(v[0]);
              o.type_pred[k] = uint32_t(v[1]);
              o.type_p[k] = float(v[2]), o.exit[k] = float(v[3]), o.conv[k] = float(v[4]);
              v += 5;
            }
          return n;
        });
    if (shared) return Error("evaluate: " + shared.message);
    if (oracle)
      for (size_t k = 0; k < pts.size(); ++k) {
        outs[ORACLE].exit[k] = (*opt.oracle_exit)[pts[k].event];
        outs[ORACLE].conv[k] = opt.oracle_conversion ? (*opt.oracle_conversion)[pts[k].event] : NAN;
      }
    if (model) R.methods.push_back(summarise("model", pts, outs[MODEL], opt.actions, has_types, true, T));
    if (base) {
      R.methods.push_back(summarise("popularity", pts, outs[POP], opt.actions, has_types, false, T));
      R.methods.push_back(summarise("markov", pts, outs[MARKOV], opt.actions, has_types, false, T));
      R.methods.push_back(summarise("repeat", pts, outs[REPEAT], opt.actions, false, false, T));
      R.methods.push_back(summarise("logistic", pts, outs[LOGIT], false, false, true, T));
    }
    if (oracle) R.methods.push_back(summarise("oracle", pts, outs[ORACLE], false, false, true, T));
    if (model && base && opt.actions) {
      int best = POP;
      for (int m : {MARKOV, REPEAT})
        if (R.methods[size_t(m)].rank.ndcg_at(10) > R.methods[size_t(best)].rank.ndcg_at(10)) best = m;
      R.best_baseline = R.methods[size_t(best)].name;
      UnitScores u;
      for (size_t q = 0; q < ds.sequences(); ++q) {
        const size_t unit = u.points.size();  // this user's, opened by their first ranked point
        for (size_t k = seq_first[q]; k < seq_first[q + 1]; ++k)
          if (pts[k].action != kNoTarget) u.add_ranks(unit, outs[MODEL].rank[k], outs[size_t(best)].rank[k]);
      }
      R.vs_best = paired_bootstrap(u);
    }
  }
  const SessionSplitResult& R = out->has_test ? out->test : out->valid;
  // A head is scored when its known labels have both classes (any binary method has the counts).
  const SessionMethod* any = nullptr;
  for (const auto& m : R.methods)
    if (m.binary) any = &m;
  for (int head = 0; head < 2 && any && R.points; ++head) {
    const char* name = head == 0 ? "exit" : "conversion";
    if (out->unscored.count(name)) continue;
    const BinaryMetrics& b = head == 0 ? any->exit : any->conversion;
    if (b.n == 0)
      out->unscored[name] = "every held-out session ends within --session-gap of the log's end: the log may cut "
                            "them, so how they end is unknown";
    else if (b.positives == 0)
      out->unscored[name] = head == 0 ? "no held-out session ends inside the log"
                                      : "no goal event (" + ds.goal_types[0] + ") in the held-out sessions";
    else if (b.positives == b.n)
      out->unscored[name] = head == 0 ? "every held-out session has a single event: no point is followed by one"
                                      : "every scored point is followed by a conversion: nothing to tell apart";
  }
  if (!R.points) out->unscored["all"] = "no held-out session (too few sessions for --test-fraction)";
  return {};
}

// ---- calibration -----------------------------------------------------------------------------

Error collect_calibration(const Dataset& ds, const SessionSplit& split, const SessionScoreFn& scorer,
                          bool valid_split, unsigned threads, size_t T, CalibrationData* out, Collective* collective) {
  *out = CalibrationData();
  std::vector<CalibrationData> parts(ds.sequences());
  std::atomic<size_t> next{0};
  std::vector<Error> errors(std::max(1u, threads));
  if (ds.sharded && !collective) return Error("calibration: a shard of the log without the run's collective: a bug");
  const bool sharded = ds.sharded && collective->size() > 1;
  const SequenceOwners owners = sequence_owners(ds, UserParts{collective, std::max(1u, threads)}, sharded);
  auto work = [&](unsigned thread) {
    std::vector<uint32_t> points;
    std::vector<uint64_t> events;
    for (size_t q; (q = next.fetch_add(1)) < ds.sequences();) {
      if (!owners.mine(q)) continue;
      const uint64_t o = ds.offsets[q];
      const uint64_t b = valid_split ? split.valid_begin[q] : split.test_begin[q];
      const uint64_t e = valid_split ? split.test_begin[q] : ds.offsets[q + 1];
      if (b >= e) continue;
      points.clear();
      events.clear();
      for (uint64_t i = b; i < e; ++i) {
        points.push_back(uint32_t(i - o + 1));
        events.push_back(i);
      }
      CalibrationData& c = parts[q];
      Error err = scorer(thread, q, points, false, [&](size_t k, const PointScores& s) {
        const uint64_t i = events[k];
        const bool end = (ds.flags[i] & kSessionEnd) || i + 1 == ds.offsets[q + 1];
        const bool cut = (ds.flags[i] & kCensored) != 0;
        if (!(cut && end)) {
          c.exit_logit.push_back(s.exit_logit);
          c.exit_label.push_back(end);
        }
        if (!cut || (ds.flags[i] & kConverts)) {
          c.conversion_logit.push_back(s.conversion_logit);
          c.conversion_label.push_back((ds.flags[i] & kConverts) ? 1 : 0);
        }
        if (!end && s.type_logits && T > 1 && ds.type[i + 1] > 0) {
          c.type_logits.insert(c.type_logits.end(), s.type_logits, s.type_logits + T);
          c.type_target.push_back(ds.type[i + 1]);
        }
      });
      if (err) {
        errors[thread] = err;
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < std::max(1u, threads); ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
  Error failed;
  for (const Error& e : errors)
    if (e && !failed) failed = e;
  if (owners.world->any(!failed.ok()))
    return failed ? failed : Error("calibration: another MPI rank failed (its own message says why)");
  // Each sequence's points from its owner: its 3 lengths, then the values.
  auto pack = [&](size_t q, std::vector<double>* own) {
    const CalibrationData& c = parts[q];
    own->insert(own->end(), {double(c.exit_logit.size()), double(c.conversion_logit.size()), double(c.type_target.size())});
    own->insert(own->end(), c.exit_logit.begin(), c.exit_logit.end());
    own->insert(own->end(), c.exit_label.begin(), c.exit_label.end());
    own->insert(own->end(), c.conversion_logit.begin(), c.conversion_logit.end());
    own->insert(own->end(), c.conversion_label.begin(), c.conversion_label.end());
    own->insert(own->end(), c.type_logits.begin(), c.type_logits.end());
    own->insert(own->end(), c.type_target.begin(), c.type_target.end());
  };
  auto unpack = [&](CalibrationData& c, const double* v, size_t left) -> size_t {
    if (left < 3) return SIZE_MAX;
    const size_t ne = size_t(v[0]), nc = size_t(v[1]), nt = size_t(v[2]);
    const size_t n = 3 + 2 * ne + 2 * nc + nt * (T + 1);
    if (n > left) return SIZE_MAX;
    v += 3;
    c.exit_logit.assign(v, v + ne), v += ne;
    c.exit_label.assign(v, v + ne), v += ne;
    c.conversion_logit.assign(v, v + nc), v += nc;
    c.conversion_label.assign(v, v + nc), v += nc;
    c.type_logits.assign(v, v + nt * T), v += nt * T;
    c.type_target.assign(v, v + nt);
    return n;
  };
  if (sharded) {  // every process's sequences, in rank order
    const std::vector<double> all = owners.gather_all(pack, ds.sequences());
    parts.clear();
    for (size_t at = 0; at < all.size();) {
      parts.emplace_back();
      const size_t n = unpack(parts.back(), all.data() + at, all.size() - at);
      if (n > all.size() - at) return Error("calibration: the MPI ranks' points do not add up (a bug)");
      at += n;
    }
  } else if (const Error shared = owners.gather(pack, [&](size_t q, const double* v, size_t left) {
               return unpack(parts[q], v, left);
             })) {
    return Error("calibration: " + shared.message);
  }
  for (const auto& c : parts) {
    out->exit_logit.insert(out->exit_logit.end(), c.exit_logit.begin(), c.exit_logit.end());
    out->exit_label.insert(out->exit_label.end(), c.exit_label.begin(), c.exit_label.end());
    out->conversion_logit.insert(out->conversion_logit.end(), c.conversion_logit.begin(), c.conversion_logit.end());
    out->conversion_label.insert(out->conversion_label.end(), c.conversion_label.begin(), c.conversion_label.end());
    out->type_logits.insert(out->type_logits.end(), c.type_logits.begin(), c.type_logits.end());
    out->type_target.insert(out->type_target.end(), c.type_target.begin(), c.type_target.end());
  }
  return {};
}

void fit_platt(const std::vector<float>& logit, const std::vector<uint8_t>& label, float* a_out, float* b_out) {
  *a_out = 1;
  *b_out = 0;
  uint64_t pos = 0, n = 0;
  for (size_t k = 0; k < logit.size(); ++k)
    if (std::isfinite(logit[k])) {
      ++n;
      pos += label[k];
    }
  if (!pos || pos == n) return;
  const double reg = 1e-3 * double(n);  // towards (1, 0): a validation split can be small
  auto loss = [&](double a, double b) {
    double l = 0.5 * reg * ((a - 1) * (a - 1) + b * b);
    for (size_t k = 0; k < logit.size(); ++k) {
      if (!std::isfinite(logit[k])) continue;
      const double z = a * logit[k] + b;
      l += std::max(z, 0.0) - z * label[k] + std::log1p(std::exp(-std::fabs(z)));
    }
    return l;
  };
  // Damped Newton: a step that does not lower the loss is halved (the raw logits of a head
  // trained for another balance can sit far out on the sigmoid, where plain Newton overshoots).
  double a = 1, b = 0, f = loss(a, b);
  for (int it = 0; it < 100; ++it) {
    double ga = reg * (a - 1), gb = reg * b, haa = reg, hab = 0, hbb = reg;
    for (size_t k = 0; k < logit.size(); ++k) {
      if (!std::isfinite(logit[k])) continue;
      const double x = logit[k], p = 1 / (1 + std::exp(-(a * x + b))), r = p - label[k];
      const double h = std::max(p * (1 - p), 1e-12);
      ga += r * x;
      gb += r;
      haa += h * x * x;
      hab += h * x;
      hbb += h;
    }
    const double det = haa * hbb - hab * hab;
    double da = det > 0 ? (hbb * ga - hab * gb) / det : ga / haa;
    double db = det > 0 ? (haa * gb - hab * ga) / det : gb / hbb;
    double step = 1, fn = f;
    for (int half = 0; half < 30; ++half, step *= 0.5) {
      fn = loss(a - step * da, b - step * db);
      if (fn <= f) break;
    }
    if (!(fn <= f)) break;
    a -= step * da;
    b -= step * db;
    const bool done = f - fn < 1e-9 * std::max(1.0, f);
    f = fn;
    if (done) break;
  }
  if (std::isfinite(a) && std::isfinite(b) && a > 0 && a <= 1000 && std::fabs(b) <= 1000) {
    *a_out = float(a);
    *b_out = float(b);
  }
}

float fit_temperature(const std::vector<float>& logits, const std::vector<uint32_t>& target, size_t T) {
  if (target.empty() || T < 2) return 1;
  auto loss = [&](double t) {
    double l = 0;
    for (size_t k = 0; k < target.size(); ++k) {
      const float* z = &logits[k * T];
      double mx = -1e300;
      for (size_t j = 0; j < T; ++j) mx = std::max(mx, double(z[j]) / t);
      double s = 0;
      for (size_t j = 0; j < T; ++j) s += std::exp(double(z[j]) / t - mx);
      l += mx + std::log(s) - double(z[target[k]]) / t;
    }
    return l;
  };
  // Golden-section search on log t.
  double lo = std::log(0.25), hi = std::log(8.0);
  const double g = (std::sqrt(5.0) - 1) / 2;
  double x1 = hi - g * (hi - lo), x2 = lo + g * (hi - lo);
  double f1 = loss(std::exp(x1)), f2 = loss(std::exp(x2));
  for (int it = 0; it < 40; ++it) {
    if (f1 < f2) {
      hi = x2;
      x2 = x1;
      f2 = f1;
      x1 = hi - g * (hi - lo);
      f1 = loss(std::exp(x1));
    } else {
      lo = x1;
      x1 = x2;
      f1 = f2;
      x2 = lo + g * (hi - lo);
      f2 = loss(std::exp(x2));
    }
  }
  const double t = std::exp((lo + hi) / 2);
  return loss(t) < loss(1.0) ? float(t) : 1.0f;
}

// ---- oracle ----------------------------------------------------------------------------------

Error load_oracle(const std::string& path, const Dataset& ds, std::vector<float>* exit, std::vector<float>* conv) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return Error(path + ": cannot open the truth file");
  // Data record r of a one-record-per-line file with a header is on line r + 2.
  std::unordered_map<uint64_t, uint64_t> event_of_line;
  for (uint64_t i = 0; i < ds.line.size(); ++i) event_of_line[ds.line[i]] = i;
  exit->assign(ds.events(), NAN);
  conv->assign(ds.events(), NAN);
  char buf[256];
  uint64_t line = 0;
  Error err;
  while (gzgets(f, buf, sizeof buf)) {
    ++line;
    if (line == 1) {
      if (std::string(buf).rfind("row,p_exit,p_conversion", 0) != 0) {
        err = Error(path + ":1: expected the header 'row,p_exit,p_conversion'");
        break;
      }
      continue;
    }
    unsigned long long row = 0;
    double pe = 0, pc = 0;
    if (std::sscanf(buf, "%llu,%lf,%lf", &row, &pe, &pc) != 3 || !(pe >= 0 && pe <= 1) || !(pc >= 0 && pc <= 1)) {
      err = Error(path + ":" + std::to_string(line) + ": expected 'row,p_exit,p_conversion' with probabilities in [0, 1]");
      break;
    }
    auto it = event_of_line.find(uint64_t(row) + 2);
    if (it == event_of_line.end()) continue;  // an event ingestion dropped
    (*exit)[it->second] = float(pe);
    (*conv)[it->second] = float(pc);
  }
  gzclose(f);
  return err;
}

// ---- printing --------------------------------------------------------------------------------

namespace {

std::string num(double v, int prec = 4) { return metric_text(v, prec); }
std::string jnum(double v) { return json_number(v); }
std::string jstr(const std::string& s) { return hunch::json_string(s); }

std::string binary_json(const BinaryMetrics& m) {
  std::string r = "{\"n\": " + std::to_string(m.n) + ", \"positives\": " + std::to_string(m.positives) +
                  ", \"AUC\": " + jnum(m.auc) + ", \"log_loss\": " + jnum(m.logloss) + ", \"ECE\": " + jnum(m.ece) +
                  ", \"reliability\": [";
  bool first = true;
  for (int b = 0; b < BinaryMetrics::kBins; ++b) {
    if (!m.bin_n[b]) continue;
    r += std::string(first ? "" : ", ") + "{\"bin\": " + std::to_string(b) + ", \"n\": " + std::to_string(m.bin_n[b]) +
         ", \"mean_p\": " + jnum(m.bin_p[b]) + ", \"rate\": " + jnum(m.bin_rate[b]) + "}";
    first = false;
  }
  return r + "]}";
}

std::string rank_json(const RankMetrics& m) {
  std::string r;
  for (size_t i = 0; i < kNumCutoffs; ++i) {
    r += "\"HR@" + std::to_string(kCutoffs[i]) + "\": " + jnum(m.users ? m.hr[i] : NAN) + ", ";
    r += "\"NDCG@" + std::to_string(kCutoffs[i]) + "\": " + jnum(m.users ? m.ndcg[i] : NAN) + ", ";
  }
  return r + "\"MRR\": " + jnum(m.users ? m.mrr : NAN) + ", \"points\": " + std::to_string(m.users);
}

std::string split_json(const SessionSplitResult& R) {
  std::string r = "{\"points\": " + std::to_string(R.points) + ", \"action_points\": " + std::to_string(R.action_points) +
                  ", \"type_points\": " + std::to_string(R.type_points) +
                  ", \"exit_positives\": " + std::to_string(R.exit_positives) +
                  ", \"conversion_positives\": " + std::to_string(R.conversion_positives);
  if (!R.best_baseline.empty()) r += ", \"model_vs_best\": " + interval_json(R.best_baseline, R.vs_best);
  r += ", \"methods\": {";
  for (size_t k = 0; k < R.methods.size(); ++k) {
    const SessionMethod& m = R.methods[k];
    r += (k ? ", " : "") + jstr(m.name) + ": {";
    std::string body;
    if (m.ranks) body += rank_json(m.rank) + ", \"unknown_targets\": " + std::to_string(m.unknown_targets);
    if (m.types)
      body += std::string(body.empty() ? "" : ", ") + "\"type_accuracy\": " + jnum(m.type_accuracy) +
              ", \"type_macro_f1\": " + jnum(m.type_macro_f1) + ", \"type_log_loss\": " + jnum(m.type_logloss);
    if (m.binary)
      body += std::string(body.empty() ? "" : ", ") + "\"exit\": " + binary_json(m.exit) +
              ", \"conversion\": " + binary_json(m.conversion);
    body += std::string(body.empty() ? "" : ", ") + "\"by_position\": [";
    for (size_t b = 0; b < m.by_position.size(); ++b) {
      const PositionBucket& pb = m.by_position[b];
      body += std::string(b ? ", " : "") + "{\"position\": " + jstr(pb.label) + ", \"points\": " + std::to_string(pb.points);
      if (m.ranks) body += ", \"NDCG@10\": " + jnum(pb.rank.users ? pb.rank.ndcg_at(10) : NAN) +
                           ", \"HR@10\": " + jnum(pb.rank.users ? pb.rank.hr_at(10) : NAN);
      if (m.binary) body += ", \"exit_AUC\": " + jnum(pb.exit.auc) + ", \"conversion_AUC\": " + jnum(pb.conversion.auc);
      body += "}";
    }
    r += body + "]}";
  }
  return r + "}}";
}

}  // namespace

std::string session_results_json(const SessionEvalResult& r) {
  const SessionSplit& s = r.split;
  std::string j = "{\"protocol\": \"sessions\", \"users\": " + std::to_string(r.users) +
                  ", \"sessions\": {\"total\": " + std::to_string(s.sessions) +
                  ", \"train\": " + std::to_string(s.train_sessions) + ", \"valid\": " + std::to_string(s.valid_sessions) +
                  ", \"test\": " + std::to_string(s.test_sessions) + ", \"test_fraction\": " + jnum(s.test_fraction) +
                  "}, \"goal_types\": [";
  for (size_t k = 0; k < r.goal_types.size(); ++k) j += (k ? ", " : "") + jstr(r.goal_types[k]);
  j += "], \"unscored\": {";
  bool first = true;
  for (const auto& [k, v] : r.unscored) {
    j += std::string(first ? "" : ", ") + jstr(k) + ": " + jstr(v);
    first = false;
  }
  j += "}";
  if (r.has_test) j += ", \"test\": " + split_json(r.test);
  if (r.has_valid) j += ", \"valid\": " + split_json(r.valid);
  return j + "}";
}

std::string session_results_table(const SessionEvalResult& r) {
  const SessionSplit& s = r.split;
  std::string t;
  char b[512];
  std::snprintf(b, sizeof b,
                "session protocol: %llu users, %llu sessions (train %llu, validation %llu, test %llu: the last %.0f%% "
                "by start time)\n",
                (unsigned long long)r.users, (unsigned long long)s.sessions, (unsigned long long)s.train_sessions,
                (unsigned long long)s.valid_sessions, (unsigned long long)s.test_sessions, s.test_fraction * 100);
  t += b;
  if (!r.has_test && !r.has_valid) return t;
  const SessionSplitResult& R = r.has_test ? r.test : r.valid;
  std::snprintf(b, sizeof b,
                "%s: %llu prediction points (%llu with a next action, %llu exits, %llu followed by a conversion%s%s)\n\n",
                r.has_test ? "test" : "validation", (unsigned long long)R.points, (unsigned long long)R.action_points,
                (unsigned long long)R.exit_positives, (unsigned long long)R.conversion_positives,
                r.goal_types.empty() ? "" : ": goal ", r.goal_types.empty() ? "" : r.goal_types[0].c_str());
  t += b;
  t += "next action         HR@10    NDCG@10  MRR\n";
  for (const auto& m : R.methods)
    if (m.ranks) {
      std::snprintf(b, sizeof b, "  %-16s  %-7s  %-7s  %s\n", m.name.c_str(), num(m.rank.hr_at(10)).c_str(),
                    num(m.rank.ndcg_at(10)).c_str(), num(m.rank.mrr).c_str());
      t += b;
    }
  if (!R.best_baseline.empty()) {
    t += "  NDCG@10 model / the best baseline (" + R.best_baseline + "): " + num(R.vs_best.ratio, 2) + "\n";
    // A log whose user column holds session ids (YOOCHOOSE) has one session per "user": the
    // resampled units are then sessions, and the text says so.
    t += interval_text(R.vs_best, R.best_baseline, r.users == s.sessions ? "user ids (one session each)" : "users");
  }
  if (!r.unscored.count("types")) {
    t += "next type           accuracy macro-F1 log-loss\n";
    for (const auto& m : R.methods)
      if (m.types) {
        std::snprintf(b, sizeof b, "  %-16s  %-7s  %-7s  %s\n", m.name.c_str(), num(m.type_accuracy).c_str(),
                      num(m.type_macro_f1).c_str(), num(m.type_logloss).c_str());
        t += b;
      }
  }
  for (int head = 0; head < 2; ++head) {
    const char* name = head == 0 ? "exit" : "conversion";
    if (r.unscored.count(name)) continue;
    std::snprintf(b, sizeof b, "%-19s AUC      log-loss ECE\n", name);
    t += b;
    for (const auto& m : R.methods)
      if (m.binary) {
        const BinaryMetrics& x = head == 0 ? m.exit : m.conversion;
        if (!x.n) continue;
        std::snprintf(b, sizeof b, "  %-16s  %-7s  %-7s  %s\n", m.name.c_str(), num(x.auc).c_str(),
                      num(x.logloss).c_str(), num(x.ece).c_str());
        t += b;
      }
  }
  // By position in the session: the model beside the best baseline of each kind.
  const SessionMethod* model = R.find("model");
  const SessionMethod* lr = R.find("logistic");
  if (model) {
    t += "by position in session   points   NDCG@10 model/markov/repeat    exit AUC model/logistic\n";
    const SessionMethod* mk = R.find("markov");
    const SessionMethod* rp = R.find("repeat");
    for (size_t k = 0; k < model->by_position.size(); ++k) {
      const PositionBucket& p = model->by_position[k];
      auto nd = [&](const SessionMethod* m) {
        return m && m->ranks && m->by_position[k].rank.users ? num(m->by_position[k].rank.ndcg_at(10), 3) : std::string("-");
      };
      std::snprintf(b, sizeof b, "  %-22s  %-7llu  %s / %s / %s            %s / %s\n", p.label.c_str(),
                    (unsigned long long)p.points, nd(model).c_str(), nd(mk).c_str(), nd(rp).c_str(),
                    num(p.exit.auc, 3).c_str(), lr ? num(lr->by_position[k].exit.auc, 3).c_str() : "-");
      t += b;
    }
  }
  for (const auto& [k, v] : r.unscored) t += "not scored: " + k + ": " + v + "\n";
  return t;
}

}  // namespace hunch::train
