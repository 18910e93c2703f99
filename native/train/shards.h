// User parts: how the per-user work of one computation (a pass over the count start's columns,
// a validation, an evaluation) is shared between the threads of a process and the processes of
// a run. The work is cut into ranks × threads parts; a user's work (every sequence of theirs) is
// in part user_part(user, parts), whatever the order of the log, and a process computes the
// parts rank × threads … rank × threads + threads − 1. So N processes of T threads share it as
// one process of N × T threads does, and the same user goes to the same part: the step towards
// a run whose processes hold only their own users (docs/training-at-scale.md, "Sharding").
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "train/collective.h"
#include "train/dataset.h"
#include "hunch/error.h"

namespace hunch::train {

struct UserParts {
  Collective* world = nullptr;  // null: this process alone
  unsigned threads = 1;
  Collective& collective() const;
  unsigned count() const;  // ranks × threads
  unsigned first() const;  // this process's first part
  bool mine(uint32_t part) const { return part >= first() && part < first() + (threads ? threads : 1); }
};

// FNV-1a (64 bits) of a user's name: the same in every process and on every platform.
uint64_t user_hash(const std::string& user);
// A user's part of `parts`: FNV-1a of the name, mixed, modulo parts (the same in every process
// and on every platform).
uint32_t user_part(const std::string& user, uint32_t parts);
// Per sequence: its user's part (a session's sequence goes with its user: privacy.h,
// user_of_sequence_key).
std::vector<uint32_t> sequence_parts(const Dataset& ds, uint32_t parts);

// Which rank scores each sequence (its user's part ÷ threads), for work whose per-sequence
// results every rank then needs (evaluation, calibration, the membership attack).
struct SequenceOwners {
  Collective* world = nullptr;  // never null (single_process() for one process)
  uint32_t me = 0;              // this rank
  std::vector<uint32_t> rank;   // per sequence; empty in one process (it owns every one)
  // The Dataset holds only this rank's users (a sharded read, IngestOptions::shard): every
  // sequence is its own, and the other ranks' are known only by what they send (gather_all).
  bool sharded = false;
  bool mine(size_t q) const { return rank.empty() || rank[q] == me; }
  // Sharded: pack(q, out) for every sequence (in order), then every rank's values, concatenated
  // in rank order, to unpack_all (one process: its own).
  std::vector<double> gather_all(const std::function<void(size_t q, std::vector<double>* out)>& pack,
                                 size_t sequences) const;
  // Every owned sequence's values on every rank: pack(q, out) appends this rank's values of its
  // sequence q (sequence order); then unpack(q, values, left) is called for every sequence of
  // every rank (rank order, then sequence order) and returns how many of the `left` values at
  // `values` are q's. An Error when they do not add up (a bug). Nothing to do in one process.
  Error gather(const std::function<void(size_t q, std::vector<double>* out)>& pack,
               const std::function<size_t(size_t q, const double* values, size_t left)>& unpack) const;
};
SequenceOwners sequence_owners(const Dataset& ds, const UserParts& share, bool sharded = false);

// Runs work(t) for t = 0 … threads − 1, threads 1 … on their own threads, 0 on the caller's.
void run_threads(unsigned threads, const std::function<void(unsigned)>& work);

}  // namespace hunch::train
