#include "nn/distributed/sharding.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <stdexcept>

namespace ag::nn::distributed {

std::vector<std::size_t> shard(const std::vector<std::size_t>& rows, int rank, int ranks) {
  if (ranks < 1 || rank < 0 || rank >= ranks) {
    throw std::invalid_argument(fmt::format("shard: rank {} of {} ranks", rank, ranks));
  }
  // n r / p without overflow for any n a vector can hold: n = q p + m gives q r + m r / p.
  const std::size_t n = rows.size(), p = static_cast<std::size_t>(ranks);
  const auto start = [&](std::size_t r) { return (n / p) * r + (n % p) * r / p; };
  const std::size_t begin = start(static_cast<std::size_t>(rank)), end = start(static_cast<std::size_t>(rank) + 1);
  return std::vector<std::size_t>(rows.begin() + static_cast<long>(begin), rows.begin() + static_cast<long>(end));
}

namespace {

// FNV-1a over the batches' sizes and rows: equal on two ranks when they drew the same batches
// (up to a 2^-64 collision).
std::uint64_t digest(const Batches& batches) {
  std::uint64_t h = 14695981039346656037ULL;
  const auto mix = [&h](std::uint64_t v) {
    for (int byte = 0; byte < 8; ++byte) {
      h ^= (v >> (8 * byte)) & 0xffU;
      h *= 1099511628211ULL;
    }
  };
  mix(batches.size());
  for (std::size_t b = 0; b < batches.size(); ++b) {
    const std::vector<std::size_t> rows = batches[b];
    mix(rows.size());
    for (const std::size_t row : rows) mix(row);
  }
  return h;
}

}  // namespace

ShardedBatches::ShardedBatches(Batches global, const Communicator& comm)
    : global_(std::move(global)), rank_(comm.rank()), ranks_(comm.size()) {
  const std::uint64_t mine[] = {global_.size(), digest(global_)};
  const std::vector<Communicator::Range> agreed = comm.range(mine);
  if (agreed[0].min != agreed[0].max) {
    throw std::invalid_argument(fmt::format(
        "ShardedBatches: the ranks hold from {} to {} batches; every rank must draw the same batches (the same "
        "data size, batch size and shuffling seed)",
        agreed[0].min, agreed[0].max));
  }
  if (agreed[1].min != agreed[1].max) {
    throw std::invalid_argument(
        "ShardedBatches: the ranks drew different batches; every rank must draw the same ones (seed the "
        "generator that shuffles them alike on every rank)");
  }
}

}  // namespace ag::nn::distributed
