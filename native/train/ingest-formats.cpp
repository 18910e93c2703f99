// Record-level readers behind ingest.cpp's formats (ingest-formats.h).
#include "train/ingest-formats.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "train/ingest.h"

namespace hunch::train::formats {

namespace {

bool iequal(const std::string& a, const char* b) {
  size_t n = std::strlen(b);
  if (a.size() != n) return false;
  for (size_t i = 0; i < n; ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

bool iequal(const std::string& a, const std::string& b) { return a.size() == b.size() && iequal(a, b.c_str()); }

}  // namespace

bool read_digits(const char*& p, const char* e, int n, int* out) {
  int v = 0;
  for (int i = 0; i < n; ++i, ++p) {
    if (p >= e || *p < '0' || *p > '9') return false;
    v = v * 10 + (*p - '0');
  }
  *out = v;
  return true;
}

bool same_letters(std::string_view a, std::string_view b) {
  auto alnum = [](char c) { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'); };
  size_t i = 0, j = 0;
  while (true) {
    while (i < a.size() && !alnum(a[i])) ++i;
    while (j < b.size() && !alnum(b[j])) ++j;
    if (i == a.size() || j == b.size()) return i == a.size() && j == b.size();
    if ((a[i] | 0x20) != (b[j] | 0x20)) return false;
    ++i, ++j;
  }
}

bool valid_date(int y, int m, int d) {
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1 || d > kDays[m - 1]) return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return !(m == 2 && d == 29 && !leap);
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void append_utf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_missing_token(const std::string& v) {
  // Most values are none of them: rejected by length and first letter before comparing (this
  // runs on every id of every row).
  switch (v.size()) {
    case 1: case 2: case 3: case 4: case 9: break;
    default: return false;
  }
  const char first = static_cast<char>(v[0] | 0x20);  // ASCII lower case ('-' stays '-')
  if (first != 'n' && first != 'u' && first != '-') return false;
  for (const char* t : {"NA", "N/A", "null", "None", "undefined", "nan", "-"})
    if (iequal(v, t)) return true;
  return false;
}

char sniff_delimiter(const std::string& head, char prefer) {
  static const char kCands[] = {',', '\t', ';', '|'};
  // Counts per complete line (the text after the last newline may be cut), quotes respected.
  std::vector<std::vector<int>> counts;  // [line][candidate]
  std::vector<int> cur(4, 0);
  bool quoted = false;
  size_t i = head.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;
  bool line_has_text = false;
  for (; i < head.size() && counts.size() < 20; ++i) {
    char c = head[i];
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == '\n') {
      if (line_has_text) counts.push_back(cur);
      cur.assign(4, 0);
      line_has_text = false;
      continue;
    }
    if (c != '\r' && c != ' ') line_has_text = true;
    for (int k = 0; k < 4; ++k)
      if (c == kCands[k]) ++cur[k];
  }
  if (counts.empty() && line_has_text) counts.push_back(cur);  // one line, no newline
  if (counts.empty()) return 0;
  int best = -1, best_count = 0;
  for (int k = 0; k < 4; ++k) {
    int n = counts[0][k];
    bool same = n >= 1;
    for (const auto& l : counts) same = same && l[k] == n;
    if (!same) continue;
    if (kCands[k] == prefer) return prefer;
    if (n > best_count) best = k, best_count = n;
  }
  if (best >= 0) return kCands[best];
  for (int k = 0; k < 4; ++k)
    if (counts[0][k] > best_count) best = k, best_count = counts[0][k];
  return best >= 0 ? kCands[best] : 0;
}

bool names_a_column(const std::vector<std::string>& fields, const std::vector<std::string>& names) {
  for (const std::string& f : fields)
    for (const std::string& n : names)
      if (!n.empty() && iequal(f, n)) return true;
  return false;
}

bool looks_like_data(const std::vector<std::string>& fields, const std::vector<std::string>& names) {
  if (names_a_column(fields, names)) return false;
  bool value = false;
  for (const std::string& f : fields) {
    double t;
    std::string why;
    if (!value && !f.empty() && TimeColumn().read(f, &t, &why) == TimeColumn::TIME) value = true;
  }
  return value;
}

bool parse_access_time(const char* p, const char* e, double* seconds) {
  if (p < e && *p == '[') {
    ++p;
    if (e == p || e[-1] != ']') return false;
    --e;
  }
  int d, mo = 0, y, h, mi, s;
  if (!read_digits(p, e, 2, &d) || p >= e || *p++ != '/') return false;
  if (p < e && *p >= '0' && *p <= '9') {
    if (!read_digits(p, e, 2, &mo)) return false;
  } else {
    static const char* kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                    "jul", "aug", "sep", "oct", "nov", "dec"};
    if (e - p < 3) return false;
    std::string m(p, p + 3);
    for (char& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (int k = 0; k < 12; ++k)
      if (m == kMonths[k]) mo = k + 1;
    p += 3;
  }
  if (p >= e || *p++ != '/' || !read_digits(p, e, 4, &y) || p >= e || *p++ != ':' || !read_digits(p, e, 2, &h) ||
      p >= e || *p++ != ':' || !read_digits(p, e, 2, &mi) || p >= e || *p++ != ':' || !read_digits(p, e, 2, &s))
    return false;
  if (!valid_date(y, mo, d) || h > 23 || mi > 59 || s > 60) return false;
  double offset = 0;
  if (p < e) {
    if (*p++ != ' ' || p >= e || (*p != '+' && *p != '-')) return false;
    int sign = *p++ == '-' ? -1 : 1, oh, om;
    if (!read_digits(p, e, 2, &oh)) return false;
    if (p < e && *p == ':') ++p;
    if (!read_digits(p, e, 2, &om)) return false;
    if (oh > 23 || om > 59) return false;
    offset = sign * (oh * 3600.0 + om * 60.0);
  }
  if (p != e) return false;
  *seconds = double(days_from_civil(y, unsigned(mo), unsigned(d))) * 86400.0 + h * 3600.0 + mi * 60.0 + s - offset;
  return true;
}

namespace {

// Tokens of an access-log line: plain (to a space), "quoted" (backslash escapes kept decoded)
// or [bracketed].
struct Tokens {
  const std::string& s;
  size_t             i = 0;
  explicit Tokens(const std::string& line) : s(line) {}
  void skip_ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  }
  bool done() {
    skip_ws();
    return i >= s.size();
  }
  char peek() {
    skip_ws();
    return i < s.size() ? s[i] : '\0';
  }
  bool next(std::string* out) {
    skip_ws();
    out->clear();
    if (i >= s.size()) return false;
    if (s[i] == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        out->push_back(s[i++]);
      }
      if (i >= s.size()) return false;  // unterminated
      ++i;
      return true;
    }
    if (s[i] == '[') {
      size_t close = s.find(']', i);
      if (close == std::string::npos) return false;
      out->assign(s, i, close + 1 - i);
      i = close + 1;
      return true;
    }
    size_t b = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    out->assign(s, b, i - b);
    return true;
  }
};

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

bool method_name(const std::string& s) {
  if (s.empty() || s.size() > 16) return false;
  for (char c : s)
    if (c < 'A' || c > 'Z') return false;
  return true;
}

}  // namespace

bool parse_access_line(const std::string& line, AccessRecord* out, std::string* why) {
  *out = AccessRecord();
  Tokens t(line);
  std::string ident, user, tok;
  if (!t.next(&out->host) || !t.next(&ident) || !t.next(&user)) {
    *why = "expected 'host ident user [time] \"request\" …'";
    return false;
  }
  if (!t.next(&out->time)) {
    *why = "no time after 'host ident user'";
    return false;
  }
  if (out->time[0] != '[' && (t.peek() == '+' || t.peek() == '-')) {  // unbracketed zone
    t.next(&tok);
    out->time += " " + tok;
  }
  double sec;
  if (!parse_access_time(out->time.data(), out->time.data() + out->time.size(), &sec)) {
    *why = "cannot parse '" + out->time.substr(0, 40) + "' as an access-log time";
    return false;
  }
  if (t.peek() == '"') {
    std::string request;
    if (!t.next(&request)) {
      *why = "unterminated quoted request";
      return false;
    }
    Tokens r(request);
    r.next(&out->method);
    r.next(&out->path);
  } else {
    t.next(&out->method);
    t.next(&out->path);
    if (t.peek() == 'H') t.next(&tok);  // HTTP/1.1 unquoted
  }
  if (!method_name(out->method) || out->path.empty()) {
    *why = "expected a request 'METHOD path', got '" + (out->method + " " + out->path).substr(0, 60) + "'";
    return false;
  }
  if (!t.done()) {
    if (!t.next(&tok)) {
      *why = "unterminated quoted field";
      return false;
    }
    if (all_digits(tok) && tok.size() == 3) out->status = std::stoi(tok);
    else {
      *why = "expected a 3-digit status after the request, got '" + tok.substr(0, 40) + "'";
      return false;
    }
    if (!t.done() && !t.next(&tok)) return *why = "unterminated quoted field", false;  // bytes
    if (!t.done()) {
      if (t.peek() != '"' || !t.next(&tok)) return *why = "expected a quoted referer", false;
      if (!t.done()) {
        if (t.peek() != '"' || !t.next(&out->agent)) return *why = "expected a quoted user agent", false;
        if (out->agent == "-") out->agent.clear();
      }
    }
  }
  return true;
}

bool is_static_asset(const std::string& path) {
  std::string p = url_path(path);
  // Files for crawlers and browsers, not pages a visitor opens.
  for (const char* f : {"/robots.txt", "/sitemap.xml", "/sitemap_index.xml", "/ads.txt", "/humans.txt",
                        "/security.txt", "/crossdomain.xml", "/browserconfig.xml"})
    if (iequal(p, f)) return true;
  if (p.rfind("/.well-known/", 0) == 0) return true;
  size_t slash = p.rfind('/'), dot = p.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return false;
  std::string ext = p.substr(dot + 1);
  for (const char* x : {"png", "jpg", "jpeg", "gif", "webp", "avif", "svg", "ico", "bmp", "tif", "tiff",
                        "css", "js", "mjs", "map", "json", "woff", "woff2", "ttf", "otf", "eot",
                        "mp4", "webm", "mp3", "ogg", "wav", "m4a", "swf", "gz", "zip"})
    if (iequal(ext, x)) return true;
  return false;
}

std::string url_path(const std::string& url) {
  size_t b = 0;
  size_t scheme = url.find("://");
  if (scheme != std::string::npos && scheme < url.find_first_of("/?#")) {
    b = url.find('/', scheme + 3);
    if (b == std::string::npos) return "/";
  }
  size_t e = url.find_first_of("?#", b);
  std::string p = url.substr(b, e == std::string::npos ? std::string::npos : e - b);
  return p.empty() ? "/" : p;
}

// ---- JSON ------------------------------------------------------------------------------------

namespace {


class Parser {
 public:
  Parser(const char* b, const char* e, std::string* why) : p_(b), b_(b), e_(e), why_(why) {}
  bool document(Json* out) {
    ws();
    if (!value(out, 0)) return false;
    ws();
    return p_ == e_ ? true : fail("text after the value");
  }

