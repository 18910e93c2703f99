// A sequence's state in the saved layout of version 1 (docs/format.md "Sequence state",
// "Version 1"), which the core still reads but no longer writes: written here from the
// version-2 f32 save of the same sequence, field by field as the document lays them out, so
// the tests and fuzz_sequence_state's seeds keep exercising the version-1 reader.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "hunch/error.h"
#include "hunch/model.h"
#include "hunch/sequence.h"

namespace hunch_test {

inline std::vector<uint8_t> state_v1(const hunch::Sequence& seq) {
  const hunch::Hyper& h = seq.model().hyper();
  std::vector<uint8_t> v2;
  seq.save(&v2, hunch::StateEncoding::F32);
  uint64_t count;
  std::memcpy(&count, v2.data() + 16, 8);
  const size_t W = h.window, n = size_t(std::min<uint64_t>(count, W)), K = h.attr_columns, D = h.embed;
  // The id rings hold Wc slots (hunch.copy.window); the v1 reader reads them at that length.
  const size_t Wc = hunch::copy_window_of(h), nc = size_t(std::min<uint64_t>(count, Wc));
  const bool lstm = h.arch == hunch::Arch::LSTM_ATTN;
  const size_t H = lstm ? h.hidden : 0, A = lstm ? h.attn_size : 0;
  size_t at = 36;
  auto floats = [&](size_t k, size_t pad) {
    std::vector<float> v(k);
    if (k) std::memcpy(v.data(), v2.data() + at, 4 * k);
    at += 4 * k;
    v.resize(pad, 0.f);
    return v;
  };
  auto ids = [&](size_t k, size_t pad) {
    std::vector<float> v(pad, 0.f);
    for (size_t i = 0; i < k; ++i, at += 4) {
      uint32_t u;
      std::memcpy(&u, v2.data() + at, 4);
      v[i] = float(u);
    }
    return v;
  };
  std::vector<std::vector<float>> parts;
  const std::vector<float> hh = floats(H, H), cc = floats(H, H);
  const std::vector<float> z = floats(D, D), types = floats(h.type_count, h.type_count), exit = floats(1, 1);
  const std::vector<float> attn = floats(n, W);
  std::vector<float> session, last, window_action, window_type, window_session;
  if (h.session_inputs) session = floats(3, 3);  // the two counters, the conversion wide term
  if (h.transition_bytes) last = ids(1, 1);
  if (h.copy) {
    window_action = ids(nc, Wc);
    window_type = ids(nc, Wc);
    window_session = ids(nc, Wc);
  }
  std::vector<float> attrs = ids(nc * K, Wc * K);
  for (size_t s = nc * K; s < Wc * K; ++s) attrs[s] = float(seq.model().attributes().start(uint32_t(s % K)));
  // Rings: slot s's row at s·width (lstm-attn), at (l·W + s)·D per layer (transformer).
  std::vector<float> ring_k(lstm ? W * A : h.layers * W * D, 0.f), ring_v(lstm ? W * H : h.layers * W * D, 0.f);
  for (uint32_t l = 0; l < (lstm ? 1u : h.layers); ++l) {
    const size_t kw = lstm ? A : D, vw = lstm ? H : D, base = lstm ? 0 : size_t(l) * W * D;
    std::memcpy(ring_k.data() + base, v2.data() + at, 4 * n * kw);
    at += 4 * n * kw;
    std::memcpy(ring_v.data() + base, v2.data() + at, 4 * n * vw);
    at += 4 * n * vw;
  }
  parts = {hh, cc, ring_k, ring_v, z, types, exit, attn, session, window_action, window_type, window_session, last, attrs};
  size_t total = 0;
  for (const auto& p : parts) total += p.size();
  std::vector<uint8_t> out(36 + 4 * total + 4);
  std::memcpy(out.data(), v2.data(), 32);  // magic, version (set below), checksum, arch, count, time
  const uint32_t version = 1, n_floats = uint32_t(total);
  std::memcpy(out.data() + 4, &version, 4);
  std::memcpy(out.data() + 32, &n_floats, 4);
  size_t o = 36;
  for (const auto& p : parts) {
    if (!p.empty()) std::memcpy(out.data() + o, p.data(), 4 * p.size());
    o += 4 * p.size();
  }
  const uint32_t crc = hunch::crc32(out.data(), out.size() - 4);
  std::memcpy(out.data() + out.size() - 4, &crc, 4);
  return out;
}

}  // namespace hunch_test
