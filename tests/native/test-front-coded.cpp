// `hunch quantize --front-code-names` (train::front_code_names): the names become the tensor
// vocab.actions.fc and the actions are renumbered into name order, with every action-indexed
// tensor permuted to match — so the model predicts the same names with the same probabilities.
// Checked on models with every action-indexed part (the head, its bias, the copy terms, the
// transition table, the attribute table), both architectures, f32 and int8.
#include <doctest/doctest.h>

#include <unistd.h>

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

}  // namespace

TEST_CASE("hunch quantize --front-code-names: same names, same probabilities") {
  const std::string dir = "/tmp/hunch-test-front-coded-" + std::to_string(getpid());
  REQUIRE(std::system(("mkdir -p '" + dir + "'").c_str()) == 0);
  for (Arch arch : {Arch::LSTM_ATTN, Arch::TRANSFORMER})
    for (bool int8 : {false, true}) {
      CAPTURE(arch_name(arch));
      CAPTURE(int8);
      hunch_test::ModelSpec s;
      s.hyper.arch = arch;
      s.hyper.vocab_size = 300;  // names in anything but name order: "/page/<id>" and some more
      s.int8 = int8;
      s.seed = 5;
      s.hyper.copy = 1;
      s.transition_successors = 6;
      s.attr_sizes = {5, 4};
      s.attr_numeric = {false, true};
      s.action_names = {"/zebra", "/apple", "/caf\xc3\xa9", "/page/10x", ""};
      s.tied_head = arch == Arch::TRANSFORMER;  // a tied head: emb.action permuted serves both
      // From an f32 or an int8 model, int8 both ways: with and without front-coded names.
      const std::string in = dir + "/in.hunch", plain = dir + "/plain.hunch", out = dir + "/fc.hunch";
      REQUIRE(hunch_test::write_file(in, hunch_test::build_model(s)));
      std::string log;
      REQUIRE_MESSAGE(cli("quantize '" + in + "' -o '" + plain + "'", &log) == 0, log);
      REQUIRE_MESSAGE(cli("quantize '" + in + "' -o '" + out + "' --front-code-names", &log) == 0, log);
      CHECK(log.find("action names front-coded") != std::string::npos);
      std::unique_ptr<Model> a = load(plain), b = load(out);
      CHECK(!a->front_coded_names());
      REQUIRE(b->front_coded_names());
      REQUIRE(b->hyper().vocab_size == a->hyper().vocab_size);
      const uint32_t V = a->hyper().vocab_size;
      // Ids 1.. in name order; every name kept.
      for (uint32_t i = 2; i < V; ++i) CHECK(b->action_name(i - 1) < b->action_name(i));
      for (uint32_t i = 0; i < V; ++i) CHECK(b->action_name(b->action_id(a->action_name(i))) == a->action_name(i));
      // The same named events, through each model's own ids.
      Sequence sa(*a), sb(*b);
      Rng rng(11);
      double t = 1000;
      for (int step = 0; step < 40; ++step) {
        const std::string name = a->action_name(uint32_t(rng.below(V)));
        Event ea, eb;
        ea.action = a->action_id(name);
        eb.action = b->action_id(name);
        CHECK(a->action_name(ea.action) == b->action_name(eb.action));
        ea.type = eb.type = uint32_t(rng.below(a->hyper().type_count));
        ea.time = eb.time = (t += double(rng.below(600)));
        REQUIRE(!sa.push(ea));
        REQUIRE(!sb.push(eb));
        const float* la = sa.action_logits();
        std::vector<float> lb(sb.action_logits(), sb.action_logits() + V);
        for (uint32_t i = 0; i < V; ++i) {
          const uint32_t j = b->action_id(a->action_name(i));
          if (std::fabs(la[i] - lb[j]) > 1e-5f * (1 + std::fabs(la[i]))) {
            FAIL_CHECK("logit of '" << a->action_name(i) << "' " << la[i] << " vs " << lb[j]);
            break;
          }
        }
        Prediction pa[10], pb[10];
        const size_t na = sa.predict(10, pa), nb = sb.predict(10, pb);
        REQUIRE(na == nb);
        for (size_t k = 0; k < na; ++k) {
          CHECK(a->action_name(pa[k].action) == b->action_name(pb[k].action));
          CHECK(pa[k].probability == doctest::Approx(pb[k].probability).epsilon(1e-5));
        }
      }
    }
  // A model already front-coded is refused; an f32 one with front-coded names quantises.
  std::string log;
  CHECK(cli("quantize '" + dir + "/fc.hunch' -o '" + dir + "/again.hunch' --front-code-names", &log) == 1);
  CHECK(log.find("hunch quantize: front-coding names: the model's names are already front-coded") != std::string::npos);
  CHECK(cli("quantize '" + dir + "/fc.hunch' -o '" + dir + "/copy.hunch'", &log) == 0);
  CHECK(load(dir + "/copy.hunch")->front_coded_names());
  // `hunch inspect --vocab` shows the names a visitor can read, front-coded or not.
  log.clear();
  REQUIRE(cli("inspect --vocab '" + dir + "/fc.hunch'", &log) == 0);
  CHECK(log.find("vocab.actions.fc[0]\t<unk>\n") != std::string::npos);
  CHECK(log.find("\t/zebra\n") != std::string::npos);
  CHECK(log.find("vocab.actions.fc[1]\t\n") != std::string::npos);  // "" sorts first
  REQUIRE(std::system(("rm -rf '" + dir + "'").c_str()) == 0);
}
#endif  // HUNCH_CLI_PATH
