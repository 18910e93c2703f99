// Training checkpoints (train/checkpoint.h) through `hunch train --checkpoint-every / --resume`:
// a run stopped after any epoch, or killed, and resumed ends as the uninterrupted run does; a
// checkpoint of another run is refused; the file format round-trips and refuses damage.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

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

// "epoch N  loss L  valid NDCG@10 V HR@10 H": the figures only (the times and best-marks vary).
std::vector<std::string> epoch_figures(const std::string& out) {
  std::vector<std::string> e;
  size_t p = 0;
  while ((p = out.find("\nepoch ", p)) != std::string::npos) {
    ++p;
    const size_t end = out.find("  0.", p) != std::string::npos ? out.find(" HR@10 ", p) + 13 : out.find('\n', p);
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
#endif
