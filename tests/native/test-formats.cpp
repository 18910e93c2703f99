// Formats found without flags where the file says enough (issue 15): delimiter sniffing,
// header-less files, missing-id tokens, times (µs, " UTC", access-log), --time-column none, a
// session column beside the user column, GA4, Segment, per-session JSON and access logs — each
// through ingest_buffer/ingest_file, with its malformed records counted with file:line, and
// through the public CLI (`hunch train`, `hunch eval`).
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "test-util.h"
#include "train/ingest-formats.h"
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

Ingested ingest_fixture(const std::string& file, IngestOptions opt = {}) {
  Ingested r;
  r.error = ingest_file(hunch_test::source_path("tests/data/events/" + file), opt, &r.ds, &r.rep);
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
std::vector<std::string> types_of(const Dataset& ds, size_t s) {
  std::vector<std::string> out;
  for (uint64_t i = ds.offsets[s]; i < ds.offsets[s + 1]; ++i) out.push_back(ds.types[ds.type[i]]);
  return out;
}

bool has(const std::string& text, const std::string& piece) { return text.find(piece) != std::string::npos; }

// 30 users, 4 events each a minute apart, one user a day from 1 October, dd/mm/yyyy: days 13
// and later show the order only after 12 days' events were read (month first, as US dates).
std::string day_first_log() {
  std::string log = "user;item;time\n";
  for (int u = 0; u < 30; ++u)
    for (int i = 0; i < 4; ++i) {
      char b[32];
      std::snprintf(b, sizeof b, "%02d/10/2019 10:%02d", u + 1, i);
      log += "u" + std::to_string(u) + ";i" + std::to_string((u + i) % 7) + ";" + b + "\n";
    }
  return log;
}

// Every row is kept or counted under exactly one reason (ingest.h).
void check_accounting(const IngestReport& r) {
  CHECK(r.rows == r.malformed + r.missing_field + r.bad_time + r.bad_utf8 + r.too_long + r.duplicates +
                      r.static_assets + r.error_status + r.not_events + r.short_sequence_events + r.kept_events);
}

}  // namespace

TEST_CASE("formats: times in µs and ns by magnitude, ' UTC', offsets and access-log times") {
  double t = 0;
  CHECK(parse_time("1714564800123456", &t));  // GA4's event_timestamp: µs
  CHECK(t == doctest::Approx(1714564800.123456));
  CHECK(parse_time("1714564800123456789", &t));  // ns
  CHECK(t == doctest::Approx(1714564800.123457));
  CHECK(parse_time("1714564800123", &t));  // ms
  CHECK(t == doctest::Approx(1714564800.123));
  CHECK(parse_time("2019-10-01 00:00:00 UTC", &t));  // REES46
  CHECK(t == 1569888000.0);
  CHECK(parse_time("2024-05-01T14:00:00+02:00", &t));
  CHECK(t == 1714564800.0);
  CHECK(parse_time("2024-05-01 12:00:00Z", &t));
  CHECK(t == 1714564800.0);
  CHECK(parse_time("[01/May/2024:14:00:00 +0200]", &t));  // common/combined log format
  CHECK(t == 1714564800.0);
  CHECK(parse_time("01/May/2024:12:00:00 +0000", &t));
  CHECK(t == 1714564800.0);
  CHECK(parse_time("01/05/2024:07:30:00 -0430", &t));  // the shared sample's numeric month
  CHECK(t == 1714564800.0);
  CHECK(parse_time("17/05/2015:10:05:03 +0000", &t));
  CHECK(t == 1431857103.0);
  CHECK(parse_time("01/May/2024:12:00:00", &t));  // no zone: UTC
  CHECK(t == 1714564800.0);
  for (const char* bad : {"32/May/2024:12:00:00 +0000", "01/Foo/2024:12:00:00 +0000", "01/13/2024:12:00:00 +0000",
                          "29/02/2023:12:00:00 +0000", "01/May/2024:24:00:00 +0000", "[01/May/2024:12:00:00 +0000",
                          "01/May/2024:12:00:00 +00", "01/May/2024:12:00:00 x0000", "01/May/2024 12:00:00"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_time(bad, &t));
  }
}

TEST_CASE("formats: dates as exports and people write them (train/times.h)") {
  double t = 0;
  struct Case {
    const char* text;
    double      seconds;
  };
  const Case cases[] = {
      {"2024/05/01 12:00:00", 1714564800},            // year first with slashes
      {"2024.5.1 12:00", 1714564800},                 // or dots, one-digit month and day
      {"01.05.2024 14:00 +02:00", 1714564800},        // dotted: day first
      {"1.5.24", 1714521600},                         // two-digit year
      {"Wed, 01 May 2024 12:00:00 GMT", 1714564800},  // RFC 2822 / HTTP, Date.toUTCString
      {"01 May 2024 14:00:00 +0200", 1714564800},
      {"Wed May 01 2024 14:00:00 GMT+0200 (Central European Summer Time)", 1714564800},  // Date.toString
      {"May 1, 2024, 12:00:00 PM", 1714564800},       // toLocaleString('en-US')
      {"May 1, 2024 12:00 AM", 1714521600},           // 12 AM is midnight
      {"September 30 2024", 1727654400},
      {"Sept. 30, 2024", 1727654400},
      {"20240501T120000Z", 1714564800},               // ISO-8601 basic
      {"20240501T1400+0200", 1714564800},
      {"20240501120000", 1714564800},                 // yyyymmddhhmmss (as ms: past 2286)
      {"2024-05-01 1:00:00 PM", 1714568400},          // ISO date, 12-hour clock
      {"2024-05-01T12:00:00 GMT", 1714564800},
      {"2024-05-01T12:00:00.5 UTC", 1714564800.5},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    CHECK(parse_time(c.text, &t));
    CHECK(t == doctest::Approx(c.seconds));
  }
  // What stays refused: impossible dates and clocks, trailing words, an ambiguous numeric date
  // on its own (only a column can say its order: TimeColumn), a zone name without an offset.
  for (const char* bad : {"2024/13/01", "2024/02/30", "31.04.2024", "May 32, 2024", "Foo 1, 2024", "May 1, 2024 13:00 PM",
                          "May 1, 2024 0:30 AM", "May 1 2024 12:00 soon", "Wed, 01 May 2024 12:00:00 CEST",
                          "20240532T000000Z", "05/01/2024", "5-1-2024", "May 2024", "1st May 2024",
                          "2024-05-01 12:00:00 (UTC)"}) {
    const std::string text = bad;
    CAPTURE(text);
    CHECK_FALSE(parse_time(bad, &t));
  }
  // A column: the first date with a day above 12 shows the order.
  std::string why;
  TimeColumn us;
  CHECK(us.read("05/01/2024 12:00", &t, &why) == TimeColumn::TIME);  // either: month first for now
  CHECK(t == 1714564800.0);
  CHECK(us.assumed() == 1);
  CHECK(us.read("05/13/2024", &t, &why) == TimeColumn::TIME);  // shows month first: agrees
  CHECK(us.order() == DateOrder::MONTH_FIRST);
  CHECK(us.shown_by() == "05/13/2024");
  CHECK(us.read("13/05/2024", &t, &why) == TimeColumn::NOT_A_TIME);  // impossible month first
  TimeColumn eu;
  CHECK(eu.read("13/05/2024 1:00 PM", &t, &why) == TimeColumn::TIME);
  CHECK(eu.order() == DateOrder::DAY_FIRST);
  CHECK(eu.read("01-05-2024 12:00", &t, &why) == TimeColumn::TIME);  // then day first
  CHECK(t == 1714564800.0);
  CHECK(eu.assumed() == 0);
  TimeColumn late;
  CHECK(late.read("01/05/2024", &t, &why) == TimeColumn::TIME);
  CHECK(late.read("13/05/2024", &t, &why) == TimeColumn::CONTRADICTION);
  CHECK(has(why, "--date-order day-first"));
  CHECK(has(why, "'01/05/2024'"));
  // A date valid in neither order is not a time and shows nothing (one bad row must not decide
  // the order of a whole log); nor is a dashed date with a 2-digit year (yy-mm-dd or dd-mm-yy?).
  TimeColumn noisy;
  for (const char* bad : {"31/31/2024", "00/00/2024", "45/07/2024", "00/13/2024", "24-05-01"}) {
    const std::string text = bad;
    CAPTURE(text);
    CHECK(noisy.read(text, &t, &why) == TimeColumn::NOT_A_TIME);
  }
  CHECK(noisy.order() == DateOrder::AUTO);
  CHECK(noisy.assumed() == 0);
  CHECK(noisy.read("05/01/24", &t, &why) == TimeColumn::TIME);  // a slashed 2-digit year is fine
  CHECK(t == 1714521600.0);
  TimeColumn given(DateOrder::DAY_FIRST);
  CHECK(given.read("01/05/2024", &t, &why) == TimeColumn::TIME);
  CHECK(t == 1714521600.0);
  CHECK(given.read("05/13/2024", &t, &why) == TimeColumn::NOT_A_TIME);
  // 8-digit numbers: dates when the column's first number is one, epoch seconds otherwise.
  TimeColumn dates;
  CHECK(dates.read("20240501", &t, &why) == TimeColumn::TIME);
  CHECK(t == 1714521600.0);
  CHECK(dates.compact_dates());
  CHECK(dates.read("20240532", &t, &why) == TimeColumn::NOT_A_TIME);
  CHECK(dates.read("1714564800", &t, &why) == TimeColumn::NOT_A_TIME);
  TimeColumn seconds;
  CHECK(seconds.read("17", &t, &why) == TimeColumn::TIME);
  CHECK(seconds.read("20240501", &t, &why) == TimeColumn::TIME);
  CHECK(t == 20240501.0);
}

