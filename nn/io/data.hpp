// Data: the IDX files of MNIST-like sets (idx.hpp), minibatches.
#pragma once

#include <autograd/tensor.hpp>
#include <string>
#include <vector>

#include "nn/io/idx.hpp"
#include "nn/random.hpp"

namespace ag::nn {

// The rows of `table` at `rows`, in that order: a minibatch.
template <class T>
Tensor<T> select_rows(const Tensor<T>& table, const std::vector<std::size_t>& rows);
std::vector<std::size_t> select(const std::vector<std::size_t>& values, const std::vector<std::size_t>& at);

// The minibatches of one epoch over `count` examples: shuffled (from `generator`) or in order;
// the last batch holds the remainder.
class Batches {
 public:
  Batches(std::size_t count, std::size_t batch_size, bool shuffle, Generator& generator = default_generator());
  std::size_t size() const { return (order_.size() + batch_size_ - 1) / batch_size_; }
  std::vector<std::size_t> operator[](std::size_t batch) const;

 private:
  std::vector<std::size_t> order_;
  std::size_t batch_size_;
};

}  // namespace ag::nn
