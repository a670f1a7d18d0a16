// Checking gradients against finite differences, as PyTorch's gradcheck and gradgradcheck do.
//
// The function's Jacobian is built twice, in double precision: analytically (one backward per
// output element) and numerically (central differences, one pair of evaluations per input
// element). An element passes when |analytic - numeric| <= atol + rtol * |numeric|.
//
//   auto f = [](const std::vector<ag::Variable<double>>& x) { return ag::sum(ag::tanh(x[0]) * x[1]); };
//   auto report = ag::gradcheck(f, {a, b});
//   CHECK_MESSAGE(report.ok, report.summary());
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "autograd/variable.hpp"

namespace ag {

struct GradcheckOptions {
  double eps = 1e-6;   // finite-difference step
  double atol = 1e-5;  // absolute tolerance
  double rtol = 1e-3;  // relative tolerance
};

// The worst disagreement found for one input.
struct InputReport {
  std::size_t input = 0;
  double max_abs_error = 0;  // max |analytic - numeric|
  double max_rel_error = 0;  // max |analytic - numeric| / max(|numeric|, eps)
  // The element most out of tolerance: its flat index in the input and in the output, both values,
  // and mlpack's scale-free |a - n| / |a + n| for it.
  std::size_t worst_input_element = 0, worst_output_element = 0;
  double analytic = 0, numeric = 0, scale_free = 0;
  bool ok = true;
};

struct GradcheckReport {
  bool ok = true;
  std::vector<InputReport> inputs;
  // One line per input: the worst errors, and where they occur when the check failed.
  std::string summary() const;
};

using DifferentiableFunction = std::function<Variable<double>(const std::vector<Variable<double>>&)>;

// First derivatives of f at `inputs` (each becomes a leaf that requires grad).
GradcheckReport gradcheck(const DifferentiableFunction& f, const std::vector<Tensor<double>>& inputs,
                          GradcheckOptions options = {});

// Second derivatives: checks, by gradcheck, the function (inputs, v) -> v^T J_f(inputs), which
// backward computes with create_graph. v is drawn at random (fixed seed) with f's output shape.
GradcheckReport gradgradcheck(const DifferentiableFunction& f, const std::vector<Tensor<double>>& inputs,
                              GradcheckOptions options = {});

}  // namespace ag
