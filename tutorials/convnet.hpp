// What the two convolutional tutorials share (fashion_mnist_convnet, inception): their options,
// the data they train on, and the plain convnet.
#pragma once

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <nn/nn.hpp>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "cli.hpp"
#include "fashion_mnist.hpp"

namespace tutorial {

// A training run's options, as both programs take them.
struct ConvnetOptions {
  std::size_t epochs = 8, slow_epochs = 2, batch_size = 64, train_images = 60000, test_images = 10000, threads = 1;
  double lr = 1e-3;
  std::uint64_t seed = 1;
  std::string data = "/usr/share/datasets/fashion-mnist", out = ".";
};

// --epochs, --slow-epochs, --batch-size, --lr, --train-images, --test-images, --seed, --data, --threads and
// --out, whose help says what goes in the folder (`outputs`).
inline void add_convnet_options(CLI::App& app, ConvnetOptions& o, const std::string& outputs) {
  app.add_option("--epochs", o.epochs, "passes over the training images, 1 to 1000")
      ->type_name("N")
      ->check(whole<std::size_t>(1, 1000))
      ->capture_default_str();
  app.add_option("--slow-epochs", o.slow_epochs,
                 "the last N epochs at a tenth of the learning rate (a new Adam), 0 to 1000;\n"
                 "all of them if N is at least --epochs")
      ->type_name("N")
      ->check(whole<std::size_t>(0, 1000))
      ->capture_default_str();
  app.add_option("--batch-size", o.batch_size, "examples per Adam step, 1 to 60000")
      ->type_name("N")
      ->check(whole<std::size_t>(1, 60000))
      ->capture_default_str();
  app.add_option("--lr", o.lr, "Adam's learning rate, above 0 and at most 1")
      ->type_name("X")
      ->check(real_above(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--train-images", o.train_images,
                 "train on the first N of the 60,000 training images (a short run), 1 to 60000")
      ->type_name("N")
      ->check(whole<std::size_t>(1, 60000))
      ->capture_default_str();
  app.add_option("--test-images", o.test_images, "test on the first N of the 10,000 test images, 1 to 10000")
      ->type_name("N")
      ->check(whole<std::size_t>(1, 10000))
      ->capture_default_str();
  add_seed_option(app, o.seed, "seed of the initial weights, the dropout masks and the shuffles");
  add_data_option(app, o.data, "train-* and t10k-*");
  app.add_option("--out", o.out,
                 outputs +
                     ";\ncreated with its parents if missing (mkdir -p), and checked writable before the\n"
                     "data is read")
      ->type_name("DIR")
      ->check(nonempty_path())
      ->capture_default_str();
  add_threads_option(app, o.threads);
}

// The first `count` images of a set (all of them if it holds fewer).
inline ag::nn::LabelledImages first_images(const ag::nn::LabelledImages& set, std::size_t count) {
  if (count >= set.labels.size()) return set;
  std::vector<std::size_t> rows(count);
  std::iota(rows.begin(), rows.end(), std::size_t{0});
  return {ag::nn::select_rows(set.images, rows), ag::nn::select(set.labels, rows), set.classes};
}

// The plain convnet: two stages of convolution, ReLU and 2 x 2 max-pooling, then a hidden layer.
//
//   [N, 784] -> [N, 1, 28, 28]
//     -> conv 5x5 pad 2, 16 filters -> ReLU -> max-pool 2 -> [N, 16, 14, 14]
//     -> conv 5x5 pad 2, 32 filters -> ReLU -> max-pool 2 -> [N, 32, 7, 7] -> [N, 1568]
//     -> linear 128 -> ReLU -> dropout 0.25 -> linear 10 (the logits)
class ConvNet : public ag::nn::Layer<float> {
 public:
  explicit ConvNet(ag::nn::Generator& generator) {
    namespace nn = ag::nn;
    const nn::Conv2dLayerOptions conv{.conv = {.padding = {2, 2}}, .init = nn::Init::he, .generator = &generator};
    conv1_ = register_module("conv1", nn::conv2d<float>(1, 16, {5, 5}, conv));
    conv2_ = register_module("conv2", nn::conv2d<float>(16, 32, {5, 5}, conv));
    fc1_ = register_module("fc1", nn::linear<float>(32 * 7 * 7, 128, {.init = nn::Init::he, .generator = &generator}));
    dropout_ = register_module("dropout", std::make_shared<nn::Dropout<float>>(0.25, generator));
    fc2_ = register_module("fc2", nn::linear<float>(128, 10, {.init = nn::Init::xavier, .generator = &generator}));
  }

  // The first layer's feature maps, after its ReLU: [N, 784] -> [N, 16, 28, 28].
  ag::Variable<float> features(const ag::Variable<float>& rows) {
    return ag::relu(conv1_->forward(ag::reshape(rows, {-1, 1, 28, 28})));
  }

  ag::Variable<float> forward(const ag::Variable<float>& rows) override {
    const ag::Pool2dOptions pool{.kernel = {2, 2}, .stride = std::array<long, 2>{2, 2}};
    ag::Variable<float> h = ag::max_pool2d(features(rows), pool);
    h = ag::max_pool2d(ag::relu(conv2_->forward(h)), pool);
    return fc2_->forward(dropout_->forward(ag::relu(fc1_->forward(flatten_->forward(h)))));
  }

  ag::nn::Conv2d<float>& conv1() { return *conv1_; }

 private:
  std::shared_ptr<ag::nn::Conv2d<float>> conv1_, conv2_;
  std::shared_ptr<ag::nn::Linear<float>> fc1_, fc2_;
  std::shared_ptr<ag::nn::Dropout<float>> dropout_;
  std::shared_ptr<ag::nn::Flatten<float>> flatten_ = ag::nn::flatten<float>();
};

}  // namespace tutorial
