// The session protocol (train/sessions.h): whole-user ingestion with session flags, the split by
// session start time, goal and censoring labels, the baselines' metrics on logs whose answers
// are known, training from every session end, the conversion head and the calibration through
// the core, and the CLI (`--protocol sessions`).
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include "hunch/format.h"
#include "hunch/model.h"
#include "hunch/sequence.h"
#include "test-util.h"
#include "train/export.h"
#include "train/ingest.h"
#include "train/sessions.h"
#include "train/trainer.h"

using namespace hunch::train;

namespace {

std::string temp_file(const std::string& name) {
  return "/tmp/hunch-test-sessions-" + std::to_string(getpid()) + "-" + name;
}

Dataset read_log(const std::string& csv, double gap = 1800) {
  IngestOptions o;
  o.whole_users = true;
  o.min_length = 1;
  o.min_count = 1;
  o.session_gap = gap;
  Dataset d;
  IngestReport r;
  hunch::Error e = ingest_buffer("log.csv", csv, o, &d, &r);
  REQUIRE_MESSAGE(e.ok(), e.message);
  return d;
}

// A shop-like log: every user has `sessions` sessions a day apart (+ 1000 s per user), each
// home → product → (cart → purchase | leave), sessions of buyers end with a purchase.
std::string shop_log(int users, int sessions) {
  std::string csv = "user,time,action,type\n";
  for (int u = 0; u < users; ++u)
    for (int s = 0; s < sessions; ++s) {
      double t = 1e9 + u * 1000.0 + s * 86400.0;
      const bool buys = (u + s) % 3 == 0;
      const std::string user = "u" + std::to_string(u);
      csv += user + "," + std::to_string(t) + ",home,view\n";
      csv += user + "," + std::to_string(t + 10) + ",p" + std::to_string((u + s) % 4) + ",view\n";
      if (buys) {
        csv += user + "," + std::to_string(t + 20) + ",cart,add_to_cart\n";
        csv += user + "," + std::to_string(t + 30) + ",done,purchase\n";
      } else {
        csv += user + "," + std::to_string(t + 20) + ",bye,leave\n";
      }
    }
  return csv;
}

}  // namespace

TEST_CASE("whole-user ingestion marks sessions; the split orders them by start time, a prefix per user") {
  // u1: sessions at 0 and 10000; u2: at 5000 and 20000; u3: one at 30000.
  Dataset d = read_log(
      "user,time,action\n"
      "u1,1000000000,a\nu1,1000000010,b\nu1,1000010000,c\n"
      "u2,1000005000,a\nu2,1000020000,b\nu2,1000020100,c\n"
      "u3,1000030000,d\n");
  REQUIRE(d.sequences() == 3);
  CHECK(d.sequence_key[0] == "u1");
  CHECK(d.flags[0] == kSessionStart);
  CHECK(d.flags[1] == kSessionEnd);
  CHECK((d.flags[2] & (kSessionStart | kSessionEnd)) == (kSessionStart | kSessionEnd));
  SessionSplit s;
  REQUIRE(split_sessions(d, 0.2, &s).ok());
  CHECK(s.sessions == 5);
  CHECK(s.test_sessions == 1);   // floor(5 * 0.2)
  CHECK(s.valid_sessions == 1);
  CHECK(s.train_sessions == 3);
  // Latest start: u3 at 30000 → test; then u2 at 20000 → validation.
  CHECK(s.test_begin[2] == d.offsets[2]);
  CHECK(s.valid_begin[1] == d.offsets[1] + 1);
  CHECK(s.test_begin[1] == d.offsets[2]);  // none: the sequence end
  CHECK(s.valid_begin[0] == d.offsets[1]);  // u1 all training
  CHECK(s.train_events == 4);  // u1's 3 events and u2's first session
  CHECK(!split_sessions(d, 0.5, &s).ok());

  // Training windows cover each training event exactly once and end at the part's end.
  auto samples = session_training_samples(d, s, 2);
  uint64_t covered = 0;
  for (const Sample& x : samples) {
    covered += x.len;
    CHECK(x.begin + x.len <= x.target_end);
    CHECK(x.ends);
  }
  CHECK(covered == s.train_events);
}

