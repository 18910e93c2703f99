// Event-log ingestion (ingest.h): streaming readers for every format (the record-level parsing
// of the newer ones is in ingest-formats.cpp), row validation, the per-user time sort, cleaning,
// sessions and the vocabulary.
#include "train/ingest.h"
#include "train/attributes.h"
#include "train/chunked.h"
#include "train/name-table.h"

#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <filesystem>
#include <unordered_set>

#include "hunch/model.h"
#include "hunch/routes.h"
#include "train/ingest-formats.h"

namespace hunch::train {

const char* format_name(Format f) {
  switch (f) {
    case Format::CSV: return "csv";
    case Format::TSV: return "tsv";
    case Format::JSONL: return "jsonl";
    case Format::PAIRS: return "pairs";
    case Format::GA4: return "ga4";
    case Format::SEGMENT: return "segment";
    case Format::ANALYTICS: return "analytics";
    case Format::ACCESS_LOG: return "access-log";
    case Format::LISTS: return "lists";
    default: return "auto";
  }
}

bool parse_format(const std::string& name, Format* out) {
  static const struct { const char* n; Format f; } kNames[] = {
      {"auto", Format::AUTO}, {"csv", Format::CSV},     {"tsv", Format::TSV},
      {"jsonl", Format::JSONL}, {"ndjson", Format::JSONL}, {"pairs", Format::PAIRS},
      {"ga4", Format::GA4},     {"segment", Format::SEGMENT}, {"analytics", Format::ANALYTICS}, {"access-log", Format::ACCESS_LOG},
      {"lists", Format::LISTS}};
  for (const auto& k : kNames)
    if (name == k.n) { *out = k.f; return true; }
  return false;
}

static bool ends_with(const std::string& s, const char* suffix) {
  size_t n = std::strlen(suffix);
  if (s.size() < n) return false;
  for (size_t i = 0; i < n; ++i)
    if (std::tolower(static_cast<unsigned char>(s[s.size() - n + i])) != suffix[i]) return false;
  return true;
}

Format format_from_path(const std::string& path) {
  std::string p = ends_with(path, ".gz") ? path.substr(0, path.size() - 3) : path;
  if (ends_with(p, ".csv")) return Format::CSV;
  if (ends_with(p, ".tsv") || ends_with(p, ".tab")) return Format::TSV;
  if (ends_with(p, ".jsonl") || ends_with(p, ".ndjson") || ends_with(p, ".json")) return Format::JSONL;
  if (ends_with(p, ".txt") || ends_with(p, ".dat")) return Format::PAIRS;
  if (ends_with(p, ".log")) return Format::ACCESS_LOG;
  return Format::AUTO;
}

std::vector<float> default_gap_edges() {
  return {1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600, 10800, 43200, 86400, 259200,
          604800, 2592000};
}

FixedVocabulary vocabulary_of(const hunch::Model& model) {
  FixedVocabulary v{model.action_names(), model.types(), model.gap_edges(), {}, {}, {}, {}};
  const hunch::AttrIndex& ai = model.attributes();
  for (uint32_t k = 0; k < ai.columns(); ++k) {
    v.attr_columns.push_back(ai.names()[k]);
    v.attr_numeric.push_back(ai.numeric(k));
  }
  if (ai.columns()) v.attr_values = ai.values();
  v.routes = model.routes();
  return v;
}

// ---- input -----------------------------------------------------------------------------------

namespace {

// Buffered bytes from a gzip-or-plain file (gzread passes plain files through) or a string.
class Source {
 public:
  Error open_file(const std::string& path) {
    gz_ = gzopen(path.c_str(), "rb");
    if (!gz_) return Error(path + ": cannot open: " + std::strerror(errno ? errno : ENOENT));
    gzbuffer(gz_, 1 << 17);
    buf_.resize(1 << 18);
    name_ = path;
    return {};
  }
  void open_memory(const std::string& name, const std::string* bytes) {
    mem_ = bytes;
    name_ = name;
  }
  ~Source() {
    if (gz_) gzclose(gz_);
  }

  // Next byte or -1 at the end (or on a read error: see error()).
  int get() {
    if (pos_ == len_ && !fill()) return -1;
    return static_cast<unsigned char>(data_[pos_++]);
  }
  int peek() {
    if (pos_ == len_ && !fill()) return -1;
    return static_cast<unsigned char>(data_[pos_]);
  }
  // Appends the buffered bytes before the next `delim`, '\n' or '\r' (or the buffer's end) to
  // *out, at most `room` of them, and consumes them; returns how many there were. A delimited
  // record's unquoted field in one step rather than a call per byte.
  size_t scan(char delim, std::string* out, size_t room) {
    size_t i = pos_;
    while (i < len_ && data_[i] != delim && data_[i] != '\n' && data_[i] != '\r') ++i;
    const size_t n = i - pos_;
    out->append(data_ + pos_, std::min(n, room));
    pos_ = i;
    return n;
  }
  // The first bytes of the input, for format sniffing (does not consume).
  std::string head(size_t n) {
    if (pos_ == len_) fill();
    return std::string(data_ + pos_, std::min(n, len_ - pos_));
  }
  const Error& error() const { return error_; }
  // Bytes of the file read so far (compressed bytes for gzip), for progress.
  uint64_t consumed() const {
    if (gz_) {
      z_off_t o = gzoffset(gz_);
      return o > 0 ? static_cast<uint64_t>(o) : 0;
    }
    return pos_;
  }

 private:
  bool fill() {
    if (mem_) {
      if (mem_done_) return false;
      mem_done_ = true;
      data_ = mem_->data();
      len_ = mem_->size();
      pos_ = 0;
      return len_ > 0;
    }
    if (!gz_ || eof_) return false;
    int n = gzread(gz_, buf_.data(), static_cast<unsigned>(buf_.size()));
    if (n < 0) {
      int code = 0;
      const char* msg = gzerror(gz_, &code);
      error_ = Error(name_ + ": read error: " + (msg ? msg : "unknown") +
                     " (a truncated or corrupt gzip file?)");
      eof_ = true;
      return false;
    }
    if (n == 0) {
      // zlib reports a stream cut short only here, as Z_BUF_ERROR after the last bytes.
      int code = Z_OK;
      gzerror(gz_, &code);
      if (code == Z_BUF_ERROR)
        error_ = Error(name_ + ": unexpected end of the gzip stream (truncated file?)");
      eof_ = true;
      return false;
    }
    data_ = buf_.data();
    len_ = static_cast<size_t>(n);
    pos_ = 0;
    return true;
  }

  gzFile             gz_ = nullptr;
  const std::string* mem_ = nullptr;
  bool               mem_done_ = false, eof_ = false;
  std::vector<char>  buf_;
  const char*        data_ = nullptr;
  size_t             len_ = 0, pos_ = 0;
  std::string        name_;
  Error              error_;
};

// A value for a message: at most 60 bytes (cut at a character), control bytes and bytes of
// invalid UTF-8 as \xHH, so that the report stays readable UTF-8 whatever the log holds.
std::string quote_value(const std::string& v) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out = "'";
  size_t i = 0;
  for (; i < v.size() && i < 60;) {
    const unsigned char c = static_cast<unsigned char>(v[i]);
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7F) out += "\\x", out += kHex[c >> 4], out += kHex[c & 15];
    else if (c >= 0x80) {
      const size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
      if (n && i + n <= v.size() && valid_utf8(std::string_view(v).substr(i, n))) {
        out.append(v, i, n);
        i += n;
        continue;
      }
      out += "\\x", out += kHex[c >> 4], out += kHex[c & 15];
    } else {
      out += char(c);
    }
    ++i;
  }
  if (i < v.size()) out += "…";
  return out + "'";
}

using formats::append_utf8;

// ---- JSON Lines: one flat object per line --------------------------------------------------

constexpr int kMaxJsonDepth = 64;

// Values of the top-level keys of one object. Nested objects/arrays are skipped (not stored);
// null is stored as absent.
struct JsonField {
  std::string key, value;
  bool        is_null = false, is_nested = false;
};

class JsonLine {
 public:
  // Parses [p, e) as one object; false + *why on any syntax error.
  bool parse(const char* p, const char* e, std::vector<JsonField>* fields, size_t* nfields,
             std::string* why) {
    p_ = p; b_ = p; e_ = e; why_ = why;
    *nfields = 0;
    ws();
    if (!expect('{')) return fail("expected '{' at the start of the line");
    ws();
    if (peek() == '}') { ++p_; return end(); }
    for (;;) {
      ws();
      if (*nfields == fields->size()) fields->emplace_back();
      JsonField& f = (*fields)[(*nfields)++];
      f.is_null = f.is_nested = false;
      f.value.clear();
      if (peek() != '"') return fail("expected a string key");
      if (!string(&f.key)) return false;
      ws();
      if (!expect(':')) return fail("expected ':' after a key");
      ws();
      if (!value(&f)) return false;
      ws();
      if (peek() == ',') { ++p_; continue; }
      if (peek() == '}') { ++p_; return end(); }
      return fail("expected ',' or '}'");
    }
  }

 private:
  int  peek() const { return p_ < e_ ? static_cast<unsigned char>(*p_) : -1; }
  bool expect(char c) {
    if (peek() != static_cast<unsigned char>(c)) return false;
    ++p_;
    return true;
  }
  void ws() {
    while (p_ < e_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\r' || *p_ == '\n')) ++p_;
  }
  bool fail(const char* msg) {
    *why_ = std::string("invalid JSON: ") + msg + " at byte " + std::to_string(p_ - b_ + 1);
    return false;
  }
  bool end() {
    ws();
    return p_ == e_ ? true : fail("text after the object");
  }
  bool hex4(uint32_t* out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i, ++p_) {
      if (p_ >= e_) return false;
      char c = *p_;
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else return false;
    }
    *out = v;
    return true;
  }
  // At '"'. Decodes into *out (nullptr: validate and skip).
  bool string(std::string* out) {
    ++p_;
    if (out) out->clear();
    while (p_ < e_) {
      unsigned char c = static_cast<unsigned char>(*p_++);
      if (c == '"') return true;
      if (c < 0x20) return fail("control character in a string");
      if (c != '\\') {
        if (out) out->push_back(static_cast<char>(c));
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
            if (p_ + 1 < e_ && p_[0] == '\\' && p_[1] == 'u') {
              p_ += 2;
              if (!hex4(&lo) || lo < 0xDC00 || lo > 0xDFFF) return fail("unpaired UTF-16 surrogate");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              return fail("unpaired UTF-16 surrogate");
            }
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return fail("unpaired UTF-16 surrogate");
          }
          break;
        }
        default: return fail("unknown escape in a string");
      }
      if (out) append_utf8(out, cp);
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
    if (out) out->assign(s, p_);
    return true;
  }
  bool literal(const char* word, std::string* out) {
    size_t n = std::strlen(word);
    if (size_t(e_ - p_) < n || std::memcmp(p_, word, n) != 0) return fail("unexpected character");
    p_ += n;
    if (out) out->assign(word);
    return true;
  }
  // Skips a nested object/array without recursion: a stack of open brackets, capped.
  bool skip_nested() {
    char stack[kMaxJsonDepth];
    int depth = 0;
    for (;;) {
      ws();
      int c = peek();
      if (c == '{' || c == '[') {
        if (depth == kMaxJsonDepth) return fail("nesting deeper than 64");
        stack[depth++] = static_cast<char>(c == '{' ? '}' : ']');
        ++p_;
        ws();
        if (peek() == stack[depth - 1]) { ++p_; --depth; goto after_value; }
        if (stack[depth - 1] == '}') goto object_key;
        continue;  // first array element
      }
      if (depth == 0) return fail("internal: not at a nested value");
      if (c == '"') { if (!string(nullptr)) return false; }
      else if (c == '-' || (c >= '0' && c <= '9')) { if (!number(nullptr)) return false; }
      else if (c == 't') { if (!literal("true", nullptr)) return false; }
      else if (c == 'f') { if (!literal("false", nullptr)) return false; }
      else if (c == 'n') { if (!literal("null", nullptr)) return false; }
      else return fail("unexpected character");
    after_value:
      for (;;) {
        if (depth == 0) return true;
        ws();
        if (peek() == ',') {
          ++p_;
          if (stack[depth - 1] == '}') goto object_key;
          break;  // next array element
        }
        if (peek() == stack[depth - 1]) { ++p_; --depth; continue; }
        return fail("expected ',' or a closing bracket");
      }
      continue;
    object_key:
      ws();
      if (peek() != '"') return fail("expected a string key");
      if (!string(nullptr)) return false;
      ws();
      if (!expect(':')) return fail("expected ':' after a key");
    }
  }
  bool value(JsonField* f) {
    int c = peek();
    if (c == '"') return string(&f->value);
    if (c == '-' || (c >= '0' && c <= '9')) return number(&f->value);
    if (c == 't') return literal("true", &f->value);
    if (c == 'f') return literal("false", &f->value);
    if (c == 'n') { f->is_null = true; return literal("null", nullptr); }
    if (c == '{' || c == '[') { f->is_nested = true; return skip_nested(); }
    return fail(c < 0 ? "missing value" : "unexpected character");
  }

  const char *p_ = nullptr, *b_ = nullptr, *e_ = nullptr;
  std::string* why_ = nullptr;
};

// ---- rows ------------------------------------------------------------------------------------

enum Role { USER = 0, TIME = 1, ACTION = 2, TYPE = 3, ROLES = 4 };
const char* const kRoleNames[ROLES] = {"user", "time", "action", "type"};
// Searched in order, each name in any case first; failing all of those, with everything but
// letters and digits ignored (find_default: RetailRocket's "visitorid", "userId", "User ID").
// The names after the first row of each list come from common exports (RetailRocket, Mixpanel,
// Snowplow, Amplitude, Tmall, warehouse tables); they are tried after the older ones, so a log
// that one of those matched reads as it did.
const std::vector<std::string> kDefaults[ROLES] = {
    {"user", "user_id", "session", "session_id", "SessionId",
     "visitor_id", "customer_id", "client_id", "distinct_id", "anonymous_id", "domain_userid", "device_id", "uid"},
    {"time", "timestamp", "ts", "Time", "event_time",
     "event_timestamp", "datetime", "created_at", "occurred_at"},
    {"action", "item", "item_id", "ItemId", "page", "url", "product_id",
     "product", "sku", "product_sku", "page_path", "path", "page_url", "screen_name", "content_id"},
    {"type", "event", "event_type",
     "event_name", "action_type", "behavior", "behaviour"}};
const std::vector<std::string> kSessionNames = {"session", "session_id", "user_session", "SessionId", "ga_session_id"};

// Attribute columns found by name (IngestOptions::find_attributes): per group, the first name
// present. The names of the common e-commerce schemas: REES46 and Taobao's logs, Segment's
// e-commerce spec (category, brand, price), GA4's items (item_category, item_brand, price).
struct AutoAttributeGroup {
  bool numeric;
  std::vector<std::string> names;
};
const std::vector<AutoAttributeGroup> kAutoAttributes = {
    {false, {"category_id", "category", "categoryid", "item_category", "category_code", "category_name"}},
    {false, {"brand", "brand_id", "item_brand", "brand_name", "manufacturer"}},
    {true, {"price", "item_price", "unit_price"}}};

bool same_name(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

using formats::same_letters;

// The first of `candidates` among n names (name(i): a std::string; skip(i): not to be taken),
// matched in any case; failing every candidate so, the first matched by same_letters. n when
// none is.
template <class NameOf, class Skip>
size_t find_default(size_t n, NameOf name, const std::vector<std::string>& candidates, Skip skip) {
  for (bool loose : {false, true})
    for (const std::string& c : candidates)
      for (size_t i = 0; i < n; ++i)
        if (!skip(i) && (loose ? same_letters(name(i), c) : same_name(name(i), c))) return i;
  return n;
}

size_t find_default(const std::vector<std::string>& names, const std::vector<std::string>& candidates) {
  return find_default(names.size(), [&](size_t j) -> const std::string& { return names[j]; }, candidates,
                      [](size_t) { return false; });
}

// Where `name` is among n keys (key(i): a std::string): the exact spelling first, else any case,
// as headers are matched; n when absent.
template <class KeyOf>
size_t find_name(size_t n, const std::string& name, KeyOf key) {
  for (size_t i = 0; i < n; ++i)
    if (key(i) == name) return i;
  for (size_t i = 0; i < n; ++i)
    if (same_name(key(i), name)) return i;
  return n;
}

// The next field of a whitespace-separated line (`user item …`) from *i: its start in *start,
// *i past it; false when none is left.
bool next_field(std::string_view line, size_t* i, size_t* start) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (*i < line.size() && space(line[*i])) ++*i;
  *start = *i;
  while (*i < line.size() && !space(line[*i])) ++*i;
  return *i > *start;
}

