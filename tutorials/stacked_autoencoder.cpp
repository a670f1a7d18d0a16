// Tutorial 5: a stacked auto-encoder learnt greedily, layer by layer, and what it is worth when
// labels are few.
//
//   stacked_autoencoder [--hidden N,N,...] [--pretrain-epochs N] [--epochs N] [--labelled-per-class N]
//                       [--unlabelled N] [--seeds N] [--seed N] [--threads N] [--data DIR] [--out DIR]
//
// The course (deep networks, greedy layer-wise learning): learn an auto-encoder on unlabelled
// data, then another on its codes, and so on; finish with a simple classifier on the labelled
// data, and possibly fine-tune the whole network by backpropagation. The claim measured here:
// with many unlabelled images and few labels, the network so pretrained classifies better than
// the same network trained from a random start on the labels alone. For each seed:
//
//   1. 100 labelled training images per class, 1,000 in all, drawn with the seed
//      (nn::balanced_subset); the other 59,000 are used without their labels.
//   2. Greedy layer-wise pretraining on the unlabelled images (nn::pretrain_stack): a sparse
//      sigmoid auto-encoder 784-196-784, then one 196-64-196 on its codes.
//   3. A softmax layer on the top codes of the labelled images, the encoders frozen
//      (nn::train_classifier on codes computed once).
//   4. Fine-tuning: the whole network 784-196-64-10 on the labelled images, the encoders being
//      the auto-encoders' own (nn::StackedClassifier).
//   5. The same network from a random start, trained on the same labelled images with the same
//      supervised budget: as many Adam steps, of the same batch size and learning rate, as 3 and
//      4 together.
//
// It prints the test accuracy of 3, 4 and 5 for each seed, then their mean and spread over the
// seeds, whatever they show; OUT/stacked_autoencoder_results.csv holds them too. Before any work
// the options are checked, then the output folder and that file, then the data is read.
// Exit status (cli.hpp): 0 done, 1 a runtime failure, 2 a bad option.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <nn/nn.hpp>
#include <string>
#include <vector>

#include "cli.hpp"
#include "fashion_mnist.hpp"

namespace nn = ag::nn;
namespace fs = std::filesystem;
using ag::Tensor;
using V = ag::Variable<float>;

