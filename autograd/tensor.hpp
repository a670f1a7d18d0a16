// Tensors, shapes and the errors that name them.
//
// A value in the engine is an xt::xarray: dynamic rank, row-major, owning its data. The engine
// never keeps a lazy xtensor expression past the line that builds it (xtensor's pitfalls: an
// `auto` expression captures its operands by reference and can dangle), so every function here
// takes and returns evaluated containers.
#pragma once

#include "autograd/allocator.hpp"

#include <xtensor/xarray.hpp>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ag {

// An xt::xarray whose storage comes from the engine's block cache (allocator.hpp).
template <class T>
using Tensor = xt::xarray_container<xt::uvector<T, CachingAllocator<T>>, xt::layout_type::row_major,
                                    xt::svector<std::size_t, 4>>;

using Shape = std::vector<std::size_t>;

// Thrown when an op's operands have shapes it cannot combine; the message names the op and
// every shape involved.
class ShapeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// "[2, 3]"; "[]" for a scalar.
std::string shape_str(const Shape& shape);

template <class S>
Shape to_shape(const S& s) {
  return Shape(s.begin(), s.end());
}

// The product of the dimensions, or nothing when the dimensions other than 0 multiply beyond
// PTRDIFF_MAX (a shape read from a file or given by a caller can say anything; numpy refuses the
// same shapes, empty ones included).
std::optional<std::size_t> checked_element_count(const Shape& shape);

// The same, throwing ShapeError naming the shape instead of returning nothing.
std::size_t element_count(const Shape& shape);

// numpy's broadcasting: align trailing dimensions; each pair must be equal or contain a 1.
// Throws ShapeError naming `op` and both shapes when they cannot be broadcast.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

template <class A, class B>
bool shapes_equal(const A& a, const B& b) {
  return a.dimension() == b.dimension() && std::equal(a.shape().begin(), a.shape().end(), b.shape().begin());
}

// Whether a tensor of shape `from` can be summed down to `to`: `to` broadcasts to `from`.
bool sums_to(const Shape& from, const Shape& to);

// Maps a possibly negative axis into [0, ndim); throws naming `op` when it is out of range.
std::size_t normalize_axis(const char* op, long axis, std::size_t ndim);

// Sorted, deduplicated, normalized axes; all axes when `axes` is empty.
std::vector<std::size_t> normalize_axes(const char* op, const std::vector<long>& axes, std::size_t ndim);

// A tensor of the given shape with its elements not yet set. Use this, not Tensor<T>::from_shape:
// xtensor multiplies the dimensions without an overflow check, and a product that wraps would
// allocate a small block for a huge shape.
template <class T>
Tensor<T> uninitialized(const Shape& shape) {
  element_count(shape);
  return Tensor<T>::from_shape(shape);
}

// A filled tensor of the given shape (0-d when the shape is empty).
template <class T>
Tensor<T> full(const Shape& shape, T value) {
  Tensor<T> t = uninitialized<T>(shape);
  t.fill(value);
  return t;
}

}  // namespace ag
