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

// ---- The walk's state: everything the exit and purchase decisions read ----------------------
//
// A session is a Markov chain over State. After each event the session ends with probability
// exit_probability(state); otherwise one of moves(state) is drawn, then whether a pause comes
// before the next event, and the move is made concrete (which category, product or help topic)
// by draws that never change the next State. So the probability that a purchase follows is a
// function of the State alone, which Oracle computes exactly.

enum Node : uint8_t {
  N_HOME, N_CATEGORY, N_CATEGORY_CLICK, N_SEARCH, N_SEARCH_CLICK, N_DEALS, N_PRODUCT,
  N_PRODUCT_CLICK, N_ADD, N_CART, N_CHECKOUT, N_PAYMENT, N_PURCHASE, N_CONFIRMED, N_HELP,
  N_HELP_CLICK, N_ACCOUNT, N_ABOUT,
  N_NONE  // no page: a help page the session landed on has nothing to go back to
};
constexpr int kNodes = N_NONE;
constexpr int kMaxEvents = 100;  // per session; the 100th event always ends it

bool on_product(Node n) { return n == N_PRODUCT || n == N_PRODUCT_CLICK || n == N_ADD; }
bool on_help(Node n) { return n == N_HELP || n == N_HELP_CLICK; }

// The pages a help page goes back to (the view node of the page before the first help page).
constexpr Node kBacks[] = {N_NONE, N_HOME, N_PRODUCT, N_CHECKOUT, N_PAYMENT, N_CONFIRMED, N_ACCOUNT};
constexpr int kBackCount = 7;
int back_index(Node n) {
  for (int i = 0; i < kBackCount; ++i)
    if (kBacks[i] == n) return i;
  return 0;
}
Node back_of(Node n) {
  if (on_product(n)) return N_PRODUCT;
  if (on_help(n)) return N_NONE;  // (help to help keeps the earlier target)
  return kBacks[back_index(n)];
}

struct State {
  Node    node = N_HOME;
  bool    revisit = false;  // N_PRODUCT, N_PRODUCT_CLICK: the user had viewed this product before
  bool    cart = false;     // the cart holds something (it is kept between sessions)
  uint8_t viewed = 0;       // distinct products the user has viewed, this page included: 0, 1, 2 = 2+
  Node    back = N_NONE;    // help pages: where "back" goes
  bool    pause = false;    // this event came after a pause (a gap of 300 s or more)
  int     pos = 0;          // this event's index in the session
};

// What stays fixed during a session.
struct Context {
  UserKind kind = UserKind::BROWSER;
  bool     returning = false;  // the user had an earlier session
  bool     bought = false;     // … with a purchase
};

bool content_page(Node n) {
  return n == N_HOME || n == N_CATEGORY || n == N_CATEGORY_CLICK || n == N_SEARCH || n == N_SEARCH_CLICK ||
         n == N_DEALS || n == N_PRODUCT || n == N_PRODUCT_CLICK;
}

// How far a user goes down the funnel: with kind_exit(), the only places where the hidden kind
// of user moves the odds (mildly), beside what the log shows (an earlier visit, an earlier
// purchase). (The kind also sets how many visits, where they land and how soon they come back:
// all in the log.)
double propensity(const Context& c) {
  const double kind[] = {0.9, 0.95, 1.1, 1.0};  // bouncer, browser, buyer, returner
  return kind[static_cast<int>(c.kind)] * (c.returning ? 1.4 : 1.0) * (c.bought ? 1.5 : 1.0);
}
double kind_exit(UserKind k) {
  const double f[] = {1.35, 1.05, 0.9, 0.9};
  return f[static_cast<int>(k)];
}

