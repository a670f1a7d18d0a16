// What the Fashion-MNIST tutorials share: their --seed, --data and --threads options, one split
// read, its failure told the way cli.hpp tells them, and the training of a classifier with a
// progress bar and a test score per epoch.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <nn/nn.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli.hpp"

namespace tutorial {

// --seed N: `what` says what it seeds.
inline void add_seed_option(CLI::App& app, std::uint64_t& seed, const std::string& what) {
  app.add_option("--seed", seed, what + ", 0 to 2^64 - 1")
      ->type_name("N")
      ->check(whole<std::uint64_t>(0, std::numeric_limits<std::uint64_t>::max()))
      ->capture_default_str();
}

// --data DIR: `files` says which IDX files the program reads.
inline void add_data_option(CLI::App& app, std::string& folder, const std::string& files) {
  app.add_option("--data", folder, "folder of the IDX files " + files + " (plain or .gz)")
      ->type_name("DIR")
      ->check(nonempty_path())
      ->capture_default_str();
}

// --threads N, for ag::set_num_threads.
inline void add_threads_option(CLI::App& app, std::size_t& threads) {
  app.add_option("--threads", threads, "threads for the engine and OpenBLAS (ag::set_num_threads), 1 to 256")
      ->type_name("N")
      ->check(whole<std::size_t>(1, 256))
      ->capture_default_str();
}

// The "train" or "t10k" split of the IDX files in `folder`. Missing or corrupt data is a Failure
// (exit 1) naming the file and what is wrong, and saying where Debian's package puts the data.
inline ag::nn::LabelledImages load_fashion_mnist(const std::string& folder, const std::string& split) {
  try {
    return ag::nn::load_mnist(folder, split);
  } catch (const ag::nn::DataError& e) {
    throw Failure(fmt::format("{} (install the data with `apt-get install dataset-fashion-mnist`, or pass --data DIR)",
                              one_line(e.what())));
  }
}

// The same, for a program that needs 28 x 28 images: other sizes are a Failure naming the folder.
inline ag::nn::LabelledImages load_fashion_mnist_28x28(const std::string& folder, const std::string& split) {
  ag::nn::LabelledImages set = load_fashion_mnist(folder, split);
  if (set.images.shape()[1] != 28 * 28) {
    throw Failure(fmt::format("{}: {} images of {} pixels, not 28 x 28", folder, split, set.images.shape()[1]));
  }
  return set;
}

// A classifier's training: Adam on the mean softmax cross-entropy of shuffled minibatches, the
// last `slow_epochs` of the `epochs` at a tenth of the learning rate.
struct ClassifierTraining {
  std::size_t epochs = 15, batch_size = 64;
  double lr = 1e-3;
  std::size_t slow_epochs = 0;
};

// Trains `model` ([N, pixels] rows in, [N, 10] logits out) on `train`, and after each epoch scores
// it on `test` (nn::evaluate_classifier): a progress bar per epoch, ended by the test loss and
// accuracy. Shuffles with `generator`. The slow epochs start a new Adam, its moments from zero
// (nn::Adam's rate is fixed): a step schedule. Returns the learning curve, the epoch's seconds
// including the test.
inline ag::nn::LearningCurve train_classifier(ag::nn::Layer<float>& model, const ag::nn::LabelledImages& train,
                                              const ag::nn::LabelledImages& test, const ClassifierTraining& training,
                                              ag::nn::Generator& generator) {
  namespace nn = ag::nn;
  using V = ag::Variable<float>;
  const std::size_t fast_epochs = training.epochs - std::min(training.slow_epochs, training.epochs);
  std::optional<nn::Adam<float>> adam;
  nn::LearningCurve curve;
  for (std::size_t epoch = 1; epoch <= training.epochs; ++epoch) {
    if (epoch == 1 || epoch == fast_epochs + 1) {
      adam.emplace(model.parameters(), nn::AdamOptions{.lr = epoch > fast_epochs ? training.lr / 10 : training.lr});
    }
    const nn::Batches batches(train.labels.size(), training.batch_size, true, generator);
    nn::ProgressBar bar(epoch, training.epochs, batches.size());
    double loss_sum = 0, right = 0;
    std::size_t seen = 0;
    for (std::size_t b = 0; b < batches.size(); ++b) {
      const std::vector<std::size_t> rows = batches[b];
      const std::vector<std::size_t> labels = nn::select(train.labels, rows);
      const V logits = model.forward(V(nn::select_rows(train.images, rows)));
      const V loss = nn::softmax_cross_entropy(logits, labels);
      adam->zero_grad();
      ag::backward(loss);
      adam->step();
      seen += rows.size();
      loss_sum += loss.item() * static_cast<double>(rows.size());
      right += nn::accuracy(logits.value(), labels) * static_cast<double>(rows.size());
      bar.update(b + 1, seen, loss_sum / static_cast<double>(seen), right / static_cast<double>(seen));
    }
    const nn::ClassifierScore score = nn::evaluate_classifier(model, test.images, test.labels);
    const double seconds = bar.finish(fmt::format("  test loss {:.4f}  test acc {:.4f}", score.loss, score.accuracy));
    curve.add({epoch, loss_sum / static_cast<double>(seen), right / static_cast<double>(seen), score.loss,
               score.accuracy, seconds});
  }
  return curve;
}

}  // namespace tutorial
