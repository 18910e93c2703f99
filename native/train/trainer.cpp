#include "train/trainer.h"
#include "train/checkpoint.h"
#include "train/export.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <thread>

#include "train/privacy.h"
#include "train/shards.h"
#include "train/transitions.h"

namespace hunch::train {

namespace {

std::atomic<bool> g_stop{false};

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::string fmt_duration(double s) {
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%dh%02dm", int(s / 3600), int(std::fmod(s, 3600) / 60));
  else if (s >= 60) std::snprintf(buf, sizeof buf, "%dm%02ds", int(s / 60), int(std::fmod(s, 60)));
  else std::snprintf(buf, sizeof buf, "%.0fs", s);
  return buf;
}

// Splits a batch over threads by positions (longest first to the least loaded), so the
// threads finish together; deterministic for a given batch.
std::vector<std::vector<Sample>> split_batch(const std::vector<Sample>& batch, size_t threads) {
  std::vector<size_t> idx(batch.size());
  for (size_t k = 0; k < idx.size(); ++k) idx[k] = k;
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return batch[a].len > batch[b].len; });
  std::vector<std::vector<Sample>> parts(threads);
  std::vector<uint64_t> load(threads, 0);
  for (size_t k : idx) {
    size_t t = size_t(std::min_element(load.begin(), load.end()) - load.begin());
    parts[t].push_back(batch[k]);
    load[t] += batch[k].len;
  }
  return parts;
}

}  // namespace

bool user_gradient(const Net& net, const Dataset& data, Pass& pass, const std::vector<Sample>& samples,
                   const LossWeights& w, uint64_t seed, float event_drop, Buffer* g, LossTotals* loss) {
  prepare_pass(pass, data, samples, true, seed, event_drop);
  const LossTotals n = count_targets(pass);
  if (n.n_action + n.n_type + n.n_exit + n.n_conversion == 0) return false;
  std::fill(g->begin(), g->end(), 0.0f);
  net.forward(data, pass);
  heads_loss(net, data, pass, w, n, loss, g->data());
  net.backward(data, pass, g->data());
  return true;
}

float clip_scale(const Buffer& g, float clip) {
  double sq = 0;
  for (float v : g) sq += double(v) * double(v);
  const double norm = std::sqrt(sq);
  return norm > double(clip) ? float(double(clip) / norm) : 1.0f;
}

void add_dp_noise(Buffer& g, double stddev, double scale, SecretRng& rng) {
  // Box-Muller in double precision from 53-bit uniforms (Rng::normal's 24-bit floats would cut
  // the tails near 5.8σ), both of its independent normals used: the noise is a fifth of a small
  // step's time.
  const size_t n = g.size();
  for (size_t k = 0; k < n; k += 2) {
    const double u1 = 1.0 - rng.uniform53(), u2 = rng.uniform53();
    const double r = stddev * std::sqrt(-2.0 * std::log(u1)), t = 6.283185307179586 * u2;
    g[k] = float((double(g[k]) + r * std::cos(t)) * scale);
    if (k + 1 < n) g[k + 1] = float((double(g[k + 1]) + r * std::sin(t)) * scale);
  }
}

void request_stop() { g_stop.store(true); }
void clear_stop() { g_stop.store(false); }
bool stop_requested() { return g_stop.load(); }

std::vector<Sample> training_samples(const Dataset& data, uint32_t max_len) {
  std::vector<Sample> out;
  for (size_t q = 0; q < data.sequences(); ++q) {
    const uint64_t o = data.offsets[q], n = data.length(q);
    Sample s;
    s.first = o;
    if (n >= kMinEvaluatedLength) {
      const uint64_t inputs = n - 3;  // train = [0, n-2); input = train[:-1]
      if (inputs == 0) continue;      // a single training event has no next event to learn
      const uint64_t len = std::min<uint64_t>(inputs, max_len);
      s.begin = o + inputs - len;
      s.len = uint32_t(len);
      s.target_end = o + n - 2;
      s.ends = false;
    } else {
      if (n == 0) continue;
      const uint64_t len = std::min<uint64_t>(n, max_len);
      s.begin = o + n - len;
      s.len = uint32_t(len);
      s.target_end = o + n;
      s.ends = true;
    }
    s.id = out.size();
    out.push_back(s);
  }
  return out;
}

void random_crops(std::vector<Sample>* samples, uint64_t seed, uint32_t epoch) {
  for (Sample& s : *samples) {
    if (s.ends || s.target_end <= s.first + 1) continue;  // whole short sequences stay whole
    // Inputs may be [first, target_end - 1): the last input's target must stay a training event.
    const uint64_t available = s.target_end - 1 - s.first;
    if (available <= s.len) continue;
    Rng rng = Rng::derive(seed, 0xC409, epoch, s.id);
    const uint64_t end = s.len + rng.below(available - s.len + 1);  // window end, in [len, available]
    s.begin = s.first + end - s.len;
  }
}

ScoreFn net_scorer(const Net& net, const Dataset& data, unsigned threads) {
  struct Cache {
    std::unique_ptr<Pass> pass;
    size_t chunk = std::numeric_limits<size_t>::max();
    size_t back = 0;               // n - input_len of the cached chunk
    std::vector<size_t> col_of;    // sequence - chunk → column, or npos
    Eigen::MatrixXf logits, zl, xl;
  };
  auto caches = std::make_shared<std::vector<Cache>>(std::max(1u, threads));
  for (auto& c : *caches) c.pass = net.make_pass();
  constexpr size_t kChunk = 8;  // evaluate() hands out sequences in chunks of 8
  return [caches, &net, &data](unsigned thread, size_t seq, size_t input_len, Scores* out) -> Error {
    if (thread >= caches->size()) return Error("scorer: thread index beyond the scorer's thread count");
    Cache& c = (*caches)[thread];
    const size_t n = data.length(seq);
    if (input_len == 0 || input_len > n) return Error("scorer: input length out of range");
    const size_t back = n - input_len;
    const size_t chunk = seq - seq % kChunk;
    const size_t npos = std::numeric_limits<size_t>::max();
    if (c.chunk != chunk || c.back != back || c.col_of[seq - chunk] == npos) {
      // One forward pass for every sequence of the chunk that this split can score.
      std::vector<Sample> samples;
      c.col_of.assign(kChunk, npos);
      for (size_t q = chunk; q < std::min(data.sequences(), chunk + kChunk); ++q) {
        const size_t nq = data.length(q);
        if (nq < back + 1 || (q != seq && nq < kMinEvaluatedLength)) continue;
        Sample s;
        s.begin = data.offsets[q];
        s.len = uint32_t(nq - back);
        s.target_end = s.begin + s.len;
        s.id = q;
        c.col_of[q - chunk] = samples.size();
        samples.push_back(s);
      }
      prepare_pass(*c.pass, data, samples, false, 0);
      net.forward(data, *c.pass);
      last_action_logits(net, *c.pass, data, &c.logits);
      const size_t D = net.cfg.hyper.embed;
      c.zl.resize(D, samples.size());
      for (size_t s = 0; s < samples.size(); ++s)
        c.zl.col(s) = CMapV(c.pass->z.data() + (c.pass->start[s + 1] - 1) * D, D);
      if (net.cfg.hyper.session_inputs) {  // the exit head's wide term reads the input encoding
        c.xl.resize(D, samples.size());
        for (size_t s = 0; s < samples.size(); ++s)
          c.xl.col(s) = CMapV(c.pass->xin.data() + (c.pass->start[s + 1] - 1) * D, D);
      }
      c.chunk = chunk;
      c.back = back;
    }
    const size_t col = c.col_of[seq - chunk];
    if (out->actions) std::copy_n(c.logits.col(col).data(), net.cfg.hyper.vocab_size, out->actions);
    const auto& P = net.params;
    if (out->types) {
      Eigen::VectorXf t = P.mat(net.head_tw) * c.zl.col(col) + CMapV(P.ptr(net.head_tb), net.cfg.hyper.type_count);
      std::copy_n(t.data(), net.cfg.hyper.type_count, out->types);
    }
    float e = P.ptr(net.head_eb)[0] + CMapV(P.ptr(net.head_ew), net.cfg.hyper.embed).dot(c.zl.col(col));
    if (net.cfg.hyper.session_inputs) e += CMapV(P.ptr(net.head_ewx), net.cfg.hyper.embed).dot(c.xl.col(col));
    out->exit = sigmoid(e);
    return Error();
  };
}