// Per node, the probability that the session ends after it when it is the landing page (the
// first event: bounces, where pages that answer a question or show one product are left more
// often than home or a category) and later (rarely in the middle of browsing products, often
// once an answer was found in the help pages, after an add to cart ("add and leave"), on a cart
// given up, or with an order finished). Nodes a session never lands on have no landing figure.
struct ExitOdds {
  double landing, later;
};
const ExitOdds kExitOdds[kNodes] = {
    {0.16, 0.05},   // N_HOME
    {0.13, 0.045},  // N_CATEGORY
    {0, 0.04},      // N_CATEGORY_CLICK
    {0.12, 0.05},   // N_SEARCH
    {0, 0.04},      // N_SEARCH_CLICK
    {0.15, 0.06},   // N_DEALS
    {0.20, 0.045},  // N_PRODUCT (a product seen before: 0.10 and 0.04)
    {0, 0.05},      // N_PRODUCT_CLICK
    {0, 0.10},      // N_ADD
    {0.08, 0.10},   // N_CART (with something in it, later: 0.12)
    {0, 0.08},      // N_CHECKOUT
    {0, 0.07},      // N_PAYMENT
    {0, 0},         // N_PURCHASE: the confirmation page always follows
    {0, 0.55},      // N_CONFIRMED
    {0.40, 0.18},   // N_HELP
    {0, 0.15},      // N_HELP_CLICK
    {0, 0.20},      // N_ACCOUNT
    {0, 0.25},      // N_ABOUT
};

// The probability that the session ends right after the event that left it in state s.
double exit_probability(const State& s, const Context& c) {
  if (s.pos >= kMaxEvents - 1) return 1.0;
  if (s.node == N_PURCHASE) return 0.0;
  double h;
  if (s.pos == 0) {
    h = s.node == N_PRODUCT && s.revisit ? 0.10 : kExitOdds[s.node].landing;
  } else {
    h = s.node == N_PRODUCT && s.revisit ? 0.04 : s.node == N_CART && s.cart ? 0.12 : kExitOdds[s.node].later;
    if (s.pos > 12) h *= 1.0 + 0.03 * double(s.pos - 12);  // fatigue
  }
  if (s.cart && content_page(s.node)) h *= 0.8;  // something in the cart keeps users around
  if (s.pause) h *= 2.2;                         // came back from a pause: half gone already
  if (c.returning) h *= 0.85;
  if (c.bought) h *= 0.9;
  h *= kind_exit(c.kind);
  return std::min(h, 0.95);
}

// What the move's next page is, where several concrete pages make the same next State.
enum How : uint8_t {
  H_PLAIN,
  H_FOCUS,       // the session's category
  H_OTHER,       // another category
  H_SAME,        // the current product's category
  H_RELATED,     // a "you may also like" product of the same category
  H_COMPLEMENT,  // the related product from the complementary category
  H_MORE,        // "more from this category"
  H_SESSION,     // a product viewed earlier in this session first (on a later visit, or before)
  H_CART_ITEM,   // a product in the cart
  H_BACK,        // back to the page before the help pages
};

struct Move {
  double  w;
  Node    to;
  bool    revisit;  // to N_PRODUCT: a product the user viewed before (else one never viewed)
  uint8_t how;
};

class Moves {
 public:
  void add(double w, Node to, uint8_t how = H_PLAIN, bool revisit = false) {
    if (w > 0) m_[n_++] = {w, to, revisit, how};
  }
  // Scales the moves added since `from` so that together they weigh `total`.
  void scale_from(int from, double total) {
    double sum = 0;
    for (int i = from; i < n_; ++i) sum += m_[i].w;
    for (int i = from; i < n_; ++i) m_[i].w *= total / sum;
  }
  int size() const { return n_; }
  const Move& operator[](int i) const { return m_[i]; }
  double weight(int i) const { return m_[i].w; }

 private:
  Move m_[16];
  int  n_ = 0;
};

// Leaving a product page (after the view, a click or an add to cart), weighing `total`.
void product_exits(const State& s, const Context& c, double total, Moves* m) {
  int from = m->size();
  m->add(0.20, N_PRODUCT, H_RELATED);
  m->add(0.06, N_PRODUCT, H_COMPLEMENT);
  m->add(0.14, N_PRODUCT, H_MORE);
  m->add(0.20, N_CATEGORY, H_SAME);
  if (s.viewed >= 2) m->add(c.returning ? 0.25 : 0.14, N_PRODUCT, H_SESSION, true);  // another one seen
  if (s.cart) m->add(0.06 * propensity(c), N_CART);
  m->add(0.06, N_HOME);
  m->add(0.04, N_SEARCH);
  m->add(0.02, N_HELP);
  m->scale_from(from, total);
}

