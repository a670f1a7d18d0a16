// The playground's engine side (tutorials/playground/): the course step on any input against the
// slides' algorithm by hand, the toy datasets, the trainer, its maps and its gradient check. The
// same file runs natively and in the WebAssembly suite under node.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <set>
#include <stdexcept>
#include <string>

#include "../tutorials/playground/course_step.hpp"
#include "../tutorials/playground/trainer.hpp"
#include "course_by_hand.hpp"

namespace {

using playground::CourseInput;

constexpr double kExact = 1e-12;

test::ByHand by_hand(const CourseInput& in) {
  test::ByHand h{};
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) {
      h.w1[i][j] = in.w1[static_cast<std::size_t>(2 * i + j)];
      h.w2[i][j] = in.w2[static_cast<std::size_t>(2 * i + j)];
    }
    h.w3[i] = in.w3[static_cast<std::size_t>(i)];
  }
  const double x[2] = {in.x1, in.x2};
  h.step(x, in.y, in.alpha);
  return h;
}

void check_against_hand(const CourseInput& in) {
  const playground::CourseStep s = playground::course_step(in);
  const test::ByHand h = by_hand(in);
  for (std::size_t j = 0; j < 2; ++j) {
    CHECK(s.in_h12[j] == doctest::Approx(h.in1[j]).epsilon(kExact));
    CHECK(s.a_h12[j] == doctest::Approx(h.a1[j]).epsilon(kExact));
    CHECK(s.in_h34[j] == doctest::Approx(h.in2[j]).epsilon(kExact));
    CHECK(s.a_h34[j] == doctest::Approx(h.a2[j]).epsilon(kExact));
    CHECK(s.delta_h12[j] == doctest::Approx(h.d1[j]).epsilon(kExact));
    CHECK(s.delta_h34[j] == doctest::Approx(h.d2[j]).epsilon(kExact));
  }
  CHECK(s.a_y == doctest::Approx(h.a3).epsilon(kExact));
  CHECK(s.delta_y == doctest::Approx(in.y - h.a3).epsilon(kExact));
  // Cross-entropy on the output: -y log a - (1 - y) log(1 - a).
  CHECK(s.loss == doctest::Approx(-in.y * std::log(h.a3) - (1 - in.y) * std::log(1 - h.a3)).epsilon(1e-10));
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(s.updated.w3[i] == doctest::Approx(h.w3[i]).epsilon(kExact));
    // dLoss/dw_{i,y} = -a_i Delta_y
    CHECK(s.grad_w3[i] == doctest::Approx(-h.a2[i] * (in.y - h.a3)).epsilon(kExact));
    for (std::size_t j = 0; j < 2; ++j) {
      CHECK(s.updated.w1[2 * i + j] == doctest::Approx(h.w1[i][j]).epsilon(kExact));
      CHECK(s.updated.w2[2 * i + j] == doctest::Approx(h.w2[i][j]).epsilon(kExact));
      CHECK(s.grad_w2[2 * i + j] == doctest::Approx(-h.a1[i] * h.d2[j]).epsilon(kExact));
    }
  }
  const double x[2] = {in.x1, in.x2};
  for (std::size_t i = 0; i < 2; ++i) {
    for (std::size_t j = 0; j < 2; ++j) CHECK(s.grad_w1[2 * i + j] == doctest::Approx(-x[i] * h.d1[j]).epsilon(kExact));
  }
  CHECK(s.updated.x1 == in.x1);
  CHECK(s.updated.alpha == in.alpha);
}

}  // namespace

TEST_CASE("playground: the course step equals the slides' algorithm by hand, on the slides' input and on random ones") {
  check_against_hand(playground::slides_input());
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-3, 3);
  for (int trial = 0; trial < 5; ++trial) {
    CourseInput in;
    in.x1 = u(rng);
    in.x2 = u(rng);
    in.y = trial % 2;
    in.alpha = 0.5 + 0.1 * u(rng);
    for (double& w : in.w1) w = u(rng);
    for (double& w : in.w2) w = u(rng);
    for (double& w : in.w3) w = u(rng);
    check_against_hand(in);
  }
}

