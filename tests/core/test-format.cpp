// The .hunch container: writer -> reader round trips, the byte layout of docs/format.md, CRC-32,
// int8 quantisation, writer refusals, reader limits, and reads that never leave the buffer (run
// this file under -DHUNCH_SANITIZE=ON too: every read is from an exact-size heap copy, so an
// over-read is an ASan report, not a silent pass).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "hunch/format.h"

namespace {

using hunch::DType;
using hunch::MetaType;

// The bytes of a file in a heap block of exactly their size.
struct Exact {
  std::unique_ptr<uint8_t[]> p;
  size_t n = 0;
  explicit Exact(const std::vector<uint8_t>& b) : p(new uint8_t[b.size()]), n(b.size()) {
    if (n) std::memcpy(p.get(), b.data(), n);
  }
};

hunch::Error read(const std::vector<uint8_t>& bytes, hunch::ModelFile* mf = nullptr,
                  bool verify_crc = true) {
  Exact e(bytes);
  hunch::ModelFile local;
  hunch::ReadOptions o;
  o.verify_crc = verify_crc;
  return hunch::read_model_file(e.p.get(), e.n, mf ? mf : &local, o);
}

bool contains(const hunch::Error& e, const char* s) { return e.message.find(s) != std::string::npos; }

uint32_t get_u32(const std::vector<uint8_t>& b, size_t at) {
  uint32_t v = 0;
  for (int k = 3; k >= 0; --k) v = v << 8 | b[at + k];
  return v;
}
uint64_t get_u64(const std::vector<uint8_t>& b, size_t at) {
  return get_u32(b, at) | static_cast<uint64_t>(get_u32(b, at + 4)) << 32;
}
void put_u32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int k = 0; k < 4; ++k) b[at + k] = static_cast<uint8_t>(v >> (8 * k));
}
void fix_crc(std::vector<uint8_t>& b) {
  put_u32(b, b.size() - 4, hunch::crc32(b.data(), b.size() - 4));
}

std::vector<uint8_t> serialize(const hunch::ModelWriter& w) {
  std::vector<uint8_t> b;
  hunch::Error e = w.serialize(&b);
  REQUIRE_MESSAGE(!e, e.message);
  return b;
}

// A bit-at-a-time CRC-32 straight from the definition, to check the table-driven one against.
uint32_t crc32_bitwise(const uint8_t* p, size_t n, uint32_t crc = 0) {
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
  }
  return ~crc;
}

// A model using every metadata type and both dtypes, with shapes that leave padding everywhere.
struct Sample {
  std::vector<float>  emb, bias;
  std::vector<int8_t> q;
  std::vector<float>  scales;
  hunch::ModelWriter  w;
  Sample() {
    w.set_string("general.architecture", "lstm-attn");
    w.set_u32("hunch.embedding_size", 3);
    w.set_i32("hunch.train.offset", -123456);
    w.set_f32("hunch.train.valid_ndcg_10", 0.625f);
    w.set_u64("hunch.train.examples", 0x123456789abcdefull);
    w.set_strings("hunch.vocab.actions", {"<unk>", "open", "", "save \xe2\x9c\x93"});
    w.set_floats("hunch.time.gap_edges", {0.5f, 2.0f, -0.0f, 1e30f});
    w.set_strings("hunch.vocab.event_types", {});
    w.set_floats("hunch.empty", {});
    emb.resize(7 * 3);
    for (size_t i = 0; i < emb.size(); ++i) emb[i] = static_cast<float>(i) * 0.5f - 3.0f;
    bias = {1.5f, -2.5f, 3.25f};
    q.resize(17 * 5);
    for (size_t i = 0; i < q.size(); ++i) q[i] = static_cast<int8_t>(static_cast<int>(i * 37 % 255) - 127);
    scales.resize(17);
    for (size_t i = 0; i < scales.size(); ++i) scales[i] = 0.01f * static_cast<float>(i);
    w.add_f32("emb.action", {7, 3}, emb.data());
    w.add_i8("head.action.w", 17, 5, q.data(), scales.data());
    w.add_f32("head.action.b", {3}, bias.data());
    w.add_f32("test.four_d", {1, 2, 1, 3}, emb.data());
  }
};

}  // namespace

