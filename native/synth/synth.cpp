#include "synth/synth.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "hunch/rng.h"

namespace hunch::synth {

namespace {

// The simulator's draws, all in double precision on top of the one random stream (hunch/rng.h).
class Draws {
 public:
  explicit Draws(uint64_t seed) : r_(seed) {}
  uint64_t next() { return r_.next(); }
  double uniform() { return r_.uniform53(); }
  bool   chance(double p) { return uniform() < p; }
  size_t below(size_t n) { return static_cast<size_t>(uniform() * double(n)); }
  double normal() {
    double u1 = uniform(), u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Log-normal with the given median (seconds) and log-space spread.
  double lognormal(double median, double sigma) { return median * std::exp(sigma * normal()); }
  // Index drawn with probability proportional to weights[i].
  size_t weighted(const double* weights, size_t n) {
    double total = 0;
    for (size_t i = 0; i < n; ++i) total += weights[i];
    double r = uniform() * total;
    for (size_t i = 0; i < n; ++i) {
      if (r < weights[i]) return i;
      r -= weights[i];
    }
    return n - 1;
  }

 private:
  hunch::Rng r_;
};

uint64_t mix(uint64_t a, uint64_t b) {
  Draws r(a * 0xD1B54A32D192ED03ull ^ b);
  return r.next();
}

// Relative share of users whose main interest is each category (kCatalog order).
const double kCategoryShare[] = {1.6, 1.3, 1.0, 1.2, 0.9, 0.7, 0.8, 1.0};

struct UserState {
  UserKind         kind = UserKind::BROWSER;
  int              primary = 0, secondary = 1;  // categories
  double           price_pref = 0.5;            // 0 = the cheapest of a category, 1 = the dearest
  std::vector<int> shortlist;                   // products the user is considering, all sessions
  std::vector<int> viewed;                      // products, in first-view order, all sessions
  std::vector<int> cart;
};

// Where each product's price sits within its category: 0 = cheapest, 1 = dearest.
std::vector<double> price_quantiles(const SiteMap& site) {
  std::vector<double> q(site.pages.size(), 0.5);
  for (const auto& c : site.categories) {
    for (int a : c.products) {
      int below = 0;
      for (int b : c.products) below += site.pages[b].price_cents < site.pages[a].price_cents;
      q[a] = double(below) / double(c.products.size() - 1);
    }
  }
  return q;
}

// One session of one user: a walk over the site map whose choices depend on the session's
// purpose and on everything the user did before, not only on the current page.
class Walker {
 public:
  Walker(const SiteMap& site, const std::vector<double>& price_q, Draws& rng, UserState& user,
         std::vector<SynthEvent>* out, uint32_t user_index)
      : site_(site), price_q_(price_q), rng_(rng), u_(user), out_(out), user_(user_index) {}

  // Runs session `session` starting at `start`; returns the time of its last event.
  int64_t run(uint8_t session, int sessions, int64_t start) {
    session_ = session;
    time_ = start;
    first_ = true;
    seen_.clear();
    bool last = session + 1 == sessions;
    focus_ = rng_.chance(0.75) ? u_.primary : u_.secondary;
    switch (u_.kind) {
      case UserKind::BOUNCER: buy_ = false; break;
      case UserKind::BROWSER: buy_ = rng_.chance(0.06); break;
      case UserKind::BUYER: buy_ = last ? rng_.chance(0.85) : rng_.chance(0.3); break;
      case UserKind::RETURNER: buy_ = last ? rng_.chance(0.7) : rng_.chance(0.04); break;
    }
    int page = landing();
    view(page);
    if (u_.kind == UserKind::BOUNCER) {
      // Half leave after the landing page; the rest look at one or two more pages.
      int more = rng_.chance(0.5) ? 0 : 1 + static_cast<int>(rng_.below(2));
      for (int i = 0; i < more && page >= 0; ++i) page = step(page);
      return time_;
    }
    for (int steps = 0; steps < 80 && page >= 0; ++steps) {
      if (rng_.chance(exit_probability(page, steps))) break;
      page = step(page);
    }
    return time_;
  }