TEST_CASE("formats: a log whose dates show the day first late is read again, day first") {
  const std::string log = day_first_log();
  IngestOptions day_first = loose();
  day_first.date_order = DateOrder::DAY_FIRST;
  Ingested given = ingest_text("dmy.csv", log, day_first);
  REQUIRE(given.error.ok());
  Ingested found = ingest_text("dmy.csv", log, loose());
  REQUIRE(found.error.ok());
  CHECK(found.rep.kept_events == 120);
  CHECK(found.ds.time == given.ds.time);
  CHECK(has(found.rep.to_text(), "times read day first, the log read a second time: dmy.csv:50: column 'time': "
                                 "'13/10/2019 10:00' puts the day first, but 48 earlier times"));
  // US dates that never show their order: read month first, and the report says so.
  std::string us = "user,item,time\n";
  for (int u = 0; u < 10; ++u)
    for (int i = 0; i < 4; ++i) us += "u" + std::to_string(u) + ",i" + std::to_string(i) + ",10/0" + std::to_string(1 + u % 9) + "/2019 1:0" + std::to_string(i) + " PM\n";
  Ingested month_first = ingest_text("us.csv", us, loose());
  REQUIRE(month_first.error.ok());
  CHECK(month_first.ds.time[0] == doctest::Approx(1569934800.0));  // 2019-10-01 13:00 UTC
  CHECK(has(month_first.rep.to_text(), "times such as '10/01/2019 1:00 PM' were read month first (40 of them"));
}

TEST_CASE("formats: the delimiter is sniffed (, ; tab |); --delimiter forces one") {
  const std::string rows[] = {"u1#1714564800#/a#view", "u1#1714564810#/b#view", "u2#1714564800#/a#view",
                              "u2#1714564820#/c#click"};
  for (char d : {',', ';', '\t', '|'}) {
    std::string text = std::string("user#time#action#type") + "\n";
    for (const auto& r : rows) text += r + "\n";
    for (char& c : text)
      if (c == '#') c = d;
    CAPTURE(int(d));
    for (const char* name : {"log.csv", "log.txt", "log"}) {
      CAPTURE(name);
      Ingested r = ingest_text(name, text, loose());
      REQUIRE(r.error.ok());
      CHECK(r.rep.delimiter == d);
      CHECK(r.rep.kept_events == 4);
      CHECK(r.ds.sequences() == 2);
      if (d == ';') CHECK(has(r.rep.to_text(), "delimiter=;"));
    }
  }
  // Commas inside quotes do not count; the consistent delimiter wins over a stray one.
  Ingested q = ingest_text("q.csv", "user;time;action;type\nu1;1714564800;\"/a,b,c\";view\nu1;1714564810;/b, x;view\n", loose());
  REQUIRE(q.error.ok());
  CHECK(q.rep.delimiter == ';');
  CHECK(names_of(q.ds, 0) == std::vector<std::string>{"/a,b,c", "/b,%20x"});  // a route's space as a browser writes it
  // A comma-separated file stays comma-separated though its values hold a ';' on every line.
  Ingested c = ingest_text("c.csv", "user,time,action,type\nu1,1714564800,/a;x,view\nu1,1714564810,/b;y,view\n", loose());
  REQUIRE(c.error.ok());
  CHECK(c.rep.delimiter == ',');
  // Forced: the ';' file read with ',' has one column.
  IngestOptions forced = loose();
  forced.delimiter = ',';
  Ingested f = ingest_text("f.csv", "user;time;action;type\nu1;1714564800;/a;view\n", forced);
  CHECK_FALSE(f.error.ok());
  CHECK(has(f.error.message, "the header has 'user;time;action;type'"));
  // Forcing reads a file that would be sniffed as pairs as delimited text.
  forced.delimiter = ' ';
  Ingested sp = ingest_text("s.txt", "user time action\nu1 1714564800 /a\nu1 1714564810 /b\n", forced);
  REQUIRE(sp.error.ok());
  CHECK(sp.rep.format == Format::CSV);
  CHECK(sp.rep.has_time_column);
  CHECK(formats::sniff_delimiter("", ',') == 0);
  CHECK(formats::sniff_delimiter("a|b|c", ',') == '|');
}

TEST_CASE("formats: a file without a header is detected and named with columns") {
  const std::string taobao = "1,2268318,2520377,pv,1511544070\n1,2333346,2520771,pv,1511561733\n"
                             "1,2576651,149192,pv,1511572885\n2,3830808,4181361,cart,1511593493\n"
                             "2,4365585,2520377,pv,1511596146\n";
  // Without names: an error that names the first row as data and asks for --columns.
  Ingested bare = ingest_text("UserBehavior.csv", taobao);
  REQUIRE_FALSE(bare.error.ok());
  CHECK(has(bare.error.message, "UserBehavior.csv:1: no user column"));
  CHECK(has(bare.error.message, "the first row looks like data, not a header"));
  CHECK(has(bare.error.message, "--columns"));
  // Named: the first row is data, and the report says so.
  IngestOptions o = loose();
  o.session_gap = 0;  // hours apart: one sequence per user
  o.columns = {"user", "item", "category", "type", "time"};
  Ingested r = ingest_text("UserBehavior.csv", taobao, o);
  REQUIRE(r.error.ok());
  CHECK(r.rep.headerless);
  CHECK(r.rep.rows == 5);
  CHECK(r.rep.kept_events == 5);
  CHECK(r.rep.action_column == "item");
  CHECK(r.rep.time_column == "time");
  CHECK(r.rep.type_column == "type");
  CHECK(has(r.rep.to_text(), "no header: the first row is data"));
  REQUIRE(r.ds.sequences() == 2);
  CHECK(r.ds.sequence_key[0] == "1");
  CHECK(names_of(r.ds, 0) == std::vector<std::string>{"2268318", "2333346", "2576651"});
  CHECK(types_of(r.ds, 1) == std::vector<std::string>{"cart", "pv"});
  CHECK(r.ds.time[0] == 1511544070.0);
  // The same names on a file that has a header: the header is skipped, not read as data.
  Ingested h = ingest_text("with-header.csv", "user,item,category,behavior,timestamp\n" + taobao, o);
  REQUIRE(h.error.ok());
  CHECK_FALSE(h.rep.headerless);
  CHECK(h.rep.rows == 5);
  // Unnamed positions are ignored; names go through the *_column options.
  IngestOptions p = o;
  p.columns = {"visitor", "product", "", "", "when"};
  p.user_column = "visitor";
  p.action_column = "product";
  p.time_column = "when";
  Ingested q = ingest_text("UserBehavior.csv", taobao, p);
  REQUIRE(q.error.ok());
  CHECK(q.rep.kept_events == 5);
  CHECK_FALSE(q.rep.has_type_column);
  // A header that is all names is still a header (the old behaviour).
  CHECK_FALSE(formats::looks_like_data({"user", "time", "action"}, {"user"}));
  CHECK_FALSE(formats::looks_like_data({"visitor", "page", "when"}, {}));
  CHECK(formats::looks_like_data({"u1", "1714564800", "/a"}, {"user"}));
}

TEST_CASE("formats: columns named as common exports name them (RetailRocket, camelCase JSON, 'User ID')") {
  // RetailRocket's events.csv: timestamp (ms), visitorid, event, itemid, transactionid.
  std::string rr = "timestamp,visitorid,event,itemid,transactionid\n";
  for (int u = 0; u < 6; ++u)
    for (int i = 0; i < 3; ++i)
      rr += std::to_string(1433221332117L + u * 1000000L + i * 60000L) + "," + std::to_string(257597 + u) + "," +
            (i == 2 ? "addtocart" : "view") + "," + std::to_string(355908 + i) + ",\n";
  Ingested r = ingest_text("events.csv", rr, loose());
  REQUIRE_MESSAGE(r.error.ok(), r.error.message);
  // The columns the roles read: user, time, action, type.
  auto roles = [](const IngestReport& rep) {
    return rep.user_column + "|" + rep.time_column + "|" + rep.action_column + "|" + rep.type_column;
  };
  CHECK(roles(r.rep) == "visitorid|timestamp|itemid|event");
  CHECK(r.rep.kept_events == 18);
  // Spelled with spaces and capitals, and camelCase keys in JSON Lines.
  Ingested spaced = ingest_text("export.csv", "User ID,Event Time,Product ID,Event Name\n"
                                              "a,2024-05-01 12:00:00,p1,view\na,2024-05-01 12:01:00,p2,view\n", loose());
  REQUIRE_MESSAGE(spaced.error.ok(), spaced.error.message);
  CHECK(roles(spaced.rep) == "User ID|Event Time|Product ID|Event Name");
  Ingested camel = ingest_text("events.jsonl", "{\"userId\":\"a\",\"createdAt\":1714564800,\"sku\":\"x\"}\n"
                                               "{\"userId\":\"a\",\"createdAt\":1714564860,\"sku\":\"y\"}\n", loose());
  REQUIRE_MESSAGE(camel.error.ok(), camel.error.message);
  CHECK(roles(camel.rep).rfind("userId|createdAt|sku|", 0) == 0);
  // A name matched in any case still wins over one matched only without its separators: the
  // Diginetica layout keeps reading sessionId as the user, as before (its userId is mostly NA).
  Ingested dig = ingest_text("train-item-views.csv", "sessionId;userId;itemId;timeframe;eventdate\n"
                                                     "1;NA;81766;526309;2016-05-09\n1;NA;31331;1031018;2016-05-09\n", loose());
  REQUIRE_MESSAGE(dig.error.ok(), dig.error.message);
  CHECK(roles(dig.rep).rfind("sessionId|", 0) == 0);
  CHECK(dig.rep.action_column == "itemId");
  CHECK_FALSE(dig.rep.has_time_column);
}

