// The benchmark's workloads, once per engine: autograd_workloads.cpp for this engine and
// torch_workloads.cpp for libtorch, each linked into a worker program of its own (worker.cpp), so
// that each engine runs in a fresh process with nothing of the other loaded.
//
// Every workload is set up once and then run as a closure; the libtorch twins compute the same
// thing the way a libtorch user would write it.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace bench {

// A workload is set up once; run() does one repetition (a training step, a chain, ...).
struct Workload {
  std::function<void()> run;
  double work_items = 1;  // what the figure is divided by: 1 for a step, the number of ops for a chain
};

struct NamedWorkload {
  std::string name;
  std::function<Workload()> make;
};

// The engine's name as the driver prints it: "autograd" or "libtorch".
const char* engine_name();

// Sets the engine's thread count (its own pool and its BLAS's), before any workload is made.
void set_threads(int threads);

// The workloads, by name; both engines offer the same names (autograd also the sgemm ceiling):
//   course_step                  one SGD step (alpha 0.2) of the course's 2-2-2-1 sigmoid network
//   scalar_chain_1000_per_op     1,000 scalar ops (alternately * w and + b), forward and backward
//   mlp_sgd_step_batch{64,256}   one SGD step of a 784-256-128-10 ReLU MLP, softmax cross-entropy
//   mlp_adam_step_batch{64,256}  the same with the library's modules and its Adam (lr 1e-3)
//   mlp_products_only_batch256   autograd only: the step's eight matrix products alone, through
//                                CBLAS: the floor under the batch-256 step
//   sgemm_1024                   autograd only: one 1024^3 sgemm through CBLAS, the ceiling
std::vector<NamedWorkload> workloads();

// One epoch of Adam training at batch 64 over `count` images [count, 784] with their labels.
void mlp_epoch(const float* images, const std::size_t* labels, std::size_t count);

// Which OpenBLAS build the process runs on, as OpenBLAS itself reports it: "sequential",
// "pthread" or "openmp" (the driver checks it is the one it asked for).
std::string blas_threading();

}  // namespace bench
