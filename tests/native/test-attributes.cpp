// Attribute columns (train/attributes.h): ingestion (first record wins, missing tokens, numeric
// buckets, a model's vocabulary), its errors, and the whole path through the CLI: train with
// --attr-columns, inspect, eval, and predict an unknown product from its category.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "hunch/model.h"
#include "test-util.h"
#include "train/attributes.h"
#include "train/ingest.h"

using namespace hunch::train;

namespace {

std::string temp_file(const std::string& name) {
  return "/tmp/hunch-test-attributes-" + std::to_string(getpid()) + "-" + name;
}

// user,item,category,price,time: users browse within a category, prices by item.
std::string shop_log(int users) {
  std::string csv = "user,item,category,price,time\n";
  for (int u = 0; u < users; ++u) {
    const int cat = u % 4;
    for (int i = 0; i < 6; ++i) {
      const int n = (u + i) % 7;  // sku<category>-<n>
      csv += "u" + std::to_string(u) + ",sku" + std::to_string(cat) + "-" + std::to_string(n) + ",cat" +
             std::to_string(cat) + "," + std::to_string(5 + (cat * 10 + n) * 3) + "." + std::to_string(i) + "," +
             std::to_string(1000 + u * 100000 + i * 60) + "\n";
    }
  }
  return csv;
}

uint32_t value_of(const Dataset& d, uint64_t event, size_t k) { return d.attr[event * d.attr_count() + k]; }

void write_file(const std::string& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "w");
  REQUIRE(f);
  REQUIRE(std::fwrite(text.data(), 1, text.size(), f) == text.size());
  std::fclose(f);
}

#ifdef HUNCH_CLI_PATH
int cli(const std::string& args, std::string* out) {
  return hunch_test::run_command(std::string("'") + HUNCH_CLI_PATH + "' " + args + " 2>&1", out);
}
#endif

}  // namespace

TEST_CASE("attribute columns: per action its first record's values, missing tokens, numeric buckets") {
  const std::string csv =
      "user,item,category,brand,price,time\n"
      "a,x,shoes,NA,10,1\n"
      "a,x,boots,acme,12,2\n"  // a later record: x keeps shoes (and takes acme: its first brand)
      "a,y,bags,,99.5,3\n"
      "b,y,bags,null,abc,4\n"  // a price that is no number: missing
      "b,z,shoes,acme,1e2,5\n"
      "b,x,shoes,acme,10,6\n";
  IngestOptions o;
  o.min_count = 1;
  o.attr_columns = {"category", "brand"};
  o.numeric_columns = {"price"};
  o.numeric_buckets = 3;
  Dataset d;
  IngestReport rep;
  REQUIRE(!ingest_buffer("attrs.csv", csv, o, &d, &rep));
  REQUIRE(d.attr_count() == 3);
  CHECK(d.attr_columns == std::vector<std::string>{"category", "brand", "price"});
  CHECK(d.attr_numeric == std::vector<bool>{false, false, true});
  hunch::AttrIndex ai;
  REQUIRE(!ai.build(d.attr_columns, d.attr_numeric, &d.attr_values));
  auto action = [&](const std::string& name) {
    for (uint32_t a = 0; a < d.actions.size(); ++a)
      if (d.actions[a] == name) return a;
    FAIL("no action " << name);
    return 0u;
  };
  auto name_of = [&](uint32_t a, size_t k) { return d.attr_values[d.action_attr[a * 3 + k]]; };
  CHECK(name_of(action("x"), 0) == "shoes");
  CHECK(name_of(action("x"), 1) == "acme");
  CHECK(name_of(action("y"), 1) == "<none>");  // "" and "null" are missing
  CHECK(name_of(0, 0) == "<none>");            // <unk>
  // Numeric: -inf then quantile edges; y's first price 99.5 lies in a higher bucket than x's 10.
  CHECK(d.attr_values[d.attr_start[2]] == "<none>");
  CHECK(d.attr_values[d.attr_start[2] + 1] == "-inf");
  CHECK(d.action_attr[action("y") * 3 + 2] > d.action_attr[action("x") * 3 + 2]);
  CHECK(d.action_attr[action("z") * 3 + 2] == ai.id(2, "100"));
  // Every event reads its action's values.
  for (uint64_t i = 0; i < d.events(); ++i)
    for (size_t k = 0; k < 3; ++k) CHECK(value_of(d, i, k) == d.action_attr[d.action[i] * 3 + k]);
}