TEST_CASE("crc32 equals zlib's crc32") {
  CHECK(hunch::crc32("123456789", 9) == 0xCBF43926u);
  CHECK(hunch::crc32("", 0) == 0u);
  CHECK(hunch::crc32("The quick brown fox jumps over the lazy dog", 43) == 0x414FA339u);
  // Every length and misalignment around the 4-byte fold, and chaining as zlib does it.
  std::vector<uint8_t> buf(80);
  std::mt19937 rng(7);
  for (uint8_t& b : buf) b = static_cast<uint8_t>(rng());
  for (size_t start = 0; start < 4; ++start) {
    for (size_t n = 0; start + n <= buf.size(); ++n) {
      CHECK(hunch::crc32(buf.data() + start, n) == crc32_bitwise(buf.data() + start, n));
    }
  }
  for (size_t cut = 0; cut <= buf.size(); ++cut) {
    uint32_t first = hunch::crc32(buf.data(), cut);
    CHECK(hunch::crc32(buf.data() + cut, buf.size() - cut, first) ==
          hunch::crc32(buf.data(), buf.size()));
  }
}

TEST_CASE("format_message formats like printf, at any length") {
  CHECK(hunch::format_message("%s %d 0x%08x", "a", -3, 255u) == "a -3 0x000000ff");
  std::string long_arg(1000, 'x');
  CHECK(hunch::format_message("[%s]", long_arg.c_str()) == "[" + long_arg + "]");
}

TEST_CASE("names of dtypes and metadata types") {
  CHECK(std::string(hunch::dtype_name(DType::F32)) == "f32");
  CHECK(std::string(hunch::dtype_name(DType::I8)) == "i8");
  CHECK(std::string(hunch::dtype_name(static_cast<DType>(9))) == "unknown");
  CHECK(std::string(hunch::meta_type_name(MetaType::STRING_ARRAY)) == "string[]");
  CHECK(std::string(hunch::meta_type_name(MetaType::F32_ARRAY)) == "f32[]");
  CHECK(std::string(hunch::meta_type_name(MetaType::U64)) == "u64");
}

TEST_CASE("tensor_block_bytes") {
  uint64_t n = 0;
  CHECK(hunch::tensor_block_bytes(DType::F32, {7, 3}, &n));
  CHECK(n == 84);
  CHECK(hunch::tensor_block_bytes(DType::F32, {1, 2, 1, 3}, &n));
  CHECK(n == 24);
  CHECK(hunch::tensor_block_bytes(DType::I8, {17, 5}, &n));
  CHECK(n == 128 + 85);  // 68 bytes of scales padded to 128
  CHECK(hunch::tensor_block_bytes(DType::I8, {16, 1}, &n));
  CHECK(n == 64 + 16);  // 64 bytes of scales: no padding
  CHECK_FALSE(hunch::tensor_block_bytes(DType::F32, {1ull << 32, 1ull << 31}, &n));  // x4 overflows
  CHECK_FALSE(hunch::tensor_block_bytes(DType::I8, {1ull << 62, 1}, &n));            // scales overflow
  CHECK_FALSE(hunch::tensor_block_bytes(DType::I8, {1ull << 40, 1ull << 30}, &n));   // data overflows
  CHECK_FALSE(hunch::tensor_block_bytes(DType::I8, {2, 2, 2}, &n));                  // not 2-D
  hunch::TensorEntry t;
  t.shape = {7, 3, 2};
  CHECK(t.elements() == 42);
}

