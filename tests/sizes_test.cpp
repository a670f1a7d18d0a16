// Sizes: shapes whose element count overflows, requests the block cache cannot serve, and float
// sums that stay accurate at any length.
#include <cstdint>
#include <limits>
#include <new>
#include <numeric>

#include "test_util.hpp"

using ag::Tensor;
using V = ag::Variable<double>;
using test::contains;
using F = ag::Variable<float>;

namespace {

constexpr std::size_t kHuge = std::size_t{1} << 62;

}  // namespace

TEST_CASE("shapes whose element count overflows are errors, not small tensors") {
  const V one(Tensor<double>{1.0});
  // 7 x 7905747460161236407 wraps to 1 in 64 bits.
  CHECK_THROWS_AS(ag::reshape(one, {7, 7905747460161236407L}), ag::ShapeError);
  CHECK_THROWS_AS(ag::reshape(one, {-1, 7905747460161236407L, 7}), ag::ShapeError);
  CHECK_THROWS_AS(ag::element_count({16, std::size_t{1} << 30, std::size_t{1} << 30, std::size_t{1} << 10}),
                  ag::ShapeError);
  // Empty tensors: their other dimensions must still multiply within PTRDIFF_MAX (numpy's rule),
  // because xtensor computes an empty tensor's signed strides all the same.
  CHECK(ag::element_count({std::size_t{1} << 31, 0, std::size_t{1} << 31}) == 0);
  CHECK(ag::full<double>({std::size_t{1} << 31, 0, std::size_t{1} << 31}, 0.0).size() == 0);
  CHECK_THROWS_AS(ag::element_count({kHuge, 0, kHuge}), ag::ShapeError);
  CHECK_THROWS_AS(ag::element_count({0, std::size_t{PTRDIFF_MAX} + 1}), ag::ShapeError);
  CHECK(ag::element_count({0, std::size_t{PTRDIFF_MAX}}) == 0);
  CHECK_THROWS_AS(ag::full<double>({kHuge, 8}, 0.0), ag::ShapeError);
  CHECK_THROWS_AS(ag::broadcast_to(one, {kHuge, 4, 4}), ag::ShapeError);
  CHECK_THROWS_AS(ag::unslice(V(ag::full<double>({1, 8}, 1.0)), {kHuge, 8}, 0, 0, 1), ag::ShapeError);
  try {
    ag::element_count({7, 7905747460161236407UL});
    FAIL("no exception");
  } catch (const ag::ShapeError& e) {
    CHECK(contains(e.what(), "[7, 7905747460161236407]"));
  }
}

TEST_CASE("a shape that counts but cannot be allocated is std::bad_alloc") {
  CHECK_THROWS_AS(ag::full<double>({std::size_t{1} << 60}, 0.0), std::bad_alloc);
  CHECK_THROWS_AS(ag::scatter_add_rows(V(Tensor<double>{{1.0, 2.0}}), {0}, std::size_t{1} << 59), std::bad_alloc);
}

TEST_CASE("the block cache throws std::bad_alloc for a request it cannot serve") {
  CHECK_THROWS_AS(ag::cached_alloc(std::numeric_limits<std::size_t>::max()), std::bad_alloc);
  CHECK_THROWS_AS(ag::cached_alloc(std::numeric_limits<std::size_t>::max() / 2 + 1), std::bad_alloc);
  CHECK_THROWS_AS(ag::cached_alloc(std::size_t{1} << 50), std::bad_alloc);
  ag::CachingAllocator<double> allocator;
  CHECK_THROWS_AS(allocator.allocate(std::numeric_limits<std::size_t>::max() / 4), std::bad_alloc);  // bytes wrap
  void* fine = ag::cached_alloc(1000);
  CHECK(fine != nullptr);
  ag::cached_free(fine, 1000);
}

