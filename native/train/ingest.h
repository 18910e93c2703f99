// Event-log ingestion: CSV / TSV (any of `,` `;` tab `|`, with or without a header), JSON Lines
// (flat records, or one record per session holding an array of events), GA4's BigQuery export,
// Segment's track/page/screen calls, web-server access logs, `user item` pair files and
// `user item item …` list files
// (optionally gzip) → cleaned, time-ordered, sessionised sequences with a vocabulary (a Dataset,
// dataset.h). The per-format record readers are in ingest-formats.{h,cpp}.
//
// The file is streamed through zlib (gzread reads plain files too), one record at a time; what
// stays in memory is one record per accepted event (32 bytes, in blocks: chunked.h) plus the
// distinct user and type names and at most max_names action names (a log with more is counted
// in bounded memory and read twice; name-table.h: the name's bytes + about 30 each). Raw bytes
// are never kept. The records become the Dataset (32 bytes an event without attributes) in
// order while their blocks are freed, so the peak is about 37 bytes per held event (the Dataset,
// its sequence keys and offsets), not both.
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
#include "hunch/routes.h"
#include "train/dataset.h"
#include "train/shards.h"
#include "train/times.h"

namespace hunch {
class Model;
}

namespace hunch::train {

// GA4: BigQuery's GA4 export as JSON Lines (user_pseudo_id, event_name, event_timestamp in µs,
// event_params [{key, value: {string_value, int_value, …}}]: the page_location's path is the
// action, event_name the type, ga_session_id the session). SEGMENT: Segment's track / page /
// screen calls as JSON Lines (anonymousId, else userId; a track call's event is its type and the
// product it names its action — properties.product_id, else sku, else the event itself: Segment's
// e-commerce spec; a page's properties.path or name and a screen's name are the action, the call
// type theirs; timestamp).
// ACCESS_LOG: web-server access logs (common, combined, and `ip - - dd/MM/yyyy:HH:mm:ss +zzzz
// METHOD PATH`): GET page requests only, user = address + user agent, sessions by gap.
// LISTS: one line per user, `user item item …` in time order (the S3Rec / SASRec layout).
// ANALYTICS: product-analytics events as JSON Lines, an event name beside a properties object
// (Mixpanel's export, PostHog's, Amplitude's; formats::analytics_event says which keys).
enum class Format { AUTO, CSV, TSV, JSONL, PAIRS, GA4, SEGMENT, ACCESS_LOG, LISTS, ANALYTICS };
// "auto", "csv", "tsv", "jsonl", "pairs", "ga4", "segment", "access-log", "lists", "analytics"
const char* format_name(Format f);
bool        parse_format(const std::string& name, Format* out);
// By extension, a trailing .gz ignored: .csv → CSV, .tsv/.tab → TSV, .jsonl/.ndjson/.json →
// JSONL, .txt/.dat → PAIRS, .log → ACCESS_LOG. AUTO when unknown. Ingestion sniffs the content
// when this is AUTO, PAIRS or ACCESS_LOG (and no format was forced): '{' or "[{" → JSONL (a file
// holding one JSON array reads its elements as records: every JSON reader); an access-log
// request line → ACCESS_LOG; a first line with a tab and a non-numeric field → TSV (header);
// with a comma, ';' or '|' → CSV; otherwise whitespace-separated fields: LISTS when the first
// lines hold different numbers of fields (a user's items), else PAIRS (fields past the second unread). JSON Lines not forced with --format jsonl are
// told apart by the first record's keys: user_pseudo_id + event_name → GA4; userId or
// anonymousId + a type of track/page/screen/identify/group/alias → SEGMENT; an `events` array
// of objects and no action key → one record per session (IngestOptions::events_field); an
// event name and a properties object, no action key → ANALYTICS.
// CSV's delimiter is sniffed from the first lines (the one of `,` `;` tab `|` found the same
// number of times, >= 1, on each line; most often first) unless IngestOptions::delimiter is set
// or the format was forced to TSV.
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
  // The model's action normalisation (hunch.normalize.*): a log read for this model maps its
  // pages to the routes the model knows.
  hunch::Routes routes;
};
FixedVocabulary vocabulary_of(const hunch::Model& model);