TEST_CASE("playground: the slides' input, Exercise 1's, the recorded graph and the errors shown") {
  const CourseInput s = playground::slides_input();
  CHECK(s.x1 == 2);
  CHECK(s.x2 == -1);
  CHECK(s.y == 1);
  CHECK(s.alpha == 0.2);
  CHECK(s.w1 == std::array<double, 4>{0.5, -1, 1.5, -2});
  CHECK(s.w2 == std::array<double, 4>{1, -1, 3, -4});
  CHECK(s.w3 == std::array<double, 2>{1, -3});
  // Exercise 1: z = [1, 2], y = 0 on the weights after the slides' step.
  const CourseInput z = playground::exercise_input();
  const test::ByHand after = by_hand(s);
  CHECK(z.x1 == 1);
  CHECK(z.x2 == 2);
  CHECK(z.y == 0);
  CHECK(z.w1[1] == doctest::Approx(after.w1[0][1]).epsilon(kExact));
  CHECK(z.w3[1] == doctest::Approx(after.w3[1]).epsilon(kExact));

  const playground::CourseStep step = playground::course_step(s, true);
  CHECK(playground::course_step(s).graph.empty());  // the figures alone unless asked
  CHECK(step.graph.find("matmul") != std::string::npos);
  CHECK(step.graph.find("sigmoid") != std::string::npos);
  CHECK(step.dot.rfind("digraph", 0) == 0);

  CourseInput bad = s;
  bad.w2[2] = std::nan("");
  CHECK_THROWS_WITH_AS(playground::course_step(bad), "w_{h2,h3} is not a finite number", std::invalid_argument);
  bad = s;
  bad.alpha = INFINITY;
  CHECK_THROWS_WITH_AS(playground::course_step(bad), "alpha is not a finite number", std::invalid_argument);

  const std::string error = playground::shape_error_example();
  CHECK(error.find("matmul") != std::string::npos);
  CHECK(error.find("[1, 2]") != std::string::npos);
  CHECK(error.find("[3, 1]") != std::string::npos);
}

TEST_CASE("playground: each dataset has its shape, half of each class, its split, and repeats by seed") {
  for (const char* kind : {"xor", "circles", "spirals", "gaussians"}) {
    INFO(kind);
    const playground::Dataset d = playground::make_dataset(kind, 200, 0, 0.3, 5);
    REQUIRE(d.x.size() == 400);
    REQUIRE(d.label.size() == 200);
    std::size_t positive = 0, train = 0;
    for (std::size_t i = 0; i < 200; ++i) {
      const double x = d.x[2 * i], y = d.x[2 * i + 1], r = std::hypot(x, y);
      positive += d.label[i] == 1;
      train += d.train[i];
      CHECK((d.label[i] == 0 || d.label[i] == 1));
      if (std::string(kind) == "xor") {
        CHECK(std::max(std::abs(x), std::abs(y)) <= 1);
        CHECK((x * y > 0) == (d.label[i] == 1));
      } else if (std::string(kind) == "circles") {
        CHECK((d.label[i] == 1 ? r <= 0.5 : (r >= 0.7 && r <= 1.0 + 1e-6)));
      } else if (std::string(kind) == "gaussians") {
        CHECK(((x + y > 0) == (d.label[i] == 1) || r > 0.4));  // the blobs' centres are 0.64 from the origin
      } else {
        CHECK(r <= 0.95 + 1e-6);
      }
    }
    CHECK(positive == 100);
    CHECK(train == 60);
    const playground::Dataset again = playground::make_dataset(kind, 200, 0, 0.3, 5);
    CHECK(again.x == d.x);
    CHECK(again.train == d.train);
    CHECK(playground::make_dataset(kind, 200, 0.1, 0.3, 5).x != d.x);  // the noise moves the points
  }
  CHECK_THROWS_WITH_AS(playground::make_dataset("moons", 200, 0, 0.5, 1),
                       "dataset: \"moons\" is not one of xor, circles, spirals, gaussians", std::invalid_argument);
  CHECK_THROWS_AS(playground::make_dataset("xor", 1, 0, 0.5, 1), std::invalid_argument);
  CHECK_THROWS_AS(playground::make_dataset("xor", 200, 0, 1.0, 1), std::invalid_argument);
}