TEST_CASE("attribute columns: a value the model file cannot hold (NUL, over 4,096 bytes) is missing") {
  IngestOptions o;
  o.min_count = 1;
  o.attr_columns = {"category"};
  o.max_field_bytes = 1 << 20;
  o.max_line_bytes = 1 << 21;
  Dataset d;
  IngestReport rep;
  const std::string csv = "user,item,category,time\nu,a," + std::string(5000, 'x') + ",1\nu,b,\"c" + std::string(1, '\0') +
                          "d\",2\nu,c,ok,3\n";
  REQUIRE(!ingest_buffer("big.csv", csv, o, &d, &rep));
  CHECK(d.attr_values == std::vector<std::string>{"<none>", "ok"});
}

TEST_CASE("attribute columns: a rare action is <unk> but keeps its own category") {
  IngestOptions o;
  o.min_count = 2;
  o.attr_columns = {"category"};
  Dataset d;
  IngestReport rep;
  REQUIRE(!ingest_buffer("rare.csv",
                         "user,item,category,time\nu,a,c1,1\nu,a,c1,2\nv,a,c1,3\nv,once,c2,4\nw,twice,c2,5\nw,twice2,c2,6\n",
                         o, &d, &rep));
  bool seen = false;
  for (uint64_t i = 0; i < d.events(); ++i)
    if (d.action[i] == 0) {
      CHECK(d.attr_values[value_of(d, i, 0)] == "c2");
      seen = true;
    }
  CHECK(seen);
}

TEST_CASE("attribute columns: errors name the column") {
  IngestOptions o;
  o.attr_columns = {"colour"};
  Dataset d;
  IngestReport rep;
  hunch::Error e = ingest_buffer("log.csv", "user,item,time\nu,a,1\n", o, &d, &rep);
  REQUIRE(e);
  CHECK(e.message.find("no attribute column 'colour'") != std::string::npos);
  CHECK(e.message.find("log.csv:1") != std::string::npos);
  e = ingest_buffer("pairs.txt", "u a\nu b\n", o, &d, &rep);
  REQUIRE(e);
  CHECK(e.message.find("named columns") != std::string::npos);
  o.attr_columns = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
  e = ingest_buffer("log.csv", "user,item,time\nu,a,1\n", o, &d, &rep);
  REQUIRE(e);
  CHECK(e.message.find("at most 8") != std::string::npos);
}

