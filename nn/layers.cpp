#include "nn/layers.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace ag::nn {

template <class T>
Linear<T>::Linear(std::size_t in, std::size_t out, LinearOptions options) {
  weight_ = this->register_parameter("weight", uninitialized<T>({in, out}));
  initialize(weight_, options.init, options.generator ? *options.generator : default_generator());
  if (options.bias) bias_ = this->register_parameter("bias", full<T>({out}, T(0)));
}

template <class T>
Variable<T> Linear<T>::forward(const Variable<T>& x) {
  const Variable<T> y = matmul(x, weight_);
  return bias_.defined() ? y + bias_ : y;
}

template <class T>
Sequential<T>::Sequential(std::initializer_list<std::shared_ptr<Layer<T>>> layers) {
  for (const auto& layer : layers) add(layer);
}

template <class T>
Sequential<T>& Sequential<T>::add(std::shared_ptr<Layer<T>> layer) {
  this->register_module(std::to_string(layers_.size()), layer);
  layers_.push_back(std::move(layer));
  return *this;
}

template <class T>
Variable<T> Sequential<T>::forward(const Variable<T>& x) {
  Variable<T> y = x;
  for (const auto& layer : layers_) y = layer->forward(y);
  return y;
}

template <class T>
Dropout<T>::Dropout(double p, Generator& generator) : p_(p), generator_(&generator) {
  if (p < 0 || p >= 1) throw std::invalid_argument(fmt::format("Dropout: p must be in [0, 1), got {}", p));
}

template <class T>
Variable<T> Dropout<T>::forward(const Variable<T>& x) {
  if (!this->is_training() || p_ == 0) return x;
  // The mask is drawn once into a tensor (a lazy xtensor generator would redraw on every read).
  Tensor<T> mask = generator_->bernoulli<T>(x.shape(), 1 - p_);
  mask *= T(1 / (1 - p_));
  return x * Variable<T>(std::move(mask));
}

template class Linear<float>;
template class Linear<double>;
template class Sequential<float>;
template class Sequential<double>;
template class Dropout<float>;
template class Dropout<double>;

}  // namespace ag::nn
