// Tutorial 8: a restricted Boltzmann machine and a deep belief net on Fashion-MNIST.
//
//   rbm [--hidden N] [--dbn-hidden N] [--epochs N] [--dbn-epochs N] [--fine-tune-epochs N] [--k N] [--cd]
//       [--lr X] [--train-images N] [--test-images N] [--gibbs-steps N] [--ais-runs N] [--ais-steps N]
//       [--seed N] [--threads N] [--data DIR] [--out DIR]
//
// The course's RBM: an energy E(v, h) = -b'v - c'h - v'Wh over binary pixels v and binary hidden
// units h, learnt by the engine's gradient of the contrastive-divergence loss mean F(data) -
// mean F(model's samples) (nn/rbm.hpp), here persistent CD-1 (Tieleman 2008; --cd for CD-k) with
// SGD, momentum and weight decay. Then the course's deep belief net: that RBM as the bottom layer,
// a second RBM trained greedily on its hidden probabilities (nn::pretrain_dbn), the top one an RBM
// and the bottom one a directed sigmoid belief layer (nn/dbn.hpp).
//
// The pixels are binarised, each drawn once, on with its intensity as probability (with the seed,
// as Salakhutdinov & Murray binarised MNIST): an RBM's likelihood, its pseudo-likelihood and the
// AIS estimate are those of binary vectors, and with the intensities themselves as probabilities
// the "log-likelihood" would be that of no data set. The classifiers see the same binary images.
//
//   1. The RBM, 784 x --hidden, --epochs epochs with the progress bar; after each epoch the
//      reconstruction error and the stochastic pseudo-log-likelihood of 1,000 training images.
//   2. Its filters (the weights into each hidden unit, as 28 x 28 tiles) and a grid of its Gibbs
//      samples: 100 chains from random pixels, --gibbs-steps steps, each shown as p(v | h) of its
//      last step.
//   3. AIS (--ais-runs runs, --ais-steps intermediate distributions, from the data's base-rate
//      model): log Z with its -/+3 standard-error band, and the mean test log-likelihood
//      -F(v) - log Z of the binarised test images, with its band.
//   4. The DBN 784-hidden-dbn-hidden: the RBM above, then a second RBM trained --dbn-epochs epochs
//      on its hidden probabilities. 100 samples drawn top-down: --gibbs-steps Gibbs steps in the
//      top RBM, then one pass down through the first RBM's p(v | h), shown as probabilities.
//   5. Classification: the MLP 784-hidden-dbn-hidden-10 initialised from the stack (weights and
//      hidden biases, sigmoid units, a fresh softmax layer) and fine-tuned with Adam, against the
//      same MLP from a random start with the same budget (--fine-tune-epochs epochs, the same
//      batches and learning rate): both test accuracies.
//
// OUT gets rbm_curve.csv (a line per epoch), rbm_filters.png, rbm_samples.png, dbn_samples.png.
// Before any work the options are checked, then the output folder, then the data is read.
// Exit status (cli.hpp): 0 done, 1 a runtime failure, 2 a bad option.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <nn/nn.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "cli.hpp"
#include "fashion_mnist.hpp"
#include "pictures.hpp"

namespace nn = ag::nn;
namespace fs = std::filesystem;
using ag::Tensor;
using V = ag::Variable<float>;