TEST_CASE("formats: UTF-16 and UTF-32 text is refused with the way out; Latin-1 rows are counted with a hint") {
  const std::string utf8 = "user\titem\ttime\nu1\ti1\t1\nu1\ti2\t2\n";
  auto utf16 = [&](bool big_endian) {
    std::string out = big_endian ? "\xFE\xFF" : "\xFF\xFE";
    for (char c : utf8) out += big_endian ? std::string{'\0', c} : std::string{c, '\0'};
    return out;
  };
  for (bool be : {false, true}) {
    CAPTURE(be);
    Ingested r = ingest_text("unicode.txt", utf16(be), loose());
    CHECK(has(r.error.message, "unicode.txt: the text is UTF-16; hunch reads UTF-8 — convert it first, e.g. iconv -f UTF-16"));
  }
  std::string no_bom = utf16(false).substr(2);
  CHECK(has(ingest_text("unicode.txt", no_bom, loose()).error.message, "the text is UTF-16 or binary (NUL bytes in the first line)"));
  CHECK(has(ingest_text("u32.txt", std::string("\xFF\xFE\0\0", 4) + "u", loose()).error.message, "the text is UTF-32"));
  // Compressions and containers hunch does not read: named, with the way out.
  CHECK(has(ingest_text("ev.csv.bz2", "BZh91AY&SY\x01\x02", loose()).error.message,
            "ev.csv.bz2: the file is bzip2-compressed; hunch reads text (CSV, TSV, JSON Lines, logs), plain or gzip — bzip2 -dc"));
  CHECK(has(ingest_text("ev.csv.xz", std::string("\xFD" "7zXZ\0\0\x04", 8), loose()).error.message, "the file is xz-compressed"));
  CHECK(has(ingest_text("ev.csv.zst", "\x28\xB5\x2F\xFD\x04\x58", loose()).error.message, "the file is zstd-compressed"));
  CHECK(has(ingest_text("ev.zip", "PK\x03\x04\x14\x00", loose()).error.message, "the file is a zip archive"));
  CHECK(has(ingest_text("part-00000.snappy.parquet", "PAR1\x15\x04", loose()).error.message, "the file is Parquet"));
  CHECK(ingest_text("bzh.csv", "BZhour,item,time\nu1,i1,1\nu1,i2,2\n", loose()).error.message.find("bzip2") == std::string::npos);
  // Latin-1 (a spreadsheet's CSV): its rows with accents are skipped, counted, and the report
  // says how to convert the file.
  Ingested latin = ingest_text("latin.csv", "user,item,time\nu1,caf\xE9,1\nu1,tea,2\nu1,tea,3\n", loose());
  REQUIRE(latin.error.ok());
  CHECK(latin.rep.bad_utf8 == 1);
  CHECK(has(latin.rep.to_text(), "convert it first (iconv -f WINDOWS-1252 -t UTF-8)"));
  // The report's example shows the byte escaped: the report itself stays UTF-8.
  CHECK(has(latin.rep.to_text(), "'caf\\xE9'"));
  CHECK(hunch::valid_utf8(latin.rep.to_text()));
}

TEST_CASE("formats: missing-id tokens are missing values, counted; NA is not one giant user") {
  std::string text = "user,time,action,type\n";
  const char* tokens[] = {"NA", "N/A", "null", "NULL", "None", "undefined", "nan", "-", ""};
  int t = 0;
  for (const char* tok : tokens) {
    text += std::string(tok) + "," + std::to_string(1714564800 + t) + ",/a,view\n";
    text += std::string(tok) + "," + std::to_string(1714564801 + t) + ",/b,view\n";
    t += 10;
  }
  text += "u1,1714564800,/a,NA\nu1,1714564810,na,view\nu1,1714564820,/b,view\n";
  Ingested r = ingest_text("na.csv", text, loose());
  REQUIRE(r.error.ok());
  CHECK(r.rep.rows == 21);
  CHECK(r.rep.missing_field == 19);  // 18 users (the empty ones too) + one action 'na'
  CHECK(r.rep.missing_tokens == 18);  // 16 user tokens, the type NA, the action na
  CHECK(r.rep.kept_events == 2);
  REQUIRE(r.ds.sequences() == 1);
  CHECK(r.ds.sequence_key[0] == "u1");
  CHECK(types_of(r.ds, 0) == std::vector<std::string>{"<none>", "view"});  // type NA: none
  CHECK(has(r.rep.to_text(), "values given as NA/null/-/… (missing)"));
  CHECK(has(r.rep.examples[0], "na.csv:2: column 'user': missing value ('NA')"));
  check_accounting(r.rep);
  for (const char* tok : tokens) CHECK((formats::is_missing_token(tok) || !*tok));
  for (const char* not_tok : {"NAN0", "nana", "--", "0", "n", "user"}) CHECK_FALSE(formats::is_missing_token(not_tok));
}

TEST_CASE("formats: --time-column none reads the file order as the time order") {
  const std::string text = "user,time,action\nu1,1714564900,/a\nu1,1714564800,/b\nu1,garbage,/c\n";
  IngestOptions o = loose();
  o.time_column = "none";
  Ingested r = ingest_text("t.csv", text, o);
  REQUIRE(r.error.ok());
  CHECK_FALSE(r.rep.has_time_column);
  CHECK(r.rep.bad_time == 0);
  CHECK(r.rep.untimed_rows == 3);
  CHECK(names_of(r.ds, 0) == std::vector<std::string>{"/a", "/b", "/c"});
  CHECK(std::isnan(r.ds.time[0]));
  CHECK(has(r.rep.to_text(), "time=(none: file order)"));
  // JSON Lines too.
  Ingested j = ingest_text("t.jsonl", "{\"user\":\"u\",\"action\":\"/a\",\"time\":9}\n{\"user\":\"u\",\"action\":\"/b\",\"time\":1}\n", o);
  REQUIRE(j.error.ok());
  CHECK(names_of(j.ds, 0) == std::vector<std::string>{"/a", "/b"});
  // GA4 too: the export's line order.
  Ingested g = ingest_fixture("ga4.jsonl", o);
  REQUIRE(g.error.ok());
  CHECK_FALSE(g.rep.has_time_column);
  CHECK(std::isnan(g.ds.time[0]));
  CHECK(g.ds.sequences() == 3);  // the sessions still come from ga_session_id
  // Without it the times sort them.
  Ingested s = ingest_text("t.csv", text, loose());
  REQUIRE(s.error.ok());
  CHECK(names_of(s.ds, 0) == std::vector<std::string>{"/b", "/a"});
}

TEST_CASE("formats: a user and a session column: one history per user, sessions from the session column") {
  // european.csv: ';', CRLF, "… UTC" times, user_id + user_session, NA users and a NULL product.
  IngestOptions o = loose();
  Ingested r = ingest_fixture("european.csv", o);
  REQUIRE(r.error.ok());
  CHECK(r.rep.delimiter == ';');
  CHECK(r.rep.user_column == "user_id");
  CHECK(r.rep.action_column == "product_id");
  CHECK(r.rep.time_column == "event_time");
  CHECK(r.rep.has_session_column);
  CHECK(r.rep.session_column == "user_session");
  CHECK(r.rep.rows == 10);
  CHECK(r.rep.missing_field == 3);
  CHECK(r.rep.missing_tokens == 3);
  CHECK(r.rep.kept_events == 7);
  check_accounting(r.rep);
  // Leave-one-out: one sequence per session. s-bb starts 4 minutes after s-aa ends: a gap would
  // not split it, the session column does.
  REQUIRE(r.ds.sequences() == 3);
  CHECK(r.ds.sequence_key[0] == "541312140#1");
  CHECK(names_of(r.ds, 0) == std::vector<std::string>{"1001", "1002", "1002"});
  CHECK(r.ds.sequence_key[1] == "541312140#2");
  CHECK(types_of(r.ds, 1) == std::vector<std::string>{"view", "purchase"});
  CHECK(r.ds.sequence_key[2] == "554748717");
  // The session protocol: one sequence per user, the sessions marked.
  o.whole_users = true;
  Ingested w = ingest_fixture("european.csv", o);
  REQUIRE(w.error.ok());
  REQUIRE(w.ds.sequences() == 2);
  CHECK(w.ds.length(0) == 5);
  std::vector<uint8_t> starts;
  for (uint64_t i = 0; i < 5; ++i) starts.push_back(w.ds.flags[i] & kSessionStart);
  CHECK(starts == std::vector<uint8_t>{kSessionStart, 0, 0, kSessionStart, 0});
  CHECK(w.ds.session_number[4] == 2);
  CHECK(w.ds.session_position[4] == 2);
  // session_column none: by gap, one session.
  o.session_column = "none";
  Ingested g = ingest_fixture("european.csv", o);
  REQUIRE(g.error.ok());
  CHECK_FALSE(g.rep.has_session_column);
  CHECK((g.ds.flags[3] & kSessionStart) == 0);
  // A named one that is not there is an error; the user's own column is never the session's.
  o.session_column = "visit";
  CHECK(has(ingest_fixture("european.csv", o).error.message, "no session column (looked for 'visit')"));
  Ingested y = ingest_text("y.tsv", "SessionId\tItemId\tTime\n3\t1\t1396437466.94\n3\t2\t1396438212.318\n", loose());
  REQUIRE(y.error.ok());
  CHECK(y.rep.user_column == "SessionId");
  CHECK_FALSE(y.rep.has_session_column);
  // A session id missing on a row: that event follows its predecessor's session.
  Ingested m = ingest_text("m.csv", "user,session,time,action\nu,s1,1,/a\nu,,2,/b\nu,NA,3,/c\nu,s2,4,/d\n", loose());
  REQUIRE(m.error.ok());
  CHECK(m.ds.sequences() == 1);
  CHECK(m.rep.short_sequences == 1);  // s2: /d alone
  CHECK(names_of(m.ds, 0) == std::vector<std::string>{"/a", "/b", "/c"});
}

TEST_CASE("formats: GA4's BigQuery export (found by content; --format ga4)") {
  for (Format forced : {Format::AUTO, Format::GA4}) {
    IngestOptions o = loose();
    o.format = forced;
    Ingested r = ingest_fixture("ga4.jsonl", o);
    REQUIRE(r.error.ok());
    CHECK(r.rep.format == Format::GA4);
    CHECK(r.rep.rows == 8);
    CHECK(r.rep.missing_field == 1);  // user_engagement without a page_location
    CHECK(r.rep.kept_events == 7);
    CHECK(r.rep.has_session_column);
    check_accounting(r.rep);
    REQUIRE(r.ds.sequences() == 3);
    // ga_session_id splits A's visits 10 minutes apart; page_location → its path.
    CHECK(r.ds.sequence_key[0] == "1197654321.1714564700#1");
    CHECK(names_of(r.ds, 0) == std::vector<std::string>{"/", "/c/coffee", "/p/moka-pot"});
    CHECK(types_of(r.ds, 0) == std::vector<std::string>{"page_view", "page_view", "add_to_cart"});
    CHECK(names_of(r.ds, 1) == std::vector<std::string>{"/", "/checkout"});
    CHECK(types_of(r.ds, 1) == std::vector<std::string>{"page_view", "purchase"});
    CHECK(names_of(r.ds, 2) == std::vector<std::string>{"/c/tea", "/p/green-tea"});
    CHECK(r.ds.time[0] == doctest::Approx(1714564800.123456));  // µs
    CHECK(has(r.rep.to_text(), "(ga4)"));
  }
}

