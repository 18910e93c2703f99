#include "train/attributes.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "hunch/format.h"
#include "train/dataset.h"
#include "train/ingest-formats.h"
#include "train/ingest.h"

namespace hunch::train {


Error AttrCollector::configure(const std::vector<std::string>& categorical, const std::vector<std::string>& numeric) {
  *this = AttrCollector();
  auto add = [&](const std::string& name, bool is_numeric) -> Error {
    if (name.empty()) return Error("attribute columns: an empty column name");
    for (size_t k = 0; k < names_.size(); ++k)
      if (names_[k] == name) {
        if (is_numeric) numeric_[k] = true;  // listed in both: numeric
        return {};
      }
    if (names_.size() == kMaxAttrColumns)
      return Error("attribute columns: at most " + std::to_string(kMaxAttrColumns) + " (--attr-columns and --numeric-columns together)");
    names_.push_back(name);
    numeric_.push_back(is_numeric);
    return {};
  };
  for (const auto& c : categorical) if (Error e = add(c, false)) return e;
  for (const auto& c : numeric) if (Error e = add(c, true)) return e;
  values_.resize(names_.size());
  return {};
}

Error AttrCollector::add_column(const std::string& name, bool numeric) {
  const size_t K = names_.size();
  if (K == kMaxAttrColumns) return Error("attribute columns: at most " + std::to_string(kMaxAttrColumns));
  std::vector<uint32_t> first((first_.size() / std::max<size_t>(K, 1)) * (K + 1), 0);
  for (size_t a = 0; K && a < first_.size() / K; ++a)
    std::copy(first_.begin() + a * K, first_.begin() + (a + 1) * K, first.begin() + a * (K + 1));
  first_.swap(first);
  names_.push_back(name);
  numeric_.push_back(numeric);
  values_.emplace_back();
  return {};
}

uint32_t AttrCollector::Values::id(const std::string& v) {
  const uint32_t i = table_.id(v);
  if (i == count.size()) count.push_back(0);
  ++count[i];
  return i + 1;
}

void AttrCollector::add(uint32_t raw_action, const std::vector<std::string>& values, uint32_t user) {
  const size_t K = names_.size();
  if (!K) return;
  if (first_.size() < (size_t(raw_action) + 1) * K) first_.resize((size_t(raw_action) + 1) * K, 0);
  static const std::string kNoValue;
  for (size_t k = 0; k < K; ++k) {
    const std::string& v = k < values.size() ? values[k] : kNoValue;  // a reader that gave fewer: missing
    // A value the model file cannot hold (over its string limit, or a NUL: names are NUL-joined
    // for the SDK) is missing, as a token is.
    if (v.empty() || v == kAttrNone || formats::is_missing_token(v) || v.size() > hunch::kMaxStringBytes || v.find('\0') != std::string::npos) continue;
    double x = 0;
    if (numeric_[k] && (!read_attr_number(v, &x) || !std::isfinite(x))) continue;  // not a number: missing
    const uint32_t id = values_[k].id(v);
    uint32_t& first = first_[size_t(raw_action) * K + k];
    if (!first) first = id;
    if (writer_cap_ && !numeric_[k]) {
      if (writers_.size() < K) writers_.resize(K), writer_pairs_.resize(K);
      std::vector<uint32_t>& n = writers_[k];
      if (n.size() <= id) n.resize(size_t(id) + 1, 0);
      if (n[id] < writer_cap_ && writer_pairs_[k].insert(uint64_t(id) << 32 | user).second) ++n[id];
    }
  }
}

uint64_t AttrCollector::bytes() const {
  uint64_t b = first_.capacity() * sizeof(uint32_t);
  for (const Values& v : values_) b += v.bytes();
  for (const auto& n : writers_) b += n.capacity() * sizeof(uint32_t);
  for (const auto& s : writer_pairs_) b += s.size() * (sizeof(uint64_t) + 2 * sizeof(void*)) + s.bucket_count() * sizeof(void*);
  return b;
}

namespace {

// Quantile edges of a numeric column's values (weighted by their event counts): at most
// `buckets` buckets, named by their lower edges, the first "-inf" (hunch/attributes.h).
std::vector<std::string> numeric_bucket_names(const NameTable& names, const std::vector<uint64_t>& count,
                                              uint32_t buckets) {
  std::vector<std::pair<double, uint64_t>> v;
  uint64_t total = 0;
  for (uint32_t i = 0; i < names.size(); ++i) {
    double x = 0;
    read_attr_number(names.name(i), &x);  // add() kept numbers only
    v.emplace_back(x, count[i]);
    total += count[i];
  }
  std::sort(v.begin(), v.end());
  std::vector<std::string> out = {"-inf"};
  double last = -INFINITY;
  uint64_t seen = 0;
  uint32_t next = 1;  // the next quantile i / buckets to place an edge at
  for (const auto& [x, c] : v) {
    // An edge where the running count first reaches the next quantile (a value heavier than one
    // bucket gets one edge; the buckets after it shift).
    if (next < buckets && seen >= uint64_t(double(total) * next / buckets) && seen > 0) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6g", x);
      double edge = 0;
      parse_attr_number(buf, &edge);
      if (edge > last) {
        out.push_back(buf);
        last = edge;
      }
      while (next < buckets && seen >= uint64_t(double(total) * next / buckets)) ++next;
    }
    seen += c;
  }
  return out;
}

}  // namespace