 private:
  const Page& P(int page) const { return site_.pages[page]; }

  // Seconds between the previous event and one of type `type`: mostly the dwell time on the
  // page the user was on, which depends on what that page is.
  double gap(EventType type) {
    if (first_) return 0;
    if (type == CLICK) return rng_.lognormal(6, 0.7);
    if (type == ADD_TO_CART) return rng_.lognormal(14, 0.6);
    if (type == PURCHASE) return rng_.lognormal(35, 0.5);
    double median = 12;
    switch (P(current_).kind) {
      case PageKind::HOME: median = 8; break;
      case PageKind::CATEGORY: median = 15; break;
      case PageKind::PRODUCT: median = 32; break;
      case PageKind::SEARCH: median = 11; break;
      case PageKind::CART: median = 18; break;
      case PageKind::CHECKOUT: median = 70; break;
      case PageKind::PAYMENT: median = 40; break;
      case PageKind::HELP: median = 45; break;
      default: break;
    }
    return rng_.lognormal(median, 0.8);
  }

  void emit(int page, EventType type) {
    double g = gap(type);
    // Whole seconds, at least one apart: the log has second resolution and no two events of a
    // user share a timestamp (so none looks like a duplicate).
    if (!first_) time_ += std::max<int64_t>(1, std::llround(std::min(g, 3600.0)));
    first_ = false;
    out_->push_back({user_, time_, static_cast<uint16_t>(page), type, session_});
    current_ = page;
  }

  void view(int page) {
    if (P(page).kind == PageKind::HELP && P(current_).kind != PageKind::HELP) before_help_ = current_;
    emit(page, VIEW);
    if (P(page).kind == PageKind::PRODUCT) {
      if (std::find(seen_.begin(), seen_.end(), page) == seen_.end()) seen_.push_back(page);
      if (std::find(u_.viewed.begin(), u_.viewed.end(), page) == u_.viewed.end()) u_.viewed.push_back(page);
    }
  }

  bool viewed_before(int page) const {
    return std::find(u_.viewed.begin(), u_.viewed.end(), page) != u_.viewed.end();
  }

  // A product of category c, as this user chooses: best sellers more often (weight
  // 1/(rank+2)), products in the user's price range and on their shortlist much more often (the
  // taste a history reveals and a page-to-page chain averages away), and rarely one already seen
  // this session (going back is a separate, deliberate choice).
  int pick_product(int c, double flatten = 1.0) {
    const auto& ps = site_.categories[c].products;
    double w[12];
    for (size_t r = 0; r < ps.size(); ++r) {
      double d = (price_q_[ps[r]] - u_.price_pref) / 0.22;
      w[r] = std::pow(1.0 / (double(r) + 2.0), flatten) * std::exp(-0.5 * d * d);
      if (std::find(u_.shortlist.begin(), u_.shortlist.end(), ps[r]) != u_.shortlist.end()) w[r] *= 6.0;
      if (std::find(seen_.begin(), seen_.end(), ps[r]) != seen_.end()) w[r] *= 0.1;
    }
    return ps[rng_.weighted(w, ps.size())];
  }

  // A product viewed before, the recent ones and those of the session's category first.
  int pick_viewed(const std::vector<int>& from, int exclude) {
    double w[256];
    size_t n = std::min<size_t>(from.size(), 256);
    size_t base = from.size() - n;
    for (size_t i = 0; i < n; ++i) {
      int p = from[base + i];
      w[i] = (p == exclude) ? 0.0 : (1.0 + double(i)) * (P(p).category == focus_ ? 4.0 : 1.0);
    }
    double total = 0;
    for (size_t i = 0; i < n; ++i) total += w[i];
    if (total <= 0) return -1;
    return from[base + rng_.weighted(w, n)];
  }

  int random_other_category() {
    int c = static_cast<int>(rng_.below(site_.categories.size() - 1));
    return c >= focus_ ? c + 1 : c;
  }