struct IngestOptions {
  Format format = Format::AUTO;
  // Column (CSV/TSV header name or JSON key). Empty = the first present of the defaults:
  //   user:   user, user_id, session, session_id, SessionId, visitor_id, customer_id, client_id,
  //           distinct_id, anonymous_id, domain_userid, device_id, uid
  //   time:   time, timestamp, ts, Time, event_time, event_timestamp, datetime, created_at, occurred_at
  //   action: action, item, item_id, ItemId, page, url, product_id, product, sku, product_sku,
  //           page_path, path, page_url, screen_name, content_id
  //   type:   type, event, event_type, event_name, action_type, behavior, behaviour
  // each in any case; failing every one so, with all but letters and digits ignored ("userId",
  // "User ID"). The same for the session column's and the attribute columns' names.
  // user and action are required; without a time column (or with time_column "none") the file
  // order is the time order; without a type column every event has type 0.
  // Ids (user, action, type, session) that read as a missing-value token — empty, NA, N/A, null,
  // None, undefined, nan, - (any case) — are missing: a row without a user or an action is
  // skipped under missing_field, a type or session becomes none; each is counted in
  // IngestReport::missing_tokens.
  std::string user_column, time_column, action_column, type_column;
  // Attribute columns (train/attributes.h): categorical ones, and numeric ones bucketised into
  // numeric_buckets quantile buckets; at most max_attr_values values per categorical column
  // (most frequent first, seen min_count times or more). A fixed vocabulary's columns replace these.
  std::vector<std::string> attr_columns, numeric_columns;
  // With neither list given (and no fixed vocabulary): take the attribute columns a file with a
  // header (or --columns) names the usual way, at most one of each kAutoAttributes group: a
  // category, a brand and a price (numeric) column that no role reads. `hunch train` sets it
  // (--attr-columns none clears it). In JSON logs the keys of the records' flat fields, Segment's
  // properties, GA4's first item and per-session events are searched, record by record, until each
  // group has its column or 10,000 records were read (the actions before have no value yet).
  bool find_attributes = false;
  uint32_t max_attr_values = 1000;
  uint32_t numeric_buckets = 16;
  // Sessions given by the log: a column (JSON key) whose value changes where a session starts.
  // Empty = the first present of session, session_id, user_session, SessionId, ga_session_id
  // that is not the user column; "none" = sessions by session_gap only. With one, a new
  // session starts where the user's (time-ordered) session id changes, not at gaps; events
  // without one follow their predecessor. session_gap still marks the log's end as censored.
  std::string session_column;
  // CSV-like field delimiter; 0 = sniffed (see format_from_path). Setting it reads the file as
  // delimited text with this delimiter.
  char delimiter = 0;
  // Names for the columns of a file without a header ("user,item,,type,time": empty or unknown
  // names are ignored; the names give the roles as a header would, through the defaults and the
  // *_column options). Set: a first row that parses as data (a field is a number or a time and
  // none is a known column name) is data, otherwise it is a header and skipped. Empty: such a
  // first row is an error that asks for them.
  std::vector<std::string> columns;
  // JSON Lines with one record per session/user: the key holding that record's array of event
  // objects (OTTO: {"session": 12, "events": [{"aid": 3, "ts": 1659304800025, "type":
  // "clicks"}, …]}). The user is the record's user key; action (also `aid`), time and type are
  // the events' keys. Empty = found by content (an `events` array, no action key).
  std::string events_field;
  // How numeric dates such as "03/04/2024" are read (train/times.h, TimeColumn): AUTO = as the
  // log shows (the first value with a day above 12), month first until it does.
  DateOrder date_order = DateOrder::AUTO;