// Opening a product from a listing (category, search, deals): mostly new ones; a returning
// visitor goes back to what they looked at before more often.
void listing_exits(const State& s, const Context& c, double new_w, double again_w, Moves* m) {
  m->add(new_w, N_PRODUCT);
  if (s.viewed >= 1) m->add(again_w * (c.returning ? 4.0 : 1.0), N_PRODUCT, H_PLAIN, true);
}

// Every move out of state s, with weights (drawn in proportion to them).
void moves(const State& s, const Context& c, Moves* m) {
  const double pr = propensity(c);
  switch (s.node) {
    case N_HOME:
      m->add(0.45, N_CATEGORY, H_FOCUS);
      m->add(0.08, N_CATEGORY, H_OTHER);
      m->add(0.12, N_SEARCH);
      m->add(0.08, N_DEALS);
      if (s.viewed >= 1) m->add(c.returning ? 0.35 : 0.10, N_PRODUCT, H_PLAIN, true);  // "recently viewed"
      m->add(0.05, N_HELP);
      m->add(0.04, N_ACCOUNT);
      m->add(0.02, N_ABOUT);
      if (s.cart) m->add(0.06 * pr, N_CART);
      break;
    case N_CATEGORY:
    case N_CATEGORY_CLICK:
      if (s.node == N_CATEGORY) m->add(0.18, N_CATEGORY_CLICK);  // sort / filter
      listing_exits(s, c, 0.67, 0.10, m);
      m->add(0.05, N_HOME);
      m->add(0.05, N_CATEGORY, H_OTHER);
      m->add(0.05, N_SEARCH);
      break;
    case N_SEARCH:
    case N_SEARCH_CLICK:
      if (s.node == N_SEARCH) m->add(0.20, N_SEARCH_CLICK);  // refines the query
      listing_exits(s, c, 0.68, 0.12, m);
      break;
    case N_DEALS:
      listing_exits(s, c, 0.80, 0.10, m);
      m->add(0.10, N_HOME);
      break;
    case N_PRODUCT:
    case N_PRODUCT_CLICK: {
      // A product viewed before is far more likely to go into the cart.
      const bool click = s.node == N_PRODUCT_CLICK;
      const double p_click = click ? 0.0 : 0.15;  // the reviews tab
      const double p_add = std::min(0.8, (s.revisit ? (click ? 0.26 : 0.20) : (click ? 0.05 : 0.035)) * pr);
      m->add(p_click, N_PRODUCT_CLICK);
      m->add(p_add, N_ADD);
      product_exits(s, c, 1.0 - p_click - p_add, m);
      break;
    }
    case N_ADD: {
      const double p_cart = std::min(0.7, 0.35 * pr);
      m->add(p_cart, N_CART);
      product_exits(s, c, 1.0 - p_cart, m);
      break;
    }
    case N_CART:
      if (!s.cart) {
        m->add(0.5, N_CATEGORY, H_FOCUS);
        m->add(0.5, N_HOME);
        break;
      } else {
        const double p_checkout = std::min(0.8, 0.34 * pr);
        m->add(p_checkout, N_CHECKOUT);
        int from = m->size();
        m->add(0.20, N_PRODUCT, H_CART_ITEM, true);
        m->add(0.25, N_CATEGORY, H_FOCUS);
        m->add(0.17, N_HOME);
        m->scale_from(from, 1.0 - p_checkout);
      }
      break;
    case N_CHECKOUT:
      m->add(0.78, N_PAYMENT);
      m->add(0.10, N_HELP);
      m->add(0.12, N_CART);
      break;
    case N_PAYMENT:
      if (s.cart) m->add(0.72, N_PURCHASE);
      m->add(0.10, N_HELP);
      m->add(0.18, N_CART);
      break;
    case N_PURCHASE: m->add(1.0, N_CONFIRMED); break;
    case N_CONFIRMED:
      m->add(0.35, N_ACCOUNT);
      m->add(0.35, N_HOME);
      m->add(0.15, N_HELP);
      m->add(0.15, N_CATEGORY, H_FOCUS);
      break;
    case N_HELP:
    case N_HELP_CLICK:
      if (s.node == N_HELP) m->add(0.25, N_HELP_CLICK);  // expands an answer
      if (s.back != N_NONE) m->add(0.375, s.back, H_BACK, s.back == N_PRODUCT);
      m->add(0.225, N_HELP);
      m->add(0.15, N_HOME);
      break;
    case N_ACCOUNT:
      m->add(0.50, N_ACCOUNT);
      m->add(0.35, N_HOME);
      m->add(0.15, N_HELP);
      break;
    case N_ABOUT: m->add(1.0, N_HOME); break;
    case N_NONE: break;
  }
}

