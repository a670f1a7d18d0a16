// Optimizers: they change parameter values in place from the gradients backward left, under
// NoGrad. Weight decay follows PyTorch: SGD and Adam add weight_decay * w to the gradient;
// Adam with `decoupled` (AdamW) shrinks the weights directly instead.
//
//   SGD        v <- mu v + g;  w <- w - lr (nesterov ? g + mu v : v)        (v = g when mu = 0)
//   Adam       m <- b1 m + (1 - b1) g;  s <- b2 s + (1 - b2) g^2
//              w <- w - lr (m / (1 - b1^t)) / (sqrt(s / (1 - b2^t)) + eps)
#pragma once

#include <autograd/autograd.hpp>
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
