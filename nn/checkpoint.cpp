#include "nn/checkpoint.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <zlib.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <regex>

namespace ag::nn {

namespace {

// --- .npy: a header that is a Python dict literal, then the raw little-endian data ---------------

template <class T>
constexpr const char* npy_descr() {
  return sizeof(T) == 4 ? "<f4" : "<f8";
}

template <class T>
std::string npy_file(const Tensor<T>& t) {
  std::string shape;
  for (std::size_t d : t.shape()) shape += fmt::format("{}, ", d);
  if (!shape.empty()) shape.resize(shape.size() - (t.dimension() == 1 ? 1 : 2));  // (3,) and (3, 4), as Python writes them
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", npy_descr<T>(), shape);
  // Magic (6) + version (2) + length (2) + header + '\n', padded to a multiple of 64 as numpy does.
  header.append(63 - (10 + header.size()) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out.append(reinterpret_cast<const char*>(t.data()), t.size() * sizeof(T));
  return out;
}

Tensor<double> parse_npy(const std::string& file, const std::string& name, const std::string& bytes) {
  const auto fail = [&](const std::string& what) {
    return CheckpointError(fmt::format("{}: array '{}': {}", file, name, what));
  };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) throw fail("not a .npy array (bad magic)");
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len, offset;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (std::size_t{static_cast<unsigned char>(bytes[9])} << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw fail("truncated header");
    header_len = 0;
    for (int i = 3; i >= 0; --i) header_len = (header_len << 8) | static_cast<unsigned char>(bytes[8 + static_cast<std::size_t>(i)]);
    offset = 12;
  } else {
    throw fail(fmt::format("unsupported .npy version {}", major));
  }
  if (bytes.size() < offset + header_len) throw fail("truncated header");
  const std::string header = bytes.substr(offset, header_len);
  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr':\\s*'([^']*)'"))) throw fail("header has no 'descr'");
  const std::string descr = m[1];
  if (descr != "<f4" && descr != "<f8") throw fail(fmt::format("stored as '{}'; only float32 and float64 load", descr));
  if (std::regex_search(header, m, std::regex("'fortran_order':\\s*True"))) throw fail("Fortran order is not supported");
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)"))) throw fail("header has no 'shape'");
  Shape shape;
  const std::string dims = m[1];
  const std::regex number("\\d+");
  for (std::sregex_iterator it(dims.begin(), dims.end(), number), end; it != end; ++it) {
    shape.push_back(std::stoull(it->str()));
  }
  const std::size_t item = descr == "<f4" ? 4 : 8, count = element_count(shape);
  const std::size_t data = offset + header_len;
  if (bytes.size() - data != count * item) {
    throw fail(fmt::format("shape {} needs {} bytes of data, found {}", shape_str(shape), count * item, bytes.size() - data));
  }
  Tensor<double> out = Tensor<double>::from_shape(shape);
  for (std::size_t i = 0; i < count; ++i) {
    if (item == 4) {
      float v;
      std::memcpy(&v, bytes.data() + data + i * 4, 4);
      out.data()[i] = v;
    } else {
      std::memcpy(out.data() + i, bytes.data() + data + i * 8, 8);
    }
  }
  return out;
}

// --- .zip: stored entries, with the central directory numpy's zipfile reads -----------------------

void put16(std::string& out, std::size_t v) {
  out += static_cast<char>(v & 0xff);
  out += static_cast<char>((v >> 8) & 0xff);
}
void put32(std::string& out, std::size_t v) {
  put16(out, v & 0xffff);
  put16(out, (v >> 16) & 0xffff);
}
std::size_t get16(const std::string& s, std::size_t at) {
  return static_cast<unsigned char>(s[at]) | (std::size_t{static_cast<unsigned char>(s[at + 1])} << 8);
}
std::size_t get32(const std::string& s, std::size_t at) { return get16(s, at) | (get16(s, at + 2) << 16); }

std::string zip(const std::string& path, const std::vector<std::pair<std::string, std::string>>& files) {
  std::string out, directory;
  for (const auto& [name, data] : files) {
    if (data.size() > 0xffffffffu || out.size() > 0xffffffffu) {
      throw CheckpointError(fmt::format("{}: '{}' is over 4 GiB, beyond a zip without zip64", path, name));
    }
    const std::size_t crc = crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size()));
    const std::size_t offset = out.size();
    for (std::string* record : {&out, &directory}) {
      const bool central = record == &directory;
      put32(*record, central ? 0x02014b50 : 0x04034b50);
      if (central) put16(*record, 20);  // made by
      put16(*record, 20);               // needed to extract
      put16(*record, 0);                // flags
      put16(*record, 0);                // stored, no compression
      put16(*record, 0);                // time
      put16(*record, 0x21);             // date: 1980-01-01
      put32(*record, crc);
      put32(*record, data.size());
      put32(*record, data.size());
      put16(*record, name.size());
      put16(*record, 0);  // extra field
      if (central) {
        put16(*record, 0);  // comment
        put16(*record, 0);  // disk
        put16(*record, 0);  // internal attributes
        put32(*record, 0);  // external attributes
        put32(*record, offset);
      }
      *record += name;
    }
    out += data;
  }
  const std::size_t directory_offset = out.size();
  out += directory;
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, files.size());
  put16(out, files.size());
  put32(out, directory.size());
  put32(out, directory_offset);
  put16(out, 0);
  return out;
}

