// Evaluation (eval.h): ranking, metrics, baselines, the model scorer and the printed results.
#include "train/eval.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "hunch/model.h"
#include "hunch/sequence.h"
#include "train/privacy.h"
#include "train/shards.h"

namespace hunch::train {

static int cutoff_index(int k) {
  for (size_t i = 0; i < kNumCutoffs; ++i)
    if (kCutoffs[i] == k) return int(i);
  return -1;
}
double RankMetrics::hr_at(int k) const {
  int i = cutoff_index(k);
  return i < 0 ? NAN : hr[i];
}
double RankMetrics::ndcg_at(int k) const {
  int i = cutoff_index(k);
  return i < 0 ? NAN : ndcg[i];
}

const MethodResult* EvalResult::find(const std::string& name) const {
  for (const auto& m : methods)
    if (m.name == name) return &m;
  return nullptr;
}

// ---- negatives -----------------------------------------------------------------------------

Error load_negatives(const std::string& path, const Dataset& ds, size_t count, Negatives* out) {
  *out = Negatives();
  out->count = count;
  size_t S = ds.sequences();
  out->valid.assign(S, {});
  out->test.assign(S, {});
  std::ifstream in(path);
  if (!in) return Error(path + ": cannot open");
  std::unordered_map<std::string, size_t> seq_of;
  for (size_t s = 0; s < S; ++s) seq_of.emplace(ds.sequence_key[s], s);
  std::unordered_map<std::string, uint32_t> id_of;
  for (uint32_t i = 1; i < ds.actions.size(); ++i) id_of.emplace(ds.actions[i], i);

  std::string line, split, user, item;
  uint64_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::istringstream f(line);
    if (!(f >> split)) continue;  // blank line
    auto where = [&] { return path + ":" + std::to_string(lineno) + ": "; };
    if (split != "valid" && split != "test")
      return Error(where() + "expected 'valid' or 'test' first, got '" + split + "'");
    if (!(f >> user)) return Error(where() + "missing the user");
    auto it = seq_of.find(user);
    if (it == seq_of.end()) { ++out->unknown_users; continue; }
    std::vector<uint32_t>& dst = (split == "valid" ? out->valid : out->test)[it->second];
    if (!dst.empty()) return Error(where() + "second '" + split + "' line for user " + user);
    while (dst.size() < count && (f >> item)) {
      auto id = id_of.find(item);
      if (id == id_of.end()) ++out->out_of_vocabulary;
      dst.push_back(id == id_of.end() ? 0 : id->second);
    }
    if (dst.size() < count)
      return Error(where() + std::to_string(dst.size()) + " negatives for user " + user + ", expected " +
                   std::to_string(count));
  }
  for (size_t s = 0; s < S; ++s) {
    if (ds.length(s) < kMinEvaluatedLength) continue;
    if (out->valid[s].empty() || out->test[s].empty())
      return Error(path + ": no '" + std::string(out->valid[s].empty() ? "valid" : "test") +
                   "' line for user " + ds.sequence_key[s] + " (every evaluated sequence needs both)");
  }
  return {};
}

void draw_negatives(const Dataset& ds, size_t count, uint64_t seed, Negatives* out) {
  *out = Negatives();
  out->count = count;
  size_t S = ds.sequences(), V = ds.actions.size();
  out->valid.assign(S, {});
  out->test.assign(S, {});
  std::mt19937_64 rng(seed);
  std::vector<uint32_t> seen_stamp(V, 0), pool;
  uint32_t stamp = 0;
  for (auto* split : {&out->valid, &out->test}) {
    for (size_t s = 0; s < S; ++s) {
      if (ds.length(s) < kMinEvaluatedLength) continue;
      ++stamp;
      for (uint64_t i = ds.offsets[s]; i < ds.offsets[s + 1]; ++i) seen_stamp[ds.action[i]] = stamp;
      pool.clear();
      for (uint32_t j = 1; j < V; ++j)
        if (seen_stamp[j] != stamp) pool.push_back(j);
      size_t take = std::min(count, pool.size());
      // Partial Fisher-Yates: the first `take` entries become a uniform sample without repeats.
      for (size_t i = 0; i < take; ++i) {
        std::uniform_int_distribution<size_t> pick(i, pool.size() - 1);
        std::swap(pool[i], pool[pick(rng)]);
      }
      (*split)[s].assign(pool.begin(), pool.begin() + take);
    }
  }
}

// ---- ranking -------------------------------------------------------------------------------

