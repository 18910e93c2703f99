// Routes (hunch/routes.h): which actions are URL-like, the identifier tests and their
// thresholds, query and fragment handling, the rules' syntax and its errors (file:line), and a
// model's hunch.normalize.* keys applied by Model::route_id — what the SDK's push runs.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "hunch/model.h"
#include "hunch/routes.h"
#include "model-builder.h"

using namespace hunch;

namespace {

Routes on(std::vector<std::string> keep = {}, std::vector<std::string> rules = {}) {
  Routes r;
  Error e = r.set(keep, rules, "test");
  REQUIRE_MESSAGE(!e, e.message);
  return r;
}

std::string rules_error(const std::string& text) {
  std::vector<std::string> rules;
  return parse_route_rules(text, "rules.txt", &rules).message;
}

}  // namespace

TEST_CASE("routes: URL-like actions are paths and scheme:// URLs; others pass through") {
  CHECK(url_like("/"));
  CHECK(url_like("/product/12"));
  CHECK(url_like("https://Shop.example/x"));
  CHECK(url_like("android-app://com.example/x"));
  CHECK_FALSE(url_like(""));
  CHECK_FALSE(url_like("1193"));                 // an item id (MovieLens)
  CHECK_FALSE(url_like("sku-123/variant"));
  CHECK_FALSE(url_like("mailto:alice@example.com"));  // no "//"
  CHECK_FALSE(url_like("1http://x"));
  const Routes r = on();
  CHECK(r.apply("1193") == "1193");
  CHECK(r.apply("add to cart?x=1") == "add to cart?x=1");
  CHECK(r.apply("8c6f2e1a9b7d4f30") == "8c6f2e1a9b7d4f30");  // an id as an item id is the item
  const Routes off;
  CHECK_FALSE(off.enabled());
  CHECK(off.apply("/product/123?utm=x#top") == "/product/123?utm=x#top");
}

TEST_CASE("routes: identifier-looking segments and their thresholds") {
  // Identifiers.
  for (const char* s : {"0", "83472", "123e4567-e89b-12d3-a456-426614174000", "5f3a9c1e", "0123abcd",
                        "da39a3ee5e6b4b0d3255bfef95601890afd80709", "alice@example.com", "bob%40mail.org", "@alice",
                        "INV-2024-00123", "2019-10-01", "83472.jpg", "eyJhbGciOiJIUzI1NiJ9", "k2j4h5g6f7d8s9a0",
                        "cs_test_a1B2c3D4e5F6g7H8"})
    CHECK_MESSAGE(id_like_segment(s), std::string(s));
  // Not identifiers: words, slugs, short hex words, versions, placeholders.
  for (const char* s : {"", "product", "moka-pot", "burr-grinder", "iphone-15-pro-max-256gb", "2019-10-01-release-notes",
                        "decade", "cafe", "v2", "mp3", "logstash-1.3.2-monolithic.jar", "ssl-latency.html",
                        ":id", ":user", "MyAccountSettingsPage", "XMLHttpRequestHandler", "MyAccountSettings2Page",
                        "ahhh___rage_face_by_samusmmx-d5g5zap.png", "index.html"})
    CHECK_FALSE_MESSAGE(id_like_segment(s), std::string(s));
  // The boundaries: hex needs 8 characters and a digit; digit-heavy needs 4 digits, more than letters;
  // a token needs 16 characters.
  CHECK_FALSE(id_like_segment("a1b2c3d"));   // 7 hex
  CHECK(id_like_segment("a1b2c3d4"));        // 8 hex
  CHECK_FALSE(id_like_segment("deadbeefcafe"));  // hex letters only: a word
  CHECK_FALSE(id_like_segment("ab123"));     // 3 digits
  CHECK(id_like_segment("ab1234"));          // 4 digits > 2 letters
  CHECK(id_like_segment("abc1234"));         // 7 hex, but 4 digits > 3 letters
  CHECK_FALSE(id_like_segment("k2j4h5g6f7d8s9a"));  // 15 characters: too short for a token
  CHECK(id_like_segment("k2j4h5g6f7d8s9a0"));
  CHECK(id_like_segment("abcdefg1hijk2lm3"));        // 5 of 15 pairs change: 33%
  CHECK_FALSE(id_like_segment("abcdefg1hijkl2mn"));  // 4 of 15: 27%
  CHECK_FALSE(id_like_segment("MyAccount2Settings3Page"));  // 5 of 22 (upper → lower not counted)
  // A colon exempts a placeholder, not what follows it (version 2); version 1 exempted any.
  for (const char* s : {":123", ":bob@example.com", ":4111111111111111", ":eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
                        "::83472", "bob%2540example.com"}) {
    CHECK_MESSAGE(id_like_segment(s), std::string(s));
    if (s[0] == ':') CHECK_FALSE_MESSAGE(id_like_segment(s, 1), std::string(s));
  }
}

