// hunch eval MODEL EVENTS — leave-one-out evaluation of a model on an event log, beside the
// popularity and Markov baselines (train/eval.h has the protocol), through the same core the
// browser uses (hunch::Sequence). With --baselines-only no model is needed: the vocabulary is
// then built from the log as `hunch train` would.
#include <chrono>
#include <cstdio>
#include <memory>

#include "cli/args.h"
#include "cli/ingest-args.h"
#include "hunch/model.h"
#include "train/collective.h"
#include "train/eval.h"
#include "train/ingest.h"
#include "train/privacy.h"
#include "train/report.h"
#include "train/sessions.h"

namespace hunch::cli {

namespace {

// --membership: the attack (train/privacy.h); -1 when it ran, else the exit code after the message.
int run_membership(const Model& model, const train::Dataset& ds, const train::SessionSplit* split, int64_t targets,
                   unsigned threads, train::MembershipResult* out, train::Collective* collective) {
  const bool leader = collective->leader();
  if (Error e = train::membership_attack(model, ds, split, uint32_t(targets), threads, out, collective)) {
    std::fprintf(stderr, "hunch eval: %s\n", e.message.c_str());
    return 1;
  }
  // The attack's "members" are the log's users outside the held-out share: only the training
  // users when this is the log the model was trained on (the model records its size).
  const MetaEntry* seqs = model.file().find_meta("hunch.train.sequences");
  const MetaEntry* data = model.file().find_meta("hunch.train.data");
  if (leader && seqs && seqs->value.type == MetaType::U64 && seqs->value.u != ds.sequences())
    std::fprintf(stderr,
                 "warning: --membership: the model was trained on %llu sequences%s%s%s, this log has %zu: its "
                 "\"training users\" are only the model's if this is the log it was trained on (with the same "
                 "session flags), so the AUC may not measure the model's leak\n",
                 (unsigned long long)seqs->value.u, data && data->value.type == MetaType::STRING ? " of '" : "",
                 data && data->value.type == MetaType::STRING ? data->value.str.c_str() : "",
                 data && data->value.type == MetaType::STRING ? "'" : "", ds.sequences());
  return -1;
}

// The results' JSON object with "membership": {…} added (when m is set).
std::string with_membership(std::string json, const train::MembershipResult* m) {
  const size_t close = json.rfind('}');
  if (!m || close == std::string::npos) return json;
  return json.substr(0, close) + ", \"membership\": " + train::membership_json(*m) + json.substr(close);
}

}  // namespace

int run_eval(int argc, char** argv) {
  Args args("eval", "MODEL.hunch EVENTS... [options]   |   --baselines-only EVENTS... [options]",
            "Leave-one-out evaluation (last event of each sequence = test, second-last = validation):\n"
            "HR@k, NDCG@k (k = 1, 5, 10, 20) and MRR over the full vocabulary, next-type accuracy and\n"
            "macro-F1, exit AUC, beside most-popular and first-order Markov baselines on the same split.");
  add_ingest_options(args);
  add_protocol_options(args);
  args.option("truth", "", "sessions protocol: the generator's probabilities (hunch synth --truth), reported as the oracle");
  args.flag("exclude-seen", "rank only actions not already in the input history (the ML-1M protocol)");
  args.option("sampled", "0", "also rank the target against N negatives (0 = off)");
  args.option("negatives", "", "negatives file ('valid|test USER n1 ... nN' lines); default: drawn with --seed");
  args.option("seed", "2024", "seed for drawn negatives");
  args.option("threads", "2", "evaluation threads");
  args.flag("baselines-only", "no model: evaluate only the baselines");
  args.flag("json", "print the results as one JSON object on stdout (the cleaning report goes to stderr)");
  args.option("report", "", "also write a self-contained HTML report to this path");
  args.flag("membership", "also run a loss-threshold membership-inference attack: training users against the users the "
            "model was trained without (hunch train --holdout-users or --dp-epsilon); AUC 0.5 = no leak");
  args.option("membership-targets", "50", "--membership: each sequence's last N training events are scored (a sequence is a user, or a session of one where the log is split into sessions)");
  if (int exit_code = args.parse_or_exit(argc, argv); exit_code >= 0) return exit_code;
  std::string error;
  const bool baselines_only = args.get_bool("baselines-only");
  const auto& pos = args.positional();
  if (pos.size() < (baselines_only ? 1u : 2u)) {
    std::fprintf(stderr, "hunch eval: expected %s (see hunch eval --help)\n",
                 baselines_only ? "EVENTS with --baselines-only" : "MODEL.hunch and EVENTS");
    return 2;
  }
  train::IngestOptions iopt;
  int64_t sampled = 0, threads = 2, seed = 0, membership_targets = 50;
  bool sessions = false;
  double test_fraction = 0.1;
  std::vector<std::string> goal_types;
  if (!ingest_options_from_args(args, &iopt, &error) ||
      !protocol_options_from_args(args, &sessions, &test_fraction, &goal_types, &iopt, &error) ||
      !args.get_int("sampled", 0, 100000, &sampled, &error) ||
      !args.get_int("threads", 1, 256, &threads, &error) ||
      !args.get_int("seed", 0, INT64_MAX, &seed, &error) ||
      !args.get_int("membership-targets", 1, 1 << 20, &membership_targets, &error)) {
    std::fprintf(stderr, "hunch eval: %s\n", error.c_str());
    return 2;
  }
  if (args.given("truth") && !sessions) {
    std::fprintf(stderr, "hunch eval: --truth needs --protocol sessions\n");
    return 2;
  }
  if (args.given("negatives") && sampled == 0) {
    std::fprintf(stderr, "hunch eval: --negatives needs --sampled N (the number of negatives per line to use)\n");
    return 2;
  }
  const bool json = args.get_bool("json");
  const bool membership = args.get_bool("membership");
  if (membership && baselines_only) {
    std::fprintf(stderr, "hunch eval: --membership needs a model\n");
    return 2;
  }
  // Under mpirun every rank reads the log and scores its own users (train/shards.h); rank 0
  // prints and writes, the others stay quiet.
  train::Collective* world = nullptr;
  if (Error e = train::start_collective(&world)) {
    std::fprintf(stderr, "hunch eval: %s\n", e.message.c_str());
    return 1;
  }
  struct EndCollective {
    ~EndCollective() { train::end_collective(); }
  } end_collective_at_exit;
  if (!world->leader() && !std::freopen("/dev/null", "w", stdout)) {
    std::fprintf(stderr, "hunch eval: rank %d: cannot silence stdout\n", world->rank());
    return 1;
  }
  FILE* info = json && world->leader() ? stderr : stdout;

  std::unique_ptr<Model> model;
  train::FixedVocabulary vocab;
  if (!baselines_only) {
    if (Error e = Model::load_file(pos[0], &model)) {
      std::fprintf(stderr, "hunch eval: %s\n", e.message.c_str());
      return 1;
    }
    vocab = train::vocabulary_of(*model);
    iopt.vocabulary = &vocab;
  }
  // EVENTS: the positionals after the model (files, directories, globs), read as one log.
  const std::vector<std::string> inputs(pos.begin() + (baselines_only ? 0 : 1), pos.end());
  const std::string& events = inputs.front();
  train::Dataset ds;
  train::IngestReport irep;
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> files;
  Error read_error = train::expand_inputs(inputs, &files);
  if (!read_error) read_error = train::ingest_files(files, iopt, &ds, &irep);
  if (Error e = read_error) {
    std::fprintf(stderr, "hunch eval: %s\n", e.message.c_str());
    return 1;
  }
  auto t1 = std::chrono::steady_clock::now();
  std::fputs(irep.to_text().c_str(), info);
  std::fprintf(info, "  (read in %.2f s)\n\n", std::chrono::duration<double>(t1 - t0).count());

  if (sessions) {
    // The model's own split fraction and goal unless given.
    if (model && !args.given("test-fraction"))
      if (const MetaEntry* e = model->file().find_meta("hunch.train.test_fraction"); e && e->value.type == MetaType::F32)
        test_fraction = e->value.f;
    if (goal_types.empty()) {
      if (model)
        for (uint32_t t : model->goal_types()) goal_types.push_back(model->type_name(t));
      if (goal_types.empty()) goal_types = train::default_goal_types(ds);
    }
    train::SessionSplit split;
    train::SessionEvalResult sr;
    if (Error e = train::set_goal_types(&ds, goal_types)) {
      std::fprintf(stderr, "hunch eval: %s\n", e.message.c_str());
      return 2;
    }
    if (Error e = train::split_sessions(ds, test_fraction, &split)) {
      std::fprintf(stderr, "hunch eval: %s\n", e.message.c_str());
      return 2;
    }
    std::vector<float> oracle_exit, oracle_conv;
    train::SessionEvalOptions so;
    so.threads = unsigned(threads);
    so.valid = true;
    so.collective = world;
    if (args.given("truth")) {
      if (Error e = train::load_oracle(args.get("truth"), ds, &oracle_exit, &oracle_conv)) {
        std::fprintf(stderr, "hunch eval: %s\n", e.message.c_str());
        return 1;
      }
      so.oracle_exit = &oracle_exit;
      so.oracle_conversion = &oracle_conv;
    }
    train::SessionScoreFn scorer;
    if (model) scorer = train::model_session_scorer(*model, ds, so.threads);
    if (Error e = train::evaluate_sessions(ds, split, scorer, so, &sr)) {
      std::fprintf(stderr, "hunch eval: %s\n", e.message.c_str());
      return 1;
    }
    if (sr.test.points == 0) {
      std::fprintf(stderr, "hunch eval: no held-out session to evaluate (%llu sessions; --test-fraction %.3g)\n",
                   (unsigned long long)split.sessions, test_fraction);
      return 1;
    }
    train::MembershipResult mr;
    if (membership)
      if (int rc = run_membership(*model, ds, &split, membership_targets, unsigned(threads), &mr, world); rc >= 0) return rc;
    if (json) std::printf("%s\n", with_membership(train::session_results_json(sr), membership ? &mr : nullptr).c_str());
    else std::fputs((train::session_results_table(sr) + (membership ? train::membership_text(mr) : "")).c_str(), stdout);
    if (args.given("report") && world->leader()) {
      train::ReportData rd;
      rd.title = "hunch eval (sessions): " + (model ? pos[0] : std::string("baselines")) + " on " + events;
      rd.facts.push_back({"events file", events});
      if (model) rd.facts.push_back({"model", pos[0]});
      rd.ingest = &irep;
      rd.sessions = &sr;
      if (model) rd.facts.push_back({"privacy", train::privacy_summary(*model)});
      if (membership) rd.membership = &mr;
      if (Error e = train::write_report(args.get("report"), rd)) {
        std::fprintf(stderr, "hunch eval: %s\n", e.message.c_str());
        return 1;
      }
      std::fprintf(info, "report written to %s\n", args.get("report").c_str());
    }
    return 0;
  }

  train::Negatives negs;
  train::EvalOptions eopt;
  eopt.exclude_seen = args.get_bool("exclude-seen");
  eopt.threads = static_cast<unsigned>(threads);
  eopt.collective = world;
  if (sampled > 0) {
    if (args.given("negatives")) {
      if (Error e = train::load_negatives(args.get("negatives"), ds, size_t(sampled), &negs)) {
        std::fprintf(stderr, "hunch eval: %s\n", e.message.c_str());
        return 1;
      }
    } else {
      train::draw_negatives(ds, size_t(sampled), uint64_t(seed), &negs);
    }
    eopt.negatives = &negs;
  }
  train::ScoreFn scorer;
  if (model) scorer = train::model_scorer(*model, ds, eopt.threads);
  train::EvalResult result;
  if (Error e = train::evaluate(ds, scorer, eopt, &result)) {
    std::fprintf(stderr, "hunch eval: %s\n", e.message.c_str());
    return 1;
  }
  auto t2 = std::chrono::steady_clock::now();
  train::MembershipResult mr;
  if (membership && result.evaluated > 0)
    if (int rc = run_membership(*model, ds, nullptr, membership_targets, eopt.threads, &mr, world); rc >= 0) return rc;
  if (result.evaluated == 0) {
    // Nothing to report is a failure for scripts reading the exit code, not a warning.
    std::fprintf(stderr, "hunch eval: no sequence has the 3 events leave-one-out needs; nothing was evaluated\n");
    return 1;
  }
  if (json) {
    std::printf("%s\n", with_membership(train::results_json(result), membership ? &mr : nullptr).c_str());
  } else {
    std::fputs(train::results_table(result).c_str(), stdout);
    if (membership) std::fputs(train::membership_text(mr).c_str(), stdout);
    std::printf("  (evaluated in %.2f s, %u threads)\n", std::chrono::duration<double>(t2 - t1).count(), eopt.threads);
  }

  if (args.given("report") && world->leader()) {
    train::ReportData rd;
    rd.title = "hunch eval: " + (model ? pos[0] : std::string("baselines")) + " on " + events;
    if (model) {
      const Hyper& h = model->hyper();
      rd.facts.push_back({"model", pos[0]});
      rd.facts.push_back({"architecture", arch_name(h.arch)});
      rd.facts.push_back({"actions (V)", std::to_string(h.vocab_size)});
      rd.facts.push_back({"event types (T)", std::to_string(h.type_count)});
      rd.facts.push_back({"embedding (D)", std::to_string(h.embed)});
      rd.facts.push_back({"window (W)", std::to_string(h.window)});
      if (hunch::copy_window_of(h) != h.window) rd.facts.push_back({"copy window (Wc)", std::to_string(hunch::copy_window_of(h))});
      rd.facts.push_back({"privacy", train::privacy_summary(*model)});
    }
    if (membership) rd.membership = &mr;
    rd.facts.push_back({"events file", events});
    rd.ingest = &irep;
    rd.eval = &result;
    if (Error e = train::write_report(args.get("report"), rd)) {
      std::fprintf(stderr, "hunch eval: %s\n", e.message.c_str());
      return 1;
    }
    std::fprintf(info, "report written to %s\n", args.get("report").c_str());
  }
  return 0;
}

}  // namespace hunch::cli
