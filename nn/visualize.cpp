#include "nn/visualize.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>

#include "autograd/instantiate.hpp"
#include "nn/io/sizes.hpp"

namespace ag::nn {

namespace {

// A scale from lo to hi; halves throughout, so that hi - lo cannot overflow for doubles.
struct GrayScale {
  double lo = 0, hi = 0;
  std::uint8_t operator()(double v) const {
    if (hi == lo) return 128;
    const double t = (v / 2 - lo / 2) / (hi / 2 - lo / 2);
    return static_cast<std::uint8_t>(std::lround(255 * std::clamp(t, 0.0, 1.0)));
  }
};

// The lowest and highest of `pixels` values; throws naming the image and the pixel at a NaN or
// an infinity.
template <class T>
GrayScale range_of(const T* data, std::size_t pixels, std::size_t image) {
  GrayScale scale{static_cast<double>(data[0]), static_cast<double>(data[0])};
  for (std::size_t p = 0; p < pixels; ++p) {
    const double v = static_cast<double>(data[p]);
    if (!std::isfinite(v)) {
      throw std::invalid_argument(fmt::format("tile_images: image {} holds {} at pixel {}", image, v, p));
    }
    scale.lo = std::min(scale.lo, v);
    scale.hi = std::max(scale.hi, v);
  }
  return scale;
}

// a * b + c, or nothing when it does not fit.
std::optional<std::size_t> checked_mul_add(std::size_t a, std::size_t b, std::size_t c) {
  const auto product = detail::checked_mul(a, b);
  return product ? detail::checked_add(*product, c) : std::nullopt;
}

}  // namespace

template <class T>
Tensor<std::uint8_t> tile_images(const Tensor<T>& images, std::size_t height, std::size_t width,
                                 const TileOptions& options) {
  const Shape shape = to_shape(images.shape());
  const auto pixels = detail::checked_mul(height, width);
  const bool flat = shape.size() == 2 && pixels && shape[1] == *pixels;
  const bool square = shape.size() == 3 && shape[1] == height && shape[2] == width;
  if (!flat && !square) {
    throw ShapeError(fmt::format("tile_images: images of shape {} are neither [count, {} * {}] nor [count, {}, {}]",
                                 shape_str(shape), height, width, height, width));
  }
  const std::size_t count = shape[0];
  if (count == 0 || *pixels == 0) {
    throw ShapeError(fmt::format("tile_images: images of shape {} ({} x {} pixels each) have no pixel to show",
                                 shape_str(shape), height, width));
  }
  std::size_t columns = options.columns;
  if (columns == 0) {
    columns = static_cast<std::size_t>(std::ceil(std::sqrt(static_cast<double>(count))));
    while (columns * columns < count) ++columns;  // against sqrt's rounding at large counts
    while (columns > 1 && (columns - 1) * (columns - 1) >= count) --columns;
  }
  const std::size_t rows = count / columns + (count % columns != 0);
  // H = rows (height + padding) - padding, W likewise, without overflow.
  const auto tile_height = detail::checked_add(height, options.padding);
  const auto tile_width = detail::checked_add(width, options.padding);
  const auto grid_height = tile_height ? checked_mul_add(rows - 1, *tile_height, height) : std::nullopt;
  const auto grid_width = tile_width ? checked_mul_add(columns - 1, *tile_width, width) : std::nullopt;
  if (!grid_height || !grid_width) {
    throw ShapeError(fmt::format("tile_images: a grid of {} x {} tiles of {} x {} pixels with padding {} is too large",
                                 rows, columns, height, width, options.padding));
  }
  Tensor<std::uint8_t> grid = full<std::uint8_t>({*grid_height, *grid_width}, options.background);

  const T* data = images.data();
  GrayScale common;
  if (options.scale == TileScale::common) {
    common = range_of(data, *pixels, 0);
    for (std::size_t k = 1; k < count; ++k) {
      const GrayScale tile = range_of(data + k * *pixels, *pixels, k);
      common.lo = std::min(common.lo, tile.lo);
      common.hi = std::max(common.hi, tile.hi);
    }
  }
  std::uint8_t* out = grid.data();
  for (std::size_t k = 0; k < count; ++k) {
    const T* tile = data + k * *pixels;
    const GrayScale scale = options.scale == TileScale::common ? common : range_of(tile, *pixels, k);
    const std::size_t top = (k / columns) * *tile_height, left = (k % columns) * *tile_width;
    for (std::size_t y = 0; y < height; ++y) {
      std::uint8_t* row = out + (top + y) * *grid_width + left;
      for (std::size_t x = 0; x < width; ++x) row[x] = scale(static_cast<double>(tile[y * width + x]));
    }
  }
  return grid;
}

template <class T>
Tensor<T> maximally_activating_inputs(const Tensor<T>& weight) {
  if (weight.dimension() != 2) {
    throw ShapeError(fmt::format("maximally_activating_inputs: the weight has shape {}, not [inputs, hidden]",
                                 shape_str(to_shape(weight.shape()))));
  }
  const std::size_t inputs = weight.shape()[0], hidden = weight.shape()[1];
  Tensor<T> x = uninitialized<T>({hidden, inputs});
  const T* w = weight.data();  // W_ij at w[i * hidden + j]
  T* out = x.data();           // x_ji at out[j * inputs + i]
  for (std::size_t j = 0; j < hidden; ++j) {
    double largest = 0;
    for (std::size_t i = 0; i < inputs; ++i) {
      const double v = static_cast<double>(w[i * hidden + j]);
      if (!std::isfinite(v)) {
        throw std::invalid_argument(
            fmt::format("maximally_activating_inputs: the weight of hidden unit {} from input {} is {}", j, i, v));
      }
      largest = std::max(largest, std::abs(v));
    }
    T* row = out + j * inputs;
    if (largest == 0) {
      std::fill(row, row + inputs, T(0));
      continue;
    }
    double sum = 0;
    for (std::size_t i = 0; i < inputs; ++i) {
      const double s = static_cast<double>(w[i * hidden + j]) / largest;
      sum += s * s;
    }
    const double norm = std::sqrt(sum);
    for (std::size_t i = 0; i < inputs; ++i)
      row[i] = static_cast<T>(static_cast<double>(w[i * hidden + j]) / largest / norm);
  }
  return x;
}

#define AG_NN_VISUALIZE(T)                                                                                   \
  template Tensor<std::uint8_t> tile_images(const Tensor<T>&, std::size_t, std::size_t, const TileOptions&); \
  template Tensor<T> maximally_activating_inputs(const Tensor<T>&);
AG_INSTANTIATE(AG_NN_VISUALIZE)

}  // namespace ag::nn
