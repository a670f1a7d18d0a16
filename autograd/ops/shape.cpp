// Ops that move elements without changing them. They come in pairs of adjoints (slice and
// unslice, gather_rows and scatter_add_rows, broadcast_to and sum_to), each the other's gradient,
// so all of these differentiate any number of times. flatten and stack are composites.
#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <xtensor/xmanipulation.hpp>

#include "autograd/ops/common.hpp"
#include "autograd/ops/summation.hpp"

namespace ag {

namespace {

std::vector<long> as_long(const Shape& shape) {
  return std::vector<long>(shape.begin(), shape.end());
}

Shape resolve_reshape(const Shape& from, const std::vector<long>& to) {
  Shape out(to.size());
  std::size_t known = 1;
  std::ptrdiff_t inferred = -1;
  for (std::size_t i = 0; i < to.size(); ++i) {
    if (to[i] == -1 && inferred < 0) {
      inferred = static_cast<std::ptrdiff_t>(i);
    } else if (to[i] < 0) {
      throw ShapeError(fmt::format("reshape: bad target shape [{}]", fmt::join(to, ", ")));
    } else {
      out[i] = static_cast<std::size_t>(to[i]);
      if (__builtin_mul_overflow(known, out[i], &known)) {
        throw ShapeError(fmt::format("reshape: target shape [{}] has more elements than a 64-bit count can hold",
                                     fmt::join(to, ", ")));
      }
    }
  }
  const std::size_t size = element_count(from);
  if (inferred >= 0 && known != 0 && size % known == 0) out[static_cast<std::size_t>(inferred)] = size / known;
  if (element_count(out) != size || (inferred >= 0 && known == 0)) {
    throw ShapeError(
        fmt::format("reshape: cannot reshape {} ({} elements) to [{}]", shape_str(from), size, fmt::join(to, ", ")));
  }
  return out;
}

// A python-style range along one axis, clamped to the axis: start, step and how many elements.
struct AxisRange {
  std::size_t axis, start, count;
  long step;
};

AxisRange resolve_range(const char* op, const Shape& shape, long axis, long start, long stop, long step) {
  const std::size_t ax = normalize_axis(op, axis, shape.size());
  if (step <= 0) throw ShapeError(fmt::format("{}: step must be positive, got {}", op, step));
  const long n = static_cast<long>(shape[ax]);
  const auto clamp_index = [n](long i) { return std::clamp(i < 0 ? i + n : i, 0L, n); };
  const long first = clamp_index(start), last = clamp_index(stop);
  const long count = last > first ? (last - first - 1) / step + 1 : 0;  // no overflow for a huge step
  return {ax, static_cast<std::size_t>(first), static_cast<std::size_t>(count), step};
}

// A stop that selects the same elements: one past the last, so never past the axis's end.
long range_stop(const AxisRange& r) {
  return r.count == 0 ? static_cast<long>(r.start)
                      : static_cast<long>(r.start) + static_cast<long>(r.count - 1) * r.step + 1;
}

// A tensor seen as [outer, length, inner] around `axis`: ranges along one axis are then runs of
// `inner` contiguous elements, copied block by block.
struct AxisBlocks {
  std::size_t outer = 1, length, inner = 1;
  AxisBlocks(const Shape& shape, std::size_t axis) : length(shape[axis]) {
    for (std::size_t i = 0; i < axis; ++i) outer *= shape[i];
    for (std::size_t i = axis + 1; i < shape.size(); ++i) inner *= shape[i];
  }
};

// Copies between the range `r` of a tensor with blocks `whole` and a dense tensor holding just that
// range: from the whole into the part (slice) or, with `into_whole`, back (unslice, concat).
template <class T>
void copy_range(const AxisBlocks& whole, const AxisRange& r, const T* from, T* to, bool into_whole) {
  for (std::size_t o = 0; o < whole.outer; ++o) {
    for (std::size_t i = 0; i < r.count; ++i) {
      const std::size_t w = (o * whole.length + r.start + i * static_cast<std::size_t>(r.step)) * whole.inner;
      const std::size_t p = (o * r.count + i) * whole.inner;
      if (into_whole) {
        std::copy_n(from + p, whole.inner, to + w);
      } else {
        std::copy_n(from + w, whole.inner, to + p);
      }
    }
  }
}

// Elements per entry along axis 0.
template <class T>
std::size_t row_size(const Tensor<T>& t) {
  return t.dimension() == 0 ? 1 : t.size() / t.shape()[0];
}

template <class Rows>
void check_rows(const char* op, const Rows& rows, std::size_t row_count) {
  for (std::size_t r : rows) {
    if (r >= row_count) throw ShapeError(fmt::format("{}: row index {} is out of range for {} rows", op, r, row_count));
  }
}

// a repeated to `shape` (a's shape broadcasts to it), as a new tensor: the walk of sum_reduce
// (summation.hpp) run backwards. The output is a sequence of runs along the innermost merged axis,
// each a copy of a run of a or one value of a repeated; the runs are split over the threads.
// xtensor's own broadcast assignment, which this replaces, walks the output element by element
// and took 2 ns an element (bench/: a scalar to [256, 784] in 410 us, the backward of the sum of a
// sparse auto-encoder's squared error).
template <class T>
Tensor<T> broadcast_copy(const Tensor<T>& a, const Shape& shape) {
  Tensor<T> out = uninitialized<T>(shape);
  if (out.size() == 0) return out;
  std::vector<detail::SumAxis> axes = detail::merged_axes(shape, to_shape(a.shape()));
  if (axes.empty()) {  // one element
    out.data()[0] = a.data()[0];
    return out;
  }
  const detail::SumAxis inner = axes.back();
  axes.pop_back();
  const detail::Odometer runs(std::move(axes));
  detail::parallel_ranges(runs.count, out.size(), [&](std::size_t begin, std::size_t end) {
    detail::Odometer run = runs;
    run.seek(begin);
    for (std::size_t r = begin; r < end; ++r, run.advance()) {
      T* to = out.data() + r * inner.size;
      const T* from = a.data() + run.out_offset;
      if (inner.reduced) {
        std::fill_n(to, inner.size, *from);
      } else {
        std::copy_n(from, inner.size, to);
      }
    }
  });
  return out;
}

}  // namespace

const Primitive op_reshape("reshape");
template <class T>
Variable<T> reshape(const Variable<T>& a, const std::vector<long>& shape) {
  const Shape target = resolve_reshape(a.shape(), shape);
  Tensor<T> y = a.value();
  y.reshape(target);
  return record<T>(
      op_reshape, std::move(y), {a},
      [](const BackwardContext<T>& c) { return grads(reshape(c.grad, as_long(c.in[0].shape()))); }, reads::nothing);
}

template <class T>
Variable<T> flatten(const Variable<T>& a) {
  return reshape(a, {-1});
}

const Primitive op_transpose("transpose");
template <class T>
Variable<T> transpose(const Variable<T>& a, const std::vector<std::size_t>& perm_in) {
  std::vector<std::size_t> perm = perm_in;
  const std::size_t n = a.ndim();
  if (perm.empty()) {
    perm.resize(n);
    std::iota(perm.begin(), perm.end(), 0);
    if (n >= 2) std::swap(perm[n - 2], perm[n - 1]);
  }
  std::vector<std::size_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (sorted.size() != n || sorted[i] != i) {
      throw ShapeError(fmt::format("transpose: [{}] is not a permutation of the axes of a tensor of shape {}",
                                   fmt::join(perm, ", "), shape_str(a.shape())));
    }
  }
  std::vector<std::size_t> inverse(n);
  for (std::size_t i = 0; i < n; ++i) inverse[perm[i]] = i;
  return record<T>(
      op_transpose, Tensor<T>(xt::transpose(a.value(), perm)), {a},
      [inverse](const BackwardContext<T>& c) { return grads(transpose(c.grad, inverse)); }, reads::nothing);
}

