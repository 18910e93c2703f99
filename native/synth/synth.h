// The bundled data: a seeded, deterministic event log of the shop in site-map.h, realistic
// enough to train and judge a next-action model on, and built to carry structure that a
// first-order Markov chain cannot see:
//   - intent that persists: each user favours one or two categories, and a session keeps to
//     one of them, also across hub pages (home, search, deals, cart) where the previous page
//     alone says nothing about where the user goes next;
//   - returns: users go back to products they viewed earlier in the session and, for
//     returners, in earlier sessions (landing straight on them days later); a product viewed a
//     second time is far more likely to be added to the cart;
//   - a funnel whose progress depends on the session's purpose: buyers go product → cart →
//     checkout → payment → purchase, browsers abandon carts.
// Users are bouncers, browsers, buyers and returners. Time gaps are log-normal: seconds to
// minutes within a session (by page kind), hours to days between sessions.
//
// It is not a model of any real shop's numbers; the proportions are chosen to look like a small
// web shop's analytics (a quarter of visits bounce, a few percent convert).
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
};

struct SynthStats {
  uint64_t events = 0, sessions = 0;
  uint64_t by_type[4] = {0, 0, 0, 0};
  uint64_t by_user_kind[4] = {0, 0, 0, 0};  // users
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

}  // namespace hunch::synth
