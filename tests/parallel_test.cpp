// Kernels split over threads (autograd/parallel.hpp) compute what one thread computes: every
// tensor here is large enough to be split, and each result is checked element by element against
// a plain loop, at one thread and at two, broadcast operands included.
#include <algorithm>
#include <autograd/parallel.hpp>
#include <cmath>
#include <functional>
#include <nn/optim.hpp>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>
#include <xtensor/xbroadcast.hpp>

#include "test_util.hpp"

namespace {

using V = ag::Variable<float>;
using T = ag::Tensor<float>;

constexpr std::size_t kRows = 300, kCols = 257;  // 77,100 elements: above the split threshold

T random(const ag::Shape& shape, float lo = -2.0f, float hi = 2.0f) {
  std::uniform_real_distribution<float> dist(lo, hi);
  T t = T::from_shape(shape);
  for (float& v : t) v = dist(test::rng());
  return t;
}

// Runs `body` at one thread and at two, restoring the thread count after.
void at_one_and_two_threads(const std::function<void(int)>& body) {
  const int before = ag::num_threads();
  for (int threads : {1, 2}) {
    ag::set_num_threads(threads);
    CAPTURE(threads);
    body(threads);
  }
  ag::set_num_threads(before);
}

// max |got - want| / (1 + |want|) over the elements; infinite when the shapes differ.
double error(const T& got, const T& want) {
  if (!ag::shapes_equal(got, want)) return INFINITY;
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    worst = std::max(worst,
                     std::abs(double(got.data()[i]) - double(want.data()[i])) / (1 + std::abs(double(want.data()[i]))));
  }
  return worst;
}

T map(const T& a, const std::function<float(float)>& f) {
  T out = T::from_shape(a.shape());
  for (std::size_t i = 0; i < a.size(); ++i) out.data()[i] = f(a.data()[i]);
  return out;
}

}  // namespace

TEST_CASE("large kernels are split over two threads, small ones and one thread are not") {
  CHECK(kRows * kCols >= ag::detail::kParallelMinWork);
  const T big = random({kRows, kCols}), small = random({10, 10});
  at_one_and_two_threads([&](int threads) {
    CHECK(ag::num_threads() == threads);
    const std::size_t before = ag::detail::parallel_regions_run();
    ag::relu(V(small));
    CHECK(ag::detail::parallel_regions_run() == before);
    ag::relu(V(big));
    CHECK(ag::detail::parallel_regions_run() == before + (threads == 2 ? 1 : 0));
  });
}

TEST_CASE("set_num_threads holds for threads started later, and an exception inside a split comes out") {
  const int before = ag::num_threads();
  ag::set_num_threads(2);
  int seen = 0;
  std::thread([&] { seen = ag::num_threads(); }).join();
  CHECK(seen == 2);
  CHECK_THROWS_AS(ag::detail::run_parallel(4,
                                           [](std::size_t begin, std::size_t) {
                                             if (begin > 0) throw std::runtime_error("from a worker");
                                           }),
                  std::runtime_error);
  ag::set_num_threads(before);
}

