// How well an RBM models its data, as researchers report it: what the training loss (contrastive
// divergence) does not say, since it is no likelihood.
//
//   reconstruction_error   mean over rows of sum_i (v_i - p(v_i = 1 | h = p(h = 1 | v)))^2: the data
//                          through the conditionals' probabilities and back, no sampling. Cheap,
//                          and only loosely tied to the likelihood (Hinton's practical guide).
//   pseudo_log_likelihood  mean over rows of sum_i log p(v_i | v_-i), exact over every unit, where
//                          p(v_i | v_-i) = sigmoid(F(v with v_i flipped) - F(v)): D + 1 free
//                          energies per row.
//   stochastic_pseudo_log_likelihood  its estimate from one visible unit per row, drawn at
//                          random: D log p(v_i | v_-i) (the Theano/deeplearning.net tutorial's
//                          estimate, there with one unit for the whole batch); unbiased, 2 free
//                          energies per row.
//   exact_log_partition    log Z = log sum_v e^-F(v), summed over every state of the smaller
//                          layer (over h: log sum_h e^-F(h), the hidden free energy): refused
//                          beyond 20 units on that side (2^20 states).
//   exact_log_likelihood   mean over rows of -F(v) - log Z.
//   ais_log_partition      annealed importance sampling (Salakhutdinov & Murray 2008): log Z of
//                          any size, with its spread; log_likelihood(rbm, test, ais.log_z) is then
//                          the test log-likelihood as papers report it.
//
// Every estimate is computed in double (a float RBM's parameters are converted), in batches of
// at most 1000 rows, without recording a graph; each returns a double. The pseudo-likelihoods
// flip v_i to 1 - v_i: they are meant for binary data.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "nn/rbm.hpp"

namespace ag::nn {

// The shape check of the RBM and DBN functions that take rows: `x` must be [N, units] with N >= 1,
// else an ag::ShapeError "<function>: <what> of shape <x> for <model> (expected [N, <units>], N >= 1)",
// <model> describing what the rows are for ("an RBM of weight [784, 500]", "a DBN of layer sizes ...").
void check_rows(const char* function, const char* what, const Shape& x, std::size_t units, const std::string& model);

// The same for rows of `rbm`'s visible units: <what> "data", <model> "an RBM of weight <its shape>".
template <class T>
void check_rows(const char* function, Rbm<T>& rbm, const Tensor<T>& data) {
  check_rows(function, "data", to_shape(data.shape()), rbm.visible(),
             "an RBM of weight " + shape_str(rbm.weight().shape()));
}

// p(h = 1 | v) = sigmoid(c + v W) of every row of `data` [N, rbm.visible()]: [N, rbm.hidden()], in
// T, in batches of at most 1000 rows, without recording a graph (the upward pass of nn::DeepBeliefNet
// and of nn::pretrain_dbn).
template <class T>
Tensor<T> hidden_probabilities(Rbm<T>& rbm, const Tensor<T>& data);

// Beyond this many units on its smaller layer, exact enumeration is refused (std::invalid_argument).
inline constexpr std::size_t max_enumerated_units = 20;

template <class T>
double reconstruction_error(Rbm<T>& rbm, const Tensor<T>& data);

template <class T>
double pseudo_log_likelihood(Rbm<T>& rbm, const Tensor<T>& data);

template <class T>
double stochastic_pseudo_log_likelihood(Rbm<T>& rbm, const Tensor<T>& data, Generator& generator);

template <class T>
double exact_log_partition(Rbm<T>& rbm);

// mean over the rows of `data` of log p(v) = -F(v) - log_z, for a given log Z (exact or AIS).
template <class T>
double log_likelihood(Rbm<T>& rbm, const Tensor<T>& data, double log_z);

template <class T>
double exact_log_likelihood(Rbm<T>& rbm, const Tensor<T>& data);

// AIS anneals from a base-rate model A (W = 0, visible bias base_visible_bias, hidden bias 0; its
// log Z_A = sum_i softplus(b_A,i) + hidden log 2 is exact) to the RBM B through
//   log p*_k(v) = (1 - beta_k) b_A'v + beta_k b'v + sum_j softplus(beta_k (c_j + (v W)_j)),
// 0 = beta_0 < ... < beta_K = 1. Each run draws v from A exactly, then alternates a weight update
// log w += log p*_k(v) - log p*_{k-1}(v) with a Gibbs step that leaves p_k invariant; the mean of
// w estimates Z_B / Z_A.
struct AisOptions {
  std::size_t runs = 100;  // independent annealing runs, at least 2 (the spread needs two)
  // Intermediate distributions K when `betas` is empty: ais_schedule(steps). The default is the
  // paper's 14,500.
  std::size_t steps = 14500;
  std::vector<double> betas{};  // an explicit schedule: from 0 to 1, nondecreasing
};

// The paper's schedule shape, scaled to `steps` (at least 3) intermediate distributions: uniform
// steps over [0, 0.5], [0.5, 0.9] and [0.9, 1] in the proportions 500 : 4,000 : 10,000. Returns
// steps + 1 values, 0 first and 1 last.
std::vector<double> ais_schedule(std::size_t steps);

struct AisEstimate {
  double log_z;  // log Z_A + log mean_m w_m
  // log(mean w -/+ 3 standard errors of the mean) + log Z_A, as the paper reports; the lower one is
  // -infinity when the mean is within 3 standard errors of 0. The standard error is
  // sqrt(s^2 / runs), s^2 = sum_m (w_m - mean w)^2 / (runs - 1) the weights' sample variance.
  double log_z_lower, log_z_upper;
  double log_z_base;                // log Z_A
  std::vector<double> log_weights;  // log w_m of each run
  // The runs' effective number (sum_m w_m)^2 / sum_m w_m^2: `runs` when the weights are equal, near
  // 1 when one run carries the estimate (then the band is wide, or open below).
  double effective_runs;
};

// base_visible_bias [visible]: base_rate_bias(training data) is the paper's choice; with zeros, A
// is the uniform distribution.
template <class T>
AisEstimate ais_log_partition(Rbm<T>& rbm, const Tensor<T>& base_visible_bias, const AisOptions& options,
                              Generator& generator);

}  // namespace ag::nn
