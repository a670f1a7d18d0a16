// Tutorial 4: the course's sparse auto-encoder, and the picture of what its hidden units learn.
//
//   sparse_autoencoder [--patches N] [--epochs N] [--whole-epochs N] [--hidden N] [--whole-hidden N]
//                      [--rho X] [--beta X] [--weight-decay X] [--batch-size N] [--lr X]
//                      [--seed N] [--data DIR] [--out DIR] [--threads N]
//
// The slides' setting first: 10 x 10 patches (d = 100) cut at random places of Fashion-MNIST's
// training images, and 100 sigmoid hidden units, trained on J = E + beta sum_j KL(rho || rho_j)
// + lambda/2 |W|^2 (nn/autoencoder.hpp: E per example, rho_j the mean of each minibatch). Then
// the same on whole 28 x 28 images. For each setting the program prints how close the hidden
// units' mean activation over the training set came to rho, and writes to OUT
//   sparse_autoencoder_patches.png, sparse_autoencoder_images.png   for each hidden unit, the input
//       of norm 1 that activates it most (its weights over their norm), one tile per unit
//   sparse_autoencoder_patches_curve.csv and .svg (and _images_)      the objective and its parts,
//       and the mean activation, per epoch
// Exit status (cli.hpp): 0 done, 1 a runtime failure, 2 a bad option.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nn/nn.hpp>
#include <string>
#include <xtensor/xsort.hpp>

#include "cli.hpp"
#include "fashion_mnist.hpp"
#include "pictures.hpp"

namespace nn = ag::nn;
namespace fs = std::filesystem;
using ag::Tensor;

