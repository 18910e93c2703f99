// Training checkpoints (train/checkpoint.h) through `hunch train --checkpoint-every / --resume`:
// a run stopped after any epoch, or killed, and resumed ends as the uninterrupted run does; a
// checkpoint of another run is refused; the file format round-trips and refuses damage.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dp-checkpoint-example.h"
#include "test-util.h"
#include "train/checkpoint.h"

using namespace hunch::train;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string scratch() {
  static const std::string dir = [] {
    std::string d = "/tmp/hunch-test-checkpoint-" + std::to_string(getpid());
    mkdir(d.c_str(), 0700);
    return d;
  }();
  return dir;
}

// "epoch N  loss L  valid NDCG@10 V HR@10 H": the figures only (the times and best-marks vary),
// each line cut after its HR@10 value; a line without one ("epoch N  interrupted …") whole.
// (It once cut where the next "  0." began anywhere in the output: under load, with no epoch
// under a second left, the times were compared too and the test failed now and then.)
std::vector<std::string> epoch_figures(const std::string& out) {
  std::vector<std::string> e;
  size_t p = 0;
  while ((p = out.find("\nepoch ", p)) != std::string::npos) {
    ++p;
    const size_t eol = std::min(out.find('\n', p), out.size());
    const size_t hr = out.find(" HR@10 ", p);
    const size_t end = hr < eol ? std::min(eol, out.find(' ', hr + 7)) : eol;
    e.push_back(out.substr(p, end - p));
  }
  return e;
}

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

}  // namespace

TEST_CASE("checkpoint: the file round-trips and refuses damage with a message naming it") {
  TrainCheckpoint c;
  c.fingerprint = 77;
  c.phase = 2;
  c.epoch = 4;
  c.phase_ended = 1;
  c.step = 123;
  c.lr_scale = 0.5f;
  c.bad_epochs = 2;
  c.best_score = 0.25;
  c.epoch_seconds = {1, 2};
  c.params = {1, 2, 3};
  c.best = {3, 2, 1};
  c.adam_m = {0.1f, 0.2f, 0.3f};
  c.adam_v = {0.01f, 0.02f, 0.03f};
  c.adam_steps = 9;
  c.adam_scaled = {{0, 2, 0.0f}};
  c.result.log.resize(4);
  c.result.log[3].valid_ndcg_10 = 0.5;
  c.result.best_epoch = 3;
  const std::vector<uint8_t> bytes = encode_checkpoint(c);
  TrainCheckpoint d;
  REQUIRE(decode_checkpoint("x.ckpt", bytes, &d).ok());
  CHECK(d.phase == 2);
  CHECK(d.epoch == 4);
  CHECK(d.phase_ended == 1);
  CHECK(d.step == 123);
  CHECK(d.params[2] == 3);
  CHECK(d.adam_scaled.size() == 1);
  CHECK(d.result.log.size() == 4);
  CHECK(d.result.log[3].valid_ndcg_10 == 0.5);
  CHECK(encode_checkpoint(d) == bytes);
  for (size_t n : {size_t(0), size_t(3), size_t(20), bytes.size() - 1}) {
    hunch::Error e = decode_checkpoint("x.ckpt", std::vector<uint8_t>(bytes.begin(), bytes.begin() + long(n)), &d);
    REQUIRE(!e.ok());
    CHECK(has(e.message, "x.ckpt: "));
  }
  std::vector<uint8_t> flipped = bytes;
  flipped[30] ^= 1;
  hunch::Error e = decode_checkpoint("x.ckpt", flipped, &d);
  REQUIRE(!e.ok());
  CHECK(has(e.message, "CRC32 mismatch"));
  // An older hunch's checkpoint (version 2, before the DP state): refused with the way out.
  std::vector<uint8_t> old = bytes;
  const uint32_t v2 = 2;
  std::memcpy(old.data() + 4, &v2, 4);
  const uint32_t crc = hunch::crc32(old.data(), old.size() - 4);
  std::memcpy(old.data() + old.size() - 4, &crc, 4);
  e = decode_checkpoint("x.ckpt", old, &d);
  REQUIRE(!e.ok());
  CHECK(has(e.message, "x.ckpt: checkpoint version 2, this hunch reads version 3: it was written by an older hunch "
                       "and cannot be resumed; remove it (or give another --checkpoint path) to train afresh"));
}

