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

// The workloads both engines run (worker.cpp names them):
// One SGD step (alpha 0.2) of the course's 2-2-2-1 sigmoid network.
Workload course_step();
// `ops` scalar ops (alternately * w and + b), forward and backward.
Workload scalar_chain(int ops);
// One SGD step of a 784-256-128-10 ReLU MLP with softmax cross-entropy on a random batch.
Workload mlp_sgd_step(int batch);
// The same with the library's modules and its Adam (lr 1e-3).
Workload mlp_adam_step(int batch);

// Workloads of this engine alone. autograd's: mlp_products_only_batch256, the batch-256 step's
// eight matrix products through CBLAS (the floor under that step), and sgemm_1024, one 1024^3
// sgemm (the machine's ceiling).
std::vector<NamedWorkload> engine_only_workloads();

// One epoch of Adam training at batch 64 over `count` images [count, 784] with their labels.
void mlp_epoch(const float* images, const std::size_t* labels, std::size_t count);

}  // namespace bench
