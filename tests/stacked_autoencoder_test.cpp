// Stacked auto-encoders, greedy layer-wise (nn/stacked_autoencoder.hpp), on small synthetic data:
// the labelled draw, the codes, the greedy order of the stack, which parameters each stage trains,
// and a separable problem learnt.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <nn/nn.hpp>
#include <set>
#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include "test_util.hpp"

namespace nn = ag::nn;
using ag::Tensor;
using V = ag::Variable<float>;

namespace {

// The same values bit for bit (not merely equal as floats: -0 against 0, NaN).
template <class T>
bool same_bits(const Tensor<T>& a, const Tensor<T>& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

template <class T>
double max_abs_difference(const Tensor<T>& a, const Tensor<T>& b) {
  REQUIRE(a.shape() == b.shape());
  return static_cast<double>(xt::amax(xt::abs(a - b))());
}

// Copies of the values of some parameters.
std::vector<Tensor<float>> values_of(const std::vector<V>& params) {
  std::vector<Tensor<float>> out;
  for (const V& p : params) out.push_back(p.value());
  return out;
}

std::vector<V> encoder_parameters(const nn::StackedClassifier<float>& model) {
  std::vector<V> out;
  for (const auto& e : model.encoders()) {
    for (const V& p : e->parameters()) out.push_back(p);
  }
  return out;
}

// `classes` blobs in [0, 1]^width: class c lights its own block of pixels, plus noise; `per_class`
// examples each, in class order. Separable, and a good input for sigmoid auto-encoders.
struct Blobs {
  Tensor<float> x;
  std::vector<std::size_t> y;
};

Blobs blobs(std::size_t classes, std::size_t per_class, std::size_t width, nn::Generator& g) {
  Blobs b;
  b.x = g.uniform<float>({classes * per_class, width}, 0.0f, 0.3f);
  const std::size_t block = width / classes;
  for (std::size_t c = 0; c < classes; ++c) {
    for (std::size_t i = 0; i < per_class; ++i) {
      const std::size_t row = c * per_class + i;
      for (std::size_t j = c * block; j < (c + 1) * block; ++j) b.x(row, j) += 0.6f;
      b.y.push_back(c);
    }
  }
  return b;
}

}  // namespace

TEST_CASE("balanced_subset: k of each class, disjoint from the rest, the same draw for the same seed") {
  // 4 classes of 10, 7, 12 and 5 examples, interleaved.
  std::vector<std::size_t> labels;
  const std::vector<std::size_t> counts{10, 7, 12, 5};
  for (std::size_t round = 0; round < 12; ++round) {
    for (std::size_t c = 0; c < 4; ++c) {
      if (round < counts[c]) labels.push_back(c);
    }
  }
  const std::size_t k = 4;
  std::set<std::vector<std::size_t>> draws;
  for (std::uint64_t seed : {1, 2, 3, 4}) {
    CAPTURE(seed);
    nn::Generator g(seed);
    const nn::LabelledSplit split = nn::balanced_subset(labels, k, g);
    std::vector<std::size_t> per_class(4, 0);
    for (std::size_t i : split.labelled) ++per_class[labels.at(i)];
    CHECK(per_class == std::vector<std::size_t>(4, k));
    CHECK(split.labelled.size() == 4 * k);
    CHECK(split.unlabelled.size() == labels.size() - 4 * k);
    CHECK(std::is_sorted(split.labelled.begin(), split.labelled.end()));
    CHECK(std::is_sorted(split.unlabelled.begin(), split.unlabelled.end()));
    // Disjoint, and together every index once.
    std::vector<std::size_t> all = split.labelled;
    all.insert(all.end(), split.unlabelled.begin(), split.unlabelled.end());
    std::sort(all.begin(), all.end());
    std::vector<std::size_t> expected(labels.size());
    for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = i;
    CHECK(all == expected);
    // The same seed, the same draw.
    nn::Generator again(seed);
    const nn::LabelledSplit repeat = nn::balanced_subset(labels, k, again);
    CHECK(repeat.labelled == split.labelled);
    CHECK(repeat.unlabelled == split.unlabelled);
    draws.insert(split.labelled);
  }
  // A draw, not the first k of each class: four seeds give at least two different subsets.
  CHECK(draws.size() >= 2);
  // All of the smallest class is allowed.
  nn::Generator g(1);
  CHECK(nn::balanced_subset(labels, 5, g).labelled.size() == 20);

  CHECK(test::contains(test::error_of<std::invalid_argument>([&] { nn::balanced_subset(labels, 6, g); }),
                       "balanced_subset: class 3 has 5 examples, fewer than the 6"));
  CHECK(test::contains(test::error_of<std::invalid_argument>([&] { nn::balanced_subset(labels, 0, g); }),
                       "balanced_subset: per_class = 0"));
  CHECK(test::contains(test::error_of<std::invalid_argument>([&] { nn::balanced_subset({}, 1, g); }),
                       "balanced_subset: no labels"));
  // A class between others with no example at all is a class with too few.
  CHECK(test::contains(test::error_of<std::invalid_argument>([&] {
                         nn::balanced_subset({0, 0, 2, 2}, 1, g);
                       }),
                       "class 1 has 0 examples"));
}

TEST_CASE("encode_all: the clean codes y = g(x W + b), row by row, in any batch size, never noisy") {
  nn::Generator g(5);
  // Masking noise on: pass() in training mode would zero half of the inputs.
  nn::AutoEncoder<float> ae(6, 4, {.masking = 0.5, .generator = &g});
  ae.train();
  const Tensor<float> data = g.uniform<float>({7, 6}, 0.0f, 1.0f);
  const Tensor<float> codes = nn::encode_all(ae, data, 3);  // batches of 3, 3 and 1
  REQUIRE(codes.shape() == std::vector<std::size_t>{7, 4});
  const Tensor<float>& w = ae.encoder()->weight().value();
  const Tensor<float>& b = ae.encoder()->bias().value();
  for (std::size_t i = 0; i < 7; ++i) {
    CAPTURE(i);
    const Tensor<float> row = xt::view(data, xt::range(i, i + 1), xt::all());
    const Tensor<float> by_row = ae.encode(V(row)).value();
    CHECK(max_abs_difference<float>(xt::view(codes, xt::range(i, i + 1), xt::all()), by_row) < 1e-6);
    for (std::size_t j = 0; j < 4; ++j) {
      double in = b(j);
      for (std::size_t k = 0; k < 6; ++k) in += static_cast<double>(data(i, k)) * static_cast<double>(w(k, j));
      CHECK(static_cast<double>(codes(i, j)) == doctest::Approx(1 / (1 + std::exp(-in))).epsilon(1e-5));
    }
  }
  // The same codes again (noise would draw new masks), in one batch or in batches of one.
  CHECK(max_abs_difference(nn::encode_all(ae, data), codes) < 1e-6);
  CHECK(max_abs_difference(nn::encode_all(ae, data, 1), codes) < 1e-6);
  CHECK(ae.is_training());  // the mode is left alone

  CHECK(test::contains(test::error_of<ag::ShapeError>([&] {
                         nn::encode_all(ae, Tensor<float>(xt::zeros<float>({7, 5})));
                       }),
                       "encode_all: data of shape [7, 5] (expected [N, 6]"));
  CHECK(test::contains(test::error_of<ag::ShapeError>([&] {
                         nn::encode_all(ae, Tensor<float>(xt::zeros<float>({0, 6})));
                       }),
                       "encode_all: data of shape [0, 6]"));
  CHECK(test::contains(test::error_of<std::invalid_argument>([&] { nn::encode_all(ae, data, 0); }),
                       "encode_all: batch_size = 0"));
}

TEST_CASE("train_autoencoder: its records are the objective's parts, its progress a bar per epoch") {
  nn::Generator g(7);
  const Blobs data = blobs(3, 8, 9, g);
  nn::AutoEncoder<float> ae(9, 5, {.generator = &g});
  const nn::SparsityOptions sparsity{.rho = 0.1, .beta = 2, .weight_decay = 1e-3};
  // The first epoch in one batch: its record is the objective before the first step.
  const V x(data.x);
  const auto before = nn::sparse_autoencoder_objective(ae.pass(x), x, ae.weights(), sparsity);
  const Tensor<float> rho_before = nn::mean_activation(ae, data.x);
  std::FILE* progress = std::tmpfile();
  REQUIRE(progress);
  const auto records = nn::train_autoencoder(
      ae, data.x, {.epochs = 3, .batch_size = 24, .lr = 1e-2, .sparsity = sparsity, .progress = progress}, g);
  REQUIRE(records.size() == 3);
  CHECK(records[0].epoch == 1);
  CHECK(records[2].epoch == 3);
  CHECK(records[0].objective == doctest::Approx(before.total.item()).epsilon(1e-5));
  CHECK(records[0].error == doctest::Approx(before.error.item()).epsilon(1e-5));
  CHECK(records[0].sparsity == doctest::Approx(before.sparsity.item()).epsilon(1e-5));
  CHECK(records[0].weight_decay == doctest::Approx(before.weight_decay.item()).epsilon(1e-5));
  CHECK(records[0].mean_activation == doctest::Approx(xt::mean(rho_before)()).epsilon(1e-5));
  CHECK(records[0].objective ==
        doctest::Approx(records[0].error + records[0].sparsity + records[0].weight_decay).epsilon(1e-5));
  CHECK(records[2].objective < records[0].objective);
  for (const auto& r : records) CHECK(r.seconds >= 0);
  std::rewind(progress);
  std::string text(4096, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), progress));
  std::fclose(progress);
  CHECK(test::contains(text, "epoch 1/3"));
  CHECK(test::contains(text, "epoch 3/3"));
  CHECK(test::contains(text, "mean activation"));

  CHECK(test::contains(test::error_of<ag::ShapeError>([&] {
                         nn::train_autoencoder(ae, Tensor<float>(xt::zeros<float>({4, 8})), {}, g);
                       }),
                       "train_autoencoder: data of shape [4, 8] (expected [N, 9]"));
  CHECK(test::contains(
      test::error_of<std::invalid_argument>([&] { nn::train_autoencoder(ae, data.x, {.batch_size = 0}, g); }),
      "train_autoencoder: batch_size = 0"));
  CHECK(test::contains(test::error_of<std::invalid_argument>([&] { nn::train_autoencoder(ae, data.x, {.lr = -1}, g); }),
                       "train_autoencoder: lr = -1"));
}

