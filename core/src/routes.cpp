// Routes: URL-like action names to routes (hunch/routes.h). One implementation for the trainer
// and the browser: the thresholds here decide which vocabulary a model ships, so they change only
// with kRoutesVersion.
#include "hunch/routes.h"

namespace hunch {

namespace {

using View = std::string_view;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
char lower(char c) { return is_upper(c) ? char(c - 'A' + 'a') : c; }

// 0 lower, 1 upper, 2 digit, -1 anything else.
int char_class(char c) { return is_lower(c) ? 0 : is_upper(c) ? 1 : is_digit(c) ? 2 : -1; }

bool is_uuid(View s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < 36; ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_hex(s[i])) return false;
  }
  return true;
}

void split(View s, char sep, std::vector<View>* out) {
  out->clear();
  for (;;) {
    const size_t e = s.find(sep);
    out->push_back(s.substr(0, e));
    if (e == View::npos) return;
    s.remove_prefix(e + 1);
  }
}


// Version 2's canonical form of a path segment, one spelling for what a log and a browser's
// location.pathname may write differently: %XX of letters, digits and "-._~" decoded; %XX that
// make valid UTF-8 decoded and raw valid UTF-8 kept ("/caf%c3%a9" and "/café" are "/café", which
// reads as the page did); every other %XX with upper-case hex; bytes a browser percent-encodes in
// a path (controls, space, '"', '<', '>', '`', '{', '}', 0x7F, bytes of invalid UTF-8) encoded, and
// a '%' that starts no %XX too (else the characters after it could make one on the next pass).
// *decoded gets the segment with every %XX decoded once: what the identifier tests read
// ("bob%40mail.org" is an e-mail). Canonical input maps to itself.
bool unreserved(unsigned char c) { return char_class(char(c)) >= 0 || c == '-' || c == '.' || c == '_' || c == '~'; }
int hex_value(char c) { return is_digit(c) ? c - '0' : is_hex(c) ? (lower(c) - 'a' + 10) : -1; }
void canonical_segment(View s, std::string* out, std::string* decoded) {
  static const char kHex[] = "0123456789ABCDEF";
  decoded->clear();
  std::vector<uint8_t> escaped;  // per byte of *decoded: it was written as %XX
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      *decoded += char(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      escaped.push_back(1);
      i += 2;
    } else {
      *decoded += s[i];
      escaped.push_back(0);
    }
  }
  const View d = *decoded;
  auto encode = [&](unsigned char c) { *out += '%', *out += kHex[c >> 4], *out += kHex[c & 15]; };
  for (size_t i = 0; i < d.size();) {
    const unsigned char c = static_cast<unsigned char>(d[i]);
    if (c >= 0x80) {
      const size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
      if (n && i + n <= d.size() && valid_utf8(d.substr(i, n))) {
        out->append(d.data() + i, n);
        i += n;
      } else {
        encode(c);
        ++i;
      }
      continue;
    }
    if (unreserved(c)) *out += char(c);
    else if (escaped[i] || c <= 0x20 || c == 0x7F || c == '%' || c == '"' || c == '<' || c == '>' || c == '`' || c == '{' ||
             c == '}')
      encode(c);
    else *out += char(c);
    ++i;
  }
}
std::string canonical_segment(View s) {
  std::string out, decoded;
  canonical_segment(s, &out, &decoded);
  return out;
}
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

Error rule_error(const char* what, View token) {
  return Error(format_message("%s ('%.*s')", what, int(token.size() > 64 ? 64 : token.size()), token.data()));
}

}  // namespace

// hunch/routes.h
bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned c = static_cast<unsigned char>(s[i++]);
    if (c < 0x80) continue;
    const int n = c >= 0xC2 && c <= 0xDF ? 1 : c >= 0xE0 && c <= 0xEF ? 2 : c >= 0xF0 && c <= 0xF4 ? 3 : 0;
    if (!n || s.size() - i < size_t(n)) return false;
    unsigned cp = c & (0x3F >> n);
    for (int k = 0; k < n; ++k) {
      const unsigned b = static_cast<unsigned char>(s[i++]);
      if ((b & 0xC0) != 0x80) return false;
      cp = cp << 6 | (b & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
  }
  return true;
}

bool url_like(View a) {
  if (a.empty()) return false;
  if (a[0] == '/') return true;
  if (!is_lower(lower(a[0]))) return false;
  for (size_t i = 1; i < a.size(); ++i) {
    const char c = a[i];
    if (c == ':') return a.substr(i, 3) == "://";
    if (char_class(c) < 0 && c != '+' && c != '-' && c != '.') return false;
  }
  return false;
}