TEST_CASE("formats: Segment's track, page and screen calls (found by content; --format segment)") {
  for (Format forced : {Format::AUTO, Format::SEGMENT}) {
    IngestOptions o = loose();
    o.format = forced;
    Ingested r = ingest_fixture("segment.jsonl", o);
    REQUIRE(r.error.ok());
    CHECK(r.rep.format == Format::SEGMENT);
    CHECK(r.rep.rows == 8);
    CHECK(r.rep.not_events == 1);  // the identify call
    CHECK(r.rep.kept_events == 7);
    check_accounting(r.rep);
    REQUIRE(r.ds.sequences() == 2);
    // The visitor keeps one history across the login (anonymousId first).
    CHECK(r.ds.sequence_key[0] == "507f191e810c19729de860ea");
    // A track call: its event is the type, the product it names (else the event) the action.
    CHECK(names_of(r.ds, 0) == std::vector<std::string>{"/", "/c/coffee", "moka-pot", "Order Completed"});
    CHECK(types_of(r.ds, 0) == std::vector<std::string>{"page", "page", "Product Added", "Order Completed"});
    CHECK(names_of(r.ds, 1) == std::vector<std::string>{"Home", "Search", "/c/tea"});
    CHECK(types_of(r.ds, 1) == std::vector<std::string>{"screen", "screen", "page"});
    CHECK(r.ds.time[0] == 1714564800.0);
    CHECK(has(r.rep.to_text(), "a Segment 'identify' call, not an event"));
  }
  // A server-side call with only a userId.
  Ingested u = ingest_text("s.jsonl", "{\"type\":\"track\",\"userId\":\"u9\",\"event\":\"Signed Up\",\"timestamp\":\"2024-05-01T12:00:00Z\"}\n"
                                      "{\"type\":\"track\",\"userId\":\"u9\",\"anonymousId\":null,\"event\":\"Logged In\",\"timestamp\":\"2024-05-01T12:00:05Z\"}\n", loose());
  REQUIRE(u.error.ok());
  CHECK(u.rep.format == Format::SEGMENT);
  CHECK(u.ds.sequence_key[0] == "u9");
}

TEST_CASE("formats: product-analytics events: Mixpanel, PostHog and Amplitude exports (found by content)") {
  const std::string log =
      // Mixpanel: everything in properties; the product named there is the action.
      "{\"event\":\"Viewed Item\",\"properties\":{\"distinct_id\":\"m1\",\"time\":1714564800,\"item_id\":\"sku-1\",\"category\":\"shoes\"}}\n"
      "{\"event\":\"Purchase\",\"properties\":{\"distinct_id\":\"m1\",\"time\":1714564860,\"item_id\":\"sku-1\"}}\n"
      // PostHog: user and time at the top, the page's path from $current_url, $session_id.
      "{\"event\":\"$pageview\",\"distinct_id\":\"p1\",\"timestamp\":\"2024-05-01T12:00:00Z\",\"properties\":"
      "{\"$current_url\":\"https://shop.example/c/coffee?utm=x\",\"$session_id\":\"s1\"}}\n"
      "{\"event\":\"$pageview\",\"distinct_id\":\"p1\",\"timestamp\":\"2024-05-01T12:01:00Z\",\"properties\":"
      "{\"$pathname\":\"/p/moka\",\"$session_id\":\"s1\"}}\n"
      // Amplitude: event_type and event_properties; no user_id (null): the device is the user;
      // no product or page: the event name is the action.
      "{\"user_id\":null,\"device_id\":\"a1\",\"event_time\":\"2024-05-01 12:00:00.250000\",\"event_type\":\"signup\","
      "\"event_properties\":{}}\n"
      "{\"user_id\":null,\"device_id\":\"a1\",\"event_time\":\"2024-05-01 12:02:00.000000\",\"event_type\":\"view\","
      "\"event_properties\":{\"sku\":\"k9\"}}\n"
      // Not an event: counted as malformed.
      "{\"properties\":{\"distinct_id\":\"m2\"}}\n";
  for (Format forced : {Format::AUTO, Format::ANALYTICS}) {
    IngestOptions o = loose();
    o.format = forced;
    o.min_length = 1;
    Ingested r = ingest_text("events.jsonl", log, o);
    REQUIRE_MESSAGE(r.error.ok(), r.error.message);
    CHECK(r.rep.format == Format::ANALYTICS);
    CHECK(r.rep.kept_events == 6);
    CHECK(r.rep.malformed == 1);
    check_accounting(r.rep);
    REQUIRE(r.ds.sequences() == 3);
    std::vector<std::vector<std::string>> actions, types;
    for (size_t q = 0; q < 3; ++q) actions.push_back(names_of(r.ds, q)), types.push_back(types_of(r.ds, q));
    std::sort(actions.begin(), actions.end());
    CHECK(actions == std::vector<std::vector<std::string>>{{"/c/coffee", "/p/moka"}, {"signup", "k9"}, {"sku-1", "sku-1"}});
    std::sort(types.begin(), types.end());
    CHECK(types == std::vector<std::vector<std::string>>{{"$pageview", "$pageview"}, {"Viewed Item", "Purchase"}, {"signup", "view"}});
  }
  // The first record decides: a flat record with an action key (in any spelling) stays flat JSON
  // Lines, and so does one whose properties hold none of the analytics tools' keys.
  for (const char* first : {"{\"user\":\"a\",\"item\":\"x\",\"time\":1,\"event\":\"view\",\"properties\":{\"p\":1}}",
                            "{\"userId\":\"a\",\"productId\":\"x\",\"time\":1,\"event\":\"view\",\"properties\":{\"p\":1}}",
                            "{\"user\":\"a\",\"time\":1,\"event\":\"session_start\",\"properties\":{\"os\":\"ios\"}}"}) {
    const std::string text = first;
    CAPTURE(text);
    Ingested flat = ingest_text("flat.jsonl", text + "\n{\"user\":\"a\",\"item\":\"y\",\"time\":2,\"event\":\"view\"}\n"
                                                     "{\"user\":\"a\",\"item\":\"z\",\"time\":3,\"event\":\"view\"}\n", loose());
    CHECK(flat.rep.format == Format::JSONL);
    CHECK(flat.rep.kept_events >= 2);
  }
  // --session-column none: sessions by gap, not by $session_id; Amplitude's session -1 is none.
  std::string ph;
  for (int i = 0; i < 6; ++i)
    ph += "{\"event\":\"$pageview\",\"distinct_id\":\"p\",\"timestamp\":" + std::to_string(1714564800 + 60 * i) +
          ",\"properties\":{\"$pathname\":\"/" + std::to_string(i % 3) + "\",\"$session_id\":\"s" + std::to_string(i / 2) + "\"}}\n";
  IngestOptions by_gap = loose();
  by_gap.min_length = 1;
  CHECK(ingest_text("ph.jsonl", ph, by_gap).ds.sequences() == 3);
  by_gap.session_column = "none";
  CHECK(ingest_text("ph.jsonl", ph, by_gap).ds.sequences() == 1);
  std::string amp;
  for (int i = 0; i < 4; ++i)
    amp += "{\"amplitude_id\":7,\"user_id\":" + std::string(i < 2 ? "null" : "\"ann\"") + ",\"device_id\":\"d\",\"event_time\":" +
           std::to_string(1714564800 + 60 * i) + ",\"event_type\":\"view\",\"session_id\":-1,\"event_properties\":{\"sku\":\"k" +
           std::to_string(i) + "\"}}\n";
  Ingested a = ingest_text("amp.jsonl", amp, by_gap);
  CHECK(a.rep.format == Format::ANALYTICS);
  CHECK(a.ds.sequences() == 1);  // one user (amplitude_id) across the login, one session by gap
}

TEST_CASE("formats: a JSON array of records reads as JSON Lines would, pretty-printed or not") {
  const std::string lines = "{\"user\":\"a\",\"item\":\"x\",\"time\":1}\n{\"user\":\"a\",\"item\":\"y\",\"time\":2}\n"
                            "{\"user\":\"b\",\"item\":\"x\",\"time\":3}\n{\"user\":\"b\",\"item\":\"z\",\"time\":4}\n";
  const std::string compact = "[{\"user\":\"a\",\"item\":\"x\",\"time\":1},{\"user\":\"a\",\"item\":\"y\",\"time\":2},"
                              "{\"user\":\"b\",\"item\":\"x\",\"time\":3},{\"user\":\"b\",\"item\":\"z\",\"time\":4}]";
  const std::string pretty = "\xEF\xBB\xBF[\n  {\n    \"user\": \"a\",\n    \"item\": \"x\",\n    \"time\": 1\n  },\n"
                             "  {\"user\": \"a\", \"item\": \"y\", \"time\": 2},\n  {\"user\": \"b\", \"item\": \"x\", \"time\": 3},\n"
                             "  {\"user\": \"b\", \"item\": \"z\", \"time\": 4}\n]\n";
  Ingested want = ingest_text("events.jsonl", lines, loose());
  REQUIRE(want.error.ok());
  for (const std::string* text : {&compact, &pretty}) {
    for (const char* name : {"events.json", "events.txt"}) {  // by extension, and by content
      CAPTURE(name);
      Ingested r = ingest_text(name, *text, loose());
      REQUIRE_MESSAGE(r.error.ok(), r.error.message);
      CHECK(r.rep.format == Format::JSONL);
      CHECK(r.ds.action == want.ds.action);
      CHECK(r.ds.time == want.ds.time);
      CHECK(r.rep.kept_events == 4);
    }
  }
  // An element that is no record is counted with its first line; the analytics shape is found
  // in an array's first element too.
  Ingested bad = ingest_text("bad.json", "[\n  {\"user\":\"a\",\"item\":\"x\",\"time\":1},\n  42,\n  {\"user\":\"a\",\"item\":\"y\",\"time\":2}\n]", loose());
  REQUIRE(bad.error.ok());
  CHECK(bad.rep.malformed == 1);
  CHECK(has(bad.rep.to_text(), "bad.json:3: invalid JSON"));
  Ingested mp = ingest_text("mp.json", "[{\"event\":\"view\",\"properties\":{\"distinct_id\":\"a\",\"time\":1,\"item_id\":\"x\"}},"
                                       "{\"event\":\"view\",\"properties\":{\"distinct_id\":\"a\",\"time\":2,\"item_id\":\"y\"}}]", loose());
  REQUIRE_MESSAGE(mp.error.ok(), mp.error.message);
  CHECK(mp.rep.format == Format::ANALYTICS);
  CHECK(mp.rep.kept_events == 2);
  // A minified array keeps its file order where times tie (or are absent): elements share one
  // line, and their place on it breaks the tie.
  std::string tied = "[";
  for (int i = 0; i < 40; ++i)
    tied += std::string(i ? "," : "") + "{\"user\":\"u\",\"item\":\"a" + std::to_string(100 + i) + "\",\"time\":1700000000}";
  Ingested t = ingest_text("tie.json", tied + "]", loose());
  REQUIRE_MESSAGE(t.error.ok(), t.error.message);
  std::vector<std::string> order = names_of(t.ds, 0), sorted = order;
  std::sort(sorted.begin(), sorted.end());
  CHECK(order.size() == 40);
  CHECK(order == sorted);
  // A cut or trailed array is an error, not a short log.
  CHECK(has(ingest_text("cut.json", compact.substr(0, compact.size() - 1), loose()).error.message,
            "cut.json: the JSON array is not closed"));
  CHECK(has(ingest_text("cut.json", compact.substr(0, 60), loose()).error.message, "the JSON array is not closed"));
  CHECK(has(ingest_text("two.json", pretty + "{}\n", loose()).error.message, "text after the JSON array's closing ']'"));
  // JSON Lines whose first line is an array (closed on that line, more lines after it) stay lines.
  Ingested jl = ingest_text("lines.jsonl", "[1, 2]\n" + lines, loose());
  CHECK(jl.rep.malformed == 1);
  CHECK(jl.rep.kept_events == 4);
}