// A DP run's checkpoint (TrainCheckpoint::dp): the release with its table comes back as it was
// written (the rows and the table rebuilt from the pairs), and a release that cannot be one is
// refused.
TEST_CASE("checkpoint: a DP run's state and count release round-trip; impossible ones are refused") {
  const TrainCheckpoint c = hunch_test::dp_checkpoint_example();
  const std::vector<uint8_t> bytes = encode_checkpoint(c);
  TrainCheckpoint d;
  REQUIRE(decode_checkpoint("dp.ckpt", bytes, &d).ok());
  CHECK(d.dp);
  CHECK(d.dp_steps == 30);
  CHECK(d.dp_planned_steps == 60);
  CHECK(d.dp_sigma == 0.9);
  CHECK(d.dp_users_clipped == 400);
  REQUIRE(d.dp_release);
  CHECK(d.dp_release->actions == c.dp_release->actions);
  CHECK(d.dp_release->noise_std == 6.02);
  REQUIRE(d.dp_release->transitions);
  const TransitionCounts& t = *d.dp_release->transitions;
  CHECK(t.rows[1].size() == 2);
  CHECK(t.rows[1][1].action == 3);
  CHECK(t.rows[1][1].count == 20);
  CHECK(t.kept == 3);
  CHECK(!t.table.empty());
  CHECK(encode_checkpoint(d) == bytes);
  // The same table the trainer would build from those pairs.
  TransitionCounts want;
  want.from = c.dp_release->transitions->from;
  keep_transitions(4, {{1, 2, 5}, {1, 3, 20}, {3, 1, 7}}, 16, 1 << 20, &want);
  CHECK(t.table == want.table);

  auto refused = [](TrainCheckpoint bad, const std::string& part) {
    TrainCheckpoint out;
    const hunch::Error e = decode_checkpoint("dp.ckpt", encode_checkpoint(bad), &out);
    REQUIRE(!e.ok());
    CHECK_MESSAGE(has(e.message, part), e.message);
  };
  TrainCheckpoint bad = hunch_test::dp_checkpoint_example();
  bad.dp_users_clipped = 901;
  refused(bad, "901 users clipped of 900 sampled");
  bad = hunch_test::dp_checkpoint_example();
  bad.dp_sigma = std::nan("");
  refused(bad, "dp: noise multiplier");
  bad = hunch_test::dp_checkpoint_example();
  bad.dp_steps = 61;
  refused(bad, "61 of 60 planned steps");
  auto with_rows = [](std::vector<std::vector<TransitionCounts::Next>> rows) {
    TrainCheckpoint b = hunch_test::dp_checkpoint_example();
    auto d = std::make_shared<DpCounts>(*b.dp_release);
    auto t = std::make_shared<TransitionCounts>(*d->transitions);
    t->rows = std::move(rows);
    d->transitions = t;
    b.dp_release = d;
    return b;
  };
  refused(with_rows({{}, {{3, 20}, {2, 5}}, {}, {}}), "dp_table: pair 1 (1 -> 2, count 5)");  // out of order
  refused(with_rows({{}, {{2, 5}, {9, 1}}, {}, {}}), "is outside the vocabulary");
  refused(with_rows({{}, {{2, 0}}, {}, {}}), "dp_table: pair 0");
  refused(with_rows({{}, {}, {}, {}}), "a table without pairs");
  bad = hunch_test::dp_checkpoint_example();
  auto d2 = std::make_shared<DpCounts>(*bad.dp_release);
  d2->actions[2] = std::numeric_limits<double>::infinity();
  bad.dp_release = d2;
  refused(bad, "not a finite number");
}

