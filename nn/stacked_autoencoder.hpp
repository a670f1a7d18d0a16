// Stacked auto-encoders, learnt greedily layer by layer (the course's "Deep networks" part): each
// stage is a function of its own, so that a tutorial, a test or another model composes them.
//
//   1. balanced_subset    a few labelled examples per class, drawn with a seed; the rest is used
//                         without its labels
//   2. train_autoencoder  one sparse (and possibly denoising) auto-encoder on a data set: Adam on
//                         the objective J = E + beta sum_j KL(rho || rho_j) + lambda/2 |W|^2
//   3. encode_all         the hidden codes of a data set, the next auto-encoder's data
//   4. pretrain_stack     2 and 3 in turn: the first auto-encoder on the data, the next one on the
//                         first one's codes, and so on (greedy layer-wise learning)
//   5. StackedClassifier  the stack's encoders, shared with the auto-encoders, each followed by
//                         its activation, then a softmax layer; or the same network from a random
//                         start, for the comparison
//   6. train_classifier   softmax cross-entropy with Adam on the parameters it is given: only the
//                         softmax layer's (on the top codes), or all of them (fine-tuning)
//   7. evaluate_classifier  loss and accuracy over a data set
//
// Every gradient comes from the engine; nothing here writes one. Shapes are checked at each
// entry: a mismatch is an ag::ShapeError naming the function and the shapes, an option out of
// range a std::invalid_argument naming the function and the option.
#pragma once

#include <cstdio>
#include <memory>
#include <vector>

#include "nn/autoencoder.hpp"
#include "nn/layers.hpp"
#include "nn/random.hpp"

namespace ag::nn {

// --- 1. Labelled and unlabelled examples ------------------------------------------------------

// Indices into a data set: the labelled ones and the rest. Both ascending, disjoint, together
// every index once.
struct LabelledSplit {
  std::vector<std::size_t> labelled, unlabelled;
};

// `per_class` examples of each class 0 .. max(labels), drawn without replacement from `generator`
// (the same seed, the same draw), and the complement. Throws std::invalid_argument for
// per_class = 0, no labels, or a class with fewer than per_class examples (naming the class).
LabelledSplit balanced_subset(const std::vector<std::size_t>& labels, std::size_t per_class, Generator& generator);

// --- 2-4. Training auto-encoders --------------------------------------------------------------

// How an auto-encoder is trained: Adam on minibatches, rho_j estimated from each batch (the
// minibatch practice of nn::sparse_autoencoder_objective without rho_over_data).
struct AutoEncoderTraining {
  std::size_t epochs = 10;      // passes over the data; 0 leaves the auto-encoder as it is
  std::size_t batch_size = 64;  // examples per Adam step, at least 1
  double lr = 1e-3;             // Adam's learning rate
  SparsityOptions sparsity{};   // rho, beta, weight decay, how E is scaled
  // A ProgressBar per epoch on this stream (a line per epoch off a terminal); null: silent. Its
  // "loss" is the objective J and its "acc" column the mean hidden activation so far, the value
  // that the sparsity penalty pulls towards rho.
  std::FILE* progress = nullptr;
};

// One epoch of an auto-encoder's training: the means over its batches, weighted by their sizes.
struct AutoEncoderEpoch {
  std::size_t epoch;  // from 1
  double objective;   // J, the total
  double error, sparsity, weight_decay;
  double mean_activation;  // of the hidden units, over the units and the epoch's examples
  double seconds;
};

// Trains `model` on `data` [N, model.inputs()] in training mode (with its masking noise, if any);
// the batches are shuffled by `generator`. Returns a record per epoch.
template <class T>
std::vector<AutoEncoderEpoch> train_autoencoder(AutoEncoder<T>& model, const Tensor<T>& data,
                                                const AutoEncoderTraining& options, Generator& generator);

// The hidden codes y = g(x W + b) of every row of `data` [N, model.inputs()]: [N, model.hidden()],
// computed in batches without recording a graph and without masking noise (training mode or not).
template <class T>
Tensor<T> encode_all(AutoEncoder<T>& model, const Tensor<T>& data, std::size_t batch_size = 1000);

// A stack learnt greedily: the auto-encoders, first (on the data) to last, and each one's record.
template <class T>
struct PretrainedStack {
  std::vector<std::shared_ptr<AutoEncoder<T>>> autoencoders;
  std::vector<std::vector<AutoEncoderEpoch>> history;  // history[k]: auto-encoder k's epochs
};

// Greedy layer-wise learning: auto-encoder 0 (data.shape()[1] -> hidden_sizes[0]) trained on
// `data`, then auto-encoder k (hidden_sizes[k-1] -> hidden_sizes[k]) trained on the codes that
// auto-encoder k-1 gives of its own data (encode_all), and so on. Every auto-encoder is built
// with `options` (its weights and masks drawn from options.generator, or from `generator` when
// that is null: the auto-encoders keep that pointer for their masks, so with masking > 0 the
// generator must outlive them) and trained with `training`, the shuffles drawn from `generator`. With
// training.progress set, a line names each auto-encoder before its progress bars.
template <class T>
PretrainedStack<T> pretrain_stack(const Tensor<T>& data, const std::vector<std::size_t>& hidden_sizes,
                                  AutoEncoderOptions options, const AutoEncoderTraining& training,
                                  Generator& generator);

// --- 5. The classifier on the stack -----------------------------------------------------------

// A deep network for classification: x -> g_0(x W_0 + b_0) -> g_1(. W_1 + b_1) -> ... -> logits,
// the encoders registered as "encoder0", "encoder1", ... and the softmax layer as "classifier"
// (forward gives the logits; nn::softmax_cross_entropy applies the softmax).
template <class T = float>
class StackedClassifier : public Layer<T> {
 public:
  // On trained auto-encoders: their encoder Linear modules themselves (auto-encoder k's
  // encoder()), so that training this network trains them, with their encoder activations; a
  // fresh softmax layer [last hidden, classes] made with `classifier`. Each auto-encoder's
  // inputs must be the previous one's hidden units.
  StackedClassifier(const std::vector<std::shared_ptr<AutoEncoder<T>>>& autoencoders, std::size_t classes,
                    LinearOptions classifier = {});
  // From a random start: inputs -> hidden[0] -> ... -> classes, every layer fresh from `linear`,
  // hidden layer k followed by activations[k] (one activation: the same for every layer).
  StackedClassifier(std::size_t inputs, const std::vector<std::size_t>& hidden, std::size_t classes,
                    const std::vector<Activation>& activations, LinearOptions linear = {});