Error AttrCollector::finish(uint32_t min_count, uint32_t min_users, uint32_t max_values, uint32_t numeric_buckets,
                            const FixedVocabulary* fixed, const std::vector<uint32_t>& action_map,
                            const std::vector<uint32_t>& event_raw_action, const std::vector<uint32_t>& event_user,
                            Dataset* out, const std::function<void(std::vector<double>*)>& sum_across) const {
  const size_t K = names_.size();
  out->attr_columns = names_;
  out->attr_numeric = numeric_;
  out->attr_values.clear();
  if (fixed) {
    // The model's columns, in its order; a column the log lacks reads <none>.
    out->attr_columns = fixed->attr_columns;
    out->attr_numeric = fixed->attr_numeric;
    out->attr_values = fixed->attr_values;
  } else {
    // A column left without a value (none read as a number, or every value withheld) is not
    // shipped: it would cost bytes and steps and say nothing. The report names it.
    out->attr_columns.clear();
    out->attr_numeric.clear();
    for (size_t k = 0; k < K; ++k) {
      const Values& col = values_[k];
      if (numeric_[k]) {
        if (col.size() == 0) continue;
        out->attr_columns.push_back(names_[k]);
        out->attr_numeric.push_back(true);
        out->attr_values.push_back(kAttrNone);
        for (const std::string& name : numeric_bucket_names(col.table(), col.count, std::max(1u, numeric_buckets)))
          out->attr_values.push_back(name);
        continue;
      }
      // Distinct users who wrote value id v (1-based), as counted by add (the cap when untracked:
      // a collector without set_min_users, as a model's fixed vocabulary reads).
      auto wrote = [&](size_t k, uint32_t v) -> uint32_t {
        if (!writer_cap_) return UINT32_MAX;
        return k < writers_.size() && v < writers_[k].size() ? writers_[k][v] : 0;
      };
      // Distinct users per value (ids 1-based) by a last-user stamp: each user's events are together.
      std::vector<uint32_t> users(col.size() + 1, 0), last(col.size() + 1, UINT32_MAX);
      if (min_users > 1)
        for (size_t i = 0; i < event_raw_action.size() && i < event_user.size(); ++i) {
          const size_t a = event_raw_action[i];
          const uint32_t v = (a + 1) * K <= first_.size() ? first_[a * K + k] : 0;
          if (v && last[v] != event_user[i]) last[v] = event_user[i], ++users[v];
        }
      if (min_users > 1 && sum_across) {  // each process's own users: disjoint, so they add up
        std::vector<double> all(users.begin(), users.end());
        sum_across(&all);
        for (size_t i = 0; i < users.size(); ++i) users[i] = uint32_t(all[i]);
      }
      std::vector<uint32_t> order;
      for (uint32_t i = 0; i < col.size(); ++i)
        if (col.count[i] >= min_count && (min_users <= 1 || (users[i + 1] >= min_users && wrote(k, i + 1) >= min_users)))
          order.push_back(i);
      std::sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) {
        if (col.count[x] != col.count[y]) return col.count[x] > col.count[y];
        return col.name(x) < col.name(y);
      });
      if (order.size() > max_values) order.resize(max_values);
      if (order.empty()) continue;
      out->attr_columns.push_back(names_[k]);
      out->attr_numeric.push_back(false);
      out->attr_values.push_back(kAttrNone);
      for (uint32_t i : order) out->attr_values.emplace_back(col.name(i));
    }
    if (out->attr_values.size() > kMaxAttrValues)
      return Error("attribute columns: " + std::to_string(out->attr_values.size()) + " values in all, at most " +
                   std::to_string(kMaxAttrValues) + " (lower --max-attr-values)");
  }
  const size_t MK = out->attr_columns.size();
  out->attr.clear();
  out->action_attr.clear();
  out->attr_start.clear();
  if (MK == 0) return {};
  AttrIndex index;
  if (Error e = index.build(out->attr_columns, out->attr_numeric, &out->attr_values)) return e;
  out->attr_start.assign(MK + 1, 0);
  for (size_t k = 0; k <= MK; ++k) out->attr_start[k] = index.start(uint32_t(k));
  // Per raw action: its value id in each of the vocabulary's columns.
  const size_t raw_actions = action_map.size();
  std::vector<uint16_t> raw_ids(raw_actions * MK);
  for (size_t k = 0; k < MK; ++k) {
    const auto at = std::find(names_.begin(), names_.end(), out->attr_columns[k]);
    const size_t ck = size_t(at - names_.begin());  // the collector's column, or K: not read
    for (size_t a = 0; a < raw_actions; ++a) {
      const uint32_t first = ck < K && (a + 1) * K <= first_.size() ? first_[a * K + ck] : 0;
      raw_ids[a * MK + k] = uint16_t(first ? index.id(uint32_t(k), values_[ck].name(first - 1)) : index.start(uint32_t(k)));
    }
  }
  out->attr.resize(event_raw_action.size() * MK);
  for (size_t i = 0; i < event_raw_action.size(); ++i)
    std::copy_n(&raw_ids[size_t(event_raw_action[i]) * MK], MK, &out->attr[i * MK]);
  // Per vocabulary action: its raw action's ids (<unk> and actions the log lacks: <none>).
  out->action_attr.assign(out->actions.size() * MK, 0);
  for (size_t a = 0; a < out->actions.size(); ++a)
    for (size_t k = 0; k < MK; ++k) out->action_attr[a * MK + k] = uint16_t(index.start(uint32_t(k)));
  for (size_t r = 0; r < raw_actions; ++r)
    if (action_map[r] != 0) std::copy_n(&raw_ids[r * MK], MK, &out->action_attr[size_t(action_map[r]) * MK]);
  return {};
}

}  // namespace hunch::train
