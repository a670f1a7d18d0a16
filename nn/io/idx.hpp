// IDX files of unsigned bytes (MNIST's format), plain or gzip-compressed, and MNIST's layout.
//
// A file that is not what it claims to be is a DataError naming the file and what is wrong with
// it, never a crash, a silently short dataset or a huge allocation:
//  - the dimensions' product is computed with overflow checks, and compared with what the file
//    can hold before anything is allocated (its size when plain; when gzip, what its compressed
//    bytes could inflate to, and the data is then taken as it actually arrives);
//  - gzip data is checked to its end: each member's CRC-32 and length, no bytes after the last
//    member, no stream cut short. Concatenated gzip members are read as one stream, like zcat.
#pragma once

#include <autograd/tensor.hpp>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
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

// Reads `path`, gzip-compressed or not (told apart by gzip's magic number).
IdxArray read_idx(const std::string& path);
// The same from bytes in memory; `name` stands for the file in error messages.
IdxArray parse_idx(std::string_view bytes, const std::string& name);
// Writes an IDX file of unsigned bytes, gzip-compressed when `path` ends in ".gz"; atomically,
// as checkpoints are (checkpoint.hpp).
void write_idx(const std::string& path, const IdxArray& array);

// Images as rows of pixels scaled to [0, 1], and their labels.
struct LabelledImages {
  Tensor<float> images;  // [N, rows * cols]
  std::vector<std::size_t> labels;
  std::size_t classes = 10;
};

// `{folder}/{split}-images-idx3-ubyte[.gz]` and `{folder}/{split}-labels-idx1-ubyte[.gz]`, split
// being "train" or "t10k": MNIST's and Fashion-MNIST's layout. At least one image, of at least
// one pixel, with a label 0..9 for each.
LabelledImages load_mnist(const std::string& folder, const std::string& split);

}  // namespace ag::nn
