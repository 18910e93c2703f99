// Error-code names, error-message formatting, and the CRC-32 shared by the model file and the
// saved sequence state.
#include "hunch/error.h"

#include <array>
#include <cstdarg>
#include <cstdio>

namespace hunch {

const char* error_code_name(ErrorCode c) {
  switch (c) {
    case ErrorCode::OK: return "ok";
    case ErrorCode::GENERIC: return "generic";
    case ErrorCode::STATE_FOR_OTHER_MODEL: return "state_for_other_model";
  }
  return "generic";  // a value cast from outside the enum
}

std::string format_message(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  va_list again;
  va_copy(again, args);
  char small[256];
  int n = std::vsnprintf(small, sizeof small, fmt, args);
  va_end(args);
  std::string out;
  if (n < 0) {
    out = fmt;  // an encoding error: the raw format still says what failed
  } else if (static_cast<size_t>(n) < sizeof small) {
    out.assign(small, static_cast<size_t>(n));
  } else {
    out.resize(static_cast<size_t>(n) + 1);
    std::vsnprintf(&out[0], out.size(), fmt, again);
    out.resize(static_cast<size_t>(n));
  }
  va_end(again);
  return out;
}

namespace {

// Slicing-by-4: table[k][b] is the CRC of byte b followed by k zero bytes, so four input bytes
// fold in with four lookups instead of four dependent shift loops. Built once at first use, not
// at compile time: 4 KiB of table data would otherwise ship in every .wasm download.
using CrcTables = std::array<std::array<uint32_t, 256>, 4>;

CrcTables make_crc_tables() {
  CrcTables t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t c = b;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[0][b] = c;
  }
  for (uint32_t b = 0; b < 256; ++b) {
    for (int k = 1; k < 4; ++k) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFF];
  }
  return t;
}

const CrcTables& crc_tables() {
  static const CrcTables tables = make_crc_tables();  // thread-safe one-time init
  return tables;
}

}  // namespace

uint32_t crc32(const void* data, size_t size, uint32_t crc) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  const CrcTables& t = crc_tables();
  uint32_t c = ~crc;  // zlib's convention: the running value is kept inverted
  // Bytes are assembled explicitly (not loaded as a u32) so the result is independent of host
  // byte order and of the alignment of `data`.
  while (size >= 4) {
    c ^= static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
    c = t[3][c & 0xFF] ^ t[2][(c >> 8) & 0xFF] ^
        t[1][(c >> 16) & 0xFF] ^ t[0][c >> 24];
    p += 4;
    size -= 4;
  }
  while (size--) c = t[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
  return ~c;
}

}  // namespace hunch
