// IDX files (plain and gzip), Fashion-MNIST's layout, minibatches; and every way a file can be wrong.
#include "test_util.hpp"

#include <nn/data.hpp>

#include <algorithm>
#include <set>

namespace nn = ag::nn;

namespace {

std::string error_of(const std::string& path) {
  try {
    nn::read_idx(path);
  } catch (const nn::DataError& e) {
    return e.what();
  }
  return "(no error)";
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

  const ag::Tensor<float> table{{1.0f, 2.0f}, {3.0f, 4.0f}, {5.0f, 6.0f}};
  CHECK(nn::select_rows(table, {2, 0}) == ag::Tensor<float>{{5.0f, 6.0f}, {1.0f, 2.0f}});
  CHECK(nn::select(std::vector<std::size_t>{7, 8, 9}, {2, 2}) == std::vector<std::size_t>{9, 9});
}
