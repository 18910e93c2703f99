// Training across processes (train/collective.h) through the public command: `mpirun -np 2
// hunch train …` follows the one-process run with the same global batch. Built and run when
// CMake found MPI and mpirun (HUNCH_MPI); otherwise only the one-process checks run.
//
// Tolerance: -np 2 with one thread each splits every batch into the same two parts as one
// process with two threads and sums the two gradients in the same order, so the printed epoch
// figures (4 decimals) are equal; against one process with one thread the gradient is summed in
// another order, and the epoch losses agree within 1e-3 relative after 3 epochs.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "test-util.h"
#include "train/collective.h"
#include "train/shards.h"

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string scratch() {
  static const std::string dir = [] {
    std::string d = "/tmp/hunch-test-collective-" + std::to_string(getpid());
    mkdir(d.c_str(), 0700);
    return d;
  }();
  return dir;
}

struct Epoch {
  double loss = 0, ndcg = 0;
};

// The "epoch N  loss L  valid NDCG@10 V" lines of hunch train's output.
std::vector<Epoch> epochs_of(const std::string& out) {
  std::vector<Epoch> e;
  size_t p = 0;
  while ((p = out.find("\nepoch ", p)) != std::string::npos) {
    ++p;
    unsigned n = 0;
    Epoch x;
    if (std::sscanf(out.c_str() + p, "epoch %u loss %lf valid NDCG@10 %lf", &n, &x.loss, &x.ndcg) == 3) e.push_back(x);
  }
  return e;
}

// The line of hunch train's output that starts with `start`, without the seconds it took
// (" [12.3 s]" at its end); empty when there is none.
std::string line_of(const std::string& out, const std::string& start) {
  size_t p = out.rfind("\n" + start);
  if (p == std::string::npos) return "";
  ++p;
  std::string line = out.substr(p, out.find('\n', p) - p);
  const size_t t = line.rfind("  [");
  return t == std::string::npos ? line : line.substr(0, t);
}

// `eval` (hunch eval's arguments) in one process with 2 threads and under `mpi` with one thread
// each: both outputs (standard output only); both must succeed.
std::pair<std::string, std::string> eval_both_ways(const std::string& cli, const std::string& mpi, const std::string& eval) {
  std::string one, many;
  REQUIRE(hunch_test::run_command("'" + cli + "'" + eval + " --threads 2 2>/dev/null", &one) == 0);
  const int rc = hunch_test::run_command(mpi + "'" + cli + "'" + eval + " --threads 1 2>/dev/null", &many);
  REQUIRE_MESSAGE(rc == 0, many);
  return {one, many};
}

}  // namespace

TEST_CASE("collective: user parts are fixed by the user's name, sessions go with their user") {
  using namespace hunch::train;
  // Pinned: a run's processes must agree, and a later build must split users as this one.
  CHECK(user_part("alice", 1) == 0);
  const uint32_t a7 = user_part("alice", 7);
  CHECK(a7 < 7);
  CHECK(user_part("alice", 7) == a7);
  // Users that count up spread over the parts (not one part each in turn, nor all in one).
  std::vector<int> per(4, 0);
  for (int u = 0; u < 4000; ++u) ++per[user_part(std::to_string(u), 4)];
  for (int n : per) CHECK((n > 850 && n < 1150));
  Dataset ds;
  ds.sequence_key = {"bob#1", "bob#2", "carol", "bob"};
  ds.offsets = {0, 1, 2, 3, 4};
  const std::vector<uint32_t> parts = sequence_parts(ds, 16);
  CHECK(parts[0] == parts[1]);
  CHECK(parts[0] == parts[3]);
  CHECK(parts[2] == user_part("carol", 16));
  // One process: all_gather is a copy.
  CHECK(single_process().all_gather({1.5, -2}) == std::vector<double>{1.5, -2});
}

TEST_CASE("collective: one process is the default; sums and broadcasts are the identity") {
  hunch::train::Collective* world = nullptr;
  // ctest does not run under an MPI launcher.
  REQUIRE(hunch::train::start_collective(&world).ok());
  CHECK(world->size() == 1);
  CHECK(world->rank() == 0);
  CHECK(world->leader());
  float f[2] = {1.5f, -2};
  world->sum(f, 2);
  CHECK(f[0] == 1.5f);
  CHECK(world->any(true));
  CHECK(!world->any(false));
}

