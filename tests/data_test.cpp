// IDX files (plain and gzip), Fashion-MNIST's layout, minibatches; and every way a file can be wrong.
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <nn/io/data.hpp>
#include <random>
#include <set>
#include <thread>

#include "test_util.hpp"
#include "zip_builder.hpp"

namespace nn = ag::nn;

namespace {

std::string error_of(const std::string& path) {
  return test::error_of<nn::DataError>([&] { nn::read_idx(path); });
}

// An IDX header of unsigned bytes with these dimensions, and no data.
std::string idx_header(const std::vector<std::uint32_t>& dims) {
  std::string out{'\0', '\0', '\x08', static_cast<char>(dims.size())};
  for (std::uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((d >> shift) & 0xff);
  }
  return out;
}

// One gzip member holding `data`, as gzip(1) writes it.
std::string gzip(const std::string& data) {
  return test::deflated(data, 15 + 16, Z_DEFAULT_COMPRESSION);
}

std::string error_of_bytes(const std::string& dir_file, const std::string& bytes) {
  test::write_bytes(dir_file, bytes);
  return error_of(dir_file);
}

nn::IdxArray images(std::size_t n) {
  nn::IdxArray a{{n, 2, 3}, {}};
  for (std::size_t i = 0; i < n * 6; ++i) a.data.push_back(static_cast<std::uint8_t>(i * 7 % 256));
  return a;
}

}  // namespace

TEST_CASE("IDX files round-trip, plain and gzip-compressed") {
  test::TempDir dir;
  const nn::IdxArray a = images(4);
  for (const std::string name : {"a-idx3-ubyte", "a-idx3-ubyte.gz"}) {
    nn::write_idx(dir / name, a);
    const nn::IdxArray b = nn::read_idx(dir / name);
    CHECK(b.shape == a.shape);
    CHECK(b.data == a.data);
  }
  // The compressed file really is gzip.
  const std::string gz = test::read_bytes(dir / "a-idx3-ubyte.gz");
  CHECK(static_cast<unsigned char>(gz[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(gz[1]) == 0x8b);
}

TEST_CASE("a bad IDX file is an error naming the file and the fault") {
  test::TempDir dir;
  const std::string good = dir / "good-idx3-ubyte";
  nn::write_idx(good, images(3));
  const std::string bytes = test::read_bytes(good);

  const std::string magic = dir / "magic";
  test::write_bytes(magic, std::string("\x00\x00\x0d\x03", 4) + bytes.substr(4));  // floats, not bytes
  CHECK(error_of(magic).find(magic) != std::string::npos);
  CHECK(error_of(magic).find("wrong magic number 0x00000d03") != std::string::npos);

  const std::string truncated = dir / "truncated";
  test::write_bytes(truncated, bytes.substr(0, bytes.size() - 5));
  CHECK(error_of(truncated).find("truncated: its header [3, 2, 3] promises 18 bytes of data, the file holds 13") !=
        std::string::npos);

  const std::string header_cut = dir / "header";
  test::write_bytes(header_cut, bytes.substr(0, 9));
  CHECK(error_of(header_cut).find("truncated in its header") != std::string::npos);

  const std::string longer = dir / "longer";
  test::write_bytes(longer, bytes + "xyz");
  CHECK(error_of(longer).find("longer than its header [3, 2, 3] says") != std::string::npos);

  const std::string empty = dir / "empty";
  test::write_bytes(empty, "");
  CHECK(error_of(empty).find("too short for an IDX header") != std::string::npos);

  nn::write_idx(dir / "c.gz", images(50));
  std::string gz = test::read_bytes(dir / "c.gz");
  gz[gz.size() / 2] = static_cast<char>(gz[gz.size() / 2] ^ 0x55);
  const std::string corrupt = dir / "corrupt.gz";
  test::write_bytes(corrupt, gz);
  CHECK(error_of(corrupt).find(corrupt) != std::string::npos);

  CHECK(error_of(dir / "missing").find("cannot open") != std::string::npos);
}

TEST_CASE("an IDX header's sizes are checked, without overflow, against the file before anything is allocated") {
  test::TempDir dir;
  const auto started = std::chrono::steady_clock::now();

  // 16 x 2^30 x 2^30 wraps to 0 in 64 bits: it must not pass for an empty [16, 2^30, 2^30] array.
  const std::string wraps = dir / "wraps-idx3-ubyte";
  CHECK(error_of_bytes(wraps, idx_header({16, 1u << 30, 1u << 30})) ==
        wraps + ": its header [16, 1073741824, 1073741824] declares more elements than memory can address");
  // 16 bytes declaring (2^32 - 1)^3 elements.
  const std::string huge = dir / "huge-idx3-ubyte";
  const std::string huge_header = idx_header({0xffffffffu, 0xffffffffu, 0xffffffffu});
  REQUIRE(huge_header.size() == 16);
  CHECK(error_of_bytes(huge, huge_header) ==
        huge + ": its header [4294967295, 4294967295, 4294967295] declares more elements than memory can address");
  // Empty, but its other dimensions multiply past PTRDIFF_MAX: xtensor's signed strides would
  // overflow (the fuzzer's finding), so numpy's rule refuses it.
  const std::string empty_huge = dir / "empty-huge-idx3-ubyte";
  CHECK(error_of_bytes(empty_huge, idx_header({0, 0xffffffffu, 0xffffffffu})) ==
        empty_huge + ": its header [0, 4294967295, 4294967295] declares more elements than memory can address");
  // 2^40 bytes fit in 64 bits but not in a 12-byte file: refused before the terabyte is asked for.
  const std::string tera = dir / "tera-idx3-ubyte";
  CHECK(error_of_bytes(tera, idx_header({256, 65536, 65536})) ==
        tera + ": truncated: its header [256, 65536, 65536] promises 1099511627776 bytes of data, the file holds 0");
  // gzip: a tiny stream cannot inflate to a terabyte (deflate's ratio is at most 1032:1).
  const std::string tera_gz = dir / "tera-idx3-ubyte.gz";
  const std::string gz_error = error_of_bytes(tera_gz, gzip(idx_header({256, 65536, 65536}) + std::string(1000, '\0')));
  CHECK(gz_error.find(tera_gz + ": its header [256, 65536, 65536] promises 1099511627776 bytes of data, more than "
                                "its compressed data can hold") == 0);
  // A promise within deflate's bounds is taken as the data comes: 500000 bytes promised (the
  // stream could hold a million), 1000 there.
  std::string noise;
  std::mt19937 rng(3);
  for (int i = 0; i < 1000; ++i) noise += static_cast<char>(rng() & 0xff);
  const std::string short_gz = dir / "short-idx1-ubyte.gz";
  CHECK(error_of_bytes(short_gz, gzip(idx_header({500000}) + noise)) ==
        short_gz + ": truncated: its header [500000] promises 500000 bytes of data, the decompressed data holds 1000");
  // None of it took more than a blink: nothing the size of the promises was allocated or filled.
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));

  // The same checks on bytes in memory.
  CHECK_THROWS_WITH_AS(nn::parse_idx(idx_header({16, 1u << 30, 1u << 30}), "in memory"),
                       doctest::Contains("in memory: its header [16, 1073741824, 1073741824] declares more elements"),
                       nn::DataError);
  CHECK(nn::parse_idx(idx_header({2, 3}) + "abcdef", "x").data ==
        std::vector<std::uint8_t>{'a', 'b', 'c', 'd', 'e', 'f'});
}

