// Pictures of what a network learned: images laid out as a grid of tiles, and the input that
// drives each hidden unit hardest. Together with write_png (nn/io/png.hpp) they make the course's
// picture of an auto-encoder's features, "each square shows the (norm bounded) input image x that
// maximally activates one of 100 hidden units":
//
//   const Tensor<float> x = nn::maximally_activating_inputs(encoder.weight().value());  // [100, 784]
//   nn::write_png("features.png", nn::tile_images(x, 28, 28));                          // 10 x 10 tiles
#pragma once

#include <autograd/tensor.hpp>
#include <cstddef>
#include <cstdint>

namespace ag::nn {

// How the values of a tile become gray levels 0..255: lowest black, highest white, linearly.
enum class TileScale {
  per_tile,  // each tile from its own lowest to its own highest value (every tile uses the full range)
  common,    // every tile on one scale, from the lowest to the highest value of all (tiles compare)
};

struct TileOptions {
  std::size_t columns = 0;  // tiles per row of the grid; 0: near-square, ceil(sqrt(count))
  std::size_t padding = 1;  // pixels between neighbouring tiles (none around the grid)
  TileScale scale = TileScale::per_tile;
  std::uint8_t background = 0;  // the gray level of the padding and of the empty places of the last row
};

// A gray image [H, W] of `count` images of height x width pixels as a grid of tiles, in row-major
// order (image k at row k / columns, column k % columns):
//   H = rows * height + (rows - 1) * padding,   W = columns * width + (columns - 1) * padding
// with rows = ceil(count / columns). `images` is [count, height * width] (one image per row, as a
// data set or maximally_activating_inputs holds them) or [count, height, width]. A value v of a
// scale from lo to hi is round(255 (v - lo) / (hi - lo)); when hi == lo (a constant tile on its
// own scale, or every tile one constant on the common scale) it is 128, mid-gray. Throws
// ShapeError for another shape or no pixel, and std::invalid_argument naming the image and the
// pixel for a NaN or an infinity.
template <class T>
Tensor<std::uint8_t> tile_images(const Tensor<T>& images, std::size_t height, std::size_t width,
                                 const TileOptions& options = {});

// For each hidden unit j of a layer y_j = g(sum_i x_i W_ij + b_j) with weight W [inputs, hidden]
// (as nn::Linear stores it), the input of norm 1 that activates it most: the x maximising
// sum_i W_ij x_i subject to ||x|| <= 1, which is x_i = W_ij / sqrt(sum_i W_ij^2) (Cauchy-Schwarz).
// One row per unit: [hidden, inputs]. A unit whose weights are all zero gets a row of zeros. Norms
// are computed in double, scaled by the largest weight, so that no square overflows. Throws
// ShapeError unless `weight` is 2-D, and std::invalid_argument naming the unit and the input for
// a NaN or an infinity.
template <class T>
Tensor<T> maximally_activating_inputs(const Tensor<T>& weight);

}  // namespace ag::nn
