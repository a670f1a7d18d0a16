// bench_mpi_epoch: bench_compare's MLP epoch, fashion_mnist_epoch_adam_batch64, data-parallel over
// the ranks of mpiexec: its examples per second at this rank count, and the bytes allreduced per
// step. Run once per rank count, each a fresh set of processes:
//
//   mpiexec -n 1 bench_mpi_epoch [--data DIR] [--epochs E] [--threads N]
//   mpiexec -n 2 bench_mpi_epoch ...
//
// The workload is autograd_workloads.cpp's mlp_epoch, written out again here with the ranks' share
// (that file's model is not exported): a 784-256-128-10 ReLU MLP (He, He, Xavier) drawn from
// Generator(7), Adam at lr 1e-3, the softmax cross-entropy's mean over shuffled global batches of
// 64 drawn from the same generator; each rank takes its half (or all, at one rank) of each batch,
// and nn/distributed's GradientAverager averages the gradients in one MPI_Allreduce per step. Each
// epoch starts afresh (a new model and generator), as a bench_compare epoch worker does; the
// epoch's time is from a barrier before it to one after it, so the slowest rank sets it.
//
// Rank 0 prints one line per epoch, "epoch <examples> <seconds> <seconds computing> <seconds in
// average()>" (the last two means over the ranks: computing is the forward, backward and Adam
// step; average() is packing, the allreduce, waiting for the other rank and unpacking), then a
// summary: the median epoch's examples per second and the bytes per step.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <nn/distributed/distributed.hpp>
#include <nn/nn.hpp>
#include <string>
#include <vector>

namespace nn = ag::nn;
namespace distributed = ag::nn::distributed;
using V = ag::Variable<float>;
using clock_type = std::chrono::steady_clock;

namespace {

struct Mlp : nn::Module<float> {
  std::shared_ptr<nn::Linear<float>> fc1, fc2, fc3;
  explicit Mlp(nn::Generator& g) {
    fc1 = register_module("fc1", nn::linear<float>(784, 256, {.init = nn::Init::he, .generator = &g}));
    fc2 = register_module("fc2", nn::linear<float>(256, 128, {.init = nn::Init::he, .generator = &g}));
    fc3 = register_module("fc3", nn::linear<float>(128, 10, {.init = nn::Init::xavier, .generator = &g}));
  }
  V forward(const V& x) { return fc3->forward(ag::relu(fc2->forward(ag::relu(fc1->forward(x))))); }
};

struct EpochTime {
  double seconds, averaging_seconds, computing_seconds;
  std::size_t bytes_per_step;
};

EpochTime epoch(const nn::LabelledImages& train, const distributed::Communicator& world) {
  nn::Generator generator(7);
  Mlp model(generator);
  distributed::GradientAverager<float> averager(world, model.parameters());
  nn::Adam<float> adam(model.parameters(), {.lr = 1e-3});
  world.barrier();
  const auto start = clock_type::now();
  std::chrono::duration<double> averaging{}, computing{};
  const distributed::ShardedBatches batches(nn::Batches(train.labels.size(), 64, true, generator), world);
  for (std::size_t b = 0; b < batches.size(); ++b) {
    const std::vector<std::size_t> rows = batches[b];
    const auto begin = clock_type::now();
    adam.zero_grad();
    if (!rows.empty()) {
      const V loss = nn::softmax_cross_entropy(model.forward(V(nn::select_rows(train.images, rows))),
                                               nn::select(train.labels, rows));
      ag::backward(loss);
    }
    const auto before = clock_type::now();
    averager.average(rows.size());
    const auto after = clock_type::now();
    adam.step();
    averaging += after - before;
    computing += (before - begin) + (clock_type::now() - after);
  }
  world.barrier();
  const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  std::array<double, 2> sums{averaging.count(), computing.count()};
  world.sum(sums);
  return {seconds, sums[0] / world.size(), sums[1] / world.size(), averager.bytes_per_step()};
}

int usage() {
  std::fprintf(stderr, "usage: bench_mpi_epoch [--data DIR] [--epochs E] [--threads N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  distributed::Environment mpi(argc, argv);
  const distributed::Communicator world = mpi.world();
  std::string data = "/usr/share/datasets/fashion-mnist";
  int epochs = 3, threads = 1;
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc) return usage();
    if (std::strcmp(argv[i], "--data") == 0) {
      data = argv[i + 1];
    } else if (std::strcmp(argv[i], "--epochs") == 0) {
      epochs = std::atoi(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--threads") == 0) {
      threads = std::atoi(argv[i + 1]);
    } else {
      return usage();
    }
  }
  if (epochs < 1 || threads < 1) return usage();
  return distributed::run_or_abort(world, "bench_mpi_epoch", [&] {
    ag::set_num_threads(threads);
    const nn::LabelledImages train = nn::load_mnist(data, "train");
    const auto examples = static_cast<double>(train.labels.size());
    std::vector<double> rates;
    std::size_t bytes = 0;
    for (int e = 0; e < epochs; ++e) {
      const EpochTime t = epoch(train, world);
      rates.push_back(examples / t.seconds);
      bytes = t.bytes_per_step;
      if (world.is_root()) {
        fmt::print("epoch {} {:.4f} {:.4f} {:.4f}\n", train.labels.size(), t.seconds, t.computing_seconds,
                   t.averaging_seconds);
      }
    }
    std::sort(rates.begin(), rates.end());
    if (world.is_root()) {
      fmt::print(
          "ranks {} threads {}: {:.0f} examples/s (median of {} epochs, {:.0f} to {:.0f}); {} bytes "
          "allreduced per step ({} floats: 235,146 gradients, a flag per parameter tensor, the row count)\n",
          world.size(), threads, rates[rates.size() / 2], rates.size(), rates.front(), rates.back(), bytes,
          bytes / sizeof(float));
    }
    return 0;
  });
}
