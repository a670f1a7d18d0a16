// Tutorial 3: a multi-layer perceptron on Fashion-MNIST, trained with Adam.
//
//   fashion_mnist_mlp [--epochs N] [--batch-size N] [--lr X] [--seed N]
//                     [--data DIR] [--out DIR] [--threads N]
//
// The data: Debian's dataset-fashion-mnist package (`apt-get install dataset-fashion-mnist`) puts
// it in /usr/share/datasets/fashion-mnist, the default DIR. The model: 784-256-128-10, ReLU,
// softmax cross-entropy on the logits. Each epoch shows a progress bar (plain lines when output
// is not a terminal), then test loss and accuracy; the learning curve goes to
// OUT/fashion_mnist_curve.csv and .svg and the trained weights to OUT/fashion_mnist_mlp.npz.
#include <nn/nn.hpp>

#include <cblas.h>
#include <fmt/format.h>

#include <cstring>
#include <string>

namespace nn = ag::nn;
using V = ag::Variable<float>;

namespace {

struct Options {
  std::size_t epochs = 15, batch_size = 64, threads = 1;
  double lr = 1e-3;
  std::uint64_t seed = 1;
  std::string data = "/usr/share/datasets/fashion-mnist", out = ".";
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h" || i + 1 >= argc) {
      fmt::print("usage: {} [--epochs N] [--batch-size N] [--lr X] [--seed N] [--data DIR] [--out DIR] [--threads N]\n",
                 argv[0]);
      std::exit(flag == "--help" || flag == "-h" ? 0 : 2);
    }
    const std::string value = argv[++i];
    if (flag == "--epochs") o.epochs = std::stoul(value);
    else if (flag == "--batch-size") o.batch_size = std::stoul(value);
    else if (flag == "--lr") o.lr = std::stod(value);
    else if (flag == "--seed") o.seed = std::stoull(value);
    else if (flag == "--data") o.data = value;
    else if (flag == "--out") o.out = value;
    else if (flag == "--threads") o.threads = std::stoul(value);
    else {
      fmt::print(stderr, "unknown option {}\n", flag);
      std::exit(2);
    }
  }
  return o;
}

// The model: a class of named modules, its forward an expression.
struct Mlp : nn::Module<float> {
  std::shared_ptr<nn::Linear<float>> fc1, fc2, fc3;
  explicit Mlp(nn::Generator& g) {
    fc1 = register_module("fc1", std::make_shared<nn::Linear<float>>(784, 256, nn::Init::he, true, g));
    fc2 = register_module("fc2", std::make_shared<nn::Linear<float>>(256, 128, nn::Init::he, true, g));
    fc3 = register_module("fc3", std::make_shared<nn::Linear<float>>(128, 10, nn::Init::xavier, true, g));
  }
  V forward(const V& x) { return fc3->forward(ag::relu(fc2->forward(ag::relu(fc1->forward(x))))); }
};

// Loss and accuracy over a whole set, in batches, without recording a graph.
std::pair<double, double> evaluate(Mlp& model, const nn::LabelledImages& set) {
  ag::NoGrad no_grad;
  model.eval();
  const nn::Batches batches(set.labels.size(), 1000, false);
  double loss = 0, right = 0;
  for (std::size_t b = 0; b < batches.size(); ++b) {
    const auto rows = batches[b];
    const auto labels = nn::select(set.labels, rows);
    const V logits = model.forward(V(nn::select_rows(set.images, rows)));
    loss += nn::softmax_cross_entropy(logits, labels).item() * static_cast<double>(rows.size());
    right += nn::accuracy(logits.value(), labels) * static_cast<double>(rows.size());
  }
  model.train();
  const auto n = static_cast<double>(set.labels.size());
  return {loss / n, right / n};
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  openblas_set_num_threads(static_cast<int>(o.threads));
  nn::LabelledImages train, test;
  try {
    train = nn::load_mnist(o.data, "train");
    test = nn::load_mnist(o.data, "t10k");
  } catch (const nn::DataError& e) {
    fmt::print(stderr, "{}\nInstall the data with `apt-get install dataset-fashion-mnist`, or pass --data DIR.\n", e.what());
    return 1;
  }
  fmt::print("Fashion-MNIST: {} training and {} test images of {} pixels\n", train.labels.size(), test.labels.size(),
             train.images.shape()[1]);

  nn::Generator generator(o.seed);
  Mlp model(generator);
  fmt::print("{}\n", model.summary());
  nn::Adam<float> adam(model.parameters(), {.lr = o.lr});
  nn::LearningCurve curve;

  for (std::size_t epoch = 1; epoch <= o.epochs; ++epoch) {
    const nn::Batches batches(train.labels.size(), o.batch_size, true, generator);
    nn::ProgressBar bar(epoch, o.epochs, batches.size());
    double loss_sum = 0, right = 0;
    std::size_t seen = 0;
    for (std::size_t b = 0; b < batches.size(); ++b) {
      const auto rows = batches[b];
      const auto labels = nn::select(train.labels, rows);
      const V logits = model.forward(V(nn::select_rows(train.images, rows)));
      const V loss = nn::softmax_cross_entropy(logits, labels);
      adam.zero_grad();
      ag::backward(loss);
      adam.step();
      seen += rows.size();
      loss_sum += loss.item() * static_cast<double>(rows.size());
      right += nn::accuracy(logits.value(), labels) * static_cast<double>(rows.size());
      bar.update(b + 1, seen, loss_sum / static_cast<double>(seen), right / static_cast<double>(seen));
    }
    const auto [test_loss, test_accuracy] = evaluate(model, test);
    const double seconds = bar.finish(fmt::format("  test loss {:.4f}  test acc {:.4f}", test_loss, test_accuracy));
    curve.add({epoch, loss_sum / static_cast<double>(seen), right / static_cast<double>(seen), test_loss, test_accuracy,
               seconds});
  }

  curve.write_csv(o.out + "/fashion_mnist_curve.csv");
  curve.write_svg(o.out + "/fashion_mnist_curve.svg", "MLP 784-256-128-10 on Fashion-MNIST (Adam)");
  nn::save(model, o.out + "/fashion_mnist_mlp.npz");
  const auto& last = curve.records().back();
  fmt::print("test accuracy {:.4f} after {} epochs ({:.1f} s per epoch)\n", last.test_accuracy, o.epochs, last.seconds);
  fmt::print("learning curve: {0}/fashion_mnist_curve.csv, {0}/fashion_mnist_curve.svg; weights: {0}/fashion_mnist_mlp.npz\n",
             o.out);
  return 0;
}
