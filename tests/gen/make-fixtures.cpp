// Writes the model fixtures in tests/data/fixtures/ (random weights, fixed seeds, via the public
// writer). Run from the repository root after a native build:
//   build/native/hunch_make_fixtures tests/data/fixtures
// The files are committed; regenerate them only when the format version changes (a new fixture
// leaves the others byte-identical: each is built from its own spec and seed).
#include <cstdio>
#include <string>

#include "model-builder.h"

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "tests/data/fixtures";
  struct Fixture {
    const char* name;
    hunch::Arch arch;
    bool        int8;
    bool        conversion;  // a conversion head (goal: purchase) and calibration keys
    bool        sessions;    // session inputs, session gap 600 s: fixture_events() splits 3 sessions
    bool        terms = false;  // copy terms and a transition table (up to 8 successors per action)
    bool        attrs = false;  // attribute columns attr0 (12 categories) and attr1 (numeric, 6 buckets)
    bool        counts = false;  // a counts-only action head (hunch.head.action.counts; with terms)
  } fixtures[] = {
      {"tiny-lstm-attn.hunch", hunch::Arch::LSTM_ATTN, true, false, false},
      {"tiny-lstm-attn-f32.hunch", hunch::Arch::LSTM_ATTN, false, false, false},
      {"tiny-transformer.hunch", hunch::Arch::TRANSFORMER, true, false, false},
      {"tiny-transformer-conversion.hunch", hunch::Arch::TRANSFORMER, true, true, false},
      {"tiny-lstm-attn-sessions.hunch", hunch::Arch::LSTM_ATTN, true, true, true},
      {"tiny-transformer-terms.hunch", hunch::Arch::TRANSFORMER, true, true, true, true},
      {"tiny-transformer-attrs.hunch", hunch::Arch::TRANSFORMER, true, true, true, true, true},
      {"tiny-transformer-counts.hunch", hunch::Arch::TRANSFORMER, true, true, true, true, false, true},
  };
  for (const auto& f : fixtures) {
    hunch_test::ModelSpec s;
    s.hyper.arch = f.arch;
    s.int8 = f.int8;
    s.hyper.vocab_size = 300;
    s.hyper.type_count = 5;
    s.hyper.embed = 32;
    s.hyper.hidden = 48;
    s.hyper.attn_size = 32;
    s.hyper.window = f.arch == hunch::Arch::LSTM_ATTN ? 16 : 32;
    s.hyper.layers = 2;
    s.hyper.heads = 2;
    s.hyper.ffn = 64;
    s.seed = 2024;
    if (f.conversion) {
      s.hyper.conversion = 1;
      s.calibration.exit_a = 0.8f;
      s.calibration.exit_b = -0.3f;
      s.calibration.conversion_a = 1.3f;
      s.calibration.conversion_b = 0.2f;
      s.calibration.type_temperature = 1.5f;
    }
    if (f.sessions) {
      s.hyper.session_inputs = 1;
      s.session_gap = 600;
    }
    if (f.terms) {
      s.hyper.copy = 1;
      s.transition_successors = 8;
    }
    if (f.counts) s.hyper.action_counts = 1;
    if (f.attrs) {
      s.attr_sizes = {12, 6};
      s.attr_numeric = {false, true};
    }
    auto bytes = hunch_test::build_model(s);
    const std::string path = dir + "/" + f.name;
    FILE* out = bytes.empty() ? nullptr : std::fopen(path.c_str(), "wb");
    bool ok = out && std::fwrite(bytes.data(), 1, bytes.size(), out) == bytes.size();
    if (out) ok = std::fclose(out) == 0 && ok;
    if (!ok) {
      std::fprintf(stderr, "make-fixtures: cannot write %s\n", path.c_str());
      return 1;
    }
    std::printf("%s: %zu bytes\n", path.c_str(), bytes.size());
    std::unique_ptr<hunch::Model> model;
    if (hunch::Error e = hunch::Model::load(bytes.data(), bytes.size(), &model)) {
      std::fprintf(stderr, "make-fixtures: %s\n", e.message.c_str());
      return 1;
    }
    const std::string golden = hunch_test::golden_text(*model);
    const std::string gpath = path.substr(0, path.size() - 6) + ".golden";
    FILE* g = std::fopen(gpath.c_str(), "wb");
    if (!g || std::fputs(golden.c_str(), g) < 0 || std::fclose(g) != 0) {
      std::fprintf(stderr, "make-fixtures: cannot write %s\n", gpath.c_str());
      return 1;
    }
  }
  return 0;
}
