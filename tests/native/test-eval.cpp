// Evaluation: ranks (ties against the target), HR/NDCG/MRR against hand-computed values,
// exclude_seen, sampled negatives, unknown targets, baselines, type and exit metrics, the
// scorer call order, thread independence, and the .hunch scorer against a from-scratch one.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>

#include "model-builder.h"
#include "test-util.h"
#include "train/eval.h"
#include "train/ingest.h"
#include "train/report.h"

using namespace hunch::train;

namespace {

Dataset make_dataset(const std::vector<std::vector<uint32_t>>& seqs, size_t V) {
  Dataset ds;
  ds.actions.push_back("<unk>");
  for (size_t i = 1; i < V; ++i) ds.actions.push_back(std::string(1, char('a' + i - 1)));
  ds.types = {"<none>"};
  ds.offsets.push_back(0);
  for (size_t s = 0; s < seqs.size(); ++s) {
    for (uint32_t a : seqs[s]) {
      ds.action.push_back(a);
      ds.type.push_back(0);
      ds.gap.push_back(0);
      ds.time.push_back(NAN);
    }
    ds.offsets.push_back(ds.action.size());
    ds.sequence_key.push_back(std::to_string(s));
  }
  return ds;
}

// The hand-made case. Training parts: s0 [a b], s1 [b], s2 [d a] (too short: all training),
// s3 [a], s4 [b d] → counts a 3, b 3, c 0, d 2; transitions a→b, d→a, b→d.
Dataset hand_dataset() {
  return make_dataset({{1, 2, 3, 4}, {2, 4, 1}, {4, 1}, {1, 0, 2}, {2, 4}}, 5);
}

// Same scores for every input: a .4, b .3, c .3, d .1. Exit probability = input_len / 10.
ScoreFn fixed_scorer() {
  return [](unsigned, size_t, size_t input_len, Scores* out) -> hunch::Error {
    const float s[5] = {9.0f, 0.4f, 0.3f, 0.3f, 0.1f};  // id 0's score must not matter
    if (out->actions) std::copy(s, s + 5, out->actions);
    out->exit = float(input_len) / 10.0f;
    return {};
  };
}

double nd(int r) { return 1.0 / std::log2(r + 2.0); }

// Expected metrics from ranks (-1 = miss), to compare the baselines against their ranks.
void check_ranks(const RankMetrics& m, const std::vector<int>& ranks) {
  REQUIRE(m.users == ranks.size());
  for (size_t i = 0; i < kNumCutoffs; ++i) {
    double hr = 0, ndcg = 0;
    for (int r : ranks)
      if (r >= 0 && r < kCutoffs[i]) { hr += 1; ndcg += nd(r); }
    CHECK(m.hr[i] == doctest::Approx(hr / ranks.size()));
    CHECK(m.ndcg[i] == doctest::Approx(ndcg / ranks.size()));
  }
  double mrr = 0;
  for (int r : ranks)
    if (r >= 0) mrr += 1.0 / (r + 1);
  CHECK(m.mrr == doctest::Approx(mrr / ranks.size()));
}

std::string temp_path(const std::string& name) {
  return "/tmp/hunch-test-eval-" + std::to_string(getpid()) + "-" + name;
}

}  // namespace

