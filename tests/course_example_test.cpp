// The course's hand-worked backpropagation (2-2-2-1 sigmoid network, x = [2, -1], y = 1,
// alpha = 0.2), reproduced by the engine: against an independent plain-double run of the slides'
// algorithm to the last digit, and against every figure the slides print.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <string>

#include "../tutorials/course_network.hpp"
#include "course_by_hand.hpp"

namespace {

using test::ByHand;
using test::slides_by_hand;

constexpr double kExact = 1e-12;

// A printed figure is the engine's value rounded to the printed decimals, unless the slides' own
// rounding carried it off (then their formula on their own printed inputs gives the printed
// figure) or their arithmetic slipped (then even that gives the engine's rounded value).
void check_printed(const course::Figure& f) {
  const double unit = std::pow(10.0, -f.decimals);
  const auto round = [unit](double v) { return std::round(v / unit) * unit; };
  INFO(f.name << ": slides " << f.printed << ", engine " << f.engine);
  if (f.kind == course::Printed::exact) {
    CHECK(round(f.engine) == doctest::Approx(f.printed).epsilon(1e-12));
    return;
  }
  CHECK(std::abs(round(f.engine) - f.printed) == doctest::Approx(unit).epsilon(1e-9));
  if (f.kind == course::Printed::rounding_carried) {
    CHECK(round(f.from_printed) == doctest::Approx(f.printed).epsilon(1e-12));
  } else {
    CHECK(round(f.from_printed) == doctest::Approx(round(f.engine)).epsilon(1e-12));
  }
  MESSAGE(course::describe(f));
}

}  // namespace

TEST_CASE("the course's worked example, forward, Deltas, update, exactly") {
  course::Network net = course::slides_network();
  const course::Tensor x{{2.0, -1.0}};
  const course::Pass p = course::forward(net, x, 1.0);
  const course::Deltas d = course::deltas(p);
  course::update(net, p, 0.2);
  const course::Pass after = course::forward(net, x, 1.0);

  ByHand hand = slides_by_hand();
  const double xs[2] = {2.0, -1.0};
  hand.step(xs, 1.0, 0.2);

  for (std::size_t j = 0; j < 2; ++j) {
    CHECK(p.in_h12.value()(0, j) == doctest::Approx(hand.in1[j]).epsilon(kExact));
    CHECK(p.a_h12.value()(0, j) == doctest::Approx(hand.a1[j]).epsilon(kExact));
    CHECK(p.a_h34.value()(0, j) == doctest::Approx(hand.a2[j]).epsilon(kExact));
    CHECK(d.h34(0, j) == doctest::Approx(hand.d2[j]).epsilon(kExact));
    CHECK(d.h12(0, j) == doctest::Approx(hand.d1[j]).epsilon(kExact));
    CHECK(net.w3.value()(j, 0) == doctest::Approx(hand.w3[j]).epsilon(kExact));
    for (std::size_t i = 0; i < 2; ++i) {
      CHECK(net.w1.value()(i, j) == doctest::Approx(hand.w1[i][j]).epsilon(kExact));
      CHECK(net.w2.value()(i, j) == doctest::Approx(hand.w2[i][j]).epsilon(kExact));
    }
  }
  CHECK(p.a_y.value()(0, 0) == doctest::Approx(hand.a3).epsilon(kExact));
  CHECK(d.y(0, 0) == doctest::Approx(hand.d3).epsilon(kExact));

  const auto figures = course::slide_figures(p, d, net, after);
  CHECK(figures.size() == 23);
  int slips = 0;
  for (const course::Figure& f : figures) {
    check_printed(f);
    slips += f.kind != course::Printed::exact;
  }
  CHECK(slips == 9);
}

TEST_CASE("Exercise 1: z = [1, 2] is predicted class 0, and the network after its update (y = 0)") {
  course::Network net = course::slides_network();
  const course::Tensor x{{2.0, -1.0}}, z{{1.0, 2.0}};
  course::update(net, course::forward(net, x, 1.0), 0.2);
  ByHand hand = slides_by_hand();
  const double xs[2] = {2.0, -1.0}, zs[2] = {1.0, 2.0};
  hand.step(xs, 1.0, 0.2);

  const course::Pass p = course::forward(net, z, 0.0);
  const double a = p.a_y.value()(0, 0);
  CHECK(a < 0.5);  // class 0, which is z's label: the prediction is right
  CHECK(a == doctest::Approx(0.4927941615181143).epsilon(1e-12));
  course::update(net, p, 0.2);
  hand.step(zs, 0.0, 0.2);
  CHECK(hand.a3 == doctest::Approx(a).epsilon(kExact));
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(net.w3.value()(i, 0) == doctest::Approx(hand.w3[i]).epsilon(kExact));
    for (std::size_t j = 0; j < 2; ++j) {
      CHECK(net.w1.value()(i, j) == doctest::Approx(hand.w1[i][j]).epsilon(kExact));
      CHECK(net.w2.value()(i, j) == doctest::Approx(hand.w2[i][j]).epsilon(kExact));
    }
  }
}

TEST_CASE("the slides' Delta = y - a is the gradient of the cross-entropy, not of the squared error") {
  const course::Network net = course::slides_network();
  const course::Pass p = course::forward(net, course::Tensor{{2.0, -1.0}}, 1.0);
  const double a = p.a_y.value()(0, 0);
  const auto cross_entropy = ag::grad(p.loss, {p.in_y}, {}, {.retain_graph = true})[0].value()(0, 0);
  const course::V squared = ag::sum(ag::pow(1.0 - p.a_y, 2.0) * 0.5);
  const auto squared_error = ag::grad(squared, {p.in_y})[0].value()(0, 0);
  CHECK(-cross_entropy == doctest::Approx(1.0 - a).epsilon(kExact));
  CHECK(-squared_error == doctest::Approx((1.0 - a) * a * (1 - a)).epsilon(kExact));
  CHECK(std::abs(squared_error - cross_entropy) > 0.1);
}
