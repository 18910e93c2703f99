// Error: the core's only failure channel. The core throws no exceptions and never aborts on
// bad input; a function that can fail returns an Error whose message names the problem (field,
// offset, value) in words a user can act on. An empty message means success. The code says
// what kind of failure it is, for callers that act on it (the SDK drops a state saved for
// another model silently): they branch on the code, never on the message's wording.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace hunch {

// Kinds of failure a caller may act on. Values and names (error_code_name) are stable: the
// WASM bindings hand the name to the SDK. GENERIC is every failure without a kind of its own.
enum class ErrorCode : uint32_t {
  OK                    = 0,  // no error
  GENERIC               = 1,
  STATE_FOR_OTHER_MODEL = 2,  // Sequence::restore: the state carries another model's checksum
};
// "ok", "generic", "state_for_other_model".
const char* error_code_name(ErrorCode c);

struct Error {
  std::string message;
  ErrorCode   code = ErrorCode::OK;

  Error() = default;
  // A non-empty message is a failure of kind c; an empty one is success (code OK).
  explicit Error(std::string m, ErrorCode c = ErrorCode::GENERIC)
      : message(std::move(m)), code(message.empty() ? ErrorCode::OK : c) {}

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
