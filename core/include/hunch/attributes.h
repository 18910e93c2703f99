// Event attributes (Hyper::attr_columns): K columns of an event log that describe the action
// (a product's category, brand, price), each a small vocabulary of values. All columns' values
// share one id space: column k owns the ids [start(k), start(k + 1)), the first of them its
// "<none>" (missing or unknown value). A numeric column (a price) is bucketised: its values are
// the buckets' lower edges written as decimal numbers, increasing, the first "-inf", and a number
// maps to the last bucket whose edge is <= it.
//
// The names are the model's metadata (hunch.attr.columns, hunch.attr.kinds, hunch.attr.values;
// docs/format.md); AttrIndex checks them and maps a value's text to its id, for the core (the
// SDK's pushes of unknown products with their category) and for ingestion with a model's
// vocabulary (hunch eval) alike.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hunch/error.h"

namespace hunch {

constexpr const char* kAttrNone = "<none>";

class AttrIndex {
 public:
  // Indexes `values` (kept by pointer: it must outlive the index) for columns of the given
  // kinds. Errors name the metadata key and entry ("hunch.attr.values[12] ...").
  Error build(const std::vector<std::string>& columns, const std::vector<bool>& numeric,
              const std::vector<std::string>* values);

  uint32_t columns() const { return uint32_t(numeric_.size()); }
  const std::vector<std::string>& names() const { return names_; }
  bool     numeric(uint32_t k) const { return numeric_[k]; }
  uint32_t start(uint32_t k) const { return start_[k]; }  // k <= columns(): start(K) = values
  const std::vector<std::string>& values() const { return *values_; }
  // The id of `value` in column k (k < columns()): its own id, the bucket a number falls in, or
  // the column's "<none>" when the column does not know it.
  uint32_t id(uint32_t k, std::string_view value) const;

 private:
  std::vector<std::string>                                    names_;
  std::vector<bool>                                           numeric_;
  const std::vector<std::string>*                             values_ = nullptr;
  std::vector<uint32_t>                                       start_;  // K + 1
  std::vector<double>                                         edge_;   // per id, numeric columns
  std::vector<std::unordered_map<std::string_view, uint32_t>> ids_;    // per categorical column
};

// Parses a whole decimal number ("12.5", "-inf"); false for anything else (trailing text too).
// The model file's bucket edges are read with it.
bool parse_attr_number(std::string_view text, double* out);

// A numeric attribute's value as logs and pages write it: a plain number (parse_attr_number),
// or a price with a currency sign or code at either end ("$1,299.00", "1.299,00 €", "USD 5",
// "-$5"; a space, U+00A0 or U+202F between, as Intl.NumberFormat writes them), thousands grouped
// by ',', '.', '\'', a space, U+00A0 or U+202F in threes, the decimal separator '.' or ','. When
// only one ',' or '.' is there it is the decimal separator, but for one ',' with three digits
// after 1-3 not starting with 0: "1,299" is 1299; "9,99" 9.99, "0,125" 0.125, "1.299" 1.299. The
// trainer's buckets and the SDK's lookups both read values through this one function, so they
// agree. False when the text is not such a number.
bool read_attr_number(std::string_view text, double* out);

}  // namespace hunch
