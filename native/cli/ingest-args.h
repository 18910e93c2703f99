// Flags that map an event log to a Dataset (columns, format, cleaning, sessions, vocabulary),
// shared by `hunch train` and `hunch eval` so both read logs the same way.
#pragma once

#include <string>
#include <vector>

#include "cli/args.h"
#include "train/ingest.h"

namespace hunch::cli {

// Declares --format, --delimiter, --columns, --user-column, --time-column, --action-column,
// --session-column, --events-field, --type-column,
// --session-gap, --min-length, --min-count, --min-users, --normalize, --keep-query, --no-normalize,
// --max-vocab, --max-types, --gap-edges, --max-line-bytes, --keep-duplicates, --strict, --keep-last, --max-names and
// --progress on `args`.
void add_ingest_options(Args& args);

// Reads them back into *out (untouched fields keep IngestOptions' defaults). False + *error
// ("--session-gap: expected a number, got 'x'") on a bad value.
bool ingest_options_from_args(const Args& args, train::IngestOptions* out, std::string* error);

// Declares --protocol (loo or sessions), --test-fraction and --goal-type, shared by train and eval.
void add_protocol_options(Args& args);

// Reads them back. With sessions, the log is read one sequence per user (whole_users) and,
// unless --min-length was given, single-event users are kept (a one-event session is a bounce,
// an exit to score). goal_types: --goal-type split at commas (empty when not given).
bool protocol_options_from_args(const Args& args, bool* sessions, double* test_fraction,
                                std::vector<std::string>* goal_types, train::IngestOptions* ingest,
                                std::string* error);

}  // namespace hunch::cli
