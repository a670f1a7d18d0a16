// PNG files (nn/io/png.hpp), decoded back with stb_image, and the pictures of what a network
// learned (nn/visualize.hpp): tiles in a grid, and the inputs that activate hidden units most.
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <nn/nn.hpp>
#include <random>
#include <set>
#include <vector>

#include "test_util.hpp"

// The decoder, for the tests only: static, PNG only, from memory.
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#include <stb_image.h>

namespace nn = ag::nn;
using Image = ag::Tensor<std::uint8_t>;

namespace {

// What stb_image decodes from PNG bytes, in the shape they were written: [H, W] for gray, [H, W, 3]
// for RGB. Fails the test when stb cannot decode them.
Image decode(const std::string& bytes) {
  int width = 0, height = 0, channels = 0;
  stbi_uc* pixels = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()),
                                          static_cast<int>(bytes.size()), &width, &height, &channels, 0);
  REQUIRE_MESSAGE(pixels != nullptr, "stb_image cannot decode it: " << stbi_failure_reason());
  const auto h = static_cast<std::size_t>(height), w = static_cast<std::size_t>(width);
  Image image = channels == 1 ? Image::from_shape({h, w}) : Image::from_shape({h, w, std::size_t(channels)});
  std::copy(pixels, pixels + image.size(), image.begin());
  stbi_image_free(pixels);
  return image;
}

Image random_image(const ag::Shape& shape, unsigned seed) {
  std::mt19937 generator(seed);
  Image image = Image::from_shape(shape);
  for (auto& v : image) v = static_cast<std::uint8_t>(generator());
  return image;
}

std::set<std::string> listing(const test::TempDir& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir / ""))
    names.insert(entry.path().filename().string());
  return names;
}

double dot(const double* a, const double* b, std::size_t n) {
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// Column j of a [rows, columns] matrix.
std::vector<double> column(const ag::Tensor<double>& m, std::size_t j) {
  std::vector<double> c;
  for (std::size_t i = 0; i < m.shape()[0]; ++i) c.push_back(m(i, j));
  return c;
}

}  // namespace

TEST_CASE("a PNG of a gray or an RGB image decodes back to exactly its pixels") {
  test::TempDir dir;
  // Every gray level, in an order no filter predicts; a size that is no power of two.
  Image gray = Image::from_shape({16, 17});
  for (std::size_t i = 0; i < gray.size(); ++i) gray.data()[i] = static_cast<std::uint8_t>(i * 37 % 256);
  gray(0, 0) = 0;
  gray(15, 16) = 255;
  const Image rgb = random_image({9, 13, 3}, 1);
  // A red, a green and a blue pixel: the channels are in R, G, B order.
  Image primaries = Image::from_shape({1, 3, 3});
  primaries.fill(0);
  for (std::size_t c = 0; c < 3; ++c) primaries(0, c, c) = 255;
  const Image single = ag::full<std::uint8_t>({1, 1}, 200);

  for (const Image* image : std::initializer_list<const Image*>{&gray, &rgb, &primaries, &single}) {
    const std::string path = dir / "image.png";
    nn::write_png(path, *image);
    const std::string file = test::read_bytes(path);
    CHECK(file.substr(0, 8) == "\x89PNG\r\n\x1a\n");
    CHECK(decode(file) == *image);
    const std::vector<std::uint8_t> bytes = nn::encode_png(*image);
    CHECK(std::string(bytes.begin(), bytes.end()) == file);
  }
  // stb's own conversion says which is which: a gray file decodes to one channel, RGB to three.
  nn::write_png(dir / "gray.png", gray);
  CHECK(decode(test::read_bytes(dir / "gray.png")).dimension() == 2);
  // Large enough for deflate's back-references to span rows.
  const Image large = random_image({300, 257, 3}, 2);
  nn::write_png(dir / "large.png", large);
  CHECK(decode(test::read_bytes(dir / "large.png")) == large);
}

