// LEB128 varints as the core's encoded tables store them (transition.table, vocab.actions.fc):
// 7 bits a byte, low first, at most 5 bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hunch {

inline void put_varint(uint32_t v, std::vector<uint8_t>* out) {
  while (v >= 0x80) {
    out->push_back(uint8_t(v | 0x80));
    v >>= 7;
  }
  out->push_back(uint8_t(v));
}

// Reads a varint at data[*pos] (each byte checked against size). False when it runs past size or
// past 5 bytes or above 2^32 - 1.
inline bool get_varint(const uint8_t* data, size_t size, size_t* pos, uint32_t* out) {
  uint64_t v = 0;
  for (int k = 0; k < 5; ++k) {
    if (*pos >= size) return false;
    const uint8_t b = data[(*pos)++];
    v |= uint64_t(b & 0x7f) << (7 * k);
    if (!(b & 0x80)) {
      if (v > 0xffffffffu) return false;
      *out = uint32_t(v);
      return true;
    }
  }
  return false;
}

}  // namespace hunch