// One record reduced to the four roles.
struct Row {
  uint64_t    line = 0;
  bool        present[ROLES] = {};
  std::string value[ROLES];
  std::vector<std::string> attr;  // the attribute columns' values (train/attributes.h)
  bool        has_session = false;  // the session column's value (IngestOptions::session_column)
  std::string session;
  uint32_t    sub = 0;  // position among the events of one record (per-session JSON), for ties
};

// One accepted event while reading: 32 bytes. `key` is the sort time: the event's own time, or
// for an event without one the key of its user's previous event, so that it stays where the
// file put it after the sort. `sub` orders the events of one record (they share a line).
// `session`: a 32-bit hash of the session column's value (UINT32_MAX = none): only changes
// between a user's consecutive events matter, so two sessions in a row merge only when their
// hashes collide (odds 2^-32), and no session string is kept.
struct RawEvent {
  double   key;
  uint64_t line : 47, sub : 16, has_time : 1;
  uint32_t user, action, type;  // interned raw ids; type UINT32_MAX = none
  uint32_t session;
};
static_assert(sizeof(RawEvent) == 32, "ingestion memory per event is documented as 32 bytes");

struct UserState {
  double last_key = -std::numeric_limits<double>::infinity();
  double max_time = -std::numeric_limits<double>::infinity();
  bool mine = true;  // IngestOptions::shard: this process keeps the user's events
};

// Distinct user, action and type names → dense ids in order of first sight, compactly
// (name-table.h: the name's bytes + about 23–34 bytes each).
using Interner = NameTable;

// Per route (interned action id), how many distinct logged names became it, for the cleaning
// report. Names the normalisation changed are remembered by a 64-bit hash (no raw name is kept);
// a name that is its own route is counted once by a flag. Bounded: past `cap` hashes only those
// whose low `level` bits are zero are kept (adaptive sampling, Flajolet 1990), each standing for
// 2^level names, and the level rises until the sample fits again.
class RouteCount {
 public:
  void set_cap(size_t cap) { cap_ = cap; }
  void add(uint32_t route, const std::string& raw, bool changed) {
    if (route >= kept_.size()) kept_.resize(route + 1, 0), self_.resize(route + 1, false);
    if (!changed) {
      self_[route] = true;
      return;
    }
    uint64_t h = 1469598103934665603ull;  // FNV-1a 64, then a finaliser so that low bits sample well
    for (char c : raw) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    h ^= h >> 33, h *= 0xff51afd7ed558ccdull, h ^= h >> 33, h *= 0xc4ceb9fe1a85ec53ull, h ^= h >> 33;
    if (h & mask_) return;
    if (!seen_.emplace(h, route).second) return;
    ++kept_[route];
    while (cap_ && seen_.size() > cap_) {  // halve the sample
      ++level_;
      mask_ = (uint64_t(1) << level_) - 1;
      for (auto it = seen_.begin(); it != seen_.end();)
        if (it->first & mask_) --kept_[it->second], it = seen_.erase(it);
        else ++it;
    }
  }
  uint64_t raws(uint32_t route) const { return self_[route] + (kept_[route] << level_); }
  void report(const std::vector<std::string>& names, uint32_t skip, IngestReport* rep) const {
    std::vector<uint32_t> order;
    for (uint32_t i = 0; i < kept_.size(); ++i) {
      if (i == skip) continue;
      rep->raw_actions += raws(i);
      if (raws(i) > 1) order.push_back(i);
    }
    rep->raw_actions_estimated = level_ > 0;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return raws(a) != raws(b) ? raws(a) > raws(b) : names[a] < names[b];
    });
    for (size_t i = 0; i < order.size() && i < 10; ++i) rep->top_routes.emplace_back(names[order[i]], raws(order[i]));
  }
  uint64_t bytes() const { return seen_.bucket_count() * sizeof(void*) + seen_.size() * 32 + kept_.capacity() * 8; }

 private:
  size_t                                 cap_ = 0;
  unsigned                               level_ = 0;
  uint64_t                               mask_ = 0;
  std::vector<uint64_t>                  kept_;
  std::vector<bool>                      self_;
  std::unordered_map<uint64_t, uint32_t> seen_;  // sampled hash → its route
};

// The space-saving summary (Metwally, Agrawal and El Abbadi, "Efficient computation of frequent
// and top-k elements in data streams", 2005): `capacity` names with counts; a new name when full
// takes the place of the smallest count m and starts at m + 1. Every name whose true count
// exceeds the final smallest count is in the summary, and a name not in it was seen at most
// that many times (bound()). A min-heap over the slots finds the smallest in O(log capacity).
class NameSummary {
 public:
  explicit NameSummary(size_t capacity) : capacity_(capacity) {}
  void add(const std::string& name, uint64_t n) {
    auto it = slot_.find(name);
    if (it != slot_.end()) {
      count_[it->second] += n;
      down(pos_[it->second]);
      return;
    }
    if (name_.size() < capacity_) {
      const uint32_t s = static_cast<uint32_t>(name_.size());
      name_.push_back(name);
      count_.push_back(n);
      pos_.push_back(static_cast<uint32_t>(heap_.size()));
      heap_.push_back(s);
      slot_.emplace(name, s);
      up(pos_[s]);
      return;
    }
    const uint32_t s = heap_[0];  // the smallest count gives up its place
    slot_.erase(name_[s]);
    name_[s] = name;
    count_[s] += n;
    slot_.emplace(name, s);
    down(0);
  }
  uint64_t bound() const { return name_.size() < capacity_ || heap_.empty() ? 0 : count_[heap_[0]]; }
  const std::vector<std::string>& names() const { return name_; }

 private:
  bool less(size_t i, size_t j) const { return count_[heap_[i]] < count_[heap_[j]]; }
  void swap_at(size_t i, size_t j) {
    std::swap(heap_[i], heap_[j]);
    pos_[heap_[i]] = static_cast<uint32_t>(i);
    pos_[heap_[j]] = static_cast<uint32_t>(j);
  }
  void up(size_t i) {
    for (; i > 0 && less(i, (i - 1) / 2); i = (i - 1) / 2) swap_at(i, (i - 1) / 2);
  }
  void down(size_t i) {
    for (;;) {
      size_t m = i, l = 2 * i + 1, r = l + 1;
      if (l < heap_.size() && less(l, m)) m = l;
      if (r < heap_.size() && less(r, m)) m = r;
      if (m == i) return;
      swap_at(i, m);
      i = m;
    }
  }

  size_t                                    capacity_;
  std::unordered_map<std::string, uint32_t> slot_;
  std::vector<std::string>                  name_;
  std::vector<uint64_t>                     count_;
  std::vector<uint32_t>                     heap_, pos_;  // heap of slots; slot → heap position
};

class Ingestor {
 public:
  Ingestor(const std::string& name, const IngestOptions& opt, IngestReport* rep)
      : name_(name), opt_(opt), rep_(rep) {}

  Error run(Source* src, Dataset* out);
  Error run_files(const std::vector<std::string>& paths, Dataset* out);
  // Bounded name counting (IngestOptions::max_names). After a run that found more distinct
  // actions than max_names, counted() is true, the Dataset is not filled and summary() holds
  // the counting read's result; the log is then read again by an Ingestor given admit(): the
  // summary's names, counted exactly, and the bound on the others.
  bool counted() const { return summary_ != nullptr; }
  // The run stopped at a time that showed the day first after others were read month first.
  bool day_first_shown_late() const { return day_first_late_; }
  const NameSummary& summary() const { return *summary_; }
  void admit(const std::unordered_set<std::string>* names, uint64_t bound) { admit_ = names, admit_bound_ = bound; }

 private:
  Error configure();               // options and attribute columns, once per log
  Error read_source(Source* src);  // one input, any format (the format is checked per file)
  // "file:line" of a record by its position in the whole input (RawEvent::line).
  std::string where(uint64_t position) const;
  // IngestOptions::keep_last: drops all but each user's last keep_last events, keeping counts.
  void trim();
  // More distinct actions than max_names: from here on only count names (in summary_), holding
  // no events; `route` is the row that did not fit.
  void start_counting(const std::string& route);
  // The action id standing for every action outside admit_ (it maps to <unk>): a name no log
  // can hold (NUL bytes are refused).
  uint32_t sink() {
    if (sink_ == UINT32_MAX) sink_ = actions_.id(std::string("\0outside the counted actions", 28));
    return sink_;
  }
  // An event of an action outside admit_ holds kOutside | a 31-bit hash of its name rather than
  // the sink's id, so that de-duplication still tells two such actions apart (two different
  // names at the same user, time and type are taken for one at odds of 2^-31); counting and ids
  // read it as the sink. Interned ids stay below 2^31 (max_names <= 2^30).
  static constexpr uint32_t kOutside = 0x80000000u;
  uint32_t counted_id(uint32_t raw) const { return admit_ && (raw & kOutside) ? sink_ : raw; }
  void show_progress(bool final);
  Error check_options() const;
  Error resolve_columns(const std::vector<std::string>& header);
  // IngestOptions::find_attributes: the attribute columns among `names` (those no role reads),
  // one per kAutoAttributes group. `last`: a header (the search ends there); JSON records search
  // on until every group is found or kAttributeSearchRecords records were read (their keys show
  // up record by record).
  Error find_attributes(const std::vector<std::string>& names, bool last);
  static constexpr uint64_t kAttributeSearchRecords = 10000;
  // A note for the cleaning report, once however many parts or records give it.
  void note(const std::string& text) {
    if (std::find(rep_->notes.begin(), rep_->notes.end(), text) == rep_->notes.end()) rep_->notes.push_back(text);
  }
  // Records a skipped row under `counter`; in strict mode returns the Error instead.
  Error skip(uint64_t* counter, uint64_t line, const std::string& reason) {
    ++*counter;
    file_lines_ = std::max(file_lines_, line);
    std::string msg = name_ + ":" + std::to_string(line) + ": " + reason;
    if (opt_.strict) return Error(msg);
    if (examples_seen_.insert_if_new(counter)) rep_->examples.push_back(msg);
    return {};
  }
  // A row left out by design, not a bad one (a static asset, an error status, a Segment
  // identify call, a duplicate): counted with an example, never an error under --strict.
  void filtered(uint64_t* counter, uint64_t line, const std::string& reason) {
    ++*counter;
    file_lines_ = std::max(file_lines_, line);
    if (examples_seen_.insert_if_new(counter)) rep_->examples.push_back(name_ + ":" + std::to_string(line) + ": " + reason);
  }
  Error accept(const Row& row);
  TimeColumn time_;  // the log's time column: what it showed of its date order (train/times.h)
  bool day_first_late_ = false;
  void note_reading();  // what the report says of times and encodings read
  // accept()'s action when memo_ does not know the logged name: its route (skipped when over
  // max_field_bytes), counted by the counting read (then *action stays UINT32_MAX), or interned
  // (or the sink, with its hash in *held) and remembered in memo_.
  Error route_of(const Row& row, const std::string& column, uint32_t* action, uint32_t* held, bool* changed);
  Error read_delimited(Source* src, char delim);
  Error read_jsonl(Source* src);
  Error read_pairs(Source* src, bool lists);  // `user item` pairs, or (lists) `user item item …` lines
  Error finish(Dataset* out);
  std::string duplicate_example(uint64_t line, uint64_t original) const;
  Error read_files(const std::vector<std::string>& paths);  // run_files' reading
  Error agree_read(Error e);
  // Sharded: *value summed over the processes (in place), and how many of them failed; every
  // collective of the reading itself is this one (see agree_read).
  double read_sync(double* value, bool failed) const;
  static std::string peer_failure();
  // Sharded reading (IngestOptions::shard): *v summed over the processes, in place.
  void sum_across(std::vector<double>* v) const;
  // Newer formats and sniffing (IngestOptions::columns, session_column, events_field).
  Error resolve_header(std::vector<std::string>* fields, bool* data_row);
  Error resolve_session(const std::vector<std::string>& header);
  Error read_json_events(Source* src, Format f);  // GA4, Segment, analytics, per-session JSON
  Error read_access_log(Source* src);
  Format refine_json(Source* src);  // JSONL not forced → GA4, SEGMENT, ANALYTICS or per-session
  char  delimiter_for(Source* src, Format f);
  Error row_from_fields(const formats::EventFields& f, uint64_t line, uint32_t sub, Row* row);

  // Keeps one example per counter without a set allocation per call.
  struct SeenCounters {
    std::vector<const uint64_t*> seen;
    bool insert_if_new(const uint64_t* c) {
      if (std::find(seen.begin(), seen.end(), c) != seen.end()) return false;
      seen.push_back(c);
      return true;
    }
  };

  std::string          name_;
  const IngestOptions& opt_;
  IngestReport*        rep_;
  int                  column_[ROLES] = {-1, -1, -1, -1};  // CSV/TSV/pairs field index
  std::string          json_key_[ROLES];                   // JSONL: configured key, if any
  int                  session_column_ = -1;               // CSV/TSV field index of the session
  std::string          events_field_;                      // per-session JSON: the events key

  Interner               users_, actions_, types_;
  hunch::Routes          routes_;       // the action normalisation (IngestOptions::normalize)
  RouteCount             route_count_;
  AttrCollector          attrs_;
  std::vector<int>       attr_column_;  // CSV/TSV field index of each attribute column
  ChunkedVector<UserState, 12> user_state_;  // per user id (blocks: no doubling)
  ChunkedVector<RawEvent> events_;  // blocks: no doubling peak, freed as the Dataset is built
  SeenCounters           examples_seen_;

  // Several files (ingest_files): each record's position is line_base_ + its line in its file.
  uint64_t line_base_ = 0, file_lines_ = 0;
  uint64_t nul_rows_ = 0;  // of rep_->bad_utf8: valid UTF-8 holding a NUL byte (not an encoding problem)
  std::vector<std::pair<uint64_t, std::string>> file_bases_;  // (line_base_, name) per file
  bool     format_known_ = false;
  bool     attributes_searched_ = false;  // IngestOptions::find_attributes: done (a header, or every group found)
  uint32_t attribute_groups_found_ = 0;   // bit g: kAutoAttributes[g] has its column
  // keep_last: events_ is trimmed when the events held after the last trim plus the rows accepted
  // since reach compact_at_; the trimmed events' counts. Sharded (IngestOptions::shard), both
  // count every process's users, so every process trims at the rows one process would, and
  // trims each user alike (a duplicate whose copy an earlier trim dropped counts as trimmed).
  size_t   compact_at_ = 0;
  uint64_t held_everywhere_ = 0, accepted_since_ = 0;
  // Sharded: another process failed while this one read (learnt at a trim's sum).
  bool     peer_failed_ = false;
  std::vector<uint64_t> trimmed_action_count_, trimmed_type_count_;
  // keep_last with min_users: per action / type id, the distinct users of its trimmed events, up
  // to min_users of them (the vocabulary's user counts see every event, not only the kept ones).
  std::vector<std::vector<uint32_t>> trimmed_action_users_, trimmed_type_users_;
  static void add_user(std::vector<std::vector<uint32_t>>* users, uint32_t id, uint32_t user, uint32_t cap) {
    if (users->size() <= id) users->resize(size_t(id) + 1);
    std::vector<uint32_t>& v = (*users)[id];
    if (v.size() < cap && std::find(v.begin(), v.end(), user) == v.end()) v.push_back(user);
  }
  // Bounded name counting: rows accepted per action id (to seed the summary), the summary while
  // counting, the names a second read counts (and the bound on the rest), the sink's id.
  std::vector<uint64_t>        name_rows_;
  std::unique_ptr<NameSummary> summary_;
  const std::unordered_set<std::string>* admit_ = nullptr;
  std::unordered_set<std::string>        fixed_names_;  // a fixed vocabulary's, past max_names
  uint64_t admit_bound_ = 0;
  uint32_t sink_ = UINT32_MAX;
  // Logged action name → its route's ids, so that a name seen before skips normalisation and
  // interning; emptied when it reaches kMemoSize names (a log of ever new names gains nothing).
  struct Memo {
    uint32_t action, held;
    bool     changed;
  };
  static constexpr size_t kMemoSize = size_t(1) << 16;
  std::unordered_map<std::string, Memo> memo_;
  // Progress (IngestOptions::progress).
  Source*  progress_src_ = nullptr;
  uint64_t bytes_before_ = 0, total_bytes_ = 0, files_done_ = 0, files_total_ = 1, accepted_ = 0;
  std::chrono::steady_clock::time_point started_, last_shown_;
  bool     shown_ = false;
};

