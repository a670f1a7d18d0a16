#include "nn/io/idx.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>

#include "nn/io/atomic_file.hpp"
#include "nn/io/byte_reader.hpp"
#include "nn/io/sizes.hpp"

namespace ag::nn {

namespace {

// Data whose size is only bounded, not known (gzip), is taken in steps that grow with what has
// actually arrived: a header's promise alone never allocates more than this.
constexpr std::size_t kFirstStep = std::size_t{1} << 24;

IdxArray decode(detail::ByteReader& in) {
  const std::string& path = in.name();
  const auto fail = [&](const std::string& what) { return DataError(fmt::format("{}: {}", path, what)); };
  unsigned char magic[4];
  if (in.read(magic, 4) != 4) throw fail("too short for an IDX header");
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] == 0 || magic[3] > 4) {
    throw fail(fmt::format(
        "wrong magic number 0x{:02x}{:02x}{:02x}{:02x}: not an IDX file of unsigned bytes (0x0000080N, N = 1..4)",
        magic[0], magic[1], magic[2], magic[3]));
  }
  IdxArray array;
  for (int d = 0; d < magic[3]; ++d) {
    unsigned char b[4];
    if (in.read(b, 4) != 4) throw fail("truncated in its header");
    array.shape.push_back((std::size_t{b[0]} << 24) | (std::size_t{b[1]} << 16) | (std::size_t{b[2]} << 8) | b[3]);
  }
  const auto declared = checked_element_count(array.shape);
  if (!declared) {
    throw fail(fmt::format("its header {} declares more elements than memory can address", shape_str(array.shape)));
  }
  const std::size_t size = static_cast<std::size_t>(*declared);
  const std::uint64_t most = in.max_remaining();
  if (size > most) {
    if (in.remaining_is_exact()) {
      throw fail(fmt::format("truncated: its header {} promises {} bytes of data, the file holds {}",
                             shape_str(array.shape), size, most));
    }
    throw fail(
        fmt::format("its header {} promises {} bytes of data, more than its compressed data can hold ({} at most)",
                    shape_str(array.shape), size, most));
  }
  // Plain data of a known size was just checked: allocate it once. Otherwise grow as it comes.
  std::size_t got = 0;
  array.data.resize(in.remaining_is_exact() ? size : std::min(size, kFirstStep));
  while (true) {
    got += in.read(array.data.data() + got, array.data.size() - got);
    if (got < array.data.size() || got == size) break;
    array.data.resize(std::min(size, 2 * array.data.size()));
  }
  if (got != size) {
    throw fail(fmt::format("truncated: its header {} promises {} bytes of data, the {} holds {}",
                           shape_str(array.shape), size, in.gzip() ? "decompressed data" : "file", got));
  }
  // Reading past the end also checks the gzip trailer (CRC-32 and length) and what follows it.
  unsigned char extra;
  if (in.read(&extra, 1) != 0) {
    throw fail(fmt::format("longer than its header {} says ({} bytes of data)", shape_str(array.shape), size));
  }
  return array;
}

// RFC 1952 gzip, as gzip(1) writes it, for `.gz` paths.
std::string gzip_bytes(const std::string& path, const std::string& plain) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw DataError(fmt::format("{}: zlib failed to start", path));
  }
  std::string out;
  std::size_t fed = 0;
  int status = Z_OK;
  char buffer[1 << 16];
  while (status == Z_OK) {
    // zlib counts in 32 bits: feed at most 1 GiB at a time.
    if (z.avail_in == 0 && fed < plain.size()) {
      const std::size_t step = std::min<std::size_t>(plain.size() - fed, std::size_t{1} << 30);
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data() + fed));
      z.avail_in = static_cast<uInt>(step);
      fed += step;
    }
    z.next_out = reinterpret_cast<Bytef*>(buffer);
    z.avail_out = sizeof buffer;
    status = deflate(&z, fed == plain.size() ? Z_FINISH : Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - z.avail_out);
  }
  deflateEnd(&z);
  if (status != Z_STREAM_END) throw DataError(fmt::format("{}: compression failed", path));
  return out;
}