bool id_like_segment(View s, uint32_t version) {
  if (version >= 2) {
    // A placeholder (":id", a rule's ":user") is a name, not an identifier; what follows the
    // colons is tested as any segment is, so ":bob@example.com" or ":83472" is not exempt.
    while (!s.empty() && s[0] == ':') s.remove_prefix(1);
    if (s.empty()) return false;
    if (s.find("%2540") != View::npos) return true;  // an e-mail encoded twice
  }
  if (s.empty() || s[0] == ':') return false;
  size_t digits = 0, letters = 0, hex = 0;
  bool token_chars = true;
  for (char c : s) {
    digits += is_digit(c);
    letters += is_lower(c) || is_upper(c);
    hex += is_hex(c);
    if (char_class(c) < 0 && c != '-' && c != '_' && c != '.' && c != '~' && c != '=') token_chars = false;
  }
  if (digits == s.size() || is_uuid(s)) return true;
  if (hex == s.size() && s.size() >= 8 && digits) return true;
  if (s.find('@') != View::npos || s.find("%40") != View::npos) return true;
  if (digits >= 4 && digits > letters) return true;
  if (s.size() < 16 || !token_chars || !digits || !letters) return false;
  // Upper → lower is a camel-case word start ("MyAccountPage"), not counted as a change.
  size_t pairs = 0, changes = 0;
  for (size_t i = 1; i < s.size(); ++i) {
    const int a = char_class(s[i - 1]), b = char_class(s[i]);
    if (a < 0 || b < 0) continue;
    ++pairs;
    changes += a != b && !(a == 1 && b == 0);
  }
  return changes * 100 >= pairs * 30;
}

void Routes::off() { *this = Routes(); }

Error Routes::parse_rule(View line, Rule* out, std::string* canonical) {
  // Three tokens: PATTERN -> REPLACEMENT.
  View tok[3];
  size_t n = 0;
  for (size_t i = 0; i < line.size();) {
    if (line[i] == ' ' || line[i] == '\t') {
      ++i;
      continue;
    }
    size_t e = i;
    while (e < line.size() && line[e] != ' ' && line[e] != '\t') ++e;
    if (n == 3) return Error("expected 'PATTERN -> REPLACEMENT', found more than three words");
    tok[n++] = line.substr(i, e - i);
    i = e;
  }
  if (n != 3 || tok[1] != "->") return Error("expected 'PATTERN -> REPLACEMENT', e.g. '/product/* -> /product/:slug'");
  for (int t = 0; t < 3; t += 2) {
    const View p = tok[t];
    if (p[0] != '/') return rule_error(t ? "the replacement must start with '/'" : "the pattern must start with '/'", p);
    for (char c : p)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F || c == '?' || c == '#')
        return rule_error("a path holds no control characters, '?' or '#'", p);
    if (!valid_utf8(p)) return rule_error("not valid UTF-8", p);
  }
  std::vector<View> segs;
  out->pattern.clear();
  out->replacement.clear();
  split(tok[0].substr(1), '/', &segs);
  size_t wildcards = 0;
  for (size_t i = 0; i < segs.size(); ++i) {
    const View s = segs[i];
    const size_t star = s.find('*');
    if (s == "**") {
      if (i + 1 != segs.size()) return rule_error("'**' may only be the pattern's last segment", tok[0]);
    } else if (star != View::npos) {
      if (s.find('*', star + 1) != View::npos) return rule_error("a pattern segment holds at most one '*'", s);
      ++wildcards;
    }
    out->pattern.emplace_back(s);
  }
  const bool rest = out->pattern.back() == "**";
  split(tok[2].substr(1), '/', &segs);
  for (size_t i = 0; i < segs.size(); ++i) {
    const View s = segs[i];
    if (s == "**") {
      if (i + 1 != segs.size() || !rest)
        return rule_error("'**' in a replacement must be its last segment, with a pattern ending in '**'", tok[2]);
    } else if (s.find('*') != View::npos) {
      return rule_error("a replacement segment holds no '*' (use $1 … $9 for a pattern's wildcards)", s);
    } else if (!s.empty() && s[0] == '$' && (s.size() != 2 || s[1] < '1' || size_t(s[1] - '0') > wildcards)) {
      return rule_error("'$' starts a reference to one of the pattern's wildcards: $1 up to their number", s);
    }
    out->replacement.emplace_back(s);
  }
  *canonical = std::string(tok[0]) + " -> " + std::string(tok[2]);
  return {};
}

