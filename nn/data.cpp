#include "nn/data.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <numeric>

namespace ag::nn {

namespace {

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<std::remove_pointer_t<gzFile>, GzCloser>;

// Reads up to `n` bytes; returns how many came. Corrupt compressed data is an error.
std::size_t read_some(gzFile f, const std::string& path, void* into, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n - done, 1u << 30));
    const int got = gzread(f, static_cast<char*>(into) + done, chunk);
    if (got < 0) {
      int code = 0;
      const char* message = gzerror(f, &code);
      throw DataError(fmt::format("{}: corrupt gzip data ({})", path, code == Z_ERRNO ? std::strerror(errno) : message));
    }
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  return done;
}

std::string with_gz_if_present(const std::string& stem) {
  if (std::filesystem::exists(stem + ".gz")) return stem + ".gz";
  return stem;
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  GzFile f(gzopen(path.c_str(), "rb"));
  if (!f) throw DataError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  unsigned char magic[4];
  if (read_some(f.get(), path, magic, 4) != 4) throw DataError(fmt::format("{}: too short for an IDX header", path));
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] == 0 || magic[3] > 4) {
    throw DataError(fmt::format(
        "{}: wrong magic number 0x{:02x}{:02x}{:02x}{:02x}: not an IDX file of unsigned bytes (0x0000080N, N = 1..4)",
        path, magic[0], magic[1], magic[2], magic[3]));
  }
  IdxArray array;
  std::size_t size = 1;
  for (int d = 0; d < magic[3]; ++d) {
    unsigned char b[4];
    if (read_some(f.get(), path, b, 4) != 4) throw DataError(fmt::format("{}: truncated in its header", path));
    const std::size_t dim = (std::size_t{b[0]} << 24) | (std::size_t{b[1]} << 16) | (std::size_t{b[2]} << 8) | b[3];
    array.shape.push_back(dim);
    size *= dim;
  }
  array.data.resize(size);
  const std::size_t got = read_some(f.get(), path, array.data.data(), size);
  if (got != size) {
    throw DataError(fmt::format("{}: truncated: its header {} promises {} bytes of data, the file holds {}", path,
                                shape_str(array.shape), size, got));
  }
  unsigned char extra;
  if (read_some(f.get(), path, &extra, 1) != 0) {
    throw DataError(fmt::format("{}: longer than its header {} says ({} bytes of data)", path, shape_str(array.shape), size));
  }
  return array;
}

void write_idx(const std::string& path, const IdxArray& array) {
  const bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  GzFile f(gzopen(path.c_str(), gz ? "wb" : "wbT"));  // T: plain, no compression
  if (!f) throw DataError(fmt::format("{}: cannot create: {}", path, std::strerror(errno)));
  std::vector<unsigned char> header{0, 0, 0x08, static_cast<unsigned char>(array.shape.size())};
  for (std::size_t d : array.shape) {
    for (int shift = 24; shift >= 0; shift -= 8) header.push_back(static_cast<unsigned char>(d >> shift));
  }
  const auto write = [&](const void* data, std::size_t n) {
    if (n > 0 && gzwrite(f.get(), data, static_cast<unsigned>(n)) != static_cast<int>(n)) {
      throw DataError(fmt::format("{}: write failed", path));
    }
  };
  write(header.data(), header.size());
  write(array.data.data(), array.data.size());
  if (gzclose(f.release()) != Z_OK) throw DataError(fmt::format("{}: write failed", path));
}

LabelledImages load_mnist(const std::string& folder, const std::string& split) {
  const std::string images_path = with_gz_if_present(folder + "/" + split + "-images-idx3-ubyte");
  const std::string labels_path = with_gz_if_present(folder + "/" + split + "-labels-idx1-ubyte");
  const IdxArray images = read_idx(images_path);
  const IdxArray labels = read_idx(labels_path);
  if (images.shape.size() != 3) {
    throw DataError(fmt::format("{}: expected [count, rows, cols] images, got {}", images_path, shape_str(images.shape)));
  }
  if (labels.shape.size() != 1 || labels.shape[0] != images.shape[0]) {
    throw DataError(fmt::format("{} holds {} images but {} holds labels of shape {}", images_path, images.shape[0],
                                labels_path, shape_str(labels.shape)));
  }
  LabelledImages out;
  const std::size_t n = images.shape[0], pixels = images.shape[1] * images.shape[2];
  out.images = Tensor<float>::from_shape({n, pixels});
  std::transform(images.data.begin(), images.data.end(), out.images.begin(),
                 [](std::uint8_t p) { return static_cast<float>(p) / 255.0f; });
  out.labels.assign(labels.data.begin(), labels.data.end());
  for (std::size_t i = 0; i < n; ++i) {
    if (out.labels[i] >= out.classes) {
      throw DataError(fmt::format("{}: label {} of example {} is not a class 0..9", labels_path, out.labels[i], i));
    }
  }
  return out;
}

template <class T>
Tensor<T> select_rows(const Tensor<T>& table, const std::vector<std::size_t>& rows) {
  Shape shape = to_shape(table.shape());
  const std::size_t width = table.size() / shape[0];
  shape[0] = rows.size();
  Tensor<T> out = Tensor<T>::from_shape(shape);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::copy_n(table.data() + rows[i] * width, width, out.data() + i * width);
  }
  return out;
}

std::vector<std::size_t> select(const std::vector<std::size_t>& values, const std::vector<std::size_t>& at) {
  std::vector<std::size_t> out;
  out.reserve(at.size());
  for (std::size_t i : at) out.push_back(values[i]);
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
  const std::size_t begin = batch * batch_size_, end = std::min(begin + batch_size_, order_.size());
  return std::vector<std::size_t>(order_.begin() + static_cast<long>(begin), order_.begin() + static_cast<long>(end));
}

template Tensor<float> select_rows(const Tensor<float>&, const std::vector<std::size_t>&);
template Tensor<double> select_rows(const Tensor<double>&, const std::vector<std::size_t>&);

}  // namespace ag::nn
