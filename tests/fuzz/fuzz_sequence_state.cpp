// fuzz_sequence_state: arbitrary bytes through Sequence::restore, as a saved state coming back
// from browser storage that was wiped, truncated, or written by another model.
//
// Input layout: byte 0 is a mode, the rest is the state.
//   bits 0-1  which fixed model: lstm-attn f32, lstm-attn int8, transformer f32, transformer int8
//   bit  2    write the model's checksum at offset 8 before restoring
//   bit  3    recompute the trailing CRC-32 before restoring
//   bit  4    push a few events first, so a refusal is tested against a non-empty state
//   bit  5    the same model with the optional parts: session inputs (the state's two session
//             counters after the attention weights), the conversion head, the copy terms (the
//             window's action, type and session ids), a transition table (the last action) and
//             attribute columns (the window's value ids, per column); for lstm-attn with a
//             copy window of 7 over W 4 (hunch.copy.window: the id rings longer than the others)
// Bits 2-3 let the fuzzer past the two checks it cannot guess (a 32-bit checksum and a CRC of
// its own bytes) into the field checks behind them; with both clear the raw bytes are tested.
//
// Checked: a refused restore leaves the sequence byte-for-byte as it was; an accepted version-2
// state saves back (in its own ring encoding) to exactly the bytes restored, an accepted
// version-1 state to a version-2 f32 state that restores and saves to the same bytes again;
// after it, a push is counted and predictions name valid ids with probabilities in [0, 1] (a
// state with huge finite values once gave NaN).
//
// Seeds: real states of the eight models (seeds()), version 2 in its three ring encodings and
// version 1 (tests/state-v1.h); run the binary with HUNCH_FUZZ_WRITE_SEEDS=dir to write them
// (scripts/fuzz.sh does). Regression replay: tests/native/test-fuzz-regressions.cpp.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "hunch/error.h"
#include "hunch/model.h"
#include "hunch/sequence.h"
#include "../model-builder.h"
#include "../state-v1.h"
#include "fuzz-common.h"


