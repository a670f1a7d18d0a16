// The data-parallel tests' own doctest program: mpiexec starts it on every rank, and every rank
// runs every test case in the same order, so that their collectives meet. Checks are CHECKs, never
// REQUIREs: a REQUIRE failing on one rank would skip that rank's next collective and leave the
// other waiting (CTest's timeout would then end the run, but without saying what failed).
// Rank 0 reports in full; the other ranks report their failures only.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <nn/distributed/mpi.hpp>

int main(int argc, char** argv) {
  ag::nn::distributed::Environment mpi(argc, argv);
  doctest::Context context(argc, argv);
  if (!mpi.world().is_root()) context.setOption("minimal", true);
  return context.run();
}
