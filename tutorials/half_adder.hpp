// The course's half adder (slides "One layer perceptron"): inputs x1, x2; outputs the carry
// (x1 AND x2) and the sum (x1 XOR x2). Shared by the tutorial and its test.
#pragma once

#include <nn/nn.hpp>
#include <vector>
#include <xtensor/xmanipulation.hpp>

namespace half_adder {

using V = ag::Variable<float>;
using Tensor = ag::Tensor<float>;

struct Data {
  Tensor x{{0.0f, 0.0f}, {0.0f, 1.0f}, {1.0f, 0.0f}, {1.0f, 1.0f}};
  Tensor carry = column({0.0f, 0.0f, 0.0f, 1.0f});
  Tensor sum = column({0.0f, 1.0f, 1.0f, 0.0f});

  static Tensor column(std::initializer_list<float> values) {
    Tensor t(values);
    t.reshape({values.size(), 1});
    return t;
  }
};

enum class Rule { perceptron, logistic };

struct Result {
  Tensor outputs;  // what the trained unit outputs on the four inputs (0/1, or a probability)
  int right = 0;   // how many of the four it gets right (probabilities thresholded at 0.5)
  ag::nn::LearningCurve curve;
};

// Trains one unit on `target` for `epochs` passes over the four examples (full batch).
inline Result train_perceptron(const Tensor& target, Rule rule, int epochs, float lr, std::uint64_t seed) {
  // One output unit: in = x w + b, then a threshold (perceptron rule) or a sigmoid (logistic rule).
  ag::nn::Generator g(seed);
  ag::nn::Linear<float> unit(2, 1, {.init = ag::nn::Init::random_low, .generator = &g});
  ag::nn::SGD<float> sgd(unit.parameters(), {.lr = lr});
  const Data data;
  const V x(data.x), y(target);
  Result r;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    const V in = unit.forward(x);
    // The perceptron rule is the gradient of the perceptron loss summed over the examples.
    const V loss = rule == Rule::perceptron ? ag::nn::perceptron_loss(in, y, ag::nn::Reduction::sum)
                                            : ag::nn::binary_cross_entropy_with_logits(in, y);
    sgd.zero_grad();
    ag::backward(loss);
    sgd.step();
    const Tensor out = rule == Rule::perceptron ? ag::step(in).value() : ag::sigmoid(in).value();
    const double acc = xt::mean(xt::cast<float>(xt::equal(xt::cast<float>(out >= 0.5f), target)))();
    // Every epoch: on the sum the perceptron cycles, and sampling would hide the cycle.
    r.curve.add({static_cast<std::size_t>(epoch), loss.item(), acc, loss.item(), acc, 0});
  }
  ag::NoGrad no_grad;
  const V in = unit.forward(x);
  r.outputs = rule == Rule::perceptron ? ag::step(in).value() : ag::sigmoid(in).value();
  r.right = static_cast<int>(xt::sum(xt::cast<int>(xt::equal(xt::cast<float>(r.outputs >= 0.5f), target)))());
  return r;
}

// A 2-3-2 multi-layer perceptron of sigmoid units, both outputs at once, by backpropagation.
struct MlpResult {
  Tensor outputs;  // [4, 2]: carry and sum probabilities
  int right = 0;   // of the 8 outputs
  ag::nn::LearningCurve curve;
};

inline MlpResult train_mlp(int epochs, float lr, std::uint64_t seed) {
  ag::nn::Generator g(seed);
  ag::nn::Sequential<float> net{ag::nn::linear<float>(2, 3, {.init = ag::nn::Init::xavier, .generator = &g}),
                                ag::nn::sigmoid<float>(),
                                ag::nn::linear<float>(3, 2, {.init = ag::nn::Init::xavier, .generator = &g})};
  ag::nn::Adam<float> adam(net.parameters(), {.lr = lr});
  const Data data;
  const V x(data.x);
  const Tensor targets = xt::concatenate(xt::xtuple(data.carry, data.sum), 1);
  const V y(targets);
  MlpResult r;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    const V logits = net(x);
    const V loss = ag::nn::binary_cross_entropy_with_logits(logits, y);
    adam.zero_grad();
    ag::backward(loss);
    adam.step();
    if (epoch % (epochs / 50) == 0) {
      const double acc = xt::mean(xt::cast<float>(xt::equal(xt::cast<float>(logits.value() >= 0.0f), targets)))();
      r.curve.add({static_cast<std::size_t>(epoch), loss.item(), acc, loss.item(), acc, 0});
    }
  }
  ag::NoGrad no_grad;
  r.outputs = ag::sigmoid(net(x)).value();
  r.right = static_cast<int>(xt::sum(xt::cast<int>(xt::equal(xt::cast<float>(r.outputs >= 0.5f), targets)))());
  return r;
}

}  // namespace half_adder