namespace hunch_fuzz_sequence_state {

// Small shapes keep an execution in microseconds; W = 4 so a few events wrap the rings.
// which: bits 0-1 of the mode byte (architecture, dtype), plus 4 for the optional parts (bit 5).
inline hunch_test::ModelSpec spec(int which) {
  hunch_test::ModelSpec s;
  s.hyper.arch = (which & 3) < 2 ? hunch::Arch::LSTM_ATTN : hunch::Arch::TRANSFORMER;
  s.int8 = which % 2 == 1;
  if (which & 4) {
    s.hyper.conversion = 1;
    s.goal_types = {"click"};  // T = 3: <none>, view, click
    s.hyper.session_inputs = 1;
    s.session_gap = 100;  // push_some splits a session every third event
    s.hyper.copy = 1;
    s.transition_successors = 3;
    s.attr_sizes = {3, 2};  // attributes: their window values in the state
    s.attr_numeric = {false, true};
    if ((which & 2) == 0) s.hyper.copy_window = 7;  // lstm-attn: Wc 7, W 4
  }
  s.hyper.vocab_size = 12;
  s.hyper.type_count = 3;
  s.hyper.embed = 8;
  s.hyper.hidden = 8;
  s.hyper.attn_size = 4;
  s.hyper.window = 4;
  s.hyper.layers = 2;
  s.hyper.heads = 2;
  s.hyper.ffn = 8;
  s.seed = 7 + uint64_t(which);
  return s;
}

inline const hunch::Model& model(int which) {
  static std::unique_ptr<hunch::Model> models[8];
  if (!models[which]) models[which] = hunch_fuzz::build_and_load(spec(which), "fuzz_sequence_state");
  return *models[which];
}

inline void push_some(hunch::Sequence* seq, int n) {
  const hunch::Hyper& hp = seq->model().hyper();
  for (int i = 0; i < n; ++i) {
    hunch::Event ev;
    ev.action = uint32_t(1 + i * 5) % hp.vocab_size;
    ev.type = uint32_t(i) % hp.type_count;
    ev.time = 100.0 + 37.0 * i;
    if (hp.session_inputs) ev.time += 200.0 * (i / 3);  // a gap of 237 s before events 3, 6, …
    HUNCH_FUZZ_CHECK(seq->push(ev).ok(), "an in-range event is accepted");
  }
}

inline void put_u32(std::vector<uint8_t>* b, size_t at, uint32_t v) {
  std::memcpy(b->data() + at, &v, 4);
}

inline int run(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const hunch::Model& m = model((mode & 3) | (mode & 32 ? 4 : 0));
  std::vector<uint8_t> state(data + 1, data + size);
  if ((mode & 4) && state.size() >= 12) put_u32(&state, 8, m.checksum());
  if ((mode & 8) && state.size() >= 4)
    put_u32(&state, state.size() - 4, hunch::crc32(state.data(), state.size() - 4));

  hunch::Sequence seq(m);
  if (mode & 16) push_some(&seq, 3);
  std::vector<uint8_t> before, after;
  seq.save(&before);
  const uint64_t length = seq.length();

  hunch::Error e = seq.restore(state.data(), state.size());
  seq.save(&after);
  if (e) {
    HUNCH_FUZZ_CHECK(!e.message.empty(), "a refusal has a message");
    HUNCH_FUZZ_CHECK(after == before, "a refused restore leaves the state unchanged");
    HUNCH_FUZZ_CHECK(seq.length() == length, "a refused restore keeps the length");
    return 0;
  }
  uint32_t version = 0;
  std::memcpy(&version, state.data() + 4, 4);
  if (version == 1) {
    // Version 1 saves every slot, filled or not; version 2 only the filled ones: what it saves
    // is a fixed point.
    std::vector<uint8_t> v2, again;
    seq.save(&v2, hunch::StateEncoding::F32);
    hunch::Sequence copy(m);
    HUNCH_FUZZ_CHECK(copy.restore(v2.data(), v2.size()).ok(), "a restored version-1 state saves as a valid v2 state");
    copy.save(&again, hunch::StateEncoding::F32);
    HUNCH_FUZZ_CHECK(again == v2, "a restored version-1 state saves as a v2 fixed point");
  } else {
    seq.save(&after, hunch::StateEncoding(state[32]));
    HUNCH_FUZZ_CHECK(after == state, "an accepted state saves back to the same bytes");
  }
  HUNCH_FUZZ_CHECK(!std::isinf(seq.last_time()), "a restored time is finite or NaN");

  // The restored sequence goes on working: one more event, then predictions.
  const hunch::Hyper& hp = m.hyper();
  const uint64_t restored_length = seq.length();
  hunch::Event ev;
  ev.action = 1;
  ev.type = hp.type_count - 1;
  ev.time = std::isnan(seq.last_time()) ? 0.0 : seq.last_time() + 3.0;
  HUNCH_FUZZ_CHECK(seq.push(ev).ok(), "an in-range event is accepted after a restore");
  HUNCH_FUZZ_CHECK(seq.length() == restored_length + 1, "a push after a restore is counted");
  hunch::Prediction top[4];
  size_t n = seq.predict(4, top);
  HUNCH_FUZZ_CHECK(n == 4, "predict after a push returns k predictions");
  for (size_t i = 0; i < n; ++i) {
    HUNCH_FUZZ_CHECK(top[i].action >= 1 && top[i].action < hp.vocab_size, "predicted id in range");
    HUNCH_FUZZ_CHECK(top[i].probability >= 0.0f && top[i].probability <= 1.0f,
                     "a restored state predicts probabilities in [0, 1] (not NaN)");
  }
  const float exit_p = seq.exit_probability();
  HUNCH_FUZZ_CHECK(exit_p >= 0.0f && exit_p <= 1.0f, "a restored state's exit probability is in [0, 1]");
  const float conversion_p = seq.conversion_probability();
  HUNCH_FUZZ_CHECK(hp.conversion ? conversion_p >= 0.0f && conversion_p <= 1.0f : std::isnan(conversion_p),
                   "a restored state's conversion probability is in [0, 1] (NaN without the head)");
  std::vector<uint64_t> idx;
  std::vector<float> w;
  HUNCH_FUZZ_CHECK(seq.attention(&idx, &w) <= hp.window, "attention covers at most the window");
  return 0;
}

// Real saved states, each with the mode byte that replays it as is (bits 2-3 clear) and one
// with the fix-ups on, for every model and a few lengths (empty, short, past the window).
inline std::vector<std::vector<uint8_t>> seeds() {
  std::vector<std::vector<uint8_t>> out;
  for (int which = 0; which < 8; ++which) {
    for (int n : {0, 2, 9}) {
      hunch::Sequence seq(model(which));
      push_some(&seq, n);
      std::vector<std::vector<uint8_t>> states(4);
      seq.save(&states[0], hunch::StateEncoding::I8);
      seq.save(&states[1], hunch::StateEncoding::F16);
      seq.save(&states[2], hunch::StateEncoding::F32);
      states[3] = hunch_test::state_v1(seq);
      for (const std::vector<uint8_t>& state : states)
        for (uint8_t flags : {0, 4 | 8}) {
          std::vector<uint8_t> seed = state;
          seed.insert(seed.begin(), uint8_t((which & 3) | (which & 4 ? 32 : 0) | flags | (n == 2 ? 16 : 0)));
          out.push_back(std::move(seed));
        }
    }
  }
  return out;
}

}  // namespace hunch_fuzz_sequence_state

#ifndef HUNCH_FUZZ_NO_ENTRY
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hunch_fuzz::write_seeds_if_asked(hunch_fuzz_sequence_state::seeds(), "seed-", "");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return hunch_fuzz_sequence_state::run(data, size);
}
#endif
