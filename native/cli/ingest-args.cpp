#include "cli/ingest-args.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

#include "hunch/model.h"

namespace hunch::cli {

void add_ingest_options(Args& a) {
  a.option("format", "auto",
           "input format: auto (by extension, then content), csv, tsv, jsonl, pairs ('user item' lines), lists ('user item item …' lines, one per user), ga4 "
           "(BigQuery export, JSON Lines), segment (track/page/screen calls, JSON Lines), analytics (Mixpanel, PostHog or Amplitude events: an event "
           "name and a properties object, JSON Lines), access-log (web server: "
           "common, combined, or 'ip - - dd/MM/yyyy:hh:mm:ss +zzzz GET /path'); ga4, segment, analytics, access logs and "
           "per-session JSON are found by content too");
  a.option("delimiter", "", "CSV field delimiter: , ; | : space or tab (default: sniffed from the first lines among , ; | and tab)");
  a.option("columns", "",
           "names of the columns of a file without a header, comma-separated, e.g. user,item,category,type,time "
           "(names give the roles as a header would; empty or other names are ignored)");
  a.option("user-column", "", "user or session id column (default: user, user_id, session, session_id, SessionId, then visitor_id, customer_id, client_id, "
           "distinct_id, anonymous_id, domain_userid, device_id, uid; in any case, and when none matches so, with everything but "
           "letters and digits ignored: userId, User ID)");
  a.option("time-column", "",
           "timestamp column: epoch s, ms, µs or ns (by magnitude), ISO-8601 (T or space, Z, offsets, ' UTC'), "
           "2024/05/01, 01.05.2024, 05/01/2024 and 5/1/24 (see --date-order), 20240501, 'Wed, 01 May 2024 12:00:00 GMT', "
           "'May 1, 2024, 1:05 PM', an access-log time; clocks with AM/PM (default: time, timestamp, ts, Time, "
           "event_time, event_timestamp, datetime, created_at, occurred_at; none = file order)");
  a.option("date-order", "auto",
           "how 03/04/2024 is read: month-first, day-first, or auto: as the log shows (the first date valid in one "
           "order only, such as 13/04/2024), month first until it does (the report says so); a day-first date after "
           "dates read month first has the log read again day first (an error for a pipe). Access-log times "
           "(dd/mm/yyyy:hh:mm:ss) are always day first");
  a.option("action-column", "", "action column (default: action, item, item_id, ItemId, page, url, product_id, product, sku, product_sku, page_path, "
           "path, page_url, screen_name, content_id)");
  a.option("session-column", "",
           "session id column, when the log has a user column too: sessions start where it changes instead of at "
           "--session-gap (default: session, session_id, user_session, SessionId, ga_session_id unless it is the user "
           "column; none = by gap)");
  a.option("events-field", "",
           "JSON Lines with one record per session: the key of its array of events, e.g. events (the OTTO "
           "shape; found by content when the records have an events array and no action key)");
  a.option("type-column", "", "event-type column (default: type, event, event_type, event_name, action_type, behavior, behaviour; optional)");
  a.option("session-gap", "1800", "seconds of inactivity that start a new sequence; 0 = one sequence per user");
  a.option("min-length", "2", "drop sequences with fewer events");
  a.option("min-count", "2", "actions and types seen fewer times become <unk> / <none>");
  // What a trained model ships is k-anonymous by default; a log read to score (eval, quantize)
  // keeps every name, as before.
  const bool ships = a.command() == "train";
  a.option("min-users", ships ? "5" : "1",
           "actions and types done by fewer distinct users become <unk> / <none>" +
               std::string(ships ? ": no name of fewer users ships in the model (1 = off, the behaviour before "
                                   "issue 16; docs/privacy.md)"
                                 : " (a model's own vocabulary replaces this)"));
  a.option("normalize", "",
           "rules file for URL-like actions, one 'PATTERN -> REPLACEMENT' per line, first match wins, e.g. "
           "'/product/* -> /product/:slug' ('*' one segment, '**' the rest; docs/privacy.md)");
  a.option("keep-query", "", "query parameters URL-like actions keep, comma-separated (default: none: the query string is dropped)");
  a.flag("no-normalize",
         "keep URL-like actions as logged; by default they lose query strings and fragments, and path segments that "
         "look like ids (digits, UUIDs, hex, e-mails, random tokens) become :id");
  a.option("max-vocab", "50000", "keep at most this many actions (most frequent first), besides <unk>");
  a.option("max-types", "1023", "keep at most this many event types, besides <none>");
  a.option("gap-edges", "", "time-gap bucket edges in seconds, comma-separated, increasing (default: 1,2,5,…,2592000)");
  a.option("max-line-bytes", "1048576", "longest accepted record; longer ones are skipped and counted");
  a.flag("keep-duplicates", "keep repeated (user, action, type, time) events instead of dropping them");
  a.flag("strict", "stop at the first bad row with file:line and the reason, instead of skipping and counting (rows left out by design — duplicates, static assets, error statuses, Segment identify calls — are still counted, not errors)");
  a.option("keep-last", "0",
           "bounded memory for very long logs: keep only each user's last N events (the vocabulary still counts "
           "every event); 0 = keep all");
  a.option("max-names", "1000000",
           "bounded memory for logs with very many distinct actions: count at most this many exactly; a log with "
           "more is read twice (the report says whether the vocabulary is still exact); also the most distinct event "
           "types a log may have; 0 = no bound");
  a.option("progress", "auto", "reading progress on stderr: auto (when stderr is a terminal), always or never");
  // Attributes (train/attributes.h).
  a.option("attr-columns", "",
           "columns describing the action (category, brand, …), comma-separated: embedded with the event and scored "
           "with each action, so rare and new actions get their category's signal" +
               std::string(ships ? " (default: a category, brand and price column found by name in a header or JSON records' keys (Segment properties, GA4 items), e.g. "
                                   "category_id, brand, price; none = no attribute columns)"
                                 : ""));
  a.option("numeric-columns", "",
           "numeric attribute columns (price, …), comma-separated: bucketised by quantiles" +
               std::string(ships ? " (none: no attribute columns)" : ""));
  a.option("max-attr-values", "1000", "keep at most this many values per attribute column (most frequent first, seen --min-count times)");
  a.option("numeric-buckets", "16", "quantile buckets per numeric attribute column");
}

namespace {

// "a,b,c" → {"a", "b", "c"} (empty items dropped).
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  for (size_t b = 0; b < text.size();) {
    size_t e = text.find(',', b);
    if (e == std::string::npos) e = text.size();
    if (e > b) out.push_back(text.substr(b, e - b));
    b = e + 1;
  }
  return out;
}

// A small text file (a rules file) whole; false + *error naming the path when it cannot be read
// or is over `limit` bytes.
bool read_small_file(const std::string& path, size_t limit, std::string* out, std::string* error) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    *error = "--normalize: " + path + ": cannot open (" + std::strerror(errno) + ")";
    return false;
  }
  out->clear();
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    out->append(buf, n);
    if (out->size() > limit) break;
  }
  const bool bad = std::ferror(f) != 0;
  std::fclose(f);
  if (bad || out->size() > limit) {
    *error = "--normalize: " + path + (bad ? ": read error" : ": over " + std::to_string(limit >> 20) + " MiB, not a rules file");
    return false;
  }
  return true;
}

}  // namespace

