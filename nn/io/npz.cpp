// .npz archives through libzip: arrays in, arrays out (checkpoint.hpp).
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <set>

#include "nn/io/atomic_file.hpp"
#include "nn/io/checkpoint.hpp"
#include "nn/io/npy.hpp"
#include "nn/io/sizes.hpp"

namespace ag::nn {

namespace {

constexpr std::string_view kSuffix = ".npy";
constexpr std::size_t kStep = std::size_t{1} << 16;

struct ZipError {
  zip_error_t error;
  ZipError() { zip_error_init(&error); }
  ~ZipError() { zip_error_fini(&error); }
  ZipError(const ZipError&) = delete;
  ZipError& operator=(const ZipError&) = delete;
  std::string text() { return zip_error_strerror(&error); }
};

struct Discard {
  void operator()(zip_t* archive) const { zip_discard(archive); }
  void operator()(zip_file_t* file) const { zip_fclose(file); }
  void operator()(zip_source_t* source) const { zip_source_free(source); }
};
using Archive = std::unique_ptr<zip_t, Discard>;
using Member = std::unique_ptr<zip_file_t, Discard>;
using Source = std::unique_ptr<zip_source_t, Discard>;

// --- reading ----------------------------------------------------------------------------------

Archive open_archive(std::string_view bytes, int flags, int& code) {
  ZipError error;
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error.error);
  if (!source) throw std::bad_alloc();
  zip_t* archive = zip_open_from_source(source, flags, &error.error);
  if (!archive) {
    zip_source_free(source);  // the archive owns it only once open
    code = zip_error_code_zip(&error.error);
  }
  return Archive(archive);
}

// libzip refuses an archive holding a name twice without saying which: find it, to say so.
std::string repeated_name(std::string_view bytes) {
  int code = 0;
  const Archive archive = open_archive(bytes, ZIP_RDONLY, code);
  std::set<std::string> seen;
  for (zip_int64_t i = 0, n = archive ? zip_get_num_entries(archive.get(), 0) : 0; i < n; ++i) {
    const char* name = zip_get_name(archive.get(), static_cast<zip_uint64_t>(i), 0);
    if (name && !seen.insert(name).second) return name;
  }
  return "a name";
}

class Reader {
 public:
  Reader(std::string_view bytes, const std::string& path) : bytes_(bytes), path_(path) {}

  std::vector<NamedArray> read() {
    int code = 0;
    const Archive archive = open_archive(bytes_, ZIP_RDONLY | ZIP_CHECKCONS, code);
    if (!archive) {
      switch (code) {
        case ZIP_ER_NOZIP:
          throw fail("not an .npz file, or truncated: no zip directory at its end");
        case ZIP_ER_EXISTS:
          throw fail(fmt::format("'{}' is in the archive twice", repeated_name(bytes_)));
        case ZIP_ER_MEMORY:
          throw std::bad_alloc();
        default: {
          zip_error_t error;
          zip_error_init_with_code(&error, code);
          const std::string text = zip_error_strerror(&error);
          zip_error_fini(&error);
          throw fail(fmt::format("corrupt zip archive ({})", text));
        }
      }
    }
    const zip_int64_t count = zip_get_num_entries(archive.get(), 0);
    // Every member's compressed bytes are its own: members that overlap (a zip bomb's trick to
    // reuse one compressed block many times) claim more than the file holds.
    std::uint64_t claimed = 0;
    std::vector<zip_stat_t> members(static_cast<std::size_t>(std::max<zip_int64_t>(count, 0)));
    std::set<std::string> names;
    for (std::size_t i = 0; i < members.size(); ++i) {
      zip_stat_t& st = members[i];
      if (zip_stat_index(archive.get(), i, 0, &st) != 0)
        throw fail(fmt::format("corrupt zip directory ({})", zip_strerror(archive.get())));
      const zip_uint64_t need = ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD;
      if ((st.valid & need) != need) throw fail("corrupt zip directory");
      const std::string name = st.name;
      if (!names.insert(name).second) throw fail(fmt::format("'{}' is in the archive twice", name));
      if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE) {
        throw fail(fmt::format("'{}' is encrypted", name));
      }
      if (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE) {
        throw fail(fmt::format("'{}': unsupported zip compression method {} (numpy writes stored or deflated members)",
                               name, st.comp_method));
      }
      const auto total = detail::checked_add(claimed, st.comp_size);
      if (!total || *total > bytes_.size()) {
        throw fail(
            fmt::format("its zip directory claims more bytes than the file's {} (members overlap or run past its end)",
                        bytes_.size()));
      }
      claimed = *total;
      const std::uint64_t most =
          st.comp_method == ZIP_CM_STORE ? st.comp_size : detail::max_inflated_size(st.comp_size);
      if (st.size > most) {
        throw fail(fmt::format("'{}' declares {} bytes, more than its {} bytes in the file can hold", name, st.size,
                               st.comp_size));
      }
      if (name.size() <= kSuffix.size() || name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
        throw fail(fmt::format("'{}' is not a .npy array", name));
      }
    }
    std::vector<NamedArray> out;
    for (std::size_t i = 0; i < members.size(); ++i) out.push_back(read_member(archive.get(), i, members[i]));
    return out;
  }

