#include <autograd/autograd.hpp>
#include <doctest/doctest.h>

TEST_CASE("smoke") {
  ag::Variable<double> x(ag::Tensor<double>{1.0, 2.0}, true);
  auto y = ag::sum(x * x * 3.0);
  ag::backward(y);
  CHECK(x.grad().value()(0) == doctest::Approx(6.0));
  CHECK(x.grad().value()(1) == doctest::Approx(12.0));
}
