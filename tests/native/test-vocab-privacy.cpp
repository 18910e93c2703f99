// Issue 16's targets through the CLI: `hunch train` with its defaults ships no action seen by
// fewer than 5 users and no URL with a query string or an id segment — asserted on `hunch inspect
// --vocab` for the shop (`hunch synth`), a generated access log with ids, tokens, e-mails and
// query strings, and ../shared/data/access-log when it is there — plus the ingestion side (min_users
// withheld and counted, routes counted) and the flags' errors.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "hunch/routes.h"
#include "test-util.h"
#include "train/ingest.h"

using namespace hunch::train;

namespace {

// An access log: `users` visitors (address + agent) on a small site, with per-user pages (order
// ids, e-mails, reset tokens), tracking parameters, and a page only `rare` users open.
std::string access_log(int users, int rare) {
  std::ostringstream o;
  const char* pages[] = {"/", "/c/coffee?sort=price", "/p/moka-pot?utm_source=news", "/p/burr-grinder#reviews",
                         "/cart", "/search?q=kettle"};
  for (int u = 0; u < users; ++u) {
    char ip[32];
    std::snprintf(ip, sizeof ip, "10.0.%d.%d", u / 200, u % 200 + 1);
    int t = 0;
    auto hit = [&](const std::string& path) {
      char when[64];
      std::snprintf(when, sizeof when, "[01/May/2024:%02d:%02d:%02d +0000]", 8 + t / 3600, (t / 60) % 60, t % 60);
      o << ip << " - - " << when << " \"GET " << path << " HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0 test\"\n";
      t += 20;
    };
    for (int k = 0; k < 6; ++k) hit(pages[(u + k) % 6]);
    hit("/account/orders/" + std::to_string(83000 + u));
    hit("/u/user" + std::to_string(u) + "@example.com/settings");
    hit("/reset-password?token=eyJhbGciOiJIUzI1NiJ9" + std::to_string(u));
    hit("/files/" + std::string(u % 2 ? "123e4567-e89b-12d3-a456-42661417400" : "5f3a9c1e0b7d4a6f8e2c1d3b5a7f9e0") +
        std::to_string(u % 10) + "/download");
    if (u < rare) hit("/secret-offer-for-few");
    hit("/p/moka-pot");
  }
  return o.str();
}

struct Vocab {
  std::vector<std::string> actions, all;
};

// `hunch inspect --vocab`: every string, and the actions among them.
Vocab read_vocab(const std::string& text) {
  Vocab v;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const size_t tab = line.find('\t');
    REQUIRE_MESSAGE(tab != std::string::npos, line);
    const std::string value = line.substr(tab + 1);
    v.all.push_back(value);
    if (line.rfind("hunch.vocab.actions[", 0) == 0 && value != "<unk>") v.actions.push_back(value);
  }
  return v;
}

int cli(const std::string& args, std::string* out) {
  out->clear();  // run_command appends
  return hunch_test::run_command(std::string("'") + HUNCH_CLI_PATH + "' " + args + " 2>&1", out);
}

// The targets on one model: no query string, no id segment, every action by >= 5 users of `log`
// (users counted over the log's routes, as the trainer counts them).
void check_targets(const std::string& model, const std::string& log_path, Format format) {
  std::string out;
  REQUIRE_MESSAGE(hunch_test::run_command(std::string("'") + HUNCH_CLI_PATH + "' inspect --vocab '" + model + "' 2>&1", &out) == 0, out);
  const Vocab v = read_vocab(out);
  REQUIRE(!v.actions.empty());
  IngestOptions o;
  o.format = format;
  o.whole_users = true;
  o.min_length = 1;
  Dataset d;
  IngestReport rep;
  REQUIRE(!ingest_file(log_path, o, &d, &rep));
  std::map<std::string, std::set<std::string>> users;  // route → users
  for (size_t q = 0; q < d.sequences(); ++q)
    for (uint64_t i = d.offsets[q]; i < d.offsets[q + 1]; ++i) users[d.actions[d.action[i]]].insert(d.sequence_key[q]);
  for (const std::string& a : v.actions) {
    INFO(a);
    CHECK(a.find('?') == std::string::npos);
    CHECK(a.find('#') == std::string::npos);
    if (hunch::url_like(a)) {
      std::string seg;
      for (size_t b = a.find('/', a.find("://") == std::string::npos ? 0 : a.find("://") + 3); b != std::string::npos;) {
        const size_t e = a.find('/', b + 1);
        CHECK_FALSE(hunch::id_like_segment(a.substr(b + 1, e == std::string::npos ? std::string::npos : e - b - 1)));
        b = e;
      }
    }
    CHECK(users[a].size() >= 5);
  }
}

}  // namespace