Error Routes::set(const std::vector<std::string>& keep_query, const std::vector<std::string>& rules,
                  const std::string& where, uint32_t version) {
  off();
  if (version < 1 || version > kRoutesVersion)
    return Error(format_message("%s: normalisation version %u, this core knows 1 to %u", where.c_str(), version, kRoutesVersion));
  if (keep_query.size() > kMaxKeepQuery)
    return Error(format_message("%s: %zu query parameters to keep, at most %zu", where.c_str(), keep_query.size(), kMaxKeepQuery));
  if (rules.size() > kMaxRouteRules)
    return Error(format_message("%s: %zu rules, at most %zu", where.c_str(), rules.size(), kMaxRouteRules));
  Routes r;
  for (size_t i = 0; i < keep_query.size(); ++i) {
    const std::string& k = keep_query[i];
    bool ok = !k.empty() && k.size() <= kMaxRouteBytes && valid_utf8(k);
    for (char c : k) ok = ok && static_cast<unsigned char>(c) > 0x20 && c != 0x7F && c != '&' && c != '=' && c != '#';
    if (!ok) return Error(format_message("%s: keep_query[%zu] is not a parameter name (non-empty UTF-8, no spaces, '&', '=' or '#')", where.c_str(), i));
  }
  r.rules_.resize(rules.size());
  r.rule_text_.resize(rules.size());
  for (size_t i = 0; i < rules.size(); ++i) {
    if (rules[i].size() > kMaxRouteBytes)
      return Error(format_message("%s: rules[%zu] is %zu bytes, at most %zu", where.c_str(), i, rules[i].size(), kMaxRouteBytes));
    if (Error e = parse_rule(rules[i], &r.rules_[i], &r.rule_text_[i]))
      return Error(format_message("%s: rules[%zu]: %s", where.c_str(), i, e.message.c_str()));
  }
  if (version >= 2) {
    // Rules match canonical segments (canonical_segment): their literals are made canonical too,
    // so "/café/*" matches what a browser sends ("/caf%C3%A9/…"). The text stays as written.
    for (Rule& rule : r.rules_) {
      for (std::string& s : rule.pattern) {
        if (s == "**") continue;
        const size_t star = s.find('*');
        s = star == std::string::npos ? canonical_segment(s)
                                      : canonical_segment(View(s).substr(0, star)) + "*" +
                                            canonical_segment(View(s).substr(star + 1));
      }
      for (std::string& s : rule.replacement)
        if (s != "**" && !(s.size() == 2 && s[0] == '$')) s = canonical_segment(s);
    }
  }
  r.keep_ = keep_query;
  r.version_ = version;
  r.enabled_ = true;
  *this = std::move(r);
  return {};
}