  int landing() {
    current_ = site_.home;
    if (u_.kind == UserKind::RETURNER && session_ > 0 && !u_.viewed.empty()) {
      double r = rng_.uniform();
      if (r < 0.55) return pick_viewed(u_.viewed, -1);
      if (r < 0.85) return site_.home;
      return site_.categories[focus_].page;
    }
    if (u_.kind == UserKind::BOUNCER) {
      const double w[] = {0.45, 0.30, 0.15, 0.10};
      switch (rng_.weighted(w, 4)) {
        case 0: return pick_product(focus_);
        case 1: return site_.home;
        case 2: return site_.categories[focus_].page;
        default: return site_.help_topics[rng_.below(site_.help_topics.size())];
      }
    }
    const double w[] = {0.45, 0.20, 0.25, 0.05, 0.05};
    switch (rng_.weighted(w, 5)) {
      case 0: return site_.home;
      case 1: return site_.categories[focus_].page;
      case 2: return pick_product(focus_);
      case 3: return site_.search;
      default: return site_.deals_page;
    }
  }

  double exit_probability(int page, int steps) const {
    double base = 0.08;
    switch (u_.kind) {
      case UserKind::BROWSER: base = 0.09; break;
      case UserKind::BUYER: base = 0.045; break;
      case UserKind::RETURNER: base = 0.07; break;
      default: break;
    }
    // Where people leave: rarely in the middle of browsing products, often once they found an
    // answer in the help pages, gave up on a cart, or finished an order.
    switch (P(page).kind) {
      case PageKind::PRODUCT:
      case PageKind::CATEGORY:
      case PageKind::SEARCH: base *= 0.6; break;
      case PageKind::HOME: base *= 0.8; break;
      case PageKind::CART: base *= buy_ ? 0.5 : 3.5; break;
      case PageKind::CHECKOUT:
      case PageKind::PAYMENT: base *= buy_ ? 0.3 : 2.5; break;
      case PageKind::CONFIRMED: base = 0.6; break;
      case PageKind::HELP:
      case PageKind::ABOUT: base *= 3.0; break;
      case PageKind::ACCOUNT: base *= 2.0; break;
      default: break;
    }
    if (steps > 25) base += 0.1;
    return std::min(base, 0.9);
  }

  // Emits the in-page events of `page` and the view of the next page; returns the next page,
  // or -1 when the session ends there.
  int step(int page) {
    const Page& p = P(page);
    switch (p.kind) {
      case PageKind::HOME: return from_home();
      case PageKind::SEARCH: return go(from_search());
      case PageKind::DEALS: return go(from_deals());
      case PageKind::CATEGORY: return go(from_category(page));
      case PageKind::PRODUCT: return go(from_product(page));
      case PageKind::CART: return go(from_cart());
      case PageKind::CHECKOUT: {
        const double w[] = {0.80, 0.12, 0.08};
        size_t k = rng_.weighted(w, 3);
        return go(k == 0 ? site_.payment : k == 1 ? site_.help_topics[0] : site_.cart);
      }
      case PageKind::PAYMENT:
        if (buy_ || rng_.chance(0.25)) {
          emit(page, PURCHASE);
          u_.cart.clear();
          buy_ = false;
          return go(site_.confirmed);
        }
        return go(rng_.chance(0.4) ? site_.help_topics[2] : site_.cart);
      case PageKind::CONFIRMED: {
        const double w[] = {0.35, 0.35, 0.15, 0.15};
        size_t k = rng_.weighted(w, 4);
        return go(k == 0 ? site_.orders : k == 1 ? site_.home : k == 2 ? site_.help_topics[1] : site_.categories[focus_].page);
      }
      case PageKind::HELP: return go(from_help(page));
      case PageKind::ACCOUNT:
        if (page == site_.login) return go(site_.account);
        if (page == site_.account) return go(rng_.chance(0.6) ? site_.orders : site_.home);
        return go(rng_.chance(0.5) ? site_.home : site_.help_topics[1]);
      case PageKind::ABOUT: return go(site_.home);
    }
    return -1;
  }

