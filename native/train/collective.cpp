// Collective (collective.h): the one-process case, and MPI's world when built with HUNCH_MPI.
#include "train/collective.h"

#include <algorithm>
#include <cstdlib>
#include <random>

#ifdef HUNCH_MPI
// The C API only: OpenMPI's and MPICH's deprecated C++ bindings need a library of their own.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace hunch::train {

namespace {

class SingleProcess final : public Collective {
 public:
  void sum(float*, size_t) override {}
  void sum(double*, size_t) override {}
  void broadcast(float*, size_t) override {}
  std::vector<double> all_gather(const std::vector<double>& mine) override { return mine; }
};

#ifdef HUNCH_MPI
class MpiWorld final : public Collective {
 public:
  MpiWorld() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  // MPI counts are ints: large buffers go in slices.
  void sum(float* data, size_t n) override {
    for (size_t o = 0; o < n; o += kSlice)
      MPI_Allreduce(MPI_IN_PLACE, data + o, int(std::min(kSlice, n - o)), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
  }
  void sum(double* data, size_t n) override {
    for (size_t o = 0; o < n; o += kSlice)
      MPI_Allreduce(MPI_IN_PLACE, data + o, int(std::min(kSlice, n - o)), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  }
  void broadcast(float* data, size_t n) override {
    for (size_t o = 0; o < n; o += kSlice) MPI_Bcast(data + o, int(std::min(kSlice, n - o)), MPI_FLOAT, 0, MPI_COMM_WORLD);
  }
  // In rounds of at most kSlice values from each rank (MPI's counts and displacements are ints).
  std::vector<double> all_gather(const std::vector<double>& mine) override {
    std::vector<double> lengths(size_t(size_), 0);
    lengths[size_t(rank_)] = double(mine.size());
    sum(lengths.data(), lengths.size());
    size_t total = 0, longest = 0;
    for (double l : lengths) {
      total += size_t(l);
      longest = std::max(longest, size_t(l));
    }
    std::vector<double> out(total);
    std::vector<size_t> at(size_t(size_), 0);  // where each rank's values start in out
    for (size_t r = 1; r < at.size(); ++r) at[r] = at[r - 1] + size_t(lengths[r - 1]);
    std::vector<int> counts(static_cast<size_t>(size_)), displs(static_cast<size_t>(size_));
    std::vector<double> round;
    const size_t slice = std::max<size_t>(1, (size_t(1) << 30) / size_t(size_));  // a round's total stays an int
    for (size_t o = 0; o < longest; o += slice) {
      size_t got = 0;
      for (size_t r = 0; r < counts.size(); ++r) {
        const size_t l = size_t(lengths[r]);
        counts[r] = int(o < l ? std::min(slice, l - o) : 0);
        displs[r] = int(got);
        got += size_t(counts[r]);
      }
      round.resize(got);
      MPI_Allgatherv(mine.data() + std::min(o, mine.size()), counts[size_t(rank_)], MPI_DOUBLE, round.data(),
                     counts.data(), displs.data(), MPI_DOUBLE, MPI_COMM_WORLD);
      for (size_t r = 0; r < counts.size(); ++r)
        std::copy_n(round.data() + displs[r], counts[r], out.data() + at[r] + o);
    }
    return out;
  }

 private:
  static constexpr size_t kSlice = size_t(1) << 28;
};
MpiWorld* g_world = nullptr;
#endif

bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(v)) return true;
  return false;
}

}  // namespace

std::vector<std::pair<uint64_t, double>> sum_by_key(Collective& world, const std::vector<std::pair<uint64_t, double>>& mine) {
  // A key travels as its two 32-bit halves: a double holds 53 bits.
  std::vector<double> packed;
  packed.reserve(3 * mine.size());
  for (const auto& [key, value] : mine) packed.insert(packed.end(), {double(key >> 32), double(key & 0xFFFFFFFFu), value});
  const std::vector<double> every = world.all_gather(packed);
  std::vector<std::pair<uint64_t, double>> all;
  all.reserve(every.size() / 3);
  for (size_t k = 0; k + 2 < every.size(); k += 3) all.emplace_back(uint64_t(every[k]) << 32 | uint64_t(every[k + 1]), every[k + 2]);
  // Stable: equal keys add up in rank order, alike everywhere.
  std::stable_sort(all.begin(), all.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::pair<uint64_t, double>> out;
  for (const auto& kv : all)
    if (!out.empty() && out.back().first == kv.first) out.back().second += kv.second;
    else out.push_back(kv);
  return out;
}

Collective& single_process() {
  static SingleProcess one;
  return one;
}

std::array<uint32_t, 8> shared_secret_key(Collective& world) {
  // 32-bit words: a double carries each exactly through the sum.
  double words[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  if (world.leader()) {
    std::random_device rd;
    for (double& w : words) w = double(uint32_t(rd()));
  }
  world.sum(words, 8);
  std::array<uint32_t, 8> key;
  for (size_t i = 0; i < 8; ++i) key[i] = uint32_t(words[i]);
  return key;
}

bool mpi_built() {
#ifdef HUNCH_MPI
  return true;
#else
  return false;
#endif
}

Error start_collective(Collective** out) {
  *out = &single_process();
  if (!launched_by_mpi()) return {};
#ifdef HUNCH_MPI
  int ready = 0;
  MPI_Initialized(&ready);
  if (!ready && MPI_Init(nullptr, nullptr) != MPI_SUCCESS) return Error("MPI_Init failed");
  if (!g_world) g_world = new MpiWorld();
  *out = g_world;
  return {};
#else
  return Error("started by an MPI launcher, but this hunch was built without MPI (install libopenmpi-dev and "
               "rebuild: the CMake option HUNCH_MPI is on when MPI is found)");
#endif
}

void end_collective() {
#ifdef HUNCH_MPI
  int ready = 0, done = 0;
  MPI_Initialized(&ready);
  MPI_Finalized(&done);
  if (ready && !done) MPI_Finalize();
#endif
}

}  // namespace hunch::train
