#include "course_step.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "../course_network.hpp"

namespace playground {

namespace {

course::Tensor matrix(const std::array<double, 4>& w) {
  return course::Tensor{{w[0], w[1]}, {w[2], w[3]}};
}

course::Network network(const CourseInput& in) {
  return {course::V(matrix(in.w1), true), course::V(matrix(in.w2), true),
          course::V(ag::tensor<double>({in.w3[0], in.w3[1]}, {2, 1}), true)};
}

template <std::size_t N>
std::array<double, N> flat(const course::Tensor& t) {
  std::array<double, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = t.data()[i];
  return out;
}

void check_finite(const CourseInput& in) {
  const auto check = [](double v, const std::string& name) {
    if (!std::isfinite(v)) throw std::invalid_argument(fmt::format("{} is not a finite number", name));
  };
  check(in.x1, "x1");
  check(in.x2, "x2");
  check(in.y, "y");
  check(in.alpha, "alpha");
  const char* w1[] = {"w_{x1,h1}", "w_{x1,h2}", "w_{x2,h1}", "w_{x2,h2}"};
  const char* w2[] = {"w_{h1,h3}", "w_{h1,h4}", "w_{h2,h3}", "w_{h2,h4}"};
  for (std::size_t i = 0; i < 4; ++i) check(in.w1[i], w1[i]);
  for (std::size_t i = 0; i < 4; ++i) check(in.w2[i], w2[i]);
  check(in.w3[0], "w_{h3,y}");
  check(in.w3[1], "w_{h4,y}");
}

}  // namespace

CourseInput slides_input() {
  return {.x1 = 2, .x2 = -1, .y = 1, .alpha = 0.2, .w1 = {0.5, -1, 1.5, -2}, .w2 = {1, -1, 3, -4}, .w3 = {1, -3}};
}

CourseInput exercise_input() {
  CourseInput z = course_step(slides_input()).updated;
  z.x1 = 1;
  z.x2 = 2;
  z.y = 0;
  return z;
}

CourseStep course_step(const CourseInput& input, bool with_graph) {
  check_finite(input);
  course::Network net = network(input);
  course::Pass p = course::forward(net, course::Tensor{{input.x1, input.x2}}, input.y);
  const course::Deltas d = course::deltas(p);

  CourseStep s;
  s.in_h12 = flat<2>(p.in_h12.value());
  s.a_h12 = flat<2>(p.a_h12.value());
  s.in_h34 = flat<2>(p.in_h34.value());
  s.a_h34 = flat<2>(p.a_h34.value());
  s.in_y = p.in_y.value()(0, 0);
  s.a_y = p.a_y.value()(0, 0);
  s.loss = p.loss.value()();
  s.delta_y = d.y(0, 0);
  s.delta_h12 = flat<2>(d.h12);
  s.delta_h34 = flat<2>(d.h34);

  ag::backward(p.loss, {.retain_graph = with_graph});
  if (with_graph) {
    s.graph = ag::graph_table(p.loss);
    s.dot = ag::to_dot(p.loss);
  }
  s.grad_w1 = flat<4>(net.w1.grad().value());
  s.grad_w2 = flat<4>(net.w2.grad().value());
  s.grad_w3 = flat<2>(net.w3.grad().value());
  course::step(net, input.alpha);
  s.updated = input;
  s.updated.w1 = flat<4>(net.w1.value());
  s.updated.w2 = flat<4>(net.w2.value());
  s.updated.w3 = flat<2>(net.w3.value());
  return s;
}

std::string shape_error_example() {
  try {
    const course::V x(course::Tensor{{2.0, -1.0}});
    const course::V w(ag::tensor<double>({1.0, -3.0, 0.5}, {3, 1}));
    static_cast<void>(ag::matmul(x, w));
  } catch (const ag::ShapeError& e) {
    return e.what();
  }
  return "";
}

}  // namespace playground
