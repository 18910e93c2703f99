// The trainer end to end on small generated data: leave-one-out samples, determinism under a
// seed, that it learns, that the exported file computes in the core (hunch::Sequence) what the
// trainer's f32 forward computes, that int8 keeps the top-1, and that writes are atomic.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "hunch/format.h"
#include "hunch/model.h"
#include "hunch/sequence.h"
#include "test-util.h"
#include "train/export.h"
#include "train/ingest.h"
#include "train/trainer.h"
#include "train/transitions.h"

using namespace hunch::train;

namespace {

// Sequences that mostly follow a fixed successor rule (next = 3a+1 mod V-1), with types and
// timestamps, so the model has something learnable and every head and embedding is exercised.
Dataset make_toy(size_t sequences, uint32_t V, uint64_t seed, size_t min_len = 5, size_t max_len = 14) {
  Dataset d;
  d.actions.push_back("<unk>");
  for (uint32_t k = 1; k < V; ++k) d.actions.push_back("item" + std::to_string(k));
  d.types = {"<none>", "view", "buy"};
  d.gap_edges = {5.0f, 60.0f, 600.0f};
  d.offsets.push_back(0);
  Rng rng(seed);
  for (size_t s = 0; s < sequences; ++s) {
    const size_t n = min_len + rng.below(max_len - min_len + 1);
    uint32_t a = 1 + uint32_t(rng.below(V - 1));
    double t = 1e9 + double(rng.below(100000));
    for (size_t k = 0; k < n; ++k) {
      const double prev = k ? d.time.back() : NAN;
      d.action.push_back(a);
      d.type.push_back(uint16_t(1 + a % 2));
      d.time.push_back(t);
      d.gap.push_back(gap_bucket(d.gap_edges, prev, t));
      t += double(1 + rng.below(900));
      a = rng.uniform() < 0.85f ? 1 + (3 * a + 1) % (V - 1) : 1 + uint32_t(rng.below(V - 1));
    }
    d.offsets.push_back(d.action.size());
    d.sequence_key.push_back("u" + std::to_string(s));
  }
  return d;
}

NetConfig toy_config(hunch::Arch arch, const Dataset& d) {
  NetConfig c;
  c.hyper.arch = arch;
  c.hyper.vocab_size = uint32_t(d.actions.size());
  c.hyper.type_count = uint32_t(d.types.size());
  c.hyper.gap_buckets = uint32_t(d.gap_edges.size() + 2);
  c.hyper.embed = 16;
  c.hyper.hidden = 24;
  c.hyper.attn_size = 12;
  c.hyper.ffn = 24;
  c.hyper.layers = 2;
  c.hyper.heads = 2;
  c.hyper.window = 4;  // shorter than the sequences: the ring buffer wraps
  c.dropout = 0.1f;
  return c;
}

TrainOptions toy_options(hunch::Arch arch, const Dataset& d, uint32_t epochs) {
  TrainOptions o;
  o.net = toy_config(arch, d);
  o.epochs = epochs;
  o.batch = 16;
  o.lr = 5e-3f;
  o.warmup_steps = 5;
  o.patience = 0;
  o.progress = false;
  o.weights = LossWeights{1.0f, 0.5f, 0.5f};
  return o;
}

std::vector<uint8_t> export_f32(const Net& net, const Dataset& d) {
  hunch::ModelWriter w;
  write_network(net, d, &w);
  std::vector<uint8_t> bytes;
  REQUIRE(w.serialize(&bytes).ok());
  return bytes;
}

// Trains twice under the same options: bit-identical parameters, and the successor rule learnt
// (85% of the toy's transitions follow it; chance HR@10 is far lower).
TrainResult check_deterministic_and_learns(const Dataset& d, const TrainOptions& o) {
  auto a = make_net(o.net, o.seed), b = make_net(o.net, o.seed);
  TrainResult ra, rb;
  REQUIRE(train(d, o, a.get(), &ra).ok());
  REQUIRE(train(d, o, b.get(), &rb).ok());
  CHECK(a->params.data == b->params.data);
  CHECK(ra.best_valid_hr_10 > 0.8);
  return ra;
}

std::vector<double> softmax(const float* x, size_t n) {
  double mx = -INFINITY;
  for (size_t k = 0; k < n; ++k) mx = std::max(mx, double(x[k]));
  std::vector<double> p(n);
  double s = 0;
  for (size_t k = 0; k < n; ++k) s += p[k] = std::exp(double(x[k]) - mx);
  for (auto& v : p) v /= s;
  return p;
}

// The f32 network and the core's incremental inference agree on every prefix of a few
// sequences: next-action and next-type distributions and the exit probability.
// The default transition budget is 12% of the bytes the int8 file stores: a tied head's matrix
// is emb.action, stored once, so it is counted once.
TEST_CASE("network_int8_bytes counts a tied head's matrix once") {
  const Dataset d = make_toy(60, 20, 3);
  for (hunch::Arch arch : {hunch::Arch::TRANSFORMER, hunch::Arch::LSTM_ATTN}) {
    const hunch::Hyper h = toy_options(arch, d, 2).net.hyper;
    uint64_t head = 0;
    for (const hunch::TensorLayout& l : hunch::tensor_layout(h))
      if (l.spec->tied_with) head += uint64_t(l.rows) * l.cols + 4ull * l.rows;  // int8 rows + a scale each
    CHECK(head == uint64_t(h.vocab_size) * (h.embed + 4));
    CHECK(network_int8_bytes(h, true) == network_int8_bytes(h) - head);
  }
}

// copy_window: Wc (0: W, the file without hunch.copy.window).
void check_core_parity(hunch::Arch arch, bool copy, bool attrs = false, bool tie = false, uint32_t copy_window = 0) {
  Dataset d = make_toy(60, 20, 3);
  if (attrs) {  // a category per action (3 values) and a numeric column; every 7th event its own values
    d.attr_columns = {"category", "price"};
    d.attr_numeric = {false, true};
    d.attr_values = {"<none>", "c1", "c2", "c3", "<none>", "-inf", "10", "20"};
    d.attr_start = {0, 4, 8};
    d.action_attr.assign(d.actions.size() * 2, 0);
    for (size_t a = 0; a < d.actions.size(); ++a) {
      d.action_attr[2 * a] = uint16_t(a == 0 ? 0 : 1 + a % 3);
      d.action_attr[2 * a + 1] = uint16_t(a == 0 ? 4 : 5 + a % 3);
    }
    d.attr.resize(2 * d.events());
    for (size_t i = 0; i < d.events(); ++i)
      for (size_t k = 0; k < 2; ++k)
        d.attr[2 * i + k] = i % 7 == 3 ? uint16_t(k == 0 ? 1 + i % 3 : 5) : d.action_attr[2 * d.action[i] + k];
  }
  TrainOptions o = toy_options(arch, d, 2);
  // Every tensor trained (auto could ship the count head, whose head.attr is zero).
  o.item_weights = TrainOptions::ItemWeights::TRAIN;
  o.net.hyper.attr_columns = uint32_t(d.attr_count());
  o.net.hyper.attr_values = uint32_t(d.attr_values.size());
  o.net.hyper.copy = copy ? 1 : 0;
  o.net.hyper.copy_window = copy_window;
  o.net.tie_embeddings = tie;  // --tie: the file holds emb.action once, with hunch.head.action.tied
  if (copy) {  // and a transition table; its leave-one-out marks cleared (the core has none)
    auto tc = std::make_shared<TransitionCounts>(count_transitions(d, training_samples(d, o.max_len), 4, 1 << 20));
    std::fill(tc->counted.begin(), tc->counted.end(), 0);
    REQUIRE(!tc->table.empty());
    o.net.hyper.transition_bytes = uint32_t(tc->table.size());
    o.net.transitions = tc;
  }
  auto net = make_net(o.net, o.seed);
  TrainResult r;
  REQUIRE(train(d, o, net.get(), &r).ok());
  if (copy) {  // trained away from their zero start, so the comparison below covers them
    const float* dist = net->params.ptr(net->head_copy_distance);
    CHECK(std::any_of(dist, dist + 2 * hunch::kCopyDistanceBuckets, [](float v) { return std::fabs(v) > 1e-3f; }));
  }
  auto bytes = export_f32(*net, d);
  std::unique_ptr<hunch::Model> model;
  hunch::Error e = hunch::Model::load(bytes.data(), bytes.size(), &model);
  REQUIRE_MESSAGE(e.ok(), e.message);
  REQUIRE(model->hyper().copy == (copy ? 1u : 0u));
  CHECK(hunch::copy_window_of(model->hyper()) == (copy_window ? copy_window : o.net.hyper.window));
  CHECK((model->file().find_meta("hunch.copy.window") != nullptr) == (copy_window && copy_window != o.net.hyper.window));
  CHECK((model->file().find_tensor("head.action.w") == nullptr) == tie);
  CHECK((model->file().find_meta("hunch.head.action.tied") != nullptr) == tie);
  REQUIRE((model->hyper().transition_bytes > 0) == copy);
  REQUIRE(model->hyper().attr_columns == (attrs ? 2u : 0u));
  if (attrs) {  // trained away from zero, so the comparison covers them
    const float* ha = net->params.ptr(net->head_attr);
    CHECK(std::any_of(ha, ha + 8 * o.net.hyper.embed, [](float v) { return std::fabs(v) > 1e-3f; }));
  }
  ScoreFn scorer = net_scorer(*net, d, 1);
  std::vector<float> ours(d.actions.size()), our_types(d.types.size());
  double worst = 0;
  size_t checked = 0;
  for (size_t s = 0; s < 6; ++s) {
    hunch::Sequence seq(*model);
    for (size_t p = 0; p < d.length(s); ++p) {
      const uint64_t ev = d.offsets[s] + p;
      hunch::Event event{d.action[ev], d.type[ev], d.time[ev]};
      for (size_t k = 0; k < d.attr_count(); ++k) event.attr[k] = d.attr[ev * d.attr_count() + k];
      REQUIRE(seq.push(event).ok());
      Scores sc;
      sc.actions = ours.data();
      sc.types = our_types.data();
      REQUIRE(scorer(0, s, p + 1, &sc).ok());
      auto pa = softmax(ours.data(), ours.size());
      auto pc = softmax(seq.action_logits(), ours.size());
      for (size_t k = 0; k < pa.size(); ++k) worst = std::max(worst, std::fabs(pa[k] - pc[k]));
      auto ta = softmax(our_types.data(), our_types.size());
      const auto& tc = seq.type_probabilities();
      for (size_t k = 0; k < ta.size(); ++k) worst = std::max(worst, std::fabs(ta[k] - tc[k]));
      worst = std::max(worst, std::fabs(double(sc.exit) - seq.exit_probability()));
      ++checked;
    }
  }
  CHECK(checked > 30);
  CHECK(worst < 1e-4);

  // The trainer's batched validation ranks exactly as evaluate() over the per-call scorer.
  double ndcg = 0, hr = 0;
  REQUIRE(validate(*net, d, 2, true, &ndcg, &hr).ok());
  EvalOptions eo;
  eo.exclude_seen = true;
  eo.test = false;
  eo.baselines = false;
  eo.exit_auc = false;
  EvalResult er;
  REQUIRE(evaluate(d, net_scorer(*net, d, 2), eo, &er).ok());
  CHECK(ndcg == doctest::Approx(er.methods[0].valid.full.ndcg_at(10)).epsilon(1e-9));
  CHECK(hr == doctest::Approx(er.methods[0].valid.full.hr_at(10)).epsilon(1e-9));
  CHECK(ndcg > 0);
  // And the core's scorer (hunch eval, "validation through the core") ranks as the trainer's:
  // it pushes each event's own attributes, not the table's (an <unk> product keeps its category).
  EvalResult core;
  REQUIRE(evaluate(d, model_scorer(*model, d, 2), eo, &core).ok());
  CHECK(core.methods[0].valid.full.ndcg_at(10) == doctest::Approx(ndcg).epsilon(1e-4));
}

}  // namespace

