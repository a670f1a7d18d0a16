#include "nn/io/byte_reader.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "nn/io/idx.hpp"
#include "nn/io/sizes.hpp"

namespace ag::nn::detail {

namespace {

// zlib counts in 32-bit `uInt`s: hand it at most this much at a time.
constexpr std::size_t kMaxStep = std::size_t{1} << 30;
constexpr std::size_t kFileBuffer = std::size_t{1} << 16;

}  // namespace

struct ByteReader::State {
  std::string name;

  // The raw input: a file descriptor or a span of memory.
  int fd = -1;
  bool size_known = true;
  std::uint64_t raw_left = 0;  // bytes of the file or memory not yet handed out
  std::vector<unsigned char> buffer;
  bool in_memory = false;
  const unsigned char* memory = nullptr;

  // Handed out but not yet consumed.
  const unsigned char* chunk = nullptr;
  std::size_t chunk_len = 0;

  bool gzip = false;
  bool gzip_over = false;
  z_stream z{};
  bool z_live = false;

  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() {
    if (z_live) inflateEnd(&z);
    if (fd >= 0) ::close(fd);
  }

  // Reads the first bytes to tell gzip (magic 1f 8b) from plain data; an IDX file starts with 00.
  void start() {
    next_chunk();
    if (chunk_len >= 2 && chunk[0] == 0x1f && chunk[1] == 0x8b) {
      // 15 + 16: a 32 KiB window, gzip framing only (header, CRC-32 and length checked).
      if (inflateInit2(&z, 15 + 16) != Z_OK) fail("zlib failed to start");
      z_live = true;
      gzip = true;
      feed_current();
    }
  }

  void feed_current() {
    z.next_in = const_cast<unsigned char*>(chunk);  // zlib's API is not const-correct; it only reads
    z.avail_in = static_cast<uInt>(chunk_len);
    chunk_len = 0;
  }

  [[noreturn]] void fail(const std::string& what) const { throw DataError(fmt::format("{}: {}", name, what)); }

  // Reads straight from the descriptor; `n` bytes unless the file ends first.
  std::size_t read_fd(unsigned char* into, std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
      const ssize_t got = ::read(fd, into + done, std::min(n - done, kMaxStep));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) fail(fmt::format("cannot read: {}", std::strerror(errno)));
      if (got == 0) break;
      done += static_cast<std::size_t>(got);
    }
    if (size_known) raw_left -= std::min<std::uint64_t>(raw_left, done);
    return done;
  }

  // Makes the next raw bytes the current chunk; false at the end of the input.
  bool next_chunk() {
    if (in_memory) {
      chunk = memory;
      chunk_len = static_cast<std::size_t>(std::min<std::uint64_t>(raw_left, kMaxStep));
      memory += chunk_len;
      raw_left -= chunk_len;
    } else {
      buffer.resize(kFileBuffer);
      chunk = buffer.data();
      chunk_len = read_fd(buffer.data(), buffer.size());
    }
    return chunk_len > 0;
  }

  std::size_t read_plain(unsigned char* into, std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
      if (chunk_len == 0) {
        // A large read goes straight to its destination, not through the buffer.
        if (fd >= 0 && n - done >= kFileBuffer) {
          const std::size_t got = read_fd(into + done, n - done);
          done += got;
          break;
        }
        if (!next_chunk()) break;
      }
      const std::size_t take = std::min(n - done, chunk_len);
      std::memcpy(into + done, chunk, take);
      chunk += take;
      chunk_len -= take;
      done += take;
    }
    return done;
  }

  std::size_t read_gzip(unsigned char* into, std::size_t n) {
    std::size_t done = 0;
    while (done < n && !gzip_over) {
      if (z.avail_in == 0) {
        if (!next_chunk()) fail("truncated gzip data: the stream ends before its trailer (CRC-32 and length)");
        feed_current();
      }
      const std::size_t want = std::min(n - done, kMaxStep);
      z.next_out = into + done;
      z.avail_out = static_cast<uInt>(want);
      const int status = inflate(&z, Z_NO_FLUSH);
      done += want - z.avail_out;
      if (status == Z_STREAM_END) {
        // The member's CRC-32 and length matched. Another member may follow, nothing else.
        if (z.avail_in == 0) {
          if (!next_chunk()) {
            gzip_over = true;
            break;
          }
          feed_current();
        }
        // Another member starts with the magic number; inflate would wait for its second byte
        // before saying so, and call a lone trailing byte a truncated stream.
        if (z.next_in[0] != 0x1f || (z.avail_in > 1 && z.next_in[1] != 0x8b)) {
          fail("data after the end of its gzip stream (not another gzip member)");
        }
        inflateReset(&z);
      } else if (status == Z_DATA_ERROR || status == Z_NEED_DICT) {
        fail(fmt::format("corrupt gzip data ({})", z.msg ? z.msg : "invalid stream"));
      } else if (status == Z_MEM_ERROR) {
        fail("out of memory while decompressing");
      }
      // Z_OK, and Z_BUF_ERROR when inflate wants more input: the loop feeds it.
    }
    return done;
  }
};

ByteReader::ByteReader(std::unique_ptr<State> state) : state_(std::move(state)) {}
ByteReader::ByteReader(ByteReader&&) noexcept = default;
ByteReader& ByteReader::operator=(ByteReader&&) noexcept = default;
ByteReader::~ByteReader() = default;

ByteReader ByteReader::open_file(const std::string& path) {
  auto s = std::make_unique<State>();
  s->name = path;
  s->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (s->fd < 0) s->fail(fmt::format("cannot open: {}", std::strerror(errno)));
  struct stat st {};
  if (::fstat(s->fd, &st) != 0) s->fail(fmt::format("cannot open: {}", std::strerror(errno)));
  if (S_ISDIR(st.st_mode)) s->fail("cannot read: it is a directory");
  // Pipes and devices do not say how much they hold: those are read as the data comes.
  s->size_known = S_ISREG(st.st_mode);
  s->raw_left = s->size_known ? static_cast<std::uint64_t>(st.st_size) : UINT64_MAX;
  s->start();
  return ByteReader(std::move(s));
}

ByteReader ByteReader::from_memory(std::string_view bytes, std::string name) {
  auto s = std::make_unique<State>();
  s->name = std::move(name);
  s->in_memory = true;
  s->memory = reinterpret_cast<const unsigned char*>(bytes.data());
  s->raw_left = bytes.size();
  s->start();
  return ByteReader(std::move(s));
}

const std::string& ByteReader::name() const {
  return state_->name;
}
bool ByteReader::gzip() const {
  return state_->gzip;
}

std::size_t ByteReader::read(void* into, std::size_t n) {
  auto* out = static_cast<unsigned char*>(into);
  return state_->gzip ? state_->read_gzip(out, n) : state_->read_plain(out, n);
}

std::uint64_t ByteReader::max_remaining() const {
  const State& s = *state_;
  if (!s.size_known) return UINT64_MAX;
  if (s.gzip) return s.gzip_over ? 0 : max_inflated_size(s.raw_left + s.z.avail_in);
  return s.raw_left + s.chunk_len;
}

bool ByteReader::remaining_is_exact() const {
  return state_->size_known && !state_->gzip;
}

}  // namespace ag::nn::detail
