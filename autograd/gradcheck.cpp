#include "autograd/gradcheck.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <random>

#include "autograd/backward.hpp"
#include "autograd/ops.hpp"

namespace ag {

namespace {

std::vector<Variable<double>> leaves(const std::vector<Tensor<double>>& inputs) {
  std::vector<Variable<double>> out;
  for (const Tensor<double>& t : inputs) out.emplace_back(t, true);
  return out;
}

// f's output at `inputs`, as a flat copy.
std::vector<double> evaluate(const DifferentiableFunction& f, const std::vector<Tensor<double>>& inputs) {
  const Variable<double> y = f(leaves(inputs));
  return std::vector<double>(y.value().begin(), y.value().end());
}

// jacobian[i][o * n_i + p] = d output[o] / d input_i[p]
using Jacobians = std::vector<std::vector<double>>;

// The analytic Jacobians, and how many elements f's output has.
std::pair<Jacobians, std::size_t> analytic_jacobians(const DifferentiableFunction& f,
                                                     const std::vector<Tensor<double>>& inputs) {
  std::vector<Variable<double>> x = leaves(inputs);
  const Variable<double> y = f(x);
  Jacobians jac(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) jac[i].assign(y.size() * inputs[i].size(), 0.0);
  if (!y.requires_grad()) return {jac, y.size()};  // f does not depend on its inputs: its Jacobian is zero
  for (std::size_t o = 0; o < y.size(); ++o) {
    Tensor<double> seed = full<double>(y.shape(), 0.0);
    seed.data()[o] = 1.0;
    const std::vector<Variable<double>> g = grad(y, x, Variable<double>(seed), {.retain_graph = true});
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      std::copy(g[i].value().begin(), g[i].value().end(), jac[i].begin() + static_cast<long>(o * inputs[i].size()));
    }
  }
  return {jac, y.size()};
}

Jacobians numeric_jacobians(const DifferentiableFunction& f, std::vector<Tensor<double>> inputs, double eps,
                            std::size_t outputs) {
  Jacobians jac(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::size_t n = inputs[i].size();
    jac[i].assign(outputs * n, 0.0);
    for (std::size_t p = 0; p < n; ++p) {
      double& x = inputs[i].data()[p];
      const double saved = x;
      x = saved + eps;
      const std::vector<double> plus = evaluate(f, inputs);
      x = saved - eps;
      const std::vector<double> minus = evaluate(f, inputs);
      x = saved;
      for (std::size_t o = 0; o < outputs; ++o) jac[i][o * n + p] = (plus[o] - minus[o]) / (2 * eps);
    }
  }
  return jac;
}

InputReport compare(std::size_t input, const std::vector<double>& analytic, const std::vector<double>& numeric,
                    std::size_t input_size, const GradcheckOptions& options) {
  InputReport r;
  r.input = input;
  double worst_excess = -1;
  for (std::size_t k = 0; k < analytic.size(); ++k) {
    const double a = analytic[k], n = numeric[k];
    // A NaN on either side is a failure, and the worst one: NaN compares false with every
    // tolerance, so it must not be left to the comparisons below.
    const bool nan = std::isnan(a) || std::isnan(n);
    const double err = nan ? std::numeric_limits<double>::infinity() : std::abs(a - n);
    r.max_abs_error = std::max(r.max_abs_error, err);
    r.max_rel_error = std::max(r.max_rel_error, err / std::max(std::abs(n), options.eps));
    const double excess = nan ? err : err - (options.atol + options.rtol * std::abs(n));
    if (excess > 0) r.ok = false;
    if (excess > worst_excess) {
      worst_excess = excess;
      r.worst_output_element = k / input_size;
      r.worst_input_element = k % input_size;
      r.analytic = a;
      r.numeric = n;
      r.scale_free = std::abs(a + n) > 0 ? err / std::abs(a + n) : 0;
    }
  }
  return r;
}

}  // namespace

std::string GradcheckReport::summary() const {
  std::string out = ok ? "gradcheck passed\n" : "gradcheck FAILED\n";
  for (const InputReport& r : inputs) {
    out += fmt::format("  input {}: {} max abs error {:.3g}, max rel error {:.3g}", r.input, r.ok ? "ok  " : "FAIL",
                       r.max_abs_error, r.max_rel_error);
    if (!r.ok) {
      out += fmt::format(
          "; worst at input element {} / output element {}: analytic {:.10g}, numeric {:.10g} "
          "(|a-n|/|a+n| = {:.3g})",
          r.worst_input_element, r.worst_output_element, r.analytic, r.numeric, r.scale_free);
    }
    out += "\n";
  }
  return out;
}

GradcheckReport gradcheck(const DifferentiableFunction& f, const std::vector<Tensor<double>>& inputs,
                          GradcheckOptions options) {
  const auto [analytic, outputs] = analytic_jacobians(f, inputs);
  const Jacobians numeric = numeric_jacobians(f, inputs, options.eps, outputs);
  GradcheckReport report;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    report.inputs.push_back(compare(i, analytic[i], numeric[i], std::max<std::size_t>(inputs[i].size(), 1), options));
    report.ok = report.ok && report.inputs.back().ok;
  }
  return report;
}

GradcheckReport gradgradcheck(const DifferentiableFunction& f, const std::vector<Tensor<double>>& inputs,
                              GradcheckOptions options) {
  const Shape output_shape = f(leaves(inputs)).shape();
  std::mt19937 rng(20171);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  Tensor<double> v = uninitialized<double>(output_shape);
  for (double& e : v) e = uniform(rng);

  // (x..., v) -> the first-order gradients v^T J, flattened and joined into one output.
  const std::size_t n = inputs.size();
  const DifferentiableFunction first_order = [&f, n](const std::vector<Variable<double>>& xv) {
    const std::vector<Variable<double>> x(xv.begin(), xv.begin() + static_cast<long>(n));
    const std::vector<Variable<double>> g = grad(f(x), x, xv[n], {.create_graph = true});
    std::vector<Variable<double>> flat;
    for (const Variable<double>& gi : g) flat.push_back(flatten(gi));
    return concat(flat);
  };
  std::vector<Tensor<double>> extended = inputs;
  extended.push_back(v);
  return gradcheck(first_order, extended, options);
}

}  // namespace ag
