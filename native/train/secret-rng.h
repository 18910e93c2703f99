// SecretRng: the random stream of differentially private training's noise and user sampling
// (privacy.h dp_counts, trainer.cpp's DP steps): ChaCha20 (the block function of RFC 8439, with
// a 64-bit block counter and a 64-bit stream id) keyed by 256 bits from the operating system.
//
// Why not hunch::Rng (splitmix64), as for everything reproducible: one splitmix64 output gives
// its state away, and with it every later output. DP's threat model lets an attacker know every
// other user's data, so one noise value they could work out (a cell no target user touched) would
// give them every other noise value to subtract. A ChaCha20 output does not reveal its key.
#pragma once

#include <array>
#include <cstdint>

namespace hunch::train {

class SecretRng {
 public:
  using Key = std::array<uint32_t, 8>;
  explicit SecretRng(const Key& key, uint64_t stream = 0);
  // A key from std::random_device (the operating system's random source).
  static Key fresh_key();
  // A key made from a number: NOT secret, for tests that need a repeatable stream.
  static Key test_key(uint64_t seed);

  uint64_t next() {
    if (at_ + 2 > 16) refill();
    const uint64_t lo = buf_[at_], hi = buf_[at_ + 1];
    at_ += 2;
    return hi << 32 | lo;
  }
  // [0, 1) with 53 bits.
  double uniform53() { return double(next() >> 11) * 0x1p-53; }

  // [0, 1) with 53 bits from the one block at (stream, counter) of the key's streams: a draw
  // addressed by name (a user's in one step, trainer.cpp under --shard), not by its place in a
  // stream, so processes that hold different users draw each user's alike.
  static double uniform53_at(const Key& key, uint64_t stream, uint64_t counter);

  // ChaCha20's block function: 20 rounds over `in` (constants, key, counter, nonce), then `in`
  // added word by word (RFC 8439 §2.3).
  static void block(const uint32_t in[16], uint32_t out[16]);

 private:
  void refill();
  uint32_t state_[16];
  uint32_t buf_[16];
  unsigned at_ = 16;
};

}  // namespace hunch::train
