// Fuzz regressions: every input in tests/fuzz/regressions/<target>/ (crashes the fuzzers found,
// kept after the fix) and every seed the fuzzers start from, replayed through the fuzz targets'
// own entry points — the same run() functions, with the same invariant checks, included from
// tests/fuzz/ with the libFuzzer entry left out. Runs in the normal suite and under
// scripts/sanitize.sh (ASan + UBSan), so a fixed crash stays fixed without clang or libFuzzer.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "test-util.h"

namespace hunch_fuzz_regress {

// A broken invariant inside a target: thrown so that one bad input is reported (with its path)
// and the others still run.
struct Broken {
  const char* what;
  const char* file;
  int         line;
};

}  // namespace hunch_fuzz_regress

#define HUNCH_FUZZ_NO_ENTRY
#define HUNCH_FUZZ_CHECK(cond, what_)                                      \
  do {                                                                     \
    if (!(cond)) throw hunch_fuzz_regress::Broken{what_, __FILE__, __LINE__}; \
  } while (0)

#include "../fuzz/fuzz_events_csv.cpp"
#include "../fuzz/fuzz_events_jsonl.cpp"
#include "../fuzz/fuzz_events_access_log.cpp"
#include "../fuzz/fuzz_events_analytics.cpp"
#include "../fuzz/fuzz_model_reader.cpp"
#include "../fuzz/fuzz_model_reader_nocrc.cpp"
#include "../fuzz/fuzz_push_events.cpp"
#include "../fuzz/fuzz_sequence_state.cpp"
#include "../fuzz/fuzz_route_rules.cpp"
#include "../fuzz/fuzz_checkpoint.cpp"
#include "../fuzz/fuzz_front_coded_names.cpp"

