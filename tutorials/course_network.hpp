// The course's worked example (slides "Backpropagation of the gradient" to "Exercise 1"): a
// 2-2-2-1 network of sigmoid units without biases, as an expression for the engine.
//
// Weights are matrices whose entry (i, j) is the slides' w_{i,j}, from unit i of one layer to
// unit j of the next:
//   w1 = | w_{x1,h1}  w_{x1,h2} |    w2 = | w_{h1,h3}  w_{h1,h4} |    w3 = | w_{h3,y} |
//        | w_{x2,h1}  w_{x2,h2} |         | w_{h2,h3}  w_{h2,h4} |         | w_{h4,y} |
//
// The loss. The slides set the output's Delta = y - a and call it -dLoss/d in. For a sigmoid
// output a = g(in) that is exactly the negative gradient of the cross-entropy
//   Loss = -y log a - (1 - y) log(1 - a),   dLoss/d in = a - y,
// not of the squared error (y - a)^2 / 2, whose gradient a - y would carry an extra g'(in) =
// a (1 - a). So the engine is given the cross-entropy, written on the logit `in` in its stable
// form softplus(in) - y in, and every Delta of the slides is -dLoss/d in_j.
#pragma once

#include <autograd/autograd.hpp>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

namespace course {

using V = ag::Variable<double>;
using Tensor = ag::Tensor<double>;

struct Network {
  V w1, w2, w3;
};

// The initial weights, as read off the slides' forward-pass and weight-update lines.
inline Network slides_network() {
  Tensor w3{1.0, -3.0};
  w3.reshape({2, 1});
  return {V(Tensor{{0.5, -1.0}, {1.5, -2.0}}, true), V(Tensor{{1.0, -1.0}, {3.0, -4.0}}, true), V(w3, true)};
}

// Every in_j and a_j of one forward pass, and the loss.
struct Pass {
  V in_h12, a_h12;  // [1, 2]: hidden units h1, h2
  V in_h34, a_h34;  // [1, 2]: hidden units h3, h4
  V in_y, a_y;      // [1, 1]: the output
  V loss;
};

inline Pass forward(const Network& net, const Tensor& x_row, double y) {
  Pass p;
  const V x(x_row);
  p.in_h12 = ag::matmul(x, net.w1);
  p.a_h12 = ag::sigmoid(p.in_h12);
  p.in_h34 = ag::matmul(p.a_h12, net.w2);
  p.a_h34 = ag::sigmoid(p.in_h34);
  p.in_y = ag::matmul(p.a_h34, net.w3);
  p.a_y = ag::sigmoid(p.in_y);
  p.loss = ag::sum(ag::softplus(p.in_y) - y * p.in_y);
  return p;
}

// The slides' Deltas, Delta_j = -dLoss/d in_j, for each layer: output, h3 h4, h1 h2.
struct Deltas {
  Tensor y, h34, h12;
};

inline Deltas deltas(const Pass& p) {
  const auto g = ag::grad(p.loss, {p.in_y, p.in_h34, p.in_h12}, {}, {.retain_graph = true});
  return {-g[0].value(), -g[1].value(), -g[2].value()};
}

// One step of gradient descent on the gradients a backward left in the weights:
// w <- w - alpha dLoss/dw, which is the slides' w_{i,j} + alpha a_i Delta_j.
inline void step(Network& net, double alpha) {
  ag::NoGrad no_grad;
  for (V* w : {&net.w1, &net.w2, &net.w3}) {
    w->mutable_value() -= alpha * w->grad().value();
    w->zero_grad();
  }
}

// Backward through the pass, then a step.
inline void update(Network& net, const Pass& p, double alpha) {
  ag::backward(p.loss);
  step(net, alpha);
}

// How a figure printed on the slides relates to the exact one.
enum class Printed {
  exact,             // the exact value, rounded to the printed decimals
  rounding_carried,  // one off in the last digit: computed from figures the slides had already rounded
  arithmetic_slip,   // wrong even when recomputed from the slides' own printed inputs
};

struct Figure {
  std::string name;  // in the slides' notation, with their formula where it matters
  double printed;    // what the slides print
  double engine;     // what the engine computes
  int decimals;      // how many the slides print
  Printed kind;
  double from_printed;  // the slides' formula on their own printed inputs (for the two slip kinds)
};

// Every figure of the worked example, in the slides' order: the forward pass, the Deltas, the
// weights after the update and the recomputed first hidden unit.
inline std::vector<Figure> slide_figures(const Pass& p, const Deltas& d, const Network& updated, const Pass& after) {
  using P = Printed;
  const auto g = [](double v) { return 1 / (1 + std::exp(-v)); };
  const Tensor& w1 = updated.w1.value();
  const Tensor& w2 = updated.w2.value();
  const Tensor& w3 = updated.w3.value();
  return {
      {"a_h1 = g(0.5 x 2 + 1.5 x -1)", 0.378, p.a_h12.value()(0, 0), 3, P::exact, 0},
      {"a_h2 = g(-1 x 2 - 2 x -1)", 0.5, p.a_h12.value()(0, 1), 3, P::exact, 0},
      {"a_h3", 0.867, p.a_h34.value()(0, 0), 3, P::exact, 0},
      {"a_h4", 0.085, p.a_h34.value()(0, 1), 3, P::exact, 0},
      {"in_y = 1 x 0.867 - 3 x 0.085", 0.612, p.in_y.value()(0, 0), 3, P::rounding_carried, 0.867 - 3 * 0.085},
      {"a_y = g(0.612)", 0.648, p.a_y.value()(0, 0), 3, P::rounding_carried, g(0.612)},
      {"Delta_y = y - a = 1 - 0.648", 0.352, d.y(0, 0), 3, P::rounding_carried, 1 - 0.648},
      {"Delta_h3 = 0.867 (1 - 0.867) x 1 x 0.352", 0.041, d.h34(0, 0), 3, P::rounding_carried,
       0.867 * (1 - 0.867) * 0.352},
      {"Delta_h4 = 0.085 (1 - 0.085) x -3 x 0.352", -0.082, d.h34(0, 1), 3, P::exact, 0},
      {"Delta_h1 = 0.378 (1 - 0.378) (1 x 0.041 - 1 x -0.082)", 0.029, d.h12(0, 0), 3, P::exact, 0},
      {"Delta_h2 = 0.5 (1 - 0.5) (3 x 0.041 - 4 x -0.082)", 0.113, d.h12(0, 1), 3, P::rounding_carried,
       0.25 * (3 * 0.041 + 4 * 0.082)},
      {"w_{x1,h1} = 0.5 + 0.2 x 2 x 0.029", 0.512, w1(0, 0), 3, P::exact, 0},
      {"w_{x1,h2} = -1 + 0.2 x 2 x 0.113", -0.954, w1(0, 1), 3, P::arithmetic_slip, -1 + 0.2 * 2 * 0.113},
      {"w_{x2,h1} = 1.5 + 0.2 x -1 x 0.029", 1.494, w1(1, 0), 3, P::exact, 0},
      {"w_{x2,h2} = -2 + 0.2 x -1 x 0.113", -2.022, w1(1, 1), 3, P::exact, 0},
      {"w_{h1,h3} = 1 + 0.2 x 0.378 x 0.041", 1.004, w2(0, 0), 3, P::arithmetic_slip, 1 + 0.2 * 0.378 * 0.041},
      {"w_{h1,h4} = -1 + 0.2 x 0.378 x -0.082", -1.006, w2(0, 1), 3, P::exact, 0},
      {"w_{h2,h3} = 3 + 0.2 x 0.5 x 0.041", 3.004, w2(1, 0), 3, P::exact, 0},
      {"w_{h2,h4} = -4 + 0.2 x 0.5 x -0.082", -4.008, w2(1, 1), 3, P::exact, 0},
      {"w_{h3,y} = 1 + 0.2 x 0.867 x 0.352", 1.062, w3(0, 0), 3, P::arithmetic_slip, 1 + 0.2 * 0.867 * 0.352},
      {"w_{h4,y} = -3 + 0.2 x 0.085 x 0.352", -2.994, w3(1, 0), 3, P::exact, 0},
      {"in_h1 = 0.512 x 2 + 1.494 x -1 (after the update)", -0.47, after.in_h12.value()(0, 0), 2, P::exact, 0},
      {"a_h1 = g(-0.47) (after the update)", 0.385, after.a_h12.value()(0, 0), 3, P::rounding_carried, g(-0.47)},
  };
}

// One line on a figure that differs from the slides, saying which kind of difference it is.
inline std::string describe(const Figure& f) {
  std::ostringstream out;
  out.precision(6);
  if (f.kind == Printed::rounding_carried) {
    out << f.name << ": the slides print " << f.printed << ", the exact value is " << f.engine
        << "; their formula on their own rounded figures gives " << f.from_printed << ", hence the difference";
  } else if (f.kind == Printed::arithmetic_slip) {
    out << f.name << ": the slides print " << f.printed << ", the exact value is " << f.engine
        << "; even their own figures give " << f.from_printed << ": a slip in the slides' arithmetic";
  }
  return out.str();
}

}  // namespace course