TEST_CASE("train_autoencoder: the sparsity penalty brings the mean hidden activation down to rho") {
  nn::Generator g(11);
  const Blobs data = blobs(4, 16, 16, g);
  const auto mean_activation_after = [&](double beta) {
    nn::Generator gen(3);
    nn::AutoEncoder<float> ae(16, 12, {.generator = &gen});
    const auto records = nn::train_autoencoder(
        ae, data.x, {.epochs = 60, .batch_size = 16, .lr = 1e-2, .sparsity = {.rho = 0.05, .beta = beta}}, gen);
    return records.back().mean_activation;
  };
  const double sparse = mean_activation_after(3), dense = mean_activation_after(0);
  CHECK(sparse < 0.1);
  CHECK(dense > 0.2);
}

TEST_CASE("pretrain_stack: greedy, the second auto-encoder trained on the first one's codes") {
  nn::Generator data_generator(13);
  const Blobs data = blobs(4, 16, 12, data_generator);
  const nn::AutoEncoderTraining training{.epochs = 20, .batch_size = 16, .lr = 1e-2, .sparsity = {.rho = 0.1}};
  nn::Generator g(21);
  const nn::PretrainedStack<float> stack = nn::pretrain_stack(data.x, {6, 3}, {}, training, g);
  REQUIRE(stack.autoencoders.size() == 2);
  REQUIRE(stack.history.size() == 2);
  CHECK(stack.autoencoders[0]->inputs() == 12);
  CHECK(stack.autoencoders[0]->hidden() == 6);
  CHECK(stack.autoencoders[1]->inputs() == 6);
  CHECK(stack.autoencoders[1]->hidden() == 3);
  for (const auto& history : stack.history) {
    REQUIRE(history.size() == 20);
    CHECK(history.back().objective < 0.8 * history.front().objective);
  }

  // The same steps by hand, from the same seed: auto-encoder 0 on the data, then auto-encoder 1
  // on encode_all of auto-encoder 0 after its training. Bit for bit the same weights.
  nn::Generator h(21);
  nn::AutoEncoder<float> first(12, 6, {.generator = &h});
  nn::train_autoencoder(first, data.x, training, h);
  nn::AutoEncoder<float> second(6, 3, {.generator = &h});
  nn::train_autoencoder(second, nn::encode_all(first, data.x), training, h);
  const auto named = [](const nn::AutoEncoder<float>& ae) { return ae.named_parameters(); };
  for (const auto& [mine, theirs] : {std::pair{named(first), named(*stack.autoencoders[0])},
                                     std::pair{named(second), named(*stack.autoencoders[1])}}) {
    REQUIRE(mine.size() == theirs.size());
    for (std::size_t i = 0; i < mine.size(); ++i) {
      CAPTURE(mine[i].first);
      CHECK(same_bits(mine[i].second.value(), theirs[i].second.value()));
    }
  }

  CHECK(test::contains(test::error_of<std::invalid_argument>([&] {
                         nn::pretrain_stack(data.x, {6, 0}, {}, training, g);
                       }),
                       "pretrain_stack: hidden sizes [6, 0]"));
  CHECK(test::contains(test::error_of<std::invalid_argument>([&] { nn::pretrain_stack(data.x, {}, {}, training, g); }),
                       "pretrain_stack: no hidden sizes"));
  CHECK(test::contains(test::error_of<ag::ShapeError>(
                           [&] { nn::pretrain_stack(Tensor<float>(xt::zeros<float>({12})), {6}, {}, training, g); }),
                       "pretrain_stack: data of shape [12]"));
}

