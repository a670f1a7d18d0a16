#include "nn/rbm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <utility>

#include "autograd/instantiate.hpp"

namespace ag::nn {

namespace {

// W [visible, hidden], b [visible], c [hidden].
template <class T>
void check_parameters(const char* function, const Variable<T>& w, const Variable<T>& b, const Variable<T>& c) {
  if (w.ndim() != 2 || b.shape() != Shape{w.shape()[0]} || c.shape() != Shape{w.shape()[1]}) {
    throw ShapeError(
        fmt::format("{}: weight {}, visible bias {} and hidden bias {} (expected [visible, hidden], "
                    "[visible] and [hidden])",
                    function, shape_str(w.shape()), shape_str(b.shape()), shape_str(c.shape())));
  }
}

// A batch of one layer's states: [N, units], with units = `dimension` of W.
void check_layer(const char* function, const char* layer, const Shape& x, const Shape& w, std::size_t dimension) {
  if (x.size() != 2 || x[1] != w[dimension]) {
    throw ShapeError(fmt::format("{}: {} units of shape {} for an RBM of weight {} (expected [N, {}])", function, layer,
                                 shape_str(x), shape_str(w), w[dimension]));
  }
}

template <class T>
Variable<T> energy_of(const char* function, const Variable<T>& v, const Variable<T>& h, const Variable<T>& w,
                      const Variable<T>& b, const Variable<T>& c) {
  check_parameters(function, w, b, c);
  check_layer(function, "visible", v.shape(), w.shape(), 0);
  check_layer(function, "hidden", h.shape(), w.shape(), 1);
  if (v.shape()[0] != h.shape()[0]) {
    throw ShapeError(fmt::format("{}: visible units {} and hidden units {} have different numbers of rows", function,
                                 shape_str(v.shape()), shape_str(h.shape())));
  }
  // -b'v - c'h - v'W h, row by row (a matrix times a vector is one dot product per row).
  return -(matmul(v, b) + matmul(h, c) + sum(matmul(v, w) * h, {1}));
}

template <class T>
Variable<T> free_energy_of(const char* function, const Variable<T>& v, const Variable<T>& w, const Variable<T>& b,
                           const Variable<T>& c) {
  check_parameters(function, w, b, c);
  check_layer(function, "visible", v.shape(), w.shape(), 0);
  // The sum over h of e^-E factorises over the hidden units: each gives 1 + e^(c_j + (v W)_j).
  return -(matmul(v, b) + sum(softplus(matmul(v, w) + c), {1}));
}

}  // namespace

template <class T>
Variable<T> rbm_energy(const Variable<T>& v, const Variable<T>& h, const Variable<T>& w, const Variable<T>& b,
                       const Variable<T>& c) {
  return energy_of("rbm_energy", v, h, w, b, c);
}

template <class T>
Variable<T> rbm_free_energy(const Variable<T>& v, const Variable<T>& w, const Variable<T>& b, const Variable<T>& c) {
  return free_energy_of("rbm_free_energy", v, w, b, c);
}

template <class T>
Tensor<T> sample_bernoulli(const Tensor<T>& p, Generator& generator) {
  // Drawn as a whole tensor first: the draws' order, memory order, is what a seed fixes.
  Tensor<T> sample = generator.uniform<T>(to_shape(p.shape()), T(0), T(1));
  const T* probability = p.data();
  for (T& s : sample) s = s < *probability++ ? T(1) : T(0);
  return sample;
}

template <class T>
Rbm<T>::Rbm(std::size_t visible, std::size_t hidden, RbmOptions options) : visible_(visible), hidden_(hidden) {
  if (visible == 0 || hidden == 0) {
    throw std::invalid_argument(
        fmt::format("Rbm: {} visible and {} hidden units (both must be at least 1)", visible, hidden));
  }
  if (!(options.weight_scale >= 0 && std::isfinite(options.weight_scale))) {
    throw std::invalid_argument(
        fmt::format("Rbm: weight_scale = {} must be finite and at least 0", options.weight_scale));
  }
  Generator& g = options.generator ? *options.generator : default_generator();
  const T scale = static_cast<T>(options.weight_scale);
  weight_ = this->register_parameter(
      "weight", scale > 0 ? g.normal<T>({visible, hidden}, T(0), scale) : full<T>({visible, hidden}, T(0)));
  visible_bias_ = this->register_parameter("visible_bias", full<T>({visible}, T(0)));
  hidden_bias_ = this->register_parameter("hidden_bias", full<T>({hidden}, T(0)));
}

template <class T>
Variable<T> Rbm<T>::energy(const Variable<T>& v, const Variable<T>& h) {
  return energy_of("Rbm::energy", v, h, weight_, visible_bias_, hidden_bias_);
}

template <class T>
Variable<T> Rbm<T>::free_energy(const Variable<T>& v) {
  return free_energy_of("Rbm::free_energy", v, weight_, visible_bias_, hidden_bias_);
}

template <class T>
Variable<T> Rbm<T>::hidden_probability(const Variable<T>& v) {
  check_layer("Rbm::hidden_probability", "visible", v.shape(), weight_.shape(), 0);
  return sigmoid(matmul(v, weight_) + hidden_bias_);
}

template <class T>
Variable<T> Rbm<T>::visible_probability(const Variable<T>& h) {
  check_layer("Rbm::visible_probability", "hidden", h.shape(), weight_.shape(), 1);
  return sigmoid(matmul(h, weight_, false, true) + visible_bias_);  // W h per row: h W', W read transposed
}

template <class T>
Tensor<T> Rbm<T>::sample_hidden(const Tensor<T>& v, Generator& generator) {
  check_layer("Rbm::sample_hidden", "visible", to_shape(v.shape()), weight_.shape(), 0);
  NoGrad no_grad;
  return sample_bernoulli(hidden_probability(Variable<T>(v)).value(), generator);
}

template <class T>
Tensor<T> Rbm<T>::sample_visible(const Tensor<T>& h, Generator& generator) {
  check_layer("Rbm::sample_visible", "hidden", to_shape(h.shape()), weight_.shape(), 1);
  NoGrad no_grad;
  return sample_bernoulli(visible_probability(Variable<T>(h)).value(), generator);
}

template <class T>
GibbsState<T> Rbm<T>::gibbs(const Tensor<T>& v, std::size_t steps, Generator& generator) {
  check_layer("Rbm::gibbs", "visible", to_shape(v.shape()), weight_.shape(), 0);
  if (steps == 0) throw std::invalid_argument("Rbm::gibbs: steps = 0 (at least 1)");
  GibbsState<T> state{v, {}};
  for (std::size_t step = 0; step < steps; ++step) {
    state.hidden = sample_hidden(state.visible, generator);
    state.visible = sample_visible(state.hidden, generator);
  }
  return state;
}

template <class T>
Variable<T> contrastive_divergence_loss(Rbm<T>& rbm, const Tensor<T>& data, const Tensor<T>& negative) {
  const Shape w = rbm.weight().shape();
  check_layer("contrastive_divergence_loss", "data's visible", to_shape(data.shape()), w, 0);
  check_layer("contrastive_divergence_loss", "negative samples'", to_shape(negative.shape()), w, 0);
  if (data.shape()[0] == 0 || negative.shape()[0] == 0) {
    throw ShapeError(fmt::format("contrastive_divergence_loss: data {} and negative samples {}: both need a row",
                                 shape_str(to_shape(data.shape())), shape_str(to_shape(negative.shape()))));
  }
  // The negative samples enter as a fresh leaf without requires_grad: a constant, so the gradient
  // is the difference of the two expectations, not a derivative through the sampling. Both batches
  // go through the free energy stacked as one, [N + M, visible]: one product forward and one for
  // W's gradient, of twice the rows, instead of two of each whose gradients are then added.
  const std::size_t n = data.shape()[0], m = negative.shape()[0], units = data.shape()[1];
  Tensor<T> both = uninitialized<T>({n + m, units});
  std::copy(data.begin(), data.end(), both.begin());
  std::copy(negative.begin(), negative.end(), both.begin() + static_cast<std::ptrdiff_t>(n * units));
  const Variable<T> f = rbm.free_energy(Variable<T>(std::move(both)));
  return mean(slice(f, 0, 0, static_cast<long>(n))) - mean(slice(f, 0, static_cast<long>(n), static_cast<long>(n + m)));
}

template <class T>
ContrastiveDivergence<T> contrastive_divergence(Rbm<T>& rbm, const Tensor<T>& data, std::size_t k,
                                                Generator& generator) {
  check_layer("contrastive_divergence", "data's visible", to_shape(data.shape()), rbm.weight().shape(), 0);
  if (k == 0) throw std::invalid_argument("contrastive_divergence: k = 0 Gibbs steps (at least 1)");
  ContrastiveDivergence<T> cd;
  cd.negative = rbm.gibbs(data, k, generator).visible;
  cd.loss = contrastive_divergence_loss(rbm, data, cd.negative);
  return cd;
}

template <class T>
PersistentChain<T>::PersistentChain(Tensor<T> particles) : particles_(std::move(particles)) {
  if (particles_.dimension() != 2 || particles_.shape()[0] == 0 || particles_.shape()[1] == 0) {
    throw ShapeError(fmt::format("PersistentChain: particles of shape {} (expected [M, visible], M >= 1)",
                                 shape_str(to_shape(particles_.shape()))));
  }
}

template <class T>
PersistentChain<T>::PersistentChain(std::size_t particles, std::size_t visible, Generator& generator)
    : PersistentChain(generator.bernoulli<T>({particles, visible}, 0.5)) {}

template <class T>
const Tensor<T>& PersistentChain<T>::advance(Rbm<T>& rbm, std::size_t steps, Generator& generator) {
  check_layer("PersistentChain::advance", "the particles'", to_shape(particles_.shape()), rbm.weight().shape(), 0);
  if (steps == 0) throw std::invalid_argument("PersistentChain::advance: steps = 0 (at least 1)");
  particles_ = rbm.gibbs(particles_, steps, generator).visible;
  return particles_;
}

template <class T>
ContrastiveDivergence<T> persistent_contrastive_divergence(Rbm<T>& rbm, const Tensor<T>& data,
                                                           PersistentChain<T>& chain, std::size_t k,
                                                           Generator& generator) {
  check_layer("persistent_contrastive_divergence", "data's visible", to_shape(data.shape()), rbm.weight().shape(), 0);
  if (k == 0) throw std::invalid_argument("persistent_contrastive_divergence: k = 0 Gibbs steps (at least 1)");
  ContrastiveDivergence<T> cd;
  cd.negative = chain.advance(rbm, k, generator);
  cd.loss = contrastive_divergence_loss(rbm, data, cd.negative);
  return cd;
}

template <class T>
Tensor<T> base_rate_bias(const Tensor<T>& data) {
  if (data.dimension() != 2 || data.shape()[1] == 0) {
    throw ShapeError(
        fmt::format("base_rate_bias: data of shape {} (expected [N, visible])", shape_str(to_shape(data.shape()))));
  }
  const std::size_t n = data.shape()[0], units = data.shape()[1];
  Tensor<T> bias = uninitialized<T>({units});
  for (std::size_t i = 0; i < units; ++i) {
    double on = 0;
    for (std::size_t row = 0; row < n; ++row) on += static_cast<double>(data(row, i));
    const double p = (on + 1) / (static_cast<double>(n) + 2);
    bias(i) = static_cast<T>(std::log(p / (1 - p)));
  }
  return bias;
}

#define AG_NN_RBM(T)                                                                                                  \
  template Variable<T> rbm_energy(const Variable<T>&, const Variable<T>&, const Variable<T>&, const Variable<T>&,     \
                                  const Variable<T>&);                                                                \
  template Variable<T> rbm_free_energy(const Variable<T>&, const Variable<T>&, const Variable<T>&,                    \
                                       const Variable<T>&);                                                           \
  template Tensor<T> sample_bernoulli(const Tensor<T>&, Generator&);                                                  \
  template class Rbm<T>;                                                                                              \
  template class PersistentChain<T>;                                                                                  \
  template Variable<T> contrastive_divergence_loss(Rbm<T>&, const Tensor<T>&, const Tensor<T>&);                      \
  template ContrastiveDivergence<T> contrastive_divergence(Rbm<T>&, const Tensor<T>&, std::size_t, Generator&);       \
  template ContrastiveDivergence<T> persistent_contrastive_divergence(Rbm<T>&, const Tensor<T>&, PersistentChain<T>&, \
                                                                      std::size_t, Generator&);                       \
  template Tensor<T> base_rate_bias(const Tensor<T>&);
AG_INSTANTIATE(AG_NN_RBM)

}  // namespace ag::nn
