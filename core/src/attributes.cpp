#include "hunch/attributes.h"

#include <cmath>
#include <algorithm>

namespace hunch {

// A hand-written decimal reader rather than strtod: strtod brings ~10 KB of libc float parsing
// into the wasm, and trainer and core must bucket a price identically, which one shared function
// guarantees (both call this one).
bool parse_attr_number(std::string_view text, double* out) {
  size_t i = 0, n = text.size();
  if (n == 0 || n > 64) return false;
  bool negative = false;
  if (text[i] == '-' || text[i] == '+') negative = text[i++] == '-';
  if (n - i == 3 && text[i] == 'i' && text[i + 1] == 'n' && text[i + 2] == 'f') {
    *out = negative ? -INFINITY : INFINITY;
    return true;
  }
  double mantissa = 0;
  int exponent = 0, digits = 0;
  for (; i < n && text[i] >= '0' && text[i] <= '9'; ++i, ++digits) mantissa = mantissa * 10 + (text[i] - '0');
  if (i < n && text[i] == '.')
    for (++i; i < n && text[i] >= '0' && text[i] <= '9'; ++i, ++digits) {
      mantissa = mantissa * 10 + (text[i] - '0');
      --exponent;
    }
  if (digits == 0) return false;
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < n && (text[i] == '-' || text[i] == '+')) eneg = text[i++] == '-';
    int e = 0, edigits = 0;
    for (; i < n && text[i] >= '0' && text[i] <= '9'; ++i, ++edigits) e = std::min(e * 10 + (text[i] - '0'), 10000);
    if (edigits == 0) return false;
    exponent += eneg ? -e : e;
  }
  if (i != n) return false;
  double x = mantissa;
  // Powers of ten by squaring (std::pow would bring libm's tables into the wasm).
  double scale = 1, base = 10;
  for (int e = exponent < 0 ? -exponent : exponent; e; e >>= 1, base *= base)
    if (e & 1) scale *= base;
  x = exponent < 0 ? x / scale : x * scale;
  *out = negative ? -x : x;
  return true;
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Length of a currency marker at the start of `t` (reading forwards) or its end (backwards): up
// to 3 ASCII letters and '$' signs ("USD", "US$", "R$", "kr"), or one non-ASCII symbol ("€",
// "£", "¥", "₹": 2-4 bytes of UTF-8), with one space between it and the number; 0 when none.
// ASCII tests by hand: std::isalpha would bring the locale's tables into the wasm.
size_t currency_marker(std::string_view t, bool at_end) {
  const size_t size = t.size();
  auto at = [&](size_t i) { return static_cast<unsigned char>(t[at_end ? size - 1 - i : i]); };
  const bool symbol = size && at(0) >= 0x80;
  size_t n = 0;
  while (n < size && n < 4 && (symbol ? at(n) >= 0x80 : ((at(n) | 0x20) >= 'a' && (at(n) | 0x20) <= 'z') || at(n) == '$'))
    ++n;
  if (symbol ? n < 2 : n == 0 || n > 3) return 0;
  return n < size && at(n) == ' ' ? n + 1 : n;
}

}  // namespace

bool read_attr_number(std::string_view value, double* out) {
  if (parse_attr_number(value, out)) return true;
  if (value.empty() || value.size() > 64) return false;
  // No-break spaces (U+00A0, U+202F: what Intl.NumberFormat writes between a currency and its
  // number, and between groups) as plain ones, then the spaces around trimmed.
  char spaced[64];
  size_t len = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '\xC2' && i + 1 < value.size() && value[i + 1] == '\xA0') spaced[len++] = ' ', i += 1;
    else if (c == '\xE2' && i + 2 < value.size() && value[i + 1] == '\x80' && value[i + 2] == '\xAF') spaced[len++] = ' ', i += 2;
    else spaced[len++] = c;
  }
  std::string_view text(spaced, len);
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (parse_attr_number(text, out)) return true;
  if (text.empty()) return false;
  // A sign before or after the currency marker: "-$5", "$-5".
  bool negative = text.front() == '-';
  if (negative || text.front() == '+') text.remove_prefix(1);
  if (size_t n = currency_marker(text, false)) text.remove_prefix(n);
  else text.remove_suffix(currency_marker(text, true));
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    if (negative) return false;
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  // The decimal separator: the last ',' or '.', when the other of the two is there too, or when
  // it is the only one of its kind, but for one ',' three digits after 1-3 not starting with 0
  // ("1,299" is grouped; "0,125", "9,99" and "1.299" are not).
  size_t commas = 0, dots = 0, last = std::string_view::npos, digits = 0;
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == ',' || text[i] == '.') (text[i] == ',' ? commas : dots)++, last = i;
  size_t decimal = std::string_view::npos;
  if (last != std::string_view::npos) {
    const size_t same = text[last] == ',' ? commas : dots, other = commas + dots - same;
    const bool grouped = text[last] == ',' && same == 1 && text.size() - last == 4 && last <= 3 && text[0] != '0';
    if (other || (same == 1 && !grouped)) decimal = last;
  }
  // Rebuilt as a plain number; grouping separators (',' '.' '\'' ' ' U+00A0 U+202F, one kind)
  // must cut the integer part into threes after a first group of 1-3.
  char buf[72];
  size_t b = 0, run = 0, groups = 0;
  char group = 0;
  if (negative) buf[b++] = '-';
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (is_digit(c)) {
      buf[b++] = c, ++run, ++digits;
      continue;
    }
    if (run == 0) return false;  // a separator first or two in a row
    if (i == decimal) {
      if (groups && run != 3) return false;
      buf[b++] = '.', run = 0, groups = 0;
      continue;
    }
    const char kind = c;
    if (c != ',' && c != '.' && c != '\'' && c != ' ') return false;
    if (decimal < i || (group && kind != group) || (groups ? run != 3 : run > 3)) return false;
    group = kind, run = 0, ++groups;
  }
  if (digits == 0 || run == 0 || (groups && run != 3)) return false;
  return parse_attr_number(std::string_view(buf, b), out);
}

