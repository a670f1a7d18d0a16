#include "nn/random.hpp"

#include <algorithm>
#include <numeric>

namespace ag::nn {

template <class T>
Tensor<T> Generator::uniform(const Shape& shape, T lo, T hi) {
  std::uniform_real_distribution<T> dist(lo, hi);
  Tensor<T> t = Tensor<T>::from_shape(shape);
  for (T& v : t) v = dist(engine_);
  return t;
}

template <class T>
Tensor<T> Generator::normal(const Shape& shape, T mean, T stddev) {
  std::normal_distribution<T> dist(mean, stddev);
  Tensor<T> t = Tensor<T>::from_shape(shape);
  for (T& v : t) v = dist(engine_);
  return t;
}

template <class T>
Tensor<T> Generator::bernoulli(const Shape& shape, double p) {
  std::bernoulli_distribution dist(p);
  Tensor<T> t = Tensor<T>::from_shape(shape);
  for (T& v : t) v = dist(engine_) ? T(1) : T(0);
  return t;
}

std::vector<std::size_t> Generator::permutation(std::size_t n) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), engine_);
  return order;
}

Generator& default_generator() {
  thread_local Generator generator;
  return generator;
}

void manual_seed(std::uint64_t seed) { default_generator().seed(seed); }

#define AG_NN_RANDOM(T)                                                   \
  template Tensor<T> Generator::uniform(const Shape&, T, T);              \
  template Tensor<T> Generator::normal(const Shape&, T, T);               \
  template Tensor<T> Generator::bernoulli(const Shape&, double);
AG_NN_RANDOM(float)
AG_NN_RANDOM(double)

}  // namespace ag::nn