const Primitive op_broadcast_to("broadcast_to");
template <class T>
Variable<T> broadcast_to(const Variable<T>& a, const Shape& shape) {
  if (a.shape() == shape) return a;
  if (!sums_to(shape, a.shape())) {
    throw ShapeError(
        fmt::format("broadcast_to: cannot broadcast shape {} to {}", shape_str(a.shape()), shape_str(shape)));
  }
  element_count(shape);  // before xtensor multiplies the dimensions unchecked
  return record<T>(
      op_broadcast_to, broadcast_copy(a.value(), shape), {a},
      [](const BackwardContext<T>& c) { return grads(sum_to(c.grad, c.in[0].shape())); }, reads::nothing);
}

const Primitive op_sum_to("sum_to");
template <class T>
Variable<T> sum_to(const Variable<T>& a, const Shape& shape) {
  const Shape from = a.shape();
  if (from == shape) return a;
  if (!sums_to(from, shape)) {
    throw ShapeError(fmt::format("sum_to: cannot sum shape {} down to {}", shape_str(from), shape_str(shape)));
  }
  Tensor<T> y = detail::sum_reduce(a.value(), shape);
  return record<T>(
      op_sum_to, std::move(y), {a},
      [](const BackwardContext<T>& c) { return grads(broadcast_to(c.grad, c.in[0].shape())); }, reads::nothing);
}

