// Optimizers: they change parameter values in place from the gradients backward left, under
// NoGrad. Weight decay follows PyTorch: SGD and Adam add weight_decay * w to the gradient;
// Adam with `decoupled` (AdamW) shrinks the weights directly instead.
//
//   SGD        v <- mu v + g;  w <- w - lr (nesterov ? g + mu v : v)        (v = g when mu = 0)
//   Adam       m <- b1 m + (1 - b1) g;  s <- b2 s + (1 - b2) g^2
//              w <- w - lr (m / (1 - b1^t)) / (sqrt(s / (1 - b2^t)) + eps)
#pragma once

#include <autograd/autograd.hpp>
#include <stdexcept>
#include <vector>

namespace ag::nn {

template <class T = float>
class Optimizer {
 public:
  explicit Optimizer(std::vector<Variable<T>> params) : params_(std::move(params)) {}
  virtual ~Optimizer() = default;
  // Applies one update from the current gradients; parameters without one are left alone.
  virtual void step() = 0;
  void zero_grad() {
    for (Variable<T>& p : params_) p.zero_grad();
  }

  // The learning rate the next step uses: the options' lr until set_lr changes it. A schedule
  // calls set_lr between steps (PyTorch's `param_groups[0]["lr"] = x`); nothing else of the
  // state changes (Adam's moments and step count stay). Every optimizer has a rate, so a schedule
  // can take any Optimizer&. set_lr throws std::invalid_argument, naming the optimizer and the
  // value, unless the rate is finite and at least 0 (as the constructors ask, and PyTorch: a
  // cosine schedule ends at 0), and then leaves the rate as it was.
  virtual double lr() const = 0;
  virtual void set_lr(double lr) = 0;

  // The state one step hands the next, for checkpointing it and for broadcasting it between the
  // ranks of data-parallel training (nn/distributed/): the state's tensors, writable in place, in a
  // fixed order (SGD: one velocity per parameter, with momentum only; Adam: every parameter's first
  // moment, then every second moment), and a step count (Adam's bias correction; 0 and only 0 for an
  // optimizer that keeps none). Two plain accessors rather than a serialised blob: the tensors are
  // the optimizer's own, so a broadcast or a load writes into them with no copy back and no format,
  // and the one scalar any optimizer keeps is an integer that a float tensor could not hold exactly.
  // The state is built, zero, with the optimizer, so it exists before the first step too. Writing
  // a tensor of another shape through a pointer is an error at the next step (ShapeError).
  virtual std::vector<Tensor<T>*> state_tensors() { return {}; }
  virtual long step_count() const { return 0; }
  // Throws std::invalid_argument for a negative count, or a non-zero one where none is kept.
  virtual void set_step_count(long steps) {
    if (steps != 0) throw std::invalid_argument("Optimizer::set_step_count: this optimizer keeps no step count");
  }

 protected:
  std::vector<Variable<T>> params_;
};

struct SGDOptions {
  double lr = 0.01, momentum = 0, weight_decay = 0;
  bool nesterov = false;
};

template <class T = float>
class SGD : public Optimizer<T> {
 public:
  SGD(std::vector<Variable<T>> params, SGDOptions options);
  void step() override;
  double lr() const override { return options_.lr; }
  void set_lr(double lr) override;
  // The velocities, with momentum; none without (SGD then keeps no state).
  std::vector<Tensor<T>*> state_tensors() override;

 private:
  SGDOptions options_;
  std::vector<Tensor<T>> velocity_;
};

struct AdamOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool decoupled = false;  // AdamW
};

template <class T = float>
class Adam : public Optimizer<T> {
 public:
  Adam(std::vector<Variable<T>> params, AdamOptions options);
  void step() override;
  // AdamW's decoupled decay shrinks the weights by lr * weight_decay: by the new rate too.
  double lr() const override { return options_.lr; }
  void set_lr(double lr) override;
  // Every first moment, then every second moment; the step count is the steps taken.
  std::vector<Tensor<T>*> state_tensors() override;
  long step_count() const override { return steps_; }
  void set_step_count(long steps) override;

 private:
  AdamOptions options_;
  std::vector<Tensor<T>> first_, second_;
  long steps_ = 0;
};

extern template class SGD<float>;
extern template class SGD<double>;
extern template class Adam<float>;
extern template class Adam<double>;

}  // namespace ag::nn
