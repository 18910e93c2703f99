// Front-coded names (hunch/names.h, the tensor vocab.actions.fc): the round trip, lookups of names
// there and not there, the loader's checks on a damaged block (each naming the byte), and models
// that carry their names so: loaded, named and looked up through Model, refused when ambiguous.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "hunch/format.h"
#include "hunch/model.h"
#include "hunch/names.h"
#include "hunch/rng.h"
#include "model-builder.h"

using namespace hunch;

namespace {

// name 0 "<unk>", then `n` distinct names with long shared prefixes (paths), some multi-byte,
// one empty, one of the 4096-byte limit; sorted from id 1.
std::vector<std::string> random_names(uint32_t n, uint64_t seed) {
  Rng rng(seed);
  std::set<std::string> s = {"", std::string(kMaxStringBytes, 'z')};
  const char* stems[] = {"/product/", "/product/toys/", "/search?q=", "/caf\xc3\xa9/", "/p/", "/"};
  while (s.size() < n) {
    std::string x = stems[rng.below(6)];
    const uint64_t len = rng.below(12);
    for (uint64_t k = 0; k < len; ++k) x += char(rng.below(2) ? 'a' + rng.below(26) : 0x80 + rng.below(0x7f));
    s.insert(x);
  }
  std::vector<std::string> v = {"<unk>"};
  v.insert(v.end(), s.begin(), s.end());
  return v;
}

std::string open_error(const std::vector<uint8_t>& b, uint32_t max = 1000000) {
  FrontCodedNames f;
  return f.open(b.data(), b.size(), max, "fc").message;
}

}  // namespace

TEST_CASE("front-coded names: round trip, lookups, and every block size") {
  for (uint32_t n : {1u, 2u, 15u, 16u, 17u, 33u, 1000u}) {
    CAPTURE(n);
    std::vector<std::string> names = n == 1 ? std::vector<std::string>{"<unk>"} : random_names(n - 1, n);
    std::vector<uint8_t> b;
    REQUIRE(encode_front_coded(names, &b).message == "");
    FrontCodedNames f;
    REQUIRE(f.open(b.data(), b.size(), 1000000, "fc").message == "");
    REQUIRE(f.size() == names.size());
    CHECK(f.all() == names);
    for (uint32_t i = 0; i < names.size(); ++i) {
      CHECK(f.name(i) == names[i]);
      CHECK(f.find(names[i]) == i);
      CHECK(f.find(names[i] + "!") == (i > 0 && i + 1 < names.size() && names[i + 1] == names[i] + "!" ? i + 1 : 0));
    }
    CHECK(f.name(uint32_t(names.size())) == "");  // out of range: empty, no read
    for (const char* absent : {"", "\x01", "/product/", "~~~~", "/product/toys/\xff"})
      if (std::find(names.begin(), names.end(), absent) == names.end()) CHECK(f.find(absent) == 0);
  }
}

TEST_CASE("front-coded names: the writer refuses what the loader would") {
  std::vector<uint8_t> b;
  CHECK(encode_front_coded({"<unk>", "b", "a"}, &b).message.find("name 2 'a' is not after name 1 'b'") != std::string::npos);
  CHECK(encode_front_coded({"<unk>", "a", "a"}, &b).message.find("not after") != std::string::npos);
  CHECK(encode_front_coded({"<unk>", std::string("a\0b", 3)}, &b).message.find("NUL") != std::string::npos);
  CHECK(encode_front_coded({"<unk>", std::string(kMaxStringBytes + 1, 'a')}, &b).message.find("over 4096") != std::string::npos);
  CHECK(encode_front_coded({"b", "a", "b", "c"}, &b).message.find("name 0 'b' is also name 2") != std::string::npos);
  CHECK(encode_front_coded({}, &b).message != "");
}

TEST_CASE("front-coded names: a damaged block is refused, naming the byte") {
  const std::vector<std::string> names = random_names(40, 7);
  std::vector<uint8_t> good;
  REQUIRE(encode_front_coded(names, &good).message == "");
  auto put_u32 = [](std::vector<uint8_t>& b, size_t at, uint32_t v) {
    for (int k = 0; k < 4; ++k) b[at + k] = uint8_t(v >> (8 * k));
  };
  CHECK(open_error({1, 0}) == "fc: 2 bytes, too short for the name count");
  std::vector<uint8_t> b = good;
  put_u32(b, 0, 0);
  CHECK(open_error(b) == "fc: name count 0 at byte 0 is out of range [1, 1000000]");
  CHECK(open_error(good, 10) == "fc: name count 41 at byte 0 is out of range [1, 10]");
  b = good;
  put_u32(b, 0, 4000000);  // the offset table alone would run past the end
  CHECK(open_error(b, 5000000).find("the offset table of 250000 blocks (bytes 4..1000004) runs past the end") != std::string::npos);
  b = good;
  put_u32(b, 4 + 4, 99999);  // block 1's offset
  CHECK(open_error(b).find("fc: offset[1] (byte 8) is 99999, but the names before it end at byte") == 0);
  b = good;
  b.push_back(0);
  CHECK(open_error(b) == "fc: 1 bytes left over after the last name (byte " + std::to_string(good.size()) + ")");
  // Every cut of the block is refused (never read past the end).
  for (size_t cut = 0; cut < good.size(); ++cut) {
    std::vector<uint8_t> c(good.begin(), good.begin() + cut);
    CHECK(open_error(c) != "");
  }
  // Every single-byte change either is refused or opens to a consistent vocabulary.
  for (size_t at = 0; at < good.size(); ++at)
    for (uint8_t x : {uint8_t(0), uint8_t(0x7f), uint8_t(0x80), uint8_t(0xff)}) {
      std::vector<uint8_t> c = good;
      c[at] = x;
      FrontCodedNames f;
      if (f.open(c.data(), c.size(), 1000000, "fc")) continue;
      const std::vector<std::string> all = f.all();
      for (uint32_t i = 1; i < all.size(); ++i) {
        CHECK(all[i].find('\0') == std::string::npos);
        if (i > 1) CHECK(all[i - 1] < all[i]);
        CHECK(f.find(all[i]) == i);
      }
    }
}