const Primitive op_slice("slice");
template <class T>
Variable<T> slice(const Variable<T>& a, long axis, long start, long stop, long step) {
  const AxisRange r = resolve_range("slice", a.shape(), axis, start, stop, step);
  Shape shape = a.shape();
  shape[r.axis] = r.count;
  Tensor<T> y = uninitialized<T>(shape);
  copy_range(AxisBlocks(a.shape(), r.axis), r, a.value().data(), y.data(), false);
  return record<T>(
      op_slice, std::move(y), {a},
      [r](const BackwardContext<T>& c) {
        return grads(unslice(c.grad, c.in[0].shape(), static_cast<long>(r.axis), static_cast<long>(r.start),
                             range_stop(r), r.step));
      },
      reads::nothing);
}

const Primitive op_unslice("unslice");
template <class T>
Variable<T> unslice(const Variable<T>& a, const Shape& shape, long axis, long start, long stop, long step) {
  const AxisRange r = resolve_range("unslice", shape, axis, start, stop, step);
  Shape expected = shape;
  expected[r.axis] = r.count;
  if (a.shape() != expected) {
    throw ShapeError(fmt::format("unslice: a slice of {} along axis {} has shape {}, got {}", shape_str(shape), r.axis,
                                 shape_str(expected), shape_str(a.shape())));
  }
  Tensor<T> y = full<T>(shape, T(0));
  copy_range(AxisBlocks(shape, r.axis), r, a.value().data(), y.data(), true);
  return record<T>(
      op_unslice, std::move(y), {a},
      [r](const BackwardContext<T>& c) {
        return grads(slice(c.grad, static_cast<long>(r.axis), static_cast<long>(r.start), range_stop(r), r.step));
      },
      reads::nothing);
}

// The indices are shared by the op and every rule recorded from it (gather's gradient scatters to
// the same rows, and back), never copied after the first time.
const Primitive op_gather_rows("gather_rows");
template <class T>
Variable<T> detail::gather_rows(const Variable<T>& a, RowIndices rows) {
  if (a.ndim() == 0) throw ShapeError("gather_rows: cannot gather rows of a 0-d tensor");
  const std::size_t row_count = a.shape()[0];
  check_rows("gather_rows", *rows, row_count);
  Shape shape = a.shape();
  shape[0] = rows->size();
  Tensor<T> y = uninitialized<T>(shape);
  const std::size_t width = row_size(a.value());
  for (std::size_t i = 0; i < rows->size(); ++i) {
    std::copy_n(a.value().data() + (*rows)[i] * width, width, y.data() + i * width);
  }
  return record<T>(
      op_gather_rows, std::move(y), {a},
      [rows, row_count](const BackwardContext<T>& c) {
        return grads(detail::scatter_add_rows(c.grad, rows, row_count));
      },
      reads::nothing);
}

const Primitive op_scatter_add_rows("scatter_add_rows");
template <class T>
Variable<T> detail::scatter_add_rows(const Variable<T>& a, RowIndices rows, std::size_t row_count) {
  if (a.ndim() == 0 || a.shape()[0] != rows->size()) {
    throw ShapeError(
        fmt::format("scatter_add_rows: {} row indices for a tensor of shape {}", rows->size(), shape_str(a.shape())));
  }
  check_rows("scatter_add_rows", *rows, row_count);
  Shape shape = a.shape();
  shape[0] = row_count;
  Tensor<T> y = full<T>(shape, T(0));
  const std::size_t width = row_size(a.value());
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const T* from = a.value().data() + i * width;
    T* to = y.data() + (*rows)[i] * width;
    for (std::size_t k = 0; k < width; ++k) to[k] += from[k];
  }
  return record<T>(
      op_scatter_add_rows, std::move(y), {a},
      [rows](const BackwardContext<T>& c) { return grads(detail::gather_rows(c.grad, rows)); }, reads::nothing);
}