bool in_page(Node n) {
  return n == N_CATEGORY_CLICK || n == N_SEARCH_CLICK || n == N_PRODUCT_CLICK || n == N_ADD ||
         n == N_HELP_CLICK || n == N_PURCHASE;
}

// The probability of a pause (300 s to 30 min) before the next event: reading a product page,
// a help answer or the checkout form, more often than a hub page; rarely before an in-page event.
double pause_probability(Node from, Node to) {
  if (in_page(to)) return 0.02;
  if (on_product(from) || on_help(from) || from == N_CHECKOUT) return 0.07;
  return 0.04;
}

State next_state(const State& s, const Move& m, bool pause) {
  State n;
  n.node = m.to;
  n.cart = s.cart;
  n.viewed = s.viewed;
  n.pause = pause;
  n.pos = s.pos + 1;
  switch (m.to) {
    case N_PRODUCT:
      n.revisit = m.revisit;
      if (!m.revisit) n.viewed = static_cast<uint8_t>(std::min(2, s.viewed + 1));
      break;
    case N_PRODUCT_CLICK: n.revisit = s.revisit; break;
    case N_ADD: n.cart = true; break;
    case N_PURCHASE: n.cart = false; break;
    case N_HELP: n.back = on_help(s.node) ? s.back : back_of(s.node); break;
    case N_HELP_CLICK: n.back = s.back; break;
    default: break;
  }
  return n;
}

// The oracle: the exact probability that a purchase follows, by a dynamic program over the
// states (memoised; the same for every user with the same Context, so it is computed once).
class Oracle {
 public:
  // P(a purchase event follows later in this session | the event that left it in state s).
  double conversion(const State& s, const Context& c) { return value(s, c); }

 private:
  // P(the session goes on after s, and a purchase follows).
  double value(const State& s, const Context& c) {
    const double h = exit_probability(s, c);
    return h >= 1.0 ? 0.0 : (1.0 - h) * go_on(s, c);
  }
  // P(a purchase follows | the session goes on after s).
  double go_on(const State& s, const Context& c) {
    std::vector<double>& memo = memo_[static_cast<int>(c.kind) * 4 + c.returning * 2 + c.bought];
    if (memo.empty()) memo.assign(size_t(kVariants) * 2 * 3 * kMaxEvents, -1.0);
    double& slot = memo[((size_t(variant(s)) * 2 + s.cart) * 3 + s.viewed) * kMaxEvents + size_t(s.pos)];
    if (slot >= 0) return slot;
    Moves m;
    moves(s, c, &m);
    double total = 0, sum = 0;
    for (int i = 0; i < m.size(); ++i) total += m.weight(i);
    for (int i = 0; i < m.size(); ++i) {
      double v = 1.0;
      if (m[i].to != N_PURCHASE) {
        const double q = pause_probability(s.node, m[i].to);
        v = q * value(next_state(s, m[i], true), c) + (1.0 - q) * value(next_state(s, m[i], false), c);
      }
      sum += m.weight(i) / total * v;
    }
    slot = sum;
    return sum;
  }
  // The node with the parts of the state its moves read: revisit (products), back (help).
  static constexpr int kVariants = (kNodes - 4) + 2 * 2 + 2 * kBackCount;
  static int variant(const State& s) {
    int v = 0;
    for (int n = 0; n < s.node; ++n)
      v += n == N_PRODUCT || n == N_PRODUCT_CLICK ? 2 : on_help(Node(n)) ? kBackCount : 1;
    if (s.node == N_PRODUCT || s.node == N_PRODUCT_CLICK) v += s.revisit;
    if (on_help(s.node)) v += back_index(s.back);
    return v;
  }

  std::vector<double> memo_[16];
};

