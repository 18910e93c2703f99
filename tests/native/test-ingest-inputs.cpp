// Ingestion of logs split over many files and of logs too long to hold (ingest.h:
// ingest_files, expand_inputs, IngestOptions::keep_last, progress): the same Dataset and report
// whichever way the input is split, export directories and globs found, bounded memory with the
// vocabulary still counting every event, and the CLI taking several inputs.
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
#endif
