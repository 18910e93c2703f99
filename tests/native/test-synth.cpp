// The bundled shop data (native/synth): determinism, the shape of the log, agreement with the
// demo's site map, that ingestion reads it without a skipped row, and that it carries the
// structure a sequence model needs and a first-order Markov chain cannot see.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "synth/site-map.h"
#include "synth/synth.h"
#include "test-util.h"
#include "train/ingest.h"

using namespace hunch::synth;

namespace {

std::vector<SynthEvent> make(uint32_t users, uint64_t seed, SynthStats* stats = nullptr) {
  SiteMap site = build_site_map();
  SynthOptions o;
  o.users = users;
  o.seed = seed;
  return generate(site, o, stats);
}

// Per user, their events in time order (the log is globally time-ordered).
std::map<uint32_t, std::vector<SynthEvent>> by_user(const std::vector<SynthEvent>& events) {
  std::map<uint32_t, std::vector<SynthEvent>> out;
  for (const auto& e : events) out[e.user].push_back(e);
  return out;
}

}  // namespace

TEST_CASE("synth: the same seed gives the same bytes, another seed another log") {
  SiteMap site = build_site_map();
  SynthOptions o;
  o.users = 400;
  o.seed = 7;
  std::string a = to_csv(site, o, generate(site, o));
  std::string b = to_csv(site, o, generate(site, o));
  CHECK(a == b);
  o.seed = 8;
  std::string c = to_csv(site, o, generate(site, o));
  CHECK(a != c);
  CHECK(a.rfind("user,time,action,type\n", 0) == 0);
}

TEST_CASE("synth: the gzip file holds the same CSV and is itself deterministic") {
  SiteMap site = build_site_map();
  SynthOptions o;
  o.users = 200;
  auto events = generate(site, o);
  std::string p1 = hunch_test::source_path("build/test-synth-a.csv.gz");
  std::string p2 = hunch_test::source_path("build/test-synth-b.csv.gz");
  REQUIRE(write_csv(p1, site, o, events).ok());
  REQUIRE(write_csv(p2, site, o, events).ok());
  auto g1 = hunch_test::read_file(p1), g2 = hunch_test::read_file(p2);
  CHECK(g1 == g2);
  REQUIRE(g1.size() > 18);
  CHECK(g1[0] == 0x1f);
  CHECK(g1[1] == 0x8b);

  hunch::train::Dataset ds;
  hunch::train::IngestReport report;
  hunch::train::IngestOptions io;
  io.min_length = 1;
  io.min_count = 1;
  REQUIRE(hunch::train::ingest_file(p1, io, &ds, &report).ok());
  CHECK(report.rows == events.size());
  std::remove(p1.c_str());
  std::remove(p2.c_str());
  CHECK(write_csv("/nonexistent-dir/x.csv", site, o, events).message.find("cannot write") != std::string::npos);
}

TEST_CASE("synth: event counts, types and users add up, in plausible proportions") {
  SynthStats s;
  auto events = make(3000, 1, &s);
  CHECK(s.events == events.size());
  uint64_t counted[4] = {0, 0, 0, 0};
  std::set<uint32_t> users;
  for (const auto& e : events) {
    REQUIRE(e.type < 4);
    counted[e.type]++;
    users.insert(e.user);
  }
  for (int t = 0; t < 4; ++t) CHECK(counted[t] == s.by_type[t]);
  CHECK(users.size() == 3000);
  CHECK(s.by_user_kind[0] + s.by_user_kind[1] + s.by_user_kind[2] + s.by_user_kind[3] == 3000);
  for (int k = 0; k < 4; ++k) CHECK(s.by_user_kind[k] > 300);  // every kind of user is there
  // A shop's funnel: many views, fewer clicks, fewer adds, fewer purchases (but some).
  CHECK(s.by_type[VIEW] > 4 * s.by_type[CLICK]);
  CHECK(s.by_type[CLICK] > s.by_type[ADD_TO_CART]);
  CHECK(s.by_type[ADD_TO_CART] > s.by_type[PURCHASE]);
  CHECK(s.by_type[PURCHASE] > 50);
  double per_user = double(events.size()) / 3000.0;
  CHECK(per_user > 8);
  CHECK(per_user < 40);
  CHECK(s.sessions > 3000);

  // Time order, strictly increasing per user; gaps of seconds within a session and of hours
  // between sessions.
  for (size_t i = 1; i < events.size(); ++i) CHECK_MESSAGE(events[i - 1].time <= events[i].time, i);
  std::vector<double> within;
  for (const auto& [u, es] : by_user(events)) {
    for (size_t i = 1; i < es.size(); ++i) {
      int64_t g = es[i].time - es[i - 1].time;
      REQUIRE(g >= 1);
      if (es[i].session == es[i - 1].session) {
        CHECK(g <= 3600);
        within.push_back(double(g));
      } else {
        CHECK(g >= 7200);
      }
    }
  }
  std::sort(within.begin(), within.end());
  double median = within[within.size() / 2];
  CHECK(median >= 5);
  CHECK(median <= 60);
}

