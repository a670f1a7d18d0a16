// Layers: Linear, Sequential, the activations and Dropout. Each forward is an expression over
// autograd ops.
#pragma once

#include <functional>
#include <initializer_list>

#include "nn/init.hpp"
#include "nn/module.hpp"

namespace ag::nn {

// How a Linear layer is made, named at the call site with designated initialisers:
//   nn::Linear<float> fc(784, 256, {.init = nn::Init::he, .generator = &gen});
//   auto out = nn::linear<float>(256, 10, {.bias = false});
struct LinearOptions {
  Init init = Init::xavier;        // the weight's scheme (nn/init.hpp); the bias starts at zero
  bool bias = true;                // false: y = x W, and bias() is undefined
  Generator* generator = nullptr;  // draws the weight; null: default_generator() (seed with manual_seed)
};

// y = x W + b, with W [in, out] (W(i, j) is the course's w_{i,j}) and b [out].
template <class T = float>
class Linear : public Layer<T> {
 public:
  Linear(std::size_t in, std::size_t out, LinearOptions options = {});
  Variable<T> forward(const Variable<T>& x) override;
  Variable<T>& weight() { return weight_; }
  // Undefined when the layer has no bias.
  Variable<T>& bias() { return bias_; }

 private:
  Variable<T> weight_, bias_;
};

// Layers applied in order.
template <class T = float>
class Sequential : public Layer<T> {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<std::shared_ptr<Layer<T>>> layers);
  Sequential& add(std::shared_ptr<Layer<T>> layer);
  Variable<T> forward(const Variable<T>& x) override;
  std::size_t size() const { return layers_.size(); }

 private:
  std::vector<std::shared_ptr<Layer<T>>> layers_;
};

// An activation (or any parameter-free function) as a layer.
template <class T = float>
class Function : public Layer<T> {
 public:
  explicit Function(std::function<Variable<T>(const Variable<T>&)> f) : f_(std::move(f)) {}
  Variable<T> forward(const Variable<T>& x) override { return f_(x); }

 private:
  std::function<Variable<T>(const Variable<T>&)> f_;
};

// The activations as layers: nn::relu<float>() and so on.
template <class T = float>
std::shared_ptr<Layer<T>> activation(Variable<T> (*f)(const Variable<T>&)) {
  return std::make_shared<Function<T>>(f);
}
template <class T = float>
std::shared_ptr<Layer<T>> relu() {
  return activation<T>(ag::relu<T>);
}
template <class T = float>
std::shared_ptr<Layer<T>> sigmoid() {
  return activation<T>(ag::sigmoid<T>);
}
template <class T = float>
std::shared_ptr<Layer<T>> tanh() {
  return activation<T>(ag::tanh<T>);
}
template <class T = float>
std::shared_ptr<Layer<T>> step() {
  return activation<T>(ag::step<T>);
}
template <class T = float>
std::shared_ptr<Layer<T>> softplus() {
  return activation<T>(ag::softplus<T>);
}

// Inverted dropout: in training, each element is zeroed with probability p and the rest scaled
// by 1 / (1 - p), so that evaluation (the identity) sees the same expected activation.
template <class T = float>
class Dropout : public Layer<T> {
 public:
  explicit Dropout(double p, Generator& generator = default_generator());
  Variable<T> forward(const Variable<T>& x) override;

 private:
  double p_;
  Generator* generator_;
};

// A Linear layer to register or to put in a Sequential: nn::linear<float>(784, 256, {.init = nn::Init::he}).
template <class T = float>
std::shared_ptr<Linear<T>> linear(std::size_t in, std::size_t out, LinearOptions options = {}) {
  return std::make_shared<Linear<T>>(in, out, options);
}

extern template class Linear<float>;
extern template class Linear<double>;
extern template class Sequential<float>;
extern template class Sequential<double>;
extern template class Dropout<float>;
extern template class Dropout<double>;

}  // namespace ag::nn
