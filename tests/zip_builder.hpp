// Builds zip archives byte by byte, right or deliberately wrong, for the tests of the .npz reader.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace test {

struct ZipMember {
  std::string name;
  std::string data;  // as stored: already deflated when method is 8
  std::uint16_t method = 0;
  std::optional<std::uint32_t> crc;           // of the uncompressed data; computed from `data` if stored
  std::optional<std::uint32_t> size;          // uncompressed; `data.size()` if not given
  std::optional<std::uint32_t> local_offset;  // where the directory says the member starts
  bool central_only = false;                  // in the directory only: its local record is elsewhere (see local_offset)
};

inline ZipMember stored(std::string name, std::string data) {
  ZipMember m;
  m.name = std::move(name);
  m.data = std::move(data);
  return m;
}

// A .npy file as numpy writes it (version 1.0), with any header text and data.
inline std::string npy(const std::string& header, const std::string& data = "") {
  std::string h = header;
  h.append(63 - (10 + h.size()) % 64, ' ');
  h += '\n';
  std::string out = "\x93NUMPY\x01";
  out += '\0';
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>(h.size() >> 8);
  return out + h + data;
}

// Raw deflate (as zip stores it) of `data`.
// `data` deflated with zlib: window_bits -15 gives a raw stream (a zip member), 15 + 16 one gzip member.
inline std::string deflated(const std::string& data, int window_bits, int level = Z_BEST_COMPRESSION) {
  z_stream z{};
  deflateInit2(&z, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

inline std::string deflate_raw(const std::string& data) {
  return deflated(data, -15);
}

inline std::uint32_t crc_of(const std::string& data) {
  return static_cast<std::uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

inline std::string zip(const std::vector<ZipMember>& members) {
  const auto put16 = [](std::string& out, std::uint32_t v) {
    out += static_cast<char>(v & 0xff);
    out += static_cast<char>((v >> 8) & 0xff);
  };
  const auto put32 = [&](std::string& out, std::uint32_t v) {
    put16(out, v & 0xffff);
    put16(out, v >> 16);
  };
  std::string out, directory;
  for (const ZipMember& m : members) {
    const std::uint32_t crc = m.crc ? *m.crc : crc_of(m.data);
    const std::uint32_t size = m.size ? *m.size : static_cast<std::uint32_t>(m.data.size());
    const std::uint32_t offset = static_cast<std::uint32_t>(out.size());
    for (std::string* record : {&out, &directory}) {
      const bool central = record == &directory;
      if (!central && m.central_only) continue;
      put32(*record, central ? 0x02014b50 : 0x04034b50);
      if (central) put16(*record, 20);
      put16(*record, 20);
      put16(*record, 0);
      put16(*record, m.method);
      put16(*record, 0);
      put16(*record, 0x21);
      put32(*record, crc);
      put32(*record, static_cast<std::uint32_t>(m.data.size()));
      put32(*record, size);
      put16(*record, static_cast<std::uint32_t>(m.name.size()));
      put16(*record, 0);
      if (central) {
        put16(*record, 0);
        put16(*record, 0);
        put16(*record, 0);
        put32(*record, 0);
        put32(*record, m.local_offset ? *m.local_offset : offset);
      }
      *record += m.name;
    }
    if (!m.central_only) out += m.data;
  }
  const std::uint32_t directory_offset = static_cast<std::uint32_t>(out.size());
  out += directory;
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, static_cast<std::uint32_t>(members.size()));
  put16(out, static_cast<std::uint32_t>(members.size()));
  put32(out, static_cast<std::uint32_t>(directory.size()));
  put32(out, directory_offset);
  put16(out, 0);
  return out;
}

}  // namespace test
