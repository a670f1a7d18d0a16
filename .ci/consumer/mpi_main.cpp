// The installed autograd::nn_mpi, as a user's program links it: MPI started and ended by the
// library's Environment, a sum over the ranks, and rank 0's weights broadcast to every rank.
// Run under `mpiexec -n 2`.
#include <cstdint>
#include <cstdio>
#include <nn/distributed/distributed.hpp>
#include <nn/nn.hpp>
#include <vector>

int main(int argc, char** argv) {
  namespace distributed = ag::nn::distributed;
  distributed::Environment mpi(argc, argv);
  const distributed::Communicator world = mpi.world();
  return distributed::run_or_abort(world, "consumer_mpi", [&] {
    std::vector<double> ranks{static_cast<double>(world.rank())};
    world.sum(ranks);                                                     // 0 + 1 + ... + (size - 1)
    ag::nn::Generator gen(static_cast<std::uint64_t>(world.rank()) + 1);  // a different start on each rank
    ag::nn::Linear<float> layer(2, 3, {.generator = &gen});
    distributed::broadcast_parameters(world, layer.parameters());
    ag::nn::Generator root_gen(1);
    const ag::nn::Linear<float> root_layer(2, 3, {.generator = &root_gen});  // rank 0's start
    const bool ok = ranks[0] == world.size() * (world.size() - 1) / 2.0 &&
                    layer.parameters()[0].value() == root_layer.parameters()[0].value();
    std::printf("consumer_mpi: rank %d of %d, ranks summed to %g, rank 0's weights received (%s)\n", world.rank(),
                world.size(), ranks[0], ok ? "ok" : "WRONG");
    return ok ? 0 : 1;
  });
}
