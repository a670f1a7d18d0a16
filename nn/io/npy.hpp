// numpy's .npy format: a header that is a Python dict literal, then the raw array (internal to
// the checkpoint reader and writer).
#pragma once

#include <autograd/tensor.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

namespace ag::nn::detail {

// What is wrong with an array, without the file's name: the caller adds it.
class NpyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Version 1.0 (2.0 if the header needs it), little-endian, C order, as numpy writes them:
// float32 for float tensors, float64 for double ones.
template <class T>
std::string npy_bytes(const Tensor<T>& t);

// Where an array's data is, and how to read it.
struct NpyLayout {
  Shape shape;
  std::size_t item = 0;  // 4 (float32) or 8 (float64)
  bool big_endian = false;
  std::uint64_t count = 0;        // elements
  std::uint64_t data_offset = 0;  // where the data starts: after the header
};

// Reads and checks a header through `read` (which fills up to n bytes, fewer only at the end),
// for an array stored in `size` bytes. The shape, its element count and the data's size are
// checked against `size` with overflow checks before anything the size of the data exists.
// Refused: other dtypes than float32 and float64, Fortran order, negative, fractional or
// absurdly large dimensions, and any header that is not the exact dict numpy writes.
NpyLayout read_npy_header(const std::function<std::size_t(void*, std::size_t)>& read, std::uint64_t size);

// Converts `layout.count` stored elements at `in` to doubles at `out`.
void npy_to_double(const NpyLayout& layout, const unsigned char* in, std::size_t count, double* out);

}  // namespace ag::nn::detail
