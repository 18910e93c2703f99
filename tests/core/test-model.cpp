// Model::load's architecture checks: a container that reads cleanly but does not make a model of
// its architecture is refused with an error naming the tensor or key. Each case rewrites a valid
// model through the public reader and writer with one defect.
#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "hunch/format.h"
#include "hunch/model.h"
#include "model-builder.h"

using namespace hunch;

namespace {

struct Parts {
  std::vector<MetaEntry>   meta;
  std::vector<TensorEntry> tensors;
};

// Reads `bytes`, lets `edit` change the parsed parts, writes them back as a new file.
std::vector<uint8_t> rewrite(const std::vector<uint8_t>& bytes, const std::function<void(Parts&)>& edit) {
  ModelFile f;
  Error e = read_model_file(bytes.data(), bytes.size(), &f);
  REQUIRE_MESSAGE(!e, e.message);
  Parts p{f.metadata, f.tensors};
  edit(p);
  ModelWriter w;
  for (const auto& m : p.meta) {
    const MetaValue& v = m.value;
    switch (v.type) {
      case MetaType::U32: w.set_u32(m.key, uint32_t(v.u)); break;
      case MetaType::I32: w.set_i32(m.key, int32_t(v.i)); break;
      case MetaType::F32: w.set_f32(m.key, v.f); break;
      case MetaType::U64: w.set_u64(m.key, v.u); break;
      case MetaType::STRING: w.set_string(m.key, v.str); break;
      case MetaType::STRING_ARRAY: w.set_strings(m.key, v.strings); break;
      case MetaType::F32_ARRAY: w.set_floats(m.key, v.floats); break;
    }
  }
  for (const auto& t : p.tensors) {
    if (t.dtype == DType::I8) w.add_i8(t.name, t.shape[0], t.shape[1], t.i8, t.scales);
    else w.add_f32(t.name, t.shape, t.f32);
  }
  std::vector<uint8_t> out;
  e = w.serialize(&out);
  REQUIRE_MESSAGE(!e, e.message);
  return out;
}

std::string load_error(const std::vector<uint8_t>& bytes) {
  std::unique_ptr<Model> m;
  Error e = Model::load(bytes.data(), bytes.size(), &m);
  CHECK((m == nullptr) == bool(e));
  return e.message;
}

MetaEntry* meta(Parts& p, const std::string& key) {
  for (auto& m : p.meta)
    if (m.key == key) return &m;
  FAIL("no key " << key);
  return nullptr;
}

}  // namespace

TEST_CASE("Model::load refuses containers that are not a model of their architecture") {
  hunch_test::ModelSpec spec;
  spec.hyper.arch = Arch::TRANSFORMER;
  spec.int8 = true;
  const auto good = hunch_test::build_model(spec);
  CHECK(load_error(good).empty());
  CHECK(load_error(rewrite(good, [](Parts&) {})).empty());  // the rewrite itself is faithful

  struct Case {
    const char*                       what;
    std::function<void(Parts&)>       edit;
    const char*                       expected;
  } cases[] = {
      {"missing tensor", [](Parts& p) { p.tensors.pop_back(); }, "missing tensor 'head.exit.b'"},
      {"extra tensor", [](Parts& p) { auto t = p.tensors.back(); t.name = "head.extra"; p.tensors.push_back(t); },
       "tensor 'head.extra' is not part of this architecture"},
      {"wrong shape",
       [](Parts& p) {
         for (auto& t : p.tensors)
           if (t.name == "blk.0.attn.recency") t.shape = {1};
       },
       "tensor 'blk.0.attn.recency' has shape (1), the architecture needs (2)"},
      {"unknown architecture", [](Parts& p) { meta(p, "general.architecture")->value.str = "gru"; },
       "unknown architecture 'gru'"},
      {"missing hyper-parameter",
       [](Parts& p) {
         for (size_t i = 0; i < p.meta.size(); ++i)
           if (p.meta[i].key == "hunch.transformer.layers") p.meta.erase(p.meta.begin() + long(i));
       },
       "missing key 'hunch.transformer.layers'"},
      {"heads do not divide D", [](Parts& p) { meta(p, "hunch.transformer.heads")->value.u = 3; },
       "does not divide hunch.embedding_size"},
      {"window out of range", [](Parts& p) { meta(p, "hunch.attention.window")->value.u = 100000; },
       "hunch.attention.window = 100000 is out of range"},
      {"duplicate action name", [](Parts& p) { meta(p, "hunch.vocab.actions")->value.strings[2] = "/page/1"; },
       "hunch.vocab.actions[2] '/page/1' is a duplicate"},
      {"NUL in an action name",
       [](Parts& p) { meta(p, "hunch.vocab.actions")->value.strings[3] = std::string("a\0b", 3); },
       "hunch.vocab.actions[3] contains a NUL byte"},
      {"gap edges not increasing", [](Parts& p) { meta(p, "hunch.time.gap_edges")->value.floats = {10, 5}; },
       "hunch.time.gap_edges[1] = 5"},
      {"vocabulary size mismatch", [](Parts& p) { meta(p, "hunch.vocab.actions")->value.strings.pop_back(); },
       "tensor 'emb.action' has shape"},
      {"type mismatch", [](Parts& p) { meta(p, "hunch.embedding_size")->value.type = MetaType::F32; },
       "key 'hunch.embedding_size' has type f32, expected U32"},
  };
  size_t checked = 0;
  for (const auto& c : cases) {
    CAPTURE(std::string(c.what));
    std::string msg = load_error(rewrite(good, c.edit));
    CHECK_MESSAGE(msg.find(c.expected) != std::string::npos, msg);
    ++checked;
  }
  CHECK(checked == sizeof cases / sizeof cases[0]);
  CHECK(load_error(good).empty());  // and a good model still loads after all of them
}
