// Front-coded action names (hunch/names.h).
#include "hunch/names.h"

#include <algorithm>
#include <cstring>

#include "hunch/format.h"
#include "varint.h"

namespace hunch {

namespace {

uint32_t get_u32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

void put_u32(uint32_t v, std::vector<uint8_t>* out) {
  for (int k = 0; k < 4; ++k) out->push_back(uint8_t(v >> (8 * k)));
}

uint32_t block_count(uint32_t V) { return V <= 1 ? 0 : (V - 1 + kNamesPerBlock - 1) / kNamesPerBlock; }

// Reads one name at *pos into *name: whole (first of a block) or as (shared, suffix) on the name
// before it. Checked; "" on success, else what is wrong. Callers that ran open() may ignore it.
const char* read_name(const uint8_t* data, size_t end, size_t* pos, bool whole, std::string* name) {
  uint32_t shared = 0, len = 0;
  if (!whole) {
    if (!get_varint(data, end, pos, &shared)) return "a shared-prefix length is cut off or malformed";
    if (shared > name->size()) return "a shared-prefix length is longer than the name before it";
  }
  if (!get_varint(data, end, pos, &len)) return "a name length is cut off or malformed";
  if (uint64_t(shared) + len > kMaxStringBytes) return "a name is longer than the 4096-byte limit";
  if (len > end - *pos) return "a name runs past the end of its block";
  name->resize(shared);
  name->append(reinterpret_cast<const char*>(data + *pos), len);
  *pos += len;
  return "";
}

}  // namespace

Error encode_front_coded(const std::vector<std::string>& names, std::vector<uint8_t>* out) {
  out->clear();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].size() > kMaxStringBytes || names[i].find('\0') != std::string::npos)
      return Error(format_message("front-coded names: name %zu is over %u bytes or contains a NUL byte", i,
                                  kMaxStringBytes));
    if (i >= 2 && !(names[i - 1] < names[i]))
      return Error(format_message("front-coded names: name %zu '%.64s' is not after name %zu '%.64s' in byte "
                                  "order", i, names[i].c_str(), i - 1, names[i - 1].c_str()));
  }
  if (names.empty() || names.size() > 0xffffffffu) return Error("front-coded names: need 1 to 2^32 - 1 names");
  const uint32_t V = uint32_t(names.size()), B = block_count(V);
  put_u32(V, out);
  const size_t table = out->size();
  out->resize(table + 4 * size_t(B));
  put_varint(uint32_t(names[0].size()), out);
  out->insert(out->end(), names[0].begin(), names[0].end());
  for (uint32_t i = 1; i < V; ++i) {
    const std::string& s = names[i];
    if ((i - 1) % kNamesPerBlock == 0) {
      const size_t at = out->size();
      if (at > 0xffffffffu) return Error("front-coded names: more than 4 GiB");
      for (int k = 0; k < 4; ++k) (*out)[table + 4 * ((i - 1) / kNamesPerBlock) + k] = uint8_t(at >> (8 * k));
      put_varint(uint32_t(s.size()), out);
      out->insert(out->end(), s.begin(), s.end());
      continue;
    }
    const std::string& p = names[i - 1];
    size_t shared = 0;
    while (shared < p.size() && shared < s.size() && p[shared] == s[shared]) ++shared;
    put_varint(uint32_t(shared), out);
    put_varint(uint32_t(s.size() - shared), out);
    out->insert(out->end(), s.begin() + shared, s.end());
  }
  FrontCodedNames check;  // name 0 must not be one of the sorted names (it would have two ids)
  if (Error e = check.open(out->data(), out->size(), V, "front-coded names")) return e;
  return {};
}

