#include "train/times.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "train/ingest-formats.h"

namespace hunch::train {

namespace {

using formats::days_from_civil;
using formats::read_digits;
using formats::valid_date;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

// 1 to `most` decimal digits at p (advanced past them); *count says how many.
bool read_some_digits(const char*& p, const char* e, int most, int* out, int* count) {
  int v = 0, n = 0;
  while (n < most && p < e && is_digit(*p)) v = v * 10 + (*p++ - '0'), ++n;
  *out = v;
  if (count) *count = n;
  return n > 0;
}

// A decimal fraction after '.' or ',' at p ("250" of "12:00:00.250"), when digits follow it.
double read_fraction(const char*& p, const char* e) {
  double frac = 0, scale = 0.1;
  if (p + 1 < e && (*p == '.' || *p == ',') && is_digit(p[1]))
    for (++p; p < e && is_digit(*p); ++p, scale *= 0.1) frac += (*p - '0') * scale;
  return frac;
}

// Case-insensitive: does [p, e) start with `word`?
bool starts_with_word(const char* p, const char* e, const char* word) {
  const size_t n = std::strlen(word);
  if (size_t(e - p) < n) return false;
  for (size_t i = 0; i < n; ++i)
    if (lower(p[i]) != word[i]) return false;
  return true;
}

// A time of day and its zone, from what follows a date.
struct Clock {
  double seconds = 0;  // since midnight, before the zone
  double offset  = 0;  // the zone's offset from UTC, seconds
};

// "h[h]:mm[:ss[.fff]]" (hour 0-23, or 1-12 when AM / PM follows; leap second 60 folded into the
// next minute) with an optional AM / PM (a space before it optional, "a.m." too).
bool read_clock(const char*& p, const char* e, double* seconds) {
  int h, mi, s = 0;
  if (!read_some_digits(p, e, 2, &h, nullptr) || p >= e || *p++ != ':' || !read_digits(p, e, 2, &mi)) return false;
  double frac = 0;
  if (p < e && *p == ':') {
    ++p;
    if (!read_digits(p, e, 2, &s)) return false;
    frac = read_fraction(p, e);
  }
  if (mi > 59 || s > 60) return false;
  // AM / PM: "1:05 PM", "1:05PM", "1:05 p.m.".
  const char* q = p;
  if (q < e && *q == ' ') ++q;
  int half = 0;  // 1 = AM, 2 = PM
  for (const char* word : {"a.m.", "p.m.", "am", "pm"})
    if (!half && starts_with_word(q, e, word)) {
      half = word[0] == 'a' ? 1 : 2;
      q += std::strlen(word);
    }
  if (half && (q == e || *q == ' ' || *q == ',' || *q == '+' || *q == '-')) {
    if (h < 1 || h > 12) return false;
    h = h % 12 + (half == 2 ? 12 : 0);
    p = q;
  } else if (h > 23) {
    return false;
  }
  *seconds = h * 3600.0 + mi * 60.0 + s + frac;
  return true;
}

// "±hh", "±hhmm", "±hh:mm" at p.
bool read_offset(const char*& p, const char* e, double* offset) {
  if (p >= e || (*p != '+' && *p != '-')) return false;
  const int sign = *p++ == '-' ? -1 : 1;
  int oh, om = 0;
  if (!read_some_digits(p, e, 2, &oh, nullptr)) return false;
  if (p < e && *p == ':') ++p;
  if (p < e && is_digit(*p) && !read_digits(p, e, 2, &om)) return false;
  if (oh > 23 || om > 59) return false;
  *offset = sign * (oh * 3600.0 + om * 60.0);
  return true;
}

// What may end a time: nothing, or a zone (a space before it optional): Z, UTC / GMT / UT with
// or without an offset, an offset; then, JavaScript's Date.toString, a zone's name in brackets.
bool read_zone_to_end(const char* p, const char* e, double* offset) {
  *offset = 0;
  if (p < e && *p == ' ') ++p;
  if (p == e) return true;
  if (*p == 'Z' || *p == 'z') {
    ++p;
  } else if (starts_with_word(p, e, "utc") || starts_with_word(p, e, "gmt")) {
    p += 3;
    if (p < e && (*p == '+' || *p == '-') && !read_offset(p, e, offset)) return false;
  } else if (starts_with_word(p, e, "ut")) {
    p += 2;
  } else if (!read_offset(p, e, offset)) {
    return false;
  }
  if (p < e && *p == ' ') ++p;
  if (p < e && *p == '(') return e[-1] == ')';
  return p == e;
}

// What follows a date: nothing (midnight UTC), or a separator (space, 'T', ", "), a clock and
// an optional zone.
bool read_time_part(const char* p, const char* e, Clock* c) {
  *c = Clock();
  if (p == e) return true;
  if (*p == ',') ++p;
  if (p >= e || (*p != ' ' && *p != 'T' && *p != 't')) return false;
  ++p;
  return read_clock(p, e, &c->seconds) && read_zone_to_end(p, e, &c->offset);
}

double to_seconds(int y, int m, int d, const Clock& c) {
  return double(days_from_civil(y, unsigned(m), unsigned(d))) * 86400.0 + c.seconds - c.offset;
}

// "YYYY-MM-DD" and a time part (ISO-8601 extended, as SQL exports and JSON write it).
bool iso_extended(const char* p, const char* e, double* seconds) {
  int y, m, d;
  if (!read_digits(p, e, 4, &y) || p >= e || *p++ != '-' || !read_digits(p, e, 2, &m) || p >= e || *p++ != '-' ||
      !read_digits(p, e, 2, &d) || !valid_date(y, m, d))
    return false;
  Clock c;
  if (!read_time_part(p, e, &c)) return false;
  *seconds = to_seconds(y, m, d, c);
  return true;
}

// "YYYYMMDDThhmm[ss[.fff]]" and a zone (ISO-8601 basic, iCalendar).
bool iso_basic(const char* p, const char* e, double* seconds) {
  int y, m, d, h, mi, s = 0;
  if (!read_digits(p, e, 4, &y) || !read_digits(p, e, 2, &m) || !read_digits(p, e, 2, &d) || !valid_date(y, m, d) ||
      p >= e || (*p != 'T' && *p != 't'))
    return false;
  ++p;
  if (!read_digits(p, e, 2, &h) || !read_digits(p, e, 2, &mi)) return false;
  double frac = 0;
  if (p < e && is_digit(*p)) {
    if (!read_digits(p, e, 2, &s)) return false;
    frac = read_fraction(p, e);  // a '.' without digits is left for the zone to refuse
  }
  if (h > 23 || mi > 59 || s > 60) return false;
  Clock c;
  c.seconds = h * 3600.0 + mi * 60.0 + s + frac;
  if (!read_zone_to_end(p, e, &c.offset)) return false;
  *seconds = to_seconds(y, m, d, c);
  return true;
}

// "YYYY/M/D" or "YYYY.M.D" and a time part.
bool year_first(const char* p, const char* e, double* seconds) {
  int y, m, d;
  if (!read_digits(p, e, 4, &y) || p >= e || (*p != '/' && *p != '.')) return false;
  const char sep = *p++;
  if (!read_some_digits(p, e, 2, &m, nullptr) || p >= e || *p++ != sep || !read_some_digits(p, e, 2, &d, nullptr) ||
      !valid_date(y, m, d))
    return false;
  Clock c;
  if (!read_time_part(p, e, &c)) return false;
  *seconds = to_seconds(y, m, d, c);
  return true;
}

// "A/B/Y", "A-B-Y", "A.B.Y" (A and B 1-2 digits, Y 4 or 2: 1970-2069) and a time part; which
// of A and B is the day is the caller's to say.
struct NumericDate {
  int   a = 0, b = 0, y = 0;
  char  sep = 0;
  bool  short_year = false;  // written with 2 digits
  Clock clock;
};
bool numeric_date(const char* p, const char* e, NumericDate* out) {
  int ny;
  if (!read_some_digits(p, e, 2, &out->a, nullptr) || p >= e || (*p != '/' && *p != '-' && *p != '.')) return false;
  out->sep = *p++;
  if (!read_some_digits(p, e, 2, &out->b, nullptr) || p >= e || *p++ != out->sep ||
      !read_some_digits(p, e, 4, &out->y, &ny) || (ny != 4 && ny != 2))
    return false;
  out->short_year = ny == 2;
  if (ny == 2) out->y += out->y < 70 ? 2000 : 1900;
  return read_time_part(p, e, &out->clock);
}

int month_of(const std::string& w) {  // 1-12 for "jan" … "december" ("sept" too), else 0
  static const char* kNames[] = {"january", "february", "march",     "april",   "may",      "june",
                                 "july",    "august",   "september", "october", "november", "december"};
  if (w.size() < 3) return 0;
  for (int k = 0; k < 12; ++k)
    if (w.size() <= std::strlen(kNames[k]) && std::strncmp(kNames[k], w.c_str(), w.size()) == 0 &&
        (w.size() == 3 || w.size() == std::strlen(kNames[k]) || w == "sept"))
      return k + 1;
  return 0;
}

bool is_weekday(const std::string& w) {
  static const char* kNames[] = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
  for (const char* n : kNames)
    if (w == n || (w.size() == 3 && std::strncmp(n, w.c_str(), 3) == 0)) return true;
  return false;
}

// A date with the month's name, its parts separated by spaces and commas in any of the usual
// orders ("Wed, 01 May 2024 12:00:00 GMT", "Wed May 01 2024 14:00:00 GMT+0200 (…)", "May 1,
// 2024, 12:00:00 PM"): a weekday first (ignored), the month, a 1-2 digit day, a 4-digit year,
// a clock, a zone.
bool named_month(const char* p, const char* e, double* seconds) {
  int day = -1, month = 0, year = -1, tokens = 0;
  bool have_clock = false, have_zone = false;
  Clock c;
  while (true) {
    while (p < e && (*p == ' ' || *p == ',')) ++p;
    if (p == e) break;
    if (*p == '(') {  // a zone's name to the end
      if (e[-1] != ')' || !have_zone) return false;
      break;
    }
    const char* s = p;
    if (is_digit(*s)) {
      while (p < e && is_digit(*p)) ++p;
      if (p < e && *p == ':') {  // a clock: read on from the token's start (AM / PM may follow)
        if (have_clock) return false;
        p = s;
        if (!read_clock(p, e, &c.seconds)) return false;
        have_clock = true;
      } else if (p - s <= 2 && day < 0) {
        day = std::atoi(std::string(s, p).c_str());
      } else if (p - s == 4 && year < 0) {
        year = std::atoi(std::string(s, p).c_str());
      } else {
        return false;
      }
    } else if (*s == '+' || *s == '-') {
      if (have_zone || !read_offset(p, e, &c.offset)) return false;
      have_zone = true;
    } else {
      while (p < e && std::isalpha(static_cast<unsigned char>(*p))) ++p;
      if (p == s) return false;
      std::string w(s, p);
      for (char& ch : w) ch = lower(ch);
      if (const int m = month_of(w); m && !month) {
        month = m;
        if (p < e && *p == '.') ++p;  // "Sept." "Oct."
      } else if (is_weekday(w) && tokens == 0) {
      } else if ((w == "gmt" || w == "utc" || w == "ut" || w == "z") && !have_zone) {
        have_zone = true;
        if (p < e && (*p == '+' || *p == '-') && !read_offset(p, e, &c.offset)) return false;
      } else {
        return false;
      }
    }
    if (p < e && *p != ' ' && *p != ',') return false;
    ++tokens;
  }
  if (day < 0 || !month || year < 0 || !valid_date(year, month, day)) return false;
  *seconds = to_seconds(year, month, day, c);
  return true;
}

bool all_digits(const char* b, const char* e) {
  for (const char* p = b; p < e; ++p)
    if (!is_digit(*p)) return false;
  return b < e;
}

// "yyyymmdd" as a date of 1970-2100.
bool compact_date(const char* b, const char* e, double* seconds) {
  int y, m, d;
  const char* p = b;
  if (e - b != 8 || !read_digits(p, e, 4, &y) || !read_digits(p, e, 2, &m) || !read_digits(p, e, 2, &d) ||
      y < 1970 || y > 2100 || !valid_date(y, m, d))
    return false;
  *seconds = to_seconds(y, m, d, Clock());
  return true;
}

void trim(const char*& b, const char*& e) {
  while (b < e && (*b == ' ' || *b == '\t')) ++b;
  while (e > b && (e[-1] == ' ' || e[-1] == '\t')) --e;
}

}  // namespace

bool parse_time(const std::string& text, double* seconds) {
  const char* b = text.data();
  const char* e = b + text.size();
  trim(b, e);
  if (b == e) return false;
  // Plain decimal number (strtod alone would also take "inf", "nan" and hex floats).
  bool numeric = true;
  for (const char* p = b; p < e; ++p)
    if (!(is_digit(*p) || *p == '.' || *p == '-' || *p == '+' || *p == 'e' || *p == 'E')) numeric = false;
  if (numeric) {
    // yyyymmddhhmmss (warehouse and SQL exports): as milliseconds a 14-digit number would be
    // past the year 2286.
    if (e - b == 14 && all_digits(b, e)) {
      int h, mi, s;
      const char* p = b + 8;
      if (compact_date(b, b + 8, seconds) && read_digits(p, e, 2, &h) && read_digits(p, e, 2, &mi) &&
          read_digits(p, e, 2, &s) && h <= 23 && mi <= 59 && s <= 60) {
        *seconds += h * 3600.0 + mi * 60.0 + s;
        return true;
      }
    }
    std::string s(b, e);
    char* stop = nullptr;
    errno = 0;
    double v = std::strtod(s.c_str(), &stop);
    if (stop == s.c_str() + s.size() && errno == 0 && std::isfinite(v)) {
      // 1e11 s is the year 5138, 1e11 ms is 1973: larger values can only be milliseconds; the
      // same step again for microseconds (GA4's event_timestamp) and nanoseconds.
      const double a = std::fabs(v);
      *seconds = a > 1e17 ? v / 1e9 : a > 1e14 ? v / 1e6 : a > 1e11 ? v / 1000.0 : v;
      return true;
    }
  }
  // Access logs: "[10/Oct/2000:13:55:36 -0700]", "17/05/2015:10:05:03 +0000".
  if (e - b >= 19 && (b[2] == '/' || (b[0] == '[' && b[3] == '/')) && formats::parse_access_time(b, e, seconds))
    return true;
  if (iso_extended(b, e, seconds) || iso_basic(b, e, seconds) || year_first(b, e, seconds)) return true;
  // Dotted numeric dates are day first ("01.05.2024", d.m.y) wherever they are written.
  NumericDate nd;
  if (numeric_date(b, e, &nd) && nd.sep == '.') {
    if (!valid_date(nd.y, nd.b, nd.a)) return false;
    *seconds = to_seconds(nd.y, nd.b, nd.a, nd.clock);
    return true;
  }
  return named_month(b, e, seconds);
}

TimeColumn::Result TimeColumn::read(const std::string& text, double* seconds, std::string* why) {
  const char* b = text.data();
  const char* e = b + text.size();
  trim(b, e);
  // Plain numbers: the column's first says whether 8-digit ones are yyyymmdd dates.
  bool plain = b < e;
  for (const char* p = b; p < e; ++p) plain = plain && (is_digit(*p) || *p == '.');
  if (plain) {
    if (compact_ == COMPACT_UNKNOWN) compact_ = compact_date(b, e, seconds) ? COMPACT_DATES : COMPACT_NUMBERS;
    if (compact_ == COMPACT_DATES) return compact_date(b, e, seconds) ? TIME : NOT_A_TIME;
  }
  if (parse_time(text, seconds)) return TIME;
  NumericDate nd;
  if (!numeric_date(b, e, &nd) || nd.sep == '.') return NOT_A_TIME;
  // "24-05-01" may be yy-mm-dd: a dashed date needs its 4-digit year.
  if (nd.sep == '-' && nd.short_year) return NOT_A_TIME;
  const bool day_first_valid = valid_date(nd.y, nd.b, nd.a), month_first_valid = valid_date(nd.y, nd.a, nd.b);
  if (!day_first_valid && !month_first_valid) return NOT_A_TIME;  // "31/31/2024", "00/00/2024": no evidence
  // A date valid in one order only shows the order ("13/05/2024", "05/13/2024").
  const DateOrder shows = day_first_valid == month_first_valid ? DateOrder::AUTO
                          : day_first_valid                   ? DateOrder::DAY_FIRST
                                                              : DateOrder::MONTH_FIRST;
  if (shows != DateOrder::AUTO && order_ == DateOrder::AUTO) {
    if (shows == DateOrder::DAY_FIRST && assumed_) {
      *why = "'" + std::string(b, e) + "' puts the day first, but " + std::to_string(assumed_) +
             " earlier time" + (assumed_ == 1 ? "" : "s") + " such as '" + assumed_example_ +
             "' could be either and were read month first; give the order: --date-order day-first";
      return CONTRADICTION;
    }
    order_ = shows;
    shown_by_ = std::string(b, e);
  }
  const DateOrder order = order_ == DateOrder::AUTO ? DateOrder::MONTH_FIRST : order_;
  const int month = order == DateOrder::DAY_FIRST ? nd.b : nd.a, day = order == DateOrder::DAY_FIRST ? nd.a : nd.b;
  if (!valid_date(nd.y, month, day)) return NOT_A_TIME;
  if (order_ == DateOrder::AUTO && !assumed_++) assumed_example_ = std::string(b, e);
  *seconds = to_seconds(nd.y, month, day, nd.clock);
  return TIME;
}

}  // namespace hunch::train