struct UserState {
  UserKind         kind = UserKind::BROWSER;
  int              primary = 0, secondary = 1;  // categories
  double           price_pref = 0.5;            // 0 = the cheapest of a category, 1 = the dearest
  std::vector<int> shortlist;                   // products the user is considering, all sessions
  std::vector<int> viewed;                      // products, in first-view order, all sessions
  std::vector<int> cart;
  int              purchases = 0;
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
// intent and on everything the user did before, not only on the current page.
class Walker {
 public:
  Walker(const SiteMap& site, const std::vector<double>& price_q, Draws& rng, Oracle& oracle, UserState& user,
         std::vector<SynthEvent>* out, uint32_t user_index)
      : site_(site), price_q_(price_q), rng_(rng), oracle_(oracle), u_(user), out_(out), user_(user_index) {}

  // Runs session `session` starting at `start`; returns the time of its last event.
  int64_t run(uint8_t session, int64_t start) {
    session_ = session;
    time_ = start;
    first_ = true;
    seen_.clear();
    before_help_ = -1;
    focus_ = rng_.chance(0.75) ? u_.primary : u_.secondary;
    const Context ctx{u_.kind, session > 0, u_.purchases > 0};
    State s = land();
    for (;;) {
      const double h = exit_probability(s, ctx);
      out_->back().p_exit = h;
      out_->back().p_conversion = oracle_.conversion(s, ctx);
      if (rng_.chance(h)) break;
      Moves m;
      moves(s, ctx, &m);
      double w[16];
      for (int i = 0; i < m.size(); ++i) w[i] = m.weight(i);
      const Move& move = m[static_cast<int>(rng_.weighted(w, size_t(m.size())))];
      const bool pause = rng_.chance(pause_probability(s.node, move.to));
      make(s, move, pause);
      s = next_state(s, move, pause);
    }
    return time_;
  }

 private:
  const Page& P(int page) const { return site_.pages[page]; }

  // Seconds between the previous event and one of type `type`: mostly the dwell time on the
  // page the user was on, which depends on what that page is; under 300 s, or a pause of 300 s
  // to 30 minutes. Whole seconds, at least one (no two events of a user share a timestamp).
  int64_t gap(EventType type, bool pause) {
    if (pause) {
      for (;;) {
        const int64_t g = 300 + std::llround(rng_.lognormal(160, 0.9));
        if (g <= 1800) return g;
      }
    }
    double median = 12, sigma = 0.8;
    if (type == CLICK) median = 6, sigma = 0.7;
    else if (type == ADD_TO_CART) median = 14, sigma = 0.6;
    else if (type == PURCHASE) median = 35, sigma = 0.5;
    else {
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
    }
    for (;;) {
      const int64_t g = std::max<int64_t>(1, std::llround(rng_.lognormal(median, sigma)));
      if (g < 300) return g;
    }
  }

  void emit(int page, EventType type, bool pause) {
    if (!first_) time_ += gap(type, pause);
    first_ = false;
    out_->push_back({user_, time_, static_cast<uint16_t>(page), type, session_});
    current_ = page;
    if (type == VIEW && P(page).kind == PageKind::PRODUCT) {
      if (std::find(seen_.begin(), seen_.end(), page) == seen_.end()) seen_.push_back(page);
      if (!viewed_before(page)) u_.viewed.push_back(page);
    }
  }

  bool viewed_before(int page) const {
    return std::find(u_.viewed.begin(), u_.viewed.end(), page) != u_.viewed.end();
  }

  // A product of category c never viewed by the user, as this user chooses: best sellers more
  // often (weight 1/(rank+2)), products in the user's price range and on their shortlist much
  // more often (the taste a history reveals and a page-to-page chain averages away). -1 when the
  // user has viewed them all.
  int pick_new_in(int c, double flatten) {
    const auto& ps = site_.categories[c].products;
    double w[12];
    double total = 0;
    for (size_t r = 0; r < ps.size(); ++r) {
      double d = (price_q_[ps[r]] - u_.price_pref) / 0.22;
      w[r] = std::pow(1.0 / (double(r) + 2.0), flatten) * std::exp(-0.5 * d * d);
      if (std::find(u_.shortlist.begin(), u_.shortlist.end(), ps[r]) != u_.shortlist.end()) w[r] *= 6.0;
      if (viewed_before(ps[r])) w[r] = 0;
      total += w[r];
    }
    if (total <= 0) return -1;
    return ps[rng_.weighted(w, ps.size())];
  }
  // The same, falling back to the session's category, then to every category in turn. (A user
  // who viewed all 96 products gets one again: the walk's cap makes that unreachable.)
  int pick_new(int c, double flatten = 1.0) {
    int p = pick_new_in(c, flatten);
    if (p < 0 && c != focus_) p = pick_new_in(focus_, flatten);
    for (size_t k = 0; p < 0 && k < site_.categories.size(); ++k)
      p = pick_new_in(static_cast<int>(k), flatten);
    return p >= 0 ? p : site_.categories[c].products[0];
  }

