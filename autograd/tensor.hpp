// Tensors, shapes and the errors that name them.
//
// A value in the engine is an xt::xarray: dynamic rank, row-major, owning its data. The engine
// never keeps a lazy xtensor expression past the line that builds it (xtensor's pitfalls: an
// `auto` expression captures its operands by reference and can dangle), so every function here
// takes and returns evaluated containers.
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>
#include <xtensor/xarray.hpp>

#include "autograd/allocator.hpp"

namespace ag {

// An xt::xarray whose storage comes from the engine's block cache (allocator.hpp).
template <class T>
using Tensor =
    xt::xarray_container<xt::uvector<T, CachingAllocator<T>>, xt::layout_type::row_major, xt::svector<std::size_t, 4>>;

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

// Throws ShapeError naming both unless `count` values fill `shape` exactly (for tensor() below).
void check_value_count(std::size_t count, const Shape& shape);

// A tensor from its values in row-major order and its shape:
//   ag::tensor({1, 2, 3, 4, 5, 6}, {2, 3})      a float [2, 3]
//   ag::tensor<double>({1, -3}, {2, 1})         a double column
// Throws ShapeError naming both when the number of values does not match the shape.
template <class T = float>
Tensor<T> tensor(std::initializer_list<std::type_identity_t<T>> values, const Shape& shape) {
  check_value_count(values.size(), shape);
  Tensor<T> t = Tensor<T>::from_shape(shape);
  std::copy(values.begin(), values.end(), t.begin());
  return t;
}

// A matrix from its rows: ag::tensor<double>({{1}, {-3}}) is a column of shape [2, 1]. The
// literal Tensor<double>{{1}, {-3}} does not compile, and cannot be made to: Tensor is xtensor's
// own xarray, whose 1-D and 2-D list constructors both accept it ({1} is a number as well as a
// row), so the compiler finds it ambiguous. Rows of two or more values, {{1, 2}, {3, 4}}, are not.
// Throws ShapeError when the rows differ in length.
template <class T = float>
Tensor<T> tensor(std::initializer_list<std::initializer_list<std::type_identity_t<T>>> rows) {
  const std::size_t columns = rows.size() == 0 ? 0 : rows.begin()->size();
  for (const auto& row : rows) check_value_count(row.size(), {columns});
  Tensor<T> t = Tensor<T>::from_shape({rows.size(), columns});
  auto out = t.begin();
  for (const auto& row : rows) out = std::copy(row.begin(), row.end(), out);
  return t;
}

}  // namespace ag
