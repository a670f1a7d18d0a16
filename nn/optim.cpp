#include "nn/optim.hpp"

#include <fmt/format.h>

#include <array>
#include <autograd/parallel.hpp>
#include <cmath>
#include <stdexcept>
#include <xtensor/xadapt.hpp>
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

// Calls update(view) on consecutive blocks of `n` elements, where view(t) is the block of tensor
// t as a 1-D xtensor expression: the threads split the elements, and each thread's passes over a
// block (Adam makes three) stay in its cache instead of streaming whole parameters three times.
template <class Update>
void for_blocks(std::size_t n, std::size_t tensors, Update update) {
  constexpr std::size_t kBlock = 2048;
  detail::parallel_ranges(n, n * tensors, [&](std::size_t begin, std::size_t end) {
    for (std::size_t b = begin; b < end; b += kBlock) {
      const std::size_t len = std::min(kBlock, end - b);
      update([b, len](auto& t) {
        return xt::adapt(t.data() + b, len, xt::no_ownership(), std::array<std::size_t, 1>{len});
      });
    }
  });
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
    Tensor<T>& w = p.mutable_value();
    const Tensor<T>& grad = p.grad().value();
    Tensor<T>& v = velocity_[i];
    const bool nesterov = options_.nesterov;
    for_blocks(w.size(), mu == 0 ? 2 : 3, [&](auto view) {
      auto W = view(w);
      const auto G = view(grad);
      if (mu == 0) {
        if (decay == 0) {
          xt::noalias(W) -= lr * G;
        } else {
          xt::noalias(W) -= lr * (G + decay * W);
        }
        return;
      }
      auto V = view(v);
      xt::noalias(V) = mu * V + (G + decay * W);
      if (nesterov) {
        xt::noalias(W) -= lr * (G + decay * W + mu * V);
      } else {
        xt::noalias(W) -= lr * V;
      }
    });
  }
}

template <class T>
void SGD<T>::set_lr(double lr) {
  require(std::isfinite(lr) && lr >= 0, "SGD::set_lr", "lr", lr, "finite and >= 0");
  options_.lr = lr;
}

template <class T>
std::vector<Tensor<T>*> SGD<T>::state_tensors() {
  std::vector<Tensor<T>*> state;
  if (options_.momentum == 0) return state;  // the velocities are never read or written then
  for (Tensor<T>& v : velocity_) state.push_back(&v);
  return state;
}

template <class T>
Adam<T>::Adam(std::vector<Variable<T>> params, AdamOptions options)
    : Optimizer<T>(std::move(params)), options_(options) {
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
    Tensor<T>& m = first_[i];
    Tensor<T>& s = second_[i];
    // Decoupled decay (AdamW) shrinks the weight before the step; coupled decay adds decay * w to
    // the gradient. noalias: each element only reads itself, so no temporary is needed.
    const T shrink = decay != 0 && options_.decoupled ? T(1) - lr * decay : T(1);
    const T coupled = decay != 0 && !options_.decoupled ? decay : T(0);
    for_blocks(w.size(), 4, [&](auto view) {
      auto W = view(w), M = view(m), S = view(s);
      const auto G = view(grad);
      if (shrink != T(1)) xt::noalias(W) *= shrink;
      if (coupled != T(0)) {
        xt::noalias(M) = b1 * M + (T(1) - b1) * (G + coupled * W);
        xt::noalias(S) = b2 * S + (T(1) - b2) * (G + coupled * W) * (G + coupled * W);
      } else {
        xt::noalias(M) = b1 * M + (T(1) - b1) * G;
        xt::noalias(S) = b2 * S + (T(1) - b2) * G * G;
      }
      xt::noalias(W) -= lr * (M / correction1) / (xt::sqrt(S / correction2) + eps);
    });
  }
}

template <class T>
void Adam<T>::set_lr(double lr) {
  require(std::isfinite(lr) && lr >= 0, "Adam::set_lr", "lr", lr, "finite and >= 0");
  options_.lr = lr;
}

template <class T>
std::vector<Tensor<T>*> Adam<T>::state_tensors() {
  std::vector<Tensor<T>*> state;
  for (Tensor<T>& m : first_) state.push_back(&m);
  for (Tensor<T>& s : second_) state.push_back(&s);
  return state;
}

template <class T>
void Adam<T>::set_step_count(long steps) {
  if (steps < 0) throw std::invalid_argument(fmt::format("Adam::set_step_count: {} steps", steps));
  steps_ = steps;
}

template class SGD<float>;
template class SGD<double>;
template class Adam<float>;
template class Adam<double>;

}  // namespace ag::nn