Error Ingestor::check_options() const {
  const auto& e = opt_.vocabulary ? opt_.vocabulary->gap_edges : opt_.gap_edges;
  if (e.size() > kMaxGapEdges)
    return Error("gap edges: " + std::to_string(e.size()) + " edges, at most " +
                 std::to_string(kMaxGapEdges));
  for (size_t i = 0; i < e.size(); ++i) {
    if (!std::isfinite(e[i]) || e[i] < 0) return Error("gap edges: edge " + std::to_string(i) + " is not a finite number >= 0");
    if (i && !(e[i] > e[i - 1])) return Error("gap edges: not strictly increasing at edge " + std::to_string(i));
  }
  if (!(opt_.session_gap >= 0) || !std::isfinite(opt_.session_gap))
    return Error("session gap: must be a number of seconds >= 0");
  if (opt_.max_vocab < 1) return Error("max vocab: must be at least 1");
  if (opt_.max_vocab >= kMaxVocab) return Error("max vocab: at most " + std::to_string(kMaxVocab - 1));
  if (opt_.max_types >= kMaxTypes) return Error("max types: at most " + std::to_string(kMaxTypes - 1));
  if (opt_.vocabulary && (opt_.vocabulary->actions.empty() || opt_.vocabulary->types.empty()))
    return Error("fixed vocabulary: needs at least the <unk> action and the <none> type");
  return {};
}

Error Ingestor::find_attributes(const std::vector<std::string>& names, bool last) {
  if (!opt_.find_attributes || opt_.vocabulary || attributes_searched_) return {};
  attributes_searched_ = last;
  for (size_t g = 0; g < kAutoAttributes.size(); ++g) {
    if (attribute_groups_found_ & (1u << g)) continue;
    const size_t i = find_default(names, kAutoAttributes[g].names);
    if (i == names.size()) continue;
    const std::string* hit = &names[i];
    attribute_groups_found_ |= 1u << g;
    rep_->attributes_found = true;
    if (Error e = attrs_.add_column(*hit, kAutoAttributes[g].numeric)) return e;
  }
  if (attribute_groups_found_ == (1u << kAutoAttributes.size()) - 1) attributes_searched_ = true;
  return {};
}

Error Ingestor::resolve_columns(const std::vector<std::string>& header) {
  const std::string* given[ROLES] = {&opt_.user_column, &opt_.time_column, &opt_.action_column,
                                     &opt_.type_column};
  for (int r = 0; r < ROLES; ++r) {
    column_[r] = -1;
    if (r == TIME && *given[r] == "none") continue;  // file order is the time order
    if (!given[r]->empty()) {
      for (size_t i = 0; i < header.size(); ++i)
        if (header[i] == *given[r]) { column_[r] = int(i); break; }
    } else {
      const size_t i = find_default(header, kDefaults[r]);
      if (i < header.size()) column_[r] = int(i);
    }
    if (column_[r] < 0 && (r == USER || r == ACTION || !given[r]->empty())) {
      std::string have;
      for (const auto& h : header) have += (have.empty() ? "" : ", ") + quote_value(h);
      std::string looked;
      if (!given[r]->empty()) {
        looked = "'" + *given[r] + "'";
      } else {
        for (const auto& c : kDefaults[r]) looked += (looked.empty() ? "" : ", ") + c;
        looked = "any of " + looked;
      }
      return Error(name_ + ":1: no " + kRoleNames[r] + " column (looked for " + looked +
                   "); the header has " + have + " — name it with --" + kRoleNames[r] + "-column");
    }
  }
  // A header naming a role's column twice ("User,user", or "user_id" beside "User ID"): the
  // first is read, and the report says so (an export joined from two tables can hold both, and
  // the other may be the one meant). Not when the column was named: the flag chose.
  for (int r = 0; r < ROLES; ++r) {
    if (column_[r] < 0 || !given[r]->empty()) continue;
    const std::string& read = header[size_t(column_[r])];
    for (size_t j = 0; j < header.size(); ++j)
      if (int(j) != column_[r] && same_letters(header[j], read))
        note("the header has two " + std::string(kRoleNames[r]) + " columns, " + quote_value(read) + " (column " +
             std::to_string(column_[r] + 1) + ", read) and " + quote_value(header[j]) + " (column " +
             std::to_string(j + 1) + "): --" + kRoleNames[r] + "-column names the one to read");
  }
  {
    std::vector<std::string> free_columns;  // the header's names no role reads
    for (size_t i = 0; i < header.size(); ++i) {
      bool role = false;
      for (int r = 0; r < ROLES; ++r) role = role || column_[r] == int(i);
      if (!role) free_columns.push_back(header[i]);
    }
    if (Error e = find_attributes(free_columns, true)) return e;
  }
  attr_column_.assign(attrs_.columns(), -1);
  for (size_t k = 0; k < attrs_.columns(); ++k) {
    const size_t i = find_name(header.size(), attrs_.names()[k], [&](size_t j) -> const std::string& { return header[j]; });
    if (i < header.size()) {
      attr_column_[k] = int(i);
      continue;
    }
    // A column found by name (absent from a later part) or read for a model (whose attr.table
    // holds each known action's values, as the SDK uses them): its values are missing here.
    // One the user named is an error (a typo would otherwise train without it).
    if (rep_->attributes_found || opt_.vocabulary) {
      note("attribute column '" + attrs_.names()[k] + "' not in " + name_ +
           (opt_.vocabulary ? ": the model's table gives each known action's values" : ": its values are missing there"));
      continue;
    }
    std::string have;
    for (const auto& h : header) have += (have.empty() ? "" : ", ") + quote_value(h);
    return Error(name_ + ":1: no attribute column '" + attrs_.names()[k] + "'; the header has " + have);
  }
  rep_->user_column = header[column_[USER]];
  rep_->action_column = header[column_[ACTION]];
  rep_->has_time_column = column_[TIME] >= 0;
  rep_->has_type_column = column_[TYPE] >= 0;
  if (column_[TIME] >= 0) rep_->time_column = header[column_[TIME]];
  if (column_[TYPE] >= 0) rep_->type_column = header[column_[TYPE]];
  if (Error e = resolve_session(header)) return e;
  // The columns nothing reads, for the report: item attributes among them are worth a flag.
  rep_->unused_columns.clear();
  for (size_t i = 0; i < header.size(); ++i) {
    bool used = int(i) == session_column_ || header[i].empty();
    for (int r = 0; r < ROLES; ++r) used = used || column_[r] == int(i);
    for (int c : attr_column_) used = used || c == int(i);
    if (!used) rep_->unused_columns.push_back(header[i]);
  }
  return {};
}

Error Ingestor::accept(const Row& row) {
  // The column names, for messages (pointers: no copy per row).
  const std::string* col[ROLES] = {&rep_->user_column, &rep_->time_column, &rep_->action_column,
                                   &rep_->type_column};
  // Missing-value tokens (NA, null, -, …) are missing ids, counted.
  bool token[ROLES] = {};
  for (Role r : {USER, ACTION, TYPE})
    if (row.present[r] && formats::is_missing_token(row.value[r])) token[r] = true, ++rep_->missing_tokens;
  const bool session_token = row.has_session && formats::is_missing_token(row.session);
  if (session_token) ++rep_->missing_tokens;
  for (Role r : {USER, ACTION}) {
    if (!row.present[r] || row.value[r].empty())
      return skip(&rep_->missing_field, row.line, "column '" + *col[r] + "': missing value");
    if (token[r])
      return skip(&rep_->missing_field, row.line,
                  "column '" + *col[r] + "': missing value (" + quote_value(row.value[r]) + ")");
  }
  for (Role r : {USER, ACTION, TYPE}) {
    if (!row.present[r]) continue;
    if (row.value[r].size() > opt_.max_field_bytes)
      return skip(&rep_->too_long, row.line,
                  "column '" + *col[r] + "': value of " + std::to_string(row.value[r].size()) +
                      " bytes, limit " + std::to_string(opt_.max_field_bytes));
    if (!valid_utf8(row.value[r]))
      return skip(&rep_->bad_utf8, row.line, "column '" + *col[r] + "': not valid UTF-8: " + quote_value(row.value[r]));
    // NUL is valid UTF-8, but a model's vocabulary cannot hold it (Model::load refuses it, and
    // the WASM bindings join names with NUL): refused here rather than after training.
    if (row.value[r].find('\0') != std::string::npos) {
      ++nul_rows_;
      return skip(&rep_->bad_utf8, row.line, "column '" + *col[r] + "': contains a NUL byte");
    }
  }
  double t = std::nan("");
  bool has_time = row.present[TIME] && !row.value[TIME].empty();
  if (has_time && formats::is_missing_token(row.value[TIME])) {  // NA, null, …: no time, as an empty field
    ++rep_->missing_tokens;
    has_time = false;
  }
  if (has_time) {
    std::string why;
    switch (time_.read(row.value[TIME], &t, &why)) {
      case TimeColumn::TIME: break;
      case TimeColumn::NOT_A_TIME:
        return skip(&rep_->bad_time, row.line,
                    "column '" + *col[TIME] + "': cannot parse " + quote_value(row.value[TIME]) + " as a time");
      case TimeColumn::CONTRADICTION:
        day_first_late_ = true;
        return Error(name_ + ":" + std::to_string(row.line) + ": column '" + *col[TIME] + "': " + why);
    }
  }
  // Web events do not predate the epoch: a negative time is a sign error or a sentinel such
  // as -1, and sorting by it would move the event to the start of the sequence.
  if (has_time && t < 0)
    return skip(&rep_->bad_time, row.line,
                "column '" + *col[TIME] + "': " + quote_value(row.value[TIME]) + " is before 1970-01-01");
  // Nor do they come from past 2100: 1e300 or a 20-digit number is a sentinel or garbage, and
  // taken as a time it would split the user's session and sort the event last.
  if (has_time && t >= 4102444800.0)
    return skip(&rep_->bad_time, row.line,
                "column '" + *col[TIME] + "': " + quote_value(row.value[TIME]) + " is after 2100-01-01");
  if (!has_time) ++rep_->untimed_rows;

  // Routes, not URLs (hunch/routes.h): the name is normalised before it is counted. A logged
  // name seen before takes its route's id from memo_.
  uint32_t action = UINT32_MAX, held = UINT32_MAX;
  bool changed = false;
  if (auto m = summary_ ? memo_.end() : memo_.find(row.value[ACTION]); m != memo_.end()) {
    action = m->second.action, held = m->second.held, changed = m->second.changed;
    file_lines_ = std::max(file_lines_, row.line);
  } else if (Error e = route_of(row, *col[ACTION], &action, &held, &changed); e || action == UINT32_MAX) {
    return e;  // skipped, or counted by the counting read
  }
  if (!admit_) {
    if (action >= name_rows_.size()) name_rows_.resize(action + 1, 0);
    ++name_rows_[action];
  }
  uint32_t u = users_.id(row.value[USER]);
  if (u == user_state_.size()) {
    user_state_.push_back(UserState{});
    if (opt_.shard) user_state_[u].mine = opt_.shard->mine(user_part(row.value[USER], opt_.shard->count()));
  }
  UserState& us = user_state_[u];
  RawEvent ev;
  ev.line = line_base_ + row.line;
  ev.user = u;
  ev.action = held;
  if (routes_.enabled() && action != sink_) route_count_.add(ev.action, row.value[ACTION], changed);
  rep_->normalized_rows += changed;
  if (attrs_.columns()) attrs_.add(action, row.attr, u);
  ev.type = row.present[TYPE] && !row.value[TYPE].empty() && !token[TYPE] ? types_.id(row.value[TYPE]) : UINT32_MAX;
  // Type names are held until the vocabulary cut (at most max_types are kept): more distinct
  // ones than max_names is not an event type column, and holding them would be unbounded.
  if (opt_.max_names && ev.type != UINT32_MAX && ev.type >= opt_.max_names)
    return Error(name_ + ":" + std::to_string(row.line) + ": column '" + *col[TYPE] + "': more than " +
                 std::to_string(opt_.max_names) + " distinct values (--max-names), " + quote_value(row.value[TYPE]) +
                 " the last: not an event type column? Name the right one with --type-column, or raise --max-names");
  ev.has_time = has_time;
  ev.sub = std::min<uint32_t>(row.sub, 0xFFFF);
  ev.session = UINT32_MAX;
  if (row.has_session && !row.session.empty() && !session_token) {
    uint32_t h = 2166136261u;  // FNV-1a
    for (char c : row.session) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
    ev.session = h == UINT32_MAX ? h - 1 : h;
  }
  if (has_time) {
    if (t < us.max_time) ++rep_->out_of_order;
    us.max_time = std::max(us.max_time, t);
    ev.key = t;
  } else {
    ev.key = us.last_key;
  }
  us.last_key = ev.key;
  // Sharded: another process keeps the events of a user not `mine` (everything above is counted
  // alike in every process).
  if (us.mine) events_.push_back(ev);
  ++accepted_since_;
  if (opt_.keep_last && held_everywhere_ + accepted_since_ >= compact_at_) {
    trim();
    if (peer_failed_) return Error(peer_failure());
  }
  if (opt_.progress && (++accepted_ & 4095) == 0) show_progress(false);
  return {};
}

Error Ingestor::route_of(const Row& row, const std::string& column, uint32_t* action, uint32_t* held,
                         bool* changed) {
  const std::string& raw = row.value[ACTION];
  const std::string route = routes_.apply(raw);
  if (route.size() > opt_.max_field_bytes)
    return skip(&rep_->too_long, row.line, "column '" + column + "': route of " + std::to_string(route.size()) +
                                               " bytes, limit " + std::to_string(opt_.max_field_bytes));
  file_lines_ = std::max(file_lines_, row.line);
  if (summary_) {  // the counting read (max_names): names only
    summary_->add(route, 1);
    if (opt_.progress && (++accepted_ & 4095) == 0) show_progress(false);
    return {};
  }
  uint32_t a = actions_.find(route);
  if (a == UINT32_MAX) {
    if (!admit_ && opt_.max_names && actions_.size() >= opt_.max_names) {
      if (!opt_.vocabulary) {
        start_counting(route);
        return {};
      }
      // A model's vocabulary needs no counting: past max_names only its names are told apart.
      for (size_t i = 1; i < opt_.vocabulary->actions.size(); ++i) fixed_names_.insert(opt_.vocabulary->actions[i]);
      admit_ = &fixed_names_;
      rep_->name_capacity = opt_.max_names;
    }
    a = admit_ && !admit_->count(route) ? sink() : actions_.id(route);
  }
  *action = *held = a;
  if (a == sink_) {
    uint32_t h = 2166136261u;  // FNV-1a
    for (char c : route) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
    *held = kOutside | (h & ~kOutside);
  }
  *changed = route != raw;
  if (memo_.size() >= kMemoSize) memo_.clear();
  memo_.emplace(raw, Memo{*action, *held, *changed});
  return {};
}