TEST_CASE("StackedClassifier: the auto-encoders' encoders themselves, by name, and a random start shares nothing") {
  nn::Generator g(17);
  const std::vector<std::shared_ptr<nn::AutoEncoder<float>>> aes{
      nn::autoencoder<float>(8, 5, {.generator = &g}),
      nn::autoencoder<float>(5, 3, {.encoder = nn::Activation::tanh, .generator = &g})};
  nn::StackedClassifier<float> model(aes, 4, {.generator = &g});
  std::vector<std::string> names;
  for (const auto& [name, p] : model.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"encoder0.weight", "encoder0.bias", "encoder1.weight", "encoder1.bias",
                                          "classifier.weight", "classifier.bias"});
  CHECK(model.sizes() == std::vector<std::size_t>{8, 5, 3, 4});
  CHECK(model.activations() == std::vector<nn::Activation>{nn::Activation::sigmoid, nn::Activation::tanh});
  for (std::size_t k = 0; k < 2; ++k) {
    CHECK(model.encoders()[k] == aes[k]->encoder());
    CHECK(model.parameters()[2 * k].is(aes[k]->encoder()->weight()));
  }
  // Each encoder followed by its own activation: the features are the auto-encoders' codes.
  const Tensor<float> x = g.uniform<float>({5, 8}, 0.0f, 1.0f);
  const Tensor<float> codes = aes[1]->encode(aes[0]->encode(V(x))).value();
  CHECK(max_abs_difference(model.features(V(x)).value(), codes) < 1e-6);
  CHECK(max_abs_difference(model.forward(V(x)).value(), model.classifier()->forward(V(codes)).value()) < 1e-6);

  // One update through the classifier changes the auto-encoders' encoders.
  const std::vector<std::size_t> labels{0, 1, 2, 3, 0};
  const auto before = values_of(encoder_parameters(model));
  const std::vector<V> ae_encoder{aes[0]->encoder()->weight(), aes[1]->encoder()->weight()};
  const auto ae_before = values_of(ae_encoder);
  nn::SGD<float> sgd(model.parameters(), {.lr = 0.5});
  ag::backward(nn::softmax_cross_entropy(model.forward(V(x)), labels));
  sgd.step();
  for (std::size_t k = 0; k < 2; ++k) CHECK_FALSE(same_bits(aes[k]->encoder()->weight().value(), ae_before[k]));

  // The same architecture from a random start: fresh weights, its own; training it leaves the
  // auto-encoders alone.
  nn::Generator fresh(99);
  const auto random = model.random_start({.generator = &fresh});
  CHECK(random->sizes() == model.sizes());
  CHECK(random->activations() == model.activations());
  std::vector<std::string> random_names;
  for (const auto& [name, p] : random->named_parameters()) random_names.push_back(name);
  CHECK(random_names == names);
  for (std::size_t i = 0; i < model.parameters().size(); ++i) {
    CHECK_FALSE(random->parameters()[i].is(model.parameters()[i]));
    CHECK(random->parameters()[i].shape() == model.parameters()[i].shape());
  }
  CHECK_FALSE(same_bits(random->encoders()[0]->weight().value(), aes[0]->encoder()->weight().value()));
  const auto ae_now = values_of(ae_encoder);
  nn::SGD<float> random_sgd(random->parameters(), {.lr = 0.5});
  ag::backward(nn::softmax_cross_entropy(random->forward(V(x)), labels));
  random_sgd.step();
  CHECK_FALSE(same_bits(random->encoders()[0]->weight().value(), aes[0]->encoder()->weight().value()));
  for (std::size_t k = 0; k < 2; ++k) CHECK(same_bits(aes[k]->encoder()->weight().value(), ae_now[k]));

  // The auto-encoders must chain.
  const std::vector<std::shared_ptr<nn::AutoEncoder<float>>> broken{nn::autoencoder<float>(8, 5),
                                                                    nn::autoencoder<float>(4, 3)};
  CHECK(test::contains(test::error_of<ag::ShapeError>([&] { nn::StackedClassifier<float>(broken, 4); }),
                       "StackedClassifier: auto-encoder 1 has 4 inputs, but auto-encoder 0 has 5 hidden units"));
  CHECK(test::contains(test::error_of<std::invalid_argument>([&] { nn::StackedClassifier<float>({}, 4); }),
                       "StackedClassifier: no auto-encoders"));
  CHECK(test::contains(test::error_of<std::invalid_argument>([&] { nn::StackedClassifier<float>(aes, 1); }),
                       "StackedClassifier: 1 classes"));
  CHECK(test::contains(test::error_of<std::invalid_argument>([&] {
                         nn::StackedClassifier<float>(8, {5, 0}, 4, {nn::Activation::sigmoid});
                       }),
                       "hidden sizes [5, 0]"));
  CHECK(test::contains(test::error_of<std::invalid_argument>([&] {
                         nn::StackedClassifier<float>(
                             8, {5, 3}, 4, {nn::Activation::sigmoid, nn::Activation::relu, nn::Activation::tanh});
                       }),
                       "StackedClassifier: 3 activations for 2 hidden layers"));
}

