// The .hunch container (docs/format.md): reader with every validation check, and the writer.
//
// The reader's order of checks is chosen so that each kind of damage gets the message that
// helps most:
//   1. what the file is: empty / too short, magic (with a hint for HTML, Git LFS, JSON, gzip,
//      zip, ...), version, byte order: a wrong file is not a corrupted file;
//   2. file_size against the bytes actually given: truncated or trailing bytes. A truncated file
//      is parsed as far as it goes so the message says where the cut falls;
//   3. the CRC: once the file is known to be a complete hunch file, any flipped byte is most
//      likely transfer damage and is reported as such, not as whatever field it landed in;
//   4. the structure (flags, counts, data_offset, metadata, tensor table, blocks, int8 scales),
//      which is checked in full even when the CRC check is skipped (the fuzzer relies on it).
// Only after all of that does it require the buffer to be 4-byte aligned (the f32 views).
#include "hunch/format.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <unordered_map>
#include <utility>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the tensor views alias little-endian file bytes as floats: big-endian hosts unsupported"
#endif

namespace hunch {

namespace {

using ull = unsigned long long;  // printf's %llu, whatever uint64_t is on the host

constexpr uint64_t kCrcBytes = 4;
constexpr uint32_t kSwappedEndianMarker = 0x04030201;

uint32_t load_u32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

uint64_t load_u64(const uint8_t* p) {
  return static_cast<uint64_t>(load_u32(p)) | static_cast<uint64_t>(load_u32(p + 4)) << 32;
}

float load_f32(const uint8_t* p) {
  uint32_t bits = load_u32(p);
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

uint32_t bswap32(uint32_t v) {
  return (v >> 24) | ((v >> 8) & 0xFF00u) | ((v << 8) & 0xFF0000u) | (v << 24);
}

bool align64_checked(uint64_t x, uint64_t* out) {
  uint64_t padded;
  if (__builtin_add_overflow(x, uint64_t{kTensorAlignment - 1}, &padded)) return false;
  *out = padded & ~uint64_t{kTensorAlignment - 1};
  return true;
}

// Bytes as they can be shown in a message: printable ASCII as is, the rest as \xNN.
std::string escape(const uint8_t* p, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    uint8_t c = p[i];
    if (c >= 0x20 && c < 0x7F && c != '\\' && c != '\'') {
      s += static_cast<char>(c);
    } else {
      s += format_message("\\x%02x", c);
    }
  }
  return s;
}

std::string escape(const std::string& s) {
  return escape(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::string dims_text(const std::vector<uint64_t>& shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += " x ";
    s += format_message("%llu", static_cast<ull>(shape[i]));
  }
  return s;
}

bool starts_with(const uint8_t* p, size_t n, const char* prefix, bool fold_case) {
  size_t len = std::strlen(prefix);
  if (n < len) return false;
  for (size_t i = 0; i < len; ++i) {
    uint8_t c = p[i];
    if (fold_case && c >= 'A' && c <= 'Z') c = static_cast<uint8_t>(c - 'A' + 'a');
    if (c != static_cast<uint8_t>(prefix[i])) return false;
  }
  return true;
}

// The magic did not match: say what the bytes look like, since the usual cause is that
// something other than the model (an error page, a pointer file, a compressed copy) arrived.
Error not_a_model(const uint8_t* d, size_t n) {
  std::string msg = "not a hunch model: file starts with '" + escape(d, n < 4 ? n : 4) + "'";
  // Text formats may start with a UTF-8 byte-order mark or blank lines.
  size_t t = 0;
  if (starts_with(d, n, "\xEF\xBB\xBF", false)) t = 3;
  while (t < n && t < 256 && (d[t] == ' ' || d[t] == '\t' || d[t] == '\r' || d[t] == '\n')) ++t;
  const uint8_t* text = d + t;
  size_t text_n = n - t;
  const char* hint = nullptr;
  static const char* const kHtml[] = {"<!do", "<htm", "<?xm", "<hea", "<bod", "<tit", "<met"};
  for (const char* tag : kHtml) {
    if (starts_with(text, text_n, tag, true)) {
      hint = "looks like an HTML page — did the server return an error page instead of the "
             "model?";
    }
  }
  if (!hint && starts_with(d, n, "version https://git-lfs", false)) {
    hint = "a Git LFS pointer file, not the model: run `git lfs pull`";
  } else if (!hint && text_n > 0 && (text[0] == '{' || text[0] == '[')) {
    hint = "looks like JSON — an API error response or a manifest instead of the model?";
  } else if (!hint && starts_with(d, n, "\x1F\x8B", false)) {
    hint = "gzip-compressed: serve it with Content-Encoding or decompress it first";
  } else if (!hint && starts_with(d, n, "PK", false)) {
    hint = "a zip archive: extract the .hunch file from it first";
  } else if (!hint && starts_with(d, n, "HNST", false)) {
    hint = "a saved sequence state, not a model";
  } else if (!hint && n >= 4 && std::memcmp(d, "\0asm", 4) == 0) {
    hint = "a WebAssembly module: the .wasm was passed instead of the model?";
  } else if (!hint && starts_with(d, n, "GGUF", false)) {
    hint = "a GGUF (llama.cpp) model, not a hunch model";
  }
  if (hint) msg += format_message(" (%s)", hint);
  return Error(msg);
}

struct Header {
  uint32_t version = 0, endian = 0, flags = 0, n_metadata = 0, n_tensors = 0;
  uint64_t file_size = 0, data_offset = 0;
};

Header read_header(const uint8_t* d) {
  Header h;
  h.version = load_u32(d + 4);
  h.endian = load_u32(d + 8);
  h.flags = load_u32(d + 12);
  h.file_size = load_u64(d + 16);
  h.n_metadata = load_u32(d + 24);
  h.n_tensors = load_u32(d + 28);
  h.data_offset = load_u64(d + 32);
  return h;
}

// Reads forward through [pos, limit). need() is called before every read, so a read can never
// leave the region, and the region never leaves the buffer.
struct Cursor {
  const uint8_t* data = nullptr;
  uint64_t       pos = 0;
  uint64_t       limit = 0;  // invariant: pos <= limit <= bytes available
  std::string    limit_what; // "the tensor data start (data_offset 640)", for messages

  uint64_t left() const { return limit - pos; }
  Error need(const std::string& ctx, const std::string& field, uint64_t n) const {
    if (n <= left()) return Error();
    return Error(format_message("%s: %s of %llu bytes at offset %llu runs past %s", ctx.c_str(),
                                field.c_str(), static_cast<ull>(n), static_cast<ull>(pos),
                                limit_what.c_str()));
  }
  uint32_t u32() { uint32_t v = load_u32(data + pos); pos += 4; return v; }
  uint64_t u64() { uint64_t v = load_u64(data + pos); pos += 8; return v; }
  float    f32() { float v = load_f32(data + pos); pos += 4; return v; }
  std::string bytes(uint64_t n) {
    std::string s(reinterpret_cast<const char*>(data + pos), static_cast<size_t>(n));
    pos += n;
    return s;
  }
};

// A length-prefixed string: the length is checked against its limit and against the bytes
// left before anything is copied. `item` >= 0 names an array item; the field's label is only
// built on the error path (a 100k-action vocabulary must not format 100k labels to load).
Error read_string(Cursor& c, const std::string& ctx, const char* field, int64_t item,
                  uint32_t max_len, std::string* out) {
  auto label = [&](const char* suffix) {
    std::string l = field;
    if (item >= 0) l += format_message(" item %lld", static_cast<long long>(item));
    return l + suffix;
  };
  if (c.left() < 4) return c.need(ctx, label(" length"), 4);
  uint64_t at = c.pos;
  uint32_t len = c.u32();
  if (len > max_len) {
    return Error(format_message("%s: %s length %u at offset %llu exceeds %u", ctx.c_str(),
                                label("").c_str(), len, static_cast<ull>(at), max_len));
  }
  if (c.left() < len) return c.need(ctx, label(""), len);
  out->assign(reinterpret_cast<const char*>(c.data + c.pos), len);
  c.pos += len;
  return Error();
}

// Keys and tensor names: 1..256 bytes, no NUL (they are shown and compared as C strings by
// tools and the JS side).
Error read_name(Cursor& c, const std::string& ctx, const char* field, std::string* out) {
  if (Error e = c.need(ctx, std::string(field) + " length", 4)) return e;
  uint32_t len = load_u32(c.data + c.pos);
  if (len == 0) {
    return Error(format_message("%s: %s is empty (length 0 at offset %llu)", ctx.c_str(), field,
                                static_cast<ull>(c.pos)));
  }
  if (len > kMaxKeyBytes) {
    return Error(format_message("%s: %s length %u exceeds %u", ctx.c_str(), field, len,
                                kMaxKeyBytes));
  }
  if (Error e = read_string(c, ctx, field, -1, kMaxKeyBytes, out)) return e;
  size_t nul = out->find('\0');
  if (nul != std::string::npos) {
    return Error(format_message("%s: %s '%s' contains a NUL byte at offset %llu", ctx.c_str(),
                                field, escape(*out).c_str(),
                                static_cast<ull>(c.pos - out->size() + nul)));
  }
  return Error();
}

Error read_metadata_value(Cursor& c, const std::string& ctx, uint32_t type, MetaValue* v) {
  v->type = static_cast<MetaType>(type);
  switch (static_cast<MetaType>(type)) {
    case MetaType::U32:
      if (Error e = c.need(ctx, "u32 value", 4)) return e;
      v->u = c.u32();
      return Error();
    case MetaType::I32:
      if (Error e = c.need(ctx, "i32 value", 4)) return e;
      v->i = static_cast<int32_t>(c.u32());
      return Error();
    case MetaType::F32:
      if (Error e = c.need(ctx, "f32 value", 4)) return e;
      v->f = c.f32();
      return Error();
    case MetaType::U64:
      if (Error e = c.need(ctx, "u64 value", 8)) return e;
      v->u = c.u64();
      return Error();
    case MetaType::STRING:
      return read_string(c, ctx, "string value", -1, kMaxStringBytes, &v->str);
    case MetaType::STRING_ARRAY:
    case MetaType::F32_ARRAY: {
      bool strings = static_cast<MetaType>(type) == MetaType::STRING_ARRAY;
      const char* what = strings ? "string array" : "f32 array";
      if (Error e = c.need(ctx, std::string(what) + " count", 4)) return e;
      uint64_t at = c.pos;
      uint32_t count = c.u32();
      if (count > kMaxArrayItems) {
        return Error(format_message("%s: %s count %u at offset %llu exceeds %u", ctx.c_str(), what,
                                    count, static_cast<ull>(at), kMaxArrayItems));
      }
      // Every item takes at least 4 bytes (a string's length, a float), so a count the bytes
      // cannot hold is refused before anything is reserved.
      uint64_t min_bytes = uint64_t{count} * 4;
      if (min_bytes > c.left()) {
        return Error(format_message(
            "%s: %s count %u at offset %llu needs at least %llu bytes, only %llu left before %s",
            ctx.c_str(), what, count, static_cast<ull>(at), static_cast<ull>(min_bytes),
            static_cast<ull>(c.left()), c.limit_what.c_str()));
      }
      if (strings) {
        v->strings.resize(count);
        for (uint32_t j = 0; j < count; ++j) {
          if (Error e = read_string(c, ctx, "string array", j, kMaxStringBytes, &v->strings[j]))
            return e;
        }
      } else {
        v->floats.resize(count);
        for (uint32_t j = 0; j < count; ++j) v->floats[j] = c.f32();
      }
      return Error();
    }
  }
  return Error(format_message("%s: unknown value type %u at offset %llu", ctx.c_str(), type,
                              static_cast<ull>(c.pos - 4)));
}

// Shared by reader and writer so both refuse the same scales with the same words.
Error check_scale(const std::string& name, uint64_t row, float s, uint64_t at) {
  const char* what = nullptr;
  if (std::isnan(s)) {
    what = "is NaN";
  } else if (std::isinf(s)) {
    what = "is infinite";
  } else if (s < 0) {
    return Error(format_message("int8 tensor '%s' row %llu scale at offset %llu is negative (%g)",
                                escape(name).c_str(), static_cast<ull>(row),
                                static_cast<ull>(at), static_cast<double>(s)));
  } else {
    return Error();
  }
  return Error(format_message("int8 tensor '%s' row %llu scale at offset %llu %s",
                              escape(name).c_str(), static_cast<ull>(row), static_cast<ull>(at),
                              what));
}

struct Block {
  uint64_t start = 0;  // file offset
  uint64_t end = 0;
};

// Everything after the header fields that identify the file. `avail` bytes of `d` may be read
// (fewer than file_size when `truncated`); in that case the first read past them is the error.
Error parse_body(const uint8_t* d, uint64_t avail, bool truncated, const Header& h,
                 ModelFile* mf) {
  const uint64_t crc_at = h.file_size - kCrcBytes;
  if (h.flags != 0) {
    return Error(format_message("flags 0x%08x at offset 12: reserved, must be 0 in version %u",
                                h.flags, kFormatVersion));
  }
  if (h.n_metadata > kMaxMetadata) {
    return Error(format_message("metadata count %u at offset 24 exceeds %u", h.n_metadata,
                                kMaxMetadata));
  }
  if (h.n_tensors > kMaxTensors) {
    return Error(format_message("tensor count %u at offset 28 exceeds %u", h.n_tensors,
                                kMaxTensors));
  }
  if (h.data_offset % kTensorAlignment != 0) {
    return Error(format_message("data_offset %llu at offset 32 is not a multiple of %u",
                                static_cast<ull>(h.data_offset), kTensorAlignment));
  }
  if (h.data_offset < kHeaderBytes) {
    return Error(format_message("data_offset %llu at offset 32 is inside the %zu-byte header",
                                static_cast<ull>(h.data_offset), kHeaderBytes));
  }
  if (h.data_offset > crc_at) {
    return Error(format_message(
        "data_offset %llu at offset 32 is past the end of the data section (the CRC at %llu)",
        static_cast<ull>(h.data_offset), static_cast<ull>(crc_at)));
  }

  // Metadata and the tensor table must end by data_offset: a length that runs into the data is
  // reported where it happens instead of parsing tensor bytes as table entries.
  Cursor c;
  c.data = d;
  c.pos = kHeaderBytes;
  if (h.data_offset <= avail) {
    c.limit = h.data_offset;
    c.limit_what = format_message("the tensor data start (data_offset %llu)",
                                  static_cast<ull>(h.data_offset));
  } else {
    c.limit = avail;
    c.limit_what = format_message("the end of the file (%llu bytes)", static_cast<ull>(avail));
  }

  mf->metadata.resize(h.n_metadata);
  std::unordered_map<std::string, uint64_t> seen;  // key or name -> offset of its entry
  for (uint32_t i = 0; i < h.n_metadata; ++i) {
    const uint64_t at = c.pos;
    MetaEntry& m = mf->metadata[i];
    std::string ctx = format_message("metadata entry %u at offset %llu", i, static_cast<ull>(at));
    if (Error e = read_name(c, ctx, "key", &m.key)) return e;
    ctx = format_message("metadata key '%s' at offset %llu", escape(m.key).c_str(),
                         static_cast<ull>(at));
    auto dup = seen.emplace(m.key, at);
    if (!dup.second) {
      return Error(format_message("duplicate metadata key '%s' at offset %llu (first at %llu)",
                                  escape(m.key).c_str(), static_cast<ull>(at),
                                  static_cast<ull>(dup.first->second)));
    }
    if (Error e = c.need(ctx, "value type", 4)) return e;
    uint32_t type = c.u32();
    if (Error e = read_metadata_value(c, ctx, type, &m.value)) return e;
  }

  seen.clear();
  mf->tensors.resize(h.n_tensors);
  std::vector<Block> blocks(h.n_tensors);
  for (uint32_t i = 0; i < h.n_tensors; ++i) {
    const uint64_t at = c.pos;
    TensorEntry& t = mf->tensors[i];
    std::string ctx =
        format_message("tensor table entry %u at offset %llu", i, static_cast<ull>(at));
    if (Error e = read_name(c, ctx, "name", &t.name)) return e;
    const std::string name = escape(t.name);
    ctx = format_message("tensor '%s' at offset %llu", name.c_str(), static_cast<ull>(at));
    auto dup = seen.emplace(t.name, at);
    if (!dup.second) {
      return Error(format_message("duplicate tensor name '%s' at offset %llu (first at %llu)",
                                  name.c_str(), static_cast<ull>(at),
                                  static_cast<ull>(dup.first->second)));
    }
    if (Error e = c.need(ctx, "dtype and n_dims", 8)) return e;
    uint32_t dtype = c.u32();
    if (dtype > static_cast<uint32_t>(DType::U8)) {
      return Error(format_message("%s: unknown dtype %u at offset %llu", ctx.c_str(), dtype,
                                  static_cast<ull>(c.pos - 4)));
    }
    t.dtype = static_cast<DType>(dtype);
    uint32_t n_dims = c.u32();
    if (n_dims == 0) return Error(format_message("%s: 0 dimensions, at least 1", ctx.c_str()));
    if (n_dims > kMaxDims) {
      return Error(format_message("%s: %u dimensions, at most %u", ctx.c_str(), n_dims, kMaxDims));
    }
    if (t.dtype == DType::I8 && n_dims != 2) {
      return Error(format_message("int8 tensor '%s' at offset %llu: %u dimensions, int8 tensors "
                                  "are exactly 2-D (rows, cols)",
                                  name.c_str(), static_cast<ull>(at), n_dims));
    }
    if (Error e = c.need(ctx, "dims", uint64_t{n_dims} * 8)) return e;
    t.shape.resize(n_dims);
    for (uint32_t k = 0; k < n_dims; ++k) t.shape[k] = c.u64();
    for (uint32_t k = 0; k < n_dims; ++k) {
      if (t.shape[k] == 0) {
        return Error(format_message("%s: dimension %u is 0", ctx.c_str(), k));
      }
      if (t.shape[k] > kMaxDimSize) {
        return Error(format_message("%s: dimension %u is %llu, at most %llu", ctx.c_str(), k,
                                    static_cast<ull>(t.shape[k]),
                                    static_cast<ull>(kMaxDimSize)));
      }
    }
    if (Error e = c.need(ctx, "offset and nbytes", 16)) return e;
    const uint64_t offset_at = c.pos;
    t.offset = c.u64();
    t.nbytes = c.u64();
    uint64_t expected = 0;
    if (!tensor_block_bytes(t.dtype, t.shape, &expected)) {
      return Error(format_message("%s: size overflows (dims %s)", ctx.c_str(),
                                  dims_text(t.shape).c_str()));
    }
    if (t.nbytes != expected) {
      return Error(format_message("%s: nbytes %llu at offset %llu does not match its shape (%s "
                                  "[%s] needs %llu)",
                                  ctx.c_str(), static_cast<ull>(t.nbytes),
                                  static_cast<ull>(offset_at + 8), dtype_name(t.dtype),
                                  dims_text(t.shape).c_str(), static_cast<ull>(expected)));
    }
    if (t.offset % kTensorAlignment != 0) {
      return Error(format_message("%s: data offset %llu at offset %llu is not a multiple of %u",
                                  ctx.c_str(), static_cast<ull>(t.offset),
                                  static_cast<ull>(offset_at), kTensorAlignment));
    }
    // Written as differences so nothing can overflow: data_offset <= crc_at was checked.
    const uint64_t data_bytes = crc_at - h.data_offset;
    if (t.offset >= data_bytes) {
      return Error(format_message("%s: data offset %llu is past the end of the tensor data (%llu "
                                  "bytes from data_offset %llu to the CRC)",
                                  ctx.c_str(), static_cast<ull>(t.offset),
                                  static_cast<ull>(data_bytes), static_cast<ull>(h.data_offset)));
    }
    if (t.nbytes > data_bytes - t.offset) {
      return Error(format_message("%s: block of %llu bytes at offset %llu runs past the end of "
                                  "the tensor data (the CRC at %llu)",
                                  ctx.c_str(), static_cast<ull>(t.nbytes),
                                  static_cast<ull>(h.data_offset + t.offset),
                                  static_cast<ull>(crc_at)));
    }
    blocks[i].start = h.data_offset + t.offset;
    blocks[i].end = blocks[i].start + t.nbytes;
    if (i > 0 && blocks[i].start < blocks[i - 1].end) {
      const TensorEntry& prev = mf->tensors[i - 1];
      if (t.offset < prev.offset) {
        return Error(format_message("%s: block at data offset %llu comes before the block of "
                                    "tensor '%s' (data offset %llu): blocks must be in table "
                                    "order",
                                    ctx.c_str(), static_cast<ull>(t.offset),
                                    escape(prev.name).c_str(), static_cast<ull>(prev.offset)));
      }
      return Error(format_message("%s: block [%llu, %llu) overlaps tensor '%s' [%llu, %llu)",
                                  ctx.c_str(), static_cast<ull>(blocks[i].start),
                                  static_cast<ull>(blocks[i].end), escape(prev.name).c_str(),
                                  static_cast<ull>(blocks[i - 1].start),
                                  static_cast<ull>(blocks[i - 1].end)));
    }
  }

  // Block contents are only looked at once every block is known to lie inside the file.
  for (uint32_t i = 0; i < h.n_tensors; ++i) {
    const TensorEntry& t = mf->tensors[i];
    if (blocks[i].end > avail) {  // only possible for a truncated file
      return Error(format_message("tensor '%s' needs %llu bytes at offset %llu, file has %llu",
                                  escape(t.name).c_str(), static_cast<ull>(t.nbytes),
                                  static_cast<ull>(blocks[i].start), static_cast<ull>(avail)));
    }
    if (t.dtype == DType::I8) {
      for (uint64_t r = 0; r < t.shape[0]; ++r) {
        uint64_t at = blocks[i].start + 4 * r;
        if (Error e = check_scale(t.name, r, load_f32(d + at), at)) return e;
      }
    }
  }
  if (truncated) {
    return Error(format_message("everything up to offset %llu is intact; the rest, with the "
                                "CRC, is missing",
                                static_cast<ull>(avail)));
  }

  if (h.n_tensors > 0 && reinterpret_cast<uintptr_t>(d) % alignof(float) != 0) {
    return Error(format_message("the buffer holding the model (address %p) is not 4-byte "
                                "aligned, so its f32 tensors cannot be viewed in place: copy it "
                                "into an aligned buffer first (Model::load does)",
                                static_cast<const void*>(d)));
  }
  for (uint32_t i = 0; i < h.n_tensors; ++i) {
    TensorEntry& t = mf->tensors[i];
    const uint8_t* block = d + blocks[i].start;
    if (t.dtype == DType::F32) {
      t.f32 = reinterpret_cast<const float*>(block);
    } else if (t.dtype == DType::U8) {
      t.u8 = block;
    } else {
      uint64_t scale_bytes = 0;
      align64_checked(4 * t.shape[0], &scale_bytes);  // cannot fail: nbytes was computed
      t.scales = reinterpret_cast<const float*>(block);
      t.i8 = reinterpret_cast<const int8_t*>(block + scale_bytes);
    }
  }
  return Error();
}

// Writer output helpers.
void put_u32(std::vector<uint8_t>& o, uint32_t v) {
  for (int k = 0; k < 4; ++k) o.push_back(static_cast<uint8_t>(v >> (8 * k)));
}
void put_u64(std::vector<uint8_t>& o, uint64_t v) {
  for (int k = 0; k < 8; ++k) o.push_back(static_cast<uint8_t>(v >> (8 * k)));
}
void put_f32(std::vector<uint8_t>& o, float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  put_u32(o, bits);
}
void put_str(std::vector<uint8_t>& o, const std::string& s) {
  put_u32(o, static_cast<uint32_t>(s.size()));
  o.insert(o.end(), s.begin(), s.end());
}

Error check_name(const char* what, const std::string& name) {
  if (name.empty()) return Error(format_message("%s is empty", what));
  if (name.size() > kMaxKeyBytes) {
    return Error(format_message("%s '%.40s...' is %zu bytes, at most %u", what,
                                escape(name).c_str(), name.size(), kMaxKeyBytes));
  }
  if (name.find('\0') != std::string::npos) {
    return Error(format_message("%s '%s' contains a NUL byte", what, escape(name).c_str()));
  }
  return Error();
}

// A shape the reader accepts, and its block size no larger than a file may be.
Error check_shape(const std::string& name, DType dtype, const std::vector<uint64_t>& shape,
                  uint64_t* block_bytes) {
  const std::string n = escape(name);
  if (shape.empty() || shape.size() > kMaxDims) {
    return Error(format_message("tensor '%s': %zu dimensions, must be 1 to %u", n.c_str(),
                                shape.size(), kMaxDims));
  }
  if (dtype == DType::I8 && shape.size() != 2) {
    return Error(format_message("int8 tensor '%s': %zu dimensions, must be 2", n.c_str(),
                                shape.size()));
  }
  for (size_t k = 0; k < shape.size(); ++k) {
    if (shape[k] == 0 || shape[k] > kMaxDimSize) {
      return Error(format_message("tensor '%s': dimension %zu is %llu, must be 1 to %llu",
                                  n.c_str(), k, static_cast<ull>(shape[k]),
                                  static_cast<ull>(kMaxDimSize)));
    }
  }
  if (!tensor_block_bytes(dtype, shape, block_bytes) || *block_bytes > kMaxFileBytes) {
    return Error(format_message("tensor '%s': dims %s exceed the %llu-byte file limit", n.c_str(),
                                dims_text(shape).c_str(), static_cast<ull>(kMaxFileBytes)));
  }
  return Error();
}

}  // namespace

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::I8:  return "i8";
    case DType::U8:  return "u8";
  }
  return "unknown";
}