TEST_CASE("goal types: conversion labels within the session; an absent goal names the types seen") {
  Dataset d = read_log(
      "user,time,action,type\n"
      "u,1000000000,a,view\nu,1000000010,b,view\nu,1000000020,c,purchase\nu,1000000030,d,view\n"
      "u,1000009000,a,view\nu,1000009010,b,view\n");
  REQUIRE(set_goal_types(&d, {"purchase"}).ok());
  CHECK((d.flags[0] & kConverts) != 0);
  CHECK((d.flags[1] & kConverts) != 0);
  CHECK((d.flags[2] & kConverts) == 0);  // strictly after
  CHECK((d.flags[2] & kGoal) != 0);
  CHECK((d.flags[3] & kConverts) == 0);
  CHECK((d.flags[4] & kConverts) == 0);  // the next session has no purchase
  CHECK(default_goal_types(d) == std::vector<std::string>{"purchase"});
  hunch::Error e = set_goal_types(&d, {"order"});
  REQUIRE(!e.ok());
  CHECK(e.message.find("'order' is not an event type") != std::string::npos);
  CHECK(e.message.find("purchase") != std::string::npos);
  CHECK(e.message.find("view") != std::string::npos);
}

TEST_CASE("sessions the log's end may cut are censored: their end and missing conversions are unknown") {
  Dataset d = read_log(
      "user,time,action\n"
      "u1,1000000000,a\nu1,1000000010,b\n"
      "u2,1000005000,a\nu2,1000005100,b\n");
  CHECK((d.flags[0] & kCensored) == 0);
  CHECK((d.flags[2] & kCensored) != 0);  // within 1800 s of the last time
  CHECK((d.flags[3] & kCensored) != 0);
}

TEST_CASE("baselines on a log with known answers: Markov, repeat, the logistic exit baseline") {
  Dataset d = read_log(shop_log(60, 6));
  REQUIRE(set_goal_types(&d, default_goal_types(d)).ok());
  REQUIRE(d.goal_types == std::vector<std::string>{"purchase"});
  SessionSplit s;
  REQUIRE(split_sessions(d, 0.1, &s).ok());
  SessionEvalOptions o;
  o.threads = 2;
  SessionEvalResult r;
  REQUIRE(evaluate_sessions(d, s, {}, o, &r).ok());
  const SessionSplitResult& t = r.test;
  REQUIRE(t.points > 0);
  const SessionMethod* mk = t.find("markov");
  const SessionMethod* lr = t.find("logistic");
  REQUIRE(mk);
  REQUIRE(lr);
  CHECK(t.find("model") == nullptr);
  CHECK(t.find("repeat"));
  // After "cart" always "done"; after "home" one of 4 products: Markov is right at rank 0 after
  // the cart, and HR@10 is 1 everywhere (the vocabulary is small).
  CHECK(mk->rank.hr_at(10) == doctest::Approx(1.0));
  // A session ends right after "purchase" or "leave" and nowhere else: the last type alone
  // separates exits perfectly.
  CHECK(lr->exit.auc > 0.99);
  CHECK(lr->exit.ece < 0.05);
  // Conversions follow home/product/cart of buying sessions only: position and type tell much.
  CHECK(lr->conversion.auc > 0.6);
  CHECK(r.unscored.empty());
  // Reliability bins sum to the points scored.
  uint64_t n = 0;
  for (int b = 0; b < BinaryMetrics::kBins; ++b) n += lr->exit.bin_n[b];
  CHECK(n == lr->exit.n);
  // The JSON names every method and the unscored map.
  const std::string j = session_results_json(r);
  CHECK(j.find("\"protocol\": \"sessions\"") != std::string::npos);
  CHECK(j.find("\"logistic\": {") != std::string::npos);
  CHECK(j.find("\"by_position\": [") != std::string::npos);
  CHECK(session_results_table(r).find("exit") != std::string::npos);
}

TEST_CASE("a log without types or goals says which metrics it cannot score") {
  Dataset d = read_log(
      "user,time,action\n"
      "u1,1000000000,a\nu1,1000000010,b\nu1,1000009000,a\nu1,1000009010,c\n"
      "u2,1000020000,a\nu2,1000020010,b\nu2,1000030000,a\nu2,1000030010,b\nu2,1000040000,x\n");
  REQUIRE(set_goal_types(&d, default_goal_types(d)).ok());
  SessionSplit s;
  REQUIRE(split_sessions(d, 0.2, &s).ok());
  SessionEvalResult r;
  REQUIRE(evaluate_sessions(d, s, {}, SessionEvalOptions(), &r).ok());
  CHECK(r.unscored.count("types"));
  CHECK(r.unscored.at("conversion").find("no event types") != std::string::npos);
  CHECK(r.unscored.count("exit"));  // the test session is at the log's end: censored
  CHECK(session_results_table(r).find("not scored: types") != std::string::npos);
}