  // Sessions also end right after an in-page event (a look at the reviews, an add to cart), not
  // only after a page view.
  bool leaves_after(EventType type) {
    if (type == CLICK) return rng_.chance(0.06);
    return rng_.chance(buy_ ? 0.04 : 0.22);  // ADD_TO_CART: "add and leave" is common
  }

  int go(int page) {
    if (page < 0) return -1;
    view(page);
    return page;
  }

  int from_home() {
    bool cart = !u_.cart.empty(), viewed = !u_.viewed.empty();
    const double w[] = {0.45, 0.12, 0.08, 0.08, viewed ? 0.10 : 0.0, 0.05, 0.04, 0.02, cart ? 0.06 : 0.0};
    switch (rng_.weighted(w, 9)) {
      case 0: return go(site_.categories[focus_].page);
      case 1: return go(site_.search);
      case 2: return go(site_.deals_page);
      case 3: return go(site_.categories[random_other_category()].page);
      case 4: return go(pick_viewed(u_.viewed, -1));
      case 5: return go(site_.help);
      case 6: return go(site_.login);
      case 7: return go(site_.about);
      default: return go(site_.cart);
    }
  }

  int from_search() {
    // Refining the query is an in-page click; the result the user opens matches their intent.
    if (rng_.chance(0.2)) {
      emit(site_.search, CLICK);
      if (leaves_after(CLICK)) return -1;
    }
    if (rng_.chance(0.85)) return pick_product(focus_, 0.6);
    return pick_product(random_other_category(), 0.6);
  }

  int from_deals() {
    std::vector<int> mine;
    for (int d : site_.deals)
      if (P(d).category == focus_) mine.push_back(d);
    if (!mine.empty() && rng_.chance(0.7)) return mine[rng_.below(mine.size())];
    return site_.deals[rng_.below(site_.deals.size())];
  }

  int from_category(int page) {
    int c = P(page).category;
    if (rng_.chance(0.18)) {  // sort / filter
      emit(page, CLICK);
      if (leaves_after(CLICK)) return -1;
    }
    std::vector<int> seen_here;
    for (int s : seen_)
      if (P(s).category == c) seen_here.push_back(s);
    double r = rng_.uniform();
    if (r < 0.85) {
      if (!seen_here.empty() && rng_.chance(0.2)) return pick_viewed(seen_here, -1);
      return pick_product(c);
    }
    if (r < 0.90) return site_.home;
    if (r < 0.95) return site_.categories[random_other_category()].page;
    return site_.search;
  }

  int from_product(int page) {
    const Page& p = P(page);
    if (rng_.chance(0.15)) {  // reviews tab
      emit(page, CLICK);
      if (leaves_after(CLICK)) return -1;
    }
    bool in_cart = std::find(u_.cart.begin(), u_.cart.end(), page) != u_.cart.end();
    // Seen before: earlier in this session (not counting this visit) or in an earlier session.
    size_t visits = 0;
    for (const auto& e : *out_)
      if (e.user == user_ && e.page == page && e.type == VIEW) ++visits;
    bool revisit = visits > 1;
    if (!in_cart) {
      double p_add = buy_ ? (revisit ? 0.55 : 0.22) : (revisit ? 0.10 : 0.02);
      if (rng_.chance(p_add)) {
        emit(page, ADD_TO_CART);
        u_.cart.push_back(page);
        if (leaves_after(ADD_TO_CART)) return -1;
        if (buy_ && rng_.chance(0.65)) return site_.cart;
      }
    }
    bool cart = !u_.cart.empty();
    bool others = seen_.size() > 1;
    const double w[] = {0.14, 0.06, 0.20, others ? 0.14 : 0.0, cart ? (buy_ ? 0.15 : 0.03) : 0.0, 0.06, 0.04, 0.02, 0.14};
    switch (rng_.weighted(w, 9)) {
      case 0: return p.related[rng_.below(2)];  // same category
      case 1: return p.related[2];              // the complementary category
      case 2: return site_.categories[p.category].page;
      case 3: return pick_viewed(seen_, page);
      case 4: return site_.cart;
      case 5: return site_.home;
      case 6: return site_.search;
      case 7: return site_.help_topics[0];
      default: return pick_product(p.category);  // "more from this category" strip
    }
  }

