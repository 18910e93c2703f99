// fuzz_push_events: a valid model fed whatever a caller can pass — action and type ids in and
// far out of range, NaN / infinite / negative / huge / backwards times — interleaved with
// predictions, saves, restores (clean and corrupted) and resets.
//
// Input: byte 0 picks the model (bits 0-1: lstm-attn f32, lstm-attn int8, transformer f32,
// transformer int8); then operations until the bytes run out, each an op byte and its operands:
//   op % 8 in 0..3  push: action (1 byte mod V+2, or with op bit 4 a raw u32), type (1 byte mod
//                   T+2, or with op bit 5 a raw u32), time (a mode byte, then its operand)
//   4               predict top-k, k = next byte
//   5               save, restore into a fresh sequence: same bytes, same predictions
//   6               save, damage (flip a byte / truncate), restore into this one: refused, unchanged
//   7               next byte odd: reset; even: check the type and exit distributions
// Missing operand bytes read as 0, so every input is a valid program.
//
// Checked: a push is refused exactly when an id is out of range or the time is infinite, and a
// refused push leaves the state byte-for-byte unchanged; an accepted one is counted, and the
// state's clock never goes backwards; predictions are distinct valid ids with finite
// probabilities in [0, 1], highest first; save/restore is exact.
//
// Regression replay: tests/native/test-fuzz-regressions.cpp (HUNCH_FUZZ_NO_ENTRY).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "hunch/error.h"
#include "hunch/model.h"
#include "hunch/sequence.h"
#include "../model-builder.h"
#include "fuzz-common.h"


namespace hunch_fuzz_push_events {

inline hunch_test::ModelSpec spec(int which) {
  hunch_test::ModelSpec s;
  s.hyper.arch = which < 2 ? hunch::Arch::LSTM_ATTN : hunch::Arch::TRANSFORMER;
  s.int8 = which % 2 == 1;
  s.hyper.vocab_size = 20;
  s.hyper.type_count = 4;
  s.hyper.embed = 8;
  s.hyper.hidden = 8;
  s.hyper.attn_size = 4;
  s.hyper.window = 5;
  s.hyper.layers = 2;
  s.hyper.heads = 2;
  s.hyper.ffn = 12;
  s.seed = 31 + uint64_t(which);
  return s;
}

inline const hunch::Model& model(int which) {
  static std::unique_ptr<hunch::Model> models[4];
  if (!models[which]) models[which] = hunch_fuzz::build_and_load(spec(which), "fuzz_push_events");
  return *models[which];
}

class Bytes {
 public:
  Bytes(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  bool done() const { return i_ >= n_; }
  uint8_t u8() { return i_ < n_ ? d_[i_++] : 0; }
  uint32_t u32() {
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) v |= uint32_t(u8()) << (8 * k);
    return v;
  }
  double f64() {
    uint64_t bits = 0;
    for (int k = 0; k < 8; ++k) bits |= uint64_t(u8()) << (8 * k);
    double v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  }

