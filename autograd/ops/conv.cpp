// Convolution lowered to matrix products. With T(y, x, w) = sum over n, f, p of
// y[n, f, p] (w_f . patch_p(x[n])), the three ops are the gradients of T in y (conv2d), in x
// (conv_transpose2d) and in w (conv2d_weight_grad). Each is linear in both its arguments, so the
// gradient of any one of them is one of the others: the family differentiates any number of times.
//
// im2col lays each image's patches out as the columns of a matrix (windows.hpp), several images
// side by side, and one BLAS product per group and block of images does the arithmetic; col2im
// folds columns back. The batch is split over the engine's threads, each with buffers of its own;
// inside them BLAS runs on one thread (OpenMP does not nest), and when the batch is not split
// BLAS uses the threads itself. In float, oneDNN's direct kernels do the work when the engine is
// built with them (conv_dnnl.hpp); this lowering is the double path and the fallback.
#include <fmt/format.h>
#ifndef AUTOGRAD_NO_BLAS
#include <cblas.h>
#endif

#include <algorithm>
#include <limits>
#include <type_traits>

#include "autograd/ops/common.hpp"
#include "autograd/ops/conv_dnnl.hpp"
#include "autograd/ops/loop_gemm.hpp"
#include "autograd/ops/windows.hpp"

namespace ag {

namespace {

using detail::ConvGeometry;

// Row-major C[m, n] = A[m, k] B[k, n] + beta C, A or B read transposed when asked; ld* are the
// stored rows' lengths. Without BLAS (the WebAssembly playground), the engine's own loop.
#ifdef AUTOGRAD_NO_BLAS
template <class T>
void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const T* a, std::size_t lda, const T* b,
          std::size_t ldb, T beta, T* c, std::size_t ldc) {
  detail::loop_gemm(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
}
#else
void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t lda,
          const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), 1.0f, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}
void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const double* a, std::size_t lda,
          const double* b, std::size_t ldb, double beta, double* c, std::size_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), 1.0, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}
#endif

std::string conv_context(const Shape& input, const Shape& weight, const Conv2dOptions& o) {
  return fmt::format("input {}, weight {}, stride [{}, {}], padding [{}, {}], dilation [{}, {}], groups {}",
                     shape_str(input), shape_str(weight), o.stride[0], o.stride[1], o.padding[0], o.padding[1],
                     o.dilation[0], o.dilation[1], o.groups);
}

// The geometry of conv2d(input, weight), every setting checked, errors naming `op` and the shapes.
ConvGeometry conv_geometry(const char* op, const Shape& input, const Shape& weight, const Conv2dOptions& o) {
  const std::string context = conv_context(input, weight, o);
  if (input.size() != 4) {
    throw ShapeError(fmt::format("{}: the input must be [N, C, H, W], got {} ({})", op, shape_str(input), context));
  }
  if (weight.size() != 4) {
    throw ShapeError(
        fmt::format("{}: the weight must be [F, C / groups, KH, KW], got {} ({})", op, shape_str(weight), context));
  }
  if (o.groups < 1) throw ShapeError(fmt::format("{}: groups must be at least 1 ({})", op, context));
  const auto groups = static_cast<std::size_t>(o.groups);
  const std::size_t c = input[1], f = weight[0];
  if (c % groups != 0 || f % groups != 0) {
    throw ShapeError(fmt::format("{}: {} input channels and {} filters must both divide into {} groups ({})", op, c, f,
                                 groups, context));
  }
  if (weight[1] != c / groups) {
    throw ShapeError(fmt::format("{}: the input has {} channels, {} per group, but the weight reads {} ({})", op, c,
                                 c / groups, weight[1], context));
  }
  if (f == 0 || c == 0) throw ShapeError(fmt::format("{}: no channels or no filters ({})", op, context));
  return {input[0],
          c,
          f,
          groups,
          detail::window_axis(op, context, "the height", input[2], static_cast<long>(weight[2]), o.stride[0],
                              o.padding[0], o.dilation[0]),
          detail::window_axis(op, context, "the width", input[3], static_cast<long>(weight[3]), o.stride[1],
                              o.padding[1], o.dilation[1])};
}