TEST_CASE("full ranking: ties count against the target; NDCG = 1/log2(rank+2); MRR") {
  Dataset ds = hand_dataset();
  EvalOptions opt;
  opt.threads = 1;
  EvalResult r;
  REQUIRE(evaluate(ds, fixed_scorer(), opt, &r).ok());
  CHECK(r.sequences == 5);
  CHECK(r.evaluated == 3);
  const MethodResult* m = r.find("model");
  REQUIRE(m);
  // Test targets: s0 d (.1) → a, b, c above: rank 3; s1 a (.4) → 0; s3 b (.3) → a and the tie c: 2.
  const RankMetrics& t = m->test.full;
  CHECK(t.users == 3);
  CHECK(t.hr_at(1) == doctest::Approx(1.0 / 3));
  CHECK(t.hr_at(5) == doctest::Approx(1.0));
  CHECK(t.ndcg_at(1) == doctest::Approx(1.0 / 3));
  CHECK(t.ndcg_at(5) == doctest::Approx((1 / std::log2(5.0) + 1 + 1 / std::log2(4.0)) / 3));
  CHECK(t.ndcg_at(10) == doctest::Approx(0.6435589));
  CHECK(t.mrr == doctest::Approx((0.25 + 1 + 1.0 / 3) / 3));
  // Validation: s0 c (.3) → a, tie b: 2; s1 d → 3; s3's target is <unk>: a miss, counted.
  CHECK(m->valid.unknown_targets == 1);
  CHECK(m->test.unknown_targets == 0);
  CHECK(m->valid.full.users == 3);
  CHECK(m->valid.full.hr_at(1) == 0);
  CHECK(m->valid.full.hr_at(5) == doctest::Approx(2.0 / 3));
  CHECK(m->valid.full.ndcg_at(5) == doctest::Approx((0.5 + 1 / std::log2(5.0)) / 3));
  CHECK(m->valid.full.mrr == doctest::Approx((1.0 / 3 + 0.25) / 3));
  CHECK(std::isnan(m->test.type_accuracy));  // no types in the data
  // Exit AUC: positives {.4 .3 .3}, negatives {.3 .2 .2}: 8 of 9 pairs (the .3/.3 tie halves).
  CHECK(m->exit_auc == doctest::Approx(8.0 / 9));
}

TEST_CASE("exclude_seen masks the input history except the target") {
  Dataset ds = hand_dataset();
  EvalOptions opt;
  opt.exclude_seen = true;
  EvalResult r;
  REQUIRE(evaluate(ds, fixed_scorer(), opt, &r).ok());
  const MethodResult* m = r.find("model");
  // Test: s0 history {a b c} masked → d ranks 0; s1 → 0; s3 history {a, <unk>} → only the tie c: 1.
  check_ranks(m->test.full, {0, 0, 1});
  // Valid: s0 history {a b} → 0; s1 history {b} → a, c above d: 2; s3 miss.
  check_ranks(m->valid.full, {0, 2, -1});
}

TEST_CASE("baselines: popularity and first-order Markov on the same split") {
  Dataset ds = hand_dataset();
  EvalOptions opt;
  EvalResult r;
  REQUIRE(evaluate(ds, ScoreFn(), opt, &r).ok());
  REQUIRE(r.methods.size() == 2);
  const MethodResult* pop = r.find("popularity");
  const MethodResult* mk = r.find("markov");
  REQUIRE(pop);
  REQUIRE(mk);
  // Popularity a 3, b 3, c 0, d 2.
  check_ranks(pop->valid.full, {3, 2, -1});
  check_ranks(pop->test.full, {2, 1, 1});
  // Markov: s0 valid after b: b→d puts d first, target c last (3); s1 valid after b: d is the
  // target (0). Test: after c and after <unk> no transitions (popularity); s1 after d: d→a (0).
  check_ranks(mk->valid.full, {3, 0, -1});
  check_ranks(mk->test.full, {2, 0, 1});
  CHECK(std::isnan(pop->exit_auc));
  // The table names the better baseline.
  std::string table = results_table(r);
  CHECK(table.find("popularity") != std::string::npos);
  CHECK(table.find("markov") != std::string::npos);
}