TEST_CASE("training samples follow the leave-one-out protocol") {
  Dataset d;
  d.actions = {"<unk>", "a", "b"};
  d.types = {"<none>"};
  // sequences of 1, 2, 3, 4 and 9 events
  d.offsets = {0, 1, 3, 6, 10, 19};
  d.action.assign(19, 1);
  d.type.assign(19, 0);
  d.gap.assign(19, 0);
  d.time.assign(19, NAN);
  auto s = training_samples(d, 4);
  // n=1 and n=2: whole, ending (exit 1); n=3: one training event, nothing to learn; n=4: input
  // [6, 7) with target up to 8; n=9: train = [10, 17), input = [10, 16) cut to the last 4.
  REQUIRE(s.size() == 4);
  CHECK((s[0].begin == 0 && s[0].len == 1 && s[0].target_end == 1 && s[0].ends));
  CHECK((s[1].begin == 1 && s[1].len == 2 && s[1].target_end == 3 && s[1].ends));
  CHECK((s[2].begin == 6 && s[2].len == 1 && s[2].target_end == 8 && !s[2].ends));
  CHECK((s[3].begin == 12 && s[3].len == 4 && s[3].target_end == 17 && !s[3].ends));
  LossTotals n = count_targets(d, s);
  CHECK(n.n_action == 0 + 1 + 1 + 4);
  CHECK(n.n_exit == 1 + 2 + 1 + 4);
}