Shape output_shape(const ConvGeometry& g) {
  return {g.n, g.f, g.rows.out, g.cols.out};
}
Shape input_shape(const ConvGeometry& g) {
  return {g.n, g.c, g.rows.in, g.cols.in};
}
Shape weight_shape(const ConvGeometry& g) {
  return {g.f, g.group_channels(), g.rows.kernel, g.cols.kernel};
}

// Images lowered side by side into one matrix so that their products are one: enough of them to
// fill about this many elements (a megabyte of floats, within the L2 cache), at least one.
constexpr std::size_t kColumnBlock = std::size_t{1} << 18;

// How the batch is cut: `parts` ranges of images, split over the threads when the work is large
// enough, each lowered `block` images at a time into buffers of its own.
struct Blocking {
  std::size_t parts, block;
};

Blocking blocking(const ConvGeometry& g) {
  const std::size_t threads = static_cast<std::size_t>(std::max(num_threads(), 1));
  const std::size_t parts = std::max<std::size_t>(std::min(g.n, threads), 1);
  const std::size_t per_part = (g.n + parts - 1) / parts;
  // A 1x1 kernel reads each image as it is, one image per product.
  if (g.reads_image_as_is()) return {parts, 1};
  const std::size_t per_image = g.patch() * g.groups * g.positions();
  return {parts, std::clamp<std::size_t>(kColumnBlock / std::max<std::size_t>(per_image, 1), 1,
                                         std::max<std::size_t>(per_part, 1))};
}

// Calls body(part, first, count, columns, outputs) for every block of `count` images from `first`,
// part by part (the parts split over the threads), with the part's buffers: `columns` for the
// block's lowered images [patch, count positions], `outputs` for its outputs [f, count positions].
template <class T, class Body>
void for_image_blocks(const ConvGeometry& g, const Blocking& b, Body body) {
  // The columns, then the padded image im2col and col2im work from.
  const std::size_t column_size =
      g.reads_image_as_is() ? 0 : g.patch() * g.groups * g.positions() * b.block + detail::padded_size(g);
  const std::size_t output_size = b.block > 1 ? g.f * g.positions() * b.block : 0;
  const std::size_t work = g.n * (g.image_size() + g.patch() * g.groups * g.positions() + g.f * g.positions());
  detail::parallel_ranges(b.parts, work, [&](std::size_t part_begin, std::size_t part_end) {
    Tensor<T> columns = uninitialized<T>({column_size}), outputs = uninitialized<T>({output_size});
    for (std::size_t part = part_begin; part < part_end; ++part) {
      const std::size_t begin = g.n * part / b.parts, end = g.n * (part + 1) / b.parts;
      for (std::size_t first = begin; first < end; first += b.block) {
        body(part, first, std::min(b.block, end - first), columns.data(), outputs.data());
      }
    }
  });
}

// The block's images lowered side by side: image i's columns start at i * positions in each row.
template <class T>
const T* lower(const ConvGeometry& g, const T* images, std::size_t count, T* columns) {
  if (g.reads_image_as_is()) return images;
  const std::size_t P = g.positions();
  T* scratch = columns + g.patch() * g.groups * P * count;
  for (std::size_t i = 0; i < count; ++i) {
    detail::im2col(g, images + i * g.image_size(), columns + i * P, count * P, scratch);
  }
  return columns;
}

// Between a block's outputs [n, f, P] as the tensors hold them and [f, n P] as one product makes
// or reads them.
template <class T>
void unpack_outputs(const ConvGeometry& g, std::size_t count, const T* block, T* outputs) {
  const std::size_t P = g.positions();
  for (std::size_t i = 0; i < count; ++i) {
    for (std::size_t f = 0; f < g.f; ++f) std::copy_n(block + (f * count + i) * P, P, outputs + (i * g.f + f) * P);
  }
}
template <class T>
void pack_outputs(const ConvGeometry& g, std::size_t count, const T* outputs, T* block) {
  const std::size_t P = g.positions();
  for (std::size_t i = 0; i < count; ++i) {
    for (std::size_t f = 0; f < g.f; ++f) std::copy_n(outputs + (i * g.f + f) * P, P, block + (f * count + i) * P);
  }
}

