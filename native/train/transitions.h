// The transition table's training side (hunch/transitions.h is the format and the core's
// reader): which successor pairs the training events hold, which of them fit the model's byte
// budget, and the buckets the trainer scores them with.
//
// Counted pairs: event i → i + 1 where both are inputs or targets of the training samples
// (i + 1 < the sample's target_end), neither action is <unk>, and i + 1 does not start a new
// session (when the log has sessions: what follows a session's end is not its successor).
//
// Leave-one-out: while training, the column whose own target pair was counted sees that pair
// (and its action's total) with this occurrence taken out. Otherwise every training target would
// be among its action's successors with a count that includes itself, the bucket weights would
// learn to trust counts of 1 that at inference come from other events, and the table would
// overfit the way a lookup of the answer does.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "hunch/transitions.h"
#include "train/collective.h"
#include "train/dataset.h"
#include "train/nn-model.h"

namespace hunch::train {

struct TransitionCounts {
  struct Next {
    uint32_t action;
    uint32_t count;  // training pairs a → action
  };
  std::vector<uint32_t>          from;     // per action a: counted pairs a → anything
  std::vector<std::vector<Next>> rows;     // per action: the kept successors, increasing id
  std::vector<uint8_t>           counted;  // per event i of the dataset: pair (i, i + 1) counted
  std::vector<uint8_t>           table;    // transition.table (full counts' buckets)
  uint64_t pairs = 0, distinct = 0, kept = 0;  // counted pairs, distinct pairs, pairs kept

  // The bucket of a → next at the column whose input is event `input` and whose target event is
  // `target` (Pass::kNoTarget when none): 0xff when, leaving that column's own pair out, the
  // pair has no count left.
  uint8_t bucket(const Dataset& data, uint64_t input, uint64_t target, uint32_t next_action, uint32_t pair_count) const;
};

// The counted pairs of `samples` (the rule above), each once: fn(i, a, b) for the pair event i
// (action a) → i + 1 (action b) whose (*counted)[i] (data.events() entries) was 0; it is set.
void for_counted_pairs(const Dataset& data, const std::vector<Sample>& samples, std::vector<uint8_t>* counted,
                       const std::function<void(uint64_t, uint32_t, uint32_t)>& fn);

// A pair a → b counted `count` times (a count of users, once noised, under DP: privacy.h).
struct TransitionPair {
  uint32_t a, b, count;
};
// Fills t->rows, t->table and t->kept from `all` (sorted by a, then b; t->from set): at most
// max_successors per action (the most frequent; ties to the lower id), then the most frequent
// pairs overall whose encoding fits max_bytes.
void keep_transitions(size_t V, std::vector<TransitionPair> all, uint32_t max_successors, uint64_t max_bytes,
                      TransitionCounts* t);
// keep_transitions' first cut on one action's pairs [begin, end) (sorted by b): reorders them
// most frequent first (ties to the lower id) and returns how many of them it keeps.
size_t most_frequent_first(TransitionPair* begin, TransitionPair* end, uint32_t max_successors);

// Counts the pairs of `training`, keeps at most max_successors per action (the most frequent;
// ties to the lower id), then the most frequent pairs overall whose encoding fits max_bytes.
// A shard (Dataset::sharded; collective: the run's) counts its own users' pairs, and every
// process's counts are merged (the same table everywhere); `counted` stays per own event.
TransitionCounts count_transitions(const Dataset& data, const std::vector<Sample>& training,
                                   uint32_t max_successors, uint64_t max_bytes,
                                   Collective* collective = nullptr);

// Bytes of the network's tensors as an int8 file stores them (quantised matrices 1 byte per
// weight plus a scale per row, vectors 4 bytes per value): the base the default budget is a
// share of. `tied`: head.action.w is emb.action (--tie) and the file stores it once.
uint64_t network_int8_bytes(const hunch::Hyper& h, bool tied = false);

}  // namespace hunch::train
