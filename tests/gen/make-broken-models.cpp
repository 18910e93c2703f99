// Regenerates tests/data/broken/*.hunch: one defect per file, each made from a small valid
// model written by ModelWriter. The corpus is checked in, so tests/core/test-broken-models.cpp
// does not depend on the writer it partly tests; the CMake target hunch_make_broken_models
// builds this generator, and the CTest native/broken-corpus-regenerates checks that it writes
// exactly the committed files (tests/gen/check-broken-corpus.cmake). To regenerate, from the
// repository root:
//
//   cmake --build build/native --target hunch_make_broken_models
//   build/native/hunch_make_broken_models tests/data/broken
//
// Where a structural defect would also break the CRC, the CRC is recomputed so the reader gets
// past the CRC check to the defect the file is about (files about the CRC, truncation or
// trailing bytes keep the original CRC). tests/core/test-broken-models.cpp lists every file
// with the error it must produce; tests/data/broken/README.md says what each one holds.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "hunch/format.h"

namespace {

using Bytes = std::vector<uint8_t>;

uint32_t get_u32(const Bytes& b, size_t at) {
  return b[at] | b[at + 1] << 8 | b[at + 2] << 16 | static_cast<uint32_t>(b[at + 3]) << 24;
}
uint64_t get_u64(const Bytes& b, size_t at) {
  return get_u32(b, at) | static_cast<uint64_t>(get_u32(b, at + 4)) << 32;
}
void set_u32(Bytes& b, size_t at, uint32_t v) {
  for (int k = 0; k < 4; ++k) b[at + k] = static_cast<uint8_t>(v >> (8 * k));
}
void set_u64(Bytes& b, size_t at, uint64_t v) {
  for (int k = 0; k < 8; ++k) b[at + k] = static_cast<uint8_t>(v >> (8 * k));
}
void set_f32(Bytes& b, size_t at, float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  set_u32(b, at, bits);
}
void fix_crc(Bytes& b) { set_u32(b, b.size() - 4, hunch::crc32(b.data(), b.size() - 4)); }

// Where each field of a (valid) file lies: the generator's own walk, kept independent of the
// reader under test.
struct MetaAt {
  std::string key;
  size_t entry, key_len, type, value;
};
struct TensorAt {
  std::string name;
  size_t entry, name_len, dtype, n_dims, dims, offset, nbytes;
  uint64_t data;  // file offset of the block
};
struct Layout {
  std::vector<MetaAt> meta;
  std::vector<TensorAt> tensors;
  size_t table_start = 0, table_end = 0;
};

Layout walk(const Bytes& b) {
  Layout l;
  size_t p = 40;
  uint32_t n_meta = get_u32(b, 24), n_tensors = get_u32(b, 28);
  uint64_t data_offset = get_u64(b, 32);
  auto skip_str = [&](size_t at) { return at + 4 + get_u32(b, at); };
  for (uint32_t i = 0; i < n_meta; ++i) {
    MetaAt m;
    m.entry = m.key_len = p;
    m.key.assign(reinterpret_cast<const char*>(&b[p + 4]), get_u32(b, p));
    m.type = skip_str(p);
    m.value = m.type + 4;
    p = m.value;
    switch (get_u32(b, m.type)) {
      case 1: case 2: case 3: p += 4; break;
      case 4: p += 8; break;
      case 5: p = skip_str(p); break;
      case 6: {
        uint32_t n = get_u32(b, p);
        p += 4;
        for (uint32_t j = 0; j < n; ++j) p = skip_str(p);
        break;
      }
      case 7: p += 4 + 4 * static_cast<size_t>(get_u32(b, p)); break;
      default: std::fprintf(stderr, "walk: bad base file\n"); std::exit(1);
    }
    l.meta.push_back(m);
  }
  l.table_start = p;
  for (uint32_t i = 0; i < n_tensors; ++i) {
    TensorAt t;
    t.entry = t.name_len = p;
    t.name.assign(reinterpret_cast<const char*>(&b[p + 4]), get_u32(b, p));
    t.dtype = skip_str(p);
    t.n_dims = t.dtype + 4;
    t.dims = t.n_dims + 4;
    t.offset = t.dims + 8 * get_u32(b, t.n_dims);
    t.nbytes = t.offset + 8;
    t.data = data_offset + get_u64(b, t.offset);
    p = t.nbytes + 8;
    l.tensors.push_back(t);
  }
  l.table_end = p;
  return l;
}

const MetaAt& meta(const Layout& l, const char* key) {
  for (const MetaAt& m : l.meta) {
    if (m.key == key) return m;
  }
  std::fprintf(stderr, "no key %s\n", key);
  std::exit(1);
}
const TensorAt& tensor(const Layout& l, const char* name) {
  for (const TensorAt& t : l.tensors) {
    if (t.name == name) return t;
  }
  std::fprintf(stderr, "no tensor %s\n", name);
  std::exit(1);
}

Bytes serialize(const hunch::ModelWriter& w) {
  Bytes b;
  if (hunch::Error e = w.serialize(&b)) {
    std::fprintf(stderr, "serialize: %s\n", e.message.c_str());
    std::exit(1);
  }
  return b;
}

// The base: every metadata type, both dtypes, a 1-D, 2-D and 3-D f32 tensor. The tensor names
// follow docs/format.md where a real tensor fits; test.cube exists for the 3-D overflow case.
Bytes make_base() {
  hunch::ModelWriter w;
  w.set_string("general.architecture", "lstm-attn");
  w.set_string("general.tool_version", "hunch 0.1.0");
  w.set_u32("general.quantization_version", 1);
  w.set_u32("hunch.embedding_size", 4);
  w.set_u32("hunch.attention.size", 4);  // same length as the key above: duplicate-key.hunch
  w.set_strings("hunch.vocab.actions", {"<unk>", "open", "save", "close", "share"});
  w.set_floats("hunch.time.gap_edges", {1.0f, 10.0f, 60.0f});
  w.set_f32("hunch.train.valid_ndcg_10", 0.5f);
  w.set_i32("hunch.train.seed", -7);
  w.set_u64("hunch.train.examples", 123456789012ull);

  std::vector<float> emb(5 * 4), bias(5), cube(8), w_ih(8 * 4), w_hh(8 * 2);
  for (size_t i = 0; i < emb.size(); ++i) emb[i] = 0.25f * static_cast<float>(i) - 2.0f;
  for (size_t i = 0; i < bias.size(); ++i) bias[i] = 0.1f * static_cast<float>(i);
  for (size_t i = 0; i < cube.size(); ++i) cube[i] = static_cast<float>(i);
  for (size_t i = 0; i < w_ih.size(); ++i) w_ih[i] = std::sin(static_cast<float>(i));
  for (size_t i = 0; i < w_hh.size(); ++i) w_hh[i] = std::cos(static_cast<float>(i));
  std::vector<int8_t> q_ih(w_ih.size()), q_hh(w_hh.size());
  std::vector<float> s_ih(8), s_hh(8);
  hunch::quantize_rows(8, 4, w_ih.data(), q_ih.data(), s_ih.data());
  hunch::quantize_rows(8, 2, w_hh.data(), q_hh.data(), s_hh.data());

  w.add_f32("emb.action", {5, 4}, emb.data());
  w.add_i8("lstm.w_ih", 8, 4, q_ih.data(), s_ih.data());
  w.add_i8("lstm.w_hh", 8, 2, q_hh.data(), s_hh.data());  // same name length as lstm.w_ih
  w.add_f32("head.action.b", {5}, bias.data());
  w.add_f32("test.cube", {2, 2, 2}, cube.data());
  return serialize(w);
}

// Two metadata entries, no tensors: the last key can run off the end of the file.
Bytes make_metadata_only() {
  hunch::ModelWriter w;
  w.set_string("general.architecture", "lstm-attn");
  w.set_u32("hunch.embedding_size", 4);
  return serialize(w);
}

Bytes text(const char* s) { return Bytes(s, s + std::strlen(s)); }

// gzip (RFC 1952) of `data` with one stored deflate block: a real .gz of the model, as a server
// that compresses without Content-Encoding would deliver it.
Bytes gzip_stored(const Bytes& data) {
  Bytes g = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
  uint16_t n = static_cast<uint16_t>(data.size());
  g.push_back(1);  // BFINAL, stored
  g.push_back(n & 0xff);
  g.push_back(n >> 8);
  g.push_back(~n & 0xff);
  g.push_back((~n >> 8) & 0xff);
  g.insert(g.end(), data.begin(), data.end());
  size_t at = g.size();
  g.resize(at + 8);
  set_u32(g, at, hunch::crc32(data.data(), data.size()));
  set_u32(g, at + 4, static_cast<uint32_t>(data.size()));
  return g;
}

int written = 0;
std::string out_dir;

void emit(const char* name, const Bytes& b) {
  std::string path = out_dir + "/" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(b.data(), 1, b.size(), f) != b.size() || std::fclose(f) != 0) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::exit(1);
  }
  ++written;
}

