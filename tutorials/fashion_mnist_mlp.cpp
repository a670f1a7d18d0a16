// Tutorial 3: a multi-layer perceptron on Fashion-MNIST, trained with Adam.
//
//   fashion_mnist_mlp [--epochs N] [--batch-size N] [--lr X] [--seed N]
//                     [--data DIR] [--out DIR] [--threads N] [--distributed]
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
//
// With --distributed, under `mpirun -np N`, it trains data-parallel (nn/distributed/): every rank
// holds the model and takes its share of each global batch of --batch-size, the gradients are
// averaged over the ranks before each Adam step (one MPI_Allreduce), and the figures (training
// loss and accuracy, the test set's, each rank scoring its share) are added over the ranks and
// printed once, by rank 0, which alone writes the files. A failure on any rank ends the whole job
// with that rank's reason. A build without MPI refuses the flag (exit 2).
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

#ifdef AUTOGRAD_TUTORIAL_MPI
#include <array>
#include <nn/distributed/distributed.hpp>
#include <numeric>
#include <optional>
#include <vector>
#endif

namespace nn = ag::nn;
namespace fs = std::filesystem;
using V = ag::Variable<float>;

namespace {

struct Options {
  std::size_t epochs = 15, batch_size = 64, threads = 1;
  double lr = 1e-3;
  std::uint64_t seed = 1;
  std::string data = "/usr/share/datasets/fashion-mnist", out = ".";
  bool distributed = false;
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
  app.add_flag("--distributed", o.distributed,
               "train data-parallel over the ranks of `mpirun -np N` (each takes its share\n"
               "of every batch; needs a build with MPI)");
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

// The results, the weights first. Should the folder have gone bad during the training, the
// weights go to the temporary folder rather than being lost. Returns the exit status.
int write_results(const Options& o, const Mlp& model, const nn::LearningCurve& curve) {
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
}

#ifdef AUTOGRAD_TUTORIAL_MPI
namespace distributed = ag::nn::distributed;

// The test set's mean loss and accuracy, each rank scoring its share of the images, added up.
nn::ClassifierScore evaluate_over_ranks(Mlp& model, const nn::LabelledImages& test,
                                        const distributed::Communicator& world) {
  std::vector<std::size_t> all(test.labels.size());
  std::iota(all.begin(), all.end(), 0);
  const std::vector<std::size_t> mine = distributed::shard(all, world.rank(), world.size());
  std::array<double, 3> sums{0, 0, static_cast<double>(mine.size())};  // loss, accuracy, images: summed
  if (!mine.empty()) {
    const nn::ClassifierScore score =
        nn::evaluate_classifier(model, nn::select_rows(test.images, mine), nn::select(test.labels, mine));
    sums[0] = score.loss * sums[2];
    sums[1] = score.accuracy * sums[2];
  }
  world.sum(sums);
  return {sums[0] / sums[2], sums[1] / sums[2]};
}

// tutorial::train_classifier's training, data-parallel: the same global batches (every rank
// shuffles with the same seed), each rank forward and backward on its share, the gradients
// averaged over the ranks (weighted by their rows: the gradient of the global batch's mean loss),
// then the same Adam step everywhere. The batch's summed loss and correct predictions travel in the
// gradients' allreduce; rank 0 draws the progress bar of the global figures.
nn::LearningCurve train_over_ranks(Mlp& model, const nn::LabelledImages& train, const nn::LabelledImages& test,
                                   const Options& o, nn::Generator& generator, const distributed::Communicator& world) {
  distributed::GradientAverager<float> averager(world, model.parameters());
  nn::Adam<float> adam(model.parameters(), nn::AdamOptions{.lr = o.lr});
  distributed::broadcast_optimizer_state(world, adam);  // rank 0's moments and step count, everywhere
  if (world.is_root()) {
    fmt::print(
        "data-parallel over {} ranks: each global batch of {} split between them; one MPI_Allreduce of {} "
        "bytes per step\n",
        world.size(), o.batch_size, averager.bytes_per_step(2));
  }
  nn::LearningCurve curve;
  for (std::size_t epoch = 1; epoch <= o.epochs; ++epoch) {
    const distributed::ShardedBatches batches(nn::Batches(train.labels.size(), o.batch_size, true, generator), world);
    std::optional<nn::ProgressBar> bar;
    if (world.is_root()) bar.emplace(epoch, o.epochs, batches.size());
    double loss_sum = 0, right = 0;
    std::size_t seen = 0;
    for (std::size_t b = 0; b < batches.size(); ++b) {
      const std::vector<std::size_t> rows = batches[b];
      std::array<float, 2> totals{0, 0};  // summed loss, correct predictions: over the ranks
      adam.zero_grad();
      if (!rows.empty()) {
        const std::vector<std::size_t> labels = nn::select(train.labels, rows);
        const V logits = model.forward(V(nn::select_rows(train.images, rows)));
        const V loss = nn::softmax_cross_entropy(logits, labels);
        ag::backward(loss);
        const auto n = static_cast<float>(rows.size());
        totals = {loss.item() * n, static_cast<float>(nn::accuracy(logits.value(), labels)) * n};
      }
      averager.average(rows.size(), totals);
      adam.step();
      seen += batches.global()[b].size();
      loss_sum += totals[0];
      right += totals[1];
      if (bar) bar->update(b + 1, seen, loss_sum / static_cast<double>(seen), right / static_cast<double>(seen));
    }
    const nn::ClassifierScore score = evaluate_over_ranks(model, test, world);
    const double seconds =
        bar ? bar->finish(fmt::format("  test loss {:.4f}  test acc {:.4f}", score.loss, score.accuracy)) : 0.0;
    curve.add({epoch, loss_sum / static_cast<double>(seen), right / static_cast<double>(seen), score.loss,
               score.accuracy, seconds});
  }
  return curve;
}

// The whole run on one rank of the job; rank 0 prints and writes.
int run_rank(const Options& o, const distributed::Communicator& world) {
  if (world.is_root()) tutorial::prepare_output_folder(o.out);
  const nn::LabelledImages train = tutorial::load_fashion_mnist(o.data, "train");
  const nn::LabelledImages test = tutorial::load_fashion_mnist(o.data, "t10k");
  nn::Generator generator(o.seed);
  Mlp model(generator);
  distributed::broadcast_parameters(world, model.parameters());  // the same start on every rank, whatever happened
  if (world.is_root()) {
    fmt::print("Fashion-MNIST: {} training and {} test images of {} pixels\n", train.labels.size(), test.labels.size(),
               train.images.shape()[1]);
    fmt::print("{}\n", model.summary());
  }
  const nn::LearningCurve curve = train_over_ranks(model, train, test, o, generator, world);
  if (!world.is_root()) return tutorial::exit_ok;
  const auto& last = curve.records().back();
  fmt::print("test accuracy {:.4f} after {} epochs ({:.1f} s per epoch, {} ranks)\n", last.test_accuracy, o.epochs,
             last.seconds, world.size());
  return write_results(o, model, curve);
}

int run_distributed(const Options& o, int& argc, char**& argv) {
  distributed::Environment mpi(argc, argv);
  const distributed::Communicator world = mpi.world();
  return distributed::run_or_abort(world, "fashion_mnist_mlp", [&] { return run_rank(o, world); });
}
#endif

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
  if (o.distributed) {
#ifdef AUTOGRAD_TUTORIAL_MPI
    return run_distributed(o, argc, argv);
#else
    std::fprintf(stderr,
                 "fashion_mnist_mlp: --distributed: this build has no MPI (install libopenmpi-dev and "
                 "build again) (see --help)\n");
    return tutorial::exit_usage;
#endif
  }

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
  return write_results(o, model, curve);
} catch (...) {
  return tutorial::report_failure("fashion_mnist_mlp");
}
