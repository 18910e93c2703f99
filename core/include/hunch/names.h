// Front-coded action names (the u8 tensor vocab.actions.fc, docs/format.md): the vocabulary of a
// large catalogue in about a quarter of the bytes of hunch.vocab.actions, read in place.
//
// Ids 1..V-1 are in increasing byte order of their names (the writer renumbers the actions so:
// `hunch quantize --front-code-names`), so no permutation is stored and a name's id is a binary
// search; id 0 (the unknown entry) is stored on its own. The sorted names sit in blocks of 16:
// a block's first name whole, each next one as (bytes shared with the previous name, the rest).
//
//   u32 V | u32 offset[ceil((V-1)/16)] | varint len, name 0 | blocks
//   block: varint len, name | 15 × (varint shared, varint len, suffix)   (fewer in the last)
//
// offset[k] is block k's byte offset from the start of the tensor. Integers little-endian,
// varints LEB128 (hunch/transitions.h's). open() checks every offset and every name before
// anything reads one, so name() and find() need no checks of their own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hunch/error.h"

namespace hunch {

constexpr uint32_t kNamesPerBlock = 16;
constexpr char     kActionsFcTensor[] = "vocab.actions.fc";  // the tensor that holds a model's names so

// Encodes names (id order) as above. Refuses names[1..] not strictly increasing (byte order), a
// name with a NUL byte or over kMaxStringBytes, and names[0] equal to another name.
Error encode_front_coded(const std::vector<std::string>& names, std::vector<uint8_t>* out);

class FrontCodedNames {
 public:
  // Checks the block (`what` names it in errors, with the byte offset): V in [1, max_names],
  // the offset table inside the tensor, every offset the end of the block before it (the last
  // block ending at the tensor's end), every varint complete, every name inside the tensor, at
  // most kMaxStringBytes, without NUL, ids 1..V-1 strictly increasing and name 0 none of them.
  // On success the view reads `data` (which must outlive it).
  Error open(const uint8_t* data, size_t size, uint32_t max_names, const char* what);
  uint32_t size() const { return count_; }
  std::string name(uint32_t id) const;          // id < size()
  uint32_t find(std::string_view name) const;   // its id; 0 for name 0 or a name not there
  std::vector<std::string> all() const;         // every name, id order

 private:
  uint32_t offset(uint32_t block) const;
  std::string_view head(uint32_t block) const;  // a block's first name, in place
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  uint32_t count_ = 0, blocks_ = 0;
};

}  // namespace hunch