namespace {

constexpr int64_t kMiss = -1;

// Marks the distinct history items once per call (epoch stamps instead of clearing a set).
class SeenSet {
 public:
  explicit SeenSet(size_t V) : stamp_(V, 0) {}
  void next() {
    if (++epoch_ == 0) {
      std::fill(stamp_.begin(), stamp_.end(), 0);
      epoch_ = 1;
    }
  }
  bool first_time(uint32_t id) {
    if (stamp_[id] == epoch_) return false;
    stamp_[id] = epoch_;
    return true;
  }

 private:
  std::vector<uint32_t> stamp_;
  uint32_t              epoch_ = 0;
};

template <class T>
int64_t full_rank(const T* s, size_t V, uint32_t target, const uint32_t* hist, size_t hist_len,
                  bool exclude_seen, SeenSet* seen) {
  if (target == 0 || target >= V) return kMiss;
  const T ts = s[target];
  if (std::isnan(ts)) return kMiss;
  int64_t r = 0;
  for (size_t j = 1; j < V; ++j) r += s[j] >= ts;
  r -= 1;  // the target itself
  // A masked item scores -inf: it counts only against a target that is itself -inf.
  if (exclude_seen && ts != -std::numeric_limits<T>::infinity()) {
    seen->next();
    for (size_t i = 0; i < hist_len; ++i) {
      uint32_t h = hist[i];
      if (h == 0 || h == target || h >= V || !seen->first_time(h)) continue;
      if (s[h] >= ts) --r;
    }
  }
  return r;
}

template <class T>
int64_t sampled_rank(const T* s, size_t V, uint32_t target, const std::vector<uint32_t>& negs) {
  if (target == 0 || target >= V) return kMiss;
  const T ts = s[target];
  if (std::isnan(ts)) return kMiss;
  int64_t r = 0;
  for (uint32_t j : negs)
    if (j != 0 && j < V && s[j] >= ts) ++r;
  return r;
}

template <class T>
int32_t argmax_type(const T* s, size_t T_count) {
  int32_t best = -1;
  for (size_t j = 1; j < T_count; ++j)
    if (!std::isnan(s[j]) && (best < 0 || s[j] > s[best])) best = int32_t(j);
  return best;
}

// Per-sequence outcomes of one method (index 2*seq + split, split 0 = valid, 1 = test).
struct Outcomes {
  std::vector<int64_t> full, sampled;
  std::vector<int32_t> type_pred;
  std::vector<float>   exit_pos, exit_neg;  // model only
  void init(size_t S) {
    full.assign(2 * S, kMiss);
    sampled.assign(2 * S, kMiss);
    type_pred.assign(2 * S, -1);
    exit_pos.assign(S, NAN);
    exit_neg.assign(S, NAN);
  }
  // Sequence s's outcomes as kPacked values (exact in a double), for gathering across processes.
  static constexpr size_t kPacked = 8;
  void pack(size_t s, std::vector<double>* out) const {
    out->insert(out->end(), {double(full[2 * s]), double(full[2 * s + 1]), double(sampled[2 * s]),
                             double(sampled[2 * s + 1]), double(type_pred[2 * s]), double(type_pred[2 * s + 1]),
                             double(exit_pos[s]), double(exit_neg[s])});
  }
  void unpack(size_t s, const double* v) {
    full[2 * s] = int64_t(v[0]), full[2 * s + 1] = int64_t(v[1]);
    sampled[2 * s] = int64_t(v[2]), sampled[2 * s + 1] = int64_t(v[3]);
    type_pred[2 * s] = int32_t(v[4]), type_pred[2 * s + 1] = int32_t(v[5]);
    exit_pos[s] = float(v[6]), exit_neg[s] = float(v[7]);
  }
};

}  // namespace

void add_rank(RankMetrics* m, int64_t r) {
  ++m->users;
  if (r < 0) return;
  for (size_t i = 0; i < kNumCutoffs; ++i) {
    if (r < kCutoffs[i]) {
      m->hr[i] += 1;
      m->ndcg[i] += 1.0 / std::log2(double(r) + 2.0);
    }
  }
  m->mrr += 1.0 / (double(r) + 1.0);
}

void finish_rank(RankMetrics* m) {
  if (!m->users) return;
  for (size_t i = 0; i < kNumCutoffs; ++i) {
    m->hr[i] /= double(m->users);
    m->ndcg[i] /= double(m->users);
  }
  m->mrr /= double(m->users);
}