  // The same architecture (sizes, activations) with fresh weights drawn with `linear`: the
  // comparison for a pretrained stack. It shares nothing with this one.
  std::shared_ptr<StackedClassifier<T>> random_start(LinearOptions linear = {}) const;

  Variable<T> forward(const Variable<T>& x) override;  // the logits [N, classes]
  Variable<T> features(const Variable<T>& x);          // the top hidden layer [N, hidden.back()]

  const std::vector<std::shared_ptr<Linear<T>>>& encoders() const { return encoders_; }
  const std::shared_ptr<Linear<T>>& classifier() const { return classifier_; }
  const std::vector<Activation>& activations() const { return activations_; }
  // inputs, hidden sizes..., classes
  const std::vector<std::size_t>& sizes() const { return sizes_; }

 private:
  void add_classifier(std::size_t classes, LinearOptions options);

  std::vector<std::shared_ptr<Linear<T>>> encoders_;
  std::vector<Activation> activations_;
  std::shared_ptr<Linear<T>> classifier_;
  std::vector<std::size_t> sizes_;
};

// --- 6-7. Supervised training and evaluation --------------------------------------------------

struct ClassifierTraining {
  std::size_t epochs = 50;      // passes over the labelled examples
  std::size_t batch_size = 50;  // examples per Adam step, at least 1
  double lr = 1e-3;             // Adam's learning rate
  double weight_decay = 0;      // Adam's (coupled, PyTorch's) weight decay, on every parameter given
};

struct ClassifierEpoch {
  std::size_t epoch;               // from 1
  double loss, accuracy, seconds;  // training loss and accuracy, means over the epoch's batches
};

struct ClassifierScore {
  double loss, accuracy;
};

// Minimises the mean softmax cross-entropy of model(inputs) [N, classes] against `labels` [N]
// with Adam, updating only `parameters`. The model runs whole, in training mode; parameters left
// out keep their values bit for bit (their gradients are cleared at each step, never applied).
// Two uses: the softmax stage, `train_classifier(*stack.classifier(), stack.classifier()->
// parameters(), top_codes, ...)` on precomputed codes (or the whole stack with only the
// classifier's parameters: the same result, slower), and fine-tuning, the whole stack with
// stack.parameters(). Batches shuffled by `generator`; a ProgressBar per epoch on `progress`.
template <class T>
std::vector<ClassifierEpoch> train_classifier(Layer<T>& model, const std::vector<Variable<T>>& parameters,
                                              const Tensor<T>& inputs, const std::vector<std::size_t>& labels,
                                              const ClassifierTraining& options, Generator& generator,
                                              std::FILE* progress = nullptr);

// The mean softmax cross-entropy and the accuracy of `model` over `inputs` and `labels`, in
// evaluation mode (restored afterwards), in batches, without recording a graph.
template <class T>
ClassifierScore evaluate_classifier(Layer<T>& model, const Tensor<T>& inputs, const std::vector<std::size_t>& labels,
                                    std::size_t batch_size = 1000);

extern template class StackedClassifier<float>;
extern template class StackedClassifier<double>;

}  // namespace ag::nn