// y = W lower(x) (+ b), per group and block: with a bias, each output row starts as its filter's
// bias and the product adds to it.
template <class T>
Tensor<T> conv_forward(const ConvGeometry& g, const Tensor<T>& x, const Tensor<T>& w, const T* bias = nullptr) {
  Tensor<T> y = uninitialized<T>(output_shape(g));
  if constexpr (std::is_same_v<T, float>) {
    if (detail::dnnl_conv_forward(g, x.data(), w.data(), bias, y.data())) return y;
  }
  const std::size_t P = g.positions(), K = g.patch(), Fg = g.group_filters();
  for_image_blocks<T>(g, blocking(g), [&](std::size_t, std::size_t first, std::size_t count, T* columns, T* outputs) {
    const T* cols = lower(g, x.data() + first * g.image_size(), count, columns);
    T* out = count == 1 ? y.data() + first * g.f * P : outputs;
    const std::size_t NP = count * P;
    if (bias) {
      for (std::size_t f = 0; f < g.f; ++f) std::fill(out + f * NP, out + (f + 1) * NP, bias[f]);
    }
    for (std::size_t gr = 0; gr < g.groups; ++gr) {
      gemm(false, false, Fg, NP, K, w.data() + gr * Fg * K, K, cols + gr * K * NP, NP, T(bias ? 1 : 0),
           out + gr * Fg * NP, NP);
    }
    if (count > 1) unpack_outputs(g, count, outputs, y.data() + first * g.f * P);
  });
  return y;
}

// dx = col2im(W^T dy), per group and block.
template <class T>
Tensor<T> conv_input_grad(const ConvGeometry& g, const Tensor<T>& dy, const Tensor<T>& w) {
  Tensor<T> dx = uninitialized<T>(input_shape(g));
  if constexpr (std::is_same_v<T, float>) {
    if (detail::dnnl_conv_backward_data(g, dy.data(), w.data(), dx.data())) return dx;
  }
  const std::size_t P = g.positions(), K = g.patch(), Fg = g.group_filters();
  for_image_blocks<T>(g, blocking(g), [&](std::size_t, std::size_t first, std::size_t count, T* columns, T* outputs) {
    const T* grads_out = dy.data() + first * g.f * P;
    if (count > 1) {
      pack_outputs(g, count, grads_out, outputs);
      grads_out = outputs;
    }
    T* images = dx.data() + first * g.image_size();
    T* cols = g.reads_image_as_is() ? images : columns;
    const std::size_t NP = count * P;
    for (std::size_t gr = 0; gr < g.groups; ++gr) {
      gemm(true, false, K, NP, Fg, w.data() + gr * Fg * K, K, grads_out + gr * Fg * NP, NP, T(0), cols + gr * K * NP,
           NP);
    }
    if (g.reads_image_as_is()) return;
    T* scratch = columns + K * g.groups * NP;
    for (std::size_t i = 0; i < count; ++i) {
      detail::col2im(g, columns + i * P, images + i * g.image_size(), NP, scratch);
    }
  });
  return dx;
}

// dW = sum over the batch of dy lower(x)^T, per group: each part sums its blocks into a weight of
// its own, and those are added at the end.
template <class T>
Tensor<T> conv_weight_grad(const ConvGeometry& g, const Tensor<T>& x, const Tensor<T>& dy) {
  const Shape shape = weight_shape(g);
  Tensor<T> dw = uninitialized<T>(shape);
  if constexpr (std::is_same_v<T, float>) {
    if (detail::dnnl_conv_backward_weights(g, x.data(), dy.data(), dw.data())) return dw;
  }
  const std::size_t P = g.positions(), K = g.patch(), Fg = g.group_filters(), size = element_count(shape);
  const Blocking b = blocking(g);
  Tensor<T> partial = full<T>({b.parts, size}, T(0));
  for_image_blocks<T>(g, b, [&](std::size_t part, std::size_t first, std::size_t count, T* columns, T* outputs) {
    const T* cols = lower(g, x.data() + first * g.image_size(), count, columns);
    const T* grads_out = dy.data() + first * g.f * P;
    if (count > 1) {
      pack_outputs(g, count, grads_out, outputs);
      grads_out = outputs;
    }
    const std::size_t NP = count * P;
    T* part_sum = partial.data() + part * size;
    for (std::size_t gr = 0; gr < g.groups; ++gr) {
      gemm(false, true, Fg, K, NP, grads_out + gr * Fg * NP, NP, cols + gr * K * NP, NP, T(1), part_sum + gr * Fg * K,
           K);
    }
  });
  std::copy(partial.data(), partial.data() + size, dw.data());
  for (std::size_t part = 1; part < b.parts; ++part) {
    const T* from = partial.data() + part * size;
    for (std::size_t i = 0; i < size; ++i) dw.data()[i] += from[i];
  }
  return dw;
}

