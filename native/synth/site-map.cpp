#include "synth/site-map.h"

#include <cstdio>

namespace hunch::synth {

namespace {

struct ProductSpec {
  const char* title;
  int         price_cents;
};

struct CategorySpec {
  const char* id;
  const char* title;
  int         complement;  // the category whose products a "you may also like" list mixes in
  ProductSpec products[12];  // best seller first
};

// The catalog. Order matters: it fixes page indices, popularity ranks and related lists.
const CategorySpec kCatalog[] = {
    {"coffee", "Coffee", 2,
     {{"Pour-over kettle", 4900}, {"Burr grinder", 8900}, {"Ceramic dripper", 2400}, {"Paper filters", 600},
      {"Cold brew jar", 2900}, {"Milk frother", 3400}, {"Moka pot", 3900}, {"Coffee scale", 4400},
      {"Travel mug", 2200}, {"Ethiopia beans", 1600}, {"Colombia decaf beans", 1500}, {"Espresso tamper", 1900}}},
    {"kitchen", "Kitchen", 2,
     {{"Chef knife", 7900}, {"Walnut cutting board", 5400}, {"Cast-iron skillet", 4500}, {"Dutch oven", 11900},
      {"Mixing bowls", 3200}, {"Wooden spoons", 1800}, {"Knife sharpener", 2600}, {"Salad spinner", 2800},
      {"Measuring cups", 1400}, {"Spice rack", 3600}, {"Pasta maker", 6900}, {"Linen apron", 3100}}},
    {"tableware", "Tableware", 1,
     {{"Stoneware plates", 5800}, {"Pasta bowls", 4200}, {"Linen napkins", 2400}, {"Wine glasses", 3800},
      {"Tumbler set", 2900}, {"Serving platter", 3500}, {"Butter dish", 1900}, {"Salt cellar", 1600},
      {"Flatware set", 6400}, {"Teapot", 4100}, {"Espresso cups", 2700}, {"Cake stand", 3300}}},
    {"garden", "Garden", 3,
     {{"Pruning shears", 2900}, {"Watering can", 3400}, {"Trowel set", 2600}, {"Terracotta pots", 2200},
      {"Seed starter kit", 1900}, {"Garden gloves", 1500}, {"Kneeling pad", 1700}, {"Hose reel", 5900},
      {"Compost bin", 7400}, {"Herb planter", 3800}, {"Bird feeder", 2800}, {"Rain gauge", 1200}}},
    {"outdoor", "Outdoor", 3,
     {{"Camping stove", 6900}, {"Enamel mug", 1400}, {"Folding chair", 4900}, {"Picnic blanket", 3900},
      {"Camp lantern", 3200}, {"Cooler bag", 4400}, {"Hammock", 5600}, {"Fire pit", 12900},
      {"Thermos flask", 2900}, {"Camp cookset", 5200}, {"Headlamp", 2400}, {"Tarp shelter", 6100}}},
    {"stationery", "Stationery", 6,
     {{"Dot-grid notebook", 1800}, {"Fountain pen", 4600}, {"Book stand", 3700}, {"Brass bookends", 4200},
      {"Leather bookmark", 1100}, {"Desk organiser", 3300}, {"Ink bottle", 1500}, {"Pencil set", 1300},
      {"Travel journal", 2600}, {"Letter opener", 1900}, {"Desk magnifier", 2800}, {"Washi tape set", 900}}},
    {"lighting", "Lighting", 7,
     {{"Table lamp", 8900}, {"Desk lamp", 6400}, {"String lights", 2900}, {"Floor lamp", 15900},
      {"Pendant light", 11400}, {"LED candle set", 2400}, {"Wall sconce", 7900}, {"Night light", 1900},
      {"Linen lamp shade", 3900}, {"Smart bulb", 1700}, {"Paper lantern", 2200}, {"Dimmer switch", 2600}}},
    {"textiles", "Textiles", 6,
     {{"Wool throw", 8900}, {"Cushion cover", 2900}, {"Bath towels", 4900}, {"Bed linen set", 13900},
      {"Cotton quilt", 11900}, {"Table runner", 3400}, {"Tea towels", 1900}, {"Bath mat", 2900},
      {"Jute rug", 9900}, {"Linen curtains", 8400}, {"Waffle robe", 6900}, {"Storage basket", 3900}}},
};

std::string slug(const std::string& title) {
  std::string s;
  for (char c : title) {
    if (c >= 'A' && c <= 'Z') s += char(c - 'A' + 'a');
    else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) s += c;
    else if (!s.empty() && s.back() != '-') s += '-';
  }
  while (!s.empty() && s.back() == '-') s.pop_back();
  return s;
}

void json_string(std::string* out, const std::string& s) {
  *out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') {
      *out += '\\';
      *out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      *out += buf;
    } else {
      *out += c;
    }
  }
  *out += '"';
}

void json_paths(std::string* out, const SiteMap& site, const std::vector<int>& pages) {
  *out += '[';
  for (size_t i = 0; i < pages.size(); ++i) {
    if (i) *out += ", ";
    json_string(out, site.pages[pages[i]].path);
  }
  *out += ']';
}

}  // namespace

const char* page_kind_name(PageKind k) {
  switch (k) {
    case PageKind::HOME: return "home";
    case PageKind::CATEGORY: return "category";
    case PageKind::PRODUCT: return "product";
    case PageKind::SEARCH: return "search";
    case PageKind::DEALS: return "deals";
    case PageKind::CART: return "cart";
    case PageKind::CHECKOUT: return "checkout";
    case PageKind::PAYMENT: return "payment";
    case PageKind::CONFIRMED: return "confirmed";
    case PageKind::HELP: return "help";
    case PageKind::ACCOUNT: return "account";
    case PageKind::ABOUT: return "about";
  }
  return "?";
}