namespace {

struct Options {
  std::vector<std::size_t> hidden{196, 64};
  std::size_t pretrain_epochs = 10, epochs = 50, labelled_per_class = 100, unlabelled = 0, seeds = 3, threads = 1;
  std::uint64_t seed = 1;
  std::string data = "/usr/share/datasets/fashion-mnist", out = ".";
};

// What is not an option: the course's sparse auto-encoder (sigmoid units, rho and beta), Adam.
constexpr std::size_t pretrain_batch = 64, supervised_batch = 50;
constexpr double pretrain_lr = 1e-3, softmax_lr = 1e-2, supervised_lr = 1e-3;
const nn::SparsityOptions sparsity{.rho = 0.1, .beta = 3, .weight_decay = 3e-4};

void add_options(CLI::App& app, Options& o) {
  app.add_option("--hidden", o.hidden, "hidden units of each auto-encoder, first to last: 1 to 8 sizes of 1 to 4096")
      ->type_name("N,N,...")
      ->delimiter(',')
      ->expected(1, 8)
      ->check(tutorial::whole<std::size_t>(1, 4096))
      ->capture_default_str();
  app.add_option("--pretrain-epochs", o.pretrain_epochs,
                 "passes of each auto-encoder over the unlabelled images, 1 to 1000")
      ->type_name("N")
      ->check(tutorial::whole<std::size_t>(1, 1000))
      ->capture_default_str();
  app.add_option("--epochs", o.epochs,
                 "passes over the labelled images of each supervised stage: the softmax layer,\n"
                 "then the fine-tuning (the random start gets both: twice as many), 1 to 10000")
      ->type_name("N")
      ->check(tutorial::whole<std::size_t>(1, 10000))
      ->capture_default_str();
  app.add_option("--labelled-per-class", o.labelled_per_class,
                 "labelled training images of each class, drawn with the seed, 1 to 5000")
      ->type_name("N")
      ->check(tutorial::whole<std::size_t>(1, 5000))
      ->capture_default_str();
  app.add_option("--unlabelled", o.unlabelled,
                 "how many of the other training images pretrain the stack, drawn with the seed;\n"
                 "0 for all of them, 0 to 60000 (more than there are: all)")
      ->type_name("N")
      ->check(tutorial::whole<std::size_t>(0, 60000))
      ->capture_default_str();
  app.add_option("--seeds", o.seeds, "runs of the whole experiment, with seeds SEED, SEED + 1, ..., 1 to 100")
      ->type_name("N")
      ->check(tutorial::whole<std::size_t>(1, 100))
      ->capture_default_str();
  tutorial::add_seed_option(app, o.seed, "the first run's seed: labelled draw, weights, masks, shuffles");
  tutorial::add_threads_option(app, o.threads);
  tutorial::add_data_option(app, o.data, "train-* and t10k-*");
  app.add_option("--out", o.out,
                 "folder for the test accuracies of every run, stacked_autoencoder_results.csv;\n"
                 "created with its parents if missing, and checked writable before the data is read")
      ->type_name("DIR")
      ->check(tutorial::nonempty_path())
      ->capture_default_str();
  app.footer(tutorial::exit_status_help(
      "the output folder or the results cannot be written, or the data is missing or corrupt"));
}

// The test accuracies of one run.
struct Run {
  std::uint64_t seed;
  double softmax, fine_tuned, random_start;
};

// One supervised stage: trains `parameters` of `model` (the softmax layer alone, or a whole
// network) on the labelled examples, then measures the whole `network` on the test images. Prints
// a line; returns the test accuracy.
double supervised(const char* what, nn::Layer<float>& model, const std::vector<V>& parameters,
                  const Tensor<float>& inputs, const std::vector<std::size_t>& labels,
                  const nn::ClassifierTraining& training, nn::Generator& generator, nn::Layer<float>& network,
                  const nn::LabelledImages& test) {
  const auto records = nn::train_classifier(model, parameters, inputs, labels, training, generator);
  double seconds = 0;
  for (const auto& r : records) seconds += r.seconds;
  const double accuracy = nn::evaluate_classifier(network, test.images, test.labels).accuracy;
  fmt::print("{}: {} epochs, train loss {:.4f}, train acc {:.4f} ({:.1f} s); test accuracy {:.4f}\n", what,
             training.epochs, records.back().loss, records.back().accuracy, seconds, accuracy);
  return accuracy;
}

Run run(std::uint64_t seed, const Options& o, const nn::LabelledImages& train, const nn::LabelledImages& test) {
  nn::Generator generator(seed);

  // 1. The labelled images, and the others without their labels.
  const nn::LabelledSplit split = nn::balanced_subset(train.labels, o.labelled_per_class, generator);
  const Tensor<float> images = nn::select_rows(train.images, split.labelled);
  const std::vector<std::size_t> labels = nn::select(train.labels, split.labelled);
  std::vector<std::size_t> unlabelled = nn::select(split.unlabelled, generator.permutation(split.unlabelled.size()));
  if (o.unlabelled > 0 && o.unlabelled < unlabelled.size()) unlabelled.resize(o.unlabelled);
  fmt::print("\nseed {}: {} labelled images ({} per class), {} unlabelled\n", seed, labels.size(), o.labelled_per_class,
             unlabelled.size());

  // 2. Greedy layer-wise pretraining, on the unlabelled images alone.
  const nn::PretrainedStack<float> stack =
      nn::pretrain_stack(nn::select_rows(train.images, unlabelled), o.hidden, {.generator = &generator},
                         {.epochs = o.pretrain_epochs,
                          .batch_size = pretrain_batch,
                          .lr = pretrain_lr,
                          .sparsity = sparsity,
                          .progress = stdout},
                         generator);

  // 3. A softmax layer on the top codes: the encoders frozen, so the codes are computed once.
  nn::StackedClassifier<float> pretrained(stack.autoencoders, train.classes, {.generator = &generator});
  Tensor<float> codes;
  {
    ag::NoGrad no_grad;
    codes = pretrained.features(V(images)).value();
  }
  Run r{seed, 0, 0, 0};
  const nn::ClassifierTraining stage{.epochs = o.epochs, .batch_size = supervised_batch, .lr = supervised_lr};
  r.softmax = supervised("softmax on the top codes", *pretrained.classifier(), pretrained.classifier()->parameters(),
                         codes, labels, {.epochs = o.epochs, .batch_size = supervised_batch, .lr = softmax_lr},
                         generator, pretrained, test);

  // 4. Fine-tuning: every layer, the encoders being the auto-encoders' own.
  r.fine_tuned = supervised("fine-tuning the whole stack", pretrained, pretrained.parameters(), images, labels, stage,
                            generator, pretrained, test);

  // 5. The same network from a random start, the same supervised budget: both stages' steps.
  const auto random = pretrained.random_start({.generator = &generator});
  nn::ClassifierTraining both = stage;
  both.epochs = 2 * o.epochs;
  r.random_start = supervised("random start, same network and budget", *random, random->parameters(), images, labels,
                              both, generator, *random, test);
  return r;
}

struct Spread {
  double mean, sd, min, max;
};

// The sample standard deviation (0 for a single run).
Spread spread(const std::vector<double>& values) {
  double sum = 0;
  for (double v : values) sum += v;
  const double mean = sum / static_cast<double>(values.size());
  double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  const double sd = values.size() > 1 ? std::sqrt(squares / static_cast<double>(values.size() - 1)) : 0;
  return {mean, sd, *std::min_element(values.begin(), values.end()), *std::max_element(values.begin(), values.end())};
}

}  // namespace

