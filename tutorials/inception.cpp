// Tutorial 7: a small network of two inception modules on Fashion-MNIST, beside the plain convnet.
//
//   inception [--epochs N] [--slow-epochs N] [--batch-size N] [--lr X] [--train-images N]
//             [--test-images N] [--skip-convnet] [--seed N] [--data DIR] [--out DIR] [--threads N]
//
// The course's inception module (Szegedy et al. 2014, nn/inception.hpp): 1x1, 3x3 and 5x5
// convolutions and a 3x3 max-pool side by side over the same input, the larger ones after a 1x1
// convolution that reduces the channels, their outputs concatenated along the channels. The
// network:
//
//   [N, 784] -> [N, 1, 28, 28]
//     -> conv 5x5 pad 2, 16 filters -> ReLU -> max-pool 2               -> [N, 16, 14, 14]
//     -> inception {1x1 8, 1x1 8 then 3x3 16, 1x1 4 then 5x5 8,
//                   3x3 max-pool then 1x1 8}                             -> [N, 40, 14, 14]
//     -> max-pool 2                                                      -> [N, 40, 7, 7]
//     -> inception {1x1 16, 1x1 16 then 3x3 32, 1x1 8 then 5x5 16,
//                   3x3 max-pool then 1x1 16}                            -> [N, 80, 7, 7]
//     -> [N, 3920] -> dropout 0.25 -> linear 10 (the logits)
//
// It has a quarter of the plain convnet's parameters, most of them in the last layer, and its
// branches see the image at several scales at once. Then, unless --skip-convnet, the plain
// convnet of fashion_mnist_convnet (convnet.hpp) with the same budget: the same training images,
// epochs (and slow epochs), batch size, learning rate and seed. It prints each network's parameter
// count, test accuracy and time per epoch side by side, and writes to OUT
//   inception_curve.csv and .svg, inception_convnet_curve.csv and .svg    the learning curves
//   inception_comparison.svg      the two networks' test accuracy and training loss per epoch
//   inception_results.csv         network,parameters,test_accuracy,seconds_per_epoch
// Before any work the options are checked, then the output folder, then the data is read.
// Exit status (cli.hpp): 0 done, 1 a runtime failure, 2 a bad option.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <filesystem>
#include <nn/nn.hpp>
#include <string>
#include <vector>

#include "cli.hpp"
#include "convnet.hpp"
#include "fashion_mnist.hpp"

namespace nn = ag::nn;
namespace fs = std::filesystem;
using V = ag::Variable<float>;

namespace {

class InceptionNet : public nn::Layer<float> {
 public:
  explicit InceptionNet(nn::Generator& generator) {
    stem_ = register_module("stem",
                            nn::conv2d<float>(1, 16, {5, 5}, {.conv = {.padding = {2, 2}}, .generator = &generator}));
    inception1_ =
        register_module("inception1", nn::inception<float>(16, {8, 8, 16, 4, 8, 8}, {.generator = &generator}));
    inception2_ = register_module(
        "inception2",
        nn::inception<float>(inception1_->out_channels(), {16, 16, 32, 8, 16, 16}, {.generator = &generator}));
    dropout_ = register_module("dropout", std::make_shared<nn::Dropout<float>>(0.25, generator));
    fc_ = register_module("fc", nn::linear<float>(inception2_->out_channels() * 7 * 7, 10, {.generator = &generator}));
  }

  V forward(const V& rows) override {
    const ag::Pool2dOptions pool{.kernel = {2, 2}, .stride = std::array<long, 2>{2, 2}};
    V h = ag::max_pool2d(ag::relu(stem_->forward(ag::reshape(rows, {-1, 1, 28, 28}))), pool);
    h = inception2_->forward(ag::max_pool2d(inception1_->forward(h), pool));
    return fc_->forward(dropout_->forward(flatten_->forward(h)));
  }

 private:
  std::shared_ptr<nn::Conv2d<float>> stem_;
  std::shared_ptr<nn::Inception<float>> inception1_, inception2_;
  std::shared_ptr<nn::Dropout<float>> dropout_;
  std::shared_ptr<nn::Linear<float>> fc_;
  std::shared_ptr<nn::Flatten<float>> flatten_ = nn::flatten<float>();
};

// What one network came to.
struct Result {
  std::string name;
  std::size_t parameters;
  nn::LearningCurve curve;
  double seconds_per_epoch() const {
    double seconds = 0;
    for (const nn::EpochRecord& r : curve.records()) seconds += r.seconds;
    return seconds / static_cast<double>(curve.records().size());
  }
  double test_accuracy() const { return curve.records().back().test_accuracy; }
};

Result train_network(const std::string& name, nn::Layer<float>& model, const tutorial::ConvnetOptions& o,
                     const nn::LabelledImages& train, const nn::LabelledImages& test, nn::Generator& generator) {
  fmt::print("\n{}\n{}\n", name, model.summary());
  Result result{
      name, model.parameter_count(),
      tutorial::train_classifier(
          model, train, test,
          {.epochs = o.epochs, .batch_size = o.batch_size, .lr = o.lr, .slow_epochs = o.slow_epochs}, generator)};
  fmt::print("{}: test accuracy {:.4f} after {} epochs ({:.1f} s per epoch)\n", name, result.test_accuracy(), o.epochs,
             result.seconds_per_epoch());
  return result;
}

}  // namespace

