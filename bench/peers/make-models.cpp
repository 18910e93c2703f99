// Writes random-weight .hunch models for the peer benchmark: the default shapes with the
// vocabulary and attention window chosen on the command line, as an f32 file (what the peers'
// ONNX / tfjs graphs are exported from) and an int8 file (what hunch ships). Both come from the
// same seed, so the int8 file is the f32 file quantised row by row — the pair a trained model
// would give through `hunch train` + quantisation. Weights do not change timing.
//
// usage: make-models OUT_PREFIX lstm-attn|transformer VOCAB WINDOW [tied|counts]
//        tied: a tied head (hunch.head.action.tied: no head.action.w, the head uses emb.action)
//        counts: a counts-only action head (hunch.head.action.counts, as `hunch train` ships on
//        sparse logs) with the copy terms and up to 64 random successors per action (the count
//        head's default transition budget)
//        writes OUT_PREFIX-f32.hunch and OUT_PREFIX-int8.hunch, prints their sizes
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "hunch/model.h"
#include "model-builder.h"

namespace {

int write_one(const std::string& path, const hunch_test::ModelSpec& spec) {
  const std::vector<uint8_t> bytes = hunch_test::build_model(spec);
  // Load it back: a file the core refuses would make every figure downstream meaningless.
  std::unique_ptr<hunch::Model> model;
  if (hunch::Error e = hunch::Model::load(bytes.data(), bytes.size(), &model)) {
    std::fprintf(stderr, "make-models: %s does not load: %s\n", path.c_str(), e.message.c_str());
    return 1;
  }
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() || std::fclose(f) != 0) {
    std::fprintf(stderr, "make-models: cannot write %s\n", path.c_str());
    return 1;
  }
  std::printf("%s %zu\n", path.c_str(), bytes.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const bool tied = argc == 6 && std::string(argv[5]) == "tied";
  const bool counts = argc == 6 && std::string(argv[5]) == "counts";
  if (argc != 5 && !tied && !counts) {
    std::fprintf(stderr, "usage: make-models OUT_PREFIX lstm-attn|transformer VOCAB WINDOW [tied|counts]\n");
    return 2;
  }
  const std::string prefix = argv[1], arch = argv[2];
  if (arch != "lstm-attn" && arch != "transformer") {
    std::fprintf(stderr, "make-models: architecture must be lstm-attn or transformer, got '%s'\n", arch.c_str());
    return 2;
  }
  const long vocab = std::strtol(argv[3], nullptr, 10), window = std::strtol(argv[4], nullptr, 10);
  if (vocab < 2 || vocab > long(hunch::kMaxVocab) || window < 1 || window > long(hunch::kMaxWindow)) {
    std::fprintf(stderr, "make-models: vocabulary must be 2..%u and window 1..%u\n", hunch::kMaxVocab, hunch::kMaxWindow);
    return 2;
  }
  const hunch::Arch a = arch == "lstm-attn" ? hunch::Arch::LSTM_ATTN : hunch::Arch::TRANSFORMER;
  int rc = 0;
  for (bool int8 : {false, true}) {
    hunch_test::ModelSpec spec = hunch_test::default_spec(a, int8);
    spec.tied_head = tied;
    if (counts) {
      spec.hyper.action_counts = 1;
      spec.hyper.copy = 1;
      spec.transition_successors = 64;
    }
    spec.hyper.vocab_size = uint32_t(vocab);
    spec.hyper.window = uint32_t(window);
    rc |= write_one(prefix + (int8 ? "-int8.hunch" : "-f32.hunch"), spec);
  }
  return rc;
}