TEST_CASE("sampled metric with a negatives file; file errors name file:line") {
  Dataset ds = hand_dataset();
  std::string path = temp_path("negatives.txt");
  std::string text =
      "valid 0 d b\nvalid 1 c zzz extra\nvalid 3 b c\n"
      "test 0 a c\ntest 1 c b\ntest 3 c d\ntest 99 a b\n";
  REQUIRE(hunch_test::write_file(path, std::vector<uint8_t>(text.begin(), text.end())));
  Negatives negs;
  REQUIRE(load_negatives(path, ds, 2, &negs).ok());
  CHECK(negs.out_of_vocabulary == 1);  // zzz
  CHECK(negs.unknown_users == 1);      // 99
  CHECK(negs.valid[1] == std::vector<uint32_t>{3, 0});
  EvalOptions opt;
  opt.negatives = &negs;
  EvalResult r;
  REQUIRE(evaluate(ds, fixed_scorer(), opt, &r).ok());
  CHECK(r.sampled_negatives == 2);
  const MethodResult* m = r.find("model");
  // Test: s0 d vs {a c}: 2; s1 a vs {c b}: 0; s3 b vs {c (tie), d}: 1.
  check_ranks(m->test.sampled, {2, 0, 1});
  // Valid: s0 c vs {d b (tie)}: 1; s1 d vs {c, unknown}: 1; s3 miss.
  check_ranks(m->valid.sampled, {1, 1, -1});
  CHECK(results_json(r).find("\"sampled_HR@10\"") != std::string::npos);

  auto fails = [&](const std::string& t, const std::string& expect) {
    REQUIRE(hunch_test::write_file(path, std::vector<uint8_t>(t.begin(), t.end())));
    hunch::Error e = load_negatives(path, ds, 2, &negs);
    CHECK_MESSAGE(e.message.find(expect) != std::string::npos, e.message);
  };
  fails("valid 0 d b\ntrain 1 c b\n", ":2: expected 'valid' or 'test' first, got 'train'");
  fails("valid 0 d\n", ":1: 1 negatives for user 0, expected 2");
  fails("valid 0 d b\nvalid 1 c b\nvalid 3 b c\ntest 0 a c\ntest 1 c b\n", "no 'test' line for user 3");
  fails("valid 0 d b\nvalid 0 d b\n", ":2: second 'valid' line for user 0");
  CHECK(!load_negatives(temp_path("missing.txt"), ds, 2, &negs).ok());
  std::remove(path.c_str());
}

TEST_CASE("drawn negatives: distinct, never in the sequence, deterministic") {
  std::vector<std::vector<uint32_t>> seqs;
  for (uint32_t s = 0; s < 30; ++s) seqs.push_back({1 + s % 7, 2 + s % 5, 3 + s % 11, 4 + s % 3});
  Dataset ds = make_dataset(seqs, 40);
  Negatives a, b;
  draw_negatives(ds, 10, 2024, &a);
  draw_negatives(ds, 10, 2024, &b);
  CHECK(a.valid == b.valid);
  CHECK(a.test == b.test);
  CHECK(a.valid != a.test);
  for (size_t s = 0; s < ds.sequences(); ++s) {
    for (const auto* list : {&a.valid[s], &a.test[s]}) {
      REQUIRE(list->size() == 10);
      std::vector<uint32_t> sorted = *list;
      std::sort(sorted.begin(), sorted.end());
      CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
      for (uint32_t n : *list) {
        CHECK(n != 0);
        for (uint64_t i = ds.offsets[s]; i < ds.offsets[s + 1]; ++i) CHECK(ds.action[i] != n);
      }
    }
  }
}

TEST_CASE("type accuracy and macro-F1") {
  // Four sequences of three events; test target types view, view, buy, buy.
  Dataset ds = make_dataset({{1, 2, 3}, {2, 3, 1}, {3, 1, 2}, {1, 3, 2}}, 4);
  ds.types = {"<none>", "view", "buy"};
  ds.type = {1, 1, 1, 1, 2, 1, 2, 1, 2, 1, 2, 2};
  ScoreFn always_view = [](unsigned, size_t, size_t, Scores* out) -> hunch::Error {
    if (out->actions) std::fill(out->actions, out->actions + 4, 0.0f);
    if (out->types) { out->types[0] = 5; out->types[1] = 1; out->types[2] = 0.5f; }  // <none> never predicted
    return {};
  };
  EvalOptions opt;
  EvalResult r;
  REQUIRE(evaluate(ds, always_view, opt, &r).ok());
  const MethodResult* m = r.find("model");
  CHECK(m->test.type_targets == 4);
  CHECK(m->test.type_accuracy == doctest::Approx(0.5));
  // view: tp 2, fp 2 → F1 2/3; buy: tp 0, fn 2 → 0.
  CHECK(m->test.type_macro_f1 == doctest::Approx(1.0 / 3));
  CHECK(std::isnan(m->exit_auc));  // the scorer reports no exit probability
  // Baseline types: training types are view ×3, buy ×1 → popularity always says view.
  CHECK(r.find("popularity")->test.type_accuracy == doctest::Approx(0.5));
}

