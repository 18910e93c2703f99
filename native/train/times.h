// Reading a log's time values: every form one value says on its own (parse_time), and the forms
// only the column as a whole can read (TimeColumn: dates whose day and month may come in either
// order, 8-digit yyyymmdd numbers). Ingestion (ingest.cpp) keeps one TimeColumn per log.
#pragma once

#include <cstdint>
#include <string>

namespace hunch::train {

// One time value, whatever column it came from. Returns false when the text is none of:
// - epoch seconds (fractional allowed), milliseconds, microseconds or nanoseconds told apart by
//   magnitude (over 1e11 = ms, over 1e14 = µs, over 1e17 = ns: each boundary is the year 5138 in
//   the smaller unit and 1973 in the larger); a 14-digit integer that is a valid
//   yyyymmddhhmmss of 1970-2100 is that (as milliseconds it would be past the year 2286);
// - ISO-8601 "YYYY-MM-DD[(T| )hh:mm[:ss[.fff]]][Z|±hh[:mm]| UTC| GMT]" and its basic form
//   "YYYYMMDDThhmm[ss[.fff]][Z|±hh[mm]]" (no zone = UTC);
// - year-first dates with '/' or '.' ("2024/05/01 12:00", "2024.5.1"), the time part as below;
// - dotted day-first dates ("01.05.2024 14:00": d.m.y is not written month first anywhere);
// - dates with the month's name: RFC 2822 / HTTP ("Wed, 01 May 2024 12:00:00 GMT"), JavaScript's
//   Date.toString ("Wed May 01 2024 14:00:00 GMT+0200 (Central European Summer Time)"), and
//   "May 1, 2024, 12:00:00 PM", "1 May 2024 12:00";
// - an access log's "[dd/Mon/yyyy:hh:mm:ss ±zzzz]" (brackets optional, month as a name or a
//   number).
// A time part is "h[h]:mm[:ss[.fff]]", optionally with AM / PM, after a space, 'T' or ", ";
// a zone is Z, UTC, GMT, UT, ±hh[:mm] or ±hhmm, with or without GMT / UTC before the sign.
bool parse_time(const std::string& text, double* seconds);

// How a numeric date whose two first numbers are both 12 or less ("03/04/2024") is read.
enum class DateOrder : uint8_t { AUTO, MONTH_FIRST, DAY_FIRST };

// The time column of one log (all its files, in reading order). Besides parse_time's forms:
// - numeric dates with '/' or '-' and the year last ("04/03/2024", "4/3/24 1:05 PM"; a 2-digit
//   year is 1970-2069, and not with '-': "24-05-01" may be yy-mm-dd). Under DateOrder::AUTO the
//   first value valid in one order only shows the order ("13/03/2024": day first; "03/13/2024":
//   month first); one valid in neither ("31/31/2024") is not a time and shows nothing. Until one
//   shows it, values are read month first (the US convention and JavaScript's Date.parse) and
//   counted in assumed(). A value that then shows the day first is a contradiction: the events
//   before were misplaced. Ingestion then reads the log again with the order given, or, when it
//   cannot be read twice (a pipe), stops with an error that names --date-order day-first. A value
//   impossible in the column's order ("10/13/2024" in a day-first column) is not a time.
//   Access-log times ("05/01/2024:10:00:00", with a ':' before the clock) are always day first,
//   as web servers write them: parse_time reads them, whatever the order.
// - 8-digit integers: when the column's first integer is a valid yyyymmdd date of 1970-2100 (as
//   epoch seconds it would be 1970-1973, no web log's time), its 8-digit integers are such dates
//   (midnight UTC) and any other integer is not a time; otherwise they are epoch seconds.
class TimeColumn {
 public:
  explicit TimeColumn(DateOrder order = DateOrder::AUTO) : order_(order) {}
  enum Result { TIME, NOT_A_TIME, CONTRADICTION };
  // *why is set on CONTRADICTION: what the value shows and the way out.
  Result read(const std::string& text, double* seconds, std::string* why);

  DateOrder order() const { return order_; }      // AUTO until given or shown
  const std::string& shown_by() const { return shown_by_; }  // the value that showed it (AUTO)
  uint64_t assumed() const { return assumed_; }   // values read month first with nothing to show it
  const std::string& assumed_example() const { return assumed_example_; }
  bool compact_dates() const { return compact_ == COMPACT_DATES; }

 private:
  enum Compact : uint8_t { COMPACT_UNKNOWN, COMPACT_DATES, COMPACT_NUMBERS };
  DateOrder   order_;
  Compact     compact_ = COMPACT_UNKNOWN;
  uint64_t    assumed_ = 0;
  std::string assumed_example_, shown_by_;
};

}  // namespace hunch::train
