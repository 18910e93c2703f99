// fuzz_events_csv: arbitrary bytes through the trainer's event-log readers (native/train/ingest.h)
// as delimited text — CSV, TSV, `user item` pairs, or sniffed (delimiter and header included) —
// with the options a user can set. The harness itself (namespace hunch_fuzz_events) is shared
// with fuzz_events_jsonl.cpp, fuzz_events_access_log.cpp and fuzz_events_analytics.cpp, which
// include this file with HUNCH_FUZZ_EVENTS_HARNESS_ONLY defined.
//
// Input: bytes 0-1 are options, the rest is the log.
//   byte 0  bits 0-1  format: the target's own family (CSV/TSV/pairs or lists, JSONL, access
//                     log, or GA4/Segment/per-session JSON), or AUTO
//           bit  2    strict (first bad row is an error)
//           bit  3    no de-duplication
//           bits 4-5  session gap: 1800 s, 0 (one per user), 1 s, 1e9 s
//           bit  6    map to a fixed vocabulary (as `hunch eval` does)
//           bit  7    read through a file (ingest_file on a memfd) instead of ingest_buffer
//   byte 1  bit  0    min_length 1      bit 1  min_count 1
//           bit  2    tiny limits: 64-byte records, 8-byte values, 2 action names counted
//                     exactly (max_names: a log with more is read twice)
//           bit  3    explicit column names u, t, a, ty; with format AUTO in the delimited
//                     family also a header-less naming (columns u,a,,t,ty, session column s)
//           bit  4    max_vocab 3, max_types 1
//           bit  5    (file) gzip the log first   bit 6  (gzip) cut the stream short; and
//                     min_users 1 with routes keeping `page` and three rules (with bit 1: no
//                     normalisation) instead of the defaults (min_users 5, routes on)
//           bit  7    three gap edges instead of the default
//   bit 5 of byte 1 also reads attribute columns: category and a numeric price, or (with bit 5 of
//   byte 0) those IngestOptions::find_attributes finds by name
// A gzip stream is made here from the log rather than left for the fuzzer to find, so the zlib
// path sees both well-formed and truncated streams of arbitrary text.
//
// Checked on success: the cleaning report accounts for every row (rows = sum of the skip
// counters + kept events, as ingest.h documents), strict mode skipped nothing, and the Dataset
// is consistent (CSR offsets, ids inside the vocabularies, gap buckets in range, sequences at
// least min_length long, vocabularies within their caps, times finite or NaN and in order).
//
// Regression replay: tests/native/test-fuzz-regressions.cpp (HUNCH_FUZZ_NO_ENTRY).
#ifndef HUNCH_FUZZ_EVENTS_HARNESS
#define HUNCH_FUZZ_EVENTS_HARNESS

#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "hunch/error.h"
#include "hunch/format.h"
#include "train/dataset.h"
#include "train/ingest.h"
#include "fuzz-common.h"


