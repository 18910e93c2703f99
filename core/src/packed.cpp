// Int4 rows with logarithmic row scales and u8-coded vectors: hunch/packed.h.
#include "hunch/packed.h"

#include <algorithm>
#include <cmath>

namespace hunch {

float int4_scale(float top, uint8_t code) {
  // 2^(-e/16) = 2^(-q) · 2^(r/16) with e = 255 − code, q = ⌈e/16⌉, r = 16q − e: a table of the
  // 16 fractional octaves (floats rounded to nearest) and an exact power of two, so the writer
  // (native libm) and every reader (WASM) compute the same scale bit for bit, without exp2.
  static const float kOctave[16] = {1.0f, 1.0442737340927124f, 1.0905077457427979f, 1.1387885808944702f,
                                    1.1892070770263672f, 1.2418577671051025f, 1.2968395948410034f,
                                    1.3542555570602417f, 1.4142135381698608f, 1.4768261909484863f,
                                    1.5422108173370361f, 1.610490322113037f, 1.6817928552627563f,
                                    1.7562521696090698f, 1.8340080976486206f, 1.9152065515518188f};
  const int e = 255 - int(code), q = (e + kInt4ScaleSteps - 1) / kInt4ScaleSteps, r = q * kInt4ScaleSteps - e;
  return std::ldexp(top * kOctave[r], -q);
}

namespace {

int8_t quantize_one(float x, float inv) {
  float v = std::nearbyint(x * inv);  // default rounding mode: half to even
  return int8_t(std::min(7.f, std::max(-7.f, v)));
}

}  // namespace

float quantize_rows_int4(size_t rows, size_t cols, const float* w, uint8_t* packed, uint8_t* codes, float* top) {
  const size_t rb = int4_row_bytes(cols);
  float t = 0;
  for (size_t k = 0; k < rows * cols; ++k) {
    if (!std::isfinite(w[k])) return std::nanf("");
    t = std::max(t, std::fabs(w[k]) / 7.f);
  }
  if (t == 0) t = 1;
  *top = t;
  float worst = 0;
  for (size_t r = 0; r < rows; ++r) {
    const float* x = w + r * cols;
    float maxabs = 0;
    for (size_t c = 0; c < cols; ++c) maxabs = std::max(maxabs, std::fabs(x[c]));
    // The smallest code whose scale covers max|row| / 7 (no clipping), then up to 12 codes finer:
    // a finer grid clips the largest value but may round the rest closer (least squares).
    int c0 = 0;
    if (maxabs > 0) {
      c0 = 255 + int(std::ceil(std::log2(maxabs / 7.f / t) * kInt4ScaleSteps));
      c0 = std::min(255, std::max(0, c0));
      while (c0 < 255 && int4_scale(t, uint8_t(c0)) * 7.f < maxabs) ++c0;  // log2/ceil rounding
    }
    int best = c0;
    double best_err = INFINITY;
    for (int code = c0; code >= std::max(0, c0 - 12) && maxabs > 0; --code) {
      const float s = int4_scale(t, uint8_t(code)), inv = 1.f / s;
      double err = 0;
      for (size_t c = 0; c < cols; ++c) {
        const double d = double(x[c]) - double(quantize_one(x[c], inv)) * double(s);
        err += d * d;
      }
      if (err < best_err) best_err = err, best = code;
    }
    codes[r] = uint8_t(best);
    const float s = int4_scale(t, uint8_t(best)), inv = 1.f / s;
    uint8_t* p = packed + r * rb;
    std::fill(p, p + rb, uint8_t(0));
    for (size_t c = 0; c < cols; ++c) {
      const int8_t q = quantize_one(x[c], inv);
      p[c / 2] |= uint8_t((uint8_t(q) & 0xF) << (c % 2 ? 4 : 0));
      worst = std::max(worst, std::fabs(x[c] - float(q) * s));
    }
  }
  return worst;
}

Error decode_rows_int4(size_t rows, size_t cols, const uint8_t* packed, const uint8_t* codes, float top,
                       const std::string& what, int8_t* q, float* scales) {
  if (!std::isfinite(top) || !(top > 0))
    return Error(format_message("%s: the largest row scale %g must be finite and > 0", what.c_str(), double(top)));
  const size_t rb = int4_row_bytes(cols);
  for (size_t r = 0; r < rows; ++r) {
    scales[r] = int4_scale(top, codes[r]);
    const uint8_t* p = packed + r * rb;
    int8_t* out = q + r * cols;
    for (size_t b = 0; b < rb; ++b) {
      const uint8_t lo = p[b] & 0xF, hi = p[b] >> 4;
      const bool pad = 2 * b + 1 == cols;  // the high nibble of an odd row's last byte
      if (lo == 8 || hi == 8 || (pad && hi != 0))
        return Error(format_message("%s: row %zu, byte offset %zu holds 0x%02x: %s", what.c_str(), r, r * rb + b,
                                    p[b], pad && hi != 0 ? "the padding nibble of an odd row must be 0"
                                                         : "int4 codes are in [-7, 7] (the nibble 8 is not used)"));
      out[2 * b] = int8_t(int(lo ^ 8) - 8);
      if (!pad) out[2 * b + 1] = int8_t(int(hi ^ 8) - 8);
    }
  }
  return {};
}

float quantize_u8_table(size_t n, const float* x, uint8_t* codes, std::vector<float>* table) {
  std::vector<float> v(x, x + n);
  for (float a : v)
    if (!std::isfinite(a)) return std::nanf("");
  std::sort(v.begin(), v.end());
  std::vector<float>& t = *table;
  t.assign(v.begin(), v.end());
  t.erase(std::unique(t.begin(), t.end()), t.end());
  if (t.empty()) t.push_back(0);
  if (t.size() > 256) {
    // Lloyd in one dimension over the sorted values: centres on the even grid from min to max
    // (so the squared error never exceeds an affine u8 code's: Lloyd rounds only lower it), then
    // each centre the mean of the values nearer it than its neighbours, until nothing moves (or
    // 50 rounds). The extremes (a catalogue's most popular actions) keep close centres.
    t.resize(256);
    for (size_t k = 0; k < 256; ++k) t[k] = v.front() + (v.back() - v.front()) * float(k) / 255.f;
    for (int round = 0; round < 50; ++round) {
      std::vector<double> sum(256, 0);
      std::vector<size_t> count(256, 0);
      size_t k = 0;
      for (float a : v) {
        while (k + 1 < 256 && std::fabs(t[k + 1] - a) <= std::fabs(a - t[k])) ++k;
        sum[k] += a;
        ++count[k];
      }
      bool moved = false;
      for (size_t j = 0; j < 256; ++j) {
        if (!count[j]) continue;
        const float c = float(sum[j] / double(count[j]));
        moved |= c != t[j];
        t[j] = c;
      }
      std::sort(t.begin(), t.end());
      if (!moved) break;
    }
  }
  float worst = 0;
  for (size_t i = 0; i < n; ++i) {
    // The nearest value: the first not below x, or the one before it.
    size_t k = size_t(std::lower_bound(t.begin(), t.end(), x[i]) - t.begin());
    if (k == t.size() || (k > 0 && x[i] - t[k - 1] <= t[k] - x[i])) --k;
    codes[i] = uint8_t(k);
    worst = std::max(worst, std::fabs(x[i] - t[k]));
  }
  return worst;
}

Error decode_u8_table(size_t n, const uint8_t* codes, const std::vector<float>& table, const std::string& what,
                      float* x) {
  if (table.empty() || table.size() > 256)
    return Error(format_message("%s: the table has %zu values (1 to 256)", what.c_str(), table.size()));
  for (size_t k = 0; k < table.size(); ++k)
    if (!std::isfinite(table[k]))
      return Error(format_message("%s: table value %zu is %g (must be finite)", what.c_str(), k, double(table[k])));
  for (size_t i = 0; i < n; ++i) {
    if (codes[i] >= table.size())
      return Error(format_message("%s: byte offset %zu holds code %u, the table has %zu values", what.c_str(), i,
                                  unsigned(codes[i]), table.size()));
    x[i] = table[codes[i]];
  }
  return {};
}

}  // namespace hunch
