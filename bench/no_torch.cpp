// Built in place of torch_workloads.cpp when libtorch is not installed.
#include "workloads.hpp"

namespace bench {
bool torch_available() { return false; }
void torch_set_threads(int) {}
Workload course_step_torch() { return {}; }
Workload scalar_chain_torch(int) { return {}; }
Workload mlp_step_torch(int) { return {}; }
Workload mlp_adam_step_torch(int) { return {}; }
void mlp_epoch_torch(const float*, const std::size_t*, std::size_t) {}
}  // namespace bench
