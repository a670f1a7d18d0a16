#include "nn/init.hpp"

#include <cmath>

namespace ag::nn {

template <class T>
void initialize(Variable<T>& param, Init scheme, Generator& generator, T low_scale) {
  const Shape shape = param.shape();
  const auto fan_in = static_cast<T>(shape.empty() ? 1 : shape[0]);
  const auto fan_out = static_cast<T>(shape.size() < 2 ? 1 : shape[1]);
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

}  // namespace ag::nn
