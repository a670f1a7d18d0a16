// The course's restricted Boltzmann machine, Bernoulli-Bernoulli, as its energy: the model is the
// expression, and learning is the engine's gradient of another one. Nothing here writes a
// gradient or an update rule.
//
//   energy            E(v, h) = -b'v - c'h - v'W h               W [visible, hidden], b [visible], c [hidden]
//   free energy       F(v) = -log sum_h e^-E(v, h) = -b'v - sum_j softplus(c_j + (v W)_j)
//   conditionals      p(h_j = 1 | v) = sigmoid(c_j + (v W)_j),  p(v_i = 1 | h) = sigmoid(b_i + (W h)_i)
//
// The units of one layer are independent given the other (the slides' "conditionally
// independent"), so block Gibbs sampling draws a whole layer at once: h ~ p(h | v), v ~ p(v | h).
//
// Contrastive divergence as a loss: L = mean_n F(v_n) - mean_m F(v~_m), with v~ the model's
// samples (CD-k: k Gibbs steps from the data; persistent CD: a chain kept across updates), held
// constant. Since dF(v)/dW = -v' p(h | v), the engine's gradient of L is
//   dL/dW = -(<v h>_data - <v h>_model),  dL/db = -(<v>_data - <v>_model),  dL/dc = -(<h>_data - <h>_model)
// with h at its conditional probabilities: minus the classical CD update, which any optimizer
// (SGD with momentum, weight decay) then follows. tests/rbm_test.cpp checks the equality to 1e-10.
//
// Sampling runs under NoGrad and draws from an nn::Generator: the same seed, the same samples.
// Shapes are checked at each entry: a mismatch is an ag::ShapeError naming the function and the
// shapes; an option out of range a std::invalid_argument naming it.
#pragma once

#include <cstddef>

#include "nn/module.hpp"
#include "nn/random.hpp"

namespace ag::nn {

// E(v, h) per row: v [N, visible], h [N, hidden], w [visible, hidden], b [visible], c [hidden] ->
// [N]. A plain expression: differentiable in every argument (gradcheck checks v and h too).
template <class T>
Variable<T> rbm_energy(const Variable<T>& v, const Variable<T>& h, const Variable<T>& w, const Variable<T>& b,
                       const Variable<T>& c);

// F(v) per row: v [N, visible] -> [N]. With the roles swapped, rbm_free_energy(h, W', c, b) is the
// free energy of the hidden units, -log sum_v e^-E(v, h).
template <class T>
Variable<T> rbm_free_energy(const Variable<T>& v, const Variable<T>& w, const Variable<T>& b, const Variable<T>& c);

// A binary tensor of p's shape: 1 where a uniform draw from `generator` falls below p, else 0.
template <class T>
Tensor<T> sample_bernoulli(const Tensor<T>& p, Generator& generator);

struct RbmOptions {
  // W starts N(0, weight_scale^2), as Hinton's practical guide suggests (0.01); both biases at 0
  // (set the visible bias to base_rate_bias(data) to start from the data's marginals).
  double weight_scale = 0.01;
  Generator* generator = nullptr;  // draws W; null: default_generator()
};

// Where a run of block Gibbs sampling ended: the visible state, and the hidden state it was drawn
// from. At equilibrium the pair is a draw of the joint p(v, h).
template <class T>
struct GibbsState {
  Tensor<T> visible;  // [N, visible]
  Tensor<T> hidden;   // [N, hidden]
};

// Parameters "weight" W [visible, hidden], "visible_bias" b [visible], "hidden_bias" c [hidden]:
// what parameters(), the optimizers and checkpoints see.
template <class T = float>
class Rbm : public Module<T> {
 public:
  Rbm(std::size_t visible, std::size_t hidden, RbmOptions options = {});

  std::size_t visible() const { return visible_; }
  std::size_t hidden() const { return hidden_; }
  Variable<T>& weight() { return weight_; }
  Variable<T>& visible_bias() { return visible_bias_; }
  Variable<T>& hidden_bias() { return hidden_bias_; }

  // The expressions over this RBM's parameters, per row of a batch.
  Variable<T> energy(const Variable<T>& v, const Variable<T>& h);  // [N]
  Variable<T> free_energy(const Variable<T>& v);                   // [N]
  Variable<T> hidden_probability(const Variable<T>& v);            // p(h = 1 | v) [N, hidden]
  Variable<T> visible_probability(const Variable<T>& h);           // p(v = 1 | h) [N, visible]

  // Sampling, under NoGrad (whatever the caller's mode).
  Tensor<T> sample_hidden(const Tensor<T>& v, Generator& generator);   // h ~ p(h | v)
  Tensor<T> sample_visible(const Tensor<T>& h, Generator& generator);  // v ~ p(v | h)
  // `steps` steps v -> h -> v from v [N, visible]; at least 1.
  GibbsState<T> gibbs(const Tensor<T>& v, std::size_t steps, Generator& generator);

 private:
  std::size_t visible_, hidden_;
  Variable<T> weight_, visible_bias_, hidden_bias_;
};

// The learning signal of one contrastive-divergence update.
template <class T>
struct ContrastiveDivergence {
  Variable<T> loss;    // mean F(data) - mean F(negative), a scalar: backward(loss), then optimizer.step()
  Tensor<T> negative;  // the model's samples v~ [M, visible], constants of the graph
};

// L = mean F(data) - mean F(negative), the negative samples a constant (not differentiated).
template <class T>
Variable<T> contrastive_divergence_loss(Rbm<T>& rbm, const Tensor<T>& data, const Tensor<T>& negative);

// CD-k: the negative samples are `k` Gibbs steps (k >= 1) from the data [N, visible] itself.
template <class T>
ContrastiveDivergence<T> contrastive_divergence(Rbm<T>& rbm, const Tensor<T>& data, std::size_t k,
                                                Generator& generator);

// The fantasy particles of persistent CD (Tieleman 2008): Gibbs chains that are not restarted at
// the data, but carried on from where the previous update left them.
template <class T>
class PersistentChain {
 public:
  // Starting from these particles [M, visible] (a batch of data, say).
  explicit PersistentChain(Tensor<T> particles);
  // M particles of `visible` units, each unit on with probability 1/2.
  PersistentChain(std::size_t particles, std::size_t visible, Generator& generator);

  const Tensor<T>& particles() const { return particles_; }
  // Carries the chains `steps` Gibbs steps further under `rbm` (as it is now); returns the particles.
  const Tensor<T>& advance(Rbm<T>& rbm, std::size_t steps, Generator& generator);

 private:
  Tensor<T> particles_;
};

// Persistent CD-k: advances the chain k steps, and its particles are the negative samples.
template <class T>
ContrastiveDivergence<T> persistent_contrastive_divergence(Rbm<T>& rbm, const Tensor<T>& data,
                                                           PersistentChain<T>& chain, std::size_t k,
                                                           Generator& generator);

// The log-odds of each visible unit's mean over `data` [N, visible]: b_i = log(p_i / (1 - p_i)),
// with p_i = (n_i + 1) / (N + 2), n_i the sum of column i (Laplace's rule, so that a unit never
// on in the data gets a finite bias). The base-rate model of AIS, and Hinton's initial b.
template <class T>
Tensor<T> base_rate_bias(const Tensor<T>& data);

extern template class Rbm<float>;
extern template class Rbm<double>;
extern template class PersistentChain<float>;
extern template class PersistentChain<double>;

}  // namespace ag::nn
