// The slides' backpropagation written out on plain doubles, independent of the engine: the
// reference of tests/course_example_test.cpp and tests/playground_test.cpp.
#pragma once

#include <cmath>

namespace test {

// The slides' algorithm, literally, on plain numbers: Delta_j = y - a_j at the output,
// Delta_i = g'(in_i) sum_j w_{i,j} Delta_j below, w_{i,j} += alpha a_i Delta_j.
struct ByHand {
  double w1[2][2], w2[2][2], w3[2];
  double in1[2], a1[2], in2[2], a2[2], in3, a3, d3, d2[2], d1[2];

  static double g(double z) { return 1 / (1 + std::exp(-z)); }

  void step(const double x[2], double y, double alpha) {
    for (int j = 0; j < 2; ++j) a1[j] = g(in1[j] = x[0] * w1[0][j] + x[1] * w1[1][j]);
    for (int j = 0; j < 2; ++j) a2[j] = g(in2[j] = a1[0] * w2[0][j] + a1[1] * w2[1][j]);
    a3 = g(in3 = a2[0] * w3[0] + a2[1] * w3[1]);
    d3 = y - a3;
    for (int i = 0; i < 2; ++i) d2[i] = a2[i] * (1 - a2[i]) * w3[i] * d3;
    for (int i = 0; i < 2; ++i) d1[i] = a1[i] * (1 - a1[i]) * (w2[i][0] * d2[0] + w2[i][1] * d2[1]);
    for (int i = 0; i < 2; ++i) {
      w3[i] += alpha * a2[i] * d3;
      for (int j = 0; j < 2; ++j) {
        w2[i][j] += alpha * a1[i] * d2[j];
        w1[i][j] += alpha * x[i] * d1[j];
      }
    }
  }
};

inline ByHand slides_by_hand() {
  return {{{0.5, -1.0}, {1.5, -2.0}}, {{1.0, -1.0}, {3.0, -4.0}}, {1.0, -3.0}, {}, {}, {}, {}, 0, 0, 0, {}, {}};
}

}  // namespace test