int SiteMap::find(const std::string& path) const {
  for (size_t i = 0; i < pages.size(); ++i)
    if (pages[i].path == path) return static_cast<int>(i);
  return -1;
}

SiteMap build_site_map() {
  SiteMap site;
  site.name = "Hearth & Field";
  site.event_types = {"view", "click", "add_to_cart", "purchase"};
  auto add = [&](const std::string& path, PageKind kind, const std::string& title) {
    Page p;
    p.path = path;
    p.kind = kind;
    p.title = title;
    site.pages.push_back(p);
    return static_cast<int>(site.pages.size() - 1);
  };
  site.home = add("/", PageKind::HOME, "Home");
  site.search = add("/search", PageKind::SEARCH, "Search");
  site.deals_page = add("/deals", PageKind::DEALS, "Deals of the week");
  for (const auto& c : kCatalog) {
    Category cat;
    cat.id = c.id;
    cat.title = c.title;
    cat.page = add(std::string("/c/") + c.id, PageKind::CATEGORY, c.title);
    site.pages[cat.page].category = static_cast<int>(site.categories.size());
    site.categories.push_back(cat);
  }
  for (size_t ci = 0; ci < site.categories.size(); ++ci) {
    for (int r = 0; r < 12; ++r) {
      const ProductSpec& ps = kCatalog[ci].products[r];
      int id = add("/p/" + slug(ps.title), PageKind::PRODUCT, ps.title);
      site.pages[id].category = static_cast<int>(ci);
      site.pages[id].price_cents = ps.price_cents;
      site.pages[id].popularity = r;
      site.categories[ci].products.push_back(id);
    }
  }
  // Two neighbours in the same category and one from the complementary category: the links a
  // product page shows, which the synthetic users follow.
  for (size_t ci = 0; ci < site.categories.size(); ++ci) {
    const auto& own = site.categories[ci].products;
    const auto& comp = site.categories[kCatalog[ci].complement].products;
    for (int r = 0; r < 12; ++r)
      site.pages[own[r]].related = {own[(r + 1) % 12], own[(r + 5) % 12], comp[(r * 7 + 3) % 12]};
  }
  for (size_t ci = 0; ci < site.categories.size(); ++ci) {
    site.deals.push_back(site.categories[ci].products[(ci * 5 + 2) % 12]);
    if (ci % 2 == 0) site.deals.push_back(site.categories[ci].products[(ci + 9) % 12]);
  }
  site.cart = add("/cart", PageKind::CART, "Your cart");
  site.checkout = add("/checkout", PageKind::CHECKOUT, "Checkout: address");
  site.payment = add("/checkout/payment", PageKind::PAYMENT, "Checkout: payment");
  site.confirmed = add("/order/confirmed", PageKind::CONFIRMED, "Order confirmed");
  site.help = add("/help", PageKind::HELP, "Help centre");
  for (const char* t : {"shipping", "returns", "payment", "contact"})
    site.help_topics.push_back(add(std::string("/help/") + t, PageKind::HELP,
                                   std::string("Help: ") + t));
  site.help_topics.push_back(add("/faq", PageKind::HELP, "Frequently asked questions"));
  site.account = add("/account", PageKind::ACCOUNT, "Your account");
  site.orders = add("/account/orders", PageKind::ACCOUNT, "Your orders");
  site.login = add("/login", PageKind::ACCOUNT, "Sign in");
  site.about = add("/about", PageKind::ABOUT, "About us");
  return site;
}

std::string site_map_json(const SiteMap& site) {
  std::string o = "{\n  \"name\": ";
  json_string(&o, site.name);
  o += ",\n  \"event_types\": [";
  for (size_t i = 0; i < site.event_types.size(); ++i) {
    if (i) o += ", ";
    json_string(&o, site.event_types[i]);
  }
  o += "],\n  \"categories\": [\n";
  for (size_t i = 0; i < site.categories.size(); ++i) {
    const Category& c = site.categories[i];
    o += "    {\"id\": ";
    json_string(&o, c.id);
    o += ", \"title\": ";
    json_string(&o, c.title);
    o += ", \"path\": ";
    json_string(&o, site.pages[c.page].path);
    o += ", \"products\": ";
    json_paths(&o, site, c.products);
    o += i + 1 < site.categories.size() ? "},\n" : "}\n";
  }
  o += "  ],\n  \"deals\": ";
  json_paths(&o, site, site.deals);
  o += ",\n  \"pages\": [\n";
  for (size_t i = 0; i < site.pages.size(); ++i) {
    const Page& p = site.pages[i];
    o += "    {\"path\": ";
    json_string(&o, p.path);
    o += ", \"kind\": ";
    json_string(&o, page_kind_name(p.kind));
    o += ", \"title\": ";
    json_string(&o, p.title);
    if (p.category >= 0) {
      o += ", \"category\": ";
      json_string(&o, site.categories[p.category].id);
    }
    if (p.kind == PageKind::PRODUCT) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%d.%02d", p.price_cents / 100, p.price_cents % 100);
      o += ", \"price\": ";
      o += buf;
      o += ", \"related\": ";
      json_paths(&o, site, p.related);
    }
    o += i + 1 < site.pages.size() ? "},\n" : "}\n";
  }
  o += "  ]\n}\n";
  return o;
}

}  // namespace hunch::synth