TEST_CASE("train_classifier: the softmax stage leaves the encoders bit for bit, fine-tuning changes them") {
  nn::Generator g(23);
  const Blobs data = blobs(3, 10, 9, g);
  const nn::PretrainedStack<float> stack =
      nn::pretrain_stack(data.x, {6, 4}, {}, {.epochs = 5, .batch_size = 10, .lr = 1e-2}, g);
  nn::StackedClassifier<float> model(stack.autoencoders, 3, {.generator = &g});
  const std::vector<V> encoders = encoder_parameters(model);
  const auto encoders_before = values_of(encoders);
  const auto classifier_before = values_of(model.classifier()->parameters());
  const nn::ClassifierTraining options{.epochs = 5, .batch_size = 8, .lr = 1e-2};

  // The softmax stage through the whole stack, only the classifier's parameters given.
  nn::Generator g1(5);
  const auto records = nn::train_classifier(model, model.classifier()->parameters(), data.x, data.y, options, g1);
  REQUIRE(records.size() == 5);
  CHECK(records.back().loss < records.front().loss);
  for (std::size_t i = 0; i < encoders.size(); ++i) CHECK(same_bits(encoders[i].value(), encoders_before[i]));
  const auto classifier_after = values_of(model.classifier()->parameters());
  CHECK_FALSE(same_bits(classifier_after[0], classifier_before[0]));
  // ... and the same stage on precomputed top codes, the cheaper way: the same training.
  nn::StackedClassifier<float> twin(stack.autoencoders, 3);
  for (std::size_t i = 0; i < 2; ++i) twin.classifier()->parameters()[i].mutable_value() = classifier_before[i];
  Tensor<float> codes;
  {
    ag::NoGrad no_grad;
    codes = twin.features(V(data.x)).value();
  }
  nn::Generator g2(5);
  nn::train_classifier(*twin.classifier(), twin.classifier()->parameters(), codes, data.y, options, g2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(max_abs_difference(twin.classifier()->parameters()[i].value(), classifier_after[i]) < 1e-5);
  }

  // Fine-tuning: every parameter, the encoders (the auto-encoders' own) change.
  nn::train_classifier(model, model.parameters(), data.x, data.y, options, g1);
  for (std::size_t i = 0; i < encoders.size(); ++i) {
    CAPTURE(i);
    CHECK_FALSE(same_bits(encoders[i].value(), encoders_before[i]));
  }
  CHECK_FALSE(same_bits(stack.autoencoders[0]->encoder()->weight().value(), encoders_before[0]));

  CHECK(test::contains(test::error_of<ag::ShapeError>([&] {
                         nn::train_classifier(model, model.parameters(), data.x, {0, 1}, options, g1);
                       }),
                       "train_classifier: inputs of shape [30, 9] for 2 labels"));
  CHECK(test::contains(
      test::error_of<std::invalid_argument>([&] { nn::train_classifier(model, {}, data.x, data.y, options, g1); }),
      "train_classifier: no parameters to train"));
  CHECK(test::contains(test::error_of<std::invalid_argument>([&] {
                         nn::train_classifier(model, model.parameters(), data.x, data.y, {.batch_size = 0}, g1);
                       }),
                       "train_classifier: batch_size = 0"));
}

