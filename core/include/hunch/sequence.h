// Sequence: one user's incremental state over a shared Model.
//
// push(event) runs one step of the network (never a recomputation of the history): LSTM h/c
// and the ring buffers of the last W attention keys/values. Memory is fixed at construction,
// whatever the length of the sequence; push and predict allocate nothing.
//
// A sequence serialises to bytes (save) and restores from them (restore); the bytes carry the
// model's checksum, so a state is never restored into another model.
#pragma once

#include <cstdint>
#include <vector>

#include "hunch/error.h"
#include "hunch/kernels.h"
#include "hunch/model.h"

namespace hunch {

// Event::attr entry meaning "the action's own value" (attr.table; <none> for <unk>).
constexpr uint32_t kAttrOfAction = UINT32_MAX;

struct Event {
  uint32_t action = 0;    // action id (0 = <unk>)
  uint32_t type   = 0;    // type id (0 = <none>)
  double   time   = __builtin_nan("");  // seconds since any epoch; NaN = unknown
  // With attributes (Hyper::attr_columns): per column, a value id of that column's block
  // (Model::attr_id), or kAttrOfAction. An action the model does not know (<unk>) still gets
  // its category's signal when the caller gives it.
  uint32_t attr[kMaxAttrColumns] = {kAttrOfAction, kAttrOfAction, kAttrOfAction, kAttrOfAction,
                                    kAttrOfAction, kAttrOfAction, kAttrOfAction, kAttrOfAction};
};
static_assert(kMaxAttrColumns == 8, "Event::attr's initialiser lists kMaxAttrColumns entries");

// How save() writes the rings' filled rows (docs/format.md): F32 exact; F16 half precision; I8
// one byte a value and a per-row scale (the default: ~4x smaller than F32; a restored sequence's
// next predictions differ within the bound tests/core/test-sequence.cpp states).
enum class StateEncoding : uint8_t { F32 = 0, F16 = 1, I8 = 2 };

struct Prediction {
  uint32_t action;
  float    probability;
};

constexpr char     kStateMagic[4]  = {'H', 'N', 'S', 'T'};
// Saved state version (docs/format.md "Sequence state", with its history): 2 is written; 1 (every
// ring slot as f32) is still read.
constexpr uint32_t kStateVersion   = 2;
constexpr float    kLayerNormEps   = 1e-5f;  // docs/architecture.md
constexpr float    kMaxSessionCounter = 16777216.f;  // 2^24: whole floats up to here

class Sequence {
 public:
  // kernels: nullptr = kernels_default() (hunch/kernels.h).
  explicit Sequence(const Model& model, const KernelTable* kernels = nullptr);

  // One step. Ids out of range are an error (the sequence is left as it was).
  Error push(const Event& e);
  void  reset();

  // Top-k next actions (id 0 excluded), highest probability first; k is clamped to V-1.
  // Returns the number written (0 before the first push).
  size_t predict(size_t k, Prediction* out);
  // All V next-action logits (id 0 included) for the last pushed event, computed on call; the
  // pointer stays valid until the next push/predict/reset. nullptr before the first push.
  // Evaluation ranks the target against these.
  const float* action_logits();
  // Next event type distribution (T floats) and exit probability, for the last pushed event.
  const std::vector<float>& type_probabilities() const { return type_probs_; }
  float exit_probability() const { return exit_prob_; }
  // z (D): the body's output for the last pushed event, which every head reads (zeros before the
  // first push). For measurements of the head (bench/core/cluster-recall.cpp).
  const std::vector<float>& output() const { return z_; }
  // P(a goal event follows in this session) after the last pushed event (0 before the first
  // push); NaN when the model has no conversion head (Hyper::conversion). Calibrated as the
  // exit probability (Model::calibration).
  float conversion_probability() const { return conversion_prob_; }
  // Attention weights of the last step over the window, oldest first, with the absolute event
  // index (0 = first event pushed since reset) of each; the last attention layer for the
  // transformer, averaged over heads.
  size_t attention(std::vector<uint64_t>* event_index, std::vector<float>* weight) const;

  uint64_t length() const { return count_; }  // events pushed since reset
  double   last_time() const { return last_time_; }
  size_t   state_bytes() const;                // memory held by this sequence's state

  // Saved state layout: docs/format.md "Sequence state" (sequence-state.cpp). restore() reads
  // versions 1 and 2, any encoding; a refused state leaves the sequence as it was.
  void   save(std::vector<uint8_t>* out, StateEncoding rings = StateEncoding::I8) const;
  Error  restore(const uint8_t* bytes, size_t size);
  size_t saved_bytes(StateEncoding rings = StateEncoding::I8) const { return saved_bytes(count_, rings); }

  const Model& model() const { return model_; }

