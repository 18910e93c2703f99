// Packed action tables (hunch/packed.h, docs/format.md "Packed tables"): the int4 row codec and
// the affine u8 vector codec (round trip, bounds, every refusal naming the byte), and models whose
// emb.action / head.action.w / head.action.b are stored so. A packed model predicts bit for bit
// what the int8 model holding the decoded rows predicts (both architectures, tied and untied,
// with the copy, transition and attribute terms), under whatever kernel table this build runs;
// damaged or contradictory packed files are refused with the tensor or key named.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "hunch/format.h"
#include "hunch/model.h"
#include "hunch/packed.h"
#include "hunch/rng.h"
#include "hunch/sequence.h"
#include "model-builder.h"

using namespace hunch;

namespace {

std::vector<float> random_matrix(size_t rows, size_t cols, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> w(rows * cols);
  for (size_t r = 0; r < rows; ++r) {
    const float scale = float(std::exp2(double(rng.below(12)) - 6));  // rows over 12 octaves
    for (size_t c = 0; c < cols; ++c) w[r * cols + c] = scale * (float(rng.below(20001)) / 10000.f - 1.f);
  }
  for (size_t c = 0; c < cols; ++c) w[3 * cols + c] = 0;  // an all-zero row
  w[5 * cols] = 40.f;                                     // the largest row: top = 40 / 7
  return w;
}

// Each of the tensor's rows as the int8 loader sees it (values, scale) from X.q4 / X.q4.scale.
struct Decoded {
  std::vector<int8_t> q;
  std::vector<float>  scales;
};

Decoded decode(size_t rows, size_t cols, const std::vector<uint8_t>& packed, const std::vector<uint8_t>& codes,
               float top) {
  Decoded d;
  d.q.resize(rows * cols);
  d.scales.resize(rows);
  const Error e = decode_rows_int4(rows, cols, packed.data(), codes.data(), top, "t", d.q.data(), d.scales.data());
  REQUIRE_MESSAGE(!e, e.message);
  return d;
}

}  // namespace

TEST_CASE("int4 rows: codes in [-7, 7], one-byte scales, round trip within the grid") {
  for (size_t cols : {1, 2, 7, 16, 64}) {
    CAPTURE(cols);
    const size_t rows = 40;
    const std::vector<float> w = random_matrix(rows, cols, 3 + cols);
    std::vector<uint8_t> q4(rows * int4_row_bytes(cols)), codes(rows);
    float top = 0;
    const float worst = quantize_rows_int4(rows, cols, w.data(), q4.data(), codes.data(), &top);
    REQUIRE(std::isfinite(worst));
    const Decoded d = decode(rows, cols, q4, codes, top);
    float seen = 0;
    for (size_t r = 0; r < rows; ++r) {
      float maxabs = 0;
      for (size_t c = 0; c < cols; ++c) maxabs = std::max(maxabs, std::fabs(w[r * cols + c]));
      // The chosen scale is at most the covering one (max|row| / 7, on the 1/16-octave grid) and
      // its squared error no larger than that scale's (the least-squares search only improves).
      const float cover = maxabs / 7.f;
      if (maxabs > 0) CHECK(d.scales[r] <= cover * 1.0442f);
      double err = 0, err_cover = 0;
      for (size_t c = 0; c < cols; ++c) {
        const float x = w[r * cols + c];
        CHECK(d.q[r * cols + c] >= -7);
        CHECK(d.q[r * cols + c] <= 7);
        const float e = std::fabs(x - float(d.q[r * cols + c]) * d.scales[r]);
        seen = std::max(seen, e);
        err += double(e) * e;
        if (cover > 0) {
          const float g = std::ceil(std::log2(cover / top) * 16.f);  // the covering grid code
          float s = top * std::exp2(g / 16.f);
          if (s * 7.f < maxabs) s *= std::exp2(1.f / 16.f);
          const float qc = std::min(7.f, std::max(-7.f, std::nearbyint(x / s)));
          err_cover += double(x - qc * s) * (x - qc * s);
        }
      }
      CHECK(err <= err_cover * (1 + 1e-5) + 1e-12);
      if (maxabs == 0) for (size_t c = 0; c < cols; ++c) CHECK(d.q[r * cols + c] == 0);
    }
    CHECK(seen == worst);
    CHECK(top == doctest::Approx(40.f / 7.f));
  }
  // Non-finite weights are refused (NaN), nothing silently wrong.
  std::vector<float> bad = {1, NAN};
  std::vector<uint8_t> q4(1), codes(1);
  float top = 0;
  CHECK(std::isnan(quantize_rows_int4(1, 2, bad.data(), q4.data(), codes.data(), &top)));
}