#ifdef HUNCH_CLI_PATH
TEST_CASE("hunch train --attr-columns: inspect shows them, eval reads them, predict takes an unknown product's category") {
  const std::string log = temp_file("log.csv"), model = temp_file("model.hunch");
  write_file(log, shop_log(120));
  std::string out;
  REQUIRE_MESSAGE(cli("train '" + log + "' -o '" + model + "' --attr-columns category --numeric-columns price "
                      "--numeric-buckets 4 --epochs 2 --embed 16",
                      &out) == 0,
                  out);
  std::unique_ptr<hunch::Model> m;
  REQUIRE(!hunch::Model::load_file(model, &m));
  REQUIRE(m->hyper().attr_columns == 2);
  CHECK(m->attributes().names() == std::vector<std::string>{"category", "price"});
  CHECK(m->attributes().start(1) - m->attributes().start(0) - 1 == 4);  // cat0..cat3
  CHECK(m->attributes().values()[m->action_attr(m->action_id("sku1-2"), 0)] == "cat1");

  REQUIRE(cli("inspect '" + model + "'", &out) == 0);
  CHECK(out.find("attributes (event.attributes, hunch predict's action[column=value]): category (category, 4 values), "
                 "price (numeric buckets") != std::string::npos);
  REQUIRE_MESSAGE(cli("eval '" + model + "' '" + log + "' --json", &out) == 0, out);
  CHECK(out.find("\"NDCG@10\"") != std::string::npos);

  // An unknown product's category moves the top-10's probability to that category's products.
  auto mass = [&](const std::string& given, char category) {
    std::string o;
    REQUIRE(cli("predict '" + model + "' --events 'brand-new[category=" + given + ";price=40]@1000' --json --k 10", &o) == 0);
    double m = 0;
    for (size_t at = o.find("\"action\":\"sku"); at != std::string::npos; at = o.find("\"action\":\"sku", at + 1)) {
      const size_t p = o.find("\"probability\":", at);
      REQUIRE(p != std::string::npos);
      if (o[at + 13] == category) m += std::stod(o.substr(p + 14));
    }
    return m;
  };
  CHECK(mass("cat2", '2') > mass("cat0", '2') + 0.1);
  CHECK(mass("cat0", '0') > mass("cat2", '0') + 0.1);
  CHECK(cli("predict '" + model + "' --events 'x[colour=red]'", &out) != 0);
  CHECK(out.find("no attribute column 'colour' (it has: category, price)") != std::string::npos);
  // A log without the model's attribute columns is scored with the model's table of each known
  // action's values (what the SDK does when the app gives none); the report says so. Here each
  // item's values are its first record's, so the figures are those of the whole log; a pairs
  // file of the same events scores the same too.
  const std::string plain = temp_file("plain.csv"), pairs = temp_file("pairs.txt");
  {
    std::string csv = "user,item,time\n", txt;
    const std::string full = shop_log(120);
    for (size_t at = full.find('\n') + 1; at < full.size();) {
      const size_t eol = full.find('\n', at);
      const std::string row = full.substr(at, eol - at);
      const size_t c1 = row.find(','), c2 = row.find(',', c1 + 1), c3 = row.find(',', c2 + 1), c4 = row.find(',', c3 + 1);
      csv += row.substr(0, c2) + row.substr(c4) + "\n";  // user,item + ,time
      txt += row.substr(0, c1) + " " + row.substr(c1 + 1, c2 - c1 - 1) + "\n";
      at = eol + 1;
    }
    write_file(plain, csv);
    write_file(pairs, txt);
  }
  auto ndcg = [&](const std::string& file, const std::string& flags) {
    std::string o;
    REQUIRE_MESSAGE(cli("eval '" + model + "' '" + file + "' --json " + flags, &o) == 0, o);
    const size_t at = o.find("\"NDCG@10\":");
    REQUIRE(at != std::string::npos);
    return std::stod(o.substr(at + 10));
  };
  const double whole = ndcg(log, "");
  CHECK(ndcg(plain, "") == doctest::Approx(whole).epsilon(1e-9));
  CHECK(ndcg(pairs, "--format pairs") == doctest::Approx(whole).epsilon(1e-9));
  REQUIRE_MESSAGE(cli("eval '" + model + "' '" + plain + "'", &out) == 0, out);
  CHECK(out.find("note: attribute column 'category' not in " + plain + ": the model's table gives each known action's values") !=
        std::string::npos);
  REQUIRE_MESSAGE(cli("eval '" + model + "' '" + pairs + "' --format pairs", &out) == 0, out);
  CHECK(out.find("has no attribute columns: the model's table gives each known action's values") != std::string::npos);
  std::remove(log.c_str());
  std::remove(model.c_str());
  std::remove(plain.c_str());
  std::remove(pairs.c_str());
}
#endif