#if defined(HUNCH_CLI_PATH) && defined(HUNCH_MPIRUN_PATH)
TEST_CASE("collective: mpirun -np 2 hunch train follows the one-process run; rank 0 alone writes") {
  const std::string dir = scratch(), cli = HUNCH_CLI_PATH;
  std::string out;
  REQUIRE(hunch_test::run_command("'" + cli + "' synth --users 300 --seed 5 --quiet -o " + dir + "/log.csv", &out) == 0);
  for (const char* protocol : {"loo", "sessions"}) {
    CAPTURE(protocol);
    const std::string train = " train " + dir + "/log.csv --protocol " + protocol +
                              " --epochs 3 --patience 0 --seed 3 --embed 16 --layers 1 --batch 32 --progress never";
    std::string one2, one1, two;
    REQUIRE(hunch_test::run_command("'" + cli + "'" + train + " --threads 2 -o " + dir + "/one2.hunch 2>&1", &one2) == 0);
    REQUIRE(hunch_test::run_command("'" + cli + "'" + train + " --threads 1 -o " + dir + "/one1.hunch 2>&1", &one1) == 0);
    const std::string mpi = "'" HUNCH_MPIRUN_PATH "' --allow-run-as-root --oversubscribe -np 2 ";
    int rc = hunch_test::run_command(mpi + "'" + cli + "'" + train + " --threads 1 -o " + dir + "/two.hunch 2>&1", &two);
    REQUIRE_MESSAGE(rc == 0, two);
    CHECK(has(two, "training across 2 processes (MPI), 1 thread each"));
    // Rank 1 prints nothing: one cleaning report, one line per epoch.
    size_t reports = 0;
    for (size_t p = 0; (p = two.find("rows read", p)) != std::string::npos; ++p) ++reports;
    CHECK(reports == 1);
    const auto e2 = epochs_of(one2), e1 = epochs_of(one1), et = epochs_of(two);
    // Three epochs, and a fourth when the count head is validated on the way out (trainer.cpp,
    // phase 3): the same on every run.
    REQUIRE(e2.size() >= 3);
    REQUIRE(et.size() == e2.size());
    REQUIRE(e1.size() == e2.size());
    for (size_t i = 0; i < e2.size(); ++i) {
      CHECK(et[i].loss == doctest::Approx(e2[i].loss).epsilon(1e-4));
      CHECK(et[i].ndcg == doctest::Approx(e2[i].ndcg).epsilon(1e-4));
      CHECK(et[i].loss == doctest::Approx(e1[i].loss).epsilon(1e-3));
    }
    // The work done once per run is shared by user (shards.h): the count start's fit, the
    // calibration and the exported model's validation through the core print the same figures
    // as one process with two threads (the same two parts).
    for (const char* line : {"action head start", "count head (", "calibration on", "validation through the core"}) {
      CAPTURE(line);
      CHECK(line_of(two, line) == line_of(one2, line));
      if (std::string(line) != "calibration on" || std::string(protocol) == "sessions") CHECK(!line_of(two, line).empty());
    }
    // The model rank 0 wrote loads and predicts.
    std::string inspect;
    CHECK(hunch_test::run_command("'" + cli + "' inspect " + dir + "/two.hunch 2>&1", &inspect) == 0);
    // hunch eval shares its users the same way: rank 0 prints the JSON one process prints.
    const std::string eval = " eval " + dir + "/two.hunch " + dir + "/log.csv --protocol " + protocol + " --json";
    const auto [eval_one, eval_two] = eval_both_ways(cli, mpi, eval);
    CHECK(has(eval_one, "\"model\""));
    CHECK(eval_two == eval_one);
  }
}