TEST_CASE("trained on sessions: exit and conversion heads learn, calibration and the head reach the core") {
  Dataset d = read_log(shop_log(80, 8));
  REQUIRE(set_goal_types(&d, {"purchase"}).ok());
  SessionSplit s;
  REQUIRE(split_sessions(d, 0.1, &s).ok());
  TrainOptions o;
  o.net.hyper.arch = hunch::Arch::LSTM_ATTN;
  o.net.hyper.vocab_size = uint32_t(d.actions.size());
  o.net.hyper.type_count = uint32_t(d.types.size());
  o.net.hyper.gap_buckets = uint32_t(d.gap_edges.size() + 2);
  o.net.hyper.embed = 16;
  o.net.hyper.hidden = 16;
  o.net.hyper.attn_size = 8;
  o.net.hyper.window = 8;
  o.net.hyper.conversion = 1;
  o.net.hyper.session_inputs = 1;  // position in session and sessions so far as inputs
  o.net.session_gap = 1800;
  o.epochs = 12;
  o.batch = 16;
  o.lr = 1e-2f;
  o.warmup_steps = 5;
  o.patience = 0;
  o.progress = false;
  o.threads = 2;
  o.sessions = &s;
  o.weights = LossWeights{1.0f, 1.0f, 1.0f, 1.0f};
  auto net = make_net(o.net, o.seed);
  TrainResult res;
  REQUIRE(train(d, o, net.get(), &res).ok());
  CHECK(res.best_valid_hr_10 > 0.9);

  // Calibration fitted on validation, then the same numbers from the f32 net and the core.
  CalibrationData cd;
  REQUIRE(collect_calibration(d, s, net_session_scorer(*net, d, 2), true, 2, d.types.size(), &cd).ok());
  CHECK(!cd.exit_logit.empty());
  fit_platt(cd.exit_logit, cd.exit_label, &net->calibration.exit_a, &net->calibration.exit_b);
  net->calibration.conversion_a = 1.5f;  // not identity, to see the core apply it
  net->calibration.conversion_b = -0.25f;
  net->calibration.type_temperature = 1.25f;
  hunch::ModelWriter w;
  write_network(*net, d, &w);
  std::vector<uint8_t> bytes;
  REQUIRE(w.serialize(&bytes).ok());
  std::unique_ptr<hunch::Model> model;
  hunch::Error e = hunch::Model::load(bytes.data(), bytes.size(), &model);
  REQUIRE_MESSAGE(e.ok(), e.message);
  CHECK(model->hyper().conversion == 1);
  REQUIRE(model->goal_types().size() == 1);
  CHECK(model->type_name(model->goal_types()[0]) == "purchase");
  CHECK(model->calibration().type_temperature == 1.25f);
  CHECK(model->hyper().session_inputs == 1);
  CHECK(model->session_gap() == 1800);

  SessionEvalOptions eo;
  eo.threads = 2;
  SessionEvalResult from_net, from_core;
  REQUIRE(evaluate_sessions(d, s, net_session_scorer(*net, d, 2), eo, &from_net).ok());
  REQUIRE(evaluate_sessions(d, s, model_session_scorer(*model, d, 2), eo, &from_core).ok());
  const SessionMethod* a = from_net.test.find("model");
  const SessionMethod* b = from_core.test.find("model");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->exit.logloss == doctest::Approx(b->exit.logloss).epsilon(1e-4));
  CHECK(a->conversion.logloss == doctest::Approx(b->conversion.logloss).epsilon(1e-4));
  CHECK(a->type_logloss == doctest::Approx(b->type_logloss).epsilon(1e-4));
  CHECK(a->rank.ndcg_at(10) == doctest::Approx(b->rank.ndcg_at(10)).epsilon(1e-6));
  // The exits of this log follow its last event type: the head learns them.
  CHECK(b->exit.auc > 0.95);
  CHECK(b->conversion.auc > 0.7);

  // A saved and restored sequence gives the same conversion probability (it is not saved: the
  // core recomputes it).
  hunch::Sequence q1(*model), q2(*model);
  CHECK(std::isfinite(q1.conversion_probability()));
  for (size_t i = 0; i < 5; ++i) REQUIRE(q1.push({d.action[i], d.type[i], d.time[i]}).ok());  // two sessions
  std::vector<uint8_t> state;
  q1.save(&state, hunch::StateEncoding::F32);  // exact rings: the next step must score the same
  REQUIRE(q2.restore(state.data(), state.size()).ok());
  CHECK(q2.conversion_probability() == q1.conversion_probability());
  // The session counters came back too: the next event scores the same in both.
  REQUIRE(q1.push({d.action[5], d.type[5], d.time[5]}).ok());
  REQUIRE(q2.push({d.action[5], d.type[5], d.time[5]}).ok());
  CHECK(q2.exit_probability() == q1.exit_probability());
  state.back() ^= 1;  // a damaged CRC is refused
  CHECK(!q2.restore(state.data(), state.size()).ok());
  CHECK(q1.conversion_probability() > 0.f);

  // The head without goal types, and a calibration scale <= 0, are refused.
  Dataset no_goal = d;
  no_goal.goal_types.clear();
  hunch::ModelWriter w2;
  write_network(*net, no_goal, &w2);
  REQUIRE(w2.serialize(&bytes).ok());
  e = hunch::Model::load(bytes.data(), bytes.size(), &model);
  CHECK(e.message.find("hunch.conversion.goal_types is empty") != std::string::npos);
  net->calibration.exit_a = -1;
  hunch::ModelWriter w3;
  write_network(*net, d, &w3);
  REQUIRE(w3.serialize(&bytes).ok());
  e = hunch::Model::load(bytes.data(), bytes.size(), &model);
  CHECK(e.message.find("hunch.calibration.exit[0] = -1 must be > 0") != std::string::npos);
}

