// hunch train EVENTS -o MODEL.hunch — reads an event log, trains one of the two architectures
// with Eigen (train/trainer.h), keeps the best validation epoch, quantises to int8 (unless
// --float) and writes the model file atomically.
//
// run_train is the sequence of steps below: parse the flags (TrainFlags), read the log, build
// the network config (net_config_from) and the trainer's options with the loss weights
// (train/loss-policy.h), check the data can be trained on, train, export, report. Each step
// returns kGoOn, or the exit code after printing why it stopped.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/ingest-args.h"
#include "hunch/format.h"
#include "hunch/model.h"
#include "train/checkpoint.h"
#include "train/eval.h"
#include "train/export.h"
#include "train/ingest.h"
#include "train/loss-policy.h"
#include "train/privacy.h"
#include "train/report.h"
#include "train/trainer.h"
#include "train/transitions.h"

namespace hunch::cli {

namespace {

constexpr int kGoOn = -1;  // a step's "no error": run_train goes on to the next step

// Prints "hunch train: <message>" on stderr and returns exit_code (1 runtime error, 2 usage).
[[gnu::format(printf, 2, 3)]] int fail(int exit_code, const char* format, ...) {
  std::fputs("hunch train: ", stderr);
  va_list ap;
  va_start(ap, format);
  std::vfprintf(stderr, format, ap);
  va_end(ap);
  std::fputc('\n', stderr);
  return exit_code;
}

void on_sigint(int) { train::request_stop(); }

std::string base_name(const std::string& path) {
  size_t k = path.find_last_of('/');
  return k == std::string::npos ? path : path.substr(k + 1);
}

// Validation NDCG@10 / HR@10 of serialised model bytes through the core (leave-one-out, or the
// validation sessions' points with the session protocol).
// Under mpirun every process scores its own users (collective).
Error core_validation(const std::vector<uint8_t>& bytes, const train::Dataset& ds, unsigned threads,
                      bool exclude_seen, const train::SessionSplit* sessions, double* ndcg, double* hr,
                      const std::vector<uint8_t>* only, train::Collective* collective) {
  std::unique_ptr<Model> model;
  if (Error e = Model::load(bytes.data(), bytes.size(), &model)) return e;
  if (!sessions) return train::core_validation(*model, ds, exclude_seen, threads, ndcg, hr, only, collective);
  train::SessionEvalOptions so;
  so.test = false;
  so.baselines = false;
  so.threads = threads;
  so.collective = collective;
  train::SessionEvalResult r;
  if (Error e = train::evaluate_sessions(ds, *sessions, train::model_session_scorer(*model, ds, threads), so, &r))
    return e;
  const train::SessionMethod* m = r.valid.find("model");
  *ndcg = m && m->rank.users ? m->rank.ndcg_at(10) : 0;
  *hr = m && m->rank.users ? m->rank.hr_at(10) : 0;
  return {};
}

// ---- flags

// Every flag of `hunch train`, read and range-checked (defaults in declare_train_flags).
struct TrainFlags {
  std::string                events, output;  // events: the first input, for names
  std::vector<std::string>   inputs;          // EVENTS as given: files, directories, globs
  bool                       dry_run = false; // --dry-run: the cleaning report only
  bool                       shard = false;   // --shard: under mpirun, each process holds its own users only
  std::optional<std::string> report;  // --report PATH
  train::IngestOptions       ingest;
  std::string                arch;    // "transformer" or "lstm-attn"
  // The network (net_config_from). window 0: the architecture's default.
  int64_t embed = 0, hidden = 0, attn_size = 0, window = 0, copy_window = 0, layers = 0, heads = 0, ffn = 0;
  double  dropout = 0;
  bool    tie = false;
  // The trainer (trainer_options).
  int64_t epochs = 0, batch = 0, warmup = 0, lr_plateau = 0, max_len = 0, seed = 0, threads = 0, patience = 0;
  double  lr = 0, clip = 0, event_drop = 0, time_budget = 0;
  int64_t checkpoint_every = 0;
  std::string checkpoint;  // --checkpoint, defaulted to the output + ".ckpt"
  bool    resume = false;
  bool    random_crops = false, exclude_seen = false;
  // The losses (train::loss_weights).
  train::LossRequest loss;
  // A bad --type-weight or --exit-weight: reported after the log is read and its cleaning
  // report printed (check_trainable), as it always has been.
  std::string loss_error;
  bool        float_model = false;  // --float
  // The protocol (--protocol): leave-one-out, or sessions (train/sessions.h).
  bool        sessions = false;
  double      test_fraction = 0.1;
  std::vector<std::string> goal_types;  // --goal-type (comma-separated); empty = found by name
  bool        no_session_inputs = false;  // --no-session-inputs
  bool        no_copy = false;            // --no-copy
  int64_t     transitions = 16;           // --transitions: most successors per action (0 = no table)
  train::TrainOptions::ItemWeights item_weights = train::TrainOptions::ItemWeights::AUTO;  // --item-weights
  int64_t     transition_bytes = 0;       // --transition-bytes (0 = 12% of the int8 network)
  // Privacy (train/privacy.h): --holdout-users, --dp-epsilon, --dp-delta (0 = 1 / training
  // users), --dp-clip.
  double      holdout_users = 0;
  double      dp_epsilon = 0, dp_delta = 0, dp_clip = 1;
  // --dp-count-share (the share of ε the count start's release is set to spend alone; 0 = no
  // count start under DP), --dp-count-clip (one user's L2 norm in it): privacy.h dp_counts.
  double      dp_count_share = 0.5, dp_count_clip = 6;