std::string inflate_raw(const std::string& path, const std::string& name, const std::string& compressed,
                        std::size_t size) {
  std::string out(size, '\0');
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) throw CheckpointError(fmt::format("{}: zlib failed to start", path));
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  z.avail_in = static_cast<uInt>(compressed.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(size);
  const int status = inflate(&z, Z_FINISH);
  inflateEnd(&z);
  if (status != Z_STREAM_END || z.total_out != size) {
    throw CheckpointError(fmt::format("{}: '{}': corrupt compressed data", path, name));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> unzip(const std::string& path, const std::string& bytes) {
  const auto fail = [&](const std::string& what) { return CheckpointError(fmt::format("{}: {}", path, what)); };
  if (bytes.size() < 22) throw fail(fmt::format("truncated: {} bytes is too short for an .npz file", bytes.size()));
  std::size_t end = std::string::npos;
  for (std::size_t at = bytes.size() - 22 + 1; at-- > 0 && bytes.size() - at <= 22 + 0xffff;) {
    if (get32(bytes, at) == 0x06054b50) {
      end = at;
      break;
    }
  }
  if (end == std::string::npos) throw fail("not an .npz file, or truncated: no zip directory at its end");
  const std::size_t entries = get16(bytes, end + 10), directory = get32(bytes, end + 16);
  std::vector<std::pair<std::string, std::string>> files;
  std::size_t at = directory;
  for (std::size_t e = 0; e < entries; ++e) {
    if (at + 46 > bytes.size() || get32(bytes, at) != 0x02014b50) throw fail("corrupt zip directory");
    const std::size_t method = get16(bytes, at + 10), crc = get32(bytes, at + 16);
    const std::size_t compressed = get32(bytes, at + 20), size = get32(bytes, at + 24);
    const std::size_t name_len = get16(bytes, at + 28), extra = get16(bytes, at + 30), comment = get16(bytes, at + 32);
    const std::size_t local = get32(bytes, at + 42);
    if (at + 46 + name_len > bytes.size()) throw fail("corrupt zip directory");
    std::string name = bytes.substr(at + 46, name_len);
    at += 46 + name_len + extra + comment;
    if (local + 30 > bytes.size() || get32(bytes, local) != 0x04034b50) throw fail(fmt::format("'{}': corrupt zip entry", name));
    const std::size_t data = local + 30 + get16(bytes, local + 26) + get16(bytes, local + 28);
    if (data + compressed > bytes.size()) throw fail(fmt::format("truncated: '{}' runs past the end of the file", name));
    std::string content = bytes.substr(data, compressed);
    if (method == 8) {
      content = inflate_raw(path, name, content, size);
    } else if (method != 0) {
      throw fail(fmt::format("'{}': unsupported zip compression method {}", name, method));
    }
    if (crc32(0, reinterpret_cast<const Bytef*>(content.data()), static_cast<uInt>(content.size())) != crc) {
      throw fail(fmt::format("'{}': corrupt data (CRC mismatch)", name));
    }
    files.emplace_back(std::move(name), std::move(content));
  }
  return files;
}

// --- writing atomically -----------------------------------------------------------------------

void write_atomically(const std::string& path, const std::string& bytes) {
  const std::string partial = path + ".partial";
  const auto fail = [&](const std::string& what) {
    const std::string reason = std::strerror(errno);
    ::unlink(partial.c_str());
    return CheckpointError(fmt::format("{}: {}: {} (the previous checkpoint, if any, is unchanged)", path, what, reason));
  };
  const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw fail("cannot create " + partial);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      throw fail("write failed");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    throw fail("fsync failed");
  }
  if (::close(fd) != 0) throw fail("close failed");
  if (::rename(partial.c_str(), path.c_str()) != 0) throw fail("cannot rename " + partial + " over it");
  // Make the rename itself durable.
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CheckpointError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

constexpr const char* kSuffix = ".npy";

}  // namespace

template <class T>
void save_arrays(const std::string& path, const std::vector<std::pair<std::string, Tensor<T>>>& arrays) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& [name, t] : arrays) files.emplace_back(name + kSuffix, npy_file(t));
  write_atomically(path, zip(path, files));
}