TEST_CASE("attribute columns in a header-less file, named with --columns (the Taobao layout)") {
  IngestOptions o;
  o.min_count = 1;
  o.columns = {"user", "item", "category", "type", "time"};
  o.attr_columns = {"category"};
  Dataset d;
  IngestReport rep;
  REQUIRE(!ingest_buffer("taobao.csv", "1,10,7,pv,1511544070\n1,11,7,pv,1511544080\n1,12,9,cart,1511544090\n", o, &d, &rep));
  REQUIRE(d.attr_count() == 1);
  REQUIRE(d.events() == 3);
  CHECK(d.attr_values[value_of(d, 0, 0)] == "7");
  CHECK(d.attr_values[value_of(d, 2, 0)] == "9");
}

TEST_CASE("the cleaning report names the attributes read and the columns nothing reads") {
  IngestOptions o;
  o.min_count = 1;
  o.numeric_columns = {"price"};
  Dataset d;
  IngestReport rep;
  REQUIRE(!ingest_buffer("shop.csv", "user,item,category,brand,price,time\nu,a,c1,b1,10,1\nu,b,c2,b2,20,2\n", o, &d, &rep));
  const std::string text = rep.to_text();
  CHECK(text.find("attributes: price (") != std::string::npos);
  CHECK(text.find("columns not read: category, brand (") != std::string::npos);
}

