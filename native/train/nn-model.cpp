#include "train/nn-model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "train/ingest.h"
#include "train/model-lstm-attn.h"
#include "train/model-transformer.h"
#include "train/transitions.h"

namespace hunch::train {

void Net::add_params() {
  for (const hunch::TensorLayout& t : hunch::tensor_layout(cfg.hyper)) {
    if (t.spec->bytes) continue;  // an encoded table, not trained (the export writes cfg.transitions's)
    if (cfg.tie_embeddings && t.spec->tied_with) params.alias(t.name, param(t.spec->tied_with));
    else params.add(t.name, t.shape());
  }
  emb_action = param("emb.action");
  emb_type = param("emb.type");
  emb_gap = param("emb.gap");
  if (cfg.hyper.session_inputs) {
    emb_session_position = param("emb.session_position");
    emb_session_count = param("emb.session_count");
  }
  head_aw = param("head.action.w");
  head_ab = param("head.action.b");
  head_tw = param("head.type.w");
  head_tb = param("head.type.b");
  head_ew = param("head.exit.w");
  head_eb = param("head.exit.b");
  if (cfg.hyper.conversion) {
    head_cw = param("head.conversion.w");
    head_cb = param("head.conversion.b");
  }
  if (cfg.hyper.session_inputs) head_ewx = param("head.exit.wx");
  if (cfg.hyper.session_inputs && cfg.hyper.conversion) head_cwx = param("head.conversion.wx");
  if (cfg.hyper.copy) {
    head_copy_gate = param("head.copy.gate");
    head_copy_distance = param("head.copy.distance");
    head_copy_type = param("head.copy.type");
    head_copy_count = param("head.copy.count");
  }
  if (cfg.hyper.transition_bytes) head_transition_weight = param("head.transition.weight");
  if (cfg.hyper.attr_columns) {
    emb_attr = param("emb.attr");
    head_attr = param("head.attr");
    head_attr_match = param("head.attr.match");
  }
}

size_t Net::param(const std::string& name) const {
  const long i = params.find(name);
  if (i < 0) {  // a trainer out of step with the table: a programming error, not bad input
    std::fprintf(stderr, "hunch: the trainer uses tensor '%s', which is not in the %s table (hunch/arch.h)\n",
                 name.c_str(), hunch::arch_name(cfg.hyper.arch));
    std::abort();
  }
  return size_t(i);
}

void Net::init_embeddings_and_heads(Rng& rng) {
  // Action embeddings N(0, σ²) with σ = embed_init: Xavier's 0.02 for a (V, D) table would
  // leave the item identity drowned by the first residual branch. Type and gap tables start at
  // zero so a log without types or times adds nothing; they grow only where they carry signal.
  init_normal(params, emb_action, cfg.embed_init, rng);
  init_constant(params, emb_type, 0.0f);
  init_constant(params, emb_gap, 0.0f);
  if (cfg.hyper.session_inputs) {  // zero, like the type and gap tables
    init_constant(params, emb_session_position, 0.0f);
    init_constant(params, emb_session_count, 0.0f);
  }
  if (!cfg.tie_embeddings) init_xavier_normal(params, head_aw, rng);
  init_xavier_normal(params, head_tw, rng);
  init_xavier_normal(params, head_ew, rng);
  if (cfg.hyper.conversion) init_xavier_normal(params, head_cw, rng);
  // The wide terms start at zero: the heads begin as they would without them.
  if (cfg.hyper.session_inputs) init_constant(params, head_ewx, 0.0f);
  if (cfg.hyper.session_inputs && cfg.hyper.conversion) init_constant(params, head_cwx, 0.0f);
  // The copy terms start at zero: the action head begins as it would without them.
  if (cfg.hyper.copy)
    for (size_t t : {head_copy_gate, head_copy_distance, head_copy_type, head_copy_count}) init_constant(params, t, 0.0f);
  if (cfg.hyper.transition_bytes) init_constant(params, head_transition_weight, 0.0f);
  // The attributes too: the network begins as it would without them.
  if (cfg.hyper.attr_columns)
    for (size_t t : {emb_attr, head_attr, head_attr_match}) init_constant(params, t, 0.0f);
}

void Net::embed(const Dataset& data, Pass& pass, float* x) const {
  const size_t D = cfg.hyper.embed;
  if (cfg.hyper.session_inputs) {
    pass.xin.resize(D * pass.N);
    pass.dxin.assign(D * pass.N, 0.0f);
  }
  const float* ea = params.ptr(emb_action);
  const float* et = params.ptr(emb_type);
  const float* eg = params.ptr(emb_gap);
  const size_t K = cfg.hyper.attr_columns;
  for (size_t c = 0; c < pass.N; ++c) {
    const uint64_t ev = pass.event[c];
    const float* a = ea + size_t(data.action[ev]) * D;
    const float* t = et + size_t(data.type[ev]) * D;
    const float* g = eg + size_t(pass.gap[c]) * D;
    float* xc = x + c * D;
    // The attributes, after the rest (the core's order: with the action, not the context).
    auto add_attrs = [&]() {
      for (size_t j = 0; j < K; ++j) {
        const float* e = params.ptr(emb_attr) + size_t(data.attr[ev * K + j]) * D;
        for (size_t k = 0; k < D; ++k) xc[k] += e[k];
      }
    };
    if (!cfg.hyper.session_inputs) {  // the original sum, in its order (bit-identical models)
      for (size_t k = 0; k < D; ++k) xc[k] = a[k] + t[k] + g[k];
      add_attrs();
      continue;
    }
    // With session inputs the context (type, gap, session) first: without the action's
    // embedding it is the wide heads' input, kept in pass.xin.
    const float* sp = params.ptr(emb_session_position) + hunch::session_position_bucket(data.session_position[ev]) * D;
    const float* sc = params.ptr(emb_session_count) + hunch::session_count_bucket(data.session_number[ev]) * D;
    float* ctx = pass.xin.data() + c * D;
    for (size_t k = 0; k < D; ++k) {
      ctx[k] = t[k] + g[k];
      ctx[k] += sp[k] + sc[k];
      xc[k] = ctx[k] + a[k];
    }
    add_attrs();
  }
}

void Net::embed_backward(const Dataset& data, const Pass& pass, const float* dx, float* grad) const {
  const size_t D = cfg.hyper.embed;
  float* ga = grad + params.entries[emb_action].offset;
  float* gt = grad + params.entries[emb_type].offset;
  float* gg = grad + params.entries[emb_gap].offset;
  const size_t K = cfg.hyper.attr_columns;
  for (size_t c = 0; c < pass.N; ++c) {
    const uint64_t ev = pass.event[c];
    float* a = ga + size_t(data.action[ev]) * D;
    float* t = gt + size_t(data.type[ev]) * D;
    float* g = gg + size_t(pass.gap[c]) * D;
    const float* d = dx + c * D;
    for (size_t j = 0; j < K; ++j) {  // the attributes get the action's gradient
      float* e = grad + params.entries[emb_attr].offset + size_t(data.attr[ev * K + j]) * D;
      for (size_t k = 0; k < D; ++k) e[k] += d[k];
    }
    if (!cfg.hyper.session_inputs) {
      for (size_t k = 0; k < D; ++k) {
        a[k] += d[k];
        t[k] += d[k];
        g[k] += d[k];
      }
      continue;
    }
    // The context embeddings also get the wide heads' gradient (pass.dxin); the action's does not.
    const float* dw = pass.dxin.data() + c * D;
    float* sp = grad + params.entries[emb_session_position].offset +
                hunch::session_position_bucket(data.session_position[ev]) * D;
    float* sc = grad + params.entries[emb_session_count].offset + hunch::session_count_bucket(data.session_number[ev]) * D;
    for (size_t k = 0; k < D; ++k) {
      const float dk = d[k] + dw[k];
      a[k] += d[k];
      t[k] += dk;
      g[k] += dk;
      sp[k] += dk;
      sc[k] += dk;
    }
  }
}

std::unique_ptr<Net> make_net(const NetConfig& c, uint64_t seed) {
  std::unique_ptr<Net> net;
  switch (c.hyper.arch) {  // no default: a new Arch without a trainer is a compiler warning
    case hunch::Arch::LSTM_ATTN: net = make_lstm_attn(c); break;
    case hunch::Arch::TRANSFORMER: net = make_transformer(c); break;
  }
  Rng rng = Rng::derive(seed, 0x1417);
  net->init(rng);
  return net;
}

void prepare_pass(Pass& pass, const Dataset& data, const std::vector<Sample>& samples, bool train,
                  uint64_t seed, float event_drop) {
  const bool drop = train && event_drop > 0.0f;
  pass.samples = samples;
  pass.start.resize(samples.size() + 1);
  pass.event.clear();
  pass.next.clear();
  pass.gap.clear();
  pass.ends.clear();
  pass.conv.clear();
  const bool flagged = data.flags.size() == data.events();
  for (size_t s = 0; s < samples.size(); ++s) {
    Sample& smp = pass.samples[s];
    pass.start[s] = pass.event.size();
    // Conversion labels are known from the last session end before target_end backwards.
    uint64_t known_below = smp.begin;  // events < known_below: their session ends before target_end
    if (flagged)
      for (uint64_t i = smp.target_end; i-- > smp.begin;)
        if (data.flags[i] & kSessionEnd) {
          known_below = i + 1;
          break;
        }
    Rng rng = Rng::derive(seed, smp.id, 3);
    uint64_t prev = 0;
    for (uint32_t p = 0; p < smp.len; ++p) {
      const uint64_t ev = smp.begin + p;
      // The first input event stays: what precedes it lies outside the sample.
      if (drop && p > 0 && rng.uniform() < event_drop) continue;
      if (p > 0 && prev + 1 != ev) {
        // Its predecessor was removed: the gap is measured from the previous kept event.
        pass.next.back() = ev;
        pass.gap.push_back(gap_bucket(data.gap_edges, data.time[prev], data.time[ev]));
      } else {
        if (p > 0) pass.next.back() = ev;
        pass.gap.push_back(data.gap[ev]);
      }
      pass.event.push_back(ev);
      pass.next.push_back(Pass::kNoTarget);
      if (flagged) {
        const uint8_t f = data.flags[ev];
        const bool cut = (f & kCensored) != 0;
        const bool exit_known = (ev + 1 < smp.target_end || smp.ends) && !(cut && (f & kSessionEnd));
        pass.ends.push_back(exit_known ? uint8_t((f & kSessionEnd) ? 1 : 0) : Pass::kUnknown);
        const bool conv_known = (ev < known_below && !cut) || (f & kConverts);
        pass.conv.push_back(conv_known ? uint8_t((f & kConverts) ? 1 : 0) : Pass::kUnknown);
      } else {
        pass.ends.push_back(0);
        pass.conv.push_back(Pass::kUnknown);
      }
      prev = ev;
    }
    const size_t kept = pass.event.size() - pass.start[s];
    if (kept > 0) {
      const uint64_t after = smp.begin + smp.len;  // never an input of this sample, never dropped
      if (after < smp.target_end) pass.next.back() = after;
      if (!flagged) pass.ends.back() = smp.ends ? 1 : 0;
    }
    smp.len = uint32_t(kept);
  }
  pass.N = pass.event.size();
  pass.start[samples.size()] = pass.N;
  pass.train = train;
  pass.seed = seed;
}

void sample_masks(const Pass& pass, float* mask, size_t dim, uint64_t purpose, float p) {
  for (size_t s = 0; s < pass.samples.size(); ++s) {
    Rng rng = Rng::derive(pass.seed, pass.samples[s].id, purpose);
    dropout_mask(mask + pass.start[s] * dim, size_t(pass.samples[s].len) * dim, p, rng);
  }
}

namespace {

// The copy window of column `col` (add_action_terms): [*from, col] within its sample.
size_t copy_window_start(const Net& net, const Pass& pass, size_t col) {
  const size_t s = size_t(std::upper_bound(pass.start.begin(), pass.start.end(), col) - pass.start.begin()) - 1;
  const size_t W = hunch::copy_window_of(net.cfg.hyper);  // Wc, not the attention's W
  return std::max(pass.start[s], col + 1 >= W ? col + 1 - W : 0);
}

// Where column j's copy score reads head.copy.distance, seen from column col.
size_t copy_distance_index(const Net& net, const Dataset& data, const Pass& pass, size_t j, size_t col) {
  const bool same = !net.cfg.hyper.session_inputs ||
                    data.session_number[pass.event[j]] == data.session_number[pass.event[col]];
  return hunch::copy_distance_bucket(col - j) + (same ? hunch::kCopyDistanceBuckets : 0);
}

// Where column j's copy score reads head.copy.type, seen from column col: its type, in the second
// half when j is col itself (the event just pushed: what follows a cart of it is not what follows
// an older view of it).
size_t copy_type_index(const Net& net, const Dataset& data, const Pass& pass, size_t j, size_t col) {
  return data.type[pass.event[j]] + (j == col ? net.cfg.hyper.type_count : 0);
}

// Column col's copy window as copy_entries sees it.
void column_copy_entries(const Net& net, const Dataset& data, const Pass& pass, size_t col,
                         std::vector<CopyEntry>* out) {
  copy_entries(copy_window_start(net, pass, col), col, net.cfg.hyper.vocab_size,
               [&](size_t j) { return data.action[pass.event[j]]; }, out);
}

// Column col's attribute match terms: calls visit(action, weight index into head.attr.match) for
// every action with a value of the copy window (as Sequence::add_attr_match_terms).
template <class Visit>
void for_attr_matches(const Net& net, const Dataset& data, const Pass& pass, size_t col, Visit visit) {
  const size_t K = net.cfg.hyper.attr_columns, V = net.cfg.hyper.vocab_size;
  thread_local std::vector<uint32_t> tick_of, bucket;
  thread_local uint32_t tick = 0;
  if (tick_of.size() < data.attr_values.size()) tick_of.assign(data.attr_values.size(), 0), bucket.assign(data.attr_values.size(), 0);
  if (++tick == 0) {
    std::fill(tick_of.begin(), tick_of.end(), 0);
    tick = 1;
  }
  const size_t start = copy_window_start(net, pass, col);
  for (size_t j = col + 1; j-- > start;)
    for (size_t k = 0; k < K; ++k) {
      const uint32_t v = data.attr[pass.event[j] * K + k];
      if (v == data.attr_start[k] || tick_of[v] == tick) continue;
      tick_of[v] = tick;
      bucket[v] = hunch::copy_distance_bucket(col - j);
    }
  for (size_t a = 0; a < V; ++a)
    for (size_t k = 0; k < K; ++k) {
      const uint32_t v = data.action_attr[a * K + k];
      if (tick_of[v] == tick) visit(a, k * hunch::kCopyDistanceBuckets + bucket[v]);
    }
}

}  // namespace

void zero_action_terms(const Net& net, const Dataset& data, const Pass& pass, size_t col, float* v) {
  if (net.cfg.hyper.copy)
    for (size_t j = copy_window_start(net, pass, col); j <= col; ++j) v[data.action[pass.event[j]]] = 0;
  if (net.cfg.hyper.transition_bytes)
    for (const TransitionCounts::Next& n : net.cfg.transitions->rows[data.action[pass.event[col]]]) v[n.action] = 0;
  if (net.cfg.hyper.attr_columns) for_attr_matches(net, data, pass, col, [&](size_t a, size_t) { v[a] = 0; });
}

void add_action_terms(const Net& net, const Dataset& data, const Pass& pass, size_t col, float* logits) {
  const ParamSet& P = net.params;
  if (net.cfg.hyper.attr_columns) {
    const float* match = P.ptr(net.head_attr_match);
    for_attr_matches(net, data, pass, col, [&](size_t a, size_t i) { logits[a] += match[i]; });
  }
  if (net.cfg.hyper.transition_bytes) {
    const TransitionCounts& tc = *net.cfg.transitions;
    const uint64_t ev = pass.event[col];
    const float* weight = P.ptr(net.head_transition_weight);
    for (const TransitionCounts::Next& n : tc.rows[data.action[ev]]) {
      const uint8_t b = tc.bucket(data, ev, pass.next[col], n.action, n.count);
      if (b != 0xff) logits[n.action] += weight[b];
    }
  }
  if (!net.cfg.hyper.copy) return;
  const size_t D = net.cfg.hyper.embed;
  const float* dist = P.ptr(net.head_copy_distance);
  const float* type = P.ptr(net.head_copy_type);
  const float* count = P.ptr(net.head_copy_count);
  const float gate = CMapV(P.ptr(net.head_copy_gate), D).dot(CMapV(pass.z.data() + col * D, D));
  thread_local std::vector<CopyEntry> entries;
  column_copy_entries(net, data, pass, col, &entries);
  for (const CopyEntry& e : entries)
    logits[e.action] += gate + dist[copy_distance_index(net, data, pass, e.recent, col)] +
                        type[copy_type_index(net, data, pass, e.recent, col)] + count[hunch::copy_count_bucket(e.count)];
}

void action_terms_backward(const Net& net, const Dataset& data, const Pass& pass, size_t col, const float* dlogits,
                           float* dzc, float* grad) {
  const ParamSet& P = net.params;
  if (net.cfg.hyper.attr_columns) {
    float* gm = grad + P.entries[net.head_attr_match].offset;
    for_attr_matches(net, data, pass, col, [&](size_t a, size_t i) { gm[i] += dlogits[a]; });
  }
  if (net.cfg.hyper.transition_bytes) {
    const TransitionCounts& tc = *net.cfg.transitions;
    const uint64_t ev = pass.event[col];
    float* gw = grad + P.entries[net.head_transition_weight].offset;
    for (const TransitionCounts::Next& n : tc.rows[data.action[ev]]) {
      const uint8_t b = tc.bucket(data, ev, pass.next[col], n.action, n.count);
      if (b != 0xff) gw[b] += dlogits[n.action];
    }
  }
  if (!net.cfg.hyper.copy) return;
  const size_t D = net.cfg.hyper.embed;
  float* gdist = grad + P.entries[net.head_copy_distance].offset;
  float* gtype = grad + P.entries[net.head_copy_type].offset;
  float* gcount = grad + P.entries[net.head_copy_count].offset;
  float dgate = 0;
  thread_local std::vector<CopyEntry> entries;
  column_copy_entries(net, data, pass, col, &entries);
  for (const CopyEntry& e : entries) {
    const float g = dlogits[e.action];
    dgate += g;
    gdist[copy_distance_index(net, data, pass, e.recent, col)] += g;
    gtype[copy_type_index(net, data, pass, e.recent, col)] += g;
    gcount[hunch::copy_count_bucket(e.count)] += g;
  }
  if (dgate == 0) return;
  const float* gate = P.ptr(net.head_copy_gate);
  float* ggate = grad + P.entries[net.head_copy_gate].offset;
  const float* zc = pass.z.data() + col * D;
  for (size_t k = 0; k < D; ++k) {
    dzc[k] += dgate * gate[k];
    ggate[k] += dgate * zc[k];
  }
}

double LossTotals::weighted(const LossWeights& w) const {
  double l = 0;
  if (n_action) l += w.action * action / double(n_action);
  if (n_type) l += w.type * type / double(n_type);
  if (n_exit) l += w.exit * exit / double(n_exit);
  if (n_conversion) l += w.conversion * conversion / double(n_conversion);
  return l;
}

LossTotals count_targets(const Dataset& data, const std::vector<Sample>& samples) {
  LossTotals t;
  for (const Sample& s : samples) {
    uint64_t with_next = 0;
    if (s.target_end > s.begin + 1)
      with_next = std::min<uint64_t>(s.len, s.target_end - s.begin - 1);
    t.n_action += with_next;
    t.n_type += with_next;
    t.n_exit += s.len;
  }
  return t;
}

LossTotals count_targets(const Pass& pass) {
  LossTotals t;
  for (uint64_t nx : pass.next) t.n_action += nx != Pass::kNoTarget;
  t.n_type = t.n_action;
  for (uint8_t e : pass.ends) t.n_exit += e != Pass::kUnknown;
  for (uint8_t c : pass.conv) t.n_conversion += c != Pass::kUnknown;
  return t;
}

uint32_t draw_log_uniform(Rng& rng, size_t V) {
  const double k = std::floor(std::exp(rng.uniform53() * std::log(double(V) + 1.0))) - 1.0;
  return uint32_t(std::min(std::max(k, 0.0), double(V - 1)));
}

double log_uniform_p(uint32_t k, size_t V) {
  return std::log((double(k) + 2.0) / (double(k) + 1.0)) / std::log(double(V) + 1.0);
}

namespace {

// The distinct actions of the log from the start of a column's sequence through its input
// event (LossWeights::mask_seen), for columns visited in increasing order (a sample's columns
// are contiguous and read increasing events, so each sample's list only grows). Action 0
// (<unk>) is never listed: evaluation never excludes it either.
class SeenActions {
 public:
  SeenActions(const Dataset& data, const Pass& pass, size_t V)
      : data_(data), pass_(pass), stamp_(V, 0), col_sample_(pass.N, 0) {
    for (size_t s = 0; s < pass.samples.size(); ++s)
      for (size_t c = pass.start[s]; c < pass.start[s + 1]; ++c) col_sample_[c] = uint32_t(s);
  }
  const std::vector<uint32_t>& at(size_t col) {
    const uint32_t s = col_sample_[col];
    const uint64_t input = pass_.event[col];
    if (s != sample_ || input + 1 < next_) {
      sample_ = s;
      ++tag_;
      list_.clear();
      // The sequence holding the sample's first input event starts at the last offset <= it.
      const uint64_t begin = pass_.samples[s].begin;
      next_ = *(std::upper_bound(data_.offsets.begin(), data_.offsets.end(), begin) - 1);
    }
    for (; next_ <= input; ++next_) {
      const uint32_t a = data_.action[next_];
      if (a != 0 && a < stamp_.size() && stamp_[a] != tag_) {
        stamp_[a] = tag_;
        list_.push_back(a);
      }
    }
    return list_;
  }
  // Whether `a` is in the list the last at() returned.
  bool contains(uint32_t a) const { return a < stamp_.size() && stamp_[a] == tag_ && tag_ != 0; }