TEST_CASE("formats: per-session JSON with an events array (the OTTO shape)") {
  for (bool flag : {false, true}) {
    IngestOptions o = loose();
    if (flag) o.events_field = "events";
    Ingested r = ingest_fixture("otto-sessions.jsonl", o);
    REQUIRE(r.error.ok());
    CHECK(r.rep.format == Format::JSONL);
    CHECK(r.rep.events_field == "events");
    CHECK(r.rep.rows == 8);  // events; the empty session has none
    CHECK(r.rep.user_column == "session");
    CHECK(r.rep.has_time_column);
    CHECK(r.rep.short_sequences == 1);  // session 8's first visit: one event, then 67 minutes
    CHECK(r.rep.kept_events == 7);
    check_accounting(r.rep);
    REQUIRE(r.ds.sequences() == 2);
    CHECK(r.ds.sequence_key[0] == "7");
    // Two orders at the same ms keep their array order.
    CHECK(names_of(r.ds, 0) == std::vector<std::string>{"101", "102", "102", "102", "103"});
    CHECK(types_of(r.ds, 0) == std::vector<std::string>{"clicks", "clicks", "carts", "orders", "orders"});
    CHECK(r.ds.time[0] == 1714564800.0);  // ms
    CHECK(r.ds.sequence_key[1] == "8#2");
  }
  // Another key, named.
  IngestOptions o = loose();
  o.events_field = "clicks";
  o.user_column = "visitor";
  o.action_column = "page";
  Ingested n = ingest_text("n.jsonl", "{\"visitor\":\"v\",\"clicks\":[{\"page\":\"/a\",\"ts\":1},{\"page\":\"/b\",\"ts\":2}]}\n", o);
  REQUIRE(n.error.ok());
  CHECK(names_of(n.ds, 0) == std::vector<std::string>{"/a", "/b"});
}

TEST_CASE("formats: access logs: pages only, user = address + agent, statuses and assets counted") {
  for (Format forced : {Format::AUTO, Format::ACCESS_LOG}) {
    IngestOptions o = loose();
    o.format = forced;
    Ingested r = ingest_fixture("access.log", o);
    REQUIRE(r.error.ok());
    CHECK(r.rep.format == Format::ACCESS_LOG);
    CHECK(r.rep.rows == 17);
    CHECK(r.rep.static_assets == 5);
    CHECK(r.rep.not_events == 1);  // the POST
    CHECK(r.rep.error_status == 1);  // the 404
    CHECK(r.rep.kept_events == 10);
    check_accounting(r.rep);
    REQUIRE(r.ds.sequences() == 4);
    // Same address, two browsers: two users.
    CHECK(r.ds.sequence_key[0] == "203.0.113.7 Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0");
    CHECK(names_of(r.ds, 0) == std::vector<std::string>{"/", "/c/coffee", "/p/moka-pot", "/cart"});
    CHECK(r.ds.time[r.ds.offsets[0] + 1] == 1714564820.0);  // 14:00:20 +0200
    CHECK(r.ds.sequence_key[1] == "203.0.113.7 Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Safari/604.1");
    CHECK(r.ds.sequence_key[2] == "198.51.100.23");  // common log format: no agent
    CHECK(names_of(r.ds, 2) == std::vector<std::string>{"/about", "/contact"});
    CHECK(names_of(r.ds, 3) == std::vector<std::string>{"/presentations/logstash-monitorama-2013/", "/blog/geekery/"});
    const std::string text = r.rep.to_text();
    CHECK(has(text, "skipped: static assets"));
    CHECK(has(text, "access.log:2: a static asset: '/static/app.css'"));
    CHECK(has(text, "access.log:10: status 404"));
  }
  CHECK(formats::is_static_asset("/img/a.PNG?x=1"));
  CHECK_FALSE(formats::is_static_asset("/v1.2/page"));
  CHECK(formats::url_path("https://shop.example") == "/");
  CHECK(formats::url_path("https://shop.example/p?x#y") == "/p");
  CHECK(formats::url_path("/a/b?q") == "/a/b");
}