namespace {

struct Options {
  std::size_t patches = 50000, epochs = 30, whole_epochs = 20, hidden = 100, whole_hidden = 100, batch_size = 64,
              threads = 1;
  double rho = 0.05, beta = 3, weight_decay = 1e-3, lr = 5e-3;
  std::uint64_t seed = 1;
  std::string data = "/usr/share/datasets/fashion-mnist", out = ".";
};

void add_options(CLI::App& app, Options& o) {
  app.add_option("--patches", o.patches, "10 x 10 patches cut from the training images, 1 to 1000000")
      ->type_name("N")
      ->check(tutorial::whole<std::size_t>(1, 1000000))
      ->capture_default_str();
  app.add_option("--epochs", o.epochs, "passes over the patches, 1 to 1000")
      ->type_name("N")
      ->check(tutorial::whole<std::size_t>(1, 1000))
      ->capture_default_str();
  app.add_option("--whole-epochs", o.whole_epochs, "passes over the 60,000 whole images, 0 (skip them) to 1000")
      ->type_name("N")
      ->check(tutorial::whole<std::size_t>(0, 1000))
      ->capture_default_str();
  app.add_option("--hidden", o.hidden, "hidden units of the patches' auto-encoder, 1 to 10000")
      ->type_name("N")
      ->check(tutorial::whole<std::size_t>(1, 10000))
      ->capture_default_str();
  app.add_option("--whole-hidden", o.whole_hidden, "hidden units of the whole images' auto-encoder, 1 to 10000")
      ->type_name("N")
      ->check(tutorial::whole<std::size_t>(1, 10000))
      ->capture_default_str();
  app.add_option("--rho", o.rho, "the target mean activation, above 0 and at most 0.99")
      ->type_name("X")
      ->check(tutorial::real_above(0.0, 0.99))
      ->capture_default_str();
  app.add_option("--beta", o.beta, "the weight of the sparsity penalty, 0 to 1000")
      ->type_name("X")
      ->check(tutorial::real_from(0.0, 1000.0))
      ->capture_default_str();
  app.add_option("--weight-decay", o.weight_decay, "lambda, 0 to 10")
      ->type_name("X")
      ->check(tutorial::real_from(0.0, 10.0))
      ->capture_default_str();
  app.add_option("--batch-size", o.batch_size, "examples per Adam step, 1 to 60000")
      ->type_name("N")
      ->check(tutorial::whole<std::size_t>(1, 60000))
      ->capture_default_str();
  app.add_option("--lr", o.lr, "Adam's learning rate, above 0 and at most 1")
      ->type_name("X")
      ->check(tutorial::real_above(0.0, 1.0))
      ->capture_default_str();
  tutorial::add_seed_option(app, o.seed, "seed of the patches, the initial weights and the shuffles");
  tutorial::add_data_option(app, o.data, "train-*");
  app.add_option("--out", o.out,
                 "folder for the pictures (PNG) and the learning curves (CSV and SVG); created\n"
                 "with its parents if missing, and checked writable before the data is read")
      ->type_name("DIR")
      ->check(tutorial::nonempty_path())
      ->capture_default_str();
  tutorial::add_threads_option(app, o.threads);
  app.footer(
      tutorial::exit_status_help("the output folder or a result cannot be written, or the data is missing or corrupt"));
}

// `count` size x size patches, each from a random image at a random place: [count, size * size].
Tensor<float> cut_patches(const Tensor<float>& images, std::size_t side, std::size_t size, std::size_t count,
                          nn::Generator& generator) {
  std::uniform_int_distribution<std::size_t> image(0, images.shape()[0] - 1), corner(0, side - size);
  Tensor<float> patches = Tensor<float>::from_shape({count, size * size});
  for (std::size_t p = 0; p < count; ++p) {
    const float* source = images.data() + image(generator.engine()) * side * side;
    const std::size_t top = corner(generator.engine()), left = corner(generator.engine());
    float* out = patches.data() + p * size * size;
    for (std::size_t r = 0; r < size; ++r) {
      for (std::size_t c = 0; c < size; ++c) out[r * size + c] = source[(top + r) * side + left + c];
    }
  }
  return patches;
}

// UFLDL's normalisation of patches for a sigmoid decoder: each patch less its own mean, clipped to
// 3 standard deviations of all the pixels, then squeezed into [0.1, 0.9]. A plain patch of the
// background becomes 0.5, and the auto-encoder learns edges rather than brightness.
void normalize_patches(Tensor<float>& patches) {
  const std::size_t count = patches.shape()[0], size = patches.shape()[1];
  double squares = 0;
  for (std::size_t p = 0; p < count; ++p) {
    float* patch = patches.data() + p * size;
    double sum = 0;
    for (std::size_t i = 0; i < size; ++i) sum += patch[i];
    const auto mean = static_cast<float>(sum / static_cast<double>(size));
    for (std::size_t i = 0; i < size; ++i) {
      patch[i] -= mean;
      squares += static_cast<double>(patch[i]) * patch[i];
    }
  }
  const auto limit = static_cast<float>(3 * std::sqrt(squares / static_cast<double>(patches.size())));
  if (limit == 0) return;
  for (float& v : patches) v = (std::clamp(v, -limit, limit) / limit + 1.f) * 0.4f + 0.1f;
}

// One setting: trains an auto-encoder on `data`, says how sparse it came out, and writes its
// picture and its learning curve.
void run(const std::string& name, const Tensor<float>& data, std::size_t side, std::size_t hidden, std::size_t epochs,
         const Options& o, nn::Generator& generator, tutorial::Outputs& outputs) {
  nn::AutoEncoder<float> model(data.shape()[1], hidden, {.generator = &generator});
  fmt::print("\n{}: an auto-encoder {}-{}-{} on {} examples\n", name, data.shape()[1], hidden, data.shape()[1],
             data.shape()[0]);
  const nn::SparsityOptions sparsity{.rho = o.rho, .beta = o.beta, .weight_decay = o.weight_decay};
  const auto history = nn::train_autoencoder(
      model, data, {.epochs = epochs, .batch_size = o.batch_size, .lr = o.lr, .sparsity = sparsity, .progress = stdout},
      generator);

  // The course's aim: each hidden unit's mean activation over the training set close to rho.
  const Tensor<float> rho_j = nn::mean_activation(model, data);
  fmt::print(
      "mean activation of the {} hidden units over the training set: mean {:.4f}, min {:.4f}, max {:.4f} "
      "(rho = {})\n",
      hidden, xt::mean(rho_j)(), xt::amin(rho_j)(), xt::amax(rho_j)(), o.rho);

  const std::string stem = (fs::path(o.out) / ("sparse_autoencoder_" + name)).string();
  const std::string png = stem + ".png";
  if (outputs.write(png, [&] {
        const Tensor<float> x = nn::maximally_activating_inputs(model.encoder()->weight().value());
        nn::write_png(png, tutorial::enlarge(nn::tile_images(x, side, side, {.padding = 1, .background = 255}),
                                             side < 20 ? 4 : 2));
      })) {
    fmt::print("what the hidden units learn: {}\n", png);
  }
  const std::string csv = stem + "_curve.csv", svg = stem + "_curve.svg";
  std::vector<std::size_t> epoch_numbers;
  std::vector<double> objective, error, penalty, activation, target;
  std::string table = "epoch,objective,error,sparsity,weight_decay,mean_activation,seconds\n";
  for (const nn::AutoEncoderEpoch& e : history) {
    epoch_numbers.push_back(e.epoch);
    objective.push_back(e.objective);
    error.push_back(e.error);
    penalty.push_back(e.sparsity);
    activation.push_back(e.mean_activation);
    target.push_back(o.rho);
    table += fmt::format("{},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.3f}\n", e.epoch, e.objective, e.error, e.sparsity,
                         e.weight_decay, e.mean_activation, e.seconds);
  }
  outputs.write(csv, [&] {
    tutorial::write_file(csv, table);
    tutorial::check_complete(csv, "\n", history.size() + 1);
  });
  outputs.write(svg, [&] {
    nn::write_curves_svg(svg, fmt::format("Sparse auto-encoder on Fashion-MNIST {}", name), epoch_numbers,
                         {{"objective J and its parts", {{"J", objective}, {"E", error}, {"beta KL", penalty}}},
                          {"mean hidden activation", {{"epoch mean", activation}, {"rho", target}}}});
    tutorial::check_complete(svg, "</svg>\n");
  });
}

}  // namespace

int main(int argc, char** argv) try {
  Options o;
  CLI::App app{
      "The course's sparse auto-encoder on Fashion-MNIST, 10 x 10 patches and whole images: how sparse the hidden "
      "units came out, a picture of what each learned, the learning curves.",
      "sparse_autoencoder"};
  add_options(app, o);
  if (const auto code = tutorial::parse(app, argc, argv)) return *code;
  ag::set_num_threads(static_cast<int>(o.threads));

  tutorial::prepare_output_folder(o.out);
  const nn::LabelledImages train = tutorial::load_fashion_mnist_28x28(o.data, "train");
  fmt::print("Fashion-MNIST: {} training images; rho = {}, beta = {}, lambda = {}\n", train.labels.size(), o.rho,
             o.beta, o.weight_decay);

  nn::Generator generator(o.seed);
  tutorial::Outputs outputs;
  Tensor<float> patches = cut_patches(train.images, 28, 10, o.patches, generator);
  normalize_patches(patches);
  run("patches", patches, 10, o.hidden, o.epochs, o, generator, outputs);
  if (o.whole_epochs > 0) run("images", train.images, 28, o.whole_hidden, o.whole_epochs, o, generator, outputs);
  return outputs.finish("sparse_autoencoder");
} catch (...) {
  return tutorial::report_failure("sparse_autoencoder");
}
