// Thread-local switches that change what the engine records: grad mode and anomaly mode.
//
// Both are per thread, like PyTorch's GradMode, so that a data-loading thread's arithmetic never
// lands on a training thread's graph. Both are set through RAII guards that restore the
// previous state, so scopes nest.
#pragma once

namespace ag {

// When off, ops compute values only: nothing is recorded and results do not require grad.
bool grad_enabled();
void set_grad_enabled(bool enabled);

// When on, every op checks its output (forward) and the gradients it produces (backward) for
// NaN or Inf and throws an AnomalyError naming the op, at the first op that produced one.
bool anomaly_mode();
void set_anomaly_mode(bool enabled);

class GradModeGuard {
 public:
  explicit GradModeGuard(bool enabled) : previous_(grad_enabled()) { set_grad_enabled(enabled); }
  ~GradModeGuard() { set_grad_enabled(previous_); }
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool previous_;
};

// `{ ag::NoGrad no_grad; ... }`: inference, optimizer updates, anything not to differentiate.
class NoGrad : public GradModeGuard {
 public:
  NoGrad() : GradModeGuard(false) {}
};

class AnomalyModeGuard {
 public:
  explicit AnomalyModeGuard(bool enabled) : previous_(anomaly_mode()) { set_anomaly_mode(enabled); }
  ~AnomalyModeGuard() { set_anomaly_mode(previous_); }
  AnomalyModeGuard(const AnomalyModeGuard&) = delete;
  AnomalyModeGuard& operator=(const AnomalyModeGuard&) = delete;

 private:
  bool previous_;
};

// `{ ag::DetectAnomaly detect; ... }`: debugging a NaN.
class DetectAnomaly : public AnomalyModeGuard {
 public:
  DetectAnomaly() : AnomalyModeGuard(true) {}
};

}  // namespace ag
