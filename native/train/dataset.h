// Dataset: event logs after ingestion, cleaning, sessionisation and vocabulary building — the
// hand-over point between the readers (ingest.cpp) and the model code (trainer, eval).
//
// Sequences are stored CSR-style: sequence s owns events [offsets[s], offsets[s+1]). Ids follow
// the model file's conventions (docs/architecture.md): action 0 = <unk>, type 0 = <none>, gap
// bucket 0 = first event of the sequence / unknown time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hunch/routes.h"

namespace hunch::train {

struct Dataset {
  std::vector<std::string> actions;    // id -> name; [0] = "<unk>"
  std::vector<std::string> types;      // id -> name; [0] = "<none>"
  std::vector<float>       gap_edges;  // seconds, strictly increasing (G = size + 2 buckets)

  std::vector<uint64_t> offsets;       // size = sequences + 1
  std::vector<uint32_t> action;        // per event
  std::vector<uint16_t> type;          // per event
  std::vector<uint8_t>  gap;           // per event: time-gap bucket
  std::vector<double>   time;          // per event: seconds (NaN when the log had none)
  std::vector<std::string> sequence_key;  // per sequence: user id (+ "#n" for the n-th session)
  // Per sequence: its user's place in the order users first appear in the log (ingestion fills
  // it; the same in every process of a sharded read, IngestOptions::shard). Empty: the sequence
  // order stands for it.
  std::vector<uint32_t> sequence_user;
  // A shard (IngestOptions::shard): the sequences of this process's users only, every process of
  // the run holding its own; what needs every user's events (counts, splits, evaluations) is
  // combined across the processes by the run's collective, which every such call is given.
  bool sharded = false;
  std::vector<uint8_t>  flags;         // per event: EventFlag bits
  std::vector<uint64_t> line;          // per event: the file line its record starts on
  // Per event: its 1-based position in its session and the number of sessions of its sequence
  // so far, this one included (from flags; what the core counts for Hyper::session_inputs).
  std::vector<uint32_t> session_position, session_number;
  // Type names whose events are conversions (set_goal_types, sessions.h); empty = none.
  std::vector<std::string> goal_types;
  // Attributes (IngestOptions::attr_columns; train/attributes.h): K columns, whether each is
  // numeric, every value id's name and each column's first id (K + 1; hunch/attributes.h), per
  // event its K value ids (events × K), per action its K value ids (V × K: the attr.table).
  std::vector<std::string> attr_columns;
  std::vector<bool>        attr_numeric;
  std::vector<std::string> attr_values;
  std::vector<uint32_t>    attr_start;
  std::vector<uint16_t>    attr, action_attr;
  // How the vocabulary was made, for the model's metadata: the action normalisation (hunch/
  // routes.h; hunch.normalize.*) and the thresholds (hunch.vocab.min_count, min_users).
  hunch::Routes routes;
  uint32_t min_count = 1, min_users = 1;

  size_t sequences() const { return offsets.empty() ? 0 : offsets.size() - 1; }
  size_t events() const { return action.size(); }
  size_t length(size_t s) const { return offsets[s + 1] - offsets[s]; }
  size_t attr_count() const { return attr_columns.size(); }
};

// Per-event flags. Sessions: with one sequence per session (the leave-one-out protocol) the
// first and last events of each sequence; with one sequence per user (IngestOptions::
// whole_users, the session protocol) wherever a gap over the session gap splits the user's events.
enum EventFlag : uint8_t {
  kSessionStart = 1,  // first event of its session
  kSessionEnd   = 2,  // last event of its session (the exit label)
  kGoal         = 4,  // its type is a goal type (Dataset::goal_types)
  kConverts     = 8,  // a goal event follows it in the same session (the conversion label)
  // Its session ends within a session gap of the log's last time: the log may cut it, so its
  // exit label (at its last event) and a conversion label of 0 are unknown, neither trained
  // nor scored.
  kCensored     = 16,
};

// Leave-one-out split (../shared/bench/reference/PROTOCOL.md §2): a sequence of n >= 3 events
// trains on [0, n-2), validates on target n-2 (input [0, n-2)), tests on target n-1 (input
// [0, n-1)). Shorter sequences are training data only and are not evaluated.
constexpr size_t kMinEvaluatedLength = 3;

}  // namespace hunch::train
