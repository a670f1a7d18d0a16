#include "nn/autoencoder.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <xtensor/xview.hpp>

#include "autograd/instantiate.hpp"
#include "nn/io/data.hpp"
#include "nn/losses.hpp"

namespace ag::nn {

template <class T>
Variable<T> activate(Activation activation, const Variable<T>& x) {
  switch (activation) {
    case Activation::sigmoid:
      return sigmoid(x);
    case Activation::tanh:
      return tanh(x);
    case Activation::relu:
      return relu(x);
    case Activation::identity:
      return x;
  }
  throw std::invalid_argument(fmt::format("activate: unknown activation {}", static_cast<int>(activation)));
}

template <class T>
AutoEncoder<T>::AutoEncoder(std::size_t inputs, std::size_t hidden, AutoEncoderOptions options)
    : inputs_(inputs), hidden_(hidden), options_(options) {
  if (inputs == 0 || hidden == 0) {
    throw std::invalid_argument(
        fmt::format("AutoEncoder: {} inputs and {} hidden units (both must be at least 1)", inputs, hidden));
  }
  if (!(options.masking >= 0 && options.masking < 1)) {
    throw std::invalid_argument(fmt::format("AutoEncoder: masking = {} must be in [0, 1)", options.masking));
  }
  const LinearOptions linear{.init = options.init, .bias = true, .generator = options.generator};
  encoder_ = this->register_module("encoder", nn::linear<T>(inputs, hidden, linear));
  if (options.tied) {
    decoder_bias_ = this->register_parameter("decoder_bias", full<T>({inputs}, T(0)));
  } else {
    decoder_ = this->register_module("decoder", nn::linear<T>(hidden, inputs, linear));
  }
}

template <class T>
Variable<T> AutoEncoder<T>::encode(const Variable<T>& x) {
  return activate(options_.encoder, encoder_->forward(x));
}

template <class T>
Variable<T> AutoEncoder<T>::decode(const Variable<T>& y) {
  if (decoder_) return activate(options_.decoder, decoder_->forward(y));
  // Tied: y W^T + c, the transpose read in place by the matrix product.
  return activate(options_.decoder, matmul(y, encoder_->weight(), false, true) + decoder_bias_);
}

template <class T>
AutoEncoderPass<T> AutoEncoder<T>::pass(const Variable<T>& x) {
  AutoEncoderPass<T> p;
  p.input = x;
  if (this->is_training() && options_.masking > 0) {
    Generator& g = options_.generator ? *options_.generator : default_generator();
    p.input = x * Variable<T>(g.bernoulli<T>(x.shape(), 1 - options_.masking));
  }
  p.hidden_input = encoder_->forward(p.input);
  p.hidden = activate(options_.encoder, p.hidden_input);
  p.output = decode(p.hidden);
  return p;
}

template <class T>
std::vector<Variable<T>> AutoEncoder<T>::weights() const {
  std::vector<Variable<T>> w{encoder_->weight()};
  if (decoder_) w.push_back(decoder_->weight());
  return w;
}

namespace {

void check_options(const SparsityOptions& o) {
  if (!(o.rho > 0 && o.rho < 1)) {
    throw std::invalid_argument(fmt::format("sparse_autoencoder_objective: rho = {} must be in (0, 1)", o.rho));
  }
  if (!(o.beta >= 0) || !(o.weight_decay >= 0)) {
    throw std::invalid_argument(fmt::format(
        "sparse_autoencoder_objective: beta = {} and weight_decay = {} must be at least 0", o.beta, o.weight_decay));
  }
}

// J from the pieces; rho_hat is the estimate of rho_j, a node of the graph.
template <class T>
SparseObjective<T> assemble(const AutoEncoderPass<T>& pass, const Variable<T>& target,
                            const std::vector<Variable<T>>& decayed_weights, const SparsityOptions& o,
                            Variable<T> rho_hat) {
  SparseObjective<T> j;
  j.error = mse(pass.output, target, Reduction::sum);
  if (o.error == ErrorScale::per_example) j.error = j.error / static_cast<T>(target.shape()[0]);
  if (o.beta == 0) {
    j.sparsity = constant<T>(0);  // not 0 * KL: with units outside (0, 1) the KL is NaN
  } else {
    const Tensor<T>& r = rho_hat.value();
    for (std::size_t unit = 0; unit < r.size(); ++unit) {
      if (!(r.data()[unit] > T(0) && r.data()[unit] < T(1))) {
        throw std::invalid_argument(
            fmt::format("sparse_autoencoder_objective: hidden unit {} has mean activation {}, outside (0, 1): the KL "
                        "penalty needs units in (0, 1), such as sigmoid units (or beta = 0)",
                        unit, r.data()[unit]));
      }
    }
    j.sparsity = static_cast<T>(o.beta) * kl_bernoulli(static_cast<T>(o.rho), rho_hat);
  }
  j.weight_decay = static_cast<T>(o.weight_decay / 2) * l2_penalty(decayed_weights);
  j.total = j.error + j.sparsity + j.weight_decay;
  j.rho_hat = std::move(rho_hat);
  return j;
}

template <class T>
void check_pass(const AutoEncoderPass<T>& pass, const Variable<T>& target) {
  if (pass.output.shape() != target.shape() || pass.hidden.ndim() != 2 || pass.hidden.shape()[0] != target.shape()[0]) {
    throw ShapeError(fmt::format(
        "sparse_autoencoder_objective: reconstruction {} and hidden units {} for a target of shape {} (expected "
        "[N, inputs], [N, hidden] and [N, inputs])",
        shape_str(pass.output.shape()), shape_str(pass.hidden.shape()), shape_str(target.shape())));
  }
}

}  // namespace

template <class T>
SparseObjective<T> sparse_autoencoder_objective(const AutoEncoderPass<T>& pass, const Variable<T>& target,
                                                const std::vector<Variable<T>>& decayed_weights,
                                                const SparsityOptions& options) {
  check_options(options);
  check_pass(pass, target);
  return assemble(pass, target, decayed_weights, options, mean(pass.hidden, {0}));
}

template <class T>
SparseObjective<T> sparse_autoencoder_objective(const AutoEncoderPass<T>& pass, const Variable<T>& target,
                                                const std::vector<Variable<T>>& decayed_weights,
                                                const SparsityOptions& options, const Tensor<T>& rho_over_data) {
  check_options(options);
  check_pass(pass, target);
  if (to_shape(rho_over_data.shape()) != Shape{pass.hidden.shape()[1]}) {
    throw ShapeError(fmt::format("sparse_autoencoder_objective: rho_over_data of shape {} for {} hidden units",
                                 shape_str(to_shape(rho_over_data.shape())), pass.hidden.shape()[1]));
  }
  // The value is the data's estimate exactly (m - m is 0); the gradient is the batch mean's.
  const Variable<T> batch_mean = mean(pass.hidden, {0});
  return assemble(pass, target, decayed_weights, options,
                  batch_mean - batch_mean.detach() + Variable<T>(rho_over_data));
}

template <class T>
Tensor<T> mean_activation(AutoEncoder<T>& model, const Tensor<T>& data, std::size_t batch_size) {
  if (data.dimension() != 2 || data.shape()[1] != model.inputs() || data.shape()[0] == 0 || batch_size == 0) {
    throw ShapeError(fmt::format("mean_activation: data of shape {} in batches of {} for an auto-encoder of {} inputs",
                                 shape_str(to_shape(data.shape())), batch_size, model.inputs()));
  }
  NoGrad no_grad;
  const std::size_t n = data.shape()[0];
  Tensor<double> total = xt::zeros<double>({model.hidden()});
  for (std::size_t start = 0; start < n; start += batch_size) {
    const std::size_t stop = std::min(n, start + batch_size);
    const Tensor<T> rows = xt::view(data, xt::range(start, stop), xt::all());
    const Tensor<T> y = model.encode(Variable<T>(rows)).value();
    total += xt::sum(xt::cast<double>(y), {0});
  }
  return xt::cast<T>(total / static_cast<double>(n));
}

#define AG_NN_AUTOENCODER(T)                                                                                         \
  template Variable<T> activate(Activation, const Variable<T>&);                                                     \
  template class AutoEncoder<T>;                                                                                     \
  template SparseObjective<T> sparse_autoencoder_objective(const AutoEncoderPass<T>&, const Variable<T>&,            \
                                                           const std::vector<Variable<T>>&, const SparsityOptions&); \
  template SparseObjective<T> sparse_autoencoder_objective(const AutoEncoderPass<T>&, const Variable<T>&,            \
                                                           const std::vector<Variable<T>>&, const SparsityOptions&,  \
                                                           const Tensor<T>&);                                        \
  template Tensor<T> mean_activation(AutoEncoder<T>&, const Tensor<T>&, std::size_t);
AG_INSTANTIATE(AG_NN_AUTOENCODER)

}  // namespace ag::nn