TEST_CASE("scorer calls: n-2, n-1, n consecutively per sequence on one thread") {
  std::vector<std::vector<uint32_t>> seqs;
  for (uint32_t s = 0; s < 50; ++s) seqs.push_back(std::vector<uint32_t>(2 + s % 6, 1 + s % 3));
  Dataset ds = make_dataset(seqs, 4);
  std::mutex mu;
  std::map<unsigned, std::vector<std::pair<size_t, size_t>>> calls;
  ScoreFn rec = [&](unsigned thread, size_t s, size_t len, Scores* out) -> hunch::Error {
    std::lock_guard<std::mutex> lock(mu);
    calls[thread].emplace_back(s, len);
    if (out->actions) std::fill(out->actions, out->actions + 4, 0.0f);
    return {};
  };
  EvalOptions opt;
  opt.threads = 2;
  EvalResult r;
  REQUIRE(evaluate(ds, rec, opt, &r).ok());
  size_t total = 0;
  for (auto& kv : calls) {
    CHECK(kv.first < 2);
    auto& c = kv.second;
    REQUIRE(c.size() % 3 == 0);
    for (size_t i = 0; i < c.size(); i += 3) {
      size_t s = c[i].first, n = ds.length(s);
      CHECK(c[i + 1].first == s);
      CHECK(c[i + 2].first == s);
      CHECK(c[i].second == n - 2);
      CHECK(c[i + 1].second == n - 1);
      CHECK(c[i + 2].second == n);
    }
    total += c.size();
  }
  CHECK(total == 3 * r.evaluated);
  // A failing scorer stops the evaluation with its message.
  ScoreFn bad = [](unsigned, size_t, size_t, Scores*) { return hunch::Error("boom"); };
  CHECK(evaluate(ds, bad, opt, &r).message.find("boom") != std::string::npos);
}

TEST_CASE("results do not depend on the thread count") {
  std::vector<std::vector<uint32_t>> seqs;
  uint32_t x = 12345;
  for (int s = 0; s < 300; ++s) {
    std::vector<uint32_t> q;
    for (int i = 0; i < 3 + s % 9; ++i) {
      x = x * 1664525u + 1013904223u;
      q.push_back(x % 40);
    }
    seqs.push_back(q);
  }
  Dataset ds = make_dataset(seqs, 40);
  ScoreFn hashy = [](unsigned, size_t s, size_t len, Scores* out) -> hunch::Error {
    if (out->actions)
      for (uint32_t j = 0; j < 40; ++j) out->actions[j] = float((s * 31 + len * 17 + j * 7) % 13);
    out->exit = float((s + len) % 5);
    return {};
  };
  Negatives negs;
  draw_negatives(ds, 5, 7, &negs);
  EvalOptions opt;
  opt.negatives = &negs;
  opt.exclude_seen = true;
  EvalResult one, two;
  opt.threads = 1;
  REQUIRE(evaluate(ds, hashy, opt, &one).ok());
  opt.threads = 2;
  REQUIRE(evaluate(ds, hashy, opt, &two).ok());
  CHECK(results_json(one) == results_json(two));
  CHECK(one.methods[0].test.full.mrr == two.methods[0].test.full.mrr);  // bit-identical sums
}

