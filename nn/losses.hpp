// Losses and penalties, each an expression over autograd ops. With a = sigmoid(z), the loss of
// one element (or, for softmax_cross_entropy, of one example) is
//
//   mse(pred, target)                        (pred - target)^2
//   binary_cross_entropy(a, t)               -(t log a + (1 - t) log(1 - a)), a clamped to [eps, 1 - eps]
//   binary_cross_entropy_with_logits(z, t)   the same on z, logistic_loss(z, t): no overflow, and
//                                            d/dz = a - t, the course's output Delta negated
//   softmax_cross_entropy(z, labels)         -log softmax(z_i)[label_i], for each row z_i of z [N, C]
//   perceptron_loss(z, y)                    (step(z) - y) z: since step's derivative is 0, d/dz =
//                                            step(z) - y, and gradient descent on the sum is the
//                                            perceptron rule w <- w + alpha (y - step(z)) x
//
// and the last argument, a Reduction as PyTorch's `reduction=`, says what is returned:
//
//   Reduction::mean (the default)  their mean, a scalar: over every element for the elementwise
//                                  losses, over the N examples for softmax_cross_entropy
//   Reduction::sum                 their sum, a scalar (the perceptron rule; a loss that does not
//                                  shrink with the batch size)
//   Reduction::none                the losses themselves: the prediction's shape for the
//                                  elementwise losses, [N] for softmax_cross_entropy
//
// The penalties are sums by definition and take no reduction:
//
//   kl_bernoulli(rho, rho_hat)               sum_j rho log(rho / rho_hat_j)
//                                                  + (1 - rho) log((1 - rho) / (1 - rho_hat_j)),
//                                            the sparse auto-encoder's penalty
//   l1_penalty(params), l2_penalty(params)   sum |w|, sum w^2 over every element
//
// A prediction and its target must have the same shape (a ShapeError otherwise: broadcasting
// [N, 1] against [N] would silently average N^2 terms); kl_bernoulli needs 0 < rho < 1.
#pragma once

#include <autograd/autograd.hpp>
#include <vector>

namespace ag::nn {

// What a loss returns: the mean of the per-element (per-example) losses, their sum, or themselves.
enum class Reduction { none, mean, sum };

template <class T>
Variable<T> mse(const Variable<T>& prediction, const Variable<T>& target, Reduction reduction = Reduction::mean);

template <class T>
Variable<T> binary_cross_entropy(const Variable<T>& probability, const Variable<T>& target,
                                 Reduction reduction = Reduction::mean, T eps = T(1e-7));

template <class T>
Variable<T> binary_cross_entropy_with_logits(const Variable<T>& logit, const Variable<T>& target,
                                             Reduction reduction = Reduction::mean);

template <class T>
Variable<T> softmax_cross_entropy(const Variable<T>& logits, const std::vector<std::size_t>& labels,
                                  Reduction reduction = Reduction::mean);

template <class T>
Variable<T> kl_bernoulli(T rho, const Variable<T>& rho_hat);

template <class T>
Variable<T> l1_penalty(const std::vector<Variable<T>>& params);

template <class T>
Variable<T> l2_penalty(const std::vector<Variable<T>>& params);

template <class T>
Variable<T> perceptron_loss(const Variable<T>& z, const Variable<T>& target, Reduction reduction = Reduction::mean);

// One-hot rows: labels [N] -> [N, classes].
template <class T>
Tensor<T> one_hot(const std::vector<std::size_t>& labels, std::size_t classes);

// The fraction of rows whose largest logit is at the label.
template <class T>
double accuracy(const Tensor<T>& logits, const std::vector<std::size_t>& labels);

}  // namespace ag::nn
