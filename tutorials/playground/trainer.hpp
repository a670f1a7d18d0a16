// The playground's second panel: a small network trained on 2-D toy data, as on
// playground.tensorflow.org, with the engine's nn modules, losses and SGD in float.
#pragma once

#include <cstdint>
#include <memory>
#include <nn/layers.hpp>
#include <nn/optim.hpp>
#include <nn/random.hpp>
#include <string>
#include <vector>

namespace playground {

struct TrainerConfig {
  std::string dataset = "xor";  // xor, circles, spirals, gaussians
  int points = 200;
  double noise = 0;             // standard deviation of the noise added to each coordinate
  double train_fraction = 0.5;  // the rest is the test set
  std::uint64_t seed = 1;
  std::vector<int> hidden{4, 4};    // units per hidden layer
  std::string activation = "tanh";  // tanh, relu, sigmoid, linear
  double learning_rate = 0.03;
  int batch_size = 10;
  double l1 = 0, l2 = 0;  // penalties on the weights (not the biases), in the training objective only
};

// Points in [-1, 1]^2 (before noise), x holding (x0, y0, x1, y1, ...), labels 0 or 1.
struct Dataset {
  std::vector<float> x, label;
  std::vector<std::uint8_t> train;  // 1: in the training set
};
// Throws std::invalid_argument for an unknown kind or a count outside 2 .. 10000.
Dataset make_dataset(const std::string& kind, int points, double noise, double train_fraction, std::uint64_t seed);

struct Figures {
  long steps = 0;
  double train_loss = 0, test_loss = 0;  // mean binary cross-entropy, without the penalties
  double train_accuracy = 0, test_accuracy = 0;
};

struct UnitMap {
  int layer = 0, unit = 0;
  std::vector<float> values;  // the unit's activation on the grid of Trainer::output_map
};

struct GradcheckResult {
  bool passed = false;
  double max_error = 0;     // the largest |analytic - numeric| over every parameter
  std::size_t checked = 0;  // parameters checked
  std::string message;
};

class Trainer {
 public:
  // Throws std::invalid_argument naming the setting that is out of range.
  explicit Trainer(const TrainerConfig& config);
  // n minibatch steps of SGD on the training objective, then the figures.
  Figures step(int n);
  Figures figures() const;
  const Dataset& data() const { return data_; }
  // P(class 1) on a resolution x resolution grid over [-extent, extent]^2, row by row from the
  // top (y = extent), each row from left (x = -extent) to right.
  std::vector<float> output_map(int resolution, double extent) const;
  // Each hidden unit's activation on the same grid, layer by layer.
  std::vector<UnitMap> unit_maps(int resolution, double extent) const;
  // ag::gradcheck of the training objective at the current parameters, in double, on up to ten
  // training points.
  GradcheckResult gradcheck() const;

 private:
  using V = ag::Variable<float>;
  V logits(const V& x, std::vector<V>* hidden = nullptr) const;
  V objective(const V& x, const V& y) const;

  TrainerConfig config_;
  Dataset data_;
  ag::Tensor<float> train_x_, train_y_, test_x_, test_y_;
  ag::nn::Generator generator_;
  std::vector<std::shared_ptr<ag::nn::Linear<float>>> layers_;  // the hidden layers, then the output
  std::vector<V> weights_;  // the layers' weights, which the L1/L2 penalties take (not the biases)
  std::unique_ptr<ag::nn::SGD<float>> optimizer_;
  std::vector<std::size_t> order_;  // the training points in this epoch's order
  std::size_t next_ = 0;
  long steps_ = 0;
};

}  // namespace playground