  double   session_gap = 1800;  // seconds; a larger gap starts a new session; 0 = one per user
  // false: every session is its own sequence (leave-one-out); true: one sequence per user, the
  // sessions marked in Dataset::flags (the session protocol: the whole history is the context).
  bool     whole_users = false;
  uint32_t min_length  = 2;     // sequences with fewer events are dropped (and counted)
  uint32_t min_count   = 2;     // actions/types seen fewer times map to id 0
  // k-anonymous vocabulary: an action or type enters the vocabulary only when at least this many
  // distinct users did it (besides min_count); 1 = no such condition. Counted in one pass over
  // the user-grouped events with a last-user stamp per name (8 bytes per distinct name). The
  // library's default is 1 (callers choose); `hunch train`'s --min-users default is 5.
  uint32_t min_users   = 1;
  // Action normalisation (hunch/routes.h), applied to each row's action before it is counted:
  // URL-like actions lose query strings (but keep_query's parameters), fragments and identifier-
  // looking segments, first matching rule wins. normalize = false: names as logged. A fixed
  // vocabulary's (a model's) normalisation replaces these.
  bool     normalize   = true;
  std::vector<std::string> keep_query, route_rules;  // route_rules: "PATTERN -> REPLACEMENT"
  uint32_t max_vocab   = 50000; // at most this many actions besides <unk> (most frequent first)
  uint32_t max_types   = 1023;  // at most this many types besides <none>
  std::vector<float> gap_edges = default_gap_edges();
  bool     strict      = false; // first bad row → Error
  bool     dedupe      = true;  // drop repeated (user, action, type, time) events
  size_t   max_line_bytes  = 1 << 20;  // one record (a CSV record may span lines)
  size_t   max_field_bytes = 4096;     // one user / action / type value (the model's limit)
  const FixedVocabulary* vocabulary = nullptr;  // set: map to it instead of building one
  // Bounded memory: keep at most the last keep_last events of each user (by time), 0 = all.
  // Reading compacts whenever the held events double, so memory grows with users × keep_last,
  // not with the log's length. The vocabulary still counts every accepted event (the dropped
  // ones' counts are kept), so a rare action is not promoted by trimming; a user's first kept
  // event starts a session. Dropped events are counted in IngestReport::trimmed_events.
  uint32_t keep_last = 0;
  // Bounded name counting: at most this many distinct actions (routes) are counted exactly.
  // A log with more is read twice: the first read counts them in a space-saving summary of
  // max_names entries (Metwally et al. 2005: the max_names most frequent are kept, and any
  // action left out was accepted at most B times, B = the summary's smallest count, at most
  // rows / max_names), the second keeps events and counts the summary's actions exactly, the
  // others becoming <unk>. The vocabulary is then provably the exact one when B is below
  // min_count or min_users, or below the count at the max_vocab cut; the report says which
  // (IngestReport::name_bound, vocab_exact). Inputs read twice must be regular files or a
  // buffer (a pipe is an Error naming the limit). 0 = no bound. Logged names per route (the
  // report's "distinct actions as logged") are counted by sampling beyond max_names.
  uint32_t max_names = 1000000;
  // Progress on stderr while reading (files and bytes done of the total, events/s, time left),
  // rewritten in place about twice a second and cleared at the end. The CLI sets it when stderr
  // is a terminal. progress_delay_ms: how long a read stays quiet first, and the least time
  // between two updates.
  bool     progress = false;
  uint32_t progress_delay_ms = 500;
  // Sharded reading, across the processes of an MPI run (train/shards.h): every process reads
  // every record, so the names, their ids, the row counters and the route counts are the same in
  // each, but keeps only the events of the users it owns (user_part(user, parts) ÷ threads = its
  // rank). The vocabulary's counts and distinct users, the log's last time and the report's
  // per-user counters (kept events, sequences, users, duplicates, short and trimmed sequences,
  // <unk> events) are summed across the processes: the vocabulary and the cleaning report are
  // one process's, each Dataset holds its own users' sequences. The report's examples of
  // duplicates are the leader's users' only, and peak_bytes is all the processes' (each one's
  // own in process_peak_bytes).
  // Null: keep every user.
  const UserParts* shard = nullptr;
};

// What ingestion did, for the printed cleaning report. Every row read ends up in exactly one of
// kept events or a skip reason (rows = malformed + missing_field + bad_time + bad_utf8 +
// too_long + duplicates + static_assets + error_status + not_events + short_sequence_events +
// trimmed_events + kept_events). A row of a per-session JSON record is one event of its array.
struct IngestReport {
  std::string path;             // the input; several files: the first, with files > 1
  Format      format = Format::AUTO;
  bool        has_time_column = false, has_type_column = false;
  std::string user_column, time_column, action_column, type_column;  // as resolved
  bool        has_session_column = false;
  std::string session_column;   // as resolved (when has_session_column)
  char        delimiter = 0;    // CSV-like: the delimiter read
  bool        headerless = false;  // the first row was data (columns named by IngestOptions::columns)
  std::vector<std::string> unused_columns;  // header columns no role, session or attribute reads
  std::string attributes;                   // "category (812 values), price (16 numeric buckets)"; empty without any
  bool        attributes_found = false;     // they were found by name (IngestOptions::find_attributes)
  std::vector<std::string> notes;           // what the reading worked around, one line each (an absent attribute column)
  std::string events_field;     // per-session JSON: the events key

