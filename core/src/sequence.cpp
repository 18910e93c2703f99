// Sequence — the incremental forward pass of docs/architecture.md, one event per push.
//
// Everything a step needs is allocated in the constructor; push() and predict() only compute,
// through the kernel table (kernels/kernels.h), so the same code runs on the reference, SIMD128
// and XNNPACK kernels. The attention rings are indexed by absolute event number modulo W:
// event e lives in slot e % W, and the window after pushing event n is events
// max(0, n-W+1) … n, oldest first.
#include "hunch/sequence.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>

#include "hunch/transitions.h"
#include "kernels/kernels.h"

namespace hunch {

namespace {

size_t max_of(std::initializer_list<size_t> v) { return *std::max_element(v.begin(), v.end()); }

}  // namespace

Sequence::Sequence(const Model& model, const KernelTable* kernels)
    : model_(model), k_(kernels ? kernels : &kernels_default()), hp_(model.hyper()) {
  const size_t D = hp_.embed, W = hp_.window, V = hp_.vocab_size, T = hp_.type_count;
  if (hp_.arch == Arch::LSTM_ATTN) {
    const size_t H = hp_.hidden, A = hp_.attn_size;
    h_.assign(H, 0.f);
    c_.assign(H, 0.f);
    ring_k_.assign(W * A, 0.f);
    ring_v_.assign(W * H, 0.f);
    gates_.assign(4 * H, 0.f);
    tmp_.assign(4 * H, 0.f);
    q_.assign(A, 0.f);
    ctx_.assign(H, 0.f);
    hc_.assign(2 * H, 0.f);
    xq_.assign(max_of({D, H, 2 * H}), 0);
  } else {
    const size_t L = hp_.layers, F = hp_.ffn;
    ring_k_.assign(L * W * D, 0.f);
    ring_v_.assign(L * W * D, 0.f);
    tmp_.assign(D, 0.f);
    tmp2_.assign(D, 0.f);
    q_.assign(D, 0.f);
    ctx_.assign(D, 0.f);
    ffn_.assign(F, 0.f);
    xq_.assign(max_of({D, F}), 0);
  }
  x_.assign(D, 0.f);
  z_.assign(D, 0.f);
  type_probs_.assign(T, 0.f);
  attn_w_.assign(W, 0.f);
  scores_.assign(W, 0.f);
  logits_.assign(V, 0.f);
  head_max_.assign((V + kHeadBlock - 1) / kHeadBlock, 0.f);
  attr_logits_.assign(hp_.attr_columns ? hp_.attr_values : 0, 0.f);
  // The count-like terms' rings (ids only) hold the last Wc events, Wc >= 1 (copy_window_of).
  const size_t Wc = copy_window_of(hp_);
  window_attr_.assign(Wc * hp_.attr_columns, 0);
  attr_tick_of_.assign(hp_.attr_columns ? hp_.attr_values : 0, 0);
  attr_bucket_.assign(hp_.attr_columns ? hp_.attr_values : 0, 0);
  reset_window_attrs();
  session_.assign(hp_.session_inputs ? 2 : 0, 0.f);
  window_action_.assign(hp_.copy ? Wc : 0, 0);
  window_type_.assign(hp_.copy ? Wc : 0, 0);
  window_session_.assign(hp_.copy ? Wc : 0, 0.f);
  if (hp_.copy) {
    size_t slots = 1;
    while (slots < 2 * Wc) slots *= 2;
    copy_key_.assign(slots, 0);
    copy_count_.assign(slots, 0);
    copy_recent_.assign(slots, 0);
    copy_used_.reserve(Wc);
  }
  if (model.count_head().built()) {
    const size_t touched = model.count_head().max_touched;
    size_t slots = 1;
    while (slots < 2 * touched) slots *= 2;
    touch_id_.assign(touched, 0);
    touch_logit_.assign(touched, 0.f);
    touch_key_.assign(slots, 0);
    touch_entry_.assign(slots, 0);
  }
  last_time_ = __builtin_nan("");
  conversion_prob_ = hp_.conversion ? 0.f : __builtin_nanf("");
}

void Sequence::reset() {
  count_ = 0;
  last_time_ = __builtin_nan("");
  std::fill(h_.begin(), h_.end(), 0.f);
  std::fill(c_.begin(), c_.end(), 0.f);
  std::fill(ring_k_.begin(), ring_k_.end(), 0.f);
  std::fill(ring_v_.begin(), ring_v_.end(), 0.f);
  std::fill(z_.begin(), z_.end(), 0.f);
  std::fill(type_probs_.begin(), type_probs_.end(), 0.f);
  std::fill(attn_w_.begin(), attn_w_.end(), 0.f);
  std::fill(session_.begin(), session_.end(), 0.f);
  std::fill(window_action_.begin(), window_action_.end(), 0);
  std::fill(window_type_.begin(), window_type_.end(), 0);
  std::fill(window_session_.begin(), window_session_.end(), 0.f);
  wide_conversion_ = 0;
  last_action_ = 0;
  reset_window_attrs();
  exit_prob_ = 0;
  conversion_prob_ = hp_.conversion ? 0.f : __builtin_nanf("");
}

void Sequence::matvec(const Matrix& m, const float* x, const float* bias, float* y) {
  if (m.is_int8()) {
    float s = k_->f32_quantize_qs8(m.cols, x, xq_.data());
    k_->qs8_gemv(m.rows, m.cols, m.i8, m.scales, xq_.data(), s, bias, y);
  } else {
    k_->f32_gemv(m.rows, m.cols, m.f32, x, bias, y);
  }
}

void Sequence::embed_add(const Matrix& table, uint32_t row, float* x) {
  const size_t D = table.cols;
  if (table.is_int8()) {
    const int8_t* q = table.i8 + size_t(row) * D;
    const float s = table.scales[row];
    for (size_t i = 0; i < D; ++i) x[i] += float(q[i]) * s;
  } else {
    k_->f32_axpy(D, 1.f, table.f32 + size_t(row) * D, x);
  }
}

Error Sequence::push(const Event& e) {
  if (e.action >= hp_.vocab_size)
    return Error(format_message("event action id %u is out of range (vocabulary has %u)", e.action, hp_.vocab_size));
  if (e.type >= hp_.type_count)
    return Error(format_message("event type id %u is out of range (model has %u types)", e.type, hp_.type_count));
  if (std::isinf(e.time)) return Error("event time is infinite (use NaN for an unknown time)");
  uint32_t attr[kMaxAttrColumns];
  for (uint32_t k = 0; k < hp_.attr_columns; ++k) {
    attr[k] = e.attr[k] == kAttrOfAction ? model_.action_attr(e.action, k) : e.attr[k];
    const AttrIndex& ai = model_.attributes();
    if (attr[k] < ai.start(k) || attr[k] >= ai.start(k + 1))
      return Error(format_message("event attribute %u ('%s') value id %u is not one of that column's ids [%u, %u)", k,
                                  ai.names()[k].c_str(), attr[k], ai.start(k), ai.start(k + 1)));
  }

  const Weights& w = model_.weights();
  const uint32_t gap = count_ == 0 ? 0 : model_.gap_bucket(last_time_, e.time);
  const Matrix* tables[] = {&w.emb_action, &w.emb_type, &w.emb_gap, &w.emb_session_position, &w.emb_session_count};
  uint32_t rows[] = {e.action, e.type, gap, 0, 0};
  size_t n = 3;
  if (!session_.empty()) {
    // A gap over the model's session gap (both times known) starts a new session, as ingestion
    // splits them; the counters saturate far above the last bucket.
    const bool starts = count_ == 0 || (std::isfinite(e.time) && std::isfinite(last_time_) &&
                                        e.time - last_time_ > model_.session_gap());
    session_[0] = starts ? 1.f : std::min(session_[0] + 1.f, kMaxSessionCounter);
    session_[1] = starts ? std::min(session_[1] + 1.f, kMaxSessionCounter) : session_[1];
    rows[3] = session_position_bucket(uint64_t(session_[0]));
    rows[4] = session_count_bucket(uint64_t(session_[1]));
    n = 5;
  }
  std::fill(x_.begin(), x_.end(), 0.f);
  float wide_exit = 0;
  if (!hp_.session_inputs) {  // the original order
    for (size_t i = 0; i < n; ++i) embed_add(*tables[i], rows[i], x_.data());
  } else {
    // The context part first (type, gap, session): the binary heads' wide terms are read from it,
    // without the action's own embedding (per-item exits do not carry to new sessions), before
    // the action is added.
    for (size_t i = 1; i < n; ++i) embed_add(*tables[i], rows[i], x_.data());
    matvec(w.head_exit_x, x_.data(), nullptr, &wide_exit);
    if (hp_.conversion) matvec(w.head_conversion_x, x_.data(), nullptr, &wide_conversion_);
    embed_add(*tables[0], rows[0], x_.data());
  }
  // The attributes, with the action (the item's identity, not its context).
  for (uint32_t k = 0; k < hp_.attr_columns; ++k) {
    embed_add(w.emb_attr, attr[k], x_.data());
    window_attr_[size_t(count_ % copy_window_of(hp_)) * hp_.attr_columns + k] = attr[k];
  }

  if (hp_.copy) {
    const size_t slot = size_t(count_ % copy_window_of(hp_));
    window_action_[slot] = e.action;
    window_type_[slot] = e.type;
    window_session_[slot] = session_.empty() ? 0.f : session_[1];
  }
  last_action_ = e.action;
  if (hp_.arch == Arch::LSTM_ATTN) step_lstm_attn(x_.data());
  else step_transformer(x_.data());
  heads(wide_exit);

  ++count_;
  // Time never goes backwards in the state: a late event is clamped (gap 0), the clock kept.
  if (std::isfinite(e.time) && !(std::isfinite(last_time_) && last_time_ > e.time)) last_time_ = e.time;
  return {};
}

// Softmax attention of q over the window (events first…count_), one head. keys/values point at
// the head's slice of slot 0; slots are stride_k / stride_v floats apart. Adds the weights,
// times weight_scale, into attn_w_ (oldest first) for explain().
void Sequence::attend(const float* q, const float* keys, const float* values, size_t stride_k,
                      size_t stride_v, size_t dk, size_t dv, float slope, float* out,
                      float weight_scale) {
  const uint64_t W = hp_.window;
  const uint64_t first = count_ + 1 > W ? count_ + 1 - W : 0;
  const size_t n = size_t(count_ - first + 1);
  const float inv_sqrt = 1.f / std::sqrt(float(dk));
  if (stride_k == dk) {
    // Keys are whole ring rows (one head): the window is at most two runs of consecutive rows,
    // each one f32_gemv (4 rows per pass sharing q) instead of a dot-product call per key.
    const size_t s0 = size_t(first % W), run = std::min<size_t>(n, size_t(W) - s0);
    k_->f32_gemv(run, dk, keys + s0 * stride_k, q, nullptr, scores_.data());
    if (n > run) k_->f32_gemv(n - run, dk, keys, q, nullptr, scores_.data() + run);
    for (size_t j = 0; j < n; ++j) scores_[j] = scores_[j] * inv_sqrt - slope * float(n - 1 - j);
  } else {
    for (size_t j = 0; j < n; ++j) {
      const size_t slot = size_t((first + j) % W);
      const float distance = float(n - 1 - j);
      scores_[j] = k_->f32_dot(dk, q, keys + slot * stride_k) * inv_sqrt - slope * distance;
    }
  }
  const float mx = k_->f32_max(n, scores_.data());
  const float sum = k_->f32_exp_sum(n, scores_.data(), mx, scores_.data());
  const float inv = 1.f / sum;
  std::fill(out, out + dv, 0.f);
  for (size_t j = 0; j < n; ++j) {
    const size_t slot = size_t((first + j) % W);
    const float a = scores_[j] * inv;
    k_->f32_axpy(dv, a, values + slot * stride_v, out);
    attn_w_[j] += a * weight_scale;
  }
}

void Sequence::step_lstm_attn(const float* x) {
  const LstmAttnWeights& l = model_.weights().lstm;
  const size_t H = hp_.hidden, A = hp_.attn_size, W = hp_.window;
  matvec(l.w_ih, x, l.bias.data, gates_.data());
  matvec(l.w_hh, h_.data(), nullptr, tmp_.data());
  k_->f32_axpy(4 * H, 1.f, tmp_.data(), gates_.data());
  k_->f32_lstm_cell(H, gates_.data(), h_.data(), c_.data());

  const size_t slot = size_t(count_ % W);
  matvec(l.w_k, h_.data(), nullptr, &ring_k_[slot * A]);
  std::memcpy(&ring_v_[slot * H], h_.data(), H * sizeof(float));
  matvec(l.w_q, h_.data(), nullptr, q_.data());
  std::fill(attn_w_.begin(), attn_w_.end(), 0.f);
  attend(q_.data(), ring_k_.data(), ring_v_.data(), A, H, A, H, l.recency.data[0], ctx_.data(), 1.f);

  std::memcpy(hc_.data(), h_.data(), H * sizeof(float));
  std::memcpy(hc_.data() + H, ctx_.data(), H * sizeof(float));
  matvec(l.proj_w, hc_.data(), l.proj_b.data, z_.data());
}

void Sequence::step_transformer(const float* x0) {
  const TransformerWeights& tw = model_.weights().tf;
  const size_t D = hp_.embed, W = hp_.window, NH = hp_.heads, dh = D / NH;
  const size_t slot = size_t(count_ % W);
  float* x = x_.data();
  if (x != x0) std::memcpy(x, x0, D * sizeof(float));
  std::fill(attn_w_.begin(), attn_w_.end(), 0.f);
  for (size_t li = 0; li < tw.blocks.size(); ++li) {
    const TransformerBlock& b = tw.blocks[li];
    float* keys = &ring_k_[li * W * D];
    float* vals = &ring_v_[li * W * D];
    k_->f32_layernorm(D, x, b.ln1_g.data, b.ln1_b.data, kLayerNormEps, tmp_.data());
    matvec(b.w_q, tmp_.data(), b.b_q.data, q_.data());
    matvec(b.w_k, tmp_.data(), b.b_k.data, keys + slot * D);
    matvec(b.w_v, tmp_.data(), b.b_v.data, vals + slot * D);
    // Only the last layer's weights are kept for explain(), averaged over heads.
    const bool last = li + 1 == tw.blocks.size();
    for (size_t hd = 0; hd < NH; ++hd)
      attend(q_.data() + hd * dh, keys + hd * dh, vals + hd * dh, D, D, dh, dh, b.recency.data[hd],
             ctx_.data() + hd * dh, last ? 1.f / float(NH) : 0.f);
    matvec(b.w_o, ctx_.data(), b.b_o.data, tmp_.data());
    k_->f32_axpy(D, 1.f, tmp_.data(), x);
    k_->f32_layernorm(D, x, b.ln2_g.data, b.ln2_b.data, kLayerNormEps, tmp_.data());
    matvec(b.ffn_w1, tmp_.data(), b.ffn_b1.data, ffn_.data());
    for (float& v : ffn_) v = v > 0.f ? v : 0.f;
    matvec(b.ffn_w2, ffn_.data(), b.ffn_b2.data, tmp2_.data());
    k_->f32_axpy(D, 1.f, tmp2_.data(), x);
  }
  k_->f32_layernorm(D, x, tw.final_g.data, tw.final_b.data, kLayerNormEps, z_.data());
}

void Sequence::heads(float wide_exit) {
  const Weights& w = model_.weights();
  const Calibration& cal = model_.calibration();
  const size_t T = hp_.type_count;
  matvec(w.head_type, z_.data(), w.head_type_b.data, type_probs_.data());
  if (cal.type_temperature != 1.f)
    for (float& l : type_probs_) l /= cal.type_temperature;
  const float mx = k_->f32_max(T, type_probs_.data());
  const float inv = 1.f / k_->f32_exp_sum(T, type_probs_.data(), mx, type_probs_.data());
  for (float& p : type_probs_) p *= inv;
  float e;
  matvec(w.head_exit, z_.data(), w.head_exit_b.data, &e);
  exit_prob_ = hunch_sigmoidf(cal.exit_a * (e + wide_exit) + cal.exit_b);
  conversion_head();
}

void Sequence::conversion_head() {
  if (!hp_.conversion) return;
  const Weights& w = model_.weights();
  const Calibration& cal = model_.calibration();
  float c;
  matvec(w.head_conversion, z_.data(), w.head_conversion_b.data, &c);
  conversion_prob_ = hunch_sigmoidf(cal.conversion_a * (c + wide_conversion_) + cal.conversion_b);
}

const float* Sequence::action_logits() {
  if (count_ == 0) return nullptr;
  const Weights& w = model_.weights();
  if (hp_.action_counts) {
    // Counts only: no row reads z (Hyper::action_counts).
    std::copy(w.head_action_b.data, w.head_action_b.data + hp_.vocab_size, logits_.begin());
    if (hp_.attr_columns) add_attr_match_terms(logits_.data());
  } else {
    matvec(w.head_action, z_.data(), w.head_action_b.data, logits_.data());
  }
  if (hp_.attr_columns && !hp_.action_counts) {
    // Each action's row is head.action.w[a] + Σ_k head.attr[its value k]: the attribute part as
    // AV dot products, gathered per action.
    matvec(w.head_attr, z_.data(), nullptr, attr_logits_.data());
    const uint32_t V = hp_.vocab_size, K = hp_.attr_columns;
    for (uint32_t a = 0; a < V; ++a)
      for (uint32_t k = 0; k < K; ++k) logits_[a] += attr_logits_[model_.action_attr(a, k)];
    add_attr_match_terms(logits_.data());
  }
  if (hp_.copy) add_copy_terms(logits_.data());
  if (hp_.transition_bytes) add_transition_terms(logits_.data());
  return logits_.data();
}

void Sequence::reset_window_attrs() {
  for (size_t s = 0; s < window_attr_.size(); ++s)
    window_attr_[s] = model_.attributes().start(uint32_t(s % hp_.attr_columns));
}

// Each value of the window (most recent event first) marked with the distance bucket of its most
// recent event; then every action whose value is marked gains that column's weight for the bucket.
void Sequence::add_attr_match_terms(float* logits) {
  const uint32_t K = hp_.attr_columns, V = hp_.vocab_size;
  const uint64_t W = copy_window_of(hp_), n = count_ < W ? count_ : W;
  const AttrIndex& ai = model_.attributes();
  if (++attr_tick_ == 0) {  // wrapped: old marks could match the new tick
    std::fill(attr_tick_of_.begin(), attr_tick_of_.end(), 0);
    attr_tick_ = 1;
  }
  for (uint64_t d = 0; d < n; ++d) {
    const size_t slot = size_t((count_ - 1 - d) % W);
    for (uint32_t k = 0; k < K; ++k) {
      const uint32_t v = window_attr_[slot * K + k];
      if (v == ai.start(k) || attr_tick_of_[v] == attr_tick_) continue;
      attr_tick_of_[v] = attr_tick_;
      attr_bucket_[v] = copy_distance_bucket(d);
    }
  }
  const float* match = model_.weights().head_attr_match.data;
  for (uint32_t a = 0; a < V; ++a)
    for (uint32_t k = 0; k < K; ++k) {
      const uint32_t v = model_.action_attr(a, k);
      if (attr_tick_of_[v] == attr_tick_) logits[a] += match[k * kCopyDistanceBuckets + attr_bucket_[v]];
    }
}

void Sequence::add_transition_terms(float* logits) const {
  const std::vector<uint32_t>& rows = model_.transition_rows();
  const float* weight = model_.weights().head_transition_weight.data;
  TransitionRow row(model_.weights().transition_table.data, rows[last_action_]);
  for (Transition t; row.next(&t);) logits[t.next] += weight[t.bucket];
}

// Each distinct action a of the window (events first…last) adds gate·z + distance[bucket(last −
// e) + CD·same session] + type[type_e + T·(e is the last event)] + count[bucket(n)] to its logit, e being a's most recent
// event in the window and n how many of the window's events are a (docs/architecture.md,
// "Copy"). <unk> events add nothing (id 0 is never predicted). O(W) with the table in the
// scratch, no allocation.
void Sequence::add_copy_terms(float* logits) {
  collect_copy_window();
  const float gate = k_->f32_dot(hp_.embed, model_.weights().head_copy_gate.data, z_.data());
  const float current = window_session_[size_t((count_ - 1) % copy_window_of(hp_))];
  for (uint32_t h : copy_used_) {
    logits[copy_key_[h]] += copy_term(h, gate, current);
    copy_key_[h] = 0;
  }
}

// Out of line: add_copy_terms and predict_sparse share one copy of it in the wasm.
__attribute__((noinline)) void Sequence::collect_copy_window() {
  const uint64_t W = copy_window_of(hp_), last = count_ - 1;
  const uint64_t first = count_ > W ? count_ - W : 0;
  const uint32_t mask = uint32_t(copy_key_.size() - 1);
  copy_used_.clear();
  for (uint64_t e = last + 1; e-- > first;) {  // newest first: the first sight is the most recent
    const uint32_t a = window_action_[size_t(e % W)];
    if (a == 0) continue;
    uint32_t h = (a * 2654435761u) & mask;
    while (copy_key_[h] != 0 && copy_key_[h] != a) h = (h + 1) & mask;
    if (copy_key_[h] == 0) {
      copy_key_[h] = a;
      copy_count_[h] = 0;
      copy_recent_[h] = uint32_t(e % W);
      copy_used_.push_back(h);
    }
    ++copy_count_[h];
  }
}

float Sequence::copy_term(uint32_t h, float gate, float current) const {
  const Weights& w = model_.weights();
  const uint64_t W = copy_window_of(hp_), last = count_ - 1;
  const uint32_t slot = copy_recent_[h];
  const uint64_t e = last - (last + W - slot) % W;  // the event in that slot
  const uint32_t same = window_session_[slot] == current ? kCopyDistanceBuckets : 0;
  return gate + w.head_copy_distance.data[copy_distance_bucket(last - e) + same] +
         w.head_copy_type.data[window_type_[slot] + (e == last ? hp_.type_count : 0)] +
         w.head_copy_count.data[copy_count_bucket(copy_count_[h])];
}

size_t Sequence::predict(size_t k, Prediction* out) {
  if (count_ == 0 || k == 0) return 0;
  const size_t V = hp_.vocab_size, blocks = head_max_.size();
  k = std::min(k, V - 1);
  if (model_.count_head().built() && k <= kCountHeadTopK) {
    const size_t n = predict_sparse(k, out);
    if (n != SIZE_MAX) return n;
  }
  const float* logits = action_logits();
  // The maximum of every 64 logits (one SIMD pass); the softmax denominator over the whole
  // vocabulary (<unk> included: it is a possible outcome) shifted by their maximum.
  k_->f32_block_max(V, logits, head_max_.data());
  const float mx = k_->f32_max(blocks, head_max_.data());
  const float sum = k_->f32_exp_sum(V, logits, mx, nullptr);
  // Top-k with a sorted buffer of k, ties keeping the lower id first (deterministic), reading
  // only the blocks that can hold a top-k logit. The k-th largest block maximum t0 is a lower
  // bound on the k-th largest logit (those k blocks hold k distinct logits >= t0), so a logit
  // below t0 never enters and a block whose maximum is below t0 is not read: about k blocks of
  // 64 are scanned whatever V. Block 0's maximum for t0 leaves out id 0 (never predicted).
  // (k ≤ 64, the SDK's and the CLI's range: a sorted buffer on the stack, no library selection
  // code in the wasm; a larger k reads every block, still exact.)
  float t0 = -__builtin_inff();
  if (blocks >= k && k <= 64) {
    float best[64];  // the k largest block maxima so far, descending
    size_t nb = 0;
    for (size_t b = 0; b < blocks; ++b) {
      const float m = b ? head_max_[b] : k_->f32_max(std::min(V, kHeadBlock) - 1, logits + 1);
      if (nb == k && !(m > best[k - 1])) continue;
      size_t pos = nb < k ? nb++ : k - 1;
      for (; pos > 0 && m > best[pos - 1]; --pos) best[pos] = best[pos - 1];
      best[pos] = m;
    }
    t0 = best[k - 1];
  }
  size_t n = 0;
  float kth = t0;  // the k-th best so far once the buffer is full; t0 until then
  for (size_t b = 0; b < blocks; ++b) {
    if (!(head_max_[b] >= kth)) continue;
    const size_t start = std::max<size_t>(1, b * kHeadBlock), end = std::min(V, (b + 1) * kHeadBlock);
    for (size_t id = start; id < end; ++id) {
      const float v = logits[id];
      if (!(v >= t0) || (n == k && !(v > kth))) continue;
      size_t pos = n < k ? n++ : k - 1;
      while (pos > 0 && v > logits[out[pos - 1].action]) {
        out[pos] = out[pos - 1];
        --pos;
      }
      out[pos].action = uint32_t(id);
      if (n == k) kth = logits[out[k - 1].action];
    }
  }
  for (size_t i = 0; i < n; ++i) out[i].probability = hunch_expf(logits[out[i].action] - mx) / sum;
  return n;
}

size_t Sequence::attention(std::vector<uint64_t>* event_index, std::vector<float>* weight) const {
  event_index->clear();
  weight->clear();
  if (count_ == 0) return 0;
  const uint64_t W = hp_.window;
  // count_ was incremented after the step: the window of the last step ends at count_-1.
  const uint64_t last = count_ - 1;
  const uint64_t first = last + 1 > W ? last + 1 - W : 0;
  for (uint64_t e = first; e <= last; ++e) {
    event_index->push_back(e);
    weight->push_back(attn_w_[size_t(e - first)]);
  }
  return event_index->size();
}

size_t Sequence::state_bytes() const {
  size_t floats = h_.size() + c_.size() + ring_k_.size() + ring_v_.size() + z_.size() + type_probs_.size() +
                  attn_w_.size() + x_.size() + tmp_.size() + tmp2_.size() + gates_.size() + q_.size() +
                  ctx_.size() + hc_.size() + ffn_.size() + logits_.size() + attr_logits_.size() + scores_.size() + session_.size() +
                  3 * window_action_.size() + window_attr_.size() + 2 * attr_tick_of_.size() +  // ids: uint32_t
                  copy_key_.size() * 3 + copy_used_.capacity();
  floats += head_max_.size();  // predict's block maxima
  floats += touch_id_.size() + touch_logit_.size() + touch_key_.size() + touch_entry_.size();  // predict_sparse's
  return floats * sizeof(float) + xq_.size() + sizeof(*this);
}

}  // namespace hunch
