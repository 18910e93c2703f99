// Routes, not URLs: the normalisation of URL-like action names, shared by the trainer (at
// ingestion, before a name is counted) and the core (when an app pushes an event by name), so a
// page's `location.pathname + location.search` maps to the route the model was trained on.
//
// An action is URL-like when it starts with '/' or with a scheme and "://" (`https://…`);
// every other action (an item id, a button name) passes through unchanged. A URL-like action:
//   1. loses its fragment (#…) and its query string, except the parameters named in keep_query
//      (kept in their order, values as they are);
//   2. loses user info ("user:pass@") and gets its scheme and host lower-cased; an empty path
//      becomes "/";
//   3. loses path parameters (";jsessionid=…" inside a segment);
//   4. is matched against the rules, first match wins (below); without a match, every path
//      segment that looks like an identifier (id_like_segment) becomes ":id".
// apply() is idempotent: a route maps to itself (":…" segments are never identifiers).
//
// Rules (one per line of a rules file, one per entry of hunch.normalize.rules):
//   PATTERN -> REPLACEMENT          e.g.   /product/* -> /product/:slug
// Both are paths starting with '/', split at '/' into segments (no spaces, '?', '#' or control
// characters). A PATTERN segment is a literal (matches itself exactly), `*` (any one non-empty
// segment), `pre*suf` (one '*' inside: a segment starting with pre and ending with suf, at least
// one character between them) or, as the last segment only, `**` (the rest of the path: zero or
// more segments). A REPLACEMENT segment is a literal (copied as written), `$1`…`$9` (the segment
// the n-th single-segment wildcard of the pattern matched, copied as it is) or, as the last
// segment and only when the pattern ends with `**`, `**` (the segments `**` matched, each
// identifier-looking one replaced by ":id"). Matching walks the segments once, left to right,
// with no backtracking: a rule costs at most one comparison per segment.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hunch/error.h"

namespace hunch {

// Strict UTF-8: no overlong forms, surrogates or code points over U+10FFFF. The one validator of
// the project (route rules here, event-log values in the trainer, the fuzz targets' checks).
bool valid_utf8(std::string_view s);

// hunch.normalize.version: the normalisation a model was trained with, applied as it was to the
// events pushed to it. A model with a version this core does not know is refused (it would map
// pages to routes the model never saw). New models are trained with kRoutesVersion.
//   1: as described above.
//   2: also (so that what a browser reports maps to the route a log's spelling trained):
//      - white space around the name is dropped before it is tested for URL-likeness (" /a/1");
//      - the scheme's default port goes ("https://x:443/" → "https://x/");
//      - empty segments inside the path go ("/a//b" → "/a/b"; a trailing slash stays);
//      - each segment is canonical: %XX of letters, digits and "-._~" and of valid UTF-8
//        decoded ("/caf%c3%a9" is "/café"), other %XX in upper case, and what location.pathname
//        percent-encodes (controls, space, '"', '<', '>', '`', '{', '}', 0x7F, invalid UTF-8) and
//        a '%' that starts no %XX encoded ("/a b" is "/a%20b", "/100%" is "/100%25"); the identifier tests read the segment decoded once; rule
//        literals are made canonical;
//      - kept query parameters come in keep_query's order, not the URL's, with controls and
//        spaces in them percent-encoded;
//      - a segment starting with ':' is tested on what follows the colons (":83472" and
//        ":bob@example.com" are identifiers, ":id" and ":user" are not), and "%2540" (an e-mail's
//        '@' encoded twice) makes a segment an identifier.
constexpr uint32_t kRoutesVersion   = 2;
constexpr size_t   kMaxRouteRules   = 1000;  // rules per file / model
constexpr size_t   kMaxKeepQuery    = 100;   // names in keep_query
constexpr size_t   kMaxRouteBytes   = 4096;  // one rule line, one parameter name

// Whether `action` starts with '/' or with `scheme://` (scheme: a letter, then letters,
// digits, '+', '-', '.').
bool url_like(std::string_view action);

// The identifier test of one path segment; version 1 (never one starting with ':'):
//   - all ASCII digits: "83472";
//   - a UUID: 8-4-4-4-12 hexadecimal digits with '-';
//   - hexadecimal of 8 or more characters with at least one digit: "5f3a9c1e", a SHA;
//   - e-mail-like: holds '@' or "%40";
//   - digit-heavy: 4 or more digits and more digits than letters: "INV-2024-00123", "2019-10-01";
//   - a high-entropy token: 16 or more characters, only letters, digits and "-_.~=", at least
//     one letter and one digit, where at least 30% of the adjacent pairs of letters and digits
//     change from lower to upper case or between a letter and a digit (upper to lower is how a
//     camel-case word starts, not counted): "eyJhbGciOiJIUzI1NiJ9", "k2j4h5g6f7d8s9a0".
// Slugs ("moka-pot", "iphone-15-pro-max-256gb", "2019-10-01-release-notes") are not identifiers.
// Version 2's changes: see kRoutesVersion.
bool id_like_segment(std::string_view segment, uint32_t version = kRoutesVersion);

class Routes {
 public:
  // Off: apply() returns its input.
  Routes() = default;

  // Turns normalisation on with these parameters to keep and rules ("PATTERN -> REPLACEMENT").
  // Checks every rule and name; an error names `where` and the entry ("hunch.normalize.rules[3]:
  // …"), and leaves the object off.
  Error set(const std::vector<std::string>& keep_query, const std::vector<std::string>& rules,
            const std::string& where, uint32_t version = kRoutesVersion);
  void off();

  bool enabled() const { return enabled_; }
  uint32_t version() const { return version_; }  // the normalisation applied (hunch.normalize.version)
  const std::vector<std::string>& keep_query() const { return keep_; }
  const std::vector<std::string>& rules() const { return rule_text_; }

  // The route of `action` (the action itself when off or not URL-like).
  std::string apply(std::string_view action) const;

 private:
  struct Rule {
    std::vector<std::string> pattern;      // segments; "**" only last
    std::vector<std::string> replacement;  // segments; "$n" and a last "**" are references
  };
  bool                     enabled_ = false;
  uint32_t                 version_ = kRoutesVersion;
  std::vector<std::string> keep_;
  std::vector<std::string> rule_text_;
  std::vector<Rule>        rules_;
  static Error parse_rule(std::string_view line, Rule* out, std::string* canonical);
  friend Error parse_route_rules(std::string_view, const std::string&, std::vector<std::string>*);
};

// Reads a rules file's text: one rule per line, `#` starts a comment, blank lines are skipped.
// Returns the rules in canonical form ("PATTERN -> REPLACEMENT") or the first error as
// "name:line: …". Bounds: kMaxRouteRules rules, kMaxRouteBytes per line, UTF-8, no NUL.
Error parse_route_rules(std::string_view text, const std::string& name, std::vector<std::string>* rules);

}  // namespace hunch