SessionScoreFn net_session_scorer(const Net& net, const Dataset& data, unsigned threads) {
  auto passes = std::make_shared<std::vector<std::unique_ptr<Pass>>>();
  for (unsigned t = 0; t < std::max(1u, threads); ++t) passes->push_back(net.make_pass());
  // The action head's matrix, once for every sequence (with attributes a sum: action_head_matrix).
  auto w_storage = std::make_shared<MatR>();
  const CMapR Wa = action_head_matrix(net, data, w_storage.get());
  return [passes, &net, &data, w_storage, Wa](unsigned thread, size_t q, const std::vector<uint32_t>& points,
                                              bool want_actions, const PointVisit& visit) -> Error {
    if (thread >= passes->size()) return Error("scorer: thread index beyond the scorer's thread count");
    if (points.empty()) return Error();
    Pass& pass = *(*passes)[thread];
    Sample s;
    s.begin = s.first = data.offsets[q];
    s.len = points.back();
    s.target_end = s.begin + s.len;
    s.id = q;
    prepare_pass(pass, data, {s}, false, 0);
    net.forward(data, pass);
    const hunch::Hyper& h = net.cfg.hyper;
    const size_t D = h.embed, V = h.vocab_size, T = h.type_count;
    const auto& P = net.params;
    const hunch::Calibration& cal = net.calibration;
    constexpr size_t kBlock = 64;  // points per logit block: V × 64 floats at most
    Eigen::MatrixXf Z, L, TL;
    std::vector<float> tp(T);
    for (size_t k0 = 0; k0 < points.size(); k0 += kBlock) {
      const size_t n = std::min(kBlock, points.size() - k0);
      Z.resize(D, Eigen::Index(n));
      for (size_t k = 0; k < n; ++k) Z.col(Eigen::Index(k)) = CMapV(pass.z.data() + size_t(points[k0 + k] - 1) * D, D);
      if (want_actions) {
        L.noalias() = Wa * Z;
        L.colwise() += CMapV(P.ptr(net.head_ab), V);
        for (size_t k = 0; k < n; ++k) add_action_terms(net, data, pass, size_t(points[k0 + k] - 1), L.col(Eigen::Index(k)).data());
      }
      TL.noalias() = P.mat(net.head_tw) * Z;
      TL.colwise() += CMapV(P.ptr(net.head_tb), T);
      for (size_t k = 0; k < n; ++k) {
        PointScores ps;
        const auto z = Z.col(Eigen::Index(k));
        if (want_actions) ps.actions = L.col(Eigen::Index(k)).data();
        ps.type_logits = TL.col(Eigen::Index(k)).data();
        float mx = -INFINITY;
        for (size_t t = 0; t < T; ++t) mx = std::max(mx, ps.type_logits[t] / cal.type_temperature);
        float sum = 0;
        for (size_t t = 0; t < T; ++t) sum += tp[t] = std::exp(ps.type_logits[t] / cal.type_temperature - mx);
        for (float& v : tp) v /= sum;
        ps.types = tp.data();
        ps.exit_logit = P.ptr(net.head_eb)[0] + CMapV(P.ptr(net.head_ew), D).dot(z);
        const size_t col = size_t(points[k0 + k] - 1);
        if (h.session_inputs) ps.exit_logit += CMapV(P.ptr(net.head_ewx), D).dot(CMapV(pass.xin.data() + col * D, D));
        ps.exit = sigmoid(cal.exit_a * ps.exit_logit + cal.exit_b);
        if (h.conversion) {
          ps.conversion_logit = P.ptr(net.head_cb)[0] + CMapV(P.ptr(net.head_cw), D).dot(z);
          if (h.session_inputs)
            ps.conversion_logit += CMapV(P.ptr(net.head_cwx), D).dot(CMapV(pass.xin.data() + col * D, D));
          ps.conversion = sigmoid(cal.conversion_a * ps.conversion_logit + cal.conversion_b);
        }
        visit(k0 + k, ps);
      }
    }
    return Error();
  };
}