TEST_CASE("routes: query, fragment, host, user info and path parameters") {
  const Routes r = on();
  CHECK(r.apply("/product/123?utm=x") == "/product/:id");
  CHECK(r.apply("/product/123#reviews") == "/product/:id");
  CHECK(r.apply("/search?q=alice&page=2#top") == "/search");
  CHECK(r.apply("/account/orders/83472") == "/account/orders/:id");
  CHECK(r.apply("/reset-password?token=eyJhbGciOiJIUzI1NiJ9") == "/reset-password");
  CHECK(r.apply("/u/alice@example.com/settings") == "/u/:id/settings");
  CHECK(r.apply("/files/123e4567-e89b-12d3-a456-426614174000/download") == "/files/:id/download");
  CHECK(r.apply("/p/moka-pot") == "/p/moka-pot");
  CHECK(r.apply("/") == "/");
  CHECK(r.apply("/c/coffee/") == "/c/coffee/");  // a trailing slash stays
  CHECK(r.apply("/cart;jsessionid=1A2B3C4D5E6F") == "/cart");
  CHECK(r.apply("HTTPS://Alice:Secret@Shop.Example.COM:8443/Product/123?x=1") == "https://shop.example.com:8443/Product/:id");
  CHECK(r.apply("https://shop.example") == "https://shop.example/");
  CHECK(r.apply("https://shop.example?x=1#y") == "https://shop.example/");
  // Idempotent without rules: a route maps to itself.
  for (const char* a : {"/product/123?utm=x", "HTTPS://A@B.C/x/5f3a9c1e/y?z#w", "/", "/a//b/"}) {
    const std::string once = r.apply(a);
    CHECK(r.apply(once) == once);
  }
}

TEST_CASE("routes: kept query parameters") {
  const Routes r = on({"page", "lang"});
  CHECK(r.apply("/list?utm_source=x&page=2&lang=de#f") == "/list?page=2&lang=de");
  CHECK(r.apply("/list?lang=de&page=2") == "/list?page=2&lang=de");  // keep_query's order: one route
  CHECK(r.apply("/list?pages=2&lang") == "/list?lang");              // a name, not a prefix
  CHECK(r.apply("/list?utm=1") == "/list");
  CHECK(r.apply("/list?") == "/list");
  Routes bad;
  CHECK(bad.set({"a=b"}, {}, "--keep-query").message.find("keep_query[0]") != std::string::npos);
  CHECK(bad.set({""}, {}, "--keep-query"));
  CHECK_FALSE(bad.enabled());
}