#ifdef HUNCH_CLI_PATH
TEST_CASE("checkpoint: stopped, or killed, and resumed, training ends as the uninterrupted run") {
  const std::string dir = scratch(), cli = HUNCH_CLI_PATH;
  // The log and the uninterrupted run, once for the subcases (doctest reruns the case per subcase).
  static bool made = false;
  static std::string full;
  std::string out;
  if (!made) REQUIRE(hunch_test::run_command("'" + cli + "' synth --users 400 --seed 9 --quiet -o " + dir + "/log.csv", &out) == 0);
  // Patience 2 with 8 epochs: the run stops early (epoch 3) and phase 3 trains the other heads on
  // the count head (epochs 4-6), so the resumed runs cross both the phase change and the stop.
  // 400 users: each run's count-head fit is seconds, not minutes, under the sanitizers.
  const std::string train = "'" + cli + "' train " + dir + "/log.csv --epochs 8 --patience 2 --seed 3 --embed 16 "
                            "--layers 1 --progress never ";
  if (!made) REQUIRE(hunch_test::run_command(train + "-o " + dir + "/full.hunch 2>&1", &full) == 0);
  made = true;
  const auto want = epoch_figures(full);
  REQUIRE(want.size() >= 4);

  SUBCASE("stopped after epoch 3 (--epochs 3), resumed with --epochs 8") {
    std::string a, b;
    REQUIRE(hunch_test::run_command(train + "--checkpoint-every 1 -o " + dir + "/a.hunch --epochs 3 2>&1", &a) == 0);
    REQUIRE(exists(dir + "/a.hunch.ckpt"));
    REQUIRE(hunch_test::run_command(train + "--checkpoint-every 1 --resume -o " + dir + "/a.hunch 2>&1", &b) == 0);
    CHECK(has(b, "resumed from " + dir + "/a.hunch.ckpt after epoch 3"));
    CHECK(epoch_figures(b) == want);
    std::string p1, p2;
    const std::string predict = " --events 'view:/,view:/c/stationery' --k 10 2>&1";
    REQUIRE(hunch_test::run_command("'" + cli + "' predict " + dir + "/full.hunch" + predict, &p1) == 0);
    REQUIRE(hunch_test::run_command("'" + cli + "' predict " + dir + "/a.hunch" + predict, &p2) == 0);
    CHECK(p1 == p2);
  }
  SUBCASE("killed (SIGKILL) after a checkpoint, resumed") {
    const std::string ckpt = dir + "/k.hunch.ckpt";
    const std::string cmd = train + "--checkpoint-every 1 -o " + dir + "/k.hunch > /dev/null 2>&1";
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), (char*)nullptr);
      _exit(127);
    }
    // Wait for the first checkpoint while the run lives. No fixed deadline: under the sanitizers
    // the count head's fit before epoch 1 alone can take minutes (a 60 s wait failed CI there).
    int status = 0;
    bool ended = false;
    const auto t0 = std::chrono::steady_clock::now();
    while (!exists(ckpt) && std::chrono::steady_clock::now() - t0 < std::chrono::minutes(20)) {
      if (waitpid(pid, &status, WNOHANG) == pid) {
        ended = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!ended) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
    }
    REQUIRE(exists(ckpt));
    CHECK(!exists(dir + "/k.hunch"));  // killed before the end: no model yet
    std::string b;
    REQUIRE(hunch_test::run_command(train + "--checkpoint-every 1 --resume -o " + dir + "/k.hunch 2>&1", &b) == 0);
    CHECK(has(b, "resumed from"));
    CHECK(epoch_figures(b) == want);
  }
  SUBCASE("a checkpoint of another run is refused") {
    std::string a, b;
    REQUIRE(hunch_test::run_command(train + "--checkpoint-every 1 -o " + dir + "/o.hunch --epochs 1 2>&1", &a) == 0);
    CHECK(hunch_test::run_command(train + "--checkpoint-every 1 --resume --lr 0.001 -o " + dir + "/o.hunch 2>&1", &b) == 1);
    CHECK(has(b, "a checkpoint of another run"));
  }
}

