// `hunch quantize --int4-embeddings` (train::pack_action_tables): emb.action / head.action.w as
// int4 rows with one-byte scales and head.action.b as u8 codes (docs/format.md, "Packed
// tables"), alone and after --front-code-names, from f32 and int8 models of both architectures,
// tied and untied. The packed file is smaller, loads through the core, ranks close to the int8
// file (the same model up to the int4 rounding), copies through a plain quantize, and is refused
// where it cannot be processed again (packing twice, front-coding after packing).
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "hunch/model.h"
#include "hunch/rng.h"
#include "hunch/sequence.h"
#include "model-builder.h"
#include "test-util.h"

using namespace hunch;

#ifdef HUNCH_CLI_PATH
namespace {

int cli(const std::string& args, std::string* out) {
  return hunch_test::run_command(std::string("'") + HUNCH_CLI_PATH + "' " + args + " 2>&1", out);
}

std::unique_ptr<Model> load(const std::string& path) {
  std::unique_ptr<Model> m;
  const Error e = Model::load_file(path, &m);
  REQUIRE_MESSAGE(!e, e.message);
  return m;
}

long file_size(const std::string& path) { return long(hunch_test::read_file(path).size()); }

}  // namespace

TEST_CASE("hunch quantize --int4-embeddings: a smaller file that ranks as the int8 one does") {
  const std::string dir = "/tmp/hunch-test-quantize-packed-" + std::to_string(getpid());
  REQUIRE(std::system(("mkdir -p '" + dir + "'").c_str()) == 0);
  for (Arch arch : {Arch::LSTM_ATTN, Arch::TRANSFORMER})
    for (bool tied : {false, true})
      for (bool int8 : {false, true}) {
        CAPTURE(arch_name(arch));
        CAPTURE(tied);
        CAPTURE(int8);
        hunch_test::ModelSpec s;
        s.hyper.arch = arch;
        s.hyper.vocab_size = 400;
        s.hyper.embed = 32;
        s.int8 = int8;
        s.seed = 23;
        s.hyper.copy = 1;
        s.transition_successors = 4;
        s.tied_head = tied;
        const std::string in = dir + "/in.hunch", plain = dir + "/plain.hunch", packed = dir + "/packed.hunch",
                          both = dir + "/both.hunch";
        REQUIRE(hunch_test::write_file(in, hunch_test::build_model(s)));
        std::string log;
        REQUIRE_MESSAGE(cli("quantize '" + in + "' -o '" + plain + "'", &log) == 0, log);
        REQUIRE_MESSAGE(cli("quantize '" + in + "' -o '" + packed + "' --int4-embeddings", &log) == 0, log);
        CHECK(log.find("action tables packed (int4 rows, u8 bias)") != std::string::npos);
        CHECK(log.find("emb.action ") != std::string::npos);
        CHECK((log.find("head.action.w ") != std::string::npos) == !tied);
        REQUIRE_MESSAGE(cli("quantize '" + in + "' -o '" + both + "' --front-code-names --int4-embeddings", &log) == 0, log);
        // emb.action (and the untied head) from 1 byte + a 4-byte scale per 32 values to 4 bits + 1 byte.
        CHECK(file_size(packed) < file_size(plain) - long(s.hyper.vocab_size) * 16);
        CHECK(file_size(both) < file_size(packed));
        std::unique_ptr<Model> a = load(plain), b = load(packed), c = load(both);
        CHECK(b->file().find_tensor("emb.action") == nullptr);
        CHECK(b->file().find_meta("hunch.int4.emb.action") != nullptr);
        CHECK(b->file().find_meta("hunch.u8.head.action.b") != nullptr);
        CHECK(c->front_coded_names());
        // Same events: the packed models' logits stay close to the int8 model's and the top ten
        // mostly agree (int4 rounds each weight to 1/14 of its row's range).
        Sequence sa(*a), sb(*b), sc(*c);
        Rng rng(4);
        const uint32_t V = a->hyper().vocab_size;
        double overlap = 0, err = 0, spread = 0;
        const int steps = 30;
        for (int step = 0; step < steps; ++step) {
          const std::string name = a->action_name(uint32_t(rng.below(V)));
          Event e;
          e.action = a->action_id(name);
          e.type = uint32_t(rng.below(a->hyper().type_count));
          e.time = 100.0 * step;
          REQUIRE(!sa.push(e));
          REQUIRE(!sb.push(e));
          e.action = c->action_id(name);
          REQUIRE(!sc.push(e));
          Prediction pa[10], pb[10], pc[10];
          REQUIRE(sa.predict(10, pa) == 10);
          REQUIRE(sb.predict(10, pb) == 10);
          REQUIRE(sc.predict(10, pc) == 10);
          for (int i = 0; i < 10; ++i) {
            // The front-coded packed file names the same top ten as the packed one.
            CHECK(c->action_name(pc[i].action) == b->action_name(pb[i].action));
            for (int j = 0; j < 10; ++j) overlap += pa[i].action == pb[j].action;
          }
          const float *la = sa.action_logits(), *lb = sb.action_logits();
          double mean = 0;
          for (uint32_t i = 0; i < V; ++i) mean += la[i] / V;
          for (uint32_t i = 0; i < V; ++i) {
            err += std::fabs(la[i] - lb[i]) / V;
            spread += std::fabs(la[i] - mean) / V;
          }
        }
        MESSAGE("top-10 overlap " << overlap / (10.0 * steps) << ", mean |logit error| / mean |logit - mean| "
                                  << err / spread);
        CHECK(overlap / (10.0 * steps) >= 0.8);
        CHECK(err / spread <= 0.15);
      }
  // A plain quantize copies a packed file; packing twice and front-coding after packing are refused.
  std::string log;
  CHECK(cli("quantize '" + dir + "/packed.hunch' -o '" + dir + "/copy.hunch'", &log) == 0);
  CHECK(load(dir + "/copy.hunch")->file().find_meta("hunch.int4.emb.action") != nullptr);
  CHECK(cli("quantize '" + dir + "/packed.hunch' -o '" + dir + "/again.hunch' --int4-embeddings", &log) == 1);
  CHECK(log.find("hunch quantize: packing action tables: the model is already packed (key hunch.int4.emb.action)") !=
        std::string::npos);
  CHECK(cli("quantize '" + dir + "/packed.hunch' -o '" + dir + "/again.hunch' --front-code-names", &log) == 1);
  CHECK(log.find("hunch quantize: front-coding names: the model's action tables are packed") != std::string::npos);
  REQUIRE(std::system(("rm -rf '" + dir + "'").c_str()) == 0);
}
#endif  // HUNCH_CLI_PATH