const char* meta_type_name(MetaType t) {
  switch (t) {
    case MetaType::U32:          return "u32";
    case MetaType::I32:          return "i32";
    case MetaType::F32:          return "f32";
    case MetaType::U64:          return "u64";
    case MetaType::STRING:       return "string";
    case MetaType::STRING_ARRAY: return "string[]";
    case MetaType::F32_ARRAY:    return "f32[]";
  }
  return "unknown";
}

uint64_t TensorEntry::elements() const {
  uint64_t n = 1;
  for (uint64_t d : shape) {
    if (__builtin_mul_overflow(n, d, &n)) return UINT64_MAX;  // unreachable for a read entry
  }
  return n;
}

bool tensor_block_bytes(DType dtype, const std::vector<uint64_t>& shape, uint64_t* out) {
  if (dtype == DType::F32 || dtype == DType::U8) {
    uint64_t n = dtype == DType::F32 ? 4 : 1;
    for (uint64_t d : shape) {
      if (__builtin_mul_overflow(n, d, &n)) return false;
    }
    *out = n;
    return true;
  }
  if (dtype != DType::I8 || shape.size() != 2) return false;
  uint64_t scales, data, total;
  if (__builtin_mul_overflow(shape[0], uint64_t{4}, &scales)) return false;
  if (!align64_checked(scales, &scales)) return false;
  if (__builtin_mul_overflow(shape[0], shape[1], &data)) return false;
  if (__builtin_add_overflow(scales, data, &total)) return false;
  *out = total;
  return true;
}

