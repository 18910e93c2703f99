// Training checkpoints (checkpoint.h): encoding, strict decoding, the run's fingerprint.
#include "train/checkpoint.h"


#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

namespace hunch::train {

namespace {

constexpr char kMagic[4] = {'H', 'N', 'C', 'K'};

class Writer {
 public:
  template <typename T>
  void pod(const T& v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    out.insert(out.end(), p, p + sizeof(T));
  }
  template <typename V>
  void array(const V& v) {
    pod(uint64_t(v.size()));
    const auto* p = reinterpret_cast<const uint8_t*>(v.data());
    out.insert(out.end(), p, p + v.size() * sizeof(v[0]));
  }
  std::vector<uint8_t> out;
};

class Reader {
 public:
  Reader(const std::string& name, const uint8_t* p, size_t n) : name_(name), p_(p), n_(n) {}
  template <typename T>
  bool pod(T* v, const char* what) {
    if (n_ - at_ < sizeof(T)) return fail(what);
    std::memcpy(v, p_ + at_, sizeof(T));
    at_ += sizeof(T);
    return true;
  }
  template <typename V>
  bool array(V* v, const char* what, uint64_t expect = UINT64_MAX) {
    uint64_t count = 0;
    if (!pod(&count, what)) return false;
    const size_t elem = sizeof((*v)[0]);
    if (expect != UINT64_MAX && count != expect) {
      error = Error(name_ + ": byte " + std::to_string(at_ - 8) + ": " + what + " holds " + std::to_string(count) +
                    " values, the run has " + std::to_string(expect));
      return false;
    }
    if (count > (n_ - at_) / elem) return fail(what);
    v->resize(count);
    if (count) std::memcpy(v->data(), p_ + at_, count * elem);  // an empty vector's data() may be null
    at_ += count * elem;
    return true;
  }
  bool bad_flag(const char* what) {
    error = Error(name_ + ": byte " + std::to_string(at_ - 1) + ": " + what + ": a flag that is neither 0 nor 1");
    return false;
  }
  bool fail(const char* what) {
    error = Error(name_ + ": truncated at byte " + std::to_string(at_) + " (reading " + what + ")");
    return false;
  }
  size_t at() const { return at_; }
  Error error;

