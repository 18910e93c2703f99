// The transition table's buckets and encoding (hunch/transitions.h).
#include "hunch/transitions.h"

#include "varint.h"

namespace hunch {

uint32_t transition_bucket(uint64_t pair_count, uint64_t from_count) {
  const uint32_t c = pair_count <= 1 ? 0 : pair_count == 2 ? 1 : pair_count <= 4 ? 2 : pair_count <= 8 ? 3 : 4;
  // share = pair / from in (0, 1]: the k with 1/2^(k+1) < share <= 1/2^k, capped.
  uint32_t s = 0;
  while (s + 1 < kTransitionShareBuckets && pair_count * (uint64_t(2) << s) <= from_count) ++s;
  return c * kTransitionShareBuckets + s;
}

void encode_transitions(const std::vector<std::vector<Transition>>& rows, std::vector<uint8_t>* out) {
  for (const std::vector<Transition>& row : rows) {
    put_varint(uint32_t(row.size()), out);
    uint32_t prev = 0;
    for (size_t i = 0; i < row.size(); ++i) {
      put_varint(i == 0 ? row[i].next : row[i].next - prev - 1, out);
      out->push_back(row[i].bucket);
      prev = row[i].next;
    }
  }
}

Error index_transitions(const uint8_t* data, size_t size, uint32_t V, std::vector<uint32_t>* row_start) {
  if (size > 0xffffffffu) return Error("transition.table: larger than 4 GiB");
  row_start->assign(size_t(V) + 1, 0);
  size_t pos = 0;
  for (uint32_t a = 0; a < V; ++a) {
    (*row_start)[a] = uint32_t(pos);
    const size_t at = pos;
    uint32_t n = 0;
    if (!get_varint(data, size, &pos, &n))
      return Error(format_message("transition.table: action %u: successor count at byte %zu is cut off or "
                                  "malformed", a, at));
    if (n >= V)
      return Error(format_message("transition.table: action %u has %u successors at byte %zu, more than the "
                                  "%u actions", a, n, at, V));
    uint64_t id = 0;
    for (uint32_t i = 0; i < n; ++i) {
      const size_t entry = pos;
      uint32_t gap = 0;
      if (!get_varint(data, size, &pos, &gap) || pos >= size)
        return Error(format_message("transition.table: action %u, successor %u at byte %zu is cut off or "
                                    "malformed", a, i, entry));
      id = i == 0 ? uint64_t(gap) : id + 1 + gap;
      if (id >= V)
        return Error(format_message("transition.table: action %u, successor %u at byte %zu is action %llu, "
                                    "outside the %u actions", a, i, entry, (unsigned long long)id, V));
      const uint8_t bucket = data[pos++];
      if (bucket >= kTransitionBuckets)
        return Error(format_message("transition.table: action %u, successor %u: bucket %u at byte %zu, at most "
                                    "%u", a, i, bucket, pos - 1, kTransitionBuckets - 1));
    }
  }
  if (pos != size)
    return Error(format_message("transition.table: %zu bytes left over after the %u actions (at byte %zu)",
                                size - pos, V, pos));
  (*row_start)[V] = uint32_t(pos);
  return {};
}

TransitionRow::TransitionRow(const uint8_t* data, uint32_t begin) : p_(data + begin) {
  size_t pos = 0;
  get_varint(p_, 5, &pos, &left_);
  p_ += pos;
}

bool TransitionRow::next(Transition* out) {
  if (left_ == 0) return false;
  size_t pos = 0;
  uint32_t gap = 0;
  get_varint(p_, 5, &pos, &gap);
  id_ = first_ ? gap : id_ + 1 + gap;
  first_ = false;
  out->next = id_;
  out->bucket = p_[pos];
  p_ += pos + 1;
  --left_;
  return true;
}

}  // namespace hunch
