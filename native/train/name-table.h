// NameTable: distinct names (user ids, action routes, type names) → dense ids in order of first
// sight, held compactly for ingestion (ingest.cpp), where a log of 10^8 events may have tens of
// millions of users.
//
// A std::unordered_map<std::string, uint32_t> costs about 70 bytes a name (a heap node with a
// std::string in it, the bucket pointer, the allocator's header) plus the name's bytes past 15;
// and copying the names out at the end (names()) doubled that again. Here the names' bytes lie
// back to back in 1 MiB arena blocks (a name never straddles two), per id its place and length
// (12 bytes), and an open-addressing table of (id, 32 hash bits) slots, at most 3/4 full: about
// the name's length + 23 to 34 bytes. A lookup compares the 32 hash bits first and the bytes only
// when they match, so two names with the same hash still get their own ids.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "train/chunked.h"

namespace hunch::train {

class NameTable {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // The id of `s`, a new one (size() before the call) when it was not there.
  uint32_t id(std::string_view s) {
    if (4 * (size_t(size()) + 1) > 3 * slots_.size()) grow();
    const uint64_t h = hash(s);
    size_t i = size_t(h) & (slots_.size() - 1);
    for (;; i = (i + 1) & (slots_.size() - 1)) {
      const Slot& slot = slots_[i];
      if (slot.id == kNone) break;
      if (slot.tag == uint32_t(h >> 32) && name(slot.id) == s) return slot.id;
    }
    const uint32_t id = size();
    place_.push_back(store(s));
    slots_[i] = {id, uint32_t(h >> 32)};
    return id;
  }
  // kNone when `s` has no id.
  uint32_t find(std::string_view s) const {
    if (slots_.empty()) return kNone;
    const uint64_t h = hash(s);
    for (size_t i = size_t(h) & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      const Slot& slot = slots_[i];
      if (slot.id == kNone) return kNone;
      if (slot.tag == uint32_t(h >> 32) && name(slot.id) == s) return slot.id;
    }
  }
  uint32_t size() const { return uint32_t(place_.size()); }
  // Valid until the table is changed or destroyed.
  std::string_view name(uint32_t id) const {
    const Place& p = place_[id];
    return {blocks_[p.at >> kBlockShift].get() + (p.at & (kBlock - 1)), p.len};
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    out.reserve(size());
    for (uint32_t i = 0; i < size(); ++i) out.emplace_back(name(i));
    return out;
  }
  uint64_t bytes() const {
    return uint64_t(blocks_.size()) * kBlock + blocks_.capacity() * sizeof(void*) + place_.bytes() +
           slots_.capacity() * sizeof(Slot);
  }

 private:
  static constexpr unsigned kBlockShift = 20;
  static constexpr size_t   kBlock = size_t(1) << kBlockShift;
  struct Slot {
    uint32_t id, tag;
  };
  struct Place {  // 12 bytes: where the name's bytes start in the arena, and how many
    uint64_t at;
    uint32_t len;
  } __attribute__((packed));

  static uint64_t hash(std::string_view s) {
    uint64_t h = std::hash<std::string_view>()(s);
    // A finaliser: the low bits pick the slot, the high 32 are the tag.
    h ^= h >> 33, h *= 0xff51afd7ed558ccdull, h ^= h >> 33;
    return h;
  }
  Place store(std::string_view s) {
    if (s.size() > kBlock) {  // longer than a block: its own (no ingested name comes near)
      blocks_.emplace_back(new char[s.size()]);
      std::memcpy(blocks_.back().get(), s.data(), s.size());
      used_ = kBlock;  // the next name starts a new block
      return {uint64_t(blocks_.size() - 1) << kBlockShift, uint32_t(s.size())};
    }
    if (blocks_.empty() || used_ >= kBlock || kBlock - used_ < s.size()) {
      blocks_.emplace_back(new char[kBlock]);
      used_ = 0;
    }
    Place p{(uint64_t(blocks_.size() - 1) << kBlockShift) | used_, uint32_t(s.size())};
    if (!s.empty()) std::memcpy(blocks_.back().get() + used_, s.data(), s.size());
    used_ += s.size();
    return p;
  }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 64 : 2 * old.size(), Slot{kNone, 0});
    for (const Slot& s : old) {
      if (s.id == kNone) continue;
      size_t i = size_t(hash(name(s.id))) & (slots_.size() - 1);
      while (slots_[i].id != kNone) i = (i + 1) & (slots_.size() - 1);
      slots_[i] = s;
    }
  }

  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t                               used_ = 0;  // bytes used in the last block
  ChunkedVector<Place, 14>             place_;     // id → its bytes (blocks of 192 KiB: no doubling)
  std::vector<Slot>                    slots_;
};

}  // namespace hunch::train
