// The playground's first panel: one step of the course's worked example (course_network.hpp) on
// any x, y, alpha and weights, every figure the slides show computed by the engine.
#pragma once

#include <array>
#include <string>

namespace playground {

// Weights in the slides' order: w1 = [w_{x1,h1}, w_{x1,h2}, w_{x2,h1}, w_{x2,h2}],
// w2 = [w_{h1,h3}, w_{h1,h4}, w_{h2,h3}, w_{h2,h4}], w3 = [w_{h3,y}, w_{h4,y}].
struct CourseInput {
  double x1 = 0, x2 = 0, y = 0, alpha = 0;
  std::array<double, 4> w1{}, w2{};
  std::array<double, 2> w3{};
};

struct CourseStep {
  std::array<double, 2> in_h12{}, a_h12{}, in_h34{}, a_h34{};
  double in_y = 0, a_y = 0, loss = 0;
  // Delta_j = -dLoss/d in_j, as the slides define it.
  double delta_y = 0;
  std::array<double, 2> delta_h12{}, delta_h34{};
  // dLoss/dw, in the weights' order above.
  std::array<double, 4> grad_w1{}, grad_w2{};
  std::array<double, 2> grad_w3{};
  CourseInput updated;     // the input with w <- w - alpha dLoss/dw (= w_{i,j} + alpha a_i Delta_j)
  std::string graph, dot;  // the recorded graph: ag::graph_table and ag::to_dot
};

// The slides' example: x = [2, -1], y = 1, alpha = 0.2 and their initial weights.
CourseInput slides_input();
// Exercise 1: z = [1, 2], y = 0, on the weights after the slides' step.
CourseInput exercise_input();
// Throws std::invalid_argument, naming the figure, when an input is not a finite number. The
// recorded graph's two texts are left empty unless asked for: they cost more than the step.
CourseStep course_step(const CourseInput& input, bool with_graph = false);

// The engine's own error for a product of mismatched shapes, caught: what the page shows.
std::string shape_error_example();

}  // namespace playground