const MetaEntry* ModelFile::find_meta(const std::string& key) const {
  for (const MetaEntry& m : metadata) {
    if (m.key == key) return &m;
  }
  return nullptr;
}

const TensorEntry* ModelFile::find_tensor(const std::string& name) const {
  for (const TensorEntry& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

Error read_model_file(const uint8_t* data, size_t size, ModelFile* out,
                      const ReadOptions& options) {
  if (size == 0) return Error("file is empty (0 bytes): not a hunch model");
  if (size < 4) {
    return Error(format_message("file is %zu bytes: too short for a hunch model header (%zu bytes)",
                                size, kHeaderBytes));
  }
  if (std::memcmp(data, kModelMagic, 4) != 0) return not_a_model(data, size);
  if (size < kHeaderBytes) {
    std::string says;
    if (size >= 24) {
      says = format_message(" (header says %llu bytes)", static_cast<ull>(load_u64(data + 16)));
    }
    return Error(format_message("truncated: file is %zu bytes, shorter than the %zu-byte "
                                "header%s",
                                size, kHeaderBytes, says.c_str()));
  }

  const Header h = read_header(data);
  if (h.version == 0) {
    return Error("format version 0 at offset 4 is invalid (a zeroed or damaged header?)");
  }
  if (h.version == bswap32(kFormatVersion)) {
    return Error(format_message("format version 0x%08x at offset 4 is %u byte-swapped: file was "
                                "written big-endian (hunch files are little-endian)",
                                h.version, kFormatVersion));
  }
  if (h.version > kFormatVersion) {
    if (h.endian == kSwappedEndianMarker) {
      return Error(format_message("format version 0x%08x at offset 4 and byte order marker "
                                  "0x%08x at offset 8: file was written big-endian",
                                  h.version, h.endian));
    }
    return Error(format_message("format version %u at offset 4 is newer than this build supports "
                                "(%u): upgrade hunch",
                                h.version, kFormatVersion));
  }
  if (h.endian == kSwappedEndianMarker) {
    return Error(format_message("byte order marker 0x%08x at offset 8: file was written "
                                "big-endian (hunch files are little-endian)",
                                h.endian));
  }
  if (h.endian != kEndianMarker) {
    return Error(format_message("byte order marker 0x%08x at offset 8 is invalid (expected "
                                "0x%08x, bytes 04 03 02 01)",
                                h.endian, kEndianMarker));
  }
  if (h.file_size < kHeaderBytes + kCrcBytes) {
    return Error(format_message("file_size %llu at offset 16 is smaller than the %zu-byte header "
                                "plus the 4-byte CRC",
                                static_cast<ull>(h.file_size), kHeaderBytes));
  }
  if (h.file_size > kMaxFileBytes) {
    return Error(format_message("file_size %llu at offset 16 exceeds the %llu-byte limit (1 GiB)",
                                static_cast<ull>(h.file_size), static_cast<ull>(kMaxFileBytes)));
  }
  if (h.file_size > size) {
    // Parse what arrived so the message says where the cut is (header, metadata, table, data).
    ModelFile scratch;
    Error where = parse_body(data, size, true, h, &scratch);
    return Error(format_message("truncated: header says %llu bytes, file has %zu (%s)",
                                static_cast<ull>(h.file_size), size, where.message.c_str()));
  }
  if (h.file_size < size) {
    return Error(format_message("trailing bytes: header says %llu bytes, file has %zu (%llu extra "
                                "after the CRC: two files concatenated, or a size field damaged?)",
                                static_cast<ull>(h.file_size), size,
                                static_cast<ull>(size - h.file_size)));
  }

  const uint64_t crc_at = h.file_size - kCrcBytes;
  const uint32_t stored = load_u32(data + crc_at);
  if (options.verify_crc) {
    uint32_t computed = crc32(data, static_cast<size_t>(crc_at));
    if (computed != stored) {
      return Error(format_message("CRC mismatch: stored 0x%08x at offset %llu, computed 0x%08x "
                                  "(file corrupted in transfer?)",
                                  stored, static_cast<ull>(crc_at), computed));
    }
  }

  ModelFile mf;
  mf.version = h.version;
  mf.file_size = h.file_size;
  mf.data_offset = h.data_offset;
  mf.crc32 = stored;
  if (Error e = parse_body(data, crc_at, false, h, &mf)) return e;
  *out = std::move(mf);
  return Error();
}

// ---- writer ------------------------------------------------------------------------------

void ModelWriter::set(const std::string& key, MetaValue v) {
  for (MetaEntry& m : meta_) {
    if (m.key == key) {
      m.value = std::move(v);
      return;
    }
  }
  meta_.push_back(MetaEntry{key, std::move(v)});
}

void ModelWriter::set_u32(const std::string& key, uint32_t v) {
  MetaValue m;
  m.type = MetaType::U32;
  m.u = v;
  set(key, std::move(m));
}

void ModelWriter::set_i32(const std::string& key, int32_t v) {
  MetaValue m;
  m.type = MetaType::I32;
  m.i = v;
  set(key, std::move(m));
}

void ModelWriter::set_f32(const std::string& key, float v) {
  MetaValue m;
  m.type = MetaType::F32;
  m.f = v;
  set(key, std::move(m));
}

void ModelWriter::set_u64(const std::string& key, uint64_t v) {
  MetaValue m;
  m.type = MetaType::U64;
  m.u = v;
  set(key, std::move(m));
}

void ModelWriter::set_string(const std::string& key, const std::string& v) {
  MetaValue m;
  m.type = MetaType::STRING;
  m.str = v;
  set(key, std::move(m));
}

void ModelWriter::set_strings(const std::string& key, const std::vector<std::string>& v) {
  MetaValue m;
  m.type = MetaType::STRING_ARRAY;
  m.strings = v;
  set(key, std::move(m));
}

void ModelWriter::set_floats(const std::string& key, const std::vector<float>& v) {
  MetaValue m;
  m.type = MetaType::F32_ARRAY;
  m.floats = v;
  set(key, std::move(m));
}

// add_* cannot report errors, so a tensor whose shape is invalid (or whose data pointer is null)
// is kept with an empty block, and serialize() names the problem. Data is only read for a
// valid shape, so a bad shape never makes it read past the caller's array.
void ModelWriter::add_f32(const std::string& name, const std::vector<uint64_t>& shape,
                          const float* data) {
  PendingTensor t{name, DType::F32, shape, {}};
  uint64_t bytes = 0;
  if (data && !check_shape(name, DType::F32, shape, &bytes)) {
    t.block.resize(static_cast<size_t>(bytes));
    std::memcpy(t.block.data(), data, static_cast<size_t>(bytes));
  }
  tensors_.push_back(std::move(t));
}

void ModelWriter::add_u8(const std::string& name, const std::vector<uint64_t>& shape, const uint8_t* data) {
  PendingTensor t{name, DType::U8, shape, {}};
  uint64_t bytes = 0;
  if (data && !check_shape(name, DType::U8, shape, &bytes)) t.block.assign(data, data + bytes);
  tensors_.push_back(std::move(t));
}

void ModelWriter::add_i8(const std::string& name, uint64_t rows, uint64_t cols,
                         const int8_t* data, const float* scales) {
  PendingTensor t{name, DType::I8, {rows, cols}, {}};
  uint64_t bytes = 0;
  if (data && scales && !check_shape(name, DType::I8, t.shape, &bytes)) {
    t.block.assign(static_cast<size_t>(bytes), 0);
    std::memcpy(t.block.data(), scales, static_cast<size_t>(rows * 4));
    uint64_t scale_bytes = 0;
    align64_checked(rows * 4, &scale_bytes);
    std::memcpy(t.block.data() + scale_bytes, data, static_cast<size_t>(rows * cols));
  }
  tensors_.push_back(std::move(t));
}

Error ModelWriter::serialize(std::vector<uint8_t>* out) const {
  if (meta_.size() > kMaxMetadata) {
    return Error(format_message("%zu metadata entries, at most %u", meta_.size(), kMaxMetadata));
  }
  if (tensors_.size() > kMaxTensors) {
    return Error(format_message("%zu tensors, at most %u", tensors_.size(), kMaxTensors));
  }
  // Sizes are summed in u64 without overflow checks: with every count and length within its
  // limit, the total is below 2^44.
  uint64_t header_bytes = kHeaderBytes;
  for (const MetaEntry& m : meta_) {
    if (Error e = check_name("metadata key", m.key)) return e;
    const std::string key = escape(m.key);
    const MetaValue& v = m.value;
    header_bytes += 4 + m.key.size() + 4;
    switch (v.type) {
      case MetaType::U32:
        if (v.u > UINT32_MAX) {
          return Error(format_message("metadata key '%s': u32 value %llu is out of range",
                                      key.c_str(), static_cast<ull>(v.u)));
        }
        header_bytes += 4;
        break;
      case MetaType::I32:
        if (v.i < INT32_MIN || v.i > INT32_MAX) {
          return Error(format_message("metadata key '%s': i32 value %lld is out of range",
                                      key.c_str(), static_cast<long long>(v.i)));
        }
        header_bytes += 4;
        break;
      case MetaType::F32: header_bytes += 4; break;
      case MetaType::U64: header_bytes += 8; break;
      case MetaType::STRING:
        if (v.str.size() > kMaxStringBytes) {
          return Error(format_message("metadata key '%s': string of %zu bytes, at most %u",
                                      key.c_str(), v.str.size(), kMaxStringBytes));
        }
        header_bytes += 4 + v.str.size();
        break;
      case MetaType::STRING_ARRAY:
        if (v.strings.size() > kMaxArrayItems) {
          return Error(format_message("metadata key '%s': %zu strings, at most %u", key.c_str(),
                                      v.strings.size(), kMaxArrayItems));
        }
        header_bytes += 4;
        for (size_t j = 0; j < v.strings.size(); ++j) {
          if (v.strings[j].size() > kMaxStringBytes) {
            return Error(format_message("metadata key '%s': item %zu is %zu bytes, at most %u",
                                        key.c_str(), j, v.strings[j].size(), kMaxStringBytes));
          }
          header_bytes += 4 + v.strings[j].size();
        }
        break;
      case MetaType::F32_ARRAY:
        if (v.floats.size() > kMaxArrayItems) {
          return Error(format_message("metadata key '%s': %zu floats, at most %u", key.c_str(),
                                      v.floats.size(), kMaxArrayItems));
        }
        header_bytes += 4 + 4 * uint64_t{v.floats.size()};
        break;
      default:
        return Error(format_message("metadata key '%s': unknown value type %u", key.c_str(),
                                    static_cast<uint32_t>(v.type)));
    }
  }

  std::unordered_map<std::string, size_t> names;
  std::vector<uint64_t> offsets(tensors_.size());
  uint64_t data_bytes = 0;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const PendingTensor& t = tensors_[i];
    if (Error e = check_name("tensor name", t.name)) return e;
    if (!names.emplace(t.name, i).second) {
      return Error(format_message("duplicate tensor name '%s' (tensors %zu and %zu)",
                                  escape(t.name).c_str(), names[t.name], i));
    }
    uint64_t bytes = 0;
    if (Error e = check_shape(t.name, t.dtype, t.shape, &bytes)) return e;
    if (t.block.size() != bytes) {
      return Error(format_message("tensor '%s': no data (null pointer passed to add_%s)",
                                  escape(t.name).c_str(), dtype_name(t.dtype)));
    }
    if (t.dtype == DType::I8) {
      for (uint64_t r = 0; r < t.shape[0]; ++r) {
        // Offsets in the message are within the tensor's block: the file layout is not fixed yet.
        if (Error e = check_scale(t.name, r, load_f32(t.block.data() + 4 * r), 4 * r)) return e;
      }
    }
    align64_checked(data_bytes, &data_bytes);
    offsets[i] = data_bytes;
    data_bytes += bytes;
    header_bytes += 4 + t.name.size() + 4 + 4 + 8 * t.shape.size() + 8 + 8;
  }

  uint64_t data_offset = 0;
  align64_checked(header_bytes, &data_offset);
  const uint64_t file_size = data_offset + data_bytes + kCrcBytes;
  if (file_size > kMaxFileBytes) {
    return Error(format_message("the model would be %llu bytes, over the %llu-byte file limit",
                                static_cast<ull>(file_size), static_cast<ull>(kMaxFileBytes)));
  }

  std::vector<uint8_t>& o = *out;
  o.clear();
  o.reserve(static_cast<size_t>(file_size));
  o.insert(o.end(), kModelMagic, kModelMagic + 4);
  put_u32(o, kFormatVersion);
  put_u32(o, kEndianMarker);
  put_u32(o, 0);  // flags
  put_u64(o, file_size);
  put_u32(o, static_cast<uint32_t>(meta_.size()));
  put_u32(o, static_cast<uint32_t>(tensors_.size()));
  put_u64(o, data_offset);
  for (const MetaEntry& m : meta_) {
    put_str(o, m.key);
    put_u32(o, static_cast<uint32_t>(m.value.type));
    const MetaValue& v = m.value;
    switch (v.type) {
      case MetaType::U32: put_u32(o, static_cast<uint32_t>(v.u)); break;
      case MetaType::I32: put_u32(o, static_cast<uint32_t>(static_cast<int32_t>(v.i))); break;
      case MetaType::F32: put_f32(o, v.f); break;
      case MetaType::U64: put_u64(o, v.u); break;
      case MetaType::STRING: put_str(o, v.str); break;
      case MetaType::STRING_ARRAY:
        put_u32(o, static_cast<uint32_t>(v.strings.size()));
        for (const std::string& s : v.strings) put_str(o, s);
        break;
      case MetaType::F32_ARRAY:
        put_u32(o, static_cast<uint32_t>(v.floats.size()));
        for (float f : v.floats) put_f32(o, f);
        break;
    }
  }
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const PendingTensor& t = tensors_[i];
    put_str(o, t.name);
    put_u32(o, static_cast<uint32_t>(t.dtype));
    put_u32(o, static_cast<uint32_t>(t.shape.size()));
    for (uint64_t d : t.shape) put_u64(o, d);
    put_u64(o, offsets[i]);
    put_u64(o, t.block.size());
  }
  o.resize(static_cast<size_t>(data_offset), 0);
  for (size_t i = 0; i < tensors_.size(); ++i) {
    o.resize(static_cast<size_t>(data_offset + offsets[i]), 0);
    o.insert(o.end(), tensors_[i].block.begin(), tensors_[i].block.end());
  }
  put_u32(o, crc32(o.data(), o.size()));
  return Error();
}