 private:
  int  peek() const { return p_ < e_ ? static_cast<unsigned char>(*p_) : -1; }
  void ws() {
    while (p_ < e_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\r' || *p_ == '\n')) ++p_;
  }
  bool fail(const char* msg) {
    *why_ = std::string("invalid JSON: ") + msg + " at byte " + std::to_string(p_ - b_ + 1);
    return false;
  }
  bool hex4(uint32_t* out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i, ++p_) {
      if (p_ >= e_) return false;
      char c = *p_;
      v <<= 4;
      if (c >= '0' && c <= '9') v |= uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f') v |= uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= uint32_t(c - 'A' + 10);
      else return false;
    }
    *out = v;
    return true;
  }
  bool string(std::string* out) {
    ++p_;  // '"'
    out->clear();
    while (p_ < e_) {
      unsigned char c = static_cast<unsigned char>(*p_++);
      if (c == '"') return true;
      if (c < 0x20) return fail("control character in a string");
      if (c != '\\') {
        out->push_back(static_cast<char>(c));
        continue;
      }
      if (p_ >= e_) break;
      char esc = *p_++;
      uint32_t cp;
      switch (esc) {
        case '"': cp = '"'; break;
        case '\\': cp = '\\'; break;
        case '/': cp = '/'; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u': {
          if (!hex4(&cp)) return fail("bad \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (!(p_ + 1 < e_ && p_[0] == '\\' && p_[1] == 'u')) return fail("unpaired UTF-16 surrogate");
            p_ += 2;
            if (!hex4(&lo) || lo < 0xDC00 || lo > 0xDFFF) return fail("unpaired UTF-16 surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return fail("unpaired UTF-16 surrogate");
          }
          break;
        }
        default: return fail("unknown escape in a string");
      }
      append_utf8(out, cp);
    }
    return fail("unterminated string");
  }
  bool number(std::string* out) {
    const char* s = p_;
    if (peek() == '-') ++p_;
    if (peek() == '0') {
      ++p_;
    } else if (peek() >= '1' && peek() <= '9') {
      while (peek() >= '0' && peek() <= '9') ++p_;
    } else {
      return fail("bad number");
    }
    if (peek() == '.') {
      ++p_;
      if (!(peek() >= '0' && peek() <= '9')) return fail("bad number");
      while (peek() >= '0' && peek() <= '9') ++p_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++p_;
      if (peek() == '+' || peek() == '-') ++p_;
      if (!(peek() >= '0' && peek() <= '9')) return fail("bad number");
      while (peek() >= '0' && peek() <= '9') ++p_;
    }
    out->assign(s, p_);
    return true;
  }
  bool literal(const char* word) {
    size_t n = std::strlen(word);
    if (size_t(e_ - p_) < n || std::memcmp(p_, word, n) != 0) return fail("unexpected character");
    p_ += n;
    return true;
  }
  bool value(Json* v, int depth) {
    int c = peek();
    if (c == '"') { v->kind = Json::STRING; return string(&v->text); }
    if (c == '-' || (c >= '0' && c <= '9')) { v->kind = Json::NUMBER; return number(&v->text); }
    if (c == 't') { v->kind = Json::BOOL; v->text = "true"; return literal("true"); }
    if (c == 'f') { v->kind = Json::BOOL; v->text = "false"; return literal("false"); }
    if (c == 'n') { v->kind = Json::NUL; return literal("null"); }
    if (c == '{' || c == '[') {
      if (depth >= 64) return fail("nesting deeper than 64");
      ++p_;
      ws();
      const char close = c == '{' ? '}' : ']';
      v->kind = c == '{' ? Json::OBJECT : Json::ARRAY;
      if (peek() == close) { ++p_; return true; }
      for (;;) {
        ws();
        if (v->kind == Json::OBJECT) {
          if (peek() != '"') return fail("expected a string key");
          v->members.emplace_back();
          if (!string(&v->members.back().first)) return false;
          ws();
          if (peek() != ':') return fail("expected ':' after a key");
          ++p_;
          ws();
          if (!value(&v->members.back().second, depth + 1)) return false;
        } else {
          v->items.emplace_back();
          if (!value(&v->items.back(), depth + 1)) return false;
        }
        ws();
        if (peek() == ',') { ++p_; continue; }
        if (peek() == close) { ++p_; return true; }
        return fail(v->kind == Json::OBJECT ? "expected ',' or '}'" : "expected ',' or ']'");
      }
    }
    return fail(c < 0 ? "missing value" : "unexpected character");
  }