namespace hunch_fuzz_events {

namespace tr = hunch::train;

enum class Family { DELIMITED, JSONL, ACCESS_LOG, ANALYTICS };

// gzip (RFC 1952) of `text`, as `gzip` would write it.
inline std::string gzip(const std::string& text) {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::string out(deflateBound(&zs, uLong(text.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = uInt(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(&out[0]);
  zs.avail_out = uInt(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// ingest_file on an anonymous in-memory file: the zlib-backed file reader without the disk.
inline hunch::Error ingest_via_file(const std::string& bytes, const tr::IngestOptions& opt,
                                    tr::Dataset* ds, tr::IngestReport* rep) {
  int fd = memfd_create("hunch-fuzz-log", 0);
  if (fd < 0) std::abort();
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) std::abort();
    done += size_t(n);
  }
  hunch::Error e = tr::ingest_file("/proc/self/fd/" + std::to_string(fd), opt, ds, rep);
  close(fd);
  return e;
}

inline void check_dataset(const tr::Dataset& ds, const tr::IngestReport& rep, const tr::IngestOptions& opt) {
  const uint64_t skipped = rep.malformed + rep.missing_field + rep.bad_time + rep.bad_utf8 +
                           rep.too_long + rep.duplicates + rep.static_assets + rep.error_status +
                           rep.not_events + rep.short_sequence_events;
  HUNCH_FUZZ_CHECK(rep.rows == skipped + rep.kept_events, "every row is kept or counted under one reason");
  // (Duplicates, static assets, error statuses and non-event calls are left out by design,
  // counted under --strict too.)
  if (opt.strict)
    HUNCH_FUZZ_CHECK(rep.malformed + rep.missing_field + rep.bad_time + rep.bad_utf8 + rep.too_long == 0,
                     "strict mode accepted no bad row");
  HUNCH_FUZZ_CHECK(rep.kept_events == ds.events() && rep.sequences == ds.sequences(), "report matches the dataset");
  HUNCH_FUZZ_CHECK(rep.vocab_size == ds.actions.size() && rep.type_count == ds.types.size(), "report vocab sizes");
  if (opt.max_names && !opt.vocabulary)
    HUNCH_FUZZ_CHECK(rep.distinct_actions <= opt.max_names && (!rep.name_capacity || rep.name_bound >= 1),
                     "bounded name counting: at most max_names counted, a bound when past it");

  const size_t n = ds.events();
  HUNCH_FUZZ_CHECK(ds.type.size() == n && ds.gap.size() == n && ds.time.size() == n, "per-event arrays agree");
  HUNCH_FUZZ_CHECK(ds.sequence_key.size() == ds.sequences(), "one key per sequence");
  // Attributes: K value ids per event and per action, each inside its column's block.
  const size_t K = ds.attr_count();
  HUNCH_FUZZ_CHECK(ds.attr.size() == n * K && ds.action_attr.size() == ds.actions.size() * K, "attribute arrays agree");
  HUNCH_FUZZ_CHECK(!K || ds.attr_start.size() == K + 1, "one block per attribute column");
  for (size_t i = 0; i < ds.attr.size(); ++i)
    HUNCH_FUZZ_CHECK(ds.attr[i] >= ds.attr_start[i % K] && ds.attr[i] < ds.attr_start[i % K + 1], "event attribute in its column");
  for (size_t i = 0; i < ds.action_attr.size(); ++i)
    HUNCH_FUZZ_CHECK(ds.action_attr[i] >= ds.attr_start[i % K] && ds.action_attr[i] < ds.attr_start[i % K + 1],
                     "action attribute in its column");
  HUNCH_FUZZ_CHECK(!ds.offsets.empty() && ds.offsets.front() == 0 && ds.offsets.back() == n, "offsets span the events");
  HUNCH_FUZZ_CHECK(!ds.actions.empty() && !ds.types.empty(), "vocabularies hold the unknown entry");
  if (!opt.vocabulary) {
    HUNCH_FUZZ_CHECK(ds.actions[0] == "<unk>" && ds.types[0] == "<none>", "id 0 is the unknown entry");
    HUNCH_FUZZ_CHECK(ds.actions.size() <= size_t(opt.max_vocab) + 1, "action vocabulary within max_vocab");
    HUNCH_FUZZ_CHECK(ds.types.size() <= size_t(opt.max_types) + 1, "type vocabulary within max_types");
    for (size_t i = 1; i < ds.actions.size(); ++i)
      HUNCH_FUZZ_CHECK(!ds.actions[i].empty() && ds.actions[i].size() <= opt.max_field_bytes,
                       "action names non-empty and within max_field_bytes");
  }
  // The vocabularies go into a model file: names it cannot carry (Model::load refuses a NUL,
  // the writer a string over kMaxStringBytes) must be refused here, not after training.
  for (const std::vector<std::string>* names : {&ds.actions, &ds.types})
    for (const std::string& name : *names)
      HUNCH_FUZZ_CHECK(name.find('\0') == std::string::npos && name.size() <= hunch::kMaxStringBytes,
                       "vocabulary names fit in a model (no NUL, at most kMaxStringBytes)");
  const size_t buckets = ds.gap_edges.size() + 2;
  for (size_t s = 0; s < ds.sequences(); ++s) {
    HUNCH_FUZZ_CHECK(ds.offsets[s] <= ds.offsets[s + 1], "offsets non-decreasing");
    HUNCH_FUZZ_CHECK(ds.length(s) >= std::max<size_t>(opt.min_length, 1), "sequences at least min_length long");
    double last = -INFINITY;
    for (uint64_t i = ds.offsets[s]; i < ds.offsets[s + 1]; ++i) {
      HUNCH_FUZZ_CHECK(ds.action[i] < ds.actions.size(), "action id inside the vocabulary");
      HUNCH_FUZZ_CHECK(ds.type[i] < ds.types.size(), "type id inside the vocabulary");
      HUNCH_FUZZ_CHECK(ds.gap[i] < buckets, "gap bucket in range");
      if (i == ds.offsets[s]) HUNCH_FUZZ_CHECK(ds.gap[i] == 0, "a sequence starts with gap bucket 0");
      const double t = ds.time[i];
      HUNCH_FUZZ_CHECK(!std::isinf(t), "times are finite or NaN");
      if (!std::isnan(t)) {
        HUNCH_FUZZ_CHECK(t >= last, "times in a sequence are in order");
        last = t;
      }
    }
  }
}

inline int run(const uint8_t* data, size_t size, Family family) {
  if (size < 2) return 0;
  const uint8_t a = data[0], b = data[1];
  const std::string log(reinterpret_cast<const char*>(data) + 2, size - 2);

  tr::IngestOptions opt;
  static const tr::Format kDelimited[] = {tr::Format::CSV, tr::Format::TSV, tr::Format::PAIRS, tr::Format::AUTO};
  // PAIRS's slot reads LISTS when bit 4 of byte 0 is set too (shared with the session gap).
  // JSON Lines: flat, product-analytics events (event + properties), or sniffed.
  static const tr::Format kJson[] = {tr::Format::JSONL, tr::Format::ANALYTICS, tr::Format::AUTO, tr::Format::AUTO};
  static const tr::Format kAccess[] = {tr::Format::ACCESS_LOG, tr::Format::ACCESS_LOG, tr::Format::AUTO, tr::Format::AUTO};
  // ANALYTICS: GA4, Segment, per-session JSON (events_field "events"), or sniffed.
  static const tr::Format kAnalytics[] = {tr::Format::GA4, tr::Format::SEGMENT, tr::Format::JSONL, tr::Format::AUTO};
  opt.format = (family == Family::JSONL        ? kJson
                : family == Family::ACCESS_LOG ? kAccess
                : family == Family::ANALYTICS  ? kAnalytics
                                               : kDelimited)[a & 3];
  if (family == Family::ANALYTICS && (a & 3) == 2) opt.events_field = "events";
  if (opt.format == tr::Format::PAIRS && (a & 16)) opt.format = tr::Format::LISTS;
  opt.strict = a & 4;
  opt.dedupe = !(a & 8);
  static const double kGaps[] = {1800, 0, 1, 1e9};
  opt.session_gap = kGaps[(a >> 4) & 3];
  static const tr::FixedVocabulary kVocab = {
      {"<unk>", "/home", "/a", "/b", "1", "2", "214536502"}, {"<none>", "view", "click"}, {1, 60, 3600}, {}, {}, {}, {}};
  if (a & 64) opt.vocabulary = &kVocab;
  if (b & 1) opt.min_length = 1;
  if (b & 2) opt.min_count = 1;
  if (b & 4) {
    opt.max_line_bytes = 64;
    opt.max_field_bytes = 8;
    opt.max_names = 2;
  }
  if (b & 8) {
    opt.user_column = "u";
    opt.time_column = "t";
    opt.action_column = "a";
    opt.type_column = "ty";
    if (family == Family::DELIMITED && (a & 3) == 3) {
      opt.columns = {"u", "a", "", "t", "ty", "s"};
      opt.session_column = "s";
    }
  }
  if (b & 16) {
    opt.max_vocab = 3;
    opt.max_types = 1;
  }
  if (b & 128) opt.gap_edges = {5, 50, 500};
  if (b & 64) {  // every name of one user enters; routes with kept parameters and rules, or none
    opt.min_users = 1;
    opt.keep_query = {"page"};
    opt.route_rules = {"/a/* -> /a/:x", "/b/** -> /b/**", "/c/x*y/* -> /$2/$1"};
    opt.normalize = !(b & 2);
  }
  if (b & 32) {  // attribute columns (train/attributes.h), one of them numeric; or found by name
    if (a & 32) {
      opt.find_attributes = true;
    } else {
      opt.attr_columns = {"category"};
      opt.numeric_columns = {"price"};
    }
    opt.numeric_buckets = 4;
  }

  tr::Dataset ds;
  tr::IngestReport rep;
  hunch::Error e;
  if (a & 128) {
    std::string bytes = log;
    if (b & 32) {
      bytes = gzip(log);
      // Cut somewhere inside the stream (the 10-byte header and 8-byte trailer included).
      if (b & 64) bytes.resize(log.empty() ? 10 : size_t(log[0] & 0xFF) % bytes.size());
    }
    e = ingest_via_file(bytes, opt, &ds, &rep);
  } else {
    e = tr::ingest_buffer("fuzz-input", log, opt, &ds, &rep);
  }
  (void)rep.to_text();  // the CLI prints it on success and failure alike
  if (e) {
    HUNCH_FUZZ_CHECK(!e.message.empty(), "an error has a message");
    return 0;
  }
  check_dataset(ds, rep, opt);
  return 0;
}

}  // namespace hunch_fuzz_events

#endif  // HUNCH_FUZZ_EVENTS_HARNESS

#if !defined(HUNCH_FUZZ_NO_ENTRY) && !defined(HUNCH_FUZZ_EVENTS_HARNESS_ONLY)
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return hunch_fuzz_events::run(data, size, hunch_fuzz_events::Family::DELIMITED);
}
#endif
