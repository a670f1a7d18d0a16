// Helpers shared by tests/rbm_test.cpp and tests/dbn_test.cpp: the logistic function written out,
// the largest difference of two tensors, and a small binary data set of three prototypes.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <nn/nn.hpp>
#include <xtensor/xmath.hpp>

namespace test {

inline double sigmoid(double x) {
  return 1 / (1 + std::exp(-x));
}

inline double max_abs_difference(const ag::Tensor<double>& a, const ag::Tensor<double>& b) {
  REQUIRE(a.shape() == b.shape());
  return xt::amax(xt::abs(a - b))();
}

// 3 prototypes of 10 units, example r the prototype r % 3 with each unit flipped with probability 0.05.
inline ag::Tensor<double> prototype_data(std::size_t rows, ag::nn::Generator& g) {
  const double prototypes[3][10] = {
      {1, 1, 1, 1, 1, 0, 0, 0, 0, 0}, {0, 0, 0, 1, 1, 1, 1, 1, 0, 0}, {1, 0, 1, 0, 1, 0, 1, 0, 1, 1}};
  ag::Tensor<double> data = ag::Tensor<double>::from_shape({rows, 10});
  const ag::Tensor<double> flips = g.bernoulli<double>({rows, 10}, 0.05);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t i = 0; i < 10; ++i) data(r, i) = std::abs(prototypes[r % 3][i] - flips(r, i));
  return data;
}

}  // namespace test