TEST_CASE("training is deterministic under a fixed seed and learns the toy rule") {
  Dataset d = make_toy(200, 16, 1);
  for (auto arch : {hunch::Arch::TRANSFORMER, hunch::Arch::LSTM_ATTN}) {
    INFO(std::string(hunch::arch_name(arch)));
    TrainOptions o = toy_options(arch, d, 6);
    auto a = make_net(o.net, o.seed), b = make_net(o.net, o.seed), c = make_net(o.net, o.seed + 1);
    TrainResult ra, rb, rc;
    REQUIRE(train(d, o, a.get(), &ra).ok());
    REQUIRE(train(d, o, b.get(), &rb).ok());
    CHECK(a->params.data == b->params.data);
    REQUIRE(ra.log.size() == rb.log.size());
    for (size_t k = 0; k < ra.log.size(); ++k) CHECK(ra.log[k].loss == rb.log[k].loss);
    o.seed += 1;
    REQUIRE(train(d, o, c.get(), &rc).ok());
    CHECK(a->params.data != c->params.data);
    // 85% of the transitions follow the rule: a model that learnt it ranks the target first
    // far more often than chance (1/15).
    CHECK(ra.log.back().loss < ra.log.front().loss);
    CHECK(ra.best_valid_hr_10 > 0.8);
    CHECK(ra.best_valid_ndcg_10 > 0.5);
  }
}

TEST_CASE("event dropout removes input events while training only") {
  Dataset d = make_toy(60, 16, 5, 5, 30);
  const auto samples = training_samples(d, 100);
  uint64_t total = 0, droppable = 0;
  for (const Sample& s : samples) {
    total += s.len;
    droppable += s.len - 1;
  }
  const LossTotals full = count_targets(d, samples);
  Pass pass;

  // Not training, or a rate of 0: every event, in order, with the log's gap buckets.
  for (auto [train_mode, rate] : {std::pair<bool, float>{false, 0.5f}, {true, 0.0f}}) {
    prepare_pass(pass, d, samples, train_mode, 9, rate);
    REQUIRE(pass.N == total);
    for (size_t s = 0; s < samples.size(); ++s)
      for (uint32_t p = 0; p < samples[s].len; ++p) {
        const size_t c = pass.start[s] + p;
        const uint64_t ev = samples[s].begin + p;
        CHECK(pass.event[c] == ev);
        CHECK(pass.gap[c] == d.gap[ev]);
        CHECK(pass.next[c] == (ev + 1 < samples[s].target_end ? ev + 1 : Pass::kNoTarget));
      }
    const LossTotals n = count_targets(pass);
    CHECK(n.n_action == full.n_action);
    CHECK(n.n_exit == full.n_exit);
  }

  // Training at 0.5: about half the events go, never a sample's first; each kept event predicts
  // the next kept one, its gap bucket is measured from the previous kept one.
  prepare_pass(pass, d, samples, true, 9, 0.5f);
  const double dropped = double(total - pass.N) / double(droppable);
  CHECK(dropped > 0.4);
  CHECK(dropped < 0.6);
  bool regapped = false;
  for (size_t s = 0; s < samples.size(); ++s) {
    const Sample& orig = samples[s];
    const size_t c0 = pass.start[s], c1 = pass.start[s + 1];
    REQUIRE(c1 > c0);
    CHECK(pass.samples[s].len == c1 - c0);
    CHECK(pass.event[c0] == orig.begin);
    CHECK(pass.gap[c0] == d.gap[orig.begin]);
    for (size_t c = c0; c < c1; ++c) {
      CHECK(pass.event[c] < orig.begin + orig.len);
      CHECK(pass.ends[c] == ((orig.ends && c + 1 == c1) ? 1 : 0));
      if (c + 1 < c1) {
        CHECK(pass.event[c + 1] > pass.event[c]);
        CHECK(pass.next[c] == pass.event[c + 1]);
      } else {
        const uint64_t after = orig.begin + orig.len;
        CHECK(pass.next[c] == (after < orig.target_end ? after : Pass::kNoTarget));
      }
      if (c > c0) {
        const uint8_t g = gap_bucket(d.gap_edges, d.time[pass.event[c - 1]], d.time[pass.event[c]]);
        CHECK(pass.gap[c] == g);
        regapped |= g != d.gap[pass.event[c]];
      }
    }
  }
  CHECK(regapped);  // the toy's gaps cross bucket edges, so some removals change a bucket
  const std::vector<uint64_t> first = pass.event;
  prepare_pass(pass, d, samples, true, 9, 0.5f);
  CHECK(pass.event == first);
  prepare_pass(pass, d, samples, true, 10, 0.5f);
  CHECK(pass.event != first);

  // Training with it stays deterministic, and the model still learns the successor rule.
  TrainOptions o = toy_options(hunch::Arch::TRANSFORMER, d, 6);
  o.event_drop = 0.2f;
  const TrainResult r = check_deterministic_and_learns(d, o);
  MESSAGE("event-drop 0.2 toy: valid HR@10 " << r.best_valid_hr_10 << " NDCG@10 " << r.best_valid_ndcg_10);
}

