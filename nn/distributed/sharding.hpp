// Each rank's share of a global batch. Every rank draws the same batches (the same Batches, built
// from generators seeded alike); rank r of p then takes rows [n r / p, n (r + 1) / p) of each
// batch of n rows: together the ranks cover every batch exactly once, the shares differ by at most
// one row, and a short batch (the epoch's last, or fewer rows than ranks) leaves some ranks fewer
// rows, or none. The gradients' average weights each rank by its rows (GradientAverager), so the
// result is the gradient of the batch's mean loss whatever the split.
#pragma once

#include <cstddef>
#include <vector>

#include "nn/distributed/mpi.hpp"
#include "nn/io/data.hpp"

namespace ag::nn::distributed {

// Rank `rank`'s share of `rows`, in their order. Throws std::invalid_argument unless
// 0 <= rank < ranks.
std::vector<std::size_t> shard(const std::vector<std::size_t>& rows, int rank, int ranks);

// The global batches of an epoch, seen from one rank: size() global batches, operator[] this
// rank's share of one.
class ShardedBatches {
 public:
  // Collective: checks that every rank of `comm` holds the same batches (a digest of every row of
  // every batch, compared by minimum and maximum over the ranks) and throws std::invalid_argument
  // on all of them if not: ranks shuffled with different seeds would otherwise train on
  // overlapping shares without a word.
  ShardedBatches(Batches global, const Communicator& comm);
  std::size_t size() const { return global_.size(); }
  // This rank's rows of global batch `batch`; may be empty.
  std::vector<std::size_t> operator[](std::size_t batch) const { return shard(global_[batch], rank_, ranks_); }
  // Every rank's rows of it.
  const Batches& global() const { return global_; }

 private:
  Batches global_;
  int rank_, ranks_;
};

}  // namespace ag::nn::distributed
