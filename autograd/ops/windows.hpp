// Windows sliding over the last two axes of [N, C, H, W] images, shared by convolution and
// pooling: their geometry, and the lowering of a convolution to a matrix product (im2col) with
// its adjoint (col2im). Not part of the public API.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <string>

#include "autograd/tensor.hpp"

namespace ag::detail {

// One axis of a sliding window: an image side `in`, padded by `pad` zeros on each side, read by a
// kernel of `kernel` taps `dilation` apart, at positions `stride` apart. Position o, tap k reads
// input element o * stride - pad + k * dilation, which may fall in the padding.
struct WindowAxis {
  std::size_t in, kernel, stride, pad, dilation, out;

  // The input element tap k of position o reads; negative or past `in` in the padding.
  long at(std::size_t o, std::size_t k) const {
    return static_cast<long>(o * stride + k * dilation) - static_cast<long>(pad);
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

// The image [c, h, w] with its padding written out: [c, h + 2 pad, w + 2 pad], zeros around.
// Lowered from it, every read is inside, and a row of the lowered matrix is a plain copy.
inline std::size_t padded_size(const ConvGeometry& g) {
  return g.c * (g.rows.in + 2 * g.rows.pad) * (g.cols.in + 2 * g.cols.pad);
}
inline bool has_padding(const ConvGeometry& g) {
  return g.rows.pad != 0 || g.cols.pad != 0;
}

// dst[0, n) = src[0, n), n an image row's length: copied 8 elements at a time by fixed-size
// memcpy (one vector move each), the last 8 overlapping, instead of a call to memcpy, which GCC
// makes of a plain loop and which costs more than such a row.
template <class T>
void copy_row(T* dst, const T* src, std::size_t n) {
  constexpr std::size_t kChunk = 8;
  if (n < kChunk) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = src[i];
    return;
  }
  std::size_t i = 0;
  for (; i + kChunk <= n; i += kChunk) std::memcpy(dst + i, src + i, kChunk * sizeof(T));
  if (i < n) std::memcpy(dst + n - kChunk, src + n - kChunk, kChunk * sizeof(T));
}

// The image [c, h, w], or its padded copy in `scratch` (padded_size elements) when it has padding.
template <class T>
const T* padded_image(const ConvGeometry& g, const T* image, T* scratch) {
  if (!has_padding(g)) return image;
  const std::size_t H = g.rows.in, W = g.cols.in, Hp = H + 2 * g.rows.pad, Wp = W + 2 * g.cols.pad;
  std::fill(scratch, scratch + padded_size(g), T(0));
  for (std::size_t ch = 0; ch < g.c; ++ch) {
    for (std::size_t r = 0; r < H; ++r) {
      copy_row(scratch + (ch * Hp + r + g.rows.pad) * Wp + g.cols.pad, image + (ch * H + r) * W, W);
    }
  }
  return scratch;
}

// im2col: the image [c, h, w] as the matrix [c kh kw, oh ow] whose column p holds the elements the
// kernel reads at output position p (zeros in the padding). A convolution is then one product of
// the weight [f, c kh kw] with it (per group: a band of rows). The matrix's rows are `stride`
// long, so that several images' matrices can stand side by side and share one product. `scratch`
// holds the padded image (padded_size elements).
template <class T>
void im2col(const ConvGeometry& g, const T* image, T* columns, std::size_t stride, T* scratch) {
  const WindowAxis &R = g.rows, &C = g.cols;
  const T* padded = padded_image(g, image, scratch);
  const std::size_t Hp = R.in + 2 * R.pad, Wp = C.in + 2 * C.pad;
  for (std::size_t ch = 0; ch < g.c; ++ch) {
    for (std::size_t kr = 0; kr < R.kernel; ++kr) {
      for (std::size_t kc = 0; kc < C.kernel; ++kc) {
        T* row = columns + ((ch * R.kernel + kr) * C.kernel + kc) * stride;
        for (std::size_t orow = 0; orow < R.out; ++orow) {
          const T* from = padded + (ch * Hp + orow * R.stride + kr * R.dilation) * Wp + kc * C.dilation;
          T* out = row + orow * C.out;
          if (C.stride == 1) {
            copy_row(out, from, C.out);
          } else {
            for (std::size_t oc = 0; oc < C.out; ++oc) out[oc] = from[oc * C.stride];
          }
        }
      }
    }
  }
}

// col2im, the adjoint of im2col: each column's entries added back to the image elements they were
// read from (an element read by several positions receives the sum), into the padded image in
// `scratch` whose inside is then the result. `image` is overwritten.
template <class T>
void col2im(const ConvGeometry& g, const T* columns, T* image, std::size_t stride, T* scratch) {
  const WindowAxis &R = g.rows, &C = g.cols;
  const std::size_t Hp = R.in + 2 * R.pad, Wp = C.in + 2 * C.pad;
  T* padded = has_padding(g) ? scratch : image;
  std::fill(padded, padded + padded_size(g), T(0));
  for (std::size_t ch = 0; ch < g.c; ++ch) {
    for (std::size_t kr = 0; kr < R.kernel; ++kr) {
      for (std::size_t kc = 0; kc < C.kernel; ++kc) {
        const T* row = columns + ((ch * R.kernel + kr) * C.kernel + kc) * stride;
        for (std::size_t orow = 0; orow < R.out; ++orow) {
          T* to = padded + (ch * Hp + orow * R.stride + kr * R.dilation) * Wp + kc * C.dilation;
          const T* in = row + orow * C.out;
          if (C.stride == 1) {
            for (std::size_t oc = 0; oc < C.out; ++oc) to[oc] += in[oc];
          } else {
            for (std::size_t oc = 0; oc < C.out; ++oc) to[oc * C.stride] += in[oc];
          }
        }
      }
    }
  }
  if (!has_padding(g)) return;
  for (std::size_t ch = 0; ch < g.c; ++ch) {
    for (std::size_t r = 0; r < R.in; ++r) {
      copy_row(image + (ch * R.in + r) * C.in, padded + (ch * Hp + r + R.pad) * Wp + C.pad, C.in);
    }
  }
}

}  // namespace ag::detail