 private:
  CheckpointError fail(const std::string& what) const { return CheckpointError(fmt::format("{}: {}", path_, what)); }

  NamedArray read_member(zip_t* archive, std::size_t index, const zip_stat_t& st) {
    std::string name(st.name, std::strlen(st.name) - kSuffix.size());
    const Member member(zip_fopen_index(archive, index, 0));
    if (!member) throw fail(fmt::format("array '{}': cannot open ({})", name, zip_strerror(archive)));
    const auto read = [&](void* into, std::size_t n) {
      std::size_t done = 0;
      while (done < n) {
        const zip_int64_t got = zip_fread(member.get(), static_cast<char*>(into) + done, n - done);
        if (got < 0) {
          const int code = zip_error_code_zip(zip_file_get_error(member.get()));
          throw fail(fmt::format("array '{}': {}", name,
                                 code == ZIP_ER_CRC ? "corrupt data (CRC mismatch)"
                                 : code == ZIP_ER_ZLIB || code == ZIP_ER_COMPRESSED_DATA
                                     ? "corrupt compressed data"
                                     : zip_file_strerror(member.get())));
        }
        if (got == 0) break;
        done += static_cast<std::size_t>(got);
      }
      return done;
    };
    detail::NpyLayout layout;
    try {
      layout = detail::read_npy_header(read, st.size);
    } catch (const detail::NpyError& e) {
      throw fail(fmt::format("array '{}': {}", name, e.what()));
    }
    // The header's element count matches the member's declared size, and that size what its
    // compressed bytes can hold: this allocation is backed by the file.
    Tensor<double> value = uninitialized<double>(layout.shape);
    std::vector<unsigned char> buffer(kStep);
    for (std::size_t done = 0; done < layout.count;) {
      const std::size_t n = std::min<std::size_t>(layout.count - done, kStep / layout.item);
      if (read(buffer.data(), n * layout.item) != n * layout.item) {
        throw fail(fmt::format("array '{}': truncated data", name));
      }
      detail::npy_to_double(layout, buffer.data(), n, value.data() + done);
      done += n;
    }
    // libzip checks the CRC-32 when it reaches the member's end.
    unsigned char extra;
    if (read(&extra, 1) != 0) throw fail(fmt::format("array '{}': longer than its header says", name));
    return {std::move(name), std::move(value)};
  }

  std::string_view bytes_;
  const std::string& path_;
};

constexpr std::size_t kLargestStreamed = std::size_t{1} << 30;