Error AttrIndex::build(const std::vector<std::string>& columns, const std::vector<bool>& numeric,
                       const std::vector<std::string>* values) {
  *this = AttrIndex();
  const uint32_t K = uint32_t(columns.size());
  if (numeric.size() != K)
    return Error(format_message("model metadata: hunch.attr.kinds has %zu entries, hunch.attr.columns %u",
                                numeric.size(), K));
  for (uint32_t k = 0; k < K; ++k) {
    if (columns[k].empty() || columns[k].find('\0') != std::string::npos)
      return Error(format_message("model metadata: hunch.attr.columns[%u] is empty or holds a NUL byte", k));
    for (uint32_t j = 0; j < k; ++j)
      if (columns[j] == columns[k])
        return Error(format_message("model metadata: hunch.attr.columns[%u] '%.64s' is a duplicate", k,
                                    columns[k].c_str()));
  }
  // Column blocks: each starts at a "<none>", K of them, the first at id 0.
  for (uint32_t i = 0; i < values->size(); ++i) {
    if ((*values)[i].find('\0') != std::string::npos)
      return Error(format_message("model metadata: hunch.attr.values[%u] contains a NUL byte", i));
    if ((*values)[i] == kAttrNone) start_.push_back(i);
  }
  if (start_.size() != K || (K && start_[0] != 0))
    return Error(format_message("model metadata: hunch.attr.values must be %u blocks, each starting with \"<none>\" "
                                "(found %zu, the first at %u)", K, start_.size(), start_.empty() ? 0u : start_[0]));
  start_.push_back(uint32_t(values->size()));
  ids_.resize(K);
  edge_.assign(values->size(), 0.0);
  for (uint32_t k = 0; k < K; ++k) {
    for (uint32_t i = start_[k] + 1; i < start_[k + 1]; ++i) {
      const std::string& v = (*values)[i];
      if (!numeric[k]) {
        if (!ids_[k].emplace(v, i).second)
          return Error(format_message("model metadata: hunch.attr.values[%u] '%.64s' is a duplicate in column '%.64s'",
                                      i, v.c_str(), columns[k].c_str()));
        continue;
      }
      // A numeric column's values are its buckets' lower edges, increasing; the first may be -inf.
      double edge = 0;
      const bool first = i == start_[k] + 1;
      if (!parse_attr_number(v, &edge) || (std::isinf(edge) && !(first && edge < 0)) ||
          (!first && !(edge > edge_[i - 1])))
        return Error(format_message("model metadata: hunch.attr.values[%u] '%.64s' in numeric column '%.64s' is not "
                                    "a finite number above the bucket before it", i, v.c_str(), columns[k].c_str()));
      edge_[i] = edge;
    }
  }
  names_ = columns;
  numeric_ = numeric;
  values_ = values;
  return {};
}

uint32_t AttrIndex::id(uint32_t k, std::string_view value) const {
  const uint32_t none = start_[k];
  if (!numeric_[k]) {
    auto it = ids_[k].find(value);
    return it == ids_[k].end() ? none : it->second;
  }
  double x = 0;
  if (!read_attr_number(value, &x) || !std::isfinite(x)) return none;
  uint32_t id = none;  // the last bucket whose lower edge is <= x (binary search: edges increase)
  uint32_t lo = none + 1, hi = start_[k + 1];
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    if (edge_[mid] <= x) { id = mid; lo = mid + 1; }
    else hi = mid;
  }
  return id;
}

}  // namespace hunch