  // One of `from` (products), the recent ones and those of the session's category first; -1 if
  // `from` holds nothing but `exclude`.
  int pick_viewed(const std::vector<int>& from, int exclude) {
    double w[256];
    size_t n = std::min<size_t>(from.size(), 256);
    size_t base = from.size() - n;
    double total = 0;
    for (size_t i = 0; i < n; ++i) {
      int p = from[base + i];
      w[i] = (p == exclude) ? 0.0 : (1.0 + double(i)) * (P(p).category == focus_ ? 4.0 : 1.0);
      total += w[i];
    }
    if (total <= 0) return -1;
    return from[base + rng_.weighted(w, n)];
  }

  int other_category(int not_this) {
    int c = static_cast<int>(rng_.below(site_.categories.size() - 1));
    return c >= not_this ? c + 1 : c;
  }

  // The landing page (the session's first event); returns its state.
  State land() {
    current_ = site_.home;
    int page;
    double r = rng_.uniform();
    if (!u_.cart.empty() && r < 0.25) {
      page = site_.cart;  // back for what is in the cart
    } else if (u_.kind == UserKind::RETURNER && session_ > 0 && !u_.viewed.empty()) {
      r = rng_.uniform();
      page = r < 0.55 ? pick_viewed(u_.viewed, -1) : r < 0.85 ? site_.home : site_.categories[focus_].page;
    } else if (u_.kind == UserKind::BOUNCER) {
      const double w[] = {0.45, 0.30, 0.15, 0.10};
      switch (rng_.weighted(w, 4)) {
        case 0: page = pick_new(focus_); break;
        case 1: page = site_.home; break;
        case 2: page = site_.categories[focus_].page; break;
        default: page = site_.help_topics[rng_.below(site_.help_topics.size())]; break;
      }
    } else {
      const double w[] = {0.45, 0.20, 0.25, 0.05, 0.05};
      switch (rng_.weighted(w, 5)) {
        case 0: page = site_.home; break;
        case 1: page = site_.categories[focus_].page; break;
        case 2: page = rng_.chance(0.8) ? pick_new(focus_) : pick_viewed_or_new(); break;
        case 3: page = site_.search; break;
        default: page = site_.deals_page; break;
      }
    }
    State s;
    switch (P(page).kind) {
      case PageKind::HOME: s.node = N_HOME; break;
      case PageKind::CATEGORY: s.node = N_CATEGORY; break;
      case PageKind::PRODUCT: s.node = N_PRODUCT; break;
      case PageKind::SEARCH: s.node = N_SEARCH; break;
      case PageKind::DEALS: s.node = N_DEALS; break;
      case PageKind::CART: s.node = N_CART; break;
      default: s.node = N_HELP; break;
    }
    s.revisit = s.node == N_PRODUCT && viewed_before(page);
    emit(page, VIEW, false);
    s.cart = !u_.cart.empty();
    s.viewed = static_cast<uint8_t>(std::min<size_t>(2, u_.viewed.size()));
    return s;
  }
  int pick_viewed_or_new() {
    int p = pick_viewed(u_.viewed, -1);
    return p >= 0 ? p : pick_new(focus_);
  }

