// The broken-model corpus (tests/data/broken, made by tests/gen/make-broken-models.cpp): every
// file must be refused with its own message, and refusing them must leave nothing behind that
// stops a good model from reading.
#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "hunch/format.h"
#include "test-util.h"

namespace {

struct BrokenCase {
  const char* file;
  const char* expected;  // a substring of the error
  bool        crc_only;  // the defect is caught by the CRC alone (reads with verify_crc=false)
};

// Listed explicitly, so a file missing from the corpus fails the test.
const BrokenCase kCases[] = {
    {"empty.hunch", "file is empty (0 bytes)", false},
    {"three-bytes.hunch", "file is 3 bytes: too short for a hunch model header (40 bytes)", false},
    {"random-bytes.hunch", "not a hunch model: file starts with 'B\\xe9?`'", false},
    {"html-404.hunch", "file starts with '<!DO' (looks like an HTML page", false},
    {"git-lfs-pointer.hunch", "a Git LFS pointer file, not the model: run `git lfs pull`", false},
    {"json-error.hunch", "file starts with '{\"er' (looks like JSON", false},
    {"gzip.hunch", "'\\x1f\\x8b\\x08\\x00' (gzip-compressed: serve it with Content-Encoding", false},
    {"zip.hunch", "'PK\\x03\\x04' (a zip archive", false},
    {"sequence-state.hunch", "'HNST' (a saved sequence state, not a model)", false},
    {"version-0.hunch", "format version 0 at offset 4 is invalid", false},
    {"version-2.hunch",
     "format version 2 at offset 4 is newer than this build supports (1): upgrade hunch", false},
    {"big-endian-header.hunch",
     "format version 0x01000000 at offset 4 is 1 byte-swapped: file was written big-endian",
     false},
    {"big-endian-marker.hunch", "byte order marker 0x04030201 at offset 8: file was written "
                                "big-endian", false},
    {"bad-endian-marker.hunch", "byte order marker 0xdeadbeef at offset 8 is invalid", false},
    {"file-size-too-small.hunch", "file_size 10 at offset 16 is smaller than the 40-byte header",
     false},
    {"file-size-over-limit.hunch", "file_size 1099511627776 at offset 16 exceeds the", false},
    {"truncated-header.hunch", "truncated: file is 30 bytes, shorter than the 40-byte header",
     false},
    {"truncated-metadata.hunch",
     "truncated: header says 1252 bytes, file has 282 (metadata key 'hunch.vocab.actions' at "
     "offset 228: string array item 2",
     false},
    {"truncated-table.hunch",
     "truncated: header says 1252 bytes, file has 580 (tensor 'lstm.w_hh' at offset 554: dims",
     false},
    {"truncated-data.hunch",
     "truncated: header says 1252 bytes, file has 966 (tensor 'lstm.w_ih' needs 96 bytes at "
     "offset 896, file has 966)",
     false},
    {"trailing-bytes.hunch", "trailing bytes: header says 1252 bytes, file has 1268", false},
    {"bad-crc.hunch", "CRC mismatch: stored 0x", true},
    {"flags-set.hunch", "flags 0x00000001 at offset 12: reserved", false},
    {"n-metadata-huge.hunch", "metadata count 4294967295 at offset 24 exceeds 1024", false},
    {"n-tensors-huge.hunch", "tensor count 5000 at offset 28 exceeds 1024", false},
    {"data-offset-unaligned.hunch", "data_offset 776 at offset 32 is not a multiple of 64", false},
    {"data-offset-past-end.hunch", "data_offset 1280 at offset 32 is past the end", false},
    {"data-offset-inside-table.hunch",
     "tensor 'test.cube' at offset 656: offset and nbytes of 16 bytes at offset 701 runs past the "
     "tensor data start (data_offset 704)",
     false},
    {"key-too-long.hunch", "metadata entry 3 at offset 164: key length 70000 exceeds 256", false},
    {"key-empty.hunch", "metadata entry 2 at offset 124: key is empty", false},
    {"key-with-nul.hunch", "key 'hunch\\x00train.seed' contains a NUL byte at offset 392", false},
    {"key-past-end.hunch",
     "metadata entry 1 at offset 81: key of 200 bytes at offset 85 runs past the tensor data "
     "start (data_offset 128)",
     false},
    {"duplicate-key.hunch", "duplicate metadata key 'hunch.embedding_size' at offset 196", false},
    {"unknown-meta-type.hunch",
     "metadata key 'general.quantization_version' at offset 124: unknown value type 9", false},
    {"string-past-end.hunch", "metadata key 'general.tool_version' at offset 81: string value of "
                              "4000 bytes",
     false},
    {"string-too-long.hunch", "string value length 5000 at offset 68 exceeds 4096", false},
    {"string-array-count-huge.hunch", "string array count 4294967295 at offset 255 exceeds 2000000",
     false},
    {"string-array-count-past-end.hunch",
     "string array count 1000000 at offset 255 needs at least 4000000 bytes", false},
    {"f32-array-count-past-end.hunch", "f32 array count 300000 at offset 330 needs at least",
     false},
    {"tensor-name-empty.hunch", "tensor table entry 3 at offset 607: name is empty", false},
    {"duplicate-tensor-name.hunch", "duplicate tensor name 'lstm.w_ih' at offset 554", false},
    {"unknown-dtype.hunch", "tensor 'emb.action' at offset 447: unknown dtype 7", false},
    {"zero-dims.hunch", "tensor 'head.action.b' at offset 607: 0 dimensions", false},
    {"five-dims.hunch", "tensor 'head.action.b' at offset 607: 5 dimensions, at most 4", false},
    {"int8-three-dims.hunch", "int8 tensor 'lstm.w_ih' at offset 501: 3 dimensions", false},
    {"zero-dimension.hunch", "tensor 'emb.action' at offset 447: dimension 1 is 0", false},
    {"huge-dimension.hunch", "dimension 0 is 1099511627776, at most 16777216", false},
    {"size-overflow.hunch", "size overflows (dims 16777216 x 16777216 x 16777216)", false},
    {"nbytes-mismatch.hunch", "nbytes 96 at offset 493 does not match its shape (f32 [5 x 4] "
                              "needs 80)",
     false},
    {"tensor-offset-unaligned.hunch", "data offset 132 at offset 538 is not a multiple of 64",
     false},
    {"tensor-offset-past-end.hunch", "data offset 1048576 is past the end of the tensor data",
     false},
    {"overlapping-tensors.hunch", "tensor 'lstm.w_hh' at offset 554: block [960, 1040) overlaps "
                                  "tensor 'lstm.w_ih' [896, 992)",
     false},
    {"tensors-out-of-order.hunch", "blocks must be in table order", false},
    {"nan-scale.hunch", "int8 tensor 'lstm.w_ih' row 3 scale at offset 908 is NaN", false},
    {"infinite-scale.hunch", "int8 tensor 'lstm.w_ih' row 5 scale at offset 916 is infinite",
     false},
    {"negative-scale.hunch", "int8 tensor 'lstm.w_hh' row 0 scale at offset 1024 is negative",
     false},
};

// An exact-size heap copy: with the sanitizers any read past the end is caught (a vector's
// spare capacity would hide it).
hunch::Error read_exact(const std::vector<uint8_t>& bytes, const hunch::ReadOptions& options) {
  std::unique_ptr<uint8_t[]> copy(new uint8_t[bytes.size()]);
  if (!bytes.empty()) std::memcpy(copy.get(), bytes.data(), bytes.size());
  hunch::ModelFile mf;
  return hunch::read_model_file(copy.get(), bytes.size(), &mf, options);
}

}  // namespace