TEST_CASE("random crops: a window of the same length per epoch, anywhere in the training part") {
  Dataset d = make_toy(80, 16, 6, 3, 60);
  const uint32_t max_len = 8;
  const auto samples = training_samples(d, max_len);
  bool moved = false, reached_start = false;
  for (uint32_t epoch = 1; epoch <= 30; ++epoch) {
    std::vector<Sample> crop = samples;
    random_crops(&crop, 42, epoch);
    std::vector<Sample> again = samples;
    random_crops(&again, 42, epoch);
    for (size_t i = 0; i < crop.size(); ++i) {
      const Sample &a = samples[i], &c = crop[i];
      CHECK(c.begin == again[i].begin);  // deterministic
      CHECK(c.len == a.len);
      CHECK(c.target_end == a.target_end);
      CHECK(c.begin >= c.first);
      // The last input's target is a training event: never the validation or test event.
      CHECK(c.begin + c.len < c.target_end);
      if (a.ends) CHECK(c.begin == a.begin);  // short sequences stay whole
      moved |= c.begin != a.begin;
      reached_start |= !a.ends && c.begin == c.first && a.begin != a.first;
    }
  }
  CHECK(moved);
  CHECK(reached_start);  // the earliest window is drawn too

  // Training with them: deterministic, learns the rule.
  TrainOptions o = toy_options(hunch::Arch::TRANSFORMER, d, 6);
  o.max_len = max_len;
  o.random_crops = true;
  check_deterministic_and_learns(d, o);
}

TEST_CASE("lookahead and mask_seen: the action loss is cross-entropy against the next K events, decaying weights, over the unseen actions") {
  Dataset d = make_toy(40, 16, 8, 3, 12);
  const auto samples = training_samples(d, 100);
  TrainOptions o = toy_options(hunch::Arch::TRANSFORMER, d, 1);
  auto net = make_net(o.net, o.seed);
  auto pass = net->make_pass();
  prepare_pass(*pass, d, samples, false, 3);
  net->forward(d, *pass);
  const LossTotals norm = count_targets(*pass);
  const size_t D = o.net.hyper.embed, V = d.actions.size();
  const auto W = net->params.mat(net->head_aw);
  const float* b = net->params.ptr(net->head_ab);

  // mask_seen: the softmax sum leaves out the actions of the sequence's events from its first
  // through the column's input, unless one is a target (or <unk>).
  for (bool mask : {false, true})
  for (uint32_t K : {1u, 3u}) {
    INFO("lookahead " << K << " mask_seen " << mask);
    LossWeights w{1.0f, 0.0f, 0.0f};
    w.lookahead = K;
    w.lookahead_decay = 0.25f;
    w.mask_seen = mask;
    size_t masked_total = 0;
    LossTotals got;
    heads_loss(*net, d, *pass, w, norm, &got, nullptr);
    // By hand: log-sum-exp minus the weighted target logits, targets cut at the sample's
    // target_end (the validation and test events are never targets), weights renormalised.
    double want = 0;
    bool truncated = false;
    for (size_t s = 0; s < samples.size(); ++s)
      for (size_t c = pass->start[s]; c < pass->start[s + 1]; ++c) {
        if (pass->next[c] == Pass::kNoTarget) continue;
        std::vector<double> logit(V);
        for (size_t v = 0; v < V; ++v) {
          double l = b[v];
          for (size_t k = 0; k < D; ++k) l += double(W(v, k)) * pass->z[c * D + k];
          logit[v] = l;
        }
        double tl = 0, total = 0, wj = 1;
        std::vector<bool> target(V, false);
        for (uint32_t j = 0; j < K; ++j, wj *= 0.25) {
          const uint64_t ev = pass->next[c] + j;
          if (ev >= samples[s].target_end) {
            truncated = true;
            break;
          }
          tl += wj * logit[d.action[ev]];
          total += wj;
          target[d.action[ev]] = true;
        }
        std::vector<bool> masked(V, false);
        if (mask)
          for (uint64_t e = samples[s].first; e <= pass->event[c]; ++e)
            if (d.action[e] != 0 && !target[d.action[e]]) masked[d.action[e]] = true;
        double mx = -INFINITY, sum = 0;
        for (size_t v = 0; v < V; ++v)
          if (!masked[v]) mx = std::max(mx, logit[v]);
        for (size_t v = 0; v < V; ++v) {
          if (!masked[v]) sum += std::exp(logit[v] - mx);
          masked_total += masked[v];
        }
        want += mx + std::log(sum) - tl / total;
      }
    CHECK(got.n_action == norm.n_action);
    CHECK(got.action == doctest::Approx(want).epsilon(1e-5));
    if (K > 1) CHECK(truncated);
    CHECK((masked_total > 0) == mask);
  }

  // It trains, deterministically, and still ranks the rule's successor first.
  Dataset big = make_toy(200, 16, 1);
  o = toy_options(hunch::Arch::TRANSFORMER, big, 6);
  o.weights.lookahead = 3;
  check_deterministic_and_learns(big, o);
  o.weights.mask_seen = true;
  check_deterministic_and_learns(big, o);
}