int main(int argc, char** argv) try {
  tutorial::ConvnetOptions o;
  o.epochs = 4;  // two networks: half the convnet tutorial's budget each
  o.slow_epochs = 1;
  bool skip_convnet = false;
  CLI::App app{
      "A network of two inception modules trained with Adam on Fashion-MNIST, then the plain convnet with the same "
      "budget: their parameter counts, test accuracies and times side by side, and their learning curves.",
      "inception"};
  tutorial::add_convnet_options(app, o,
                                "folder for the learning curves, inception_curve.csv and .svg and\n"
                                "inception_convnet_curve.csv and .svg, the two side by side,\n"
                                "inception_comparison.svg, and the results, inception_results.csv");
  app.add_flag("--skip-convnet", skip_convnet, "train the inception network only, not the plain convnet beside it");
  app.footer(
      tutorial::exit_status_help("the output folder or a result cannot be written, or the data is missing or corrupt"));
  if (const auto code = tutorial::parse(app, argc, argv)) return *code;
  ag::set_num_threads(static_cast<int>(o.threads));

  // The output folder, and the results' file in it, before the data.
  tutorial::prepare_output_folder(o.out);
  const std::string stem = (fs::path(o.out) / "inception").string();
  const std::string results_csv = stem + "_results.csv";
  tutorial::prepare_output_file(results_csv);
  const nn::LabelledImages train =
      tutorial::first_images(tutorial::load_fashion_mnist_28x28(o.data, "train"), o.train_images);
  const nn::LabelledImages test =
      tutorial::first_images(tutorial::load_fashion_mnist_28x28(o.data, "t10k"), o.test_images);
  fmt::print("Fashion-MNIST: {} training and {} test images of 28 x 28 pixels; {} epochs of batches of {}, lr {}\n",
             train.labels.size(), test.labels.size(), o.epochs, o.batch_size, o.lr);

  // Each network from the same seed: the same shuffles, whatever ran before it.
  std::vector<Result> results;
  {
    nn::Generator generator(o.seed);
    InceptionNet model(generator);
    results.push_back(train_network("inception network", model, o, train, test, generator));
  }
  if (!skip_convnet) {
    nn::Generator generator(o.seed);
    tutorial::ConvNet model(generator);
    results.push_back(train_network("plain convnet", model, o, train, test, generator));
  }

  fmt::print("\n{:<20} {:>10} {:>14} {:>12}\n", "network", "parameters", "test accuracy", "s per epoch");
  std::string table = "network,parameters,test_accuracy,seconds_per_epoch\n";
  for (const Result& r : results) {
    fmt::print("{:<20} {:>10} {:>14.4f} {:>12.1f}\n", r.name, r.parameters, r.test_accuracy(), r.seconds_per_epoch());
    table += fmt::format("{},{},{:.4f},{:.2f}\n", r.name, r.parameters, r.test_accuracy(), r.seconds_per_epoch());
  }

  tutorial::Outputs outputs;
  outputs.curve(results[0].curve, stem + "_curve", "Two inception modules on Fashion-MNIST (Adam)");
  if (!skip_convnet) {
    outputs.curve(results[1].curve, stem + "_convnet_curve",
                  "Convnet (2 conv + max-pool stages) on Fashion-MNIST (Adam)");
    const std::string svg = stem + "_comparison.svg";
    outputs.write(svg, [&] {
      std::vector<std::size_t> epochs;
      nn::CurvePanel accuracy{"test accuracy", {}}, loss{"training loss", {}};
      for (const Result& r : results) {
        std::vector<double> test_accuracy, train_loss;
        for (const nn::EpochRecord& e : r.curve.records()) {
          test_accuracy.push_back(e.test_accuracy);
          train_loss.push_back(e.train_loss);
        }
        accuracy.lines.emplace_back(r.name, test_accuracy);
        loss.lines.emplace_back(r.name, train_loss);
      }
      for (const nn::EpochRecord& e : results[0].curve.records()) epochs.push_back(e.epoch);
      nn::write_curves_svg(svg, "Inception network and plain convnet on Fashion-MNIST, the same budget", epochs,
                           {accuracy, loss});
      tutorial::check_complete(svg, "</svg>\n");
    });
  }
  outputs.write(results_csv, [&] { tutorial::write_file(results_csv, table); });
  if (outputs.failures().empty()) {
    fmt::print("learning curves: {}_curve.csv and .svg{}; results: {}\n", stem,
               skip_convnet ? "" : fmt::format(", {0}_convnet_curve.csv and .svg, {0}_comparison.svg", stem),
               results_csv);
  } else if (!outputs.written().empty()) {
    fmt::print("written: {}\n", fmt::join(outputs.written(), ", "));
  }
  return outputs.finish("inception");
} catch (...) {
  return tutorial::report_failure("inception");
}