  // A product the user viewed before, other than the current page (the move guarantees one).
  int pick_again(const State& s, uint8_t how) {
    if (how == H_BACK) return before_help_;
    if (how == H_CART_ITEM) return u_.cart[rng_.below(u_.cart.size())];
    if (how == H_SESSION && (session_ == 0 || rng_.chance(0.5))) {
      int p = pick_viewed(seen_, current_);
      return p >= 0 ? p : pick_viewed(u_.viewed, current_);
    }
    if (s.node == N_CATEGORY || s.node == N_CATEGORY_CLICK) {  // this category's first
      std::vector<int> here;
      for (int v : u_.viewed)
        if (P(v).category == P(current_).category) here.push_back(v);
      if (!here.empty() && rng_.chance(0.7)) return pick_viewed(here, -1);
    }
    if (session_ > 0 && rng_.chance(0.75)) {  // what they looked at on an earlier visit
      std::vector<int> earlier;
      for (int v : u_.viewed)
        if (v != current_ && std::find(seen_.begin(), seen_.end(), v) == seen_.end()) earlier.push_back(v);
      if (!earlier.empty()) return pick_viewed(earlier, -1);
    }
    return pick_viewed(u_.viewed, current_);
  }

  // A product the user never viewed, reached the way `how` says from the current page.
  int pick_fresh(const State& s, uint8_t how) {
    const Page& here = P(current_);
    switch (s.node) {
      case N_CATEGORY:
      case N_CATEGORY_CLICK: return pick_new(here.category);
      case N_SEARCH:
      case N_SEARCH_CLICK:  // the result the user opens matches their intent
        return pick_new(rng_.chance(0.85) ? focus_ : other_category(focus_), 0.6);
      case N_DEALS: {
        std::vector<int> mine, all;
        for (int d : site_.deals) {
          if (viewed_before(d)) continue;
          all.push_back(d);
          if (P(d).category == focus_) mine.push_back(d);
        }
        if (!mine.empty() && rng_.chance(0.7)) return mine[rng_.below(mine.size())];
        if (!all.empty()) return all[rng_.below(all.size())];
        return pick_new(focus_);
      }
      default: break;  // a product page
    }
    if (how == H_RELATED) {
      int a = here.related[0], b = here.related[1];
      bool na = !viewed_before(a), nb = !viewed_before(b);
      if (na && nb) return rng_.chance(0.5) ? a : b;
      if (na) return a;
      if (nb) return b;
    } else if (how == H_COMPLEMENT) {
      int c = here.related[2];
      if (!viewed_before(c)) return c;
      return pick_new(P(c).category, 0.6);
    }
    return pick_new(here.category);
  }

  int help_page(const State& s) {
    switch (s.node) {
      case N_HOME: return site_.help;
      case N_PAYMENT: return site_.help_topics[2];
      case N_CONFIRMED:
      case N_ACCOUNT: return site_.help_topics[1];
      case N_HELP:
      case N_HELP_CLICK:
        if (rng_.chance(0.3)) return site_.help_topics[3];  // contact
        return site_.help_topics[rng_.below(site_.help_topics.size())];
      default: return site_.help_topics[0];  // product pages, checkout: shipping
    }
  }

  int account_page() {
    if (current_ == site_.confirmed) return site_.orders;
    if (current_ == site_.login) return site_.account;
    if (current_ == site_.account) return site_.orders;
    if (current_ == site_.orders) return site_.account;
    return site_.login;
  }

  // Emits the event of `move` out of state s.
  void make(const State& s, const Move& move, bool pause) {
    int page = current_;
    EventType type = VIEW;
    if (move.how == H_BACK) {
      page = before_help_;
    } else {
      switch (move.to) {
        case N_HOME: page = site_.home; break;
        case N_CATEGORY:
          if (move.how == H_FOCUS) page = site_.categories[focus_].page;
          else if (move.how == H_SAME) page = site_.categories[P(current_).category].page;
          else if (P(current_).category >= 0) page = site_.categories[other_category(P(current_).category)].page;
          else page = site_.categories[other_category(focus_)].page;
          break;
        case N_SEARCH: page = site_.search; break;
        case N_DEALS: page = site_.deals_page; break;
        case N_PRODUCT: page = move.revisit ? pick_again(s, move.how) : pick_fresh(s, move.how); break;
        case N_CATEGORY_CLICK:
        case N_SEARCH_CLICK:
        case N_PRODUCT_CLICK:
        case N_HELP_CLICK: type = CLICK; break;
        case N_ADD:
          type = ADD_TO_CART;
          if (std::find(u_.cart.begin(), u_.cart.end(), current_) == u_.cart.end())
            u_.cart.push_back(current_);
          break;
        case N_CART: page = site_.cart; break;
        case N_CHECKOUT: page = site_.checkout; break;
        case N_PAYMENT: page = site_.payment; break;
        case N_PURCHASE:
          type = PURCHASE;
          u_.cart.clear();
          ++u_.purchases;
          break;
        case N_CONFIRMED: page = site_.confirmed; break;
        case N_HELP: page = help_page(s); break;
        case N_ACCOUNT: page = account_page(); break;
        case N_ABOUT: page = site_.about; break;
        case N_NONE: break;
      }
    }
    if (move.to == N_HELP && !on_help(s.node)) before_help_ = current_;
    emit(page, type, pause);
  }