TEST_CASE("mask_seen: actions seen before every position never enter a softmax (full and sampled, cropped windows, event dropout)") {
  // Actions 1, 2, 3 are each sequence's first three events and appear nowhere else. With
  // sequences of 12+ events and max_len 5, every training window starts after them, so no
  // position has them as input or target, yet every position has seen them: "seen" runs from
  // the sequence's start. With mask_seen, raising their logits must leave the loss unchanged,
  // with the full softmax and with the sampled one (12 draws of 16 classes: being the most
  // likely log-uniform classes after <unk>, they are drawn), under event dropout too.
  Dataset d = make_toy(60, 16, 5, 12, 20);
  for (size_t q = 0; q < d.sequences(); ++q)
    for (uint64_t e = d.offsets[q]; e < d.offsets[q + 1]; ++e) {
      const uint64_t k = e - d.offsets[q];
      uint32_t& a = d.action[e];
      a = k < 3 ? uint32_t(1 + k) : (a <= 3 ? a + 3 : a);
    }
  const auto samples = training_samples(d, 5);
  for (const Sample& x : samples) REQUIRE(x.begin >= x.first + 4);
  TrainOptions o = toy_options(hunch::Arch::TRANSFORMER, d, 1);
  auto net = make_net(o.net, o.seed);
  auto pass = net->make_pass();
  prepare_pass(*pass, d, samples, true, 3, 0.3f);
  net->forward(d, *pass);
  const LossTotals norm = count_targets(*pass);
  float* bias = net->params.data.data() + net->params.entries[net->head_ab].offset;
  for (uint32_t sampled : {0u, 12u})
    for (bool mask : {false, true}) {
      CAPTURE(sampled);
      CAPTURE(mask);
      LossWeights w{1.0f, 0.0f, 0.0f};
      w.lookahead = 2;
      w.sampled_softmax = sampled;
      w.mask_seen = mask;
      LossTotals before, after;
      heads_loss(*net, d, *pass, w, norm, &before, nullptr);
      for (int a = 1; a <= 3; ++a) bias[a] += 30.0f;
      heads_loss(*net, d, *pass, w, norm, &after, nullptr);
      for (int a = 1; a <= 3; ++a) bias[a] -= 30.0f;
      if (mask) CHECK(after.action == doctest::Approx(before.action).epsilon(1e-6));
      else CHECK(after.action > before.action + 30.0 * 10);  // unmasked, they take the probability
    }
}

TEST_CASE("sampled softmax: log-uniform draws, and training on them learns the toy rule") {
  // The draws follow P(k) = log((k+2)/(k+1)) / log(V+1): frequencies within 4 sigma.
  const size_t V = 50, n = 200000;
  Rng rng(3);
  std::vector<size_t> count(V, 0);
  for (size_t i = 0; i < n; ++i) ++count[draw_log_uniform(rng, V)];  // draws are clamped to V-1
  double total_p = 0;
  for (uint32_t k = 0; k < V; ++k) {
    const double p = log_uniform_p(k, V);
    total_p += p;
    CHECK(std::fabs(double(count[k]) - n * p) <= 4 * std::sqrt(n * p * (1 - p)) + 1);
  }
  CHECK(total_p == doctest::Approx(1.0));

  // 6 drawn classes of 16 per step: still learns the successor rule, deterministically.
  Dataset d = make_toy(200, 16, 1);
  TrainOptions o = toy_options(hunch::Arch::TRANSFORMER, d, 6);
  o.weights.sampled_softmax = 6;
  const TrainResult r = check_deterministic_and_learns(d, o);
  MESSAGE("sampled softmax toy: valid HR@10 " << r.best_valid_hr_10 << " NDCG@10 " << r.best_valid_ndcg_10);
}

TEST_CASE("lr_plateau halves the learning rate after that many epochs without a better validation") {
  Dataset d = make_toy(120, 16, 4);
  TrainOptions o = toy_options(hunch::Arch::LSTM_ATTN, d, 10);
  o.lr = 2e-2f;  // large enough that validation stalls now and then
  std::vector<std::vector<double>> losses;
  for (uint32_t plateau : {0u, 1u, 2u}) {
    CAPTURE(plateau);
    o.lr_plateau = plateau;
    auto net = make_net(o.net, o.seed);
    TrainResult r;
    REQUIRE(train(d, o, net.get(), &r).ok());
    losses.emplace_back();
    for (const EpochLog& l : r.log) losses.back().push_back(l.loss);
    REQUIRE(r.log.size() == 10);
    double best = -1;
    uint32_t bad = 0, halvings = 0;
    float lr = o.lr;
    for (const EpochLog& l : r.log) {
      if (l.valid_ndcg_10 > best) {
        best = l.valid_ndcg_10;
        bad = 0;
      } else if (++bad, plateau && bad % plateau == 0) {
        lr *= 0.5f;
        ++halvings;
      }
      CHECK(l.lr == lr);
    }
    if (plateau == 1) CHECK(halvings > 0);  // the case is exercised
  }
  // The logged rate is the one the optimiser used: after a halving the training losses differ
  // (the parameters kept are the best epoch's, which may come before any halving).
  CHECK(losses[1] != losses[0]);
}

TEST_CASE("the exported transformer computes in the core what the trainer computes") {
  SUBCASE("without copy terms") { check_core_parity(hunch::Arch::TRANSFORMER, false); }
  SUBCASE("with copy terms") { check_core_parity(hunch::Arch::TRANSFORMER, true); }
  SUBCASE("with copy terms and attributes") { check_core_parity(hunch::Arch::TRANSFORMER, true, true); }
  // The copy and match terms read 13 events, the attention 4 (the toy's sequences are longer).
  SUBCASE("with copy terms and attributes, copy window 13 > W") { check_core_parity(hunch::Arch::TRANSFORMER, true, true, false, 13); }
  SUBCASE("tied (--tie)") { check_core_parity(hunch::Arch::TRANSFORMER, false, false, true); }
}

