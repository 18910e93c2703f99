#include "train/transitions.h"

#include <algorithm>
#include <numeric>

namespace hunch::train {

uint8_t TransitionCounts::bucket(const Dataset& data, uint64_t input, uint64_t target, uint32_t next_action,
                                 uint32_t pair_count) const {
  const uint32_t a = data.action[input];
  uint64_t pair = pair_count, total = from[a];
  if (target == input + 1 && counted[input]) {  // the column's own pair: left out
    --total;
    if (data.action[target] == next_action) --pair;
  }
  if (pair == 0) return 0xff;
  return uint8_t(hunch::transition_bucket(pair, total));
}

void for_counted_pairs(const Dataset& data, const std::vector<Sample>& samples, std::vector<uint8_t>* counted,
                       const std::function<void(uint64_t, uint32_t, uint32_t)>& fn) {
  const bool sessions = data.flags.size() == data.events();
  // Every pair of a sample's training part: from its sequence's start (or the earliest event its
  // windows may start at) to its target_end.
  for (const Sample& s : samples) {
    const uint64_t start = *(std::upper_bound(data.offsets.begin(), data.offsets.end(), s.begin) - 1);
    for (uint64_t i = std::max(start, std::min(s.first, s.begin)); i + 1 < s.target_end; ++i) {
      if ((*counted)[i]) continue;
      const uint32_t a = data.action[i], b = data.action[i + 1];
      if (a == 0 || b == 0 || (sessions && (data.flags[i + 1] & kSessionStart))) continue;
      (*counted)[i] = 1;
      fn(i, a, b);
    }
  }
}

size_t most_frequent_first(TransitionPair* begin, TransitionPair* end, uint32_t max_successors) {
  std::stable_sort(begin, end, [](const TransitionPair& x, const TransitionPair& y) { return x.count > y.count; });
  return std::min<size_t>(size_t(end - begin), max_successors);
}

void keep_transitions(size_t V, std::vector<TransitionPair> all, uint32_t max_successors, uint64_t max_bytes,
                      TransitionCounts* t) {
  t->rows.assign(V, {});
  // Per action the most frequent max_successors (all is sorted by a, then b).
  std::vector<TransitionPair> kept;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    while (j < all.size() && all[j].a == all[i].a) ++j;
    const size_t keep = most_frequent_first(all.data() + i, all.data() + j, max_successors);
    kept.insert(kept.end(), all.begin() + long(i), all.begin() + long(i + keep));
    i = j;
  }
  // Then the most frequent overall, as many as the budget holds: the largest prefix whose
  // encoding fits (binary search; the encoding grows with the prefix).
  std::stable_sort(kept.begin(), kept.end(), [](const TransitionPair& x, const TransitionPair& y) { return x.count > y.count; });
  auto encode = [&](size_t n, std::vector<uint8_t>* out) {
    std::vector<std::vector<hunch::Transition>> rows(V);
    std::vector<TransitionPair> take(kept.begin(), kept.begin() + long(n));
    std::sort(take.begin(), take.end(), [](const TransitionPair& x, const TransitionPair& y) { return x.a != y.a ? x.a < y.a : x.b < y.b; });
    for (const TransitionPair& p : take) rows[p.a].push_back({p.b, uint8_t(hunch::transition_bucket(p.count, t->from[p.a]))});
    out->clear();
    hunch::encode_transitions(rows, out);
    return take;
  };
  size_t lo = 0, hi = kept.size();
  std::vector<uint8_t> probe;
  while (lo < hi) {
    const size_t mid = (lo + hi + 1) / 2;
    encode(mid, &probe);
    if (probe.size() <= max_bytes) lo = mid;
    else hi = mid - 1;
  }
  for (const TransitionPair& p : encode(lo, &t->table)) t->rows[p.a].push_back({p.b, p.count});
  t->kept = lo;
  if (lo == 0) t->table.clear();  // nothing fits (or nothing counted): no table
}

TransitionCounts count_transitions(const Dataset& data, const std::vector<Sample>& training,
                                   uint32_t max_successors, uint64_t max_bytes, Collective* collective) {
  const size_t V = data.actions.size();
  TransitionCounts t;
  t.from.assign(V, 0);
  t.rows.assign(V, {});
  t.counted.assign(data.events(), 0);
  std::vector<uint64_t> pairs;  // a << 32 | b, one per counted pair
  for_counted_pairs(data, training, &t.counted, [&](uint64_t, uint32_t a, uint32_t b) {
    ++t.from[a];
    pairs.push_back(uint64_t(a) << 32 | b);
  });
  t.pairs = pairs.size();
  std::sort(pairs.begin(), pairs.end());
  std::vector<TransitionPair> all;
  for (size_t i = 0; i < pairs.size();) {
    size_t j = i;
    while (j < pairs.size() && pairs[j] == pairs[i]) ++j;
    all.push_back({uint32_t(pairs[i] >> 32), uint32_t(pairs[i]), uint32_t(j - i)});
    i = j;
  }
  if (data.sharded && collective && collective->size() > 1) {
    // Every process's distinct pairs with their counts (users are disjoint, so counts add),
    // merged in (a, b) order alike everywhere; the per-action totals summed.
    std::vector<std::pair<uint64_t, double>> mine;
    mine.reserve(all.size());
    for (const TransitionPair& p : all) mine.emplace_back(uint64_t(p.a) << 32 | p.b, double(p.count));
    all.clear();
    for (const auto& [key, count] : sum_by_key(*collective, mine))
      all.push_back({uint32_t(key >> 32), uint32_t(key), uint32_t(count)});
    std::vector<double> from(t.from.begin(), t.from.end());
    from.push_back(double(t.pairs));
    collective->sum(from.data(), from.size());
    for (size_t a = 0; a < V; ++a) t.from[a] = uint32_t(from[a]);
    t.pairs = uint64_t(from[V]);
  }
  t.distinct = all.size();
  keep_transitions(V, std::move(all), max_successors, max_bytes, &t);
  return t;
}

uint64_t network_int8_bytes(const hunch::Hyper& h, bool tied) {
  uint64_t bytes = 0;
  for (const hunch::TensorLayout& l : hunch::tensor_layout(h)) {
    if (l.spec->bytes || (tied && l.spec->tied_with)) continue;
    if (l.is_matrix() && l.spec->quantised) bytes += uint64_t(l.rows) * l.cols + 4ull * l.rows;
    else bytes += 4ull * l.rows * std::max<uint32_t>(1, l.cols);
  }
  return bytes;
}

}  // namespace hunch::train
