#include "nn/random.hpp"

#include <algorithm>
#include <numeric>

#include "autograd/instantiate.hpp"

namespace ag::nn {

namespace {

// A tensor of draws, in memory order: the order fixes what a seed produces.
template <class T, class Distribution>
Tensor<T> draw(const Shape& shape, Distribution dist, std::mt19937_64& engine) {
  Tensor<T> t = uninitialized<T>(shape);
  for (T& v : t) v = static_cast<T>(dist(engine));
  return t;
}

}  // namespace

template <class T>
Tensor<T> Generator::uniform(const Shape& shape, T lo, T hi) {
  return draw<T>(shape, std::uniform_real_distribution<T>(lo, hi), engine_);
}

template <class T>
Tensor<T> Generator::normal(const Shape& shape, T mean, T stddev) {
  return draw<T>(shape, std::normal_distribution<T>(mean, stddev), engine_);
}

template <class T>
Tensor<T> Generator::bernoulli(const Shape& shape, double p) {
  return draw<T>(shape, std::bernoulli_distribution(p), engine_);
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

void manual_seed(std::uint64_t seed) {
  default_generator().seed(seed);
}

#define AG_NN_RANDOM(T)                                      \
  template Tensor<T> Generator::uniform(const Shape&, T, T); \
  template Tensor<T> Generator::normal(const Shape&, T, T);  \
  template Tensor<T> Generator::bernoulli(const Shape&, double);
AG_INSTANTIATE(AG_NN_RANDOM)

}  // namespace ag::nn
