// Packed action tables (hunch quantize --int4-embeddings, docs/format.md "Packed tables"): the
// codes that bring a V = 100,000 model under 4 MB. A matrix X may be stored as int4 rows
// (tensor X.q4, two codes per byte) with a one-byte logarithmic row scale (tensor X.q4.scale)
// under the key hunch.int4.X (the largest row scale); a vector X as u8 codes (tensor X.u8) into
// a table of at most 256 values (the key hunch.u8.X, F32_ARRAY).
//
// The loader decodes both at load into plain int8 rows with f32 scales and f32 vectors
// (Model keeps them), so every kernel and layer runs unchanged and an int4 row is exactly an
// int8 row whose values lie in [-7, 7]: the reference and SIMD128 paths stay bit-exact. The
// codes only make the file small; they do not change the work per event.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "hunch/error.h"

namespace hunch {

// Row scales are top · 2^((code − 255) / kInt4ScaleSteps): 1/16-octave steps over 16 octaves.
constexpr int kInt4ScaleSteps = 16;

// Bytes of one packed int4 row of `cols` values (the last high nibble is 0 for odd cols).
inline size_t int4_row_bytes(size_t cols) { return (cols + 1) / 2; }

// The scale of code `code` under the tensor's largest row scale `top`.
float int4_scale(float top, uint8_t code);

// Quantises a row-major (rows, cols) f32 matrix to int4: per row, the scale code (≥ the code
// of max|row| / 7, up to 12 codes finer when that lowers the row's squared error: a clipped
// outlier against the rest of the row) and codes in [-7, 7] (round half to even, clamped).
// `top` gets the largest max|row| / 7 (1 for an all-zero matrix). packed holds
// rows · int4_row_bytes(cols) bytes, codes rows bytes. Returns the largest |w − q·scale|;
// NaN when w has a non-finite value (nothing usable is written then).
float quantize_rows_int4(size_t rows, size_t cols, const float* w, uint8_t* packed, uint8_t* codes, float* top);

// Decodes what quantize_rows_int4 wrote into int8 rows (values in [-7, 7]) and f32 row scales,
// checking every byte: a nibble of 8 (-8), or a non-zero padding nibble of an odd row, is an
// error naming `what`, the row and the byte offset. top must be finite and > 0.
Error decode_rows_int4(size_t rows, size_t cols, const uint8_t* packed, const uint8_t* codes, float top,
                       const std::string& what, int8_t* q, float* scales);

// A vector as u8 codes into a table of at most 256 f32 values: the values themselves when the
// vector has at most 256 distinct ones (a count head's log-frequency biases: exact), else a
// least-squares (Lloyd) codebook started at the quantiles. table gets 1..256 ascending values.
// Returns the largest |x − table[code]|; NaN for a non-finite value (nothing usable written).
float quantize_u8_table(size_t n, const float* x, uint8_t* codes, std::vector<float>* table);

// x[i] = table[code[i]], checking every code < table size (an error naming `what` and the byte
// offset) and the table (1..256 finite values).
Error decode_u8_table(size_t n, const uint8_t* codes, const std::vector<float>& table, const std::string& what,
                      float* x);

}  // namespace hunch