  bool transformer() const { return arch == "transformer"; }
};

void declare_train_flags(Args& args) {
  args.option("output", "", "model file to write (also -o)");
  add_ingest_options(args);
  add_protocol_options(args);
  args.option("arch", "transformer", "architecture: transformer or lstm-attn");
  args.option("epochs", "200", "most epochs (early stopping and --time-budget usually end sooner)");
  args.option("batch", "", "sequences per training step (default 128; 32 with --protocol sessions, whose sequences are whole users)");
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
  args.option("copy-window", "", "how many of the last events the copy and attribute-match terms read (Wc; default: W). Only ids are kept for them, so Wc may exceed W: repeats of older events still count");
  args.option("layers", "2", "transformer layers L");
  args.option("heads", "1", "attention heads NH (transformer; must divide --embed)");
  args.option("ffn", "128", "feed-forward size F (transformer)");
  args.flag("tie", "share one matrix between emb.action and head.action.w while training (as SASRec)");
  args.option("max-len", "200", "train on the last N positions of each sequence");
  args.flag("random-crops", "each epoch, train on a random window of --max-len events of longer sequences (default: always the last)");
  args.option("type-weight", "", "weight of the next-type loss (default 1 when the log has event types, else 0)");
  args.option("exit-weight", "", "weight of the exit loss (default 1 with sessions (--session-gap > 0), 3 with --protocol sessions, else 0)");
  args.option("conversion-weight", "", "weight of the conversion loss (default 3 when the log has goal events and --protocol sessions)");
  args.option("seed", "42", "seed for initialisation, shuffling and dropout");
  args.option("threads", "2", "threads (the batch is split between them)");
  args.option("patience", "5", "stop after this many epochs without a better validation NDCG@10 (sessions protocol: NDCG@10 + exit and conversion AUC; 0 = never)");
  args.option("time-budget", "0", "stop after the epoch that passes this many seconds of training (0 = none)");
  args.option("checkpoint-every", "0", "write a checkpoint after every N validated epochs (0 = none)");
  args.option("checkpoint", "", "the checkpoint file (default: the output path + .ckpt)");
  args.flag("resume", "go on from the checkpoint when it exists (same log and options: the uninterrupted run's result)");
  args.flag("exclude-seen", "validation ranks only actions not already in the history (the ML-1M protocol)");
  args.flag("mask-seen", "the action loss leaves out actions already in the sequence (not counted as negatives; for logs without repeats, with --exclude-seen)");
  args.flag("float", "write the float model (no int8 quantisation)");
  args.flag("shard", "under mpirun: each process reads every record but keeps and trains on its own users' events "
            "only (the log sharded by user), so memory per process divides by the processes; each process shuffles "
            "its own samples, so the run follows one process's in distribution, not figure for figure "
            "(docs/training-at-scale.md)");
  args.flag("dry-run", "read and clean the log, print the cleaning report (and with --protocol sessions the split) and stop (no -o needed, nothing written); under mpirun each process keeps only its own users' events (the log sharded by user), the report the same");
  args.option("transitions", "16", "keep at most this many counted successors per action in the model's transition table (0 = no table)");
  args.option("transition-bytes", "0", "most bytes of the transition table (0 = 12% of the int8 network's bytes; the most frequent pairs are kept)");
  args.option("item-weights", "auto", "the network's per-action weights: train, freeze (keep the counts' start: popularity, copy and transition terms), count (the count head: next action from the counts alone, ranked for the top ten; the other heads train), or auto (train; when no epoch beats the start's validation NDCG@10, train again with them frozen; when no epoch beats the count head's, use it; the best is kept)");
  args.flag("no-copy", "leave out the copy terms (the action head's direct score for the actions in the window: repeats)");
  args.flag("no-session-inputs", "sessions protocol: leave out the position-in-session and sessions-so-far inputs");
  args.option("report", "", "also write an HTML report (training curves, quantisation) to this path");
  args.option("holdout-users", "", "leave this fraction of users (drawn by a hash of --seed and the user id) out of training, "
              "for hunch eval --membership to compare with (default 0; 0.1 with --dp-epsilon)");
  args.option("dp-epsilon", "0", "differentially private training (DP-SGD, one user = the privacy unit): stop at this ε "
              "(0 = off); plans --epochs epochs (default 10 with it), counts the count-based start's popularity and transition "
              "table with Gaussian noise in the same ε (--dp-count-share), and validates on the held-out users only");
  args.option("dp-count-share", "0.5", "--dp-epsilon: the count start's noised counts are set to spend this share of ε alone "
              "(composed with DP-SGD, the total is ε); 0 = no count start and no transition table under DP");
  args.option("dp-count-clip", "6", "--dp-epsilon: one user's contribution to the noised counts (1 per distinct action and "
              "per distinct successor pair) is scaled to at most this L2 norm");
  args.option("dp-delta", "", "the δ of --dp-epsilon (default 1 / training users)");
  args.option("dp-clip", "1", "--dp-epsilon: each user's gradient is clipped to this L2 norm");
}

// --type-weight / --exit-weight: left unset when not given. False + *error on a bad value.
bool optional_weight(const Args& args, const char* name, std::optional<double>* out, std::string* error) {
  if (!args.given(name)) return true;
  double w;
  if (!args.get_double(name, 0, 1e6, &w, error)) return false;
  *out = w;
  return true;
}

// argv → *o. Returns kGoOn, or the exit code after printing (0 after --help, 2 on a usage error).
int parse_train_flags(int argc, char** argv, TrainFlags* o) {
  Args args("train", "EVENTS... -o MODEL.hunch [options]",
            "Trains a next-action model on an event log (leave-one-out: the last event of each sequence\n"
            "is held out for testing, the second-last for validation and early stopping), then quantises\n"
            "it to int8 and writes MODEL.hunch. EVENTS: CSV or TSV (delimiter and header found by content;\n"
            "--columns names a file without one), JSON Lines, GA4's BigQuery export, Segment calls, one JSON\n"
            "record per session (--events-field), a web server's access log, 'user item' lines or\n"
            "'user item item …' lists, gzip or not;\n"
            "the format is found by extension and content (--format forces one). Several files, a directory of\n"
            "parts or a quoted glob ('events/part-*.json.gz') are read as one log. Under mpirun (a build with\n"
            "MPI) the ranks train data-parallel: docs/training-at-scale.md.");
  declare_train_flags(args);
  if (int exit_code = args.parse_or_exit(argc, argv); exit_code >= 0) return exit_code;
  o->dry_run = args.get_bool("dry-run");
  o->shard = args.get_bool("shard");
  if (args.positional().empty() || (args.get("output").empty() && !o->dry_run))
    return fail(2, "expected EVENTS (files, directories or globs) and -o MODEL.hunch (see hunch train --help)");
  o->inputs = args.positional();
  o->events = args.positional()[0];
  o->output = args.get("output");
  o->arch = args.get("arch");
  if (!hunch::find_arch(o->arch))
    return fail(2, "--arch: expected transformer or lstm-attn, got '%s'", o->arch.c_str());

  std::string error;
  int64_t lookahead, sampled_softmax;
  double lookahead_decay;
  const int64_t kW = kMaxWidth;
  if (!ingest_options_from_args(args, &o->ingest, &error) ||
      !protocol_options_from_args(args, &o->sessions, &o->test_fraction, &o->goal_types, &o->ingest, &error) ||
      !args.get_double("dp-epsilon", 0, 1e6, &o->dp_epsilon, &error) ||
      !(args.given("epochs") ? args.get_int("epochs", 1, 100000, &o->epochs, &error)
                             : (o->epochs = o->dp_epsilon > 0 ? 10 : 200, true)) ||
      !(args.given("holdout-users") ? args.get_double("holdout-users", 0, 0.9, &o->holdout_users, &error)
                                    : (o->holdout_users = o->dp_epsilon > 0 ? 0.1 : 0, true)) ||
      (args.given("dp-delta") && !args.get_double("dp-delta", 1e-300, 0.999, &o->dp_delta, &error)) ||
      !args.get_double("dp-clip", 1e-9, 1e9, &o->dp_clip, &error) ||
      !args.get_double("dp-count-share", 0, 0.95, &o->dp_count_share, &error) ||
      !args.get_double("dp-count-clip", 1e-3, 1e6, &o->dp_count_clip, &error) ||
      !(args.given("batch") ? args.get_int("batch", 1, 1 << 20, &o->batch, &error)
                            : (o->batch = args.get("protocol") == "sessions" ? 32 : 128, true)) ||
      !args.get_double("lr", 1e-7, 1.0, &o->lr, &error) ||
      !args.get_int("warmup", 0, 1 << 30, &o->warmup, &error) ||
      !args.get_double("clip", 0, 1e9, &o->clip, &error) ||
      !args.get_double("dropout", 0, 0.9, &o->dropout, &error) ||
      !args.get_double("event-drop", 0, 0.9, &o->event_drop, &error) ||
      !args.get_int("lookahead", 1, 16, &lookahead, &error) ||
      !args.get_int("sampled-softmax", 0, 1 << 20, &sampled_softmax, &error) ||
      !args.get_int("lr-plateau", 0, 100000, &o->lr_plateau, &error) ||
      !args.get_double("lookahead-decay", 0, 1, &lookahead_decay, &error) ||
      !args.get_int("embed", 1, kW, &o->embed, &error) ||
      !args.get_int("hidden", 1, kW, &o->hidden, &error) ||
      !args.get_int("attn-size", 1, kW, &o->attn_size, &error) ||
      (args.given("window") && !args.get_int("window", 1, kMaxWindow, &o->window, &error)) ||
      (args.given("copy-window") && !args.get_int("copy-window", 1, kMaxWindow, &o->copy_window, &error)) ||
      !args.get_int("layers", 1, kMaxLayers, &o->layers, &error) ||
      !args.get_int("heads", 1, kW, &o->heads, &error) ||
      !args.get_int("ffn", 1, kW, &o->ffn, &error) ||
      !args.get_int("max-len", 1, 1 << 20, &o->max_len, &error) ||
      !args.get_int("seed", 0, INT64_MAX, &o->seed, &error) ||
      !args.get_int("threads", 1, 256, &o->threads, &error) ||
      !args.get_int("patience", 0, 100000, &o->patience, &error) ||
      !args.get_double("time-budget", 0, 1e9, &o->time_budget, &error) ||
      !args.get_int("checkpoint-every", 0, 1000000, &o->checkpoint_every, &error) ||
      !args.get_int("transitions", 0, 1 << 20, &o->transitions, &error) ||
      !args.get_int("transition-bytes", 0, int64_t(hunch::kMaxDimSize), &o->transition_bytes, &error))
    return fail(2, "%s", error.c_str());
  if (o->dp_epsilon > 0 && !(o->holdout_users > 0))
    return fail(2, "--dp-epsilon validates on held-out users only: --holdout-users must be above 0");
  if ((args.given("dp-delta") || args.given("dp-clip") || args.given("dp-count-share") || args.given("dp-count-clip")) &&
      !(o->dp_epsilon > 0))
    return fail(2, "--dp-delta, --dp-clip, --dp-count-share and --dp-count-clip need --dp-epsilon");
  // Without the count release the table would be counted from every training user outside DP.
  if (o->dp_epsilon > 0 && o->dp_count_share == 0) o->transitions = 0;
  if (o->transformer() && o->embed % o->heads != 0)
    return fail(2, "--heads %lld must divide --embed %lld", (long long)o->heads, (long long)o->embed);

  o->resume = args.get_bool("resume");
  o->checkpoint = args.get("checkpoint");
  if (o->checkpoint.empty() && (o->checkpoint_every > 0 || o->resume)) o->checkpoint = o->output + ".ckpt";
  o->tie = args.get_bool("tie");
  o->random_crops = args.get_bool("random-crops");
  o->exclude_seen = args.get_bool("exclude-seen");
  o->float_model = args.get_bool("float");
  o->no_session_inputs = args.get_bool("no-session-inputs");
  o->no_copy = args.get_bool("no-copy");
  {
    const std::string iw = args.get("item-weights");
    using IW = train::TrainOptions::ItemWeights;
    if (iw == "auto") o->item_weights = IW::AUTO;
    else if (iw == "train") o->item_weights = IW::TRAIN;
    else if (iw == "freeze") o->item_weights = IW::FREEZE;
    else if (iw == "count") o->item_weights = IW::COUNT;
    else return fail(2, "--item-weights: expected auto, train, freeze or count, got '%s'", iw.c_str());
  }
  if (args.given("report")) o->report = args.get("report");
  o->loss.lookahead = uint32_t(lookahead);
  o->loss.lookahead_decay = float(lookahead_decay);
  o->loss.sampled_softmax = uint32_t(sampled_softmax);
  o->loss.mask_seen = args.get_bool("mask-seen");
  std::string weight_error;  // reported by check_trainable, after the log is read
  if (!optional_weight(args, "type-weight", &o->loss.type_weight, &weight_error) ||
      !optional_weight(args, "exit-weight", &o->loss.exit_weight, &weight_error) ||
      !optional_weight(args, "conversion-weight", &o->loss.conversion_weight, &weight_error))
    o->loss_error = weight_error;
  return kGoOn;
}

// ---- data

// A file the run will write (the model, --report, the checkpoint): checked before the log is
// read, so that a path that cannot be written fails in a second, not after the training, and
// never names an input (which the atomic rename would replace with a model).
Error check_output_path(const std::string& flag, const std::string& path, const std::vector<std::string>& inputs) {
  struct stat out_st;
  const bool exists = ::stat(path.c_str(), &out_st) == 0;
  if (exists && S_ISDIR(out_st.st_mode)) return Error(flag + " '" + path + "' is a directory: name a file in it");
  if (exists)
    for (const std::string& in : inputs) {
      struct stat in_st;
      if (::stat(in.c_str(), &in_st) == 0 && in_st.st_dev == out_st.st_dev && in_st.st_ino == out_st.st_ino)
        return Error(flag + " '" + path + "' is an input of this run ('" + in + "'): writing it would replace the events");
    }
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  struct stat dir_st;
  if (::stat(dir.c_str(), &dir_st) != 0 || !S_ISDIR(dir_st.st_mode))
    return Error(flag + " '" + path + "': the directory '" + dir + "' does not exist");
  if (::access(dir.c_str(), W_OK) != 0)
    return Error(flag + " '" + path + "': the directory '" + dir + "' is not writable (" + std::strerror(errno) + ")");
  return {};
}

// Reads the log into *ds and prints its cleaning report.
int read_events(const TrainFlags& o, train::Dataset* ds, train::IngestReport* irep, train::Collective& world) {
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> files;
  // Under mpirun every rank learns whether one failed (each prints its own message), so that no
  // rank waits in a sum for one that has left.
  auto agreed = [&](const Error& e) {
    if (!world.any(bool(e))) return kGoOn;
    return e ? fail(1, "%s", e.message.c_str())
             : fail(1, "rank %d: another rank of this run failed to read the log (its message says why)", world.rank());
  };
  if (int rc = agreed(train::expand_inputs(o.inputs, &files)); rc != kGoOn) return rc;
  if (!o.dry_run) {
    // Rank 0 writes the outputs, so rank 0 checks them (another node may not see the folder);
    // its verdict stops every rank.
    Error bad;
    if (world.leader()) {
      std::vector<std::pair<std::string, std::string>> outputs = {{"-o", o.output}};
      if (o.report) outputs.push_back({"--report", *o.report});
      if (!o.checkpoint.empty()) outputs.push_back({"--checkpoint", o.checkpoint});
      for (const auto& [flag, path] : outputs)
        if (!bad) bad = check_output_path(flag, path, files);
    }
    if (world.from_leader(bad ? 1 : 0) > 0) return world.leader() ? fail(1, "%s", bad.message.c_str()) : 1;
  }
  if (int rc = agreed(train::ingest_files(files, o.ingest, ds, irep)); rc != kGoOn) return rc;
  std::fputs(irep->to_text().c_str(), stdout);
  std::printf("  (read in %.2f s)\n\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return kGoOn;
}

// ---- configuration

// The network: its sizes from the flags, its vocabularies from the data. Every NetConfig field
// the command sets is set here.
train::NetConfig net_config_from(const TrainFlags& o, const train::Dataset& ds) {
  const bool tf = o.transformer();
  train::NetConfig nc;
  nc.hyper.arch = hunch::find_arch(o.arch)->arch;  // checked by parse_train_flags
  nc.hyper.vocab_size = uint32_t(ds.actions.size());
  nc.hyper.type_count = uint32_t(ds.types.size());
  nc.hyper.gap_buckets = uint32_t(ds.gap_edges.size() + 2);
  nc.hyper.embed = uint32_t(o.embed);
  nc.hyper.hidden = uint32_t(o.hidden);
  nc.hyper.attn_size = uint32_t(o.attn_size);
  nc.hyper.window = uint32_t(o.window ? o.window : (tf ? 200 : 32));
  // The count-like terms keep ids only (12 bytes an event in a saved state), so they may read
  // further back than the attention. By default they read W: a longer window changed no log's
  // validation NDCG@10 and costs up to +11% WASM push + top-10 on lstm-attn
  // (bench/results/next-action/NOTES.md, "The copy window").
  nc.hyper.copy_window = uint32_t(o.copy_window);  // 0: W (hunch::copy_window_of)
  nc.hyper.layers = uint32_t(o.layers);
  nc.hyper.heads = uint32_t(o.heads);
  nc.hyper.ffn = uint32_t(o.ffn);
  nc.dropout = float(o.dropout);
  nc.tie_embeddings = o.tie;
  nc.hyper.copy = o.no_copy ? 0 : 1;
  nc.hyper.attr_columns = uint32_t(ds.attr_count());
  nc.hyper.attr_values = uint32_t(ds.attr_values.size());
  return nc;
}

// The network and loss-weight summary printed before training.
void print_model(const std::string& arch, const train::NetConfig& nc, size_t parameters,
                 const train::LossWeights& w, uint64_t exit_positives) {
  std::printf("model: %s, D=%u", arch.c_str(), nc.hyper.embed);
  if (nc.hyper.arch == Arch::TRANSFORMER) std::printf(" L=%u NH=%u F=%u", nc.hyper.layers, nc.hyper.heads, nc.hyper.ffn);
  else std::printf(" H=%u A=%u", nc.hyper.hidden, nc.hyper.attn_size);
  if (hunch::copy_window_of(nc.hyper) != nc.hyper.window) std::printf(" Wc=%u", hunch::copy_window_of(nc.hyper));
  std::printf(" W=%u, V=%u T=%u G=%u, %zu parameters\n", nc.hyper.window, nc.hyper.vocab_size, nc.hyper.type_count, nc.hyper.gap_buckets, parameters);
  std::printf("loss weights: action %.3g, type %.3g, exit %.3g (%llu exit positives), conversion %.3g\n", w.action,
              w.type, w.exit, (unsigned long long)exit_positives, nc.hyper.conversion ? w.conversion : 0.0);
  std::fflush(stdout);
}

// The trainer's options: the network and the loss weights as given, the rest from the flags.
train::TrainOptions trainer_options(const TrainFlags& o, const train::NetConfig& net,
                                    const train::LossWeights& weights) {
  train::TrainOptions topt;
  topt.net = net;
  topt.epochs = uint32_t(o.epochs);
  topt.batch = uint32_t(o.batch);
  topt.lr = float(o.lr);
  topt.warmup_steps = uint32_t(o.warmup);
  topt.clip = float(o.clip);
  topt.event_drop = float(o.event_drop);
  topt.max_len = uint32_t(o.max_len);
  topt.random_crops = o.random_crops;
  topt.seed = uint64_t(o.seed);
  topt.threads = uint32_t(o.threads);
  topt.patience = uint32_t(o.patience);
  topt.time_budget = o.time_budget;
  topt.checkpoint = o.checkpoint;
  topt.checkpoint_every = uint32_t(o.checkpoint_every);
  topt.resume = o.resume;
  topt.exclude_seen = o.exclude_seen;
  topt.item_weights = o.item_weights;
  topt.weights = weights;
  topt.lr_plateau = uint32_t(o.lr_plateau);
  topt.holdout_users = o.holdout_users;
  topt.holdout_seed = uint64_t(o.seed);
  topt.dp.epsilon = o.dp_epsilon;
  topt.dp.delta = o.dp_delta;
  topt.dp.clip = o.dp_clip;
  return topt;
}

// What can only be checked once the log is read (in this order). kept_events: the run's (a shard
// may hold none).
int check_trainable(const TrainFlags& o, const train::Dataset& ds, uint64_t kept_events, const train::TrainOptions& topt) {
  if (!o.loss_error.empty()) return fail(2, "%s", o.loss_error.c_str());
  if (kept_events == 0)
    return fail(1, "no usable events: every row was skipped (the cleaning report above says why)");
  if (topt.net.hyper.vocab_size < 2)
    return fail(1, "the vocabulary is empty: every action was seen fewer than --min-count (%u) times%s (the cleaning "
                "report above counts what was withheld)", ds.min_count,
                ds.min_users > 1 ? hunch::format_message(" or by fewer than --min-users (%u) distinct users", ds.min_users).c_str() : "");
  if (topt.weights.sampled_softmax >= topt.net.hyper.vocab_size)
    return fail(2, "--sampled-softmax %u draws as many classes as the vocabulary has (%u) or more: "
                "use the full softmax (--sampled-softmax 0)", topt.weights.sampled_softmax, topt.net.hyper.vocab_size);
  return kGoOn;
}

// ---- train

struct Trained {
  train::TrainResult              result;
  std::vector<train::EpochRecord> curve;  // the complete epochs
};

void print_epoch(const train::EpochLog& l, const train::TrainResult& r, std::vector<train::EpochRecord>* curve) {
  if (l.epoch == 1 && r.action_start.columns) {
    std::printf("action head start (popularity, copy, transition and attribute match weights fitted on %llu %s): "
                "next-action log-loss %.3f with popularity alone, %.3f with the terms",
                (unsigned long long)r.action_start.columns,
                r.dp.count_sigma > 0 ? "held-out users' training columns, the biases the DP counts'" : "training columns", r.action_start.nll_popularity, r.action_start.nll_fitted);
    if (!std::isnan(r.start_valid_ndcg_10)) std::printf("; valid NDCG@10 %.4f", r.start_valid_ndcg_10);
    std::printf("\n");
    if (!std::isnan(r.action_start.ndcg_ranked))
      std::printf("count head (the start ranked for the top ten: %s x%.2f, terms refitted): training columns' "
                  "NDCG@10 %.4f -> %.4f", r.action_start.chosen_popular ? "popularity" : "biases", r.action_start.bias_scale,
                  r.action_start.ndcg_fitted, r.action_start.ndcg_ranked);
    if (!std::isnan(r.count_valid_ndcg_10)) std::printf("; valid NDCG@10 %.4f", r.count_valid_ndcg_10);
    if (std::strcmp(r.action_start.chosen, "the ascent") != 0)
      std::printf(" with %s, chosen on validation over the ascent's %.4f", r.action_start.chosen,
                  r.count_valid_ndcg_ascent);
    if (!std::isnan(r.action_start.ndcg_ranked)) std::printf("  [%.1f s]\n", r.action_start.rank_seconds);
    if (r.items_frozen && r.items_frozen_after == 0) std::printf("per-action weights frozen at the start (--item-weights freeze)\n");
  }
  if (r.items_frozen && r.items_frozen_after > 0 && r.items_frozen_after + 1 == l.epoch)
    std::printf("no epoch reached the start's valid NDCG@10 (best %.4f < %.4f): the per-action weights learn the "
                "training events by heart on this log; training again from the start with them frozen "
                "(--item-weights train keeps training them)\n",
                r.best_free_valid_ndcg_10, r.start_valid_ndcg_10);
  if (r.count_head && r.count_head_after == 0 && l.epoch == 1)
    std::printf("the action head is the count head (--item-weights count); %s\n",
                l.events_per_s > 0 ? "training the other heads on it" : "validated as is");
  else if (r.count_head && r.count_head_after + 1 == l.epoch)
    std::printf("no epoch reached the count head's valid NDCG@10 (best %.4f < %.4f): the action head keeps the "
                "counts alone (a network adds nothing the counts do not know on this log); %s\n",
                r.best_network_valid_ndcg_10, r.count_valid_ndcg_10,
                l.events_per_s > 0 ? "training the other heads on it" : "validated as is");
  if (l.partial) {
    std::printf("epoch %3u  interrupted after %.1f s\n", l.epoch, l.seconds);
  } else {
    std::printf("epoch %3u  loss %.4f  valid NDCG@10 %.4f HR@10 %.4f", l.epoch, l.loss, l.valid_ndcg_10, l.valid_hr_10);
    if (!std::isnan(l.valid_exit_auc)) std::printf(" exit AUC %.4f", l.valid_exit_auc);
    if (!std::isnan(l.valid_conversion_auc)) std::printf(" conversion AUC %.4f", l.valid_conversion_auc);
    std::printf("  %.1f s (%.0f ev/s) + valid %.1f s%s\n", l.seconds, l.events_per_s, l.valid_seconds,
                r.best_epoch == l.epoch ? "  *" : "");
    if (r.log.size() >= 2 && l.lr < r.log[r.log.size() - 2].lr)
      std::printf("           learning rate now %.3g (no better validation for a while)\n", l.lr);

    curve->push_back({int(l.epoch), l.loss, l.valid_ndcg_10, l.seconds});
  }
  std::fflush(stdout);
}

// What the copy and transition terms learned, in logits: how much an action gains from being in
// the window (by distance back, in the last event's session or not) and from following the last
// action (by pair count, for the most frequent successor share). What the log says about repeats
// and transitions, for the reader of the training output.
void print_action_terms(const train::Net& net, const std::vector<std::string>& attr_columns) {
  const hunch::Hyper& h = net.cfg.hyper;
  if (h.copy) {
    const float* d = net.params.ptr(net.head_copy_distance);
    std::printf("copy terms, logit per window event at distance 0 1 2 3 4 5 6 7 (+ type term):\n  same session ");
    for (uint32_t b = 0; b < 8; ++b) std::printf(" %+.2f", d[hunch::kCopyDistanceBuckets + b]);
    if (h.session_inputs) {
      std::printf("\n  earlier      ");
      for (uint32_t b = 0; b < 8; ++b) std::printf(" %+.2f", d[b]);
    }
    std::printf("\n");
  }
  if (h.transition_bytes) {
    const float* w = net.params.ptr(net.head_transition_weight);
    std::printf("transition terms, logit of the top successor (share 1/2 or more) seen 1, 2, 3-4, 5-8, 9+ times:");
    for (uint32_t c = 0; c < hunch::kTransitionCountBuckets; ++c) std::printf(" %+.2f", w[c * hunch::kTransitionShareBuckets]);
    std::printf("\n");
  }
  for (uint32_t k = 0; k < h.attr_columns; ++k) {
    const float* m = net.params.ptr(net.head_attr_match) + k * hunch::kCopyDistanceBuckets;
    std::printf("attribute '%s' match terms, logit of an action sharing the value of the window event at distance 0 1 2 3 4 5 6 7:\n  ",
                attr_columns[k].c_str());
    for (uint32_t b = 0; b < 8; ++b) std::printf(" %+.2f", m[b]);
    std::printf("\n");
  }
}

// Trains *net, printing each epoch and how training ended. Ctrl-C stops after the current
// batch; a second Ctrl-C kills.
int train_net(const train::Dataset& ds, const train::TrainOptions& topt, train::Net* net, Trained* out) {
  struct sigaction sa = {}, old_sa = {};
  sa.sa_handler = on_sigint;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_sa);
  train::clear_stop();
  Error terr = train::train(ds, topt, net, &out->result, [&](const train::EpochLog& l, const train::TrainResult& r) {
    print_epoch(l, r, &out->curve);
  });
  sigaction(SIGINT, &old_sa, nullptr);
  if (terr) return fail(1, "%s", terr.message.c_str());
  const train::TrainResult& tres = out->result;
  if (tres.resumed_after)
    std::printf("resumed from %s after epoch %u (the epochs up to it are the checkpoint's)\n", topt.checkpoint.c_str(),
                tres.resumed_after);
  if (tres.checkpoints_written) std::printf("checkpoint: %s\n", topt.checkpoint.c_str());
  if (tres.interrupted) std::printf("stopped by Ctrl-C; keeping the best epoch\n");
  else if (tres.early_stopped)
    std::printf("early stop: no better validation %s for %u epochs\n",
                topt.sessions ? "score (NDCG@10 + exit and conversion AUC)" : "NDCG@10", topt.patience);
  else if (tres.out_of_time) std::printf("time budget reached\n");
  if (tres.best_epoch == 0) std::printf("warning: no epoch completed; writing the current weights\n");
  else
    std::printf("best epoch %u: valid NDCG@10 %.4f HR@10 %.4f; %.1f s per epoch\n", tres.best_epoch,
                tres.best_valid_ndcg_10, tres.best_valid_hr_10, tres.seconds_per_epoch);
  if (tres.holdout_samples) std::printf("held-out users: %llu training samples left out (--holdout-users)\n",
                                        (unsigned long long)tres.holdout_samples);
  if (tres.dp.users) {
    const train::DpSpent& d = tres.dp;
    std::printf("differential privacy: ε = %.3f spent (target %.3g, δ = %.3g) over %llu of %llu planned steps%s; "
                "noise σ = %.3f · clip %.3g, Poisson rate q = %.4f of %llu users (%.1f a step); %.0f%% of user gradients "
                "clipped\n",
                d.epsilon, d.epsilon_target, d.delta, (unsigned long long)d.steps, (unsigned long long)d.planned_steps,
                d.budget_spent ? " (budget spent)" : "", d.sigma, d.clip, d.sample_rate, (unsigned long long)d.users,
                d.users_per_step, 100 * d.clipped_fraction);
    if (d.count_sigma > 0)
      std::printf("  composed with the count start's release (noise σ = %.3f · clip %.3g): ε = %.3f of it alone, "
                  "%.3f of DP-SGD alone\n", d.count_sigma, d.count_clip, d.epsilon_counts, d.epsilon_sgd);
    // δ bounds the chance that the ε guarantee fails for a user: at 1/users or above, a release
    // that exposes one user outright still meets it.
    if (d.users && d.delta * double(d.users) > 1.0 + 1e-9)
      std::printf("warning: --dp-delta %.3g is above 1 / training users (%.3g): at that δ the guarantee allows "
                  "exposing some user outright; the default is 1 / users, and well below is usual\n",
                  d.delta, 1.0 / double(d.users));
  }
  print_action_terms(*net, ds.attr_columns);
  return kGoOn;
}

// ---- the session protocol

// Goal types (as given, else found by name), then the split; prints what was found. A shard's
// split is cut over every process's sessions (world).
int prepare_sessions(const TrainFlags& o, train::Dataset* ds, train::SessionSplit* split, train::Collective* world) {
  const std::vector<std::string> goals = o.goal_types.empty() ? train::default_goal_types(*ds) : o.goal_types;
  if (Error e = train::set_goal_types(ds, goals)) return fail(2, "%s", e.message.c_str());
  if (Error e = train::split_sessions(*ds, o.test_fraction, split, world)) return fail(2, "%s", e.message.c_str());
  std::printf("session protocol: %llu sessions: train %llu (%llu events), validation %llu (%llu events), test %llu "
              "(%llu events, held out); conversion goal: %s\n",
              (unsigned long long)split->sessions, (unsigned long long)split->train_sessions,
              (unsigned long long)split->train_events, (unsigned long long)split->valid_sessions,
              (unsigned long long)split->valid_events, (unsigned long long)split->test_sessions,
              (unsigned long long)split->test_events,
              goals.empty() ? "none (no purchase-like event type; --goal-type names one)" : goals[0].c_str());
  return kGoOn;
}

// What the loss policy reads, from the training sessions.
train::LossSignals session_signals(const train::Dataset& ds, const train::SessionSplit& split) {
  train::LossSignals s;
  for (uint16_t t : ds.type) s.has_types |= t != 0;
  s.sessions = true;
  for (size_t q = 0; q < ds.sequences(); ++q)
    for (uint64_t i = ds.offsets[q]; i < split.valid_begin[q]; ++i) s.exit_positives += (ds.flags[i] & train::kSessionEnd) != 0;
  s.conversion = !ds.goal_types.empty();
  s.session_protocol = true;
  return s;
}

// A shard's signals (Dataset::sharded): its own users' counts, combined into the run's.
void combine_signals(const train::Dataset& ds, train::Collective& world, train::LossSignals* s) {
  if (!ds.sharded) return;
  double v[2] = {s->has_types ? 1.0 : 0.0, double(s->exit_positives)};
  world.sum(v, 2);
  s->has_types = v[0] > 0;
  s->exit_positives = uint64_t(v[1]);
}

// Fits the heads' calibration on the validation sessions (sessions.h) and prints it.
int calibrate(const train::Dataset& ds, const train::SessionSplit& split, const train::TrainOptions& topt,
              train::Net* net) {
  train::CalibrationData cd;
  if (Error e = train::collect_calibration(ds, split, train::net_session_scorer(*net, ds, topt.threads), true,
                                           topt.threads, net->cfg.hyper.type_count, &cd, topt.collective))
    return fail(1, "calibration: %s", e.message.c_str());
  hunch::Calibration c;
  train::fit_platt(cd.exit_logit, cd.exit_label, &c.exit_a, &c.exit_b);
  if (net->cfg.hyper.conversion) train::fit_platt(cd.conversion_logit, cd.conversion_label, &c.conversion_a, &c.conversion_b);
  if (topt.weights.type > 0) c.type_temperature = train::fit_temperature(cd.type_logits, cd.type_target, net->cfg.hyper.type_count);
  net->calibration = c;
  std::printf("calibration on %zu validation points: exit sigmoid(%.3f·x %+.3f)", cd.exit_label.size(), c.exit_a, c.exit_b);
  if (net->cfg.hyper.conversion) std::printf(", conversion sigmoid(%.3f·x %+.3f)", c.conversion_a, c.conversion_b);
  std::printf(", type temperature %.3f\n", c.type_temperature);
  return kGoOn;
}

// ---- export

// The float model file: the network and the hunch.train.* metadata.
int float_model_bytes(const TrainFlags& o, const train::Dataset& ds, const train::TrainOptions& topt,
                      const train::Net& net, const Trained& t, std::vector<uint8_t>* out) {
  const train::TrainResult& tres = t.result;
  ModelWriter fw;
  train::write_network(net, ds, &fw);
  fw.set_u32("hunch.train.epochs", uint32_t(t.curve.size()));
  fw.set_u32("hunch.train.best_epoch", tres.best_epoch);
  fw.set_f32("hunch.train.valid_ndcg_10", float(tres.best_valid_ndcg_10));
  fw.set_f32("hunch.train.valid_hr_10", float(tres.best_valid_hr_10));
  if (!std::isnan(tres.best_valid_exit_auc)) fw.set_f32("hunch.train.valid_exit_auc", float(tres.best_valid_exit_auc));
  if (!std::isnan(tres.best_valid_conversion_auc))
    fw.set_f32("hunch.train.valid_conversion_auc", float(tres.best_valid_conversion_auc));
  fw.set_f32("hunch.train.seconds_per_epoch", float(tres.seconds_per_epoch));
  fw.set_string("hunch.train.data", base_name(o.events));
  double counts[2] = {double(ds.sequences()), double(ds.events())};
  if (ds.sharded && topt.collective) topt.collective->sum(counts, 2);  // every shard's
  fw.set_u64("hunch.train.sequences", uint64_t(counts[0]));
  fw.set_u64("hunch.train.events", uint64_t(counts[1]));
  fw.set_u32("hunch.train.exclude_seen", topt.exclude_seen ? 1 : 0);
  fw.set_u32("hunch.train.seed", uint32_t(topt.seed));
  fw.set_f32("hunch.train.lr", topt.lr);
  fw.set_u32("hunch.train.batch", topt.batch);
  fw.set_f32("hunch.train.dropout", topt.net.dropout);
  fw.set_f32("hunch.train.event_drop", topt.event_drop);
  fw.set_u32("hunch.train.lookahead", topt.weights.lookahead);
  fw.set_f32("hunch.train.lookahead_decay", topt.weights.lookahead_decay);
  fw.set_u32("hunch.train.sampled_softmax", topt.weights.sampled_softmax);
  fw.set_u32("hunch.train.lr_plateau", topt.lr_plateau);
  fw.set_u32("hunch.train.max_len", topt.max_len);
  fw.set_u32("hunch.train.random_crops", topt.random_crops ? 1 : 0);
  fw.set_u32("hunch.train.mask_seen", topt.weights.mask_seen ? 1 : 0);
  fw.set_string("hunch.train.protocol", topt.sessions ? "sessions" : "loo");
  if (topt.sessions) fw.set_f32("hunch.train.test_fraction", float(topt.sessions->test_fraction));
  if (topt.holdout_users > 0) {
    fw.set_f32("hunch.privacy.holdout_users", float(topt.holdout_users));
    fw.set_u64("hunch.privacy.holdout_seed", topt.holdout_seed);
  }
  if (tres.dp.users) {
    const train::DpSpent& d = tres.dp;
    fw.set_f32("hunch.privacy.dp_epsilon", float(d.epsilon));
    fw.set_f32("hunch.privacy.dp_epsilon_target", float(d.epsilon_target));
    fw.set_f32("hunch.privacy.dp_delta", float(d.delta));
    fw.set_f32("hunch.privacy.dp_noise_multiplier", float(d.sigma));
    fw.set_f32("hunch.privacy.dp_clip", float(d.clip));
    fw.set_f32("hunch.privacy.dp_sample_rate", float(d.sample_rate));
    fw.set_u64("hunch.privacy.dp_steps", d.steps);
    fw.set_u64("hunch.privacy.dp_users", d.users);
    fw.set_string("hunch.privacy.dp_accountant", d.count_sigma > 0
        ? "rdp-poisson-sampled-gaussian + gaussian (count release), improved conversion (Balle et al. 2020)"
        : "rdp-poisson-sampled-gaussian, improved conversion (Balle et al. 2020)");
    if (d.count_sigma > 0) {  // the split of ε between the count release and DP-SGD
      fw.set_f32("hunch.privacy.dp_count_share", float(o.dp_count_share));
      fw.set_f32("hunch.privacy.dp_count_noise_multiplier", float(d.count_sigma));
      fw.set_f32("hunch.privacy.dp_count_clip", float(d.count_clip));
      fw.set_f32("hunch.privacy.dp_count_epsilon", float(d.epsilon_counts));
      fw.set_f32("hunch.privacy.dp_sgd_epsilon", float(d.epsilon_sgd));
    }
  }
  std::vector<float> loss_curve, ndcg_curve;
  for (const auto& c : t.curve) {
    loss_curve.push_back(float(c.train_loss));
    ndcg_curve.push_back(float(c.valid_ndcg10));
  }
  fw.set_floats("hunch.train.loss_curve", loss_curve);
  fw.set_floats("hunch.train.valid_ndcg_10_curve", ndcg_curve);
  if (Error e = fw.serialize(out)) return fail(1, "%s", e.message.c_str());
  return kGoOn;
}

// The int8 model of the float one, with what quantisation cost: each tensor's round-trip error
// and the validation metrics of both through the core (printed and in *qrep).
int int8_model_bytes(const std::vector<uint8_t>& fbytes, const train::Dataset& ds, const train::TrainOptions& topt,
                     std::vector<uint8_t>* out, train::QuantizationReport* qrep) {
  ModelFile mf;
  if (Error e = read_model_file(fbytes.data(), fbytes.size(), &mf))
    return fail(1, "re-reading the float model: %s", e.message.c_str());
  ModelWriter qw;
  std::vector<train::TensorQuantization> qt;
  if (Error e = train::quantize_model(mf, &qw, &qt)) return fail(1, "%s", e.message.c_str());
  std::printf("\nint8 quantisation (per-row scales), max round-trip error per tensor:\n");
  for (const auto& t : qt) {
    std::printf("  %-22s (%llu, %llu)  max |err| %.3g  (max |w| %.3g)\n", t.name.c_str(),
                (unsigned long long)t.rows, (unsigned long long)t.cols, t.max_error, t.max_abs);
    qrep->tensors.push_back({t.name, t.max_error});
  }
  std::vector<uint8_t> qbytes;
  if (Error e = qw.serialize(&qbytes)) return fail(1, "%s", e.message.c_str());
  const unsigned th = topt.threads;
  double fn = 0, fh = 0, qn = 0, qh = 0;
  auto v0 = std::chrono::steady_clock::now();
  // Under --dp-epsilon the held-out users' validation only (TrainOptions::valid_*), as in training.
  const train::SessionSplit* vs = topt.valid_sessions ? topt.valid_sessions : topt.sessions;
  if (Error e = core_validation(fbytes, ds, th, topt.exclude_seen, vs, &fn, &fh, topt.valid_sequences, topt.collective))
    return fail(1, "validating the float model: %s", e.message.c_str());
  if (Error e = core_validation(qbytes, ds, th, topt.exclude_seen, vs, &qn, &qh, topt.valid_sequences, topt.collective))
    return fail(1, "validating the int8 model: %s", e.message.c_str());
  std::printf("validation through the core: float NDCG@10 %.4f HR@10 %.4f | int8 NDCG@10 %.4f HR@10 %.4f "
              "(%+.2f%% NDCG@10)  [%.1f s]\n",
              fn, fh, qn, qh, fn > 0 ? 100.0 * (qn - fn) / fn : 0.0,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - v0).count());
  qrep->float_metrics = {{"NDCG@10", fn}, {"HR@10", fh}};
  qrep->int8_metrics = {{"NDCG@10", qn}, {"HR@10", qh}};
  qw.set_f32("hunch.train.valid_ndcg_10_float", float(fn));
  qw.set_f32("hunch.train.valid_ndcg_10_int8", float(qn));
  if (Error e = qw.serialize(out)) return fail(1, "%s", e.message.c_str());
  qrep->int8_bytes = double(out->size());
  return kGoOn;
}

// Writes the model file (int8 unless --float); *qrep says what quantisation cost.
int export_model(const TrainFlags& o, const train::Dataset& ds, const train::TrainOptions& topt,
                 const train::Net& net, const Trained& t, train::QuantizationReport* qrep) {
  std::vector<uint8_t> fbytes;
  if (int rc = float_model_bytes(o, ds, topt, net, t, &fbytes); rc != kGoOn) return rc;
  qrep->float_bytes = double(fbytes.size());
  std::vector<uint8_t> out_bytes = fbytes;
  if (!o.float_model) {
    if (int rc = int8_model_bytes(fbytes, ds, topt, &out_bytes, qrep); rc != kGoOn) return rc;
  }
  // Under mpirun every process made the file (its validations are shared); rank 0 writes it.
  if (topt.collective && !topt.collective->leader()) return kGoOn;
  if (Error e = train::write_file_atomic(o.output, out_bytes)) return fail(1, "%s", e.message.c_str());
  std::printf("wrote %s: %zu bytes (%s", o.output.c_str(), out_bytes.size(), o.float_model ? "float" : "int8");
  if (!o.float_model) std::printf("; float would be %zu bytes, %.0f%%", fbytes.size(), 100.0 * out_bytes.size() / fbytes.size());
  std::printf(")\n");
  return kGoOn;
}

// ---- report

// The HTML report of --report (nothing without it).
int write_train_report(const TrainFlags& o, const train::Net& net, const Trained& t,
                       const train::IngestReport& irep, const train::QuantizationReport& qrep) {
  if (!o.report) return kGoOn;
  train::ReportData rd;
  rd.title = "hunch train: " + base_name(o.events) + " → " + base_name(o.output);
  rd.facts.push_back({"architecture", o.arch});
  rd.facts.push_back({"parameters", std::to_string(net.params.size())});
  rd.facts.push_back({"best epoch", std::to_string(t.result.best_epoch)});
  rd.facts.push_back({"seconds per epoch", std::to_string(t.result.seconds_per_epoch)});
  rd.ingest = &irep;
  rd.epochs = t.curve;
  if (!o.float_model) rd.quantization = &qrep;
  if (Error e = train::write_report(*o.report, rd)) return fail(1, "%s", e.message.c_str());
  std::printf("report written to %s\n", o.report->c_str());
  return kGoOn;
}

// The training users' samples (the held-out users' left out).
std::vector<train::Sample> training_part(const TrainFlags& o, const train::Dataset& ds, const train::SessionSplit* split) {
  const uint32_t max_len = uint32_t(o.max_len);
  std::vector<train::Sample> samples =
      split ? train::session_training_samples(ds, *split, max_len) : train::training_samples(ds, max_len);
  if (o.holdout_users > 0) train::drop_samples_of(ds, train::holdout_sequences(ds, o.holdout_users, uint64_t(o.seed)), &samples);
  return samples;
}

// The transition table's byte budget.
uint64_t transition_budget(const TrainFlags& o, const train::NetConfig& nc) {
  return o.transition_bytes ? uint64_t(o.transition_bytes) : train::network_int8_bytes(nc.hyper, nc.tie_embeddings) * 12 / 100;
}

// Counts the training part's successor pairs into the transition table (train/transitions.h)
// and prints what it kept; no table when no pair fits the budget.
void add_transitions(const TrainFlags& o, const train::Dataset& ds, const train::SessionSplit* split,
                     train::NetConfig* nc, train::Collective* world) {
  const std::vector<train::Sample> samples = training_part(o, ds, split);
  const uint64_t budget = transition_budget(o, *nc);
  auto tc = std::make_shared<train::TransitionCounts>(
      train::count_transitions(ds, samples, uint32_t(o.transitions), budget, world));
  std::printf("transition table: %llu training pairs, %llu distinct; kept %llu (at most %lld per action) in %zu "
              "bytes (budget %llu = %s)\n",
              (unsigned long long)tc->pairs, (unsigned long long)tc->distinct, (unsigned long long)tc->kept,
              (long long)o.transitions, tc->table.size(), (unsigned long long)budget,
              o.transition_bytes ? "--transition-bytes" : "12% of the int8 network");
  struct BlankLine {
    ~BlankLine() { std::printf("\n"); }
  } blank_line_after;
  if (tc->table.empty()) return;
  nc->hyper.transition_bytes = uint32_t(tc->table.size());
  // The count head (--item-weights auto or count) ships no head.action.w or head.attr
  // (hunch.head.action.counts): its table may take their bytes too, so its file is never larger
  // than the network's. Only where the default budget left pairs out.
  using IW = train::TrainOptions::ItemWeights;
  if (!o.transition_bytes && o.dp_epsilon <= 0 && (o.item_weights == IW::AUTO || o.item_weights == IW::COUNT) &&
      tc->kept < tc->distinct) {
    hunch::Hyper counts = nc->hyper;
    counts.action_counts = 1;
    const uint64_t freed = train::network_int8_bytes(nc->hyper) - train::network_int8_bytes(counts);
    // Sixteen times the network's successors per action (--transitions; 256 by default), the
    // bytes bounding it: 64 beat 16 and 256 beat 64 on validation (Amazon Sports, YOOCHOOSE; no
    // log lost), bench/results/next-action/NOTES.md, "The count head's table".
    const uint32_t per_action = uint32_t(16 * o.transitions);
    auto ctc = std::make_shared<train::TransitionCounts>(
        train::count_transitions(ds, samples, per_action, budget + freed, world));
    std::printf("the count head's transition table (with the %llu bytes of head.action.w%s it does not ship): kept "
                "%llu pairs (at most %u per action) in %zu bytes\n",
                (unsigned long long)freed, nc->hyper.attr_columns ? " and head.attr" : "",
                (unsigned long long)ctc->kept, per_action, ctc->table.size());
    if (ctc->kept > tc->kept) nc->count_transitions = std::move(ctc);
  }
  nc->transitions = std::move(tc);
}

// Under --dp-epsilon with --dp-count-share: the count start's one release from the training
// users (privacy.h dp_counts): noised action counts (into topt->dp: the biases) and, with
// --transitions, the transition table of the noised pair sums. Its noise multiplier makes the
// release alone (share · ε, δ)-DP; the trainer composes it with DP-SGD's steps so that the
// total is ε. δ is fixed here (1 / the users counted, unless --dp-delta) for both.
int add_dp_counts(const TrainFlags& o, const train::Dataset& ds, const train::SessionSplit* split, train::NetConfig* nc,
                  train::TrainOptions::Dp* dp, train::Collective& world) {
  const std::vector<train::Sample> samples = training_part(o, ds, split);
  train::DpCountOptions co;
  co.clip = o.dp_count_clip;
  co.transitions = o.transitions > 0;
  co.max_successors = uint32_t(o.transitions);
  co.max_bytes = transition_budget(o, *nc);
  const train::CountSums sums = train::count_sums(ds, samples, co.clip, co.transitions, &world);
  if (sums.users == 0) return fail(1, "--dp-epsilon: no training user has a training column to count");
  const double delta = o.dp_delta > 0 ? o.dp_delta : 1.0 / double(sums.users);
  if (Error e = train::dp_noise_for(o.dp_count_share * o.dp_epsilon, delta, 1.0, 1, &co.sigma))
    return fail(2, "--dp-count-share: %s", e.message.c_str());
  auto release = std::make_shared<train::DpCounts>();
  train::DpCounts& c = *release;
  bool resumed = false;
  train::TrainCheckpoint ck;
  if (o.resume && !o.checkpoint.empty())
    if (Error e = train::read_checkpoint_agreed(world, o.checkpoint, &resumed, &ck)) return fail(1, "%s", e.message.c_str());
  if (resumed) {
    // A resumed run reuses the release its checkpoint kept: a new draw would release the counts
    // a second time, outside the ε the accountant adds up.
    if (!ck.dp || !ck.dp_release || ck.dp_release->actions.size() != ds.actions.size() ||
        (ck.dp_release->transitions && !co.transitions) ||
        std::fabs(ck.dp_release->noise_std - co.sigma * co.clip) > 1e-9 * co.sigma * co.clip)
      return fail(1, "%s: a checkpoint of another run (other data or DP settings); remove it or give another "
                  "--checkpoint path to start afresh", o.checkpoint.c_str());
    c = *ck.dp_release;
    if (c.transitions) {  // no pair is any one event's under DP (privacy.h DpCounts)
      auto t = std::make_shared<train::TransitionCounts>(*c.transitions);
      t->counted.assign(ds.events(), 0);
      c.transitions = std::move(t);
    }
  } else {
    // The noise is secret (not from --seed) and, across processes, the same on every rank: each
    // rank makes the same release from the same counts.
    train::SecretRng secret(train::shared_secret_key(world));
    if (Error e = train::dp_counts(ds, sums, co, secret, &c)) return fail(1, "%s", e.message.c_str());
  }
  if (world.size() > 1) {
    // A check that they did: rank 0's digest of the release against every rank's own.
    uint32_t digest = 2166136261u;
    auto mix = [&](const void* p, size_t n) {
      for (size_t k = 0; k < n; ++k) digest = (digest ^ static_cast<const uint8_t*>(p)[k]) * 16777619u;
    };
    mix(c.actions.data(), c.actions.size() * sizeof(double));
    if (c.transitions) mix(c.transitions->table.data(), c.transitions->table.size());
    if (!world.agree(digest))
      return fail(1, "--dp-epsilon: the MPI ranks' releases of the DP counts differ (a bug, please report it)");
  }
  std::printf("DP counts (the count start's release%s, ε = %.3g alone at δ = %.3g): %llu users, %llu scaled to L2 norm "
              "%.3g; noise σ = %.3f · %.3g = %.2f on each of %zu action cells%s",
              resumed ? ", read back from the checkpoint" : "", o.dp_count_share * o.dp_epsilon, delta, (unsigned long long)c.users, (unsigned long long)c.clipped_users,
              co.clip, co.sigma, co.clip, c.noise_std, c.actions.size(), co.transitions ? " and every successor cell" : "");
  if (co.transitions)
    std::printf("; %llu pairs at or above %.3g · σ, kept %llu (at most %lld per action) in %zu bytes",
                (unsigned long long)c.candidates, c.threshold, (unsigned long long)(c.transitions ? c.transitions->kept : 0),
                (long long)o.transitions, c.transitions ? c.transitions->table.size() : size_t(0));
  std::printf("\n\n");
  dp->delta = delta;
  dp->count_sigma = co.sigma;
  dp->count_clip = co.clip;
  // The biases' counts: positive (the noise can take a rare action below zero).
  dp->counts.resize(c.actions.size());
  for (size_t a = 0; a < c.actions.size(); ++a) dp->counts[a] = std::max(c.actions[a], 0.0) + 1.0;
  if (c.transitions) {
    nc->hyper.transition_bytes = uint32_t(c.transitions->table.size());
    nc->transitions = c.transitions;
  }
  dp->release = std::move(release);  // for the checkpoints
  return kGoOn;
}

}  // namespace

