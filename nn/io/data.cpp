#include "nn/io/data.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace ag::nn {

template <class T>
Tensor<T> select_rows(const Tensor<T>& table, const std::vector<std::size_t>& rows) {
  Shape shape = to_shape(table.shape());
  if (shape.empty()) throw ShapeError("select_rows: a 0-d tensor has no rows");
  const std::size_t count = shape[0], width = count == 0 ? 0 : table.size() / count;
  shape[0] = rows.size();
  Tensor<T> out = uninitialized<T>(shape);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] >= count) {
      throw std::out_of_range("select_rows: row " + std::to_string(rows[i]) + " of a table of " +
                              std::to_string(count));
    }
    std::copy_n(table.data() + rows[i] * width, width, out.data() + i * width);
  }
  return out;
}

std::vector<std::size_t> select(const std::vector<std::size_t>& values, const std::vector<std::size_t>& at) {
  std::vector<std::size_t> out;
  out.reserve(at.size());
  for (std::size_t i : at) out.push_back(values.at(i));
  return out;
}

Batches::Batches(std::size_t count, std::size_t batch_size, bool shuffle, Generator& generator)
    : batch_size_(batch_size) {
  if (batch_size == 0) throw std::invalid_argument("Batches: the batch size must be positive");
  if (shuffle) {
    order_ = generator.permutation(count);
  } else {
    order_.resize(count);
    std::iota(order_.begin(), order_.end(), 0);
  }
}

std::vector<std::size_t> Batches::operator[](std::size_t batch) const {
  if (batch >= size()) {
    throw std::out_of_range("Batches: batch " + std::to_string(batch) + " of " + std::to_string(size()));
  }
  const std::size_t begin = batch * batch_size_, end = std::min(begin + batch_size_, order_.size());
  return std::vector<std::size_t>(order_.begin() + static_cast<long>(begin), order_.begin() + static_cast<long>(end));
}

template Tensor<float> select_rows(const Tensor<float>&, const std::vector<std::size_t>&);
template Tensor<double> select_rows(const Tensor<double>&, const std::vector<std::size_t>&);

}  // namespace ag::nn
