#include "autograd/grad_mode.hpp"

namespace ag {

namespace {
thread_local bool grad_mode = true;
thread_local bool anomaly = false;
}  // namespace

bool grad_enabled() {
  return grad_mode;
}
void set_grad_enabled(bool enabled) {
  grad_mode = enabled;
}
bool anomaly_mode() {
  return anomaly;
}
void set_anomaly_mode(bool enabled) {
  anomaly = enabled;
}

}  // namespace ag
