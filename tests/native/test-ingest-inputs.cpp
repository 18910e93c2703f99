// Ingestion of logs split over many files and of logs too long to hold (ingest.h:
// ingest_files, expand_inputs, IngestOptions::keep_last, progress): the same Dataset and report
// whichever way the input is split, export directories and globs found, bounded memory with the
// vocabulary still counting every event, action names counted in bounded memory (max_names), and
// the CLI taking several inputs.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "hunch/rng.h"
#include "test-util.h"
#include "train/ingest.h"

using namespace hunch::train;

namespace {

std::string scratch() {
  static const std::string dir = [] {
    std::string d = "/tmp/hunch-test-ingest-inputs-" + std::to_string(getpid());
    mkdir(d.c_str(), 0700);
    return d;
  }();
  return dir;
}

std::string put(const std::string& name, const std::string& bytes) {
  const std::string path = scratch() + "/" + name;
  REQUIRE(hunch_test::write_file(path, std::vector<uint8_t>(bytes.begin(), bytes.end())));
  return path;
}

std::string put_gz(const std::string& name, const std::string& bytes) {
  const std::string path = scratch() + "/" + name;
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f);
  REQUIRE(gzwrite(f, bytes.data(), unsigned(bytes.size())) == int(bytes.size()));
  gzclose(f);
  return path;
}

// A shop-like CSV body (no header): users with interleaved, partly out-of-order events, repeated
// rows (duplicates), rows without an action and an unparsable time, so every cleaning path runs.
std::vector<std::string> shop_rows(int users, int events_per_user, uint64_t seed) {
  hunch::Rng rng(seed);
  std::vector<std::string> rows;
  for (int e = 0; e < events_per_user; ++e)
    for (int u = 0; u < users; ++u) {
      const long t = 1700000000L + e * 60 + long(rng.uniform() * 3000);  // overlaps: some out of order
      const int item = int(std::pow(rng.uniform(), 2.0) * 60);
      const char* type = rng.uniform() < 0.2 ? "cart" : "view";
      std::string row = "u" + std::to_string(u) + "," + std::to_string(t) + ",/p/" + std::to_string(item) + "," + type;
      rows.push_back(row);
      if (rng.uniform() < 0.03) rows.push_back(row);  // a duplicate
      if (rng.uniform() < 0.01) rows.push_back("u" + std::to_string(u) + "," + std::to_string(t) + ",,view");
      if (rng.uniform() < 0.01) rows.push_back("u" + std::to_string(u) + ",yesterday,/p/1,view");
    }
  return rows;
}

const char* kHeader = "user,time,item,type\n";

std::string join(const std::vector<std::string>& rows, size_t b, size_t e) {
  std::string s = kHeader;
  for (size_t i = b; i < e; ++i) s += rows[i] + "\n";
  return s;
}

void check_same(const Dataset& a, const Dataset& b) {
  CHECK(a.actions == b.actions);
  CHECK(a.types == b.types);
  CHECK(a.offsets == b.offsets);
  CHECK(a.action == b.action);
  CHECK(a.type == b.type);
  CHECK(a.gap == b.gap);
  CHECK(a.flags == b.flags);
  CHECK(a.sequence_key == b.sequence_key);
  REQUIRE(a.time.size() == b.time.size());
  for (size_t i = 0; i < a.time.size(); ++i)
    if (!(std::isnan(a.time[i]) && std::isnan(b.time[i]))) CHECK(a.time[i] == b.time[i]);
}