TEST_CASE("the exported lstm-attn computes in the core what the trainer computes") {
  SUBCASE("without copy terms") { check_core_parity(hunch::Arch::LSTM_ATTN, false); }
  SUBCASE("with copy terms") { check_core_parity(hunch::Arch::LSTM_ATTN, true); }
  SUBCASE("with copy terms, copy window 13 > W") { check_core_parity(hunch::Arch::LSTM_ATTN, true, false, false, 13); }
  SUBCASE("with attributes") { check_core_parity(hunch::Arch::LSTM_ATTN, false, true); }
  SUBCASE("tied (--tie), with copy terms") { check_core_parity(hunch::Arch::LSTM_ATTN, true, false, true); }
}

TEST_CASE("int8 quantisation keeps the top-1 prediction and shrinks the file") {
  Dataset d = make_toy(200, 16, 2);
  TrainOptions o = toy_options(hunch::Arch::TRANSFORMER, d, 6);
  auto net = make_net(o.net, o.seed);
  TrainResult r;
  REQUIRE(train(d, o, net.get(), &r).ok());
  auto fbytes = export_f32(*net, d);
  hunch::ModelFile mf;
  REQUIRE(hunch::read_model_file(fbytes.data(), fbytes.size(), &mf).ok());
  hunch::ModelWriter qw;
  std::vector<TensorQuantization> rep;
  REQUIRE(quantize_model(mf, &qw, &rep).ok());
  std::vector<uint8_t> qbytes;
  REQUIRE(qw.serialize(&qbytes).ok());
  CHECK(qbytes.size() < fbytes.size());
  // Every matrix quantised, each within half a quantisation step of its largest weight.
  size_t matrices = 0;
  for (const auto& e : net->params.entries) matrices += e.shape.size() == 2;
  CHECK(rep.size() == matrices);
  for (const auto& t : rep) CHECK(t.max_error <= t.max_abs / 127.0f * 0.5f + 1e-7f);

  std::unique_ptr<hunch::Model> fm, qm;
  REQUIRE(hunch::Model::load(fbytes.data(), fbytes.size(), &fm).ok());
  hunch::Error e = hunch::Model::load(qbytes.data(), qbytes.size(), &qm);
  REQUIRE_MESSAGE(e.ok(), e.message);
  CHECK(qm->weights().head_action.is_int8());
  size_t same = 0, total = 0;
  for (size_t s = 0; s < d.sequences(); ++s) {
    hunch::Sequence a(*fm), b(*qm);
    for (size_t p = 0; p < d.length(s); ++p) {
      const uint64_t ev = d.offsets[s] + p;
      hunch::Event event{d.action[ev], d.type[ev], d.time[ev]};
      REQUIRE(a.push(event).ok());
      REQUIRE(b.push(event).ok());
    }
    hunch::Prediction pa, pb;
    REQUIRE(a.predict(1, &pa) == 1);
    REQUIRE(b.predict(1, &pb) == 1);
    same += pa.action == pb.action;
    ++total;
  }
  CHECK(same >= total * 98 / 100);
}

TEST_CASE("atomic write replaces the file, and a failed write leaves the old one intact") {
  const std::string dir = "/tmp/hunch-test-atomic-" + std::to_string(getpid());
  REQUIRE(system(("rm -rf " + dir + " && mkdir -p " + dir).c_str()) == 0);
  const std::string path = dir + "/model.hunch";
  std::vector<uint8_t> old_bytes(1000, 7), new_bytes(5000, 9);
  REQUIRE(write_file_atomic(path, old_bytes).ok());
  CHECK(hunch_test::read_file(path) == old_bytes);

  // A child process limited to 2 KB per file: the write of 5000 bytes fails part-way (EFBIG).
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {2048, 2048};
    setrlimit(RLIMIT_FSIZE, &rl);
    hunch::Error e = write_file_atomic(path, new_bytes);
    _exit(e.ok() ? 0 : (e.message.find(path) != std::string::npos ? 3 : 4));
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 3);  // failed, with a message naming the file
  CHECK(hunch_test::read_file(path) == old_bytes);
  // No temporary file left behind.
  FILE* ls = popen(("ls " + dir).c_str(), "r");
  char buf[256];
  std::string listing;
  while (fgets(buf, sizeof buf, ls)) listing += buf;
  pclose(ls);
  CHECK(listing == "model.hunch\n");

  REQUIRE(write_file_atomic(path, new_bytes).ok());
  CHECK(hunch_test::read_file(path) == new_bytes);
  CHECK(!write_file_atomic(dir + "/missing-dir/model.hunch", new_bytes).ok());
  REQUIRE(system(("rm -rf " + dir).c_str()) == 0);
}