// The sizes a convolution's output has, checked against an actual `shape`.
void check_output(const char* op, const ConvGeometry& g, const Shape& shape, const std::string& what) {
  if (shape != output_shape(g)) {
    throw ShapeError(fmt::format("{}: {} is {}, but the convolution it transposes gives {}", op, what, shape_str(shape),
                                 shape_str(output_shape(g))));
  }
}

// Every dimension of a shape within BLAS's int and the products' operands within memory we count.
void check_blas_sizes(const char* op, const ConvGeometry& g) {
  const std::size_t limit = static_cast<std::size_t>(std::numeric_limits<int>::max());
  if (std::max({g.patch(), g.positions(), g.group_filters()}) > limit) {
    throw ShapeError(fmt::format("{}: a product's dimension is over {}, more than BLAS can index", op, limit));
  }
}

Shape image_shape(const Shape& batch_and_channels, std::array<long, 2> size) {
  if (size[0] < 0 || size[1] < 0) throw ShapeError("conv_transpose2d: a negative output size");
  return {batch_and_channels[0], batch_and_channels[1], static_cast<std::size_t>(size[0]),
          static_cast<std::size_t>(size[1])};
}

}  // namespace

const Primitive op_conv2d("conv2d");
const Primitive op_conv_transpose2d("conv_transpose2d");
const Primitive op_conv2d_weight_grad("conv2d_weight_grad");

template <class T>
Variable<T> conv2d(const Variable<T>& input, const Variable<T>& weight, const Conv2dOptions& options) {
  return conv2d(input, weight, Variable<T>(), options);
}

// With a bias, its gradient is the output's gradient summed over the images and the positions.
template <class T>
Variable<T> conv2d(const Variable<T>& input, const Variable<T>& weight, const Variable<T>& bias,
                   const Conv2dOptions& options) {
  const ConvGeometry g = conv_geometry("conv2d", input.shape(), weight.shape(), options);
  check_blas_sizes("conv2d", g);
  if (bias.defined() && bias.shape() != Shape{g.f}) {
    throw ShapeError(fmt::format("conv2d: the bias must be [{}], one value per filter, got {} ({})", g.f,
                                 shape_str(bias.shape()), conv_context(input.shape(), weight.shape(), options)));
  }
  VariableList<T> inputs{input, weight};
  if (bias.defined()) inputs.push_back(bias);
  const std::array<long, 2> size{static_cast<long>(g.rows.in), static_cast<long>(g.cols.in)};
  const std::array<long, 2> kernel{static_cast<long>(g.rows.kernel), static_cast<long>(g.cols.kernel)};
  return record<T>(
      op_conv2d, conv_forward(g, input.value(), weight.value(), bias.defined() ? bias.value().data() : nullptr), inputs,
      [options, size, kernel](const BackwardContext<T>& c) {
        Variable<T> gx, gw;
        if (c.needs(0)) gx = conv_transpose2d(c.grad, c.in[1], size, options);
        if (c.needs(1)) gw = conv2d_weight_grad(c.in[0], c.grad, kernel, options);
        VariableList<T> gradients = grads(gx, gw);
        if (c.in.size() == 3) gradients.push_back(c.needs(2) ? sum(c.grad, {0, 2, 3}) : Variable<T>());
        return gradients;
      },
      reads::input(0) | reads::input(1));
}

