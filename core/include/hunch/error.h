// Error: the core's only failure channel. The core throws no exceptions and never aborts on
// bad input; a function that can fail returns an Error whose message names the problem (field,
// offset, value) in words a user can act on. An empty message means success.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace hunch {

struct Error {
  std::string message;

  Error() = default;
  explicit Error(std::string m) : message(std::move(m)) {}

  bool ok() const { return message.empty(); }
  explicit operator bool() const { return !message.empty(); }  // true = there is an error
};

// printf-style message builder for errors (keeps call sites short).
std::string format_message(const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

// CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320), as zlib's crc32(): used by the model file
// and the saved sequence state.
uint32_t crc32(const void* data, size_t size, uint32_t crc = 0);

}  // namespace hunch
