#include <autograd/autograd.hpp>

#include <cmath>
#include <cstdio>

int main() {
  ag::Variable<float> w(ag::Tensor<float>{0.5f, -1.0f}, true);
  const ag::Variable<float> x(ag::Tensor<float>{2.0f, 3.0f});
  ag::backward(ag::sum(ag::tanh(w * x)));
  const float t = std::tanh(0.5f * 2.0f);
  const bool ok = std::abs(w.grad().value()(0) - 2.0f * (1 - t * t)) < 1e-5f;
  std::printf("consumer: dL/dw0 = %f (%s)\n", static_cast<double>(w.grad().value()(0)), ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
