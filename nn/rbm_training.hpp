// Training an RBM epoch by epoch, as researchers watch it: contrastive divergence (CD-k) or
// persistent CD over shuffled minibatches, the engine's gradient of the CD loss followed by
// nn::SGD (momentum, weight decay), and after each epoch the numbers that the loss does not give
// (the CD loss, mean F(data) - mean F(negatives), is no likelihood):
//
//   reconstruction error     nn::reconstruction_error on the monitored rows
//   pseudo-log-likelihood    nn::stochastic_pseudo_log_likelihood on the monitored rows (one random
//                            unit per row, unbiased; the exact one costs D + 1 free energies a row)
//                            or nn::pseudo_log_likelihood (exact_pseudo_likelihood = true)
//                            when every monitored value is 0 or 1; else NaN, printed "n/a": the
//                            pseudo-likelihood flips v_i to 1 - v_i and is no likelihood of
//                            probabilities (the upper RBMs of nn::pretrain_dbn train on them)
//
// The monitored rows are the first `monitor_rows` rows of the data (all of them when 0 or when
// there are fewer). Nothing here writes a gradient: each update is
//   cd = contrastive_divergence(rbm, batch, k) (or persistent_contrastive_divergence);
//   sgd.zero_grad(); backward(cd.loss); sgd.step();
#pragma once

#include <cstddef>
#include <cstdio>
#include <functional>
#include <vector>

#include "nn/optim.hpp"
#include "nn/random.hpp"
#include "nn/rbm.hpp"

namespace ag::nn {

struct RbmTraining {
  std::size_t epochs = 10;      // passes over the data; 0 leaves the RBM as it is
  std::size_t batch_size = 64;  // examples per update, at least 1
  std::size_t k = 1;            // Gibbs steps per update (CD-k, PCD-k), at least 1
  // Persistent CD: batch_size fantasy particles (nn::PersistentChain, each unit on with probability
  // 1/2 at the start) carried from update to update for the whole training; else CD-k from the batch.
  bool persistent = false;
  // SGD's weight decay applies to every parameter, the biases b and c as well as W (Hinton's
  // practical guide decays W only): with weight_decay > 0 the biases are pulled toward 0 too.
  SGDOptions sgd{.lr = 0.05, .momentum = 0.5, .weight_decay = 1e-4};
  // Before the first epoch, the visible bias set to base_rate_bias(data): the data's log-odds
  // (Hinton's practical guide), so that the hidden units need not learn the pixels' means. Not
  // with epochs = 0, which leaves the RBM as it is.
  bool base_rate_visible_bias = false;
  std::size_t monitor_rows = 1000;       // the first rows of the data, measured after each epoch; 0: all
  bool exact_pseudo_likelihood = false;  // every unit flipped in turn instead of one per row
  // A ProgressBar per epoch on this stream (a line per epoch off a terminal); null: silent. Its
  // "loss" is the running mean of the CD loss, its "acc" column how far the negative samples are
  // from the batches, a running mean: for CD-k the squared difference per unit between each row
  // and its negative sample (a sampled reconstruction error, free to compute), for PCD the squared
  // difference per unit between the batch's mean and the particles' mean. The epoch's line ends
  // with the monitored reconstruction error and pseudo-log-likelihood.
  std::FILE* progress = nullptr;
};

// One epoch of an RBM's training.
struct RbmEpoch {
  std::size_t epoch;             // from 1
  double cd_loss;                // mean F(data) - mean F(negatives), the mean over the batches
  double reconstruction_error;   // on the monitored rows, after the epoch: a sum over the units, a mean over rows
  double pseudo_log_likelihood;  // on the monitored rows, after the epoch (nats per row); NaN unless they are binary
  double seconds;                // the epoch's updates and its measurements
};

// Trains `rbm` on `data` [N, rbm.visible()] with `options`; batches shuffled, Gibbs samples and
// the stochastic pseudo-likelihood's units drawn from `generator` (the same seed, the same run).
// `on_epoch`, if given, is called with each epoch's record as soon as it is measured. Returns the
// records. Throws ag::ShapeError for data of another width (naming the function and both shapes),
// std::invalid_argument for an option out of range (naming it).
template <class T>
std::vector<RbmEpoch> train_rbm(Rbm<T>& rbm, const Tensor<T>& data, const RbmTraining& options, Generator& generator,
                                const std::function<void(const RbmEpoch&)>& on_epoch = {});

}  // namespace ag::nn