TEST_CASE("front-coded names: out of order, duplicate and NUL names in a block are refused") {
  // Hand-made block of V = 3: u32 3 | offset[0] | name 0 "u" | block: "b", then (0 shared, "a").
  auto block = [](const std::string& second_suffix, uint8_t shared) {
    std::vector<uint8_t> b = {3, 0, 0, 0, 10, 0, 0, 0, 1, 'u', 1, 'b', shared, uint8_t(second_suffix.size())};
    for (char c : second_suffix) b.push_back(uint8_t(c));  // (insert of an empty range: a GCC 12 -Warray-bounds false alarm)
    return b;
  };
  CHECK(open_error(block("c", 0)) == "");
  CHECK(open_error(block("a", 0)) == "fc: name 2 'a' at byte 12 is not after name 1 'b' in byte order (a duplicate or out of order)");
  CHECK(open_error(block("", 1)).find("name 2 'b' at byte 12 is not after name 1 'b'") != std::string::npos);
  CHECK(open_error(block("", 2)) == "fc: name 2 at byte 12: a shared-prefix length is longer than the name before it");
  CHECK(open_error(block(std::string("c\0", 2), 0)) == "fc: name 2 at byte 12 contains a NUL byte");
  CHECK(open_error(block("u", 0)) == "fc: name 0 'u' is also name 2");
}

TEST_CASE("a model with front-coded names loads, names and looks them up; one with both names is refused") {
  hunch_test::ModelSpec spec;
  spec.int8 = true;
  spec.action_names = {"/search", "/cart", "/product/:id"};
  const std::vector<uint8_t> bytes = hunch_test::build_model(spec);
  ModelFile f;
  REQUIRE(read_model_file(bytes.data(), bytes.size(), &f).message == "");
  std::vector<std::string> names = f.find_meta("hunch.vocab.actions")->value.strings;
  // The same model with its names front-coded in id order (sorted here already, so no renumbering:
  // tests/native/test-front-coded.cpp renumbers a real one through `hunch quantize`).
  std::sort(names.begin() + 1, names.end());
  std::vector<uint8_t> fc;
  REQUIRE(encode_front_coded(names, &fc).message == "");
  auto rebuild = [&](bool keep_meta, bool add_fc) {
    ModelWriter w;
    for (const MetaEntry& m : f.metadata) {
      if (m.key == "hunch.vocab.actions" && !keep_meta) continue;
      switch (m.value.type) {
        case MetaType::U32: w.set_u32(m.key, uint32_t(m.value.u)); break;
        case MetaType::F32: w.set_f32(m.key, m.value.f); break;
        case MetaType::STRING: w.set_string(m.key, m.value.str); break;
        case MetaType::STRING_ARRAY: w.set_strings(m.key, m.key == "hunch.vocab.actions" ? names : m.value.strings); break;
        case MetaType::F32_ARRAY: w.set_floats(m.key, m.value.floats); break;
        default: FAIL("unexpected metadata type");
      }
    }
    if (add_fc) w.add_u8(kActionsFcTensor, {fc.size()}, fc.data());
    for (const TensorEntry& t : f.tensors) {
      if (t.dtype == DType::I8) w.add_i8(t.name, t.shape[0], t.shape[1], t.i8, t.scales);
      else if (t.dtype == DType::U8) w.add_u8(t.name, t.shape, t.u8);
      else w.add_f32(t.name, t.shape, t.f32);
    }
    std::vector<uint8_t> out;
    REQUIRE(w.serialize(&out).message == "");
    return out;
  };
  std::unique_ptr<Model> m;
  std::vector<uint8_t> b = rebuild(false, true);
  REQUIRE(Model::load(b.data(), b.size(), &m).message == "");
  CHECK(m->front_coded_names());
  CHECK(m->hyper().vocab_size == names.size());
  CHECK(m->action_names() == names);
  for (uint32_t i = 0; i < names.size(); ++i) {
    CHECK(m->action_name(i) == names[i]);
    CHECK(m->action_id(names[i]) == i);
  }
  CHECK(m->action_id("/nowhere") == 0);
  CHECK(m->route_id("/search") == m->action_id("/search"));

  b = rebuild(true, true);
  CHECK(Model::load(b.data(), b.size(), &m).message ==
        "model: both the key hunch.vocab.actions and the tensor vocab.actions.fc name the actions (a file has one of them)");
  b = rebuild(false, false);
  CHECK(Model::load(b.data(), b.size(), &m).message == "model metadata: missing key 'hunch.vocab.actions'");
  // A block of the wrong size for the tables: the vocabulary size check names the tensor.
  names.push_back("~extra");
  REQUIRE(encode_front_coded(names, &fc).message == "");
  b = rebuild(false, true);
  CHECK(Model::load(b.data(), b.size(), &m).message.find("emb.action") != std::string::npos);
}