TEST_CASE("attribute columns found by name: one category, brand and price column, never a role's") {
  IngestOptions o;
  o.min_count = 1;
  o.find_attributes = true;
  Dataset d;
  IngestReport rep;
  // REES46's header: category_id is taken before category_code (one column per group), the
  // price is numeric; the report says they were found and how to leave them out.
  const std::string rees =
      "event_time,event_type,product_id,category_id,category_code,brand,price,user_id\n"
      "2019-10-01 00:00:00 UTC,view,p1,11,shoes.boots,acme,35.79,u1\n"
      "2019-10-01 00:01:00 UTC,view,p2,12,bags.small,zeta,12.50,u1\n"
      "2019-10-01 00:02:00 UTC,cart,p2,12,bags.small,zeta,12.50,u1\n";
  REQUIRE(!ingest_buffer("rees.csv", rees, o, &d, &rep));
  CHECK(d.attr_columns == std::vector<std::string>{"category_id", "brand", "price"});
  CHECK(d.attr_numeric == std::vector<bool>{false, false, true});
  CHECK(rep.attributes_found);
  std::string text = rep.to_text();
  CHECK(text.find("found by name (--attr-columns none leaves them out") != std::string::npos);
  CHECK(text.find("columns not read: category_code\n") != std::string::npos);

  // Named by --columns (the Taobao layout), case-insensitive.
  o.columns = {"user", "item", "Category", "type", "time"};
  REQUIRE(!ingest_buffer("taobao.csv", "1,10,7,pv,1511544070\n1,11,9,pv,1511544080\n", o, &d, &rep));
  CHECK(d.attr_columns == std::vector<std::string>{"Category"});
  o.columns.clear();

  // A column a role reads is not an attribute too (the category is the action here).
  o.action_column = "category";
  REQUIRE(!ingest_buffer("cats.csv", "user,category,brand,time\nu,c1,b1,1\nu,c2,b2,2\n", o, &d, &rep));
  CHECK(d.attr_columns == std::vector<std::string>{"brand"});
  o.action_column.clear();

  // Segment calls: the properties, searched record by record (a page call first has no brand or
  // price); GA4 rows: the first item; per-session JSON: each event's own keys.
  REQUIRE(!ingest_buffer(
      "seg.jsonl",
      "{\"type\":\"page\",\"anonymousId\":\"a1\",\"timestamp\":\"2024-05-01T12:00:00Z\",\"properties\":{\"path\":\"/\",\"category\":\"home\"}}\n"
      "{\"type\":\"track\",\"anonymousId\":\"a1\",\"timestamp\":\"2024-05-01T12:00:10Z\",\"event\":\"Product Viewed\","
      "\"properties\":{\"product_id\":\"p1\",\"category\":\"Coffee\",\"brand\":\"Bialetti\",\"price\":39.5}}\n"
      "{\"type\":\"track\",\"anonymousId\":\"a1\",\"timestamp\":\"2024-05-01T12:00:20Z\",\"event\":\"Order Completed\","
      "\"properties\":{\"order_id\":\"o1\",\"revenue\":39.5}}\n",
      o, &d, &rep));
  CHECK(d.attr_columns == std::vector<std::string>{"category", "brand", "price"});
  REQUIRE(d.events() == 3);
  CHECK(d.actions[d.action[1]] == "p1");
  CHECK(d.attr_values[value_of(d, 1, 0)] == "Coffee");
  CHECK(d.attr_values[value_of(d, 1, 1)] == "Bialetti");
  CHECK(d.attr_values[value_of(d, 0, 0)] == "home");
  REQUIRE(!ingest_buffer(
      "ga4.jsonl",
      "{\"user_pseudo_id\":\"u1\",\"event_name\":\"view_item\",\"event_timestamp\":\"1714564800000000\","
      "\"event_params\":[{\"key\":\"page_location\",\"value\":{\"string_value\":\"https://x/p/moka\"}}],"
      "\"items\":[{\"item_id\":\"moka\",\"item_brand\":\"Bialetti\",\"item_category\":\"Coffee\",\"price\":39.5}]}\n"
      "{\"user_pseudo_id\":\"u1\",\"event_name\":\"page_view\",\"event_timestamp\":\"1714564810000000\","
      "\"event_params\":[{\"key\":\"page_location\",\"value\":{\"string_value\":\"https://x/cart\"}}]}\n",
      o, &d, &rep));
  CHECK(d.attr_columns == std::vector<std::string>{"item_category", "item_brand", "price"});
  CHECK(d.attr_values[value_of(d, 0, 1)] == "Bialetti");
  REQUIRE(!ingest_buffer("otto.jsonl",
                         "{\"session\":1,\"events\":[{\"aid\":5,\"ts\":1659304800025,\"type\":\"clicks\",\"category\":\"c7\"},"
                         "{\"aid\":6,\"ts\":1659304900025,\"type\":\"carts\",\"category\":\"c8\"}]}\n",
                         o, &d, &rep));
  CHECK(d.attr_columns == std::vector<std::string>{"category"});
  CHECK(d.attr_values[value_of(d, 1, 0)] == "c8");

  // A role the user gave is never an attribute, even where its value is null.
  o.action_column = "category";
  REQUIRE(!ingest_buffer("j.jsonl", "{\"user\":\"u\",\"category\":null,\"brand\":\"b1\",\"time\":1}\n"
                                    "{\"user\":\"u\",\"category\":\"c1\",\"brand\":\"b2\",\"time\":2}\n"
                                    "{\"user\":\"u\",\"category\":\"c2\",\"brand\":\"b2\",\"time\":3}\n",
                         o, &d, &rep));
  CHECK(d.attr_columns == std::vector<std::string>{"brand"});
  o.action_column.clear();

  // None of the names: no attributes, and the hint about unread columns stays.
  REQUIRE(!ingest_buffer("plain.csv", "user,item,colour,time\nu,a,red,1\nu,b,blue,2\n", o, &d, &rep));
  CHECK(d.attr_count() == 0);
  CHECK(!rep.attributes_found);
  CHECK(rep.to_text().find("columns not read: colour (columns that describe the action") != std::string::npos);

  // JSON Lines: the records' flat keys (not the roles' keys, not nested objects).
  REQUIRE(!ingest_buffer("events.jsonl",
                         "{\"user\":\"u\",\"item\":\"a\",\"time\":1,\"Brand\":\"acme\",\"price\":9.5,"
                         "\"category\":{\"id\":3}}\n"
                         "{\"user\":\"u\",\"item\":\"b\",\"time\":2,\"Brand\":\"zeta\",\"price\":20}\n",
                         o, &d, &rep));
  CHECK(d.attr_columns == std::vector<std::string>{"Brand", "price"});
  CHECK(d.attr_numeric == std::vector<bool>{false, true});
  REQUIRE(d.events() == 2);
  CHECK(d.attr_values[value_of(d, 1, 0)] == "zeta");
  {  // a later record keyed in another case is read, as a header's name is matched
    IngestOptions named = o;
    named.find_attributes = false;
    named.attr_columns = {"brand"};
    REQUIRE(!ingest_buffer("case.jsonl", "{\"user\":\"u\",\"item\":\"a\",\"time\":1,\"Brand\":\"acme\"}\n"
                                         "{\"user\":\"u\",\"item\":\"b\",\"time\":2,\"brand\":\"zeta\"}\n",
                           named, &d, &rep));
    CHECK(d.attr_values[value_of(d, 0, 0)] == "acme");
    CHECK(d.attr_values[value_of(d, 1, 0)] == "zeta");
  }

  // Several parts: a column found in the first part's header and absent from a later part has
  // missing values there (said in the report); one the user named is an error.
  {
    const std::string p1 = temp_file("part-1.csv"), p2 = temp_file("part-2.csv");
    write_file(p1, "user,item,category,time\nu,a,c1,1\nu,b,c2,2\n");
    write_file(p2, "user,item,time\nv,a,3\nv,b,4\n");
    REQUIRE(!ingest_files({p1, p2}, o, &d, &rep));
    CHECK(d.attr_columns == std::vector<std::string>{"category"});
    CHECK(d.events() == 4);
    CHECK(rep.to_text().find("note: attribute column 'category' not in " + p2 + ": its values are missing there") !=
          std::string::npos);
    IngestOptions named = o;
    named.find_attributes = false;
    named.attr_columns = {"category"};
    const hunch::Error e = ingest_files({p1, p2}, named, &d, &rep);
    CHECK(e.message.find(p2 + ":1: no attribute column 'category'") != std::string::npos);
    std::remove(p1.c_str());
    std::remove(p2.c_str());
  }

  // Off (the default of IngestOptions, and --attr-columns none): nothing is read.
  o.find_attributes = false;
  REQUIRE(!ingest_buffer("rees.csv", rees, o, &d, &rep));
  CHECK(d.attr_count() == 0);
}