 private:
  std::string    name_;
  const uint8_t* p_;
  size_t         n_, at_ = 0;
};

// EpochLog and TrainResult field by field (no padding bytes in the file).
void put_log(Writer& w, const EpochLog& l) {
  w.pod(l.epoch), w.pod(l.loss), w.pod(l.seconds), w.pod(l.events_per_s), w.pod(l.valid_ndcg_10);
  w.pod(l.valid_hr_10), w.pod(l.valid_exit_auc), w.pod(l.valid_conversion_auc), w.pod(l.valid_score);
  w.pod(l.valid_seconds), w.pod(l.lr), w.pod(uint8_t(l.partial));
}
bool get_log(Reader& r, EpochLog* l) {
  uint8_t partial = 0;
  bool ok = r.pod(&l->epoch, "log") && r.pod(&l->loss, "log") && r.pod(&l->seconds, "log") &&
            r.pod(&l->events_per_s, "log") && r.pod(&l->valid_ndcg_10, "log") && r.pod(&l->valid_hr_10, "log") &&
            r.pod(&l->valid_exit_auc, "log") && r.pod(&l->valid_conversion_auc, "log") &&
            r.pod(&l->valid_score, "log") && r.pod(&l->valid_seconds, "log") && r.pod(&l->lr, "log") &&
            r.pod(&partial, "log");
  l->partial = partial != 0;
  if (ok && partial > 1) return r.bad_flag("log");
  return ok;
}

uint64_t fnv(uint64_t h, const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

// The state of a differentially private run (TrainCheckpoint::dp), checked as strictly as the rest.
Error decode_dp(const std::string& name, Reader& r, TrainCheckpoint* c) {
  uint8_t dp = 0, has_release = 0, has_table = 0;
  if (!r.pod(&dp, "dp")) return r.error;
  if (dp > 1) return Error(name + ": dp: a flag that is neither 0 nor 1");
  c->dp = dp != 0;
  if (!c->dp) return {};
  if (!r.pod(&c->dp_steps, "dp_steps") || !r.pod(&c->dp_users_seen, "dp_users_seen") ||
      !r.pod(&c->dp_users_clipped, "dp_users_clipped") || !r.pod(&c->dp_planned_steps, "dp_planned_steps") ||
      !r.pod(&c->dp_sigma, "dp_sigma") || !r.pod(&has_release, "dp_release"))
    return r.error;
  if (!(c->dp_sigma > 0) || !std::isfinite(c->dp_sigma) || c->dp_steps > c->dp_planned_steps)
    return Error(name + ": dp: noise multiplier " + std::to_string(c->dp_sigma) + ", " + std::to_string(c->dp_steps) +
                 " of " + std::to_string(c->dp_planned_steps) + " planned steps: out of range");
  if (has_release > 1) return Error(name + ": dp_release: a flag that is neither 0 nor 1");
  if (c->dp_users_clipped > c->dp_users_seen)
    return Error(name + ": " + std::to_string(c->dp_users_clipped) + " users clipped of " +
                 std::to_string(c->dp_users_seen) + " sampled");
  if (!has_release) return {};
  auto d = std::make_shared<DpCounts>();
  if (!r.array(&d->actions, "dp_release") || !r.pod(&d->users, "dp_release") ||
      !r.pod(&d->clipped_users, "dp_release") || !r.pod(&d->candidates, "dp_release") ||
      !r.pod(&d->noise_std, "dp_release") || !r.pod(&d->threshold, "dp_release") || !r.pod(&has_table, "dp_release"))
    return r.error;
  if (has_table > 1) return Error(name + ": dp_release: a flag that is neither 0 nor 1");
  if (d->actions.empty()) return Error(name + ": dp_release: no action counts");
  for (double x : d->actions)
    if (!std::isfinite(x)) return Error(name + ": dp_release: an action count that is not a finite number");
  if (!(d->noise_std > 0) || !std::isfinite(d->noise_std) || !std::isfinite(d->threshold) ||
      d->clipped_users > d->users)
    return Error(name + ": dp_release: a noise, threshold or user count out of range");
  if (has_table) {
    const size_t V = d->actions.size();
    auto t = std::make_shared<TransitionCounts>();
    std::vector<TransitionPair> kept;
    if (!r.array(&t->from, "dp_table", V) || !r.array(&kept, "dp_table") || !r.pod(&t->pairs, "dp_table") ||
        !r.pod(&t->distinct, "dp_table"))
      return r.error;
    if (kept.empty()) return Error(name + ": dp_table: a table without pairs");
    for (size_t i = 0; i < kept.size(); ++i) {
      const TransitionPair& p = kept[i];
      if (p.a >= V || p.b >= V || p.count == 0 ||
          (i && (kept[i - 1].a > p.a || (kept[i - 1].a == p.a && kept[i - 1].b >= p.b))))
        return Error(name + ": dp_table: pair " + std::to_string(i) + " (" + std::to_string(p.a) + " -> " +
                     std::to_string(p.b) + ", count " + std::to_string(p.count) +
                     ") is outside the vocabulary, empty or out of order");
    }
    const size_t n = kept.size();
    keep_transitions(V, std::move(kept), UINT32_MAX, UINT64_MAX, t.get());  // every pair: no cut
    if (t->kept != n || t->table.empty()) return Error(name + ": dp_table: its pairs do not make a table");
    d->transitions = std::move(t);
  }
  c->dp_release = std::move(d);
  return {};
}

}  // namespace

uint64_t checkpoint_fingerprint(const Dataset& data, const std::vector<Sample>& samples, const TrainOptions& opt,
                                size_t params, const hunch::Hyper& hyper) {
  uint64_t h = 14695981039346656037ull;
  h = fnv(h, data.action.data(), data.action.size() * sizeof(data.action[0]));
  h = fnv(h, data.type.data(), data.type.size() * sizeof(data.type[0]));
  h = fnv(h, data.offsets.data(), data.offsets.size() * sizeof(data.offsets[0]));
  for (const Sample& s : samples) h = fnv(fnv(fnv(h, &s.begin, 8), &s.len, 4), &s.target_end, 8);
  const uint64_t p = params;
  h = fnv(h, &p, 8);
  h = fnv(h, &opt.seed, sizeof opt.seed);
  h = fnv(h, &opt.batch, sizeof opt.batch);
  h = fnv(h, &opt.lr, sizeof opt.lr);
  h = fnv(h, &opt.max_len, sizeof opt.max_len);
  h = fnv(h, &opt.event_drop, sizeof opt.event_drop);
  h = fnv(h, &opt.clip, sizeof opt.clip);
  h = fnv(h, &opt.warmup_steps, sizeof opt.warmup_steps);
  h = fnv(h, &opt.lr_plateau, sizeof opt.lr_plateau);
  h = fnv(h, &opt.patience, sizeof opt.patience);
  const uint8_t flags[2] = {uint8_t(opt.random_crops), uint8_t(opt.item_weights)};
  h = fnv(h, flags, 2);
  const uint32_t windows[2] = {hyper.window, hunch::copy_window_of(hyper)};
  h = fnv(h, windows, sizeof windows);
  // Differential privacy: the target and the noise's settings (0 without DP).
  const double dp[5] = {opt.dp.epsilon, opt.dp.delta, opt.dp.clip, opt.dp.count_sigma, opt.dp.count_clip};
  return fnv(h, dp, sizeof dp);
}

std::vector<uint8_t> encode_checkpoint(const TrainCheckpoint& c) {
  Writer w;
  w.out.insert(w.out.end(), kMagic, kMagic + 4);
  w.pod(kCheckpointVersion);
  w.pod(c.fingerprint), w.pod(c.phase), w.pod(c.epoch), w.pod(c.step), w.pod(c.lr_scale);
  w.pod(c.bad_epochs), w.pod(c.best_score), w.pod(c.train_seconds);
  w.array(c.epoch_seconds);
  w.array(c.params), w.array(c.best), w.array(c.adam_m), w.array(c.adam_v);
  w.pod(c.adam_steps);
  w.pod(uint64_t(c.adam_scaled.size()));
  w.pod(c.phase_ended);
  for (const auto& s : c.adam_scaled) w.pod(uint64_t(s.begin)), w.pod(uint64_t(s.end)), w.pod(s.scale);
  const TrainResult& r = c.result;
  w.pod(uint64_t(r.log.size()));
  for (const EpochLog& l : r.log) put_log(w, l);
  w.pod(r.best_epoch), w.pod(r.best_valid_ndcg_10), w.pod(r.best_valid_hr_10), w.pod(r.best_valid_exit_auc);
  w.pod(r.best_valid_conversion_auc), w.pod(r.best_valid_score), w.pod(r.start_valid_ndcg_10);
  w.pod(r.best_free_valid_ndcg_10), w.pod(uint8_t(r.items_frozen)), w.pod(r.items_frozen_after);
  w.pod(r.count_valid_ndcg_10), w.pod(r.best_network_valid_ndcg_10), w.pod(uint8_t(r.count_head));
  w.pod(r.count_head_after);
  w.pod(uint8_t(c.dp));
  if (c.dp) {
    w.pod(c.dp_steps), w.pod(c.dp_users_seen), w.pod(c.dp_users_clipped), w.pod(c.dp_planned_steps), w.pod(c.dp_sigma);
    const DpCounts* d = c.dp_release.get();
    w.pod(uint8_t(d != nullptr));
    if (d) {
      w.array(d->actions);
      w.pod(d->users), w.pod(d->clipped_users), w.pod(d->candidates), w.pod(d->noise_std), w.pod(d->threshold);
      const TransitionCounts* t = d->transitions.get();
      w.pod(uint8_t(t != nullptr));
      if (t) {
        // The kept pairs, by action then successor; the reader rebuilds the rows and the table.
        std::vector<TransitionPair> kept;
        for (size_t a = 0; a < t->rows.size(); ++a)
          for (const TransitionCounts::Next& n : t->rows[a]) kept.push_back({uint32_t(a), n.action, n.count});
        w.array(t->from);
        w.array(kept);
        w.pod(t->pairs), w.pod(t->distinct);
      }
    }
  }
  const uint32_t crc = hunch::crc32(w.out.data(), w.out.size());
  w.pod(crc);
  return w.out;
}

Error decode_checkpoint(const std::string& name, const std::vector<uint8_t>& bytes, TrainCheckpoint* out) {
  if (bytes.size() < 12 || std::memcmp(bytes.data(), kMagic, 4) != 0)
    return Error(name + ": not a hunch training checkpoint (no HNCK header)");
  uint32_t stored = 0;
  std::memcpy(&stored, bytes.data() + bytes.size() - 4, 4);
  const uint32_t crc = hunch::crc32(bytes.data(), bytes.size() - 4);
  if (crc != stored) return Error(name + ": CRC32 mismatch (a damaged or partly written checkpoint)");
  Reader r(name, bytes.data() + 4, bytes.size() - 8);
  uint32_t version = 0;
  if (!r.pod(&version, "version")) return r.error;
  if (version != kCheckpointVersion)
    return Error(name + ": checkpoint version " + std::to_string(version) + ", this hunch reads version " +
                 std::to_string(kCheckpointVersion) + (version < kCheckpointVersion
                     ? ": it was written by an older hunch and cannot be resumed; remove it (or give another "
                       "--checkpoint path) to train afresh"
                     : ": it was written by a newer hunch"));
  TrainCheckpoint c;
  uint64_t scaled = 0, logs = 0;
  uint8_t frozen = 0, count_head = 0;
  bool ok = r.pod(&c.fingerprint, "fingerprint") && r.pod(&c.phase, "phase") && r.pod(&c.epoch, "epoch") &&
            r.pod(&c.step, "step") && r.pod(&c.lr_scale, "lr_scale") && r.pod(&c.bad_epochs, "bad_epochs") &&
            r.pod(&c.best_score, "best_score") && r.pod(&c.train_seconds, "train_seconds") &&
            r.array(&c.epoch_seconds, "epoch_seconds") && r.array(&c.params, "params") &&
            r.array(&c.best, "best", c.params.size()) && r.array(&c.adam_m, "adam_m") &&
            r.array(&c.adam_v, "adam_v") && r.pod(&c.adam_steps, "adam_steps") && r.pod(&scaled, "adam_scaled") &&
            r.pod(&c.phase_ended, "phase_ended");
  if (!ok) return r.error;
  if (c.phase_ended > 1) return Error(name + ": phase_ended: a flag that is neither 0 nor 1");
  // Adam's moments exist from its first step on.
  for (const Buffer* m : {&c.adam_m, &c.adam_v})
    if (!m->empty() && m->size() != c.params.size())
      return Error(name + ": Adam's moments hold " + std::to_string(m->size()) + " values, the weights " +
                   std::to_string(c.params.size()));
  if (c.phase < 1 || c.phase > 3) return Error(name + ": phase " + std::to_string(c.phase) + " (expected 1, 2 or 3)");
  if (scaled > 64) return Error(name + ": " + std::to_string(scaled) + " frozen ranges (at most 64)");
  for (uint64_t i = 0; i < scaled; ++i) {
    uint64_t b = 0, e = 0;
    float s = 0;
    if (!r.pod(&b, "adam_scaled") || !r.pod(&e, "adam_scaled") || !r.pod(&s, "adam_scaled")) return r.error;
    if (b > e || e > c.params.size() || !std::isfinite(s))
      return Error(name + ": byte " + std::to_string(r.at()) + ": frozen range [" + std::to_string(b) + ", " +
                   std::to_string(e) + ") outside the " + std::to_string(c.params.size()) + " weights");
    c.adam_scaled.push_back({size_t(b), size_t(e), s});
  }
  if (!r.pod(&logs, "log")) return r.error;
  if (logs > 1000000) return Error(name + ": " + std::to_string(logs) + " epochs in the log");
  for (uint64_t i = 0; i < logs; ++i) {
    EpochLog l;
    if (!get_log(r, &l)) return r.error;
    c.result.log.push_back(l);
  }
  TrainResult& res = c.result;
  ok = r.pod(&res.best_epoch, "result") && r.pod(&res.best_valid_ndcg_10, "result") &&
       r.pod(&res.best_valid_hr_10, "result") && r.pod(&res.best_valid_exit_auc, "result") &&
       r.pod(&res.best_valid_conversion_auc, "result") && r.pod(&res.best_valid_score, "result") &&
       r.pod(&res.start_valid_ndcg_10, "result") && r.pod(&res.best_free_valid_ndcg_10, "result") &&
       r.pod(&frozen, "result") && r.pod(&res.items_frozen_after, "result") &&
       r.pod(&res.count_valid_ndcg_10, "result") && r.pod(&res.best_network_valid_ndcg_10, "result") &&
       r.pod(&count_head, "result") && r.pod(&res.count_head_after, "result");
  if (!ok) return r.error;
  if (frozen > 1) return Error(name + ": items_frozen: a flag that is neither 0 nor 1");
  if (count_head > 1) return Error(name + ": count_head: a flag that is neither 0 nor 1");
  res.items_frozen = frozen != 0;
  res.count_head = count_head != 0;
  if (Error e = decode_dp(name, r, &c)) return e;
  if (r.at() != bytes.size() - 8)
    return Error(name + ": " + std::to_string(bytes.size() - 8 - r.at()) + " unexpected bytes after the fields");
  *out = std::move(c);
  return {};
}

Error read_checkpoint_agreed(Collective& world, const std::string& path, bool* found, TrainCheckpoint* out) {
  const bool here = access(path.c_str(), F_OK) == 0;
  *found = world.from_leader(here ? 1 : 0) > 0;
  if (!*found) return {};
  Error e;
  if (!here) {
    e = Error(path + ": rank " + std::to_string(world.rank()) + " does not find the checkpoint rank 0 resumes from "
              "(under mpirun every rank reads it: give a path on a file system every rank shares)");
  } else {
    std::vector<uint8_t> bytes;
    e = read_checkpoint_file(path, &bytes);
    if (!e) e = decode_checkpoint(path, bytes, out);
  }
  if (world.any(!e.ok()) && e.ok())
    e = Error(path + ": another rank could not read the checkpoint (its message is on its standard error)");
  return e;
}

Error read_checkpoint_file(const std::string& path, std::vector<uint8_t>* bytes) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Error(path + ": cannot open the checkpoint: " + std::strerror(errno));
  bytes->clear();
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    bytes->insert(bytes->end(), buf, buf + n);
    if (bytes->size() > (uint64_t(16) << 30)) {
      std::fclose(f);
      return Error(path + ": over 16 GiB: not a checkpoint");
    }
  }
  const bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) return Error(path + ": read error");
  return {};
}

}  // namespace hunch::train