void Ingestor::trim() {
  // The same order as finish(): per user by time, file position breaking ties.
  std::sort(events_.begin(), events_.end(), [](const RawEvent& a, const RawEvent& b) {
    if (a.user != b.user) return a.user < b.user;
    if (a.key != b.key) return a.key < b.key;
    if (a.line != b.line) return a.line < b.line;
    return a.sub < b.sub;
  });
  trimmed_action_count_.resize(actions_.size(), 0);
  trimmed_type_count_.resize(types_.size(), 0);
  size_t w = 0, n = events_.size();
  for (size_t a = 0; a < n;) {
    size_t b = a;
    while (b < n && events_[b].user == events_[a].user) ++b;
    size_t first_kept = b - std::min<size_t>(b - a, opt_.keep_last);
    for (size_t i = a; i < first_kept; ++i) {
      // A duplicate (finish()'s rule: same known time, action and type) is counted as one,
      // as it would be without trimming; the other copy is earlier or is kept.
      bool duplicate = false;
      if (opt_.dedupe && events_[i].has_time)
        for (size_t j = i; j-- > a && events_[j].key == events_[i].key && !duplicate;)
          duplicate = events_[j].has_time && events_[j].action == events_[i].action && events_[j].type == events_[i].type;
      if (opt_.dedupe && events_[i].has_time)
        for (size_t j = first_kept; j < b && events_[j].key == events_[i].key && !duplicate; ++j)
          duplicate = events_[j].has_time && events_[j].action == events_[i].action && events_[j].type == events_[i].type;
      if (duplicate) {
        ++rep_->duplicates;
        continue;
      }
      ++rep_->trimmed_events;
      ++trimmed_action_count_[counted_id(events_[i].action)];
      if (events_[i].type != UINT32_MAX) ++trimmed_type_count_[events_[i].type];
      if (rep_->min_users > 1) {
        add_user(&trimmed_action_users_, counted_id(events_[i].action), events_[i].user, rep_->min_users);
        if (events_[i].type != UINT32_MAX) add_user(&trimmed_type_users_, events_[i].type, events_[i].user, rep_->min_users);
      }
    }
    for (size_t i = first_kept; i < b; ++i) events_[w++] = events_[i];
    a = b;
  }
  events_.shrink(w);
  // Next compaction when the held events have doubled: amortised O(log) sorts per event.
  // Sharded: the held events of every process (the same number as one process would hold).
  double held = double(w);
  if (opt_.shard && read_sync(&held, false) > 0) peer_failed_ = true;
  held_everywhere_ = uint64_t(held);
  accepted_since_ = 0;
  compact_at_ = std::max<size_t>(size_t(1) << 16, 2 * held_everywhere_);
}

double Ingestor::read_sync(double* value, bool failed) const {
  double v[2] = {*value, failed ? 1.0 : 0.0};
  opt_.shard->collective().sum(v, 2);
  *value = v[0];
  return v[1];
}

std::string Ingestor::peer_failure() {
  return "another process of this run failed to read the log (its message is on its standard error)";
}

void Ingestor::start_counting(const std::string& route) {
  summary_ = std::make_unique<NameSummary>(opt_.max_names);
  const std::vector<std::string> names = actions_.names();
  for (size_t i = 0; i < names.size(); ++i) summary_->add(names[i], name_rows_[i]);
  summary_->add(route, 1);
  // Nothing else of this read is used: the second read starts afresh.
  events_.clear();
  user_state_ = {};
  users_ = {};
  actions_ = {};
  memo_ = {};
  name_rows_ = {};
  route_count_ = {};
}

std::string Ingestor::duplicate_example(uint64_t line, uint64_t original) const {
  return where(line) + ": duplicate of the event on " +
         (file_bases_.size() > 1 ? where(original) : "line " + std::to_string(original)) +
         " (same user, action, type and time)";
}

std::string Ingestor::where(uint64_t position) const {
  if (file_bases_.size() <= 1) return name_ + ":" + std::to_string(position);
  size_t f = file_bases_.size() - 1;
  while (f > 0 && file_bases_[f].first >= position) --f;
  return file_bases_[f].second + ":" + std::to_string(position - file_bases_[f].first);
}

void Ingestor::show_progress(bool final) {
  const auto now = std::chrono::steady_clock::now();
  const auto delay = std::chrono::milliseconds(opt_.progress_delay_ms);
  if (!final && now - (shown_ ? last_shown_ : started_) < delay) return;  // quick reads stay quiet
  if (final) {
    if (shown_) std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    return;
  }
  last_shown_ = now;
  shown_ = true;
  const double secs = std::chrono::duration<double>(now - started_).count();
  const uint64_t done = bytes_before_ + (progress_src_ ? progress_src_->consumed() : 0);
  const double rate = secs > 0 ? double(accepted_) / secs : 0;
  char left[32] = "";
  if (total_bytes_ > 0 && done > 0 && done < total_bytes_) {
    const double rest = secs * double(total_bytes_ - done) / double(done);
    std::snprintf(left, sizeof left, ", %d:%02d left", int(rest) / 60, int(rest) % 60);
  }
  std::fprintf(stderr, "\r\033[Kreading: file %llu of %llu, %.1f of %.1f MB (%.0f%%), %.2f M events/s%s",
               static_cast<unsigned long long>(std::min(files_done_ + 1, files_total_)),
               static_cast<unsigned long long>(files_total_), double(done) / 1e6, double(total_bytes_) / 1e6,
               total_bytes_ ? 100.0 * double(std::min(done, total_bytes_)) / double(total_bytes_) : 0.0, rate / 1e6,
               left);
  std::fflush(stderr);
}

// RFC 4180 records: quoted fields may hold the delimiter, "" and line breaks; CRLF or LF ends a
// record. A record's line is the line it starts on.
Error Ingestor::read_delimited(Source* src, char delim) {
  std::vector<std::string> fields;
  uint64_t line = 1;
  bool header_done = false;
  Row row;
  // A UTF-8 byte-order mark (Excel's "CSV UTF-8") goes before the first field is read, so that
  // a quoted first field ("\"user\",…") is still a quoted field.
  if (src->head(3) == "\xEF\xBB\xBF") src->get(), src->get(), src->get();
  size_t header_fields = 0;  // the header's fields (0: no header): a longer record is malformed
  for (;;) {
    fields.assign(1, std::string());
    uint64_t start_line = line;
    size_t bytes = 0;
    bool too_long = false, bad_quote = false, eof = false, any = false;
    int c = src->get();
    if (c < 0) break;
    for (;;) {
      if (c < 0) { eof = true; break; }
      any = true;
      if (c == '"' && fields.back().empty()) {
        // Quoted field.
        bool closed = false;
        int last = 0;
        while ((c = src->get()) >= 0) {
          last = c;
          if (c == '\n') ++line;
          if (c == '"') {
            if (src->peek() == '"') { src->get(); c = '"'; }
            else { closed = true; break; }
          }
          if (++bytes <= opt_.max_line_bytes) fields.back().push_back(static_cast<char>(c));
          else too_long = true;
        }
        if (!closed)
          return Error(name_ + ":" + std::to_string(start_line) + ": a quote opened on this line is never closed: the " +
                       std::to_string(line - start_line + (last != '\n')) +
                       " lines to the end of the file would be one field (fix or remove the stray '\"')");
        c = src->get();
        if (c >= 0 && c != delim && c != '\n' && c != '\r') {
          bad_quote = true;  // text after the closing quote: keep reading to the record end
          while (c >= 0 && c != '\n') c = src->get();
        }
        continue;
      }
      if (c == delim) { fields.emplace_back(); c = src->get(); continue; }
      if (c == '\r') {
        if (src->peek() == '\n') src->get();
        ++line;
        break;
      }
      if (c == '\n') { ++line; break; }
      if (++bytes <= opt_.max_line_bytes) fields.back().push_back(static_cast<char>(c));
      else too_long = true;
      // The rest of an unquoted field ('"' past its first byte is text).
      const size_t room = opt_.max_line_bytes - std::min(bytes, opt_.max_line_bytes);
      const size_t n = src->scan(static_cast<char>(delim), &fields.back(), room);
      if (n > room) too_long = true;
      bytes += n;
      c = src->get();
    }
    if (!src->error().ok()) return src->error();
    if (!any || (fields.size() == 1 && fields[0].empty() && !bad_quote)) {
      if (eof) break;
      continue;  // blank line
    }
    if (!header_done) {
      if (bad_quote) return Error(name_ + ":" + std::to_string(start_line) + ": malformed header (unterminated or misplaced quote)");
      if (fields[0].rfind("\xEF\xBB\xBF", 0) == 0) fields[0].erase(0, 3);  // UTF-8 BOM
      bool data_row = false;  // no header: this first row is data (IngestOptions::columns)
      if (Error e = resolve_header(&fields, &data_row)) return e;
      header_done = true;
      if (!data_row) header_fields = fields.size();
      if (!data_row) {
        if (eof) break;
        continue;
      }
    }
    ++rep_->rows;
    Error e;
    if (too_long) {
      e = skip(&rep_->too_long, start_line,
               "record longer than " + std::to_string(opt_.max_line_bytes) + " bytes" +
                   (line - start_line > 1 ? " over " + std::to_string(line - start_line) +
                                                " lines (a quoted field that spans them: a stray '\"'?)"
                                          : std::string()));
    } else if (bad_quote) {
      e = skip(&rep_->malformed, start_line, "malformed quoted field (unterminated quote or text after a closing quote)");
    } else {
      row.line = start_line;
      int needed = 0;
      for (int r = 0; r < ROLES; ++r) needed = std::max(needed, column_[r] + 1);
      // More fields than the header (a trailing delimiter's empty ones aside): an unquoted
      // delimiter inside a value shifted the columns, so every value after it is another's.
      size_t filled = fields.size();
      while (filled > header_fields && fields[filled - 1].empty()) --filled;
      if (int(fields.size()) < needed) {
        e = skip(&rep_->malformed, start_line,
                 std::to_string(fields.size()) + " fields, the header has " + std::to_string(needed) + " or more");
      } else if (header_fields && filled > header_fields) {
        e = skip(&rep_->malformed, start_line,
                 std::to_string(filled) + " fields, the header has " + std::to_string(header_fields) +
                     " (a delimiter inside an unquoted value?)");
      } else {
        // Spaces around a value (hand-written "u1, /a, view") are not part of it: " u1" is u1 and
        // " NA" a missing value.
        auto trim_spaces = [](std::string* s) {
          size_t b = 0, e = s->size();
          while (b < e && (*s)[b] == ' ') ++b;
          while (e > b && (*s)[e - 1] == ' ') --e;
          if (b || e < s->size()) *s = s->substr(b, e - b);
        };
        for (int r = 0; r < ROLES; ++r) {
          row.present[r] = column_[r] >= 0;
          if (row.present[r]) row.value[r].swap(fields[column_[r]]), trim_spaces(&row.value[r]);
        }
        row.attr.resize(attr_column_.size());
        for (size_t k = 0; k < attr_column_.size(); ++k) {  // a short record: the value is missing
          row.attr[k].clear();
          if (size_t(attr_column_[k]) < fields.size()) row.attr[k].swap(fields[attr_column_[k]]);
        }
        row.has_session = session_column_ >= 0 && session_column_ < int(fields.size());
        if (row.has_session) row.session.swap(fields[session_column_]), trim_spaces(&row.session);
        e = accept(row);
      }
    }
    if (e) return e;
    if (eof) break;
  }
  if (!src->error().ok()) return src->error();
  if (!header_done) return Error(name_ + ": empty file (no header line)");
  return {};
}

// Reads one line into *line (without the newline / CR). Returns false at the end of input.
// Over max bytes: the rest is consumed, *too_long set.
// The index of the first byte of `h` at or after `i` that is not white space (a UTF-8 BOM at the
// start skipped too).
size_t first_content(const std::string& h, size_t i = 0) {
  if (i == 0 && h.rfind("\xEF\xBB\xBF", 0) == 0) i = 3;
  while (i < h.size() && (h[i] == ' ' || h[i] == '\t' || h[i] == '\r' || h[i] == '\n')) ++i;
  return i;
}

bool read_line(Source* src, size_t max_bytes, std::string* line, bool* too_long) {
  line->clear();
  *too_long = false;
  int c = src->get();
  if (c < 0) return false;
  while (c >= 0 && c != '\n') {
    if (line->size() < max_bytes) line->push_back(static_cast<char>(c));
    else *too_long = true;
    c = src->get();
  }
  if (!line->empty() && line->back() == '\r') line->pop_back();
  return true;
}

// One JSON record at a time: a line of JSON Lines, or an element of a file holding one top-level
// array ("[{…},\n  {…}]", pretty-printed or not: what many tools and APIs write as .json), so both
// read through the same record readers. *line is the record's first line in the file.
class JsonRecords {
  // Brackets and strings of JSON text, a character at a time: step() is true for a closing
  // bracket outside strings.
  struct Nesting {
    int  depth = 0;
    bool in_string = false, escape = false;
    bool step(char c) {
      if (in_string) {
        if (escape) escape = false;
        else if (c == '\\') escape = true;
        else if (c == '"') in_string = false;
      } else if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        --depth;
        return true;
      }
      return false;
    }
  };

 public:
  explicit JsonRecords(Source* src) : src_(src) {
    const std::string h = src->head(4096);
    const size_t i = first_content(h);
    array_ = i < h.size() && h[i] == '[';
    // JSON Lines may hold arrays too, a line each: an array that closes on its first line with
    // more text after it is such a line.
    Nesting n;
    for (size_t k = i; array_ && k < h.size() && h[k] != '\n'; ++k)
      if (n.step(h[k]) && n.depth == 0) {
        array_ = h.find_first_not_of(" \t\r\n", k + 1) == std::string::npos;
        break;
      }
    if (!array_) return;
    for (size_t k = 0; k <= i; ++k)  // up to and past the '['
      if (src_->get() == '\n') ++line_;
  }
  bool array() const { return array_; }
  // The record's place among those starting on its line (elements of a minified array share one
  // line): RawEvent::sub, the tie-break that keeps their file order. Past 65,536 on one line
  // the line number itself moves on (a message's line there counts on from the real one).
  uint32_t sub() const { return sub_; }
  // A broken array (not closed, text after its end), once next() has returned false.
  const std::string& error() const { return error_; }

  bool next(size_t max_bytes, std::string* out, bool* too_long, uint64_t* line) {
    if (!array_) {
      ++line_;
      *line = line_;
      return read_line(src_, max_bytes, out, too_long);
    }
    out->clear();
    *too_long = false;
    if (done_) return false;
    int c;
    while ((c = src_->get()) >= 0 && (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ','))
      if (c == '\n') ++line_;
    if (c < 0 || c == ']') {
      done_ = true;
      if (c < 0) error_ = "the JSON array is not closed (no ']' at the end)";
      while ((c = src_->get()) >= 0)
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
          error_ = "text after the JSON array's closing ']'";
          break;
        }
      return false;
    }
    if (line_ + 1 + overflow_ == last_start_ && ++sub_ > 0xFFFF) ++overflow_;
    if (line_ + 1 + overflow_ != last_start_) sub_ = 0;
    *line = last_start_ = line_ + 1 + overflow_;
    Nesting nest;
    while (true) {
      if (out->size() < max_bytes) out->push_back(static_cast<char>(c));
      else *too_long = true;
      if (c == '\n') ++line_;
      const bool closed = nest.step(static_cast<char>(c));
      if (!nest.in_string && nest.depth <= 0) {
        const int n = src_->peek();
        if (closed || nest.depth < 0 || n < 0 || n == ',' || n == ']' || n == ' ' || n == '\t' || n == '\r' || n == '\n')
          return true;
      }
      if ((c = src_->get()) < 0) return true;  // cut short: the parser says how
    }
  }

 private:
  Source*     src_;
  bool        array_ = false, done_ = false;
  uint64_t    line_ = 0, overflow_ = 0, last_start_ = 0;
  uint32_t    sub_ = 0;
  std::string error_;
};

bool blank(const std::string& s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\r') return false;
  return true;
}

