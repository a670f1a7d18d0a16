#include "nn/stacked_autoencoder.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>
#include <xtensor/xview.hpp>

#include "autograd/instantiate.hpp"
#include "nn/io/data.hpp"
#include "nn/losses.hpp"
#include "nn/optim.hpp"
#include "nn/train/progress.hpp"

namespace ag::nn {

namespace {

// [N, width] with N >= 1 (and width as expected, unless 0), else a ShapeError naming `function`.
template <class T>
void check_table(const char* function, const char* what, const Tensor<T>& table, std::size_t width,
                 const std::string& expected) {
  if (table.dimension() != 2 || table.shape()[0] == 0 || (width != 0 && table.shape()[1] != width) ||
      table.shape()[1] == 0) {
    throw ShapeError(fmt::format("{}: {} of shape {} (expected {}, N >= 1)", function, what,
                                 shape_str(to_shape(table.shape())), expected));
  }
}

void check_batch_size(const char* function, std::size_t batch_size) {
  if (batch_size == 0) throw std::invalid_argument(fmt::format("{}: batch_size = 0 (it must be at least 1)", function));
}

void check_lr(const char* function, double lr) {
  if (!(lr > 0) || !std::isfinite(lr)) {
    throw std::invalid_argument(fmt::format("{}: lr = {} (it must be finite and above 0)", function, lr));
  }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

// --- 1 ---------------------------------------------------------------------------------------

LabelledSplit balanced_subset(const std::vector<std::size_t>& labels, std::size_t per_class, Generator& generator) {
  if (per_class == 0) throw std::invalid_argument("balanced_subset: per_class = 0 (it must be at least 1)");
  if (labels.empty()) throw std::invalid_argument("balanced_subset: no labels");
  const std::size_t classes = *std::max_element(labels.begin(), labels.end()) + 1;
  std::vector<std::vector<std::size_t>> members(classes);
  for (std::size_t i = 0; i < labels.size(); ++i) members[labels[i]].push_back(i);
  for (std::size_t c = 0; c < classes; ++c) {
    if (members[c].size() < per_class) {
      throw std::invalid_argument(fmt::format(
          "balanced_subset: class {} has {} examples, fewer than the {} per class asked for (labels 0 to {})", c,
          members[c].size(), per_class, classes - 1));
    }
  }
  std::vector<bool> chosen(labels.size(), false);
  for (std::size_t c = 0; c < classes; ++c) {
    // A seeded permutation of the class's members; its first per_class are drawn.
    const std::vector<std::size_t> order = generator.permutation(members[c].size());
    for (std::size_t k = 0; k < per_class; ++k) chosen[members[c][order[k]]] = true;
  }
  LabelledSplit split;
  split.labelled.reserve(classes * per_class);
  split.unlabelled.reserve(labels.size() - classes * per_class);
  for (std::size_t i = 0; i < labels.size(); ++i) (chosen[i] ? split.labelled : split.unlabelled).push_back(i);
  return split;
}

// --- 2-4 -------------------------------------------------------------------------------------

template <class T>
std::vector<AutoEncoderEpoch> train_autoencoder(AutoEncoder<T>& model, const Tensor<T>& data,
                                                const AutoEncoderTraining& options, Generator& generator) {
  check_table("train_autoencoder", "data", data, model.inputs(), fmt::format("[N, {}]", model.inputs()));
  check_batch_size("train_autoencoder", options.batch_size);
  check_lr("train_autoencoder", options.lr);
  const std::size_t n = data.shape()[0];
  model.train();
  Adam<T> adam(model.parameters(), {.lr = options.lr});
  const std::vector<Variable<T>> decayed = model.weights();
  std::vector<AutoEncoderEpoch> records;
  for (std::size_t epoch = 1; epoch <= options.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    const Batches batches(n, options.batch_size, true, generator);
    std::unique_ptr<ProgressBar> bar;
    if (options.progress) bar = std::make_unique<ProgressBar>(epoch, options.epochs, batches.size(), options.progress);
    AutoEncoderEpoch r{epoch, 0, 0, 0, 0, 0, 0};
    std::size_t seen = 0;
    for (std::size_t b = 0; b < batches.size(); ++b) {
      const std::vector<std::size_t> rows = batches[b];
      const Variable<T> x(select_rows(data, rows));
      const SparseObjective<T> j = sparse_autoencoder_objective(model.pass(x), x, decayed, options.sparsity);
      adam.zero_grad();
      backward(j.total);
      adam.step();
      const auto weight = static_cast<double>(rows.size());
      seen += rows.size();
      r.objective += weight * static_cast<double>(j.total.item());
      r.error += weight * static_cast<double>(j.error.item());
      r.sparsity += weight * static_cast<double>(j.sparsity.item());
      r.weight_decay += weight * static_cast<double>(j.weight_decay.item());
      r.mean_activation += weight * static_cast<double>(xt::mean(j.rho_hat.value())());
      const auto so_far = static_cast<double>(seen);
      if (bar) bar->update(b + 1, seen, r.objective / so_far, r.mean_activation / so_far);
    }
    const auto count = static_cast<double>(seen);
    for (double* part : {&r.objective, &r.error, &r.sparsity, &r.weight_decay, &r.mean_activation}) *part /= count;
    if (bar) {
      bar->finish(fmt::format("  error {:.4f}  sparsity {:.4f}  mean activation {:.4f}", r.error, r.sparsity,
                              r.mean_activation));
    }
    r.seconds = seconds_since(start);
    records.push_back(r);
  }
  return records;
}

template <class T>
Tensor<T> encode_all(AutoEncoder<T>& model, const Tensor<T>& data, std::size_t batch_size) {
  check_table("encode_all", "data", data, model.inputs(), fmt::format("[N, {}]", model.inputs()));
  check_batch_size("encode_all", batch_size);
  NoGrad no_grad;
  const std::size_t n = data.shape()[0];
  Tensor<T> codes = uninitialized<T>({n, model.hidden()});
  for (std::size_t start = 0; start < n; start += batch_size) {
    const std::size_t stop = std::min(n, start + batch_size);
    const Tensor<T> rows = xt::view(data, xt::range(start, stop), xt::all());
    // encode() is the clean path: the masking noise belongs to pass() in training mode only.
    xt::view(codes, xt::range(start, stop), xt::all()) = model.encode(Variable<T>(rows)).value();
  }
  return codes;
}

template <class T>
PretrainedStack<T> pretrain_stack(const Tensor<T>& data, const std::vector<std::size_t>& hidden_sizes,
                                  AutoEncoderOptions options, const AutoEncoderTraining& training,
                                  Generator& generator) {
  check_table("pretrain_stack", "data", data, 0, "[N, inputs]");
  if (hidden_sizes.empty()) throw std::invalid_argument("pretrain_stack: no hidden sizes (a stack of no auto-encoder)");
  if (std::find(hidden_sizes.begin(), hidden_sizes.end(), std::size_t{0}) != hidden_sizes.end()) {
    throw std::invalid_argument(
        fmt::format("pretrain_stack: hidden sizes [{}] (each must be at least 1)", fmt::join(hidden_sizes, ", ")));
  }
  if (!options.generator) options.generator = &generator;
  PretrainedStack<T> stack;
  Tensor<T> codes;  // auto-encoder k's data, for k >= 1: auto-encoder k-1's codes
  for (std::size_t k = 0; k < hidden_sizes.size(); ++k) {
    const Tensor<T>& input = k == 0 ? data : codes;
    const std::size_t inputs = input.shape()[1];
    if (training.progress) {
      fmt::print(training.progress, "auto-encoder {} of {}: {} -> {} -> {}, on {} examples\n", k + 1,
                 hidden_sizes.size(), inputs, hidden_sizes[k], inputs, input.shape()[0]);
      std::fflush(training.progress);
    }
    auto model = autoencoder<T>(inputs, hidden_sizes[k], options);
    stack.history.push_back(train_autoencoder(*model, input, training, generator));
    stack.autoencoders.push_back(model);
    if (k + 1 < hidden_sizes.size()) codes = encode_all(*model, input);
  }
  return stack;
}

// --- 5 ---------------------------------------------------------------------------------------

template <class T>
StackedClassifier<T>::StackedClassifier(const std::vector<std::shared_ptr<AutoEncoder<T>>>& autoencoders,
                                        std::size_t classes, LinearOptions classifier) {
  if (autoencoders.empty()) throw std::invalid_argument("StackedClassifier: no auto-encoders");
  for (std::size_t k = 0; k < autoencoders.size(); ++k) {
    const auto& ae = autoencoders[k];
    if (!ae) throw std::invalid_argument(fmt::format("StackedClassifier: auto-encoder {} is null", k));
    if (k == 0) {
      sizes_.push_back(ae->inputs());
    } else if (ae->inputs() != sizes_.back()) {
      throw ShapeError(
          fmt::format("StackedClassifier: auto-encoder {} has {} inputs, but auto-encoder {} has {} hidden units", k,
                      ae->inputs(), k - 1, sizes_.back()));
    }
    sizes_.push_back(ae->hidden());
    encoders_.push_back(this->register_module(fmt::format("encoder{}", k), ae->encoder()));
    activations_.push_back(ae->options().encoder);
  }
  add_classifier(classes, classifier);
}

template <class T>
StackedClassifier<T>::StackedClassifier(std::size_t inputs, const std::vector<std::size_t>& hidden, std::size_t classes,
                                        const std::vector<Activation>& activations, LinearOptions linear) {
  if (inputs == 0 || hidden.empty() || std::find(hidden.begin(), hidden.end(), std::size_t{0}) != hidden.end()) {
    throw std::invalid_argument(
        fmt::format("StackedClassifier: {} inputs and hidden sizes [{}] (each must be at least 1)", inputs,
                    fmt::join(hidden, ", ")));
  }
  if (activations.size() != 1 && activations.size() != hidden.size()) {
    throw std::invalid_argument(fmt::format("StackedClassifier: {} activations for {} hidden layers (give 1 or {})",
                                            activations.size(), hidden.size(), hidden.size()));
  }
  sizes_.push_back(inputs);
  for (std::size_t k = 0; k < hidden.size(); ++k) {
    encoders_.push_back(
        this->register_module(fmt::format("encoder{}", k), nn::linear<T>(sizes_.back(), hidden[k], linear)));
    sizes_.push_back(hidden[k]);
    activations_.push_back(activations.size() == 1 ? activations[0] : activations[k]);
  }
  add_classifier(classes, linear);
}

template <class T>
void StackedClassifier<T>::add_classifier(std::size_t classes, LinearOptions options) {
  if (classes < 2) throw std::invalid_argument(fmt::format("StackedClassifier: {} classes (at least 2)", classes));
  classifier_ = this->register_module("classifier", nn::linear<T>(sizes_.back(), classes, options));
  sizes_.push_back(classes);
}

template <class T>
std::shared_ptr<StackedClassifier<T>> StackedClassifier<T>::random_start(LinearOptions linear) const {
  const std::vector<std::size_t> hidden(sizes_.begin() + 1, sizes_.end() - 1);
  return std::make_shared<StackedClassifier<T>>(sizes_.front(), hidden, sizes_.back(), activations_, linear);
}

template <class T>
Variable<T> StackedClassifier<T>::features(const Variable<T>& x) {
  Variable<T> h = x;
  for (std::size_t k = 0; k < encoders_.size(); ++k) h = activate(activations_[k], encoders_[k]->forward(h));
  return h;
}

template <class T>
Variable<T> StackedClassifier<T>::forward(const Variable<T>& x) {
  return classifier_->forward(features(x));
}

// --- 6-7 -------------------------------------------------------------------------------------

template <class T>
std::vector<ClassifierEpoch> train_classifier(Layer<T>& model, const std::vector<Variable<T>>& parameters,
                                              const Tensor<T>& inputs, const std::vector<std::size_t>& labels,
                                              const ClassifierTraining& options, Generator& generator,
                                              std::FILE* progress) {
  check_table("train_classifier", "inputs", inputs, 0, "[N, features]");
  if (inputs.shape()[0] != labels.size()) {
    throw ShapeError(fmt::format("train_classifier: inputs of shape {} for {} labels",
                                 shape_str(to_shape(inputs.shape())), labels.size()));
  }
  if (parameters.empty()) throw std::invalid_argument("train_classifier: no parameters to train");
  check_batch_size("train_classifier", options.batch_size);
  check_lr("train_classifier", options.lr);
  if (!(options.weight_decay >= 0)) {
    throw std::invalid_argument(
        fmt::format("train_classifier: weight_decay = {} (it must be at least 0)", options.weight_decay));
  }
  model.train();
  Adam<T> adam(parameters, {.lr = options.lr, .weight_decay = options.weight_decay});
  std::vector<ClassifierEpoch> records;
  for (std::size_t epoch = 1; epoch <= options.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    const Batches batches(labels.size(), options.batch_size, true, generator);
    std::unique_ptr<ProgressBar> bar;
    if (progress) bar = std::make_unique<ProgressBar>(epoch, options.epochs, batches.size(), progress);
    double loss_sum = 0, right = 0;
    std::size_t seen = 0;
    for (std::size_t b = 0; b < batches.size(); ++b) {
      const std::vector<std::size_t> rows = batches[b];
      const std::vector<std::size_t> batch_labels = select(labels, rows);
      const Variable<T> logits = model.forward(Variable<T>(select_rows(inputs, rows)));
      const Variable<T> loss = softmax_cross_entropy(logits, batch_labels);
      // The model's own gradients too: those of parameters left out are never applied, and cleared
      // here so that they do not pile up.
      model.zero_grad();
      adam.zero_grad();
      backward(loss);
      adam.step();
      const auto weight = static_cast<double>(rows.size());
      seen += rows.size();
      loss_sum += weight * static_cast<double>(loss.item());
      right += weight * accuracy(logits.value(), batch_labels);
      const auto so_far = static_cast<double>(seen);
      if (bar) bar->update(b + 1, seen, loss_sum / so_far, right / so_far);
    }
    if (bar) bar->finish();
    const auto count = static_cast<double>(seen);
    records.push_back({epoch, loss_sum / count, right / count, seconds_since(start)});
  }
  return records;
}

template <class T>
ClassifierScore evaluate_classifier(Layer<T>& model, const Tensor<T>& inputs, const std::vector<std::size_t>& labels,
                                    std::size_t batch_size) {
  check_table("evaluate_classifier", "inputs", inputs, 0, "[N, features]");
  if (inputs.shape()[0] != labels.size()) {
    throw ShapeError(fmt::format("evaluate_classifier: inputs of shape {} for {} labels",
                                 shape_str(to_shape(inputs.shape())), labels.size()));
  }
  check_batch_size("evaluate_classifier", batch_size);
  NoGrad no_grad;
  const bool was_training = model.is_training();
  model.eval();
  double loss = 0, right = 0;
  try {
    const Batches batches(labels.size(), batch_size, false);
    for (std::size_t b = 0; b < batches.size(); ++b) {
      const std::vector<std::size_t> rows = batches[b];
      const std::vector<std::size_t> batch_labels = select(labels, rows);
      const Variable<T> logits = model.forward(Variable<T>(select_rows(inputs, rows)));
      loss += static_cast<double>(softmax_cross_entropy(logits, batch_labels, Reduction::sum).item());
      right += accuracy(logits.value(), batch_labels) * static_cast<double>(rows.size());
    }
  } catch (...) {
    model.train(was_training);
    throw;
  }
  model.train(was_training);
  const auto n = static_cast<double>(labels.size());
  return {loss / n, right / n};
}

#define AG_NN_STACKED_AUTOENCODER(T)                                                                                   \
  template std::vector<AutoEncoderEpoch> train_autoencoder(AutoEncoder<T>&, const Tensor<T>&,                          \
                                                           const AutoEncoderTraining&, Generator&);                    \
  template Tensor<T> encode_all(AutoEncoder<T>&, const Tensor<T>&, std::size_t);                                       \
  template PretrainedStack<T> pretrain_stack(const Tensor<T>&, const std::vector<std::size_t>&, AutoEncoderOptions,    \
                                             const AutoEncoderTraining&, Generator&);                                  \
  template class StackedClassifier<T>;                                                                                 \
  template std::vector<ClassifierEpoch> train_classifier(Layer<T>&, const std::vector<Variable<T>>&, const Tensor<T>&, \
                                                         const std::vector<std::size_t>&, const ClassifierTraining&,   \
                                                         Generator&, std::FILE*);                                      \
  template ClassifierScore evaluate_classifier(Layer<T>&, const Tensor<T>&, const std::vector<std::size_t>&,           \
                                               std::size_t);
AG_INSTANTIATE(AG_NN_STACKED_AUTOENCODER)

}  // namespace ag::nn
