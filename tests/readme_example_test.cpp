// The README's ten-line example, compiled and checked, so that the README cannot drift.
#include <autograd/autograd.hpp>
#include <doctest/doctest.h>

#include <cmath>

TEST_CASE("the README's custom model trains as written") {
  using V = ag::Variable<float>;

  V w1(ag::Tensor<float>{{0.5f, -1.0f}, {1.5f, -2.0f}}, /*requires_grad=*/true);
  V w2(ag::Tensor<float>{1.0f, -3.0f}, true);
  V x(ag::Tensor<float>{{2.0f, -1.0f}});
  V out = ag::matmul(ag::sigmoid(ag::matmul(x, w1)), w2);   // a 2-2-1 network, as an expression
  V loss = ag::sum(ag::softplus(-out));                      // cross-entropy for the label y = 1
  ag::backward(loss);                                        // fills w1.grad() and w2.grad()
  const ag::Tensor<float> g2 = w2.grad().value();
  {
    ag::NoGrad no_grad;
    for (V* w : {&w1, &w2}) {
      w->mutable_value() -= 0.2f * w->grad().value();
      w->zero_grad();
    }
  }

  // dLoss/dw2 = -(1 - sigmoid(out)) * h, with h the hidden activations.
  const float h1 = 1 / (1 + std::exp(0.5f)), h2 = 0.5f;
  const float o = h1 * 1.0f + h2 * -3.0f, s = 1 / (1 + std::exp(-o));
  CHECK(g2(0) == doctest::Approx(-(1 - s) * h1));
  CHECK(g2(1) == doctest::Approx(-(1 - s) * h2));
  CHECK(w2.value()(0) == doctest::Approx(1.0f + 0.2f * (1 - s) * h1));
  CHECK_FALSE(w1.grad().defined());
  // The step lowered the loss.
  const V after = ag::sum(ag::softplus(-ag::matmul(ag::sigmoid(ag::matmul(x, w1)), w2)));
  CHECK(after.item() < loss.item());
}