TEST_CASE("formats: malformed records in each new format are counted with file:line; strict stops") {
  struct Case {
    const char* name;
    Format      format;
    std::string text;
    uint64_t IngestReport::*counter;
    uint64_t    count;
    const char* example;
  };
  const std::string ga4_ok = "{\"user_pseudo_id\":\"a\",\"event_name\":\"page_view\",\"event_timestamp\":\"1714564800000000\","
                             "\"event_params\":[{\"key\":\"page_location\",\"value\":{\"string_value\":\"https://x/p\"}}]}\n";
  const std::string seg_ok = "{\"type\":\"page\",\"anonymousId\":\"a\",\"name\":\"Home\",\"timestamp\":\"2024-05-01T12:00:00Z\"}\n";
  const Case cases[] = {
      {"bad.ga4.jsonl", Format::GA4, ga4_ok + "{\"user_pseudo_id\":\"a\",\n[1,2]\n" + ga4_ok, &IngestReport::malformed, 2,
       "bad.ga4.jsonl:2: invalid JSON"},
      {"time.ga4.jsonl", Format::GA4,
       "{\"user_pseudo_id\":\"a\",\"event_name\":\"x\",\"event_timestamp\":\"soon\",\"event_params\":[{\"key\":\"page_location\",\"value\":{\"string_value\":\"/p\"}}]}\n",
       &IngestReport::bad_time, 1, "time.ga4.jsonl:1: column 'event_timestamp': cannot parse 'soon' as a time"},
      {"params.ga4.jsonl", Format::GA4,
       "{\"user_pseudo_id\":\"a\",\"event_name\":\"x\",\"event_params\":{\"key\":1}}\n{\"user_pseudo_id\":\"a\",\"event_name\":\"x\",\"event_params\":[1,{\"key\":[]},{\"key\":\"page_location\",\"value\":7}]}\n",
       &IngestReport::missing_field, 2, "params.ga4.jsonl:1: column 'event_params.page_location (path)': missing value"},
      {"bad.segment.jsonl", Format::SEGMENT, seg_ok + "{\"anonymousId\":\"a\"}\n\"track\"\n{\"type\":\"page\"", &IngestReport::malformed, 3,
       "bad.segment.jsonl:2: a Segment call without a 'type'"},
      {"alias.segment.jsonl", Format::SEGMENT, "{\"type\":\"alias\",\"userId\":\"u\",\"previousId\":\"a\"}\n",
       &IngestReport::not_events, 1, "alias.segment.jsonl:1: a Segment 'alias' call, not an event"},
      {"bad.sessions.jsonl", Format::JSONL,
       "{\"session\":1,\"events\":[{\"aid\":1,\"ts\":1},2,{\"aid\":3,\"ts\":3}]}\n{\"session\":2,\"events\":7}\n{\"session\":3,\"events\":[{\"aid\":1,\"ts\":\"x\"}]}\n",
       &IngestReport::malformed, 2, "bad.sessions.jsonl:1: 'events'[1]: not an object"},
      {"bad.log", Format::ACCESS_LOG,
       "1.2.3.4 - - [01/May/2024:12:00:00 +0000] \"GET / HTTP/1.1\" 200 5\n"
       "1.2.3.4 - - [01/May/2024:12:00:00 +0000] \"GET / HTTP/1.1\n"
       "1.2.3.4 - - [31/Feb/2024:12:00:00 +0000] \"GET / HTTP/1.1\" 200 5\n"
       "1.2.3.4 - -\n"
       "1.2.3.4 - - [01/May/2024:12:00:00 +0000] \"GET / HTTP/1.1\" abc 5\n"
       "1.2.3.4 - - [01/May/2024:12:00:00 +0000] \"\" 200 5\n"
       "garbage\n",
       &IngestReport::malformed, 6, "bad.log:2: not an access-log line: unterminated quoted request"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    IngestOptions o = loose();
    o.format = c.format;
    if (c.format == Format::JSONL) o.events_field = "events";
    Ingested r = ingest_text(c.name, c.text, o);
    CAPTURE(r.rep.to_text());
    REQUIRE(r.error.ok());
    CHECK(r.rep.*c.counter == c.count);
    check_accounting(r.rep);
    bool found = false;
    for (const auto& e : r.rep.examples) found = found || e.rfind(c.example, 0) == 0;
    CHECK(found);
    o.strict = true;
    Ingested s = ingest_text(c.name, c.text, o);
    // Rows left out by design (a Segment alias call, an error status, a static asset) are
    // counted under --strict too; a bad row stops it.
    if (c.counter == &IngestReport::not_events || c.counter == &IngestReport::error_status ||
        c.counter == &IngestReport::static_assets) {
      CHECK(s.error.ok());
      CHECK(s.rep.*c.counter == c.count);
    } else {
      CHECK_FALSE(s.error.ok());
      CHECK(has(s.error.message, std::string(c.name) + ":"));
    }
  }
  // A per-session record's bad event time: counted per event, under the record's line.
  IngestOptions o = loose();
  Ingested t = ingest_text("t.jsonl", "{\"session\":3,\"events\":[{\"aid\":1,\"ts\":\"x\"},{\"aid\":2,\"ts\":5}]}\n", o);
  REQUIRE(t.error.ok());
  CHECK(t.rep.bad_time == 1);
  CHECK(t.rep.examples[0].rfind("t.jsonl:1: column 'ts'", 0) == 0);
}

TEST_CASE("formats: detection by content: access logs, JSON shapes, ';' and '|' files") {
  struct Case {
    const char* name;
    std::string text;
    Format      want;
  };
  const Case cases[] = {
      {"x.log", "1.2.3.4 - - [01/May/2024:12:00:00 +0000] \"GET / HTTP/1.1\" 200 5\n", Format::ACCESS_LOG},
      {"access_log", "83.149.9.216 - - 17/05/2015:10:05:03 +0000 GET /a\n", Format::ACCESS_LOG},
      {"x.log", "{\"user\":\"u\",\"action\":\"/a\"}\n", Format::JSONL},
      {"x.log", "user,action\nu,/a\n", Format::CSV},
      {"x", "user;action\nu;/a\n", Format::CSV},
      {"x", "user|action\nu|/a\n", Format::CSV},
      {"x", "u1 /a\nu1 /b\n", Format::PAIRS},
      {"x.json", "{\"user_pseudo_id\":\"1\",\"event_name\":\"page_view\"}\n", Format::GA4},
      {"x.json", "{\"type\":\"page\",\"anonymousId\":\"1\"}\n", Format::SEGMENT},
      {"x.jsonl", "{\"session\":1,\"events\":[]}\n", Format::JSONL},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    CAPTURE(c.text);
    IngestOptions o = loose();
    o.min_length = 1;
    Ingested r = ingest_text(c.name, c.text, o);
    CHECK(r.rep.format == c.want);
  }
  Format f;
  for (const char* n : {"ga4", "segment", "access-log"}) {
    REQUIRE(parse_format(n, &f));
    CHECK(std::string(format_name(f)) == n);
  }
  CHECK(format_from_path("access.log.gz") == Format::ACCESS_LOG);
  // An access log forced as one keeps its malformed first line counted, not sniffed away.
  IngestOptions o = loose();
  o.format = Format::ACCESS_LOG;
  Ingested r = ingest_text("x.csv", "user,action\n", o);
  REQUIRE(r.error.ok());
  CHECK(r.rep.malformed == 1);
}

#ifdef HUNCH_CLI_PATH

namespace {

std::string scratch() {
  static const std::string dir = [] {
    std::string d = "/tmp/hunch-test-formats-" + std::to_string(getpid());
    mkdir(d.c_str(), 0700);
    return d;
  }();
  return dir;
}

std::string put(const std::string& name, const std::string& bytes) {
  std::string path = scratch() + "/" + name;
  REQUIRE(hunch_test::write_file(path, std::vector<uint8_t>(bytes.begin(), bytes.end())));
  return path;
}

struct Run {
  int code = -1;
  bool crashed = false;
  std::string out;
};

// `before`: a shell prefix such as "cat f | " (input from a pipe).
Run cli(const std::string& args, int limit_s = 120, const std::string& before = "") {
  std::string cmd = before + "timeout -k 5 " + std::to_string(limit_s) + " '" HUNCH_CLI_PATH "' " + args + " 2>&1";
  Run r;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  if (WIFSIGNALED(status)) {
    r.crashed = true;
  } else if (WIFEXITED(status)) {
    r.code = WEXITSTATUS(status);
    r.crashed = r.code > 128 && r.code != 124;
  }
  return r;
}

bool report_count(const std::string& out, const std::string& label, unsigned long long expect) {
  size_t at = out.find(label);
  if (at == std::string::npos) return false;
  size_t eol = out.find('\n', at);
  return std::strtoull(out.substr(at + label.size(), eol - at - label.size()).c_str(), nullptr, 10) == expect;
}

// 30 visitors x 3 visits x 4 pages over 8 pages, visits 10 minutes apart (within the default
// 30-minute gap: only a session id tells them apart), each format writing its own record.
template <class Write>
std::string visits(Write write) {
  std::string s;
  for (int u = 0; u < 30; ++u)
    for (int v = 0; v < 3; ++v)
      for (int i = 0; i < 4; ++i) {
        const long t = 1714564800L + u * 7 + v * 600 + i * 20;
        const std::string page = "/p/" + std::to_string((u + v + i * (i + 1)) % 8);
        const std::string type = i == 3 && (u + v) % 3 == 0 ? "purchase" : "view";
        s += write(u, v, t, page, type);
      }
  return s;
}

}  // namespace

TEST_CASE("formats: `user item item …` lists (the S3Rec layout) read as the pairs they stand for") {
  std::string lists, pairs;
  for (int u = 1; u <= 40; ++u) {
    lists += std::to_string(u);
    for (int i = 0; i < 3 + u % 5; ++i) {
      const std::string item = std::to_string((u * 7 + i * 3) % 23 + 1);
      lists += (i % 2 ? "\t" : " ") + item;
      pairs += std::to_string(u) + " " + item + "\n";
    }
    lists += u % 3 ? "\n" : " \r\n";
  }
  Ingested l = ingest_text("Toys_and_Games.txt", lists, loose());
  Ingested p = ingest_text("toys.txt", pairs, loose());
  REQUIRE(l.error.ok());
  REQUIRE(p.error.ok());
  CHECK(l.rep.format == Format::LISTS);  // found by content: the lines hold different numbers of fields
  CHECK(p.rep.format == Format::PAIRS);
  CHECK(l.ds.offsets == p.ds.offsets);
  CHECK(l.ds.actions == p.ds.actions);
  CHECK(l.ds.action == p.ds.action);
  CHECK(l.ds.sequence_key == p.ds.sequence_key);
  CHECK(l.rep.rows == p.rep.rows);  // rows count events, one per item
  check_accounting(l.rep);
  CHECK(has(l.rep.to_text(), "(lists): user=user (field 1) action=items (fields 2, 3, … in order)"));

  // Every line with the same number of fields is a fixed layout (user item rating time): pairs,
  // its unread fields said in the report; a stray short line among 10 or more does not change it.
  std::string fixed;
  for (int i = 0; i < 12; ++i) fixed += std::to_string(1 + i / 4) + "\t" + std::to_string(10 + i) + "\t5\t8812509" + std::to_string(10 + i) + "\n";
  Ingested u = ingest_text("u.data", fixed, loose());
  CHECK(u.rep.format == Format::PAIRS);
  CHECK(u.rep.unread_fields == 12);
  CHECK(has(u.rep.to_text(), "note: 12 lines have fields past the second, not read"));
  const size_t cut = fixed.find('\n', fixed.find('\n') + 1) + 1;  // after the second line
  CHECK(ingest_text("u.data", fixed.substr(0, cut) + "2\t10\t4\n" + fixed.substr(cut), loose()).rep.format == Format::PAIRS);
  // A list longer than the sniffed head (64 KiB) is still a list; so is a byte-order mark's file.
  std::string huge = "\xEF\xBB\xBF" "1";
  for (int i = 0; i < 20000; ++i) huge += " " + std::to_string(i % 500);
  Ingested h = ingest_text("huge.txt", huge + "\n2 1 2\n", loose());
  REQUIRE(h.error.ok());
  CHECK(h.rep.format == Format::LISTS);
  CHECK(h.rep.kept_events == 20002);
  CHECK(h.ds.sequence_key[0] == "1");
  // Forced, and a line with a user but no item: counted with file:line; strict stops there.
  IngestOptions o = loose();
  o.format = Format::LISTS;
  Ingested bad = ingest_text("l.txt", "1 a b c\n2\n3 a b\n", o);
  REQUIRE(bad.error.ok());
  CHECK(bad.rep.malformed == 1);
  CHECK(bad.rep.kept_events == 5);
  check_accounting(bad.rep);
  CHECK(has(bad.rep.to_text(), "l.txt:2: expected 'user item item …', got '2'"));
  o.strict = true;
  Ingested strict = ingest_text("l.txt", "1 a b c\n2\n3 a b\n", o);
  CHECK(has(strict.error.message, "l.txt:2: expected 'user item item …'"));
  // A line of more than 65,536 items keeps the first 65,536 in order; the rest are counted.
  std::string longline = "u";
  for (int i = 0; i < 70000; ++i) longline += " i" + std::to_string(i % 1000);
  o.strict = false;
  o.min_count = 1;
  Ingested big = ingest_text("big.txt", longline + "\nv i1 i2\n", o);
  REQUIRE(big.error.ok());
  CHECK(big.rep.too_long == 70000 - 65536);
  check_accounting(big.rep);
  REQUIRE(big.ds.sequences() == 2);
  const std::vector<std::string> kept = names_of(big.ds, 0);
  REQUIRE(kept.size() == 65536);
  bool in_order = true;
  for (size_t i = 0; i < kept.size(); ++i) in_order = in_order && kept[i] == "i" + std::to_string(i % 1000);
  CHECK(in_order);
  // A long line after a short one is still a list (a line cut by the 64 KiB head with more than
  // 4 fields); so are lists cut to one length of more than 4 items, and a small file's last line
  // counts without its newline.
  std::string cutlists = "1 5 6 7 8 9\n";
  for (int u = 2; u < 6; ++u) {
    cutlists += std::to_string(u);
    for (int i = 0; i < 20000; ++i) cutlists += " " + std::to_string(i % 300);
    cutlists += "\n";
  }
  CHECK(ingest_text("s3.txt", cutlists, loose()).rep.format == Format::LISTS);
  std::string capped;
  for (int u = 0; u < 20; ++u) capped += std::to_string(u) + " 1 2 3 4 5 6" + (u == 7 ? " 7" : "") + "\n";
  CHECK(ingest_text("capped.txt", capped, loose()).rep.format == Format::LISTS);
  CHECK(ingest_text("two.txt", "1 5 6 7 8\n2 8 9 10", loose()).rep.format == Format::LISTS);
  Ingested fx = ingest_fixture("lists.txt", loose());  // the repository's sample of the shape
  REQUIRE(fx.error.ok());
  CHECK(fx.rep.format == Format::LISTS);
  CHECK(fx.rep.kept_events == 18);
  CHECK(names_of(fx.ds, 2) == std::vector<std::string>{"p1", "p3", "p7", "p2", "p9"});
  Format f;
  CHECK(parse_format("lists", &f));
  CHECK(f == Format::LISTS);
  CHECK(std::string(format_name(Format::LISTS)) == "lists");
}

TEST_CASE("formats CLI: every new format trains and evaluates with at most one flag") {
  struct Case {
    const char* file;
    std::string bytes;
    const char* flags;
    const char* says;  // a piece of the report's first line
    int sessions;      // sessions the report's session protocol line must count, 0: no check
  };
  const std::string semicolon = "event_time;event_type;product_id;user_id;user_session\n" +
                                visits([](int u, int v, long t, const std::string& p, const std::string& ty) {
                                  char b[64];
                                  std::time_t tt = t;
                                  std::strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&tt));
                                  return std::string(b) + ";" + ty + ";" + p + ";" + std::to_string(1000 + u) + ";s" +
                                         std::to_string(u) + "-" + std::to_string(v) + "\n";
                                });
  const std::string headerless = visits([](int u, int v, long t, const std::string& p, const std::string& ty) {
    return std::to_string(u) + "," + p + ",cat," + (ty == "purchase" ? "buy" : "pv") + "," + std::to_string(t) + "\n";
  });
  const std::string ga4 = visits([](int u, int v, long t, const std::string& p, const std::string& ty) {
    return "{\"user_pseudo_id\":\"" + std::to_string(u) + ".17\",\"event_name\":\"" + (ty == "view" ? "page_view" : ty) +
           "\",\"event_timestamp\":\"" + std::to_string(t) + "000000\",\"event_params\":[{\"key\":\"ga_session_id\",\"value\":{\"int_value\":\"" +
           std::to_string(t - t % 600) + "\"}},{\"key\":\"page_location\",\"value\":{\"string_value\":\"https://shop.example" + p +
           "?utm=x\"}}]}\n";
  });
  const std::string segment = visits([](int u, int v, long t, const std::string& p, const std::string& ty) {
    char b[64];
    std::time_t tt = t;
    std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S.000Z", std::gmtime(&tt));
    return "{\"type\":\"page\",\"anonymousId\":\"anon-" + std::to_string(u) + "\",\"name\":\"x\",\"properties\":{\"path\":\"" + p +
           "\"},\"timestamp\":\"" + b + "\"}\n";
  });
  std::string otto;
  for (int u = 0; u < 30; ++u) {
    otto += "{\"session\":" + std::to_string(u) + ",\"events\":[";
    for (int i = 0; i < 8; ++i)
      otto += std::string(i ? "," : "") + "{\"aid\":" + std::to_string((u + i * i) % 9) + ",\"ts\":" +
              std::to_string(1714564800000L + u * 7000L + i * 240000L + (i / 4) * 3600000L) + ",\"type\":\"" + (i % 4 == 3 ? "orders" : "clicks") + "\"}";
    otto += "]}\n";
  }
  const std::string access = visits([](int u, int v, long t, const std::string& p, const std::string& ty) {
    char b[64];
    std::time_t tt = t + v * 3600;  // visits an hour apart: sessions by gap
    std::strftime(b, sizeof b, "%d/%b/%Y:%H:%M:%S +0000", std::gmtime(&tt));
    std::string ip = "10.0.0." + std::to_string(u);
    return ip + " - - [" + b + "] \"GET " + p + " HTTP/1.1\" 200 100 \"-\" \"agent\"\n" + ip + " - - [" + b +
           "] \"GET /static/app.js HTTP/1.1\" 200 100 \"-\" \"agent\"\n";
  });
  // Mixpanel-style events: the page's path from $current_url, sessions from $session_id.
  const std::string mixpanel = visits([](int u, int v, long t, const std::string& p, const std::string& ty) {
    return "{\"event\":\"" + ty + "\",\"properties\":{\"distinct_id\":\"u" + std::to_string(u) + "\",\"time\":" +
           std::to_string(t) + ",\"$current_url\":\"https://shop.example" + p + "?ref=x\",\"$session_id\":\"s" +
           std::to_string(u) + "-" + std::to_string(v) + "\"}}\n";
  });
  // `user item item …` lines: no times, so the session protocol sees one session per user.
  std::string lists;
  for (int u = 0; u < 90; ++u) {
    lists += std::to_string(u);
    for (int i = 0; i < 4 + u % 6; ++i) lists += " " + std::to_string((u + i * i) % 9);
    lists += "\n";
  }
  const Case cases[] = {
      {"eu.csv", semicolon, "", "session=user_session delimiter=;", 90},
      {"UserBehavior.csv", headerless, "--columns user,item,category,type,time", "no header: the first row is data", 0},
      {"ga4.json", ga4, "", "(ga4)", 90},
      {"ga4-forced.txt", ga4, "--format ga4", "(ga4)", 90},
      {"segment.jsonl", segment, "", "(segment)", 30},
      {"mixpanel.jsonl", mixpanel, "", "(analytics)", 90},
      {"otto.jsonl", otto, "", "events=events", 60},
      {"access.log", access, "", "(access-log)", 90},
      {"Toys_and_Games.txt", lists, "", "(lists)", 0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.file);
    const std::string path = put(c.file, c.bytes);
    const std::string model = scratch() + "/" + c.file + ".hunch";
    for (const char* protocol : {"", "--protocol sessions"}) {
      CAPTURE(protocol);
      Run r = cli("train '" + path + "' -o '" + model + "' --epochs 1 " + c.flags + " " + protocol);
      CAPTURE(r.out.substr(0, 3000));
      CHECK_FALSE(r.crashed);
      REQUIRE(r.code == 0);
      CHECK(has(r.out, c.says));
      if (*protocol && c.sessions) CHECK(has(r.out, "session protocol: " + std::to_string(c.sessions) + " sessions"));
      Run e = cli("eval '" + model + "' '" + path + "' " + c.flags + " " + protocol);
      CAPTURE(e.out.substr(0, 3000));
      CHECK_FALSE(e.crashed);
      CHECK(e.code == 0);
      CHECK(has(e.out, c.says));
    }
  }
  // --time-column none and --delimiter through the CLI.
  const std::string pipe = put("pipe.txt", "user|time|action\n" + visits([](int u, int v, long t, const std::string& p, const std::string&) {
                                 return "u" + std::to_string(u) + "|" + std::to_string(t) + "|" + p + "\n";
                               }));
  Run none = cli("train '" + pipe + "' -o '" + scratch() + "/p.hunch' --epochs 1 --time-column none");
  CAPTURE(none.out.substr(0, 2000));
  CHECK(none.code == 0);
  CHECK(has(none.out, "time=(none: file order)"));
  CHECK(has(none.out, "delimiter=|"));
  Run forced = cli("train '" + pipe + "' -o '" + scratch() + "/p.hunch' --epochs 1 --delimiter ,");
  CHECK(forced.code == 1);
  CHECK(has(forced.out, "no user column"));
  Run bad = cli("train '" + pipe + "' -o '" + scratch() + "/p.hunch' --delimiter xy");
  CHECK(bad.code == 2);
  CHECK(has(bad.out, "--delimiter: expected"));
  Run cols = cli("train '" + pipe + "' -o '" + scratch() + "/p.hunch' --columns ,,");
  CHECK(cols.code == 2);
  CHECK(has(cols.out, "--columns: expected"));
  Run help = cli("train --help");
  for (const char* flag : {"--delimiter", "--columns", "--session-column", "--events-field", "access-log", "ga4", "segment"})
    CHECK(has(help.out, flag));
}