TEST_CASE("large elementwise ops, broadcast operands included, agree with a plain loop at one and two threads") {
  const T a = random({kRows, kCols}), b = random({kRows, kCols}, 0.5f, 2.0f);
  const T row = random({kCols}), column = random({kRows, 1}, 0.5f, 2.0f);
  at_one_and_two_threads([&](int) {
    T want = T::from_shape({kRows, kCols});
    for (std::size_t i = 0; i < kRows; ++i) {
      for (std::size_t j = 0; j < kCols; ++j) want(i, j) = a(i, j) + row(j);
    }
    CHECK(error((V(a) + V(row)).value(), want) == 0);  // a bias row, broadcast down the batch
    for (std::size_t i = 0; i < kRows; ++i) {
      for (std::size_t j = 0; j < kCols; ++j) want(i, j) = a(i, j) / column(i, 0);
    }
    CHECK(error((V(a) / V(column)).value(), want) == 0);  // a column, broadcast across
    const T square = random({kRows, kRows}), square_row = random({kRows});
    T want_square = T::from_shape({kRows, kRows});
    for (std::size_t i = 0; i < kRows; ++i) {
      for (std::size_t j = 0; j < kRows; ++j) want_square(i, j) = square(i, j) - square_row(j);
    }
    // A row as long as the batch: it must still be broadcast whole, not cut like a batch.
    CHECK(error((V(square) - V(square_row)).value(), want_square) == 0);
    const T cube = random({kRows, 3, 40}), flat = random({kRows, 1, 40});
    T want_cube = T::from_shape(cube.shape());
    for (std::size_t i = 0; i < kRows; ++i) {
      for (std::size_t k = 0; k < 3; ++k) {
        for (std::size_t j = 0; j < 40; ++j) want_cube(i, k, j) = cube(i, k, j) * flat(i, 0, j);
      }
    }
    CHECK(error((V(cube) * V(flat)).value(), want_cube) == 0);  // rank 3, broadcast in the middle
    for (std::size_t i = 0; i < a.size(); ++i) want.data()[i] = a.data()[i] * b.data()[i] - 3.0f;
    CHECK(error((V(a) * V(b) - 3.0f).value(), want) < 1e-6);  // a 0-d operand (the loop may fuse a * b - 3)
    for (std::size_t i = 0; i < a.size(); ++i) want.data()[i] = a.data()[i] > b.data()[i] ? 1.0f : 0.0f;
    CHECK(error(ag::gt(V(a), V(b)).value(), want) == 0);
    CHECK(error(ag::pow(V(b), V(a)).value(), map(b, [](float) { return 0.0f; })) >
          0);  // the control: error() sees a difference
    T powers = T::from_shape(a.shape());
    for (std::size_t i = 0; i < a.size(); ++i) powers.data()[i] = std::pow(b.data()[i], a.data()[i]);
    CHECK(error(ag::pow(V(b), V(a)).value(), powers) < 1e-6);

    CHECK(error(ag::relu(V(a)).value(), map(a, [](float x) { return std::max(x, 0.0f); })) == 0);
    CHECK(error(ag::neg(V(a)).value(), map(a, [](float x) { return -x; })) == 0);
    CHECK(error(ag::abs(V(a)).value(), map(a, [](float x) { return std::abs(x); })) == 0);
    CHECK(error(ag::step(V(a)).value(), map(a, [](float x) { return x >= 0 ? 1.0f : 0.0f; })) == 0);
    CHECK(error(ag::clamp(V(a), -0.5f, 1.0f).value(), map(a, [](float x) { return std::clamp(x, -0.5f, 1.0f); })) == 0);
    CHECK(error(ag::exp(V(a)).value(), map(a, [](float x) { return std::exp(x); })) < 1e-6);
    CHECK(error(ag::log(V(b)).value(), map(b, [](float x) { return std::log(x); })) < 1e-6);
    CHECK(error(ag::sqrt(V(b)).value(), map(b, [](float x) { return std::sqrt(x); })) < 1e-6);
    CHECK(error(ag::tanh(V(a)).value(), map(a, [](float x) { return std::tanh(x); })) < 1e-6);
    CHECK(error(ag::sigmoid(V(a)).value(), map(a, [](float x) { return 1 / (1 + std::exp(-x)); })) < 1e-6);
    CHECK(error(ag::softplus(V(a)).value(), map(a, [](float x) { return std::log1p(std::exp(x)); })) < 1e-6);
    CHECK(error(ag::log_sigmoid(V(a)).value(), map(a, [](float x) { return -std::log1p(std::exp(-x)); })) < 1e-6);
  });
}

TEST_CASE("large gradient rules (evaluated without recording) agree with a plain loop at one and two threads") {
  const T a = random({kRows, kCols}), g = random({kRows, kCols});
  at_one_and_two_threads([&](int) {
    const V x(a, true);
    const V y = ag::sum(ag::relu(x) * V(g)) + ag::sum(ag::tanh(x));
    ag::backward(y);
    T want = T::from_shape(a.shape());
    for (std::size_t i = 0; i < a.size(); ++i) {
      const float t = std::tanh(a.data()[i]);
      want.data()[i] = (a.data()[i] > 0 ? g.data()[i] : 0.0f) + (1 - t * t);
    }
    CHECK(error(x.grad().value(), want) < 1e-6);
  });
}

