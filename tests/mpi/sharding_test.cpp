// Each rank's share of a global batch (nn/distributed/sharding.hpp): together the ranks cover
// every batch exactly once, in shares that differ by at most one row, and ranks that drew
// different batches are told so.
#include <doctest/doctest.h>

#include <algorithm>
#include <nn/distributed/sharding.hpp>
#include <numeric>
#include <vector>

namespace nn = ag::nn;
namespace distributed = ag::nn::distributed;

TEST_CASE("shard: the ranks' shares of a batch are its rows, each once, in order, within one row of each other") {
  // Batches larger, smaller and not multiples of the rank count, and empty ones.
  for (const std::size_t n : {0, 1, 2, 3, 7, 10, 64, 65, 101}) {
    for (const int ranks : {1, 2, 3, 4, 8, 64}) {
      std::vector<std::size_t> rows(n);
      std::iota(rows.begin(), rows.end(), 1000);
      std::vector<std::size_t> joined;
      std::size_t smallest = n, largest = 0;
      for (int r = 0; r < ranks; ++r) {
        const std::vector<std::size_t> part = distributed::shard(rows, r, ranks);
        joined.insert(joined.end(), part.begin(), part.end());
        smallest = std::min(smallest, part.size());
        largest = std::max(largest, part.size());
      }
      CAPTURE(n);
      CAPTURE(ranks);
      CHECK(joined == rows);  // every row once, in rank order
      CHECK(largest - smallest <= 1);
    }
  }
  CHECK_THROWS_AS(distributed::shard({1, 2}, 2, 2), std::invalid_argument);
  CHECK_THROWS_AS(distributed::shard({1, 2}, -1, 2), std::invalid_argument);
}

TEST_CASE("ShardedBatches: over the ranks, every example of an epoch is seen exactly once") {
  const distributed::Communicator world;
  // 103 examples: batches of 10 end with a short one of 3; batches of 1 leave a rank without rows.
  for (const std::size_t batch_size : {10, 7, 1, 64, 200}) {
    nn::Generator generator(5);
    const distributed::ShardedBatches batches(nn::Batches(103, batch_size, true, generator), world);
    std::vector<double> seen(103, 0.0), rows_per_batch(batches.size(), 0.0);
    for (std::size_t b = 0; b < batches.size(); ++b) {
      const std::vector<std::size_t> mine = batches[b];
      rows_per_batch[b] = static_cast<double>(mine.size());
      for (const std::size_t row : mine) seen[row] += 1;
      // My share of the batch is the slice of its rows that shard gives me.
      CHECK(mine == distributed::shard(batches.global()[b], world.rank(), world.size()));
    }
    world.sum(seen);
    world.sum(rows_per_batch);
    CAPTURE(batch_size);
    CHECK(std::all_of(seen.begin(), seen.end(), [](double times) { return times == 1; }));
    for (std::size_t b = 0; b < batches.size(); ++b) {
      CHECK(rows_per_batch[b] == static_cast<double>(batches.global()[b].size()));
    }
  }
}

TEST_CASE("ShardedBatches: ranks that drew different batches are an error on every rank") {
  const distributed::Communicator world;
  nn::Generator differently_seeded(static_cast<std::uint64_t>(11 + world.rank()));
  CHECK_THROWS_WITH_AS(distributed::ShardedBatches(nn::Batches(50, 8, true, differently_seeded), world),
                       doctest::Contains("the ranks drew different batches"), std::invalid_argument);
  nn::Generator same(11);
  CHECK_THROWS_WITH_AS(distributed::ShardedBatches(nn::Batches(50 + world.rank() * 20, 8, true, same), world),
                       doctest::Contains("every rank must draw the same batches"), std::invalid_argument);
  nn::Generator again(11);
  CHECK_NOTHROW(distributed::ShardedBatches(nn::Batches(50, 8, true, again), world));
}