TEST_CASE("synth: every action and type is in the site map the demo renders") {
  SiteMap site = build_site_map();
  CHECK(site.pages.size() >= 50);
  CHECK(site.pages.size() <= 200);
  std::set<std::string> paths;
  for (const auto& p : site.pages) CHECK(paths.insert(p.path).second);  // unique

  SynthOptions o;
  o.users = 500;
  std::string csv = to_csv(site, o, generate(site, o));
  size_t pos = csv.find('\n') + 1, rows = 0;
  std::set<std::string> seen_kinds;
  while (pos < csv.size()) {
    size_t end = csv.find('\n', pos);
    std::string line = csv.substr(pos, end - pos);
    pos = end + 1;
    size_t c1 = line.find(','), c2 = line.find(',', c1 + 1), c3 = line.find(',', c2 + 1);
    REQUIRE(c3 != std::string::npos);
    std::string action = line.substr(c2 + 1, c3 - c2 - 1), type = line.substr(c3 + 1);
    int page = site.find(action);
    REQUIRE_MESSAGE(page >= 0, action);
    CHECK(std::find(site.event_types.begin(), site.event_types.end(), type) != site.event_types.end());
    if (type == "add_to_cart") CHECK(site.pages[page].kind == PageKind::PRODUCT);
    if (type == "purchase") CHECK(page == site.payment);
    seen_kinds.insert(page_kind_name(site.pages[page].kind));
    ++rows;
  }
  CHECK(rows > 1000);
  CHECK(seen_kinds.size() == 12);  // every kind of page is visited

  // The committed demo/site-map.json is exactly what the generator writes (`hunch synth
  // --site-map demo/site-map.json` regenerates it).
  auto committed = hunch_test::read_file(hunch_test::source_path("demo/site-map.json"));
  CHECK(std::string(committed.begin(), committed.end()) == site_map_json(site));
}

TEST_CASE("synth: ingestion reads the log without skipping a row") {
  SiteMap site = build_site_map();
  SynthOptions o;
  o.users = 800;
  auto events = generate(site, o);
  std::string csv = to_csv(site, o, events);
  hunch::train::Dataset ds;
  hunch::train::IngestReport r;
  hunch::train::IngestOptions io;
  io.min_length = 1;
  REQUIRE(hunch::train::ingest_buffer("synth.csv", csv, io, &ds, &r).ok());
  CHECK(r.rows == events.size());
  CHECK(r.kept_events == events.size());
  CHECK(r.malformed + r.missing_field + r.bad_time + r.bad_utf8 + r.too_long + r.duplicates == 0);
  CHECK(r.users == 800);
  CHECK(r.type_count == 5);  // <none> + four types
  // Sessions split by the default 30-minute gap are the generator's sessions.
  std::set<std::pair<uint32_t, int>> sessions;
  for (const auto& e : events) sessions.insert({e.user, e.session});
  CHECK(ds.sequences() == sessions.size());
}

TEST_CASE("synth: intent persists within a session, across pages that do not reveal it") {
  SiteMap site = build_site_map();
  auto events = make(3000, 3);
  // A product view reached through a hub page (home, search, deals, cart, help): the previous
  // page says nothing about the category, the session's earlier product views do.
  uint64_t same = 0, total = 0;
  std::vector<double> share(site.categories.size(), 0.0);
  double products = 0;
  for (const auto& [u, es] : by_user(events)) {
    int last_cat = -1;
    for (size_t i = 0; i < es.size(); ++i) {
      if (i > 0 && es[i].session != es[i - 1].session) last_cat = -1;
      const Page& p = site.pages[es[i].page];
      if (p.kind != PageKind::PRODUCT || es[i].type != VIEW) continue;
      share[p.category] += 1;
      products += 1;
      if (i > 0 && last_cat >= 0) {
        PageKind prev = site.pages[es[i - 1].page].kind;
        if (prev == PageKind::HOME || prev == PageKind::SEARCH || prev == PageKind::DEALS ||
            prev == PageKind::CART || prev == PageKind::HELP) {
          ++total;
          same += p.category == last_cat;
        }
      }
      last_cat = p.category;
    }
  }
  double chance = 0;
  for (double s : share) chance += (s / products) * (s / products);
  double rate = double(same) / double(total);
  MESSAGE("same category after a hub page: " << rate << " (chance " << chance << ", n=" << total << ")");
  CHECK(total > 500);
  CHECK(rate > 3 * chance);
}