TEST_CASE("transition counts: pairs within a session and the training part, leave-one-out, the byte budget") {
  // One user: a b a b | c a (a new session at c) ; the last two events are held out (target_end).
  Dataset d;
  d.actions = {"<unk>", "a", "b", "c"};
  d.types = {"<none>"};
  d.offsets = {0};
  const uint32_t acts[] = {1, 2, 1, 2, 3, 1, 0, 2, 1, 2};
  for (uint32_t a : acts) {
    d.action.push_back(a);
    d.type.push_back(0);
    d.time.push_back(NAN);
    d.gap.push_back(0);
    d.flags.push_back(0);
  }
  d.flags[0] |= kSessionStart;
  d.flags[4] |= kSessionStart;  // c starts a session: b → c is not a pair
  d.offsets.push_back(d.action.size());
  d.sequence_key = {"u"};
  Sample s;
  s.begin = s.first = 0;
  s.len = 7;
  s.target_end = 8;  // events 8, 9 are held out: pairs up to (6, 7)
  TransitionCounts t = count_transitions(d, {s}, 16, 1 << 20);
  // Pairs: a→b (0-1), b→a (1-2), a→b (2-3), c→a (4-5); a→<unk> and <unk>→b are left out.
  CHECK(t.pairs == 4);
  CHECK(t.distinct == 3);
  CHECK(t.from[1] == 2);
  CHECK(t.from[2] == 1);
  CHECK(t.from[3] == 1);
  REQUIRE(t.rows[1].size() == 1);
  CHECK(t.rows[1][0].action == 2);
  CHECK(t.rows[1][0].count == 2);
  CHECK(t.counted[0] == 1);
  CHECK(t.counted[3] == 0);  // b → c crosses a session start
  CHECK(t.counted[7] == 0);  // b → a reaches a held-out event
  // Leave-one-out: at event 0 (target event 1) a → b counts once, of one; elsewhere twice.
  CHECK(t.bucket(d, 0, 1, 2, 2) == hunch::transition_bucket(1, 1));
  CHECK(t.bucket(d, 5, Pass::kNoTarget, 2, 2) == hunch::transition_bucket(2, 2));
  CHECK(t.bucket(d, 4, 5, 1, 1) == 0xff);  // c → a was seen once: this very pair
  // The table decodes to the kept rows.
  std::vector<uint32_t> starts;
  REQUIRE(hunch::index_transitions(t.table.data(), t.table.size(), 4, &starts).ok());
  hunch::TransitionRow row(t.table.data(), starts[1]);
  hunch::Transition tr;
  REQUIRE(row.next(&tr));
  CHECK(tr.next == 2);
  CHECK(tr.bucket == hunch::transition_bucket(2, 2));
  CHECK(!row.next(&tr));

  // A budget of 6 bytes holds the two most frequent pairs only (4 row counts + 2 pairs ≥ 6 bytes).
  TransitionCounts small = count_transitions(d, {s}, 16, 6);
  CHECK(small.table.size() <= 6);
  CHECK(small.kept < t.kept);
  CHECK(small.rows[1].size() == 1);  // a → b, the most frequent, is the one kept
  // At most one successor per action.
  CHECK(count_transitions(d, {s}, 1, 1 << 20).kept == 3);
  // Nothing fits: no table.
  CHECK(count_transitions(d, {s}, 16, 2).table.empty());
}

TEST_CASE("the action head's start: log-frequency bias, fitted copy and transition weights; frozen per-action weights stay put") {
  Dataset d = make_toy(80, 20, 5);
  TrainOptions o = toy_options(hunch::Arch::TRANSFORMER, d, 2);
  o.net.hyper.copy = 1;
  auto tc = std::make_shared<TransitionCounts>(count_transitions(d, training_samples(d, o.max_len), 4, 1 << 20));
  o.net.hyper.transition_bytes = uint32_t(tc->table.size());
  o.net.transitions = tc;
  auto net = make_net(o.net, o.seed);
  const ActionStart st = fit_action_start(d, training_samples(d, o.max_len), net.get());
  CHECK(st.columns > 100);
  // The toy's successor rule is a transition: the fitted terms explain much of it.
  CHECK(st.nll_fitted < st.nll_popularity - 0.5);
  const float* w = net->params.ptr(net->head_transition_weight);
  CHECK(*std::max_element(w, w + hunch::kTransitionBuckets) > 1.0f);

  o.item_weights = TrainOptions::ItemWeights::FREEZE;
  auto frozen = make_net(o.net, o.seed);
  TrainResult r;
  REQUIRE(train(d, o, frozen.get(), &r).ok());
  CHECK(r.items_frozen);
  CHECK(r.items_frozen_after == 0);
  CHECK(r.action_start.columns > 0);
  // The per-action tensors are the start's (the bias the fitted one), the rest trained.
  auto fresh = make_net(o.net, o.seed);
  fit_action_start(d, training_samples(d, o.max_len), fresh.get());
  for (size_t t : {frozen->emb_action, frozen->head_aw, frozen->head_ab}) {
    const auto& e = frozen->params.entries[t];
    CHECK(std::equal(frozen->params.ptr(t), frozen->params.ptr(t) + e.size, fresh->params.ptr(t)));
  }
  const auto& body = frozen->params.entries[frozen->head_tw];
  CHECK(!std::equal(frozen->params.ptr(frozen->head_tw), frozen->params.ptr(frozen->head_tw) + body.size,
                    fresh->params.ptr(fresh->head_tw)));
}

TEST_CASE("a diverged run stops with an error that says so, not with NaN weights") {
  Dataset d = make_toy(40, 20, 3);
  TrainOptions o = toy_options(hunch::Arch::LSTM_ATTN, d, 3);
  o.lr = 1e30f;  // Adam's steps are about lr: the weights overflow in the first epoch
  o.clip = 0;
  auto net = make_net(o.net, o.seed);
  TrainResult r;
  const hunch::Error e = train(d, o, net.get(), &r);
  REQUIRE_FALSE(e.ok());
  CHECK(e.message.find("the weights diverged (lower --lr") != std::string::npos);
  CHECK(e.message.find("in epoch 1") != std::string::npos);
}

TEST_CASE("the action head's start reads the copy window Wc, not the attention's W") {
  // Every event from the seventh on repeats the action six events back: the target of column c
  // is the action at distance 5. W 4 cannot see it, Wc 8 can, and the fit puts its weight there.
  Dataset d = make_toy(80, 40, 9, 12, 14);
  for (size_t q = 0; q < d.sequences(); ++q)
    for (uint64_t i = d.offsets[q]; i < d.offsets[q + 1]; ++i) {
      const uint64_t k = i - d.offsets[q];
      d.action[i] = k < 6 ? uint32_t(1 + (q * 7 + k * 5) % 39) : d.action[i - 6];
      d.type[i] = uint16_t(1 + d.action[i] % 2);
    }
  TrainOptions o = toy_options(hunch::Arch::LSTM_ATTN, d, 1);
  o.net.hyper.copy = 1;
  REQUIRE(o.net.hyper.window == 4);
  auto narrow = make_net(o.net, o.seed);
  const ActionStart at_w = fit_action_start(d, training_samples(d, o.max_len), narrow.get());
  o.net.hyper.copy_window = 8;
  auto wide = make_net(o.net, o.seed);
  const ActionStart at_wc = fit_action_start(d, training_samples(d, o.max_len), wide.get());
  CHECK(at_wc.nll_fitted < at_w.nll_fitted - 1.0);
  // Without session inputs every event is in the same session: the second half of the buckets.
  const float* dist = wide->params.ptr(wide->head_copy_distance);
  CHECK(dist[hunch::kCopyDistanceBuckets + 5] > 2.0f);
  CHECK(dist[hunch::kCopyDistanceBuckets + 5] == *std::max_element(dist, dist + 2 * hunch::kCopyDistanceBuckets));
}

