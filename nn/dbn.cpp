#include "nn/dbn.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "autograd/instantiate.hpp"
#include "nn/rbm_estimates.hpp"

namespace ag::nn {

namespace {

// [N, units] with N >= 1, else a ShapeError naming the function, the layer and the sizes.
void check_layer_states(const char* function, const char* what, const Shape& x, std::size_t units,
                        const std::vector<std::size_t>& sizes) {
  check_rows(function, what, x, units, fmt::format("a DBN of layer sizes [{}]", fmt::join(sizes, ", ")));
}

}  // namespace

template <class T>
DeepBeliefNet<T>::DeepBeliefNet(const std::vector<std::size_t>& sizes, RbmOptions options) : sizes_(sizes) {
  if (sizes.size() < 2 || std::find(sizes.begin(), sizes.end(), std::size_t{0}) != sizes.end()) {
    throw std::invalid_argument(
        fmt::format("DeepBeliefNet: layer sizes [{}] (at least two, the pixels and one hidden layer, each at least 1)",
                    fmt::join(sizes, ", ")));
  }
  for (std::size_t k = 0; k + 1 < sizes.size(); ++k) {
    rbms_.push_back(
        this->register_module(fmt::format("rbm{}", k), std::make_shared<Rbm<T>>(sizes[k], sizes[k + 1], options)));
  }
}

template <class T>
DeepBeliefNet<T>::DeepBeliefNet(const std::vector<std::shared_ptr<Rbm<T>>>& rbms) {
  if (rbms.empty()) throw std::invalid_argument("DeepBeliefNet: no RBMs");
  for (std::size_t k = 0; k < rbms.size(); ++k) {
    if (!rbms[k]) throw std::invalid_argument(fmt::format("DeepBeliefNet: RBM {} is null", k));
    if (k == 0) {
      sizes_.push_back(rbms[k]->visible());
    } else if (rbms[k]->visible() != sizes_.back()) {
      throw ShapeError(fmt::format(
          "DeepBeliefNet: RBM {} of weight {} has {} visible units, but RBM {} of weight {} has {} hidden units", k,
          shape_str(rbms[k]->weight().shape()), rbms[k]->visible(), k - 1, shape_str(rbms[k - 1]->weight().shape()),
          sizes_.back()));
    }
    sizes_.push_back(rbms[k]->hidden());
    rbms_.push_back(this->register_module(fmt::format("rbm{}", k), rbms[k]));
  }
}

template <class T>
Rbm<T>& DeepBeliefNet<T>::rbm(std::size_t k) {
  if (k >= rbms_.size()) {
    throw std::out_of_range(fmt::format("DeepBeliefNet::rbm: RBM {} of a DBN of {} RBMs", k, rbms_.size()));
  }
  return *rbms_[k];
}

template <class T>
Tensor<T> DeepBeliefNet<T>::up(const Tensor<T>& data, std::size_t layers) {
  check_layer_states("DeepBeliefNet::up", "data", to_shape(data.shape()), sizes_[0], sizes_);
  if (layers > rbms_.size()) {
    throw std::invalid_argument(fmt::format("DeepBeliefNet::up: layers = {} for a DBN of {} RBMs (0 to {})", layers,
                                            rbms_.size(), rbms_.size()));
  }
  Tensor<T> h = data;
  for (std::size_t k = 0; k < layers; ++k) h = hidden_probabilities(*rbms_[k], h);
  return h;
}

template <class T>
DbnSample<T> DeepBeliefNet<T>::down(const Tensor<T>& top_visible, Generator& generator) {
  const std::size_t top_layer = rbms_.size() - 1;  // L-1, the top RBM's visible layer
  check_layer_states("DeepBeliefNet::down", "the top RBM's visible states", to_shape(top_visible.shape()),
                     sizes_[top_layer], sizes_);
  NoGrad no_grad;
  DbnSample<T> s;
  s.probabilities.resize(rbms_.size());
  s.states.resize(rbms_.size());
  s.states[top_layer] = top_visible;
  for (std::size_t k = top_layer; k-- > 0;) {
    // Layer k from layer k + 1 through RBM k's p(v | h): a sigmoid belief layer.
    s.probabilities[k] = rbms_[k]->visible_probability(Variable<T>(s.states[k + 1])).value();
    s.states[k] = sample_bernoulli(s.probabilities[k], generator);
  }
  return s;
}

template <class T>
DbnSample<T> DeepBeliefNet<T>::generate(const Tensor<T>& top_start, std::size_t gibbs_steps, Generator& generator) {
  const std::size_t top_layer = rbms_.size() - 1;
  check_layer_states("DeepBeliefNet::generate", "the top RBM's starting states", to_shape(top_start.shape()),
                     sizes_[top_layer], sizes_);
  if (gibbs_steps == 0) throw std::invalid_argument("DeepBeliefNet::generate: gibbs_steps = 0 (at least 1)");
  NoGrad no_grad;
  Rbm<T>& top_rbm = *rbms_.back();
  const GibbsState<T> chain = top_rbm.gibbs(top_start, gibbs_steps, generator);
  DbnSample<T> s = down(chain.visible, generator);
  s.probabilities[top_layer] = top_rbm.visible_probability(Variable<T>(chain.hidden)).value();
  s.top = chain.hidden;
  return s;
}

template <class T>
DbnSample<T> DeepBeliefNet<T>::generate(std::size_t count, std::size_t gibbs_steps, Generator& generator) {
  if (count == 0) throw std::invalid_argument("DeepBeliefNet::generate: count = 0 (at least 1)");
  return generate(generator.bernoulli<T>({count, sizes_[rbms_.size() - 1]}, 0.5), gibbs_steps, generator);
}

template <class T>
std::vector<std::vector<RbmEpoch>> pretrain_dbn(DeepBeliefNet<T>& dbn, const Tensor<T>& data,
                                                const std::vector<RbmTraining>& training, Generator& generator) {
  check_layer_states("pretrain_dbn", "data", to_shape(data.shape()), dbn.sizes()[0], dbn.sizes());
  if (training.size() != 1 && training.size() != dbn.rbms()) {
    throw std::invalid_argument(fmt::format("pretrain_dbn: {} trainings for a DBN of {} RBMs (give 1 or {})",
                                            training.size(), dbn.rbms(), dbn.rbms()));
  }
  std::vector<std::vector<RbmEpoch>> history;
  Tensor<T> below;  // RBM k's data for k >= 1: RBM k-1's hidden probabilities
  for (std::size_t k = 0; k < dbn.rbms(); ++k) {
    const RbmTraining& t = training.size() == 1 ? training[0] : training[k];
    const Tensor<T>& input = k == 0 ? data : below;
    Rbm<T>& rbm = dbn.rbm(k);
    if (t.progress) {
      fmt::print(t.progress, "RBM {} of {}: {} visible, {} hidden units, on {} examples ({}{})\n", k + 1, dbn.rbms(),
                 rbm.visible(), rbm.hidden(), input.shape()[0], t.persistent ? "PCD-" : "CD-", t.k);
      std::fflush(t.progress);
    }
    history.push_back(train_rbm(rbm, input, t, generator));
    if (k + 1 < dbn.rbms()) below = hidden_probabilities(rbm, input);
  }
  return history;
}

template <class T>
std::shared_ptr<StackedClassifier<T>> dbn_classifier(DeepBeliefNet<T>& dbn, std::size_t classes,
                                                     LinearOptions classifier) {
  const std::vector<std::size_t>& sizes = dbn.sizes();
  const std::vector<std::size_t> hidden(sizes.begin() + 1, sizes.end());
  // Zeros first (nothing drawn), then the RBMs' parameters and a softmax layer drawn with `classifier`.
  auto model = std::make_shared<StackedClassifier<T>>(
      sizes[0], hidden, classes, std::vector<Activation>{Activation::sigmoid}, LinearOptions{.init = Init::zeros});
  for (std::size_t k = 0; k < dbn.rbms(); ++k) {
    model->encoders()[k]->weight().mutable_value() = dbn.rbm(k).weight().value();
    model->encoders()[k]->bias().mutable_value() = dbn.rbm(k).hidden_bias().value();
  }
  model->classifier()->weight().mutable_value() = Linear<T>(sizes.back(), classes, classifier).weight().value();
  return model;
}

#define AG_NN_DBN(T)                                                                                     \
  template class DeepBeliefNet<T>;                                                                       \
  template std::vector<std::vector<RbmEpoch>> pretrain_dbn(DeepBeliefNet<T>&, const Tensor<T>&,          \
                                                           const std::vector<RbmTraining>&, Generator&); \
  template std::shared_ptr<StackedClassifier<T>> dbn_classifier(DeepBeliefNet<T>&, std::size_t, LinearOptions);
AG_INSTANTIATE(AG_NN_DBN)

}  // namespace ag::nn