TEST_CASE("ingestion: min_users withholds names of fewer users and counts them; routes are counted") {
  const std::string log = access_log(12, 3);
  IngestOptions o;
  o.format = Format::ACCESS_LOG;
  o.whole_users = true;
  o.min_length = 1;
  o.min_count = 1;
  Dataset d;
  IngestReport rep;
  REQUIRE(!ingest_buffer("site.log", log, o, &d, &rep));
  // Routes: one per page shape; the orders' 12 raw URLs became one route.
  CHECK(rep.normalized);
  std::set<std::string> names(d.actions.begin(), d.actions.end());
  for (const char* r : {"/account/orders/:id", "/u/:id/settings", "/reset-password", "/files/:id/download",
                        "/c/coffee", "/search", "/secret-offer-for-few"})
    CHECK_MESSAGE(names.count(r), r);
  bool orders = false;
  for (const auto& [route, raws] : rep.top_routes) orders |= route == "/account/orders/:id" && raws == 12;
  CHECK(orders);
  CHECK(rep.to_text().find("routes that the most logged names became") != std::string::npos);
  CHECK(rep.withheld_actions == 0);  // min_users 1: as before

  o.min_users = 5;
  REQUIRE(!ingest_buffer("site.log", log, o, &d, &rep));
  names = std::set<std::string>(d.actions.begin(), d.actions.end());
  CHECK(names.count("/secret-offer-for-few") == 0);  // 3 users
  CHECK(names.count("/account/orders/:id") == 1);    // 12 users, one route
  CHECK(rep.withheld_actions == 1);
  CHECK(rep.withheld_action_events == 3);
  CHECK(rep.to_text().find("withheld: actions of < 5 users") != std::string::npos);
  CHECK(d.min_users == 5);

  // One user doing a page many times is still one user.
  std::string many;
  for (int k = 0; k < 20; ++k) many += "alice,/only-alice," + std::to_string(k) + "\n";
  for (int u = 0; u < 5; ++u)
    for (int k = 0; k < 2; ++k) many += "u" + std::to_string(u) + ",/shared," + std::to_string(k) + "\n";
  o.format = Format::AUTO;
  REQUIRE(!ingest_buffer("x.csv", "user,action,time\n" + many, o, &d, &rep));
  CHECK(d.actions == std::vector<std::string>{"<unk>", "/shared"});
  CHECK(rep.withheld_actions == 1);
  CHECK(rep.withheld_action_events == 20);

  // Attribute values are names in the file too: a category of fewer users is withheld.
  std::string attrs = "user,action,category,time\n";
  for (int u = 0; u < 6; ++u) attrs += "u" + std::to_string(u) + ",/p/kettle,kitchen,1\nu" + std::to_string(u) + ",/cart,,2\n";
  for (int k = 0; k < 3; ++k) attrs += "alice,/p/custom-order,alice-private," + std::to_string(k) + "\n";
  o.attr_columns = {"category"};
  REQUIRE(!ingest_buffer("a.csv", attrs, o, &d, &rep));
  CHECK(std::count(d.attr_values.begin(), d.attr_values.end(), "kitchen") == 1);
  CHECK(std::count(d.attr_values.begin(), d.attr_values.end(), "alice-private") == 0);
  o.min_users = 1;
  REQUIRE(!ingest_buffer("a.csv", attrs, o, &d, &rep));
  CHECK(std::count(d.attr_values.begin(), d.attr_values.end(), "alice-private") == 1);
  // A value one user wrote on a popular action (its first record, so the action's value): the
  // action's many users do not make the string anyone's but that user's. Withheld; a value
  // five users wrote on a rare action's records is not (it also needs the action's users).
  std::string typed = "user,action,category,time\nbob,/p/kettle,bob-typed-this,0\nbob,/p/kettle,bob-typed-this,1\n";
  for (int u = 0; u < 6; ++u) typed += "u" + std::to_string(u) + ",/p/kettle,kitchen,2\n";
  for (int u = 0; u < 5; ++u) typed += "w" + std::to_string(u) + ",/p/mug,kitchen,3\n";
  o.min_users = 5;
  REQUIRE(!ingest_buffer("t.csv", typed, o, &d, &rep));
  CHECK(std::count(d.attr_values.begin(), d.attr_values.end(), "bob-typed-this") == 0);
  CHECK(std::count(d.attr_values.begin(), d.attr_values.end(), "kitchen") == 1);
  o.min_users = 1;
  REQUIRE(!ingest_buffer("t.csv", typed, o, &d, &rep));
  CHECK(std::count(d.attr_values.begin(), d.attr_values.end(), "bob-typed-this") == 1);
  o.attr_columns.clear();

  // Off: names as logged.
  o.format = Format::ACCESS_LOG;
  o.normalize = false;
  o.min_users = 1;
  REQUIRE(!ingest_buffer("site.log", log, o, &d, &rep));
  names = std::set<std::string>(d.actions.begin(), d.actions.end());
  CHECK(names.count("/account/orders/83000") == 1);
  CHECK_FALSE(rep.normalized);
}