TEST_CASE("the .hunch scorer (incremental, 2 threads) equals a from-scratch Sequence per input") {
  hunch_test::ModelSpec spec;
  spec.hyper.vocab_size = 20;
  spec.hyper.type_count = 3;
  spec.seed = 7;
  for (bool int8 : {false, true}) {
    spec.int8 = int8;
    std::vector<uint8_t> bytes = hunch_test::build_model(spec);
    std::unique_ptr<hunch::Model> model;
    REQUIRE(hunch::Model::load(bytes.data(), bytes.size(), &model).ok());
    // Data in the model's vocabulary, through ingestion.
    FixedVocabulary vocab = vocabulary_of(*model);
    std::string csv = "user,time,action,type\n";
    uint32_t x = 99;
    for (int i = 0; i < 400; ++i) {
      x = x * 1664525u + 1013904223u;
      csv += "u" + std::to_string(i % 23) + "," + std::to_string(1000 + i * 37) + "," +
             vocab.actions[1 + (x >> 8) % 19] + "," + vocab.types[(x >> 4) % 3] + "\n";
    }
    IngestOptions iopt;
    iopt.vocabulary = &vocab;
    iopt.session_gap = 0;
    Dataset ds;
    IngestReport rep;
    REQUIRE(ingest_buffer("m.csv", csv, iopt, &ds, &rep).ok());
    REQUIRE(ds.sequences() == 23);

    ScoreFn fresh = [&](unsigned, size_t s, size_t len, Scores* out) -> hunch::Error {
      hunch::Sequence seq(*model);
      for (size_t i = 0; i < len; ++i) {
        hunch::Event e;
        e.action = ds.action[ds.offsets[s] + i];
        e.type = ds.type[ds.offsets[s] + i];
        e.time = ds.time[ds.offsets[s] + i];
        if (hunch::Error err = seq.push(e)) return err;
      }
      if (out->actions) std::copy(seq.action_logits(), seq.action_logits() + 20, out->actions);
      if (out->types) std::copy(seq.type_probabilities().begin(), seq.type_probabilities().end(), out->types);
      out->exit = seq.exit_probability();
      return {};
    };
    EvalOptions opt;
    opt.threads = 2;
    EvalResult a, b;
    REQUIRE(evaluate(ds, model_scorer(*model, ds, 2), opt, &a).ok());
    opt.threads = 1;
    REQUIRE(evaluate(ds, fresh, opt, &b).ok());
    CHECK(results_json(a) == results_json(b));
    CHECK(a.methods[0].test.full.users == 23);
    CHECK(!std::isnan(a.methods[0].exit_auc));
    CHECK(!std::isnan(a.methods[0].test.type_accuracy));
  }
}

TEST_CASE("evaluate refuses inconsistent input") {
  Dataset ds = hand_dataset();
  Dataset empty_vocab = ds;
  empty_vocab.actions = {"<unk>"};
  EvalResult r;
  CHECK(!evaluate(empty_vocab, fixed_scorer(), EvalOptions(), &r).ok());
  Negatives wrong;
  wrong.valid.resize(2);
  wrong.test.resize(2);
  EvalOptions opt;
  opt.negatives = &wrong;
  CHECK(!evaluate(ds, fixed_scorer(), opt, &r).ok());
}