TEST_CASE("a float sum of 10^8 elements is exact where the running sum stalls at 2^24") {
  const std::size_t n = 100'000'000;
  F ones(ag::full<float>({n}, 1.0f));
  CHECK(ag::sum(ones).item() == 1e8f);
  CHECK(ag::mean(ones).item() == 1.0f);

  // Values that vary, so that a kernel adding the wrong elements cannot pass: i mod 1000, whose sum
  // is known exactly in integers.
  Tensor<float> ramp = Tensor<float>::from_shape({n});
  for (std::size_t i = 0; i < n; ++i) ramp.data()[i] = static_cast<float>(i % 1000);
  const double exact = static_cast<double>(n / 1000) * (999.0 * 1000.0 / 2.0);
  CHECK(ag::sum(F(ramp)).item() == static_cast<float>(exact));
  // The same terms as 10^5 rows of 1000: summed over the rows (axis 0, outer terms) and over both.
  const F rows = ag::reshape(F(ramp), {100'000, 1000});
  const F columns = ag::sum(rows, {0});
  for (std::size_t j = 0; j < 1000; j += 97) CHECK(columns.value()(j) == static_cast<float>(j) * 1e5f);
  CHECK(ag::sum(ag::sum(rows, {1})).item() == static_cast<float>(exact));
  // A long outer axis of width 1: [10^8, 1] summed over axis 0.
  CHECK(ag::sum(ag::reshape(ones, {-1, 1}), {0}).item() == 1e8f);
}

TEST_CASE("sums over any set of axes agree with a plain double loop") {
  const Tensor<double> t = test::uniform({3, 1, 4, 5, 2});
  const ag::Shape shape{3, 1, 4, 5, 2};
  for (unsigned mask = 1; mask < 32; ++mask) {
    std::vector<long> axes;
    for (long a = 0; a < 5; ++a) {
      if (mask & (1u << a)) axes.push_back(a);
    }
    CAPTURE(mask);
    const V got = ag::sum(V(t), axes, true);
    Tensor<double> expected = ag::full<double>(got.shape(), 0.0);
    std::vector<std::size_t> index(5, 0);
    for (std::size_t flat = 0; flat < t.size(); ++flat) {
      std::size_t rest = flat, out = 0, stride = 1;
      for (std::size_t a = 5; a-- > 0;) index[a] = rest % shape[a], rest /= shape[a];
      for (std::size_t a = 5; a-- > 0;) {
        if (!(mask & (1u << a))) out += index[a] * stride, stride *= shape[a];
      }
      expected.data()[out] += t.data()[flat];
    }
    CHECK(xt::allclose(got.value(), expected, 1e-13, 1e-13));
  }
}

TEST_CASE("outer sums longer than a block combine their partial sums pairwise") {
  // 1000 rows: blocks of 128 rows, then a cascade of 8 partial sums (7 full blocks and a remainder).
  const Tensor<double> t = test::uniform({1000, 3});
  const V got = ag::sum(V(t), {0});
  for (std::size_t j = 0; j < 3; ++j) {
    double expected = 0;
    for (std::size_t i = 0; i < 1000; ++i) expected += t(i, j);
    CHECK(got.value()(j) == doctest::Approx(expected).epsilon(1e-13));
  }
  // And a float sum of 3 x 2^25 ones over the outer axis, which a float running sum would stall.
  const F wide(ag::full<float>({std::size_t{1} << 25, 3}, 1.0f));
  CHECK(ag::sum(wide, {0}).value() == Tensor<float>{33554432.0f, 33554432.0f, 33554432.0f});
}

TEST_CASE("slices with a huge step select one element, forward and backward, without overflow") {
  const long huge = std::numeric_limits<long>::max();
  const V a(Tensor<double>{0.0, 1.0, 2.0, 3.0, 4.0, 5.0}, true);
  const V s = ag::slice(a, 0, 3, 6, huge);  // (6 - 3 + huge - 1) / huge would overflow
  CHECK(s.value() == Tensor<double>{3.0});
  ag::backward(ag::sum(s * 2.0));
  CHECK(a.grad().value() == Tensor<double>{0, 0, 0, 2, 0, 0});
  CHECK(ag::slice(a, 0, -huge, huge, huge).value() == Tensor<double>{0.0});
}
