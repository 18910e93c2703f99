// The sparse count head (docs/architecture.md, "Built: the sparse count head"): a counts-only action head
// without attributes scores every action as its bias plus the copy and transition terms, which
// touch at most window + (a row's successors) actions. Model::index_count_head keeps the biases'
// best ids and their exp-sum from load; Sequence::predict_sparse ranks and normalises from them
// and the touched actions alone. A file of its own so that the WASM build compiles it for size
// (CMakeLists.txt): it costs O(touched + k) per call, a few µs, so its bytes matter more.
#include <algorithm>
#include <cmath>

#include "hunch/model.h"
#include "hunch/sequence.h"
#include "hunch/transitions.h"
#include "kernels/kernels.h"

namespace hunch {

// Once at load: V exps and a selection of the P = kCountHeadTopK + max_touched best ids by
// insertion into a sorted buffer (no library sort in the wasm; an id that cannot enter costs one
// comparison, so O(V) for ids in frequency order and for random orders, O(V · P) moves at worst).
void Model::index_count_head() {
  const Hyper& hp = hyper_;
  if (!hp.action_counts || hp.attr_columns || hp.vocab_size < 2) return;
  const uint32_t V = hp.vocab_size;
  const float* b = w_.head_action_b.data;
  float mx = b[0];
  for (uint32_t a = 0; a < V; ++a) {
    if (!std::isfinite(b[a])) return;  // the dense scan handles what the index cannot
    mx = std::max(mx, b[a]);
  }
  double z = 0;
  for (uint32_t a = 0; a < V; ++a) z += double(hunch_expf(b[a] - mx));
  // A row of n successors takes at least 1 byte for n and 2 bytes per successor (hunch/transitions.h).
  uint32_t succ = 0;
  for (uint32_t a = 0; a + 1 < transition_rows_.size(); ++a)
    succ = std::max(succ, (transition_rows_[a + 1] - transition_rows_[a]) / 2);
  const uint32_t touched = (hp.copy ? copy_window_of(hp) : 0) + succ;
  const size_t P = std::min<size_t>(V - 1, kCountHeadTopK + size_t(touched));
  std::vector<uint32_t> ids(P);
  size_t n = 0;
  for (uint32_t a = 1; a < V; ++a) {  // ids ascending: a tie never enters before an equal bias
    if (n == P && !(b[a] > b[ids[P - 1]])) continue;
    size_t pos = n < P ? n++ : P - 1;
    for (; pos > 0 && b[a] > b[ids[pos - 1]]; --pos) ids[pos] = ids[pos - 1];
    ids[pos] = a;
  }
  count_head_.top = std::move(ids);
  count_head_.bias_max = mx;
  count_head_.z0 = z;
  count_head_.max_touched = touched;
}

// The count head's logits are bias[a] plus the terms of the touched actions (the window's, the
// last action's successors), added in the dense path's order, so a touched logit is the same
// float. Every other action's logit is its bias: the best untouched ones are the first of the
// index's ids (by bias) that are not touched, and the softmax denominator is Σ exp(bias) (at load)
// plus, per touched action, exp(logit) − exp(bias). Ties keep the lower id first, as the scan.
size_t Sequence::predict_sparse(size_t k, Prediction* out) {
  const CountHeadIndex& ix = model_.count_head();
  const Weights& w = model_.weights();
  const float* bias = w.head_action_b.data;
  const uint32_t mask = uint32_t(touch_key_.size() - 1);
  size_t n_touched = 0;
  auto slot_of = [&](uint32_t a) {  // the slot holding a, or the empty slot where it would go
    uint32_t h = ((a + 1) * 2654435761u) & mask;
    while (touch_key_[h] != 0 && touch_key_[h] != a + 1) h = (h + 1) & mask;
    return h;
  };
  auto touch = [&](uint32_t a) -> float& {
    const uint32_t h = slot_of(a);
    if (touch_key_[h] == 0) {
      touch_key_[h] = a + 1;
      touch_entry_[h] = uint32_t(n_touched);
      touch_id_[n_touched] = a;  // n_touched < max_touched: the buffers' size
      touch_logit_[n_touched++] = bias[a];
    }
    return touch_logit_[touch_entry_[h]];
  };
  if (hp_.copy) {
    collect_copy_window();
    const float gate = k_->f32_dot(hp_.embed, w.head_copy_gate.data, z_.data());
    const float current = window_session_[size_t((count_ - 1) % copy_window_of(hp_))];
    for (uint32_t h : copy_used_) {
      touch(copy_key_[h]) += copy_term(h, gate, current);
      copy_key_[h] = 0;
    }
  }
  if (hp_.transition_bytes) {
    const float* weight = w.head_transition_weight.data;
    TransitionRow row(w.transition_table.data, model_.transition_rows()[last_action_]);
    for (Transition t; row.next(&t);) touch(t.next) += weight[t.bucket];
  }
  float mx = ix.bias_max;
  const uint32_t* const ids = touch_id_.data();
  const float* const logits = touch_logit_.data();
  for (size_t i = 0; i < n_touched; ++i) mx = std::max(mx, logits[i]);
  // Z = Σ_untouched exp(b − mx) + Σ_touched exp(l − mx), the first as the whole sum less the
  // touched biases' part. Where that part is most of the whole (a touched action of a dominant
  // bias lost most of it) the difference would keep too few digits: scan instead.
  double z = ix.z0 * double(hunch_expf(ix.bias_max - mx)), removed = 0;
  for (size_t i = 0; i < n_touched; ++i) {
    const double eb = hunch_expf(bias[ids[i]] - mx);
    z += double(hunch_expf(logits[i] - mx)) - eb;
    removed += eb;
  }
  size_t n = 0;
  if (std::isfinite(mx) && std::isfinite(z) && z * 1e3 >= removed) {
    // out[i].probability holds the logit until the end.
    auto offer = [&](uint32_t id, float v) {
      if (id == 0) return;
      auto before = [&](const Prediction& p) {
        return v > p.probability || (v == p.probability && id < p.action);
      };
      if (n == k && !before(out[k - 1])) return;
      size_t pos = n < k ? n++ : k - 1;
      for (; pos > 0 && before(out[pos - 1]); --pos) out[pos] = out[pos - 1];
      out[pos] = {id, v};
    };
    // The touched actions, then the untouched ones in bias order (k of them suffice).
    size_t untouched = 0;
    for (size_t i = 0; i < n_touched + ix.top.size(); ++i) {
      const bool t = i < n_touched;
      const uint32_t id = t ? ids[i] : ix.top[i - n_touched];
      if (!t && (untouched == k || (n == k && bias[id] < out[k - 1].probability))) break;
      if (!t && touch_key_[slot_of(id)] != 0) continue;
      untouched += !t;
      offer(id, t ? logits[i] : bias[id]);
    }
    const float sum = float(z);
    for (size_t i = 0; i < n; ++i) out[i].probability = hunch_expf(out[i].probability - mx) / sum;
  } else {
    n = SIZE_MAX;
  }
  // Cleared newest first: each key's probe path then holds only older keys, all still in place.
  for (size_t i = n_touched; i-- > 0;) touch_key_[slot_of(ids[i])] = 0;
  return n;
}

}  // namespace hunch
