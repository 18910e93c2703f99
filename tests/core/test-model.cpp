// Model::load's architecture checks: a container that reads cleanly but does not make a model of
// its architecture (its optional parts included: session inputs, conversion head, calibration) is
// refused with an error naming the tensor or key. Each case rewrites a valid model through the
// public reader and writer with one defect.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <memory>
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

// An edit that removes the metadata key.
std::function<void(Parts&)> drop_key(const std::string& key) {
  return [key](Parts& p) {
    for (size_t i = 0; i < p.meta.size(); ++i)
      if (p.meta[i].key == key) p.meta.erase(p.meta.begin() + long(i));
  };
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
      {"missing hyper-parameter", drop_key("hunch.transformer.layers"), "missing key 'hunch.transformer.layers'"},
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

TEST_CASE("Model::load checks the optional parts: session inputs, conversion head, calibration keys") {
  hunch_test::ModelSpec spec;
  spec.hyper.arch = Arch::LSTM_ATTN;
  spec.hyper.type_count = 5;  // "purchase" is type 4
  spec.hyper.conversion = 1;
  spec.hyper.session_inputs = 1;
  spec.calibration.exit_a = 0.8f;
  spec.calibration.type_temperature = 1.5f;
  const auto good = hunch_test::build_model(spec);
  CHECK(load_error(good).empty());

  const char* const gap_message = "hunch.session.gap must be an F32 number of seconds > 0";
  struct Case {
    const char*                 what;
    std::function<void(Parts&)> edit;
    std::string                 expected;
  } cases[] = {
      {"session gap 0", [](Parts& p) { meta(p, "hunch.session.gap")->value.f = 0; }, gap_message},
      {"session gap negative", [](Parts& p) { meta(p, "hunch.session.gap")->value.f = -5; }, gap_message},
      {"session gap NaN", [](Parts& p) { meta(p, "hunch.session.gap")->value.f = NAN; }, gap_message},
      {"session gap infinite", [](Parts& p) { meta(p, "hunch.session.gap")->value.f = INFINITY; }, gap_message},
      {"session gap as U32",
       [](Parts& p) {
         MetaEntry* g = meta(p, "hunch.session.gap");
         g->value.type = MetaType::U32;
         g->value.u = 1800;
       },
       gap_message},
      {"session embeddings without the key", drop_key("hunch.session.gap"),
       "tensor 'emb.session_position' is not part of this architecture"},
      {"session key without an embedding",
       [](Parts& p) {
         for (size_t i = 0; i < p.tensors.size(); ++i)
           if (p.tensors[i].name == "emb.session_count") p.tensors.erase(p.tensors.begin() + long(i));
       },
       "missing tensor 'emb.session_count'"},
      {"session position table of another size",
       [](Parts& p) {
         for (auto& t : p.tensors)
           if (t.name == "emb.session_position") t.shape[0] = 8;
       },
       "tensor 'emb.session_position' has shape"},
      {"conversion head without goal types", drop_key("hunch.conversion.goal_types"),
       "tensor 'head.conversion.w' is not part of this architecture"},
      {"no goal type", [](Parts& p) { meta(p, "hunch.conversion.goal_types")->value.strings.clear(); },
       "hunch.conversion.goal_types is empty"},
      {"unknown goal type", [](Parts& p) { meta(p, "hunch.conversion.goal_types")->value.strings = {"refund"}; },
       "hunch.conversion.goal_types[0] 'refund' is not one of hunch.vocab.event_types"},
      {"goal type <none>", [](Parts& p) { meta(p, "hunch.conversion.goal_types")->value.strings = {"<none>"}; },
       "hunch.conversion.goal_types[0] '<none>' is not one of hunch.vocab.event_types"},
      {"calibration of the wrong length", [](Parts& p) { meta(p, "hunch.calibration.exit")->value.floats = {1}; },
       "hunch.calibration.exit must be an F32_ARRAY of 2 values"},
      {"calibration scale <= 0", [](Parts& p) { meta(p, "hunch.calibration.exit")->value.floats = {-1, 0}; },
       "hunch.calibration.exit[0] = -1 must be > 0"},
      {"calibration offset not finite",
       [](Parts& p) { meta(p, "hunch.calibration.conversion")->value.floats = {1, NAN}; },
       "hunch.calibration.conversion[1] = nan must be finite and within ±1000"},
      {"calibration offset huge", [](Parts& p) { meta(p, "hunch.calibration.exit")->value.floats = {1, 5000}; },
       "hunch.calibration.exit[1] = 5000 must be finite and within ±1000"},
      {"temperature 0", [](Parts& p) { meta(p, "hunch.calibration.type")->value.floats = {0}; },
       "hunch.calibration.type[0] = 0 must be > 0"},
      {"temperature huge", [](Parts& p) { meta(p, "hunch.calibration.type")->value.floats = {2000}; },
       "hunch.calibration.type[0] = 2000 must be > 0 (a scale) and at most 1000"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.what));
    std::string msg = load_error(rewrite(good, c.edit));
    CHECK_MESSAGE(msg.find(c.expected) != std::string::npos, msg);
  }

  // Without the keys a model is what it was before them: no session inputs, no head, identity.
  hunch_test::ModelSpec plain;
  const auto bytes = hunch_test::build_model(plain);
  std::unique_ptr<Model> m;
  REQUIRE(!Model::load(bytes.data(), bytes.size(), &m));
  CHECK(m->hyper().session_inputs == 0);
  CHECK(m->hyper().conversion == 0);
  CHECK(m->session_gap() == 0);
  CHECK(m->goal_types().empty());
  CHECK(m->calibration().is_identity());
}

TEST_CASE("Model::load checks the copy window: a U32 in 1…4096, only where copy or match terms read it") {
  hunch_test::ModelSpec spec;
  spec.hyper.copy = 1;
  spec.hyper.copy_window = 40;
  const auto good = hunch_test::build_model(spec);
  std::unique_ptr<Model> m;
  REQUIRE(Model::load(good.data(), good.size(), &m).message == "");
  CHECK(copy_window_of(m->hyper()) == 40);
  CHECK(m->hyper().window != 40);
  struct Case {
    const char*                 what;
    std::function<void(Parts&)> edit;
    std::string                 expected;
  } cases[] = {
      {"0", [](Parts& p) { meta(p, "hunch.copy.window")->value.u = 0; }, "hunch.copy.window"},
      {"past the largest window", [](Parts& p) { meta(p, "hunch.copy.window")->value.u = 4097; }, "hunch.copy.window"},
      {"as F32",
       [](Parts& p) {
         MetaEntry* w = meta(p, "hunch.copy.window");
         w->value.type = MetaType::F32;
         w->value.f = 40;
       },
       "hunch.copy.window"},
      {"without copy terms or attributes",
       [](Parts& p) {
         drop_key("hunch.copy")(p);
         for (size_t i = p.tensors.size(); i-- > 0;)
           if (p.tensors[i].name.rfind("head.copy.", 0) == 0) p.tensors.erase(p.tensors.begin() + long(i));
       },
       "hunch.copy.window without copy terms or attributes"},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.what));
    std::string msg = load_error(rewrite(good, c.edit));
    CHECK_MESSAGE(msg.find(c.expected) != std::string::npos, msg);
  }
}