#ifdef HUNCH_CLI_PATH
TEST_CASE("hunch train finds a log's category and price columns by name; --attr-columns none leaves them out") {
  const std::string log = temp_file("auto.csv"), model = temp_file("auto.hunch");
  write_file(log, shop_log(60));
  std::string out;
  REQUIRE_MESSAGE(cli("train '" + log + "' -o '" + model + "' --epochs 1 --embed 16 --min-users 1", &out) == 0, out);
  CHECK(out.find("attributes: category (4 values), price (16 numeric buckets) — found by name") != std::string::npos);
  std::unique_ptr<hunch::Model> m;
  REQUIRE(!hunch::Model::load_file(model, &m));
  CHECK(m->attributes().names() == std::vector<std::string>{"category", "price"});
  // The model's columns are what eval reads (found by name or not).
  REQUIRE_MESSAGE(cli("eval '" + model + "' '" + log + "' --json", &out) == 0, out);

  REQUIRE_MESSAGE(cli("train '" + log + "' -o '" + model + "' --epochs 1 --embed 16 --min-users 1 --attr-columns none",
                      &out) == 0,
                  out);
  CHECK(out.find("columns not read: category, price (columns that describe the action") != std::string::npos);
  REQUIRE(!hunch::Model::load_file(model, &m));
  CHECK(m->hyper().attr_columns == 0);
  // Either list given: only what it names.
  REQUIRE_MESSAGE(cli("train '" + log + "' -o '" + model + "' --epochs 1 --embed 16 --min-users 1 --numeric-columns price",
                      &out) == 0,
                  out);
  REQUIRE(!hunch::Model::load_file(model, &m));
  CHECK(m->attributes().names() == std::vector<std::string>{"price"});
  std::remove(log.c_str());
  std::remove(model.c_str());
}