TEST_CASE("int4 decoding refuses the nibble 8, a non-zero padding nibble and a bad top scale") {
  std::vector<int8_t> q(6);
  std::vector<float> s(2);
  const uint8_t codes[2] = {255, 0};
  const uint8_t ok[4] = {0x71, 0x09, 0xF7, 0x01};  // rows of 3: (1, 7, -7), (7, -1, 1)
  REQUIRE(decode_rows_int4(2, 3, ok, codes, 2.f, "tensor 'x.q4'", q.data(), s.data()).message == "");
  CHECK(q == std::vector<int8_t>{1, 7, -7, 7, -1, 1});
  CHECK(s[0] == 2.f);
  CHECK(s[1] == doctest::Approx(2.f * std::exp2(-255.f / 16.f)));
  const uint8_t eight[4] = {0x71, 0x09, 0x87, 0x01};
  CHECK(decode_rows_int4(2, 3, eight, codes, 2.f, "tensor 'x.q4'", q.data(), s.data()).message ==
        "tensor 'x.q4': row 1, byte offset 2 holds 0x87: int4 codes are in [-7, 7] (the nibble 8 is not used)");
  const uint8_t pad[4] = {0x71, 0x19, 0xF7, 0x01};
  CHECK(decode_rows_int4(2, 3, pad, codes, 2.f, "tensor 'x.q4'", q.data(), s.data()).message ==
        "tensor 'x.q4': row 0, byte offset 1 holds 0x19: the padding nibble of an odd row must be 0");
  for (float top : {0.f, -1.f, INFINITY, NAN})
    CHECK(decode_rows_int4(2, 3, ok, codes, top, "tensor 'x.q4'", q.data(), s.data()).message.find(
              "tensor 'x.q4': the largest row scale") == 0);
}

TEST_CASE("u8 vectors: exact with at most 256 distinct values, else a least-squares table") {
  Rng rng(9);
  // Few distinct values (a count head's biases): every value kept exactly.
  std::vector<float> few(3000);
  for (float& v : few) v = 0.03f * std::log(1.f + float(rng.below(200)));
  std::vector<uint8_t> codes(few.size());
  std::vector<float> table, back(few.size());
  CHECK(quantize_u8_table(few.size(), few.data(), codes.data(), &table) == 0.f);
  CHECK(table.size() <= 200);
  REQUIRE(decode_u8_table(few.size(), codes.data(), table, "b", back.data()).message == "");
  CHECK(back == few);
  // Continuous values: 256 entries, no worse than the affine grid of the same range.
  std::vector<float> x(5000);
  for (float& v : x) v = float(rng.below(100000)) / 1000.f - 70.f + (rng.below(10) == 0 ? 40.f : 0.f);
  codes.resize(x.size());
  back.resize(x.size());
  const float worst = quantize_u8_table(x.size(), x.data(), codes.data(), &table);
  REQUIRE(table.size() == 256);
  CHECK(std::is_sorted(table.begin(), table.end()));
  REQUIRE(decode_u8_table(x.size(), codes.data(), table, "b", back.data()).message == "");
  double se = 0, se_affine = 0;
  const float lo = *std::min_element(x.begin(), x.end()), hi = *std::max_element(x.begin(), x.end());
  const float step = (hi - lo) / 255.f;
  for (size_t i = 0; i < x.size(); ++i) {
    CHECK(std::fabs(back[i] - x[i]) <= worst);
    for (float t : table) CHECK(std::fabs(back[i] - x[i]) <= std::fabs(t - x[i]));  // the nearest entry
    se += double(back[i] - x[i]) * (back[i] - x[i]);
    const float a = lo + std::nearbyint((x[i] - lo) / step) * step;
    se_affine += double(a - x[i]) * (a - x[i]);
  }
  CHECK(se <= se_affine);
  // Refusals: a code past the table, a non-finite or empty table; non-finite input.
  const uint8_t c[3] = {0, 2, 1};
  CHECK(decode_u8_table(3, c, {1.f, 2.f}, "tensor 'b.u8'", back.data()).message ==
        "tensor 'b.u8': byte offset 1 holds code 2, the table has 2 values");
  CHECK(decode_u8_table(3, c, {1.f, NAN, 3.f}, "tensor 'b.u8'", back.data()).message ==
        "tensor 'b.u8': table value 1 is nan (must be finite)");
  CHECK(decode_u8_table(3, c, {}, "tensor 'b.u8'", back.data()).message == "tensor 'b.u8': the table has 0 values (1 to 256)");
  std::vector<float> bad = {1.f, INFINITY};
  CHECK(std::isnan(quantize_u8_table(2, bad.data(), codes.data(), &table)));
}

