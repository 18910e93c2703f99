// The committed fixture models load, and the same events give the same top-10 in every build:
// the goldens were computed natively with the reference kernels (tests/gen/make-fixtures.cpp);
// this test runs natively and on the WASM build (SIMD128 kernels) under node.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "hunch/kernels.h"
#include "hunch/model.h"
#include "hunch/sequence.h"
#include "model-builder.h"
#include "test-util.h"

using namespace hunch;

TEST_CASE("fixture models: top-10 equals the native reference golden in this build") {
  const char* names[] = {"tiny-lstm-attn", "tiny-lstm-attn-f32", "tiny-transformer", "tiny-transformer-conversion",
                         "tiny-lstm-attn-sessions", "tiny-transformer-terms", "tiny-transformer-counts"};
  size_t compared = 0;
  for (const char* name : names) {
    CAPTURE(name);
    const std::string base = hunch_test::source_path(std::string("tests/data/fixtures/") + name);
    auto bytes = hunch_test::read_file(base + ".hunch");
    CHECK(bytes.size() < 1000000);  // fixtures stay small
    std::unique_ptr<Model> model;
    Error e = Model::load(bytes.data(), bytes.size(), &model);
    REQUIRE_MESSAGE(!e, e.message);

    auto golden_bytes = hunch_test::read_file(base + ".golden");
    std::istringstream golden(std::string(golden_bytes.begin(), golden_bytes.end()));
    Sequence seq(*model);  // the build's default kernels
    for (const Event& ev : hunch_test::fixture_events()) REQUIRE(!seq.push(ev));
    std::vector<Prediction> top(10);
    REQUIRE(seq.predict(10, top.data()) == 10);
    MESSAGE((std::string(name) + ": kernels " + kernels_name(kernels_default())));
    for (size_t i = 0; i < 10; ++i) {
      uint32_t id;
      double p;
      golden >> id >> p;
      REQUIRE_FALSE(golden.fail());
      // Tolerance: f32 reductions summed in another order (SIMD lanes) move probabilities by
      // ~1e-7 relative; 1e-5 absolute also covers the int8 path, whose integer sums are exact.
      CHECK(std::fabs(top[i].probability - p) < 1e-5);
      // Same action at each rank, unless two neighbours are tied within the tolerance.
      if (top[i].action != id) {
        bool tie = (i > 0 && std::fabs(top[i - 1].probability - top[i].probability) < 1e-5) ||
                   (i < 9 && std::fabs(top[i + 1].probability - top[i].probability) < 1e-5);
        CHECK_MESSAGE(tie, "rank " << i << ": action " << top[i].action << ", golden " << id);
      }
      ++compared;
    }
  }
  CHECK(compared == 10 * (sizeof names / sizeof names[0]));
}