 private:
  const Dataset& data_;
  const Pass& pass_;
  std::vector<uint32_t> stamp_;       // per action: tag_ when listed for the current sample
  std::vector<uint32_t> col_sample_;  // per column: its sample
  std::vector<uint32_t> list_;
  uint32_t sample_ = UINT32_MAX, tag_ = 0;
  uint64_t next_ = 0;  // the next log event to list
};

// What the action head's copy and transition terms (add_action_terms) need inside the softmax.
struct TermsContext {
  const Net& net;
  const Dataset& data;
  const Pass& pass;
  float* grad;
};

bool is_target(const int32_t* t, size_t K, uint32_t a) {
  for (size_t j = 0; j < K; ++j)
    if (t[j] == int32_t(a)) return true;
  return false;
}

// Softmax cross-entropy of a (classes, n) logit block against K weighted targets per column
// (target[c * K + j], -1 = none; weights sum to 1 per column); turns the block into its
// gradient (scaled by `scale`) when with_grad. Returns the summed loss.
double softmax_xent_block(Eigen::Ref<Eigen::MatrixXf> L, const int32_t* target, const float* weight,
                          size_t K, float scale, bool with_grad) {
  double loss = 0;
  for (Eigen::Index c = 0; c < L.cols(); ++c) {
    auto col = L.col(c).array();
    const int32_t* tc = target + size_t(c) * K;
    const float* wc = weight + size_t(c) * K;
    const float mx = col.maxCoeff();
    double tl = 0;
    for (size_t j = 0; j < K; ++j)
      if (tc[j] >= 0) tl += double(wc[j]) * col(tc[j]);
    col = (col - mx).exp();
    const float sum = col.sum();
    loss += double(mx) + std::log(double(sum)) - tl;
    if (with_grad) {
      col *= scale / sum;
      for (size_t j = 0; j < K; ++j)
        if (tc[j] >= 0) col(tc[j]) -= scale * wc[j];
    }
  }
  return loss;
}

// One classification head over the columns that have a target, in chunks so the (classes, n)
// logits stay in cache-sized blocks. target/weight hold K entries per column (see above).
double classify_head(const CMapR& Wm, const float* bias, const float* z, size_t D,
                     const std::vector<uint32_t>& cols, const std::vector<int32_t>& target,
                     const std::vector<float>& weight, size_t K, float scale, float* dz, MapR* gW,
                     MapV* gb, SeenActions* seen = nullptr, const TermsContext* terms = nullptr) {
  const size_t classes = Wm.rows();
  const size_t chunk = 256;
  Eigen::MatrixXf Zc(D, chunk), L(classes, chunk), dZc(D, chunk);
  std::vector<int32_t> tc(chunk * K);
  std::vector<float> wc(chunk * K);
  double loss = 0;
  CMapV b(bias, classes);
  for (size_t c0 = 0; c0 < cols.size(); c0 += chunk) {
    const size_t n = std::min(chunk, cols.size() - c0);
    for (size_t k = 0; k < n; ++k) {
      Zc.col(k) = CMapV(z + size_t(cols[c0 + k]) * D, D);
      for (size_t j = 0; j < K; ++j) {
        tc[k * K + j] = target[size_t(cols[c0 + k]) * K + j];
        wc[k * K + j] = weight[size_t(cols[c0 + k]) * K + j];
      }
    }
    auto Zb = Zc.leftCols(n);
    auto Lb = L.leftCols(n);
    Lb.noalias() = Wm * Zb;
    Lb.colwise() += b;
    if (terms)
      for (size_t k = 0; k < n; ++k) add_action_terms(terms->net, terms->data, terms->pass, cols[c0 + k], Lb.col(Eigen::Index(k)).data());
    if (seen)  // masked logits are -inf: no probability, no gradient
      for (size_t k = 0; k < n; ++k)
        for (uint32_t a : seen->at(cols[c0 + k]))
          if (!is_target(tc.data() + k * K, K, a)) Lb(a, Eigen::Index(k)) = -INFINITY;
    loss += softmax_xent_block(Lb, tc.data(), wc.data(), K, scale, dz != nullptr);
    if (dz && terms)  // Lb holds the logits' gradient now
      for (size_t k = 0; k < n; ++k)
        action_terms_backward(terms->net, terms->data, terms->pass, cols[c0 + k], Lb.col(Eigen::Index(k)).data(),
                             dz + size_t(cols[c0 + k]) * D, terms->grad);
    if (dz) {
      auto dZb = dZc.leftCols(n);
      dZb.noalias() = Wm.transpose() * Lb;
      for (size_t k = 0; k < n; ++k) MapV(dz + size_t(cols[c0 + k]) * D, D) += dZb.col(k);
      gW->noalias() += Lb * Zb.transpose();
      *gb += Lb.rowwise().sum();
    }
  }
  return loss;
}

// Sampled softmax for the action head while training (`--sampled-softmax N`): per chunk of
// columns, N classes drawn log-uniformly with replacement and shared by the chunk; each column
// scores its own targets and those N instead of all V classes. Every logit is corrected by
// -log(N · P(class)) so the loss estimates the full softmax's (Jean et al. 2015; TensorFlow's
// sampled_softmax_loss), and a drawn class equal to one of the column's targets is masked out
// (an "accidental hit" must not count as a negative). target/weight: K per column, as above.
double sampled_softmax_head(const CMapR& Wm, const float* bias, const float* z, size_t D,
                            const std::vector<uint32_t>& cols, const std::vector<int32_t>& target,
                            const std::vector<float>& weight, size_t K, size_t draws, Rng& rng,
                            float scale, float* dz, MapR* gW, MapV* gb, SeenActions* seen = nullptr,
                            const TermsContext* terms = nullptr) {
  const size_t V = Wm.rows();
  // With action terms: a column's terms spread over V (zero elsewhere, cleared after the
  // column), and the gradient at the logits it scored, for action_terms_backward.
  std::vector<float> bonus(terms ? V : 0, 0.0f), dlogit(terms && dz ? V : 0, 0.0f);
  const size_t chunk = 256;
  Eigen::MatrixXf Zc(D, chunk), Ls(draws, chunk), Ws(draws, D), dZc(D, chunk);
  Eigen::VectorXf bs(draws);
  std::vector<uint32_t> drawn(draws);
  std::vector<int32_t> tid(K);
  std::vector<float> tw(K), tl(K);
  double loss = 0;
  for (size_t c0 = 0; c0 < cols.size(); c0 += chunk) {
    const size_t n = std::min(chunk, cols.size() - c0);
    for (size_t i = 0; i < draws; ++i) {
      drawn[i] = draw_log_uniform(rng, V);
      Ws.row(i) = Wm.row(drawn[i]);
      bs(i) = bias[drawn[i]] - float(std::log(double(draws) * log_uniform_p(drawn[i], V)));
    }
    for (size_t k = 0; k < n; ++k) Zc.col(k) = CMapV(z + size_t(cols[c0 + k]) * D, D);
    auto Zb = Zc.leftCols(n);
    auto Lb = Ls.leftCols(n);
    Lb.noalias() = Ws * Zb;
    Lb.colwise() += bs;
    for (size_t k = 0; k < n; ++k) {
      const size_t col = cols[c0 + k];
      const float* zc = z + col * D;
      // The column's distinct targets (a repeated action merges its weights).
      size_t m = 0;
      for (size_t j = 0; j < K; ++j) {
        const int32_t t = target[col * K + j];
        if (t < 0) continue;
        size_t q = 0;
        while (q < m && tid[q] != t) ++q;
        if (q == m) {
          tid[m] = t;
          tw[m] = 0;
          tl[m] = bias[t] + Wm.row(t).dot(CMapV(zc, D).transpose()) -
                  float(std::log(double(draws) * log_uniform_p(uint32_t(t), V)));
          ++m;
        }
        tw[q] += weight[col * K + j];
      }
      auto lc = Lb.col(k).array();
      if (terms) {
        add_action_terms(terms->net, terms->data, terms->pass, col, bonus.data());
        for (size_t q = 0; q < m; ++q) tl[q] += bonus[size_t(tid[q])];
        for (size_t i = 0; i < draws; ++i) lc(i) += bonus[drawn[i]];
      }
      for (size_t i = 0; i < draws; ++i)
        for (size_t q = 0; q < m; ++q)
          if (int32_t(drawn[i]) == tid[q]) lc(i) = -INFINITY;
      if (seen) {  // drawn classes equal to a target are -inf already (above)
        seen->at(col);
        for (size_t i = 0; i < draws; ++i)
          if (seen->contains(drawn[i])) lc(i) = -INFINITY;
      }
      float mx = lc.maxCoeff();
      for (size_t q = 0; q < m; ++q) mx = std::max(mx, tl[q]);
      lc = (lc - mx).exp();
      double sum = lc.sum(), tsum = 0;
      for (size_t q = 0; q < m; ++q) {
        sum += std::exp(double(tl[q]) - mx);
        tsum += double(tw[q]) * tl[q];
      }
      loss += double(mx) + std::log(sum) - tsum;
      if (terms) zero_action_terms(terms->net, terms->data, terms->pass, col, bonus.data());
      if (!dz) continue;
      lc *= float(scale / sum);
      float* dzc = dz + col * D;
      for (size_t q = 0; q < m; ++q) {
        const float d = float(scale * (std::exp(double(tl[q]) - mx) / sum - tw[q]));
        MapV(dzc, D) += d * Wm.row(tid[q]).transpose();
        gW->row(tid[q]) += d * CMapV(zc, D).transpose();
        (*gb)(tid[q]) += d;
        if (terms) dlogit[size_t(tid[q])] += d;
      }
      if (terms) {
        for (size_t i = 0; i < draws; ++i) dlogit[drawn[i]] += lc(i);
        action_terms_backward(terms->net, terms->data, terms->pass, col, dlogit.data(), dzc, terms->grad);
        for (size_t q = 0; q < m; ++q) dlogit[size_t(tid[q])] = 0;
        for (size_t i = 0; i < draws; ++i) dlogit[drawn[i]] = 0;
      }
    }
    if (dz) {
      auto dZb = dZc.leftCols(n);
      dZb.noalias() = Ws.transpose() * Lb;
      for (size_t k = 0; k < n; ++k) MapV(dz + size_t(cols[c0 + k]) * D, D) += dZb.col(k);
      const Eigen::MatrixXf G = Lb * Zb.transpose();  // (draws, D)
      for (size_t i = 0; i < draws; ++i) {
        gW->row(drawn[i]) += G.row(i);
        (*gb)(drawn[i]) += Lb.row(i).sum();
      }
    }
  }
  return loss;
}

}  // namespace

namespace {

// A logistic head on z over the columns whose label is known (0 or 1): summed log-loss; with
// dz, its gradient (scaled by `scale`) into dz and the head's parameters.
double logistic_head(const Net& net, Pass& pass, size_t wi, size_t bi, size_t wxi, const std::vector<uint8_t>& label,
                     float scale, float* dz, float* grad, uint64_t* count) {
  const size_t D = net.cfg.hyper.embed;
  const ParamSet& P = net.params;
  const float* we = P.ptr(wi);
  const float be = P.ptr(bi)[0];
  float* gwe = grad ? grad + P.entries[wi].offset : nullptr;
  float* gbe = grad ? grad + P.entries[bi].offset : nullptr;
  const bool wide = net.cfg.hyper.session_inputs && !pass.xin.empty();
  const float* wx = wide ? P.ptr(wxi) : nullptr;
  float* gwx = wide && grad ? grad + P.entries[wxi].offset : nullptr;
  double loss = 0;
  for (size_t c = 0; c < pass.N; ++c) {
    if (label[c] == Pass::kUnknown) continue;
    ++*count;
    const float* zc = pass.z.data() + c * D;
    const float* xc = wide ? pass.xin.data() + c * D : nullptr;
    float logit = be;
    for (size_t k = 0; k < D; ++k) logit += we[k] * zc[k];
    if (wide)
      for (size_t k = 0; k < D; ++k) logit += wx[k] * xc[k];
    const float y = float(label[c]);
    // log(1 + e^-|x|) form: stable for large |logit|.
    loss += std::max(logit, 0.0f) - logit * y + std::log1p(std::exp(-std::fabs(logit)));
    if (grad) {
      const float d = (sigmoid(logit) - y) * scale;
      float* dzc = dz + c * D;
      for (size_t k = 0; k < D; ++k) {
        dzc[k] += d * we[k];
        gwe[k] += d * zc[k];
      }
      gbe[0] += d;
      if (wide) {
        float* dxc = pass.dxin.data() + c * D;
        for (size_t k = 0; k < D; ++k) {
          dxc[k] += d * wx[k];
          gwx[k] += d * xc[k];
        }
      }
    }
  }
  return loss;
}

}  // namespace

void heads_loss(const Net& net, const Dataset& data, Pass& pass, const LossWeights& w,
                const LossTotals& norm, LossTotals* totals, float* grad) {
  const size_t D = net.cfg.hyper.embed, N = pass.N;
  const ParamSet& P = net.params;
  if (grad) pass.dz.assign(D * N, 0.0f);
  float* dz = grad ? pass.dz.data() : nullptr;

  // Action targets: the next event and, with lookahead K > 1, the K - 1 events after it (in
  // the log, up to the sample's target_end), weighted 1, decay, decay², … normalised per column.
  const size_t K = std::max<uint32_t>(1, w.lookahead);
  std::vector<int32_t> at(N * K, -1), tt(N, -1);
  std::vector<float> aw(N * K, 0.0f), tw(N, 1.0f);
  std::vector<uint32_t> cols;
  cols.reserve(N);
  for (size_t s = 0; s < pass.samples.size(); ++s) {
    const uint64_t target_end = pass.samples[s].target_end;
    for (size_t c = pass.start[s]; c < pass.start[s + 1]; ++c) {
      const uint64_t nxt = pass.next[c];
      if (nxt != Pass::kNoTarget) {
        float total = 0, wj = 1;
        for (size_t j = 0; j < K && (j == 0 || nxt + j < target_end); ++j, wj *= w.lookahead_decay) {
          at[c * K + j] = int32_t(data.action[nxt + j]);
          aw[c * K + j] = wj;
          total += wj;
        }
        for (size_t j = 0; j < K; ++j) aw[c * K + j] /= total;
        tt[c] = int32_t(data.type[nxt]);
        cols.push_back(uint32_t(c));
      }
    }
  }

  if (w.action > 0 && !cols.empty()) {
    // With attributes the head scores with W + the actions' head.attr rows; its gradient goes to
    // a buffer first and from there to both (action_head_matrix_backward).
    const bool attrs = net.cfg.hyper.attr_columns != 0;
    MatR w_storage;
    const CMapR Wm = action_head_matrix(net, data, &w_storage);
    Buffer gw_buffer(attrs && grad ? Wm.size() : 0, 0.0f);
    MapR gW = !grad ? MapR(nullptr, 0, 0)
              : attrs ? MapR(gw_buffer.data(), Wm.rows(), Wm.cols())
                      : grad_mat(P, grad, net.head_aw);
    MapV gb = grad ? grad_vec(P, grad, net.head_ab) : MapV(nullptr, 0);
    float scale = norm.n_action ? w.action / float(norm.n_action) : 0.0f;
    std::unique_ptr<SeenActions> seen;
    if (w.mask_seen) seen = std::make_unique<SeenActions>(data, pass, net.cfg.hyper.vocab_size);
    std::unique_ptr<TermsContext> terms;
    if (net.cfg.hyper.copy || net.cfg.hyper.transition_bytes || net.cfg.hyper.attr_columns)
      terms.reset(new TermsContext{net, data, pass, grad});
    if (pass.train && w.sampled_softmax > 0) {
      // Drawn per pass from the step's seed and its first sample: the same classes whatever
      // else runs, and different ones in every step.
      Rng rng = Rng::derive(pass.seed, pass.samples.empty() ? 0 : pass.samples[0].id, 0x5afe);
      totals->action += sampled_softmax_head(Wm, P.ptr(net.head_ab), pass.z.data(), D,
                                             cols, at, aw, K, w.sampled_softmax, rng, scale, dz, &gW, &gb,
                                             seen.get(), terms.get());
    } else {
      totals->action += classify_head(Wm, P.ptr(net.head_ab), pass.z.data(), D, cols,
                                      at, aw, K, scale, dz, &gW, &gb, seen.get(), terms.get());
    }
    if (attrs && grad) action_head_matrix_backward(net, data, gw_buffer.data(), grad);
    totals->n_action += cols.size();
  }
  if (w.type > 0 && !cols.empty()) {
    MapR gW = grad ? grad_mat(P, grad, net.head_tw) : MapR(nullptr, 0, 0);
    MapV gb = grad ? grad_vec(P, grad, net.head_tb) : MapV(nullptr, 0);
    float scale = norm.n_type ? w.type / float(norm.n_type) : 0.0f;
    totals->type += classify_head(P.mat(net.head_tw), P.ptr(net.head_tb), pass.z.data(), D, cols,
                                  tt, tw, 1, scale, dz, &gW, &gb);
    totals->n_type += cols.size();
  }
  if (w.exit > 0 && N > 0) {
    totals->exit += logistic_head(net, pass, net.head_ew, net.head_eb, net.head_ewx, pass.ends,
                                  norm.n_exit ? w.exit / float(norm.n_exit) : 0.0f, dz, grad, &totals->n_exit);
  }
  if (w.conversion > 0 && N > 0 && net.cfg.hyper.conversion) {
    totals->conversion += logistic_head(net, pass, net.head_cw, net.head_cb, net.head_cwx, pass.conv,
                                        norm.n_conversion ? w.conversion / float(norm.n_conversion) : 0.0f, dz, grad,
                                        &totals->n_conversion);
  }
}

CMapR action_head_matrix(const Net& net, const Dataset& data, MatR* storage) {
  const ParamSet& P = net.params;
  const size_t K = net.cfg.hyper.attr_columns;
  if (!K) return P.mat(net.head_aw);
  *storage = P.mat(net.head_aw);
  const size_t V = size_t(storage->rows()), D = size_t(storage->cols());
  const float* A = P.ptr(net.head_attr);
  for (size_t a = 0; a < V; ++a)
    for (size_t j = 0; j < K; ++j) storage->row(Eigen::Index(a)) += CMapV(A + size_t(data.action_attr[a * K + j]) * D, D).transpose();
  return CMapR(storage->data(), storage->rows(), storage->cols());
}

void action_head_matrix_backward(const Net& net, const Dataset& data, const float* g, float* grad) {
  const ParamSet& P = net.params;
  const size_t K = net.cfg.hyper.attr_columns;
  MapR gW = grad_mat(P, grad, net.head_aw);
  const size_t V = size_t(gW.rows()), D = size_t(gW.cols());
  gW += CMapR(g, gW.rows(), gW.cols());
  float* gA = grad + P.entries[net.head_attr].offset;
  for (size_t a = 0; a < V; ++a)
    for (size_t j = 0; j < K; ++j) MapV(gA + size_t(data.action_attr[a * K + j]) * D, D) += CMapV(g + a * D, D);
}

void last_action_logits(const Net& net, const Pass& pass, const Dataset& data, Eigen::MatrixXf* out) {
  const size_t D = net.cfg.hyper.embed, S = pass.samples.size();
  Eigen::MatrixXf Zl(D, S);
  for (size_t s = 0; s < S; ++s)
    Zl.col(s) = CMapV(pass.z.data() + (pass.start[s + 1] - 1) * D, D);
  MatR w_storage;
  out->noalias() = action_head_matrix(net, data, &w_storage) * Zl;
  out->colwise() += CMapV(net.params.ptr(net.head_ab), net.cfg.hyper.vocab_size);
  for (size_t s = 0; s < S; ++s) add_action_terms(net, data, pass, pass.start[s + 1] - 1, out->col(Eigen::Index(s)).data());
}

}  // namespace hunch::train
