// Bytes from a file or from memory, gunzipped on the fly when they are gzip (internal to the
// IDX reader). Every fault is a DataError naming the input.
//
// gzip is read with zlib's inflate rather than gzread, which accepts a stream whose trailer is
// missing and ignores whatever follows the last member: here each member's CRC-32 and length
// are checked, bytes after the last member are an error, and so is a stream cut short.
// Concatenated members (`cat a.gz b.gz`) are legal gzip, and read as one stream, as gzip -d
// and zcat do.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ag::nn::detail {

class ByteReader {
 public:
  static ByteReader open_file(const std::string& path);
  // `bytes` must outlive the reader.
  static ByteReader from_memory(std::string_view bytes, std::string name);

  ByteReader(ByteReader&&) noexcept;
  ByteReader& operator=(ByteReader&&) noexcept;
  ~ByteReader();

  const std::string& name() const;
  bool gzip() const;
  // Fills `into` with up to `n` bytes; fewer only at the end of the data.
  std::size_t read(void* into, std::size_t n);
  // No more than this many bytes are left to read: exactly that many for plain input whose size
  // is known, what the compressed bytes left could inflate to for gzip.
  std::uint64_t max_remaining() const;
  bool remaining_is_exact() const;

 private:
  struct State;
  explicit ByteReader(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace ag::nn::detail