std::string with_gz_if_present(const std::string& stem) {
  if (std::filesystem::exists(stem + ".gz")) return stem + ".gz";
  return stem;
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  detail::ByteReader in = detail::ByteReader::open_file(path);
  return decode(in);
}

IdxArray parse_idx(std::string_view bytes, const std::string& name) {
  detail::ByteReader in = detail::ByteReader::from_memory(bytes, name);
  return decode(in);
}

void write_idx(const std::string& path, const IdxArray& array) {
  if (array.shape.empty() || array.shape.size() > 4) {
    throw DataError(fmt::format("{}: an IDX file has 1 to 4 dimensions, not {}", path, array.shape.size()));
  }
  const auto count = checked_element_count(array.shape);
  if (!count || *count != array.data.size()) {
    throw DataError(fmt::format("{}: shape {} does not match the {} bytes of data", path, shape_str(array.shape),
                                array.data.size()));
  }
  std::string bytes{'\0', '\0', '\x08', static_cast<char>(array.shape.size())};
  for (std::size_t d : array.shape) {
    if (d > 0xffffffffu) throw DataError(fmt::format("{}: dimension {} does not fit IDX's 32 bits", path, d));
    for (int shift = 24; shift >= 0; shift -= 8) bytes += static_cast<char>((d >> shift) & 0xff);
  }
  bytes.append(array.data.begin(), array.data.end());
  const bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  if (gz) bytes = gzip_bytes(path, bytes);
  try {
    detail::write_atomically(path, [&](const detail::Sink& sink) { sink(bytes.data(), bytes.size()); });
  } catch (const detail::AtomicWriteError& e) {
    throw DataError(e.what());
  }
}

LabelledImages load_mnist(const std::string& folder, const std::string& split) {
  const std::string images_path = with_gz_if_present(folder + "/" + split + "-images-idx3-ubyte");
  const std::string labels_path = with_gz_if_present(folder + "/" + split + "-labels-idx1-ubyte");
  const IdxArray images = read_idx(images_path);
  if (images.shape.size() != 3) {
    throw DataError(
        fmt::format("{}: expected [count, rows, cols] images, got {}", images_path, shape_str(images.shape)));
  }
  const std::size_t n = images.shape[0];
  // An empty set or empty images are mistakes that would only show later, as a division by zero.
  const auto pixels_or_overflow = detail::checked_mul(images.shape[1], images.shape[2]);
  if (!pixels_or_overflow) {
    throw DataError(
        fmt::format("{}: images of {} x {} pixels are too large", images_path, images.shape[1], images.shape[2]));
  }
  const std::size_t pixels = static_cast<std::size_t>(*pixels_or_overflow);
  if (n == 0 || pixels == 0) {
    throw DataError(
        fmt::format("{}: holds no {} ({})", images_path, n == 0 ? "images" : "pixels", shape_str(images.shape)));
  }
  const IdxArray labels = read_idx(labels_path);
  if (labels.shape.size() != 1 || labels.shape[0] != n) {
    throw DataError(fmt::format("{} holds {} images but {} holds labels of shape {}", images_path, n, labels_path,
                                shape_str(labels.shape)));
  }
  LabelledImages out;
  for (std::size_t i = 0; i < n; ++i) {
    if (labels.data[i] >= out.classes) {
      throw DataError(fmt::format("{}: label {} of example {} is not a class 0..9", labels_path, labels.data[i], i));
    }
  }
  out.images = uninitialized<float>({n, pixels});
  std::transform(images.data.begin(), images.data.end(), out.images.begin(),
                 [](std::uint8_t p) { return static_cast<float>(p) / 255.0f; });
  out.labels.assign(labels.data.begin(), labels.data.end());
  return out;
}

}  // namespace ag::nn
