// Rng: the one pseudo-random stream of hunch (splitmix64) — the trainer's initialisation,
// shuffling and dropout, the shop simulator, and the tests' random inputs. Small, fast, and the
// same numbers on every platform, which <random>'s distributions are not. The core's inference
// path draws nothing; this header is here so every part draws from the same definition.
#pragma once

#include <cmath>
#include <cstdint>

namespace hunch {

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}

  // An independent stream for (seed, a, b, c): results that do not depend on which thread or
  // in what order the streams are drawn.
  static Rng derive(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0) {
    uint64_t s = Rng(seed ^ 0x6A09E667F3BCC909ull).next() ^ (a * 0xD1B54A32D192ED03ull);
    s = Rng(s).next() ^ (b * 0x8CB92BA72F3D8DD7ull);
    s = Rng(s).next() ^ (c * 0xA0761D6478BD642Full);
    return Rng(s);
  }

  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // [0, 1) with 24 bits: a float's worth, for weights and masks.
  float uniform() { return float(next() >> 40) * (1.0f / 16777216.0f); }
  // [0, 1) with 53 bits: for inverting CDFs over a million classes (24 bits would leave gaps
  // between the reachable ones) and for the simulator's double-precision draws.
  double uniform53() { return double(next() >> 11) * 0x1p-53; }
  // [0, n), n > 0 (modulo: the bias is below 2^-40 for the sizes drawn here).
  uint64_t below(uint64_t n) { return next() % n; }
  // Standard normal (Box-Muller on two floats; one value per call keeps the stream simple to
  // reproduce).
  float normal() {
    float u1 = uniform(), u2 = uniform();
    if (u1 < 1e-12f) u1 = 1e-12f;
    return std::sqrt(-2.0f * std::log(u1)) * std::cos(6.2831853071795864f * u2);
  }

 private:
  uint64_t s_;
};

}  // namespace hunch
