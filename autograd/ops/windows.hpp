// Windows sliding over the last two axes of [N, C, H, W] images, shared by convolution and
// pooling: their geometry, and the lowering of a convolution to a matrix product (im2col) with
// its adjoint (col2im). Not part of the public API.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>

#include "autograd/tensor.hpp"

namespace ag::detail {

// One axis of a sliding window: an image side `in`, padded by `pad` zeros on each side, read by a
// kernel of `kernel` taps `dilation` apart, at positions `stride` apart. Position o, tap k reads
// input element o * stride - pad + k * dilation, which may fall in the padding.
struct WindowAxis {
  std::size_t in, kernel, stride, pad, dilation, out;

  // The input element tap k of position o reads, or -1 (as a huge value) in the padding.
  long at(std::size_t o, std::size_t k) const {
    return static_cast<long>(o * stride + k * dilation) - static_cast<long>(pad);
  }
  bool inside(long i) const { return i >= 0 && i < static_cast<long>(in); }
  // The positions [first, last) at which tap k reads inside the image (not the padding).
  std::array<std::size_t, 2> inside_positions(std::size_t k) const {
    const std::size_t offset = k * dilation;
    const std::size_t first = pad > offset ? (pad - offset + stride - 1) / stride : 0;
    const std::size_t end = in + pad > offset ? (in + pad - offset + stride - 1) / stride : 0;
    return {std::min(first, out), std::min(std::max(end, first), out)};
  }
};

// Checks one axis's settings, naming `op` and the shapes in `context`, and computes its output
// size: (in + 2 pad - dilation (kernel - 1) - 1) / stride + 1.
inline WindowAxis window_axis(const char* op, const std::string& context, const char* side, std::size_t in, long kernel,
                              long stride, long pad, long dilation) {
  if (kernel < 1)
    throw ShapeError(fmt::format("{}: kernel size {} along {} must be at least 1 ({})", op, kernel, side, context));
  if (stride < 1)
    throw ShapeError(fmt::format("{}: stride {} along {} must be at least 1 ({})", op, stride, side, context));
  if (dilation < 1) {
    throw ShapeError(fmt::format("{}: dilation {} along {} must be at least 1 ({})", op, dilation, side, context));
  }
  if (pad < 0) throw ShapeError(fmt::format("{}: padding {} along {} is negative ({})", op, pad, side, context));
  const auto k = static_cast<std::size_t>(kernel), s = static_cast<std::size_t>(stride),
             p = static_cast<std::size_t>(pad), d = static_cast<std::size_t>(dilation);
  const std::size_t span = d * (k - 1) + 1, padded = in + 2 * p;
  if (span > padded) {
    throw ShapeError(fmt::format("{}: a kernel spanning {} along {} is larger than the padded input's {} ({})", op,
                                 span, side, padded, context));
  }
  return {in, k, s, p, d, (padded - span) / s + 1};
}

// A convolution's sizes: input [n, c, h, w], weight [f, c / groups, kh, kw], output [n, f, oh, ow].
struct ConvGeometry {
  std::size_t n, c, f, groups;
  WindowAxis rows, cols;

  std::size_t group_channels() const { return c / groups; }
  std::size_t group_filters() const { return f / groups; }
  // The length of one filter of a group: a row of the weight, a column of im2col's matrix.
  std::size_t patch() const { return group_channels() * rows.kernel * cols.kernel; }
  std::size_t positions() const { return rows.out * cols.out; }
  std::size_t image_size() const { return c * rows.in * cols.in; }
  // A 1x1 kernel at stride 1 without padding reads the image as it is: no im2col needed.
  bool reads_image_as_is() const {
    return rows.kernel == 1 && cols.kernel == 1 && rows.stride == 1 && cols.stride == 1 && rows.pad == 0 &&
           cols.pad == 0;
  }
};

// im2col: the image [c, h, w] as the matrix [c kh kw, oh ow] whose column p holds the elements the
// kernel reads at output position p (zeros in the padding). A convolution is then one product of
// the weight [f, c kh kw] with it (per group: a band of rows). The matrix's rows are `stride`
// long, so that several images' matrices can stand side by side and share one product.
template <class T>
void im2col(const ConvGeometry& g, const T* image, T* columns, std::size_t stride) {
  const WindowAxis &R = g.rows, &C = g.cols;
  for (std::size_t ch = 0; ch < g.c; ++ch) {
    const T* plane = image + ch * R.in * C.in;
    for (std::size_t kr = 0; kr < R.kernel; ++kr) {
      for (std::size_t kc = 0; kc < C.kernel; ++kc) {
        T* row = columns + ((ch * R.kernel + kr) * C.kernel + kc) * stride;
        const long offset = static_cast<long>(kc * C.dilation) - static_cast<long>(C.pad);
        for (std::size_t orow = 0; orow < R.out; ++orow) {
          const long r = R.at(orow, kr);
          T* out = row + orow * C.out;
          if (!R.inside(r)) {
            for (std::size_t oc = 0; oc < C.out; ++oc) out[oc] = T(0);
            continue;
          }
          // One pass that selects rather than branches or calls memset for the padding: the rows
          // are an image row long, too short for either to pay.
          const T* line = plane + static_cast<std::size_t>(r) * C.in;
          for (std::size_t oc = 0; oc < C.out; ++oc) {
            const long col = static_cast<long>(oc * C.stride) + offset;
            const bool inside = col >= 0 && col < static_cast<long>(C.in);
            out[oc] = inside ? line[inside ? col : 0] : T(0);
          }
        }
      }
    }
  }
}

// col2im, the adjoint of im2col: each column's entries added back to the image elements they were
// read from (an element read by several positions receives the sum). `image` is overwritten.
template <class T>
void col2im(const ConvGeometry& g, const T* columns, T* image, std::size_t stride) {
  const WindowAxis &R = g.rows, &C = g.cols;
  std::fill(image, image + g.image_size(), T(0));
  for (std::size_t ch = 0; ch < g.c; ++ch) {
    T* plane = image + ch * R.in * C.in;
    for (std::size_t kr = 0; kr < R.kernel; ++kr) {
      for (std::size_t kc = 0; kc < C.kernel; ++kc) {
        const T* row = columns + ((ch * R.kernel + kr) * C.kernel + kc) * stride;
        const auto [first, last] = C.inside_positions(kc);
        if (first == last) continue;
        for (std::size_t orow = 0; orow < R.out; ++orow) {
          const long r = R.at(orow, kr);
          const T* in = row + orow * C.out;
          if (!R.inside(r)) continue;
          T* line = plane + static_cast<std::size_t>(r) * C.in;
          T* to = line + (first * C.stride + kc * C.dilation - C.pad);
          for (std::size_t oc = first; oc < last; ++oc) to[(oc - first) * C.stride] += in[oc];
        }
      }
    }
  }
}

}  // namespace ag::detail