TEST_CASE("the count head: the start ranked for the top ten; --item-weights count keeps the counts' action logits") {
  Dataset d = make_toy(80, 20, 5);
  TrainOptions o = toy_options(hunch::Arch::TRANSFORMER, d, 3);
  o.net.hyper.copy = 1;
  auto tc = std::make_shared<TransitionCounts>(
      count_transitions(d, training_samples(d, o.max_len), 4, 1 << 20));
  o.net.hyper.transition_bytes = uint32_t(tc->table.size());
  o.net.transitions = tc;
  auto net = make_net(o.net, o.seed);
  const ActionStart st = fit_action_start(d, training_samples(d, o.max_len), net.get());
  // The ascent only takes steps that raise the columns' NDCG@10.
  REQUIRE(!std::isnan(st.ndcg_ranked));
  CHECK(st.ndcg_ranked >= st.ndcg_fitted);
  CHECK(st.ndcg_fitted > 0.05);
  CHECK(st.bias_scale > 0);
  CHECK(st.ranked_bias.size() == d.actions.size());
  CHECK(st.ranked_theta.size() == 2 * hunch::kCopyDistanceBuckets + 2 * o.net.hyper.type_count +
                                      hunch::kCopyCountBuckets + hunch::kTransitionBuckets);
  // The alternatives the trainer validates beside it: the other start's end and the three
  // baselines' mixes; choosing one swaps it in (β times the training targets' log-frequencies
  // for a baseline's mix: the popularity the baselines fall back on; the fitted biases for the
  // other start's end), choosing the same slot again swaps the ascent back.
  REQUIRE(st.alternatives.size() == 4);
  CHECK(std::string(st.alternatives[1].name) == "the repeat baseline's mix");
  CHECK(st.alternatives[0].ndcg <= st.ndcg_ranked);
  CHECK_FALSE(st.alternatives[0].popular);
  for (size_t i = 1; i < 4; ++i) CHECK(st.alternatives[i].popular);
  REQUIRE(st.popular_bias.size() == d.actions.size());
  {
    // popular_bias: log(count + 1/2) of the columns' targets (every column of this small log).
    std::vector<double> targets(d.actions.size(), 0.5);
    for (const Sample& s : training_samples(d, o.max_len))
      for (uint64_t c = s.begin; c < s.begin + s.len && c + 1 < s.target_end; ++c) targets[d.action[c + 1]] += 1;
    for (size_t a = 0; a < d.actions.size(); ++a) CHECK(st.popular_bias[a] == doctest::Approx(std::log(targets[a])));
  }
  ActionStart swapped = st;
  choose_count_head(&swapped, 2);
  CHECK(std::string(swapped.chosen) == "the Markov baseline's mix");
  CHECK(swapped.chosen_popular);
  CHECK(swapped.ranked_theta == st.alternatives[2].theta);
  CHECK(swapped.ranked_bias[3] == doctest::Approx(st.alternatives[2].bias_scale * st.popular_bias[3]));
  CHECK(swapped.ndcg_ranked == st.alternatives[2].ndcg);
  choose_count_head(&swapped, 2);
  CHECK(std::string(swapped.chosen) == "the ascent");
  CHECK_FALSE(swapped.chosen_popular);
  CHECK(swapped.ranked_theta == st.ranked_theta);
  CHECK(swapped.bias_scale == st.bias_scale);
  CHECK(swapped.ranked_bias[3] == doctest::Approx(st.ranked_bias[3]));
  choose_count_head(&swapped, 0);  // the other start's end: the fitted biases
  CHECK(swapped.ranked_bias[3] == doctest::Approx(st.alternatives[0].bias_scale * st.fitted_bias[3]));

  o.item_weights = TrainOptions::ItemWeights::COUNT;
  auto counted = make_net(o.net, o.seed);
  TrainResult r;
  REQUIRE(train(d, o, counted.get(), &r).ok());
  CHECK(r.count_head);
  CHECK(r.count_head_after == 0);
  // The toy's type head trains on it; next action is the count head's at every epoch.
  CHECK(r.log.size() == 3);
  for (const EpochLog& l : r.log) CHECK(l.valid_ndcg_10 == doctest::Approx(r.count_valid_ndcg_10));
  CHECK(r.best_valid_ndcg_10 == doctest::Approx(r.count_valid_ndcg_10));
  // Without a type head there is nothing to train: one epoch, the count head validated as is.
  o.weights.type = 0;
  auto untyped = make_net(o.net, o.seed);
  TrainResult u;
  REQUIRE(train(d, o, untyped.get(), &u).ok());
  CHECK(u.log.size() == 1);
  CHECK(u.best_epoch == 1);
  CHECK(u.seconds_per_epoch == 0);
  // Its action logits read no network output: head.action.w and the copy gate are zero, the
  // biases the ranked ones.
  for (size_t t : {counted->head_aw, counted->head_copy_gate}) {
    const float* w = counted->params.ptr(t);
    CHECK(std::all_of(w, w + counted->params.entries[t].size, [](float x) { return x == 0.0f; }));
  }
  // (the chosen count head's: the ascent's or an alternative that validated better)
  CHECK(r.count_valid_ndcg_10 >= r.count_valid_ndcg_ascent);
  const std::vector<float>& shipped = r.action_start.ranked_bias;
  CHECK(std::equal(shipped.begin(), shipped.end(), counted->params.ptr(counted->head_ab)));
}
