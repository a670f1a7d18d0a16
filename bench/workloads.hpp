// The benchmark's workloads, once per engine: autograd_workloads.cpp for this engine and
// torch_workloads.cpp for libtorch, each linked into a worker program of its own (worker.cpp), so
// that each engine runs in a fresh process with nothing of the other loaded.
//
// Every workload is set up once and then run as a closure; the libtorch twins compute the same
// thing the way a libtorch user would write it.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace bench {

// A workload is set up once; run() does one repetition (a training step, a chain, ...).
struct Workload {
  Workload(std::function<void()> step, double items = 1, std::function<double()> objective_now = {})
      : run(std::move(step)), work_items(items), objective(std::move(objective_now)) {}

  std::function<void()> run;
  double work_items;  // what the figure is divided by: 1 for a step, the number of ops for a chain
  // The training objective at the current parameters, without recording or updating: the worker
  // prints it before and after the first steps, and the driver checks that both engines agree.
  // (A workload with no parameters to update gives a figure of its forward and its last gradients
  // instead.) Empty for the workloads that start from different points in each engine.
  std::function<double()> objective;
};

struct NamedWorkload {
  std::string name;
  std::function<Workload()> make;
};

// The engine's name as the driver prints it: "autograd" or "libtorch".
const char* engine_name();

// Sets the engine's thread count (its own pool and its BLAS's), before any workload is made.
void set_threads(int threads);

// The workloads both engines run (worker.cpp names them):
// One SGD step (alpha 0.2) of the course's 2-2-2-1 sigmoid network.
Workload course_step();
// `ops` scalar ops (alternately * w and + b), forward and backward.
Workload scalar_chain(int ops);
// One SGD step of a 784-256-128-10 ReLU MLP with softmax cross-entropy on a random batch.
Workload mlp_sgd_step(int batch);
// The same with the library's modules and its Adam (lr 1e-3).
Workload mlp_adam_step(int batch);
// One step of the sparse auto-encoder 784-196-784, sigmoid encoder and decoder, on a fixed batch x
// of `batch` rows uniform in [0, 1): forward, the objective
//   J = E / N + beta sum_j KL(rho || rho_j) + (lambda / 2) (|W1|^2 + |W2|^2),
//   E = sum over the batch and the pixels of (h - x)^2, N = batch, rho_j = mean of hidden unit j
//   over the batch, rho = 0.05, beta = 3, lambda = 1e-4,
// backward, and plain SGD (lr 0.1, no momentum). Both engines start from the same weights and
// inputs (shared_uniform), so their objectives can be compared. At lr 0.1 the first step overshoots
// (J 372 -> 701: the sparsity term drives every hidden unit to near 0) and training then settles
// (J 29 after 3,000 steps): the timed steps are ordinary ones.
Workload sparse_autoencoder_step(int batch);

// One plain SGD step of a LeNet-like convnet on a fixed batch of `batch` images [batch, 1, 28, 28]
// uniform in [0, 1), labels i % 10: conv 5x5 1->8 pad 2 (with a bias), ReLU, max-pool 2, conv 5x5
// 8->16 pad 2 (with a bias), ReLU, max-pool 2, flatten, linear 784->10, softmax cross-entropy (the
// mean over the batch), backward, SGD (LeNetSetup::lr). Both engines start from the same weights
// and inputs (shared_uniform), so their losses can be compared.
Workload lenet_step(int batch);
// One convolution layer alone, [batch, in, side, side] * [out, in, 3, 3] with padding 1: y, the
// reduction sum(y * r) for a fixed r of y's shape, and its gradients for the input and the weight
// (each engine's grad(), which accumulates into nothing). The objective is the reduction, plus the
// sums of both gradients of the last run; x, the weight and r are drawn from [0, 1) (the weight from
// [0, 1 / sqrt(in 9))) so that these sums of millions of terms have no cancellation to amplify
// the engines' rounding differences.
Workload conv_layer(int batch, int in_channels, int out_channels, int side);
// One CD-1 step of a Bernoulli RBM of RbmSetup's sizes on a fixed binary batch of `batch` rows:
// one block Gibbs step from the data under no-grad, h ~ p(h | v0), v1 ~ p(v | h), then the loss
// mean F(v0) - mean F(v1) with v1 a constant, F(v) = -v b - sum_j softplus(c_j + (v W)_j),
// backward, and SGD with momentum (RbmSetup::lr, ::momentum). The Bernoulli draws are not each
// engine's own generator's: both read the same pre-drawn uniforms u (a unit is on where u < p),
// the same u at every step, so that both engines sample the same states from the same
// probabilities and their losses can be compared. Both start from the same weights and batch;
// the objective is that loss at the current parameters, its Gibbs step taken with the same u.
Workload rbm_cd1_step(int batch);

