// The one source of randomness in nn: initialisation, dropout masks, shuffling.
//
// Everything draws from a Generator, seeded explicitly, so that a run repeats bit for bit with
// the same seed (on the same standard library: the distributions are libstdc++'s).
#pragma once

#include <autograd/tensor.hpp>
#include <cstdint>
#include <random>
#include <vector>

namespace ag::nn {

class Generator {
 public:
  explicit Generator(std::uint64_t seed = 5489) : engine_(seed) {}
  void seed(std::uint64_t seed) { engine_.seed(seed); }
  std::mt19937_64& engine() { return engine_; }

  template <class T>
  Tensor<T> uniform(const Shape& shape, T lo, T hi);
  template <class T>
  Tensor<T> normal(const Shape& shape, T mean, T stddev);
  // 1 with probability p, else 0.
  template <class T>
  Tensor<T> bernoulli(const Shape& shape, double p);
  // 0 .. n-1 in random order.
  std::vector<std::size_t> permutation(std::size_t n);

 private:
  std::mt19937_64 engine_;
};

// The generator layers use when none is given. Per thread; seed it with manual_seed.
Generator& default_generator();
void manual_seed(std::uint64_t seed);

}  // namespace ag::nn
