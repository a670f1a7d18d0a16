// What the tutorials' pictures share: small tiles enlarged so that they can be seen.
#pragma once

#include <autograd/tensor.hpp>
#include <cstddef>
#include <cstdint>

namespace tutorial {

// Each pixel repeated `factor` times across and down: a 5 x 5 filter becomes a visible square.
inline ag::Tensor<std::uint8_t> enlarge(const ag::Tensor<std::uint8_t>& image, std::size_t factor) {
  const std::size_t h = image.shape()[0], w = image.shape()[1];
  ag::Tensor<std::uint8_t> out = ag::Tensor<std::uint8_t>::from_shape({h * factor, w * factor});
  for (std::size_t r = 0; r < h * factor; ++r) {
    for (std::size_t c = 0; c < w * factor; ++c) out(r, c) = image(r / factor, c / factor);
  }
  return out;
}

}  // namespace tutorial