int run_train(int argc, char** argv) {
  TrainFlags o;
  if (int rc = parse_train_flags(argc, argv, &o); rc != kGoOn) return rc;
  // Under mpirun: every rank reads the log and trains its share of each batch; rank 0 prints
  // and writes the model and the report, the others stay quiet.
  train::Collective* world = nullptr;
  if (Error e = train::start_collective(&world)) return fail(1, "%s", e.message.c_str());
  struct EndCollective {
    ~EndCollective() { train::end_collective(); }
  } end_collective_at_exit;
  if (!world->leader()) {
    if (!std::freopen("/dev/null", "w", stdout)) return fail(1, "rank %d: cannot silence stdout", world->rank());
    o.ingest.progress = false;
  }
  if (world->size() > 1 && !o.dry_run)
    std::printf("training across %d processes (MPI), %lld thread%s each%s\n\n", world->size(), (long long)o.threads,
                o.threads == 1 ? "" : "s", o.shard ? ", the log sharded by user (--shard)" : "");
  else if (o.shard && world->size() == 1)
    std::printf("note: --shard has no effect in one process (it shares the log among mpirun's processes)\n\n");

  train::Dataset ds;
  train::IngestReport irep;
  // A dry run across processes reads the log sharded: each process keeps only its own users'
  // events (IngestOptions::shard), the vocabulary and the report are summed to one process's.
  const train::UserParts shard{world, unsigned(o.threads)};
  if ((o.dry_run || o.shard) && world->size() > 1) o.ingest.shard = &shard;
  if (int rc = read_events(o, &ds, &irep, *world); rc != kGoOn) return rc;
  if (o.dry_run) {
    // How the session protocol would split the log (a sharded read: over every process's users).
    train::SessionSplit split;
    if (o.sessions)
      if (int rc = prepare_sessions(o, &ds, &split, world); rc != kGoOn) return rc;
    if (o.ingest.shard) {
      const std::vector<double> held = world->all_gather({double(ds.events()), double(irep.process_peak_bytes)});
      std::printf("sharded across %d processes by user (each keeps its own users' events):\n", world->size());
      for (size_t r = 0; r + 1 < held.size(); r += 2)
        std::printf("  process %zu: %llu events kept, ingestion memory at its largest %.1f MB\n", r / 2,
                    (unsigned long long)held[r], held[r + 1] / 1e6);
    }
    return 0;
  }

  train::SessionSplit split;
  if (o.sessions)
    if (int rc = prepare_sessions(o, &ds, &split, world); rc != kGoOn) return rc;
  train::NetConfig nc = net_config_from(o, ds);
  train::LossSignals signals = o.sessions ? session_signals(ds, split)
                                          : train::loss_signals(ds, o.ingest.session_gap, uint32_t(o.max_len));
  combine_signals(ds, *world, &signals);
  if (o.sessions) {
    nc.hyper.conversion = signals.conversion ? 1 : 0;
    if (o.ingest.session_gap > 0 && !o.no_session_inputs) {
      nc.hyper.session_inputs = 1;
      nc.session_gap = float(o.ingest.session_gap);
    }
  }
  train::TrainOptions::Dp dp_counts;
  if (o.dp_epsilon > 0 && o.dp_count_share > 0) {
    if (int rc = add_dp_counts(o, ds, o.sessions ? &split : nullptr, &nc, &dp_counts, *world); rc != kGoOn) return rc;
  } else if (o.transitions > 0) {
    add_transitions(o, ds, o.sessions ? &split : nullptr, &nc, world);
  }
  train::TrainOptions topt = trainer_options(o, nc, train::loss_weights(o.loss, signals));
  if (dp_counts.count_sigma > 0) {
    topt.dp.delta = dp_counts.delta;
    topt.dp.count_sigma = dp_counts.count_sigma;
    topt.dp.count_clip = dp_counts.count_clip;
    topt.dp.counts = std::move(dp_counts.counts);
    topt.dp.release = std::move(dp_counts.release);
  }
  if (o.sessions) topt.sessions = &split;
  // Under --dp-epsilon only the held-out users validate (epoch choice, early stop, calibration):
  // no training user's event is read outside DP-SGD but for the vocabulary (docs/privacy.md).
  const std::vector<uint8_t> held_out = train::holdout_sequences(ds, o.holdout_users, uint64_t(o.seed));
  train::SessionSplit valid_split;
  if (o.dp_epsilon > 0) {
    if (o.sessions) {
      valid_split = train::validation_split_of(ds, split, held_out);
      topt.valid_sessions = &valid_split;
    } else {
      topt.valid_sequences = &held_out;
    }
  }
  topt.collective = world;
  if (!world->leader()) topt.progress = false;
  if (int rc = check_trainable(o, ds, irep.kept_events, topt); rc != kGoOn) return rc;

  auto net = train::make_net(topt.net, topt.seed);
  print_model(o.arch, topt.net, net->params.size(), topt.weights, signals.exit_positives);
  // --copy-window where it cannot act as asked: said, not refused (the run is still sound).
  if (o.copy_window && !topt.net.hyper.copy && !topt.net.hyper.attr_columns)
    std::printf("note: --copy-window has no effect: the model has no copy terms (--no-copy) and no attribute columns\n");
  else if (o.copy_window > o.max_len)
    std::printf("note: the copy window (%lld events) is longer than --max-len %lld: training samples are cut to "
                "--max-len, so copy distances past it are never trained (buckets only they read keep their start weights)\n",
                (long long)o.copy_window, (long long)o.max_len);

  Trained trained;
  if (int rc = train_net(ds, topt, net.get(), &trained); rc != kGoOn) return rc;
  if (o.sessions)
    if (int rc = calibrate(ds, topt.valid_sessions ? valid_split : split, topt, net.get()); rc != kGoOn) return rc;
  // Every process validates the exported model's share of users; rank 0 writes the model and
  // the report.
  train::QuantizationReport qrep;
  if (int rc = export_model(o, ds, topt, *net, trained, &qrep); rc != kGoOn) return rc;
  if (!world->leader()) return 0;
  if (int rc = write_train_report(o, *net, trained, irep, qrep); rc != kGoOn) return rc;
  return 0;
}

}  // namespace hunch::cli