TEST_CASE("a packed model predicts bit for bit what the int8 model of its decoded rows predicts") {
  for (Arch arch : {Arch::LSTM_ATTN, Arch::TRANSFORMER})
    for (bool tied : {false, true})
      for (bool int8 : {false, true}) {
        CAPTURE(arch_name(arch));
        CAPTURE(tied);
        CAPTURE(int8);
        hunch_test::ModelSpec s;
        s.hyper.arch = arch;
        s.hyper.vocab_size = 301;
        s.int8 = int8;
        s.tied_head = tied;
        s.seed = 17;
        s.hyper.copy = 1;
        s.transition_successors = 4;
        s.attr_sizes = {3};
        const std::vector<uint8_t> src = hunch_test::build_model(s);
        const std::vector<uint8_t> packed = hunch_test::repack_action_tables(src, true), plain = hunch_test::repack_action_tables(src, false);
        CHECK(packed.size() < plain.size());
        std::unique_ptr<Model> a, b;
        REQUIRE(Model::load(packed.data(), packed.size(), &a).message == "");
        REQUIRE(Model::load(plain.data(), plain.size(), &b).message == "");
        CHECK(a->file().find_tensor("emb.action") == nullptr);
        CHECK(a->file().find_tensor("emb.action.q4") != nullptr);
        REQUIRE(a->weights().emb_action.is_int8());
        REQUIRE(a->weights().head_action.is_int8());
        CHECK((a->weights().head_action.i8 == a->weights().emb_action.i8) == tied);
        Sequence sa(*a), sb(*b);
        Rng rng(5);
        for (int step = 0; step < 25; ++step) {
          Event e;
          e.action = uint32_t(rng.below(a->hyper().vocab_size));
          e.type = uint32_t(rng.below(a->hyper().type_count));
          e.time = 60.0 * step;
          REQUIRE(!sa.push(e));
          REQUIRE(!sb.push(e));
          const float *la = sa.action_logits(), *lb = sb.action_logits();
          CHECK(std::memcmp(la, lb, sizeof(float) * a->hyper().vocab_size) == 0);
          Prediction pa[10], pb[10];
          REQUIRE(sa.predict(10, pa) == sb.predict(10, pb));
          for (int k = 0; k < 10; ++k) {
            CHECK(pa[k].action == pb[k].action);
            CHECK(pa[k].probability == pb[k].probability);
          }
        }
      }
}

TEST_CASE("damaged or contradictory packed tables are refused, naming the tensor or key") {
  hunch_test::ModelSpec s;
  s.hyper.vocab_size = 40;
  s.int8 = true;
  const std::vector<uint8_t> src = hunch_test::build_model(s);
  auto refused = [&](const hunch_test::PackDamage& d) {
    const std::vector<uint8_t> bytes = hunch_test::repack_action_tables(src, true, d);
    std::unique_ptr<Model> m;
    const Error e = Model::load(bytes.data(), bytes.size(), &m);
    CHECK(m == nullptr);
    return e.message;
  };
  hunch_test::PackDamage d;
  d.drop_tensor = "emb.action.q4.scale";
  CHECK(refused(d) == "model is missing tensor 'emb.action.q4.scale'");
  d = {};
  d.drop_tensor = "head.action.b.u8";
  CHECK(refused(d) == "model is missing tensor 'head.action.b.u8'");
  d = {};
  d.extra_tensor = "emb.action";
  CHECK(refused(d) == "model: key 'hunch.int4.emb.action' says tensor 'emb.action' is packed, but the file also has "
                      "'emb.action' (a packed matrix is emb.action.q4 and emb.action.q4.scale only)");
  d = {};
  d.extra_tensor = "head.action.b";
  CHECK(refused(d) == "model: key 'hunch.u8.head.action.b' says tensor 'head.action.b' is packed, but the file also "
                      "has 'head.action.b' (a packed vector is head.action.b.u8 only)");
  d = {};
  d.flip_byte = 8 * 3 + 2;  // D 16: 8 bytes a row; row 3, byte 2
  CHECK(refused(d) == "tensor 'emb.action.q4': row 3, byte offset 26 holds 0x08: int4 codes are in [-7, 7] "
                      "(the nibble 8 is not used)");
  d = {};
  d.q4_shape = true;
  CHECK(refused(d) == "tensor 'emb.action.q4' is u8 of shape (40, 7), a packed table needs U8 of shape (40, 8)");
  d = {};
  d.key = "hunch.int4.head.action.w";
  d.key_as_u32 = true;
  CHECK(refused(d) == "model metadata: key 'hunch.int4.head.action.w' has type u32, expected F32");
  d = {};
  d.bias_code = 7;
  CHECK(refused(d).find("tensor 'head.action.b.u8' (table hunch.u8.head.action.b): byte offset 7 holds code ") == 0);
  d = {};
  d.key = "hunch.u8.head.action.b";
  d.key_value = {1.f, NAN};
  CHECK(refused(d) == "tensor 'head.action.b.u8' (table hunch.u8.head.action.b): table value 1 is nan (must be finite)");
  d = {};
  d.key = "hunch.u8.head.action.b";
  d.key_as_u32 = true;
  CHECK(refused(d) == "model metadata: key 'hunch.u8.head.action.b' has type u32, expected F32_ARRAY");
}