TEST_CASE("hunch train: prices written with currency signs bucket as their numbers; a column of no numbers is left out") {
  // The same log three ways: plain prices, "$1,234.50" prices, and prices no one can read.
  const std::string plain = shop_log(60);
  auto rewrite = [&](auto price) {
    std::string out;
    for (size_t at = 0; at < plain.size();) {
      const size_t eol = plain.find('\n', at);
      std::string row = plain.substr(at, eol - at);
      at = eol + 1;
      const size_t c2 = row.find(',', row.find(',') + 1), c3 = row.find(',', c2 + 1), c4 = row.find(',', c3 + 1);
      if (out.empty()) { out = row + "\n"; continue; }
      out += row.substr(0, c3 + 1) + price(row.substr(c3 + 1, c4 - c3 - 1)) + row.substr(c4) + "\n";
    }
    return out;
  };
  const std::string dollars = rewrite([](const std::string& p) {
    const double v = std::stod(p) * 100;  // thousands, for the grouping: "$1,234.50"
    char b[32];
    std::snprintf(b, sizeof b, "%d,%03d.%02d", int(v) / 1000, int(v) % 1000, int(v * 100) % 100);
    return "\"$" + std::string(b) + "\"";
  });
  const std::string hundreds = rewrite([](const std::string& p) {
    char b[32];
    std::snprintf(b, sizeof b, "%.2f", std::stod(p) * 100);
    return std::string(b);
  });
  const std::string words = rewrite([](const std::string&) { return std::string("ask us"); });
  IngestOptions o;
  o.min_count = 1;
  o.find_attributes = true;
  Dataset a, b, c;
  IngestReport ra, rb, rc;
  REQUIRE(!ingest_buffer("dollars.csv", dollars, o, &a, &ra));
  REQUIRE(!ingest_buffer("hundreds.csv", hundreds, o, &b, &rb));
  CHECK(a.attr_values == b.attr_values);
  CHECK(a.action_attr == b.action_attr);
  REQUIRE(!ingest_buffer("words.csv", words, o, &c, &rc));
  CHECK(c.attr_columns == std::vector<std::string>{"category"});
  CHECK(rc.to_text().find("note: attribute column 'price' left out: no value of it was kept (none reads as a number)") !=
        std::string::npos);
  // Through the CLI and the core: predict reads "$40.00" as 40.
  const std::string log = temp_file("dollars.csv"), model = temp_file("dollars.hunch");
  write_file(log, dollars);
  std::string out, plain_out, sign_out;
  REQUIRE_MESSAGE(cli("train '" + log + "' -o '" + model + "' --epochs 1 --embed 16 --min-users 1", &out) == 0, out);
  CHECK(out.find("price (16 numeric buckets) — found by name") != std::string::npos);
  REQUIRE(cli("predict '" + model + "' --events 'brand-new[category=cat2;price=4000]@1000' --json --k 5", &plain_out) == 0);
  REQUIRE(cli("predict '" + model + "' --events 'brand-new[category=cat2;price=$4000.00]@1000' --json --k 5", &sign_out) == 0);
  CHECK(plain_out == sign_out);
  REQUIRE(cli("predict '" + model + "' --events 'brand-new[category=cat2;price=1]@1000' --json --k 5", &out) == 0);
  CHECK(out != plain_out);  // the price moves the prediction, so the equality above says something
  std::remove(log.c_str());
  std::remove(model.c_str());
}
#endif
