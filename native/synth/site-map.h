// The bundled shop's site map: every page a synthetic user can visit and every page the demo
// renders. The generator (synth.h) walks it and the demo page reads it as demo/site-map.json
// (written by `hunch synth --site-map`), so the model's action names and the demo's routes are
// one list. The catalog is fixed in code, not seeded: a model trained on any seed's log fits
// the same demo.
//
// Actions are page paths ("/", "/c/coffee", "/p/pour-over-kettle", "/cart", …). Event types say
// what happened on that page: view (arrived), click (an in-page control: reviews tab, sort,
// FAQ entry), add_to_cart (on a product page), purchase (on /checkout/payment).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hunch::synth {

enum class PageKind { HOME, CATEGORY, PRODUCT, SEARCH, DEALS, CART, CHECKOUT, PAYMENT, CONFIRMED, HELP, ACCOUNT, ABOUT };
const char* page_kind_name(PageKind k);  // "home", "category", "product", …

struct Page {
  std::string path;        // the action name: "/p/pour-over-kettle"
  PageKind    kind = PageKind::HOME;
  std::string title;
  int         category = -1;  // index into SiteMap::categories (category and product pages)
  int         price_cents = 0;  // products
  int         popularity = 0;   // products: rank within the category, 0 = best seller
  std::vector<int> related;     // products: page indices shown as "you may also like"
};

struct Category {
  std::string id, title;
  int         page = -1;             // index of its /c/<id> page
  std::vector<int> products;         // page indices, by popularity rank
};

struct SiteMap {
  std::string name;
  std::vector<Page>     pages;
  std::vector<Category> categories;
  std::vector<int>      deals;       // product page indices featured on /deals
  std::vector<std::string> event_types;  // "view", "click", "add_to_cart", "purchase"

  // Indices of the fixed pages.
  int home = -1, search = -1, deals_page = -1, cart = -1, checkout = -1, payment = -1,
      confirmed = -1, help = -1, account = -1, orders = -1, login = -1, about = -1;
  std::vector<int> help_topics;      // /help/<topic> and /faq

  int find(const std::string& path) const;  // page index or -1
};

// The shop: 8 categories of 12 products plus home, search, deals, cart, a three-step checkout,
// help and account pages (121 pages).
SiteMap build_site_map();

// The site map as JSON for the demo page: {"name", "event_types", "categories": [{id, title,
// path, products: [paths]}], "deals": [paths], "pages": [{path, kind, title, category?, price?,
// related?}]}. Stable byte for byte (the demo commits it and a test compares).
std::string site_map_json(const SiteMap& site);

}  // namespace hunch::synth
