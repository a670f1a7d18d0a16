#include "nn/rbm_estimates.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <xtensor/xview.hpp>

#include "autograd/instantiate.hpp"

namespace ag::nn {

namespace {

using D = Variable<double>;

// The RBM's parameters in double, as constants: every estimate is computed with these.
struct Parameters {
  D w, b, c;
};

template <class T>
Parameters in_double(Rbm<T>& rbm) {
  return {D(xt::cast<double>(rbm.weight().value())), D(xt::cast<double>(rbm.visible_bias().value())),
          D(xt::cast<double>(rbm.hidden_bias().value()))};
}

// Calls f(rows in double) for consecutive batches of at most 1000 rows of `data`; the mean over
// the rows of what f sums. Under NoGrad.
template <class T, class F>
double mean_over_rows(const Tensor<T>& data, F&& f) {
  NoGrad no_grad;
  constexpr std::size_t batch = 1000;
  const std::size_t n = data.shape()[0];
  double total = 0;
  for (std::size_t start = 0; start < n; start += batch) {
    const Tensor<double> rows =
        xt::cast<double>(xt::view(data, xt::range(start, std::min(n, start + batch)), xt::all()));
    total += f(rows);
  }
  return total / static_cast<double>(n);
}

double sum_of(const D& x) {
  return sum(x).item();
}

// log sum exp over a stream of values, kept as a maximum and a sum scaled by it.
struct LogSumExp {
  double max = -std::numeric_limits<double>::infinity(), scaled_sum = 0;
  void add(const Tensor<double>& values) {
    const double block_max = xt::amax(values)();
    if (block_max > max) {
      scaled_sum *= std::exp(max - block_max);
      max = block_max;
    }
    scaled_sum += xt::sum(xt::exp(values - max))();
  }
  double value() const { return max + std::log(scaled_sum); }
};

// Rows of states first..first+count-1 of `units` binary units, unit i of state s being bit i of s.
Tensor<double> states(std::size_t first, std::size_t count, std::size_t units) {
  Tensor<double> s = uninitialized<double>({count, units});
  double* out = s.data();
  for (std::size_t row = 0; row < count; ++row) {
    for (std::size_t i = 0; i < units; ++i) *out++ = static_cast<double>(((first + row) >> i) & 1U);
  }
  return s;
}

}  // namespace

void check_rows(const char* function, const char* what, const Shape& x, std::size_t units, const std::string& model) {
  if (x.size() != 2 || x[0] == 0 || x[1] != units) {
    throw ShapeError(fmt::format("{}: {} of shape {} for {} (expected [N, {}], N >= 1)", function, what, shape_str(x),
                                 model, units));
  }
}

template <class T>
Tensor<T> hidden_probabilities(Rbm<T>& rbm, const Tensor<T>& data) {
  check_rows("hidden_probabilities", rbm, data);
  NoGrad no_grad;
  constexpr std::size_t batch = 1000;
  const std::size_t n = data.shape()[0];
  Tensor<T> out = uninitialized<T>({n, rbm.hidden()});
  for (std::size_t start = 0; start < n; start += batch) {
    const std::size_t stop = std::min(n, start + batch);
    const Tensor<T> rows = xt::view(data, xt::range(start, stop), xt::all());
    xt::view(out, xt::range(start, stop), xt::all()) = rbm.hidden_probability(Variable<T>(rows)).value();
  }
  return out;
}

template <class T>
double reconstruction_error(Rbm<T>& rbm, const Tensor<T>& data) {
  check_rows("reconstruction_error", rbm, data);
  const Parameters p = in_double(rbm);
  return mean_over_rows(data, [&](const Tensor<double>& v) {
    const D hidden = sigmoid(matmul(D(v), p.w) + p.c);
    const D reconstruction = sigmoid(matmul(hidden, p.w, false, true) + p.b);
    const D error = reconstruction - D(v);
    return sum_of(error * error);
  });
}

template <class T>
double pseudo_log_likelihood(Rbm<T>& rbm, const Tensor<T>& data) {
  check_rows("pseudo_log_likelihood", rbm, data);
  const Parameters p = in_double(rbm);
  return mean_over_rows(data, [&](const Tensor<double>& v) {
    const D free_energy = rbm_free_energy(D(v), p.w, p.b, p.c);
    double total = 0;
    for (std::size_t i = 0; i < v.shape()[1]; ++i) {
      Tensor<double> flipped = v;
      auto column = xt::view(flipped, xt::all(), i);
      column = 1.0 - column;
      // p(v_i | v_-i) = e^-F(v) / (e^-F(v) + e^-F(flipped)) = sigmoid(F(flipped) - F(v))
      total += sum_of(log_sigmoid(rbm_free_energy(D(flipped), p.w, p.b, p.c) - free_energy));
    }
    return total;
  });
}

template <class T>
double stochastic_pseudo_log_likelihood(Rbm<T>& rbm, const Tensor<T>& data, Generator& generator) {
  check_rows("stochastic_pseudo_log_likelihood", rbm, data);
  const Parameters p = in_double(rbm);
  const std::size_t units = rbm.visible();
  std::uniform_int_distribution<std::size_t> unit(0, units - 1);
  return mean_over_rows(data, [&](const Tensor<double>& v) {
    Tensor<double> flipped = v;
    for (std::size_t row = 0; row < v.shape()[0]; ++row) {
      const std::size_t i = unit(generator.engine());
      flipped(row, i) = 1.0 - flipped(row, i);
    }
    const D difference = rbm_free_energy(D(flipped), p.w, p.b, p.c) - rbm_free_energy(D(v), p.w, p.b, p.c);
    return static_cast<double>(units) * sum_of(log_sigmoid(difference));
  });
}

template <class T>
double exact_log_partition(Rbm<T>& rbm) {
  const std::size_t units = std::min(rbm.visible(), rbm.hidden());
  if (units > max_enumerated_units) {
    throw std::invalid_argument(
        fmt::format("exact_log_partition: an RBM of {} visible and {} hidden units: its smaller layer has {} units, "
                    "2^{} states to enumerate; the limit is {} units",
                    rbm.visible(), rbm.hidden(), units, units, max_enumerated_units));
  }
  NoGrad no_grad;
  const Parameters p = in_double(rbm);
  // Over the visible states, Z = sum_v e^-F(v); over the hidden ones, the roles swapped
  // (W', c for b, b for c), Z = sum_h e^-F(h). Either sums e^-E over every (v, h).
  const bool over_visible = rbm.visible() <= rbm.hidden();
  const D w = over_visible ? p.w : transpose(p.w);
  const D& near = over_visible ? p.b : p.c;  // the enumerated layer's bias
  const D& far = over_visible ? p.c : p.b;
  const std::size_t count = std::size_t{1} << units;
  constexpr std::size_t block = std::size_t{1} << 16;  // rows per product: few, large kernels
  LogSumExp log_z;
  for (std::size_t first = 0; first < count; first += block) {
    const D s(states(first, std::min(block, count - first), units));
    log_z.add((-rbm_free_energy(s, w, near, far)).value());
  }
  return log_z.value();
}

template <class T>
double log_likelihood(Rbm<T>& rbm, const Tensor<T>& data, double log_z) {
  check_rows("log_likelihood", rbm, data);
  const Parameters p = in_double(rbm);
  const double mean_free_energy =
      mean_over_rows(data, [&](const Tensor<double>& v) { return sum_of(rbm_free_energy(D(v), p.w, p.b, p.c)); });
  return -mean_free_energy - log_z;
}

template <class T>
double exact_log_likelihood(Rbm<T>& rbm, const Tensor<T>& data) {
  check_rows("exact_log_likelihood", rbm, data);
  return log_likelihood(rbm, data, exact_log_partition(rbm));
}

std::vector<double> ais_schedule(std::size_t steps) {
  if (steps < 3) throw std::invalid_argument(fmt::format("ais_schedule: steps = {} (at least 3)", steps));
  // Salakhutdinov & Murray's 14,500 steps: 500 over [0, 0.5], 4,000 over [0.5, 0.9], 10,000 over [0.9, 1].
  const auto share = [&](double part) {
    return std::max<std::size_t>(1, static_cast<std::size_t>(std::llround(static_cast<double>(steps) * part / 14500)));
  };
  const std::size_t first = share(500), second = std::min(share(4000), steps - first - 1);
  const std::size_t third = steps - first - second;
  std::vector<double> betas{0.0};
  const auto segment = [&](double from, double to, std::size_t n) {
    for (std::size_t k = 1; k <= n; ++k)
      betas.push_back(from + (to - from) * static_cast<double>(k) / static_cast<double>(n));
  };
  segment(0.0, 0.5, first);
  segment(0.5, 0.9, second);
  segment(0.9, 1.0, third);
  betas.back() = 1.0;
  return betas;
}

template <class T>
AisEstimate ais_log_partition(Rbm<T>& rbm, const Tensor<T>& base_visible_bias, const AisOptions& options,
                              Generator& generator) {
  if (to_shape(base_visible_bias.shape()) != Shape{rbm.visible()}) {
    throw ShapeError(
        fmt::format("ais_log_partition: base visible bias of shape {} for an RBM of weight {} "
                    "(expected [{}])",
                    shape_str(to_shape(base_visible_bias.shape())), shape_str(rbm.weight().shape()), rbm.visible()));
  }
  if (options.runs < 2)
    throw std::invalid_argument(fmt::format("ais_log_partition: runs = {} (at least 2)", options.runs));
  const std::vector<double> betas = options.betas.empty() ? ais_schedule(options.steps) : options.betas;
  bool ordered = betas.size() >= 2 && betas.front() == 0 && betas.back() == 1;
  for (std::size_t k = 1; ordered && k < betas.size(); ++k) ordered = betas[k] >= betas[k - 1];
  if (!ordered) {
    throw std::invalid_argument(fmt::format(
        "ais_log_partition: a schedule of {} inverse temperatures must go from 0 to 1, nondecreasing", betas.size()));
  }

  NoGrad no_grad;
  const Parameters p = in_double(rbm);
  const D base(xt::cast<double>(base_visible_bias));
  const D bias_difference = p.b - base;  // d/dbeta of the visible term
  const std::size_t runs = options.runs, visible = rbm.visible();
  // Exact draws of A: independent units, p(v_i = 1) = sigmoid(b_A,i).
  const Tensor<double> base_probability = xt::broadcast(sigmoid(base).value(), std::vector<std::size_t>{runs, visible});
  Tensor<double> v = sample_bernoulli(base_probability, generator);
  Tensor<double> log_weights = xt::zeros<double>({runs});
  for (std::size_t k = 1; k < betas.size(); ++k) {
    const double beta = betas[k], previous = betas[k - 1];
    const D a = matmul(D(v), p.w) + p.c;  // the hidden units' total input at beta = 1
    // log p*_k(v) - log p*_{k-1}(v)
    log_weights +=
        ((beta - previous) * matmul(D(v), bias_difference) + sum(softplus(beta * a) - softplus(previous * a), {1}))
            .value();
    if (k + 1 == betas.size()) break;
    // A Gibbs step that leaves p_k invariant: h given v, then v given h, at beta_k.
    const Tensor<double> h = sample_bernoulli(sigmoid(beta * a).value(), generator);
    const D visible_input = (1 - beta) * base + beta * (matmul(D(h), p.w, false, true) + p.b);
    v = sample_bernoulli(sigmoid(visible_input).value(), generator);
  }

  AisEstimate estimate;
  estimate.log_z_base = sum_of(softplus(base)) + static_cast<double>(rbm.hidden()) * std::log(2.0);
  estimate.log_weights.assign(log_weights.begin(), log_weights.end());
  // The mean of the weights and its standard error, scaled by the largest weight.
  const double top = xt::amax(log_weights)();
  const Tensor<double> w = xt::exp(log_weights - top);
  const double mean_w = xt::mean(w)();
  const double variance = xt::sum((w - mean_w) * (w - mean_w))() / static_cast<double>(runs - 1);
  const double standard_error = std::sqrt(variance / static_cast<double>(runs));
  const double offset = estimate.log_z_base + top;
  estimate.log_z = offset + std::log(mean_w);
  estimate.log_z_lower = mean_w > 3 * standard_error ? offset + std::log(mean_w - 3 * standard_error)
                                                     : -std::numeric_limits<double>::infinity();
  estimate.log_z_upper = offset + std::log(mean_w + 3 * standard_error);
  // (sum w)^2 / sum w^2, the scale cancelling.
  estimate.effective_runs = xt::square(xt::sum(w))() / xt::sum(xt::square(w))();
  return estimate;
}

#define AG_NN_RBM_ESTIMATES(T)                                                             \
  template Tensor<T> hidden_probabilities(Rbm<T>&, const Tensor<T>&);                      \
  template double reconstruction_error(Rbm<T>&, const Tensor<T>&);                         \
  template double pseudo_log_likelihood(Rbm<T>&, const Tensor<T>&);                        \
  template double stochastic_pseudo_log_likelihood(Rbm<T>&, const Tensor<T>&, Generator&); \
  template double exact_log_partition(Rbm<T>&);                                            \
  template double log_likelihood(Rbm<T>&, const Tensor<T>&, double);                       \
  template double exact_log_likelihood(Rbm<T>&, const Tensor<T>&);                         \
  template AisEstimate ais_log_partition(Rbm<T>&, const Tensor<T>&, const AisOptions&, Generator&);
AG_INSTANTIATE(AG_NN_RBM_ESTIMATES)

}  // namespace ag::nn
