// Sequence::save / restore: the saved state (docs/format.md "Sequence state").
//
// Version 2 (written): only the filled part of the rings (min(events, W) slots), each row in the
// encoding the caller chose — f32 (exact), f16, or int8 with a per-row scale (the default) — and
// ids as u32. Version 1 (read, never written): every ring slot as f32, filled or not, ids as
// whole f32 numbers. Both are read through the same staging: every byte is checked before the
// live state changes, and a refused state leaves the sequence as it was.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "hunch/sequence.h"

namespace hunch {

namespace {

constexpr size_t kStateHeaderBytes = 36;  // both versions
constexpr float  kBig = 1e6f, kOne = 1.0f + 1e-3f;
// int8 rows: a scale below this saves the row as zeros (no trained model's keys come near; it
// keeps the scale a normal float, so 127 · scale is exact).
constexpr float  kMinRowScale = 1e-30f;
constexpr float  kF16Max = 65504.f;

template <typename T>
void put_at(uint8_t* p, const T& v) {
  std::memcpy(p, &v, sizeof(T));
}

template <typename T>
T get_at(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

uint32_t bits_of(float f) { return get_at<uint32_t>(reinterpret_cast<const uint8_t*>(&f)); }
float    float_of(uint32_t b) { return get_at<float>(reinterpret_cast<const uint8_t*>(&b)); }

// IEEE half precision, round to nearest even; beyond ±65504 saturates (no ring value comes near).
uint16_t f32_to_f16(float f) {
  const uint16_t sign = uint16_t((bits_of(f) >> 16) & 0x8000u);
  const float a = std::min(std::fabs(f), kF16Max);
  if (a < 6.103515625e-05f)  // below the smallest normal half: a multiple of 2^-24
    return uint16_t(sign | uint16_t(std::nearbyint(a * 16777216.f)));
  const uint32_t x = bits_of(a);
  uint32_t exp = (x >> 23) - 127 + 15, m = (x & 0x7FFFFFu) >> 13;
  const uint32_t rest = x & 0x1FFFu;
  if (rest > 0x1000u || (rest == 0x1000u && (m & 1))) {
    if (++m == 0x400u) {
      m = 0;
      ++exp;
    }
  }
  return uint16_t(sign | (exp << 10) | m);
}

float f16_to_f32(uint16_t h) {
  const uint32_t exp = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
  float v;
  if (exp == 0) v = std::ldexp(float(m), -24);
  else if (exp == 31) v = m ? __builtin_nanf("") : __builtin_inff();
  else v = std::ldexp(float(m | 0x400u), int(exp) - 25);
  return (h & 0x8000u) ? -v : v;
}

size_t row_bytes(StateEncoding enc, size_t len) {
  switch (enc) {
    case StateEncoding::F32: return 4 * len;
    case StateEncoding::F16: return 2 * len;
    case StateEncoding::I8: return 3 + len;
  }
  return 0;
}

// One ring row. int8: the scale s = max|v| / 127 rounded up to 16 significant bits, so that its
// low 8 bits are zero (3 bytes saved: the f32's upper 24 bits) and 127·s, q·s and (q·s)/s are
// exact: decoding and encoding again gives the same bytes (the restore checks it).
void encode_row(StateEncoding enc, const float* v, size_t len, uint8_t* p) {
  if (enc == StateEncoding::F32) {
    std::memcpy(p, v, 4 * len);
  } else if (enc == StateEncoding::F16) {
    for (size_t i = 0; i < len; ++i) put_at(p + 2 * i, f32_to_f16(v[i]));
  } else {
    float mx = 0;
    for (size_t i = 0; i < len; ++i) mx = std::max(mx, std::fabs(v[i]));
    uint32_t b = bits_of(mx / 127.f);
    if (b & 0xFFu) b = (b | 0xFFu) + 1;
    float s = float_of(b);
    if (!(s >= kMinRowScale)) s = 0, b = 0;
    p[0] = uint8_t(b >> 8), p[1] = uint8_t(b >> 16), p[2] = uint8_t(b >> 24);
    for (size_t i = 0; i < len; ++i)
      p[3 + i] = uint8_t(int8_t(s == 0 ? 0.f : std::max(-127.f, std::min(127.f, std::nearbyint(v[i] / s)))));
  }
}

// Decodes one row; false when a value is not finite or beyond ±kBig, or (int8) the row is not
// in the form encode_row writes.
bool decode_row(StateEncoding enc, const uint8_t* p, size_t len, float* out, const char** why) {
  if (enc == StateEncoding::F32) {
    std::memcpy(out, p, 4 * len);
  } else if (enc == StateEncoding::F16) {
    for (size_t i = 0; i < len; ++i) out[i] = f16_to_f32(get_at<uint16_t>(p + 2 * i));
  } else {
    const float s = float_of(uint32_t(p[0]) << 8 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 24);
    if (!(s >= 0.f && s * 127.f <= kBig) || std::signbit(s)) {
      *why = "its int8 scale is negative, not finite or above 1e6/127";
      return false;
    }
    for (size_t i = 0; i < len; ++i) out[i] = float(int8_t(p[3 + i])) * s;
    std::vector<uint8_t> re(3 + len);
    encode_row(enc, out, len, re.data());
    if (std::memcmp(re.data(), p, 3 + len) != 0) {
      *why = "its int8 row is not in canonical form (a scale with nonzero low bits, no value at +-127, or -128)";
      return false;
    }
    return true;
  }
  for (size_t i = 0; i < len; ++i)
    if (!std::isfinite(out[i]) || std::fabs(out[i]) > kBig) {
      *why = std::isfinite(out[i]) ? "a value is outside [-1e6, 1e6]" : "a value is not finite";
      return false;
    }
  return true;
}

}  // namespace

// What a restore checks and commits: the live state's parts, full size (slots past the filled
// part as a fresh sequence has them).
struct Sequence::Staged {
  uint64_t              count = 0;
  double                last_time = 0;
  std::vector<float>    h, c, ring_k, ring_v, z, type_probs, attn_w, session;
  float                 exit_prob = 0, wide_conversion = 0;
  std::vector<uint32_t> window_action, window_type, window_attr;
  std::vector<float>    window_session;
  uint32_t              last_action = 0;
};

size_t Sequence::payload_floats_v1() const {
  return h_.size() + c_.size() + ring_k_.size() + ring_v_.size() + z_.size() + type_probs_.size() + 1 +
         attn_w_.size() + session_.size() + (hp_.session_inputs ? 1 : 0) + 3 * window_action_.size() +
         (hp_.transition_bytes ? 1 : 0) + window_attr_.size();
}

// The ring rows of the filled slots, in save order: lstm-attn keys (A) then values (H); the
// transformer per layer, keys then values (D each). first = where the slot's row starts.
void Sequence::ring_rows(size_t n, std::vector<RingRows>* out) const {
  out->clear();
  const size_t W = hp_.window;
  if (hp_.arch == Arch::LSTM_ATTN) {
    out->push_back({false, 0, hp_.attn_size, 0, n});
    out->push_back({true, 0, hp_.hidden, 0, n});
  } else {
    for (uint32_t l = 0; l < hp_.layers; ++l) {
      out->push_back({false, l, hp_.embed, size_t(l) * W * hp_.embed, n});
      out->push_back({true, l, hp_.embed, size_t(l) * W * hp_.embed, n});
    }
  }
}

size_t Sequence::saved_bytes(uint64_t count, StateEncoding enc) const {
  // n slots of the attention rings, nc of the count-like terms' id rings (Wc may differ from W).
  const size_t n = size_t(std::min<uint64_t>(count, hp_.window)), K = hp_.attr_columns;
  const size_t nc = size_t(std::min<uint64_t>(count, copy_window_of(hp_)));
  size_t bytes = kStateHeaderBytes + 4 * (h_.size() + c_.size() + z_.size() + type_probs_.size() + 1 + n) +
                 (hp_.session_inputs ? 12 : 0) + (hp_.transition_bytes ? 4 : 0) + (hp_.copy ? 12 * nc : 0) +
                 4 * K * nc + 4;
  std::vector<RingRows> rows;
  ring_rows(n, &rows);
  for (const RingRows& r : rows) bytes += r.n * row_bytes(enc, r.len);
  return bytes;
}

void Sequence::save(std::vector<uint8_t>* out, StateEncoding enc) const {
  const size_t n = size_t(std::min<uint64_t>(count_, hp_.window)), K = hp_.attr_columns;
  const size_t nc = size_t(std::min<uint64_t>(count_, copy_window_of(hp_)));
  out->assign(saved_bytes(count_, enc), 0);
  uint8_t* p = out->data();
  std::memcpy(p, kStateMagic, 4);
  put_at(p + 4, kStateVersion);
  put_at(p + 8, model_.checksum());
  put_at(p + 12, uint32_t(hp_.arch));
  put_at(p + 16, uint64_t(count_));
  put_at(p + 24, last_time_);
  p[32] = uint8_t(enc);
  p += kStateHeaderBytes;
  auto floats = [&](const float* v, size_t len) {
    if (len) std::memcpy(p, v, 4 * len);  // h, c are empty for the transformer (null data())
    p += 4 * len;
  };
  auto u32 = [&](uint32_t v) {
    put_at(p, v);
    p += 4;
  };
  floats(h_.data(), h_.size());
  floats(c_.data(), c_.size());
  floats(z_.data(), z_.size());
  floats(type_probs_.data(), type_probs_.size());
  floats(&exit_prob_, 1);
  floats(attn_w_.data(), n);
  if (hp_.session_inputs) {
    floats(session_.data(), 2);
    floats(&wide_conversion_, 1);
  }
  if (hp_.transition_bytes) u32(last_action_);
  if (hp_.copy) {
    for (size_t s = 0; s < nc; ++s) u32(window_action_[s]);
    for (size_t s = 0; s < nc; ++s) u32(window_type_[s]);
    for (size_t s = 0; s < nc; ++s) u32(uint32_t(window_session_[s]));
  }
  for (size_t i = 0; i < nc * K; ++i) u32(window_attr_[i]);
  std::vector<RingRows> rows;
  ring_rows(n, &rows);
  for (const RingRows& r : rows) {
    const float* ring = (r.values ? ring_v_ : ring_k_).data() + r.first;
    for (size_t s = 0; s < r.n; ++s) {
      encode_row(enc, ring + s * r.len, r.len, p);
      p += row_bytes(enc, r.len);
    }
  }
  put_at(out->data() + out->size() - 4, crc32(out->data(), out->size() - 4));
}

Error Sequence::restore(const uint8_t* bytes, size_t size) {
  constexpr size_t kHead = kStateHeaderBytes;
  if (size < kHead + 4)
    return Error(format_message("saved state is %zu bytes: too short for a state header (%zu)", size, kHead + 4));
  if (std::memcmp(bytes, kStateMagic, 4) != 0)
    return Error("not a hunch saved state: wrong magic at offset 0 (expected 'HNST')");
  const uint32_t version = get_at<uint32_t>(bytes + 4);
  if (version != 1 && version != kStateVersion)
    return Error(format_message("saved state version %u at offset 4 is not supported (this build reads 1 and %u)",
                                version, kStateVersion));
  const uint32_t checksum = get_at<uint32_t>(bytes + 8);
  if (checksum != model_.checksum())
    return Error(format_message("saved state belongs to another model (model checksum 0x%08x at offset 8, "
                                "this model is 0x%08x)", checksum, model_.checksum()),
                 ErrorCode::STATE_FOR_OTHER_MODEL);
  const uint32_t arch = get_at<uint32_t>(bytes + 12);
  if (arch != uint32_t(hp_.arch))
    return Error(format_message("saved state architecture %u at offset 12 does not match the model", arch));
  const uint64_t count = get_at<uint64_t>(bytes + 16);
  size_t expected;
  StateEncoding enc = StateEncoding::F32;
  if (version == 1) {
    const uint32_t n = get_at<uint32_t>(bytes + 32);
    if (n != payload_floats_v1())
      return Error(format_message("saved state holds %u floats (offset 32), this model's state needs %zu", n,
                                  payload_floats_v1()));
    expected = kHead + size_t(n) * 4 + 4;
  } else {
    if (bytes[32] > uint8_t(StateEncoding::I8))
      return Error(format_message("saved state: ring encoding %u at offset 32 is not one of 0 (f32), 1 (f16), 2 (int8)",
                                  unsigned(bytes[32])));
    if (bytes[33] || bytes[34] || bytes[35])
      return Error("saved state: reserved bytes at offsets 33-35 are not zero (damaged)");
    enc = StateEncoding(bytes[32]);
    // Checked before the size it implies (a huge count must not overflow the arithmetic).
    expected = saved_bytes(std::min<uint64_t>(count, std::max(hp_.window, copy_window_of(hp_))), enc);
  }
  if (size != expected)
    return Error(format_message("saved state is %zu bytes, its header implies %zu (truncated or padded)", size,
                                expected));
  const uint32_t stored = get_at<uint32_t>(bytes + size - 4);
  const uint32_t computed = crc32(bytes, size - 4);
  if (stored != computed)
    return Error(format_message("saved state CRC mismatch: stored 0x%08x, computed 0x%08x (corrupted bytes)",
                                stored, computed));
  // No real sequence gets near 2^53 events (a million a second for 285 years), and above it
  // the count would wrap in push() (UINT64_MAX + 1 = 0: the window would be empty and the
  // sequence would forget it had started) and lose precision as a JS number in the SDK.
  if (count > (uint64_t(1) << 53))
    return Error(format_message("saved state: event count %llu at offset 16 is larger than 2^53 (damaged)",
                                static_cast<unsigned long long>(count)));
  const double last_time = get_at<double>(bytes + 24);
  if (std::isinf(last_time)) return Error("saved state: last event time at offset 24 is infinite");

  Staged st;
  st.count = count;
  st.last_time = last_time;
  Error e = version == 1 ? stage_v1(bytes, &st) : stage_v2(bytes, size, enc, &st);
  if (e) return e;
  // All checks passed: only now overwrite the live state.
  count_ = st.count;
  last_time_ = st.last_time;
  h_ = st.h, c_ = st.c, ring_k_ = st.ring_k, ring_v_ = st.ring_v, z_ = st.z, type_probs_ = st.type_probs;
  attn_w_ = st.attn_w, session_ = st.session;
  exit_prob_ = st.exit_prob, wide_conversion_ = st.wide_conversion;
  window_action_ = st.window_action, window_type_ = st.window_type, window_session_ = st.window_session;
  window_attr_ = st.window_attr;
  last_action_ = st.last_action;
  // Not in the saved layout: recomputed from the restored z.
  if (count_ == 0) conversion_prob_ = hp_.conversion ? 0.f : __builtin_nanf("");
  else conversion_head();
  return {};
}

// The checks every f32 value of a state gets, in both versions: finite, and in the range the
// computation can produce: h = o·tanh(c) is within [-1, 1], probabilities and attention weights
// within [0, 1] (plus a rounding margin: the transformer's weights are sums of per-head shares,
// 1.0000004 at worst), |c| grows by at most 1 per event; the rings and z get a generous bound
// (no trained model comes near 1e6) that keeps the next step's products and sums finite: a finite
// 3e38 in a ring turns into inf - inf = NaN a few operations later. `index` numbers the value
// in version 1's float payload (its errors say "value i at offset …").
static Error check_value(float v, size_t offset, const char* part, float lo, float hi, bool whole, long index) {
  char at[64];
  if (index >= 0) std::snprintf(at, sizeof at, "value %ld at offset %zu", index, offset);
  else std::snprintf(at, sizeof at, "value at offset %zu", offset);
  if (!std::isfinite(v)) return Error(format_message("saved state: %s (%s) is not finite", at, part));
  // Ids become uint32_t on restore: -0 would come back as 0 and save as other bytes.
  const bool ok_whole = !whole || (v == std::floor(v) && !(v == 0 && std::signbit(v)));
  if (v < lo || v > hi || !ok_whole)
    return Error(format_message("saved state: %s (%s) is %.8g, %s [%.8g, %.8g] (damaged)", at, part, double(v),
                                ok_whole ? "outside" : "not a whole number in", double(lo), double(hi)));
  return {};
}

Error Sequence::stage_v1(const uint8_t* bytes, Staged* st) const {
  const uint8_t* p = bytes + kStateHeaderBytes;
  const float c_max = float(st->count) + 1.0f;
  const size_t copy_slots = window_action_.size();
  // Ids are f32 whole numbers here; staged as floats, converted after the checks.
  std::vector<float> ids_action(copy_slots), ids_type(copy_slots), ids_attr(window_attr_.size());
  std::vector<float> last(hp_.transition_bytes ? 1 : 0), wide(hp_.session_inputs ? 1 : 0);
  st->h.resize(h_.size()), st->c.resize(c_.size()), st->ring_k.resize(ring_k_.size());
  st->ring_v.resize(ring_v_.size()), st->z.resize(z_.size()), st->type_probs.resize(type_probs_.size());
  st->attn_w.resize(attn_w_.size()), st->session.resize(session_.size()), st->window_session.resize(copy_slots);
  struct Part {
    const char* name;
    float*      to;
    size_t      floats;
    float       lo, hi;
    bool        whole;  // counters and ids: whole numbers only
  };
  const Part parts[] = {{"h", st->h.data(), h_.size(), -kOne, kOne, false},
                        {"c", st->c.data(), c_.size(), -c_max, c_max, false},
                        {"key ring", st->ring_k.data(), ring_k_.size(), -kBig, kBig, false},
                        {"value ring", st->ring_v.data(), ring_v_.size(), -kBig, kBig, false},
                        {"z", st->z.data(), z_.size(), -kBig, kBig, false},
                        {"type probabilities", st->type_probs.data(), type_probs_.size(), 0.0f, kOne, false},
                        {"exit probability", &st->exit_prob, 1, 0.0f, kOne, false},
                        {"attention weights", st->attn_w.data(), attn_w_.size(), 0.0f, kOne, false},
                        {"session counters", st->session.data(), session_.size(), 0.0f, kMaxSessionCounter, true},
                        {"conversion wide term", wide.data(), wide.size(), -kBig, kBig, false},
                        {"window actions", ids_action.data(), copy_slots, 0.0f, float(hp_.vocab_size - 1), true},
                        {"window types", ids_type.data(), copy_slots, 0.0f, float(hp_.type_count - 1), true},
                        {"window sessions", st->window_session.data(), copy_slots, 0.0f, kMaxSessionCounter, true},
                        {"last action", last.data(), last.size(), 0.0f, float(hp_.vocab_size - 1), true},
                        {"window attributes", ids_attr.data(), window_attr_.size(), 0.0f, float(hp_.attr_values) - 1, true}};
  size_t i = 0;
  for (const Part& part : parts)
    for (size_t k = 0; k < part.floats; ++k, ++i) {
      const float v = get_at<float>(p + i * 4);
      if (Error e = check_value(v, kStateHeaderBytes + i * 4, part.name, part.lo, part.hi, part.whole, long(i)))
        return e;
      part.to[k] = v;
    }
  st->wide_conversion = wide.empty() ? 0.f : wide[0];
  st->last_action = last.empty() ? 0 : uint32_t(last[0]);
  st->window_action.assign(ids_action.begin(), ids_action.end());
  st->window_type.assign(ids_type.begin(), ids_type.end());
  st->window_attr.assign(ids_attr.begin(), ids_attr.end());
  return check_window_attrs(st->window_attr, kStateHeaderBytes + 4 * (i - window_attr_.size()), 4, true);
}

// Each window attribute in its own column's ids (checked apart: the range differs per column).
// first_offset / stride: where the first value lies and how far apart they are.
Error Sequence::check_window_attrs(const std::vector<uint32_t>& ids, size_t first_offset, size_t stride,
                                   bool v1) const {
  const AttrIndex& ai = model_.attributes();
  const size_t first_index = (first_offset - kStateHeaderBytes) / 4;
  for (size_t s = 0; s < ids.size(); ++s) {
    const uint32_t k = uint32_t(s % hp_.attr_columns), v = ids[s];
    if (v < ai.start(k) || v >= ai.start(k + 1)) {
      char at[64];
      if (v1) std::snprintf(at, sizeof at, "value %zu at offset %zu", first_index + s, first_offset + s * stride);
      else std::snprintf(at, sizeof at, "value at offset %zu", first_offset + s * stride);
      return Error(format_message("saved state: %s (window attributes) is %u, not one of column '%s''s ids [%u, %u) "
                                  "(damaged)", at, v, ai.names()[k].c_str(), ai.start(k), ai.start(k + 1)));
    }
  }
  return {};
}

Error Sequence::stage_v2(const uint8_t* bytes, size_t size, StateEncoding enc, Staged* st) const {
  const size_t W = hp_.window, K = hp_.attr_columns, Wc = copy_window_of(hp_);
  const size_t n = size_t(std::min<uint64_t>(st->count, W)), nc = size_t(std::min<uint64_t>(st->count, Wc));
  size_t at = kStateHeaderBytes;
  const size_t end = size - 4;  // the CRC
  // Every read is bounds-checked against the size the header implied (already equal to size).
  auto room = [&](size_t bytes_needed, const char* part) -> Error {
    if (bytes_needed > end - at)
      return Error(format_message("saved state: %s at offset %zu runs past the end (%zu bytes)", part, at, size));
    return {};
  };
  auto floats = [&](std::vector<float>* to, size_t len, size_t keep, const char* part, float lo, float hi,
                    bool whole) -> Error {
    to->assign(keep, 0.f);
    if (Error e = room(4 * len, part)) return e;
    for (size_t k = 0; k < len; ++k, at += 4) {
      const float v = get_at<float>(bytes + at);
      if (Error e = check_value(v, at, part, lo, hi, whole, -1)) return e;
      (*to)[k] = v;
    }
    return {};
  };
  auto ids = [&](std::vector<uint32_t>* to, size_t len, size_t keep, uint32_t fill, const char* part,
                 uint32_t max) -> Error {
    to->assign(keep, fill);
    if (Error e = room(4 * len, part)) return e;
    for (size_t k = 0; k < len; ++k, at += 4) {
      const uint32_t v = get_at<uint32_t>(bytes + at);
      if (v > max)
        return Error(format_message("saved state: value at offset %zu (%s) is %u, outside [0, %u] (damaged)", at,
                                    part, v, max));
      (*to)[k] = v;
    }
    return {};
  };
  const float c_max = float(st->count) + 1.0f;
  std::vector<float> one;
  Error e;
  if ((e = floats(&st->h, h_.size(), h_.size(), "h", -kOne, kOne, false)) ||
      (e = floats(&st->c, c_.size(), c_.size(), "c", -c_max, c_max, false)) ||
      (e = floats(&st->z, z_.size(), z_.size(), "z", -kBig, kBig, false)) ||
      (e = floats(&st->type_probs, type_probs_.size(), type_probs_.size(), "type probabilities", 0.f, kOne, false)) ||
      (e = floats(&one, 1, 1, "exit probability", 0.f, kOne, false)) ||
      (e = floats(&st->attn_w, n, W, "attention weights", 0.f, kOne, false)))
    return e;
  st->exit_prob = one[0];
  st->session.assign(session_.size(), 0.f);
  if (hp_.session_inputs) {
    if ((e = floats(&st->session, 2, 2, "session counters", 0.f, kMaxSessionCounter, true)) ||
        (e = floats(&one, 1, 1, "conversion wide term", -kBig, kBig, false)))
      return e;
    st->wide_conversion = one[0];
  }
  if (hp_.transition_bytes) {
    std::vector<uint32_t> last;
    if ((e = ids(&last, 1, 1, 0, "last action", hp_.vocab_size - 1))) return e;
    st->last_action = last[0];
  }
  const size_t copy_slots = window_action_.size();
  st->window_action.assign(copy_slots, 0), st->window_type.assign(copy_slots, 0), st->window_session.assign(copy_slots, 0.f);
  if (hp_.copy) {
    std::vector<uint32_t> sessions;
    if ((e = ids(&st->window_action, nc, Wc, 0, "window actions", hp_.vocab_size - 1)) ||
        (e = ids(&st->window_type, nc, Wc, 0, "window types", hp_.type_count - 1)) ||
        (e = ids(&sessions, nc, Wc, 0, "window sessions", uint32_t(kMaxSessionCounter))))
      return e;
    for (size_t s = 0; s < Wc; ++s) st->window_session[s] = float(sessions[s]);
  }
  st->window_attr.assign(window_attr_.size(), 0);
  if (K) {
    const size_t first = at;
    if ((e = ids(&st->window_attr, nc * K, nc * K, 0, "window attributes", hp_.attr_values - 1))) return e;
    if ((e = check_window_attrs(st->window_attr, first, 4, false))) return e;
    // Slots not yet filled hold each column's <none>, as in a fresh sequence.
    st->window_attr.resize(window_attr_.size());
    for (size_t s = nc * K; s < window_attr_.size(); ++s)
      st->window_attr[s] = model_.attributes().start(uint32_t(s % K));
  }
  st->ring_k.assign(ring_k_.size(), 0.f);
  st->ring_v.assign(ring_v_.size(), 0.f);
  std::vector<RingRows> rows;
  ring_rows(n, &rows);
  for (const RingRows& r : rows) {
    char part[48];
    if (hp_.arch == Arch::LSTM_ATTN) std::snprintf(part, sizeof part, "%s ring", r.values ? "value" : "key");
    else std::snprintf(part, sizeof part, "layer %u %s ring", r.layer, r.values ? "value" : "key");
    float* ring = (r.values ? st->ring_v : st->ring_k).data() + r.first;
    const size_t rb = row_bytes(enc, r.len);
    for (size_t s = 0; s < r.n; ++s, at += rb) {
      if ((e = room(rb, part))) return e;
      const char* why = "";
      if (!decode_row(enc, bytes + at, r.len, ring + s * r.len, &why))
        return Error(format_message("saved state: slot %zu of the %s at offset %zu: %s (damaged)", s, part, at, why));
    }
  }
  if (at != end)
    return Error(format_message("saved state: %zu bytes left over at offset %zu before the CRC", end - at, at));
  return {};
}

}  // namespace hunch