Error Ingestor::read_jsonl(Source* src) {
  std::string line, why;
  std::vector<JsonField> fields;
  size_t nfields = 0;
  JsonLine parser;
  uint64_t lineno = 0;
  bool too_long;
  Row row;
  rep_->user_column = opt_.user_column.empty() ? "user" : opt_.user_column;
  rep_->action_column = opt_.action_column.empty() ? "action" : opt_.action_column;
  rep_->time_column = opt_.time_column.empty() ? "time" : opt_.time_column;
  rep_->type_column = opt_.type_column.empty() ? "type" : opt_.type_column;
  const std::string* given[ROLES] = {&opt_.user_column, &opt_.time_column, &opt_.action_column,
                                     &opt_.type_column};
  JsonRecords records(src);
  while (records.next(opt_.max_line_bytes, &line, &too_long, &lineno)) {
    if (lineno == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
    if (!too_long && blank(line)) continue;
    ++rep_->rows;
    Error e;
    if (too_long) {
      e = skip(&rep_->too_long, lineno, "line longer than " + std::to_string(opt_.max_line_bytes) + " bytes");
    } else if (!parser.parse(line.data(), line.data() + line.size(), &fields, &nfields, &why)) {
      e = skip(&rep_->malformed, lineno, why);
    } else {
      row.line = lineno;
      row.sub = records.sub();
      bool nested = false;
      std::string nested_key;
      for (int r = 0; r < ROLES; ++r) {
        row.present[r] = false;
        const JsonField* hit = nullptr;
        if (r == TIME && *given[r] == "none") continue;  // file order is the time order
        if (!given[r]->empty()) {
          for (size_t i = 0; i < nfields && !hit; ++i)
            if (fields[i].key == *given[r]) hit = &fields[i];
        } else {
          const size_t i = find_default(nfields, [&](size_t j) -> const std::string& { return fields[j].key; }, kDefaults[r],
                                        [](size_t) { return false; });
          if (i < nfields) hit = &fields[i];
        }
        if (!hit || hit->is_null) continue;
        if (hit->is_nested) { nested = true; nested_key = hit->key; continue; }
        row.present[r] = true;
        row.value[r] = hit->value;
        if (r == TIME) { rep_->has_time_column = true; rep_->time_column = hit->key; }
        if (r == TYPE) { rep_->has_type_column = true; rep_->type_column = hit->key; }
        if (r == USER) rep_->user_column = hit->key;
        if (r == ACTION) rep_->action_column = hit->key;
      }
      if (opt_.find_attributes && !attributes_searched_) {  // among the records' flat keys
        std::vector<std::string> free_keys;
        for (size_t i = 0; i < nfields; ++i) {
          bool role = fields[i].is_nested;
          const std::string* role_key[ROLES] = {&rep_->user_column, &rep_->time_column, &rep_->action_column,
                                                &rep_->type_column};
          for (int r = 0; r < ROLES; ++r)
            role = role || (row.present[r] && fields[i].key == *role_key[r]) || fields[i].key == *given[r];
          if (!role) free_keys.push_back(fields[i].key);
        }
        if (Error fe = find_attributes(free_keys, rep_->rows >= kAttributeSearchRecords)) return fe;
      }
      row.attr.resize(attrs_.columns());
      for (size_t k = 0; k < attrs_.columns(); ++k) {  // by key (exact, else any case); absent, null or nested: missing
        row.attr[k].clear();
        const size_t i = find_name(nfields, attrs_.names()[k], [&](size_t j) -> const std::string& { return fields[j].key; });
        if (i < nfields && !fields[i].is_null && !fields[i].is_nested) row.attr[k] = fields[i].value;
      }
      // The session key (IngestOptions::session_column), not the user's.
      row.has_session = false;
      if (opt_.session_column != "none") {
        auto unusable = [&](size_t j) {
          return fields[j].is_null || fields[j].is_nested || fields[j].key == rep_->user_column;
        };
        size_t i = nfields;
        if (opt_.session_column.empty())
          i = find_default(nfields, [&](size_t j) -> const std::string& { return fields[j].key; }, kSessionNames, unusable);
        else
          for (size_t j = 0; j < nfields && i == nfields; ++j)
            if (!unusable(j) && fields[j].key == opt_.session_column) i = j;
        if (i < nfields) {
          row.has_session = true;
          row.session = fields[i].value;
          rep_->has_session_column = true;
          rep_->session_column = fields[i].key;
        }
      }
      if (nested)
        e = skip(&rep_->malformed, lineno, "key '" + nested_key + "': an object or array where a value was expected");
      else
        e = accept(row);
    }
    if (e) return e;
  }
  if (!src->error().ok()) return src->error();
  return records.error().empty() ? Error() : Error(name_ + ": " + records.error());
}

// `user item` per line, whitespace separated, no header, file order = time order.
Error Ingestor::read_pairs(Source* src, bool lists) {
  std::string line;
  uint64_t lineno = 0;
  bool too_long;
  Row row;
  rep_->user_column = "user (field 1)";
  rep_->action_column = lists ? "items (fields 2, 3, … in order)" : "item (field 2)";
  while (read_line(src, opt_.max_line_bytes, &line, &too_long)) {
    ++lineno;
    if (lineno == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
    if (!too_long && blank(line)) continue;
    ++rep_->rows;
    Error e;
    if (too_long) {
      e = skip(&rep_->too_long, lineno, "line longer than " + std::to_string(opt_.max_line_bytes) + " bytes");
    } else {
      // A list line is one event per field after the user.
      size_t i = 0, s = 0;
      const bool has_user = next_field(line, &i, &s);
      if (has_user) row.value[USER].assign(line, s, i - s);
      if (!has_user || !next_field(line, &i, &s)) {
        e = skip(&rep_->malformed, lineno,
                 std::string(lists ? "expected 'user item item …'" : "expected 'user item'") + ", got " +
                     quote_value(line));
      } else {
        row.line = lineno;
        row.present[USER] = row.present[ACTION] = true;
        row.present[TIME] = row.present[TYPE] = false;
        // Each item is a record of its own (rows counts events, as for per-session JSON), its
        // place on the line the tie-break of the time order (RawEvent::sub: 16 bits, so a line
        // holds at most 65,536 items; the rest are skipped and counted).
        for (row.sub = 0;; ++row.sub) {
          if (row.sub) ++rep_->rows;
          if (row.sub > 0xFFFF) {
            e = skip(&rep_->too_long, lineno, "more than 65,536 items on one line: the rest are skipped");
          } else {
            row.value[ACTION].assign(line, s, i - s);
            e = accept(row);
          }
          if (e || !lists || !next_field(line, &i, &s)) break;
        }
        if (!lists && !e && next_field(line, &i, &s)) ++rep_->unread_fields;
      }
    }
    if (e) return e;
  }
  return src->error();
}

// Whitespace-separated lines from `at` in the head (up to 64 KiB): LISTS (one user's items per
// line) when the lines' numbers of fields vary — no one number on 90% of them, or fewer than 10
// lines to tell —, when the most common number is over 4, or when a line the head cuts has more
// than 4 fields; PAIRS when one number of 4 or fewer holds (`user item`, or a fixed layout such as
// `user item rating time`, whose fields past the second are not read and are counted in the
// report), a stray short line or two included.
Format pairs_or_lists(const std::string& h, size_t at) {
  std::vector<size_t> counts;
  bool cut = false;  // a line the head ends inside (a head under 64 KiB is the whole input)
  while (at < h.size()) {
    size_t eol = h.find('\n', at);
    if (eol == std::string::npos) cut = h.size() >= (size_t(1) << 16), eol = h.size();
    const std::string_view line(h.data() + at, eol - at);
    size_t n = 0;
    for (size_t i = 0, s = 0; next_field(line, &i, &s);) ++n;
    if (cut) {
      // A line the head cuts after more fields than a fixed layout has (user item rating time)
      // is a list; a short cut piece says nothing.
      if (n > 4) return Format::LISTS;
      break;
    }
    if (n) counts.push_back(n);
    at = eol + 1;
  }
  if (counts.empty()) return Format::PAIRS;
  std::sort(counts.begin(), counts.end());  // the most common number: the longest run
  size_t best = 0, common = 0;
  for (size_t a = 0, b; a < counts.size(); a = b) {
    for (b = a; b < counts.size() && counts[b] == counts[a]; ++b) {}
    if (b - a > best) best = b - a, common = counts[a];
  }
  // A fixed layout has at most 4 fields; lists cut to one length (--max-len exports) have more.
  if (common > 4) return Format::LISTS;
  if (best == counts.size()) return Format::PAIRS;
  return counts.size() >= 10 && best * 10 >= counts.size() * 9 ? Format::PAIRS : Format::LISTS;
}

Format sniff(Source* src) {
  std::string h = src->head(4096);
  const size_t i = first_content(h);
  // JSON Lines, or a JSON array of records ("[{" with white space between).
  if (i < h.size() && h[i] == '{') return Format::JSONL;
  if (i < h.size() && h[i] == '[')
    if (const size_t j = first_content(h, i + 1); j < h.size() && h[j] == '{') return Format::JSONL;
  size_t eol = h.find('\n', i);
  std::string first = h.substr(i, eol == std::string::npos ? std::string::npos : eol - i);
  if (first.find('\t') != std::string::npos) {
    // A header names columns; a pairs line is numbers.
    bool digits_only = true;
    for (char c : first)
      if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '\t' || c == ' ' || c == '\r')) digits_only = false;
    return digits_only ? pairs_or_lists(src->head(size_t(1) << 16), i) : Format::TSV;
  }
  if (first.find(',') != std::string::npos) return Format::CSV;
  formats::AccessRecord access;
  std::string why;
  if (formats::parse_access_line(first, &access, &why)) return Format::ACCESS_LOG;
  if (first.find(';') != std::string::npos || first.find('|') != std::string::npos) return Format::CSV;
  return pairs_or_lists(src->head(size_t(1) << 16), i);
}