TEST_CASE("gzip IDX files are checked to their end: no trailer, bytes after it, CRC-32 and length") {
  test::TempDir dir;
  nn::write_idx(dir / "a.gz", images(20));
  const std::string gz = test::read_bytes(dir / "a.gz");
  REQUIRE(nn::read_idx(dir / "a.gz").data == images(20).data);

  // zlib's gzread returns all the data of these without an error; inflate, used here, does not.
  const std::string no_trailer = dir / "no-trailer.gz";
  CHECK(error_of_bytes(no_trailer, gz.substr(0, gz.size() - 8)) ==
        no_trailer + ": truncated gzip data: the stream ends before its trailer (CRC-32 and length)");
  CHECK(error_of_bytes(no_trailer, gz.substr(0, gz.size() - 3)).find("truncated gzip data") != std::string::npos);
  const std::string garbage = dir / "garbage.gz";
  CHECK(error_of_bytes(garbage, gz + "garbage") ==
        garbage + ": data after the end of its gzip stream (not another gzip member)");
  CHECK(error_of_bytes(garbage, gz + std::string(16, '\0')).find("data after the end of its gzip stream") !=
        std::string::npos);
  CHECK(error_of_bytes(garbage, gz + "\x1f").find("truncated gzip data") != std::string::npos);

  std::string crc = gz;
  crc[crc.size() - 8] ^= 0x01;  // the trailer's CRC-32
  const std::string bad_crc = dir / "crc.gz";
  CHECK(error_of_bytes(bad_crc, crc) == bad_crc + ": corrupt gzip data (incorrect data check)");
  std::string length = gz;
  length[length.size() - 4] ^= 0x01;  // the trailer's length
  const std::string bad_length = dir / "length.gz";
  CHECK(error_of_bytes(bad_length, length) == bad_length + ": corrupt gzip data (incorrect length check)");
}

TEST_CASE("concatenated gzip members read as one IDX stream, as zcat reads them") {
  test::TempDir dir;
  nn::write_idx(dir / "plain", images(7));
  const std::string plain = test::read_bytes(dir / "plain");
  // Split inside the header and inside the data: members are not aligned with anything.
  const std::string multi = gzip(plain.substr(0, 6)) + gzip(plain.substr(6, 20)) + gzip("") + gzip(plain.substr(26));
  test::write_bytes(dir / "multi.gz", multi);
  const nn::IdxArray a = nn::read_idx(dir / "multi.gz");
  CHECK(a.shape == images(7).shape);
  CHECK(a.data == images(7).data);
  // Each member's trailer is checked, not only the last one's.
  std::string broken = multi;
  broken[gzip(plain.substr(0, 6)).size() - 8] ^= 0x01;
  CHECK(error_of_bytes(dir / "broken.gz", broken).find("incorrect data check") != std::string::npos);
}

