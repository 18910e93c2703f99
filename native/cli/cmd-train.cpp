// hunch train EVENTS -o MODEL.hunch — reads an event log, trains one of the two architectures
// with Eigen (train/trainer.h), keeps the best validation epoch, quantises to int8 (unless
// --float) and writes the model file atomically.
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <cmath>
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
#include "train/report.h"
#include "train/trainer.h"

namespace hunch::cli {

namespace {

void on_sigint(int) { train::request_stop(); }

std::string base_name(const std::string& path) {
  size_t k = path.find_last_of('/');
  return k == std::string::npos ? path : path.substr(k + 1);
}

// Validation NDCG@10 / HR@10 of serialised model bytes through the core.
Error core_validation(const std::vector<uint8_t>& bytes, const train::Dataset& ds, unsigned threads,
                      bool exclude_seen, double* ndcg, double* hr) {
  std::unique_ptr<Model> model;
  if (Error e = Model::load(bytes.data(), bytes.size(), &model)) return e;
  return train::core_validation(*model, ds, exclude_seen, threads, ndcg, hr);
}

}  // namespace

int run_train(int argc, char** argv) {
  Args args("train", "EVENTS -o MODEL.hunch [options]",
            "Trains a next-action model on an event log (leave-one-out: the last event of each sequence\n"
            "is held out for testing, the second-last for validation and early stopping), then quantises\n"
            "it to int8 and writes MODEL.hunch.");
  args.option("output", "", "model file to write (also -o)");
  add_ingest_options(args);
  args.option("arch", "transformer", "architecture: transformer or lstm-attn");
  args.option("epochs", "200", "most epochs (early stopping and --time-budget usually end sooner)");
  args.option("batch", "128", "sequences per training step");
  args.option("lr", "3e-3", "Adam learning rate (β = 0.9, 0.98); 1e-3 stalls for epochs on ML-1M");
  args.option("warmup", "50", "steps of linear learning-rate warm-up");
  args.option("lr-plateau", "0", "halve the learning rate after this many epochs without a better validation NDCG@10 (0 = constant rate)");
  args.option("clip", "5", "gradient-norm clipping (0 = off)");
  args.option("dropout", "0.2", "dropout rate while training");
  args.option("event-drop", "0", "probability of removing each input event while training (learns to predict across missing events)");
  args.option("lookahead", "1", "action targets per position: the next K events, weighted 1, d, d², … (predicts what comes soon)");
  args.option("lookahead-decay", "0.5", "weight ratio d between successive --lookahead targets");
  args.option("sampled-softmax", "0", "train the action head on this many log-uniformly drawn classes per step instead of the whole vocabulary (0 = full softmax; for vocabularies over ~100k)");
  args.option("embed", "64", "embedding size D");
  args.option("hidden", "128", "LSTM hidden size H (lstm-attn)");
  args.option("attn-size", "64", "attention size A (lstm-attn)");
  args.option("window", "", "attention window W (default 200 for transformer, 32 for lstm-attn)");
  args.option("layers", "2", "transformer layers L");
  args.option("heads", "1", "attention heads NH (transformer; must divide --embed)");
  args.option("ffn", "128", "feed-forward size F (transformer)");
  args.flag("tie", "share one matrix between emb.action and head.action.w while training (as SASRec)");
  args.option("max-len", "200", "train on the last N positions of each sequence");
  args.flag("random-crops", "each epoch, train on a random window of --max-len events of longer sequences (default: always the last)");
  args.option("type-weight", "", "weight of the next-type loss (default 1 when the log has event types, else 0)");
  args.option("exit-weight", "", "weight of the exit loss (default 1 with sessions (--session-gap > 0), else 0)");
  args.option("seed", "42", "seed for initialisation, shuffling and dropout");
  args.option("threads", "2", "threads (the batch is split between them)");
  args.option("patience", "5", "stop after this many epochs without a better validation NDCG@10 (0 = never)");
  args.option("time-budget", "0", "stop after the epoch that passes this many seconds of training (0 = none)");
  args.flag("exclude-seen", "validation ranks only actions not already in the history (the ML-1M protocol)");
  args.flag("mask-seen", "the action loss leaves out actions already in the sequence (not counted as negatives; for logs without repeats, with --exclude-seen)");
  args.flag("float", "write the float model (no int8 quantisation)");
  args.option("report", "", "also write an HTML report (training curves, quantisation) to this path");

  if (int exit_code = args.parse_or_exit(argc, argv); exit_code >= 0) return exit_code;
  std::string error;
  if (args.positional().size() != 1 || args.get("output").empty()) {
    std::fprintf(stderr, "hunch train: expected one EVENTS file and -o MODEL.hunch (see hunch train --help)\n");
    return 2;
  }
  const std::string events = args.positional()[0], output = args.get("output");

  train::IngestOptions iopt;
  train::TrainOptions topt;
  int64_t epochs, batch, embed, hidden, attn, layers, heads, ffn, max_len, seed, threads, patience, window = 0, warmup;
  double lr, dropout, budget, clip, event_drop, lookahead_decay;
  int64_t lookahead, sampled_softmax, lr_plateau;
  const std::string arch = args.get("arch");
  if (arch != "transformer" && arch != "lstm-attn") {
    std::fprintf(stderr, "hunch train: --arch: expected transformer or lstm-attn, got '%s'\n", arch.c_str());
    return 2;
  }
  const bool tf = arch == "transformer";
  const int64_t kW = kMaxWidth;
  if (!ingest_options_from_args(args, &iopt, &error) ||
      !args.get_int("epochs", 1, 100000, &epochs, &error) ||
      !args.get_int("batch", 1, 1 << 20, &batch, &error) ||
      !args.get_double("lr", 1e-7, 1.0, &lr, &error) ||
      !args.get_int("warmup", 0, 1 << 30, &warmup, &error) ||
      !args.get_double("clip", 0, 1e9, &clip, &error) ||
      !args.get_double("dropout", 0, 0.9, &dropout, &error) ||
      !args.get_double("event-drop", 0, 0.9, &event_drop, &error) ||
      !args.get_int("lookahead", 1, 16, &lookahead, &error) ||
      !args.get_int("sampled-softmax", 0, 1 << 20, &sampled_softmax, &error) ||
      !args.get_int("lr-plateau", 0, 100000, &lr_plateau, &error) ||
      !args.get_double("lookahead-decay", 0, 1, &lookahead_decay, &error) ||
      !args.get_int("embed", 1, kW, &embed, &error) ||
      !args.get_int("hidden", 1, kW, &hidden, &error) ||
      !args.get_int("attn-size", 1, kW, &attn, &error) ||
      (args.given("window") && !args.get_int("window", 1, kMaxWindow, &window, &error)) ||
      !args.get_int("layers", 1, kMaxLayers, &layers, &error) ||
      !args.get_int("heads", 1, kW, &heads, &error) ||
      !args.get_int("ffn", 1, kW, &ffn, &error) ||
      !args.get_int("max-len", 1, 1 << 20, &max_len, &error) ||
      !args.get_int("seed", 0, INT64_MAX, &seed, &error) ||
      !args.get_int("threads", 1, 256, &threads, &error) ||
      !args.get_int("patience", 0, 100000, &patience, &error) ||
      !args.get_double("time-budget", 0, 1e9, &budget, &error)) {
    std::fprintf(stderr, "hunch train: %s\n", error.c_str());
    return 2;
  }
  if (tf && embed % heads != 0) {
    std::fprintf(stderr, "hunch train: --heads %lld must divide --embed %lld\n", (long long)heads, (long long)embed);
    return 2;
  }

  // ---- data
  train::Dataset ds;
  train::IngestReport irep;
  auto t0 = std::chrono::steady_clock::now();
  if (Error e = train::ingest_file(events, iopt, &ds, &irep)) {
    std::fprintf(stderr, "hunch train: %s\n", e.message.c_str());
    return 1;
  }
  std::fputs(irep.to_text().c_str(), stdout);
  std::printf("  (read in %.2f s)\n\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());

  train::NetConfig& nc = topt.net;
  nc.arch = tf ? Arch::TRANSFORMER : Arch::LSTM_ATTN;
  nc.vocab = uint32_t(ds.actions.size());
  nc.types = uint32_t(ds.types.size());
  nc.gaps = uint32_t(ds.gap_edges.size() + 2);
  nc.embed = uint32_t(embed);
  nc.hidden = uint32_t(hidden);
  nc.attn_size = uint32_t(attn);
  nc.window = uint32_t(window ? window : (tf ? 200 : 32));
  nc.layers = uint32_t(layers);
  nc.heads = uint32_t(heads);
  nc.ffn = uint32_t(ffn);
  nc.dropout = float(dropout);
  nc.tie_embeddings = args.get_bool("tie");
  topt.epochs = uint32_t(epochs);
  topt.batch = uint32_t(batch);
  topt.lr = float(lr);
  topt.warmup_steps = uint32_t(warmup);
  topt.clip = float(clip);
  topt.event_drop = float(event_drop);
  topt.max_len = uint32_t(max_len);
  topt.random_crops = args.get_bool("random-crops");
  topt.seed = uint64_t(seed);
  topt.threads = uint32_t(threads);
  topt.patience = uint32_t(patience);
  topt.time_budget = budget;
  topt.exclude_seen = args.get_bool("exclude-seen");

  // Heads without signal get weight 0: no types in the log, or one sequence per user (its end
  // is where the log stops, not where the user left). With leave-one-out, the exit positives
  // come from sequences too short to evaluate (kept whole as training data): the held-out ends
  // of evaluated sequences are never shown to the model.
  bool has_types = false;
  for (uint16_t t : ds.type) has_types |= t != 0;
  double w;
  topt.weights.action = 1.0f;
  topt.weights.lookahead = uint32_t(lookahead);
  topt.weights.lookahead_decay = float(lookahead_decay);
  topt.weights.sampled_softmax = uint32_t(sampled_softmax);
  topt.weights.mask_seen = args.get_bool("mask-seen");
  topt.lr_plateau = uint32_t(lr_plateau);
  if (args.given("type-weight")) {
    if (!args.get_double("type-weight", 0, 1e6, &w, &error)) {
      std::fprintf(stderr, "hunch train: %s\n", error.c_str());
      return 2;
    }
    topt.weights.type = float(w);
  } else {
    topt.weights.type = has_types ? 1.0f : 0.0f;
  }
  uint64_t exit_positives = 0;
  for (const auto& s : train::training_samples(ds, topt.max_len)) exit_positives += s.ends;
  if (args.given("exit-weight")) {
    if (!args.get_double("exit-weight", 0, 1e6, &w, &error)) {
      std::fprintf(stderr, "hunch train: %s\n", error.c_str());
      return 2;
    }
    topt.weights.exit = float(w);
  } else {
    topt.weights.exit = (iopt.session_gap > 0 && exit_positives > 0) ? 1.0f : 0.0f;
  }
  if (ds.events() == 0) {
    std::fprintf(stderr, "hunch train: no usable events: every row was skipped (the cleaning report above says why)\n");
    return 1;
  }
  if (nc.vocab < 2) {
    std::fprintf(stderr, "hunch train: the vocabulary is empty (every action was rarer than --min-count)\n");
    return 1;
  }
  if (topt.weights.sampled_softmax >= nc.vocab) {
    std::fprintf(stderr, "hunch train: --sampled-softmax %u draws as many classes as the vocabulary has (%u) or more: "
                 "use the full softmax (--sampled-softmax 0)\n", topt.weights.sampled_softmax, nc.vocab);
    return 2;
  }

  auto net = train::make_net(nc, topt.seed);
  std::printf("model: %s, D=%u", arch.c_str(), nc.embed);
  if (tf) std::printf(" L=%u NH=%u F=%u", nc.layers, nc.heads, nc.ffn);
  else std::printf(" H=%u A=%u", nc.hidden, nc.attn_size);
  std::printf(" W=%u, V=%u T=%u G=%u, %zu parameters\n", nc.window, nc.vocab, nc.types, nc.gaps, net->params.size());
  std::printf("loss weights: action %.3g, type %.3g, exit %.3g (%llu exit positives)\n", topt.weights.action,
              topt.weights.type, topt.weights.exit, (unsigned long long)exit_positives);
  std::fflush(stdout);

  // ---- train (Ctrl-C stops after the current batch; a second Ctrl-C kills)
  struct sigaction sa = {}, old_sa = {};
  sa.sa_handler = on_sigint;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_sa);
  train::clear_stop();
  train::TrainResult tres;
  std::vector<train::EpochRecord> curve;
  Error terr = train::train(ds, topt, net.get(), &tres, [&](const train::EpochLog& l, const train::TrainResult& r) {
    if (l.partial) {
      std::printf("epoch %3u  interrupted after %.1f s\n", l.epoch, l.seconds);
    } else {
      std::printf("epoch %3u  loss %.4f  valid NDCG@10 %.4f HR@10 %.4f  %.1f s (%.0f ev/s) + valid %.1f s%s\n",
                  l.epoch, l.loss, l.valid_ndcg_10, l.valid_hr_10, l.seconds, l.events_per_s, l.valid_seconds,
                  r.best_epoch == l.epoch ? "  *" : "");
      if (r.log.size() >= 2 && l.lr < r.log[r.log.size() - 2].lr)
        std::printf("           learning rate now %.3g (no better validation for a while)\n", l.lr);
      curve.push_back({int(l.epoch), l.loss, l.valid_ndcg_10, l.seconds});
    }
    std::fflush(stdout);
  });
  sigaction(SIGINT, &old_sa, nullptr);
  if (terr) {
    std::fprintf(stderr, "hunch train: %s\n", terr.message.c_str());
    return 1;
  }
  if (tres.interrupted) std::printf("stopped by Ctrl-C; keeping the best epoch\n");
  else if (tres.early_stopped) std::printf("early stop: no better validation NDCG@10 for %u epochs\n", topt.patience);
  else if (tres.out_of_time) std::printf("time budget reached\n");
  if (tres.best_epoch == 0) std::printf("warning: no epoch completed; writing the current weights\n");
  else
    std::printf("best epoch %u: valid NDCG@10 %.4f HR@10 %.4f; %.1f s per epoch\n", tres.best_epoch,
                tres.best_valid_ndcg_10, tres.best_valid_hr_10, tres.seconds_per_epoch);

  // ---- export
  ModelWriter fw;
  train::write_network(*net, ds, &fw);
  fw.set_u32("hunch.train.epochs", uint32_t(curve.size()));
  fw.set_u32("hunch.train.best_epoch", tres.best_epoch);
  fw.set_f32("hunch.train.valid_ndcg_10", float(tres.best_valid_ndcg_10));
  fw.set_f32("hunch.train.valid_hr_10", float(tres.best_valid_hr_10));
  fw.set_f32("hunch.train.seconds_per_epoch", float(tres.seconds_per_epoch));
  fw.set_string("hunch.train.data", base_name(events));
  fw.set_u64("hunch.train.sequences", ds.sequences());
  fw.set_u64("hunch.train.events", ds.events());
  fw.set_u32("hunch.train.exclude_seen", topt.exclude_seen ? 1 : 0);
  fw.set_u32("hunch.train.seed", uint32_t(topt.seed));
  fw.set_f32("hunch.train.lr", topt.lr);
  fw.set_u32("hunch.train.batch", topt.batch);
  fw.set_f32("hunch.train.dropout", nc.dropout);
  fw.set_f32("hunch.train.event_drop", topt.event_drop);
  fw.set_u32("hunch.train.lookahead", topt.weights.lookahead);
  fw.set_f32("hunch.train.lookahead_decay", topt.weights.lookahead_decay);
  fw.set_u32("hunch.train.sampled_softmax", topt.weights.sampled_softmax);
  fw.set_u32("hunch.train.lr_plateau", topt.lr_plateau);
  fw.set_u32("hunch.train.max_len", topt.max_len);
  fw.set_u32("hunch.train.random_crops", topt.random_crops ? 1 : 0);
  fw.set_u32("hunch.train.mask_seen", topt.weights.mask_seen ? 1 : 0);
  std::vector<float> loss_curve, ndcg_curve;
  for (const auto& c : curve) {
    loss_curve.push_back(float(c.train_loss));
    ndcg_curve.push_back(float(c.valid_ndcg10));
  }
  fw.set_floats("hunch.train.loss_curve", loss_curve);
  fw.set_floats("hunch.train.valid_ndcg_10_curve", ndcg_curve);
  std::vector<uint8_t> fbytes;
  if (Error e = fw.serialize(&fbytes)) {
    std::fprintf(stderr, "hunch train: %s\n", e.message.c_str());
    return 1;
  }
  const unsigned th = topt.threads;
  train::QuantizationReport qrep;
  qrep.float_bytes = double(fbytes.size());
  std::vector<uint8_t> out_bytes = fbytes;
  if (!args.get_bool("float")) {
    ModelFile mf;
    if (Error e = read_model_file(fbytes.data(), fbytes.size(), &mf)) {
      std::fprintf(stderr, "hunch train: re-reading the float model: %s\n", e.message.c_str());
      return 1;
    }
    ModelWriter qw;
    std::vector<train::TensorQuantization> qt;
    if (Error e = train::quantize_model(mf, &qw, &qt)) {
      std::fprintf(stderr, "hunch train: %s\n", e.message.c_str());
      return 1;
    }
    std::printf("\nint8 quantisation (per-row scales), max round-trip error per tensor:\n");
    for (const auto& t : qt) {
      std::printf("  %-22s (%llu, %llu)  max |err| %.3g  (max |w| %.3g)\n", t.name.c_str(),
                  (unsigned long long)t.rows, (unsigned long long)t.cols, t.max_error, t.max_abs);
      qrep.tensors.push_back({t.name, t.max_error});
    }
    std::vector<uint8_t> qbytes;
    if (Error e = qw.serialize(&qbytes)) {
      std::fprintf(stderr, "hunch train: %s\n", e.message.c_str());
      return 1;
    }
    double fn = 0, fh = 0, qn = 0, qh = 0;
    auto v0 = std::chrono::steady_clock::now();
    if (Error e = core_validation(fbytes, ds, th, topt.exclude_seen, &fn, &fh)) {
      std::fprintf(stderr, "hunch train: validating the float model: %s\n", e.message.c_str());
      return 1;
    }
    if (Error e = core_validation(qbytes, ds, th, topt.exclude_seen, &qn, &qh)) {
      std::fprintf(stderr, "hunch train: validating the int8 model: %s\n", e.message.c_str());
      return 1;
    }
    std::printf("validation through the core: float NDCG@10 %.4f HR@10 %.4f | int8 NDCG@10 %.4f HR@10 %.4f "
                "(%+.2f%% NDCG@10)  [%.1f s]\n",
                fn, fh, qn, qh, fn > 0 ? 100.0 * (qn - fn) / fn : 0.0,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - v0).count());
    qrep.float_metrics = {{"NDCG@10", fn}, {"HR@10", fh}};
    qrep.int8_metrics = {{"NDCG@10", qn}, {"HR@10", qh}};
    qw.set_f32("hunch.train.valid_ndcg_10_float", float(fn));
    qw.set_f32("hunch.train.valid_ndcg_10_int8", float(qn));
    if (Error e = qw.serialize(&out_bytes)) {
      std::fprintf(stderr, "hunch train: %s\n", e.message.c_str());
      return 1;
    }
    qrep.int8_bytes = double(out_bytes.size());
  }
  if (Error e = train::write_file_atomic(output, out_bytes)) {
    std::fprintf(stderr, "hunch train: %s\n", e.message.c_str());
    return 1;
  }
  std::printf("wrote %s: %zu bytes (%s", output.c_str(), out_bytes.size(), args.get_bool("float") ? "float" : "int8");
  if (!args.get_bool("float")) std::printf("; float would be %zu bytes, %.0f%%", fbytes.size(), 100.0 * out_bytes.size() / fbytes.size());
  std::printf(")\n");

  if (args.given("report")) {
    train::ReportData rd;
    rd.title = "hunch train: " + base_name(events) + " → " + base_name(output);
    rd.facts.push_back({"architecture", arch});
    rd.facts.push_back({"parameters", std::to_string(net->params.size())});
    rd.facts.push_back({"best epoch", std::to_string(tres.best_epoch)});
    rd.facts.push_back({"seconds per epoch", std::to_string(tres.seconds_per_epoch)});
    rd.ingest = &irep;
    rd.epochs = curve;
    if (!args.get_bool("float")) rd.quantization = &qrep;
    if (Error e = train::write_report(args.get("report"), rd)) {
      std::fprintf(stderr, "hunch train: %s\n", e.message.c_str());
      return 1;
    }
    std::printf("report written to %s\n", args.get("report").c_str());
  }
  return 0;
}

}  // namespace hunch::cli