TEST_CASE("a PNG write that fails names the file and leaves the previous file as it was") {
  test::TempDir dir;
  const std::string path = dir / "picture.png";
  nn::write_png(path, random_image({4, 5}, 3));
  const std::string before = test::read_bytes(path);

  // The disk fills up half-way through the write (a file size limit stands in for it).
  rlimit old{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
  const auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  const rlimit small{512, old.rlim_max};
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  const std::string error = test::error_of<nn::ImageError>([&] { nn::write_png(path, random_image({64, 64, 3}, 4)); });
  ::setrlimit(RLIMIT_FSIZE, &old);
  ::signal(SIGXFSZ, old_handler);
  CHECK(error.find(path + ": cannot write " + path + ".tmp.") == 0);
  CHECK(test::contains(error, "(the previous file, if any, is unchanged)"));
  CHECK(test::read_bytes(path) == before);
  CHECK(listing(dir) == std::set<std::string>{"picture.png"});

  const auto write_error = [](const std::string& to) {
    return test::error_of<nn::ImageError>([&] { nn::write_png(to, random_image({2, 2}, 5)); });
  };
  // A folder that does not exist.
  const std::string missing = dir / "missing/picture.png";
  CHECK(test::contains(write_error(missing), missing + ": cannot create the temporary file"));
  // A folder where the file should be: it cannot be replaced, and no temporary file stays.
  const std::string folder = dir / "folder.png";
  std::filesystem::create_directory(folder);
  CHECK(test::contains(write_error(folder), folder + ": cannot rename"));
  // An image that cannot be encoded does not touch the file either.
  CHECK_THROWS_AS(nn::write_png(path, Image::from_shape({0, 3})), nn::ImageError);
  CHECK(test::read_bytes(path) == before);
  CHECK(listing(dir) == std::set<std::string>{"folder.png", "picture.png"});
}

TEST_CASE("a PNG of an image of another shape, empty or too large is an error naming the file and the shape") {
  test::TempDir dir;
  const std::string path = dir / "bad.png";
  const auto error = [&](const Image& image) {
    return test::error_of<nn::ImageError>([&] { nn::write_png(path, image); });
  };
  const std::string shapes = "is [height, width] (gray) or [height, width, 3] (RGB), not ";
  CHECK(error(Image::from_shape({12})) == path + ": an image to write as PNG " + shapes + "[12]");
  CHECK(error(Image::from_shape({2, 2, 4})) == path + ": an image to write as PNG " + shapes + "[2, 2, 4]");
  CHECK(error(Image::from_shape({2, 2, 1})) == path + ": an image to write as PNG " + shapes + "[2, 2, 1]");
  CHECK(error(Image::from_shape({1, 2, 2, 3})) == path + ": an image to write as PNG " + shapes + "[1, 2, 2, 3]");
  CHECK(error(ag::full<std::uint8_t>({}, 7)) == path + ": an image to write as PNG " + shapes + "[]");
  CHECK(error(Image::from_shape({0, 5})) == path + ": the image [0, 5] is empty: a PNG has at least one pixel");
  CHECK(error(Image::from_shape({5, 0, 3})) == path + ": the image [5, 0, 3] is empty: a PNG has at least one pixel");
  // Rows beyond what stb's int arithmetic holds safely.
  CHECK(test::contains(error(ag::full<std::uint8_t>({1, (std::size_t{1} << 24) + 1}, 0)),
                       path + ": the image [1, 16777217] is too large to encode"));
  CHECK(test::contains(error(ag::full<std::uint8_t>({1, (std::size_t{1} << 22) * 2, 3}, 0)),
                       path + ": the image [1, 8388608, 3] is too large to encode"));
  CHECK(test::contains(test::error_of<nn::ImageError>([] {
                         nn::encode_png(Image::from_shape({0, 0}), "tiles");
                       }),
                       "tiles: the image [0, 0] is empty"));
  CHECK(listing(dir).empty());
}

TEST_CASE("tile_images lays out tiles in rows with padding between them, each tile scaled to 0..255") {
  // Six tiles of 2 x 3 pixels, tile k holding (p + k) mod 6 at pixel p: each tile has all of
  // 0..5, so scaled on its own pixel p is 51 ((p + k) mod 6), and a tile in the wrong place or
  // turned shows.
  ag::Tensor<float> images = ag::Tensor<float>::from_shape({6, 6});
  for (std::size_t k = 0; k < 6; ++k)
    for (std::size_t p = 0; p < 6; ++p) images(k, p) = static_cast<float>((p + k) % 6);
  const Image grid = nn::tile_images(images, 2, 3, {.columns = 3, .padding = 1, .background = 7});
  // clang-format off
  const Image expected = ag::tensor<std::uint8_t>({
      {  0,  51, 102,   7,  51, 102, 153,   7, 102, 153, 204},
      {153, 204, 255,   7, 204, 255,   0,   7, 255,   0,  51},
      {  7,   7,   7,   7,   7,   7,   7,   7,   7,   7,   7},
      {153, 204, 255,   7, 204, 255,   0,   7, 255,   0,  51},
      {  0,  51, 102,   7,  51, 102, 153,   7, 102, 153, 204}});
  // clang-format on
  CHECK(grid == expected);
  // The same images as [count, height, width], in double.
  ag::Tensor<double> cube = ag::Tensor<double>::from_shape({6, 2, 3});
  std::copy(images.begin(), images.end(), cube.begin());
  CHECK(nn::tile_images(cube, 2, 3, {.columns = 3, .padding = 1, .background = 7}) == expected);

  // Two columns, so three rows, two pixels apart.
  const Image two = nn::tile_images(images, 2, 3, {.columns = 2, .padding = 2});
  CHECK(ag::to_shape(two.shape()) == ag::Shape{3 * 2 + 2 * 2, 2 * 3 + 2});
  CHECK(two(4, 0) == 102);  // tile 2, pixel 0: 51 (0 + 2)
  CHECK(two(9, 7) == 204);  // tile 5, pixel 5 (its row 1, column 2): 51 ((5 + 5) mod 6)
  CHECK(two(2, 0) == 0);    // padding, of the default background
  CHECK(two(0, 4) == 0);
  // No padding: tiles touch.
  const Image touching = nn::tile_images(images, 2, 3, {.columns = 6, .padding = 0});
  CHECK(ag::to_shape(touching.shape()) == ag::Shape{2, 18});
  CHECK(touching(0, 3) == 51);  // tile 1, pixel 0
}

TEST_CASE("tile_images scales each tile on its own or all tiles on one scale, a constant tile to mid-gray") {
  // Tile k holds 6 k + p at pixel p: 0..35 over all tiles.
  ag::Tensor<double> images = ag::Tensor<double>::from_shape({6, 6});
  for (std::size_t k = 0; k < 6; ++k)
    for (std::size_t p = 0; p < 6; ++p) images(k, p) = static_cast<double>(6 * k + p);
  const auto pixel = [](const Image& grid, std::size_t k, std::size_t p) {
    return grid((k / 3) * 3 + p / 3, (k % 3) * 4 + p % 3);
  };
  const Image own = nn::tile_images(images, 2, 3, {.columns = 3});
  const Image common = nn::tile_images(images, 2, 3, {.columns = 3, .scale = nn::TileScale::common});
  for (std::size_t k = 0; k < 6; ++k) {
    for (std::size_t p = 0; p < 6; ++p) {
      CHECK(static_cast<std::size_t>(pixel(own, k, p)) == 51 * p);
      CHECK(pixel(common, k, p) == std::lround(255.0 * static_cast<double>(6 * k + p) / 35.0));
    }
  }
  CHECK(pixel(common, 2, 3) == 109);  // 255 * 15 / 35 = 109.29
  CHECK(pixel(common, 5, 5) == 255);

  // A constant tile has no range of its own: mid-gray, not a division by zero. On the common
  // scale it takes its place among the others.
  for (std::size_t p = 0; p < 6; ++p) images(1, p) = 7.0;
  const Image flat = nn::tile_images(images, 2, 3, {.columns = 3});
  const Image flat_common = nn::tile_images(images, 2, 3, {.columns = 3, .scale = nn::TileScale::common});
  for (std::size_t p = 0; p < 6; ++p) {
    CHECK(pixel(flat, 1, p) == 128);
    CHECK(pixel(flat_common, 1, p) == 51);  // 255 * 7 / 35
  }
  const Image all_flat =
      nn::tile_images(ag::full<float>({3, 4}, -2.5f), 2, 2, {.scale = nn::TileScale::common, .background = 9});
  CHECK(all_flat == ag::tensor<std::uint8_t>({{128, 128, 9, 128, 128},
                                              {128, 128, 9, 128, 128},
                                              {9, 9, 9, 9, 9},
                                              {128, 128, 9, 9, 9},
                                              {128, 128, 9, 9, 9}}));
  // Values at the ends of double's range do not overflow the scale.
  const double big = std::numeric_limits<double>::max();
  CHECK(nn::tile_images(ag::tensor<double>({-big, 0, big}, {1, 3}), 1, 3) ==
        ag::tensor<std::uint8_t>({0, 128, 255}, {1, 3}));
}

TEST_CASE("tile_images makes a near-square grid by default, and refuses other shapes and non-finite values") {
  const auto shape = [](std::size_t count, std::size_t h, std::size_t w, nn::TileOptions options = {}) {
    return ag::to_shape(nn::tile_images(ag::full<float>({count, h * w}, 0.5f), h, w, options).shape());
  };
  CHECK(shape(100, 28, 28) == ag::Shape{10 * 28 + 9, 10 * 28 + 9});
  CHECK(shape(6, 2, 3) == ag::Shape{2 * 2 + 1, 3 * 3 + 2});
  CHECK(shape(10, 2, 3) == ag::Shape{3 * 2 + 2, 4 * 3 + 3});
  CHECK(shape(1, 5, 4) == ag::Shape{5, 4});
  CHECK(shape(2, 5, 4, {.columns = 1, .padding = 3}) == ag::Shape{13, 4});
  CHECK(shape(2, 5, 4, {.columns = 4}) == ag::Shape{5, 4 * 4 + 3});
  // Places past the last tile are background.
  const Image five = nn::tile_images(ag::full<float>({5, 1}, 1.0f), 1, 1, {.background = 60});
  CHECK(five == ag::tensor<std::uint8_t>({{128, 60, 128, 60, 128}, {60, 60, 60, 60, 60}, {128, 60, 128, 60, 60}}));

  CHECK_THROWS_WITH_AS(nn::tile_images(ag::full<float>({6, 10}, 0.0f), 3, 4, {}),
                       "tile_images: images of shape [6, 10] are neither [count, 3 * 4] nor [count, 3, 4]",
                       ag::ShapeError);
  CHECK_THROWS_AS(nn::tile_images(ag::full<float>({6, 4, 3}, 0.0f), 3, 4, {}), ag::ShapeError);
  CHECK_THROWS_AS(nn::tile_images(ag::full<float>({12}, 0.0f), 3, 4, {}), ag::ShapeError);
  CHECK_THROWS_WITH_AS(nn::tile_images(ag::full<float>({0, 12}, 0.0f), 3, 4, {}),
                       "tile_images: images of shape [0, 12] (3 x 4 pixels each) have no pixel to show",
                       ag::ShapeError);
  CHECK_THROWS_AS(nn::tile_images(ag::full<float>({3, 0}, 0.0f), 0, 4, {}), ag::ShapeError);
  CHECK_THROWS_AS(nn::tile_images(ag::full<float>({2, 1}, 0.0f), 1, 1, {.padding = std::size_t(-1)}), ag::ShapeError);

  ag::Tensor<double> images = ag::full<double>({3, 4}, 0.0);
  images(2, 1) = std::nan("");
  CHECK_THROWS_WITH_AS(nn::tile_images(images, 2, 2), "tile_images: image 2 holds nan at pixel 1",
                       std::invalid_argument);
  images(2, 1) = -HUGE_VAL;
  CHECK_THROWS_WITH_AS(nn::tile_images(images, 2, 2, {.scale = nn::TileScale::common}),
                       "tile_images: image 2 holds -inf at pixel 1", std::invalid_argument);
}

TEST_CASE("maximally_activating_inputs: each unit's column scaled to norm 1, beating every other unit vector") {
  std::mt19937 generator(11);
  std::normal_distribution<double> normal;
  const std::size_t inputs = 20, hidden = 8;
  ag::Tensor<double> weight = ag::Tensor<double>::from_shape({inputs, hidden});
  for (double& w : weight) w = normal(generator);
  for (std::size_t i = 0; i < inputs; ++i) weight(i, 3) = 0;  // a unit with no weights at all

  const ag::Tensor<double> x = nn::maximally_activating_inputs(weight);
  REQUIRE(ag::to_shape(x.shape()) == ag::Shape{hidden, inputs});
  for (std::size_t j = 0; j < hidden; ++j) {
    const std::vector<double> w = column(weight, j);
    const double* xj = &x(j, 0);
    if (j == 3) {
      for (std::size_t i = 0; i < inputs; ++i) CHECK(xj[i] == 0.0);
      continue;
    }
    CHECK(dot(xj, xj, inputs) == doctest::Approx(1.0).epsilon(1e-14));
    // The direction of the column: x = w / |w|.
    const double norm = std::sqrt(dot(w.data(), w.data(), inputs));
    for (std::size_t i = 0; i < inputs; ++i) CHECK(xj[i] * norm == doctest::Approx(w[i]).epsilon(1e-13));
    // No unit vector activates the unit more: not 100 random ones, not the other units' inputs.
    const double best = dot(w.data(), xj, inputs);
    CHECK(best == doctest::Approx(norm).epsilon(1e-13));
    for (int trial = 0; trial < 100; ++trial) {
      std::vector<double> r(inputs);
      for (double& v : r) v = normal(generator);
      const double r_norm = std::sqrt(dot(r.data(), r.data(), inputs));
      for (double& v : r) v /= r_norm;
      CHECK(dot(w.data(), r.data(), inputs) <= best);
    }
    for (std::size_t other = 0; other < hidden; ++other) CHECK(dot(w.data(), &x(other, 0), inputs) <= best + 1e-12);
  }
}

TEST_CASE("maximally_activating_inputs has unit norms at any scale of weights, and refuses bad weights") {
  // Squares of these overflow or underflow float (and 1e200 double): the norm is taken scaled.
  for (const float scale : {1e30f, 1e-30f, 1e-44f}) {
    ag::Tensor<float> weight = ag::tensor<float>({3, -4, 0, 12}, {4, 1});
    weight *= scale;
    const ag::Tensor<float> x = nn::maximally_activating_inputs(weight);
    REQUIRE(ag::to_shape(x.shape()) == ag::Shape{1, 4});
    const float expected[] = {3.0f / 13, -4.0f / 13, 0, 12.0f / 13};
    for (std::size_t i = 0; i < 4; ++i) CHECK(x(0, i) == doctest::Approx(expected[i]).epsilon(1e-6));
  }
  const ag::Tensor<double> huge = nn::maximally_activating_inputs(ag::tensor<double>({{3e200, 0}, {4e200, 0}}));
  CHECK(huge(0, 0) == doctest::Approx(0.6).epsilon(1e-15));
  CHECK(huge(0, 1) == doctest::Approx(0.8).epsilon(1e-15));
  CHECK(huge(1, 0) == 0.0);
  CHECK(huge(1, 1) == 0.0);

  CHECK_THROWS_WITH_AS(nn::maximally_activating_inputs(ag::full<float>({3, 4, 5}, 1.0f)),
                       "maximally_activating_inputs: the weight has shape [3, 4, 5], not [inputs, hidden]",
                       ag::ShapeError);
  ag::Tensor<double> bad = ag::full<double>({3, 4}, 1.0);
  bad(2, 1) = HUGE_VAL;
  CHECK_THROWS_WITH_AS(nn::maximally_activating_inputs(bad),
                       "maximally_activating_inputs: the weight of hidden unit 1 from input 2 is inf",
                       std::invalid_argument);
  // No inputs: rows of nothing.
  CHECK(ag::to_shape(nn::maximally_activating_inputs(ag::Tensor<float>::from_shape({0, 4})).shape()) ==
        ag::Shape{4, 0});
}

TEST_CASE("the course's picture of 100 hidden units: a 10 x 10 grid of 28 x 28 tiles in a PNG") {
  test::TempDir dir;
  nn::manual_seed(3);
  nn::Linear<float> encoder(784, 100);
  const ag::Tensor<float> x = nn::maximally_activating_inputs(encoder.weight().value());
  nn::write_png(dir / "features.png", nn::tile_images(x, 28, 28));
  const Image picture = decode(test::read_bytes(dir / "features.png"));
  REQUIRE(ag::to_shape(picture.shape()) == ag::Shape{289, 289});
  // Each tile spans the whole gray range; the padding is black.
  for (std::size_t k = 0; k < 100; ++k) {
    const std::size_t top = (k / 10) * 29, left = (k % 10) * 29;
    std::uint8_t lo = 255, hi = 0;
    for (std::size_t y = 0; y < 28; ++y) {
      for (std::size_t c = 0; c < 28; ++c) {
        lo = std::min(lo, picture(top + y, left + c));
        hi = std::max(hi, picture(top + y, left + c));
      }
    }
    CHECK(lo == 0);
    CHECK(hi == 255);
  }
  for (std::size_t c = 0; c < 289; ++c) CHECK(picture(28, c) == 0);
}