double mann_whitney_auc(const std::vector<float>& pos, const std::vector<float>& neg) {
  std::vector<std::pair<float, int>> all;
  for (float p : pos)
    if (!std::isnan(p)) all.emplace_back(p, 1);
  for (float n : neg)
    if (!std::isnan(n)) all.emplace_back(n, 0);
  size_t np = 0;
  for (auto& a : all) np += a.second;
  size_t nn = all.size() - np;
  if (!np || !nn) return NAN;
  std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.first < b.first; });
  // Mann-Whitney: sum of positive ranks, ties sharing their mean rank.
  double rank_sum = 0;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    while (j < all.size() && all[j].first == all[i].first) ++j;
    double mean_rank = (double(i + 1) + double(j)) / 2.0;
    for (size_t k = i; k < j; ++k)
      if (all[k].second) rank_sum += mean_rank;
    i = j;
  }
  return (rank_sum - double(np) * double(np + 1) / 2.0) / (double(np) * double(nn));
}

namespace {

// Counts over the training part of every sequence.
struct Baselines {
  std::vector<double> action_pop, type_pop;
  double action_scale = 1, type_scale = 1;  // max count + 1
  // Transition rows, CSR over the previous id: (next id, count).
  std::vector<uint64_t> a_row, t_row;
  std::vector<std::pair<uint32_t, uint32_t>> a_next, t_next;
};

void build_transitions(size_t n_ids, std::vector<std::pair<uint32_t, uint32_t>>& pairs,
                       std::vector<uint64_t>* row, std::vector<std::pair<uint32_t, uint32_t>>* next) {
  std::sort(pairs.begin(), pairs.end());
  row->assign(n_ids + 1, 0);
  next->clear();
  for (size_t i = 0; i < pairs.size();) {
    size_t j = i;
    while (j < pairs.size() && pairs[j] == pairs[i]) ++j;
    next->emplace_back(pairs[i].second, uint32_t(j - i));
    ++(*row)[pairs[i].first + 1];
    i = j;
  }
  for (size_t p = 0; p < n_ids; ++p) (*row)[p + 1] += (*row)[p];
}

Baselines build_baselines(const Dataset& ds) {
  Baselines b;
  size_t V = ds.actions.size(), T = std::max<size_t>(ds.types.size(), 1);
  b.action_pop.assign(V, 0);
  b.type_pop.assign(T, 0);
  std::vector<std::pair<uint32_t, uint32_t>> ap, tp;
  for (size_t s = 0; s < ds.sequences(); ++s) {
    size_t n = ds.length(s), train = n >= kMinEvaluatedLength ? n - 2 : n;
    uint64_t o = ds.offsets[s];
    for (size_t i = 0; i < train; ++i) {
      if (ds.action[o + i] < V) b.action_pop[ds.action[o + i]] += 1;
      if (ds.type[o + i] < T) b.type_pop[ds.type[o + i]] += 1;
      if (i > 0) {
        ap.emplace_back(ds.action[o + i - 1], ds.action[o + i]);
        tp.emplace_back(ds.type[o + i - 1], ds.type[o + i]);
      }
    }
  }
  b.action_scale = *std::max_element(b.action_pop.begin(), b.action_pop.end()) + 1;
  b.type_scale = *std::max_element(b.type_pop.begin(), b.type_pop.end()) + 1;
  build_transitions(V, ap, &b.a_row, &b.a_next);
  build_transitions(T, tp, &b.t_row, &b.t_next);
  return b;
}

void markov_scores(const std::vector<double>& pop, double scale, const std::vector<uint64_t>& row,
                   const std::vector<std::pair<uint32_t, uint32_t>>& next, uint32_t last,
                   double* out) {
  std::copy(pop.begin(), pop.end(), out);
  if (last + 1 >= row.size()) return;
  for (uint64_t k = row[last]; k < row[last + 1]; ++k)
    out[next[k].first] += double(next[k].second) * scale;
}

struct ThreadScratch {
  std::vector<float>  model_actions, model_types;
  std::vector<double> base_actions, base_types;
  SeenSet             seen;
  ThreadScratch(size_t V, size_t T)
      : model_actions(V), model_types(T), base_actions(V), base_types(T), seen(V) {}
};

// What fill_split reads of a sequence: whether it is scored, and per split (validation, test)
// whether its target is <unk> and its target's type.
struct SequenceTargets {
  bool     scored = false;
  bool     unknown[2] = {false, false};
  uint32_t type[2] = {0, 0};
};

std::vector<SequenceTargets> sequence_targets(const Dataset& ds, const std::vector<uint8_t>* only) {
  std::vector<SequenceTargets> out(ds.sequences());
  for (size_t s = 0; s < ds.sequences(); ++s) {
    const size_t n = ds.length(s);
    SequenceTargets& t = out[s];
    t.scored = n >= kMinEvaluatedLength && !(only && !(*only)[s]);
    if (!t.scored) continue;
    for (int split = 0; split < 2; ++split) {
      const uint64_t target = ds.offsets[s] + (split == 0 ? n - 2 : n - 1);
      t.unknown[split] = ds.action[target] == 0;
      t.type[split] = ds.type[target];
    }
  }
  return out;
}

void fill_split(SplitMetrics* m, const Outcomes& o, const std::vector<SequenceTargets>& seqs, size_t T, int split,
                bool sampled, bool types) {
  std::vector<uint64_t> tp(T, 0), fp(T, 0), fn(T, 0);
  uint64_t correct = 0;
  for (size_t s = 0; s < seqs.size(); ++s) {
    if (!seqs[s].scored) continue;
    if (seqs[s].unknown[split]) ++m->unknown_targets;
    add_rank(&m->full, o.full[2 * s + split]);
    if (sampled) add_rank(&m->sampled, o.sampled[2 * s + split]);
    uint32_t tt = seqs[s].type[split];
    if (types && tt != 0 && tt < T) {
      ++m->type_targets;
      int32_t p = o.type_pred[2 * s + split];
      if (p == int32_t(tt)) {
        ++correct;
        ++tp[tt];
      } else {
        ++fn[tt];
        if (p > 0) ++fp[p];
      }
    }
  }
  finish_rank(&m->full);
  finish_rank(&m->sampled);
  if (m->type_targets) {
    m->type_accuracy = double(correct) / double(m->type_targets);
    double f1 = 0;
    size_t classes = 0;
    for (size_t c = 1; c < T; ++c) {
      if (!tp[c] && !fp[c] && !fn[c]) continue;
      ++classes;
      f1 += 2.0 * double(tp[c]) / double(2 * tp[c] + fp[c] + fn[c]);
    }
    m->type_macro_f1 = classes ? f1 / double(classes) : NAN;
  }
}

}  // namespace

