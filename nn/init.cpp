#include "nn/init.hpp"

#include <cmath>

namespace ag::nn {

Fans conv2d_fans(std::size_t in_channels, std::size_t out_channels, std::size_t kernel_h, std::size_t kernel_w,
                 std::size_t groups) {
  const std::size_t window = kernel_h * kernel_w;
  return {.in = in_channels / groups * window, .out = out_channels / groups * window};
}

template <class T>
void initialize(Variable<T>& param, Init scheme, Generator& generator, T low_scale) {
  const Shape shape = param.shape();
  initialize(param, scheme, Fans{.in = shape.empty() ? 1 : shape[0], .out = shape.size() < 2 ? 1 : shape[1]}, generator,
             low_scale);
}

template <class T>
void initialize(Variable<T>& param, Init scheme, Fans fans, Generator& generator, T low_scale) {
  const Shape shape = param.shape();
  const auto fan_in = static_cast<T>(fans.in);
  const auto fan_out = static_cast<T>(fans.out);
  switch (scheme) {
    case Init::random_low:
      param.mutable_value() = generator.uniform<T>(shape, -low_scale, low_scale);
      break;
    case Init::xavier: {
      const T a = std::sqrt(T(6) / (fan_in + fan_out));
      param.mutable_value() = generator.uniform<T>(shape, -a, a);
      break;
    }
    case Init::he:
      param.mutable_value() = generator.normal<T>(shape, T(0), std::sqrt(T(2) / fan_in));
      break;
    case Init::zeros:
      param.mutable_value().fill(T(0));
      break;
  }
}

template void initialize(Variable<float>&, Init, Generator&, float);
template void initialize(Variable<double>&, Init, Generator&, double);
template void initialize(Variable<float>&, Init, Fans, Generator&, float);
template void initialize(Variable<double>&, Init, Fans, Generator&, double);

}  // namespace ag::nn
