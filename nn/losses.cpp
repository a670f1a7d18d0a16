#include "nn/losses.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "autograd/instantiate.hpp"

namespace ag::nn {

namespace {

// A target of another shape than the prediction would broadcast ([N, 1] against [N] gives an
// [N, N] loss): a silent wrong answer, refused here as PyTorch warns of it.
template <class T>
void require_same_shape(const char* loss, const Variable<T>& prediction, const Variable<T>& target) {
  if (prediction.shape() != target.shape()) {
    throw ShapeError(fmt::format("{}: the prediction has shape {} but the target has shape {}", loss,
                                 shape_str(prediction.shape()), shape_str(target.shape())));
  }
}

// The per-element losses reduced as asked.
template <class T>
Variable<T> reduce(const char* loss, const Variable<T>& losses, Reduction reduction) {
  switch (reduction) {
    case Reduction::none:
      return losses;
    case Reduction::mean:
      return mean(losses);
    case Reduction::sum:
      return sum(losses);
  }
  throw std::invalid_argument(fmt::format("{}: unknown reduction {}", loss, static_cast<int>(reduction)));
}

}  // namespace

template <class T>
Variable<T> mse(const Variable<T>& prediction, const Variable<T>& target, Reduction reduction) {
  require_same_shape("mse", prediction, target);
  const Variable<T> diff = prediction - target;
  return reduce("mse", diff * diff, reduction);
}

template <class T>
Variable<T> binary_cross_entropy(const Variable<T>& probability, const Variable<T>& target, Reduction reduction,
                                 T eps) {
  require_same_shape("binary_cross_entropy", probability, target);
  const Variable<T> a = clamp(probability, eps, T(1) - eps);
  return reduce("binary_cross_entropy", -(target * log(a) + (T(1) - target) * log(T(1) - a)), reduction);
}

template <class T>
Variable<T> binary_cross_entropy_with_logits(const Variable<T>& logit, const Variable<T>& target, Reduction reduction) {
  require_same_shape("binary_cross_entropy_with_logits", logit, target);
  return reduce("binary_cross_entropy_with_logits", logistic_loss(logit, target), reduction);
}

template <class T>
Tensor<T> one_hot(const std::vector<std::size_t>& labels, std::size_t classes) {
  Tensor<T> out = full<T>({labels.size(), classes}, T(0));
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] >= classes) {
      throw std::out_of_range(
          fmt::format("one_hot: label {} at row {} is not below {} classes", labels[i], i, classes));
    }
    out(i, labels[i]) = T(1);
  }
  return out;
}

template <class T>
Variable<T> softmax_cross_entropy(const Variable<T>& logits, const std::vector<std::size_t>& labels,
                                  Reduction reduction) {
  if (logits.ndim() != 2 || logits.shape()[0] != labels.size()) {
    throw ShapeError(fmt::format("softmax_cross_entropy: logits of shape {} for {} labels (expected [{}, classes])",
                                 shape_str(logits.shape()), labels.size(), labels.size()));
  }
  const Variable<T> targets(one_hot<T>(labels, logits.shape()[1]));
  const Variable<T> picked = targets * log_softmax(logits, 1);  // log softmax(z_i)[label_i] in row i, else 0
  switch (reduction) {
    case Reduction::none:
      return -sum(picked, {1});  // [N]
    case Reduction::mean:
      // One sum over the whole [N, C] product, not N row sums then their mean: the same value,
      // one op fewer in the training step.
      return -sum(picked) / static_cast<T>(labels.size());
    case Reduction::sum:
      return -sum(picked);
  }
  throw std::invalid_argument(fmt::format("softmax_cross_entropy: unknown reduction {}", static_cast<int>(reduction)));
}

template <class T>
Variable<T> kl_bernoulli(T rho, const Variable<T>& rho_hat) {
  // At rho = 0 or 1 a term is 0 log 0, NaN in floating point.
  if (!(rho > T(0) && rho < T(1))) {
    throw std::invalid_argument(fmt::format("kl_bernoulli: rho = {} must be strictly between 0 and 1", rho));
  }
  return sum(rho * log(rho / rho_hat) + (T(1) - rho) * log((T(1) - rho) / (T(1) - rho_hat)));
}

template <class T>
Variable<T> l1_penalty(const std::vector<Variable<T>>& params) {
  Variable<T> total = constant<T>(0);
  for (const Variable<T>& p : params) total = total + sum(abs(p));
  return total;
}

template <class T>
Variable<T> l2_penalty(const std::vector<Variable<T>>& params) {
  Variable<T> total = constant<T>(0);
  for (const Variable<T>& p : params) total = total + sum(p * p);
  return total;
}

template <class T>
Variable<T> perceptron_loss(const Variable<T>& z, const Variable<T>& target, Reduction reduction) {
  require_same_shape("perceptron_loss", z, target);
  return reduce("perceptron_loss", (step(z) - target) * z, reduction);
}

template <class T>
double accuracy(const Tensor<T>& logits, const std::vector<std::size_t>& labels) {
  if (logits.dimension() != 2 || logits.shape()[0] != labels.size()) {
    throw ShapeError(fmt::format("accuracy: logits of shape {} for {} labels (expected [{}, classes])",
                                 shape_str(to_shape(logits.shape())), labels.size(), labels.size()));
  }
  const std::size_t classes = logits.shape()[1];
  std::size_t right = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const T* row = logits.data() + i * classes;
    right += static_cast<std::size_t>(std::max_element(row, row + classes) - row) == labels[i];
  }
  return labels.empty() ? 0.0 : static_cast<double>(right) / static_cast<double>(labels.size());
}

#define AG_NN_LOSSES(T)                                                                                       \
  template Variable<T> mse(const Variable<T>&, const Variable<T>&, Reduction);                                \
  template Variable<T> binary_cross_entropy(const Variable<T>&, const Variable<T>&, Reduction, T);            \
  template Variable<T> binary_cross_entropy_with_logits(const Variable<T>&, const Variable<T>&, Reduction);   \
  template Variable<T> softmax_cross_entropy(const Variable<T>&, const std::vector<std::size_t>&, Reduction); \
  template Variable<T> kl_bernoulli(T, const Variable<T>&);                                                   \
  template Variable<T> l1_penalty(const std::vector<Variable<T>>&);                                           \
  template Variable<T> l2_penalty(const std::vector<Variable<T>>&);                                           \
  template Variable<T> perceptron_loss(const Variable<T>&, const Variable<T>&, Reduction);                    \
  template Tensor<T> one_hot(const std::vector<std::size_t>&, std::size_t);                                   \
  template double accuracy(const Tensor<T>&, const std::vector<std::size_t>&);
AG_INSTANTIATE(AG_NN_LOSSES)

}  // namespace ag::nn