int main(int argc, char** argv) try {
  Options o;
  CLI::App app{
      "A stacked auto-encoder learnt greedily, layer by layer, on Fashion-MNIST's unlabelled images, then "
      "fine-tuned on 100 labels per class, against the same network from a random start.",
      "stacked_autoencoder"};
  add_options(app, o);
  if (const auto code = tutorial::parse(app, argc, argv)) return *code;
  ag::set_num_threads(static_cast<int>(o.threads));

  // The output folder and the results' file before the data: a bad --out fails at once, data or not.
  tutorial::prepare_output_folder(o.out);
  const std::string results = (fs::path(o.out) / "stacked_autoencoder_results.csv").string();
  tutorial::prepare_output_file(results);
  const nn::LabelledImages train = tutorial::load_fashion_mnist(o.data, "train");
  const nn::LabelledImages test = tutorial::load_fashion_mnist(o.data, "t10k");

  const std::size_t steps_per_epoch = (o.labelled_per_class * train.classes + supervised_batch - 1) / supervised_batch;
  fmt::print("Fashion-MNIST: {} training and {} test images of {} pixels\n", train.labels.size(), test.labels.size(),
             train.images.shape()[1]);
  fmt::print("The network: {}-{}-{}, sigmoid hidden layers, a softmax output.\n", train.images.shape()[1],
             fmt::join(o.hidden, "-"), train.classes);
  fmt::print(
      "Pretraining: each sparse auto-encoder (rho {}, beta {}, lambda {}) {} epochs on the unlabelled images, Adam\n"
      "lr {}, batches of {}; it uses no label. (In its progress lines, acc is the hidden units' mean activation.)\n",
      sparsity.rho, sparsity.beta, sparsity.weight_decay, o.pretrain_epochs, pretrain_lr, pretrain_batch);
  fmt::print(
      "Same budget: both networks get {} epochs over the labelled images, {} Adam steps of {} examples: the\n"
      "pretrained one {} epochs of its softmax layer alone (lr {}), then {} epochs fine-tuning every layer (lr {}); "
      "the\n"
      "random start {} epochs of every layer (lr {}).\n",
      2 * o.epochs, 2 * o.epochs * steps_per_epoch, supervised_batch, o.epochs, softmax_lr, o.epochs, supervised_lr,
      2 * o.epochs, supervised_lr);

  std::vector<Run> runs;
  for (std::size_t k = 0; k < o.seeds; ++k) runs.push_back(run(o.seed + k, o, train, test));

  // The summary, and the comparison seed by seed.
  fmt::print("\nTest accuracy on the {} test images, {} labelled training images:\n", test.labels.size(),
             o.labelled_per_class * train.classes);
  fmt::print("{:>20} {:>18} {:>24} {:>16} {:>18}\n", "seed", "softmax on codes", "pretrained, fine-tuned",
             "random start", "difference");
  std::vector<double> softmax, fine_tuned, random_start, difference;
  std::string csv = "seed,softmax_on_codes,pretrained_fine_tuned,random_start\n";
  for (const Run& r : runs) {
    fmt::print("{:>20} {:>18.4f} {:>24.4f} {:>16.4f} {:>+18.4f}\n", r.seed, r.softmax, r.fine_tuned, r.random_start,
               r.fine_tuned - r.random_start);
    softmax.push_back(r.softmax);
    fine_tuned.push_back(r.fine_tuned);
    random_start.push_back(r.random_start);
    difference.push_back(r.fine_tuned - r.random_start);
    csv += fmt::format("{},{:.4f},{:.4f},{:.4f}\n", r.seed, r.softmax, r.fine_tuned, r.random_start);
  }
  const Spread s = spread(softmax), f = spread(fine_tuned), rs = spread(random_start), d = spread(difference);
  fmt::print("{:>20} {:>18.4f} {:>24.4f} {:>16.4f} {:>+18.4f}\n", "mean", s.mean, f.mean, rs.mean, d.mean);
  fmt::print("{:>20} {:>18.4f} {:>24.4f} {:>16.4f} {:>18.4f}\n", "standard deviation", s.sd, f.sd, rs.sd, d.sd);
  const auto range = [](const Spread& x) { return fmt::format("{:.4f}..{:.4f}", x.min, x.max); };
  fmt::print("{:>20} {:>18} {:>24} {:>16} {:>18}\n", "min..max", range(s), range(f), range(rs),
             fmt::format("{:+.4f}..{:+.4f}", d.min, d.max));
  const auto better = std::count_if(difference.begin(), difference.end(), [](double x) { return x > 0; });
  fmt::print("The pretrained network was the better one in {} of {} runs.\n", better, runs.size());

  tutorial::Outputs outputs;
  if (outputs.write(results, [&] {
        tutorial::write_file(results, csv);
        tutorial::check_complete(results, "\n", runs.size() + 1);
      })) {
    fmt::print("results: {}\n", results);
  }
  return outputs.finish("stacked_autoencoder");
} catch (...) {
  return tutorial::report_failure("stacked_autoencoder");
}