bool ingest_options_from_args(const Args& a, train::IngestOptions* o, std::string* error) {
  if (!train::parse_format(a.get("format"), &o->format)) {
    *error = "--format: expected auto, csv, tsv, jsonl, pairs, lists, ga4, segment, analytics or access-log, got '" + a.get("format") + "'";
    return false;
  }
  o->user_column = a.get("user-column");
  o->time_column = a.get("time-column");
  {
    const std::string d = a.get("date-order");
    if (d == "auto") o->date_order = train::DateOrder::AUTO;
    else if (d == "month-first" || d == "mdy") o->date_order = train::DateOrder::MONTH_FIRST;
    else if (d == "day-first" || d == "dmy") o->date_order = train::DateOrder::DAY_FIRST;
    else {
      *error = "--date-order: expected auto, month-first or day-first, got '" + d + "'";
      return false;
    }
  }
  o->action_column = a.get("action-column");
  o->type_column = a.get("type-column");
  o->session_column = a.get("session-column");
  o->events_field = a.get("events-field");
  if (a.given("delimiter")) {
    const std::string d = a.get("delimiter");
    if (d == "tab" || d == "\\t" || d == "\t") o->delimiter = '\t';
    else if (d == "space" || d == " ") o->delimiter = ' ';
    else if (d == "," || d == ";" || d == "|" || d == ":") o->delimiter = d[0];
    else {
      *error = "--delimiter: expected , ; | : space or tab, got '" + d + "'";
      return false;
    }
  }
  o->columns.clear();
  if (a.given("columns")) {
    const std::string c = a.get("columns");
    for (size_t b = 0; b <= c.size();) {
      size_t e = c.find(',', b);
      if (e == std::string::npos) e = c.size();
      o->columns.push_back(c.substr(b, e - b));
      b = e + 1;
    }
    bool named = false;
    for (const auto& n : o->columns) named = named || !n.empty();
    if (!named) {
      *error = "--columns: expected comma-separated names, e.g. user,item,category,type,time";
      return false;
    }
  }
  int64_t v;
  if (!a.get_double("session-gap", 0, 1e12, &o->session_gap, error)) return false;
  if (!a.get_int("min-length", 1, 1000000, &v, error)) return false;
  o->min_length = static_cast<uint32_t>(v);
  if (!a.get_int("min-count", 1, 1000000000, &v, error)) return false;
  o->min_count = static_cast<uint32_t>(v);
  if (!a.get_int("min-users", 1, 1000000000, &v, error)) return false;
  o->min_users = static_cast<uint32_t>(v);
  o->normalize = !a.get_bool("no-normalize");
  o->keep_query = split_list(a.get("keep-query"));
  o->route_rules.clear();
  if (!o->normalize && (a.given("normalize") || a.given("keep-query"))) {
    *error = std::string("--") + (a.given("normalize") ? "normalize" : "keep-query") + " and --no-normalize exclude each other";
    return false;
  }
  if (a.given("normalize")) {
    const std::string path = a.get("normalize");
    std::string text;
    if (!read_small_file(path, 8u << 20, &text, error)) return false;
    if (Error e = hunch::parse_route_rules(text, path, &o->route_rules)) {
      *error = "--normalize: " + e.message;
      return false;
    }
  }
  {  // the rules and names, checked now rather than after reading the log
    hunch::Routes check;
    if (Error e = check.set(o->keep_query, o->route_rules, "--keep-query")) {
      *error = e.message;
      return false;
    }
  }
  if (!a.get_int("max-vocab", 1, kMaxVocab - 1, &v, error)) return false;
  o->max_vocab = static_cast<uint32_t>(v);
  if (!a.get_int("max-types", 1, kMaxTypes - 1, &v, error)) return false;
  o->max_types = static_cast<uint32_t>(v);
  if (!a.get_int("keep-last", 0, 1 << 30, &v, error)) return false;
  o->keep_last = static_cast<uint32_t>(v);
  if (!a.get_int("max-names", 0, 1 << 30, &v, error)) return false;
  o->max_names = static_cast<uint32_t>(v);
  {
    const std::string p = a.get("progress");
    if (p == "auto") o->progress = ::isatty(2) == 1;
    else if (p == "always") o->progress = true, o->progress_delay_ms = 0;
    else if (p == "never") o->progress = false;
    else {
      *error = "--progress: expected auto, always or never, got '" + p + "'";
      return false;
    }
  }
  if (!a.get_int("max-line-bytes", 64, 1ll << 30, &v, error)) return false;
  o->max_line_bytes = static_cast<size_t>(v);
  if (a.given("gap-edges")) {
    o->gap_edges.clear();
    std::string s = a.get("gap-edges");
    size_t p = 0;
    while (p <= s.size() && !s.empty()) {
      size_t q = s.find(',', p);
      std::string item = s.substr(p, q == std::string::npos ? std::string::npos : q - p);
      char* end = nullptr;
      errno = 0;
      double e = std::strtod(item.c_str(), &end);
      if (item.empty() || errno || *end != '\0' || !std::isfinite(e) || e < 0) {
        *error = "--gap-edges: expected seconds >= 0, got '" + item + "'";
        return false;
      }
      if (!o->gap_edges.empty() && !(float(e) > o->gap_edges.back())) {
        *error = "--gap-edges: edges must increase ('" + item + "')";
        return false;
      }
      o->gap_edges.push_back(static_cast<float>(e));
      if (o->gap_edges.size() > kMaxGapEdges) {
        *error = "--gap-edges: at most " + std::to_string(kMaxGapEdges) + " edges";
        return false;
      }
      if (q == std::string::npos) break;
      p = q + 1;
    }
  }
  o->dedupe = !a.get_bool("keep-duplicates");
  o->strict = a.get_bool("strict");
  o->attr_columns = split_list(a.get("attr-columns"));
  o->numeric_columns = split_list(a.get("numeric-columns"));
  // Neither given: `hunch train` takes a category, brand and price column found by name; "none"
  // gives an empty list (no attribute columns). A model's own columns replace these when a log is scored.
  for (std::vector<std::string>* list : {&o->attr_columns, &o->numeric_columns})
    if (list->size() == 1 && (*list)[0] == "none") list->clear();
  o->find_attributes = a.command() == "train" && !a.given("attr-columns") && !a.given("numeric-columns");
  if (o->attr_columns.size() + o->numeric_columns.size() > kMaxAttrColumns) {
    *error = "--attr-columns, --numeric-columns: at most " + std::to_string(kMaxAttrColumns) + " columns together";
    return false;
  }
  if (!a.get_int("max-attr-values", 1, kMaxAttrValues - 1, &v, error)) return false;
  o->max_attr_values = static_cast<uint32_t>(v);
  if (!a.get_int("numeric-buckets", 1, 1000, &v, error)) return false;
  o->numeric_buckets = static_cast<uint32_t>(v);
  return true;
}