TEST_CASE("every broken model is refused with its own message") {
  std::set<std::string> messages;
  size_t checked = 0;
  for (const BrokenCase& c : kCases) {
    CAPTURE(c.file);
    std::vector<uint8_t> bytes = hunch_test::read_file(hunch_test::source_path(
        std::string("tests/data/broken/") + c.file));
    CHECK(bytes.size() < 20 * 1024);

    hunch::Error e = read_exact(bytes, {});
    REQUIRE_MESSAGE(e, "accepted a broken file");
    CHECK_MESSAGE(e.message.find(c.expected) != std::string::npos,
                  "got: " << e.message << "\nexpected to contain: " << c.expected);
    CHECK_MESSAGE(messages.insert(e.message).second, "message not distinct: " << e.message);

    // The structure is checked in full without the CRC (what the fuzzer relies on): only the
    // file whose sole defect is a flipped data byte reads then, and every other one fails the
    // same way as with the CRC check.
    hunch::ReadOptions no_crc;
    no_crc.verify_crc = false;
    hunch::Error e2 = read_exact(bytes, no_crc);
    if (c.crc_only) {
      CHECK_MESSAGE(!e2, e2.message);
    } else {
      CHECK(e2.message == e.message);
    }
    ++checked;
  }
  CHECK(checked >= 24);
  CHECK(messages.size() == checked);
}

TEST_CASE("a good model still reads after the broken ones") {
  for (const BrokenCase& c : kCases) {
    std::vector<uint8_t> bytes = hunch_test::read_file(hunch_test::source_path(
        std::string("tests/data/broken/") + c.file));
    CHECK(read_exact(bytes, {}));
  }
  hunch::ModelWriter w;
  w.set_string("general.architecture", "lstm-attn");
  w.set_strings("hunch.vocab.actions", {"<unk>", "open"});
  const float emb[2 * 3] = {1, 2, 3, 4, 5, 6};
  const int8_t q[2 * 3] = {1, -2, 3, -4, 5, -6};
  const float scales[2] = {0.5f, 0.25f};
  w.add_f32("emb.action", {2, 3}, emb);
  w.add_i8("head.action.w", 2, 3, q, scales);
  std::vector<uint8_t> good;
  REQUIRE(!w.serialize(&good));
  std::unique_ptr<uint8_t[]> copy(new uint8_t[good.size()]);
  std::memcpy(copy.get(), good.data(), good.size());
  hunch::ModelFile mf;
  hunch::Error e = hunch::read_model_file(copy.get(), good.size(), &mf);
  REQUIRE_MESSAGE(!e, e.message);
  REQUIRE(mf.tensors.size() == 2);
  CHECK(mf.tensors[0].f32[5] == 6.0f);
  CHECK(mf.tensors[1].i8[4] == 5);
  CHECK(mf.tensors[1].scales[1] == 0.25f);
}
