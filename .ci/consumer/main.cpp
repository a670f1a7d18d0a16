#include <autograd/autograd.hpp>
#include <cmath>
#include <cstdio>
#include <nn/nn.hpp>

int main() {
  ag::Variable<float> w(ag::Tensor<float>{0.5f, -1.0f}, true);
  const ag::Variable<float> x(ag::Tensor<float>{2.0f, 3.0f});
  ag::backward(ag::sum(ag::tanh(w * x)));
  const float t = std::tanh(0.5f * 2.0f);
  bool ok = std::abs(w.grad().value()(0) - 2.0f * (1 - t * t)) < 1e-5f;

  ag::nn::Linear<float> layer(2, 3);
  ok = ok && layer.parameter_count() == 9 &&
       layer.forward(ag::Variable<float>(ag::Tensor<float>{{1.0f, 2.0f}})).size() == 3;
  std::printf("consumer: dL/dw0 = %f, nn::Linear %zu parameters (%s)\n", static_cast<double>(w.grad().value()(0)),
              layer.parameter_count(), ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
