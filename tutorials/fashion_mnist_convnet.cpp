// Tutorial 6: a small convolutional network on Fashion-MNIST, and what its first layer sees.
//
//   fashion_mnist_convnet [--epochs N] [--slow-epochs N] [--batch-size N] [--lr X] [--train-images N]
//                         [--test-images N] [--image N] [--seed N] [--data DIR] [--out DIR] [--threads N]
//
// The course's convolutional network: each unit of a feature map sees a small patch of the image
// through the same weights as its neighbours (the filter, learnt), and pooling keeps the largest
// response of each 2 x 2 window, so that the next stage sees a coarser, shifted-tolerant map.
// Two such stages, then a hidden layer and the softmax (tutorial::ConvNet in convnet.hpp), trained
// with Adam on softmax cross-entropy, in float; the last epochs (--slow-epochs) at a tenth of the
// learning rate, which is worth about half a point of test accuracy. Each epoch shows a progress bar and the test
// accuracy; then the program prints the parameter count and the final test accuracy and writes
// to OUT
//   fashion_mnist_convnet_curve.csv and .svg      the learning curve
//   fashion_mnist_convnet_filters.png             the first layer's 16 filters, 5 x 5, enlarged
//   fashion_mnist_convnet_feature_maps.png        one test image (the first tile), then the 16
//                                                 feature maps it gives the first layer, after ReLU
// Before any work the options are checked, then the output folder, then the data is read.
// Exit status (cli.hpp): 0 done, 1 a runtime failure, 2 a bad option.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <nn/nn.hpp>
#include <string>
#include <vector>

#include "cli.hpp"
#include "convnet.hpp"
#include "fashion_mnist.hpp"
#include "pictures.hpp"

namespace nn = ag::nn;
namespace fs = std::filesystem;
using ag::Tensor;
using V = ag::Variable<float>;

namespace {

constexpr std::array<const char*, 10> class_names{"T-shirt/top", "trouser", "pullover", "dress", "coat",
                                                  "sandal",      "shirt",   "sneaker",  "bag",   "ankle boot"};

}  // namespace

int main(int argc, char** argv) try {
  tutorial::ConvnetOptions o;
  std::size_t image = 0;
  CLI::App app{
      "A convnet (two convolution + max-pooling stages, a hidden layer) trained with Adam on Fashion-MNIST: "
      "progress, test accuracy per epoch, learning curve, the first layer's filters and one image's feature maps.",
      "fashion_mnist_convnet"};
  tutorial::add_convnet_options(app, o,
                                "folder for the learning curve, fashion_mnist_convnet_curve.csv and .svg, and\n"
                                "the pictures fashion_mnist_convnet_filters.png and _feature_maps.png");
  app.add_option("--image", image, "the test image whose feature maps are drawn, 0 to 9999 (of all 10,000)")
      ->type_name("N")
      ->check(tutorial::whole<std::size_t>(0, 9999))
      ->capture_default_str();
  app.footer(
      tutorial::exit_status_help("the output folder or a result cannot be written, or the data is missing or corrupt"));
  if (const auto code = tutorial::parse(app, argc, argv)) return *code;
  ag::set_num_threads(static_cast<int>(o.threads));

  // The output folder before the data: a bad --out fails at once, data or not.
  tutorial::prepare_output_folder(o.out);
  const nn::LabelledImages all_test = tutorial::load_fashion_mnist_28x28(o.data, "t10k");
  const nn::LabelledImages train =
      tutorial::first_images(tutorial::load_fashion_mnist_28x28(o.data, "train"), o.train_images);
  const nn::LabelledImages test = tutorial::first_images(all_test, o.test_images);
  if (image >= all_test.labels.size()) {
    throw tutorial::Failure(fmt::format("--image {}: the test set holds {} images", image, all_test.labels.size()));
  }
  fmt::print("Fashion-MNIST: {} training and {} test images of 28 x 28 pixels\n", train.labels.size(),
             test.labels.size());

  nn::Generator generator(o.seed);
  tutorial::ConvNet model(generator);
  fmt::print("{}\n", model.summary());
  const nn::LearningCurve curve = tutorial::train_classifier(
      model, train, test, {.epochs = o.epochs, .batch_size = o.batch_size, .lr = o.lr, .slow_epochs = o.slow_epochs},
      generator);
  double seconds = 0;
  for (const nn::EpochRecord& r : curve.records()) seconds += r.seconds;
  const nn::EpochRecord& last = curve.records().back();
  fmt::print("convnet, {} parameters: test accuracy {:.4f} after {} epochs ({:.1f} s per epoch, {:.0f} s in all)\n",
             model.parameter_count(), last.test_accuracy, o.epochs, seconds / static_cast<double>(o.epochs), seconds);

  tutorial::Outputs outputs;
  const std::string stem = (fs::path(o.out) / "fashion_mnist_convnet").string();
  outputs.curve(curve, stem + "_curve", "Convnet (2 conv + max-pool stages) on Fashion-MNIST (Adam)");

  // The filters [16, 1, 5, 5], one tile each, every tile on its own scale from black to white.
  const std::string filters = stem + "_filters.png";
  outputs.write(filters, [&] {
    Tensor<float> w = model.conv1().weight().value();
    const std::size_t kh = w.shape()[2], kw = w.shape()[3];
    w.reshape({w.shape()[0], w.size() / w.shape()[0]});
    nn::write_png(filters,
                  tutorial::enlarge(nn::tile_images(w, kh, kw, {.columns = 8, .padding = 1, .background = 255}), 8));
  });

  // One test image, then its feature maps: [1 + 16, 28 * 28] tiles, each on its own scale.
  const std::string maps = stem + "_feature_maps.png";
  const std::size_t predicted = [&] {
    ag::NoGrad no_grad;
    model.eval();
    const V x(nn::select_rows(all_test.images, {image}));
    const Tensor<float> logits = model.forward(x).value();
    const Tensor<float> features = model.features(x).value();
    const std::size_t channels = features.shape()[1], pixels = features.shape()[2] * features.shape()[3];
    Tensor<float> tiles = Tensor<float>::from_shape({channels + 1, pixels});
    std::copy_n(x.value().data(), pixels, tiles.data());
    std::copy_n(features.data(), channels * pixels, tiles.data() + pixels);
    outputs.write(maps, [&] {
      nn::write_png(maps, tutorial::enlarge(nn::tile_images(tiles, 28, 28, {.padding = 2, .background = 255}), 3));
    });
    return static_cast<std::size_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }();
  fmt::print("test image {} ({}) is classified as {}\n", image, class_names[all_test.labels[image]],
             class_names[predicted]);
  if (outputs.failures().empty()) {
    fmt::print("learning curve: {}_curve.csv and .svg; filters: {}; feature maps: {}\n", stem, filters, maps);
  } else if (!outputs.written().empty()) {
    fmt::print("written: {}\n", fmt::join(outputs.written(), ", "));
  }
  return outputs.finish("fashion_mnist_convnet");
} catch (...) {
  return tutorial::report_failure("fashion_mnist_convnet");
}