TEST_CASE("formats CLI: bad records in the new formats: counted, file:line, non-zero when nothing is left") {
  struct Case {
    const char* file;
    std::string bytes;
    const char* flags;
    const char* counted;
    unsigned long long count;
    const char* example;
  };
  std::string junk_log, junk_ga4, junk_seg, junk_otto;
  for (int i = 0; i < 20; ++i) {
    junk_log += "10.0.0.1 - - [01/May/2024:12:00:" + std::to_string(10 + i) + " +0000] \"GET /img/" + std::to_string(i) + ".png HTTP/1.1\" 200 5\n";
    junk_ga4 += "{\"user_pseudo_id\":\"a\",\"event_name\":\"page_view\",\"event_timestamp\":[" + std::to_string(i) + "]\n";
    junk_seg += "{\"type\":\"identify\",\"userId\":\"u" + std::to_string(i) + "\"}\n";
    junk_otto += "{\"session\":" + std::to_string(i) + ",\"events\":[{\"aid\":1,\"ts\":\"later\"}]}\n";
  }
  const Case cases[] = {
      {"assets.log", junk_log, "", "skipped: static assets", 20, "assets.log:1: a static asset: '/img/0.png'"},
      {"broken.ga4.json", junk_ga4, "--format ga4", "skipped: malformed records", 20, "broken.ga4.json:1: invalid JSON"},
      {"identify.jsonl", junk_seg, "--format segment", "skipped: not page views/events", 20,
       "identify.jsonl:1: a Segment 'identify' call, not an event"},
      {"later.jsonl", junk_otto, "--events-field events", "skipped: unparsable time", 20,
       "later.jsonl:1: column 'ts': cannot parse 'later' as a time"},
      {"na.csv", "user,time,action\n" + std::string(20 * 0, 'x') + "NA,1,/a\nnull,2,/b\n-,3,/c\nNone,4,/d\n", "",
       "values given as NA/null/-/… (missing)", 4, "na.csv:2: column 'user': missing value ('NA')"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.file);
    const std::string model = scratch() + "/bad.hunch";
    std::remove(model.c_str());
    Run r = cli("train '" + put(c.file, c.bytes) + "' -o '" + model + "' --epochs 1 " + c.flags);
    CAPTURE(r.out.substr(0, 3000));
    CHECK_FALSE(r.crashed);
    CHECK(r.code == 1);
    CHECK(report_count(r.out, c.counted, c.count));
    CHECK(report_count(r.out, "kept events", 0));
    CHECK(has(r.out, c.example));
    struct stat st;
    CHECK(stat(model.c_str(), &st) != 0);
    Run s = cli("train '" + scratch() + "/" + c.file + "' -o '" + model + "' --strict " + c.flags);
    CHECK_FALSE(s.crashed);
    CHECK(s.code == 1);
    CHECK(has(s.out, c.example));
  }
}

