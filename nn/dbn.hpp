// The course's deep belief network: "top most layer is RBM, others are directed belief networks".
//
// Layers 0 (the pixels) .. L (the top hidden layer), RBM k joining layer k (its visible units) and
// layer k + 1 (its hidden units), k = 0 .. L-1. As a generative model the DBN is
//
//   p(layer L-1, layer L)             the top RBM, an undirected model (its energy)
//   p(layer k = 1 | layer k + 1)      = sigmoid(b_k + W_k h_{k+1}), k < L-1: directed sigmoid belief
//                                       layers, with the weights and visible biases of RBM k
//
// Learning is greedy (Hinton, Osindero & Teh 2006), layer by layer: RBM 0 on the data, then RBM k
// on the hidden probabilities p(h = 1 | v) = sigmoid(c_{k-1} + v W_{k-1}) that RBM k-1 gives of its
// own data (probabilities, not samples: less noise for the same expectation), each with
// nn::train_rbm. The hidden biases c_k of the lower RBMs have no part in the generative model; they
// give the upward (recognition) pass, and with the weights they start the classifier.
//
// Generation, top-down: block Gibbs sampling in the top RBM, then one directed pass down. The
// intermediate layers are sampled (each is a layer of binary units: the model's definition), and
// the pixels are given as their probabilities p(v = 1 | h_1) (the mean of the last draw, the
// smooth picture that papers show) as well as a binary sample of them.
//
// Classification: dbn_classifier builds an MLP x -> sigmoid(x W_0 + c_0) -> ... -> sigmoid(. W_{L-1}
// + c_{L-1}) -> softmax layer, its hidden layers copies of the RBMs' weights and hidden biases (so
// that before fine-tuning it computes exactly the DBN's upward probabilities), to be fine-tuned
// with backprop (nn::train_classifier) against StackedClassifier::random_start, the same network
// from a random start.
//
// Nothing here writes a gradient: the RBMs learn by the engine's gradient of the CD loss, the
// classifier by its gradient of the cross-entropy. Shape mismatches are ag::ShapeError naming the
// function and the shapes; an option out of range is std::invalid_argument naming it.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "nn/module.hpp"
#include "nn/rbm.hpp"
#include "nn/rbm_training.hpp"
#include "nn/stacked_autoencoder.hpp"

namespace ag::nn {

// What one top-down generation drew, for N samples. Layer k is [N, sizes[k]].
template <class T>
struct DbnSample {
  // probabilities[k] = p(layer k = 1 | states[k + 1]) for k = 0 .. L-2, the directed pass, and for
  // k = L-1 the top RBM's p(v = 1 | h) of its last Gibbs step. probabilities[0]: the pixels' picture.
  std::vector<Tensor<T>> probabilities;
  // states[k], k = 0 .. L-1: the binary states, each drawn from probabilities[k] (states[L-1] is the
  // top RBM's visible state where its chain stopped, states[0] the pixels sampled).
  std::vector<Tensor<T>> states;
  Tensor<T> top;  // the top RBM's hidden state, layer L
};

// A stack of RBMs, registered as sub-modules "rbm0", "rbm1", ... (their parameters
// "rbm0.weight", "rbm0.visible_bias", ...).
template <class T = float>
class DeepBeliefNet : public Module<T> {
 public:
  // sizes: the units of layer 0 (the pixels) .. L, at least two sizes (one RBM), none zero. Every
  // RBM is built with `options` (its weights drawn from options.generator).
  explicit DeepBeliefNet(const std::vector<std::size_t>& sizes, RbmOptions options = {});
  // On RBMs already made (trained one by one, say), bottom first, shared: RBM k's hidden units must
  // be RBM k+1's visible units (else an ag::ShapeError naming both RBMs and their weights' shapes).
  explicit DeepBeliefNet(const std::vector<std::shared_ptr<Rbm<T>>>& rbms);

  const std::vector<std::size_t>& sizes() const { return sizes_; }
  std::size_t rbms() const { return rbms_.size(); }  // L
  Rbm<T>& rbm(std::size_t k);                        // RBM k, joining layers k and k + 1
  Rbm<T>& top() { return *rbms_.back(); }

  // The upward pass: p(h = 1 | v) of RBM 0 on `data` [N, sizes[0]], then of RBM 1 on that, and so
  // on through the first `layers` RBMs (0 <= layers <= L); layer `layers`'s probabilities
  // [N, sizes[layers]], without recording a graph, in batches of 1000 rows.
  Tensor<T> up(const Tensor<T>& data, std::size_t layers);

  // The directed pass down from `top_visible` [N, sizes[L-1]], binary states of layer L-1: each
  // lower layer drawn from p(v = 1 | h) of the RBM below it. Fills probabilities and states of
  // layers 0 .. L-2 and states[L-1] = top_visible (probabilities[L-1] and top are left empty).
  DbnSample<T> down(const Tensor<T>& top_visible, Generator& generator);

  // Top-down generation: `gibbs_steps` (at least 1) steps of block Gibbs sampling in the top RBM
  // from `top_start` [N, sizes[L-1]], then down(). Under NoGrad; the same generator state, the same
  // samples.
  DbnSample<T> generate(const Tensor<T>& top_start, std::size_t gibbs_steps, Generator& generator);
  // The same from `count` (at least 1) chains whose visible units start on with probability 1/2.
  DbnSample<T> generate(std::size_t count, std::size_t gibbs_steps, Generator& generator);

 private:
  std::vector<std::size_t> sizes_;
  std::vector<std::shared_ptr<Rbm<T>>> rbms_;
};

// Greedy layer-wise learning: RBM 0 trained on `data` [N, sizes[0]] with train_rbm, then RBM k on
// the hidden probabilities of RBM k-1 given its own data (computed after RBM k-1 is trained), and
// so on. `training` holds one RbmTraining for every RBM, or one per RBM (bottom first). With
// training[k].progress set, a line names each RBM before its progress bars. Returns each RBM's
// epochs (history[k]: RBM k's). The upper RBMs' data are probabilities, not binary: their epochs'
// pseudo-log-likelihood is NaN ("n/a" in the progress lines), their reconstruction error measured.
template <class T>
std::vector<std::vector<RbmEpoch>> pretrain_dbn(DeepBeliefNet<T>& dbn, const Tensor<T>& data,
                                                const std::vector<RbmTraining>& training, Generator& generator);

// The MLP initialised from the stack: StackedClassifier with sigmoid hidden layers sizes[1..L],
// encoder k's weight and bias copies of RBM k's weight and hidden bias (copies: fine-tuning leaves
// the DBN as it is), and a fresh softmax layer [sizes[L], classes] drawn with `classifier`. Its
// random_start(linear) is the comparison.
template <class T>
std::shared_ptr<StackedClassifier<T>> dbn_classifier(DeepBeliefNet<T>& dbn, std::size_t classes,
                                                     LinearOptions classifier = {});

extern template class DeepBeliefNet<float>;
extern template class DeepBeliefNet<double>;

}  // namespace ag::nn
