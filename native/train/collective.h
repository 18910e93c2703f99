// Collective: the processes of one training run. One process (the default) or, under mpirun,
// every rank of MPI_COMM_WORLD, training data-parallel: each rank reads the whole log, computes
// its share of every batch and the gradients are summed across ranks before the (identical)
// optimiser step, so N ranks follow the run of one process with the same global batch
// (docs/architecture.md, "Training across processes").
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "hunch/error.h"

namespace hunch::train {

class Collective {
 public:
  virtual ~Collective() = default;
  int rank() const { return rank_; }
  int size() const { return size_; }
  bool leader() const { return rank_ == 0; }
  // In place: the element-wise sum over every rank (each rank gets the same result).
  virtual void sum(float* data, size_t n) = 0;
  virtual void sum(double* data, size_t n) = 0;
  // In place: rank 0's values on every rank.
  virtual void broadcast(float* data, size_t n) = 0;
  // Every rank's `mine`, concatenated in rank order, on every rank (the ranks' lengths may
  // differ). One process: a copy of mine.
  virtual std::vector<double> all_gather(const std::vector<double>& mine) = 0;
  // True on every rank when it is true on any (a stop request, a spent time budget).
  bool any(bool mine) {
    double v = mine ? 1 : 0;
    sum(&v, 1);
    return v > 0;
  }
  // Rank 0's value on every rank (the other ranks' zeros summed with it: exact).
  double from_leader(double mine) {
    double v = leader() ? mine : 0;
    sum(&v, 1);
    return v;
  }
  // True on every rank when every rank holds rank 0's value (within rel_tol of it): a check that
  // the ranks' replicas of something computed alike did not come apart.
  bool agree(double mine, double rel_tol = 0) {
    const double lead = from_leader(mine);
    return !any(std::fabs(mine - lead) > rel_tol * std::fabs(lead));
  }

 protected:
  int rank_ = 0, size_ = 1;
};

// Every rank's (key, value) pairs with the values of equal keys summed, in increasing key order,
// the same on every rank (one process: its own, merged). For counts kept sparsely by key, each
// rank's over its own users (a sharded read: the transition pairs, DP's pair sums).
std::vector<std::pair<uint64_t, double>> sum_by_key(Collective& world, const std::vector<std::pair<uint64_t, double>>& mine);

// A 256-bit key drawn from rank 0's std::random_device, the same on every rank (zeros from the
// other ranks summed with rank 0's words). For differentially private training's noise and user
// sampling (secret-rng.h): secret (not from --seed, never written), and alike on every rank, so
// that every rank draws the same users and the same noise and the replicas stay identical.
std::array<uint32_t, 8> shared_secret_key(Collective& world);

// One process: sums and broadcasts are the identity.
Collective& single_process();

// The run's collective: MPI's world when this process was started by mpirun (or another MPI
// launcher: OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK in the environment) and the build has
// MPI (HUNCH_MPI); otherwise single_process(). An MPI launch of a build without MPI is an Error
// (every rank would train the whole model alone). Call once; end_collective() before exiting.
Error start_collective(Collective** out);
void  end_collective();
// Whether this build can train across processes.
bool  mpi_built();

}  // namespace hunch::train
