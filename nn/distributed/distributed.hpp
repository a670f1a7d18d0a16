// Data-parallel training over MPI (the target autograd::nn_mpi, built when CMake finds MPI): the
// environment and the guard (mpi.hpp), each rank's share of a batch (sharding.hpp), parameters
// broadcast, gradients averaged and checkpoints saved once (data_parallel.hpp).
#pragma once

#include "nn/distributed/data_parallel.hpp"
#include "nn/distributed/mpi.hpp"
#include "nn/distributed/sharding.hpp"