TEST_CASE("Platt scaling and the type temperature recover what was applied") {
  // Labels drawn from sigmoid(2x - 1): the fit finds a ≈ 2, b ≈ -1 from the raw x.
  Rng rng(5);
  std::vector<float> x;
  std::vector<uint8_t> y;
  for (int k = 0; k < 20000; ++k) {
    const float v = float(rng.normal()) * 2;
    x.push_back(v);
    y.push_back(rng.uniform() < 1 / (1 + std::exp(-(2 * v - 1))) ? 1 : 0);
  }
  float a = 0, b = 0;
  fit_platt(x, y, &a, &b);
  CHECK(a == doctest::Approx(2).epsilon(0.08));
  CHECK(b == doctest::Approx(-1).epsilon(0.1));
  // Raw logits 40× too sharp (a head far out on the sigmoid): the damped steps still converge.
  std::vector<float> sharp;
  for (float v : x) sharp.push_back(40 * v);
  fit_platt(sharp, y, &a, &b);
  CHECK(a == doctest::Approx(2.0 / 40).epsilon(0.1));
  CHECK(b == doctest::Approx(-1).epsilon(0.15));
  std::vector<uint8_t> all_ones(x.size(), 1);
  fit_platt(x, all_ones, &a, &b);  // one class: identity
  CHECK(a == 1);
  CHECK(b == 0);
  // Types: logits 3× too sharp → temperature ≈ 3.
  std::vector<float> logits;
  std::vector<uint32_t> target;
  for (int k = 0; k < 5000; ++k) {
    const float z[3] = {0, float(rng.normal()), float(rng.normal())};
    double p1 = std::exp(z[1]), p2 = std::exp(z[2]);
    const double s = 1 + p1 + p2;
    const double u = rng.uniform();
    target.push_back(u < 1 / s ? 0 : u < (1 + p1) / s ? 1 : 2);
    for (float v : z) logits.push_back(3 * v);
  }
  CHECK(fit_temperature(logits, target, 3) == doctest::Approx(3).epsilon(0.1));
}

#ifdef HUNCH_CLI_PATH
namespace {
int run_cli(const std::string& args, std::string* out) {
  out->clear();
  return hunch_test::run_command(std::string("cd '") + HUNCH_SOURCE_DIR + "' && '" + HUNCH_CLI_PATH + "' " + args + " 2>&1",
                                 out);
}
// The CLI tests' log: shop_log(60, 8) written to path.
void write_shop_log(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "w");
  REQUIRE(f);
  const std::string csv = shop_log(60, 8);
  std::fwrite(csv.data(), 1, csv.size(), f);
  std::fclose(f);
}
}  // namespace