TEST_CASE("routes: version 2 gives one route for a page's spellings (log and browser); version 1 is kept") {
  const Routes r = on({"q", "page"});
  // Percent-encoding: valid UTF-8 and unreserved characters decoded, the rest upper-case.
  CHECK(r.apply("/c/caf%C3%A9") == "/c/caf\xC3\xA9");
  CHECK(r.apply("/c/caf%c3%a9") == "/c/caf\xC3\xA9");
  CHECK(r.apply("/c/caf\xC3\xA9") == "/c/caf\xC3\xA9");
  CHECK(r.apply("/c/%41bc") == "/c/Abc");
  CHECK(r.apply("/c/a%2fb") == "/c/a%2Fb");          // an encoded '/' stays one segment
  CHECK(r.apply("/c/a b\"x") == "/c/a%20b%22x");      // what location.pathname encodes
  CHECK(r.apply("/c/caf\xE9") == "/c/caf%E9");        // invalid UTF-8: encoded, never shipped raw
  CHECK(r.apply("/c/100%") == "/c/100%25");           // a '%' without hex digits is a character
  CHECK(r.apply("/c/%%347") == "/c/%2547");            // … encoded, so that the route maps to itself
  // Default ports, empty segments, white space around the name.
  CHECK(r.apply("https://EXAMPLE.com:443/x/g") == "https://example.com/x/g");
  CHECK(r.apply("http://example.com:80/x") == "http://example.com/x");
  CHECK(r.apply("http://example.com:443/x") == "http://example.com:443/x");  // not http's default
  CHECK(r.apply("https://[::1]:443/x") == "https://[::1]/x");
  CHECK(r.apply("https://[::1]/x") == "https://[::1]/x");
  CHECK(r.apply("/a//b") == "/a/b");
  CHECK(r.apply("//u//alice/") == "/u/alice/");       // a trailing slash stays
  CHECK(r.apply(" /a/12345?token=x") == "/a/:id");
  CHECK(r.apply("\t/a/12345 ") == "/a/:id");
  CHECK(r.apply(" sku-1 ") == " sku-1 ");              // not URL-like: as it is
  // Identifiers hidden behind a colon or encoded twice.
  CHECK(r.apply("/q/:bob@example.com/x") == "/q/:id/x");
  CHECK(r.apply("/q/bob%2540example.com") == "/q/:id");
  CHECK(r.apply("/q/bob%40example.com") == "/q/:id");
  // Kept parameters in keep_query's order.
  CHECK(r.apply("/s?page=2&q=shoes") == "/s?q=shoes&page=2");
  CHECK(r.apply("/s?q=shoes&page=2") == "/s?q=shoes&page=2");
  CHECK(r.apply("/s?q=red shoes\t") == "/s?q=red%20shoes");  // white space in a kept value: encoded (the end's trimmed)
  CHECK(r.apply("/s?q=a\tb") == "/s?q=a%09b");
  // Idempotent.
  for (const char* a : {"/c/caf%c3%a9", "/c/a b", "/c/a%2fb", "/c/caf\xE9", "//x//y/", "/s?page=2&q=a", "/c/100%25"}) {
    const std::string once = r.apply(a);
    CHECK_MESSAGE(r.apply(once) == once, once);
  }
  // Rule literals are made canonical: a rule written with the readable name matches the browser's.
  const Routes rr = on({}, {"/caf\xC3\xA9/* -> /caf\xC3\xA9/:item", "/u/*/** -> /u/:user/**"});
  CHECK(rr.apply("/caf%C3%A9/latte") == "/caf\xC3\xA9/:item");
  CHECK(rr.apply("/u//alice/settings") == "/u/:user/settings");
  // A version-1 model keeps version 1's routes (what it was trained on).
  Routes v1;
  REQUIRE_FALSE(v1.set({"q", "page"}, {}, "test", 1));
  CHECK(v1.version() == 1);
  CHECK(v1.apply("/c/caf%C3%A9") == "/c/caf%C3%A9");
  CHECK(v1.apply("/a//b") == "/a//b");
  CHECK(v1.apply("/s?page=2&q=shoes") == "/s?page=2&q=shoes");
  CHECK(v1.apply(" /a/1") == " /a/1");
  Routes bad;
  CHECK(bad.set({}, {}, "test", 3).message.find("version 3") != std::string::npos);
  CHECK(bad.set({}, {}, "test", 0));
}

TEST_CASE("routes: rules, first match wins, with wildcards and references") {
  const Routes r = on({}, {"/product/* -> /product/:slug", "/u/*/settings -> /u/:user/settings",
                           "/docs/** -> /docs/**", "/lang/*/p/item-*.html -> /lang/$1/p/:item",
                           "/blog/** -> /blog", "/ -> /home"});
  CHECK(r.apply("/product/moka-pot?x=1") == "/product/:slug");
  CHECK(r.apply("/product/123") == "/product/:slug");   // the rule, not the id test
  CHECK(r.apply("/product/a/b") == "/product/a/b");     // '*' is one segment
  CHECK(r.apply("/product/") == "/product/");           // '*' needs a character
  CHECK(r.apply("/u/alice/settings") == "/u/:user/settings");
  CHECK(r.apply("/docs/v2/83472/intro") == "/docs/v2/:id/intro");  // '**' copied, ids replaced
  CHECK(r.apply("/docs") == "/docs");                   // '**' matches zero segments
  CHECK(r.apply("/lang/de/p/item-42.html") == "/lang/de/p/:item");
  CHECK(r.apply("/lang/de/p/item-.html") == "/lang/de/p/item-.html");  // '*' inside needs a character
  CHECK(r.apply("/blog/2019/10/01/post") == "/blog");
  CHECK(r.apply("/") == "/home");
  CHECK(r.apply("https://X.example/u/bob/settings") == "https://x.example/u/:user/settings");
  CHECK(r.rules()[0] == "/product/* -> /product/:slug");
}