std::vector<NamedArray> load_arrays(const std::string& path) {
  std::vector<NamedArray> out;
  for (auto& [file, bytes] : unzip(path, read_file(path))) {
    if (file.size() <= 4 || file.compare(file.size() - 4, 4, kSuffix) != 0) {
      throw CheckpointError(fmt::format("{}: '{}' is not a .npy array", path, file));
    }
    std::string name = file.substr(0, file.size() - 4);
    Tensor<double> value = parse_npy(path, name, bytes);
    out.push_back({std::move(name), std::move(value)});
  }
  return out;
}

template <class T>
void save(const Module<T>& module, const std::string& path) {
  std::vector<std::pair<std::string, Tensor<T>>> arrays;
  for (const auto& [name, p] : module.named_parameters()) arrays.emplace_back(name, p.value());
  save_arrays(path, arrays);
}

template <class T>
void load(Module<T>& module, const std::string& path) {
  std::map<std::string, Tensor<double>> stored;
  for (NamedArray& a : load_arrays(path)) stored.emplace(a.name, std::move(a.value));
  auto params = module.named_parameters();
  std::vector<std::string> missing, mismatched;
  for (const auto& [name, p] : params) {
    const auto it = stored.find(name);
    if (it == stored.end()) {
      missing.push_back(name);
    } else if (to_shape(it->second.shape()) != p.shape()) {
      mismatched.push_back(fmt::format("'{}' is {} in the file but {} in the model", name,
                                       shape_str(to_shape(it->second.shape())), shape_str(p.shape())));
    }
  }
  std::vector<std::string> unexpected;
  for (const auto& [name, _] : stored) {
    if (std::none_of(params.begin(), params.end(), [&](const auto& np) { return np.first == name; })) {
      unexpected.push_back(name);
    }
  }
  if (!missing.empty() || !mismatched.empty() || !unexpected.empty()) {
    std::string what;
    if (!missing.empty()) what += fmt::format("; missing from the file: {}", fmt::join(missing, ", "));
    if (!unexpected.empty()) what += fmt::format("; in the file but not in the model: {}", fmt::join(unexpected, ", "));
    if (!mismatched.empty()) what += fmt::format("; {}", fmt::join(mismatched, "; "));
    throw CheckpointError(fmt::format("{} does not match the model{} (nothing was loaded)", path, what));
  }
  NoGrad no_grad;
  for (auto& [name, p] : params) p.value() = xt::cast<T>(stored.at(name));
}

template void save_arrays(const std::string&, const std::vector<std::pair<std::string, Tensor<float>>>&);
template void save_arrays(const std::string&, const std::vector<std::pair<std::string, Tensor<double>>>&);
template void save(const Module<float>&, const std::string&);
template void save(const Module<double>&, const std::string&);
template void load(Module<float>&, const std::string&);
template void load(Module<double>&, const std::string&);

}  // namespace ag::nn
