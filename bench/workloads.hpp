// The benchmark workloads, each built once and then run as a closure, one per engine. The
// libtorch twins (torch_workloads.cpp) compute the same thing the same way a user would write it.
#pragma once

#include <functional>
#include <cstddef>
#include <memory>

namespace bench {

// A workload is set up once; run() does one repetition (a training step, a chain, ...).
struct Workload {
  std::function<void()> run;
  double work_items = 1;  // what the figure is divided by: 1 for a step, the number of ops for a chain
};

// One SGD step (alpha = 0.2) of the course's 2-2-2-1 sigmoid network on x = [2, -1], y = 1.
Workload course_step_autograd();
// `ops` scalar ops (alternately * w and + b), forward then backward.
Workload scalar_chain_autograd(int ops);
// One SGD step of a 784-256-128-10 ReLU MLP with softmax cross-entropy on a random batch.
Workload mlp_step_autograd(int batch);

// One Adam step (lr 1e-3) of the same MLP, through nn's modules and optimizer.
Workload mlp_adam_step_autograd(int batch);
// One epoch of Adam training at batch 64 over `count` images [count, 784] with labels.
void mlp_epoch_autograd(const float* images, const std::size_t* labels, std::size_t count);

bool torch_available();
Workload mlp_adam_step_torch(int batch);
void mlp_epoch_torch(const float* images, const std::size_t* labels, std::size_t count);
void torch_set_threads(int threads);
Workload course_step_torch();
Workload scalar_chain_torch(int ops);
Workload mlp_step_torch(int batch);

}  // namespace bench