std::string read_file(const std::string& path) {
  const auto fail = [&](const char* what) {
    return CheckpointError(fmt::format("{}: {}: {}", path, what, std::strerror(errno)));
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw fail("cannot open");
  const std::unique_ptr<const int, void (*)(const int*)> closer(&fd, [](const int* f) { ::close(*f); });
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw fail("cannot open");
  if (S_ISDIR(st.st_mode)) {
    errno = EISDIR;
    throw fail("cannot read");
  }
  std::string bytes;
  // A regular file's size is what it holds; other files are read as the data comes, up to a bound:
  // a zip's directory is at its end, so an endless stream (/dev/zero) would be read until memory
  // runs out.
  const bool regular = S_ISREG(st.st_mode);
  if (regular) bytes.reserve(static_cast<std::size_t>(st.st_size));
  char buffer[kStep];
  while (true) {
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw fail("cannot read");
    if (got == 0) break;
    bytes.append(buffer, static_cast<std::size_t>(got));
    if (!regular && bytes.size() > kLargestStreamed) {
      throw CheckpointError(
          fmt::format("{}: more than {} bytes from a pipe or device: read a checkpoint this large "
                      "from a regular file",
                      path, kLargestStreamed));
    }
  }
  return bytes;
}

// --- writing ----------------------------------------------------------------------------------

// What numpy writes for np.savez() with no arrays: only the end of a zip directory. libzip
// writes nothing at all for an empty archive.
constexpr std::string_view kEmptyZip("PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 22);

void write_zip(const std::string& path, const std::vector<std::pair<std::string, std::string>>& files,
               const detail::Sink& sink) {
  if (files.empty()) {
    sink(kEmptyZip.data(), kEmptyZip.size());
    return;
  }
  const auto fail = [&](const std::string& what) { return CheckpointError(fmt::format("{}: {}", path, what)); };
  ZipError error;
  const Source buffer(zip_source_buffer_create(nullptr, 0, 0, &error.error));
  if (!buffer) throw std::bad_alloc();
  zip_source_keep(buffer.get());  // it outlives the archive, which writes into it
  Archive archive(zip_open_from_source(buffer.get(), ZIP_TRUNCATE, &error.error));
  if (!archive) {
    zip_source_free(buffer.get());  // undo the keep
    throw fail(fmt::format("cannot start a zip archive ({})", error.text()));
  }
  for (const auto& [name, data] : files) {
    zip_source_t* member = zip_source_buffer(archive.get(), data.data(), data.size(), 0);
    const zip_int64_t index = member ? zip_file_add(archive.get(), name.c_str(), member, ZIP_FL_ENC_UTF_8) : -1;
    if (index < 0) {
      if (member) zip_source_free(member);
      throw fail(fmt::format("cannot add '{}' to the archive ({})", name, zip_strerror(archive.get())));
    }
    const auto at = static_cast<zip_uint64_t>(index);
    // Stored, as np.savez does; dated 1980-01-01 (DOS time 0, date 0x21) so that a save is
    // the same bytes every time.
    if (zip_set_file_compression(archive.get(), at, ZIP_CM_STORE, 0) != 0 ||
        zip_file_set_dostime(archive.get(), at, 0, 0x21, 0) != 0) {
      throw fail(fmt::format("cannot add '{}' to the archive ({})", name, zip_strerror(archive.get())));
    }
  }
  if (zip_close(archive.get()) != 0)
    throw fail(fmt::format("cannot write the archive ({})", zip_strerror(archive.get())));
  archive.release();  // zip_close freed it
  if (zip_source_open(buffer.get()) != 0) throw fail("cannot read back the archive");
  char chunk[kStep];
  zip_int64_t got;
  while ((got = zip_source_read(buffer.get(), chunk, sizeof chunk)) > 0) sink(chunk, static_cast<std::size_t>(got));
  zip_source_close(buffer.get());
  if (got < 0) throw fail("cannot read back the archive");
}

}  // namespace

template <class T>
void save_arrays(const std::string& path, const std::vector<std::pair<std::string, Tensor<T>>>& arrays) {
  std::vector<std::pair<std::string, std::string>> files;
  std::set<std::string> names;
  for (const auto& [name, t] : arrays) {
    if (name.empty()) throw CheckpointError(fmt::format("{}: an array needs a name", path));
    if (!names.insert(name).second) throw CheckpointError(fmt::format("{}: two arrays are named '{}'", path, name));
    files.emplace_back(name + std::string(kSuffix), detail::npy_bytes(t));
  }
  try {
    detail::write_atomically(path, [&](const detail::Sink& sink) { write_zip(path, files, sink); });
  } catch (const detail::AtomicWriteError& e) {
    throw CheckpointError(e.what());
  }
}

std::vector<NamedArray> parse_arrays(std::string_view bytes, const std::string& name) {
  return Reader(bytes, name).read();
}

std::vector<NamedArray> load_arrays(const std::string& path) {
  const std::string bytes = read_file(path);
  return parse_arrays(bytes, path);
}

template void save_arrays(const std::string&, const std::vector<std::pair<std::string, Tensor<float>>>&);
template void save_arrays(const std::string&, const std::vector<std::pair<std::string, Tensor<double>>>&);

}  // namespace ag::nn
