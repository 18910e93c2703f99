// Numeric attribute values as logs and pages write them (core/src/attributes.cpp, hunch/attributes.h read_attr_number):
// plain numbers, prices with currency signs and codes, thousands grouped and decimal commas; what
// stays refused; and an AttrIndex bucketing a price written any of these ways alike. The same
// source runs natively and on the WASM build, where the SDK reads pushed attributes.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "hunch/attributes.h"

using namespace hunch;

TEST_CASE("read_attr_number: prices as written, read as the number they say") {
  struct Case {
    const char* text;
    double      value;
  };
  const Case cases[] = {
      {"12.5", 12.5},        {" 40 ", 40},            {"1e2", 100},          {"-inf", -INFINITY},
      {"$1,299.00", 1299},   {"1.299,00 €", 1299},    {"€9,99", 9.99},       {"9,99", 9.99},
      {"1,299", 1299},       {"12,345,678", 12345678}, {"1.299.000", 1299000}, {"1 299,50", 1299.5},
      {"1'299.50", 1299.5},  {"1\xC2\xA0" "299,50", 1299.5}, {"USD 5", 5},    {"5 USD", 5},
      {"US$ 5.25", 5.25},    {"-$5", -5},             {"$-5", -5},           {"£0.99", 0.99},
      {"R$ 1.299,90", 1299.9}, {"1,2", 1.2},          {"0,5 kr", 0.5},       {"\xE2\x82\xB9" "1,00,000", 0},
      // Intl.NumberFormat's output (de-DE, fr-FR, de-CH, en-IE), no-break spaces and all.
      {"1.299,00\xC2\xA0\xE2\x82\xAC", 1299}, {"1\xE2\x80\xAF" "299,00\xC2\xA0\xE2\x82\xAC", 1299},
      {"CHF\xC2\xA0" "1'299.00", 1299},        {"EUR\xC2\xA0" "1.299,00", 1299}, {"\xE2\x82\xAC" "1,299.00", 1299},
      // One separator with three digits after: a leading 0 or a '.' makes it decimal, so a sign
      // or not reads the same.
      {"$0.125", 0.125}, {"0,125", 0.125}, {"\xE2\x82\xAC" "0,750", 0.75}, {"$3.499", 3.499}, {"3,499", 3499},
  };
  for (const Case& c : cases) {
    const std::string text = c.text;
    CAPTURE(text);
    double x = -1;
    if (text == "\xE2\x82\xB9" "1,00,000") {  // Indian lakh grouping (2-digit groups): refused, not misread
      CHECK_FALSE(read_attr_number(text, &x));
      continue;
    }
    REQUIRE(read_attr_number(text, &x));
    CHECK((std::isinf(c.value) ? x == c.value : x == doctest::Approx(c.value)));
  }
  for (const char* bad : {"", "$", "USD", "abc", "12 items", "1,2,3", "1,,299", "1,299,", ",5", "1.299,00,00", "--5",
                          "-$-5", "12,34.5", "nan", "$ $5", "ABCD 5"}) {
    const std::string text = bad;
    CAPTURE(text);
    double x = 0;
    CHECK_FALSE(read_attr_number(text, &x));
  }
  // The model file's bucket edges stay plain numbers.
  double x = 0;
  CHECK_FALSE(parse_attr_number("$5", &x));
}

TEST_CASE("AttrIndex: a price written with a currency sign falls in its number's bucket") {
  std::vector<std::string> values = {"<none>", "-inf", "10", "100", "1000"};
  AttrIndex index;
  REQUIRE(!index.build({"price"}, {true}, &values));
  CHECK(index.id(0, "50") == 2);
  CHECK(index.id(0, "$50.00") == 2);
  CHECK(index.id(0, "1.299,00 €") == 4);
  CHECK(index.id(0, "$1,299") == 4);
  CHECK(index.id(0, "9,99") == 1);
  CHECK(index.id(0, "free") == 0);  // not a number: <none>
}
