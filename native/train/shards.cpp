// User parts (shards.h).
#include "train/shards.h"

#include <algorithm>
#include <thread>

#include "train/privacy.h"

namespace hunch::train {

Collective& UserParts::collective() const { return world ? *world : single_process(); }
unsigned UserParts::count() const { return unsigned(collective().size()) * std::max(1u, threads); }
unsigned UserParts::first() const { return unsigned(collective().rank()) * std::max(1u, threads); }

uint64_t user_hash(const std::string& user) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : user) h = (h ^ c) * 0x100000001B3ull;
  return h;
}

uint32_t user_part(const std::string& user, uint32_t parts) {
  if (parts <= 1) return 0;
  uint64_t h = user_hash(user);
  // splitmix64's finaliser: FNV's low bits alone follow the last byte too closely (user ids
  // that count up would go round the parts in turn).
  h ^= h >> 30;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 27;
  h *= 0x94D049BB133111EBull;
  h ^= h >> 31;
  return uint32_t(h % parts);
}

std::vector<uint32_t> sequence_parts(const Dataset& ds, uint32_t parts) {
  std::vector<uint32_t> out(ds.sequences(), 0);
  if (parts <= 1) return out;
  for (size_t q = 0; q < ds.sequences(); ++q) out[q] = user_part(user_of_sequence_key(ds.sequence_key[q]), parts);
  return out;
}

SequenceOwners sequence_owners(const Dataset& ds, const UserParts& share, bool sharded) {
  SequenceOwners o;
  o.world = &share.collective();
  o.me = uint32_t(o.world->rank());
  o.sharded = sharded;
  if (o.world->size() > 1 && !sharded) {
    o.rank = sequence_parts(ds, share.count());
    for (uint32_t& r : o.rank) r /= std::max(1u, share.threads);
  }
  return o;
}

Error SequenceOwners::gather(const std::function<void(size_t, std::vector<double>*)>& pack,
                             const std::function<size_t(size_t, const double*, size_t)>& unpack) const {
  if (sharded) return Error("per-sequence results of a sharded read are gathered whole (gather_all): a bug");
  if (rank.empty()) return {};
  std::vector<double> own;
  for (size_t q = 0; q < rank.size(); ++q)
    if (rank[q] == me) pack(q, &own);
  const std::vector<double> all = world->all_gather(own);
  size_t at = 0;
  for (uint32_t r = 0; r < uint32_t(world->size()); ++r)
    for (size_t q = 0; q < rank.size(); ++q) {
      if (rank[q] != r) continue;
      const size_t n = unpack(q, all.data() + at, all.size() - at);
      if (n > all.size() - at) return Error("the MPI ranks' per-sequence results do not add up (a bug)");
      at += n;
    }
  if (at != all.size()) return Error("the MPI ranks' per-sequence results do not add up (a bug)");
  return {};
}

std::vector<double> SequenceOwners::gather_all(const std::function<void(size_t, std::vector<double>*)>& pack,
                                               size_t sequences) const {
  std::vector<double> own;
  for (size_t q = 0; q < sequences; ++q) pack(q, &own);
  return world->all_gather(own);
}

void run_threads(unsigned threads, const std::function<void(unsigned)>& work) {
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
}

}  // namespace hunch::train