 private:
  void step_lstm_attn(const float* x);
  void step_transformer(const float* x);
  void heads(float wide_exit);  // wide_exit: the exit head's wide term (0 without session inputs)
  void conversion_head();
  // Hyper::copy: adds each distinct window action's copy score to its logit (sequence.cpp).
  void add_copy_terms(float* logits);
  // The window's distinct actions into the copy table (copy_used_ lists their slots), and the copy
  // score of one of them; the slot's key is the caller's to clear.
  void  collect_copy_window();
  float copy_term(uint32_t h, float gate, float current) const;
  // predict for a count head with Model::count_head() built: O(touched + k), the same top-k as the
  // dense scan and its probabilities within float rounding; SIZE_MAX where the sparse denominator
  // would lose precision (the caller then scans every action).
  size_t predict_sparse(size_t k, Prediction* out);
  // Hyper::transition_bytes: adds the last action's counted successors' weights.
  void add_transition_terms(float* logits) const;
  void matvec(const Matrix& m, const float* x, const float* bias, float* y);
  void embed_add(const Matrix& table, uint32_t row, float* x);
  // Softmax attention of one head over the window; see sequence.cpp.
  void attend(const float* q, const float* keys, const float* values, size_t stride_k,
              size_t stride_v, size_t dk, size_t dv, float slope, float* out, float weight_scale);
  // The saved state (sequence-state.cpp).
  struct Staged;
  struct RingRows {
    bool     values;  // value ring (else keys)
    uint32_t layer;
    size_t   len, first, n;  // floats a row, where slot 0's row starts, filled slots
  };
  void   ring_rows(size_t n, std::vector<RingRows>* out) const;
  size_t saved_bytes(uint64_t count, StateEncoding rings) const;
  size_t payload_floats_v1() const;
  Error  stage_v1(const uint8_t* bytes, Staged* st) const;
  Error  stage_v2(const uint8_t* bytes, size_t size, StateEncoding rings, Staged* st) const;
  Error  check_window_attrs(const std::vector<uint32_t>& ids, size_t first_offset, size_t stride, bool v1) const;

  const Model&       model_;
  const KernelTable* k_;
  Hyper              hp_;

  // Persistent state (what save() writes).
  uint64_t           count_ = 0;       // events pushed
  double             last_time_;
  std::vector<float> h_, c_;           // lstm-attn: (H), (H)
  std::vector<float> ring_k_, ring_v_; // lstm-attn: W*(A), W*(H); transformer: L*W*D each
  // Derived outputs of the last step (recomputed by restore()).
  std::vector<float> z_;               // (D)
  std::vector<float> type_probs_;      // (T)
  float              exit_prob_ = 0;
  float              conversion_prob_ = 0;  // NaN without the head; recomputed by restore()
  std::vector<float> attn_w_;          // (W) last attention weights, ring order by age
  // With session inputs (Hyper::session_inputs): position in the current session and sessions
  // so far, as whole-number floats (saved after the attention weights); empty otherwise.
  std::vector<float> session_;
  // With session inputs: the conversion head's wide term for the last event (head.conversion.wx
  // on its context encoding; 0 without the head), saved after the counters so that restore can
  // recompute the conversion probability with z.
  float              wide_conversion_ = 0;
  // With Hyper::copy: the copy window's events as the copy terms read them, by ring slot (event e
  // in slot e % Wc, Wc = copy_window_of): action id, type id and session number (sessions so far; 0 without session
  // inputs). Saved after the rest, as whole-number floats.
  std::vector<uint32_t> window_action_, window_type_;
  std::vector<float>    window_session_;
  // Scratch of add_copy_terms: an open-addressing table (a power of two >= 2Wc slots) from action
  // to its most recent window event and count, and the slots in use.
  std::vector<uint32_t> copy_key_, copy_count_, copy_recent_, copy_used_;
  // With Hyper::transition_bytes: the last pushed action (saved after the window, as a float).
  uint32_t              last_action_ = 0;
  // With attributes: the window's events' value ids by ring slot (K per slot; a slot not yet
  // filled holds each column's <none>), saved after the last action as whole-number floats; and
  // add_attr_match_terms' scratch (per value id: the tick it was last seen at, its distance bucket).
  std::vector<uint32_t> window_attr_, attr_tick_of_, attr_bucket_;
  uint32_t              attr_tick_ = 0;
  void add_attr_match_terms(float* logits);
  void reset_window_attrs();

  // Scratch (allocated once).
  std::vector<float>   x_, tmp_, tmp2_, gates_, q_, ctx_, hc_, ffn_, logits_, scores_;
  std::vector<float>   attr_logits_;  // (AV) head.attr · z, with attributes
  std::vector<int8_t>  xq_;
  std::vector<float>   head_max_;  // predict's scratch: the maximum of each kHeadBlock logits
  // predict_sparse's scratch: the touched actions and their logits (max_touched entries each), and
  // an open-addressing table (key id + 1, a power of two >= 2 · max_touched slots) from action to
  // its entry.
  std::vector<uint32_t> touch_id_;
  std::vector<float>    touch_logit_;
  std::vector<uint32_t> touch_key_, touch_entry_;
};

}  // namespace hunch