#ifdef HUNCH_CLI_PATH
TEST_CASE("hunch train defaults: no name of fewer than 5 users, no query string or id in inspect --vocab") {
  const std::string dir = "/tmp/hunch-test-vocab-privacy-" + std::to_string(getpid());
  REQUIRE(std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "'").c_str()) == 0);
  const std::string shop = dir + "/shop.csv", site = dir + "/site.log";
  std::string out;
  REQUIRE_MESSAGE(cli("synth --users 300 --seed 3 --quiet -o '" + shop + "'", &out) == 0, out);
  {
    FILE* f = std::fopen(site.c_str(), "w");
    REQUIRE(f);
    const std::string text = access_log(60, 4);
    REQUIRE(std::fwrite(text.data(), 1, text.size(), f) == text.size());
    std::fclose(f);
  }
  const std::string fast = " --epochs 1 --embed 16 --layers 1 --float";
  REQUIRE_MESSAGE(cli("train '" + shop + "' -o '" + dir + "/shop.hunch' --protocol sessions" + fast, &out) == 0, out);
  check_targets(dir + "/shop.hunch", shop, Format::AUTO);
  REQUIRE_MESSAGE(cli("train '" + site + "' --format access-log -o '" + dir + "/site.hunch' --protocol sessions" + fast, &out) == 0, out);
  CHECK(out.find("withheld: actions of < 5 users") != std::string::npos);
  CHECK(out.find("routes that the most logged names became") != std::string::npos);
  check_targets(dir + "/site.hunch", site, Format::ACCESS_LOG);
  REQUIRE(cli("inspect --vocab '" + dir + "/site.hunch'", &out) == 0);
  CHECK(out.find("hunch.vocab.actions[") != std::string::npos);
  CHECK(out.find("/account/orders/:id") != std::string::npos);
  CHECK(out.find("secret-offer") == std::string::npos);
  CHECK(out.find("@example.com") == std::string::npos);
  CHECK(out.find("utm_source") == std::string::npos);
  REQUIRE(cli("inspect '" + dir + "/site.hunch'", &out) == 0);
  CHECK(out.find("vocabulary: names of at least 5 users; action normalisation: routes") != std::string::npos);
  CHECK(out.find("hunch.vocab.min_users") != std::string::npos);
  CHECK(out.find("hunch.normalize.version") != std::string::npos);

  // The SDK's way in: predict maps a pushed URL to its route.
  REQUIRE(cli("predict '" + dir + "/site.hunch' --events '/account/orders/999?utm=x,/p/moka-pot?a=1' --json", &out) == 0);
  CHECK(out.find("\"unknown_actions\":0") != std::string::npos);

  // The shared access log, when the data folder is beside the project.
  const std::string shared = std::string(HUNCH_SOURCE_DIR) + "/../shared/data/access-log/apache.log";
  if (FILE* f = std::fopen(shared.c_str(), "r")) {
    std::fclose(f);
    REQUIRE_MESSAGE(cli("train '" + shared + "' --format access-log -o '" + dir + "/apache.hunch' --protocol sessions" + fast, &out) == 0, out);
    check_targets(dir + "/apache.hunch", shared, Format::ACCESS_LOG);
  } else {
    MESSAGE("../shared/data/access-log/apache.log not found: the shared log's check is skipped");
  }

  // Off and 1: names as logged, as before issue 16.
  REQUIRE_MESSAGE(cli("train '" + site + "' --format access-log -o '" + dir + "/raw.hunch' --protocol sessions --no-normalize "
                      "--min-users 1 --min-count 1" + fast, &out) == 0, out);
  REQUIRE(cli("inspect --vocab '" + dir + "/raw.hunch'", &out) == 0);
  CHECK(out.find("/account/orders/83000") != std::string::npos);  // (the access-log reader drops queries itself)
  CHECK(out.find("secret-offer") != std::string::npos);
  CHECK_MESSAGE(out.find("hunch.normalize") == std::string::npos, out);

  // A rules file and kept parameters travel in the model.
  {
    FILE* f = std::fopen((dir + "/rules.txt").c_str(), "w");
    REQUIRE(f);
    std::fputs("# site routes\n/p/* -> /p/:product\n", f);
    std::fclose(f);
  }
  REQUIRE_MESSAGE(cli("train '" + site + "' --format access-log -o '" + dir + "/rules.hunch' --protocol sessions "
                      "--normalize '" + dir + "/rules.txt' --keep-query sort" + fast, &out) == 0, out);
  REQUIRE(cli("inspect --vocab '" + dir + "/rules.hunch'", &out) == 0);
  CHECK(out.find("hunch.normalize.rules[0]\t/p/* -> /p/:product") != std::string::npos);
  CHECK(out.find("hunch.normalize.keep_query[0]\tsort") != std::string::npos);
  CHECK(out.find("/c/coffee?sort=price") != std::string::npos);
  CHECK(out.find("/p/:product") != std::string::npos);
  CHECK(out.find("/p/moka-pot") == std::string::npos);

  // Errors name the flag, the file and the line.
  {
    FILE* f = std::fopen((dir + "/bad.txt").c_str(), "w");
    REQUIRE(f);
    std::fputs("/a -> /b\n/c/** -> /d/*\n", f);
    std::fclose(f);
  }
  CHECK(cli("train '" + site + "' -o '" + dir + "/x.hunch' --normalize '" + dir + "/bad.txt'", &out) == 2);
  CHECK(out.find("--normalize: " + dir + "/bad.txt:2: a replacement segment holds no '*'") != std::string::npos);
  CHECK(cli("train '" + site + "' -o '" + dir + "/x.hunch' --normalize '" + dir + "/none.txt'", &out) == 2);
  CHECK(out.find("none.txt: cannot open") != std::string::npos);
  CHECK(cli("train '" + site + "' -o '" + dir + "/x.hunch' --no-normalize --keep-query a", &out) == 2);
  CHECK(cli("train '" + site + "' -o '" + dir + "/x.hunch' --min-users 0", &out) == 2);
  CHECK(std::system(("rm -rf '" + dir + "'").c_str()) == 0);
}
TEST_CASE("hunch predict --events: a backslash escapes ',', '@' and '[' in a name (URLs with e-mails and lists)") {
  const std::string dir = "/tmp/hunch-test-vocab-escape-" + std::to_string(getpid());
  REQUIRE(std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "'").c_str()) == 0);
  std::string csv = "user,time,action\n";
  for (int u = 0; u < 8; ++u)
    for (const char* a : {"/", "/s?x=a,b", "/c/coffee", "/cart"})
      csv += "u" + std::to_string(u) + "," + std::to_string(1700000000 + u * 7200 + (a[1] == 's' ? 30 : a[1] == 'c' ? (a[2] == 'a' ? 90 : 60) : 0)) +
             ",\"" + a + "\"\n";
  {
    FILE* f = std::fopen((dir + "/log.csv").c_str(), "w");
    REQUIRE(f);
    REQUIRE(std::fwrite(csv.data(), 1, csv.size(), f) == csv.size());
    std::fclose(f);
  }
  std::string out;
  REQUIRE_MESSAGE(cli("train '" + dir + "/log.csv' -o '" + dir + "/m.hunch' --keep-query x --epochs 1 --embed 16 --layers 1 --float", &out) == 0, out);
  // "/s?x=a\,b" is one event, the route the log's "/s?x=a,b" trained; "\@" an '@' in a name.
  REQUIRE_MESSAGE(cli("predict '" + dir + "/m.hunch' --events '/,/s?x=a\\,b@1700000030,/u/bob\\@example.com' --json", &out) == 0, out);
  CHECK(out.find("\"events\":3,\"unknown_actions\":1,") != std::string::npos);  // only /u/:id is unknown
  // Unescaped, the comma splits the event and the '@' is read as the time.
  CHECK(cli("predict '" + dir + "/m.hunch' --events '/u/bob@example.com' --json", &out) != 0);
  CHECK(out.find("write '\\@' for an '@' in a name") != std::string::npos);
  REQUIRE(std::system(("rm -rf '" + dir + "'").c_str()) == 0);
}

#endif  // HUNCH_CLI_PATH
