// The bundled data: a seeded, deterministic event log of the shop in site-map.h, realistic
// enough to train and judge a next-action model on, and built to carry structure that a
// first-order Markov chain cannot see:
//   - intent that persists: each user favours one or two categories, and a session keeps to
//     one of them, also across hub pages (home, search, deals, cart) where the previous page
//     alone says nothing about where the user goes next;
//   - returns: users go back to products they viewed earlier in the session and, for
//     returners, in earlier sessions (landing straight on them days later); a product viewed a
//     second time is far more likely to be added to the cart;
//   - a funnel: product -> add to cart -> cart -> checkout -> payment -> purchase, where each
//     step's odds show in what the user did: an add to cart on a product seen before, a cart
//     carried over from an earlier visit, a returning visitor or an earlier buyer go further;
//     the others abandon carts.
// Users are bouncers (one visit, often landing on a product or help page), browsers (one to
// four visits), buyers (one or two) and returners (two to five, coming back sooner, often
// straight to a product they viewed). Time gaps are log-normal: seconds to
// minutes within a session (by page kind; now and then a pause of 5 to 30 minutes), hours to
// days between sessions. Within a session no gap exceeds 1800 s and between sessions none is
// under 7200 s, so splitting a user's events at 30 minutes of inactivity (the ingestion
// default) gives back exactly the generator's sessions.
//
// The generator tells the truth: every event carries the probability it used that the session
// ends right after it (p_exit) and the exact probability that a purchase follows later in the
// same session (p_conversion), computed by a small dynamic program over the walk's state (the
// oracle; `hunch synth --truth FILE` writes them). That state is mostly what a model can see
// in the log: the page kind and event type, the position in the session, whether a pause
// came before the event, whether the cart holds something, whether the product was viewed
// before, how many products the user has viewed, an earlier session, an earlier purchase, and
// the page a help page returns to. The user's kind, which the log never states, shifts the odds
// only mildly (a factor of 0.9 to 1.35 on exit, 0.9 to 1.1 on each funnel step), so a sequence
// model can come close to the oracle: a lookup table on those visible features comes within
// about 0.01 AUC of it (tests/native/test-synth.cpp). Which category, product or help topic a
// user opens never changes those odds.
//
// It is not a model of any real shop's numbers; the proportions are chosen to look like a small
// web shop's analytics (one visit in seven bounces; one in seven ends with a purchase: about 4%
// of first visits, over 20% of later ones).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hunch/error.h"
#include "synth/site-map.h"

namespace hunch::synth {

enum class UserKind : uint8_t { BOUNCER, BROWSER, BUYER, RETURNER };
const char* user_kind_name(UserKind k);

enum EventType : uint8_t { VIEW = 0, CLICK = 1, ADD_TO_CART = 2, PURCHASE = 3 };  // site.event_types order

struct SynthOptions {
  uint32_t users = 10000;
  uint64_t seed = 1;
  int64_t  start_time = 1714521600;  // 2024-05-01T00:00:00Z: users' first visits spread over 28 days
};

struct SynthEvent {
  uint32_t user;    // index; printed as an opaque id (user_id())
  int64_t  time;    // epoch seconds
  uint16_t page;    // index into SiteMap::pages
  uint8_t  type;    // EventType
  uint8_t  session; // the user's session number (0-based), for the structure checks
  // The oracle (see the top of this file), given everything the generator knew right after
  // this event: the probability that the session ends here, and that a purchase event follows
  // later in the same session.
  double   p_exit = 0, p_conversion = 0;
};

struct SynthStats {
  uint64_t events = 0, sessions = 0;
  uint64_t by_type[4] = {0, 0, 0, 0};
  uint64_t by_user_kind[4] = {0, 0, 0, 0};  // users
  uint64_t converting_events = 0;            // events followed by a purchase in their session
  uint64_t converting_sessions = 0;          // sessions with a purchase
  uint64_t bounces = 0;                      // sessions of one event
  double   sum_p_exit = 0, sum_p_conversion = 0;  // the oracle's, over all events
};

// Generates the whole log, ordered by time (ties by user, then generation order). The same
// options give the same events on every platform (own RNG and distributions, no std::
// distributions whose output varies between standard libraries).
std::vector<SynthEvent> generate(const SiteMap& site, const SynthOptions& options,
                                 SynthStats* stats = nullptr);

// Opaque, unique, seed-dependent user id: "u" + 12 hex digits.
std::string user_id(uint32_t user, uint64_t seed);

// "2024-05-01T12:00:05Z"
std::string iso8601(int64_t epoch_seconds);

// The CSV (header `user,time,action,type`), in memory.
std::string to_csv(const SiteMap& site, const SynthOptions& options, const std::vector<SynthEvent>& events);

// Writes the CSV to `path`, gzip-compressed when it ends in ".gz" (deterministic bytes: no
// name or time in the gzip header). Atomic: written to "<path>.tmp" then renamed.
Error write_csv(const std::string& path, const SiteMap& site, const SynthOptions& options,
                const std::vector<SynthEvent>& events);

// The oracle's side file (header `row,p_exit,p_conversion`): one line per event, in the order of
// `events` (the events file's data rows), `row` the 0-based index of the event; probabilities
// printed with %.6g.
std::string truth_csv(const std::vector<SynthEvent>& events);

// Writes truth_csv() to `path`, as write_csv() writes the events (gzip when ".gz", atomic).
Error write_truth(const std::string& path, const std::vector<SynthEvent>& events);

}  // namespace hunch::synth