// ---- quantisation ------------------------------------------------------------------------

float quantize_rows(uint64_t rows, uint64_t cols, const float* w, int8_t* q, float* scales) {
  float worst = 0;
  for (uint64_t r = 0; r < rows; ++r) {
    const float* x = w + r * cols;
    int8_t* qr = q + r * cols;
    float maxabs = 0;
    bool finite = true;
    for (uint64_t c = 0; c < cols; ++c) {
      float a = std::fabs(x[c]);
      if (!std::isfinite(a)) finite = false;
      if (a > maxabs) maxabs = a;
    }
    if (!finite) {
      // NaN / inf weights cannot be quantised; a NaN scale and error make the writer refuse the
      // tensor and the caller see it, instead of a silently wrong row.
      scales[r] = std::nanf("");
      for (uint64_t c = 0; c < cols; ++c) qr[c] = 0;
      worst = std::nanf("");
      continue;
    }
    if (maxabs == 0) {
      scales[r] = 1;
      for (uint64_t c = 0; c < cols; ++c) qr[c] = 0;
      continue;
    }
    const float scale = maxabs / 127.0f;
    const float inv = 127.0f / maxabs;
    scales[r] = scale;
    for (uint64_t c = 0; c < cols; ++c) {
      float v = std::nearbyint(x[c] * inv);  // default rounding mode: half to even
      if (v > 127) v = 127;
      if (v < -127) v = -127;
      qr[c] = static_cast<int8_t>(v);
      float err = std::fabs(x[c] - static_cast<float>(qr[c]) * scale);
      if (err > worst) worst = err;  // NaN worst (from a bad row) stays NaN: comparisons fail
    }
  }
  return worst;
}

