// Data: the IDX files of MNIST-like sets (plain or gzip-compressed), minibatches.
//
// A file that is not what it claims to be is a DataError naming the file and what is wrong
// with it (wrong magic number, truncated, longer than its header says, corrupt gzip), never a
// crash or a silently short dataset.
#pragma once

#include "nn/random.hpp"

#include <autograd/tensor.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace ag::nn {

class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An IDX array of unsigned bytes: its dimensions and its data, in row-major order.
struct IdxArray {
  Shape shape;
  std::vector<std::uint8_t> data;
};

// Reads `path`, gzip-compressed or not (zlib tells them apart by their first bytes).
IdxArray read_idx(const std::string& path);
// Writes an IDX file of unsigned bytes, gzip-compressed when `path` ends in ".gz".
void write_idx(const std::string& path, const IdxArray& array);

// Images as rows of pixels scaled to [0, 1], and their labels.
struct LabelledImages {
  Tensor<float> images;  // [N, rows * cols]
  std::vector<std::size_t> labels;
  std::size_t classes = 10;
};

// `{folder}/{split}-images-idx3-ubyte[.gz]` and `{folder}/{split}-labels-idx1-ubyte[.gz]`, split
// being "train" or "t10k": MNIST's and Fashion-MNIST's layout.
LabelledImages load_mnist(const std::string& folder, const std::string& split);

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