TEST_CASE("a separable problem: pretrained stack, softmax on its codes, fine-tuning, evaluation in batches") {
  nn::Generator g(31);
  const Blobs train = blobs(3, 20, 12, g), test_set = blobs(3, 10, 12, g);
  const nn::PretrainedStack<float> stack = nn::pretrain_stack(
      train.x, {8, 5}, {}, {.epochs = 100, .batch_size = 10, .lr = 1e-2, .sparsity = {.rho = 0.2}}, g);
  nn::StackedClassifier<float> model(stack.autoencoders, 3, {.generator = &g});
  Tensor<float> codes;
  {
    ag::NoGrad no_grad;
    codes = model.features(V(train.x)).value();
  }
  nn::train_classifier(*model.classifier(), model.classifier()->parameters(), codes, train.y,
                       {.epochs = 100, .batch_size = 10, .lr = 3e-2}, g);
  CHECK(nn::evaluate_classifier(model, test_set.x, test_set.y).accuracy >= 0.95);  // the codes alone separate it
  nn::train_classifier(model, model.parameters(), train.x, train.y, {.epochs = 50, .batch_size = 10, .lr = 1e-2}, g);
  const nn::ClassifierScore score = nn::evaluate_classifier(model, test_set.x, test_set.y, 7);
  CHECK(score.accuracy >= 0.95);

  // The score in batches of 7 is the score of all the logits at once; the mode is restored.
  ag::NoGrad no_grad;
  const V logits = model.forward(V(test_set.x));
  CHECK(score.accuracy == doctest::Approx(nn::accuracy(logits.value(), test_set.y)));
  CHECK(score.loss == doctest::Approx(nn::softmax_cross_entropy(logits, test_set.y).item()).epsilon(1e-5));
  CHECK(model.is_training());
  model.eval();
  nn::evaluate_classifier(model, test_set.x, test_set.y);
  CHECK_FALSE(model.is_training());
  CHECK(test::contains(test::error_of<ag::ShapeError>([&] {
                         nn::evaluate_classifier(model, Tensor<float>(xt::zeros<float>({0, 12})), {});
                       }),
                       "evaluate_classifier: inputs of shape [0, 12]"));
}