// --shard: each process reads every record but keeps and trains on its own users only. What is
// counted over every user is combined (the cleaning report, the session split, the signals, the
// transition table, the count start's sums), the validations gather every process's points, and
// each process shuffles its own samples into its share of every step: the run follows one
// process's in distribution, not figure for figure. Tolerance, on this 300-user log: epoch
// losses within 5% of one process's, validation NDCG@10 within 0.03; the count start's columns
// are all of them here (fewer than 60,000), so its printed fit is one process's.
TEST_CASE("collective: mpirun -np 2 hunch train --shard trains on each process's own users") {
  const std::string dir = scratch(), cli = HUNCH_CLI_PATH;
  std::string out;
  REQUIRE(hunch_test::run_command("'" + cli + "' synth --users 300 --seed 5 --quiet -o " + dir + "/shard-train.csv", &out) == 0);
  const std::string mpi = "timeout 300 '" HUNCH_MPIRUN_PATH "' --allow-run-as-root --oversubscribe -np 2 ";
  for (const char* protocol : {"loo", "sessions"}) {
    CAPTURE(protocol);
    const std::string train = " train " + dir + "/shard-train.csv --protocol " + protocol +
                              " --epochs 3 --patience 0 --seed 3 --embed 16 --layers 1 --batch 32 --progress never";
    std::string one, two;
    REQUIRE(hunch_test::run_command("'" + cli + "'" + train + " --threads 2 -o " + dir + "/shard-one.hunch 2>&1", &one) == 0);
    const int rc = hunch_test::run_command(mpi + "'" + cli + "'" + train + " --threads 1 --shard -o " + dir +
                                               "/shard-two.hunch 2>&1", &two);
    REQUIRE_MESSAGE(rc == 0, two);
    CHECK(has(two, "training across 2 processes (MPI), 1 thread each, the log sharded by user (--shard)"));
    for (const char* line : {"  kept events", "  users", "session protocol:", "transition table:", "action head start",
                             "count head ("}) {
      CAPTURE(line);
      CHECK(line_of(two, line) == line_of(one, line));
      if (std::string(line) != "session protocol:" || std::string(protocol) == "sessions") CHECK(!line_of(two, line).empty());
    }
    const auto e1 = epochs_of(one), e2 = epochs_of(two);
    REQUIRE(e1.size() >= 3);
    REQUIRE(e2.size() == e1.size());
    for (size_t i = 0; i < 3; ++i) {
      CHECK(e2[i].loss == doctest::Approx(e1[i].loss).epsilon(0.05));
      CHECK(std::fabs(e2[i].ndcg - e1[i].ndcg) < 0.03);
    }
    // Rank 0's model: the run's sequences and events (every shard's), and it loads.
    std::string a, b;
    REQUIRE(hunch_test::run_command("'" + cli + "' inspect " + dir + "/shard-one.hunch 2>&1", &a) == 0);
    REQUIRE(hunch_test::run_command("'" + cli + "' inspect " + dir + "/shard-two.hunch 2>&1", &b) == 0);
    for (const char* key : {"hunch.train.sequences", "hunch.train.events"}) CHECK(line_of(b, std::string("  ") + key) == line_of(a, std::string("  ") + key));
    CHECK(!line_of(b, "  hunch.train.events").empty());
    // Stopped after 2 epochs and resumed: the third epoch is the uninterrupted run's (each
    // process's shuffle derives from the seed, the epoch and its rank).
    const std::string ckpt = " --checkpoint-every 1 --checkpoint " + dir + "/shard-" + protocol + ".ckpt";
    std::string first, resumed;
    REQUIRE(hunch_test::run_command(mpi + "'" + cli + "'" + train + " --threads 1 --shard --epochs 2" + ckpt + " -o " + dir +
                                        "/shard-ck.hunch 2>&1", &first) == 0);
    REQUIRE(hunch_test::run_command(mpi + "'" + cli + "'" + train + " --threads 1 --shard --resume" + ckpt + " -o " + dir +
                                        "/shard-ck.hunch 2>&1", &resumed) == 0);
    CHECK(has(resumed, "resumed from"));
    const auto er = epochs_of(resumed);
    REQUIRE(er.size() >= 3);
    CHECK(er[2].loss == e2[2].loss);
    CHECK(er[2].ndcg == e2[2].ndcg);
  }
  // User names ending in "#digits" (what a sequence key's session suffix looks like): the count
  // start still sums every shard's columns.
  {
    const std::vector<uint8_t> bytes = hunch_test::read_file(dir + "/shard-train.csv");
    std::string text(bytes.begin(), bytes.end()), renamed;
    for (size_t p = 0, e; (e = text.find('\n', p)) != std::string::npos; p = e + 1)
      renamed += (p ? "shop#" : "") + text.substr(p, e - p + 1);
    REQUIRE(hunch_test::write_file(dir + "/shard-hash.csv", std::vector<uint8_t>(renamed.begin(), renamed.end())));
    const std::string train = " train " + dir + "/shard-hash.csv --epochs 1 --embed 16 --layers 1 --batch 32 --progress never";
    std::string one, two;
    REQUIRE(hunch_test::run_command("'" + cli + "'" + train + " --threads 2 -o " + dir + "/shard-one.hunch 2>&1", &one) == 0);
    REQUIRE(hunch_test::run_command(mpi + "'" + cli + "'" + train + " --threads 1 --shard -o " + dir + "/shard-two.hunch 2>&1",
                                    &two) == 0);
    CHECK(!line_of(one, "action head start").empty());
    CHECK(line_of(two, "action head start") == line_of(one, "action head start"));
  }
  // In one process --shard changes nothing and says so.
  REQUIRE(hunch_test::run_command("'" + cli + "' train " + dir + "/shard-train.csv --shard --epochs 1 --embed 8 --layers 1 "
                                      "--progress never -o " + dir + "/x.hunch 2>&1", &out) == 0);
  CHECK(has(out, "note: --shard has no effect in one process"));
}

