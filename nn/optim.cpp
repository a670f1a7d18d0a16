#include "nn/optim.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>

namespace ag::nn {

namespace {

// A mistyped hyper-parameter is an error at construction, as in PyTorch, not a diverging run.
void require(bool ok, const char* optimizer, const char* name, double value, const char* range) {
  if (!ok)
    throw std::invalid_argument(fmt::format("{}: {} = {} is invalid: it must be {}", optimizer, name, value, range));
}

// A parameter listed twice would be updated twice per step.
template <class T>
void require_distinct(const char* optimizer, const std::vector<Variable<T>>& params) {
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (!params[i].defined()) throw std::invalid_argument(fmt::format("{}: parameter {} is undefined", optimizer, i));
    for (std::size_t j = 0; j < i; ++j) {
      if (params[i].is(params[j])) {
        throw std::invalid_argument(fmt::format("{}: parameters {} and {} are the same variable", optimizer, j, i));
      }
    }
  }
}

// The optimizer's state was sized for the parameter when it was built; a parameter reshaped since
// (assigned a tensor of another shape) would be broadcast against stale state.
template <class T>
void require_shape(const char* optimizer, std::size_t i, const Variable<T>& p, const Tensor<T>& state) {
  if (!shapes_equal(p.value(), state) || !shapes_equal(p.grad().value(), state)) {
    throw ShapeError(fmt::format(
        "{}: parameter {} has shape {} and gradient shape {}, but the optimizer was built for {}", optimizer, i,
        shape_str(p.shape()), shape_str(p.grad().shape()), shape_str(to_shape(state.shape()))));
  }
}

}  // namespace

template <class T>
SGD<T>::SGD(std::vector<Variable<T>> params, SGDOptions options) : Optimizer<T>(std::move(params)), options_(options) {
  require(std::isfinite(options.lr) && options.lr >= 0, "SGD", "lr", options.lr, "finite and >= 0");
  require(std::isfinite(options.momentum) && options.momentum >= 0, "SGD", "momentum", options.momentum,
          "finite and >= 0");
  require(std::isfinite(options.weight_decay) && options.weight_decay >= 0, "SGD", "weight_decay", options.weight_decay,
          "finite and >= 0");
  require(!options.nesterov || options.momentum > 0, "SGD", "momentum", options.momentum, "> 0 with nesterov");
  require_distinct("SGD", this->params_);
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
    require_shape("SGD", i, p, velocity_[i]);
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
  require(std::isfinite(options.lr) && options.lr >= 0, "Adam", "lr", options.lr, "finite and >= 0");
  require(options.beta1 >= 0 && options.beta1 < 1, "Adam", "beta1", options.beta1, "in [0, 1)");
  require(options.beta2 >= 0 && options.beta2 < 1, "Adam", "beta2", options.beta2, "in [0, 1)");
  require(std::isfinite(options.eps) && options.eps >= 0, "Adam", "eps", options.eps, "finite and >= 0");
  require(std::isfinite(options.weight_decay) && options.weight_decay >= 0, "Adam", "weight_decay",
          options.weight_decay, "finite and >= 0");
  require_distinct("Adam", this->params_);
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
    require_shape("Adam", i, p, first_[i]);
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
