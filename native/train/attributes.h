// Event attributes at ingestion (--attr-columns, --numeric-columns): the values of K columns
// that describe an event's action (category, brand, price), collected per distinct action while
// the log is read, then turned into the attribute vocabulary (hunch/attributes.h) and the
// Dataset's per-event and per-action value ids.
//
// An action's attributes are those of its first record that has them: a product's category and
// brand do not change between events, and the model stores one value per action and column
// (attr.table), so training sees what inference will look up. Numeric columns (a price) are
// bucketised by quantiles of their events' values (--numeric-buckets).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "hunch/attributes.h"
#include "hunch/error.h"
#include "train/name-table.h"

namespace hunch::train {

struct Dataset;
struct FixedVocabulary;

class AttrCollector {
 public:
  // The attribute columns: `categorical` then those of `numeric` not already listed (numeric
  // ones bucketised). Errors on more than kMaxAttrColumns or a repeated name.
  Error configure(const std::vector<std::string>& categorical, const std::vector<std::string>& numeric);
  // One more column after records were added (JSON logs, whose keys show up record by record):
  // the actions added before have no value in it yet. Errors past kMaxAttrColumns.
  Error add_column(const std::string& name, bool numeric);
  size_t columns() const { return names_.size(); }
  const std::vector<std::string>& names() const { return names_; }
  bool numeric(size_t k) const { return numeric_[k]; }
  uint32_t distinct(size_t k) const { return values_[k].size(); }  // values read (numbers only, when numeric)

  // With min_users > 1 (the k-anonymous vocabulary), before the first add: a categorical value
  // ships only when at least that many distinct users wrote it (add's `user`), whatever the
  // users of the actions it describes: a value string one user typed is that user's.
  void set_min_users(uint32_t min_users) { writer_cap_ = min_users > 1 ? min_users : 0; }
  // One accepted record of raw action `raw_action` (ids from 0, dense, in order of first sight)
  // by `user` (any id, the same for a user's records) with its K attribute values (missing ones
  // empty or a missing token; absent ones past the end of `values` too).
  void add(uint32_t raw_action, const std::vector<std::string>& values, uint32_t user = 0);

  // Fills out's attribute fields: the vocabulary (values seen at least min_count times, at most
  // max_values per categorical column; numeric_buckets quantile buckets per numeric column) or
  // that of `fixed` (a model's, for hunch eval), out->attr for the kept events whose raw actions
  // are `event_raw_action`, and out->action_attr for out->actions through action_map (raw id →
  // vocabulary id). With min_users > 1 a categorical value also needs that many distinct users
  // (`event_user`, per kept event, each user's events together) among the events of the actions
  // holding it, and (set_min_users) that many who wrote it: the value names a model ships are
  // k-anonymous like its action names. sum_across (sharded reading, IngestOptions::shard): sums
  // a vector over the processes, each holding its own users' events (called alike in each).
  Error finish(uint32_t min_count, uint32_t min_users, uint32_t max_values, uint32_t numeric_buckets,
               const FixedVocabulary* fixed, const std::vector<uint32_t>& action_map,
               const std::vector<uint32_t>& event_raw_action, const std::vector<uint32_t>& event_user,
               Dataset* out, const std::function<void(std::vector<double>*)>& sum_across = {}) const;
  uint64_t bytes() const;  // memory held (the ingestion report's peak estimate)

 private:
  class Values {  // one column's distinct raw values with their event counts
   public:
    uint32_t id(const std::string& v);  // 1-based
    uint32_t size() const { return table_.size(); }
    std::string_view name(uint32_t i) const { return table_.name(i); }  // id - 1 → value
    const NameTable& table() const { return table_; }
    std::vector<uint64_t> count;
    uint64_t bytes() const { return table_.bytes() + count.capacity() * sizeof(uint64_t); }
   private:
    NameTable table_;  // held once, compactly (name-table.h)
  };
  std::vector<std::string> names_;
  std::vector<bool>        numeric_;
  std::vector<Values>      values_;
  std::vector<uint32_t>    first_;  // raw action × K: value id (1-based) of its first record with one, 0 = none
  // The distinct users who wrote each categorical value, counted up to writer_cap_ (then no
  // longer tracked: memory stays below values × writer_cap_ pairs): per column, the count per
  // value id (1-based) and the (value, user) pairs seen while the value was under the cap.
  uint32_t                                  writer_cap_ = 0;
  std::vector<std::vector<uint32_t>>        writers_;
  std::vector<std::unordered_set<uint64_t>> writer_pairs_;
};

}  // namespace hunch::train