  const char *p_, *b_, *e_;
  std::string* why_;
};

// A scalar's text into *out (present); null and containers leave it absent.
void put(EventFields* f, Field k, const Json* v) {
  if (v && v->scalar()) {
    f->present[k] = true;
    f->value[k] = v->text;
  }
}

const Json* member_any(const Json& o, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (const Json* v = o.get(k); v && v->kind != Json::NUL) return v;
  return nullptr;
}

}  // namespace

const Json* Json::get(const std::string& key) const {
  if (kind != OBJECT) return nullptr;
  for (const auto& m : members)
    if (m.first == key) return &m.second;
  return nullptr;
}

bool parse_json(const char* b, const char* e, Json* out, std::string* why) {
  *out = Json();
  Parser p(b, e, why);
  return p.document(out);
}

JsonShape json_shape(const Json& r, const std::vector<std::string>& action_keys, std::string* events_field) {
  if (r.kind != Json::OBJECT) return JsonShape::FLAT;
  if (r.get("user_pseudo_id") && r.get("event_name")) return JsonShape::GA4;
  if (r.get("userId") || r.get("anonymousId")) {
    const Json* t = r.get("type");
    if (t && t->kind == Json::STRING)
      for (const char* call : {"track", "page", "screen", "identify", "group", "alias"})
        if (t->text == call) return JsonShape::SEGMENT;
  }
  for (const auto& m : r.members)
    for (const std::string& k : action_keys)
      if (iequal(m.first, k) || same_letters(m.first, k)) return JsonShape::FLAT;
  const Json* ev = r.get("events");
  if (ev && ev->kind == Json::ARRAY && (ev->items.empty() || ev->items[0].kind == Json::OBJECT)) {
    *events_field = "events";
    return JsonShape::NESTED;
  }
  // An event name beside a properties object, no action key at the top: Mixpanel, PostHog, Amplitude.
  // An event name beside a properties object that holds what the analytics tools put there, or
  // their user ids at the top: a flat log's record with a properties object of its own stays flat.
  const Json* name = member_any(r, {"event", "event_type", "event_name"});
  const Json* props = member_any(r, {"properties", "event_properties"});
  if (name && name->kind == Json::STRING && props && props->kind == Json::OBJECT) {
    if (member_any(r, {"distinct_id", "amplitude_id", "device_id"})) return JsonShape::ANALYTICS;
    for (const char* k : {"distinct_id", "time", "$time", "$current_url", "$pathname", "$session_id", "$device_id",
                          "$user_id", "product_id", "item_id", "sku"})
      if (props->get(k)) return JsonShape::ANALYTICS;
  }
  return JsonShape::FLAT;
}

bool analytics_event(const Json& r, EventFields* out, std::string* why) {
  out->clear();
  const Json* name = r.kind == Json::OBJECT ? member_any(r, {"event", "event_type", "event_name"}) : nullptr;
  if (!name || !name->scalar() || name->text.empty()) {
    *why = "expected an event object with an 'event' (or event_type, event_name)";
    return false;
  }
  const Json* props = member_any(r, {"properties", "event_properties"});
  if (props && props->kind != Json::OBJECT) props = nullptr;
  static const Json kEmpty = [] {
    Json j;
    j.kind = Json::OBJECT;
    return j;
  }();
  const Json& p = props ? *props : kEmpty;
  auto usable = [](const Json* v) { return v && v->scalar() && !v->text.empty() && !is_missing_token(v->text); };
  auto first = [&](std::initializer_list<const char*> top, std::initializer_list<const char*> in_props) -> const Json* {
    for (const char* k : top)
      if (const Json* v = r.get(k); usable(v)) return v;
    for (const char* k : in_props)
      if (const Json* v = p.get(k); usable(v)) return v;
    return nullptr;
  };
  // Amplitude's amplitude_id is its merged id (a visitor before and after logging in); its
  // session_id -1 means "outside a session": missing.
  put(out, F_USER, first({"distinct_id", "amplitude_id", "user_id", "userId", "device_id"},
                         {"distinct_id", "$user_id", "user_id", "$device_id", "device_id"}));
  put(out, F_TIME, first({"timestamp", "time", "event_time"}, {"time", "$time", "timestamp"}));
  put(out, F_TYPE, name);
  if (const Json* session = first({"session_id", "$session_id"}, {"$session_id", "session_id"}); session && session->text != "-1")
    put(out, F_SESSION, session);
  out->attributes = props;  // category, brand, price, …
  if (const Json* product = first({}, {"product_id", "item_id", "sku", "item"})) {
    put(out, F_ACTION, product);
  } else if (const Json* path = first({}, {"$pathname", "path"})) {
    put(out, F_ACTION, path);
  } else if (const Json* url = first({}, {"$current_url", "url", "page_url"})) {
    out->present[F_ACTION] = true;
    out->value[F_ACTION] = url_path(url->text);
  } else {
    put(out, F_ACTION, name);
  }
  return true;
}

bool ga4_event(const Json& r, EventFields* out, std::string* why) {
  out->clear();
  if (r.kind != Json::OBJECT) {
    *why = "expected a GA4 event object";
    return false;
  }
  put(out, F_USER, member_any(r, {"user_pseudo_id", "user_id"}));
  put(out, F_TIME, r.get("event_timestamp"));
  put(out, F_TYPE, r.get("event_name"));
  const Json* items = r.get("items");  // e-commerce events: item_category, item_brand, price, …
  if (items && items->kind == Json::ARRAY && !items->items.empty() && items->items[0].kind == Json::OBJECT)
    out->attributes = &items->items[0];
  const Json* params = r.get("event_params");
  if (params && params->kind == Json::ARRAY) {
    std::string action_key;  // the first found of page_location, page_path, firebase_screen, screen_name
    static const char* kActionKeys[] = {"page_location", "page_path", "firebase_screen", "screen_name"};
    int rank = 4;
    for (const Json& p : params->items) {
      const Json* k = p.get("key");
      const Json* v = p.get("value");
      if (!k || k->kind != Json::STRING || !v || v->kind != Json::OBJECT) continue;
      const Json* x = member_any(*v, {"string_value", "int_value", "float_value", "double_value"});
      if (!x || !x->scalar()) continue;
      if (k->text == "ga_session_id") {
        put(out, F_SESSION, x);
        // An id exported as double_value (1714564700.0) is the int_value's session (1714564700).
        if (x->kind == Json::NUMBER) {
          char* end = nullptr;
          const double d = std::strtod(x->text.c_str(), &end);
          if (end && *end == '\0' && std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9007199254740992.0) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.0f", d);
            out->value[F_SESSION] = buf;
          }
        }
      }
      for (int i = 0; i < rank; ++i)
        if (k->text == kActionKeys[i]) {
          rank = i;
          out->present[F_ACTION] = true;
          out->value[F_ACTION] = i <= 1 ? url_path(x->text) : x->text;
        }
    }
  }
  return true;
}