// A dry run across processes reads the log sharded by user (IngestOptions::shard): each process
// keeps only its own users' events, and the summed cleaning report is one process's, line for
// line: vocabulary cut by summed counts and distinct users (--min-users, --keep-last's trimmed
// counts), duplicates, short sequences, sessions and the log's end (censoring) over all users.
TEST_CASE("collective: mpirun -np N hunch train --dry-run reads the log sharded, the report one process's") {
  const std::string dir = scratch(), cli = HUNCH_CLI_PATH;
  std::string out;
  REQUIRE(hunch_test::run_command("'" + cli + "' synth --users 300 --seed 6 --quiet -o " + dir + "/shard.csv", &out) == 0);
  // Duplicates (the report's example is the first user's, whichever process holds it), a short
  // sequence, an action only two users did, and a user id read as missing.
  std::string extra = "user,time,action,type\n";
  for (int u = 0; u < 40; ++u) {
    const std::string user = "dup" + std::to_string(u);
    extra += user + ",2024-05-02T10:00:00Z,/p/1,view\n" + user + ",2024-05-02T10:00:00Z,/p/1,view\n" + user +
             ",2024-05-02T10:01:00Z,/p/" + std::to_string(u % 3) + ",view\n" + user + ",2024-05-02T10:02:00Z,/rare,cart\n";
  }
  extra += "alone,2024-05-02T11:00:00Z,/p/1,view\nNA,2024-05-02T11:00:00Z,/p/1,view\n";
  REQUIRE(hunch_test::write_file(dir + "/shard-extra.csv", std::vector<uint8_t>(extra.begin(), extra.end())));
  // `command` under mpirun -np np, one thread each: its output (it must succeed).
  auto run_np = [](const std::string& command, int np) {
    CAPTURE(np);
    std::string out;
    const int rc = hunch_test::run_command("'" HUNCH_MPIRUN_PATH "' --allow-run-as-root --oversubscribe -np " +
                                               std::to_string(np) + " " + command + " --threads 1 2>&1", &out);
    REQUIRE_MESSAGE(rc == 0, out);
    return out;
  };
  for (const char* flags : {"--min-users 3", "--min-users 5 --keep-last 8", "--protocol sessions --min-users 1"}) {
    CAPTURE(flags);
    const std::string run = "'" + cli + "' train " + dir + "/shard.csv " + dir + "/shard-extra.csv --dry-run " + flags +
                            " -o " + dir + "/unused.hunch";
    std::string one;
    REQUIRE(hunch_test::run_command(run + " 2>&1", &one) == 0);
    CHECK(has(one, "duplicate of the event on"));
    for (int np : {2, 3}) {
      CAPTURE(np);
      const std::string many = run_np(run, np);
      // Every line of the report but the seconds and the memory per event (the processes' fixed
      // costs add up) is one process's.
      auto report = [](const std::string& text) {
        std::string kept;
        size_t p = text.find("rows read");
        p = text.rfind('\n', p) + 1;
        for (size_t e; p < text.size() && (e = text.find('\n', p)) != std::string::npos; p = e + 1) {
          const std::string line = text.substr(p, e - p);
          if (has(line, "(read in") || has(line, "bytes per kept event")) continue;
          if (has(line, "sharded across")) break;
          kept += line + "\n";
        }
        return kept;
      };
      CHECK(!report(one).empty());
      CHECK(report(many) == report(one));
      // Each process kept a share of the events, and the shares add up to the report's.
      CHECK(has(many, "sharded across " + std::to_string(np) + " processes by user"));
      unsigned long long total = 0, kept = 0, shares = 0;
      REQUIRE(std::sscanf(line_of(one, "  kept events").c_str(), "  kept events %llu", &total) == 1);
      for (size_t p = 0; (p = many.find("events kept, ", p)) != std::string::npos; ++p) {
        const size_t b = many.rfind(": ", p) + 2;
        kept += std::strtoull(many.c_str() + b, nullptr, 10);
        ++shares;
      }
      CHECK(shares == unsigned(np));
      CHECK(kept == total);
    }
  }
  // --keep-last compacts at the same rows in every process (the held events of all of them
  // counted), so each user is trimmed alike: on 96,000 shuffled rows with many duplicates (more
  // than the first compaction's 65,536) duplicates whose copy a trim dropped count as trimmed
  // the same way as in one process.
  std::string shuffled = "user,time,action\n";
  uint64_t lcg = 12345;
  for (int r = 0; r < 96000; ++r) {
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    const unsigned x = unsigned(lcg >> 33);
    shuffled += "s" + std::to_string(x % 3000) + ",2024-05-02T10:0" + std::to_string((x >> 12) % 10) + ":00Z,/p/" +
                std::to_string((x >> 16) % 8) + "\n";
  }
  REQUIRE(hunch_test::write_file(dir + "/shuffled.csv", std::vector<uint8_t>(shuffled.begin(), shuffled.end())));
  {
    const std::string run = "'" + cli + "' train " + dir + "/shuffled.csv --dry-run --keep-last 3 --session-gap 0";
    std::string one;
    REQUIRE(hunch_test::run_command(run + " --threads 1 2>&1", &one) == 0);
    CHECK(!line_of(one, "  dropped: older than --keep-last").empty());
    for (int np : {2, 3}) {
      const std::string many = run_np(run, np);
      for (const char* line : {"  skipped: duplicate events", "  dropped: older than --keep-last", "  kept events"})
        CHECK(line_of(many, line) == line_of(one, line));
    }
  }
  // The session protocol's cut over every process's sessions (sessions.cpp, kth_largest), where
  // session starts tie in time and line (one minified JSON array): the user's place in the log
  // breaks the tie, as in one process. 30 users × 3 sessions at the same three times: the last
  // 9 starts (test) and the 9 before (validation) are some of the users' third sessions, of 1 to
  // 3 events by the user, so the events held out say which users were taken (the last 9 and
  // the 9 before them in the order users first appear: 23 and 16 events).
  std::string ties = "[";
  for (int u = 0; u < 30; ++u)
    for (int h = 0; h < 3; ++h)
      for (int e = 0; e < (h < 2 ? 2 : 1 + (u / 5) % 3); ++e)
        ties += std::string(ties.size() > 1 ? "," : "") + "{\"user\":\"t" + std::to_string((u * 7) % 30) +
                "\",\"item\":\"/p/" + std::to_string((u + e) % 4) + "\",\"time\":\"2024-05-02T1" + std::to_string(h) +
                ":0" + std::to_string(e) + ":00Z\"}";
  ties += "]\n";
  REQUIRE(hunch_test::write_file(dir + "/ties.json", std::vector<uint8_t>(ties.begin(), ties.end())));
  const std::string run = "'" + cli + "' train " + dir + "/ties.json --dry-run --protocol sessions --min-users 1";
  std::string one;
  REQUIRE(hunch_test::run_command(run + " 2>&1", &one) == 0);
  const std::string split = line_of(one, "session protocol:");
  CHECK(has(split, "session protocol: 90 sessions: train 72 (141 events), validation 9 (16 events), test 9 (23 events"));
  for (int np : {2, 3}) CHECK(line_of(run_np(run, np), "session protocol:") == split);
}