TEST_CASE("synth: users come back to products they viewed, in the session and in later ones") {
  SiteMap site = build_site_map();
  auto events = make(3000, 4);
  uint64_t later_views = 0, later_returns = 0, adds = 0, adds_on_revisit = 0, views = 0, revisit_views = 0;
  for (const auto& [u, es] : by_user(events)) {
    std::map<int, int> first_session;  // product → session of first view
    std::map<int, int> view_count;
    for (const auto& e : es) {
      if (site.pages[e.page].kind != PageKind::PRODUCT) continue;
      if (e.type == VIEW) {
        ++views;
        if (view_count[e.page]++ > 0) ++revisit_views;
        auto it = first_session.find(e.page);
        if (e.session > 0) {
          ++later_views;
          if (it != first_session.end() && it->second < e.session) ++later_returns;
        }
        if (it == first_session.end()) first_session[e.page] = e.session;
      } else if (e.type == ADD_TO_CART) {
        ++adds;
        adds_on_revisit += view_count[e.page] > 1;
      }
    }
  }
  double later_rate = double(later_returns) / double(later_views);
  double revisit_share = double(revisit_views) / double(views);
  double add_revisit = double(adds_on_revisit) / double(adds);
  MESSAGE("later-session product views of earlier-viewed products: " << later_rate
          << "; revisits among product views: " << revisit_share
          << "; adds to cart on a revisited product: " << add_revisit);
  CHECK(later_rate > 0.2);
  // A revisited product is much more likely to be added to the cart than a product on its
  // first view (the share of adds on revisits exceeds the share of revisits among views).
  CHECK(add_revisit > 1.5 * revisit_share);
}

TEST_CASE("synth: a predictor that uses the history beats a first-order Markov chain") {
  // Not the trained model (that is measured by `hunch eval` in the main job): a hand-written
  // rule that only reads the history, to show the structure is there for a model to learn.
  SiteMap site = build_site_map();
  auto train = by_user(make(4000, 5));
  auto test = by_user(make(1500, 6));
  size_t n = site.pages.size();
  std::vector<std::vector<double>> counts(n, std::vector<double>(n, 0.0));
  for (const auto& [u, es] : train)
    for (size_t i = 1; i < es.size(); ++i)
      if (es[i].session == es[i - 1].session && es[i].type == VIEW) counts[es[i - 1].page][es[i].page] += 1;

  auto rank_of = [&](const std::vector<double>& score, int target) {
    size_t r = 0;
    for (size_t a = 0; a < n; ++a) r += score[a] > score[target] || (score[a] == score[target] && int(a) < target);
    return r;
  };
  double rr_markov = 0, rr_history = 0, cases = 0;
  for (const auto& [u, es] : test) {
    std::vector<int> seen_products;
    int last_cat = -1;
    for (size_t i = 1; i < es.size(); ++i) {
      const SynthEvent& prev = es[i - 1];
      if (es[i].session != prev.session) last_cat = -1;
      if (site.pages[prev.page].kind == PageKind::PRODUCT && prev.type == VIEW) {
        last_cat = site.pages[prev.page].category;
        if (std::find(seen_products.begin(), seen_products.end(), int(prev.page)) == seen_products.end())
          seen_products.push_back(prev.page);
      }
      if (es[i].session != prev.session || es[i].type != VIEW) continue;
      // Next views after a hub page, where the previous page alone says least.
      PageKind k = site.pages[prev.page].kind;
      if (k != PageKind::HOME && k != PageKind::SEARCH && k != PageKind::DEALS && k != PageKind::CART) continue;
      std::vector<double> markov(n), history(n);
      double total = 1e-9;
      for (size_t a = 0; a < n; ++a) total += counts[prev.page][a];
      for (size_t a = 0; a < n; ++a) {
        markov[a] = counts[prev.page][a] / total;
        double boost = 1.0;
        if (last_cat >= 0 && site.pages[a].category == last_cat) boost *= 4.0;
        if (std::find(seen_products.begin(), seen_products.end(), int(a)) != seen_products.end()) boost *= 2.0;
        history[a] = markov[a] * boost;
      }
      cases += 1;
      rr_markov += 1.0 / double(1 + rank_of(markov, es[i].page));
      rr_history += 1.0 / double(1 + rank_of(history, es[i].page));
    }
  }
  // MRR, not HR@10: with a dozen products per category, both often have the next page somewhere
  // in their top 10; the history shows in how high they rank it.
  double mrr_markov = rr_markov / cases, mrr_history = rr_history / cases;
  MESSAGE("MRR on next page views: Markov " << mrr_markov << ", history rule " << mrr_history);
  CHECK(cases > 3000);
  CHECK(mrr_history > mrr_markov * 1.15);
}

TEST_CASE("synth: user ids are unique and opaque; times print as ISO-8601") {
  std::set<std::string> ids;
  for (uint32_t u = 0; u < 20000; ++u) CHECK(ids.insert(user_id(u, 1)).second);
  CHECK(user_id(0, 1) != user_id(0, 2));
  CHECK(user_id(5, 1).size() == 13);
  CHECK(iso8601(1714521600) == "2024-05-01T00:00:00Z");
  CHECK(iso8601(1714521600 + 86399) == "2024-05-01T23:59:59Z");
}