Error Ingestor::finish(Dataset* out) {
  const bool fixed = opt_.vocabulary != nullptr;
  if (opt_.progress) show_progress(true);
  if (opt_.keep_last) trim();
  // Per user, by time; the line breaks ties, so equal times keep their file order.
  std::sort(events_.begin(), events_.end(), [](const RawEvent& a, const RawEvent& b) {
    if (a.user != b.user) return a.user < b.user;
    if (a.key != b.key) return a.key < b.key;
    if (a.line != b.line) return a.line < b.line;
    return a.sub < b.sub;
  });
  // The names and per-user state, held throughout; then the larger of the two phases below.
  uint64_t peak = user_state_.bytes() +
                  users_.bytes() + actions_.bytes() + types_.bytes() + route_count_.bytes() +
                  memo_.bucket_count() * sizeof(void*) + memo_.size() * 64;
  if (admit_) {  // the names a second read counts (max_names), held beside the interned ones
    peak += admit_->bucket_count() * sizeof(void*);
    for (const auto& n : *admit_) peak += 48 + (n.size() > 15 ? n.capacity() + 1 : 0);
  }

  // The cleaning report's example of a duplicate: the first of the first user who has one (user
  // ids are in order of first sight). Sharded, each process finds its own users' first; the
  // processes then take the one of the lowest user id (below), one process's example.
  const size_t duplicate_example_at = rep_->examples.size();
  std::vector<double> first_duplicate = {0, 0, 0, 0};  // found, user, its line, the kept event's line
  // Duplicates, sessions and short sequences, compacting events_ in place.
  // A kept sequence moves to the front (to `kept`) as soon as it is complete: it lies at or
  // after `kept`, and the events after it, still to be read, lie after its end.
  std::vector<uint64_t> offsets(1, 0);
  std::vector<uint32_t> seq_user, seq_index;  // user, session number within the user (1-based)
  std::vector<uint32_t> user_sessions(users_.size(), 0);
  std::vector<std::pair<uint64_t, size_t>> group;  // (action<<32 | type, position) in a time run
  std::vector<uint8_t> session_flags;  // kSessionStart / kSessionEnd, by compacted position
  session_flags.reserve(events_.size());  // exact: no doubling
  size_t w = 0, n = events_.size(), kept = 0;
  for (size_t a = 0; a < n;) {
    size_t b = a;
    while (b < n && events_[b].user == events_[a].user) ++b;
    // Drop duplicates inside each run of equal known times (events without a time never match).
    size_t kept_begin = w;
    for (size_t i = a; i < b;) {
      size_t j = i + 1;
      if (events_[i].has_time)
        while (j < b && events_[j].has_time && events_[j].key == events_[i].key) ++j;
      if (j - i == 1 || !opt_.dedupe) {
        for (size_t k = i; k < j; ++k) events_[w++] = events_[k];
      } else {
        group.clear();
        for (size_t k = i; k < j; ++k)
          group.emplace_back((uint64_t(events_[k].action) << 32) | events_[k].type, k);
        std::sort(group.begin(), group.end());  // position breaks ties: the first line survives
        std::vector<bool> drop(j - i, false);
        size_t first = 0;  // start of the current run of equal (action, type) in `group`
        for (size_t g = 1; g < group.size(); ++g) {
          if (group[g].first != group[first].first) { first = g; continue; }
          size_t dup = group[g].second;
          drop[dup - i] = true;
          ++rep_->duplicates;
          const uint64_t orig = events_[group[first].second].line;
          if (examples_seen_.insert_if_new(&rep_->duplicates)) {
            rep_->examples.push_back(duplicate_example(events_[dup].line, orig));
            first_duplicate = {1.0, double(events_[dup].user), double(events_[dup].line), double(orig)};
          }
        }
        for (size_t k = i; k < j; ++k)
          if (!drop[k - i]) events_[w++] = events_[k];
      }
      i = j;
    }
    // Sessions over the kept events of this user.
    uint32_t user = events_[a].user;
    size_t s = kept_begin;
    if (session_flags.size() < w) session_flags.resize(w, 0);
    uint32_t session = UINT32_MAX;  // the last known session id of this user so far
    for (size_t i = kept_begin; i < w; ++i) {
      // Only a known time starts a session; an event without one follows its predecessor.
      // With a session column, where the session id changes instead (unknown ids follow).
      if (events_[i].session != UINT32_MAX) session = events_[i].session;
      bool split = i == w - 1 ||
                   (rep_->has_session_column
                        ? session != UINT32_MAX && events_[i + 1].session != UINT32_MAX &&
                              events_[i + 1].session != session
                        : opt_.session_gap > 0 && events_[i + 1].has_time && std::isfinite(events_[i].key) &&
                              events_[i + 1].key - events_[i].key > opt_.session_gap);
      if (!split) continue;
      session_flags[s] |= kSessionStart;
      session_flags[i] |= kSessionEnd;
      if (opt_.whole_users && i != w - 1) {  // the user's sessions stay one sequence
        s = i + 1;
        continue;
      }
      if (opt_.whole_users) s = kept_begin;
      size_t len = i + 1 - s;
      uint32_t index = ++user_sessions[user];
      if (len < opt_.min_length) {
        ++rep_->short_sequences;
        rep_->short_sequence_events += len;
      } else {
        for (size_t k = 0; k < len; ++k) {
          events_[kept + k] = events_[s + k];
          session_flags[kept + k] = session_flags[s + k];
        }
        kept += len;
        offsets.push_back(kept);
        seq_user.push_back(user);
        seq_index.push_back(index);
      }
      s = i + 1;
    }
    a = b;
  }
  events_.shrink(kept);
  session_flags.resize(kept);
  const size_t sequences = seq_user.size();
  if (opt_.shard) {
    const bool had = first_duplicate[0] > 0;
    const std::vector<double> all = opt_.shard->collective().all_gather(first_duplicate);
    const double* best = nullptr;
    for (size_t r = 0; r + 3 < all.size(); r += 4)
      if (all[r] > 0 && (!best || all[r + 1] < best[1])) best = &all[r];
    if (best) {
      const std::string msg = duplicate_example(uint64_t(best[2]), uint64_t(best[3]));
      if (had) rep_->examples[duplicate_example_at] = msg;
      else rep_->examples.insert(rep_->examples.begin() + ptrdiff_t(duplicate_example_at), msg);
    }
  }

  // Vocabulary.
  std::vector<std::string> action_names = actions_.names(), type_names = types_.names();
  rep_->distinct_actions = action_names.size() - (sink_ != UINT32_MAX);
  std::vector<uint32_t> action_map(action_names.size(), 0), type_map(type_names.size(), 0);
  if (fixed) {
    std::unordered_map<std::string, uint32_t> ids;
    const auto& va = opt_.vocabulary->actions;
    for (uint32_t i = 1; i < va.size(); ++i) ids.emplace(va[i], i);
    for (size_t i = 0; i < action_names.size(); ++i) {
      auto it = ids.find(action_names[i]);
      action_map[i] = it == ids.end() ? 0 : it->second;
    }
    ids.clear();
    const auto& vt = opt_.vocabulary->types;
    for (uint32_t i = 1; i < vt.size(); ++i) ids.emplace(vt[i], i);
    for (size_t i = 0; i < type_names.size(); ++i) {
      auto it = ids.find(type_names[i]);
      type_map[i] = it == ids.end() ? 0 : it->second;
    }
    out->actions = va;
    out->types = vt;
    out->gap_edges = opt_.vocabulary->gap_edges;
  } else {
    auto build = [&](const std::vector<std::string>& names, bool is_type, uint32_t cap,
                     std::vector<uint32_t>* map, std::vector<std::string>* vocab, const char* reserved) {
      std::vector<uint64_t> count(names.size(), 0);
      // Distinct users per name: events_ holds each user's events together (sorted by user), so
      // a name's user count goes up where its last user stamp changes. With keep_last, the users
      // of trimmed events (up to min_users of them) joined with the kept events' users.
      std::vector<uint32_t> users(names.size(), 0), last_user(names.size(), UINT32_MAX);
      auto& trimmed_users = is_type ? trimmed_type_users_ : trimmed_action_users_;
      for (const RawEvent& e : events_) {
        uint32_t id = is_type ? e.type : counted_id(e.action);
        if (id == UINT32_MAX) continue;
        ++count[id];
        if (last_user[id] != e.user) {
          last_user[id] = e.user, ++users[id];
          if (id < trimmed_users.size() && !trimmed_users[id].empty()) add_user(&trimmed_users, id, e.user, rep_->min_users);
        }
      }
      for (size_t i = 0; i < trimmed_users.size() && i < users.size(); ++i)
        users[i] = std::max(users[i], uint32_t(trimmed_users[i].size()));
      // keep_last: the trimmed events count too (trim() sized these to the names at its time).
      const auto& trimmed = is_type ? trimmed_type_count_ : trimmed_action_count_;
      for (size_t i = 0; i < trimmed.size(); ++i) count[i] += trimmed[i];
      // Sharded: every process has the same names (each read every record) and its own users'
      // events; users are disjoint across processes, so counts and distinct users add up (a
      // count capped at min_users above stays at or above it in the sum: the same cut).
      if (opt_.shard) {
        std::vector<double> both(2 * names.size());
        for (size_t i = 0; i < names.size(); ++i) both[i] = double(count[i]), both[names.size() + i] = users[i];
        sum_across(&both);
        for (size_t i = 0; i < names.size(); ++i)
          count[i] = uint64_t(both[i]), users[i] = uint32_t(std::min(both[names.size() + i], double(UINT32_MAX)));
      }
      std::vector<uint32_t> order;
      for (uint32_t i = 0; i < names.size(); ++i) {
        if (!is_type && i == sink_) continue;  // actions outside the counted ones (max_names): <unk>
        if (!(count[i] >= opt_.min_count && count[i] > 0 && names[i] != reserved)) continue;
        if (rep_->min_users > 1 && users[i] < rep_->min_users) {  // k-anonymous vocabulary: withheld, counted
          ++*(is_type ? &rep_->withheld_types : &rep_->withheld_actions);
          *(is_type ? &rep_->withheld_type_events : &rep_->withheld_action_events) += count[i];
          continue;
        }
        order.push_back(i);
      }
      std::sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) {
        if (count[x] != count[y]) return count[x] > count[y];
        return names[x] < names[y];
      });
      // Bounded name counting: an action outside the counted ones was kept at most B times (its
      // users are fewer still), so it could have entered only if B reaches min_count and
      // min_users and the vocabulary has room for it or its cut is at B or below.
      if (!is_type && admit_ && !opt_.vocabulary) {
        const uint64_t b = admit_bound_;
        rep_->vocab_exact = b < opt_.min_count || b < rep_->min_users || (order.size() >= cap && count[order[cap - 1]] > b);
      }
      if (order.size() > cap) order.resize(cap);
      vocab->assign(1, reserved);
      for (uint32_t i : order) {
        (*map)[i] = static_cast<uint32_t>(vocab->size());
        vocab->push_back(names[i]);
      }
    };
    build(action_names, false, opt_.max_vocab, &action_map, &out->actions, "<unk>");
    build(type_names, true, opt_.max_types, &type_map, &out->types, "<none>");
    out->gap_edges = opt_.gap_edges;
    out->min_count = opt_.min_count;
    out->min_users = rep_->min_users;
  }
  out->routes = routes_;
  if (routes_.enabled()) route_count_.report(action_names, sink_, rep_);

  // Attributes read each kept event's raw action and user: taken before the records go.
  std::vector<uint32_t> raw_actions, event_users;
  if (attrs_.columns()) {
    raw_actions.resize(kept);
    event_users.resize(kept);
    for (size_t i = 0; i < kept; ++i) raw_actions[i] = counted_id(events_[i].action), event_users[i] = events_[i].user;
  }
  // The raw phase at its largest: the records, their flags and the sequences.
  const uint64_t raw_phase = events_.bytes() + session_flags.capacity() + raw_actions.capacity() * 8 +
                             offsets.capacity() * sizeof(uint64_t) + (seq_user.capacity() + seq_index.capacity()) * 4;

  // The Dataset, filled in order while the records' blocks are freed behind it: each column is
  // reserved at its exact size and only becomes resident as it is written (push_back, not a
  // zero-filling resize), so the records and the Dataset are never both whole.
  out->offsets = std::move(offsets);
  out->flags = std::move(session_flags);
  auto fresh = [kept](auto* v) {
    std::remove_reference_t<decltype(*v)>().swap(*v);
    v->reserve(kept);
  };
  fresh(&out->action);
  fresh(&out->type);
  fresh(&out->gap);
  fresh(&out->time);
  fresh(&out->line);
  fresh(&out->session_position);
  fresh(&out->session_number);
  out->goal_types.clear();
  out->sequence_key.clear();
  out->sequence_key.reserve(sequences);
  out->sequence_user = seq_user;  // user ids are in order of first sight, in every process
  out->sharded = opt_.shard != nullptr;
  for (size_t q = 0; q < sequences; ++q) {
    uint32_t u = seq_user[q];
    out->sequence_key.emplace_back(users_.name(u));
    if (user_sessions[u] > 1) out->sequence_key.back() += "#" + std::to_string(seq_index[q]);
    double prev = std::nan("");
    uint32_t pos = 0, number = 0;
    for (uint64_t i = out->offsets[q]; i < out->offsets[q + 1]; ++i) {
      const RawEvent& e = events_[i];
      uint32_t a = action_map[counted_id(e.action)];
      uint32_t t = e.type == UINT32_MAX ? 0 : type_map[e.type];
      if (a == 0) ++rep_->unknown_action_events;
      if (e.type != UINT32_MAX && t == 0) ++rep_->unknown_type_events;
      double time = e.has_time ? e.key : std::nan("");
      out->action.push_back(a);
      out->type.push_back(static_cast<uint16_t>(t));
      out->time.push_back(time);
      out->line.push_back(e.line);
      out->gap.push_back(i == out->offsets[q] ? 0 : gap_bucket(out->gap_edges, prev, time));
      prev = time;
      if ((out->flags[i] & kSessionStart) || i == out->offsets[q]) {
        pos = 0;
        ++number;
      }
      out->session_position.push_back(++pos);
      out->session_number.push_back(number);
    }
    events_.release_front(out->offsets[q + 1]);
  }
  events_.clear();
  // The sequence keys: a std::string each, and past its 15 inline bytes a heap block (the
  // allocator's 16-byte granules, its 8-byte header included).
  uint64_t key_bytes = out->sequence_key.capacity() * sizeof(std::string);
  for (const std::string& k : out->sequence_key) key_bytes += k.size() > 15 ? (k.size() + 1 + 8 + 15) / 16 * 16 : 0;
  uint64_t data_phase = kept * (3 * sizeof(uint32_t) + sizeof(uint16_t) + 2 * sizeof(uint8_t) + 2 * sizeof(double)) +
                        out->offsets.capacity() * sizeof(uint64_t) + (seq_user.capacity() + seq_index.capacity()) * 4 +
                        key_bytes + raw_actions.capacity() * 8 +
                        std::min<uint64_t>(kept, ChunkedVector<RawEvent>::kBlock) * sizeof(RawEvent);
  {
    std::function<void(std::vector<double>*)> attr_sum;
    if (opt_.shard) attr_sum = [this](std::vector<double>* v) { sum_across(v); };
    if (Error e = attrs_.finish(opt_.min_count, rep_->min_users, opt_.max_attr_values, opt_.numeric_buckets,
                                opt_.vocabulary, action_map, raw_actions, event_users, out, attr_sum))
      return e;
    data_phase += attrs_.bytes() + out->attr.capacity() * sizeof(uint16_t);
    rep_->attributes.clear();
    for (size_t k = 0; k < attrs_.columns() && !opt_.vocabulary; ++k) {
      const std::string& name = attrs_.names()[k];
      if (std::find(out->attr_columns.begin(), out->attr_columns.end(), name) == out->attr_columns.end())
        note("attribute column '" + name + "' left out: no value of it was kept (" +
             (attrs_.distinct(k) == 0 ? (attrs_.numeric(k) ? "none reads as a number" : "no row has one")
                                      : "each is rarer than --min-count or --min-users") +
             ")");
    }
    for (size_t k = 0; k < out->attr_count(); ++k)
      rep_->attributes += (k ? ", " : "") + out->attr_columns[k] + " (" +
                          std::to_string(out->attr_start[k + 1] - out->attr_start[k] - 1) +
                          (out->attr_numeric[k] ? " numeric buckets)" : " values)");
  }
  peak += std::max(raw_phase, data_phase);
  // Sessions cut by the end of the log: one whose last event lies within a session gap of the
  // log's last time may go on after it, so its end (and a conversion still to come) is unknown.
  if (opt_.session_gap > 0) {
    double last = -INFINITY;
    for (double t : out->time)
      if (std::isfinite(t)) last = std::max(last, t);
    if (opt_.shard)  // the log's last time, over every process's users
      for (double t : opt_.shard->collective().all_gather({last})) last = std::max(last, t);
    for (size_t q = 0; q < out->sequences(); ++q) {
      uint64_t session_begin = out->offsets[q];
      for (uint64_t i = out->offsets[q]; i < out->offsets[q + 1]; ++i) {
        if (out->flags[i] & kSessionStart) session_begin = i;
        if ((out->flags[i] & kSessionEnd) && std::isfinite(out->time[i]) && out->time[i] > last - opt_.session_gap)
          for (uint64_t j = session_begin; j <= i; ++j) out->flags[j] |= kCensored;
      }
    }
  }
  std::vector<bool> user_kept(users_.size(), false);
  for (uint32_t u : seq_user) user_kept[u] = true;
  rep_->users = static_cast<uint64_t>(std::count(user_kept.begin(), user_kept.end(), true));
  rep_->sequences = sequences;
  rep_->kept_events = kept;
  rep_->vocab_size = out->actions.size();
  rep_->type_count = out->types.size();
  rep_->peak_bytes = rep_->process_peak_bytes = peak;
  if (opt_.shard) {
    // The counters of each process's own users, summed (the row counters, read alike by every
    // process, stay as they are), and the memory of all of them.
    uint64_t* per_user[] = {&rep_->users,          &rep_->sequences,        &rep_->kept_events,
                            &rep_->duplicates,     &rep_->short_sequences,  &rep_->short_sequence_events,
                            &rep_->trimmed_events, &rep_->unknown_action_events, &rep_->unknown_type_events,
                            &rep_->peak_bytes};
    std::vector<double> v;
    for (uint64_t* c : per_user) v.push_back(double(*c));
    sum_across(&v);
    for (size_t i = 0; i < v.size(); ++i) *per_user[i] = uint64_t(v[i]);
  }
  return {};
}

void Ingestor::sum_across(std::vector<double>* v) const { opt_.shard->collective().sum(v->data(), v->size()); }

// ---- the newer formats (ingest.h; record parsing in ingest-formats.cpp) ----------------------

// The first row of a delimited file: a header, or (IngestOptions::columns) data.
Error Ingestor::resolve_header(std::vector<std::string>* fields, bool* data_row) {
  std::vector<std::string> names(opt_.columns.begin(), opt_.columns.end());
  for (int r = 0; r < ROLES; ++r) names.insert(names.end(), kDefaults[r].begin(), kDefaults[r].end());
  for (const std::string* g : {&opt_.user_column, &opt_.time_column, &opt_.action_column, &opt_.type_column,
                               &opt_.session_column})
    if (!g->empty() && *g != "none") names.push_back(*g);
  for (const char* k : {"user_session", "ga_session_id"}) names.push_back(k);
  *data_row = false;
  if (!opt_.columns.empty()) {
    // --columns says the file has no header: its first row is data unless it names a column
    // (a file with a header after all). All-text rows ("alice,/home,view") are data too.
    *data_row = !formats::names_a_column(*fields, names);
    rep_->headerless = *data_row;
    return resolve_columns(opt_.columns);
  }
  Error e = resolve_columns(*fields);
  if (e && formats::looks_like_data(*fields, names))
    return Error(e.message + "; the first row looks like data, not a header: name the file's columns with "
                             "--columns (e.g. --columns user,item,category,type,time)");
  return e;
}

// The session column (IngestOptions::session_column): given, or the first default that is not
// the user column.
Error Ingestor::resolve_session(const std::vector<std::string>& header) {
  session_column_ = -1;
  rep_->has_session_column = false;
  if (opt_.session_column == "none") return {};
  if (!opt_.session_column.empty()) {
    for (size_t i = 0; i < header.size() && session_column_ < 0; ++i)
      if (header[i] == opt_.session_column) session_column_ = int(i);
    if (session_column_ < 0)
      return Error(name_ + ":1: no session column (looked for '" + opt_.session_column +
                   "') — name it with --session-column, or none");
  } else {
    const size_t i = find_default(header.size(), [&](size_t j) -> const std::string& { return header[j]; }, kSessionNames,
                                  [&](size_t j) { return int(j) == column_[USER]; });
    if (i < header.size()) session_column_ = int(i);
  }
  if (session_column_ >= 0 && session_column_ == column_[USER]) session_column_ = -1;
  if (session_column_ >= 0) {
    rep_->has_session_column = true;
    rep_->session_column = header[session_column_];
  }
  return {};
}

char Ingestor::delimiter_for(Source* src, Format f) {
  if (opt_.delimiter) return opt_.delimiter;
  if (opt_.format == Format::TSV) return '\t';
  const char preferred = f == Format::TSV ? '\t' : ',';
  char d = formats::sniff_delimiter(src->head(1 << 16), preferred);
  return d ? d : preferred;
}

Format Ingestor::refine_json(Source* src) {
  // The first record: the first non-blank line, or a top-level array's first element.
  const std::string h = src->head(1 << 18);
  Source head;
  head.open_memory(name_, &h);
  JsonRecords records(&head);
  std::string rec;
  bool too_long = false;
  uint64_t line = 0;
  while (records.next(h.size(), &rec, &too_long, &line)) {
    if (line == 1 && rec.rfind("\xEF\xBB\xBF", 0) == 0) rec.erase(0, 3);
    if (!blank(rec)) break;
  }
  formats::Json first;
  std::string why;
  if (!formats::parse_json(rec.data(), rec.data() + rec.size(), &first, &why)) return Format::JSONL;
  std::vector<std::string> action_keys = kDefaults[ACTION];
  if (!opt_.action_column.empty()) action_keys = {opt_.action_column};
  switch (formats::json_shape(first, action_keys, &events_field_)) {
    case formats::JsonShape::GA4: return Format::GA4;
    case formats::JsonShape::SEGMENT: return Format::SEGMENT;
    case formats::JsonShape::ANALYTICS:  // unless flags name the records' own keys: flat then
      return opt_.user_column.empty() && opt_.time_column.empty() && opt_.type_column.empty() ? Format::ANALYTICS
                                                                                              : Format::JSONL;
    default: return Format::JSONL;  // per-session records when events_field_ was set
  }
}

Error Ingestor::row_from_fields(const formats::EventFields& f, uint64_t line, uint32_t sub, Row* row) {
  static const int kRole[] = {USER, TIME, ACTION, TYPE};
  for (int k = 0; k < 4; ++k) {
    row->present[kRole[k]] = f.present[k];
    row->value[kRole[k]] = f.value[k];
  }
  if (opt_.time_column == "none") row->present[TIME] = false;  // file order
  row->has_session = f.present[formats::F_SESSION] && opt_.session_column != "none";  // none: by gap
  row->session = f.value[formats::F_SESSION];
  if (row->has_session && !rep_->has_session_column) rep_->has_session_column = true;
  if (row->present[TIME]) rep_->has_time_column = true;
  if (f.present[formats::F_TYPE]) rep_->has_type_column = true;
  row->line = line;
  row->sub = sub;
  // Attribute columns: scalar members of f.attributes (find_name).
  if (f.attributes && f.attributes->kind == formats::Json::OBJECT && opt_.find_attributes && !attributes_searched_) {
    std::vector<std::string> keys;
    for (const auto& m : f.attributes->members)
      if (m.second.kind != formats::Json::OBJECT && m.second.kind != formats::Json::ARRAY &&
          m.first != opt_.user_column && m.first != opt_.action_column && m.first != opt_.time_column &&
          m.first != opt_.type_column)
        keys.push_back(m.first);
    if (Error e = find_attributes(keys, rep_->rows >= kAttributeSearchRecords)) return e;
  }
  row->attr.resize(attrs_.columns());
  for (size_t k = 0; k < attrs_.columns(); ++k) {
    row->attr[k].clear();
    if (!f.attributes || f.attributes->kind != formats::Json::OBJECT) continue;
    const auto& members = f.attributes->members;
    const size_t i = find_name(members.size(), attrs_.names()[k], [&](size_t j) -> const std::string& { return members[j].first; });
    if (i < members.size() && members[i].second.scalar()) row->attr[k] = members[i].second.text;
  }
  return accept(*row);
}

