// Losses and penalties, each an expression over autograd ops (averaged over the batch unless
// said otherwise). With a = sigmoid(z):
//
//   mse(pred, target)                    mean((pred - target)^2)
//   binary_cross_entropy(a, t)           -mean(t log a + (1 - t) log(1 - a)), a clamped to [eps, 1 - eps]
//   binary_cross_entropy_with_logits(z, t)   the same on z, mean(logistic_loss(z, t)): no overflow,
//                                        and d/dz = a - t, the course's output Delta negated
//   softmax_cross_entropy(z, labels)     -mean_i log softmax(z_i)[label_i], z [N, C]
//   kl_bernoulli(rho, rho_hat)           sum_j rho log(rho / rho_hat_j) + (1 - rho) log((1 - rho) / (1 - rho_hat_j)),
//                                        the sparse auto-encoder's penalty
//   l1_penalty(params), l2_penalty(params)   sum |w|, sum w^2 over every element
//   perceptron_loss(z, y)                sum((step(z) - y) z), summed over examples: since step's
//                                        derivative is 0, d/dz = step(z) - y, and gradient descent
//                                        on it is the perceptron rule w <- w + alpha (y - step(z)) x
//
// A prediction and its target must have the same shape (a ShapeError otherwise: broadcasting
// [N, 1] against [N] would silently average N^2 terms); kl_bernoulli needs 0 < rho < 1.
#pragma once

#include <autograd/autograd.hpp>

#include <vector>

namespace ag::nn {

template <class T>
Variable<T> mse(const Variable<T>& prediction, const Variable<T>& target);

template <class T>
Variable<T> binary_cross_entropy(const Variable<T>& probability, const Variable<T>& target, T eps = T(1e-7));

template <class T>
Variable<T> binary_cross_entropy_with_logits(const Variable<T>& logit, const Variable<T>& target);

template <class T>
Variable<T> softmax_cross_entropy(const Variable<T>& logits, const std::vector<std::size_t>& labels);

template <class T>
Variable<T> kl_bernoulli(T rho, const Variable<T>& rho_hat);

template <class T>
Variable<T> l1_penalty(const std::vector<Variable<T>>& params);

template <class T>
Variable<T> l2_penalty(const std::vector<Variable<T>>& params);

template <class T>
Variable<T> perceptron_loss(const Variable<T>& z, const Variable<T>& target);

// One-hot rows: labels [N] -> [N, classes].
template <class T>
Tensor<T> one_hot(const std::vector<std::size_t>& labels, std::size_t classes);

// The fraction of rows whose largest logit is at the label.
template <class T>
double accuracy(const Tensor<T>& logits, const std::vector<std::size_t>& labels);

}  // namespace ag::nn