TEST_CASE("routes: a rules file's syntax and its errors name the line") {
  std::vector<std::string> rules;
  REQUIRE_FALSE(parse_route_rules("\xEF\xBB\xBF# shop routes\r\n\n  /product/*   ->\t/product/:slug  # products\r\n"
                                  "/u/*/** -> /u/:user/**\n",
                                  "rules.txt", &rules));
  REQUIRE(rules.size() == 2);
  CHECK(rules[0] == "/product/* -> /product/:slug");
  CHECK(rules[1] == "/u/*/** -> /u/:user/**");
  CHECK(rules_error("/a -> /b\n/c /d\n") == "rules.txt:2: expected 'PATTERN -> REPLACEMENT', e.g. '/product/* -> /product/:slug'");
  CHECK(rules_error("/a -> /b -> /c") == "rules.txt:1: expected 'PATTERN -> REPLACEMENT', found more than three words");
  CHECK(rules_error("a -> /b").find("rules.txt:1: the pattern must start with '/'") == 0);
  CHECK(rules_error("/a -> b").find("rules.txt:1: the replacement must start with '/'") == 0);
  CHECK(rules_error("\n/a?x -> /b").find("rules.txt:2: a path holds no control characters") == 0);
  CHECK(rules_error("/**/a -> /b").find("'**' may only be the pattern's last segment") != std::string::npos);
  CHECK(rules_error("/a*b*c -> /b").find("at most one '*'") != std::string::npos);
  CHECK(rules_error("/a/* -> /b/**").find("'**' in a replacement") != std::string::npos);
  CHECK(rules_error("/a/* -> /b/*").find("holds no '*'") != std::string::npos);
  CHECK(rules_error("/a/* -> /b/$2").find("'$' starts a reference") != std::string::npos);
  CHECK(rules_error("/a/* -> /b/$x").find("'$' starts a reference") != std::string::npos);
  CHECK(rules_error("/a\xC3 -> /b").find("not valid UTF-8") != std::string::npos);
  CHECK(rules_error(std::string("/a -> /b\n/c\0 -> /d", 18)).find("rules.txt:2: holds a NUL byte") == 0);
  CHECK(rules_error(std::string(5000, '/') + " -> /b").find("rules.txt:1: line of 5006 bytes") == 0);
  std::string many;
  for (size_t i = 0; i <= kMaxRouteRules; ++i) many += "/a" + std::to_string(i) + " -> /b\n";
  CHECK(rules_error(many).find("rules.txt:1001: more than 1000 rules") == 0);
  CHECK(rules_error("# only comments\n\n   \t\n").empty());
}

TEST_CASE("routes: a model's hunch.normalize keys map pushed names to its routes") {
  hunch_test::ModelSpec s;
  s.action_names = {"/product/:id", "/search", "/list?page=2", "/docs/:slug", "/p/moka-pot"};
  s.normalize = true;
  s.keep_query = {"page"};
  s.route_rules = {"/docs/* -> /docs/:slug"};
  std::vector<uint8_t> bytes = hunch_test::build_model(s);
  std::unique_ptr<Model> m;
  REQUIRE_FALSE(Model::load(bytes.data(), bytes.size(), &m));
  CHECK(m->routes().enabled());
  CHECK(m->route_id("/product/123?utm=x") == 1);
  CHECK(m->route_id("/product/:id") == 1);
  CHECK(m->route_id("/search?q=alice") == 2);
  CHECK(m->route_id("/list?utm=1&page=2") == 3);
  CHECK(m->route_id("/docs/intro#top") == 4);
  CHECK(m->route_id("/p/moka-pot") == 5);
  CHECK(m->route_id("/p/unknown") == 0);
  CHECK(m->action_id("/product/123") == 0);  // action_id is the exact name

  // A version-1 model (trained before version 2) loads and maps as version 1 did.
  s.normalize_version = 1;
  bytes = hunch_test::build_model(s);
  REQUIRE_FALSE(Model::load(bytes.data(), bytes.size(), &m));
  CHECK(m->routes().version() == 1);
  CHECK(m->route_id("/product/123?utm=x") == 1);
  s.normalize_version = 3;  // a newer one is refused
  bytes = hunch_test::build_model(s);
  CHECK(Model::load(bytes.data(), bytes.size(), &m).message.find("hunch.normalize.version") != std::string::npos);
  s.normalize_version = hunch::kRoutesVersion;

  // Without the keys a model maps names as they are (older models).
  s.normalize = false;
  bytes = hunch_test::build_model(s);
  REQUIRE_FALSE(Model::load(bytes.data(), bytes.size(), &m));
  CHECK_FALSE(m->routes().enabled());
  CHECK(m->route_id("/product/123") == 0);
  CHECK(m->route_id("/product/:id") == 1);

  // Bad keys are refused at load, naming the key.
  s.normalize = true;
  s.route_rules = {"/docs/* /docs/:slug"};
  bytes = hunch_test::build_model(s);
  Error e = Model::load(bytes.data(), bytes.size(), &m);
  CHECK(e.message.find("hunch.normalize: rules[0]: expected 'PATTERN -> REPLACEMENT'") != std::string::npos);
}