// The LeNet-like network's sizes and constants, once for both engines. Weights are uniform in
// (-limit, limit) with He's limit sqrt(6 / fan_in) for the convolutions and Xavier's
// sqrt(6 / (fan_in + fan_out)) for the linear layer, the linear weight as [784, 10] (x W + b);
// biases start at zero.
struct LeNetSetup {
  static constexpr int side = 28, channels1 = 8, channels2 = 16, kernel = 5, padding = 2, classes = 10;
  static constexpr int features = channels2 * (side / 4) * (side / 4);  // 784 after two poolings
  static constexpr double lr = 0.05;
  static constexpr std::uint32_t w1_seed = 11, w2_seed = 12, w3_seed = 13, x_seed = 14;
  static float conv1_limit() { return static_cast<float>(std::sqrt(6.0 / (1 * kernel * kernel))); }
  static float conv2_limit() { return static_cast<float>(std::sqrt(6.0 / (channels1 * kernel * kernel))); }
  static float linear_limit() { return static_cast<float>(std::sqrt(6.0 / (features + classes))); }
};

// The RBM's sizes and constants, once for both engines. W [visible, hidden] is uniform in
// (-limit, limit), limit = sqrt(6 / (visible + hidden)) (Xavier's); both biases start at 0. The
// data are binary, each pixel on with probability `density` (the pixels on where a shared uniform
// falls below it); the uniforms of the Gibbs step are drawn from [0, 1) once. Xavier's weights
// rather than the practical guide's N(0, 0.01^2): with those, every F(v) is near -256 log 2 and
// the loss a small difference of two large free energies, no figure to compare to 1e-4; with
// these it starts at 38.4.
struct RbmSetup {
  static constexpr int visible = 784, hidden = 256;
  static constexpr double lr = 0.1, momentum = 0.5, density = 0.3;
  static constexpr std::uint32_t w_seed = 31, data_seed = 32, hidden_uniform_seed = 33, visible_uniform_seed = 34;
  static float weight_limit() { return static_cast<float>(std::sqrt(6.0 / (visible + hidden))); }
};

// The convolution layer's seeds.
struct ConvLayerSetup {
  static constexpr std::uint32_t x_seed = 21, w_seed = 22, r_seed = 23;
};

// The sparse auto-encoder's sizes and constants, once for both engines.
struct SparseAutoEncoderSetup {
  static constexpr int inputs = 784, hidden = 196;
  static constexpr double rho = 0.05, beta = 3, weight_decay = 1e-4, lr = 0.1;
  static constexpr std::uint32_t w1_seed = 1, w2_seed = 2, x_seed = 3;
  // Xavier's uniform limit, sqrt(6 / (fan_in + fan_out)), the library's default initialisation.
  static float xavier_limit() { return static_cast<float>(std::sqrt(6.0 / (inputs + hidden))); }
};

// `count` floats uniform in [lo, hi), the same in both engines: mt19937's output sequence is fixed by
// the standard (std::uniform_real_distribution's is not), and the top 24 bits become the float.
inline std::vector<float> shared_uniform(std::size_t count, float lo, float hi, std::uint32_t seed) {
  std::mt19937 engine(seed);
  std::vector<float> out(count);
  for (float& v : out) v = lo + (hi - lo) * static_cast<float>(engine() >> 8) * 0x1p-24f;
  return out;
}

// Workloads of this engine alone. autograd's: mlp_products_only_batch256, the batch-256 MLP step's
// eight matrix products through CBLAS (the floor under that step), autoencoder_products_only_batch256,
// the sparse auto-encoder step's five, and sgemm_1024, one 1024^3 sgemm (the machine's ceiling).
std::vector<NamedWorkload> engine_only_workloads();

// One epoch of Adam training at batch 64 over `count` images [count, 784] with their labels.
void mlp_epoch(const float* images, const std::size_t* labels, std::size_t count);
// One epoch of the LeNet-like network (lenet_step's, from the same start) with plain SGD at batch 64
// over `count` images, seen as [count, 1, 28, 28].
void lenet_epoch(const float* images, const std::size_t* labels, std::size_t count);

}  // namespace bench