TEST_CASE("write then read: every metadata type, both dtypes, views into the buffer") {
  Sample s;
  std::vector<uint8_t> bytes = serialize(s.w);
  Exact buf(bytes);
  hunch::ModelFile mf;
  hunch::Error e = hunch::read_model_file(buf.p.get(), buf.n, &mf);
  REQUIRE_MESSAGE(!e, e.message);

  CHECK(mf.version == 1);
  CHECK(mf.file_size == bytes.size());
  CHECK(mf.crc32 == hunch::crc32(bytes.data(), bytes.size() - 4));
  REQUIRE(mf.metadata.size() == 9);
  // Insertion order is kept.
  CHECK(mf.metadata[0].key == "general.architecture");
  CHECK(mf.metadata[8].key == "hunch.empty");

  const hunch::MetaEntry* m = mf.find_meta("general.architecture");
  REQUIRE(m);
  CHECK(m->value.type == MetaType::STRING);
  CHECK(m->value.str == "lstm-attn");
  REQUIRE((m = mf.find_meta("hunch.embedding_size")));
  CHECK(m->value.type == MetaType::U32);
  CHECK(m->value.u == 3);
  REQUIRE((m = mf.find_meta("hunch.train.offset")));
  CHECK(m->value.type == MetaType::I32);
  CHECK(m->value.i == -123456);
  REQUIRE((m = mf.find_meta("hunch.train.valid_ndcg_10")));
  CHECK(m->value.type == MetaType::F32);
  CHECK(m->value.f == 0.625f);
  REQUIRE((m = mf.find_meta("hunch.train.examples")));
  CHECK(m->value.type == MetaType::U64);
  CHECK(m->value.u == 0x123456789abcdefull);
  REQUIRE((m = mf.find_meta("hunch.vocab.actions")));
  CHECK(m->value.type == MetaType::STRING_ARRAY);
  CHECK(m->value.strings == std::vector<std::string>{"<unk>", "open", "", "save \xe2\x9c\x93"});
  REQUIRE((m = mf.find_meta("hunch.time.gap_edges")));
  CHECK(m->value.type == MetaType::F32_ARRAY);
  REQUIRE(m->value.floats.size() == 4);
  CHECK(m->value.floats[0] == 0.5f);
  CHECK(std::signbit(m->value.floats[2]));  // bit-exact, -0 stays -0
  CHECK(m->value.floats[3] == 1e30f);
  REQUIRE((m = mf.find_meta("hunch.vocab.event_types")));
  CHECK(m->value.strings.empty());
  CHECK(mf.find_meta("hunch.missing") == nullptr);

  REQUIRE(mf.tensors.size() == 4);
  const uint8_t* base = buf.p.get();
  const hunch::TensorEntry* t = mf.find_tensor("emb.action");
  REQUIRE(t);
  CHECK(t->dtype == DType::F32);
  CHECK(t->shape == std::vector<uint64_t>{7, 3});
  CHECK(t->elements() == 21);
  CHECK(t->nbytes == 84);
  CHECK(reinterpret_cast<const uint8_t*>(t->f32) == base + mf.data_offset + t->offset);
  CHECK(t->i8 == nullptr);
  CHECK(std::memcmp(t->f32, s.emb.data(), 84) == 0);

  t = mf.find_tensor("head.action.w");
  REQUIRE(t);
  CHECK(t->dtype == DType::I8);
  CHECK(t->shape == std::vector<uint64_t>{17, 5});
  CHECK(t->f32 == nullptr);
  CHECK(reinterpret_cast<const uint8_t*>(t->scales) == base + mf.data_offset + t->offset);
  CHECK(reinterpret_cast<const uint8_t*>(t->i8) == base + mf.data_offset + t->offset + 128);
  CHECK(std::memcmp(t->scales, s.scales.data(), 17 * 4) == 0);
  CHECK(std::memcmp(t->i8, s.q.data(), 17 * 5) == 0);
  // The scale padding is zero.
  for (size_t i = 17 * 4; i < 128; ++i) CHECK(base[mf.data_offset + t->offset + i] == 0);

  t = mf.find_tensor("head.action.b");
  REQUIRE(t);
  CHECK(t->shape == std::vector<uint64_t>{3});
  CHECK(t->f32[2] == 3.25f);
  t = mf.find_tensor("test.four_d");
  REQUIRE(t);
  CHECK(t->shape == std::vector<uint64_t>{1, 2, 1, 3});
  CHECK(t->f32[5] == s.emb[5]);
  CHECK(mf.find_tensor("lstm.w_ih") == nullptr);
}

