// A rank that throws ends the whole job: rank 1 throws while rank 0 waits in a barrier for it.
// Under run_or_abort, rank 1 prints its reason and calls MPI_Abort, and mpiexec ends rank 0 and
// exits non-zero; without it, rank 0 would wait forever. abort_test.sh runs it under mpiexec.
#include <nn/distributed/mpi.hpp>
#include <stdexcept>

namespace distributed = ag::nn::distributed;

int main(int argc, char** argv) {
  distributed::Environment mpi(argc, argv);
  const distributed::Communicator world = mpi.world();
  distributed::run_or_abort(world, "mpi_abort_check", [&] {
    if (world.rank() == 1) throw std::runtime_error("a deliberate failure on rank 1");
    world.barrier();
  });
  return 0;
}
