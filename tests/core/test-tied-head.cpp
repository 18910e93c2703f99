// The tied head (hunch.head.action.tied = 1): a file without head.action.w whose action head
// scores with emb.action. It predicts exactly what the untied file with head.action.w = emb.action
// predicts (both architectures, f32 and int8, with every optional head term), and a file that
// says it is tied but still has head.action.w, or a bad key, is refused.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "hunch/format.h"
#include "hunch/model.h"
#include "hunch/rng.h"
#include "hunch/sequence.h"
#include "model-builder.h"

using namespace hunch;

namespace {

// The file's tensors and metadata again, head.action.w added as a copy of emb.action (untie) or
// the key changed (key_value: 0 drops the key, else its U32 value), through the public writer.
std::vector<uint8_t> rewrite(const std::vector<uint8_t>& bytes, bool add_head, uint32_t key_value) {
  ModelFile f;
  REQUIRE(read_model_file(bytes.data(), bytes.size(), &f).message == "");
  ModelWriter w;
  for (const MetaEntry& m : f.metadata) {
    if (m.key == "hunch.head.action.tied") continue;
    switch (m.value.type) {
      case MetaType::U32: w.set_u32(m.key, uint32_t(m.value.u)); break;
      case MetaType::F32: w.set_f32(m.key, m.value.f); break;
      case MetaType::STRING: w.set_string(m.key, m.value.str); break;
      case MetaType::STRING_ARRAY: w.set_strings(m.key, m.value.strings); break;
      case MetaType::F32_ARRAY: w.set_floats(m.key, m.value.floats); break;
      default: FAIL("unexpected metadata type");
    }
  }
  if (key_value) w.set_u32("hunch.head.action.tied", key_value);
  for (const TensorEntry& t : f.tensors) {
    for (const std::string& name : {t.name, std::string(t.name == "emb.action" && add_head ? "head.action.w" : "")}) {
      if (name.empty()) continue;
      if (t.dtype == DType::I8) w.add_i8(name, t.shape[0], t.shape[1], t.i8, t.scales);
      else if (t.dtype == DType::U8) w.add_u8(name, t.shape, t.u8);
      else w.add_f32(name, t.shape, t.f32);
    }
  }
  std::vector<uint8_t> out;
  REQUIRE(w.serialize(&out).message == "");
  return out;
}

}  // namespace

TEST_CASE("a tied head predicts what the untied file with head.action.w = emb.action predicts") {
  for (Arch arch : {Arch::LSTM_ATTN, Arch::TRANSFORMER})
    for (bool int8 : {false, true}) {
      CAPTURE(arch_name(arch));
      CAPTURE(int8);
      hunch_test::ModelSpec s;
      s.hyper.arch = arch;
      s.int8 = int8;
      s.tied_head = true;
      s.hyper.copy = 1;
      s.transition_successors = 4;
      s.attr_sizes = {3};
      const std::vector<uint8_t> tied = hunch_test::build_model(s), untied = rewrite(tied, true, 0);
      CHECK(untied.size() > tied.size());
      std::unique_ptr<Model> a, b;
      REQUIRE(Model::load(tied.data(), tied.size(), &a).message == "");
      REQUIRE(Model::load(untied.data(), untied.size(), &b).message == "");
      CHECK(a->file().find_tensor("head.action.w") == nullptr);
      CHECK(a->weights().head_action.rows == a->hyper().vocab_size);
      Sequence sa(*a), sb(*b);
      Rng rng(3);
      for (int step = 0; step < 20; ++step) {
        Event e;
        e.action = uint32_t(rng.below(a->hyper().vocab_size));
        e.type = uint32_t(rng.below(a->hyper().type_count));
        e.time = 100.0 * step;
        REQUIRE(!sa.push(e));
        REQUIRE(!sb.push(e));
        Prediction pa[5], pb[5];
        REQUIRE(sa.predict(5, pa) == sb.predict(5, pb));
        for (int k = 0; k < 5; ++k) {
          CHECK(pa[k].action == pb[k].action);
          CHECK(pa[k].probability == pb[k].probability);  // the same matrix: bit for bit
        }
      }
      // The untied file holds emb.action twice (as the trainer wrote --tie models before the key).
      if (!int8) {
        ModelFile f;
        REQUIRE(read_model_file(untied.data(), untied.size(), &f).message == "");
        const float* h = f.find_tensor("head.action.w")->f32;
        const float* e = f.find_tensor("emb.action")->f32;
        CHECK(std::equal(h, h + a->hyper().vocab_size * a->hyper().embed, e));
      }
      std::unique_ptr<Model> m;
      const std::vector<uint8_t> both = rewrite(tied, true, 1);
      CHECK(Model::load(both.data(), both.size(), &m).message ==
            "model: hunch.head.action.tied = 1, so tensor 'head.action.w' must be absent (the head uses emb.action)");
      const std::vector<uint8_t> two = rewrite(tied, false, 2);
      CHECK(Model::load(two.data(), two.size(), &m).message == "model metadata: hunch.head.action.tied = 2 is out of range [1, 1]");
      const std::vector<uint8_t> none = rewrite(tied, false, 0);
      CHECK(Model::load(none.data(), none.size(), &m).message == "model is missing tensor 'head.action.w'");
    }
}