int segment_event(const Json& r, EventFields* out, std::string* why) {
  out->clear();
  if (r.kind != Json::OBJECT) {
    *why = "expected a Segment call object";
    return -1;
  }
  const Json* type = r.get("type");
  if (!type || type->kind != Json::STRING) {
    *why = "a Segment call without a 'type'";
    return -1;
  }
  const std::string& call = type->text;
  if (call != "track" && call != "page" && call != "screen") {
    *why = "a Segment '" + call.substr(0, 40) + "' call, not an event (track, page, screen)";
    return 0;
  }
  // The browser's id first: analytics.js keeps sending the anonymousId after an identify call,
  // so a visitor who logs in keeps one history; server-side calls carry only the userId.
  const Json* user = r.get("anonymousId");
  if (!user || !user->scalar() || user->text.empty() || is_missing_token(user->text)) user = r.get("userId");
  put(out, F_USER, user);
  put(out, F_TIME, member_any(r, {"timestamp", "originalTimestamp", "sentAt", "receivedAt"}));
  out->present[F_TYPE] = true;
  out->value[F_TYPE] = call;
  const Json* props = r.get("properties");
  if (props && props->kind == Json::OBJECT) out->attributes = props;  // category, brand, price, …
  if (call == "track") {
    // The event's name is its type (Segment's e-commerce spec: Product Viewed, Product Added,
    // Order Completed: the last a default goal type); the action is the product it names
    // (properties.product_id, else sku), or the event itself.
    const Json* event = r.get("event");
    if (event && event->scalar() && !event->text.empty()) out->value[F_TYPE] = event->text;
    const Json* product = props ? member_any(*props, {"product_id", "sku"}) : nullptr;
    put(out, F_ACTION, product && product->scalar() && !product->text.empty() ? product : event);
  } else {
    const Json* path = props ? props->get("path") : nullptr;
    if (path && path->scalar() && !path->text.empty()) {
      put(out, F_ACTION, path);
    } else {
      const Json* ctx = r.get("context");
      const Json* page = ctx ? ctx->get("page") : nullptr;
      const Json* cpath = page ? page->get("path") : nullptr;
      put(out, F_ACTION, call == "page" && cpath && cpath->scalar() ? cpath : r.get("name"));
    }
  }
  return 1;
}

}  // namespace hunch::train::formats