// Differentially private training across processes: every rank draws the same users and noise
// from one secret stream (collective.h shared_secret_key) and computes its share of the sampled
// users. The noise is secret, so two runs cannot be compared figure by figure (with one seed
// fixed by hand, -np 2 printed the same epochs as one process: session 15's notes); what must
// hold: the same accountant (σ, steps, ε), each sampled user counted once (q · users a step,
// not twice that), rank 0 alone printing and writing, and ε in the model.
TEST_CASE("collective: mpirun -np 2 hunch train --dp-epsilon splits the sampled users, one account") {
  const std::string dir = scratch(), cli = HUNCH_CLI_PATH;
  std::string out;
  REQUIRE(hunch_test::run_command("'" + cli + "' synth --users 300 --seed 5 --quiet -o " + dir + "/dp-log.csv", &out) == 0);
  const std::string train = " train " + dir + "/dp-log.csv --epochs 3 --patience 0 --seed 3 --embed 16 --layers 1 "
                            "--batch 32 --progress never --dp-epsilon 4";
  std::string one, two;
  REQUIRE(hunch_test::run_command("'" + cli + "'" + train + " --threads 2 -o " + dir + "/dp-one.hunch 2>&1", &one) == 0);
  const std::string mpi = "'" HUNCH_MPIRUN_PATH "' --allow-run-as-root --oversubscribe -np 2 ";
  const int rc = hunch_test::run_command(mpi + "'" + cli + "'" + train + " --threads 1 -o " + dir + "/dp-two.hunch 2>&1", &two);
  REQUIRE_MESSAGE(rc == 0, two);
  CHECK(has(two, "training across 2 processes (MPI), 1 thread each"));
  size_t reports = 0;
  for (size_t p = 0; (p = two.find("differential privacy: ", p)) != std::string::npos; ++p) ++reports;
  CHECK(reports == 1);
  // "differential privacy: ε = E spent (target 4, δ = D) over S of S planned steps (budget
  // spent); noise σ = X · clip 1, Poisson rate q = Q of N users (M a step); …"
  struct Account {
    std::string head;  // up to and including the users' count
    double per_step = 0, q = 0, users = 0;
  };
  auto account = [&](const std::string& text) {
    Account a;
    const size_t at = text.find("differential privacy: ");
    REQUIRE(at != std::string::npos);
    const size_t open = text.find(" users (", at);
    REQUIRE(open != std::string::npos);
    a.head = text.substr(at, open - at);
    a.per_step = std::strtod(text.c_str() + open + 8, nullptr);
    const size_t q = text.find("Poisson rate q = ", at);
    REQUIRE(q != std::string::npos);
    char* end = nullptr;
    a.q = std::strtod(text.c_str() + q + 17, &end);
    a.users = std::strtod(end + 4, nullptr);  // " of N"
    return a;
  };
  const Account a1 = account(one), a2 = account(two);
  CHECK(a2.head == a1.head);  // the same σ, steps and ε: the accountant does not see the ranks
  CHECK(has(a2.head, "over 24 of 24 planned steps (budget spent)"));
  // 24 steps of a Poisson sample at q · N = 32 users: the mean is within ±6 of 32 by far (its
  // standard deviation is about 1.1); counted twice it would be near 64.
  REQUIRE(a1.q * a1.users == doctest::Approx(32).epsilon(0.05));
  CHECK(std::fabs(a1.per_step - a1.q * a1.users) < 6);
  CHECK(std::fabs(a2.per_step - a2.q * a2.users) < 6);
  CHECK(has(two, "DP counts (the count start's release"));
  CHECK(!has(two, "releases of the DP counts differ"));
  // --shard: each process draws its own users (each user's draw addressed by the step and the
  // user, SecretRng::uniform53_at) and sums its own users' clipped counts; the account and the
  // counts' users are one process's, and about q · N users a step in all.
  std::string sharded;
  const int src = hunch_test::run_command(mpi + "'" + cli + "'" + train + " --threads 1 --shard -o " + dir +
                                              "/dp-shard.hunch 2>&1", &sharded);
  REQUIRE_MESSAGE(src == 0, sharded);
  const Account as = account(sharded);
  CHECK(as.head == a1.head);
  CHECK(std::fabs(as.per_step - as.q * as.users) < 6);
  auto count_users = [](const std::string& text) {  // "DP counts (…): N users, M scaled to L2 norm C"
    const std::string line = line_of(text, "DP counts (");
    return line.substr(line.find("): "), line.find("; noise") - line.find("): "));
  };
  CHECK(count_users(sharded) == count_users(one));
  CHECK(has(count_users(one), " users, "));
  REQUIRE(hunch_test::run_command("'" + cli + "' inspect " + dir + "/dp-two.hunch 2>&1", &out) == 0);
  CHECK(has(out, "ε = 4"));
  // hunch eval --membership under mpirun: each rank scores its own users, rank 0 prints what one
  // process prints.
  const std::string eval = " eval " + dir + "/dp-two.hunch " + dir + "/dp-log.csv --membership --json";
  const auto [eval_one, eval_two] = eval_both_ways(cli, mpi, eval);
  CHECK(has(eval_one, "\"membership\""));
  CHECK(eval_two == eval_one);
}