TEST_CASE("playground: a 2-8-8-1 tanh network learns XOR, its maps are laid out as the page draws them") {
  playground::Trainer t({.dataset = "xor", .seed = 3, .hidden = {8, 8}, .learning_rate = 0.1});
  const playground::Figures before = t.figures();
  playground::Figures f = before;
  while (f.train_accuracy < 1 && f.steps < 5000) f = t.step(50);
  CHECK(f.train_accuracy == 1);
  CHECK(f.test_accuracy >= 0.95);
  CHECK(f.train_loss < before.train_loss / 2);

  // The grid's first row is the top (y = +1), each row from left (x = -1): XOR's corners.
  const int n = 11;
  const std::vector<float> map = t.output_map(n, 1.0);
  REQUIRE(map.size() == static_cast<std::size_t>(n * n));
  CHECK(map.front() < 0.5);                                 // (-1, 1): x y < 0
  CHECK(map[static_cast<std::size_t>(n - 1)] > 0.5);        // (1, 1)
  CHECK(map[static_cast<std::size_t>(n * (n - 1))] > 0.5);  // (-1, -1)
  CHECK(map.back() < 0.5);                                  // (1, -1)

  const auto units = t.unit_maps(n, 1.0);
  REQUIRE(units.size() == 16);
  CHECK(units[7].layer == 0);
  CHECK(units[7].unit == 7);
  CHECK(units[8].layer == 1);
  CHECK(units[8].unit == 0);
  for (const auto& u : units) {
    REQUIRE(u.values.size() == static_cast<std::size_t>(n * n));
    for (float v : u.values) CHECK((v > -1 && v < 1));
  }
  CHECK_THROWS_AS(t.output_map(1, 1.0), std::invalid_argument);
}

TEST_CASE("playground: the gradient check of the network passes, penalties included, and counts every parameter") {
  for (const char* activation : {"tanh", "relu", "sigmoid", "linear"}) {
    INFO(activation);
    playground::Trainer t(
        {.dataset = "circles", .noise = 0.1, .hidden = {3, 2}, .activation = activation, .l1 = 0.01, .l2 = 0.02});
    t.step(20);
    const playground::GradcheckResult r = t.gradcheck();
    CHECK_MESSAGE(r.passed, r.message);
    CHECK(r.checked == 2 * 3 + 3 + 3 * 2 + 2 + 2 * 1 + 1);
    CHECK(r.max_error < 1e-6);
  }
}

TEST_CASE("playground: a setting out of range is an error naming it") {
  using playground::TrainerConfig;
  CHECK_THROWS_WITH_AS(playground::Trainer(TrainerConfig{.hidden = {4, 9}}), "units: 9 is outside 1 .. 8",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(playground::Trainer(TrainerConfig{.activation = "gelu"}),
                       "activation: \"gelu\" is not one of tanh, relu, sigmoid, linear", std::invalid_argument);
  CHECK_THROWS_WITH_AS(playground::Trainer(TrainerConfig{.batch_size = 0}), "batch size: 0 is outside 1 .. 10000",
                       std::invalid_argument);
  CHECK_THROWS_AS(playground::Trainer(TrainerConfig{.learning_rate = -1}), std::invalid_argument);
  CHECK_THROWS_AS(playground::Trainer(TrainerConfig{.hidden = {1, 1, 1, 1, 1, 1, 1}}), std::invalid_argument);
}