TEST_CASE("byte layout: header fields, 64-byte alignment, zero padding, CRC at the end") {
  Sample s;
  std::vector<uint8_t> b = serialize(s.w);
  CHECK(std::memcmp(b.data(), "HNCH", 4) == 0);
  CHECK(get_u32(b, 4) == 1);
  CHECK(b[8] == 0x04);
  CHECK(b[9] == 0x03);
  CHECK(b[10] == 0x02);
  CHECK(b[11] == 0x01);
  CHECK(get_u32(b, 12) == 0);
  CHECK(get_u64(b, 16) == b.size());
  CHECK(get_u32(b, 24) == 9);
  CHECK(get_u32(b, 28) == 4);
  const uint64_t data_offset = get_u64(b, 32);
  CHECK(data_offset % 64 == 0);
  CHECK(get_u32(b, b.size() - 4) == hunch::crc32(b.data(), b.size() - 4));

  hunch::ModelFile mf;
  REQUIRE(!read(b, &mf));
  // Metadata and the table end within 63 bytes of data_offset; the gap, and every gap between
  // blocks, is zeros; each block starts on a multiple of 64; the CRC follows the last block.
  const auto& last = mf.tensors.back();
  uint64_t expect = data_offset;
  for (const auto& t : mf.tensors) {
    CHECK(t.offset % 64 == 0);
    CHECK((data_offset + t.offset) % 64 == 0);
    CHECK(data_offset + t.offset >= expect);
    CHECK(data_offset + t.offset < expect + 64);  // no more padding than needed
    for (uint64_t i = expect; i < data_offset + t.offset; ++i) CHECK(b[i] == 0);
    expect = data_offset + t.offset + t.nbytes;
  }
  CHECK(data_offset + last.offset + last.nbytes + 4 == b.size());
  // Serialising twice gives the same bytes.
  CHECK(serialize(s.w) == b);
}

TEST_CASE("an empty model: header, padding to 64, CRC") {
  hunch::ModelWriter w;
  std::vector<uint8_t> b = serialize(w);
  CHECK(b.size() == 64 + 4);
  CHECK(get_u64(b, 32) == 64);
  hunch::ModelFile mf;
  hunch::Error e = read(b, &mf);
  CHECK_MESSAGE(!e, e.message);
  CHECK(mf.metadata.empty());
  CHECK(mf.tensors.empty());
}

TEST_CASE("set_* on an existing key replaces its value in place") {
  hunch::ModelWriter w;
  w.set_u32("a.first", 1);
  w.set_string("b.second", "x");
  w.set_f32("a.first", 2.5f);
  w.set_strings("b.second", {"y", "z"});
  hunch::ModelFile mf;
  std::vector<uint8_t> b = serialize(w);
  REQUIRE(!read(b, &mf));
  REQUIRE(mf.metadata.size() == 2);
  CHECK(mf.metadata[0].key == "a.first");
  CHECK(mf.metadata[0].value.type == MetaType::F32);
  CHECK(mf.metadata[0].value.f == 2.5f);
  CHECK(mf.metadata[1].value.strings == std::vector<std::string>{"y", "z"});
}