template <class T>
Variable<T> conv_transpose2d(const Variable<T>& input, const Variable<T>& weight, std::array<long, 2> output_size,
                             const Conv2dOptions& options) {
  const char* op = "conv_transpose2d";
  if (input.ndim() != 4 || weight.ndim() != 4) {
    throw ShapeError(
        fmt::format("{}: the input must be [N, F, OH, OW] and the weight [F, C / groups, KH, KW], got {} "
                    "and {}",
                    op, shape_str(input.shape()), shape_str(weight.shape())));
  }
  if (options.groups < 1) throw ShapeError(fmt::format("{}: groups must be at least 1, got {}", op, options.groups));
  const Shape image =
      image_shape({input.shape()[0], weight.shape()[1] * static_cast<std::size_t>(options.groups)}, output_size);
  const ConvGeometry g = conv_geometry(op, image, weight.shape(), options);
  check_output(op, g, input.shape(), "the input");
  check_blas_sizes(op, g);
  const std::array<long, 2> kernel{static_cast<long>(g.rows.kernel), static_cast<long>(g.cols.kernel)};
  return record<T>(
      op_conv_transpose2d, conv_input_grad(g, input.value(), weight.value()), {input, weight},
      // This op is dT/dx (y, w): its gradient G, image-shaped, gives conv2d(G, w) for y and
      // dT/dw (y, G) for w.
      [options, kernel](const BackwardContext<T>& c) {
        Variable<T> gy, gw;
        if (c.needs(0)) gy = conv2d(c.grad, c.in[1], options);
        if (c.needs(1)) gw = conv2d_weight_grad(c.grad, c.in[0], kernel, options);
        return grads(gy, gw);
      },
      reads::input(0) | reads::input(1));
}

template <class T>
Variable<T> conv2d_weight_grad(const Variable<T>& input, const Variable<T>& grad_output,
                               std::array<long, 2> kernel_size, const Conv2dOptions& options) {
  const char* op = "conv2d_weight_grad";
  if (input.ndim() != 4 || grad_output.ndim() != 4) {
    throw ShapeError(
        fmt::format("{}: the input must be [N, C, H, W] and the output's gradient [N, F, OH, OW], got {} "
                    "and {}",
                    op, shape_str(input.shape()), shape_str(grad_output.shape())));
  }
  if (options.groups < 1) throw ShapeError(fmt::format("{}: groups must be at least 1, got {}", op, options.groups));
  if (kernel_size[0] < 1 || kernel_size[1] < 1) {
    throw ShapeError(fmt::format("{}: kernel size [{}, {}] must be positive", op, kernel_size[0], kernel_size[1]));
  }
  const auto groups = static_cast<std::size_t>(options.groups);
  const Shape weight{grad_output.shape()[1], input.shape()[1] / groups, static_cast<std::size_t>(kernel_size[0]),
                     static_cast<std::size_t>(kernel_size[1])};
  const ConvGeometry g = conv_geometry(op, input.shape(), weight, options);
  check_output(op, g, grad_output.shape(), "the output's gradient");
  check_blas_sizes(op, g);
  const std::array<long, 2> size{static_cast<long>(g.rows.in), static_cast<long>(g.cols.in)};
  return record<T>(
      op_conv2d_weight_grad, conv_weight_grad(g, input.value(), grad_output.value()), {input, grad_output},
      // This op is dT/dw (x, y): its gradient G, weight-shaped, gives dT/dx (y, G) for x and
      // conv2d(x, G) for y.
      [options, size](const BackwardContext<T>& c) {
        Variable<T> gx, gy;
        if (c.needs(0)) gx = conv_transpose2d(c.in[1], c.grad, size, options);
        if (c.needs(1)) gy = conv2d(c.in[0], c.grad, options);
        return grads(gx, gy);
      },
      reads::input(0) | reads::input(1));
}

#define AG_CONV(T)                                                                                               \
  template Variable<T> conv2d(const Variable<T>&, const Variable<T>&, const Conv2dOptions&);                     \
  template Variable<T> conv2d(const Variable<T>&, const Variable<T>&, const Variable<T>&, const Conv2dOptions&); \
  template Variable<T> conv_transpose2d(const Variable<T>&, const Variable<T>&, std::array<long, 2>,             \
                                        const Conv2dOptions&);                                                   \
  template Variable<T> conv2d_weight_grad(const Variable<T>&, const Variable<T>&, std::array<long, 2>,           \
                                          const Conv2dOptions&);
AG_INSTANTIATE(AG_CONV)

}  // namespace ag
