// The architecture table (hunch/arch.h): every architecture has a sound entry, layouts resolve
// to the shapes docs/format.md gives (the optional session embeddings and conversion head only
// with their keys), Model binds every tensor of the table into its slot, and the one gap_bucket
// and the session buckets bucket as docs/architecture.md says.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <set>
#include <string>

#include "hunch/arch.h"
#include "hunch/model.h"
#include "model-builder.h"

using namespace hunch;

namespace {

Hyper sizes(Arch a) {
  Hyper h;
  h.arch = a;
  h.vocab_size = 11;
  h.type_count = 3;
  h.gap_buckets = 5;
  h.embed = 12;
  h.hidden = 7;
  h.attn_size = 5;
  h.window = 4;
  h.layers = 3;
  h.heads = 2;
  h.ffn = 9;
  return h;
}

const TensorLayout* find(const std::vector<TensorLayout>& l, const std::string& name) {
  for (const auto& t : l)
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace

TEST_CASE("every architecture has one table entry, found by its name") {
  std::set<std::string> names;
  for (Arch a : {Arch::LSTM_ATTN, Arch::TRANSFORMER}) {
    const ArchSpec& s = arch_spec(a);
    CHECK(s.arch == a);
    CHECK(names.insert(s.name).second);
    REQUIRE(find_arch(s.name) == &s);
    CHECK(std::string(arch_name(a)) == s.name);
  }
  CHECK(arch_specs().size() == names.size());
  CHECK(find_arch("lstm") == nullptr);
  CHECK(arch_names() == "lstm-attn, transformer");
}

TEST_CASE("table entries are sound: one binding slot of the right kind, vectors never quantised, ties resolve") {
  for (const ArchSpec& a : arch_specs()) {
    Hyper h = sizes(a.arch);
    h.conversion = h.session_inputs = 1;  // the optional tensors too
    const auto layout = tensor_layout(h);
    std::set<std::string> names;
    for (const TensorLayout& t : layout) {
      INFO(a.name << " " << t.name);
      CHECK(names.insert(t.name).second);
      CHECK(t.rows > 0);
      CHECK(t.is_matrix() == t.spec->is_matrix());
      CHECK((t.spec->matrix != nullptr) == t.is_matrix());
      CHECK((t.spec->vector != nullptr) == !t.is_matrix());
      if (!t.is_matrix()) CHECK_FALSE(t.spec->quantised);
      CHECK(t.spec->range > 0);
      if (t.spec->tied_with) {
        const TensorLayout* other = find(layout, t.spec->tied_with);
        REQUIRE(other != nullptr);
        CHECK(other->rows == t.rows);
        CHECK(other->cols == t.cols);
      }
    }
    std::set<std::string> keys;
    for (const HyperKey& k : hyper_keys(a.arch)) {
      CHECK(keys.insert(k.key).second);
      CHECK(k.min >= 1);
      CHECK(k.min <= k.max);
    }
  }
}

TEST_CASE("layouts resolve shapes from the hyper-parameters, in file order") {
  const Hyper l = sizes(Arch::LSTM_ATTN);
  const auto lstm = tensor_layout(l);
  REQUIRE(lstm.size() == 3 + 8 + 6);
  CHECK(lstm.front().name == "emb.action");
  CHECK(lstm.back().name == "head.exit.b");
  CHECK(find(lstm, "lstm.w_ih")->shape() == std::vector<uint64_t>{4 * 7, 12});
  CHECK(find(lstm, "proj.w")->shape() == std::vector<uint64_t>{12, 2 * 7});
  CHECK(find(lstm, "attn.w_q")->shape() == std::vector<uint64_t>{5, 7});
  CHECK(find(lstm, "emb.gap")->shape() == std::vector<uint64_t>{5, 12});
  CHECK(find(lstm, "head.exit.w")->shape() == std::vector<uint64_t>{1, 12});
  CHECK(find(lstm, "head.action.b")->shape() == std::vector<uint64_t>{11});
  CHECK(find(lstm, "blk.0.ln1.g") == nullptr);

  const Hyper t = sizes(Arch::TRANSFORMER);
  const auto tf = tensor_layout(t);
  REQUIRE(tf.size() == 3 + 17 * 3 + 2 + 6);
  CHECK(find(tf, "blk.2.ffn.w1")->shape() == std::vector<uint64_t>{9, 12});
  CHECK(find(tf, "blk.2.ffn.w1")->block == 2);
  CHECK(find(tf, "blk.1.attn.recency")->shape() == std::vector<uint64_t>{2});
  CHECK(find(tf, "blk.3.ln1.g") == nullptr);
  CHECK(find(tf, "lstm.w_ih") == nullptr);
  CHECK(tf[3].name == "blk.0.ln1.g");
  CHECK(tf[tf.size() - 7].name == "final_ln.b");
}

TEST_CASE("optional parts: session embeddings right after emb.gap, the conversion head after the exit head, each only with its key") {
  for (Arch a : {Arch::LSTM_ATTN, Arch::TRANSFORMER}) {
    INFO(std::string(arch_name(a)));
    const Hyper plain = sizes(a);
    const size_t n = tensor_layout(plain).size();
    for (uint32_t conversion : {0u, 1u})
      for (uint32_t session : {0u, 1u}) {
        INFO("conversion " << conversion << ", session inputs " << session);
        Hyper h = plain;
        h.conversion = conversion;
        h.session_inputs = session;
        const auto l = tensor_layout(h);
        // Every tensor of the plain layout, in its order, plus the optional ones.
        REQUIRE(l.size() >= n + 2 * conversion + 2 * session);
        if (!conversion && !session) CHECK(l.size() == n);
        size_t next = 0;
        for (const TensorLayout& t : tensor_layout(plain)) {
          while (next < l.size() && l[next].name != t.name) ++next;
          CHECK_MESSAGE(next < l.size(), t.name << " kept, in order");
        }
        CHECK(l[2].name == "emb.gap");
        CHECK((find(l, "emb.session_position") != nullptr) == bool(session));
        CHECK((find(l, "emb.session_count") != nullptr) == bool(session));
        CHECK((find(l, "head.conversion.w") != nullptr) == bool(conversion));
        CHECK((find(l, "head.conversion.b") != nullptr) == bool(conversion));
        if (session) {
          CHECK(l[3].name == "emb.session_position");
          CHECK(l[4].name == "emb.session_count");
          CHECK(l[3].shape() == std::vector<uint64_t>{kSessionPositionBuckets, 12});
          CHECK(l[4].shape() == std::vector<uint64_t>{kSessionCountBuckets, 12});
          CHECK(l[3].spec->part == Part::EMBEDDING);
          CHECK(l[3].spec->quantised);
        }
        if (conversion) {  // right after the exit head
          size_t exit_b = 0;
          while (l[exit_b].name != "head.exit.b") ++exit_b;
          REQUIRE(exit_b + 2 < l.size());
          CHECK(l[exit_b + 1].name == "head.conversion.w");
          CHECK(l[exit_b + 1].shape() == std::vector<uint64_t>{1, 12});
          CHECK(l[exit_b + 2].name == "head.conversion.b");
          CHECK(l[exit_b + 2].shape() == std::vector<uint64_t>{1});
        }
      }
  }
}

TEST_CASE("session buckets: position 1-12 one each, then 13-16, 17-24, 25-48, 49+; sessions 1-4, 5-7, 8-12, 13-24, 25+") {
  const uint64_t position_edges[][2] = {{1, 0},   {2, 1},   {12, 11}, {13, 12}, {16, 12}, {17, 13},
                                        {24, 13}, {25, 14}, {48, 14}, {49, 15}, {1u << 24, 15}};
  for (const auto& c : position_edges) {
    CAPTURE(c[0]);
    CHECK(session_position_bucket(c[0]) == c[1]);
  }
  const uint64_t count_edges[][2] = {{1, 0},  {4, 3},  {5, 4},  {7, 4},  {8, 5},
                                     {12, 5}, {13, 6}, {24, 6}, {25, 7}, {1u << 24, 7}};
  for (const auto& c : count_edges) {
    CAPTURE(c[0]);
    CHECK(session_count_bucket(c[0]) == c[1]);
  }
  // 0 (a restored state may hold it) reads as the first bucket; every bucket is in its table.
  CHECK(session_position_bucket(0) == 0);
  CHECK(session_count_bucket(0) == 0);
  for (uint64_t p = 0; p < 100; ++p) {
    CHECK(session_position_bucket(p) < kSessionPositionBuckets);
    CHECK(session_count_bucket(p) < kSessionCountBuckets);
    if (p) CHECK(session_position_bucket(p) >= session_position_bucket(p - 1));
    if (p) CHECK(session_count_bucket(p) >= session_count_bucket(p - 1));
  }
}

TEST_CASE("Model binds every tensor of the table into its slot") {
  // With and without the optional parts (session inputs, conversion head).
  for (Arch a : {Arch::LSTM_ATTN, Arch::TRANSFORMER})
    for (bool int8 : {false, true})
      for (uint32_t optional : {0u, 1u}) {
        const std::string label =
            std::string(arch_name(a)) + (int8 ? " int8" : " f32") + (optional ? " with the optional parts" : "");
        INFO(label);
        hunch_test::ModelSpec s;
        s.hyper.arch = a;
        s.int8 = int8;
        s.hyper.conversion = s.hyper.session_inputs = optional;
        s.hyper.type_count = 5;  // the goal type "purchase" is type 4
        const auto bytes = hunch_test::build_model(s);
        std::unique_ptr<Model> m;
        Error e = Model::load(bytes.data(), bytes.size(), &m);
        REQUIRE_MESSAGE(!e, e.message);
        CHECK(m->hyper().conversion == optional);
        CHECK(m->hyper().session_inputs == optional);
        CHECK(m->session_gap() == (optional ? 1800.0 : 0.0));
        CHECK(m->goal_types().size() == optional);  // "purchase"
        Weights& w = const_cast<Weights&>(m->weights());
        const auto layout = tensor_layout(m->hyper());
        CHECK(layout.size() == m->file().tensors.size());
        std::set<const void*> bound;
        for (const TensorLayout& t : layout) {
          INFO(t.name);
          const TensorEntry* entry = m->file().find_tensor(t.name);
          REQUIRE(entry != nullptr);
          if (t.is_matrix()) {
            const Matrix* slot = t.spec->matrix(w, t.block);
            CHECK(slot->rows == t.rows);
            CHECK(slot->cols == t.cols);
            CHECK(slot->is_int8() == (int8 && t.spec->quantised));
            const void* data = slot->is_int8() ? static_cast<const void*>(slot->i8) : slot->f32;
            CHECK(data == (slot->is_int8() ? static_cast<const void*>(entry->i8) : entry->f32));
            CHECK(bound.insert(slot).second);  // no two tensors share a slot
          } else {
            const Vector* slot = t.spec->vector(w, t.block);
            CHECK(slot->size == t.rows);
            CHECK(slot->data == entry->f32);
            CHECK(bound.insert(slot).second);
          }
        }
        // The optional parts land in the fields the step function reads.
        if (optional) {
          CHECK(find(layout, "emb.session_position")->spec->matrix(w, 0) == &w.emb_session_position);
          CHECK(find(layout, "emb.session_count")->spec->matrix(w, 0) == &w.emb_session_count);
          CHECK(find(layout, "head.conversion.w")->spec->matrix(w, 0) == &w.head_conversion);
          CHECK(find(layout, "head.conversion.b")->spec->vector(w, 0) == &w.head_conversion_b);
        }
      }
}

TEST_CASE("gap_bucket: 0 for a time that is not finite, else 1 + the edges at or below the gap") {
  const std::vector<float> e = {1, 60};
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  CHECK(gap_bucket(e, nan, 5) == 0);
  CHECK(gap_bucket(e, 5, nan) == 0);
  CHECK(gap_bucket(e, 0, inf) == 0);
  CHECK(gap_bucket(e, -inf, 0) == 0);
  CHECK(gap_bucket(e, 0, 0.5) == 1);
  CHECK(gap_bucket(e, 0, 1) == 2);  // an edge counts when gap >= edge
  CHECK(gap_bucket(e, 0, 59.9) == 2);
  CHECK(gap_bucket(e, 0, 60) == 3);
  CHECK(gap_bucket(e, 0, 1e9) == 3);
  CHECK(gap_bucket(e, 10, 5) == 1);  // time going backwards counts as no gap
  CHECK(gap_bucket({}, 0, 1e9) == 1);
}