TEST_CASE("quantize_rows: per-row scale, error within half a step, zero rows") {
  const uint64_t rows = 9, cols = 33;
  std::vector<float> w(rows * cols);
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float& x : w) x = normal(rng) * 0.3f;
  for (uint64_t c = 0; c < cols; ++c) w[4 * cols + c] = 0.0f;  // an all-zero row
  w[2 * cols + 7] = -5.0f;                                      // a row with a large outlier
  std::vector<int8_t> q(rows * cols);
  std::vector<float> scales(rows);
  float worst = hunch::quantize_rows(rows, cols, w.data(), q.data(), scales.data());

  float max_err = 0;
  for (uint64_t r = 0; r < rows; ++r) {
    CAPTURE(r);
    float maxabs = 0;
    for (uint64_t c = 0; c < cols; ++c) maxabs = std::max(maxabs, std::fabs(w[r * cols + c]));
    if (maxabs == 0) {
      CHECK(scales[r] == 1.0f);
      for (uint64_t c = 0; c < cols; ++c) CHECK(q[r * cols + c] == 0);
      continue;
    }
    CHECK(scales[r] == maxabs / 127.0f);
    bool hit_127 = false;
    for (uint64_t c = 0; c < cols; ++c) {
      int v = q[r * cols + c];
      CHECK(v >= -127);
      CHECK(v <= 127);
      if (std::fabs(w[r * cols + c]) == maxabs) hit_127 = (v == 127 || v == -127);
      float err = std::fabs(w[r * cols + c] - static_cast<float>(v) * scales[r]);
      CHECK(err <= scales[r] * 0.5f * (1 + 1e-5f));
      max_err = std::max(max_err, err);
    }
    CHECK(hit_127);  // the largest magnitude uses the full range
  }
  CHECK(worst == max_err);
  CHECK(worst > 0);

  // Round half to even: with max 127 the step is 1, so 2.5 -> 2, 3.5 -> 4, -2.5 -> -2.
  const float row[5] = {127.0f, 2.5f, 3.5f, -2.5f, -0.5f};
  int8_t qr[5];
  float sr;
  hunch::quantize_rows(1, 5, row, qr, &sr);
  CHECK(sr == 1.0f);
  CHECK(qr[0] == 127);
  CHECK(qr[1] == 2);
  CHECK(qr[2] == 4);
  CHECK(qr[3] == -2);
  CHECK(qr[4] == 0);

  // Non-finite weights give a NaN scale and error, which the writer then refuses.
  const float bad[2] = {1.0f, std::numeric_limits<float>::infinity()};
  int8_t qb[2];
  float sb;
  CHECK(std::isnan(hunch::quantize_rows(1, 2, bad, qb, &sb)));
  CHECK(std::isnan(sb));
  hunch::ModelWriter wr;
  wr.add_i8("bad", 1, 2, qb, &sb);
  std::vector<uint8_t> out;
  CHECK(contains(wr.serialize(&out), "int8 tensor 'bad' row 0 scale at offset 0 is NaN"));
}

TEST_CASE("json_string: quotes and backslashes escaped, control bytes as \\u00XX, the rest as is") {
  CHECK(hunch::json_string("") == "\"\"");
  CHECK(hunch::json_string("/p/a b") == "\"/p/a b\"");
  CHECK(hunch::json_string("say \"hi\" \\o/") == "\"say \\\"hi\\\" \\\\o/\"");
  CHECK(hunch::json_string(std::string("\0\x01\n\x1f ", 5)) == "\"\\u0000\\u0001\\u000a\\u001f \"");
  CHECK(hunch::json_string("\x7f caf\xc3\xa9 \xe2\x80\xa8") == "\"\x7f caf\xc3\xa9 \xe2\x80\xa8\"");  // DEL, UTF-8 as is
}

TEST_CASE("metadata_json: every metadata type, file order, vocabularies left out") {
  hunch::ModelWriter w;
  w.set_string("general.architecture", "lstm-attn");
  w.set_u32("hunch.embedding_size", 64);
  w.set_strings("hunch.vocab.actions", {"<unk>", "/a"});
  w.set_u64("hunch.train.events", 12345678901234ull);
  w.set_i32("hunch.train.offset", -7);
  w.set_f32("hunch.train.lr", 0.001f);
  w.set_f32("hunch.train.inf", std::numeric_limits<float>::infinity());
  w.set_f32("hunch.train.nan", std::nanf(""));
  w.set_strings("hunch.vocab.event_types", {"<none>", "view"});
  w.set_strings("x.tags", {"a\"b", "tab\there"});
  w.set_strings("x.none", {});
  w.set_floats("hunch.time.gap_edges", {0.5f, 60.0f, 1e-3f, -2.0f});
  w.set_floats("x.empty", {});
  w.set_string("x.note\\key", "line\nbreak");
  std::vector<uint8_t> bytes;
  REQUIRE(!w.serialize(&bytes));
  hunch::ModelFile mf;
  REQUIRE(!read(bytes, &mf));
  CHECK(hunch::metadata_json(mf) ==
        "{\"general.architecture\":\"lstm-attn\",\"hunch.embedding_size\":64,"
        "\"hunch.train.events\":12345678901234,\"hunch.train.offset\":-7,"
        "\"hunch.train.lr\":0.00100000005,\"hunch.train.inf\":null,\"hunch.train.nan\":null,"
        "\"x.tags\":[\"a\\\"b\",\"tab\\u0009here\"],\"x.none\":[],"
        "\"hunch.time.gap_edges\":[0.5,60,0.00100000005,-2],\"x.empty\":[],"
        "\"x.note\\\\key\":\"line\\u000abreak\"}");
  CHECK(hunch::metadata_json(hunch::ModelFile()) == "{}");
}