std::string Routes::apply(View a) const {
  const bool v2 = version_ >= 2;
  if (!enabled_) return std::string(a);
  if (v2) {  // " /a/12345" is the page "/a/12345": surrounding white space is not part of a URL
    View trimmed = a;
    while (!trimmed.empty() && is_space(trimmed.front())) trimmed.remove_prefix(1);
    while (!trimmed.empty() && is_space(trimmed.back())) trimmed.remove_suffix(1);
    if (!url_like(trimmed)) return std::string(a);
    a = trimmed;
  } else if (!url_like(a)) {
    return std::string(a);
  }
  a = a.substr(0, a.find('#'));
  const size_t q = a.find('?');
  const View query = q == View::npos ? View() : a.substr(q + 1);
  a = a.substr(0, q);
  std::string out;
  if (a[0] != '/') {  // scheme://[user@]host[:port]
    const size_t colon = a.find("://");
    View rest = a.substr(colon + 3);
    const size_t slash = rest.find('/');
    View host = rest.substr(0, slash);
    const size_t at = host.rfind('@');
    if (at != View::npos) host.remove_prefix(at + 1);
    const size_t start = out.size();
    for (char c : a.substr(0, colon)) out += lower(c);
    const std::string scheme = out.substr(start);
    out += "://";
    // The scheme's default port (and an empty one) says nothing: "https://x:443/" is "https://x/".
    // Until none is left, so that the route maps to itself ("x:443:" → "x").
    for (size_t port; v2 && (port = host.rfind(':')) != View::npos && host.find(']', port) == View::npos;) {
      const View p = host.substr(port + 1);
      if (!(p.empty() || (p == "443" && scheme == "https") || (p == "80" && scheme == "http"))) break;
      host = host.substr(0, port);
    }
    for (char c : host) out += lower(c);
    a = slash == View::npos ? View("/") : rest.substr(slash);
  }
  std::vector<View> segs;
  split(a.substr(1), '/', &segs);
  for (View& s : segs) s = s.substr(0, s.find(';'));  // path parameters: ;jsessionid=…
  // Version 2: empty segments inside the path go ("/a//b" is "/a/b"; a trailing slash stays),
  // and every segment is canonical (canonical_segment), its identifier test on the decoded text.
  std::vector<std::string> canon;
  std::vector<uint8_t> id_like;
  if (v2) {
    size_t n = 0;
    for (size_t i = 0; i < segs.size(); ++i)
      if (!segs[i].empty() || i + 1 == segs.size()) segs[n++] = segs[i];
    segs.resize(n);
    canon.resize(n);
    id_like.resize(n);
    std::string decoded;
    for (size_t i = 0; i < n; ++i) {
      canonical_segment(segs[i], &canon[i], &decoded);
      id_like[i] = id_like_segment(decoded, 2);
      segs[i] = canon[i];
    }
  }
  auto ids = [&](size_t from) {
    for (size_t i = from; i < segs.size(); ++i) {
      out += '/';
      if (v2 ? id_like[i] != 0 : id_like_segment(segs[i], 1)) out += ":id";
      else out += segs[i];
    }
  };
  bool matched = false;
  std::vector<View> caps;
  for (const Rule& r : rules_) {
    const bool rest = r.pattern.back() == "**";
    const size_t fixed = r.pattern.size() - rest;
    if (rest ? segs.size() < fixed : segs.size() != fixed) continue;
    caps.clear();
    size_t i = 0;
    for (; i < fixed; ++i) {
      const View p = r.pattern[i], s = segs[i];
      const size_t star = p.find('*');
      if (star == View::npos) {
        if (p != s) break;
        continue;
      }
      const View pre = p.substr(0, star), suf = p.substr(star + 1);
      if (s.size() <= pre.size() + suf.size() || s.substr(0, pre.size()) != pre || s.substr(s.size() - suf.size()) != suf)
        break;
      caps.push_back(s);
    }
    if (i < fixed) continue;
    for (const std::string& s : r.replacement) {
      if (s == "**") {
        ids(fixed);
        continue;
      }
      out += '/';
      if (s.size() == 2 && s[0] == '$') out += caps[size_t(s[1] - '1')];
      else out += s;
    }
    matched = true;
    break;
  }
  if (!matched) ids(0);
  if (!keep_.empty() && !query.empty()) {
    std::vector<View> params;
    split(query, '&', &params);
    char sep = '?';
    auto keep = [&](View p) {
      out += sep;
      sep = '&';
      if (!v2) {
        out += p;
        return;
      }
      // Version 2: controls and spaces in a kept parameter percent-encoded, as a browser's
      // location.search has them (and so that no white space ends a route).
      static const char kHex[] = "0123456789ABCDEF";
      for (char ch : p) {
        const unsigned char c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c == 0x7F) out += '%', out += kHex[c >> 4], out += kHex[c & 15];
        else out += ch;
      }
    };
    if (v2) {  // in keep_query's order, so "?q=a&page=2" and "?page=2&q=a" are one route
      for (const std::string& k : keep_)
        for (View p : params)
          if (p.substr(0, p.find('=')) == k) keep(p);
    } else {
      for (View p : params) {
        const View name = p.substr(0, p.find('='));
        for (const std::string& k : keep_)
          if (name == k) {
            keep(p);
            break;
          }
      }
    }
  }
  return out;
}

Error parse_route_rules(View text, const std::string& name, std::vector<std::string>* rules) {
  rules->clear();
  Routes::Rule rule;
  std::string canonical;
  size_t line = 0;
  for (size_t at = 0; at < text.size();) {
    ++line;
    size_t e = text.find('\n', at);
    if (e == View::npos) e = text.size();
    View l = text.substr(at, e - at);
    at = e + 1;
    if (line == 1 && l.substr(0, 3) == "\xEF\xBB\xBF") l.remove_prefix(3);  // a byte-order mark
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    auto fail = [&](const std::string& why) {
      return Error(format_message("%s:%zu: %s", name.c_str(), line, why.c_str()));
    };
    if (l.size() > kMaxRouteBytes) return fail(format_message("line of %zu bytes, at most %zu", l.size(), kMaxRouteBytes));
    if (l.find('\0') != View::npos) return fail("holds a NUL byte");
    l = l.substr(0, l.find('#'));
    size_t b = 0;
    while (b < l.size() && (l[b] == ' ' || l[b] == '\t')) ++b;
    if (b == l.size()) continue;
    if (rules->size() == kMaxRouteRules) return fail(format_message("more than %zu rules", kMaxRouteRules));
    if (Error err = Routes::parse_rule(l, &rule, &canonical)) return fail(err.message);
    rules->push_back(canonical);
  }
  return {};
}

}  // namespace hunch
