#include "train/action-start.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <numeric>

#include "hunch/transitions.h"
#include "train/privacy.h"
#include "train/transitions.h"

namespace hunch::train {

namespace {

// One training column as the fit sees it: its target and the weights each action's terms read.
struct Column {
  uint32_t target;
  uint32_t begin, end;  // its terms in `terms`
  uint32_t index;       // among every process's columns, in training-sample order
};
struct Term {
  uint32_t action;
  uint32_t weight;  // index into the fitted vector θ
};

// Writes θ = [copy distance | copy type | copy count | transition weights | attribute match] into
// the tensors the model has.
void write_theta(const std::vector<double>& theta, Net* net) {
  const hunch::Hyper& h = net->cfg.hyper;
  const size_t n_dist = h.copy ? 2 * hunch::kCopyDistanceBuckets : 0, n_type = h.copy ? 2 * h.type_count : 0;
  const size_t n_count = h.copy ? hunch::kCopyCountBuckets : 0, n_copy = n_dist + n_type + n_count;
  const size_t n_trans = h.transition_bytes ? hunch::kTransitionBuckets : 0;
  const size_t n_match = h.attr_columns * hunch::kCopyDistanceBuckets;
  auto put = [&](size_t from, size_t n, size_t tensor) {
    if (n) std::transform(theta.begin() + long(from), theta.begin() + long(from + n), net->params.ptr(tensor),
                          [](double x) { return float(x); });
  };
  if (h.copy) {
    put(0, n_dist, net->head_copy_distance);
    put(n_dist, n_type, net->head_copy_type);
    put(n_dist + n_type, n_count, net->head_copy_count);
  }
  if (h.transition_bytes) put(n_copy, n_trans, net->head_transition_weight);
  if (h.attr_columns) put(n_copy + n_trans, n_match, net->head_attr_match);
}

}  // namespace

ActionStart fit_action_start(const Dataset& data, const std::vector<Sample>& training, Net* net,
                             const std::vector<double>* counts, bool rank, const UserParts& share) {
  const hunch::Hyper& h = net->cfg.hyper;
  const size_t V = h.vocab_size, T = h.type_count, W = hunch::copy_window_of(h);  // the copy window Wc
  ActionStart out;
  // θ = [copy distance (32) | copy type (2T) | copy count (8) | transition weights (40)], the
  // parts the model has.
  const size_t n_dist = h.copy ? 2 * hunch::kCopyDistanceBuckets : 0, n_type = h.copy ? 2 * T : 0;
  const size_t n_count = h.copy ? hunch::kCopyCountBuckets : 0;
  const size_t n_trans = h.transition_bytes ? hunch::kTransitionBuckets : 0;
  const size_t n_copy = n_dist + n_type + n_count, K = h.attr_columns;
  const size_t n_match = K * hunch::kCopyDistanceBuckets, n_theta = n_copy + n_trans + n_match;
  // With attributes: the actions of each value (the match terms' inverse index).
  std::vector<std::vector<uint32_t>> actions_of(K ? data.attr_values.size() : 0);
  for (size_t a = 0; a < V && K; ++a)
    for (size_t k = 0; k < K; ++k)
      if (data.action_attr[a * K + k] != data.attr_start[k]) actions_of[data.action_attr[a * K + k]].push_back(uint32_t(a));
  std::vector<uint32_t> value_tick(actions_of.size(), 0);
  uint32_t tick = 0;

  // The bias: log-frequency of the training targets (add-half smoothing), or of the given counts.
  std::vector<double> freq(V, 0.5);
  double total = 0.5 * double(V);
  uint64_t all_columns = 0;
  for (const Sample& s : training)
    for (uint64_t c = s.begin; c < s.begin + s.len && c + 1 < s.target_end; ++c) {
      freq[data.action[c + 1]] += 1;
      total += 1;
      ++all_columns;
    }
  // A shard (Dataset::sharded) counts its own users' columns; the run's are every process's.
  Collective& world = share.collective();
  const bool sharded = data.sharded && world.size() > 1;
  if (sharded) {
    std::vector<double> sums(V + 1);
    for (size_t a = 0; a < V; ++a) sums[a] = freq[a] - 0.5;
    sums[V] = double(all_columns);
    world.sum(sums.data(), sums.size());
    for (size_t a = 0; a < V; ++a) freq[a] = sums[a] + 0.5;
    all_columns = uint64_t(sums[V]);
    total = 0.5 * double(V) + double(all_columns);
  }
  if (counts) {
    freq = *counts;
    total = std::accumulate(freq.begin(), freq.end(), 0.0);
  }
  float* bias = net->params.ptr(net->head_ab);
  std::vector<double> expb(V);
  double z0 = 0;
  for (size_t a = 0; a < V; ++a) {
    bias[a] = float(std::log(freq[a] / total));
    z0 += expb[a] = freq[a] / total;
  }
  if (n_theta == 0 || all_columns == 0) return out;

  // The columns (evenly spaced, at most kMaxColumns) and their terms, as add_action_terms reads
  // them: the copy window within the sample, leave-one-out transition buckets.
  // Fewer with attributes: a column's match terms are every action of its window's categories.
  const uint64_t kMaxColumns = K ? 20000 : 60000;
  const uint64_t stride = (all_columns + kMaxColumns - 1) / kMaxColumns;
  std::vector<CopyEntry> entries;
  // The work is shared by user (shards.h): this process builds and sums the columns of its
  // users' parts only, each thread those of its own part; the sums are added across processes.
  // The ascent counts integers, so it takes the same steps however the parts are shared. The
  // likelihood's sums add the threads' parts in order and then the processes' sums (in MPI's
  // order): two parts add up alike either way; from four on, the bracketing can differ, so the
  // fit can differ in its last bits (as training's summed gradients do).
  const unsigned threads = std::max(1u, share.threads);
  const std::vector<uint32_t> seq_part = sequence_parts(data, share.count());
  const std::vector<uint32_t> sample_seq = sample_sequences(data, training);
  // Every stride-th column (of every process's) with its terms, the successors from the table
  // tc; this process's own, counting every column's target into n_target and each own column's
  // thread (part − first: the thread it is summed on) into thread_of when given. Returns how
  // many columns there are in all.
  auto build_columns = [&](const TransitionCounts* tc, uint64_t stride, std::vector<Column>* cols_out,
                           std::vector<Term>* terms_out, std::vector<double>* n_target, std::vector<uint8_t>* thread_of) {
    std::vector<Column>& cols = *cols_out;
    std::vector<Term>& terms = *terms_out;
    uint64_t k = 0, index = 0;
    for (size_t si = 0; si < training.size(); ++si) {
      const Sample& s = training[si];
      const uint32_t part = seq_part[sample_seq[si]];
      // A shard's sequences are all its own (its read kept them by the user's name; the part
      // from the sequence key can differ where a name ends in "#digits": the thread only
      // follows it).
      const bool mine = sharded || share.mine(part);
      for (uint64_t c = s.begin; c < s.begin + s.len && c + 1 < s.target_end; ++c) {
        if (k++ % stride) continue;
        if (n_target) (*n_target)[data.action[c + 1]] += 1;
        if (!mine) {
          ++index;
          continue;
        }
        if (thread_of) thread_of->push_back(uint8_t(sharded ? part % threads : part - share.first()));
        Column col{data.action[c + 1], uint32_t(terms.size()), 0, uint32_t(index++)};
        if (h.copy) {
          const size_t start = std::max<uint64_t>(s.begin, c + 1 >= W ? c + 1 - W : 0);
          copy_entries(start, c, V, [&](size_t j) { return data.action[j]; }, &entries);
          for (const CopyEntry& e : entries) {
            const bool same = !h.session_inputs || data.session_number[e.recent] == data.session_number[c];
            const uint32_t d = hunch::copy_distance_bucket(c - e.recent) + (same ? hunch::kCopyDistanceBuckets : 0);
            terms.push_back({e.action, d});
            terms.push_back({e.action, uint32_t(n_dist + data.type[e.recent] + (e.recent == c ? T : 0))});
            terms.push_back({e.action, uint32_t(n_dist + n_type + hunch::copy_count_bucket(e.count))});
          }
        }
        if (tc)
          for (const TransitionCounts::Next& n : tc->rows[data.action[c]]) {
            const uint8_t b = tc->bucket(data, c, c + 1, n.action, n.count);
            if (b != 0xff) terms.push_back({n.action, uint32_t(n_copy + b)});
          }
        if (K) {  // as for_attr_matches in nn-model.cpp, over the log's events
          ++tick;
          const size_t start = std::max<uint64_t>(s.begin, c + 1 >= W ? c + 1 - W : 0);
          for (size_t j = c + 1; j-- > start;)
            for (size_t k = 0; k < K; ++k) {
              const uint32_t v = data.attr[j * K + k];
              if (v == data.attr_start[k] || value_tick[v] == tick) continue;
              value_tick[v] = tick;
              const uint32_t w = uint32_t(n_copy + n_trans + k * hunch::kCopyDistanceBuckets + hunch::copy_distance_bucket(c - j));
              for (uint32_t a : actions_of[v]) terms.push_back({a, w});
            }
        }
        col.end = uint32_t(terms.size());
        cols.push_back(col);
      }
    }
    return index;
  };
  std::vector<Column> cols;
  std::vector<Term> terms;
  std::vector<double> n_target(V, 0.5), corr(V, 0.0);
  std::vector<uint8_t> cols_thread;
  out.columns = build_columns(h.transition_bytes ? net->cfg.transitions.get() : nullptr, stride, &cols, &terms,
                              &n_target, &cols_thread);
  if (sharded) {  // each shard counted its own columns' targets (every stride-th of its own)
    std::vector<double> sums(V + 1);
    for (size_t a = 0; a < V; ++a) sums[a] = n_target[a] - 0.5;
    sums[V] = double(out.columns);
    world.sum(sums.data(), sums.size());
    for (size_t a = 0; a < V; ++a) n_target[a] = sums[a] + 0.5;
    out.columns = uint64_t(sums[V]);
  }

  // Full-batch Adam on the mean log-loss. With W·z = 0 the softmax over V is exp(b + bonus) over
  // Z = Z0 + Σ_touched exp(b_a)(exp(bonus_a) − 1): O(terms) per column, not O(V).
  std::vector<double> theta(n_theta, 0.0), m(n_theta, 0.0), v(n_theta, 0.0), grad(n_theta);
  // Per thread: a column's summed bonus per touched action (bonus[a], seen[a] = 1, the actions
  // in touched), the softmax's gradient, and the pass's sums (nll, Σ 1/Z, grad, corr).
  struct alignas(64) Scratch {  // a cache line of its own: no false sharing between threads
    std::vector<double> bonus, g, grad, corr;
    std::vector<uint32_t> touched;
    std::vector<uint8_t> seen;
    double nll = 0, inv_z = 0;
  };
  std::vector<Scratch> scratch(threads);
  for (Scratch& x : scratch) {
    x.bonus.assign(V, 0.0);
    x.g.assign(V, 0.0);
    x.seen.assign(V, 0);
  }
  // The biases' own fit, alternated with θ's: for fixed θ the likelihood is largest where each
  // action's expected count over the columns equals its observed count (the fitted columns'
  // targets, add-half smoothed), Σ_c exp(b_a + bonus_ca) / Z_c = n_a, so b_a = log n_a − log S_a
  // with S_a = Σ_c 1/Z_c + Σ_{c touching a} (exp(bonus_ca) − 1) / Z_c: O(terms), not O(V) per
  // column. Without it the biases keep counts that repeats inflated (an item viewed five times
  // by one user is five times as "popular"), and popular items crowd the history out of the top.
  // (n_target and corr: above, counted as the columns were built.)
  double inv_z = 0;
  // Fills x's bonus, seen and touched for a column under the weights th; the caller clears seen
  // for them when done.
  const std::vector<Term>* term_set = &terms;  // the columns' terms gather reads
  auto gather = [&](Scratch& x, const Column& col, const std::vector<double>& th) {
    x.touched.clear();
    const std::vector<Term>& tm = *term_set;
    for (uint32_t i = col.begin; i < col.end; ++i) {
      const uint32_t a = tm[i].action;
      if (!x.seen[a]) {
        x.seen[a] = 1;
        x.touched.push_back(a);
        x.bonus[a] = 0;
      }
      x.bonus[a] += th[tm[i].weight];
    }
  };
  // One pass over every column: each thread its part's, the parts' sums added in part order
  // (the threads', then the processes' in one sum), into nll (returned, a mean), inv_z, grad
  // and corr.
  std::vector<double> sums(2 + n_theta + V);
  auto pass = [&](bool with_grad) {
    run_threads(threads, [&](unsigned t) {
      Scratch& x = scratch[t];
      double nll = 0, inv_z_sum = 0;
      x.grad.assign(n_theta, 0.0);
      x.corr.assign(V, 0.0);
      for (size_t ci = 0; ci < cols.size(); ++ci) {
        if (cols_thread[ci] != t) continue;
        const Column& col = cols[ci];
        gather(x, col, theta);
        double z = z0;
        for (uint32_t a : x.touched) z += expb[a] * (std::exp(x.bonus[a]) - 1.0);
        const double t_bonus = x.seen[col.target] ? x.bonus[col.target] : 0.0;
        nll += std::log(z) - (std::log(expb[col.target]) + t_bonus);
        inv_z_sum += 1.0 / z;
        for (uint32_t a : x.touched) x.corr[a] += (std::exp(x.bonus[a]) - 1.0) / z;
        if (with_grad) {
          for (uint32_t a : x.touched)
            x.g[a] = expb[a] * std::exp(x.bonus[a]) / z - (a == col.target ? 1.0 : 0.0);
          for (uint32_t i = col.begin; i < col.end; ++i) x.grad[terms[i].weight] += x.g[terms[i].action];
        }
        for (uint32_t a : x.touched) x.seen[a] = 0;
      }
      x.nll = nll;
      x.inv_z = inv_z_sum;
    });
    sums[0] = scratch[0].nll;
    sums[1] = scratch[0].inv_z;
    std::copy(scratch[0].grad.begin(), scratch[0].grad.end(), sums.begin() + 2);
    std::copy(scratch[0].corr.begin(), scratch[0].corr.end(), sums.begin() + 2 + long(n_theta));
    for (unsigned t = 1; t < threads; ++t) {
      const Scratch& x = scratch[t];
      sums[0] += x.nll;
      sums[1] += x.inv_z;
      for (size_t i = 0; i < n_theta; ++i) sums[2 + i] += x.grad[i];
      for (size_t a = 0; a < V; ++a) sums[2 + n_theta + a] += x.corr[a];
    }
    world.sum(sums.data(), sums.size());
    inv_z = sums[1];
    std::copy(sums.begin() + 2, sums.begin() + 2 + long(n_theta), grad.begin());
    std::copy(sums.begin() + 2 + long(n_theta), sums.end(), corr.begin());
    return sums[0] / double(out.columns);
  };
  auto fit_biases = [&]() {  // after a pass: inv_z and corr are the last θ's
    z0 = 0;
    // S_a is a sum of positive terms, computed as inv_z + corr[a]: when every column touches a
    // with a very negative bonus (a log where a always follows something else), the difference
    // cancels to 0 or below in floating point and the bias would be inf or NaN. Floored at a
    // tiny share of Σ_c 1/Z_c (an arbitrary relative floor: only the cancelled cases reach it).
    for (size_t a = 0; a < V; ++a) z0 += expb[a] = n_target[a] / std::max(inv_z + corr[a], 1e-12 * inv_z);
  };
  out.nll_popularity = pass(false);
  const double lr = 0.1, b1 = 0.9, b2 = 0.99;
  for (int it = 1; it <= 200; ++it) {
    pass(true);
    if (it % 10 == 0 && !counts) fit_biases();  // its pass's gradient is for the old biases: close enough
    for (size_t i = 0; i < n_theta; ++i) {
      const double gi = grad[i] / double(out.columns) + 1e-4 * theta[i];  // a touch of L2: unused buckets stay 0
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      theta[i] -= lr * (m[i] / (1 - std::pow(b1, it))) / (std::sqrt(v[i] / (1 - std::pow(b2, it))) + 1e-8);
    }
  }
  pass(false);
  if (!counts) fit_biases();
  {  // as log-probabilities (any shift is the same softmax; this keeps them readable)
    const double log_z0 = std::log(z0);
    for (size_t a = 0; a < V; ++a) bias[a] = float(std::log(expb[a]) - log_z0);
  }
  out.nll_fitted = pass(false);
  // The ranking refinement: from the likelihood's θ, coordinate ascent of the columns' NDCG@10
  // over θ and a scale β of the biases (the count head, TrainResult::count_head).
  if (rank) {
    const auto t0 = std::chrono::steady_clock::now();
    // Two sets of biases rank: the likelihood's (the ascent's) and the training targets'
    // log-frequencies (the popularity the baselines fall back on: their mixes below; counted over
    // the fitted columns, which on logs past 60,000 columns are a sample, and the baselines over
    // every training event: the same order on small logs, close on large ones). bs / sorted point
    // at the set in use; id 0 is never ranked.
    // Per set: the biases, a target's bias without its column's own count (the biases were
    // fitted on these columns: otherwise every target is "popular" by itself, and β learns to
    // trust that; given counts are not the columns': nothing to take out), and the sorted biases
    // of ids 1..V-1 (id 0 is never ranked). `biases` points at the set in use.
    struct RankBiases {
      std::vector<double> b, own_out, sorted;
    };
    auto rank_biases = [&](std::vector<double> b, std::vector<double> own_out) {
      std::vector<double> s(b.begin() + 1, b.end());
      std::sort(s.begin(), s.end());
      return RankBiases{std::move(b), std::move(own_out), std::move(s)};
    };
    std::vector<double> fb(bias, bias + V), fb_out(V), pb(V), pb_out(V);
    for (size_t a = 0; a < V; ++a) {
      const bool own = !counts && n_target[a] > 1;  // a target of some column (n_target: its count + 1/2)
      pb[a] = counts ? fb[a] : std::log(n_target[a]);
      fb_out[a] = own ? fb[a] + std::log((n_target[a] - 1.0) / n_target[a]) : fb[a];
      pb_out[a] = own ? std::log(n_target[a] - 1.0) : pb[a];  // exactly the level of one count less
    }
    const RankBiases fitted = rank_biases(std::move(fb), std::move(fb_out));
    const RankBiases popular = rank_biases(std::move(pb), std::move(pb_out));
    const RankBiases* biases = &fitted;
    // At most kRankColumns of the columns, evenly spaced (every fitted column: 12,000 let the
    // ascent follow noise, bench/results/next-action/NOTES.md), and about kRankTerms terms among
    // them (more than any log without attributes here has): each evaluation is O(their terms),
    // and the ascent makes a few thousand. (With attributes a column's match terms are every
    // action of its window's values: thousands.)
    const size_t kRankColumns = 60000, kRankTerms = 12000000;
    double all_terms = double(terms.size());  // every process's
    world.sum(&all_terms, 1);
    const size_t by_terms = (size_t(all_terms) + kRankTerms - 1) / kRankTerms;
    const size_t every = std::max((out.columns + kRankColumns - 1) / kRankColumns, by_terms);
    std::vector<Column> rank_cols;
    std::vector<Term> rank_terms;
    uint64_t n_rank_cols = 0;  // every process's
    if (net->cfg.count_transitions && h.transition_bytes) {
      // The count head's own (larger) table: the same columns, their successors from it. Its
      // buckets mean what the network table's do, so θ starts from the likelihood's fit.
      n_rank_cols = build_columns(net->cfg.count_transitions.get(), stride * every, &rank_cols, &rank_terms, nullptr, nullptr);
      term_set = &rank_terms;
    } else {
      for (size_t i = 0; i < cols.size(); ++i)
        if (cols[i].index % every == 0) rank_cols.push_back(cols[i]);
      n_rank_cols = sharded ? rank_cols.size() : (out.columns + every - 1) / every;
    }
    if (sharded) {  // a shard's column indices are its own: the columns kept, counted
      double n = double(n_rank_cols);
      world.sum(&n, 1);
      n_rank_cols = uint64_t(n);
    }
    // A column's NDCG@10 term: the target's rank among all V (ties against it, as eval.h ranks).
    // An untouched action scores β·b, so the count above the target is a binary search over the
    // sorted biases, corrected for the column's touched actions. Kept as the rank (kMiss past
    // the top ten): the ascent's sums are then counts of columns per rank, integers that add up
    // alike in any order, so every process and thread split takes the same steps.
    constexpr uint8_t kMiss = 10;
    double gain_of[kMiss + 1];
    for (int r = 0; r < kMiss; ++r) gain_of[r] = 1.0 / std::log2(double(r) + 2.0);
    gain_of[kMiss] = 0;
    using Counts = std::array<double, kMiss + 1>;  // columns per rank level (exact integers)
    auto value_of = [&](const Counts& n) {
      double v = 0;
      for (int r = 0; r <= kMiss; ++r) v += n[size_t(r)] * gain_of[r];
      return v / double(n_rank_cols);
    };
    auto column_rank = [&](Scratch& x, const Column& col, const std::vector<double>& th, double beta) -> uint8_t {
      gather(x, col, th);
      uint8_t level = kMiss;
      const uint32_t t = col.target;
      if (t != 0) {
        const bool t_touched = x.seen[t];
        const std::vector<double>& b = biases->b;
        const std::vector<double>& sorted = biases->sorted;
        const double st = beta * biases->own_out[t] + (t_touched ? x.bonus[t] : 0.0), thr = st / beta;
        int64_t r = int64_t(sorted.end() - std::lower_bound(sorted.begin(), sorted.end(), thr));
        if (!t_touched && b[t] >= thr) --r;  // the target itself
        for (uint32_t a : x.touched) {
          if (a == 0) continue;
          if (b[a] >= thr) --r;
          if (a != t && beta * b[a] + x.bonus[a] >= st) ++r;
        }
        if (r < kMiss) level = uint8_t(r);
      }
      for (uint32_t a : x.touched) x.seen[a] = 0;
      return level;
    };
    // Ranks the columns `which` (indices into rank_cols; null: all of this process's) into
    // levels[j] (the j-th of them), returning how many fell on each level across every process.
    // With `minus` (the columns' current levels, by column), the counts are the change: the
    // columns' new levels counted, their current ones taken off. The threads take contiguous
    // runs of the columns (counts add up alike however they are split); a step's few columns
    // stay on one thread.
    auto rank_columns = [&](const std::vector<uint32_t>* which, const std::vector<double>& th, double beta,
                            std::vector<uint8_t>* levels, const std::vector<uint8_t>* minus = nullptr) {
      const size_t n = which ? which->size() : rank_cols.size();
      levels->resize(n);
      const unsigned used = n < 512 ? 1 : threads;
      std::vector<Counts> per(used, Counts{});
      run_threads(used, [&](unsigned t) {
        Counts local{};
        uint8_t* out_levels = levels->data();
        for (size_t j = n * t / used, end = n * (t + 1) / used; j < end; ++j) {
          const uint32_t c = which ? (*which)[j] : uint32_t(j);
          if (minus) local[(*minus)[c]] -= 1;
          const uint8_t level = column_rank(scratch[t], rank_cols[c], th, beta);
          out_levels[j] = level;
          local[level] += 1;
        }
        per[t] = local;
      });
      for (unsigned t = 1; t < used; ++t)
        for (size_t r = 0; r <= kMiss; ++r) per[0][r] += per[t][r];
      world.sum(per[0].data(), per[0].size());
      return per[0];
    };
    // Which of this process's columns read each weight: a step of one weight changes only
    // theirs, so the ascent re-ranks those alone (the same sums, a fraction of the work).
    std::vector<std::vector<uint32_t>> cols_reading(n_theta);
    {
      std::vector<uint32_t> last(n_theta, UINT32_MAX);
      for (uint32_t c = 0; c < rank_cols.size(); ++c)
        for (uint32_t i = rank_cols[c].begin; i < rank_cols[c].end; ++i) {
          const uint32_t w = (*term_set)[i].weight;
          if (last[w] != c) cols_reading[w].push_back(last[w] = c);
        }
    }
    std::vector<double> uses(n_theta, 0);  // terms per weight, every process's
    for (const Column& col : rank_cols)
      for (uint32_t i = col.begin; i < col.end; ++i) ++uses[(*term_set)[i].weight];
    world.sum(uses.data(), uses.size());
    std::vector<uint8_t> scratch_levels;
    auto ndcg = [&](const std::vector<double>& th, double beta) {
      return value_of(rank_columns(nullptr, th, beta, &scratch_levels));
    };
    // The ascent only goes uphill, by small steps, and the columns' NDCG has more than one local
    // optimum (a popularity-led one at bias scales ~0.1 and a transition-led one at ~0.01). So it
    // runs from two starts and keeps the better end (only the better start where the terms bound
    // thinned the columns: with attributes an ascent takes minutes): the best of the likelihood's
    // θ at a few bias scales, and the best of the simple baselines written as θ (popularity a tie-break):
    // repeat (the window's actions, most recent first), Markov (successors by count, then by
    // share) and Markov then repeat. So the count head ends no worse on these columns than the
    // best baseline the mix can express.
    struct Start {
      std::vector<double> th;
      double beta = 1.0, ndcg = -1.0;
    };
    auto consider = [&](Start* s, const std::vector<double>& cand, double b0) {
      const double v = ndcg(cand, b0);
      if (v > s->ndcg + 1e-9) *s = Start{cand, b0, v};
    };
    out.ndcg_fitted = ndcg(theta, 1.0);
    Start from_fit{theta, 1.0, out.ndcg_fitted}, from_baseline;
    for (double b0 : {0.5, 0.25, 0.1, 0.03}) consider(&from_fit, theta, b0);
    auto baseline = [&](double repeat_level, double markov_level) {
      std::vector<double> c(n_theta, 0.0);
      for (size_t i = 0; i < n_dist && repeat_level > 0; ++i)
        c[i] = repeat_level - 0.5 * double(i % hunch::kCopyDistanceBuckets);
      for (size_t i = 0; i < n_trans && markov_level > 0; ++i)
        c[n_copy + i] = markov_level + 2.0 * double(i / hunch::kTransitionShareBuckets) -
                        0.2 * double(i % hunch::kTransitionShareBuckets);
      return c;
    };
    if (n_dist) consider(&from_baseline, baseline(20, 0), 0.01);
    if (n_trans) consider(&from_baseline, baseline(0, 20), 0.01);
    if (n_dist && n_trans) consider(&from_baseline, baseline(10, 20), 0.01);
    // Steps of 1, 1/2, 1/4 and 1/8 logits (β by e^(±step/2)), at most 3 sweeps each; a weight
    // read by fewer than 20 of the columns stays: its NDCG would be noise.
    auto ascend = [&](Start s) {
      std::vector<uint8_t> levels, trial;  // levels: each of this process's columns' current rank
      Counts now = rank_columns(nullptr, s.th, s.beta, &levels);
      s.ndcg = value_of(now);
      for (double step = 1.0; step > 0.1; step *= 0.5)
        for (int sweep = 0; sweep < 3; ++sweep) {
          bool improved = false;
          for (size_t i = 0; i <= n_theta; ++i) {
            if (i < n_theta && uses[i] < 20) continue;
            for (double d : {step, -step}) {
              if (i == n_theta) {  // β: every column
                const double nb = s.beta * std::exp(d / 2);
                const Counts next = rank_columns(nullptr, s.th, nb, &trial);
                const double v = value_of(next);
                if (v > s.ndcg + 1e-9) {
                  s.ndcg = v;
                  s.beta = nb;
                  levels.swap(trial);
                  now = next;
                  improved = true;
                  break;
                }
                continue;
              }
              const std::vector<uint32_t>& reads = cols_reading[i];
              const double old = s.th[i];
              s.th[i] += d;
              // The step's change in the counts: its columns' new ranks less their old ones.
              Counts next = rank_columns(&reads, s.th, s.beta, &trial, &levels);
              for (size_t r = 0; r <= kMiss; ++r) next[r] += now[r];
              const double v = value_of(next);
              if (v > s.ndcg + 1e-9) {
                for (size_t j = 0; j < reads.size(); ++j) levels[reads[j]] = trial[j];
                now = next;
                s.ndcg = v;
                improved = true;
                break;
              }
              s.th[i] = old;
            }
          }
          if (!improved) break;
        }
      return s;
    };
    Start end;
    if (by_terms <= 1) {
      end = ascend(from_fit);
      if (from_baseline.ndcg >= 0) {
        Start other = ascend(from_baseline);
        if (other.ndcg > end.ndcg) std::swap(end, other);
        out.alternatives.push_back({"the other start's ascent", float(other.beta), other.th, other.ndcg});
      }
    } else {
      end = ascend(from_baseline.ndcg > from_fit.ndcg + 1e-9 ? from_baseline : from_fit);
    }
    // A baseline's mix falls back on popularity as the baseline does: with the training
    // targets' log-frequencies, not the likelihood's biases (which the copy and transition
    // terms pulled down for repeated and followed actions: on OTTO's sample those put other
    // actions first where no repeat applies, 0.73x the repeat baseline its mix was to equal).
    auto add_baseline = [&](const char* name, double repeat_level, double markov_level) {
      const std::vector<double> th = baseline(repeat_level, markov_level);
      biases = &popular;
      out.alternatives.push_back({name, 0.01f, th, ndcg(th, 0.01), true});
      biases = &fitted;
    };
    if (n_dist) add_baseline("the repeat baseline's mix", 20, 0);
    if (n_trans) add_baseline("the Markov baseline's mix", 0, 20);
    if (n_dist && n_trans) add_baseline("the Markov-then-repeat mix", 10, 20);
    out.fitted_bias.assign(fitted.b.begin(), fitted.b.end());
    out.popular_bias.assign(popular.b.begin(), popular.b.end());
    out.ndcg_ranked = end.ndcg;
    out.bias_scale = float(end.beta);
    out.ranked_bias.resize(V);
    for (size_t a = 0; a < V; ++a) out.ranked_bias[a] = float(end.beta * fitted.b[a]);
    out.ranked_theta.assign(end.th.begin(), end.th.end());
    out.rank_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  write_theta(theta, net);
  return out;
}

void choose_count_head(ActionStart* start, size_t i) {
  ActionStart::Alternative& alt = start->alternatives.at(i);
  ActionStart::Alternative was{start->chosen, start->bias_scale, start->ranked_theta, start->ndcg_ranked,
                               start->chosen_popular};
  start->chosen = alt.name;
  start->chosen_popular = alt.popular;
  start->bias_scale = alt.bias_scale;
  start->ranked_theta = alt.theta;
  start->ndcg_ranked = alt.ndcg;
  const std::vector<float>& b = alt.popular ? start->popular_bias : start->fitted_bias;
  for (size_t a = 0; a < start->ranked_bias.size(); ++a) start->ranked_bias[a] = alt.bias_scale * b[a];
  alt = std::move(was);
}

void apply_count_head(const ActionStart& start, Net* net) {
  if (start.ranked_bias.empty()) return;
  std::copy(start.ranked_bias.begin(), start.ranked_bias.end(), net->params.ptr(net->head_ab));
  std::vector<double> theta(start.ranked_theta.begin(), start.ranked_theta.end());
  write_theta(theta, net);
  auto zero = [&](size_t t) { std::fill_n(net->params.ptr(t), net->params.entries[t].size, 0.0f); };
  zero(net->head_aw);
  if (net->cfg.hyper.copy) zero(net->head_copy_gate);
  if (net->cfg.hyper.attr_columns) zero(net->head_attr);
}

std::vector<size_t> count_head_tensors(const Net& net) {
  const hunch::Hyper& h = net.cfg.hyper;
  std::vector<size_t> t = {net.head_aw, net.head_ab, net.emb_action};
  if (h.copy) t.insert(t.end(), {net.head_copy_gate, net.head_copy_distance, net.head_copy_type, net.head_copy_count});
  if (h.transition_bytes) t.push_back(net.head_transition_weight);
  if (h.attr_columns) t.insert(t.end(), {net.head_attr, net.head_attr_match});
  return t;
}

}  // namespace hunch::train