  uint64_t unread_fields  = 0;  // pairs: lines with fields past the second (not read; not a skip)
  uint64_t rows           = 0;  // data records read (header and blank lines not counted; per-session JSON and lists: events)
  uint64_t malformed      = 0;  // unparsable record: bad JSON, too few fields
  uint64_t missing_field  = 0;  // empty or absent user/action (or time when the column exists)
  uint64_t bad_time       = 0;  // time present but not a time (train/times.h)
  uint64_t bad_utf8       = 0;  // user/action/type not valid UTF-8, or holding a NUL byte
  uint64_t too_long       = 0;  // record over max_line_bytes or a value over max_field_bytes
  uint64_t duplicates     = 0;  // same user, action, type and time as an earlier event
  uint64_t static_assets  = 0;  // access log: images, style sheets, scripts, fonts … by extension
  uint64_t error_status   = 0;  // access log: a status outside 2xx/3xx
  uint64_t not_events     = 0;  // not a page/event record: non-GET requests, Segment identify …
  uint64_t missing_tokens = 0;  // id values read as missing (NA, null, -, …; see IngestOptions)
  uint64_t out_of_order   = 0;  // earlier than a previous event of the same user (re-sorted)
  uint64_t untimed_rows   = 0;  // kept without a time (file position kept); all when no column
  uint64_t short_sequences = 0, short_sequence_events = 0;  // < min_length, dropped
  uint64_t trimmed_events = 0;  // older than their user's last IngestOptions::keep_last, dropped
  uint64_t files = 1;           // input files read (ingest_files)
  uint64_t empty_files = 0;     // of them, empty (no byte after decompression): skipped, as Spark's empty parts
  uint64_t input_bytes = 0;     // their size on disk (compressed when gzip)

  uint64_t users = 0, sequences = 0, kept_events = 0;
  uint64_t distinct_actions = 0;     // before the vocabulary cut (routes, when normalised)
  // Bounded name counting (IngestOptions::max_names), set when the log had more distinct actions
  // than that and was read twice: then distinct_actions is the number counted exactly
  // (name_capacity), an action outside them was accepted at most name_bound times, and
  // vocab_exact says whether the vocabulary is provably the one exact counting gives (when not,
  // actions seen at most name_bound times may be missing from it; the counts of those in it are
  // exact either way).
  uint64_t name_capacity = 0, name_bound = 0;
  bool     vocab_exact = true;
  // Action normalisation: whether on, rows whose action it changed, distinct action names as
  // logged, and the routes that the most distinct logged names became (at most 10, most first).
  bool     normalized = false;
  uint64_t normalized_rows = 0, raw_actions = 0;
  bool     raw_actions_estimated = false;  // more logged names than max_names: raw_actions (and
                                           // top_routes' counts) are estimates from a hash sample
  std::vector<std::pair<std::string, uint64_t>> top_routes;
  // Withheld by min_users (they passed min_count): distinct actions / types and their events.
  uint32_t min_users = 1;
  uint64_t withheld_actions = 0, withheld_action_events = 0, withheld_types = 0, withheld_type_events = 0;
  uint64_t unknown_action_events = 0;  // kept events mapped to <unk>
  uint64_t unknown_type_events = 0;    // kept events with a type name mapped to <none>
  size_t   vocab_size = 0, type_count = 0;  // V, T (ids 0 included)

  uint64_t peak_bytes = 0;           // ingestion structures at their largest (estimate)
  uint64_t process_peak_bytes = 0;   // this process's share of it (IngestOptions::shard: its users')
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

// Several inputs read as one log, in order: the report and the Dataset equal those of the
// files' concatenation (each file with its own header, when it has one). Every file must read
// as the same format. Messages name the file and its own line; Dataset::line is the record's
// position in the whole input (the lines of earlier files come first).
Error ingest_files(const std::vector<std::string>& paths, const IngestOptions& options, Dataset* out,
                   IngestReport* report);

// The files named by the command line's inputs, in order: a file as it is; a directory's
// regular files, sorted by name, without hidden ones and the markers warehouse and Spark exports
// write beside the data (names starting with '.' or '_', such as _SUCCESS, and *.crc); a glob
// pattern (* ? [...]) as its sorted matches. An input that names nothing is an Error.
Error expand_inputs(const std::vector<std::string>& inputs, std::vector<std::string>* files);

// Same, from bytes already in memory (tests, small inputs); `name` is used in messages and
// for format detection.
Error ingest_buffer(const std::string& name, const std::string& bytes,
                    const IngestOptions& options, Dataset* out, IngestReport* report);

// Time parsing (parse_time, TimeColumn) is train/times.h.

// Time-gap buckets are the core's hunch::gap_bucket (hunch/arch.h): one definition for training
// and inference.
using hunch::gap_bucket;

}  // namespace hunch::train