template <class T>
Variable<T> gather_rows(const Variable<T>& a, const std::vector<std::size_t>& rows) {
  return detail::gather_rows(a, detail::row_indices(rows));
}

template <class T>
Variable<T> scatter_add_rows(const Variable<T>& a, const std::vector<std::size_t>& rows, std::size_t row_count) {
  return detail::scatter_add_rows(a, detail::row_indices(rows), row_count);
}

const Primitive op_concat("concat");
template <class T>
Variable<T> concat(const std::vector<Variable<T>>& parts, long axis) {
  if (parts.empty()) throw ShapeError("concat: no tensors to concatenate");
  const Shape first = parts[0].shape();
  if (first.empty()) throw ShapeError("concat: cannot concatenate 0-d tensors (use stack)");
  const std::size_t ax = normalize_axis("concat", axis, first.size());
  Shape shape = first;
  shape[ax] = 0;
  std::vector<long> offsets;
  for (const Variable<T>& p : parts) {
    Shape s = p.shape();
    Shape expected = first;
    expected[ax] = s.size() == first.size() ? s[ax] : 0;
    if (s != expected) {
      throw ShapeError(
          fmt::format("concat: shapes {} and {} differ outside axis {}", shape_str(first), shape_str(s), ax));
    }
    offsets.push_back(static_cast<long>(shape[ax]));
    shape[ax] += s[ax];
  }
  Tensor<T> y = uninitialized<T>(shape);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const AxisRange r{ax, static_cast<std::size_t>(offsets[i]), parts[i].shape()[ax], 1};
    copy_range(AxisBlocks(shape, ax), r, parts[i].value().data(), y.data(), true);
  }
  offsets.push_back(static_cast<long>(shape[ax]));
  return record<T>(
      op_concat, std::move(y), parts,
      [offsets, ax](const BackwardContext<T>& c) {
        VariableList<T> out(c.in.size());
        for (std::size_t i = 0; i < c.in.size(); ++i) {
          if (c.needs(i)) out[i] = slice(c.grad, static_cast<long>(ax), offsets[i], offsets[i + 1]);
        }
        return out;
      },
      reads::nothing);
}

template <class T>
Variable<T> stack(const std::vector<Variable<T>>& parts, long axis) {
  if (parts.empty()) throw ShapeError("stack: no tensors to stack");
  const std::size_t ax = normalize_axis("stack", axis, parts[0].ndim() + 1);
  std::vector<Variable<T>> expanded;
  for (const Variable<T>& p : parts) {
    if (p.shape() != parts[0].shape()) {
      throw ShapeError(
          fmt::format("stack: shapes {} and {} differ", shape_str(parts[0].shape()), shape_str(p.shape())));
    }
    std::vector<long> s = as_long(p.shape());
    s.insert(s.begin() + static_cast<long>(ax), 1);
    expanded.push_back(reshape(p, s));
  }
  return concat(expanded, static_cast<long>(ax));
}

#define AG_SHAPE(T)                                                                                        \
  template Variable<T> reshape(const Variable<T>&, const std::vector<long>&);                              \
  template Variable<T> flatten(const Variable<T>&);                                                        \
  template Variable<T> transpose(const Variable<T>&, const std::vector<std::size_t>&);                     \
  template Variable<T> broadcast_to(const Variable<T>&, const Shape&);                                     \
  template Variable<T> sum_to(const Variable<T>&, const Shape&);                                           \
  template Variable<T> slice(const Variable<T>&, long, long, long, long);                                  \
  template Variable<T> unslice(const Variable<T>&, const Shape&, long, long, long, long);                  \
  template Variable<T> gather_rows(const Variable<T>&, const std::vector<std::size_t>&);                   \
  template Variable<T> scatter_add_rows(const Variable<T>&, const std::vector<std::size_t>&, std::size_t); \
  template Variable<T> detail::gather_rows(const Variable<T>&, detail::RowIndices);                        \
  template Variable<T> detail::scatter_add_rows(const Variable<T>&, detail::RowIndices, std::size_t);      \
  template Variable<T> concat(const std::vector<Variable<T>>&, long);                                      \
  template Variable<T> stack(const std::vector<Variable<T>>&, long);
AG_INSTANTIATE(AG_SHAPE)

}  // namespace ag
