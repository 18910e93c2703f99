// Event-log ingestion: CSV / TSV / JSON Lines / `user item` pair files (optionally gzip) →
// cleaned, time-ordered, sessionised sequences with a vocabulary (a Dataset, dataset.h).
//
// The file is streamed through zlib (gzread reads plain files too), one record at a time; what
// stays in memory is one small record per accepted event (32 bytes while reading, 15 bytes in
// the Dataset) plus the distinct user, action and type names. Raw bytes are never kept.
//
// Cleaning is a report, not a silent filter: every skipped row is counted under one reason and
// the first instance of each reason is kept as a "file:line: …" example. With `strict`, the
// first bad row is an Error with that message instead.
//
// Order of work: read + validate rows → per-user stable sort by time (rows without a time keep
// their file position) → drop duplicates → split into sessions → drop short sequences →
// vocabulary (or a fixed one, from a model) → ids and time-gap buckets.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hunch/arch.h"
#include "hunch/error.h"
#include "train/dataset.h"

namespace hunch {
class Model;
}

namespace hunch::train {

enum class Format { AUTO, CSV, TSV, JSONL, PAIRS };
const char* format_name(Format f);  // "auto", "csv", "tsv", "jsonl", "pairs"
bool        parse_format(const std::string& name, Format* out);
// By extension, a trailing .gz ignored: .csv → CSV, .tsv/.tab → TSV, .jsonl/.ndjson/.json →
// JSONL, .txt/.dat → PAIRS. AUTO when unknown. Ingestion sniffs the content when this is AUTO
// or PAIRS (and no format was forced): '{' → JSONL; a first line with a tab and a non-numeric
// field → TSV (header); with a comma → CSV; otherwise PAIRS.
Format format_from_path(const std::string& path);

// Time-gap edges used when none are given (seconds, log-spaced from 1 s to 30 days).
std::vector<float> default_gap_edges();

// A vocabulary taken from an existing model: names are mapped to its ids (unknown → 0) instead
// of building a new one. Used by `hunch eval` on new data.
struct FixedVocabulary {
  std::vector<std::string> actions;    // id → name; [0] = "<unk>"
  std::vector<std::string> types;      // id → name; [0] = "<none>"
  std::vector<float>       gap_edges;
  // The model's attribute columns and values (hunch/attributes.h); empty without attributes.
  std::vector<std::string> attr_columns;
  std::vector<bool>        attr_numeric;
  std::vector<std::string> attr_values;
};
FixedVocabulary vocabulary_of(const hunch::Model& model);

struct IngestOptions {
  Format format = Format::AUTO;
  // Column (CSV/TSV header name or JSON key). Empty = the first present of the defaults:
  //   user:   user, user_id, session, session_id, SessionId
  //   time:   time, timestamp, ts, Time
  //   action: action, item, item_id, ItemId, page, url
  //   type:   type, event, event_type
  // user and action are required; without a time column the file order is the time order;
  // without a type column every event has type 0.
  std::string user_column, time_column, action_column, type_column;
  // Attribute columns (train/attributes.h): categorical ones, and numeric ones bucketised into
  // numeric_buckets quantile buckets; at most max_attr_values values per categorical column
  // (most frequent first, seen min_count times or more). A fixed vocabulary's columns replace these.
  std::vector<std::string> attr_columns, numeric_columns;
  uint32_t max_attr_values = 1000;
  uint32_t numeric_buckets = 16;

  double   session_gap = 1800;  // seconds; a larger gap starts a new session; 0 = one per user
  // false: every session is its own sequence (leave-one-out); true: one sequence per user, the
  // sessions marked in Dataset::flags (the session protocol: the whole history is the context).
  bool     whole_users = false;
  uint32_t min_length  = 2;     // sequences with fewer events are dropped (and counted)
  uint32_t min_count   = 2;     // actions/types seen fewer times map to id 0
  uint32_t max_vocab   = 50000; // at most this many actions besides <unk> (most frequent first)
  uint32_t max_types   = 1023;  // at most this many types besides <none>
  std::vector<float> gap_edges = default_gap_edges();
  bool     strict      = false; // first bad row → Error
  bool     dedupe      = true;  // drop repeated (user, action, type, time) events
  size_t   max_line_bytes  = 1 << 20;  // one record (a CSV record may span lines)
  size_t   max_field_bytes = 4096;     // one user / action / type value (the model's limit)
  const FixedVocabulary* vocabulary = nullptr;  // set: map to it instead of building one
};

// What ingestion did, for the printed cleaning report. Every row read ends up in exactly one of
// kept events or a skip reason (rows = malformed + missing_field + bad_time + bad_utf8 +
// too_long + duplicates + short_sequence_events + kept_events).
struct IngestReport {
  std::string path;
  Format      format = Format::AUTO;
  bool        has_time_column = false, has_type_column = false;
  std::string user_column, time_column, action_column, type_column;  // as resolved

  uint64_t rows           = 0;  // data records read (header and blank lines not counted)
  uint64_t malformed      = 0;  // unparsable record: bad JSON, too few fields
  uint64_t missing_field  = 0;  // empty or absent user/action (or time when the column exists)
  uint64_t bad_time       = 0;  // time present but not a number or ISO-8601 date
  uint64_t bad_utf8       = 0;  // user/action/type not valid UTF-8, or holding a NUL byte
  uint64_t too_long       = 0;  // record over max_line_bytes or a value over max_field_bytes
  uint64_t duplicates     = 0;  // same user, action, type and time as an earlier event
  uint64_t out_of_order   = 0;  // earlier than a previous event of the same user (re-sorted)
  uint64_t untimed_rows   = 0;  // kept without a time (file position kept); all when no column
  uint64_t short_sequences = 0, short_sequence_events = 0;  // < min_length, dropped

  uint64_t users = 0, sequences = 0, kept_events = 0;
  uint64_t distinct_actions = 0;     // before the vocabulary cut
  uint64_t unknown_action_events = 0;  // kept events mapped to <unk>
  uint64_t unknown_type_events = 0;    // kept events with a type name mapped to <none>
  size_t   vocab_size = 0, type_count = 0;  // V, T (ids 0 included)

  uint64_t peak_bytes = 0;           // ingestion structures at their largest (estimate)
  double   bytes_per_event() const { return kept_events ? double(peak_bytes) / double(kept_events) : 0; }

  // First example of each skip reason ("file:line: reason"), in the order first met.
  std::vector<std::string> examples;

  std::string to_text() const;  // the human-readable report the CLI prints
};

// Reads `path` into *out (replacing its contents). Returns an Error for an unreadable file, a
// header without the needed columns, a bad option, or (strict) the first bad row; bad rows are
// otherwise skipped and counted in *report.
Error ingest_file(const std::string& path, const IngestOptions& options, Dataset* out,
                  IngestReport* report);

// Same, from bytes already in memory (tests, small inputs); `name` is used in messages and
// for format detection.
Error ingest_buffer(const std::string& name, const std::string& bytes,
                    const IngestOptions& options, Dataset* out, IngestReport* report);

// Time parsing shared with the tests: epoch seconds (fractional allowed), epoch milliseconds
// (any value > 1e11), or ISO-8601 "YYYY-MM-DD[(T| )hh:mm[:ss[.fff]]][Z|±hh[:mm]| UTC]" (no zone =
// UTC). Returns false when the text is none of these.
bool parse_time(const std::string& text, double* seconds);

// Time-gap buckets are the core's hunch::gap_bucket (hunch/arch.h): one definition for training
// and inference.
using hunch::gap_bucket;

}  // namespace hunch::train