TEST_CASE("HTML report: self-contained, escaped, renders the sections that have data") {
  Dataset ds = hand_dataset();
  EvalResult r;
  REQUIRE(evaluate(ds, fixed_scorer(), EvalOptions(), &r).ok());
  ReportData d;
  d.title = "run <1> & \"2\"";
  d.facts = {{"architecture", "lstm-attn"}};
  d.eval = &r;
  std::string html = render_report(d);
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("run &lt;1&gt; &amp; &quot;2&quot;") != std::string::npos);
  CHECK(html.find("<svg") != std::string::npos);         // HR@k chart
  CHECK(html.find("NDCG@10") != std::string::npos);
  CHECK(html.find("Training") == std::string::npos);     // no epochs given
  CHECK(html.find("Quantisation") == std::string::npos);
  CHECK(html.find("http://") == html.find("http://www.w3.org/2000/svg"));  // only the SVG namespace
  CHECK(html.find("<script") == std::string::npos);
  // The model against the better baseline, with its interval (intervals.h), as evaluate set it.
  CHECK((r.best_baseline == "popularity" || r.best_baseline == "markov"));
  r.vs_best.ratio = 1.25;
  r.vs_best.ratio_lo = 0.9;
  r.vs_best.ratio_hi = INFINITY;
  r.vs_best.model_lo = 0.1;
  r.vs_best.model_hi = 0.3;
  r.vs_best.units = 12;
  r.vs_best.resamples = 1000;
  html = render_report(d);
  CHECK(html.find("NDCG@10, model / the best baseline (" + r.best_baseline + "): <b>1.25</b>; 95% interval 0.90 to "
                  "unbounded (model NDCG@10 0.1000 to 0.3000), a paired bootstrap over 12 users, 1000 resamples.") !=
        std::string::npos);

  d.epochs = {{1, 7.5, 0.05, 10}, {2, 6.9, 0.08, 10}, {3, 6.7, 0.09, 11}};
  QuantizationReport q;
  q.tensors = {{"emb.action", 0.0031}};
  q.float_metrics = {{"NDCG@10", 0.100}};
  q.int8_metrics = {{"NDCG@10", 0.099}};
  q.float_bytes = 1000;
  q.int8_bytes = 280;
  d.quantization = &q;
  html = render_report(d);
  CHECK(html.find("validation NDCG@10") != std::string::npos);
  CHECK(html.find("emb.action") != std::string::npos);
  CHECK(html.find("-1.00%") != std::string::npos);  // int8 vs float
  CHECK(html.find("28.0%") != std::string::npos);   // size ratio

  std::string path = temp_path("report.html");
  REQUIRE(write_report(path, d).ok());
  auto bytes = hunch_test::read_file(path);
  CHECK(std::string(bytes.begin(), bytes.end()) == html);
  std::remove(path.c_str());
  CHECK(!write_report("/nonexistent-dir/x.html", d).ok());
}

#ifdef HUNCH_CLI_PATH
namespace {
// Runs the CLI from the repository root; returns the exit code, output in *out.
int run_cli(const std::string& args, std::string* out, bool with_stderr = true) {
  out->clear();
  return hunch_test::run_command(std::string("cd '") + HUNCH_SOURCE_DIR + "' && '" + HUNCH_CLI_PATH + "' " + args +
                                     (with_stderr ? " 2>&1" : " 2>/dev/null"),
                                 out);
}
}  // namespace

TEST_CASE("hunch eval: baselines table, --json, strict errors and usage errors") {
  std::string out;
  CHECK(run_cli("eval --baselines-only tests/data/events/pairs.txt --session-gap 0 --min-count 1", &out) == 0);
  CHECK(out.find("kept events") != std::string::npos);
  CHECK(out.find("popularity") != std::string::npos);
  CHECK(out.find("NDCG@10") != std::string::npos);

  CHECK(run_cli("eval --baselines-only tests/data/events/pairs.txt --session-gap 0 --min-count 1 --json", &out, false) == 0);
  CHECK(out.rfind("{\"popularity\": {\"HR@1\": ", 0) == 0);
  CHECK(out.find("\"markov\": {") != std::string::npos);
  CHECK(out.find("\"users\": 2") != std::string::npos);  // users 1 and 2 have >= 3 events

  CHECK(run_cli("eval --baselines-only tests/data/events/cleaning.csv --strict", &out) == 1);
  CHECK(out.find("cleaning.csv:6: column 'user': missing value") != std::string::npos);

  CHECK(run_cli("eval --baselines-only tests/data/events/pairs.txt --bogus", &out) == 2);
  CHECK(out.find("unknown option '--bogus'") != std::string::npos);
  CHECK(run_cli("eval --baselines-only tests/data/events/pairs.txt --session-gap soon", &out) == 2);
  CHECK(out.find("--session-gap: expected a number, got 'soon'") != std::string::npos);
  CHECK(run_cli("eval tests/data/events/pairs.txt", &out) == 2);  // model missing
  CHECK(run_cli("eval tests/data/events/pairs.txt tests/data/events/pairs.txt", &out) == 1);  // not a model
  CHECK(run_cli("eval --help", &out) == 0);
  CHECK(out.find("--exclude-seen") != std::string::npos);
}
#endif