TEST_CASE("formats CLI: --date-order, and a day-first log read twice or refused from a pipe") {
  const std::string path = put("dmy.csv", day_first_log()), model = scratch() + "/dmy.hunch";
  Run found = cli("train '" + path + "' -o '" + model + "' --epochs 1 --min-users 1 --dry-run");
  CAPTURE(found.out.substr(0, 3000));
  CHECK(found.code == 0);
  CHECK(has(found.out, "times read day first, the log read a second time"));
  CHECK(report_count(found.out, "skipped: unparsable time", 0));
  Run given = cli("train '" + path + "' -o '" + model + "' --epochs 1 --min-users 1 --dry-run --date-order day-first");
  CHECK(given.code == 0);
  CHECK_FALSE(has(given.out, "read a second time"));
  Run us = cli("train '" + path + "' -o '" + model + "' --dry-run --date-order month-first");
  CHECK(report_count(us.out, "skipped: unparsable time", 18 * 4));  // days 13-30 are not months
  Run piped = cli("train /dev/stdin -o '" + model + "' --format csv --dry-run", 120, "cat '" + path + "' | ");
  CHECK(piped.code == 1);
  CHECK(has(piped.out, "puts the day first, but 48 earlier times such as '01/10/2019 10:00' could be either and were "
                       "read month first; give the order: --date-order day-first"));
  Run bad = cli("train '" + path + "' -o '" + model + "' --date-order ymd");
  CHECK(bad.code == 2);
  CHECK(has(bad.out, "--date-order: expected auto, month-first or day-first, got 'ymd'"));
}

TEST_CASE("formats CLI: clean up the scratch directory") {
  CHECK(std::system(("rm -rf '" + scratch() + "'").c_str()) == 0);
}

#endif  // HUNCH_CLI_PATH

TEST_CASE("formats: what a QA pass found (session 16): shifted columns, stray quotes, BOM + quotes, NA times") {
  IngestOptions o = loose();
  o.min_users = 1;
  // More fields than the header: an unquoted delimiter inside a value shifted the columns.
  // Counted as malformed, not read with another column's value; a trailing delimiter is fine.
  Ingested x = ingest_text("extra.csv",
                           "user,time,action,type\nu1,1714564800,/a,b,view\nu1,1714564810,/c,view\nu1,1714564820,/d,view\n"
                           "u2,1714564800,/a,view,\nu2,1714564810,/c,view\n", o);
  REQUIRE(x.error.ok());
  CHECK(x.rep.malformed == 1);
  CHECK(x.rep.kept_events == 4);
  CHECK(has(x.rep.to_text(), "extra.csv:2: 5 fields, the header has 4 (a delimiter inside an unquoted value?)"));
  // A quote that never closes: an error naming its line and how much it would swallow, never a
  // silent loss of the rest of the file.
  Ingested q = ingest_text("unterm.csv", "user,time,action\nu,1,/a\nu,2,\"/b\nu,3,/c\nu,4,/d\n", o);
  REQUIRE_FALSE(q.error.ok());
  CHECK(ingest_text("unterm.csv", "user,time,action\nu,1,/a\nu,2,\"/b\nu,3,/c\nu,4,/d", o).error.message == q.error.message);
  CHECK(q.error.message == "unterm.csv:3: a quote opened on this line is never closed: the 3 lines to the end of the "
                           "file would be one field (fix or remove the stray '\"')");
  // A byte-order mark before a quoted header (Excel's "CSV UTF-8").
  Ingested b = ingest_text("bom.csv", "\xEF\xBB\xBF\"user\",\"time\",\"action\"\n\"u1\",\"1714564800\",\"/a\"\n"
                                      "\"u1\",\"1714564810\",\"/b\"\n", o);
  REQUIRE_MESSAGE(b.error.ok(), b.error.message);
  CHECK(b.rep.user_column == "user");
  CHECK(b.ds.sequence_key[0] == "u1");
  // --columns: a first row of text only is data too (it names no column).
  IngestOptions c = o;
  c.columns = {"user", "item", "type"};
  c.time_column = "none";
  Ingested t = ingest_text("nh.csv", "alice,/home,view\nalice,/cart,view\nbob,/home,view\nbob,/cart,click\n", c);
  REQUIRE_MESSAGE(t.error.ok(), t.error.message);
  CHECK(t.rep.rows == 4);
  CHECK(t.rep.headerless);
  // Missing-value tokens in the time column are missing times (kept in file order), as an empty
  // field is; times past 2100 are sentinels, skipped and counted.
  Ingested m = ingest_text("mt.csv", "user,time,action\nu1,1714564800,/a\nu1,NA,/b\nu1,,/c\nu1,null,/d\n"
                                     "u1,1714564830,/e\nu1,1e300,/f\nu1,99999999999999999999,/g\n", o);
  REQUIRE(m.error.ok());
  CHECK(m.rep.untimed_rows == 3);
  CHECK(m.rep.missing_tokens == 2);
  CHECK(m.rep.bad_time == 2);
  CHECK(has(m.rep.to_text(), "mt.csv:7: column 'time': '1e300' is after 2100-01-01"));
  // Spaces around values: " u1" is u1, " NA" a missing value.
  Ingested s = ingest_text("spaces.csv", "user, time, action, type\nu1, 1714564800, /a, view\n u1 , 1714564810, /b, view\n"
                                         "u1, 1714564820, NA, view\n", o);
  REQUIRE_MESSAGE(s.error.ok(), s.error.message);
  CHECK(s.rep.users == 1);
  CHECK(s.rep.missing_tokens == 1);
  CHECK(names_of(s.ds, 0) == std::vector<std::string>{"/a", "/b"});
  // GA4: a session id exported as double_value is the int_value's session.
  auto ga4 = [](const char* session_value, int t) {
    return std::string("{\"event_timestamp\":\"") + std::to_string(1714564800000000LL + t * 1000000LL) +
           "\",\"event_name\":\"page_view\",\"user_pseudo_id\":\"9.1\",\"event_params\":[{\"key\":\"page_location\","
           "\"value\":{\"string_value\":\"https://x.example/p" + std::to_string(t) + "\"}},{\"key\":\"ga_session_id\",\"value\":" +
           session_value + "}]}\n";
  };
  Ingested g = ingest_text("ga4.jsonl", ga4("{\"int_value\":\"1714564700\"}", 0) + ga4("{\"double_value\":1714564700.0}", 1) +
                                            ga4("{\"int_value\":\"1714564700\"}", 2), o);
  REQUIRE_MESSAGE(g.error.ok(), g.error.message);
  CHECK(g.rep.format == Format::GA4);
  CHECK(g.ds.sequences() == 1);
  CHECK(g.rep.kept_events == 3);
  // Access logs: files for crawlers are not pages.
  Ingested a = ingest_text("site.log",
                           "1.2.3.4 - - [01/May/2024:12:00:00 +0000] \"GET /robots.txt HTTP/1.1\" 200 12 \"-\" \"bot\"\n"
                           "1.2.3.4 - - [01/May/2024:12:00:01 +0000] \"GET /sitemap.xml HTTP/1.1\" 200 12 \"-\" \"bot\"\n"
                           "1.2.3.4 - - [01/May/2024:12:00:02 +0000] \"GET /.well-known/security.txt HTTP/1.1\" 200 12 \"-\" \"bot\"\n"
                           "1.2.3.4 - - [01/May/2024:12:00:03 +0000] \"GET /docs HTTP/1.1\" 200 12 \"-\" \"bot\"\n"
                           "1.2.3.4 - - [01/May/2024:12:00:04 +0000] \"GET /docs/a HTTP/1.1\" 200 12 \"-\" \"bot\"\n", o);
  REQUIRE_MESSAGE(a.error.ok(), a.error.message);
  CHECK(a.rep.static_assets == 3);
  CHECK(a.rep.kept_events == 2);
}

TEST_CASE("formats: a header naming a role's column twice is said; a NUL byte gets no Latin-1 hint (session 17)") {
  IngestOptions o = loose();
  o.min_users = 1;
  // "User" and "user": the first is read, the report names both and the flag that chooses.
  Ingested d = ingest_text("dup.csv", "User,user,time,action\nu1,x,1,/a\nu1,x,2,/b\nu2,y,3,/a\n", o);
  REQUIRE_MESSAGE(d.error.ok(), d.error.message);
  CHECK(d.ds.sequence_key[0] == "u1");
  CHECK(has(d.rep.to_text(), "the header has two user columns, 'User' (column 1, read) and 'user' (column 2): "
                             "--user-column names the one to read"));
  // Named by the flag: no note (the flag chose).
  IngestOptions named = o;
  named.user_column = "user";
  Ingested n = ingest_text("dup.csv", "User,user,time,action\nu1,x,1,/a\nu1,x,2,/b\nu2,y,3,/a\n", named);
  REQUIRE(n.error.ok());
  CHECK(n.ds.sequence_key[0] == "x");
  CHECK_FALSE(has(n.rep.to_text(), "two user columns"));
  // A NUL byte is valid UTF-8: skipped (a model's names cannot hold one), said as itself, and
  // the Latin-1 advice is for bytes that are not UTF-8 only.
  const std::string nul = std::string("user,time,action\nu1,1,/a\nu1,2,/b") + '\0' + "c\nu1,3,/d\n";
  Ingested z = ingest_text("nul.csv", nul, o);
  REQUIRE_MESSAGE(z.error.ok(), z.error.message);
  CHECK(z.rep.bad_utf8 == 1);
  CHECK(has(z.rep.to_text(), "1 row with a NUL byte in a user, action or type was skipped"));
  CHECK_FALSE(has(z.rep.to_text(), "Latin-1"));
  Ingested l = ingest_text("latin.csv", "user,time,action\nu1,1,/a\nu1,2,/caf\xE9\nu1,3,/d\n", o);
  REQUIRE(l.error.ok());
  CHECK(has(l.rep.to_text(), "Latin-1"));
}