// GA4 and Segment (one call per line) and per-session JSON (one record per line, its events in
// an array). Each event is one row; a line that is not valid JSON is one malformed row.
Error Ingestor::read_json_events(Source* src, Format f) {
  using formats::EventFields;
  std::string line, why;
  uint64_t lineno = 0;
  bool too_long;
  Row row;
  formats::Json rec;
  EventFields ev;
  const bool nested = f == Format::JSONL;
  if (f == Format::GA4) {
    rep_->user_column = "user_pseudo_id";
    rep_->time_column = "event_timestamp";
    rep_->action_column = "event_params.page_location (path)";
    rep_->type_column = "event_name";
    rep_->session_column = "event_params.ga_session_id";
  } else if (f == Format::SEGMENT) {
    rep_->user_column = "anonymousId|userId";
    rep_->time_column = "timestamp";
    rep_->action_column = "properties.product_id|sku|event|properties.path|name";
    rep_->type_column = "event (track) or type (page/screen)";
  } else if (f == Format::ANALYTICS) {
    rep_->user_column = "distinct_id|user_id|device_id";
    rep_->time_column = "timestamp|time|event_time";
    rep_->action_column = "properties.product_id|item_id|sku|$pathname|$current_url (path)|event";
    rep_->type_column = "event|event_type";
    rep_->session_column = "$session_id|session_id";
  } else {
    rep_->events_field = events_field_;
    rep_->user_column = opt_.user_column.empty() ? "session" : opt_.user_column;
    rep_->time_column = opt_.time_column.empty() ? "ts" : opt_.time_column;
    rep_->action_column = opt_.action_column.empty() ? "aid" : opt_.action_column;
    rep_->type_column = opt_.type_column.empty() ? "type" : opt_.type_column;
  }
  // A key of an object: the given name, or the first present default (case-insensitive).
  // The candidate keys per role, once (an event's action may also be OTTO's "aid").
  std::vector<std::string> candidates[ROLES];
  for (int r = 0; r < ROLES; ++r) candidates[r] = kDefaults[r];
  candidates[ACTION].push_back("aid");
  auto find = [&](const formats::Json& o, int role, const std::string& given) -> const formats::Json* {
    if (!given.empty()) {
      const formats::Json* v = o.get(given);
      return v && v->scalar() ? v : nullptr;
    }
    const size_t i = find_default(o.members.size(), [&](size_t j) -> const std::string& { return o.members[j].first; },
                                  candidates[role], [&](size_t j) { return !o.members[j].second.scalar(); });
    return i < o.members.size() ? &o.members[i].second : nullptr;
  };
  JsonRecords records(src);
  while (records.next(opt_.max_line_bytes, &line, &too_long, &lineno)) {
    if (lineno == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
    if (!too_long && blank(line)) continue;
    Error e;
    if (too_long) {
      ++rep_->rows;
      e = skip(&rep_->too_long, lineno, "line longer than " + std::to_string(opt_.max_line_bytes) + " bytes");
    } else if (!formats::parse_json(line.data(), line.data() + line.size(), &rec, &why)) {
      ++rep_->rows;
      e = skip(&rep_->malformed, lineno, why);
    } else if (f == Format::GA4) {
      ++rep_->rows;
      if (!formats::ga4_event(rec, &ev, &why)) e = skip(&rep_->malformed, lineno, why);
      else e = row_from_fields(ev, lineno, records.sub(), &row);
    } else if (f == Format::ANALYTICS) {
      ++rep_->rows;
      if (!formats::analytics_event(rec, &ev, &why)) e = skip(&rep_->malformed, lineno, why);
      else e = row_from_fields(ev, lineno, records.sub(), &row);
    } else if (f == Format::SEGMENT) {
      ++rep_->rows;
      int kind = formats::segment_event(rec, &ev, &why);
      if (kind < 0) e = skip(&rep_->malformed, lineno, why);
      else if (kind == 0) filtered(&rep_->not_events, lineno, why);
      else e = row_from_fields(ev, lineno, records.sub(), &row);
    } else if (nested) {
      const formats::Json* events = rec.get(events_field_);
      if (rec.kind != formats::Json::OBJECT || !events || events->kind != formats::Json::ARRAY) {
        ++rep_->rows;
        e = skip(&rep_->malformed, lineno, "expected an object with an array '" + events_field_ + "'");
      } else {
        ev.clear();
        if (const formats::Json* u = find(rec, USER, opt_.user_column)) {
          ev.present[formats::F_USER] = true;
          ev.value[formats::F_USER] = u->text;
        }
        const std::string user = ev.value[formats::F_USER];
        const bool has_user = ev.present[formats::F_USER];
        for (size_t k = 0; k < events->items.size() && !e; ++k) {
          ++rep_->rows;
          const formats::Json& item = events->items[k];
          if (item.kind != formats::Json::OBJECT) {
            e = skip(&rep_->malformed, lineno, "'" + events_field_ + "'[" + std::to_string(k) + "]: not an object");
            continue;
          }
          ev.clear();
          ev.present[formats::F_USER] = has_user;
          ev.value[formats::F_USER] = user;
          struct { int role; formats::Field field; const std::string* given; } kMap[] = {
              {ACTION, formats::F_ACTION, &opt_.action_column},
              {TIME, formats::F_TIME, &opt_.time_column},
              {TYPE, formats::F_TYPE, &opt_.type_column}};
          for (const auto& m : kMap) {
            if (m.role == TIME && *m.given == "none") continue;
            if (const formats::Json* v = find(item, m.role, *m.given)) {
              ev.present[m.field] = true;
              ev.value[m.field] = v->text;
            }
          }
          if (!opt_.session_column.empty() && opt_.session_column != "none")
            if (const formats::Json* v = item.get(opt_.session_column); v && v->scalar()) {
              ev.present[formats::F_SESSION] = true;
              ev.value[formats::F_SESSION] = v->text;
              rep_->session_column = opt_.session_column;
            }
          ev.attributes = &item;
          e = row_from_fields(ev, lineno, uint32_t(std::min<size_t>(k, 0xFFFF)), &row);
        }
      }
    }
    if (e) return e;
  }
  if (!src->error().ok()) return src->error();
  return records.error().empty() ? Error() : Error(name_ + ": " + records.error());
}

// Web-server access logs: page views only (GET/HEAD of a non-asset path with a 2xx/3xx status
// when the line has one), user = address + user agent, no event type; sessions by gap.
Error Ingestor::read_access_log(Source* src) {
  std::string line, why;
  uint64_t lineno = 0;
  bool too_long;
  Row row;
  formats::AccessRecord rec;
  rep_->user_column = "address + user agent";
  rep_->time_column = "time";
  rep_->action_column = "request path";
  rep_->has_time_column = opt_.time_column != "none";
  while (read_line(src, opt_.max_line_bytes, &line, &too_long)) {
    ++lineno;
    if (lineno == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
    if (!too_long && blank(line)) continue;
    ++rep_->rows;
    Error e;
    if (too_long) {
      e = skip(&rep_->too_long, lineno, "line longer than " + std::to_string(opt_.max_line_bytes) + " bytes");
    } else if (!formats::parse_access_line(line, &rec, &why)) {
      e = skip(&rep_->malformed, lineno, "not an access-log line: " + why);
    } else if (rec.method != "GET" && rec.method != "HEAD") {
      filtered(&rep_->not_events, lineno, "a " + quote_value(rec.method) + " request, not a page view");
    } else if (rec.status >= 0 && (rec.status < 200 || rec.status >= 400)) {
      filtered(&rep_->error_status, lineno, "status " + std::to_string(rec.status) + " (kept: 2xx and 3xx)");
    } else if (formats::is_static_asset(rec.path)) {
      filtered(&rep_->static_assets, lineno, "a static asset: " + quote_value(rec.path));
    } else {
      row.line = lineno;
      row.sub = 0;
      row.has_session = false;
      row.present[USER] = row.present[ACTION] = true;
      row.present[TYPE] = false;
      row.present[TIME] = rep_->has_time_column;
      row.value[USER] = rec.agent.empty() ? rec.host : rec.host + " " + rec.agent;
      row.value[ACTION] = formats::url_path(rec.path);
      // Kept query parameters (--keep-query) need the query string: the routes drop the rest.
      if (const size_t q = rec.path.find('?'); q != std::string::npos && !routes_.keep_query().empty())
        row.value[ACTION] += rec.path.substr(q, rec.path.find('#', q) - q);
      row.value[TIME] = rec.time;
      e = accept(row);
    }
    if (e) return e;
  }
  return src->error();
}

Error Ingestor::configure() {
  if (Error e = check_options()) return e;
  if (opt_.vocabulary) routes_ = opt_.vocabulary->routes;
  else if (!opt_.normalize) routes_.off();
  else if (Error e = routes_.set(opt_.keep_query, opt_.route_rules, "action normalisation")) return e;
  rep_->normalized = routes_.enabled();
  rep_->min_users = opt_.vocabulary ? 1 : std::max<uint32_t>(opt_.min_users, 1);
  if (opt_.vocabulary) {  // the model's attribute columns
    std::vector<std::string> categorical, numeric;
    for (size_t k = 0; k < opt_.vocabulary->attr_columns.size(); ++k)
      (opt_.vocabulary->attr_numeric[k] ? numeric : categorical).push_back(opt_.vocabulary->attr_columns[k]);
    if (Error e = attrs_.configure(categorical, numeric)) return e;
  } else if (Error e = attrs_.configure(opt_.attr_columns, opt_.numeric_columns)) {
    return e;
  }
  attrs_.set_min_users(rep_->min_users);
  compact_at_ = size_t(1) << 16;
  time_ = TimeColumn(opt_.date_order);
  route_count_.set_cap(opt_.max_names);
  if (admit_) rep_->name_capacity = opt_.max_names, rep_->name_bound = admit_bound_;
  started_ = last_shown_ = std::chrono::steady_clock::now();
  return {};
}

// Text in UTF-16 or UTF-32 (Excel's "Unicode Text", some Windows tools) reads as garbage with
// NUL bytes in every name: refused with the way out rather than read so. Told by a byte-order
// mark, or by NUL bytes in the first line (no text log has them).
Error check_text_encoding(const std::string& name, const std::string& head) {
  // Containers and compressions hunch does not read (gzip it does), told by their magic bytes:
  // read as text they give garbage rows or the UTF-16 message.
  static const struct {
    std::string magic;
    const char *what, *instead;
  } kNotText[] = {
      {"BZh", "bzip2-compressed", "bzip2 -dc '%s' | gzip > events.csv.gz"},
      {std::string("\xFD" "7zXZ\0", 6), "xz-compressed", "xz -dc '%s' | gzip > events.csv.gz"},
      {"\x28\xB5\x2F\xFD", "zstd-compressed", "zstd -dc '%s' | gzip > events.csv.gz"},
      {"PK\x03\x04", "a zip archive", "unzip -p '%s' | gzip > events.csv.gz"},
      {"PAR1", "Parquet", "export the table as CSV or JSON Lines (e.g. Spark's df.write.csv, or COPY … TO in your warehouse)"},
      {"Obj\x01", "Avro", "export the table as CSV or JSON Lines"},
  };
  for (const auto& k : kNotText)
    if (head.size() >= k.magic.size() && head.compare(0, k.magic.size(), k.magic) == 0 &&
        !(k.magic == "BZh" && (head.size() < 4 || head[3] < '1' || head[3] > '9'))) {
      char way[512];
      std::snprintf(way, sizeof way, k.instead, name.c_str());
      return Error(name + ": the file is " + k.what + "; hunch reads text (CSV, TSV, JSON Lines, logs), plain or gzip — " + way);
    }
  const char *which = nullptr, *from = "UTF-16";  // what the text looks like; iconv's name for it
  if (head.rfind(std::string("\xFF\xFE\0\0", 4), 0) == 0 || head.rfind(std::string("\0\0\xFE\xFF", 4), 0) == 0) which = from = "UTF-32";
  else if (head.rfind("\xFF\xFE", 0) == 0 || head.rfind("\xFE\xFF", 0) == 0) which = "UTF-16";
  else if (head.substr(0, head.find('\n')).find('\0') != std::string::npos) which = "UTF-16 or binary (NUL bytes in the first line)";
  if (!which) return {};
  const bool gz = name.size() > 3 && name.compare(name.size() - 3, 3, ".gz") == 0;
  const std::string plain = gz ? name.substr(0, name.size() - 3) : name;
  const size_t dot = plain.find_last_of('.'), slash = plain.find_last_of('/');
  const std::string out = dot != std::string::npos && (slash == std::string::npos || dot > slash)
                              ? plain.substr(0, dot) + "-utf8" + plain.substr(dot)
                              : plain + "-utf8";
  return Error(name + ": the text is " + which + "; hunch reads UTF-8 — convert it first, e.g. " +
               (gz ? "gzip -dc '" + name + "' | iconv -f " + from + " -t UTF-8" : std::string("iconv -f ") + from + " -t UTF-8 '" + name + "'") +
               " > '" + out + "' (or export as UTF-8 / \"CSV UTF-8\")");
}

Error Ingestor::read_source(Source* src) {
  if (Error e = check_text_encoding(name_, src->head(4096))) return e;
  Format f = opt_.format != Format::AUTO ? opt_.format : format_from_path(name_);
  // .txt says little: a tab-separated file with a header (the yoochoose layout) is common.
  // .log neither: an access log, or lines of JSON or CSV.
  if (f == Format::AUTO || ((f == Format::PAIRS || f == Format::ACCESS_LOG) && opt_.format == Format::AUTO))
    f = sniff(src);
  // A delimiter given: delimited text unless the format was forced otherwise.
  if (opt_.delimiter && opt_.format == Format::AUTO && f != Format::TSV) f = Format::CSV;
  if (f == Format::JSONL && opt_.format != Format::JSONL) f = refine_json(src);
  if (!opt_.events_field.empty() && (f == Format::JSONL || f == Format::AUTO)) {
    f = Format::JSONL;
    events_field_ = opt_.events_field;
  }
  // Whitespace parts follow the first part's reading (a short part may look like either).
  if (format_known_ && opt_.format == Format::AUTO && (f == Format::PAIRS || f == Format::LISTS) &&
      (rep_->format == Format::PAIRS || rep_->format == Format::LISTS))
    f = rep_->format;
  // One log, one format: a file that reads otherwise is most likely not part of it.
  if (format_known_ && f != rep_->format)
    return Error(name_ + ": reads as " + format_name(f) + ", the first input (" + rep_->path + ") as " +
                 format_name(rep_->format) + "; give files of one format (or force one with --format)");
  format_known_ = true;
  rep_->format = f;
  if ((f == Format::PAIRS || f == Format::LISTS) && attrs_.columns() && opt_.vocabulary)
    note(name_ + " has no attribute columns: the model's table gives each known action's values");
  if ((f == Format::PAIRS || f == Format::LISTS) && attrs_.columns() && !opt_.vocabulary)
    return Error(name_ + ": attribute columns ('" + attrs_.names()[0] + "', …) need a file with named columns (CSV, "
                 "TSV or JSON Lines); this one reads as " +
                 (f == Format::LISTS ? "`user item item …` lists" : "`user item` pairs"));
  file_lines_ = 0;
  file_bases_.emplace_back(line_base_, name_);
  progress_src_ = src;
  Error e;
  switch (f) {
    case Format::CSV:
    case Format::TSV: e = read_delimited(src, rep_->delimiter = delimiter_for(src, f)); break;
    case Format::JSONL: e = events_field_.empty() ? read_jsonl(src) : read_json_events(src, f); break;
    case Format::GA4:
    case Format::SEGMENT:
    case Format::ANALYTICS: e = read_json_events(src, f); break;
    case Format::ACCESS_LOG: e = read_access_log(src); break;
    case Format::LISTS: e = read_pairs(src, true); break;
    default: e = read_pairs(src, false); break;
  }
  if (opt_.progress) show_progress(false);
  progress_src_ = nullptr;
  // The next file's records come after every line of this one.
  line_base_ += file_lines_ + 1;
  return e;
}

// What the report says of times read in an order the log did not show, or showed, and of rows
// that were not UTF-8.
void Ingestor::note_reading() {
  // The Latin-1 hint only for bytes that are not UTF-8: a NUL byte is valid UTF-8 that no
  // conversion removes.
  if (rep_->bad_utf8 > nul_rows_)
    note("rows that are not UTF-8 were skipped: if the file is Latin-1 / Windows-1252 (a spreadsheet's CSV), convert it "
         "first (iconv -f WINDOWS-1252 -t UTF-8)");
  if (nul_rows_)
    note(std::to_string(nul_rows_) + (nul_rows_ == 1 ? " row" : " rows") + " with a NUL byte in a user, action or type " +
         (nul_rows_ == 1 ? "was" : "were") + " skipped (counted under invalid UTF-8): a model's names cannot hold one");
  if (time_.assumed() && time_.order() == DateOrder::AUTO)
    note("times such as '" + time_.assumed_example() + "' were read month first (" + std::to_string(time_.assumed()) +
         " of them; no time in the log has a day above 12 to show the order): --date-order day-first reads them day first");
  else if (!time_.shown_by().empty())
    note(std::string("times read ") + (time_.order() == DateOrder::DAY_FIRST ? "day" : "month") + " first, as '" +
         time_.shown_by() + "' shows (--date-order gives the order)");
  if (time_.compact_dates()) note("8-digit times read as yyyymmdd dates (midnight UTC)");
}

// Sharded reading (IngestOptions::shard): every process learns whether any failed to read, so
// that none goes on into finish()'s sums while another has stopped (a file one node cannot
// read). The same sum as a trim's (read_sync): a process still reading meets a failed one's
// call at its next trim and stops there (peer_failed_: it already knows, and calls no more).
// The day-first re-read (read_with_date_order) only where every process asks for it.
Error Ingestor::agree_read(Error e) {
  if (!opt_.shard || peer_failed_) return e;
  double late = day_first_late_ ? 1.0 : 0.0;
  const double failed = read_sync(&late, bool(e));
  const double processes = double(opt_.shard->collective().size());
  if (failed == 0) return e;
  if (!(late == processes && failed == processes)) day_first_late_ = false;
  return e ? e : Error(peer_failure());
}

Error Ingestor::run(Source* src, Dataset* out) {
  Error e = configure();
  if (!e) e = read_source(src);
  if (Error agreed = agree_read(e)) return agreed;
  note_reading();
  return summary_ ? Error() : finish(out);
}

Error Ingestor::run_files(const std::vector<std::string>& paths, Dataset* out) {
  if (paths.empty()) return Error("no input files");
  if (Error e = agree_read(read_files(paths))) return e;
  note_reading();
  return summary_ ? Error() : finish(out);
}

Error Ingestor::read_files(const std::vector<std::string>& paths) {
  if (Error e = configure()) return e;
  files_total_ = paths.size();
  for (const auto& p : paths) {
    struct stat st;
    if (::stat(p.c_str(), &st) == 0) total_bytes_ += static_cast<uint64_t>(st.st_size);
  }
  rep_->files = paths.size();
  rep_->input_bytes = total_bytes_;
  for (const auto& p : paths) {
    Source src;
    if (Error e = src.open_file(p)) return e;
    name_ = p;
    // One of several inputs that holds nothing (an empty partition's part file, 0 bytes or an
    // empty gzip member) is skipped and counted; alone, it is the error "empty file".
    if (paths.size() > 1 && src.head(1).empty() && src.error().ok()) {
      ++rep_->empty_files;
      ++files_done_;
      continue;
    }
    if (Error e = read_source(&src)) return e;
    if (!src.error().ok()) return src.error();
    ++files_done_;
    struct stat st;
    if (::stat(p.c_str(), &st) == 0) bytes_before_ += static_cast<uint64_t>(st.st_size);
  }
  return {};
}

}  // namespace

Error ingest_file(const std::string& path, const IngestOptions& options, Dataset* out,
                  IngestReport* report) {
  return ingest_files({path}, options, out, report);
}

namespace {

// A log whose dates showed the day first only after others had been read month first is read
// again, day first (TimeColumn), when its inputs can be read again: the error otherwise.
template <typename Read>
Error read_with_date_order(const IngestOptions& options, bool rereadable, IngestReport* report, Read read) {
  bool late = false;
  Error e = read(options, &late);
  if (!e || !late || !rereadable) return e;
  IngestOptions day_first = options;
  day_first.date_order = DateOrder::DAY_FIRST;
  const std::string why = e.message;
  if (Error again = read(day_first, &late)) return again;
  report->notes.push_back("times read day first, the log read a second time: " + why.substr(0, why.find("; give")));
  return {};
}

bool regular_files(const std::vector<std::string>& paths) {
  for (const auto& p : paths) {
    struct stat st;
    if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  }
  return true;
}

Error ingest_files_once(const std::vector<std::string>& paths, const IngestOptions& options, Dataset* out,
                        IngestReport* report, bool* day_first_late);
Error ingest_buffer_once(const std::string& name, const std::string& bytes, const IngestOptions& options,
                         Dataset* out, IngestReport* report, bool* day_first_late);

}  // namespace

Error ingest_files(const std::vector<std::string>& paths, const IngestOptions& options, Dataset* out,
                   IngestReport* report) {
  bool rereadable = regular_files(paths);
  if (options.shard) rereadable = !options.shard->collective().any(!rereadable);  // decided alike everywhere
  return read_with_date_order(options, rereadable, report, [&](const IngestOptions& o, bool* late) {
    return ingest_files_once(paths, o, out, report, late);
  });
}

Error ingest_buffer(const std::string& name, const std::string& bytes, const IngestOptions& options,
                    Dataset* out, IngestReport* report) {
  return read_with_date_order(options, true, report, [&](const IngestOptions& o, bool* late) {
    return ingest_buffer_once(name, bytes, o, out, report, late);
  });
}

namespace {

Error ingest_files_once(const std::vector<std::string>& paths, const IngestOptions& options, Dataset* out,
                        IngestReport* report, bool* day_first_late) {
  *report = IngestReport();
  report->path = paths.empty() ? std::string() : paths[0];
  *out = Dataset();
  std::unordered_set<std::string> counted;
  uint64_t bound = 0;
  {
    Ingestor ing(report->path, options, report);
    Error e = ing.run_files(paths, out);
    *day_first_late = ing.day_first_shown_late();
    if (e) return e;
    if (!ing.counted()) return {};
    // More distinct actions than max_names: the first read counted them in bounded memory; the
    // second keeps events, counting the summary's actions exactly.
    Error not_regular;
    for (const auto& p : paths) {
      struct stat st;
      if (!not_regular && (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)))
        not_regular = Error(p + ": more than " + std::to_string(options.max_names) +
                            " distinct actions (--max-names), which needs a second read, and this input is not a "
                            "regular file (a pipe?); give a file, or raise --max-names");
    }
    // Sharded: every process reads again, or none.
    if (options.shard && options.shard->collective().any(bool(not_regular)) && !not_regular)
      return Error("another process of this run cannot read its inputs a second time (its message says why)");
    if (not_regular) return not_regular;
    counted.insert(ing.summary().names().begin(), ing.summary().names().end());
    bound = ing.summary().bound();
  }
  *report = IngestReport();
  report->path = paths[0];
  *out = Dataset();
  Ingestor second(report->path, options, report);
  second.admit(&counted, bound);
  return second.run_files(paths, out);
}

}  // namespace

