// PNG pictures of 8-bit images: filters, reconstructions, anything `tile_images` (nn/visualize.hpp)
// lays out.
//
// An image is a Tensor<std::uint8_t> in row-major order: [H, W] is gray, [H, W, 3] is RGB, the
// first row at the top. The PNG is encoded in memory (by stb_image_write, compiled into this
// library: nothing more to link), then written atomically, as checkpoints are (atomic_file.hpp): a
// failed write leaves the previous file at `path`, if any, as it was.
#pragma once

#include <autograd/tensor.hpp>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace ag::nn {

// An image that cannot be encoded (empty, of another shape, too large) or a file that cannot be
// written. The message names the file (or the image, for encode_png) and what is wrong.
class ImageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Writes `image`, [H, W] gray or [H, W, 3] RGB, as an 8-bit PNG file at `path`, replacing it.
// At least one pixel; at most 2^24 bytes per row and 2^28 bytes in all (stb's int arithmetic).
void write_png(const std::string& path, const Tensor<std::uint8_t>& image);

// The bytes of that PNG file; `name` stands for the image in error messages.
std::vector<std::uint8_t> encode_png(const Tensor<std::uint8_t>& image, const std::string& name = "image");

}  // namespace ag::nn
