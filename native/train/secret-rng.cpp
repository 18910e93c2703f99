// SecretRng (secret-rng.h): ChaCha20's block function and the stream over it.
#include "train/secret-rng.h"

#include <random>

namespace hunch::train {

namespace {

inline uint32_t rotl(uint32_t v, int c) { return (v << c) | (v >> (32 - c)); }

inline void quarter_round(uint32_t* x, int a, int b, int c, int d) {
  x[a] += x[b], x[d] = rotl(x[d] ^ x[a], 16);
  x[c] += x[d], x[b] = rotl(x[b] ^ x[c], 12);
  x[a] += x[b], x[d] = rotl(x[d] ^ x[a], 8);
  x[c] += x[d], x[b] = rotl(x[b] ^ x[c], 7);
}

}  // namespace

void SecretRng::block(const uint32_t in[16], uint32_t out[16]) {
  uint32_t x[16];
  for (int i = 0; i < 16; ++i) x[i] = in[i];
  for (int round = 0; round < 10; ++round) {  // 10 double rounds: columns, then diagonals
    quarter_round(x, 0, 4, 8, 12), quarter_round(x, 1, 5, 9, 13);
    quarter_round(x, 2, 6, 10, 14), quarter_round(x, 3, 7, 11, 15);
    quarter_round(x, 0, 5, 10, 15), quarter_round(x, 1, 6, 11, 12);
    quarter_round(x, 2, 7, 8, 13), quarter_round(x, 3, 4, 9, 14);
  }
  for (int i = 0; i < 16; ++i) out[i] = x[i] + in[i];
}

SecretRng::SecretRng(const Key& key, uint64_t stream) {
  // "expand 32-byte k", the key, a 64-bit block counter (words 12-13), the stream id (14-15).
  state_[0] = 0x61707865, state_[1] = 0x3320646e, state_[2] = 0x79622d32, state_[3] = 0x6b206574;
  for (int i = 0; i < 8; ++i) state_[4 + i] = key[size_t(i)];
  state_[12] = state_[13] = 0;
  state_[14] = uint32_t(stream), state_[15] = uint32_t(stream >> 32);
}

double SecretRng::uniform53_at(const Key& key, uint64_t stream, uint64_t counter) {
  SecretRng r(key, stream);
  r.state_[12] = uint32_t(counter), r.state_[13] = uint32_t(counter >> 32);
  return r.uniform53();
}

void SecretRng::refill() {
  block(state_, buf_);
  if (++state_[12] == 0) ++state_[13];
  at_ = 0;
}

SecretRng::Key SecretRng::fresh_key() {
  std::random_device rd;
  Key k;
  for (uint32_t& w : k) w = uint32_t(rd());
  return k;
}

SecretRng::Key SecretRng::test_key(uint64_t seed) {
  Key k;
  for (size_t i = 0; i < k.size(); ++i) {
    seed += 0x9E3779B97F4A7C15ull;  // splitmix64's steps: any fixed expansion will do here
    uint64_t z = seed;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    k[i] = uint32_t(z ^ (z >> 31));
  }
  return k;
}

}  // namespace hunch::train