TEST_CASE("large sums are the same at one and two threads, bit for bit, and right") {
  const T a = random({kRows, kCols});
  const T long_row = random({1000003});
  T columns = T::from_shape({kCols});
  double total = 0;
  for (std::size_t j = 0; j < kCols; ++j) {
    double s = 0;
    for (std::size_t i = 0; i < kRows; ++i) s += a(i, j);
    columns(j) = static_cast<float>(s);
  }
  for (float v : long_row) total += v;
  std::vector<T> sums;
  at_one_and_two_threads([&](int) {
    const T by_column = ag::sum(V(a), {0}).value();
    const T all = ag::sum(V(long_row)).value();
    CHECK(error(by_column, columns) < 1e-6);
    CHECK(std::abs(all() - total) <= 1e-6 * std::abs(total) + 1e-3);
    sums.push_back(by_column);
    sums.push_back(all);
  });
  REQUIRE(sums.size() == 4);
  CHECK(error(sums[2], sums[0]) == 0);
  CHECK(sums[3]() == sums[1]());
  // sum_to, the reduction of a bias gradient, takes the same path.
  const V bias(random({kCols}), true);
  ag::backward(ag::sum(V(a) * (V(a) + bias)));
  T want = T::from_shape({kCols});
  for (std::size_t j = 0; j < kCols; ++j) {
    double s = 0;
    for (std::size_t i = 0; i < kRows; ++i) s += a(i, j);
    want(j) = static_cast<float>(s);
  }
  CHECK(error(bias.grad().value(), want) < 1e-6);
}

TEST_CASE("double sums of values of every magnitude are the same bit for bit at one and two threads") {
  // Terms from 1e-8 to 1e8: any change in the order of the additions changes the rounding.
  std::uniform_real_distribution<double> unit(-1.0, 1.0), exponent(-8.0, 8.0);
  ag::Tensor<double> table = ag::Tensor<double>::from_shape({kRows, kCols});
  for (double& v : table) v = unit(test::rng()) * std::pow(10.0, exponent(test::rng()));
  std::vector<ag::Tensor<double>> sums;
  at_one_and_two_threads([&](int) {
    sums.push_back(ag::sum(ag::Variable<double>(table)).value());
    sums.push_back(ag::sum(ag::Variable<double>(table), {0}).value());
  });
  REQUIRE(sums.size() == 4);
  CHECK(sums[2]() == sums[0]());
  CHECK(sums[3] == sums[1]);
  // The control: adding the same terms in another order does change the sum.
  double forward = 0, backward = 0;
  for (std::size_t i = 0; i < table.size(); ++i) forward += table.data()[i];
  for (std::size_t i = table.size(); i-- > 0;) backward += table.data()[i];
  CHECK(forward != backward);
}

TEST_CASE("optimizer updates of large parameters follow their formulas at one and two threads") {
  const T w0 = random({kRows, kCols}), g = random({kRows, kCols});
  const auto step_with = [&](auto make_optimizer, int steps) {
    V w(w0, true);
    auto optimizer = make_optimizer(std::vector<V>{w});
    for (int s = 0; s < steps; ++s) {
      optimizer.zero_grad();
      ag::backward(ag::sum(w * V(g)));  // the gradient is g
      optimizer.step();
    }
    return T(w.value());
  };
  at_one_and_two_threads([&](int) {
    // SGD with momentum 0.9, Nesterov and weight decay 0.01, two steps.
    T want = w0, velocity = ag::full<float>(ag::to_shape(w0.shape()), 0.0f);
    for (int s = 0; s < 2; ++s) {
      for (std::size_t i = 0; i < want.size(); ++i) {
        const float gi = g.data()[i] + 0.01f * want.data()[i];
        velocity.data()[i] = 0.9f * velocity.data()[i] + gi;
        want.data()[i] -= 0.1f * (gi + 0.9f * velocity.data()[i]);
      }
    }
    const T sgd = step_with(
        [](std::vector<V> p) {
          return ag::nn::SGD<float>(std::move(p), {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = true});
        },
        2);
    CHECK(error(sgd, want) < 1e-6);
    // Adam with decoupled weight decay (AdamW), two steps.
    T m = ag::full<float>(ag::to_shape(w0.shape()), 0.0f), v = m;
    want = w0;
    for (int s = 1; s <= 2; ++s) {
      const float c1 = 1 - std::pow(0.9f, float(s)), c2 = 1 - std::pow(0.999f, float(s));
      for (std::size_t i = 0; i < want.size(); ++i) {
        want.data()[i] *= 1 - 0.01f * 0.1f;
        m.data()[i] = 0.9f * m.data()[i] + 0.1f * g.data()[i];
        v.data()[i] = 0.999f * v.data()[i] + 0.001f * g.data()[i] * g.data()[i];
        want.data()[i] -= 0.01f * (m.data()[i] / c1) / (std::sqrt(v.data()[i] / c2) + 1e-8f);
      }
    }
    const T adam = step_with(
        [](std::vector<V> p) {
          return ag::nn::Adam<float>(std::move(p), {.lr = 0.01, .weight_decay = 0.1, .decoupled = true});
        },
        2);
    CHECK(error(adam, want) < 1e-5);
    // Adam with weight decay added to the gradient (coupled), one step.
    m = ag::full<float>(ag::to_shape(w0.shape()), 0.0f), v = m, want = w0;
    for (std::size_t i = 0; i < want.size(); ++i) {
      const float gi = g.data()[i] + 0.1f * want.data()[i];
      m.data()[i] = 0.1f * gi;
      v.data()[i] = 0.001f * gi * gi;
      want.data()[i] -= 0.01f * (m.data()[i] / 0.1f) / (std::sqrt(v.data()[i] / 0.001f) + 1e-8f);
    }
    const T coupled = step_with(
        [](std::vector<V> p) { return ag::nn::Adam<float>(std::move(p), {.lr = 0.01, .weight_decay = 0.1}); }, 1);
    CHECK(error(coupled, want) < 1e-5);
    // SGD with weight decay and no momentum, one step.
    for (std::size_t i = 0; i < want.size(); ++i)
      want.data()[i] = w0.data()[i] - 0.1f * (g.data()[i] + 0.01f * w0.data()[i]);
    const T plain = step_with(
        [](std::vector<V> p) { return ag::nn::SGD<float>(std::move(p), {.lr = 0.1, .weight_decay = 0.01}); }, 1);
    CHECK(error(plain, want) < 1e-6);
  });
}