Error read_model_bytes(const std::string& path, std::vector<uint8_t>* out) {
  out->clear();
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Error(format_message("%s: cannot open (%s)", path.c_str(), std::strerror(errno)));
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    if (out->size() + n > kMaxFileBytes) {
      std::fclose(f);
      return Error(format_message("%s: larger than the model size limit (%llu bytes)", path.c_str(),
                                  static_cast<ull>(kMaxFileBytes)));
    }
    out->insert(out->end(), buf, buf + n);
  }
  const bool read_error = std::ferror(f);
  std::fclose(f);
  if (read_error) return Error(format_message("%s: read error", path.c_str()));
  return Error();
}

// ---- JSON --------------------------------------------------------------------------------

std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') o += '\\', o += char(c);
    else if (c < 0x20) o += format_message("\\u%04x", c);
    else o += char(c);
  }
  return o + "\"";
}

namespace {

// JSON has no NaN or infinity: a non-finite f32 is null.
std::string json_f32(float f) { return std::isfinite(f) ? format_message("%.9g", double(f)) : "null"; }

}  // namespace

std::string metadata_json(const ModelFile& file) {
  std::string o = "{";
  bool first = true;
  for (const MetaEntry& m : file.metadata) {
    if (m.key == "hunch.vocab.actions" || m.key == "hunch.vocab.event_types") continue;
    o += (first ? "" : ",") + json_string(m.key) + ":";
    first = false;
    const MetaValue& v = m.value;
    switch (v.type) {
      case MetaType::U32:
      case MetaType::U64: o += format_message("%llu", static_cast<ull>(v.u)); break;
      case MetaType::I32: o += format_message("%lld", static_cast<long long>(v.i)); break;
      case MetaType::F32: o += json_f32(v.f); break;
      case MetaType::STRING: o += json_string(v.str); break;
      case MetaType::STRING_ARRAY:
        o += "[";
        for (size_t i = 0; i < v.strings.size(); ++i) o += (i ? "," : "") + json_string(v.strings[i]);
        o += "]";
        break;
      case MetaType::F32_ARRAY:
        o += "[";
        for (size_t i = 0; i < v.floats.size(); ++i) o += (i ? "," : "") + json_f32(v.floats[i]);
        o += "]";
        break;
    }
  }
  return o + "}";
}

}  // namespace hunch
