// fuzz_route_rules: arbitrary bytes through the action normalisation (hunch/routes.h): the rules
// file parser (`hunch train --normalize`), Routes::set on raw entries (what Model::load runs on
// a model's hunch.normalize.rules) and apply() on arbitrary action names.
//
// Input: byte 0 bit 0 = keep the query parameters "page" and "q"; then a rules file's text up to
// the first NUL byte; after it, action names one per line.
//
// Checked besides "no crash": a parsed file has at most kMaxRouteRules rules, each canonical rule
// parses back to itself and Routes::set takes them all; apply() keeps non-URL names unchanged,
// drops fragments (and the query unless parameters are kept), turns URL-like names into URL-like
// routes, keeps valid UTF-8 valid, and without rules is idempotent.
//
// Regression replay: tests/native/test-fuzz-regressions.cpp (HUNCH_FUZZ_NO_ENTRY).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz-common.h"
#include "hunch/routes.h"

namespace hunch_fuzz_route_rules {


inline void check_apply(const hunch::Routes& r, std::string_view action, bool idempotent) {
  const std::string out = r.apply(action);
  std::string_view trimmed = action;  // version 2 drops white space around a name first
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (!trimmed.empty() && space(trimmed.front())) trimmed.remove_prefix(1);
  while (!trimmed.empty() && space(trimmed.back())) trimmed.remove_suffix(1);
  if (!hunch::url_like(trimmed)) {
    HUNCH_FUZZ_CHECK(out == action, "a name that is not URL-like passes unchanged");
    return;
  }
  HUNCH_FUZZ_CHECK(hunch::url_like(out), "a URL-like name becomes a URL-like route");
  HUNCH_FUZZ_CHECK(out.find('#') == std::string::npos, "no fragment");
  if (r.keep_query().empty()) HUNCH_FUZZ_CHECK(out.find('?') == std::string::npos, "no query string");
  if (hunch::valid_utf8(action)) HUNCH_FUZZ_CHECK(hunch::valid_utf8(out), "valid UTF-8 stays valid");
  if (idempotent) HUNCH_FUZZ_CHECK(r.apply(out) == out, "a route maps to itself (no rules)");
}

inline int run(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool keep = data[0] & 1;
  const std::string_view all(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t nul = all.find('\0');
  const std::string_view text = all.substr(0, nul);
  const std::string_view actions = nul == std::string_view::npos ? std::string_view() : all.substr(nul + 1);
  const std::vector<std::string> keep_query = keep ? std::vector<std::string>{"page", "q"} : std::vector<std::string>{};

  std::vector<std::string> rules;
  hunch::Routes routes;
  if (!hunch::parse_route_rules(text, "rules.txt", &rules)) {
    HUNCH_FUZZ_CHECK(rules.size() <= hunch::kMaxRouteRules, "at most kMaxRouteRules rules");
    for (const std::string& rule : rules) {
      std::vector<std::string> again;
      HUNCH_FUZZ_CHECK(!hunch::parse_route_rules(rule, "again", &again), "a canonical rule parses");
      HUNCH_FUZZ_CHECK(again.size() == 1 && again[0] == rule, "a canonical rule parses back to itself");
    }
    HUNCH_FUZZ_CHECK(!routes.set(keep_query, rules, "fuzz"), "Routes::set takes what the parser gave");
  } else {
    // Raw lines as a model's metadata entries: set() checks them itself.
    std::vector<std::string> lines;
    for (size_t b = 0; b <= text.size() && lines.size() < 64;) {
      size_t e = text.find('\n', b);
      if (e == std::string_view::npos) e = text.size();
      lines.emplace_back(text.substr(b, e - b));
      b = e + 1;
    }
    if (routes.set(keep_query, lines, "fuzz")) {
      HUNCH_FUZZ_CHECK(!routes.enabled(), "a refused set leaves normalisation off");
      HUNCH_FUZZ_CHECK(!routes.set(keep_query, {}, "fuzz"), "no rules are always fine");
    }
  }
  const bool idempotent = routes.rules().empty();
  size_t n = 0;
  for (size_t b = 0; b <= actions.size() && n < 256; ++n) {
    size_t e = actions.find('\n', b);
    if (e == std::string_view::npos) e = actions.size();
    check_apply(routes, actions.substr(b, e - b), idempotent);
    b = e + 1;
  }
  if (actions.empty()) check_apply(routes, text.substr(0, 4096), idempotent);  // the text as a name
  return 0;
}

}  // namespace hunch_fuzz_route_rules

#ifndef HUNCH_FUZZ_NO_ENTRY
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return hunch_fuzz_route_rules::run(data, size);
}
#endif