// ---- evaluate ------------------------------------------------------------------------------

Error evaluate(const Dataset& ds, const ScoreFn& model, const EvalOptions& opt, EvalResult* out) {
  *out = EvalResult();
  const size_t S = ds.sequences(), V = ds.actions.size(), T = std::max<size_t>(ds.types.size(), 1);
  if (V < 2) return Error("evaluate: the action vocabulary has no actions besides <unk>");
  if (ds.offsets.size() != S + 1 || ds.sequence_key.size() != S)
    return Error("evaluate: inconsistent dataset (offsets / sequence keys)");
  const Negatives* negs = opt.negatives;
  if (negs && (negs->valid.size() != S || negs->test.size() != S))
    return Error("evaluate: negatives were made for another dataset");
  const bool with_types = opt.types && ds.types.size() > 1;
  const unsigned threads = std::max(1u, opt.threads);

  out->sequences = S;
  out->exclude_seen = opt.exclude_seen;
  out->sampled_negatives = negs ? negs->count : 0;
  out->negatives_out_of_vocabulary = negs ? negs->out_of_vocabulary : 0;
  if (opt.only && opt.only->size() != S) return Error("evaluate: the sequence filter was made for another dataset");
  for (size_t s = 0; s < S; ++s) out->evaluated += ds.length(s) >= kMinEvaluatedLength && !(opt.only && !(*opt.only)[s]);

  const bool have_model = static_cast<bool>(model);
  const size_t n_methods = (have_model ? 1 : 0) + (opt.baselines ? 2 : 0);
  std::vector<Outcomes> outcomes(n_methods);
  for (auto& o : outcomes) o.init(S);
  Baselines base;
  if (opt.baselines) base = build_baselines(ds);

  std::atomic<size_t> next{0};
  std::atomic<bool>   failed{false};
  std::mutex          error_mutex;
  Error               first_error;
  // Across processes: the rank each sequence's user belongs to (shards.h); this one scores its own.
  if (ds.sharded && !opt.collective) return Error("evaluate: a shard of the log without the run's collective: a bug");
  const bool sharded = ds.sharded && opt.collective->size() > 1;
  if (sharded && (opt.baselines || negs || !model))
    return Error("evaluate: a sharded read scores a model alone, without baselines or sampled negatives (they need every "
                 "user's events): a bug");
  const SequenceOwners owners = sequence_owners(ds, UserParts{opt.collective, threads}, sharded);
  auto scored = [&](size_t s) { return ds.length(s) >= kMinEvaluatedLength && !(opt.only && !(*opt.only)[s]); };

  auto worker = [&](unsigned thread) {
    ThreadScratch sc(V, T);
    const size_t chunk = kEvalChunk;
    for (;;) {
      size_t begin = next.fetch_add(chunk);
      if (begin >= S || failed) return;
      for (size_t s = begin; s < std::min(S, begin + chunk); ++s) {
        const size_t n = ds.length(s);
        if (!scored(s) || !owners.mine(s)) continue;
        const uint64_t o = ds.offsets[s];
        const uint32_t* acts = ds.action.data() + o;
        for (int split = 0; split < 2; ++split) {
          if (split == 0 ? !opt.valid : !opt.test) continue;
          const size_t input = split == 0 ? n - 2 : n - 1;
          const uint32_t target = acts[input];
          const size_t idx = 2 * s + split;
          const std::vector<uint32_t>* neg = negs ? &(split == 0 ? negs->valid : negs->test)[s] : nullptr;
          size_t m = 0;
          if (have_model) {
            Scores out_scores;
            out_scores.actions = sc.model_actions.data();
            out_scores.types = with_types ? sc.model_types.data() : nullptr;
            Error e = model(thread, s, input, &out_scores);
            if (e) {
              std::lock_guard<std::mutex> lock(error_mutex);
              if (!failed) first_error = Error("evaluate: sequence " + ds.sequence_key[s] + ": " + e.message);
              failed = true;
              return;
            }
            Outcomes& oc = outcomes[m];
            oc.full[idx] = full_rank(sc.model_actions.data(), V, target, acts, input, opt.exclude_seen, &sc.seen);
            if (neg) oc.sampled[idx] = sampled_rank(sc.model_actions.data(), V, target, *neg);
            if (with_types) oc.type_pred[idx] = argmax_type(sc.model_types.data(), T);
            if (split == 1) oc.exit_neg[s] = out_scores.exit;
            ++m;
          }
          if (opt.baselines) {
            for (int b = 0; b < 2; ++b, ++m) {
              Outcomes& oc = outcomes[m];
              double* a = sc.base_actions.data();
              double* t = sc.base_types.data();
              if (b == 0) {
                std::copy(base.action_pop.begin(), base.action_pop.end(), a);
                std::copy(base.type_pop.begin(), base.type_pop.end(), t);
              } else {
                markov_scores(base.action_pop, base.action_scale, base.a_row, base.a_next, acts[input - 1], a);
                markov_scores(base.type_pop, base.type_scale, base.t_row, base.t_next, ds.type[o + input - 1], t);
              }
              oc.full[idx] = full_rank(a, V, target, acts, input, opt.exclude_seen, &sc.seen);
              if (neg) oc.sampled[idx] = sampled_rank(a, V, target, *neg);
              if (with_types) oc.type_pred[idx] = argmax_type(t, T);
            }
          }
        }
        if (have_model && opt.exit_auc) {
          Scores out_scores;  // actions not needed after the whole sequence
          Error e = model(thread, s, n, &out_scores);
          if (e) {
            std::lock_guard<std::mutex> lock(error_mutex);
            if (!failed) first_error = Error("evaluate: sequence " + ds.sequence_key[s] + ": " + e.message);
            failed = true;
            return;
          }
          outcomes[0].exit_pos[s] = out_scores.exit;
        }
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker, t);
  worker(0);
  for (auto& th : pool) th.join();
  // Every process learns whether one failed (and stops alike) before the outcomes are shared.
  if (owners.world->any(failed))
    return failed ? first_error : Error("evaluate: another MPI rank failed (its own message says why)");
  std::vector<SequenceTargets> targets = sequence_targets(ds, opt.only);
  if (sharded) {
    // Every process's scored sequences, in rank order: their outcomes and targets (one process
    // lays the same sequences out in sequence order: the sums come in another order).
    constexpr size_t kPer = Outcomes::kPacked + 4;  // the outcomes, then the two targets
    const std::vector<double> all = owners.gather_all(
        [&](size_t s, std::vector<double>* own) {
          if (!scored(s)) return;
          const SequenceTargets& t = targets[s];
          outcomes[0].pack(s, own);
          own->insert(own->end(), {double(t.unknown[0]), double(t.unknown[1]), double(t.type[0]), double(t.type[1])});
        },
        S);
    if (all.size() % kPer) return Error("evaluate: the MPI ranks' outcomes do not add up (a bug)");
    const size_t n = all.size() / kPer;
    outcomes[0].init(n);
    targets.assign(n, SequenceTargets{});
    for (size_t s = 0; s < n; ++s) {
      const double* v = all.data() + s * kPer;
      outcomes[0].unpack(s, v);
      v += Outcomes::kPacked;
      SequenceTargets& t = targets[s];
      t.scored = true;
      t.unknown[0] = v[0] != 0, t.unknown[1] = v[1] != 0;
      t.type[0] = uint32_t(v[2]), t.type[1] = uint32_t(v[3]);
    }
    double counts[2] = {double(out->sequences), double(out->evaluated)};
    owners.world->sum(counts, 2);
    out->sequences = size_t(counts[0]), out->evaluated = size_t(counts[1]);
  }
  // Each sequence's outcomes as its owner found them, per method.
  const Error shared = sharded ? Error() : owners.gather(
      [&](size_t s, std::vector<double>* own) {
        if (!scored(s)) return;
        for (const Outcomes& oc : outcomes) oc.pack(s, own);
      },
      [&](size_t s, const double* v, size_t left) -> size_t {
        if (!scored(s)) return 0;
        const size_t n = Outcomes::kPacked * outcomes.size();
        if (n > left) return SIZE_MAX;
        for (Outcomes& oc : outcomes) {
          oc.unpack(s, v);
          v += Outcomes::kPacked;
        }
        return n;
      });
  if (shared) return Error("evaluate: " + shared.message);

  std::vector<std::string> names;
  if (have_model) names.push_back("model");
  if (opt.baselines) { names.push_back("popularity"); names.push_back("markov"); }
  for (size_t m = 0; m < n_methods; ++m) {
    MethodResult r;
    r.name = names[m];
    if (opt.valid) fill_split(&r.valid, outcomes[m], targets, ds.types.size(), 0, negs != nullptr, with_types);
    if (opt.test) fill_split(&r.test, outcomes[m], targets, ds.types.size(), 1, negs != nullptr, with_types);
    if (r.name == "model" && opt.exit_auc && opt.test) r.exit_auc = mann_whitney_auc(outcomes[m].exit_pos, outcomes[m].exit_neg);
    out->methods.push_back(std::move(r));
  }
  // The model against the better baseline (by NDCG@10, as results_table compares them), with
  // its interval over the evaluated sequences.
  if (have_model && opt.baselines && (opt.test || opt.valid)) {
    const int split = opt.test ? 1 : 0;
    auto nd = [&](const MethodResult& m) { return (split ? m.test : m.valid).full.ndcg_at(10); };
    const size_t best = nd(out->methods[1]) >= nd(out->methods[2]) ? 1 : 2;
    out->best_baseline = out->methods[best].name;
    // One unit per user: the sessions of one user (sequences "alice#1", "alice#2" when
    // --session-gap splits them) share a history, so they are drawn together.
    std::vector<std::string> users;
    const std::vector<uint32_t> user_of = sequence_users(ds, &users);
    std::vector<uint32_t> unit_of(users.size(), UINT32_MAX);
    UnitScores u;
    for (size_t s = 0; s < ds.sequences(); ++s) {
      if (ds.length(s) < kMinEvaluatedLength || (opt.only && !(*opt.only)[s])) continue;
      uint32_t& unit = unit_of[user_of[s]];
      if (unit == UINT32_MAX) unit = uint32_t(u.points.size());
      u.add_ranks(unit, outcomes[0].full[2 * s + split], outcomes[best].full[2 * s + split]);
    }
    out->vs_best = paired_bootstrap(u);
  }
  return {};
}

// ---- the .hunch scorer ---------------------------------------------------------------------

namespace {

struct SequenceScorerState {
  std::unique_ptr<hunch::Sequence> seq;
  size_t current = SIZE_MAX;  // sequence index being pushed
  size_t pushed = 0;
};

}  // namespace

void core_event(const Dataset& ds, uint64_t i, hunch::Event* out) {
  out->action = ds.action[i];
  out->type = ds.type[i];
  out->time = ds.time[i];
  for (size_t k = 0; k < ds.attr_count(); ++k) {
    const uint32_t v = ds.attr[i * ds.attr_count() + k];
    out->attr[k] = v == ds.attr_start[k] ? hunch::kAttrOfAction : v;
  }
}

ScoreFn model_scorer(const hunch::Model& model, const Dataset& ds, unsigned threads) {
  auto states = std::make_shared<std::vector<SequenceScorerState>>(std::max(1u, threads));
  for (auto& st : *states) st.seq = std::make_unique<hunch::Sequence>(model);
  const size_t V = model.hyper().vocab_size, T = model.hyper().type_count;
  return [states, &ds, V, T](unsigned thread, size_t s, size_t input_len, Scores* out) -> Error {
    if (thread >= states->size()) return Error("scorer: thread index beyond the scorer's thread count");
    if (ds.actions.size() != V) return Error("scorer: the data's vocabulary is not the model's");
    SequenceScorerState& st = (*states)[thread];
    if (st.current != s || st.pushed > input_len) {
      st.seq->reset();
      st.current = s;
      st.pushed = 0;
    }
    const uint64_t o = ds.offsets[s];
    for (; st.pushed < input_len; ++st.pushed) {
      hunch::Event e;
      core_event(ds, o + st.pushed, &e);
      if (Error err = st.seq->push(e)) return err;
    }
    if (out->actions) {
      const float* logits = st.seq->action_logits();
      if (!logits) return Error("scorer: no logits (empty input)");
      std::copy(logits, logits + V, out->actions);
    }
    if (out->types) {
      const auto& tp = st.seq->type_probabilities();
      std::copy(tp.begin(), tp.begin() + std::min(tp.size(), T), out->types);
    }
    out->exit = st.seq->exit_probability();
    return {};
  };
}

// ---- printing ------------------------------------------------------------------------------

std::string metric_text(double v, int prec) {
  if (std::isnan(v)) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", prec, v);
  return b;
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

namespace {

std::string num(double v, int prec = 4) { return metric_text(v, prec); }
std::string json_num(double v) { return json_number(v); }

void metrics_of(const MethodResult& m, bool sampled, std::vector<std::pair<std::string, double>>* out) {
  for (int split = 1; split >= 0; --split) {
    const SplitMetrics& sm = split ? m.test : m.valid;
    if (!sm.full.users) continue;
    std::string p = split ? "" : "valid_";
    for (size_t i = 0; i < kNumCutoffs; ++i) out->emplace_back(p + "HR@" + std::to_string(kCutoffs[i]), sm.full.hr[i]);
    for (size_t i = 0; i < kNumCutoffs; ++i) out->emplace_back(p + "NDCG@" + std::to_string(kCutoffs[i]), sm.full.ndcg[i]);
    out->emplace_back(p + "MRR", sm.full.mrr);
    if (sampled && sm.sampled.users) {
      for (size_t i = 0; i < kNumCutoffs; ++i)
        out->emplace_back(p + "sampled_HR@" + std::to_string(kCutoffs[i]), sm.sampled.hr[i]);
      for (size_t i = 0; i < kNumCutoffs; ++i)
        out->emplace_back(p + "sampled_NDCG@" + std::to_string(kCutoffs[i]), sm.sampled.ndcg[i]);
      out->emplace_back(p + "sampled_MRR", sm.sampled.mrr);
    }
    if (sm.type_targets) {
      out->emplace_back(p + "type_accuracy", sm.type_accuracy);
      out->emplace_back(p + "type_macro_f1", sm.type_macro_f1);
    }
  }
  if (!std::isnan(m.exit_auc)) out->emplace_back("exit_auc", m.exit_auc);
}

}  // namespace

std::string results_table(const EvalResult& r) {
  std::ostringstream o;
  const MethodResult* first = r.methods.empty() ? nullptr : &r.methods[0];
  if (!first) return "no results\n";
  bool has_test = first->test.full.users > 0;
  const SplitMetrics& head = has_test ? first->test : first->valid;
  o << (has_test ? "test" : "validation") << " split: " << head.full.users << " of " << r.sequences
    << " sequences (length >= 3); full ranking" << (r.exclude_seen ? ", already-seen actions excluded" : "");
  if (r.sampled_negatives) o << "; sampled: " << r.sampled_negatives << " negatives";
  o << "\n";
  char buf[256];
  std::snprintf(buf, sizeof buf, "  %-22s", "metric");
  o << buf;
  for (const auto& m : r.methods) {
    std::snprintf(buf, sizeof buf, " %12s", m.name.c_str());
    o << buf;
  }
  o << "\n";
  // Rows: the union of names, in the order of the first method.
  std::vector<std::vector<std::pair<std::string, double>>> cols;
  for (const auto& m : r.methods) {
    cols.emplace_back();
    metrics_of(m, true, &cols.back());
  }
  std::vector<std::string> rows;
  for (const auto& c : cols)
    for (const auto& kv : c)
      if (std::find(rows.begin(), rows.end(), kv.first) == rows.end()) rows.push_back(kv.first);
  for (const auto& name : rows) {
    std::snprintf(buf, sizeof buf, "  %-22s", name.c_str());
    o << buf;
    for (const auto& c : cols) {
      double v = NAN;
      for (const auto& kv : c)
        if (kv.first == name) v = kv.second;
      std::snprintf(buf, sizeof buf, " %12s", num(v).c_str());
      o << buf;
    }
    o << "\n";
  }
  o << "  unknown (out-of-vocabulary) targets, scored as misses: valid " << first->valid.unknown_targets
    << ", test " << first->test.unknown_targets << "\n";
  if (r.negatives_out_of_vocabulary)
    o << "  negatives outside the vocabulary (scored -inf): " << r.negatives_out_of_vocabulary << "\n";
  const MethodResult* model = r.find("model");
  const MethodResult* pop = r.find("popularity");
  const MethodResult* mk = r.find("markov");
  if (model && pop && mk) {
    auto nd = [&](const MethodResult* m) { return (has_test ? m->test : m->valid).full.ndcg_at(10); };
    const MethodResult* best = nd(pop) >= nd(mk) ? pop : mk;
    double gain = nd(best) > 0 ? (nd(model) / nd(best) - 1.0) * 100.0 : NAN;
    o << "  NDCG@10: model " << num(nd(model)) << " vs the better baseline (" << best->name << ") "
      << num(nd(best)) << ": " << (std::isnan(gain) ? "-" : (gain >= 0 ? "+" : "") + num(gain, 1) + "%")
      << "\n";
    if (r.vs_best.resamples && r.best_baseline == best->name) o << interval_text(r.vs_best, best->name, "users");
  }
  return o.str();
}

std::string results_json(const EvalResult& r) {
  std::ostringstream o;
  o << "{";
  for (const auto& m : r.methods) {
    std::vector<std::pair<std::string, double>> kv;
    metrics_of(m, true, &kv);
    o << "\"" << m.name << "\": {";
    for (size_t i = 0; i < kv.size(); ++i) o << (i ? ", " : "") << "\"" << kv[i].first << "\": " << json_num(kv[i].second);
    o << "}, ";
  }
  const MethodResult* first = r.methods.empty() ? nullptr : &r.methods[0];
  o << "\"users\": " << (first ? std::max(first->test.full.users, first->valid.full.users) : 0)
    << ", \"sequences\": " << r.sequences << ", \"exclude_seen\": " << (r.exclude_seen ? "true" : "false")
    << ", \"sampled_negatives\": " << r.sampled_negatives
    << ", \"unknown_valid_targets\": " << (first ? first->valid.unknown_targets : 0)
    << ", \"unknown_test_targets\": " << (first ? first->test.unknown_targets : 0)
    << ", \"negatives_out_of_vocabulary\": " << r.negatives_out_of_vocabulary;
  if (!r.best_baseline.empty()) o << ", \"model_vs_best\": " << interval_json(r.best_baseline, r.vs_best);
  o << "}";
  return o.str();
}

EvalOptions validation_only(bool exclude_seen, unsigned threads, Collective* collective) {
  EvalOptions o;
  o.collective = collective;
  o.exclude_seen = exclude_seen;
  o.valid = true;
  o.test = false;
  o.baselines = false;
  o.exit_auc = false;
  o.types = false;
  o.threads = threads;
  return o;
}

Error core_validation(const hunch::Model& model, const Dataset& ds, bool exclude_seen, unsigned threads,
                      double* ndcg, double* hr, const std::vector<uint8_t>* only, Collective* collective) {
  EvalOptions o = validation_only(exclude_seen, threads, collective);
  o.only = only;
  EvalResult r;
  if (Error e = evaluate(ds, model_scorer(model, ds, threads), o, &r)) return e;
  *ndcg = r.methods[0].valid.full.ndcg_at(10);
  *hr = r.methods[0].valid.full.hr_at(10);
  return Error();
}

}  // namespace hunch::train