namespace {

bool has_glob_chars(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

// Names a warehouse or Spark export writes beside its data parts.
bool is_export_marker(const std::string& name) {
  return name.empty() || name[0] == '.' || name[0] == '_' ||
         (name.size() > 4 && name.compare(name.size() - 4, 4, ".crc") == 0);
}

}  // namespace

Error expand_inputs(const std::vector<std::string>& inputs, std::vector<std::string>* files) {
  files->clear();
  namespace fs = std::filesystem;
  for (const auto& in : inputs) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      // Its files, and those of its subdirectories (Hive-style partitions: dt=2024-05-01/part-…);
      // hidden and '_' entries (_SUCCESS, _temporary/, .crc) skipped, directories included.
      std::vector<std::string> found;
      for (fs::recursive_directory_iterator it(in, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        std::error_code ec2;
        if (is_export_marker(name)) {
          if (it->is_directory(ec2)) it.disable_recursion_pending();
          continue;
        }
        if (!it->is_regular_file(ec2)) continue;
        found.push_back(it->path().string());
      }
      if (ec) return Error(in + ": cannot list the directory: " + ec.message());
      if (found.empty()) return Error(in + ": the directory holds no data files");
      std::sort(found.begin(), found.end());
      files->insert(files->end(), found.begin(), found.end());
    } else if (!fs::exists(in, ec) && has_glob_chars(in)) {
      glob_t g{};
      int rc = ::glob(in.c_str(), GLOB_ERR, nullptr, &g);
      std::vector<std::string> found;
      if (rc == 0)
        for (size_t i = 0; i < g.gl_pathc; ++i) {
          const std::string path = g.gl_pathv[i];
          std::error_code ec2;
          if (fs::is_regular_file(path, ec2) && !is_export_marker(fs::path(path).filename().string()))
            found.push_back(path);
        }
      globfree(&g);
      if (found.empty()) return Error(in + ": no file matches the pattern");
      std::sort(found.begin(), found.end());  // glob sorts too, by the locale's collation
      files->insert(files->end(), found.begin(), found.end());
    } else {
      files->push_back(in);  // opening it says what is wrong
    }
  }
  if (files->empty()) return Error("no input files");
  return {};
}

namespace {

Error ingest_buffer_once(const std::string& name, const std::string& bytes, const IngestOptions& options,
                         Dataset* out, IngestReport* report, bool* day_first_late) {
  *report = IngestReport();
  report->path = name;
  *out = Dataset();
  std::unordered_set<std::string> counted;
  uint64_t bound = 0;
  {
    Source src;
    src.open_memory(name, &bytes);
    Ingestor ing(name, options, report);
    Error e = ing.run(&src, out);
    *day_first_late = ing.day_first_shown_late();
    if (e) return e;
    if (!ing.counted()) return {};
    counted.insert(ing.summary().names().begin(), ing.summary().names().end());
    bound = ing.summary().bound();
  }
  // Read twice (IngestOptions::max_names), as ingest_files does.
  *report = IngestReport();
  report->path = name;
  *out = Dataset();
  Source src;
  src.open_memory(name, &bytes);
  Ingestor second(name, options, report);
  second.admit(&counted, bound);
  return second.run(&src, out);
}

}  // namespace

std::string IngestReport::to_text() const {
  std::ostringstream o;
  auto line = [&](const char* label, uint64_t n, const char* note = "") {
    char buf[160];
    std::snprintf(buf, sizeof buf, "  %-34s %12llu%s\n", label, static_cast<unsigned long long>(n), note);
    o << buf;
  };
  o << "ingest " << path;
  if (files > 1) o << " and " << files - 1 << (files == 2 ? " more file" : " more files");
  if (empty_files) o << " (" << empty_files << " empty, skipped)";
  o << " (" << format_name(format) << "): user=" << user_column
    << " action=" << action_column << " time=" << (has_time_column ? time_column : "(none: file order)")
    << " type=" << (has_type_column ? type_column : "(none)");
  if (has_session_column) o << " session=" << session_column;
  if (!events_field.empty()) o << " events=" << events_field;
  if (delimiter && delimiter != ',' && !(format == Format::TSV && delimiter == '\t'))
    o << " delimiter=" << (delimiter == '\t' ? std::string("tab") : delimiter == ' ' ? std::string("space") : std::string(1, delimiter));
  o << "\n";
  if (headerless) o << "  no header: the first row is data; columns named by --columns\n";
  if (!attributes.empty())
    o << "  attributes: " << attributes
      << (attributes_found ? " — found by name (--attr-columns none leaves them out; --attr-columns / "
                             "--numeric-columns choose others)"
                           : "")
      << "\n";
  for (const std::string& n : notes) o << "  note: " << n << "\n";
  if (unread_fields)
    o << "  note: " << unread_fields << " line" << (unread_fields == 1 ? " has" : "s have")
      << " fields past the second, not read (`user item` pairs; --format lists reads each line as a user's items)\n";
  if (!unused_columns.empty()) {
    o << "  columns not read:";
    for (size_t i = 0; i < unused_columns.size(); ++i) o << (i ? ", " : " ") << unused_columns[i];
    if (!attributes_found)
      o << " (columns that describe the action, such as a category, brand or price, help with --attr-columns / "
           "--numeric-columns)";
    o << "\n";
  }
  line("rows read", rows);
  line("skipped: malformed records", malformed);
  line("skipped: missing user/action", missing_field);
  line("skipped: unparsable time", bad_time);
  line("skipped: invalid UTF-8", bad_utf8);
  line("skipped: over-long record/value", too_long);
  line("skipped: duplicate events", duplicates);
  if (format == Format::ACCESS_LOG || static_assets) line("skipped: static assets", static_assets);
  if (format == Format::ACCESS_LOG || error_status) line("skipped: error statuses", error_status);
  if (format == Format::ACCESS_LOG || format == Format::SEGMENT || not_events)
    line("skipped: not page views/events", not_events);
  line("values given as NA/null/-/… (missing)", missing_tokens);
  line("re-sorted: out-of-order events", out_of_order);
  line("kept without a time (file order)", untimed_rows);
  line("dropped: short sequences", short_sequences);
  line("dropped: their events", short_sequence_events);
  if (trimmed_events) line("dropped: older than --keep-last", trimmed_events);
  line("kept events", kept_events);
  line("kept sequences", sequences);
  line("users", users);
  if (normalized) {
    // Past max_names only the counted routes' logged names are counted: a lower bound.
    line(name_capacity ? "distinct actions as logged: over" : "distinct actions as logged", raw_actions,
         raw_actions_estimated ? " (estimate: sampled)" : "");
    line(name_capacity ? "distinct routes: more than" : "distinct routes (normalised)", distinct_actions);
    line("rows with a normalised action", normalized_rows);
  } else {
    line(name_capacity ? "distinct actions: more than" : "distinct actions", distinct_actions);
  }
  if (name_capacity) {
    char buf[320];
    if (name_bound)
      std::snprintf(buf, sizeof buf,
                    "  names counted in bounded memory (--max-names %llu; the log read twice):\n    each action left out "
                    "was seen at most %llu times; the vocabulary is %s\n",
                    static_cast<unsigned long long>(name_capacity), static_cast<unsigned long long>(name_bound),
                    vocab_exact ? "exact (that is below its cut)"
                                : "approximate: actions seen that often or less may be missing from it (the counts of "
                                  "those in it are exact)");
    else
      std::snprintf(buf, sizeof buf,
                    "  names counted in bounded memory (--max-names %llu): past it only the model's actions are told "
                    "apart\n",
                    static_cast<unsigned long long>(name_capacity));
    o << buf;
  }
  if (min_users > 1) {
    char label[64];
    std::snprintf(label, sizeof label, "withheld: actions of < %u users", min_users);
    line(label, withheld_actions);
    line("withheld: their events (<unk>)", withheld_action_events);
    std::snprintf(label, sizeof label, "withheld: types of < %u users", min_users);
    line(label, withheld_types);
    line("withheld: their events (<none>)", withheld_type_events);
  }
  line("action vocabulary (with <unk>)", vocab_size);
  line("events with action <unk>", unknown_action_events);
  line("event types (with <none>)", type_count);
  if (has_type_column) line("events with type <none>", unknown_type_events);
  if (!top_routes.empty()) {
    o << "  routes that the most logged names became:\n";
    for (const auto& r : top_routes) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "    %10llu  ", static_cast<unsigned long long>(r.second));
      o << buf << (r.first.size() > 100 ? r.first.substr(0, 100) + "…" : r.first) << "\n";
    }
  }
  char buf[160];
  std::snprintf(buf, sizeof buf, "  %-34s %12.1f\n", "memory: bytes per kept event", bytes_per_event());
  o << buf;
  for (const auto& e : examples) o << "  e.g. " << e << "\n";
  return o.str();
}

}  // namespace hunch::train
