// The transition table (Hyper::transition_bytes): for each action, the actions that followed it
// in the training log, each with a bucket of how often and how surely. Counted, not learned: in
// short, sparse logs an item seen a handful of times is followed by what followed it before, and
// an embedding learns that from so few examples worse than a count does. The learned part is one
// weight per bucket (head.transition.weight), added to the successor's logit after every event
// (docs/architecture.md, "Transitions").
//
// Stored as the u8 tensor transition.table (docs/format.md): for each action id 0..V-1 in order,
// varint n (its successors), then n pairs (varint gap, u8 bucket) where the successor id is the
// previous successor's id + 1 + gap (the first: gap itself). Varints are LEB128, at most 5 bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "hunch/error.h"

namespace hunch {

// Buckets: (pair count 1, 2, 3-4, 5-8, 9+) × (share of the action's successors: 1/2^k for
// k = 0..6, and below 1/64), as count_bucket · kTransitionShareBuckets + share_bucket.
constexpr uint32_t kTransitionCountBuckets = 5;
constexpr uint32_t kTransitionShareBuckets = 8;
constexpr uint32_t kTransitionBuckets = kTransitionCountBuckets * kTransitionShareBuckets;
// pair_count >= 1 times b followed a, out of from_count >= pair_count events after a.
uint32_t transition_bucket(uint64_t pair_count, uint64_t from_count);

struct Transition {
  uint32_t next;    // successor action id
  uint8_t  bucket;  // < kTransitionBuckets
};

// rows[a]: the successors of action a in increasing id order (a = 0..V-1). Appends the encoding.
void encode_transitions(const std::vector<std::vector<Transition>>& rows, std::vector<uint8_t>* out);

// Checks an encoded table for V actions (every varint complete and at most 5 bytes, ids
// increasing and < V, buckets < kTransitionBuckets, no byte left over) and fills row_start with
// V + 1 byte offsets: row a is bytes [row_start[a], row_start[a + 1]), count varint included.
// Errors name the byte offset and the action.
Error index_transitions(const uint8_t* data, size_t size, uint32_t V, std::vector<uint32_t>* row_start);

// Walks one row of a table index_transitions accepted (no checks: they were done there).
class TransitionRow {
 public:
  TransitionRow(const uint8_t* data, uint32_t begin);
  bool next(Transition* out);  // false after the last successor

 private:
  const uint8_t* p_;
  uint32_t left_ = 0, id_ = 0;
  bool first_ = true;
};

}  // namespace hunch
