#include "nn/optim.hpp"

#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>

#include <cmath>

namespace ag::nn {

template <class T>
SGD<T>::SGD(std::vector<Variable<T>> params, SGDOptions options) : Optimizer<T>(std::move(params)), options_(options) {
  for (const Variable<T>& p : this->params_) velocity_.push_back(full<T>(p.shape(), T(0)));
}

template <class T>
void SGD<T>::step() {
  NoGrad no_grad;
  const T lr = static_cast<T>(options_.lr), mu = static_cast<T>(options_.momentum);
  const T decay = static_cast<T>(options_.weight_decay);
  for (std::size_t i = 0; i < this->params_.size(); ++i) {
    Variable<T>& p = this->params_[i];
    if (!p.grad().defined()) continue;
    // noalias: each element only reads itself, so xtensor need not evaluate into a temporary first.
    const Tensor<T>& grad = p.grad().value();
    if (decay == 0 && mu == 0) {
      xt::noalias(p.mutable_value()) -= lr * grad;
      continue;
    }
    const Tensor<T> g = grad + decay * p.value();
    if (mu == 0) {
      xt::noalias(p.mutable_value()) -= lr * g;
      continue;
    }
    Tensor<T>& v = velocity_[i];
    xt::noalias(v) = mu * v + g;
    if (options_.nesterov) {
      xt::noalias(p.mutable_value()) -= lr * (g + mu * v);
    } else {
      xt::noalias(p.mutable_value()) -= lr * v;
    }
  }
}

template <class T>
Adam<T>::Adam(std::vector<Variable<T>> params, AdamOptions options) : Optimizer<T>(std::move(params)), options_(options) {
  for (const Variable<T>& p : this->params_) {
    first_.push_back(full<T>(p.shape(), T(0)));
    second_.push_back(full<T>(p.shape(), T(0)));
  }
}

template <class T>
void Adam<T>::step() {
  NoGrad no_grad;
  ++steps_;
  const T lr = static_cast<T>(options_.lr), b1 = static_cast<T>(options_.beta1), b2 = static_cast<T>(options_.beta2);
  const T eps = static_cast<T>(options_.eps), decay = static_cast<T>(options_.weight_decay);
  const T correction1 = T(1) - static_cast<T>(std::pow(options_.beta1, steps_));
  const T correction2 = T(1) - static_cast<T>(std::pow(options_.beta2, steps_));
  for (std::size_t i = 0; i < this->params_.size(); ++i) {
    Variable<T>& p = this->params_[i];
    if (!p.grad().defined()) continue;
    Tensor<T>& w = p.mutable_value();
    const Tensor<T>& grad = p.grad().value();
    if (decay != 0 && options_.decoupled) xt::noalias(w) *= T(1) - lr * decay;
    const bool coupled = decay != 0 && !options_.decoupled;
    Tensor<T>& m = first_[i];
    Tensor<T>& s = second_[i];
    // noalias: each element only reads itself, so xtensor need not evaluate into a temporary first.
    if (coupled) {
      const Tensor<T> g = grad + decay * w;
      xt::noalias(m) = b1 * m + (T(1) - b1) * g;
      xt::noalias(s) = b2 * s + (T(1) - b2) * g * g;
    } else {
      xt::noalias(m) = b1 * m + (T(1) - b1) * grad;
      xt::noalias(s) = b2 * s + (T(1) - b2) * grad * grad;
    }
    xt::noalias(w) -= lr * (m / correction1) / (xt::sqrt(s / correction2) + eps);
  }
}

template class SGD<float>;
template class SGD<double>;
template class Adam<float>;
template class Adam<double>;

}  // namespace ag::nn