TEST_CASE("IDX files from memory and from a pipe, whose size is not known in advance") {
  test::TempDir dir;
  nn::write_idx(dir / "a", images(3));
  nn::write_idx(dir / "a.gz", images(3));
  for (const std::string name : {"a", "a.gz"}) {
    const std::string bytes = test::read_bytes(dir / name);
    CHECK(nn::parse_idx(bytes, name).data == images(3).data);
    const std::string fifo = dir / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    std::thread writer([&] { test::write_bytes(fifo, bytes + (name == "a" ? "" : "x")); });
    if (name == "a") {
      CHECK(nn::read_idx(fifo).data == images(3).data);
    } else {
      CHECK(error_of(fifo) == fifo + ": data after the end of its gzip stream (not another gzip member)");
    }
    writer.join();
    std::filesystem::remove(fifo);
  }
  CHECK(error_of(dir / "").find("it is a directory") != std::string::npos);
}

TEST_CASE("MNIST's layout loads as [N, pixels] in [0, 1] with labels, mismatches are errors") {
  test::TempDir dir;
  nn::write_idx(dir / "train-images-idx3-ubyte.gz", {{2, 2, 2}, {0, 255, 51, 102, 1, 2, 3, 4}});
  nn::write_idx(dir / "train-labels-idx1-ubyte.gz", {{2}, {9, 3}});
  const nn::LabelledImages set = nn::load_mnist(dir / "", "train");
  CHECK(set.images.shape()[0] == 2);
  CHECK(set.images.shape()[1] == 4);
  CHECK(set.images(0, 1) == doctest::Approx(1.0f));
  CHECK(set.images(0, 2) == doctest::Approx(0.2f));
  CHECK(set.labels == std::vector<std::size_t>{9, 3});

  nn::write_idx(dir / "t10k-images-idx3-ubyte", {{2, 1, 1}, {0, 0}});
  nn::write_idx(dir / "t10k-labels-idx1-ubyte", {{3}, {0, 1, 2}});
  CHECK_THROWS_WITH_AS(nn::load_mnist(dir / "", "t10k"), doctest::Contains("holds 2 images but"), nn::DataError);
  nn::write_idx(dir / "t10k-labels-idx1-ubyte", {{2}, {0, 12}});
  CHECK_THROWS_WITH_AS(nn::load_mnist(dir / "", "t10k"), doctest::Contains("label 12 of example 1"), nn::DataError);

  // An empty set, or images of no pixels, would only show later as a division by zero.
  nn::write_idx(dir / "t10k-images-idx3-ubyte", {{0, 28, 28}, {}});
  CHECK_THROWS_WITH_AS(nn::load_mnist(dir / "", "t10k"),
                       doctest::Contains("t10k-images-idx3-ubyte: holds no images ([0, 28, 28])"), nn::DataError);
  nn::write_idx(dir / "t10k-images-idx3-ubyte", {{2, 0, 5}, {}});
  CHECK_THROWS_WITH_AS(nn::load_mnist(dir / "", "t10k"), doctest::Contains("holds no pixels ([2, 0, 5])"),
                       nn::DataError);
  nn::write_idx(dir / "t10k-images-idx3-ubyte", {{2, 1}, {0, 0}});
  CHECK_THROWS_WITH_AS(nn::load_mnist(dir / "", "t10k"),
                       doctest::Contains("expected [count, rows, cols] images, got [2, 1]"), nn::DataError);
  // The writer refuses what it could not write truthfully.
  CHECK_THROWS_WITH_AS(nn::write_idx(dir / "x", {{2, 2}, {1, 2, 3}}), doctest::Contains("does not match the 3 bytes"),
                       nn::DataError);
}

TEST_CASE("minibatches cover every example once, shuffled reproducibly") {
  nn::Generator g1(11), g2(11);
  const nn::Batches a(10, 4, true, g1), b(10, 4, true, g2);
  REQUIRE(a.size() == 3);
  CHECK(a[2].size() == 2);
  std::set<std::size_t> seen;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::vector<std::size_t> batch = a[i];
    CHECK(batch == b[i]);
    seen.insert(batch.begin(), batch.end());
  }
  CHECK(seen.size() == 10);
  const nn::Batches ordered(5, 2, false);
  CHECK(ordered[1] == std::vector<std::size_t>{2, 3});
  CHECK_THROWS_AS(ordered[3], std::out_of_range);  // batches 0..2 only

  const ag::Tensor<float> table{{1.0f, 2.0f}, {3.0f, 4.0f}, {5.0f, 6.0f}};
  CHECK(nn::select_rows(table, {2, 0}) == ag::Tensor<float>{{5.0f, 6.0f}, {1.0f, 2.0f}});
  CHECK(nn::select(std::vector<std::size_t>{7, 8, 9}, {2, 2}) == std::vector<std::size_t>{9, 9});
}
