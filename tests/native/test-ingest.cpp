// Ingestion: formats, time parsing, every cleaning case and its count, strict-mode messages,
// sessions, vocabulary, gzip, determinism.
#include <doctest/doctest.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "test-util.h"
#include "train/ingest.h"

using namespace hunch::train;

namespace {

struct Ingested {
  hunch::Error error;
  Dataset      ds;
  IngestReport rep;
};

Ingested ingest_text(const std::string& name, const std::string& text, IngestOptions opt = {}) {
  Ingested r;
  r.error = ingest_buffer(name, text, opt, &r.ds, &r.rep);
  return r;
}

IngestOptions loose() {
  IngestOptions o;
  o.min_count = 1;
  return o;
}

std::vector<std::string> names_of(const Dataset& ds, size_t s) {
  std::vector<std::string> out;
  for (uint64_t i = ds.offsets[s]; i < ds.offsets[s + 1]; ++i) out.push_back(ds.actions[ds.action[i]]);
  return out;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string temp_path(const std::string& name) {
  return "/tmp/hunch-test-ingest-" + std::to_string(getpid()) + "-" + name;
}

}  // namespace

TEST_CASE("parse_time: epoch seconds, milliseconds and ISO-8601") {
  double t = 0;
  CHECK(parse_time("1714564800", &t));
  CHECK(t == 1714564800.0);
  CHECK(parse_time(" 1396839069.277 ", &t));
  CHECK(t == doctest::Approx(1396839069.277));
  CHECK(parse_time("1714564800000", &t));  // > 1e11: milliseconds
  CHECK(t == 1714564800.0);
  CHECK(parse_time("1714564800123", &t));
  CHECK(t == doctest::Approx(1714564800.123));
  CHECK(parse_time("2024-05-01T12:00:00Z", &t));
  CHECK(t == 1714564800.0);
  CHECK(parse_time("2024-05-01 12:00:00", &t));  // no zone = UTC, space separator
  CHECK(t == 1714564800.0);
  CHECK(parse_time("2024-05-01T14:00:00+02:00", &t));
  CHECK(t == 1714564800.0);
  CHECK(parse_time("2024-05-01T07:30:00-0430", &t));
  CHECK(t == 1714564800.0);
  CHECK(parse_time("2024-05-01T12:00:00.250Z", &t));
  CHECK(t == doctest::Approx(1714564800.25));
  CHECK(parse_time("2024-05-01T12:00Z", &t));
  CHECK(t == 1714564800.0);
  CHECK(parse_time("2024-05-01", &t));
  CHECK(t == 1714521600.0);
  CHECK(parse_time("1970-01-01T00:00:00Z", &t));
  CHECK(t == 0.0);
  CHECK(parse_time("2024-02-29T00:00:00Z", &t));  // leap year
  for (const char* bad : {"yesterday", "", "  ", "2023-02-29", "2024-13-01", "2024-05-01T25:00:00Z",
                          "2024-05-01T12:00:00Q", "inf", "nan", "0x10", "12abc", "2024-5-1", "1e400"})
    CHECK_MESSAGE(!parse_time(bad, &t), bad);
}

TEST_CASE("gap buckets follow docs/architecture.md") {
  std::vector<float> e = {1, 10, 60};
  CHECK(gap_bucket(e, NAN, 5) == 0);
  CHECK(gap_bucket(e, 5, NAN) == 0);
  CHECK(gap_bucket(e, 0, 0.5) == 1);
  CHECK(gap_bucket(e, 0, 1) == 2);   // e_0 <= gap
  CHECK(gap_bucket(e, 0, 59) == 3);
  CHECK(gap_bucket(e, 0, 60) == 4);
  CHECK(gap_bucket(e, 0, 1e9) == 4);
  CHECK(gap_bucket(e, 10, 5) == 1);  // negative gap clamps to 0
}

TEST_CASE("CSV fixture: each cleaning case is counted, the rest kept in time order") {
  IngestOptions opt = loose();
  Dataset ds;
  IngestReport rep;
  REQUIRE(ingest_file(hunch_test::source_path("tests/data/events/cleaning.csv"), opt, &ds, &rep).ok());
  CHECK(rep.format == Format::CSV);
  CHECK(rep.rows == 11);
  CHECK(rep.missing_field == 2);  // line 6 (user), line 12 (action)
  CHECK(rep.bad_time == 1);       // line 7
  CHECK(rep.duplicates == 1);     // line 4
  CHECK(rep.out_of_order == 1);   // line 5
  CHECK(rep.short_sequences == 1);  // u3
  CHECK(rep.short_sequence_events == 1);
  CHECK(rep.kept_events == 6);
  CHECK(rep.rows == rep.malformed + rep.missing_field + rep.bad_time + rep.bad_utf8 + rep.too_long +
                        rep.duplicates + rep.short_sequence_events + rep.kept_events);
  CHECK(rep.users == 2);
  CHECK(rep.examples.size() == 3);  // one per reason met: missing value, bad time, duplicate
  REQUIRE(ds.sequences() == 2);
  CHECK(ds.sequence_key[0] == "u1");
  CHECK(ds.sequence_key[1] == "u2");
  CHECK(names_of(ds, 0) == std::vector<std::string>{"/home", "/b", "/a"});
  CHECK(names_of(ds, 1) == std::vector<std::string>{"/a", "/home", "/x,y"});
  // Vocabulary: by count, ties by name.
  CHECK(ds.actions == std::vector<std::string>{"<unk>", "/a", "/home", "/b", "/x,y"});
  CHECK(ds.types == std::vector<std::string>{"<none>", "view", "click"});
  CHECK(ds.time[ds.offsets[1] + 1] == 1714564860.0);  // milliseconds in the file
  // Gaps: u1 5 s, 5 s (bucket 1 + #{1,2,5}); u2 60 s (1 + 7 edges <= 60), 40 s.
  CHECK(std::vector<uint8_t>(ds.gap.begin(), ds.gap.end()) == std::vector<uint8_t>{0, 4, 4, 0, 8, 7});
  CHECK(ds.type[ds.offsets[0] + 2] == 2);  // /a click
  CHECK(rep.bytes_per_event() > 0);
  std::string text = rep.to_text();
  CHECK(text.find("skipped: duplicate events") != std::string::npos);
  CHECK(text.find("cannot parse 'yesterday' as a time") != std::string::npos);
}

TEST_CASE("strict mode stops at the first bad row with file:line and the reason") {
  IngestOptions opt = loose();
  opt.strict = true;
  Dataset ds;
  IngestReport rep;
  hunch::Error e = ingest_file(hunch_test::source_path("tests/data/events/cleaning.csv"), opt, &ds, &rep);
  REQUIRE(!e.ok());
  CHECK(ends_with(e.message, "cleaning.csv:6: column 'user': missing value"));

  std::string csv = "user,timestamp,action\nu,1,/a\nu,2,/b\nu,yesterday,/c\n";
  auto r = ingest_text("events.csv", csv, opt);
  CHECK(r.error.message == "events.csv:4: column 'timestamp': cannot parse 'yesterday' as a time");

  r = ingest_text("events.csv", "user,time,action\nu,1,/a\nu,-1,/b\n", opt);
  CHECK(r.error.message == "events.csv:3: column 'time': '-1' is before 1970-01-01");
  r = ingest_text("events.csv", "user,time,action\nu,1,/a\nu,1969-12-31T23:59:59Z,/b\n", opt);
  CHECK(r.error.message == "events.csv:3: column 'time': '1969-12-31T23:59:59Z' is before 1970-01-01");

  r = ingest_text("events.csv", "user,time,action\nu,1,/a\nu,1,/a\nu,2,/b\n", opt);
  CHECK(r.error.ok());  // a duplicate is left out by design: counted, not an error
  CHECK(r.rep.duplicates == 1);

  r = ingest_text("events.csv", "user,time,action\nu,1,\"/a\n", opt);
  CHECK(r.error.message.rfind("events.csv:2: a quote opened on this line is never closed", 0) == 0);
  r = ingest_text("events.csv", "user,time,action\nu,1,/a,\"x\"y\n", opt);  // text after a closing quote
  CHECK(r.error.message.rfind("events.csv:2: malformed quoted field", 0) == 0);

  r = ingest_text("e.jsonl", "{\"user\": \"u\", \"action\": \"/a\"}\n{\"user\": \"u\" \"action\": 1}\n", opt);
  CHECK(r.error.message == "e.jsonl:2: invalid JSON: expected ',' or '}' at byte 14");

  // Without strict the same rows are skipped and counted.
  opt.strict = false;
  r = ingest_text("events.csv", csv, opt);
  CHECK(r.error.ok());
  CHECK(r.rep.bad_time == 1);
  CHECK(r.rep.kept_events == 2);
}

TEST_CASE("CSV quoting: delimiters, doubled quotes and newlines inside quotes; CRLF; BOM") {
  std::string csv =
      "\xEF\xBB\xBFuser,action,time\r\n"
      "u,\"/a,b\",1\r\n"
      "u,\"say \"\"hi\"\"\",2\r\n"
      "u,\"two\nlines\",3\r\n"
      "u,/plain,4\r\n"
      "u,/a,not-a-time\r\n";
  auto r = ingest_text("q.csv", csv, loose());
  REQUIRE(r.error.ok());
  REQUIRE(r.ds.sequences() == 1);
  CHECK(names_of(r.ds, 0) == std::vector<std::string>{"/a,b", "say \"hi\"", "two\nlines", "/plain"});
  // Records after the quoted newline keep their true line numbers.
  REQUIRE(r.rep.examples.size() == 1);
  CHECK(r.rep.examples[0] == "q.csv:7: column 'time': cannot parse 'not-a-time' as a time");

  r = ingest_text("q.csv", "user,action\nu,\"x\"y\nu,/b\nu,/c\n", loose());
  CHECK(r.rep.malformed == 1);
  CHECK(r.rep.kept_events == 2);
  r = ingest_text("q.csv", "user,time,action\nu,1\nu,2,/b\nu,3,/c\n", loose());
  CHECK(r.rep.malformed == 1);  // too few fields
}

TEST_CASE("header: configured and default column names; a missing column is an error") {
  auto r = ingest_text("h.csv", "id,when,what\n1,1,/a\n", loose());
  CHECK(r.error.message.find("no user column") != std::string::npos);
  CHECK(r.error.message.find("'id', 'when', 'what'") != std::string::npos);
  IngestOptions opt = loose();
  opt.user_column = "id";
  opt.time_column = "when";
  opt.action_column = "what";
  r = ingest_text("h.csv", "id,when,what\n1,5,/a\n1,1,/b\n", opt);
  REQUIRE(r.error.ok());
  CHECK(names_of(r.ds, 0) == std::vector<std::string>{"/b", "/a"});
  opt.type_column = "kind";  // named but absent: an error, not a silent fallback
  r = ingest_text("h.csv", "id,when,what\n1,5,/a\n", opt);
  CHECK(r.error.message.find("no type column (looked for 'kind')") != std::string::npos);
  r = ingest_text("h.csv", "", loose());
  CHECK(r.error.message == "h.csv: empty file (no header line)");
}

TEST_CASE("JSON Lines: escapes, numbers as ids, null, nested values, offsets") {
  Dataset ds;
  IngestReport rep;
  REQUIRE(ingest_file(hunch_test::source_path("tests/data/events/events.jsonl"), loose(), &ds, &rep).ok());
  CHECK(rep.format == Format::JSONL);
  CHECK(rep.rows == 5);
  CHECK(rep.kept_events == 5);
  REQUIRE(ds.sequences() == 2);
  CHECK(ds.sequence_key[0] == "alice");
  CHECK(ds.sequence_key[1] == "42");
  CHECK(names_of(ds, 0) == std::vector<std::string>{"/home", "/caf\xC3\xA9", "/emoji/\xF0\x9F\x98\x80"});
  CHECK(names_of(ds, 1) == std::vector<std::string>{"/quote%22d\\path", "/home"});  // a route's '"' as a browser writes it
  CHECK(ds.time[0] == 1714550400.0);  // +02:00
  CHECK(ds.time[2] == 1714550520.5);
  CHECK(ds.time[3] == 1714550400.25);
  CHECK(ds.type[3] == 0);  // null type
  CHECK(ds.types == std::vector<std::string>{"<none>", "view", "click"});

  IngestOptions opt = loose();
  std::string deep = "{\"user\": \"u\", \"action\": \"/a\", \"x\": " + std::string(100, '[') + std::string(100, ']') + "}\n";
  auto r = ingest_text("d.jsonl", deep + "{\"user\": \"u\", \"action\": \"/b\"}\n{\"user\": \"u\", \"action\": \"/c\"}\n", opt);
  CHECK(r.rep.malformed == 1);
  REQUIRE(r.rep.examples.size() == 1);
  CHECK(r.rep.examples[0].find("nesting deeper than 64") != std::string::npos);
  std::string ok_deep = "{\"user\": \"u\", \"action\": \"/a\", \"x\": " + std::string(64, '[') + std::string(64, ']') + "}\n";
  r = ingest_text("d.jsonl", ok_deep + "{\"user\": \"u\", \"action\": \"/b\"}\n", opt);
  CHECK(r.rep.malformed == 0);
  CHECK(r.rep.kept_events == 2);

  const char* bad[] = {
      "[1, 2]",                                           // not an object
      "{\"user\": \"u\", \"action\": \"/a\"} trailing",  // text after
      "{\"user\": \"u\", \"action\": \"\\ud800\"}",       // lone surrogate
      "{\"user\": \"u\", \"action\": \"\\x\"}",           // bad escape
      "{\"user\": \"u\", \"action\": 01}",                // leading zero
      "{\"user\": \"u\", \"action\": \"/a\"",             // unterminated
      "{\"user\": \"u\", \"action\": {\"nested\": 1}}",   // object where a value is needed
      "{\"user\": \"u\", \"action\": \"tab\there\"}",     // raw control character
  };
  for (const char* b : bad) {
    r = ingest_text("b.jsonl", std::string(b) + "\n{\"user\": \"u\", \"action\": \"/b\"}\n{\"user\": \"u\", \"action\": \"/c\"}\n", opt);
    CHECK_MESSAGE(r.rep.malformed == 1, b);
    CHECK_MESSAGE(r.rep.kept_events == 2, b);
  }
  // Line length cap.
  opt.max_line_bytes = 64;
  r = ingest_text("l.jsonl", "{\"user\": \"u\", \"action\": \"" + std::string(100, 'x') +
                                 "\"}\n{\"user\": \"u\", \"action\": \"/b\"}\n{\"user\": \"u\", \"action\": \"/c\"}\n", opt);
  CHECK(r.rep.too_long == 1);
  CHECK(r.rep.kept_events == 2);
}

TEST_CASE("invalid UTF-8 and over-long values are skipped and counted") {
  IngestOptions opt = loose();
  opt.max_field_bytes = 16;
  std::string csv = "user,action\nu,/ok\nu,/bad\xC3\x28\nu,/overlong\xC0\xAF\nu," + std::string(17, 'x') +
                    "\nu,/fine\xE2\x82\xAC\n";
  auto r = ingest_text("u.csv", csv, opt);
  REQUIRE(r.error.ok());
  CHECK(r.rep.bad_utf8 == 2);
  CHECK(r.rep.too_long == 1);
  CHECK(names_of(r.ds, 0) == std::vector<std::string>{"/ok", "/fine\xE2\x82\xAC"});
}

TEST_CASE("rows without a time keep their file position") {
  auto r = ingest_text("t.csv", "user,time,action\nu,10,/a\nu,,/b\nu,5,/c\nu,20,/d\nu,,/e\n", loose());
  REQUIRE(r.error.ok());
  CHECK(r.rep.untimed_rows == 2);
  CHECK(r.rep.out_of_order == 1);
  // /c (5) sorts first; /b follows /a (its predecessor in the file); /e follows /d.
  CHECK(names_of(r.ds, 0) == std::vector<std::string>{"/c", "/a", "/b", "/d", "/e"});
  CHECK(std::isnan(r.ds.time[2]));
  CHECK(r.ds.gap[2] == 0);  // unknown time: bucket 0
  CHECK(r.ds.gap[3] == 0);  // previous time unknown
}

TEST_CASE("sessions split on gaps; 0 keeps one sequence per user") {
  std::string csv = "user,time,action\nu,0,/a\nu,100,/b\nu,4000,/c\nu,4100,/d\nu,9000,/e\nv,0,/a\nv,1,/b\n";
  IngestOptions opt = loose();
  opt.session_gap = 1800;
  auto r = ingest_text("s.csv", csv, opt);
  REQUIRE(r.error.ok());
  REQUIRE(r.ds.sequences() == 3);
  CHECK(r.ds.sequence_key == std::vector<std::string>{"u#1", "u#2", "v"});
  CHECK(r.rep.short_sequences == 1);  // u#3 = /e alone
  CHECK(names_of(r.ds, 1) == std::vector<std::string>{"/c", "/d"});
  opt.session_gap = 0;
  r = ingest_text("s.csv", csv, opt);
  REQUIRE(r.ds.sequences() == 2);
  CHECK(r.ds.sequence_key == std::vector<std::string>{"u", "v"});
  CHECK(r.ds.length(0) == 5);
  opt.min_length = 3;
  r = ingest_text("s.csv", csv, opt);
  CHECK(r.ds.sequences() == 1);
  CHECK(r.rep.short_sequences == 1);
  CHECK(r.rep.short_sequence_events == 2);
}

TEST_CASE("TSV sessions with fractional epoch times (the yoochoose layout)") {
  Dataset ds;
  IngestReport rep;
  IngestOptions opt = loose();
  REQUIRE(ingest_file(hunch_test::source_path("tests/data/events/sessions.tsv"), opt, &ds, &rep).ok());
  CHECK(rep.format == Format::TSV);
  CHECK(rep.user_column == "SessionId");
  CHECK(rep.action_column == "ItemId");
  CHECK(rep.time_column == "Time");
  CHECK(ds.sequences() == 3);
  CHECK(ds.events() == 8);
  CHECK(ds.gap[1] == 9);  // 180.6 s: 1 + #{1, 2, 5, 10, 20, 30, 60, 120}
}

TEST_CASE("pairs format: file order is time order, nothing is deduplicated") {
  Dataset ds;
  IngestReport rep;
  REQUIRE(ingest_file(hunch_test::source_path("tests/data/events/pairs.txt"), loose(), &ds, &rep).ok());
  CHECK(rep.format == Format::PAIRS);
  CHECK(rep.kept_events == 10);
  CHECK(rep.duplicates == 0);
  REQUIRE(ds.sequences() == 3);
  CHECK(names_of(ds, 0) == std::vector<std::string>{"1", "2", "3", "2"});
  CHECK(names_of(ds, 2) == std::vector<std::string>{"5", "1"});
  for (uint8_t g : ds.gap) CHECK(g == 0);
  // Counts: 1:3, 2:3, 3:2, 4:1, 5:1; equal counts in name order.
  CHECK(ds.actions == std::vector<std::string>{"<unk>", "1", "2", "3", "4", "5"});
}

TEST_CASE("vocabulary: min_count, max_vocab, ties by name, <unk> counted") {
  std::string pairs = "u b\nu a\nu c\nu a\nu b\nu d\nu e\nu e\nu f\n";
  IngestOptions opt;
  opt.format = Format::PAIRS;
  opt.min_count = 2;
  auto r = ingest_text("v", pairs, opt);
  REQUIRE(r.error.ok());
  CHECK(r.ds.actions == std::vector<std::string>{"<unk>", "a", "b", "e"});
  CHECK(r.rep.unknown_action_events == 3);  // c, d, f
  CHECK(r.rep.distinct_actions == 6);
  CHECK(r.ds.action[2] == 0);
  opt.max_vocab = 2;
  r = ingest_text("v", pairs, opt);
  CHECK(r.ds.actions == std::vector<std::string>{"<unk>", "a", "b"});
  CHECK(r.rep.unknown_action_events == 5);
  // A literal "<unk>" action is the unknown id, never a second "<unk>" entry.
  r = ingest_text("v", "u <unk>\nu <unk>\nu a\nu a\n", opt);
  CHECK(r.ds.actions == std::vector<std::string>{"<unk>", "a"});
}

TEST_CASE("a fixed vocabulary (from a model) maps names, unknown to 0") {
  FixedVocabulary v;
  v.actions = {"<unk>", "/a", "/b"};
  v.types = {"<none>", "click"};
  v.gap_edges = {10};
  IngestOptions opt;
  opt.vocabulary = &v;
  auto r = ingest_text("f.csv", "user,time,action,type\nu,0,/b,click\nu,5,/z,view\nu,50,/a,click\n", opt);
  REQUIRE(r.error.ok());
  CHECK(r.ds.actions == v.actions);
  CHECK(std::vector<uint32_t>(r.ds.action.begin(), r.ds.action.end()) == std::vector<uint32_t>{2, 0, 1});
  CHECK(std::vector<uint16_t>(r.ds.type.begin(), r.ds.type.end()) == std::vector<uint16_t>{1, 0, 1});
  CHECK(std::vector<uint8_t>(r.ds.gap.begin(), r.ds.gap.end()) == std::vector<uint8_t>{0, 1, 2});
  CHECK(r.rep.unknown_action_events == 1);
  CHECK(r.rep.unknown_type_events == 1);
}

TEST_CASE("gzip input is streamed and equals the plain file; a truncated one is an error") {
  std::string plain = hunch_test::source_path("tests/data/events/cleaning.csv");
  auto bytes = hunch_test::read_file(plain);
  std::string gz = temp_path("events.csv.gz");
  gzFile f = gzopen(gz.c_str(), "wb");
  REQUIRE(f);
  REQUIRE(gzwrite(f, bytes.data(), unsigned(bytes.size())) == int(bytes.size()));
  gzclose(f);
  IngestOptions opt = loose();
  Dataset a, b;
  IngestReport ra, rb;
  REQUIRE(ingest_file(plain, opt, &a, &ra).ok());
  REQUIRE(ingest_file(gz, opt, &b, &rb).ok());
  CHECK(rb.format == Format::CSV);  // extension under .gz
  CHECK(a.actions == b.actions);
  CHECK(a.action == b.action);
  CHECK(a.time == b.time);
  CHECK(ra.duplicates == rb.duplicates);

  // gzip magic without a telling extension: content sniffing still finds CSV.
  std::string noext = temp_path("events-data");
  std::rename(gz.c_str(), noext.c_str());
  REQUIRE(ingest_file(noext, opt, &b, &rb).ok());
  CHECK(rb.format == Format::CSV);
  CHECK(a.action == b.action);

  auto gzbytes = hunch_test::read_file(noext);
  gzbytes.resize(gzbytes.size() / 2);
  std::string cut = temp_path("cut.csv.gz");
  REQUIRE(hunch_test::write_file(cut, gzbytes));
  hunch::Error e = ingest_file(cut, opt, &b, &rb);
  CHECK(!e.ok());
  CHECK(e.message.find("cut.csv.gz") != std::string::npos);
  CHECK(!ingest_file(temp_path("does-not-exist.csv"), opt, &b, &rb).ok());
  std::remove(noext.c_str());
  std::remove(cut.c_str());
}

TEST_CASE("format detection by extension and by content") {
  CHECK(format_from_path("a.csv") == Format::CSV);
  CHECK(format_from_path("a.CSV.gz") == Format::CSV);
  CHECK(format_from_path("a.tsv") == Format::TSV);
  CHECK(format_from_path("a.ndjson") == Format::JSONL);
  CHECK(format_from_path("a.jsonl.gz") == Format::JSONL);
  CHECK(format_from_path("ml-1m.txt") == Format::PAIRS);
  CHECK(format_from_path("log") == Format::AUTO);
  CHECK(ingest_text("x", "{\"user\": \"u\", \"action\": \"/a\"}\n{\"user\": \"u\", \"action\": \"/b\"}\n", loose()).rep.format == Format::JSONL);
  CHECK(ingest_text("x", "user\taction\nu\t/a\nu\t/b\n", loose()).rep.format == Format::TSV);
  CHECK(ingest_text("x", "user,action\nu,/a\nu,/b\n", loose()).rep.format == Format::CSV);
  CHECK(ingest_text("x", "1 1\n1 2\n", loose()).rep.format == Format::PAIRS);
  // A .txt that is really a TSV with a header (yoochoose); a forced format is not second-guessed.
  CHECK(ingest_text("clicks.txt", "SessionId\tItemId\tTime\n1\t5\t1.5\n1\t6\t2.5\n", loose()).rep.format == Format::TSV);
  CHECK(ingest_text("ml.txt", "1 1\n1 2\n", loose()).rep.format == Format::PAIRS);
  IngestOptions forced = loose();
  forced.format = Format::PAIRS;
  CHECK(ingest_text("clicks.txt", "SessionId\tItemId\n1\t5\n1\t6\n", forced).rep.format == Format::PAIRS);
  Format f;
  CHECK(parse_format("jsonl", &f));
  CHECK(f == Format::JSONL);
  CHECK(!parse_format("xml", &f));
}

TEST_CASE("ingestion is deterministic and independent of hash order") {
  std::string csv = "user,time,action,type\n";
  for (int i = 0; i < 400; ++i)
    csv += "u" + std::to_string(i % 17) + "," + std::to_string(1000 + (i * 7919) % 500) + ",/p" +
           std::to_string((i * 31) % 23) + "," + (i % 3 ? "view" : "click") + "\n";
  auto a = ingest_text("d.csv", csv, loose());
  auto b = ingest_text("d.csv", csv, loose());
  REQUIRE(a.error.ok());
  CHECK(a.ds.actions == b.ds.actions);
  CHECK(a.ds.action == b.ds.action);
  CHECK(a.ds.offsets == b.ds.offsets);
  CHECK(a.ds.sequence_key == b.ds.sequence_key);
  CHECK(a.rep.to_text() == b.rep.to_text());
  // Sequences come in order of the users' first appearance; events are time-sorted.
  CHECK(a.ds.sequence_key[0] == "u0");
  for (size_t s = 0; s < a.ds.sequences(); ++s)
    for (uint64_t i = a.ds.offsets[s] + 1; i < a.ds.offsets[s + 1]; ++i) CHECK(a.ds.time[i - 1] <= a.ds.time[i]);
}

TEST_CASE("bad options are errors") {
  IngestOptions opt;
  opt.gap_edges = {5, 1};
  CHECK(ingest_text("x.csv", "user,action\nu,a\n", opt).error.message.find("not strictly increasing") != std::string::npos);
  opt = IngestOptions();
  opt.session_gap = -1;
  CHECK(!ingest_text("x.csv", "user,action\nu,a\n", opt).error.ok());
}