void check_same(const IngestReport& a, const IngestReport& b) {
  CHECK(a.rows == b.rows);
  CHECK(a.malformed == b.malformed);
  CHECK(a.missing_field == b.missing_field);
  CHECK(a.bad_time == b.bad_time);
  CHECK(a.duplicates == b.duplicates);
  CHECK(a.out_of_order == b.out_of_order);
  CHECK(a.short_sequences == b.short_sequences);
  CHECK(a.kept_events == b.kept_events);
  CHECK(a.sequences == b.sequences);
  CHECK(a.users == b.users);
  CHECK(a.distinct_actions == b.distinct_actions);
  CHECK(a.vocab_size == b.vocab_size);
  CHECK(a.unknown_action_events == b.unknown_action_events);
  CHECK(a.format == b.format);
  CHECK(a.user_column == b.user_column);
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("ingest inputs: a log split into parts (some gzip, each with its header) reads as the whole") {
  const std::vector<std::string> rows = shop_rows(40, 30, 7);
  const std::string whole = put("whole.csv", join(rows, 0, rows.size()));
  // Cuts in the middle of users' histories, parts of unequal size, one of them gzip.
  const size_t c1 = rows.size() / 5, c2 = rows.size() / 2 + 3;
  mkdir((scratch() + "/parts").c_str(), 0700);
  put("parts/part-00000.csv", join(rows, 0, c1));
  put_gz("parts/part-00001.csv.gz", join(rows, c1, c2));
  put("parts/part-00002.csv", join(rows, c2, rows.size()));
  put("parts/_SUCCESS", "");
  put("parts/.part-00000.csv.crc", "not data");

  for (bool sessions : {false, true}) {
    CAPTURE(sessions);
    IngestOptions o;
    o.whole_users = sessions;
    Dataset a, b;
    IngestReport ra, rb;
    REQUIRE(ingest_file(whole, o, &a, &ra).ok());
    std::vector<std::string> files;
    REQUIRE(expand_inputs({scratch() + "/parts"}, &files).ok());
    REQUIRE(files.size() == 3);
    CHECK(has(files[1], "part-00001.csv.gz"));
    hunch::Error e = ingest_files(files, o, &b, &rb);
    REQUIRE_MESSAGE(e.ok(), e.message);
    CHECK(ra.duplicates > 0);
    CHECK(ra.missing_field > 0);
    CHECK(ra.bad_time > 0);
    check_same(a, b);
    check_same(ra, rb);
    CHECK(rb.files == 3);
    CHECK(has(rb.to_text(), "and 2 more files"));
    // A glob names the same parts.
    Dataset c;
    IngestReport rc;
    REQUIRE(expand_inputs({scratch() + "/parts/part-*"}, &files).ok());
    REQUIRE(files.size() == 3);
    REQUIRE(ingest_files(files, o, &c, &rc).ok());
    check_same(a, c);
  }
}

TEST_CASE("ingest inputs: Hive-style partition directories and empty parts (what Spark and warehouses write)") {
  const std::vector<std::string> rows = shop_rows(40, 30, 7);
  const std::string whole = put("whole-hive.csv", join(rows, 0, rows.size()));
  const size_t c1 = rows.size() / 3, c2 = 2 * rows.size() / 3;
  for (const char* d : {"/hive", "/hive/dt=2024-05-01", "/hive/dt=2024-05-02", "/hive/_temporary", "/hive/.hidden"})
    mkdir((scratch() + d).c_str(), 0700);
  put("hive/dt=2024-05-01/part-00000.csv", join(rows, 0, c1));
  put("hive/dt=2024-05-01/part-00001.csv", "");  // an empty partition's part: 0 bytes
  put_gz("hive/dt=2024-05-02/part-00002.csv.gz", join(rows, c1, c2));
  put_gz("hive/dt=2024-05-02/part-00003.csv.gz", "");  // an empty gzip member
  put("hive/part-00004.csv", join(rows, c2, rows.size()));
  put("hive/_temporary/part-00000.csv", "not,the,data\n");  // an unfinished job's output
  put("hive/.hidden/part-00000.csv", "not,the,data\n");
  put("hive/_SUCCESS", "");
  std::vector<std::string> files;
  REQUIRE(expand_inputs({scratch() + "/hive"}, &files).ok());
  REQUIRE(files.size() == 5);
  IngestOptions o;
  Dataset a, b;
  IngestReport ra, rb;
  REQUIRE(ingest_file(whole, o, &a, &ra).ok());
  hunch::Error e = ingest_files(files, o, &b, &rb);
  REQUIRE_MESSAGE(e.ok(), e.message);
  check_same(a, b);
  CHECK(rb.empty_files == 2);
  CHECK(has(rb.to_text(), "(2 empty, skipped)"));
  // Alone, an empty file is still an error.
  Dataset d;
  IngestReport rd;
  CHECK(has(ingest_file(scratch() + "/hive/dt=2024-05-01/part-00001.csv", o, &d, &rd).message, "empty file"));
}

TEST_CASE("ingest inputs: messages name the file and its own line") {
  const std::string p1 = put("m1.csv", std::string(kHeader) + "u1,100,/a,view\nu1,160,/b,view\n");
  const std::string p2 = put("m2.csv", std::string(kHeader) + "u2,100,/a,view\nu1,100,/a,view\nu1,zz,/a,view\n");
  IngestOptions o;
  Dataset d;
  IngestReport r;
  REQUIRE(ingest_files({p1, p2}, o, &d, &r).ok());
  CHECK(r.duplicates == 1);
  CHECK(r.bad_time == 1);
  std::string all;
  for (const auto& e : r.examples) all += e + "\n";
  CHECK(has(all, p2 + ":3: duplicate of the event on " + p1 + ":2"));
  CHECK(has(all, p2 + ":4: column 'time': cannot parse"));
  // Strict: the first bad row stops reading, named the same way.
  o.strict = true;
  hunch::Error e = ingest_files({p1, p2}, o, &d, &r);
  REQUIRE(!e.ok());
  CHECK(has(e.message, p2 + ":4:"));
}

TEST_CASE("ingest inputs: inputs that name nothing, or files of two formats, are clear errors") {
  std::vector<std::string> files;
  hunch::Error e = expand_inputs({scratch() + "/no-such-*.csv"}, &files);
  REQUIRE(!e.ok());
  CHECK(has(e.message, "no file matches the pattern"));
  mkdir((scratch() + "/empty").c_str(), 0700);
  put("empty/_SUCCESS", "");
  e = expand_inputs({scratch() + "/empty"}, &files);
  REQUIRE(!e.ok());
  CHECK(has(e.message, "holds no data files"));
  // A plain path that does not exist is kept: opening it names the problem.
  REQUIRE(expand_inputs({scratch() + "/missing.csv"}, &files).ok());
  Dataset d;
  IngestReport r;
  e = ingest_files(files, IngestOptions(), &d, &r);
  REQUIRE(!e.ok());
  CHECK(has(e.message, "missing.csv: cannot open"));

  const std::string csv = put("f1.csv", std::string(kHeader) + "u1,100,/a,view\nu1,160,/b,view\n");
  const std::string json = put("f2.jsonl", "{\"user\":\"u1\",\"time\":200,\"item\":\"/c\"}\n");
  e = ingest_files({csv, json}, IngestOptions(), &d, &r);
  REQUIRE(!e.ok());
  CHECK(has(e.message, "f2.jsonl: reads as jsonl, the first input"));

  // Whitespace parts follow the first part: a short part of a lists log that looks like pairs
  // (or of a pairs log that looks like lists) is read the same way.
  IngestOptions loose;
  loose.min_count = 1;
  loose.min_users = 1;
  const std::string l1 = put("l1.txt", "1 a b c\n2 a b\n3 c a b d\n"), l2 = put("l2.txt", "4 a b c\n");
  REQUIRE(ingest_files({l1, l2}, loose, &d, &r).ok());
  CHECK(r.format == Format::LISTS);
  CHECK(r.kept_events == 12);
  const std::string p1 = put("p1.txt", "1 a\n1 b\n2 a\n2 c\n"), p2 = put("p2.txt", "3 a\n3 b c\n");
  REQUIRE(ingest_files({p1, p2}, loose, &d, &r).ok());
  CHECK(r.format == Format::PAIRS);
  CHECK(r.kept_events == 6);
  CHECK(r.unread_fields == 1);
}

TEST_CASE("ingest inputs: keep_last bounds each user's events; the vocabulary still counts them all") {
  // 2,000 users × 40 events: 80,000 rows, so reading compacts more than once on the way.
  std::string csv = kHeader;
  for (int e = 0; e < 40; ++e)
    for (int u = 0; u < 2000; ++u) {
      // Early events visit /early-N (only ever in a user's first 20 events), late ones /late-N.
      std::string item = e < 20 ? "/early-" + std::to_string(u % 7) : "/late-" + std::to_string((u + e) % 11);
      // Times out of file order within a user: event e at 1000 + e*10 ± 5.
      csv += "u" + std::to_string(u) + "," + std::to_string(1000 + e * 10 + (e % 2 ? 5 : -5)) + "," + item + ",view\n";
    }
  const std::string path = put("long.csv", csv);
  IngestOptions o;
  o.whole_users = true;
  o.session_gap = 0;
  Dataset full, kept;
  IngestReport rf, rk;
  REQUIRE(ingest_file(path, o, &full, &rf).ok());
  o.keep_last = 12;
  REQUIRE(ingest_file(path, o, &kept, &rk).ok());
  CHECK(rk.rows == 80000);
  // Times collide (events 2k-1 and 2k share one), so the early /early-N repeats are duplicates:
  // counted as such, with or without trimming.
  CHECK(rk.duplicates == rf.duplicates);
  CHECK(rf.duplicates > 0);
  CHECK(rk.kept_events == 2000 * 12);
  CHECK(rk.trimmed_events == rf.kept_events - rk.kept_events);
  CHECK(rk.rows == rk.kept_events + rk.trimmed_events + rk.duplicates);  // every row in one place
  REQUIRE(kept.sequences() == 2000);
  // The same vocabulary (early actions counted though no kept event has one) …
  CHECK(kept.actions == full.actions);
  // … and each user's last 12 events by time.
  for (size_t q = 0; q < kept.sequences(); ++q) {
    REQUIRE(kept.length(q) == 12);
    const size_t fq = q;  // users in the same order
    REQUIRE(full.sequence_key[fq] == kept.sequence_key[q]);
    for (size_t i = 0; i < 12; ++i) {
      CHECK(kept.action[kept.offsets[q] + i] == full.action[full.offsets[fq + 1] - 12 + i]);
      CHECK(kept.time[kept.offsets[q] + i] == full.time[full.offsets[fq + 1] - 12 + i]);
    }
  }
  CHECK(has(rk.to_text(), "--keep-last"));
  // Memory: the held events stay within twice the kept ones (plus the first compaction's floor).
  CHECK(rk.peak_bytes < rf.peak_bytes);

  // --min-users counts the users of trimmed events too: /five-early (5 users, all trimmed) and
  // /four-early-one-late (4 trimmed users and a 5th user's kept event) stay in the vocabulary,
  // /four-early (4 users) does not, as without keep_last.
  std::string few = kHeader;
  for (int u = 0; u < 6; ++u)
    for (int e = 0; e < 30; ++e) {
      std::string item = "/common-" + std::to_string(e % 3);
      if (e == 0 && u < 5) item = "/five-early";
      if (e == 1 && u < 4) item = "/four-early";
      if (e == 2 && u < 4) item = "/four-early-one-late";
      if (e == 29 && u == 5) item = "/four-early-one-late";
      few += "u" + std::to_string(u) + "," + std::to_string(1000 + e * 10) + "," + item + ",view\n";
    }
  const std::string few_path = put("few.csv", few);
  o.min_users = 5;
  o.min_count = 1;
  Dataset all_kept, last_kept;
  IngestReport ra, rl;
  o.keep_last = 0;
  REQUIRE(ingest_file(few_path, o, &all_kept, &ra).ok());
  o.keep_last = 4;
  REQUIRE(ingest_file(few_path, o, &last_kept, &rl).ok());
  CHECK(rl.trimmed_events > 0);
  CHECK(last_kept.actions == all_kept.actions);
  CHECK(rl.withheld_actions == ra.withheld_actions);
  auto in = [](const Dataset& d, const char* a) { return std::count(d.actions.begin(), d.actions.end(), a) == 1; };
  CHECK(in(last_kept, "/five-early"));
  CHECK(in(last_kept, "/four-early-one-late"));
  CHECK_FALSE(in(last_kept, "/four-early"));
}


namespace {

// A log with many distinct action names: heavy-tailed "a<k>" names (a few frequent, many rare)
// and one-off "r<n>" names, so bounded counting (max_names) overflows. Some rows repeat
// (duplicates), and pairs of rows of one user share a time with two different one-off names,
// which de-duplication must tell apart whether or not their names are counted.
std::string many_names_csv(int users, int events_per_user, uint64_t seed) {
  hunch::Rng rng(seed);
  std::string csv = kHeader;
  for (int e = 0; e < events_per_user; ++e)
    for (int u = 0; u < users; ++u) {
      const long t = 1700000000L + e * 60 + u % 7;
      const double r = rng.uniform();
      const std::string item = r < 0.75 ? "a" + std::to_string(int(1 / std::max(1e-6, double(rng.uniform())))) // Pareto(1)
                                        : "r" + std::to_string(int(rng.uniform() * 1e9));
      const std::string row = "u" + std::to_string(u) + "," + std::to_string(t) + "," + item + (r < 0.6 ? ",view\n" : ",cart\n");
      csv += row;
      if (rng.uniform() < 0.03) csv += row;  // a duplicate
      if (rng.uniform() < 0.03)               // same user, time and type, another name: not a duplicate
        csv += "u" + std::to_string(u) + "," + std::to_string(t) + ",r" + std::to_string(int(rng.uniform() * 1e9)) +
               (r < 0.6 ? ",view\n" : ",cart\n");
    }
  return csv;
}

// Events per action name in a Dataset.
std::map<std::string, uint64_t> name_counts(const Dataset& d) {
  std::map<std::string, uint64_t> n;
  for (uint32_t a : d.action) ++n[d.actions[a]];
  return n;
}

}  // namespace

TEST_CASE("ingest inputs: max_names counts names in bounded memory; within the bound nothing changes") {
  const std::string path = put("names.csv", many_names_csv(200, 30, 5));
  IngestOptions o;
  o.whole_users = true;
  o.min_users = 2;
  o.max_names = 0;  // exact
  Dataset exact, bounded;
  IngestReport re, rb;
  REQUIRE(ingest_file(path, o, &exact, &re).ok());
  REQUIRE(re.distinct_actions > 1000);
  CHECK(re.name_capacity == 0);
  // As many names as the log has: counted exactly, the same Dataset and report.
  o.max_names = static_cast<uint32_t>(re.distinct_actions);
  REQUIRE(ingest_file(path, o, &bounded, &rb).ok());
  check_same(exact, bounded);
  check_same(re, rb);
  CHECK(rb.name_capacity == 0);
  CHECK(rb.to_text() == re.to_text());
  // One fewer: the log is read twice.
  o.max_names = static_cast<uint32_t>(re.distinct_actions - 1);
  REQUIRE(ingest_file(path, o, &bounded, &rb).ok());
  CHECK(rb.name_capacity == re.distinct_actions - 1);
  CHECK(rb.name_bound >= 1);
}

TEST_CASE("ingest inputs: past max_names the vocabulary is the exact one when the bound is below its cut") {
  const std::string csv = many_names_csv(200, 30, 5);
  const std::string path = put("names-cut.csv", csv);
  for (int variant = 0; variant < 3; ++variant) {
    CAPTURE(variant);
    IngestOptions o;
    o.whole_users = variant != 1;
    o.max_names = 300;
    if (variant == 0) o.max_vocab = 12;     // a cut above the bound
    if (variant == 1) o.min_users = 40;     // withheld below the bound's reach
    if (variant == 2) o.min_count = 60, o.keep_last = 20;  // counted though trimmed
    Dataset exact, bounded;
    IngestReport re, rb;
    hunch::Error e = ingest_file(path, o, &bounded, &rb);
    REQUIRE_MESSAGE(e.ok(), e.message);
    REQUIRE(rb.name_capacity == 300);
    CHECK(rb.name_bound > 1);
    CHECK(rb.vocab_exact);
    CHECK(has(rb.to_text(), "the vocabulary is exact"));
    o.max_names = 0;
    REQUIRE(ingest_file(path, o, &exact, &re).ok());
    REQUIRE(exact.actions.size() > 5);
    check_same(exact, bounded);
    CHECK(rb.rows == re.rows);
    CHECK(rb.duplicates == re.duplicates);  // one-off names sharing a time stay apart
    CHECK(rb.kept_events == re.kept_events);
    CHECK(rb.trimmed_events == re.trimmed_events);
    CHECK(rb.withheld_actions <= re.withheld_actions);  // only counted names are withheld by name
    CHECK(rb.unknown_action_events == re.unknown_action_events);
    // The same through ingest_buffer.
    Dataset fromBuffer;
    IngestReport rbuf;
    o.max_names = 300;
    REQUIRE(ingest_buffer("names-cut.csv", csv, o, &fromBuffer, &rbuf).ok());
    check_same(bounded, fromBuffer);
    CHECK(rbuf.name_bound == rb.name_bound);
  }
}

TEST_CASE("ingest inputs: past max_names an approximate vocabulary says so, and misses only names under the bound") {
  const std::string path = put("names-approx.csv", many_names_csv(200, 30, 9));
  IngestOptions o;
  o.whole_users = true;
  o.min_count = 2;
  o.max_names = 60;
  Dataset all, bounded;
  IngestReport ra, rb;
  REQUIRE(ingest_file(path, o, &bounded, &rb).ok());
  REQUIRE(rb.name_capacity == 60);
  REQUIRE(!rb.vocab_exact);
  const std::string text = rb.to_text();
  CHECK(has(text, "approximate"));
  CHECK(has(text, "at most " + std::to_string(rb.name_bound) + " times"));
  o.max_names = 0, o.min_count = 1;  // every name, counted exactly
  REQUIRE(ingest_file(path, o, &all, &ra).ok());
  // Sequences do not depend on the vocabulary: the same events, each with its name or <unk>.
  REQUIRE(all.offsets == bounded.offsets);
  CHECK(all.sequence_key == bounded.sequence_key);
  CHECK(ra.duplicates == rb.duplicates);
  for (size_t i = 0; i < all.action.size(); ++i)
    if (bounded.action[i] != 0) REQUIRE(bounded.actions[bounded.action[i]] == all.actions[all.action[i]]);
  const auto n_all = name_counts(all), n_bounded = name_counts(bounded);
  // The counts of the names in the vocabulary are exact …
  for (size_t a = 1; a < bounded.actions.size(); ++a) CHECK(n_bounded.at(bounded.actions[a]) == n_all.at(bounded.actions[a]));
  // … and a name the exact vocabulary would hold but this one lacks was seen at most name_bound times.
  size_t missing = 0;
  for (const auto& [name, n] : n_all) {
    if (n < 2 || n_bounded.count(name)) continue;
    ++missing;
    CHECK(n <= rb.name_bound);
  }
  CHECK(missing > 0);
}

TEST_CASE("ingest inputs: past max_names a model's vocabulary maps the same; logged names per route are sampled") {
  const std::string path = put("names-fixed.csv", many_names_csv(100, 20, 3));
  IngestOptions o;
  o.max_names = 0;
  Dataset train, a, b;
  IngestReport rt, ra, rbr;
  REQUIRE(ingest_file(path, o, &train, &rt).ok());
  FixedVocabulary v{train.actions, train.types, train.gap_edges, {}, {}, {}, {}};
  o.vocabulary = &v;
  REQUIRE(ingest_file(path, o, &a, &ra).ok());
  o.max_names = 50;  // a model needs no counting read: past the bound only its names are told apart
  REQUIRE(ingest_file(path, o, &b, &rbr).ok());
  check_same(a, b);
  CHECK(rbr.name_capacity == 50);
  CHECK(rbr.name_bound == 0);
  CHECK(rbr.duplicates == ra.duplicates);
  CHECK(rbr.unknown_action_events == ra.unknown_action_events);

  // 3,000 product pages become one route; with room for 100 hashes the count is an estimate.
  std::string csv = kHeader;
  for (int i = 0; i < 3000; ++i)
    csv += "u" + std::to_string(i % 50) + "," + std::to_string(1700000000 + i) + ",/product/" + std::to_string(1000 + i) + ",view\n";
  IngestOptions r;
  r.max_names = 100;
  Dataset d;
  IngestReport rr;
  REQUIRE(ingest_buffer("routes.csv", csv, r, &d, &rr).ok());
  CHECK(rr.raw_actions_estimated);
  CHECK(rr.raw_actions > 2000);
  CHECK(rr.raw_actions < 4500);
  CHECK(has(rr.to_text(), "(estimate: sampled)"));
  r.max_names = 0;
  REQUIRE(ingest_buffer("routes.csv", csv, r, &d, &rr).ok());
  CHECK(!rr.raw_actions_estimated);
  CHECK(rr.raw_actions == 3000);
}

#ifdef HUNCH_CLI_PATH
TEST_CASE("ingest inputs: the CLI reads several files, a directory or a glob as one log") {
  const std::vector<std::string> rows = shop_rows(30, 20, 11);
  const std::string whole = put("cli-whole.csv", join(rows, 0, rows.size()));
  mkdir((scratch() + "/cli-parts").c_str(), 0700);
  const size_t c = rows.size() / 3;
  const std::string p0 = put("cli-parts/a.csv", join(rows, 0, c));
  const std::string p1 = put("cli-parts/b.csv", join(rows, c, rows.size()));
  auto eval = [](const std::string& inputs, std::string* out) {
    return hunch_test::run_command(
        "'" HUNCH_CLI_PATH "' eval --baselines-only --json --progress never " + inputs + " 2>/dev/null", out);
  };
  std::string one, dir, glob, two;
  REQUIRE(eval(whole, &one) == 0);
  REQUIRE(eval(scratch() + "/cli-parts", &dir) == 0);
  REQUIRE(eval("'" + scratch() + "/cli-parts/*.csv'", &glob) == 0);
  REQUIRE(eval(p0 + " " + p1, &two) == 0);
  CHECK(has(one, "\"NDCG@10\""));
  CHECK(dir == one);
  CHECK(glob == one);
  CHECK(two == one);
  // Progress: forced on, it is written on stderr and leaves stdout alone.
  std::string err;
  REQUIRE(hunch_test::run_command("'" HUNCH_CLI_PATH "' eval --baselines-only --json --progress always " + p0 +
                                      " " + p1 + " 2>&1 >/dev/null",
                                  &err) == 0);
  CHECK(has(err, "reading: file"));
  std::string bad;
  CHECK(hunch_test::run_command("'" HUNCH_CLI_PATH "' eval --baselines-only --progress sometimes " + p0 + " 2>&1",
                                &bad) == 2);
  CHECK(has(bad, "--progress: expected auto, always or never"));
}

TEST_CASE("ingest inputs: the CLI's --max-names, and a pipe that would need a second read") {
  const std::string path = put("cli-names.csv", many_names_csv(100, 20, 4));
  std::string out;
  REQUIRE(hunch_test::run_command("'" HUNCH_CLI_PATH "' train --dry-run --progress never --max-names 40 " + path + " 2>&1",
                                  &out) == 0);
  CHECK(has(out, "names counted in bounded memory (--max-names 40; the log read twice)"));
  CHECK(has(out, "distinct routes: more than"));
  REQUIRE(hunch_test::run_command("bash -c \"'" HUNCH_CLI_PATH "' train --dry-run --progress never --max-names 40 "
                                  "<(cat " + path + ")\" 2>&1",
                                  &out) == 1);
  CHECK(has(out, "more than 40 distinct actions (--max-names)"));
  CHECK(has(out, "not a regular file"));
  REQUIRE(hunch_test::run_command("'" HUNCH_CLI_PATH "' train --dry-run --max-names -1 " + path + " 2>&1", &out) == 2);
  CHECK(has(out, "--max-names"));
}
#endif

TEST_CASE("ingest inputs: event type names are bounded by max_names, with file:line") {
  std::string csv = "user,action,type,time\n";
  for (int i = 0; i < 12; ++i)
    csv += "u" + std::to_string(i % 3) + ",a" + std::to_string(i % 4) + ",t" + std::to_string(i % 6) + "," +
           std::to_string(1000 + i) + "\n";
  IngestOptions o;
  Dataset d;
  IngestReport r;
  o.max_names = 6;  // as many types as the log has: read as before
  REQUIRE(ingest_buffer("types.csv", csv, o, &d, &r).ok());
  CHECK(r.kept_events == 12);
  o.max_names = 5;  // the sixth type name, on line 7 (the header is line 1), is one too many
  hunch::Error e = ingest_buffer("types.csv", csv, o, &d, &r);
  REQUIRE(!e.ok());
  CHECK(e.message.find("types.csv:7: column 'type': more than 5 distinct values") == 0);
  CHECK(e.message.find("--type-column") != std::string::npos);
  o.max_names = 0;  // no bound
  REQUIRE(ingest_buffer("types.csv", csv, o, &d, &r).ok());
}
