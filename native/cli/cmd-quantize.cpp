// hunch quantize IN.hunch -o OUT.hunch — stores every weight matrix of a float model as int8
// with one scale per row (vectors stay f32), prints the largest round-trip error per tensor and,
// with --events, the validation metrics of both files through the core.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/ingest-args.h"
#include "hunch/format.h"
#include "hunch/model.h"
#include "train/eval.h"
#include "train/export.h"
#include "train/ingest.h"

namespace hunch::cli {

namespace {

struct Metrics {
  double ndcg = 0, hr = 0;
};

}  // namespace

int run_quantize(int argc, char** argv) {
  Args args("quantize", "IN.hunch -o OUT.hunch [--events FILE [ingest options]]",
            "Converts a float model to int8 weights with one f32 scale per row (biases, layer norms and\n"
            "recency slopes stay f32). Prints the largest round-trip error of every tensor; with --events,\n"
            "also the validation NDCG@10 / HR@10 of both models (leave-one-out, through the core).");
  args.option("output", "", "model file to write (also -o)");
  args.option("events", "", "event log for the before/after validation metrics");
  args.flag("exclude-seen", "rank only actions not already in the history (the ML-1M protocol)");
  args.option("threads", "2", "evaluation threads");
  args.flag("front-code-names", "store the action names front-coded (tensor vocab.actions.fc, about a quarter of the bytes "
                                "at 100k actions), the actions renumbered into name order (docs/format.md)");
  args.flag("int4-embeddings", "store emb.action (and head.action.w) as int4 rows with a one-byte row scale and "
                               "head.action.b as u8 codes, decoded at load (docs/format.md, \"Packed tables\"): "
                               "with --front-code-names and a tied head, a 100k-action model under 4 MB");
  add_ingest_options(args);
  if (int exit_code = args.parse_or_exit(argc, argv); exit_code >= 0) return exit_code;
  std::string error;
  if (args.positional().size() != 1 || args.get("output").empty()) {
    std::fprintf(stderr, "hunch quantize: expected IN.hunch and -o OUT.hunch (see hunch quantize --help)\n");
    return 2;
  }
  int64_t threads = 2;
  train::IngestOptions iopt;
  if (!args.get_int("threads", 1, 256, &threads, &error) || !ingest_options_from_args(args, &iopt, &error)) {
    std::fprintf(stderr, "hunch quantize: %s\n", error.c_str());
    return 2;
  }
  const std::string in_path = args.positional()[0], out_path = args.get("output");

  std::vector<uint8_t> in_bytes;
  if (Error e = read_model_bytes(in_path, &in_bytes)) {
    std::fprintf(stderr, "hunch quantize: %s\n", e.message.c_str());
    return 1;
  }
  // Load through the model loader first: it checks the architecture, not only the container.
  std::unique_ptr<Model> in_model;
  if (Error e = Model::load(in_bytes.data(), in_bytes.size(), &in_model)) {
    std::fprintf(stderr, "hunch quantize: %s: %s\n", in_path.c_str(), e.message.c_str());
    return 1;
  }
  ModelWriter qw;
  std::vector<train::TensorQuantization> report;
  if (Error e = train::quantize_model(in_model->file(), &qw, &report)) {
    std::fprintf(stderr, "hunch quantize: %s\n", e.message.c_str());
    return 1;
  }
  if (report.empty()) std::printf("%s has no float matrices left to quantise; copying it\n", in_path.c_str());
  else std::printf("int8 quantisation (per-row scales), max round-trip error per tensor:\n");
  for (const auto& t : report)
    std::printf("  %-22s (%llu, %llu)  max |err| %.3g  (max |w| %.3g)\n", t.name.c_str(),
                (unsigned long long)t.rows, (unsigned long long)t.cols, t.max_error, t.max_abs);
  std::vector<uint8_t> out_bytes;
  if (Error e = qw.serialize(&out_bytes)) {
    std::fprintf(stderr, "hunch quantize: %s\n", e.message.c_str());
    return 1;
  }
  if (args.get_bool("front-code-names")) {  // renumbered before the validation, which sees the file written
    ModelFile mf;
    ModelWriter fw;
    Error e = read_model_file(out_bytes.data(), out_bytes.size(), &mf);
    if (!e) e = train::front_code_names(mf, &fw);
    if (!e) e = fw.serialize(&out_bytes);
    if (e) {
      std::fprintf(stderr, "hunch quantize: %s\n", e.message.c_str());
      return 1;
    }
    qw = fw;
    std::printf("action names front-coded (vocab.actions.fc), ids renumbered into name order\n");
  }

  if (args.get_bool("int4-embeddings")) {  // after the renumbering, which permutes f32 / int8 rows only
    ModelFile mf;
    ModelWriter pw;
    std::vector<train::TensorQuantization> packed;
    Error e = read_model_file(out_bytes.data(), out_bytes.size(), &mf);
    if (!e) e = train::pack_action_tables(mf, &pw, &packed);
    if (!e) e = pw.serialize(&out_bytes);
    if (e) {
      std::fprintf(stderr, "hunch quantize: %s\n", e.message.c_str());
      return 1;
    }
    qw = pw;
    std::printf("action tables packed (int4 rows, u8 bias), max round-trip error per tensor:\n");
    for (const auto& t : packed)
      std::printf("  %-22s (%llu, %llu)  max |err| %.3g  (max |w| %.3g)\n", t.name.c_str(),
                  (unsigned long long)t.rows, (unsigned long long)t.cols, t.max_error, t.max_abs);
  }

  if (args.given("events")) {
    train::FixedVocabulary vocab = train::vocabulary_of(*in_model);
    iopt.vocabulary = &vocab;
    train::Dataset ds;
    train::IngestReport irep;
    if (Error e = train::ingest_file(args.get("events"), iopt, &ds, &irep)) {
      std::fprintf(stderr, "hunch quantize: %s\n", e.message.c_str());
      return 1;
    }
    std::unique_ptr<Model> out_model;
    if (Error e = Model::load(out_bytes.data(), out_bytes.size(), &out_model)) {
      std::fprintf(stderr, "hunch quantize: the int8 model does not load: %s\n", e.message.c_str());
      return 1;
    }
    Metrics before, after;
    const bool ex = args.get_bool("exclude-seen");
    auto t0 = std::chrono::steady_clock::now();
    if (Error e = train::core_validation(*in_model, ds, ex, unsigned(threads), &before.ndcg, &before.hr)) {
      std::fprintf(stderr, "hunch quantize: %s\n", e.message.c_str());
      return 1;
    }
    // Front-coded names renumbered the actions: the int8 model reads the log in its own ids.
    train::Dataset out_ds;
    if (out_model->front_coded_names()) {
      train::FixedVocabulary out_vocab = train::vocabulary_of(*out_model);
      iopt.vocabulary = &out_vocab;
      train::IngestReport out_rep;
      if (Error e = train::ingest_file(args.get("events"), iopt, &out_ds, &out_rep)) {
        std::fprintf(stderr, "hunch quantize: %s\n", e.message.c_str());
        return 1;
      }
    }
    if (Error e = train::core_validation(*out_model, out_model->front_coded_names() ? out_ds : ds, ex,
                                         unsigned(threads), &after.ndcg, &after.hr)) {
      std::fprintf(stderr, "hunch quantize: %s\n", e.message.c_str());
      return 1;
    }
    std::printf("validation (%llu sequences): before NDCG@10 %.4f HR@10 %.4f | after NDCG@10 %.4f HR@10 %.4f "
                "(%+.2f%% NDCG@10)  [%.1f s]\n",
                (unsigned long long)ds.sequences(), before.ndcg, before.hr, after.ndcg, after.hr,
                before.ndcg > 0 ? 100.0 * (after.ndcg - before.ndcg) / before.ndcg : 0.0,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    qw.set_f32("hunch.train.valid_ndcg_10_float", float(before.ndcg));
    qw.set_f32("hunch.train.valid_ndcg_10_int8", float(after.ndcg));
    if (Error e = qw.serialize(&out_bytes)) {
      std::fprintf(stderr, "hunch quantize: %s\n", e.message.c_str());
      return 1;
    }
  }
  if (Error e = train::write_file_atomic(out_path, out_bytes)) {
    std::fprintf(stderr, "hunch quantize: %s\n", e.message.c_str());
    return 1;
  }
  std::printf("wrote %s: %zu bytes (%.0f%% of %zu)\n", out_path.c_str(), out_bytes.size(),
              100.0 * double(out_bytes.size()) / double(in_bytes.size()), in_bytes.size());
  return 0;
}

}  // namespace hunch::cli