TEST_CASE("metadata_json: a non-finite float in an f32 array is null (the JSON stays parseable)") {
  // Was "[1,nan,inf,-inf]": JSON.parse failed and the SDK dropped the whole metadata object.
  hunch::ModelWriter w;
  const float inf = std::numeric_limits<float>::infinity();
  w.set_floats("x.curve", {1.0f, std::nanf(""), inf, -inf, 0.25f});
  w.set_u32("x.after", 3);
  std::vector<uint8_t> bytes;
  REQUIRE(!w.serialize(&bytes));
  hunch::ModelFile mf;
  REQUIRE(!read(bytes, &mf));
  CHECK(hunch::metadata_json(mf) == "{\"x.curve\":[1,null,null,null,0.25],\"x.after\":3}");
}

TEST_CASE("the writer refuses what the reader would refuse") {
  const float f[4] = {1, 2, 3, 4};
  const int8_t q[4] = {1, 2, 3, 4};
  std::vector<uint8_t> out;
  auto refuses = [&](const hunch::ModelWriter& w, const char* expected) {
    hunch::Error e = w.serialize(&out);
    CHECK_MESSAGE(contains(e, expected), "got: " << e.message << "; expected: " << expected);
  };
  {
    hunch::ModelWriter w;
    w.add_f32("x", {4}, f);
    w.add_f32("x", {2, 2}, f);
    refuses(w, "duplicate tensor name 'x'");
  }
  {
    hunch::ModelWriter w;
    w.add_f32("", {4}, f);
    refuses(w, "tensor name is empty");
  }
  {
    hunch::ModelWriter w;
    w.add_f32(std::string("a\0b", 3), {4}, f);
    refuses(w, "tensor name 'a\\x00b' contains a NUL byte");
  }
  {
    hunch::ModelWriter w;
    w.add_f32(std::string(257, 'n'), {4}, f);
    refuses(w, "is 257 bytes, at most 256");
  }
  {
    hunch::ModelWriter w;
    w.set_u32("", 1);
    refuses(w, "metadata key is empty");
  }
  {
    hunch::ModelWriter w;
    w.set_u32(std::string(257, 'k'), 1);
    refuses(w, "metadata key 'kkkk");
  }
  {
    hunch::ModelWriter w;
    w.set_string("s", std::string(4097, 's'));
    refuses(w, "metadata key 's': string of 4097 bytes, at most 4096");
  }
  {
    hunch::ModelWriter w;
    w.set_strings("a", {"ok", std::string(4097, 's')});
    refuses(w, "metadata key 'a': item 1 is 4097 bytes, at most 4096");
  }
  {
    hunch::ModelWriter w;
    w.add_f32("x", {}, f);
    refuses(w, "tensor 'x': 0 dimensions");
  }
  {
    hunch::ModelWriter w;
    w.add_f32("x", {1, 1, 1, 1, 4}, f);
    refuses(w, "tensor 'x': 5 dimensions");
  }
  {
    hunch::ModelWriter w;
    w.add_f32("x", {4, 0}, f);
    refuses(w, "tensor 'x': dimension 1 is 0");
  }
  {
    hunch::ModelWriter w;
    w.add_f32("x", {hunch::kMaxDimSize + 1}, f);  // never reads f: the shape is refused first
    refuses(w, "tensor 'x': dimension 0 is 16777217");
  }
  {
    hunch::ModelWriter w;
    w.add_f32("x", {hunch::kMaxDimSize, hunch::kMaxDimSize}, f);
    refuses(w, "exceed the 1073741824-byte file limit");
  }
  {
    hunch::ModelWriter w;
    w.add_f32("x", {4}, nullptr);
    refuses(w, "tensor 'x': no data");
  }
  {
    hunch::ModelWriter w;
    const float bad_scales[2] = {1.0f, -1.0f};
    w.add_i8("q", 2, 2, q, bad_scales);
    refuses(w, "int8 tensor 'q' row 1 scale at offset 4 is negative");
  }
  {
    hunch::ModelWriter w;
    for (uint32_t i = 0; i <= hunch::kMaxMetadata; ++i) w.set_u32("k." + std::to_string(i), i);
    refuses(w, "1025 metadata entries, at most 1024");
  }
  {
    hunch::ModelWriter w;
    for (uint32_t i = 0; i <= hunch::kMaxTensors; ++i) w.add_f32("t." + std::to_string(i), {1}, f);
    refuses(w, "1025 tensors, at most 1024");
  }
}