// broadcast_to copies by runs (autograd/ops/shape.cpp), merging neighbouring axes that are both
// repeated or both a's, and splits the runs over the threads: every pattern of repeated axes, at
// sizes below and above the split, against xtensor's own broadcast.
TEST_CASE(
    "broadcast_to copies what xtensor's broadcast gives, every pattern of repeated axes, at one and two threads") {
  std::mt19937 rng(99);
  at_one_and_two_threads([&](int) {
    for (int trial = 0; trial < 300; ++trial) {
      const std::size_t rank = 1 + rng() % 4, lead = rng() % 2;
      ag::Shape out_shape, a_shape;
      for (std::size_t i = 0; i < rank; ++i) {
        const std::size_t size = trial % 3 == 0 ? 1 + rng() % 70 : 1 + rng() % 6;
        out_shape.push_back(size);
        if (i >= lead) a_shape.push_back(rng() % 2 ? size : 1);
      }
      const T a = random(a_shape);
      const T got = ag::broadcast_to(V(a), out_shape).value();
      const T want = xt::broadcast(a, out_shape);
      CAPTURE(ag::shape_str(a_shape));
      CAPTURE(ag::shape_str(out_shape));
      REQUIRE(ag::shapes_equal(got, want));
      CHECK(std::equal(got.begin(), got.end(), want.begin()));
    }
    // Edge shapes: empty outputs, several leading axes, all axes of size 1, a 0-d source.
    const std::vector<std::pair<ag::Shape, ag::Shape>> edges{
        {{3, 1}, {0, 3, 4}}, {{1, 4}, {2, 0, 4}}, {{2}, {3, 1, 4, 2}}, {{1, 1}, {1, 1, 1}}, {{}, {1}}, {{}, {2, 3}}};
    for (const auto& [a_shape, out_shape] : edges) {
      const T a = random(a_shape);
      const T got = ag::broadcast_to(V(a), out_shape).value();
      const T want = xt::broadcast(a, out_shape);
      CAPTURE(ag::shape_str(out_shape));
      REQUIRE(ag::shapes_equal(got, want));
      CHECK(std::equal(got.begin(), got.end(), want.begin()));
    }
    // A scalar, a row and a column spread over a large matrix: split over the threads.
    for (const ag::Shape& a_shape : std::vector<ag::Shape>{{}, {1, kCols}, {kRows, 1}, {kCols}}) {
      const T a = random(a_shape);
      const T got = ag::broadcast_to(V(a), {kRows, kCols}).value();
      const T want = xt::broadcast(a, ag::Shape{kRows, kCols});
      CHECK(std::equal(got.begin(), got.end(), want.begin()));
    }
  });
}