 private:
  const uint8_t* d_;
  size_t n_, i_ = 0;
};

// Times a caller may pass, realistic and not: the mode byte's low 3 bits pick the kind.
inline double event_time(Bytes& in, double last) {
  const uint8_t mode = in.u8();
  const double base = std::isfinite(last) ? last : 1.7e9;
  switch (mode & 7) {
    case 0: return std::nan("");
    case 1: return mode & 8 ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
    case 2: return base + in.u8();                       // forward, seconds
    case 3: return base + double(in.u32());              // forward, up to 136 years
    case 4: return base - in.u8();                       // backwards
    case 5: return -double(in.u32()) * 1e3;              // negative
    case 6: return mode & 8 ? 1e308 : -1e308;            // extreme but finite
    default: return in.f64();                            // any bit pattern: NaNs, denormals, inf
  }
}

inline std::vector<uint8_t> saved(const hunch::Sequence& seq) {
  std::vector<uint8_t> s;
  seq.save(&s);
  return s;
}

inline void check_predictions(hunch::Sequence& seq, size_t k) {
  const uint32_t V = seq.model().hyper().vocab_size;
  std::vector<hunch::Prediction> top(k + 1);
  const size_t n = seq.predict(k, top.data());
  if (seq.length() == 0 || k == 0) {
    HUNCH_FUZZ_CHECK(n == 0, "no predictions before the first push or for k = 0");
    return;
  }
  HUNCH_FUZZ_CHECK(n == std::min<size_t>(k, V - 1), "predict returns min(k, V-1) predictions");
  std::vector<bool> seen(V, false);
  for (size_t i = 0; i < n; ++i) {
    const hunch::Prediction& p = top[i];
    HUNCH_FUZZ_CHECK(p.action >= 1 && p.action < V, "predicted id in range, <unk> excluded");
    HUNCH_FUZZ_CHECK(!seen[p.action], "predicted ids are distinct");
    seen[p.action] = true;
    HUNCH_FUZZ_CHECK(std::isfinite(p.probability) && p.probability >= 0.f && p.probability <= 1.f,
                     "probability finite and in [0, 1]");
    if (i) HUNCH_FUZZ_CHECK(p.probability <= top[i - 1].probability, "highest probability first");
  }
}

inline void push(Bytes& in, uint8_t op, hunch::Sequence& seq) {
  const hunch::Hyper& hp = seq.model().hyper();
  hunch::Event ev;
  ev.action = op & 16 ? in.u32() : in.u8() % (hp.vocab_size + 2);
  ev.type = op & 32 ? in.u32() : in.u8() % (hp.type_count + 2);
  ev.time = event_time(in, seq.last_time());
  const bool valid = ev.action < hp.vocab_size && ev.type < hp.type_count && !std::isinf(ev.time);

  const std::vector<uint8_t> before = saved(seq);
  const uint64_t length = seq.length();
  const double last = seq.last_time();
  hunch::Error e = seq.push(ev);
  HUNCH_FUZZ_CHECK(e.ok() == valid, "push refuses exactly bad ids and infinite times");
  if (e) {
    HUNCH_FUZZ_CHECK(!e.message.empty(), "a refusal has a message");
    HUNCH_FUZZ_CHECK(saved(seq) == before, "a refused push leaves the state unchanged");
    return;
  }
  HUNCH_FUZZ_CHECK(seq.length() == length + 1, "an accepted push is counted");
  const double now = seq.last_time();
  HUNCH_FUZZ_CHECK(!std::isinf(now), "the state's clock is finite or NaN");
  if (std::isfinite(last)) HUNCH_FUZZ_CHECK(now >= last, "the state's clock never goes backwards");
}

inline void round_trip(hunch::Sequence& seq) {
  const std::vector<uint8_t> state = saved(seq);
  hunch::Sequence copy(seq.model());
  HUNCH_FUZZ_CHECK(copy.restore(state.data(), state.size()).ok(), "a saved state restores");
  HUNCH_FUZZ_CHECK(saved(copy) == state, "save after restore gives the same bytes");
  hunch::Prediction a[8], b[8];
  const size_t na = seq.predict(8, a), nb = copy.predict(8, b);
  HUNCH_FUZZ_CHECK(na == nb, "a restored sequence predicts as many");
  for (size_t i = 0; i < na; ++i)
    HUNCH_FUZZ_CHECK(a[i].action == b[i].action && a[i].probability == b[i].probability,
                     "a restored sequence predicts the same");
}

inline void damaged_restore(Bytes& in, hunch::Sequence& seq) {
  const std::vector<uint8_t> before = saved(seq);
  std::vector<uint8_t> bad = before;
  const uint8_t how = in.u8();
  const size_t at = size_t(in.u32()) % bad.size();
  if (how & 1) {
    bad[at] ^= uint8_t(how | 1);  // a non-zero flip: CRC-32 catches every single-byte error
  } else {
    bad.resize(at);  // truncated
  }
  hunch::Error e = seq.restore(bad.data(), bad.size());
  HUNCH_FUZZ_CHECK(!e.ok(), "a damaged state is refused");
  HUNCH_FUZZ_CHECK(saved(seq) == before, "a refused restore leaves the state unchanged");
}

inline void check_distributions(const hunch::Sequence& seq) {
  if (seq.length() == 0) return;
  double sum = 0;
  for (float p : seq.type_probabilities()) {
    HUNCH_FUZZ_CHECK(std::isfinite(p) && p >= 0.f && p <= 1.f, "type probability in [0, 1]");
    sum += p;
  }
  HUNCH_FUZZ_CHECK(std::fabs(sum - 1.0) < 1e-3, "type probabilities sum to 1");
  const float exit = seq.exit_probability();
  HUNCH_FUZZ_CHECK(std::isfinite(exit) && exit >= 0.f && exit <= 1.f, "exit probability in [0, 1]");
  std::vector<uint64_t> idx;
  std::vector<float> w;
  const size_t n = seq.attention(&idx, &w);
  HUNCH_FUZZ_CHECK(n >= 1 && n <= seq.model().hyper().window, "attention covers 1..W events");
  HUNCH_FUZZ_CHECK(idx.back() == seq.length() - 1, "attention ends at the last event");
}

inline int run(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Bytes in(data, size);
  hunch::Sequence seq(model(in.u8() & 3));
  while (!in.done()) {
    const uint8_t op = in.u8();
    switch (op & 7) {
      case 4: check_predictions(seq, in.u8()); break;
      case 5: round_trip(seq); break;
      case 6: damaged_restore(in, seq); break;
      case 7:
        if (in.u8() & 1) {
          seq.reset();
          HUNCH_FUZZ_CHECK(seq.length() == 0 && std::isnan(seq.last_time()), "reset empties the sequence");
        } else {
          check_distributions(seq);
        }
        break;
      default: push(in, op, seq); break;
    }
  }
  check_predictions(seq, 10);
  return 0;
}

// A few realistic programs: a session of events with a prediction after each, a save/restore
// in the middle, and one with every kind of bad event. Each model gets each program.
inline std::vector<std::vector<uint8_t>> seeds() {
  std::vector<uint8_t> session, hostile;
  for (uint8_t i = 0; i < 12; ++i) {
    const uint8_t s[] = {0, uint8_t(1 + i % 19), uint8_t(i % 4), 2, uint8_t(5 + i), 4, 10};
    session.insert(session.end(), s, s + sizeof s);
    if (i == 6) session.push_back(5);
  }
  const uint8_t h[] = {
      0, 20, 0, 2, 1,                  // action V: refused
      0, 3, 5, 2, 1,                   // type T+1: refused
      0, 3, 1, 1,                      // -inf time: refused
      0, 3, 1, 9,                      // +inf time: refused
      16, 0xFF, 0xFF, 0xFF, 0xFF, 1, 0,  // action UINT32_MAX: refused
      0, 4, 2, 0,                      // NaN time
      0, 5, 1, 4, 200,                 // backwards
      0, 6, 1, 5, 1, 2, 3, 4,          // negative
      0, 7, 2, 6,                      // 1e308
      4, 255, 6, 1, 3, 0, 0, 0, 6, 0, 9, 0, 0, 0, 5, 7, 0, 7, 1, 4, 3};
  hostile.assign(h, h + sizeof h);
  std::vector<std::vector<uint8_t>> out;
  for (uint8_t which = 0; which < 4; ++which) {
    for (const std::vector<uint8_t>* p : {&session, &hostile}) {
      std::vector<uint8_t> seed = *p;
      seed.insert(seed.begin(), which);
      out.push_back(std::move(seed));
    }
  }
  return out;
}

}  // namespace hunch_fuzz_push_events

#ifndef HUNCH_FUZZ_NO_ENTRY
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hunch_fuzz::write_seeds_if_asked(hunch_fuzz_push_events::seeds(), "seed-", "");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return hunch_fuzz_push_events::run(data, size);
}
#endif
