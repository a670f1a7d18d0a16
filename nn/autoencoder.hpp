// The course's auto-encoder: an MLP that learns the identity through a hidden layer, and the
// sparse auto-encoder's objective. Both are expressions over autograd ops; no gradient here is
// written by hand, the engine derives every one (the course's modified backpropagated error
// included: tests/autoencoder_test.cpp compares it with the slide's formula).
//
//   hidden units      y = g(x W + b)                  W [inputs, hidden], the encoder, a Linear
//   reconstruction    h = g(y W' + c)                 W' [hidden, inputs], or W transposed when tied
//   objective         J = E + beta sum_j KL(rho || rho_j) + (lambda / 2) (|W|^2 + |W'|^2)
//                     (tied: (lambda / 2) |W|^2, the one matrix counted once)
//
// with rho_j the mean activation of hidden unit j over the examples and KL the divergence of two
// Bernoulli variables (nn::kl_bernoulli). See SparsityOptions for how E is scaled and how rho_j
// is estimated.
#pragma once

#include <memory>
#include <vector>

#include "nn/layers.hpp"

namespace ag::nn {

// The units of a layer. Sigmoid is the course's g (and the sparsity penalty needs units in (0, 1)).
enum class Activation { sigmoid, tanh, relu, identity };

template <class T>
Variable<T> activate(Activation activation, const Variable<T>& x);

struct AutoEncoderOptions {
  Activation encoder = Activation::sigmoid;  // the hidden units' g
  Activation decoder = Activation::sigmoid;  // the reconstruction's g (inputs in [0, 1])
  bool tied = false;                         // W' = W transposed: one matrix, the decoder keeps its bias c
  // Denoising: in training mode each input is zeroed with this probability (masking noise) before
  // it is encoded; the target of the objective stays the clean input. 0 (the default) is off.
  double masking = 0;
  Init init = Init::xavier;
  // Draws the weights, and the masks for as long as the model lives (so it must outlive the model
  // when masking > 0); null: default_generator().
  Generator* generator = nullptr;
};

// The values of one pass, each a node of the graph: the objective needs the hidden units as well
// as the reconstruction, and the course's Delta is the gradient at `hidden_input`.
template <class T>
struct AutoEncoderPass {
  Variable<T> input;         // what was encoded: x, or x with masking noise
  Variable<T> hidden_input;  // x W + b, the course's in_j of the hidden layer
  Variable<T> hidden;        // y = g(x W + b)
  Variable<T> output;        // h = g(y W' + c)
};

// Parameters: "encoder" (a Linear: weight W, bias b), then "decoder" (a Linear: W', c) or, when
// tied, "decoder_bias" (c). Being a Layer, forward(x) is the reconstruction and an auto-encoder
// goes into a Sequential; pass(x) gives every part.
template <class T = float>
class AutoEncoder : public Layer<T> {
 public:
  AutoEncoder(std::size_t inputs, std::size_t hidden, AutoEncoderOptions options = {});

  AutoEncoderPass<T> pass(const Variable<T>& x);
  Variable<T> forward(const Variable<T>& x) override { return pass(x).output; }
  Variable<T> encode(const Variable<T>& x);  // y = g(x W + b), no noise
  Variable<T> decode(const Variable<T>& y);  // h = g(y W' + c)

  // The encoder, shared: a stacked network built on it trains the same parameters.
  const std::shared_ptr<Linear<T>>& encoder() const { return encoder_; }
  // The weight matrices (W, and W' unless tied): what weight decay covers, biases excluded.
  std::vector<Variable<T>> weights() const;
  std::size_t inputs() const { return inputs_; }
  std::size_t hidden() const { return hidden_; }
  const AutoEncoderOptions& options() const { return options_; }

 private:
  std::size_t inputs_, hidden_;
  AutoEncoderOptions options_;
  std::shared_ptr<Linear<T>> encoder_, decoder_;
  Variable<T> decoder_bias_;  // tied only
};

template <class T = float>
std::shared_ptr<AutoEncoder<T>> autoencoder(std::size_t inputs, std::size_t hidden, AutoEncoderOptions options = {}) {
  return std::make_shared<AutoEncoder<T>>(inputs, hidden, options);
}

// How E is scaled. The slides write E = sum_i ||h(x_i) - x_i||^2, summed over the examples:
// then beta weighs the penalty against a sum that grows with the batch. per_example divides it
// by the number of examples N (UFLDL's scaling, less its 1/2), so that beta and lambda mean the
// same at any batch size: the tutorials use it.
enum class ErrorScale { summed, per_example };

// The sparse auto-encoder's objective. rho_j is estimated
//   - from the batch (the overload without rho_over_data): rho_j = mean of y_j over the rows of
//     the pass, the usual minibatch practice, which the tutorials use; with the whole data set as
//     the batch it is the slides' rho_j exactly;
//   - from a first pass over all the examples, as the slides do ("compute the feedforward pass
//     twice"): give rho_over_data = mean_activation(model, data). Its value is then that
//     estimate, a constant, and its gradient flows through the batch's mean as if the batch were
//     the data: the slides' rule with rho_j from the first pass (with E per_example; with E
//     summed, a batch of B rows weighs E at B/N of its whole-data weight against the penalty).
// The penalty needs units in (0, 1), the sigmoid's: an estimate outside (0, 1) (tanh or ReLU
// units) is an std::invalid_argument naming the unit, unless beta is 0, which drops the term.
struct SparsityOptions {
  double rho = 0.05;        // the target mean activation, 0 < rho < 1
  double beta = 3;          // the weight of the penalty, >= 0
  double weight_decay = 0;  // lambda, >= 0
  ErrorScale error = ErrorScale::per_example;
};

// J and its parts (each a scalar of the graph; backward(total)).
template <class T>
struct SparseObjective {
  Variable<T> total, error, sparsity, weight_decay;
  Variable<T> rho_hat;  // the estimate of rho_j used, [hidden]
};

template <class T>
SparseObjective<T> sparse_autoencoder_objective(const AutoEncoderPass<T>& pass, const Variable<T>& target,
                                                const std::vector<Variable<T>>& decayed_weights,
                                                const SparsityOptions& options);
template <class T>
SparseObjective<T> sparse_autoencoder_objective(const AutoEncoderPass<T>& pass, const Variable<T>& target,
                                                const std::vector<Variable<T>>& decayed_weights,
                                                const SparsityOptions& options, const Tensor<T>& rho_over_data);

// rho_j over a whole data set [N, inputs]: the mean hidden activation, in batches, without
// recording a graph and without noise. The slides' first forward pass; also the check after
// training that the hidden units' mean activation came close to rho.
template <class T>
Tensor<T> mean_activation(AutoEncoder<T>& model, const Tensor<T>& data, std::size_t batch_size = 1000);

extern template class AutoEncoder<float>;
extern template class AutoEncoder<double>;

}  // namespace ag::nn