// What one rank alone meets: Ctrl-C reaching one rank, a checkpoint only rank 0 can see, another
// --threads on one rank. Every rank must stop together, with a message, never wait for the
// others forever (`timeout` ends a hung run with 124).
TEST_CASE("collective: one rank's Ctrl-C, checkpoint or --threads stops every rank, none hangs") {
  const std::string dir = scratch(), cli = HUNCH_CLI_PATH;
  std::string out;
  REQUIRE(hunch_test::run_command("'" + cli + "' synth --users 200 --seed 4 --quiet -o " + dir + "/alone.csv", &out) == 0);
  const std::string mpi = "timeout 300 '" HUNCH_MPIRUN_PATH "' --allow-run-as-root --oversubscribe -np 2 ";
  const std::string train = "'" + cli + "' train " + dir + "/alone.csv --embed 16 --layers 1 --batch 32 --progress never "
                            "--threads 1 ";
  // Rank 1 alone gets SIGINT a second into a run that would go on for 100,000 epochs.
  int rc = hunch_test::run_command(mpi + "sh -c 'if [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; then (sleep 1; kill -INT $$) & "
                                   "fi; exec " + train + "--epochs 100000 --patience 0 -o " + dir + "/alone.hunch' 2>&1", &out);
  CHECK_MESSAGE(rc != 124, out);
  CHECK(has(out, "stopped by Ctrl-C; keeping the best epoch"));
  // A checkpoint in rank 0's folder only (the path is relative: each rank its own folder).
  for (const char* d : {"/r0", "/r1"}) mkdir((dir + d).c_str(), 0700);
  REQUIRE(hunch_test::run_command("cd " + dir + "/r0 && " + train + "--epochs 1 --checkpoint-every 1 -o m.hunch 2>&1", &out) == 0);
  rc = hunch_test::run_command(mpi + "sh -c 'cd " + dir + "/r$OMPI_COMM_WORLD_RANK && exec " + train +
                                   "--epochs 2 --checkpoint-every 1 --resume -o m.hunch' 2>&1", &out);
  CHECK(rc != 0);
  CHECK(rc != 124);
  CHECK(has(out, "m.hunch.ckpt: rank 1 does not find the checkpoint rank 0 resumes from"));
  // Another --threads on rank 1.
  rc = hunch_test::run_command(mpi + "sh -c 'exec " + train + "--epochs 1 -o " + dir + "/t.hunch --threads $((1 + "
                               "OMPI_COMM_WORLD_RANK))' 2>&1", &out);
  CHECK(rc != 0);
  CHECK(rc != 124);
  CHECK(has(out, "every MPI rank needs the same --threads"));
  // An input rank 1 cannot find (a pattern without a match, a missing file), in a training run
  // and in a sharded dry run (whose reading has sums of its own): every rank stops, rank 1 says
  // why.
  for (const char* missing : {"/nonexistent-dir/*.csv", "/nonexistent.csv"})
    for (const char* mode : {"--epochs 1 --embed 16 --layers 1 --batch 32", "--dry-run"}) {
      CAPTURE(missing);
      CAPTURE(mode);
      rc = hunch_test::run_command(mpi + "sh -c 'if [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; then log=" + missing + "; else log=" +
                                       dir + "/alone.csv; fi; exec \"" + cli + "\" train \"$log\" --threads 1 " + mode +
                                       " --progress never -o " + dir + "/m.hunch' 2>&1",
                                   &out);
      CHECK(rc != 0);
      CHECK(rc != 124);
      CHECK((has(out, "no file matches the pattern") || has(out, "cannot open")));
      CHECK(has(out, "another r"));  // rank 0: "another rank of this run failed …" (or "another process")
    }
}
#endif