namespace {

struct Options {
  std::size_t hidden = 256, dbn_hidden = 256, epochs = 10, dbn_epochs = 5, fine_tune_epochs = 5, k = 1;
  bool cd = false;
  double lr = 0.02;
  std::size_t train_images = 60000, test_images = 10000, gibbs_steps = 1000, ais_runs = 100, ais_steps = 14500;
  std::size_t threads = 1;
  std::uint64_t seed = 1;
  std::string data = "/usr/share/datasets/fashion-mnist", out = ".";
};

// What is not an option: SGD's momentum and weight decay, the batch sizes, Adam's rate.
constexpr std::size_t rbm_batch = 64, classifier_batch = 64, monitor_rows = 1000, pictures = 100;
constexpr double momentum = 0.5, weight_decay = 1e-4, fine_tune_lr = 1e-3;

void add_options(CLI::App& app, Options& o) {
  const auto whole = [&](const char* name, std::size_t& value, const char* help, std::size_t lo, std::size_t hi) {
    app.add_option(name, value, fmt::format("{}, {} to {}", help, lo, hi))
        ->type_name("N")
        ->check(tutorial::whole<std::size_t>(lo, hi))
        ->capture_default_str();
  };
  whole("--hidden", o.hidden, "hidden units of the RBM (the DBN's first hidden layer)", 1, 4096);
  whole("--dbn-hidden", o.dbn_hidden, "hidden units of the DBN's second RBM, its top layer", 1, 4096);
  whole("--epochs", o.epochs, "passes of the RBM over the training images", 1, 1000);
  whole("--dbn-epochs", o.dbn_epochs, "passes of the DBN's second RBM over the first one's hidden probabilities", 1,
        1000);
  whole("--fine-tune-epochs", o.fine_tune_epochs,
        "passes of each classifier (the DBN's MLP, the random start) over the labelled training images", 1, 1000);
  whole("--k", o.k, "Gibbs steps per update (PCD-k, or CD-k with --cd)", 1, 100);
  app.add_flag("--cd", o.cd, "contrastive divergence CD-k from each batch instead of persistent CD");
  app.add_option("--lr", o.lr, "SGD's learning rate for the RBMs, above 0 and at most 1")
      ->type_name("X")
      ->check(tutorial::real_above(0.0, 1.0))
      ->capture_default_str();
  whole("--train-images", o.train_images, "train on the first N of the 60,000 training images (a short run)", 1, 60000);
  whole("--test-images", o.test_images, "test on the first N of the 10,000 test images", 1, 10000);
  whole("--gibbs-steps", o.gibbs_steps, "Gibbs steps of each chain drawing the pictures' samples", 1, 100000);
  whole("--ais-runs", o.ais_runs, "annealed importance sampling runs", 2, 10000);
  whole("--ais-steps", o.ais_steps,
        "AIS's intermediate distributions (Salakhutdinov & Murray's schedule, scaled; theirs is 14500)", 3, 1000000);
  tutorial::add_seed_option(app, o.seed, "seed of the binarisation, the weights, the shuffles and every sample");
  tutorial::add_threads_option(app, o.threads);
  tutorial::add_data_option(app, o.data, "train-* and t10k-*");
  app.add_option("--out", o.out,
                 "folder for rbm_curve.csv, rbm_filters.png, rbm_samples.png and dbn_samples.png;\n"
                 "created with its parents if missing, and checked writable before the data is read")
      ->type_name("DIR")
      ->check(tutorial::nonempty_path())
      ->capture_default_str();
  app.footer(
      tutorial::exit_status_help("the output folder or a result cannot be written, or the data is missing or "
                                 "corrupt"));
}

// The first `count` images of a set (all of them if it holds fewer), each pixel drawn once: on
// with its intensity as probability.
nn::LabelledImages binarised(const nn::LabelledImages& set, std::size_t count, nn::Generator& generator) {
  std::vector<std::size_t> rows(std::min(count, set.labels.size()));
  std::iota(rows.begin(), rows.end(), std::size_t{0});
  return {nn::sample_bernoulli(nn::select_rows(set.images, rows), generator), nn::select(set.labels, rows),
          set.classes};
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Images [count, 784] of probabilities as a grid of 10 columns on one scale (the lowest black, the
// highest white), enlarged twice.
void write_grid(const std::string& path, const Tensor<float>& images) {
  nn::write_png(
      path,
      tutorial::enlarge(
          nn::tile_images(images, 28, 28, {.columns = 10, .scale = nn::TileScale::common, .background = 255}), 2));
}

std::string curve_csv(const std::vector<nn::RbmEpoch>& records) {
  std::string csv = "epoch,cd_loss,reconstruction_error,pseudo_log_likelihood,seconds\n";
  for (const nn::RbmEpoch& r : records) {
    csv += fmt::format("{},{:.6f},{:.6f},{:.6f},{:.3f}\n", r.epoch, r.cd_loss, r.reconstruction_error,
                       r.pseudo_log_likelihood, r.seconds);
  }
  return csv;
}

}  // namespace

int main(int argc, char** argv) try {
  Options o;
  CLI::App app{
      "A restricted Boltzmann machine on binarised Fashion-MNIST (persistent CD, progress, reconstruction error and "
      "pseudo-likelihood per epoch, filters and Gibbs samples as PNG, the AIS test log-likelihood), then a deep "
      "belief net: samples drawn top-down, and its fine-tuned test accuracy beside the same MLP from a random "
      "start.",
      "rbm"};
  add_options(app, o);
  if (const auto code = tutorial::parse(app, argc, argv)) return *code;
  ag::set_num_threads(static_cast<int>(o.threads));

  // The output folder and the curve's file before the data: a bad --out fails at once.
  tutorial::prepare_output_folder(o.out);
  const fs::path out(o.out);
  const std::string curve = (out / "rbm_curve.csv").string(), filters = (out / "rbm_filters.png").string(),
                    rbm_samples = (out / "rbm_samples.png").string(), dbn_samples = (out / "dbn_samples.png").string();
  tutorial::prepare_output_file(curve);
  const nn::LabelledImages train_all = tutorial::load_fashion_mnist_28x28(o.data, "train");
  const nn::LabelledImages test_all = tutorial::load_fashion_mnist_28x28(o.data, "t10k");
  const auto start = std::chrono::steady_clock::now();
  nn::Generator generator(o.seed);
  const nn::LabelledImages train = binarised(train_all, o.train_images, generator);
  const nn::LabelledImages test = binarised(test_all, o.test_images, generator);
  const std::size_t pixels = train.images.shape()[1];
  fmt::print(
      "Fashion-MNIST: {} training and {} test images of 28 x 28 pixels, binarised (each pixel drawn once,\n"
      "on with its intensity as probability)\n",
      train.labels.size(), test.labels.size());
  tutorial::Outputs outputs;

  // 1. The RBM.
  const nn::RbmTraining training{.epochs = o.epochs,
                                 .batch_size = rbm_batch,
                                 .k = o.k,
                                 .persistent = !o.cd,
                                 .sgd = {.lr = o.lr, .momentum = momentum, .weight_decay = weight_decay},
                                 .base_rate_visible_bias = true,
                                 .monitor_rows = monitor_rows,
                                 .progress = stdout};
  fmt::print(
      "\nThe RBM: {} visible x {} hidden units, {}-{} with SGD (lr {}, momentum {}, weight decay {}), batches of {}, "
      "the\nvisible bias started at the data's log-odds. After each epoch, on the first {} training images: the\n"
      "reconstruction error (squared, summed over the pixels, through p(h | v) and p(v | h)) and the stochastic\n"
      "pseudo-log-likelihood (nats per image). In the progress line, acc is how far the negative samples are\n"
      "from the batch (see nn/rbm_training.hpp).\n",
      pixels, o.hidden, o.cd ? "CD" : "PCD", o.k, o.lr, momentum, weight_decay, rbm_batch,
      std::min(monitor_rows, train.labels.size()));
  auto rbm = std::make_shared<nn::Rbm<float>>(pixels, o.hidden, nn::RbmOptions{.generator = &generator});
  const std::vector<nn::RbmEpoch> records = nn::train_rbm(*rbm, train.images, training, generator);
  outputs.write(curve, [&] {
    tutorial::write_file(curve, curve_csv(records));
    tutorial::check_complete(curve, "\n", records.size() + 1);
  });

  // 2. Its filters, one tile per hidden unit (at most 100), and its Gibbs samples.
  outputs.write(filters, [&] {
    const Tensor<float> w = xt::transpose(rbm->weight().value());
    const std::size_t shown = std::min<std::size_t>(w.shape()[0], pictures);
    std::vector<std::size_t> units(shown);
    std::iota(units.begin(), units.end(), std::size_t{0});
    nn::write_png(
        filters,
        tutorial::enlarge(nn::tile_images(nn::select_rows(w, units), 28, 28, {.columns = 10, .background = 255}), 2));
  });
  {
    const auto t = std::chrono::steady_clock::now();
    const Tensor<float> noise = generator.bernoulli<float>({pictures, pixels}, 0.5);
    const nn::GibbsState<float> chains = rbm->gibbs(noise, o.gibbs_steps, generator);
    Tensor<float> shown;
    {
      ag::NoGrad no_grad;
      shown = rbm->visible_probability(V(chains.hidden)).value();
    }
    outputs.write(rbm_samples, [&] { write_grid(rbm_samples, shown); });
    fmt::print("Gibbs samples: {} chains from random pixels, {} steps each ({:.1f} s)\n", pictures, o.gibbs_steps,
               seconds_since(t));
  }

  // 3. AIS: log Z, and the test log-likelihood.
  {
    const auto t = std::chrono::steady_clock::now();
    const nn::AisEstimate ais = nn::ais_log_partition(*rbm, nn::base_rate_bias(train.images),
                                                      {.runs = o.ais_runs, .steps = o.ais_steps}, generator);
    const double test_ll = nn::log_likelihood(*rbm, test.images, ais.log_z);
    const double train_ll = nn::log_likelihood(
        *rbm,
        nn::select_rows(train.images,
                        [&] {
                          std::vector<std::size_t> rows(std::min(monitor_rows * 10, train.labels.size()));
                          std::iota(rows.begin(), rows.end(), std::size_t{0});
                          return rows;
                        }()),
        ais.log_z);
    fmt::print(
        "AIS ({} runs, {} intermediate distributions, {:.1f} s): log Z = {:.2f}, band [{:.2f}, {:.2f}] (-/+3 "
        "standard errors); the runs' effective number {:.1f}\n"
        "mean log-likelihood: test {:.2f} nats per image, band [{:.2f}, {:.2f}]; training (first {}) {:.2f}\n",
        o.ais_runs, o.ais_steps, seconds_since(t), ais.log_z, ais.log_z_lower, ais.log_z_upper, ais.effective_runs,
        test_ll, test_ll + ais.log_z - ais.log_z_upper, test_ll + ais.log_z - ais.log_z_lower,
        std::min(monitor_rows * 10, train.labels.size()), train_ll);
  }

  // 4. The DBN: the RBM as its first layer (kept as trained: 0 epochs), a second RBM on its hidden
  // probabilities.
  nn::DeepBeliefNet<float> dbn(std::vector<std::shared_ptr<nn::Rbm<float>>>{
      rbm, std::make_shared<nn::Rbm<float>>(o.hidden, o.dbn_hidden, nn::RbmOptions{.generator = &generator})});
  fmt::print("\nThe DBN {}-{}-{}: the RBM above, then a second RBM trained greedily on its hidden probabilities\n",
             pixels, o.hidden, o.dbn_hidden);
  nn::RbmTraining second = training;
  second.epochs = o.dbn_epochs;
  nn::pretrain_dbn(dbn, train.images, {nn::RbmTraining{.epochs = 0}, second}, generator);
  {
    const auto t = std::chrono::steady_clock::now();
    const nn::DbnSample<float> samples = dbn.generate(pictures, o.gibbs_steps, generator);
    outputs.write(dbn_samples, [&] { write_grid(dbn_samples, samples.probabilities[0]); });
    fmt::print(
        "DBN samples: {} chains in the top RBM from random states, {} Gibbs steps, then one pass down\n"
        "through the first RBM's p(v | h) ({:.1f} s)\n",
        pictures, o.gibbs_steps, seconds_since(t));
  }

  // 5. The MLP from the stack against the same MLP from a random start, the same budget.
  const nn::ClassifierTraining fine_tune{
      .epochs = o.fine_tune_epochs, .batch_size = classifier_batch, .lr = fine_tune_lr};
  const auto pretrained = nn::dbn_classifier(dbn, train.classes, {.generator = &generator});
  const auto random = pretrained->random_start({.generator = &generator});
  fmt::print(
      "\nClassifiers {}-{}-{}-{}, sigmoid hidden units, softmax output, {} epochs of Adam (lr {}, batches of "
      "{}) each:\n",
      pixels, o.hidden, o.dbn_hidden, train.classes, o.fine_tune_epochs, fine_tune_lr, classifier_batch);
  double accuracy[2];
  const char* names[2] = {"DBN-initialised, fine-tuned", "random start"};
  nn::StackedClassifier<float>* models[2] = {pretrained.get(), random.get()};
  for (int m = 0; m < 2; ++m) {
    const auto t = std::chrono::steady_clock::now();
    const auto r = nn::train_classifier(*models[m], models[m]->parameters(), train.images, train.labels, fine_tune,
                                        generator, stdout);
    accuracy[m] = nn::evaluate_classifier(*models[m], test.images, test.labels).accuracy;
    fmt::print("{}: train loss {:.4f}, train acc {:.4f}; test accuracy {:.4f} ({:.1f} s)\n", names[m], r.back().loss,
               r.back().accuracy, accuracy[m], seconds_since(t));
  }
  fmt::print("test accuracy: DBN-initialised {:.4f}, random start {:.4f} (difference {:+.4f})\n", accuracy[0],
             accuracy[1], accuracy[0] - accuracy[1]);
  fmt::print("{:.0f} s after reading the data\n", seconds_since(start));

  if (!outputs.written().empty()) fmt::print("written: {}\n", fmt::join(outputs.written(), ", "));
  return outputs.finish("rbm");
} catch (...) {
  return tutorial::report_failure("rbm");
}