TEST_CASE("hunch train/eval --protocol sessions: conversion head, calibration, JSON, errors") {
  const std::string log = temp_file("sessions-log.csv");
  const std::string model = temp_file("sessions.hunch");
  write_shop_log(log);
  std::string out;
  REQUIRE(run_cli("train " + log + " -o " + model +
                      " --protocol sessions --arch lstm-attn --embed 16 --hidden 16 --attn-size 8 --epochs 4 --min-count 1",
                  &out) == 0);
  CHECK(out.find("session protocol: 480 sessions") != std::string::npos);
  CHECK(out.find("conversion goal: purchase") != std::string::npos);
  CHECK(out.find("calibration on") != std::string::npos);
  std::unique_ptr<hunch::Model> m;
  REQUIRE(hunch::Model::load_file(model, &m).ok());
  CHECK(m->hyper().conversion == 1);

  REQUIRE(run_cli("inspect " + model, &out) == 0);
  CHECK(out.find("heads: next action (with copy and transition terms), next type, exit, conversion (goal purchase); session inputs: yes, sessions "
                 "split after 1800 s; calibrated: yes") != std::string::npos);
  REQUIRE(run_cli("eval " + model + " " + log + " --protocol sessions --json 2>/dev/null", &out) == 0);
  CHECK(out.find("\"model\": {") != std::string::npos);
  CHECK(out.find("\"goal_types\": [\"purchase\"]") != std::string::npos);
  CHECK(out.find("\"conversion\": {\"n\": ") != std::string::npos);
  {
    // The model against the best baseline, with its interval over the test users
    // (intervals.h): the ratio of the two NDCG@10 the JSON lists, the model's inside its own.
    auto after = [&](const std::string& key, size_t from = 0) {
      const size_t at = out.find(key, from);
      REQUIRE(at != std::string::npos);
      return std::strtod(out.c_str() + at + key.size(), nullptr);
    };
    const size_t test = out.find("\"test\": {");
    REQUIRE(test != std::string::npos);
    const size_t vs = out.find("\"model_vs_best\": {\"baseline\": \"", test);
    REQUIRE(vs != std::string::npos);
    const size_t name_at = vs + std::string("\"model_vs_best\": {\"baseline\": \"").size();
    const std::string best = out.substr(name_at, out.find('"', name_at) - name_at);
    CHECK((best == "popularity" || best == "markov" || best == "repeat"));
    const double model_ndcg = after("\"NDCG@10\": ", out.find("\"model\": {", test));
    const double best_ndcg = after("\"NDCG@10\": ", out.find("\"" + best + "\": {", vs + 30));
    for (const char* other : {"popularity", "markov", "repeat"})
      CHECK(after("\"NDCG@10\": ", out.find(std::string("\"") + other + "\": {", vs + 30)) <= best_ndcg);
    CHECK(after("\"ratio\": ", vs) == doctest::Approx(model_ndcg / best_ndcg).epsilon(1e-4));
    CHECK(after("\"resamples\": ", vs) == 1000);
    const double lo = after("\"ndcg10_ci95\": [", vs);
    const double hi = after(", ", out.find("\"ndcg10_ci95\": [", vs));
    CHECK(lo <= model_ndcg);
    CHECK(model_ndcg <= hi);
    CHECK(after("\"units\": ", vs) > 0);
    REQUIRE(run_cli("eval " + model + " " + log + " --protocol sessions 2>/dev/null", &out) == 0);
    CHECK(out.find("  NDCG@10 model / the best baseline (" + best + "): ") != std::string::npos);
    CHECK(out.find("  95% interval (paired bootstrap over ") != std::string::npos);
    CHECK(out.find("one session each") == std::string::npos);
    // The same events with session ids in the user column (as YOOCHOOSE's): the resampled units
    // are sessions, and the interval's text says so.
    std::string by_session = shop_log(60, 8);
    for (size_t at = by_session.find("\nu"); at != std::string::npos; at = by_session.find("\nu", at + 1)) {
      const size_t comma = by_session.find(',', at);
      const double t = std::strtod(by_session.c_str() + comma + 1, nullptr);
      by_session.insert(comma, "s" + std::to_string(int((t - 1e9) / 86400)));
    }
    const std::string session_log = temp_file("sessions-log-ids.csv");
    FILE* f = std::fopen(session_log.c_str(), "w");
    REQUIRE(f);
    std::fwrite(by_session.data(), 1, by_session.size(), f);
    std::fclose(f);
    REQUIRE(run_cli("eval " + model + " " + session_log + " --protocol sessions 2>/dev/null", &out) == 0);
    CHECK(out.find("user ids (one session each), 1000 resamples)") != std::string::npos);
    std::remove(session_log.c_str());
  }

  CHECK(run_cli("eval --baselines-only " + log + " --protocol sessions --goal-type order", &out) == 2);
  CHECK(out.find("'order' is not an event type of the vocabulary (types: ") != std::string::npos);
  CHECK(run_cli("eval --baselines-only " + log + " --goal-type purchase", &out) == 2);
  CHECK(out.find("--goal-type needs --protocol sessions") != std::string::npos);
  CHECK(run_cli("train " + log + " -o " + model + " --protocol session", &out) == 2);
  CHECK(out.find("--protocol: expected loo or sessions, got 'session'") != std::string::npos);
  std::remove(log.c_str());
  std::remove(model.c_str());
}
TEST_CASE("hunch train --item-weights count: the count head ships; the core scores what the trainer validated") {
  const std::string log = temp_file("count-head-log.csv");
  const std::string model = temp_file("count-head.hunch");
  write_shop_log(log);
  std::string out;
  REQUIRE(run_cli("train " + log + " -o " + model +
                      " --protocol sessions --embed 16 --ffn 32 --epochs 2 --min-count 1 --min-users 1 --item-weights count",
                  &out) == 0);
  CHECK(out.find("count head (the start ranked for the top ten: biases x") != std::string::npos);
  CHECK(out.find("the action head is the count head (--item-weights count); training the other heads on it") !=
        std::string::npos);
  // The training output's int8 validation through the core, and hunch eval's, agree.
  const size_t at = out.find("int8 NDCG@10 ");
  REQUIRE(at != std::string::npos);
  const double trained = std::atof(out.c_str() + at + 13);
  std::unique_ptr<hunch::Model> m;
  REQUIRE(hunch::Model::load_file(model, &m).ok());
  // A counts-only head: no head.action.w in the file (hunch.head.action.counts).
  CHECK(m->hyper().action_counts == 1);
  CHECK(m->file().find_tensor("head.action.w") == nullptr);
  CHECK(m->file().find_tensor("head.action.b") != nullptr);
  REQUIRE(run_cli("eval " + model + " " + log + " --protocol sessions --json 2>/dev/null", &out) == 0);
  const size_t v = out.find("\"valid\": {\"points\"");  // the validation split's metrics (the model first)
  REQUIRE(v != std::string::npos);
  const size_t n = out.find("\"NDCG@10\": ", v);
  REQUIRE(n != std::string::npos);
  CHECK(std::atof(out.c_str() + n + 11) == doctest::Approx(trained).epsilon(1e-3));
  CHECK(run_cli("train " + log + " -o " + model + " --item-weights counts", &out) == 2);
  CHECK(out.find("--item-weights: expected auto, train, freeze or count, got 'counts'") != std::string::npos);
  std::remove(log.c_str());
  std::remove(model.c_str());
}
TEST_CASE("hunch train --copy-window: the copy terms read Wc events (by default W)") {
  const std::string log = temp_file("copy-window-log.csv");
  const std::string model = temp_file("copy-window.hunch");
  write_shop_log(log);
  std::string out;
  const std::string base = "train " + log + " -o " + model +
                           " --arch lstm-attn --window 8 --embed 16 --hidden 16 --attn-size 8 --epochs 1 --min-count 1 --min-users 1";
  // W 8, Wc 256: said in the model summary, in the file, and by hunch inspect.
  // (This log's funnel is deterministic under leave-one-out: the action start's bias fit once
  // cancelled to 0 there and wrote NaN weights; it must train.)
  REQUIRE_MESSAGE(run_cli(base + " --copy-window 256", &out) == 0, out);
  CHECK(out.find("-nan") == std::string::npos);
  CHECK(out.find(" Wc=256 W=8,") != std::string::npos);
  std::unique_ptr<hunch::Model> m;
  REQUIRE(hunch::Model::load_file(model, &m).ok());
  CHECK(m->hyper().window == 8);
  CHECK(hunch::copy_window_of(m->hyper()) == 256);
  REQUIRE(run_cli("inspect " + model, &out) == 0);
  CHECK(out.find("W=8, copy window Wc=256") != std::string::npos);
  // The default, and Wc = W: no key, the file as before the option.
  REQUIRE(run_cli(base, &out) == 0);
  REQUIRE(hunch::Model::load_file(model, &m).ok());
  CHECK(m->file().find_meta("hunch.copy.window") == nullptr);
  CHECK(hunch::copy_window_of(m->hyper()) == 8);
  REQUIRE(run_cli(base + " --copy-window 8", &out) == 0);
  REQUIRE(hunch::Model::load_file(model, &m).ok());
  CHECK(m->file().find_meta("hunch.copy.window") == nullptr);
  CHECK(hunch::copy_window_of(m->hyper()) == 8);
  // Without copy terms or attributes nothing reads it: no key either.
  REQUIRE(run_cli(base + " --no-copy --copy-window 64", &out) == 0);
  CHECK(out.find("note: --copy-window has no effect") != std::string::npos);
  REQUIRE(hunch::Model::load_file(model, &m).ok());
  CHECK(m->file().find_meta("hunch.copy.window") == nullptr);
  // Longer than the training samples: said (those distances are never trained).
  REQUIRE(run_cli(base + " --copy-window 64 --max-len 20", &out) == 0);
  CHECK(out.find("the copy window (64 events) is longer than --max-len 20") != std::string::npos);
  CHECK(run_cli(base + " --copy-window 0", &out) == 2);
  CHECK(out.find("--copy-window") != std::string::npos);
  std::remove(log.c_str());
  std::remove(model.c_str());
}

