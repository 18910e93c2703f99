// hunch model file (.hunch) reader and writer: the byte layout of docs/format.md.
//
// The reader is the first thing outside bytes meet, so it validates everything before it
// allocates or computes: counts and sizes with overflow-checked arithmetic, every offset inside
// the file, tensor data aligned, and the CRC32. Each failure is its own message naming the
// field and the byte offset. No exceptions: every call returns an Error (empty = success).
//
// This layer knows the container only. Whether the tensors make a consistent model of some
// architecture is checked by model.cpp (Model::load).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "hunch/error.h"

namespace hunch {

constexpr char     kModelMagic[4]     = {'H', 'N', 'C', 'H'};
constexpr uint32_t kFormatVersion     = 1;           // bump only for structural change
constexpr uint32_t kEndianMarker      = 0x01020304;  // written little-endian: 04 03 02 01
constexpr uint32_t kTensorAlignment   = 64;          // SIMD-friendly; data offsets are multiples
constexpr size_t   kHeaderBytes       = 40;

// Limits enforced by the reader (docs/limits.md). Anything above them is refused with a clear
// error before any allocation.
constexpr uint64_t kMaxFileBytes      = 1ull << 30;  // 1 GiB
constexpr uint32_t kMaxMetadata       = 1024;
constexpr uint32_t kMaxTensors        = 1024;
constexpr uint32_t kMaxKeyBytes       = 256;
constexpr uint32_t kMaxStringBytes    = 4096;        // one string value (an action name, ...)
constexpr uint32_t kMaxArrayItems     = 2000000;
constexpr uint32_t kMaxDims           = 4;
constexpr uint64_t kMaxDimSize        = 1ull << 24;  // 16M along one axis

enum class DType : uint32_t {
  F32 = 0,  // little-endian IEEE-754 float
  I8  = 1,  // int8 rows with one f32 scale per row (dims[0] rows); 2-D only
  U8  = 2,  // raw bytes (an encoded table the architecture defines, e.g. transition.table)
};
const char* dtype_name(DType t);

enum class MetaType : uint32_t {
  U32 = 1, I32 = 2, F32 = 3, U64 = 4, STRING = 5, STRING_ARRAY = 6, F32_ARRAY = 7,
};
const char* meta_type_name(MetaType t);

struct MetaValue {
  MetaType                 type = MetaType::U32;
  uint64_t                 u    = 0;   // U32, U64
  int64_t                  i    = 0;   // I32
  float                    f    = 0;   // F32
  std::string              str;        // STRING
  std::vector<std::string> strings;    // STRING_ARRAY
  std::vector<float>       floats;     // F32_ARRAY
};

struct MetaEntry {
  std::string key;  // dotted lower_snake_case, e.g. "hunch.lstm.hidden_size"
  MetaValue   value;
};

struct TensorEntry {
  std::string           name;    // e.g. "lstm.w_ih"
  DType                 dtype = DType::F32;
  std::vector<uint64_t> shape;   // dims, outermost first (rows, cols)
  uint64_t              offset = 0;  // from the start of the data section, multiple of 64
  uint64_t              nbytes = 0;  // bytes of this tensor's block (see tensor_block_bytes)
  // Filled by the reader: pointers into the buffer that was parsed (valid while it lives).
  const float*  f32    = nullptr;  // F32 data
  const int8_t* i8     = nullptr;  // I8 data, rows*cols bytes
  const float*  scales = nullptr;  // I8 per-row scales, rows floats
  const uint8_t* u8    = nullptr;  // U8 data, elements bytes

  uint64_t elements() const;       // product of dims (checked at read)
};

// Bytes of a tensor block in the data section:
//   F32: 4 * elements
//   I8 : align64(4 * rows) [per-row f32 scales, zero-padded] + rows * cols [int8 data]
//   U8 : elements
// Returns false on overflow.
bool tensor_block_bytes(DType dtype, const std::vector<uint64_t>& shape, uint64_t* out);

struct ModelFile {
  uint32_t                 version = 0;
  uint64_t                 file_size = 0;
  uint64_t                 data_offset = 0;
  uint32_t                 crc32 = 0;      // as stored (== computed when verified)
  std::vector<MetaEntry>   metadata;
  std::vector<TensorEntry> tensors;

  const MetaEntry*   find_meta(const std::string& key) const;
  const TensorEntry* find_tensor(const std::string& name) const;
};

struct ReadOptions {
  bool verify_crc = true;  // the fuzzer turns this off to reach the structure checks
};

// Parses `size` bytes at `data`. On success `out` points into `data` (keep it alive). The data
// must be 4-byte aligned for the f32 views (Model::load copies into an aligned buffer first).
Error read_model_file(const uint8_t* data, size_t size, ModelFile* out,
                      const ReadOptions& options = {});

// Builds a model file in memory. add_* calls copy their inputs.
class ModelWriter {
 public:
  void set_u32(const std::string& key, uint32_t v);
  void set_i32(const std::string& key, int32_t v);
  void set_f32(const std::string& key, float v);
  void set_u64(const std::string& key, uint64_t v);
  void set_string(const std::string& key, const std::string& v);
  void set_strings(const std::string& key, const std::vector<std::string>& v);
  void set_floats(const std::string& key, const std::vector<float>& v);

  void add_f32(const std::string& name, const std::vector<uint64_t>& shape, const float* data);
  // rows x cols int8 with per-row scales.
  void add_u8(const std::string& name, const std::vector<uint64_t>& shape, const uint8_t* data);
  void add_i8(const std::string& name, uint64_t rows, uint64_t cols, const int8_t* data,
              const float* scales);

  // Serialises: header, metadata, tensor table, aligned data, CRC32. Errors on duplicate names,
  // over-limit sizes or keys.
  Error serialize(std::vector<uint8_t>* out) const;

 private:
  struct PendingTensor {
    std::string           name;
    DType                 dtype;
    std::vector<uint64_t> shape;
    std::vector<uint8_t>  block;  // exactly tensor_block_bytes
  };
  void set(const std::string& key, MetaValue v);
  std::vector<MetaEntry>     meta_;
  std::vector<PendingTensor> tensors_;
};

// Reads a whole model file into `out`, refusing files over kMaxFileBytes before reading them all.
// Errors name the path ("x.hunch: cannot open (No such file or directory)").
Error read_model_bytes(const std::string& path, std::vector<uint8_t>* out);

// Symmetric per-row int8 quantisation of a row-major (rows, cols) f32 matrix: scale = max|row| /
// 127 (1 for an all-zero row), q = round_half_even(x * 127 / max|row|). Returns the largest
// absolute round-trip error |x - q*scale| over the matrix.
float quantize_rows(uint64_t rows, uint64_t cols, const float* w, int8_t* q, float* scales);

// `s` as a JSON string: quoted, '"' and '\\' escaped with a backslash, bytes below 0x20 as
// \u00XX, every other byte as it is (UTF-8 passes through).
std::string json_string(const std::string& s);

// The file's metadata as one JSON object (the SDK's Predictor.info.metadata), keys in file
// order, the vocabularies hunch.vocab.actions and hunch.vocab.event_types left out: integers as
// numbers, f32 with 9 significant digits (null when not finite, in arrays too), strings and
// arrays as JSON.
std::string metadata_json(const ModelFile& file);

}  // namespace hunch
