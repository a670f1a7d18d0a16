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

// Sets one of these switches for a scope and restores its previous state at the end of it.
template <bool (*Get)(), void (*Set)(bool)>
class SwitchGuard {
 public:
  explicit SwitchGuard(bool enabled) : previous_(Get()) { Set(enabled); }
  ~SwitchGuard() { Set(previous_); }
  SwitchGuard(const SwitchGuard&) = delete;
  SwitchGuard& operator=(const SwitchGuard&) = delete;

 private:
  bool previous_;
};

using GradModeGuard = SwitchGuard<grad_enabled, set_grad_enabled>;
using AnomalyModeGuard = SwitchGuard<anomaly_mode, set_anomaly_mode>;

// `{ ag::NoGrad no_grad; ... }`: inference, optimizer updates, anything not to differentiate.
class NoGrad : public GradModeGuard {
 public:
  NoGrad() : GradModeGuard(false) {}
};

// `{ ag::DetectAnomaly detect; ... }`: debugging a NaN.
class DetectAnomaly : public AnomalyModeGuard {
 public:
  DetectAnomaly() : AnomalyModeGuard(true) {}
};

}  // namespace ag