  const SiteMap&             site_;
  const std::vector<double>& price_q_;
  Draws&                     rng_;
  Oracle&                    oracle_;
  UserState&                 u_;
  std::vector<SynthEvent>*   out_;
  uint32_t                   user_;
  uint8_t                    session_ = 0;
  int64_t                    time_ = 0;
  bool                       first_ = true;
  int                        focus_ = 0;
  int                        current_ = 0;
  int                        before_help_ = -1;
  std::vector<int>           seen_;  // products viewed this session
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
  Oracle oracle;
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
    Walker walker(site, price_q, rng, oracle, user, &mine, u);
    for (int k = 0; k < sessions; ++k) {
      int64_t end = walker.run(static_cast<uint8_t>(k), t);
      // Hours to days until the next visit; returners come back sooner.
      double median = user.kind == UserKind::RETURNER ? 20 * 3600.0 : 40 * 3600.0;
      double g = std::min(rng.lognormal(median, 1.0), 30 * 86400.0);
      t = end + std::max<int64_t>(7200, std::llround(g));
    }
    s.sessions += sessions;
    // The labels the oracle predicts: an event is a conversion event when a purchase follows
    // in its session; a session of one event is a bounce.
    bool purchase_follows = false;
    for (size_t i = mine.size(); i-- > 0;) {
      const bool last = i + 1 == mine.size() || mine[i + 1].session != mine[i].session;
      const bool first = i == 0 || mine[i - 1].session != mine[i].session;
      if (last) purchase_follows = false;
      s.converting_events += purchase_follows;
      if (mine[i].type == PURCHASE && !purchase_follows) ++s.converting_sessions;
      if (mine[i].type == PURCHASE) purchase_follows = true;
      s.bounces += first && last;
      s.sum_p_exit += mine[i].p_exit;
      s.sum_p_conversion += mine[i].p_conversion;
    }
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

std::string truth_csv(const std::vector<SynthEvent>& events) {
  std::string out = "row,p_exit,p_conversion\n";
  out.reserve(events.size() * 24);
  char buf[64];
  for (size_t i = 0; i < events.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%zu,%.6g,%.6g\n", i, events[i].p_exit, events[i].p_conversion);
    out += buf;
  }
  return out;
}

namespace {

// Writes `text` to `path`, gzip-compressed when it ends in ".gz" (deterministic bytes: no name
// or time in the gzip header). Atomic: written to "<path>.tmp" then renamed.
Error write_text(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  if (gz) {
    gzFile f = gzopen(tmp.c_str(), "wb9");
    if (!f) return Error("cannot write '" + tmp + "'");
    bool ok = true;
    for (size_t off = 0; off < text.size() && ok;) {
      unsigned n = static_cast<unsigned>(std::min<size_t>(text.size() - off, 1u << 20));
      ok = gzwrite(f, text.data() + off, n) == int(n);
      off += n;
    }
    if (gzclose(f) != Z_OK || !ok) {
      std::remove(tmp.c_str());
      return Error("cannot write '" + tmp + "' (disk full?)");
    }
  } else {
    FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) return Error("cannot write '" + tmp + "'");
    bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
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

}  // namespace

Error write_csv(const std::string& path, const SiteMap& site, const SynthOptions& options,
                const std::vector<SynthEvent>& events) {
  return write_text(path, to_csv(site, options, events));
}

Error write_truth(const std::string& path, const std::vector<SynthEvent>& events) {
  return write_text(path, truth_csv(events));
}

}  // namespace hunch::synth
