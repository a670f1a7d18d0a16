#include "autograd/tensor.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdint>

namespace ag {

std::string shape_str(const Shape& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

std::optional<std::size_t> checked_element_count(const Shape& shape) {
  // numpy's rule: the dimensions other than 0 must multiply within a ptrdiff_t even when another
  // dimension is 0, because xtensor computes the (signed) strides of an empty tensor all the same.
  std::size_t nonzero = 1;
  bool empty = false;
  for (std::size_t d : shape) {
    if (d == 0) {
      empty = true;
    } else if (__builtin_mul_overflow(nonzero, d, &nonzero) || nonzero > std::size_t{PTRDIFF_MAX}) {
      return std::nullopt;
    }
  }
  return empty ? 0 : nonzero;
}

std::size_t element_count(const Shape& shape) {
  const auto count = checked_element_count(shape);
  if (!count) {
    throw ShapeError(fmt::format("shape {} has more elements than memory can address", shape_str(shape)));
  }
  return *count;
}

void check_value_count(std::size_t count, const Shape& shape) {
  if (count != element_count(shape)) {
    throw ShapeError(
        fmt::format("tensor: {} values for shape {}, which holds {}", count, shape_str(shape), element_count(shape)));
  }
}

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  const std::size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    // Walk from the trailing dimension; a missing leading dimension acts as 1.
    const std::size_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    const std::size_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (da != db && da != 1 && db != 1) {
      throw ShapeError(
          fmt::format("{}: shapes {} and {} cannot be broadcast together", op, shape_str(a), shape_str(b)));
    }
    out[rank - 1 - i] = da == 1 ? db : da;
  }
  return out;
}

bool sums_to(const Shape& from, const Shape& to) {
  if (to.size() > from.size()) return false;
  const std::size_t lead = from.size() - to.size();
  for (std::size_t i = 0; i < to.size(); ++i) {
    if (to[i] != 1 && to[i] != from[lead + i]) return false;
  }
  return true;
}

std::size_t normalize_axis(const char* op, long axis, std::size_t ndim) {
  const long n = static_cast<long>(ndim);
  if (axis < -n || axis >= n) {
    throw ShapeError(fmt::format("{}: axis {} is out of range for a tensor of rank {}", op, axis, ndim));
  }
  return static_cast<std::size_t>(axis < 0 ? axis + n : axis);
}

std::vector<std::size_t> normalize_axes(const char* op, const std::vector<long>& axes, std::size_t ndim) {
  std::vector<std::size_t> out;
  if (axes.empty()) {
    for (std::size_t i = 0; i < ndim; ++i) out.push_back(i);
    return out;
  }
  for (long a : axes) out.push_back(normalize_axis(op, a, ndim));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace ag
