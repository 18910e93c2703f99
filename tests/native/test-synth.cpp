// The bundled shop data (native/synth): determinism, the shape of the log, agreement with the
// demo's site map, that ingestion reads it without a skipped row, and that it carries the
// structure a sequence model needs and a first-order Markov chain cannot see.
#include <doctest/doctest.h>

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
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

// Per event (in log order), its session as ingestion finds it: a user's events split where a
// gap exceeds 1800 s, numbered from 0 per user.
std::vector<int> gap_sessions(const std::vector<SynthEvent>& events) {
  std::map<uint32_t, std::pair<int64_t, int>> last;  // user → (time, session) of their latest event
  std::vector<int> out;
  for (const auto& e : events) {
    auto it = last.find(e.user);
    int s = it == last.end() ? 0 : it->second.second + (e.time - it->second.first > 1800 ? 1 : 0);
    last[e.user] = {e.time, s};
    out.push_back(s);
  }
  return out;
}
std::vector<int> generator_sessions(const std::vector<SynthEvent>& events) {
  std::vector<int> out;
  for (const auto& e : events) out.push_back(e.session);
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

  // Time order, strictly increasing per user; gaps of seconds within a session (never over the
  // 30 minutes that split sessions in ingestion) and of hours between sessions.
  for (size_t i = 1; i < events.size(); ++i) CHECK_MESSAGE(events[i - 1].time <= events[i].time, i);
  std::vector<double> within;
  for (const auto& [u, es] : by_user(events)) {
    for (size_t i = 1; i < es.size(); ++i) {
      int64_t g = es[i].time - es[i - 1].time;
      REQUIRE(g >= 1);
      if (es[i].session == es[i - 1].session) {
        CHECK(g <= 1800);
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
  // Sessions split by the default 30-minute gap are the generator's sessions: as many, and
  // event by event the same.
  std::set<std::pair<uint32_t, int>> sessions;
  for (const auto& e : events) sessions.insert({e.user, e.session});
  CHECK(ds.sequences() == sessions.size());
  CHECK(gap_sessions(events) == generator_sessions(events));
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

// ---- The oracle: the generator's own exit and conversion probabilities -------------------------

namespace {

// The labels `hunch eval` scores, per event in log order, from the log alone: exit = the last
// event of its session (sessions split at gaps over 1800 s); conversion = a purchase event later
// in the same session. `session` keys each event's session, for the standard errors below.
struct Labels {
  std::vector<int>      exit, conversion;
  std::vector<uint64_t> session;
};

Labels labels_of(const std::vector<SynthEvent>& events) {
  const std::vector<int> sessions = gap_sessions(events);
  Labels l;
  const size_t n = events.size();
  l.exit.assign(n, 0);
  l.conversion.assign(n, 0);
  l.session.resize(n);
  std::map<uint64_t, size_t> last;
  for (size_t i = 0; i < n; ++i) {
    l.session[i] = (uint64_t(events[i].user) << 16) | uint64_t(sessions[i]);
    last[l.session[i]] = i;
  }
  for (const auto& [key, i] : last) l.exit[i] = 1;
  std::map<uint64_t, bool> purchase_after;
  for (size_t i = n; i-- > 0;) {
    bool& after = purchase_after[l.session[i]];
    l.conversion[i] = after;
    if (events[i].type == PURCHASE) after = true;
  }
  return l;
}

// Observed minus predicted over the events `take` selects, with its standard error: the events
// of one session are dependent, sessions are independent, so the error is the root of the sum of
// the squared per-session sums. |z| stays under 5 for a right oracle whatever the seed.
struct Residual {
  double n = 0, rate = 0, mean_p = 0, z = 0, se_rate = 0;
};

template <class Take>
Residual residual(const std::vector<double>& p, const std::vector<int>& y,
                  const std::vector<uint64_t>& session, Take take) {
  std::map<uint64_t, double> per_session;
  Residual r;
  double sum_y = 0, sum_p = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (!take(i)) continue;
    r.n += 1;
    sum_y += y[i];
    sum_p += p[i];
    per_session[session[i]] += double(y[i]) - p[i];
  }
  double var = 0;
  for (const auto& [k, v] : per_session) var += v * v;
  r.rate = sum_y / r.n;
  r.mean_p = sum_p / r.n;
  r.se_rate = std::sqrt(var) / r.n;
  r.z = var > 0 ? (sum_y - sum_p) / std::sqrt(var) : 0.0;
  return r;
}

// Area under the ROC curve (ties count half).
double auc(const std::vector<double>& p, const std::vector<int>& y) {
  std::vector<size_t> order(p.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  double rank_sum = 0, pos = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && p[order[j]] == p[order[i]]) ++j;
    const double rank = double(i + 1 + j) / 2.0;
    for (size_t k = i; k < j; ++k)
      if (y[order[k]]) rank_sum += rank, pos += 1;
    i = j;
  }
  const double neg = double(p.size()) - pos;
  return (rank_sum - pos * (pos + 1) / 2.0) / (pos * neg);
}

// What a model sees at each event, as one key: page kind and event type, a pause (300 s or
// more) before it, something in the cart (an add to cart since the user's last purchase, any
// session), the position in the session (bucketed), an earlier session, an earlier purchase, a
// product viewed before, how many products the user has viewed (0, 1, 2+).
std::vector<uint64_t> observable_keys(const SiteMap& site, const std::vector<SynthEvent>& events) {
  struct Seen {
    int64_t       time = 0;
    int           pos = -1;
    bool          cart = false, bought = false, bought_now = false, returning = false;
    std::set<int> viewed;
  };
  std::map<uint32_t, Seen> users;
  std::vector<uint64_t> keys;
  for (const auto& e : events) {
    Seen& u = users[e.user];
    const bool first = u.pos < 0 || e.time - u.time > 1800;
    if (first && u.pos >= 0) {
      u.returning = true;
      u.bought = u.bought || u.bought_now;
    }
    const bool pause = !first && e.time - u.time >= 300;
    u.pos = first ? 0 : u.pos + 1;
    u.time = e.time;
    const Page& page = site.pages[e.page];
    bool revisit = false;
    if (page.kind == PageKind::PRODUCT && e.type == VIEW) revisit = !u.viewed.insert(e.page).second;
    if (e.type == ADD_TO_CART) u.cart = true;
    if (e.type == PURCHASE) u.cart = false, u.bought_now = true;
    const int pos = u.pos == 0    ? 0
                    : u.pos <= 12 ? 1
                    : u.pos <= 20 ? 2
                    : u.pos <= 30 ? 3
                    : u.pos <= 45 ? 4
                                  : 5;
    uint64_t key = uint64_t(page.kind);
    for (uint64_t part : {uint64_t(e.type), uint64_t(pause), uint64_t(u.cart), uint64_t(u.returning),
                          uint64_t(u.bought), uint64_t(revisit)})
      key = key * 4 + part;
    key = key * 8 + uint64_t(pos);
    key = key * 4 + std::min<uint64_t>(2, u.viewed.size());
    keys.push_back(key);
  }
  return keys;
}

// The log of the oracle tests (20,000 users), made once.
const std::vector<SynthEvent>& oracle_log(SynthStats* stats = nullptr) {
  static SynthStats s;
  static const std::vector<SynthEvent> events = make(20000, 21, &s);
  if (stats) *stats = s;
  return events;
}

}  // namespace

TEST_CASE("synth: the oracle's probabilities are what happens, overall and bin by bin") {
  SynthStats stats;
  const auto& events = oracle_log(&stats);
  const Labels l = labels_of(events);
  std::vector<double> p_exit, p_conv;
  for (const auto& e : events) {
    REQUIRE(e.p_exit >= 0.0);
    REQUIRE(e.p_exit <= 1.0);
    REQUIRE(e.p_conversion >= 0.0);
    REQUIRE(e.p_conversion <= 1.0);
    if (e.type == PURCHASE) CHECK(e.p_exit == 0.0);  // the confirmation page always follows
    p_exit.push_back(e.p_exit);
    p_conv.push_back(e.p_conversion);
  }
  // The generator's sessions are the ones the labels (and ingestion) find.
  CHECK(gap_sessions(events) == generator_sessions(events));
  // The stats line's figures are these.
  uint64_t ends = 0, converting = 0;
  double sum_exit = 0, sum_conv = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    ends += l.exit[i];
    converting += l.conversion[i];
    sum_exit += p_exit[i];
    sum_conv += p_conv[i];
  }
  CHECK(ends == stats.sessions);
  CHECK(converting == stats.converting_events);
  CHECK(std::fabs(sum_exit - stats.sum_p_exit) < 1e-6 * sum_exit);
  CHECK(std::fabs(sum_conv - stats.sum_p_conversion) < 1e-6 * sum_conv);

  // Mean probability against the observed rate, over every event.
  auto all = [](size_t) { return true; };
  const Residual ex = residual(p_exit, l.exit, l.session, all);
  const Residual cv = residual(p_conv, l.conversion, l.session, all);
  MESSAGE("exit: rate " << ex.rate << ", mean p_exit " << ex.mean_p << " (z " << ex.z << ", se " << ex.se_rate
                        << ")");
  MESSAGE("conversion: rate " << cv.rate << ", mean p_conversion " << cv.mean_p << " (z " << cv.z << ", se "
                              << cv.se_rate << ")");
  CHECK(std::fabs(ex.z) < 5);
  CHECK(std::fabs(cv.z) < 5);
  CHECK(std::fabs(ex.rate - ex.mean_p) < 0.003);  // over 5 standard errors at this size
  CHECK(std::fabs(cv.rate - cv.mean_p) < 0.012);
  // Plausible class rates: a session of some 14 events, a purchase in one session out of 5 to 12.
  CHECK(ex.rate > 0.05);
  CHECK(ex.rate < 0.10);
  CHECK(cv.rate > 0.08);
  CHECK(cv.rate < 0.25);

  // Calibration: ten bins of the probability; in each, the observed rate is the mean probability.
  for (int which = 0; which < 2; ++which) {
    const std::vector<double>& p = which == 0 ? p_exit : p_conv;
    const std::vector<int>&    y = which == 0 ? l.exit : l.conversion;
    int checked = 0;
    for (int b = 0; b < 10; ++b) {
      auto in_bin = [&](size_t i) { return std::min(9, int(p[i] * 10.0)) == b; };
      const Residual r = residual(p, y, l.session, in_bin);
      if (r.n < 100) continue;
      ++checked;
      CAPTURE(which);
      CAPTURE(b);
      MESSAGE(std::string(which == 0 ? "p_exit" : "p_conversion")
              << " bin " << b << ": n " << r.n << ", mean p " << r.mean_p
                                                       << ", rate " << r.rate << " (z " << r.z << ")");
      CHECK(std::fabs(r.z) < 5);
    }
    CHECK(checked >= 6);  // the probabilities spread over the range, not one lump
  }
}

TEST_CASE("synth: exits and purchases follow what the log shows, so a model can come close to the oracle") {
  SiteMap site = build_site_map();
  const auto& train = oracle_log();
  const Labels lt = labels_of(train);
  const std::vector<uint64_t> kt = observable_keys(site, train);

  // Things a model can see move the odds, as in a real shop: a pause before an event, the page
  // (payment against a product page), an earlier visit and an earlier purchase.
  double pause_exit[2] = {0, 0}, pause_n[2] = {0, 0};
  double conv_payment = 0, n_payment = 0, conv_product = 0, n_product = 0;
  // Sessions, and those with a purchase: first visits, later visits, visits after a purchase.
  double sessions_by_state[3] = {0, 0, 0}, converting_by_state[3] = {0, 0, 0};
  {
    struct User {
      int64_t time = 0;
      int     sessions = 0;
      bool    bought = false, bought_now = false;
    };
    std::map<uint32_t, User> users;
    std::map<uint64_t, int> state;  // session → 0, 1, 2 as above
    std::map<uint64_t, bool> converts;
    for (size_t i = 0; i < train.size(); ++i) {
      const SynthEvent& e = train[i];
      User& u = users[e.user];
      const bool first = !state.count(lt.session[i]);
      if (first) {
        u.bought = u.bought || u.bought_now;
        u.bought_now = false;
        state[lt.session[i]] = u.bought ? 2 : u.sessions > 0 ? 1 : 0;
        u.sessions++;
      }
      const PageKind k = site.pages[e.page].kind;
      if (!first && e.type == VIEW && (k == PageKind::PRODUCT || k == PageKind::CATEGORY)) {
        const int pause = e.time - u.time >= 300;
        pause_exit[pause] += lt.exit[i];
        pause_n[pause] += 1;
      }
      if (e.type == VIEW && k == PageKind::PAYMENT) conv_payment += lt.conversion[i], n_payment += 1;
      if (e.type == VIEW && k == PageKind::PRODUCT) conv_product += lt.conversion[i], n_product += 1;
      if (e.type == PURCHASE) u.bought_now = true;
      converts[lt.session[i]] = converts[lt.session[i]] || e.type == PURCHASE;
      u.time = e.time;
    }
    for (const auto& [s, c] : converts) {
      sessions_by_state[state[s]] += 1;
      converting_by_state[state[s]] += c;
    }
  }
  const double exit_plain = pause_exit[0] / pause_n[0], exit_pause = pause_exit[1] / pause_n[1];
  double convert[3];
  for (int s = 0; s < 3; ++s) convert[s] = converting_by_state[s] / sessions_by_state[s];
  MESSAGE("exit after a product or category view: " << exit_plain << ", after one that came after a pause: "
                                                    << exit_pause << " (n " << pause_n[1] << ")");
  MESSAGE("conversion after a payment page view: " << conv_payment / n_payment << ", after a product view: "
                                                  << conv_product / n_product);
  MESSAGE("sessions that convert: first visits " << convert[0] << ", later visits " << convert[1]
                                                 << ", visits after a purchase " << convert[2]);
  CHECK(pause_n[1] > 2000);
  CHECK(exit_pause > 1.6 * exit_plain);
  CHECK(conv_payment / n_payment > 3 * conv_product / n_product);
  CHECK(convert[1] > 1.2 * convert[0]);
  CHECK(convert[2] > 1.2 * convert[1]);

  // A lookup table on those observable features alone, fitted on one log and scored on another,
  // comes within 0.025 AUC of the oracle on both: the oracle leans on what a sequence model can
  // see, not on the hidden kind of user (which moves the odds only mildly).
  std::map<uint64_t, std::array<double, 3>> table;  // events, exits, conversion events
  double base_exit = 0, base_conv = 0;
  for (size_t i = 0; i < train.size(); ++i) {
    auto& cell = table[kt[i]];
    cell[0] += 1;
    cell[1] += lt.exit[i];
    cell[2] += lt.conversion[i];
    base_exit += lt.exit[i];
    base_conv += lt.conversion[i];
  }
  base_exit /= double(train.size());
  base_conv /= double(train.size());
  const auto test = make(8000, 22);
  const Labels l = labels_of(test);
  const std::vector<uint64_t> k = observable_keys(site, test);
  std::vector<double> table_exit, table_conv, oracle_exit, oracle_conv;
  for (size_t i = 0; i < test.size(); ++i) {
    auto it = table.find(k[i]);
    const double n = it == table.end() ? 0.0 : it->second[0];
    const double exits = n > 0 ? it->second[1] : 0.0, converting = n > 0 ? it->second[2] : 0.0;
    table_exit.push_back((exits + 5 * base_exit) / (n + 5));  // shrunk to the base rate in small cells
    table_conv.push_back((converting + 5 * base_conv) / (n + 5));
    oracle_exit.push_back(test[i].p_exit);
    oracle_conv.push_back(test[i].p_conversion);
  }
  const double oe = auc(oracle_exit, l.exit), te = auc(table_exit, l.exit);
  const double oc = auc(oracle_conv, l.conversion), tc = auc(table_conv, l.conversion);
  MESSAGE("AUC, oracle / observable lookup table: exit " << oe << " / " << te);
  MESSAGE("AUC, oracle / observable lookup table: conversion " << oc << " / " << tc);
  CHECK(oe > 0.65);
  CHECK(oe < 0.85);
  CHECK(oc > 0.70);
  CHECK(oc < 0.90);
  CHECK(te > oe - 0.025);
  CHECK(tc > oc - 0.025);
  CHECK(oe > te - 0.01);  // and the oracle is not beaten
  CHECK(oc > tc - 0.01);
}

#ifdef HUNCH_CLI_PATH
namespace {

// Runs `hunch synth ARGS`; returns the exit code and appends stdout and stderr to *out.
int synth_cli(const std::string& args, std::string* out) {
  return hunch_test::run_command("timeout -k 5 60 '" HUNCH_CLI_PATH "' synth " + args + " 2>&1", out);
}

std::string read_gz(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  REQUIRE(f);
  std::string text;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) text.append(buf, size_t(n));
  gzclose(f);
  return text;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("synth: --truth writes the oracle beside the log, row for row") {
  const std::string dir = "/tmp/hunch-test-synth-" + std::to_string(getpid());
  mkdir(dir.c_str(), 0700);
  std::string out;
  REQUIRE(synth_cli("--users 300 --seed 5 -o '" + dir + "/shop.csv' --truth '" + dir + "/truth.csv.gz'", &out) ==
          0);
  CAPTURE(out);
  CHECK(out.find("oracle mean") != std::string::npos);

  SiteMap site = build_site_map();
  SynthOptions o;
  o.users = 300;
  o.seed = 5;
  const auto events = generate(site, o);
  const auto log_bytes = hunch_test::read_file(dir + "/shop.csv");
  const std::string log(log_bytes.begin(), log_bytes.end()), truth = read_gz(dir + "/truth.csv.gz");
  CHECK(log == to_csv(site, o, events));
  CHECK(truth == truth_csv(events));  // the CLI and the library agree

  // One line per data row of the log, numbered from 0, probabilities in [0, 1].
  const std::vector<std::string> rows = lines_of(log), t = lines_of(truth);
  REQUIRE(t.size() == rows.size());
  REQUIRE(t.size() == events.size() + 1);
  CHECK(t[0] == "row,p_exit,p_conversion");
  for (size_t i = 1; i < t.size(); ++i) {
    unsigned long row = 0;
    double p_exit = -1, p_conversion = -1;
    char tail = 0;
    const int fields = std::sscanf(t[i].c_str(), "%lu,%lf,%lf%c", &row, &p_exit, &p_conversion, &tail);
    REQUIRE_MESSAGE(fields == 3, t[i]);
    CHECK(row == i - 1);
    CHECK(p_exit >= 0.0);
    CHECK(p_exit <= 1.0);
    CHECK(p_conversion >= 0.0);
    CHECK(p_conversion <= 1.0);
    CHECK(std::fabs(p_exit - events[i - 1].p_exit) <= 1e-5 * std::max(1e-3, events[i - 1].p_exit));
  }

  // Beside a log written to standard output too, and uncompressed.
  out.clear();
  REQUIRE(synth_cli("--users 40 --seed 5 --quiet --truth '" + dir + "/t.csv' > '" + dir + "/e.csv'", &out) ==
          0);
  const auto e_bytes = hunch_test::read_file(dir + "/e.csv"), t_bytes = hunch_test::read_file(dir + "/t.csv");
  CHECK(lines_of(std::string(e_bytes.begin(), e_bytes.end())).size() ==
        lines_of(std::string(t_bytes.begin(), t_bytes.end())).size());

  // Written atomically: no temporary file left behind; an unwritable path is an error.
  std::set<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) names.insert(e->d_name);
    closedir(d);
  }
  CHECK(names == std::set<std::string>{".", "..", "shop.csv", "truth.csv.gz", "e.csv", "t.csv"});
  out.clear();
  CHECK(synth_cli("--users 10 --quiet -o '" + dir + "/x.csv' --truth /nonexistent-dir/t.csv", &out) == 1);
  CHECK(out.find("cannot write") != std::string::npos);
  CHECK(std::system(("rm -rf '" + dir + "'").c_str()) == 0);
}
#endif