// A differentially private run (--dp-epsilon) stopped and resumed: the resumed run reuses the
// count release the checkpoint kept (a new draw would release the counts twice), the accountant
// goes on from the steps taken, so ε and the steps are the uninterrupted run's; another --epochs
// (another noise plan) is refused. The noise is secret, so the epochs' figures are not compared.
TEST_CASE("checkpoint: a DP run stopped and resumed reuses its release; ε counts every step") {
  const std::string dir = scratch(), cli = HUNCH_CLI_PATH;
  std::string out, full, resumed;
  REQUIRE(hunch_test::run_command("'" + cli + "' synth --users 300 --seed 5 --quiet -o " + dir + "/dp-log.csv", &out) == 0);
  const std::string train = "'" + cli + "' train " + dir + "/dp-log.csv --epochs 4 --patience 0 --seed 3 --embed 16 "
                            "--layers 1 --batch 32 --progress never --dp-epsilon 4 --checkpoint-every 1 ";
  REQUIRE(hunch_test::run_command(train + "-o " + dir + "/dp-full.hunch 2>&1", &full) == 0);
  // Stopped after its first epoch by the time budget (a kill leaves the same checkpoint behind:
  // the case above), then resumed without it.
  const std::string ckpt = dir + "/dp-k.hunch.ckpt";
  REQUIRE(hunch_test::run_command(train + "--time-budget 0.001 -o " + dir + "/dp-k.hunch 2>&1", &out) == 0);
  CHECK(has(out, "time budget reached"));
  REQUIRE(exists(ckpt));
  std::vector<uint8_t> bytes;
  REQUIRE(read_checkpoint_file(ckpt, &bytes).ok());
  TrainCheckpoint c;
  REQUIRE(decode_checkpoint(ckpt, bytes, &c).ok());
  REQUIRE(c.dp);
  REQUIRE(c.dp_release);
  CHECK(c.dp_steps > 0);
  CHECK(c.dp_steps < c.dp_planned_steps);  // stopped part-way

  REQUIRE(hunch_test::run_command(train + "--resume -o " + dir + "/dp-k.hunch 2>&1", &resumed) == 0);
  CHECK(has(resumed, "resumed from " + ckpt + " after epoch 1 "));
  CHECK(has(resumed, "DP counts (the count start's release, read back from the checkpoint, "));
  const std::string kept = c.dp_release->transitions ? std::to_string(c.dp_release->transitions->kept) : "0";
  CHECK(has(resumed, std::to_string(c.dp_release->candidates) + " pairs at or above 3 · σ, kept " + kept + " (at most"));
  // The account up to the users sampled a step: ε, the steps (all planned ones), σ, q.
  auto account = [](const std::string& text) {
    const size_t at = text.find("differential privacy: ");
    const size_t end = text.find(" users (", at);
    return at == std::string::npos || end == std::string::npos ? std::string() : text.substr(at, end - at);
  };
  REQUIRE(!account(full).empty());
  CHECK(account(resumed) == account(full));
  CHECK(has(account(full), "over " + std::to_string(c.dp_planned_steps) + " of " + std::to_string(c.dp_planned_steps) +
                               " planned steps"));
  // Another --epochs is another noise plan: refused, the checkpoint kept.
  CHECK(hunch_test::run_command(train + "--epochs 8 --resume -o " + dir + "/dp-k.hunch 2>&1", &out) == 1);
  CHECK(has(out, "under --dp-epsilon a resumed run keeps the run's --epochs"));
  CHECK(exists(ckpt));
}
#endif