namespace {

namespace fs = std::filesystem;
using Entry = int (*)(const uint8_t*, size_t);

int events_csv(const uint8_t* d, size_t n) {
  return hunch_fuzz_events::run(d, n, hunch_fuzz_events::Family::DELIMITED);
}
int events_jsonl(const uint8_t* d, size_t n) {
  return hunch_fuzz_events::run(d, n, hunch_fuzz_events::Family::JSONL);
}
int events_access_log(const uint8_t* d, size_t n) {
  return hunch_fuzz_events::run(d, n, hunch_fuzz_events::Family::ACCESS_LOG);
}
int events_analytics(const uint8_t* d, size_t n) {
  return hunch_fuzz_events::run(d, n, hunch_fuzz_events::Family::ANALYTICS);
}

// Folder name under tests/fuzz/regressions/ and tests/fuzz/corpus/ = executable name.
const std::map<std::string, Entry>& targets() {
  static const std::map<std::string, Entry> t = {
      {"fuzz_model_reader", hunch_fuzz_model_reader::run},
      {"fuzz_model_reader_nocrc", hunch_fuzz_model_reader_nocrc::run},
      {"fuzz_sequence_state", hunch_fuzz_sequence_state::run},
      {"fuzz_push_events", hunch_fuzz_push_events::run},
      {"fuzz_events_csv", events_csv},
      {"fuzz_events_jsonl", events_jsonl},
      {"fuzz_events_access_log", events_access_log},
      {"fuzz_events_analytics", events_analytics},
      {"fuzz_route_rules", hunch_fuzz_route_rules::run},
      {"fuzz_checkpoint", hunch_fuzz_checkpoint::run},
      {"fuzz_front_coded_names", hunch_fuzz_front_coded_names::run},
  };
  return t;
}

// Runs one input; a broken invariant or an escaped exception is a test failure naming it.
void replay(const std::string& target, const std::string& label, const std::vector<uint8_t>& bytes) {
  try {
    targets().at(target)(bytes.data(), bytes.size());
  } catch (const hunch_fuzz_regress::Broken& b) {
    const std::string msg = target + " on " + label + ": invariant failed: " + b.what + " (" + b.file +
                            ":" + std::to_string(b.line) + ")";
    FAIL_CHECK(msg);
  } catch (const std::exception& e) {
    const std::string msg = target + " on " + label + ": exception " + e.what();
    FAIL_CHECK(msg);
  }
}

std::vector<fs::path> files_in(const fs::path& dir, const std::string& ext = "") {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const std::string name = e.path().filename().string();
    if (name == "README.md" || name.rfind('.', 0) == 0) continue;
    if (!ext.empty() && e.path().extension() != ext) continue;
    out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

size_t replay_dir(const std::string& target, const fs::path& dir, const std::string& ext = "") {
  size_t n = 0;
  for (const fs::path& p : files_in(dir, ext)) {
    replay(target, p.string(), hunch_test::read_file(p.string()));
    ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("fuzz regressions: every saved crash input replays clean") {
  const fs::path root = hunch_test::source_path("tests/fuzz/regressions");
  REQUIRE(fs::is_directory(root));
  size_t inputs = 0;
  for (const auto& e : fs::directory_iterator(root)) {
    if (!e.is_directory()) continue;
    const std::string target = e.path().filename().string();
    INFO("tests/fuzz/regressions/" << target);
    // A folder that names no target would silently replay nothing.
    REQUIRE_MESSAGE(targets().count(target) == 1, "regression folder does not name a fuzz target");
    inputs += replay_dir(target, e.path());
  }
  // The fuzzers have found crashes; losing their inputs would make this test vacuous.
  CHECK(inputs >= 2);
}

TEST_CASE("fuzz seeds: the corpora the fuzzers start from replay clean") {
  size_t inputs = 0;
  for (const auto& t : targets())
    inputs += replay_dir(t.first, hunch_test::source_path("tests/fuzz/corpus/" + t.first));

  // The model readers start from the valid fixtures and the broken-model corpus.
  for (const char* target : {"fuzz_model_reader", "fuzz_model_reader_nocrc"}) {
    inputs += replay_dir(target, hunch_test::source_path("tests/data/fixtures"), ".hunch");
    inputs += replay_dir(target, hunch_test::source_path("tests/data/broken"), ".hunch");
  }
  // Generated seeds: small models, real saved states and event programs of the fixed models.
  for (const auto& s : hunch_fuzz::small_models()) {
    replay("fuzz_model_reader", "a generated seed", s), ++inputs;
    replay("fuzz_model_reader_nocrc", "a generated seed", s), ++inputs;
  }
  for (const auto& s : hunch_fuzz_sequence_state::seeds()) replay("fuzz_sequence_state", "a generated seed", s), ++inputs;
  for (const auto& s : hunch_fuzz_push_events::seeds()) replay("fuzz_push_events", "a generated seed", s), ++inputs;
  // Front-coded names: each seed whole and cut at every length.
  for (const auto& s : hunch_fuzz_front_coded_names::seeds())
    for (size_t n = 0; n <= s.size(); ++n)
      replay("fuzz_front_coded_names", "a (cut) seed", std::vector<uint8_t>(s.begin(), s.begin() + long(n))), ++inputs;
  // Checkpoints: each seed whole, cut at every length, and with each byte flipped (CRC fixed by
  // mode bit 0, so the field checks behind it run).
  for (auto s : hunch_fuzz_checkpoint::seeds()) {
    replay("fuzz_checkpoint", "a generated seed", s), ++inputs;
    for (size_t n = 1; n < s.size(); ++n)
      replay("fuzz_checkpoint", "a cut seed", std::vector<uint8_t>(s.begin(), s.begin() + long(n))), ++inputs;
    s[0] = 1;
    for (size_t i = 5; i + 4 < s.size(); ++i) {
      std::vector<uint8_t> flipped = s;
      flipped[i] ^= 0x5A;
      replay("fuzz_checkpoint", "a flipped seed", flipped), ++inputs;
    }
  }

  // The event logs, under a spread of option bytes: each format, strict, fixed vocabulary,
  // tiny limits, and read through a file plain, gzipped and gzip cut short.
  const uint8_t options[][2] = {{0x00, 0x00}, {0x01, 0x00}, {0x02, 0x03}, {0x03, 0x00}, {0x04, 0x00},
                                {0x18, 0x01}, {0x40, 0x02}, {0x00, 0x04}, {0x00, 0x18}, {0x00, 0x88},
                                {0x80, 0x00}, {0x80, 0x20}, {0x80, 0x60}, {0x00, 0x40}, {0x00, 0x42}};
  for (const fs::path& p : files_in(hunch_test::source_path("tests/data/events"))) {
    const std::vector<uint8_t> log = hunch_test::read_file(p.string());
    for (const auto& o : options) {
      std::vector<uint8_t> input(o, o + 2);
      input.insert(input.end(), log.begin(), log.end());
      for (const char* t : {"fuzz_events_csv", "fuzz_events_jsonl", "fuzz_events_access_log", "fuzz_events_analytics"})
        replay(t, p.string(), input), ++inputs;
    }
  }
  CHECK(inputs > 100);
}