  int from_cart() {
    if (u_.cart.empty()) return rng_.chance(0.5) ? site_.categories[focus_].page : site_.home;
    const double buy_w[] = {0.75, 0.15, 0.10, 0.0};
    const double browse_w[] = {0.12, 0.30, 0.40, 0.18};
    switch (rng_.weighted(buy_ ? buy_w : browse_w, 4)) {
      case 0: return site_.checkout;
      case 1: return u_.cart[rng_.below(u_.cart.size())];
      case 2: return site_.categories[focus_].page;
      default: return site_.home;
    }
  }

  int from_help(int page) {
    if (page == site_.help) return site_.help_topics[rng_.below(site_.help_topics.size())];
    if (rng_.chance(0.25)) {  // expands an answer
      emit(page, CLICK);
      if (leaves_after(CLICK)) return -1;
    }
    double r = rng_.uniform();
    if (r < 0.5 && before_help_ >= 0 && P(before_help_).kind != PageKind::HELP) return before_help_;
    if (r < 0.7) return site_.help_topics[rng_.below(site_.help_topics.size())];
    if (r < 0.8) return site_.help_topics[3];
    return site_.home;
  }

  const SiteMap&             site_;
  const std::vector<double>& price_q_;
  Draws&                     rng_;
  UserState&               u_;
  std::vector<SynthEvent>* out_;
  uint32_t                 user_;
  uint8_t                  session_ = 0;
  int64_t                  time_ = 0;
  bool                     first_ = true;
  int                      focus_ = 0;
  bool                     buy_ = false;
  int                      current_ = 0;
  int                      before_help_ = -1;
  std::vector<int>         seen_;  // products viewed this session
};

int sessions_for(UserKind kind, Draws& rng) {
  switch (kind) {
    case UserKind::BOUNCER: return 1;
    case UserKind::BROWSER: {
      int n = 1;
      while (n < 4 && rng.chance(0.5)) ++n;
      return n;
    }
    case UserKind::BUYER: return rng.chance(0.35) ? 2 : 1;
    case UserKind::RETURNER: return 2 + static_cast<int>(rng.below(4));
  }
  return 1;
}

}  // namespace

const char* user_kind_name(UserKind k) {
  switch (k) {
    case UserKind::BOUNCER: return "bouncer";
    case UserKind::BROWSER: return "browser";
    case UserKind::BUYER: return "buyer";
    case UserKind::RETURNER: return "returner";
  }
  return "?";
}

std::vector<SynthEvent> generate(const SiteMap& site, const SynthOptions& options, SynthStats* stats) {
  std::vector<SynthEvent> all;
  SynthStats s;
  std::vector<SynthEvent> mine;
  std::vector<double> price_q = price_quantiles(site);
  for (uint32_t u = 0; u < options.users; ++u) {
    // One stream per user: a user's events do not depend on how many users come before.
    Draws rng(mix(options.seed, u));
    UserState user;
    const double kind_share[] = {0.25, 0.37, 0.18, 0.20};
    user.kind = static_cast<UserKind>(rng.weighted(kind_share, 4));
    size_t nc = site.categories.size();
    user.primary = static_cast<int>(rng.weighted(kCategoryShare, nc));
    user.secondary = static_cast<int>(rng.below(nc - 1));
    if (user.secondary >= user.primary) ++user.secondary;
    const double price_levels[] = {0.1, 0.5, 0.9};
    user.price_pref = price_levels[rng.below(3)];
    for (int c : {user.primary, user.primary, user.primary, user.secondary, user.secondary}) {
      const auto& ps = site.categories[c].products;
      int p = ps[rng.below(ps.size())];
      if (std::find(user.shortlist.begin(), user.shortlist.end(), p) == user.shortlist.end()) user.shortlist.push_back(p);
    }
    s.by_user_kind[static_cast<int>(user.kind)]++;

    int sessions = sessions_for(user.kind, rng);
    // First visit: a day in the 28-day window, evening-heavy time of day.
    double hour = rng.chance(0.6) ? 20.0 + 2.5 * rng.normal() : 12.5 + 2.0 * rng.normal();
    hour = std::fmod(std::fmod(hour, 24.0) + 24.0, 24.0);
    int64_t t = options.start_time + static_cast<int64_t>(rng.below(28)) * 86400 +
                static_cast<int64_t>(hour * 3600.0);
    mine.clear();
    Walker walker(site, price_q, rng, user, &mine, u);
    for (int k = 0; k < sessions; ++k) {
      int64_t end = walker.run(static_cast<uint8_t>(k), sessions, t);
      // Hours to days until the next visit; returners come back sooner.
      double median = user.kind == UserKind::RETURNER ? 20 * 3600.0 : 40 * 3600.0;
      double g = std::min(rng.lognormal(median, 1.0), 30 * 86400.0);
      t = end + std::max<int64_t>(7200, std::llround(g));
    }
    s.sessions += sessions;
    all.insert(all.end(), mine.begin(), mine.end());
  }
  std::stable_sort(all.begin(), all.end(), [](const SynthEvent& a, const SynthEvent& b) {
    return a.time != b.time ? a.time < b.time : a.user < b.user;
  });
  s.events = all.size();
  for (const auto& e : all) s.by_type[e.type]++;
  if (stats) *stats = s;
  return all;
}

std::string user_id(uint32_t user, uint64_t seed) {
  // A bijection on 48 bits (xor, odd multiply, xorshift), so ids never collide.
  const uint64_t mask = (1ull << 48) - 1;
  uint64_t x = (uint64_t(user) ^ mix(seed, 0x5eed)) & mask;
  for (int round = 0; round < 3; ++round) {
    x = (x * 0x9E3779B97F4Bull) & mask;
    x ^= x >> 23;
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "u%012llx", static_cast<unsigned long long>(x));
  return buf;
}

std::string iso8601(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string to_csv(const SiteMap& site, const SynthOptions& options, const std::vector<SynthEvent>& events) {
  std::string out = "user,time,action,type\n";
  out.reserve(events.size() * 48);
  uint32_t last_user = UINT32_MAX;
  std::string id;
  for (const auto& e : events) {
    if (e.user != last_user) {
      id = user_id(e.user, options.seed);
      last_user = e.user;
    }
    out += id;
    out += ',';
    out += iso8601(e.time);
    out += ',';
    out += site.pages[e.page].path;  // paths hold no comma or quote: no CSV quoting needed
    out += ',';
    out += site.event_types[e.type];
    out += '\n';
  }
  return out;
}

Error write_csv(const std::string& path, const SiteMap& site, const SynthOptions& options,
                const std::vector<SynthEvent>& events) {
  std::string csv = to_csv(site, options, events);
  std::string tmp = path + ".tmp";
  bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  if (gz) {
    gzFile f = gzopen(tmp.c_str(), "wb9");
    if (!f) return Error("cannot write '" + tmp + "'");
    bool ok = true;
    for (size_t off = 0; off < csv.size() && ok;) {
      unsigned n = static_cast<unsigned>(std::min<size_t>(csv.size() - off, 1u << 20));
      ok = gzwrite(f, csv.data() + off, n) == int(n);
      off += n;
    }
    if (gzclose(f) != Z_OK || !ok) {
      std::remove(tmp.c_str());
      return Error("cannot write '" + tmp + "' (disk full?)");
    }
  } else {
    FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) return Error("cannot write '" + tmp + "'");
    bool ok = std::fwrite(csv.data(), 1, csv.size(), f) == csv.size();
    if (std::fclose(f) != 0 || !ok) {
      std::remove(tmp.c_str());
      return Error("cannot write '" + tmp + "' (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Error("cannot rename '" + tmp + "' to '" + path + "'");
  }
  return Error();
}

}  // namespace hunch::synth
