#include "nn/io/png.hpp"

#include <fmt/format.h>

#include <cstddef>
#include <exception>
#include <new>
#include <utility>

#include "nn/io/atomic_file.hpp"

// stb_image_write's implementation lives here, its functions static to this file: the installed
// library asks nothing more of its consumers, and a program with its own copy of stb does not
// clash with it. Only the in-memory writers: files go through write_atomically. The header comes
// from an -isystem folder (nn/CMakeLists.txt), so that its warnings are not counted as ours.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#define STBI_WRITE_NO_STDIO
#include <stb_image_write.h>

namespace ag::nn {

namespace {

// stb computes the sizes of its buffers in int: (W C + 1) H for the filtered rows, and a line's
// filter estimate sums up to 128 per byte. These bounds keep every such sum far from INT_MAX.
constexpr std::size_t max_row_bytes = std::size_t{1} << 24;
constexpr std::size_t max_image_bytes = std::size_t{1} << 28;

// Where stb hands over the encoded file: copied out, since stb frees its buffer on return. An
// exception must not cross stb's C code, so it waits here until stb has returned.
struct Output {
  std::vector<std::uint8_t> bytes;
  std::exception_ptr error;
};

void receive(void* context, void* data, int size) {
  auto& out = *static_cast<Output*>(context);
  try {
    const auto* begin = static_cast<const std::uint8_t*>(data);
    out.bytes.assign(begin, begin + size);
  } catch (...) {
    out.error = std::current_exception();
  }
}

}  // namespace

std::vector<std::uint8_t> encode_png(const Tensor<std::uint8_t>& image, const std::string& name) {
  const Shape shape = to_shape(image.shape());
  const bool gray = shape.size() == 2, rgb = shape.size() == 3 && shape[2] == 3;
  if (!gray && !rgb) {
    throw ImageError(
        fmt::format("{}: an image to write as PNG is [height, width] (gray) or [height, width, 3] (RGB), "
                    "not {}",
                    name, shape_str(shape)));
  }
  const std::size_t height = shape[0], width = shape[1], channels = gray ? 1 : 3;
  if (height == 0 || width == 0) {
    throw ImageError(fmt::format("{}: the image {} is empty: a PNG has at least one pixel", name, shape_str(shape)));
  }
  // A Tensor's element count fits in PTRDIFF_MAX, so these products cannot wrap.
  const std::size_t row_bytes = width * channels;
  if (row_bytes > max_row_bytes || (row_bytes + 1) * height > max_image_bytes) {
    throw ImageError(fmt::format("{}: the image {} is too large to encode (at most {} bytes per row and {} in all)",
                                 name, shape_str(shape), max_row_bytes, max_image_bytes));
  }
  Output out;
  const int ok = stbi_write_png_to_func(receive, &out, static_cast<int>(width), static_cast<int>(height),
                                        static_cast<int>(channels), image.data(), static_cast<int>(row_bytes));
  if (out.error) std::rethrow_exception(out.error);
  // stb fails only when its malloc does.
  if (!ok) throw std::bad_alloc();
  return std::move(out.bytes);
}

void write_png(const std::string& path, const Tensor<std::uint8_t>& image) {
  const std::vector<std::uint8_t> bytes = encode_png(image, path);
  try {
    detail::write_atomically(path, [&](const detail::Sink& sink) { sink(bytes.data(), bytes.size()); });
  } catch (const detail::AtomicWriteError& e) {
    throw ImageError(e.what());
  }
}

}  // namespace ag::nn