Error validate(const Net& net, const Dataset& data, unsigned threads, bool exclude_seen,
               double* ndcg_10, double* hr_10, const std::vector<uint8_t>* only, Collective* collective) {
  EvalOptions o = validation_only(exclude_seen, threads, collective);
  o.only = only;
  threads = std::max(1u, threads);
  // Across processes each scores its own users' sequences (evaluate shares the rest).
  const SequenceOwners owners = sequence_owners(data, UserParts{collective, threads}, data.sharded);
  // Every validation input scored up front in blocks of 128 sequences, so the recurrence and
  // the GEMMs run over wide blocks instead of evaluate()'s chunks of 8; the logits are kept
  // when they fit in 256 MB, else the chunked scorer runs.
  std::vector<size_t> evaluated;
  for (size_t q = 0; q < data.sequences(); ++q)
    if (data.length(q) >= kMinEvaluatedLength && !(only && !(*only)[q]) && owners.mine(q)) evaluated.push_back(q);
  ScoreFn scorer;
  Eigen::MatrixXf logits;
  std::vector<size_t> col_of(data.sequences(), 0);
  const size_t V = net.cfg.hyper.vocab_size;
  if (double(V) * double(evaluated.size()) * 4.0 <= 256.0 * 1024 * 1024) {
    logits.resize(V, Eigen::Index(evaluated.size()));
    const size_t block = 128, blocks = (evaluated.size() + block - 1) / block;
    std::atomic<size_t> next{0};
    auto work = [&]() {
      auto pass = net.make_pass();
      Eigen::MatrixXf out;
      for (size_t b; (b = next.fetch_add(1)) < blocks;) {
        std::vector<Sample> samples;
        for (size_t k = b * block; k < std::min(evaluated.size(), (b + 1) * block); ++k) {
          const size_t q = evaluated[k];
          Sample s;
          s.begin = data.offsets[q];
          s.len = uint32_t(data.length(q) - 2);
          s.target_end = s.begin + s.len;
          s.id = q;
          samples.push_back(s);
        }
        prepare_pass(*pass, data, samples, false, 0);
        net.forward(data, *pass);
        last_action_logits(net, *pass, data, &out);
        logits.middleCols(Eigen::Index(b * block), out.cols()) = out;
      }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& th : pool) th.join();
    for (size_t k = 0; k < evaluated.size(); ++k) col_of[evaluated[k]] = k;
    scorer = [&](unsigned, size_t seq, size_t input_len, Scores* out) -> Error {
      if (input_len + 2 != data.length(seq)) return Error("validation scorer: only the validation input is scored");
      if (out->actions) std::copy_n(logits.col(Eigen::Index(col_of[seq])).data(), V, out->actions);
      return Error();
    };
  } else {
    scorer = net_scorer(net, data, threads);
  }
  EvalResult r;
  if (Error e = evaluate(data, scorer, o, &r)) return e;
  const MethodResult* m = r.find("model");
  if (!m) return Error("validate: no model result");
  *ndcg_10 = m->valid.full.ndcg_at(10);
  *hr_10 = m->valid.full.hr_at(10);
  return Error();
}

// The part of a TrainResult a checkpoint carries (checkpoint.h): the epoch log and the best
// epoch's figures; the rest is this run's (samples, the refitted action start, …).
static void copy_progress(const TrainResult& from, TrainResult* to) {
  to->log = from.log;
  to->best_epoch = from.best_epoch;
  to->best_valid_ndcg_10 = from.best_valid_ndcg_10;
  to->best_valid_hr_10 = from.best_valid_hr_10;
  to->best_valid_exit_auc = from.best_valid_exit_auc;
  to->best_valid_conversion_auc = from.best_valid_conversion_auc;
  to->best_valid_score = from.best_valid_score;
  to->start_valid_ndcg_10 = from.start_valid_ndcg_10;
  to->best_free_valid_ndcg_10 = from.best_free_valid_ndcg_10;
  to->items_frozen = from.items_frozen;
  to->items_frozen_after = from.items_frozen_after;
  to->count_valid_ndcg_10 = from.count_valid_ndcg_10;
  to->best_network_valid_ndcg_10 = from.best_network_valid_ndcg_10;
  to->count_head = from.count_head;
  to->count_head_after = from.count_head_after;
}