// A copy of the base with `edit` applied and the CRC recomputed.
template <typename F>
void emit_fixed(const char* name, const Bytes& base, F edit) {
  Bytes b = base;
  edit(b);
  fix_crc(b);
  emit(name, b);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR   (normally tests/data/broken)\n", argv[0]);
    return 2;
  }
  out_dir = argv[1];
  const Bytes base = make_base();
  const Layout l = walk(base);
  const size_t size = base.size();

  // -- not a hunch file at all
  emit("empty.hunch", {});
  emit("three-bytes.hunch", text("HNC"));
  {
    Bytes r(96);
    uint32_t x = 0x9e3779b9u;
    for (uint8_t& c : r) {
      x = x * 1664525u + 1013904223u;  // LCG: reproducible "random" bytes
      c = static_cast<uint8_t>(x >> 24);
    }
    emit("random-bytes.hunch", r);
  }
  emit("html-404.hunch", text("<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>"
                              "<body><h1>Not Found</h1><p>The requested URL was not found on "
                              "this server.</p></body></html>\n"));
  emit("git-lfs-pointer.hunch",
       text("version https://git-lfs.github.com/spec/v1\n"
            "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
            "size 1048576\n"));
  emit("json-error.hunch", text("{\"error\": {\"code\": 404, \"message\": \"model not found\"}}\n"));
  emit("gzip.hunch", gzip_stored(base));
  {
    Bytes z = text("PK\x03\x04");
    z.insert(z.end(), base.begin(), base.end());
    emit("zip.hunch", z);
  }
  {
    Bytes s = base;
    std::memcpy(s.data(), "HNST", 4);
    emit("sequence-state.hunch", s);
  }

  // -- header: version, byte order, sizes
  emit_fixed("version-0.hunch", base, [](Bytes& b) { set_u32(b, 4, 0); });
  emit_fixed("version-2.hunch", base, [](Bytes& b) { set_u32(b, 4, 2); });
  emit_fixed("big-endian-header.hunch", base, [](Bytes& b) {
    set_u32(b, 4, 0x01000000);
    set_u32(b, 8, 0x04030201);
  });
  emit_fixed("big-endian-marker.hunch", base, [](Bytes& b) { set_u32(b, 8, 0x04030201); });
  emit_fixed("bad-endian-marker.hunch", base, [](Bytes& b) { set_u32(b, 8, 0xdeadbeef); });
  emit_fixed("file-size-too-small.hunch", base, [](Bytes& b) { set_u64(b, 16, 10); });
  emit_fixed("file-size-over-limit.hunch", base, [](Bytes& b) { set_u64(b, 16, 1ull << 40); });
  emit("truncated-header.hunch", Bytes(base.begin(), base.begin() + 30));
  {
    // Cut inside the third action name of hunch.vocab.actions.
    size_t items = meta(l, "hunch.vocab.actions").value + 4;
    size_t third = items + (4 + 5) + (4 + 4) + 4 + 2;  // "<unk>", "open", then 2 bytes in
    emit("truncated-metadata.hunch", Bytes(base.begin(), base.begin() + third));
  }
  {
    size_t cut = tensor(l, "lstm.w_hh").dims + 5;  // inside the dims of lstm.w_hh
    emit("truncated-table.hunch", Bytes(base.begin(), base.begin() + cut));
  }
  {
    size_t cut = tensor(l, "lstm.w_ih").data + 70;  // inside lstm.w_ih's int8 values
    emit("truncated-data.hunch", Bytes(base.begin(), base.begin() + cut));
  }
  {
    Bytes t = base;
    for (int i = 0; i < 16; ++i) t.push_back(static_cast<uint8_t>(0xA0 + i));
    emit("trailing-bytes.hunch", t);
  }
  {
    Bytes c = base;
    c[tensor(l, "emb.action").data + 13] ^= 0x10;  // one flipped bit in the f32 data
    emit("bad-crc.hunch", c);
  }
  emit_fixed("flags-set.hunch", base, [](Bytes& b) { set_u32(b, 12, 1); });
  emit_fixed("n-metadata-huge.hunch", base, [](Bytes& b) { set_u32(b, 24, 0xffffffffu); });
  emit_fixed("n-tensors-huge.hunch", base, [](Bytes& b) { set_u32(b, 28, 5000); });
  emit_fixed("data-offset-unaligned.hunch", base,
             [](Bytes& b) { set_u64(b, 32, get_u64(b, 32) + 8); });
  emit_fixed("data-offset-past-end.hunch", base,
             [size](Bytes& b) { set_u64(b, 32, (size + 63) / 64 * 64); });
  emit_fixed("data-offset-inside-table.hunch", base, [&l](Bytes& b) {
    // The last multiple of 64 before the table ends: the table runs into "tensor data".
    set_u64(b, 32, (l.table_end - 1) / 64 * 64);
  });

  // -- metadata
  emit_fixed("key-too-long.hunch", base, [&l](Bytes& b) { set_u32(b, l.meta[3].key_len, 70000); });
  emit_fixed("key-empty.hunch", base, [&l](Bytes& b) { set_u32(b, l.meta[2].key_len, 0); });
  emit_fixed("key-with-nul.hunch", base,
             [&l](Bytes& b) { b[meta(l, "hunch.train.seed").key_len + 4 + 5] = 0; });
  {
    const Bytes small = make_metadata_only();
    const Layout sl = walk(small);
    emit_fixed("key-past-end.hunch", small, [&sl](Bytes& b) { set_u32(b, sl.meta[1].key_len, 200); });
  }
  emit_fixed("duplicate-key.hunch", base, [&l](Bytes& b) {
    const MetaAt& m = meta(l, "hunch.attention.size");
    std::memcpy(&b[m.key_len + 4], "hunch.embedding_size", 20);
  });
  emit_fixed("unknown-meta-type.hunch", base,
             [&l](Bytes& b) { set_u32(b, meta(l, "general.quantization_version").type, 9); });
  emit_fixed("string-past-end.hunch", base,
             [&l](Bytes& b) { set_u32(b, meta(l, "general.tool_version").value, 4000); });
  emit_fixed("string-too-long.hunch", base,
             [&l](Bytes& b) { set_u32(b, meta(l, "general.architecture").value, 5000); });
  emit_fixed("string-array-count-huge.hunch", base,
             [&l](Bytes& b) { set_u32(b, meta(l, "hunch.vocab.actions").value, 0xffffffffu); });
  emit_fixed("string-array-count-past-end.hunch", base,
             [&l](Bytes& b) { set_u32(b, meta(l, "hunch.vocab.actions").value, 1000000); });
  emit_fixed("f32-array-count-past-end.hunch", base,
             [&l](Bytes& b) { set_u32(b, meta(l, "hunch.time.gap_edges").value, 300000); });

  // -- tensor table
  emit_fixed("tensor-name-empty.hunch", base,
             [&l](Bytes& b) { set_u32(b, tensor(l, "head.action.b").name_len, 0); });
  emit_fixed("duplicate-tensor-name.hunch", base, [&l](Bytes& b) {
    std::memcpy(&b[tensor(l, "lstm.w_hh").name_len + 4], "lstm.w_ih", 9);
  });
  emit_fixed("unknown-dtype.hunch", base,
             [&l](Bytes& b) { set_u32(b, tensor(l, "emb.action").dtype, 7); });
  emit_fixed("zero-dims.hunch", base,
             [&l](Bytes& b) { set_u32(b, tensor(l, "head.action.b").n_dims, 0); });
  emit_fixed("five-dims.hunch", base,
             [&l](Bytes& b) { set_u32(b, tensor(l, "head.action.b").n_dims, 5); });
  emit_fixed("int8-three-dims.hunch", base,
             [&l](Bytes& b) { set_u32(b, tensor(l, "lstm.w_ih").n_dims, 3); });
  emit_fixed("zero-dimension.hunch", base,
             [&l](Bytes& b) { set_u64(b, tensor(l, "emb.action").dims + 8, 0); });
  emit_fixed("huge-dimension.hunch", base,
             [&l](Bytes& b) { set_u64(b, tensor(l, "emb.action").dims, 1ull << 40); });
  emit_fixed("size-overflow.hunch", base, [&l](Bytes& b) {
    for (int k = 0; k < 3; ++k) set_u64(b, tensor(l, "test.cube").dims + 8 * k, 1ull << 24);
  });
  emit_fixed("nbytes-mismatch.hunch", base, [&l](Bytes& b) {
    size_t at = tensor(l, "emb.action").nbytes;
    set_u64(b, at, get_u64(b, at) + 16);
  });
  emit_fixed("tensor-offset-unaligned.hunch", base, [&l](Bytes& b) {
    size_t at = tensor(l, "lstm.w_ih").offset;
    set_u64(b, at, get_u64(b, at) + 4);
  });
  emit_fixed("tensor-offset-past-end.hunch", base,
             [&l](Bytes& b) { set_u64(b, tensor(l, "test.cube").offset, 1ull << 20); });
  emit_fixed("overlapping-tensors.hunch", base, [&l](Bytes& b) {
    // lstm.w_hh moved to start 64 bytes into lstm.w_ih's block (still aligned, still in order).
    set_u64(b, tensor(l, "lstm.w_hh").offset, get_u64(b, tensor(l, "lstm.w_ih").offset) + 64);
  });
  emit_fixed("tensors-out-of-order.hunch", base,
             [&l](Bytes& b) { set_u64(b, tensor(l, "head.action.b").offset, 0); });

  // -- tensor data
  emit_fixed("nan-scale.hunch", base,
             [&l](Bytes& b) { set_f32(b, tensor(l, "lstm.w_ih").data + 4 * 3, std::nanf("")); });
  emit_fixed("infinite-scale.hunch", base,
             [&l](Bytes& b) { set_f32(b, tensor(l, "lstm.w_ih").data + 4 * 5, INFINITY); });
  emit_fixed("negative-scale.hunch", base,
             [&l](Bytes& b) { set_f32(b, tensor(l, "lstm.w_hh").data, -0.5f); });

  std::printf("wrote %d files to %s (base model %zu bytes)\n", written, out_dir.c_str(), size);
  return 0;
}