Error FrontCodedNames::open(const uint8_t* data, size_t size, uint32_t max_names, const char* what) {
  *this = FrontCodedNames();
  if (size < 4) return Error(format_message("%s: %zu bytes, too short for the name count", what, size));
  const uint32_t V = get_u32(data), B = block_count(V);
  if (V < 1 || V > max_names)
    return Error(format_message("%s: name count %u at byte 0 is out of range [1, %u]", what, V, max_names));
  const size_t table_end = 4 + 4 * size_t(B);
  if (table_end > size)
    return Error(format_message("%s: the offset table of %u blocks (bytes 4..%zu) runs past the end (%zu bytes)",
                                what, B, table_end, size));
  std::string prev, cur, name0;
  size_t pos = table_end;
  if (const char* bad = read_name(data, size, &pos, true, &name0); *bad)
    return Error(format_message("%s: name 0 at byte %zu: %s", what, table_end, bad));
  for (uint32_t k = 0; k < B; ++k) {
    const size_t off = get_u32(data + 4 + 4 * size_t(k));
    if (off != pos)
      return Error(format_message("%s: offset[%u] (byte %zu) is %zu, but the names before it end at byte %zu",
                                  what, k, 4 + 4 * size_t(k), off, pos));
    const uint32_t first = 1 + k * kNamesPerBlock;
    const uint32_t last = uint32_t(std::min<uint64_t>(V, uint64_t(first) + kNamesPerBlock));
    for (uint32_t id = first; id < last; ++id) {
      const size_t at = pos;
      if (const char* bad = read_name(data, size, &pos, id == first, &cur); *bad)
        return Error(format_message("%s: name %u at byte %zu: %s", what, id, at, bad));
      if (cur.find('\0') != std::string::npos)
        return Error(format_message("%s: name %u at byte %zu contains a NUL byte", what, id, at));
      if (id > 1 && !(prev < cur))
        return Error(format_message("%s: name %u '%.64s' at byte %zu is not after name %u '%.64s' in byte order "
                                    "(a duplicate or out of order)", what, id, cur.c_str(), at, id - 1, prev.c_str()));
      prev = cur;  // cur stays: the next name's shared prefix is read against it
    }
  }
  if (pos != size)
    return Error(format_message("%s: %zu bytes left over after the last name (byte %zu)", what, size - pos, pos));
  if (name0.find('\0') != std::string::npos)
    return Error(format_message("%s: name 0 contains a NUL byte", what));
  data_ = data;
  size_ = size;
  count_ = V;
  blocks_ = B;
  if (B && find(name0) != 0) {
    const uint32_t dup = find(name0);
    *this = FrontCodedNames();
    return Error(format_message("%s: name 0 '%.64s' is also name %u", what, name0.c_str(), dup));
  }
  return {};
}

uint32_t FrontCodedNames::offset(uint32_t block) const { return get_u32(data_ + 4 + 4 * size_t(block)); }

std::string_view FrontCodedNames::head(uint32_t block) const {
  size_t pos = offset(block);
  uint32_t len = 0;
  get_varint(data_, size_, &pos, &len);
  return std::string_view(reinterpret_cast<const char*>(data_ + pos), len);
}

std::string FrontCodedNames::name(uint32_t id) const {
  std::string s;
  if (id >= count_) return s;
  size_t pos;
  if (id == 0) {
    pos = 4 + 4 * size_t(blocks_);
    read_name(data_, size_, &pos, true, &s);
    return s;
  }
  const uint32_t k = (id - 1) / kNamesPerBlock;
  pos = offset(k);
  for (uint32_t i = 1 + k * kNamesPerBlock; i <= id; ++i) read_name(data_, size_, &pos, i == 1 + k * kNamesPerBlock, &s);
  return s;
}

uint32_t FrontCodedNames::find(std::string_view name) const {
  if (!count_) return 0;
  // The last block whose first name is <= name.
  uint32_t lo = 0, hi = blocks_;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    if (head(mid) <= name) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0) return 0;
  const uint32_t k = lo - 1, first = 1 + k * kNamesPerBlock;
  const uint32_t last = uint32_t(std::min<uint64_t>(count_, uint64_t(first) + kNamesPerBlock));
  size_t pos = offset(k);
  std::string s;
  for (uint32_t id = first; id < last; ++id) {
    read_name(data_, size_, &pos, id == first, &s);
    const int c = std::string_view(s).compare(name);
    if (c == 0) return id;
    if (c > 0) break;
  }
  return 0;
}

std::vector<std::string> FrontCodedNames::all() const {
  std::vector<std::string> out;
  out.reserve(count_);
  if (!count_) return out;
  out.push_back(name(0));
  std::string s;
  for (uint32_t k = 0; k < blocks_; ++k) {
    size_t pos = offset(k);
    const uint32_t first = 1 + k * kNamesPerBlock;
    const uint32_t last = uint32_t(std::min<uint64_t>(count_, uint64_t(first) + kNamesPerBlock));
    for (uint32_t id = first; id < last; ++id) {
      read_name(data_, size_, &pos, id == first, &s);
      out.push_back(s);
    }
  }
  return out;
}

}  // namespace hunch