Error train(const Dataset& data, const TrainOptions& opt, Net* net, TrainResult* res,
            const std::function<void(const EpochLog&, const TrainResult&)>& on_epoch) {
  *res = TrainResult();
  const unsigned threads = std::max(1u, opt.threads);
  Collective& world = opt.collective ? *opt.collective : single_process();
  const unsigned ranks = unsigned(world.size()), first_part = unsigned(world.rank()) * threads;
  if (ranks > 1) {
    // Every rank's parts start at rank × threads: with another --threads on some rank, parts would
    // overlap or go missing (and under DP a user would count twice).
    if (!world.agree(threads))
      return Error("train: every MPI rank needs the same --threads (the ranks were started with different ones)");
  }
  // Ctrl-C (stop_requested) as every rank agrees on it: each collective check makes it true on
  // all ranks at once, so no rank leaves training while another waits in a sum.
  bool stopped = false;
  auto stop_agreed = [&]() {
    if (!stopped && world.any(stop_requested())) stopped = true;
    return stopped;
  };
  std::vector<Sample> samples =
      opt.sessions ? session_training_samples(data, *opt.sessions, opt.max_len) : training_samples(data, opt.max_len);
  std::vector<Sample> held_samples;  // under DP with counts: the held-out users' (the count start's columns)
  if (opt.holdout_users > 0) {
    const std::vector<uint8_t> held = holdout_sequences(data, opt.holdout_users, opt.holdout_seed);
    if (opt.dp.epsilon > 0 && !opt.dp.counts.empty()) {
      std::vector<uint8_t> trained(held.size());
      for (size_t q = 0; q < held.size(); ++q) trained[q] = !held[q];
      held_samples = samples;
      drop_samples_of(data, trained, &held_samples);
    }
    res->holdout_samples = drop_samples_of(data, held, &samples);
  }
  // A shard (Dataset::sharded) holds this process's users only: its samples are its own, the
  // run's are every process's.
  const bool sharded = data.sharded && ranks > 1;
  if (data.sharded && !opt.collective) return Error("train: a shard of the log without the run's collective: a bug");
  for (const Sample& s : samples) res->train_positions += s.len;
  res->train_samples = samples.size();
  if (sharded) {
    double totals[3] = {double(res->train_positions), double(res->train_samples), double(res->holdout_samples)};
    world.sum(totals, 3);
    res->train_positions = uint64_t(totals[0]), res->train_samples = uint64_t(totals[1]);
    res->holdout_samples = uint64_t(totals[2]);
  }
  if (res->train_samples == 0)
    return Error(opt.sessions ? "train: no training session (every session is held out)"
                              : "train: no training sequences (every sequence needs at least 2 events)");
  const SessionSplit* valid_split = opt.valid_sessions ? opt.valid_sessions : opt.sessions;
  if (opt.sessions) {
    if (valid_split->valid_sessions == 0)
      return Error(opt.valid_sessions ? "train: no validation session of a held-out user (raise --holdout-users)"
                                      : "train: no validation session (too few sessions for --test-fraction)");
  } else {
    bool any_evaluated = false;
    for (size_t q = 0; q < data.sequences(); ++q) any_evaluated |= data.length(q) >= kMinEvaluatedLength;
    if (sharded) any_evaluated = world.any(any_evaluated);
    if (!any_evaluated) return Error("train: no sequence has the 3 events needed for validation");
  }

  // Differentially private training: the users, the sampling rate, the planned steps and the
  // noise (TrainOptions::dp).
  const bool dp = opt.dp.epsilon > 0;
  std::vector<std::vector<uint32_t>> user_samples;  // per training user: its samples
  uint64_t dp_steps_per_epoch = 0;
  std::unique_ptr<SecretRng> secret;  // the noise and the sampling: not reproducible from the model's seed
  SecretRng::Key secret_key{};
  std::vector<uint64_t> user_id;  // sharded: per training user, a hash of the name (its draws' address)
  if (dp) {
    std::vector<std::string> names;
    const std::vector<uint32_t> user_of = sequence_users(data, &names);
    const std::vector<uint32_t> seq_of = sample_sequences(data, samples);
    std::vector<int64_t> index(names.size(), -1);
    for (size_t k = 0; k < samples.size(); ++k) {
      const uint32_t u = user_of[seq_of[k]];
      if (index[u] < 0) {
        index[u] = int64_t(user_samples.size());
        user_samples.emplace_back();
        user_id.push_back(user_hash(names[u]));
      }
      user_samples[size_t(index[u])].push_back(uint32_t(k));
    }
    double users = double(user_samples.size());
    if (sharded) world.sum(&users, 1);  // every shard's training users
    DpSpent& d = res->dp;
    d.users = uint64_t(users);
    d.epsilon_target = opt.dp.epsilon;
    d.delta = opt.dp.delta > 0 ? opt.dp.delta : 1.0 / users;
    d.clip = opt.dp.clip;
    d.sample_rate = std::min(1.0, double(opt.batch) / users);
    dp_steps_per_epoch = uint64_t(std::ceil(1.0 / d.sample_rate));
    d.planned_steps = uint64_t(opt.epochs) * dp_steps_per_epoch;
    d.count_sigma = opt.dp.counts.empty() ? 0 : opt.dp.count_sigma;
    d.count_clip = d.count_sigma > 0 ? opt.dp.count_clip : 0;
    if (!opt.dp.counts.empty() && !(d.count_sigma > 0)) return Error("train: DP counts without their noise multiplier");
    if (Error e = dp_noise_for(d.epsilon_target, d.delta, d.sample_rate, d.planned_steps, &d.sigma, d.count_sigma))
      return Error("train: " + e.message);
    if (!(d.clip > 0)) return Error("train: --dp-clip must be positive");
    // Across processes every rank draws the same users and the same noise from this stream and
    // computes its share of the sampled users' gradients (below).
    secret_key = shared_secret_key(world);
    secret = std::make_unique<SecretRng>(secret_key);
  }
  // The count head is only read with --item-weights auto or count, and never with a tied head.
  const bool rank_count_head = !net->cfg.tie_embeddings && (opt.item_weights == TrainOptions::ItemWeights::AUTO ||
                                                            opt.item_weights == TrainOptions::ItemWeights::COUNT);
  if (!dp && (net->cfg.hyper.copy || net->cfg.hyper.transition_bytes || net->cfg.hyper.attr_columns))
    res->action_start = fit_action_start(data, samples, net, nullptr, rank_count_head, UserParts{&world, threads});
  // Under DP no training user's event is read here: the biases are the noised counts', the
  // weights are fitted on the held-out users' columns (not protected, as their validation).
  if (dp && !opt.dp.counts.empty()) {
    if (opt.dp.counts.size() != net->cfg.hyper.vocab_size) return Error("train: DP counts of another vocabulary");
    if (sharded ? !world.any(!held_samples.empty()) : held_samples.empty())
      return Error("train: the DP count start fits on held-out users: none has a training column");
    res->action_start = fit_action_start(data, held_samples, net, &opt.dp.counts, rank_count_head, UserParts{&world, threads});
  }
  if (res->action_start.columns && !std::isfinite(res->action_start.nll_fitted))
    return Error(format_message("train: the action head's start (popularity, copy and transition weights) came out "
                                "non-finite (log-loss %g on %llu columns): a bug, please report it with the log",
                                res->action_start.nll_fitted, (unsigned long long)res->action_start.columns));

  std::vector<std::unique_ptr<Pass>> passes;
  std::vector<Buffer> grads(threads, Buffer(net->params.size()));
  std::vector<Buffer> user_grads(dp ? threads : 0, Buffer(net->params.size()));  // one user's gradient
  uint64_t dp_users_seen = 0, dp_users_clipped = 0;
  for (unsigned t = 0; t < threads; ++t) passes.push_back(net->make_pass());
  Adam adam;
  // One step's parts: work(t) on threads 0..threads-1 (each into grads[t]), then their gradients
  // summed into grads[0].
  auto run_parts = [&](const std::function<void(unsigned)>& work) {
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, t);
    work(0);
    for (auto& th : pool) th.join();
    for (unsigned t = 1; t < threads; ++t) {
      float* g0 = grads[0].data();
      const float* gt = grads[t].data();
      for (size_t k = 0, n = grads[0].size(); k < n; ++k) g0[k] += gt[k];
    }
  };
  // Freezing the per-action weights: a zero learning rate (their gradients are still computed:
  // the loss reads them).
  auto freeze = [&](const std::vector<size_t>& tensors) {
    for (size_t t : tensors)
      adam.scaled.push_back({net->params.entries[t].offset, net->params.entries[t].offset + net->params.entries[t].size, 0.0f});
  };
  auto freeze_items = [&]() {
    std::vector<size_t> frozen = {net->head_aw, net->head_ab, net->emb_action};
    // head.attr scores every action of a value alike: per category (or brand) weights, which
    // learn the training events by heart as the per-action ones do.
    if (net->cfg.hyper.attr_columns) frozen.push_back(net->head_attr);
    freeze(frozen);
    res->items_frozen = true;
  };
  // Validation metrics of the current weights into log (valid_*): NDCG@10, and with sessions
  // exit and conversion AUC, summed into valid_score.
  auto validate_now = [&](EpochLog* out) -> Error {
    EpochLog& log = *out;
    if (opt.sessions) {
      SessionEvalOptions so;
      so.test = false;
      so.baselines = false;
      so.threads = threads;
      so.collective = &world;
      SessionEvalResult sr;
      if (Error e = evaluate_sessions(data, *valid_split, net_session_scorer(*net, data, threads), so, &sr)) return e;
      const SessionMethod* m = sr.valid.find("model");
      log.valid_ndcg_10 = m && m->rank.users ? m->rank.ndcg_at(10) : 0;
      log.valid_hr_10 = m && m->rank.users ? m->rank.hr_at(10) : 0;
      // Every head counts in the selection: the epoch best at next action alone can leave
      // the exit and conversion heads half-trained (or over-fitted).
      log.valid_score = log.valid_ndcg_10;
      if (m && !sr.unscored.count("exit") && std::isfinite(m->exit.auc)) {
        log.valid_exit_auc = m->exit.auc;
        log.valid_score += m->exit.auc;
      }
      if (m && !sr.unscored.count("conversion") && std::isfinite(m->conversion.auc)) {
        log.valid_conversion_auc = m->conversion.auc;
        log.valid_score += m->conversion.auc;
      }
    } else if (Error e = validate(*net, data, threads, opt.exclude_seen, &log.valid_ndcg_10, &log.valid_hr_10,
                                  opt.valid_sequences, &world)) {
      return e;
    } else {
      log.valid_score = log.valid_ndcg_10;
    }
    return Error();
  };
  const Buffer start = net->params.data;
  const bool decide = res->action_start.columns > 0 && opt.item_weights == TrainOptions::ItemWeights::AUTO;
  if (opt.item_weights == TrainOptions::ItemWeights::FREEZE) freeze_items();
  if (decide) {
    EpochLog at_start;
    if (Error e = validate_now(&at_start)) return e;
    res->start_valid_ndcg_10 = at_start.valid_ndcg_10;
  }
  // The count head's validation NDCG@10 (its action logits read nothing the network learns, so
  // it is the same on whatever body phase 3 starts from).
  const bool count_only = res->action_start.columns > 0 && opt.item_weights == TrainOptions::ItemWeights::COUNT;
  // Not with --tie: zeroing head.action.w would zero the embeddings it shares.
  const bool has_count_head =
      (decide || count_only) && !res->action_start.ranked_bias.empty() && !net->cfg.tie_embeddings;
  // The count head's own table (NetConfig::count_transitions) while it is the action head.
  const std::shared_ptr<const TransitionCounts> network_table = net->cfg.transitions;
  auto use_count_table = [&](bool on) {
    if (!net->cfg.count_transitions || !network_table) return;
    net->cfg.transitions = on ? net->cfg.count_transitions : network_table;
    net->cfg.hyper.transition_bytes = uint32_t(net->cfg.transitions->table.size());
  };
  if (has_count_head) {
    use_count_table(true);
    apply_count_head(res->action_start, net);
    EpochLog at_start;
    if (Error e = validate_now(&at_start)) return e;
    res->count_valid_ndcg_10 = res->count_valid_ndcg_ascent = at_start.valid_ndcg_10;
    // The alternatives (the other start's end, the baselines' mixes) on validation: the count
    // head is whichever validates best (ActionStart::alternatives says why).
    size_t best_alt = SIZE_MAX;
    for (size_t i = 0; i < res->action_start.alternatives.size(); ++i) {
      ActionStart alt = res->action_start;
      choose_count_head(&alt, i);
      apply_count_head(alt, net);
      if (Error e = validate_now(&at_start)) return e;
      if (at_start.valid_ndcg_10 > res->count_valid_ndcg_10 + 1e-9) {
        res->count_valid_ndcg_10 = at_start.valid_ndcg_10;
        best_alt = i;
      }
    }
    if (best_alt != SIZE_MAX) choose_count_head(&res->action_start, best_alt);
    net->params.data = start;
    use_count_table(false);
  }
  // Phase 3 trains what the count head leaves: the type, exit and conversion heads. Without them
  // (or without time or epochs left) its one epoch is the count head validated as it starts.
  const bool other_heads = opt.sessions || (net->cfg.hyper.type_count > 1 && opt.weights.type > 0);
  Buffer best = net->params.data;
  double best_ndcg = -1;
  uint32_t bad_epochs = 0;
  float lr_scale = 1.0f;  // halved on plateaus (opt.lr_plateau)
  uint64_t step = 0;
  // A later phase starts afresh from `from`: new optimiser state, patience and warm-up.
  auto restart_phase = [&](const Buffer& from) {
    net->params.data = from;
    adam = Adam();
    res->early_stopped = false;
    bad_epochs = 0;
    step = 0;
    lr_scale = 1.0f;
  };
  double train_seconds = 0;
  std::vector<double> epoch_seconds;
  const bool bar = opt.progress && isatty(2);
  const size_t batch = std::max<uint32_t>(1, opt.batch);

  // Checkpoints: resume from one of this run, and how to write one.
  uint64_t fingerprint = checkpoint_fingerprint(data, samples, opt, net->params.size(), net->cfg.hyper);
  if (sharded) {  // every process's shard: their fingerprints, in rank order, hashed together
    const std::vector<double> all = world.all_gather({double(fingerprint >> 32), double(fingerprint & 0xFFFFFFFFu)});
    fingerprint = 0xCBF29CE484222325ull;
    for (double half : all) fingerprint = (fingerprint ^ uint64_t(half)) * 0x100000001B3ull;
  }
  int first_phase = 1;
  uint32_t resume_epoch = 0;  // the checkpoint's last completed epoch (0: none)
  bool resume_phase_ended = false;
  TrainCheckpoint c;
  bool resume = false;
  if (opt.resume && !opt.checkpoint.empty())
    if (Error e = read_checkpoint_agreed(world, opt.checkpoint, &resume, &c)) return e;
  if (resume) {
    if (c.fingerprint != fingerprint || c.params.size() != net->params.size())
      return Error(opt.checkpoint + ": a checkpoint of another run (other data, network or training options" +
                   std::string(sharded ? ", or another number of processes: --shard resumes with the run's" : "") +
                   "); remove it or give another --checkpoint path to start afresh");
    net->params.data.assign(c.params.begin(), c.params.end());
    best.assign(c.best.begin(), c.best.end());
    adam.m = c.adam_m;
    adam.v = c.adam_v;
    adam.steps = c.adam_steps;
    adam.scaled = c.adam_scaled;
    step = c.step;
    lr_scale = c.lr_scale;
    bad_epochs = c.bad_epochs;
    best_ndcg = c.best_score;
    train_seconds = c.train_seconds;
    epoch_seconds = c.epoch_seconds;
    copy_progress(c.result, res);
    res->resumed_after = c.epoch;
    if (c.dp != dp)  // the fingerprint holds the DP settings: only a damaged file gets here
      return Error(opt.checkpoint + ": a checkpoint of another run (with or without --dp-epsilon)");
    // The accountant goes on from the steps already taken (ε counts the whole run); the noise
    // and the sampling go on from a fresh secret seed, independent of the earlier draws.
    if (dp && (c.dp_sigma != res->dp.sigma || c.dp_planned_steps != res->dp.planned_steps))
      return Error(format_message("%s: the checkpointed run planned %llu DP steps at noise σ = %.4g, this one %llu at "
                                  "σ = %.4g: under --dp-epsilon a resumed run keeps the run's --epochs (its noise was "
                                  "planned for them)", opt.checkpoint.c_str(), (unsigned long long)c.dp_planned_steps,
                                  c.dp_sigma, (unsigned long long)res->dp.planned_steps, res->dp.sigma));
    res->dp.steps = c.dp_steps;
    dp_users_seen = c.dp_users_seen;
    dp_users_clipped = c.dp_users_clipped;
    first_phase = int(c.phase);
    resume_epoch = c.epoch;
    resume_phase_ended = c.phase_ended != 0;
    if (on_epoch)  // the checkpoint's epochs, as they were logged
      for (const EpochLog& l : c.result.log) on_epoch(l, *res);
  }
  auto write_checkpoint = [&](int phase, uint32_t done_epoch, bool phase_ended) -> Error {
    if (!world.leader()) return {};
    TrainCheckpoint c;
    c.fingerprint = fingerprint;
    c.phase = uint32_t(phase);
    c.epoch = done_epoch;
    c.phase_ended = phase_ended ? 1 : 0;
    c.step = step;
    c.lr_scale = lr_scale;
    c.bad_epochs = bad_epochs;
    c.best_score = best_ndcg;
    c.train_seconds = train_seconds;
    c.epoch_seconds = epoch_seconds;
    c.params = net->params.data;
    c.best = best;
    c.adam_m = adam.m;
    c.adam_v = adam.v;
    c.adam_steps = adam.steps;
    c.adam_scaled = adam.scaled;
    copy_progress(*res, &c.result);
    if (dp) {
      c.dp = true;
      c.dp_steps = res->dp.steps;
      c.dp_users_seen = dp_users_seen;
      c.dp_users_clipped = dp_users_clipped;
      c.dp_planned_steps = res->dp.planned_steps;
      c.dp_sigma = res->dp.sigma;
      c.dp_release = opt.dp.release;
    }
    if (Error e = write_file_atomic(opt.checkpoint, encode_checkpoint(c))) return e;
    ++res->checkpoints_written;
    return {};
  };

  // Phase 1 trains everything. With item_weights AUTO, when no epoch of it reached the start's
  // validation NDCG@10, phase 2 trains again from the start with the per-action weights frozen;
  // the best epoch of either phase (by the selection score) is kept.
  uint32_t epoch = resume_epoch ? resume_epoch + 1 : 1;
  for (int phase = first_phase; phase <= 3; ++phase) {
    const bool resumed_phase = resume_epoch && phase == first_phase;
    if (resumed_phase && resume_phase_ended) {
      // The checkpoint's epoch ended this phase (early stopping): go on where the run went.
      res->early_stopped = true;
      epoch = resume_epoch + 1;
      continue;
    }
    if (phase == 2 && !resumed_phase) {
      // Not when the count head beats the start: frozen per-action weights leave the network
      // near the start (Taobao 0.132 -> 0.134, REES46 0.381 -> 0.382), the count head is above it.
      if (!decide || res->items_frozen || !(res->best_free_valid_ndcg_10 < res->start_valid_ndcg_10) ||
          res->count_valid_ndcg_10 > res->start_valid_ndcg_10 || stop_agreed() || res->out_of_time ||
          epoch > opt.epochs)
        continue;
      restart_phase(start);
      freeze_items();
      res->items_frozen_after = epoch - 1;
    }
    if (count_only && phase < 3) continue;
    if (phase == 3 && !resumed_phase) {
      if (!has_count_head || !(count_only || res->best_network_valid_ndcg_10 < res->count_valid_ndcg_10) ||
          stop_agreed())
        break;
      // From the best epoch so far (its other heads trained), the action head swapped for the
      // count head.
      restart_phase(res->best_epoch > 0 ? best : start);
      use_count_table(true);
      apply_count_head(res->action_start, net);
      freeze(count_head_tensors(*net));
      res->count_head = true;
      res->count_head_after = epoch - 1;
    }
    if (phase == 3 && resumed_phase && res->count_head) use_count_table(true);
    // Nothing to train under the count head: its validation is the phase's one epoch.
    const bool validate_only = phase == 3 && (!other_heads || res->out_of_time || epoch > opt.epochs);
    uint32_t next_epoch = epoch;  // after the loop, whether it broke or ran out of epochs
    for (; (epoch <= opt.epochs || validate_only) && !stop_agreed(); ++epoch) {
      // A shard shuffles its own samples (its own stream: every process draws another order).
      Rng shuffle = sharded ? Rng::derive(opt.seed, 0x5EED, epoch, uint64_t(world.rank())) : Rng::derive(opt.seed, 0x5EED, epoch);
      std::vector<Sample> order = samples;
      if (opt.random_crops) random_crops(&order, opt.seed, epoch);
      const std::vector<Sample> order_dp = dp ? order : std::vector<Sample>();  // by sample index
      for (size_t k = order.size(); k > 1; --k) std::swap(order[k - 1], order[shuffle.below(k)]);
      const double t0 = now_s();
      LossTotals epoch_loss;
      uint64_t done_positions = 0;
      bool partial = false;
      // DP-SGD: ceil(1/q) steps make an epoch (each user is expected once), each over a Poisson
      // sample of the users, one clipped gradient per user (a pass over that user's samples
      // alone), the sum noised once.
      // Not in a validate-only epoch (the count head's, past --epochs), and never past the planned
      // steps: the accountant's ε is for those.
      // Across processes the sampled users go to ranks × threads parts (each to the part with the
      // fewest positions so far, the same on every rank), a rank computes its threads' parts, the
      // clipped sums are summed across ranks and every rank adds the same noise.
      for (uint64_t k = 0; dp && !validate_only && k < dp_steps_per_epoch && res->dp.steps < res->dp.planned_steps; ++k) {
        DpSpent& d = res->dp;
        if (stop_agreed()) {
          partial = true;
          break;
        }
        // Sharded: each process draws its own users, each user's draw addressed by the step and
        // the user (SecretRng::uniform53_at, streams apart from the noise's), into its threads'
        // parts; the noise's stream stays the same on every rank.
        std::vector<std::vector<uint32_t>> all_parts(size_t(threads) * (sharded ? 1 : ranks));
        std::vector<uint64_t> load(all_parts.size(), 0);
        uint32_t sample_digest = 2166136261u;  // of the users drawn: the same on every rank, checked below
        for (uint32_t u = 0; u < user_samples.size(); ++u) {
          const double draw = sharded ? SecretRng::uniform53_at(secret_key, (uint64_t(1) << 63) | res->dp.steps, user_id[u])
                                      : secret->uniform53();
          if (!(draw < d.sample_rate)) continue;
          sample_digest = (sample_digest ^ u) * 16777619u;
          const size_t t = size_t(std::min_element(load.begin(), load.end()) - load.begin());
          all_parts[t].push_back(u);
          for (uint32_t i : user_samples[u]) load[t] += order_dp[i].len;
        }
        std::vector<std::vector<uint32_t>> parts(all_parts.begin() + (sharded ? 0 : first_part),
                                                 all_parts.begin() + (sharded ? 0 : first_part) + threads);
        std::vector<LossTotals> part_loss(threads);
        std::vector<uint64_t> part_clipped(threads, 0), part_users(threads, 0), part_positions(threads, 0);
        const uint64_t step_seed = Rng::derive(opt.seed, 0xD50, step).next();
        const float C = float(d.clip);
        auto work = [&](unsigned t) {
          std::fill(grads[t].begin(), grads[t].end(), 0.0f);
          Buffer& ug = user_grads[t];
          std::vector<Sample> us;
          for (uint32_t u : parts[t]) {
            us.clear();
            for (uint32_t i : user_samples[u]) us.push_back(order_dp[i]);
            ++part_users[t];
            for (const Sample& s : us) part_positions[t] += s.len;
            if (!user_gradient(*net, data, *passes[t], us, opt.weights, step_seed, opt.event_drop, &ug, &part_loss[t]))
              continue;  // no target: a zero gradient
            const float scale = clip_scale(ug, C);
            part_clipped[t] += scale < 1.0f;
            float* g = grads[t].data();
            const float* x = ug.data();
            for (size_t j = 0, m = ug.size(); j < m; ++j) g[j] += scale * x[j];
          }
        };
        run_parts(work);
        double seen[3] = {0, 0, 0};  // users, clipped users, positions: summed across ranks
        for (unsigned t = 0; t < threads; ++t) {
          epoch_loss.action += part_loss[t].action;
          epoch_loss.type += part_loss[t].type;
          epoch_loss.exit += part_loss[t].exit;
          epoch_loss.conversion += part_loss[t].conversion;
          epoch_loss.n_action += part_loss[t].n_action;
          epoch_loss.n_type += part_loss[t].n_type;
          epoch_loss.n_exit += part_loss[t].n_exit;
          epoch_loss.n_conversion += part_loss[t].n_conversion;
          seen[0] += double(part_users[t]);
          seen[1] += double(part_clipped[t]);
          seen[2] += double(part_positions[t]);
        }
        if (ranks > 1) {
          world.sum(grads[0].data(), grads[0].size());
          world.sum(seen, 3);
          // Checks that the ranks agree: they drew the same users (so the noise, from the same
          // stream, is the same too), and each holds the sum of all parts, not its own share (one
          // user counted once), within the rounding of sums added in another order.
          if (!sharded && !world.agree(sample_digest))
            return Error("train: the MPI ranks drew different users for a DP step (a bug, please report it)");
          double norm2 = 0;
          for (float g : grads[0]) norm2 += double(g) * g;
          if (!world.agree(norm2, 1e-6))
            return Error("train: the MPI ranks' summed DP gradients differ (a bug, please report it)");
        }
        dp_users_seen += uint64_t(seen[0]);
        dp_users_clipped += uint64_t(seen[1]);
        done_positions += uint64_t(seen[2]);
        add_dp_noise(grads[0], d.sigma * d.clip, 1.0 / (d.sample_rate * double(d.users)), *secret);
        const float warm = opt.warmup_steps ? std::min(1.0f, float(step + 1) / float(opt.warmup_steps)) : 1.0f;
        adam.step(net->params.data, grads[0], opt.lr * lr_scale * warm);
        ++step;
        ++d.steps;
      }
      // Steps of `batch` samples. A shard takes, each step, its share of the run's batch: its own
      // samples spread over the run's steps (each process has its own count; all take the same
      // steps, so every gradient sum has every process in it).
      const uint64_t run_samples = sharded ? res->train_samples : order.size();
      const uint64_t steps = (run_samples + batch - 1) / batch;
      for (uint64_t t = 0; !dp && !validate_only && t < steps; ++t) {
        std::vector<Sample> bs;
        std::vector<std::vector<Sample>> parts;
        if (sharded) {
          bs.assign(order.begin() + ptrdiff_t(t * order.size() / steps), order.begin() + ptrdiff_t((t + 1) * order.size() / steps));
          parts = split_batch(bs, threads);
        } else {
          const size_t b0 = size_t(t) * batch;
          bs.assign(order.begin() + ptrdiff_t(b0), order.begin() + ptrdiff_t(std::min(order.size(), b0 + batch)));
          // Across processes: the batch in ranks × threads parts, this rank's threads on its own.
          auto all_parts = split_batch(bs, size_t(threads) * ranks);
          parts.assign(all_parts.begin() + first_part, all_parts.begin() + first_part + threads);
        }
        std::vector<LossTotals> part_loss(threads);
        const uint64_t step_seed = Rng::derive(opt.seed, 0xD50, step).next();
        // Laid out before the threads start: the loss is a mean over the whole batch's targets,
        // and event dropout decides how many there are.
        LossTotals norm;
        for (unsigned t = 0; t < threads; ++t) {
          prepare_pass(*passes[t], data, parts[t], true, step_seed, opt.event_drop);
          const LossTotals n = count_targets(*passes[t]);
          norm.n_action += n.n_action;
          norm.n_type += n.n_type;
          norm.n_exit += n.n_exit;
          norm.n_conversion += n.n_conversion;
        }
        // One small sum across processes: the whole batch's target counts and a stop request
        // (Ctrl-C reaches the ranks at different steps; they stop at the same one).
        double shared[5] = {double(norm.n_action), double(norm.n_type), double(norm.n_exit),
                            double(norm.n_conversion), stop_requested() ? 1.0 : 0.0};
        world.sum(shared, 5);
        norm.n_action = uint64_t(shared[0]);
        norm.n_type = uint64_t(shared[1]);
        norm.n_exit = uint64_t(shared[2]);
        norm.n_conversion = uint64_t(shared[3]);
        if (shared[4] > 0) {
          stopped = true;
          partial = true;
          break;
        }
        auto work = [&](unsigned t) {
          std::fill(grads[t].begin(), grads[t].end(), 0.0f);
          if (parts[t].empty()) return;
          net->forward(data, *passes[t]);
          heads_loss(*net, data, *passes[t], opt.weights, norm, &part_loss[t], grads[t].data());
          net->backward(data, *passes[t], grads[t].data());
        };
        run_parts(work);
        world.sum(grads[0].data(), grads[0].size());
        for (const auto& l : part_loss) {
          epoch_loss.action += l.action;
          epoch_loss.type += l.type;
          epoch_loss.exit += l.exit;
          epoch_loss.n_action += l.n_action;
          epoch_loss.n_type += l.n_type;
          epoch_loss.n_exit += l.n_exit;
          epoch_loss.conversion += l.conversion;
          epoch_loss.n_conversion += l.n_conversion;
        }
        clip_grad_norm(grads[0], opt.clip);
        const float warm = opt.warmup_steps ? std::min(1.0f, float(step + 1) / float(opt.warmup_steps)) : 1.0f;
        adam.step(net->params.data, grads[0], opt.lr * lr_scale * warm);
        ++step;
        for (const Sample& s : bs) done_positions += s.len;
        if (bar) {
          // A shard's own positions stand for the run's share done (its samples spread evenly).
          const double done = sharded ? double(res->train_positions) * double(t + 1) / double(steps) : double(done_positions);
          const double el = now_s() - t0, rate = done / std::max(el, 1e-9);
          const double frac = done / double(res->train_positions);
          const int width = 30, fill = int(frac * width);
          std::fprintf(stderr, "\repoch %u [%.*s%*s] %3.0f%%  %.0f ev/s  ETA %s  loss %.4f   ", epoch, fill,
                       "##############################", width - fill, "", frac * 100, rate,
                       fmt_duration((double(res->train_positions) - done) / std::max(rate, 1e-9)).c_str(),
                       epoch_loss.weighted(opt.weights));
          std::fflush(stderr);
        }
      }
      if (sharded) {  // the positions every shard trained on
        double done = double(done_positions);
        world.sum(&done, 1);
        done_positions = uint64_t(done);
      }
      if (ranks > 1) {
        // The epoch's loss over every rank's share; and rank 0's weights on every rank, so
        // that rounding in the sums can never let the replicas drift apart.
        double l[8] = {epoch_loss.action, epoch_loss.type, epoch_loss.exit, epoch_loss.conversion,
                       double(epoch_loss.n_action), double(epoch_loss.n_type), double(epoch_loss.n_exit),
                       double(epoch_loss.n_conversion)};
        world.sum(l, 8);
        epoch_loss.action = l[0], epoch_loss.type = l[1], epoch_loss.exit = l[2], epoch_loss.conversion = l[3];
        epoch_loss.n_action = uint64_t(l[4]), epoch_loss.n_type = uint64_t(l[5]);
        epoch_loss.n_exit = uint64_t(l[6]), epoch_loss.n_conversion = uint64_t(l[7]);
        world.broadcast(net->params.data.data(), net->params.data.size());
      }
      const double secs = now_s() - t0;
      if (bar) std::fprintf(stderr, "\r%*s\r", 110, "");
      train_seconds += secs;
      EpochLog log;
      log.epoch = epoch;
      log.loss = epoch_loss.weighted(opt.weights);
      // A diverged run says so at once, not epochs later as NaN weights the int8 export refuses.
      if (!validate_only && !partial && done_positions > 0 && !std::isfinite(log.loss))
        return Error(format_message("train: the training loss is %g in epoch %u: the weights diverged (lower --lr, "
                                    "now %g, or --clip, now %g)", log.loss, epoch, double(opt.lr * lr_scale),
                                    double(opt.clip)));
      log.seconds = secs;
      log.events_per_s = done_positions / std::max(secs, 1e-9);
      log.partial = partial;
      if (!partial) {
        if (!validate_only) epoch_seconds.push_back(secs);
        const double v0 = now_s();
        if (Error e = validate_now(&log)) return e;
        log.valid_seconds = now_s() - v0;
        if (!res->items_frozen) res->best_free_valid_ndcg_10 = std::max(res->best_free_valid_ndcg_10, log.valid_ndcg_10);
        if (!res->count_head) res->best_network_valid_ndcg_10 = std::max(res->best_network_valid_ndcg_10, log.valid_ndcg_10);
        if (log.valid_score > best_ndcg) {
          best_ndcg = log.valid_score;
          res->best_valid_exit_auc = log.valid_exit_auc;
          res->best_valid_conversion_auc = log.valid_conversion_auc;
          res->best_valid_score = log.valid_score;
          best = net->params.data;
          res->best_epoch = epoch;
          res->best_valid_ndcg_10 = log.valid_ndcg_10;
          res->best_valid_hr_10 = log.valid_hr_10;
          bad_epochs = 0;
        } else {
          ++bad_epochs;
          // A plateau at this rate: smaller steps can still find a better point near it.
          if (opt.lr_plateau && bad_epochs % opt.lr_plateau == 0) lr_scale *= 0.5f;
        }
      }
      log.lr = opt.lr * lr_scale;
      res->log.push_back(log);
      next_epoch = epoch + 1;
      // Not after a validate-only epoch: a run stopped by --epochs or the time budget validates
      // the count head on its way out, and its resume must go on where the network's epochs were.
      if (!partial && !validate_only && opt.checkpoint_every && !opt.checkpoint.empty() && epoch % opt.checkpoint_every == 0)
        if (Error e = write_checkpoint(phase, epoch, opt.patience && bad_epochs >= opt.patience); world.any(!e.ok()))
          // Rank 0 writes it: every rank stops when it could not, none waits in the next sum.
          return e.ok() ? Error("train: rank 0 could not write the checkpoint (its own message says why)") : e;
      if (on_epoch) on_epoch(log, *res);
      if (partial || validate_only) break;
      if (opt.patience && bad_epochs >= opt.patience) {
        res->early_stopped = true;
        break;
      }
      if (opt.time_budget > 0 && world.any(train_seconds >= opt.time_budget)) {
        res->out_of_time = true;
        break;
      }
    }
    epoch = next_epoch;  // the next phase's first epoch
  }
  res->interrupted = stop_agreed();
  if (dp) {
    res->dp.budget_spent = res->dp.steps >= res->dp.planned_steps;
    DpSpent& d = res->dp;
    d.epsilon = dp_epsilon(d.sample_rate, d.sigma, d.steps, d.delta, d.count_sigma);
    d.epsilon_sgd = dp_epsilon(d.sample_rate, d.sigma, d.steps, d.delta);
    d.epsilon_counts = d.count_sigma > 0 ? dp_epsilon(d.sample_rate, d.sigma, 0, d.delta, d.count_sigma) : 0;
    res->dp.clipped_fraction = dp_users_seen ? double(dp_users_clipped) / double(dp_users_seen) : 0;
    res->dp.users_per_step = d.steps ? double(dp_users_seen) / double(d.steps) : 0;
  }
  // With no validated epoch (stopped during the first), the current weights are all there is.
  if (res->best_epoch > 0) net->params.data = best;
  // What ships: the count head when phase 3 holds the best epoch, a file without head.action.w
  // and head.attr (hunch.head.action.counts) and with its table.
  res->ships_count_head = res->count_head && (res->best_epoch == 0 || res->best_epoch > res->count_head_after);
  use_count_table(res->ships_count_head);
  if (res->ships_count_head) net->cfg.hyper.action_counts = 1;
  if (!epoch_seconds.empty()) {
    std::vector<double> s = epoch_seconds;
    std::nth_element(s.begin(), s.begin() + s.size() / 2, s.end());
    res->seconds_per_epoch = s[s.size() / 2];
  }
  return Error();
}

}  // namespace hunch::train
