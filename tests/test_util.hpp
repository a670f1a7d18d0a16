// Helpers shared by the tests: seeded random tensors and a one-line gradient check.
#pragma once

#include <autograd/autograd.hpp>
#include <doctest/doctest.h>

#include <random>

namespace test {

inline std::mt19937& rng() {
  static std::mt19937 generator(12345);
  return generator;
}

// Uniform in [lo, hi].
inline ag::Tensor<double> uniform(const ag::Shape& shape, double lo = -2.0, double hi = 2.0) {
  std::uniform_real_distribution<double> dist(lo, hi);
  ag::Tensor<double> t = ag::Tensor<double>::from_shape(shape);
  for (double& v : t) v = dist(rng());
  return t;
}

// Uniform in [-hi, -margin] U [margin, hi]: away from the kinks of relu, abs and step at 0.
inline ag::Tensor<double> away_from_zero(const ag::Shape& shape, double margin = 0.2, double hi = 2.0) {
  ag::Tensor<double> t = uniform(shape, margin, hi);
  std::bernoulli_distribution sign(0.5);
  for (double& v : t) v = sign(rng()) ? v : -v;
  return t;
}

using Vars = std::vector<ag::Variable<double>>;

}  // namespace test

// First- and second-order gradient checks of `f` at `inputs`, failing with the report.
#define CHECK_GRADIENTS(f, ...)                                   \
  do {                                                            \
    const auto first = ag::gradcheck(f, {__VA_ARGS__});           \
    CHECK_MESSAGE(first.ok, first.summary());                     \
    const auto second = ag::gradgradcheck(f, {__VA_ARGS__});      \
    CHECK_MESSAGE(second.ok, "second order: " << second.summary()); \
  } while (0)

#define CHECK_FIRST_ORDER(f, ...)                       \
  do {                                                  \
    const auto first = ag::gradcheck(f, {__VA_ARGS__}); \
    CHECK_MESSAGE(first.ok, first.summary());           \
  } while (0)
