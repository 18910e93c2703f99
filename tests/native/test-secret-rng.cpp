// SecretRng (native/train/secret-rng.h): ChaCha20's block function against RFC 8439's test
// vector, and the stream over it (keys, stream ids, blocks in order, uniforms).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <set>

#include "train/secret-rng.h"

using hunch::train::SecretRng;

TEST_CASE("SecretRng: ChaCha20's block function gives RFC 8439's test vector (§2.3.2)") {
  // Key 00 01 02 … 1f, block counter 1, nonce 00 00 00 09 00 00 00 4a 00 00 00 00, as
  // little-endian words after the four constants.
  const uint32_t in[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574, 0x03020100, 0x07060504,
                           0x0b0a0908, 0x0f0e0d0c, 0x13121110, 0x17161514, 0x1b1a1918, 0x1f1e1d1c,
                           0x00000001, 0x09000000, 0x4a000000, 0x00000000};
  const uint32_t want[16] = {0xe4e7f110, 0x15593bd1, 0x1fdd0f50, 0xc47120a3, 0xc7f4d1c7, 0x0368c033,
                             0x9aaa2204, 0x4e6cd4c3, 0x466482d2, 0x09aa9f07, 0x05d7c214, 0xa2028bd9,
                             0xd19c12b5, 0xb94e16de, 0xe883d0cb, 0x4e3c50a2};
  uint32_t out[16];
  SecretRng::block(in, out);
  for (int i = 0; i < 16; ++i) {
    CAPTURE(i);
    CHECK(out[i] == want[i]);
  }
}

TEST_CASE("SecretRng: the stream is the key's blocks in order; keys and stream ids part it") {
  SecretRng::Key key;
  for (uint32_t i = 0; i < 8; ++i) key[i] = 0x03020100u + 0x04040404u * i;  // 00 01 … 1f
  SecretRng a(key);
  // Block 0 of stream 0, then block 1: eight 64-bit draws each, low word first.
  for (uint32_t b = 0; b < 2; ++b) {
    const uint32_t in[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574, key[0], key[1], key[2], key[3],
                             key[4], key[5], key[6], key[7], b, 0, 0, 0};
    uint32_t out[16];
    SecretRng::block(in, out);
    for (int k = 0; k < 8; ++k) CHECK(a.next() == (uint64_t(out[2 * k + 1]) << 32 | out[2 * k]));
  }
  SecretRng same(key), other_stream(key, 1), other_key(SecretRng::test_key(1));
  const uint64_t first = same.next();
  CHECK(first != other_stream.next());
  CHECK(first != other_key.next());
  CHECK(SecretRng(SecretRng::test_key(1)).next() == SecretRng(SecretRng::test_key(1)).next());
  CHECK(SecretRng::fresh_key() != SecretRng::fresh_key());  // 256 bits each: equal by chance never
  // Uniforms in [0, 1), mean 1/2 and variance 1/12 within 5 standard errors over 100,000 draws.
  SecretRng u(SecretRng::test_key(7));
  double sum = 0, sq = 0;
  std::set<uint64_t> seen;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    const double x = u.uniform53();
    REQUIRE(x >= 0);
    REQUIRE(x < 1);
    sum += x, sq += x * x;
    seen.insert(uint64_t(x * 0x1p53));
  }
  CHECK(std::fabs(sum / n - 0.5) < 5 * std::sqrt(1.0 / 12 / n));
  CHECK(std::fabs(sq / n - sum * sum / n / n - 1.0 / 12) < 0.002);
  CHECK(seen.size() == size_t(n));  // 53-bit values: no repeat in 100,000
}

TEST_CASE("secret rng: a draw addressed by stream and block is that block's first") {
  const SecretRng::Key key = SecretRng::test_key(3);
  for (uint64_t stream : {uint64_t(0), uint64_t(1) << 63 | 17}) {
    SecretRng r(key, stream);
    // A block holds 8 draws of 64 bits: draw 8·c is block c's first.
    for (uint64_t c = 0; c < 4; ++c) {
      const double first = r.uniform53();
      for (int k = 1; k < 8; ++k) r.next();
      CHECK(SecretRng::uniform53_at(key, stream, c) == first);
    }
  }
  // Other streams, other counters and other keys draw otherwise; a 64-bit counter is addressed whole.
  CHECK(SecretRng::uniform53_at(key, 5, 9) != SecretRng::uniform53_at(key, 6, 9));
  CHECK(SecretRng::uniform53_at(key, 5, 9) != SecretRng::uniform53_at(key, 5, 10));
  CHECK(SecretRng::uniform53_at(key, 5, uint64_t(1) << 40) != SecretRng::uniform53_at(key, 5, 0));
  CHECK(SecretRng::uniform53_at(key, 5, 9) != SecretRng::uniform53_at(SecretRng::test_key(4), 5, 9));
}