TEST_CASE("limits: exactly at the limit reads, one past it is refused") {
  const float f[1] = {1};
  {
    hunch::ModelWriter w;
    for (uint32_t i = 0; i < hunch::kMaxTensors; ++i) w.add_f32("t." + std::to_string(i), {1}, f);
    std::vector<uint8_t> b = serialize(w);
    hunch::ModelFile mf;
    hunch::Error e = read(b, &mf);
    CHECK_MESSAGE(!e, e.message);
    CHECK(mf.tensors.size() == hunch::kMaxTensors);
    put_u32(b, 28, hunch::kMaxTensors + 1);
    fix_crc(b);
    CHECK(contains(read(b), "tensor count 1025 at offset 28 exceeds 1024"));
  }
  {
    hunch::ModelWriter w;
    for (uint32_t i = 0; i < hunch::kMaxMetadata; ++i) w.set_u32("k." + std::to_string(i), i);
    std::vector<uint8_t> b = serialize(w);
    hunch::ModelFile mf;
    CHECK(!read(b, &mf));
    CHECK(mf.metadata.size() == hunch::kMaxMetadata);
    put_u32(b, 24, hunch::kMaxMetadata + 1);
    fix_crc(b);
    CHECK(contains(read(b), "metadata count 1025 at offset 24 exceeds 1024"));
  }
  {
    // A 256-byte key and a 4096-byte string are fine; patched one byte longer they are not.
    hunch::ModelWriter w;
    w.set_string(std::string(256, 'k'), std::string(4096, 'v'));
    std::vector<uint8_t> b = serialize(w);
    hunch::ModelFile mf;
    CHECK(!read(b, &mf));
    CHECK(mf.metadata.at(0).value.str.size() == 4096);
    std::vector<uint8_t> longer_key = b;
    put_u32(longer_key, 40, 257);
    fix_crc(longer_key);
    CHECK(contains(read(longer_key), "metadata entry 0 at offset 40: key length 257 exceeds 256"));
    std::vector<uint8_t> longer_value = b;
    put_u32(longer_value, 40 + 4 + 256 + 4, 4097);
    fix_crc(longer_value);
    CHECK(contains(read(longer_value), "string value length 4097 at offset 304 exceeds 4096"));
  }
  {
    // The largest dimension is accepted by the checks on dims (and then fails on the bytes).
    hunch::ModelWriter w;
    w.add_f32("x", {1}, f);
    std::vector<uint8_t> b = serialize(w);
    const size_t dims_at = 40 + 4 + 1 + 4 + 4;
    b[dims_at + 0] = 0;
    b[dims_at + 3] = 1;  // 2^24
    fix_crc(b);
    CHECK(contains(read(b), "nbytes 4 at offset"));
    b[dims_at + 0] = 1;  // 2^24 + 1
    fix_crc(b);
    CHECK(contains(read(b), "dimension 0 is 16777217, at most 16777216"));
  }
}

TEST_CASE("truncated and trailing files say so, wherever the cut is") {
  Sample s;
  std::vector<uint8_t> b = serialize(s.w);
  for (size_t n = 0; n < b.size(); ++n) {
    CAPTURE(n);
    std::vector<uint8_t> cut(b.begin(), b.begin() + n);
    hunch::Error e = read(cut);
    REQUIRE(e);
    if (n == 0) {
      CHECK(contains(e, "file is empty"));
    } else if (n < 4) {
      CHECK(contains(e, "too short for a hunch model header"));
    } else {
      CHECK(e.message.rfind("truncated: ", 0) == 0);
    }
  }
  std::vector<uint8_t> longer = b;
  longer.push_back(0);
  CHECK(contains(read(longer), "trailing bytes: header says"));
}

