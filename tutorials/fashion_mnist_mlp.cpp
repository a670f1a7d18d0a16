// Tutorial 3: a multi-layer perceptron on Fashion-MNIST, trained with Adam.
//
//   fashion_mnist_mlp [--epochs N] [--batch-size N] [--lr X] [--seed N]
//                     [--data DIR] [--out DIR] [--threads N]
//
// The data: Debian's dataset-fashion-mnist package (`apt-get install dataset-fashion-mnist`) puts
// it in /usr/share/datasets/fashion-mnist, the default DIR. The model: 784-256-128-10, ReLU,
// softmax cross-entropy on the logits. Each epoch shows a progress bar (plain lines when output
// is not a terminal), then test loss and accuracy; the trained weights go to
// OUT/fashion_mnist_mlp.npz, first, then the learning curve to OUT/fashion_mnist_curve.csv and .svg.
//
// Before any work the options are checked (each has a type and a range), then the output folder
// (created if missing, and written to), then the data is read: a mistake costs a moment, not a
// training run. Exit status (cli.hpp): 0 done, 1 a runtime failure, 2 a bad option.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <nn/nn.hpp>
#include <string>
#include <system_error>

#include "cli.hpp"
#include "fashion_mnist.hpp"

namespace nn = ag::nn;
namespace fs = std::filesystem;
using V = ag::Variable<float>;

namespace {

struct Options {
  std::size_t epochs = 15, batch_size = 64, threads = 1;
  double lr = 1e-3;
  std::uint64_t seed = 1;
  std::string data = "/usr/share/datasets/fashion-mnist", out = ".";
};

void add_options(CLI::App& app, Options& o) {
  app.add_option("--epochs", o.epochs, "passes over the 60,000 training images, 1 to 1000")
      ->type_name("N")
      ->check(tutorial::whole<std::size_t>(1, 1000))
      ->capture_default_str();
  app.add_option("--batch-size", o.batch_size, "examples per Adam step, 1 to 60000")
      ->type_name("N")
      ->check(tutorial::whole<std::size_t>(1, 60000))
      ->capture_default_str();
  app.add_option("--lr", o.lr, "Adam's learning rate, above 0 and at most 1")
      ->type_name("X")
      ->check(tutorial::real_above(0.0, 1.0))
      ->capture_default_str();
  tutorial::add_seed_option(app, o.seed, "seed of the initial weights and of the shuffles");
  tutorial::add_data_option(app, o.data, "train-* and t10k-*");
  app.add_option("--out", o.out,
                 "folder for the weights, fashion_mnist_mlp.npz (written first), and the\n"
                 "learning curve, fashion_mnist_curve.csv and .svg; created with its parents\n"
                 "if missing (mkdir -p), and checked writable before the data is read")
      ->type_name("DIR")
      ->check(tutorial::nonempty_path())
      ->capture_default_str();
  tutorial::add_threads_option(app, o.threads);
  app.footer(
      tutorial::exit_status_help("the output folder or a result cannot be written, or the data is missing or corrupt\n"
                                 "(the weights then go to the temporary folder if they can)"));
}

// The model: a class of named modules, its forward an expression.
struct Mlp : nn::Layer<float> {
  std::shared_ptr<nn::Linear<float>> fc1, fc2, fc3;
  explicit Mlp(nn::Generator& g) {
    fc1 = register_module("fc1", nn::linear<float>(784, 256, {.init = nn::Init::he, .generator = &g}));
    fc2 = register_module("fc2", nn::linear<float>(256, 128, {.init = nn::Init::he, .generator = &g}));
    fc3 = register_module("fc3", nn::linear<float>(128, 10, {.init = nn::Init::xavier, .generator = &g}));
  }
  V forward(const V& x) override { return fc3->forward(ag::relu(fc2->forward(ag::relu(fc1->forward(x))))); }
};

}  // namespace

int main(int argc, char** argv) try {
  Options o;
  CLI::App app{
      "A 784-256-128-10 ReLU MLP trained with Adam on Fashion-MNIST: progress, test accuracy per epoch, "
      "learning curve and checkpoint.",
      "fashion_mnist_mlp"};
  add_options(app, o);
  if (const auto code = tutorial::parse(app, argc, argv)) return *code;
  ag::set_num_threads(static_cast<int>(o.threads));

  // The output folder before the data: a bad --out fails at once, data or not.
  tutorial::prepare_output_folder(o.out);
  const nn::LabelledImages train = tutorial::load_fashion_mnist(o.data, "train");
  const nn::LabelledImages test = tutorial::load_fashion_mnist(o.data, "t10k");
  fmt::print("Fashion-MNIST: {} training and {} test images of {} pixels\n", train.labels.size(), test.labels.size(),
             train.images.shape()[1]);

  nn::Generator generator(o.seed);
  Mlp model(generator);
  fmt::print("{}\n", model.summary());
  const nn::LearningCurve curve = tutorial::train_classifier(
      model, train, test, {.epochs = o.epochs, .batch_size = o.batch_size, .lr = o.lr}, generator);
  const auto& last = curve.records().back();
  fmt::print("test accuracy {:.4f} after {} epochs ({:.1f} s per epoch)\n", last.test_accuracy, o.epochs, last.seconds);

  // The results, the weights first. Should the folder have gone bad during the training, the
  // weights go to the temporary folder rather than being lost.
  tutorial::Outputs outputs;
  const std::string weights = (fs::path(o.out) / "fashion_mnist_mlp.npz").string();
  if (!outputs.write(weights, [&] { nn::save(model, weights); })) {
    std::error_code ec;
    const fs::path temp = fs::temp_directory_path(ec);
    const std::string fallback =
        ((ec ? fs::path("/tmp") : temp) / fmt::format("fashion_mnist_mlp-{}.npz", ::getpid())).string();
    try {
      nn::save(model, fallback);
      outputs.explain_last(fmt::format("the weights were saved to {} instead", fallback));
    } catch (const std::exception& e) {
      outputs.explain_last(fmt::format("nor could the weights be saved to {}: {}", fallback, e.what()));
    }
  }
  const std::string curve_stem = (fs::path(o.out) / "fashion_mnist_curve").string();
  outputs.curve(curve, curve_stem, "MLP 784-256-128-10 on Fashion-MNIST (Adam)");
  if (outputs.failures().empty()) {
    fmt::print("weights: {}; learning curve: {}.csv and {}.svg\n", weights, curve_stem, curve_stem);
  } else if (!outputs.written().empty()) {
    fmt::print("written: {}\n", fmt::join(outputs.written(), ", "));
  }
  return outputs.finish("fashion_mnist_mlp");
} catch (...) {
  return tutorial::report_failure("fashion_mnist_mlp");
}