// On a log too small for the ascent (the shared 20-session OTTO sample: a few hundred training
// columns), the ascent fits their noise; the count head the trainer ships is whichever of the
// ascent's ends and the baselines' mixes validates best, so it is not below the best baseline.
TEST_CASE("hunch train: the count head is chosen on validation among the ascent and the baselines' mixes") {
  const std::string otto = std::string(HUNCH_SOURCE_DIR) + "/../shared/data/otto-sample/train_20sessions.jsonl";
  if (FILE* f = std::fopen(otto.c_str(), "r")) {
    std::fclose(f);
  } else {
    MESSAGE("../shared/data/otto-sample not found: skipped");
    return;
  }
  const std::string model = temp_file("otto-count.hunch");
  std::string out;
  REQUIRE(run_cli("train '" + otto + "' -o " + model + " --protocol sessions --time-budget 1 --min-users 1 --item-weights count",
                  &out) == 0);
  const size_t at = out.find("chosen on validation over the ascent's ");
  REQUIRE_MESSAGE(at != std::string::npos, out);
  const size_t v = out.rfind("valid NDCG@10 ", at);
  REQUIRE(v != std::string::npos);
  CHECK(std::atof(out.c_str() + v + 14) > std::atof(out.c_str() + at + 39));
  const std::string train_out = out;
  REQUIRE(run_cli("eval " + model + " '" + otto + "' --protocol sessions --json 2>/dev/null", &out) == 0);
  const size_t valid = out.find("\"valid\": {\"points\"");
  REQUIRE(valid != std::string::npos);
  auto ndcg = [&](const std::string& method) {  // the validation split's
    const size_t m = out.find("\"" + method + "\": {", valid);
    REQUIRE(m != std::string::npos);
    const size_t n = out.find("\"NDCG@10\": ", m);
    REQUIRE(n != std::string::npos);
    return std::atof(out.c_str() + n + 11);
  };
  // Not exactly the baseline on validation: its points where two repeats share a distance
  // bucket (32-63 events back, …) rank them by popularity, the baseline by recency (0.987x).
  const double model_ndcg = ndcg("model"), best = std::max(ndcg("markov"), ndcg("repeat"));
  CHECK(model_ndcg >= 0.98 * best);
  // The repeat baseline's mix (what validates best on this sample) ranks as the baseline does,
  // where no repeat applies too: by the training targets' popularity. On the test split, where
  // popularity scores (it never does on validation here), it equals the baseline point for point
  // (it was 0.73x with the likelihood's biases as the fallback).
  CHECK(train_out.find("with the repeat baseline's mix, chosen on validation") != std::string::npos);
  CHECK(train_out.find("count head (the start ranked for the top ten: popularity x0.01, ") != std::string::npos);
  const size_t test = out.find("\"test\": {\"points\"");
  REQUIRE(test != std::string::npos);
  CHECK(out.find("\"model_vs_best\": {\"baseline\": \"repeat\", \"ratio\": 1.000000,", test) < valid);
  std::remove(model.c_str());
}
#endif