void add_protocol_options(Args& a) {
  a.option("protocol", "loo",
           "loo: leave-one-out (last event of each sequence = test, second-last = validation); sessions: the "
           "last --test-fraction of sessions by start time are test, as many before them validation, every event "
           "of a held-out session a prediction point with the user's whole earlier history as context");
  a.option("test-fraction", "0.1", "sessions protocol: share of sessions held out for test (as many again for validation)");
  a.option("goal-type", "",
           "sessions protocol: event type(s) that count as a conversion, comma-separated (default: purchase, buy, "
           "order, orders, transaction, checkout_complete or Order Completed, case-insensitive, when present)");
}

bool protocol_options_from_args(const Args& a, bool* sessions, double* test_fraction,
                                std::vector<std::string>* goal_types, train::IngestOptions* ingest,
                                std::string* error) {
  const std::string p = a.get("protocol");
  if (p != "loo" && p != "sessions") {
    *error = "--protocol: expected loo or sessions, got '" + p + "'";
    return false;
  }
  *sessions = p == "sessions";
  if (!a.get_double("test-fraction", 0.001, 0.499, test_fraction, error)) return false;
  *goal_types = split_list(a.get("goal-type"));
  if (!*sessions && (a.given("goal-type") || a.given("test-fraction"))) {
    *error = std::string("--") + (a.given("goal-type") ? "goal-type" : "test-fraction") + " needs --protocol sessions";
    return false;
  }
  if (*sessions) {
    ingest->whole_users = true;
    if (!a.given("min-length")) ingest->min_length = 1;
  }
  return true;
}

}  // namespace hunch::cli