TEST_CASE("damaged bytes: the CRC catches them, and without it nothing is read out of bounds") {
  Sample s;
  const std::vector<uint8_t> b = serialize(s.w);
  size_t accepted_without_crc = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::vector<uint8_t> d = b;
      d[i] ^= static_cast<uint8_t>(1u << bit);
      CAPTURE(i);
      CAPTURE(bit);
      CHECK(read(d));  // header damage, file_size, or the CRC: never accepted
      // Structure-only read: may accept (a flipped data or value byte) but must stay in bounds.
      if (!read(d, nullptr, false)) ++accepted_without_crc;
    }
  }
  CHECK(accepted_without_crc > 0);
  // Random multi-byte damage, read structure-only (what the fuzzer does, in miniature).
  std::mt19937 rng(1);
  for (int round = 0; round < 3000; ++round) {
    std::vector<uint8_t> d = b;
    int edits = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < edits; ++k) d[rng() % d.size()] = static_cast<uint8_t>(rng());
    if (rng() % 4 == 0) d.resize(rng() % d.size());
    hunch::ModelFile mf;
    hunch::Error e = read(d, &mf, false);
    if (!e) {
      for (const auto& t : mf.tensors) {
        CHECK(mf.data_offset + t.offset + t.nbytes <= d.size() - 4);
      }
    }
  }
}

TEST_CASE("the output is untouched on error") {
  Sample s;
  std::vector<uint8_t> b = serialize(s.w);
  hunch::ModelFile mf;
  mf.version = 77;
  b[b.size() - 1] ^= 1;
  CHECK(contains(read(b, &mf), "CRC mismatch: stored 0x"));
  CHECK(mf.version == 77);
  CHECK(mf.metadata.empty());
}

TEST_CASE("a buffer that is not 4-byte aligned is refused, not read misaligned") {
  Sample s;
  std::vector<uint8_t> b = serialize(s.w);
  std::unique_ptr<uint8_t[]> raw(new uint8_t[b.size() + 1]);
  std::memcpy(raw.get() + 1, b.data(), b.size());
  hunch::ModelFile mf;
  hunch::Error e = hunch::read_model_file(raw.get() + 1, b.size(), &mf);
  CHECK(contains(e, "is not 4-byte aligned"));
  // Without tensors there are no views, so alignment does not matter.
  hunch::ModelWriter w;
  w.set_u32("a.b", 1);
  std::vector<uint8_t> m = serialize(w);
  std::unique_ptr<uint8_t[]> raw2(new uint8_t[m.size() + 1]);
  std::memcpy(raw2.get() + 1, m.data(), m.size());
  e = hunch::read_model_file(raw2.get() + 1, m.size(), &mf);
  CHECK_MESSAGE(!e, e.message);
}

TEST_CASE("what a non-model file looks like is named") {
  auto msg = [](const std::string& s) {
    return read(std::vector<uint8_t>(s.begin(), s.end())).message;
  };
  CHECK(msg("\xEF\xBB\xBF\n  <HTML><body>gateway timeout</body></html>").find(
            "file starts with '\\xef\\xbb\\xbf\\x0a' (looks like an HTML page") != std::string::npos);
  CHECK(msg("<?xml version=\"1.0\"?><Error>AccessDenied</Error>").find("looks like an HTML page") !=
        std::string::npos);
  CHECK(msg("  [1, 2, 3]").find("looks like JSON") != std::string::npos);
  CHECK(msg(std::string("\0asm\x01\0\0\0", 8)).find("'\\x00asm' (a WebAssembly module") !=
        std::string::npos);
  CHECK(msg("GGUF\x03\0\0\0 and more").find("a GGUF (llama.cpp) model") != std::string::npos);
  // No hint for bytes that look like nothing known, but the bytes themselves are shown.
  CHECK(msg("HNCX0123456789") == "not a hunch model: file starts with 'HNCX'");
  CHECK(msg("HN") == "file is 2 bytes: too short for a hunch model header (40 bytes)");
}
