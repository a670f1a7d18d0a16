// The README's examples, compiled and checked, so that the README cannot drift: the ten-line
// custom model, and the nn model of the section "Neural networks: nn/".
#include <doctest/doctest.h>

#include <autograd/autograd.hpp>
#include <cmath>
#include <nn/nn.hpp>
#include <string>

#include "test_util.hpp"

namespace {

// As in the README, from here ...
namespace nn = ag::nn;
using V = ag::Variable<float>;

struct Mlp : nn::Module<float> {
  std::shared_ptr<nn::Linear<float>> fc1, fc2;
  explicit Mlp(nn::Generator& g) {
    fc1 = register_module("fc1", nn::linear<float>(4, 16, {.init = nn::Init::he, .generator = &g}));
    fc2 = register_module("fc2", nn::linear<float>(16, 3, {.generator = &g}));  // Xavier, with a bias
  }
  V forward(const V& x) { return fc2->forward(ag::relu(fc1->forward(x))); }
};
// ... to here.

}  // namespace

TEST_CASE("the README's custom model trains as written") {
  using V = ag::Variable<float>;

  V w1(ag::Tensor<float>{{0.5f, -1.0f}, {1.5f, -2.0f}}, /*requires_grad=*/true);
  V w2(ag::Tensor<float>{1.0f, -3.0f}, true);
  V x(ag::Tensor<float>{{2.0f, -1.0f}});
  V out = ag::matmul(ag::sigmoid(ag::matmul(x, w1)), w2);  // a 2-2-1 network, as an expression
  V loss = ag::sum(ag::softplus(-out));                    // cross-entropy for the label y = 1
  ag::backward(loss);                                      // fills w1.grad() and w2.grad()
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

TEST_CASE("the README's nn model trains as written") {
  // As in the README, from here ...
  nn::Generator gen(42);
  Mlp model(gen);
  nn::Adam<float> adam(model.parameters(), {.lr = 1e-2});
  const V x(gen.normal<float>({8, 4}, 0.0f, 1.0f));
  const std::vector<std::size_t> labels{0, 1, 2, 0, 1, 2, 0, 1};
  const float before = nn::softmax_cross_entropy(model.forward(x), labels).item();
  for (int step = 0; step < 100; ++step) {
    const V loss = nn::softmax_cross_entropy(model.forward(x), labels);  // the mean over the 8 examples
    adam.zero_grad();
    ag::backward(loss);
    adam.step();
  }
  const V losses = nn::softmax_cross_entropy(model.forward(x), labels, nn::Reduction::none);  // [8]
  // ... to here.

  CHECK(model.named_parameters().size() == 4);
  CHECK(model.named_parameters()[2].first == "fc2.weight");
  CHECK(losses.shape() == ag::Shape{8});
  const float after = nn::softmax_cross_entropy(model.forward(x), labels).item();
  CHECK(after < 0.1f * before);
  CHECK(xt::mean(losses.value())() == doctest::Approx(after));
  CHECK(nn::accuracy(model.forward(x).value(), labels) == 1.0);
}

TEST_CASE("every line of the README's nn model is in this test") {
  test::check_readme_snippet(__FILE__, "```cpp\n#include <nn/nn.hpp>", 20);
}
