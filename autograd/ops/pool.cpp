// Pooling: each channel of each image summarised window by window (windows.hpp). Max pooling
// keeps where each maximum came from, and its gradient is the scatter of the output's gradient
// to those elements (scatter_add_rows, whose own gradient gathers them back). Mean pooling is
// linear: its gradient spreads each output's gradient evenly over its window
// (avg_pool2d_backward), and the gradient of that spread is the mean pooling again.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "autograd/ops/common.hpp"
#include "autograd/ops/windows.hpp"

namespace ag {

namespace {

using detail::WindowAxis;

// A pooling's sizes: [planes = N C, h, w] -> [planes, oh, ow].
struct PoolGeometry {
  std::size_t n, c;
  WindowAxis rows, cols;

  std::size_t planes() const { return n * c; }
  std::size_t plane_in() const { return rows.in * cols.in; }
  std::size_t plane_out() const { return rows.out * cols.out; }
  Shape input_shape() const { return {n, c, rows.in, cols.in}; }
  Shape output_shape() const { return {n, c, rows.out, cols.out}; }
};

PoolGeometry pool_geometry(const char* op, const Shape& input, const Pool2dOptions& o) {
  const std::array<long, 2> stride = o.stride.value_or(o.kernel);
  const std::string context =
      fmt::format("input {}, kernel [{}, {}], stride [{}, {}], padding [{}, {}]", shape_str(input), o.kernel[0],
                  o.kernel[1], stride[0], stride[1], o.padding[0], o.padding[1]);
  if (input.size() != 4) {
    throw ShapeError(fmt::format("{}: the input must be [N, C, H, W], got {} ({})", op, shape_str(input), context));
  }
  for (int axis = 0; axis < 2; ++axis) {
    if (o.padding[axis] > o.kernel[axis] / 2) {
      throw ShapeError(
          fmt::format("{}: padding {} is more than half the kernel's {}, so that a window could hold "
                      "padding alone ({})",
                      op, o.padding[axis], o.kernel[axis], context));
    }
  }
  return {input[0], input[1],
          detail::window_axis(op, context, "the height", input[2], o.kernel[0], stride[0], o.padding[0], 1),
          detail::window_axis(op, context, "the width", input[3], o.kernel[1], stride[1], o.padding[1], 1)};
}

// Calls body(plane) for every plane of the batch, split over the threads when large.
template <class Body>
void for_planes(const PoolGeometry& g, Body body) {
  detail::parallel_ranges(g.planes(), g.planes() * (g.plane_in() + g.plane_out()),
                          [&](std::size_t begin, std::size_t end) {
                            for (std::size_t p = begin; p < end; ++p) body(p);
                          });
}

// Calls window(o, r0, r1, c0, c1) for every output position o of a plane, in order, with the rows
// [r0, r1) and columns [c0, c1) of the plane its window holds: clipped to the image, so that the
// loops over them test nothing.
template <class Window>
void for_windows(const PoolGeometry& g, Window window) {
  const auto clipped = [](const WindowAxis& a, std::size_t o) {
    const long start = a.at(o, 0);
    return std::array<std::size_t, 2>{
        static_cast<std::size_t>(std::max(start, 0L)),
        static_cast<std::size_t>(std::min(start + static_cast<long>(a.kernel), static_cast<long>(a.in)))};
  };
  for (std::size_t orow = 0, o = 0; orow < g.rows.out; ++orow) {
    const auto [r0, r1] = clipped(g.rows, orow);
    for (std::size_t ocol = 0; ocol < g.cols.out; ++ocol, ++o) {
      const auto [c0, c1] = clipped(g.cols, ocol);
      window(o, r0, r1, c0, c1);
    }
  }
}

// Calls visit(o, i) for every output position o of a plane and every element i of the plane its
// window holds.
template <class Visit>
void for_window_elements(const PoolGeometry& g, Visit visit) {
  for_windows(g, [&](std::size_t o, std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
    for (std::size_t r = r0; r < r1; ++r) {
      for (std::size_t c = c0; c < c1; ++c) visit(o, r * g.cols.in + c);
    }
  });
}

// The number each window's sum is divided by: the whole window, or only its part in the image.
template <class T>
std::vector<T> window_divisors(const PoolGeometry& g, bool count_include_pad) {
  std::vector<T> divisor(g.plane_out(), static_cast<T>(g.rows.kernel * g.cols.kernel));
  if (!count_include_pad) {
    std::fill(divisor.begin(), divisor.end(), T(0));
    for_window_elements(g, [&](std::size_t o, std::size_t) { divisor[o] += T(1); });
  }
  return divisor;
}

template <class T>
Tensor<T> mean_pool(const PoolGeometry& g, const Tensor<T>& x, const std::vector<T>& divisor) {
  Tensor<T> y = full<T>(g.output_shape(), T(0));
  for_planes(g, [&](std::size_t p) {
    const T* in = x.data() + p * g.plane_in();
    T* out = y.data() + p * g.plane_out();
    for_window_elements(g, [&](std::size_t o, std::size_t i) { out[o] += in[i]; });
    for (std::size_t o = 0; o < g.plane_out(); ++o) out[o] /= divisor[o];
  });
  return y;
}

template <class T>
Tensor<T> mean_spread(const PoolGeometry& g, const Tensor<T>& dy, const std::vector<T>& divisor) {
  Tensor<T> dx = full<T>(g.input_shape(), T(0));
  for_planes(g, [&](std::size_t p) {
    const T* in = dy.data() + p * g.plane_out();
    T* out = dx.data() + p * g.plane_in();
    for_window_elements(g, [&](std::size_t o, std::size_t i) { out[i] += in[o] / divisor[o]; });
  });
  return dx;
}

// The largest element of rows [r0, r1) and columns [c0, c1) of a plane `width` wide, and its
// offset: the first one on ties, the first NaN if there is one (so that NaNs propagate). Without
// branches on the data, whose outcomes are a coin toss on real images: one pass takes the maximum,
// a second finds it, walking backwards so that the first match is the one kept.
template <class T>
std::pair<T, std::size_t> window_max(const T* plane, std::size_t width, std::size_t r0, std::size_t r1, std::size_t c0,
                                     std::size_t c1) {
  T best = plane[r0 * width + c0];
  bool nan = false;
  for (std::size_t r = r0; r < r1; ++r) {
    for (std::size_t c = c0; c < c1; ++c) {
      const T v = plane[r * width + c];
      best = v > best ? v : best;
      nan |= v != v;
    }
  }
  std::size_t where = 0;
  for (std::size_t r = r1; r-- > r0;) {
    for (std::size_t c = c1; c-- > c0;) {
      const T v = plane[r * width + c];
      where = (nan ? v != v : v == best) ? r * width + c : where;
    }
  }
  return {plane[where], where};
}

}  // namespace

const Primitive op_max_pool2d("max_pool2d");
template <class T>
Variable<T> max_pool2d(const Variable<T>& input, const Pool2dOptions& options) {
  const PoolGeometry g = pool_geometry("max_pool2d", input.shape(), options);
  Tensor<T> y = uninitialized<T>(g.output_shape());
  // Where each maximum is, as an offset into the whole input: the rows scatter_add_rows adds to.
  auto argmax = std::make_shared<detail::RowIndexVector>(y.size());
  const T* x = input.value().data();
  for_planes(g, [&](std::size_t p) {
    const std::size_t in = p * g.plane_in(), out = p * g.plane_out();
    const T* plane = x + in;
    for_windows(g, [&](std::size_t o, std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
      const auto [best, where] = window_max(plane, g.cols.in, r0, r1, c0, c1);
      y.data()[out + o] = best;
      (*argmax)[out + o] = in + where;
    });
  });
  const std::size_t count = input.value().size();
  const Shape shape = input.shape();
  return record<T>(
      op_max_pool2d, std::move(y), {input},
      [argmax = detail::RowIndices(std::move(argmax)), count, shape](const BackwardContext<T>& c) {
        const Variable<T> rows = reshape(c.grad, {static_cast<long>(argmax->size()), 1});
        return grads(
            reshape(detail::scatter_add_rows(rows, argmax, count), std::vector<long>(shape.begin(), shape.end())));
      },
      reads::nothing);
}

const Primitive op_avg_pool2d("avg_pool2d");
template <class T>
Variable<T> avg_pool2d(const Variable<T>& input, const Pool2dOptions& options) {
  const PoolGeometry g = pool_geometry("avg_pool2d", input.shape(), options);
  const std::array<long, 2> size{static_cast<long>(g.rows.in), static_cast<long>(g.cols.in)};
  return record<T>(
      op_avg_pool2d, mean_pool(g, input.value(), window_divisors<T>(g, options.count_include_pad)), {input},
      [size, options](const BackwardContext<T>& c) { return grads(avg_pool2d_backward(c.grad, size, options)); },
      reads::nothing);
}

const Primitive op_avg_pool2d_backward("avg_pool2d_backward");
template <class T>
Variable<T> avg_pool2d_backward(const Variable<T>& grad_output, std::array<long, 2> input_size,
                                const Pool2dOptions& options) {
  const char* op = "avg_pool2d_backward";
  if (grad_output.ndim() != 4) {
    throw ShapeError(
        fmt::format("{}: the output's gradient must be [N, C, OH, OW], got {}", op, shape_str(grad_output.shape())));
  }
  if (input_size[0] < 0 || input_size[1] < 0) {
    throw ShapeError(fmt::format("{}: a negative input size [{}, {}]", op, input_size[0], input_size[1]));
  }
  const Shape& dy = grad_output.shape();
  const PoolGeometry g = pool_geometry(
      op, {dy[0], dy[1], static_cast<std::size_t>(input_size[0]), static_cast<std::size_t>(input_size[1])}, options);
  if (g.output_shape() != dy) {
    throw ShapeError(fmt::format("{}: the output's gradient is {}, but pooling [{}, {}] gives {}", op, shape_str(dy),
                                 input_size[0], input_size[1], shape_str(g.output_shape())));
  }
  return record<T>(
      op_avg_pool2d_backward, mean_spread(g, grad_output.value(), window_divisors<T>(g, options.count_include_pad)),
      {grad_output}, [options](const BackwardContext<T>& c) { return grads(avg_pool2d(c.grad, options)); },
      reads::nothing);
}

#define AG_POOL(T)                                                           \
  template Variable<T> max_pool2d(const Variable<T>&, const Pool2dOptions&); \
  template Variable<T> avg_pool2d(const Variable<T>&, const Pool2dOptions&); \
  template Variable<T> avg_pool2d_backward(const Variable<T>&, std::array<long, 2>, const Pool2dOptions&);
AG_INSTANTIATE(AG_POOL)

}  // namespace ag
