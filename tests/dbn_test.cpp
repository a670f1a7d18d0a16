// The deep belief net and the RBM's training loop: train_rbm against contrastive divergence and
// SGD called by hand, greedy stacking against the hidden probabilities written out with loops, the
// classifier built from the stack against the stack's upward pass, top-down generation against the
// top RBM's Gibbs chain and p(v | h) of the lower RBMs, pretraining against the exact likelihoods
// of a small data set, and the errors. In double.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <nn/nn.hpp>
#include <string>
#include <vector>
#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include "rbm_test_util.hpp"
#include "test_util.hpp"

namespace nn = ag::nn;
using V = ag::Variable<double>;
using ag::Tensor;

namespace {

using test::max_abs_difference;
using test::prototype_data;
using test::sigmoid;

// Every RBM of the DBN with W ~ N(0, 1) and both biases ~ U(-1, 1): far from the start, so that
// each layer's probabilities are not all near 1/2.
void randomise(nn::DeepBeliefNet<double>& dbn, std::uint64_t seed) {
  nn::Generator g(seed);
  for (std::size_t k = 0; k < dbn.rbms(); ++k) {
    nn::Rbm<double>& rbm = dbn.rbm(k);
    rbm.weight().mutable_value() = g.normal<double>({rbm.visible(), rbm.hidden()}, 0, 1);
    rbm.visible_bias().mutable_value() = g.uniform<double>({rbm.visible()}, -1, 1);
    rbm.hidden_bias().mutable_value() = g.uniform<double>({rbm.hidden()}, -1, 1);
  }
}

// p(h_j = 1 | v) = sigmoid(c_j + sum_i v_i W_ij), with loops.
Tensor<double> hidden_probabilities_by_hand(nn::Rbm<double>& rbm, const Tensor<double>& v) {
  const Tensor<double>& w = rbm.weight().value();
  const Tensor<double>& c = rbm.hidden_bias().value();
  Tensor<double> p = Tensor<double>::from_shape({v.shape()[0], rbm.hidden()});
  for (std::size_t r = 0; r < v.shape()[0]; ++r) {
    for (std::size_t j = 0; j < rbm.hidden(); ++j) {
      double a = c(j);
      for (std::size_t i = 0; i < rbm.visible(); ++i) a += v(r, i) * w(i, j);
      p(r, j) = sigmoid(a);
    }
  }
  return p;
}

// p(v_i = 1 | h) = sigmoid(b_i + sum_j W_ij h_j), with loops.
Tensor<double> visible_probabilities_by_hand(nn::Rbm<double>& rbm, const Tensor<double>& h) {
  const Tensor<double>& w = rbm.weight().value();
  const Tensor<double>& b = rbm.visible_bias().value();
  Tensor<double> p = Tensor<double>::from_shape({h.shape()[0], rbm.visible()});
  for (std::size_t r = 0; r < h.shape()[0]; ++r) {
    for (std::size_t i = 0; i < rbm.visible(); ++i) {
      double a = b(i);
      for (std::size_t j = 0; j < rbm.hidden(); ++j) a += w(i, j) * h(r, j);
      p(r, i) = sigmoid(a);
    }
  }
  return p;
}

bool binary(const Tensor<double>& t) {
  for (double x : t)
    if (x != 0 && x != 1) return false;
  return true;
}

}  // namespace

TEST_CASE("train_rbm: each update is the CD or PCD loss's gradient followed by SGD and each epoch is measured") {
  nn::Generator data_generator(1);
  const Tensor<double> data = prototype_data(30, data_generator);
  for (const bool persistent : {false, true}) {
    CAPTURE(persistent);
    const nn::RbmTraining training{.epochs = 3,
                                   .batch_size = 8,
                                   .k = 2,
                                   .persistent = persistent,
                                   .sgd = {.lr = 0.1, .momentum = 0.5, .weight_decay = 1e-3},
                                   .base_rate_visible_bias = true,
                                   .monitor_rows = 12};
    nn::Generator init_a(2), init_b(2);
    nn::Rbm<double> a(10, 6, {.weight_scale = 0.1, .generator = &init_a});
    nn::Rbm<double> b(10, 6, {.weight_scale = 0.1, .generator = &init_b});
    nn::Generator ga(3), gb(3);
    std::vector<nn::RbmEpoch> seen;
    const auto records = nn::train_rbm(a, data, training, ga, [&](const nn::RbmEpoch& r) { seen.push_back(r); });

    // The same by hand: the base rate, then per epoch the shuffled batches, each a CD-k (or PCD-k)
    // loss, its engine gradient and SGD's step; then the two measurements on the first 12 rows.
    b.visible_bias().mutable_value() = nn::base_rate_bias(data);
    nn::SGD<double> sgd(b.parameters(), training.sgd);
    std::unique_ptr<nn::PersistentChain<double>> chain;
    if (persistent) chain = std::make_unique<nn::PersistentChain<double>>(8, 10, gb);
    const Tensor<double> monitor = xt::view(data, xt::range(0, 12), xt::all());
    REQUIRE(records.size() == 3);
    for (std::size_t epoch = 0; epoch < 3; ++epoch) {
      const nn::Batches batches(30, 8, true, gb);
      double loss = 0;
      for (std::size_t k = 0; k < batches.size(); ++k) {
        const Tensor<double> batch = nn::select_rows(data, batches[k]);
        const auto cd = persistent ? nn::persistent_contrastive_divergence(b, batch, *chain, 2, gb)
                                   : nn::contrastive_divergence(b, batch, 2, gb);
        sgd.zero_grad();
        ag::backward(cd.loss);
        sgd.step();
        loss += cd.loss.item() * static_cast<double>(batch.shape()[0]);
      }
      CHECK(records[epoch].epoch == epoch + 1);
      CHECK(std::abs(records[epoch].cd_loss - loss / 30) < 1e-12);
      CHECK(records[epoch].reconstruction_error == nn::reconstruction_error(b, monitor));
      CHECK(records[epoch].pseudo_log_likelihood == nn::stochastic_pseudo_log_likelihood(b, monitor, gb));
      CHECK(seen[epoch].reconstruction_error == records[epoch].reconstruction_error);
    }
    CHECK(max_abs_difference(a.weight().value(), b.weight().value()) == 0);
    CHECK(max_abs_difference(a.visible_bias().value(), b.visible_bias().value()) == 0);
    CHECK(max_abs_difference(a.hidden_bias().value(), b.hidden_bias().value()) == 0);
    CHECK(seen.size() == 3);
  }

  // The exact pseudo-likelihood when asked for, and the progress lines (a file is no terminal: a
  // line per epoch, ending with the measurements).
  std::FILE* out = std::tmpfile();
  REQUIRE(out);
  nn::Rbm<double> rbm(10, 4);
  nn::Generator g(4);
  const auto records = nn::train_rbm(rbm, data, {.epochs = 2, .exact_pseudo_likelihood = true, .progress = out}, g);
  CHECK(records.back().pseudo_log_likelihood == nn::pseudo_log_likelihood(rbm, data));
  std::rewind(out);
  std::string text(4096, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), out));
  std::fclose(out);
  CHECK_MESSAGE(test::contains(text, "epoch 2/2"), text);
  CHECK_MESSAGE(test::contains(text, "pseudo-log-likelihood"), text);
  CHECK_MESSAGE(test::contains(text, "reconstruction error"), text);
}

TEST_CASE("train_rbm: 0 epochs leave the RBM as it is, even with the base-rate visible bias") {
  nn::Generator data_generator(19);
  const Tensor<double> data = prototype_data(30, data_generator);
  nn::Generator init(20), g(21);
  nn::Rbm<double> rbm(10, 4, {.weight_scale = 0.1, .generator = &init});
  const Tensor<double> w = rbm.weight().value(), b = rbm.visible_bias().value(), c = rbm.hidden_bias().value();
  const auto records = nn::train_rbm(rbm, data, {.epochs = 0, .base_rate_visible_bias = true}, g);
  CHECK(records.empty());
  CHECK(max_abs_difference(rbm.weight().value(), w) == 0);
  CHECK(max_abs_difference(rbm.visible_bias().value(), b) == 0);
  CHECK(max_abs_difference(rbm.hidden_bias().value(), c) == 0);
  // The base rate is far from the start: had it been set, the check above would see it.
  CHECK(max_abs_difference(nn::base_rate_bias(data), b) > 0.5);
}

TEST_CASE("train_rbm: monitor_rows = 0 measures every row") {
  nn::Generator data_generator(22);
  const Tensor<double> data = prototype_data(30, data_generator);
  nn::Generator init(23), g(24);
  nn::Rbm<double> rbm(10, 4, {.generator = &init});
  const auto records =
      nn::train_rbm(rbm, data, {.epochs = 1, .batch_size = 8, .monitor_rows = 0, .exact_pseudo_likelihood = true}, g);
  REQUIRE(records.size() == 1);
  CHECK(records[0].reconstruction_error == nn::reconstruction_error(rbm, data));
  CHECK(records[0].pseudo_log_likelihood == nn::pseudo_log_likelihood(rbm, data));
  // Not the same as a part of the rows.
  const Tensor<double> first = xt::view(data, xt::range(0, 29), xt::all());
  CHECK(records[0].reconstruction_error != nn::reconstruction_error(rbm, first));
}

TEST_CASE("train_rbm: the pseudo-log-likelihood of data that is not binary is NaN, printed n/a") {
  nn::Generator data_generator(25);
  const Tensor<double> probabilities = data_generator.uniform<double>({20, 10}, 0, 1);
  nn::Rbm<double> rbm(10, 4);
  nn::Generator g(26);
  std::FILE* out = std::tmpfile();
  REQUIRE(out);
  for (const bool exact : {false, true}) {
    const auto records =
        nn::train_rbm(rbm, probabilities, {.epochs = 2, .exact_pseudo_likelihood = exact, .progress = out}, g);
    REQUIRE(records.size() == 2);
    for (const auto& r : records) {
      CHECK(std::isnan(r.pseudo_log_likelihood));
      CHECK(std::isfinite(r.reconstruction_error));  // measured
    }
  }
  std::rewind(out);
  std::string text(8192, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), out));
  std::fclose(out);
  CHECK_MESSAGE(test::contains(text, "pseudo-log-likelihood n/a (data not binary)"), text);
  CHECK_MESSAGE(!test::contains(text, "nan"), text);
  // Binary data: a number.
  nn::Generator data_generator2(27);
  const auto binary_records = nn::train_rbm(rbm, prototype_data(20, data_generator2), {.epochs = 1}, g);
  CHECK(std::isfinite(binary_records[0].pseudo_log_likelihood));
}

TEST_CASE("DBN: hidden_probabilities in batches of 1000 rows against loops") {
  nn::DeepBeliefNet<double> dbn({7, 5});
  randomise(dbn, 28);
  const Tensor<double> x = test::uniform({2300, 7}, 0, 1);
  CHECK(max_abs_difference(nn::hidden_probabilities(dbn.rbm(0), x), hidden_probabilities_by_hand(dbn.rbm(0), x)) <
        1e-12);
  const std::string e = test::error_of<ag::ShapeError>([&] {
    nn::hidden_probabilities(dbn.rbm(0), Tensor<double>(xt::zeros<double>({2, 5})));
  });
  CHECK_MESSAGE(
      test::contains(e, "hidden_probabilities: data of shape [2, 5] for an RBM of weight [7, 5] (expected [N, 7]"), e);
}

TEST_CASE("DBN: greedy stacking trains each RBM on the hidden probabilities of the one below") {
  nn::Generator data_generator(5);
  const Tensor<double> data = prototype_data(24, data_generator);
  const nn::RbmTraining training{.epochs = 2, .batch_size = 6, .sgd = {.lr = 0.2, .momentum = 0.5}};
  nn::Generator init_a(6), init_b(6);
  nn::DeepBeliefNet<double> stacked({10, 6, 5, 3}, {.weight_scale = 0.3, .generator = &init_a});
  nn::DeepBeliefNet<double> by_hand({10, 6, 5, 3}, {.weight_scale = 0.3, .generator = &init_b});
  nn::Generator ga(7), gb(7);
  const auto history = nn::pretrain_dbn(stacked, data, {training}, ga);
  REQUIRE(history.size() == 3);
  for (const auto& h : history) CHECK(h.size() == 2);

  // RBM 0 on the data; RBM k on sigmoid(c + v W) of RBM k-1 (trained) given RBM k-1's own data,
  // computed here with loops; the same generator, so the same shuffles and samples.
  Tensor<double> input = data;
  for (std::size_t k = 0; k < 3; ++k) {
    nn::train_rbm(by_hand.rbm(k), input, training, gb);
    CHECK(max_abs_difference(stacked.rbm(k).weight().value(), by_hand.rbm(k).weight().value()) < 1e-12);
    CHECK(max_abs_difference(stacked.rbm(k).visible_bias().value(), by_hand.rbm(k).visible_bias().value()) < 1e-12);
    CHECK(max_abs_difference(stacked.rbm(k).hidden_bias().value(), by_hand.rbm(k).hidden_bias().value()) < 1e-12);
    input = hidden_probabilities_by_hand(by_hand.rbm(k), input);
    // The upward pass of the stack is the same chain of probabilities.
    CHECK(max_abs_difference(stacked.up(data, k + 1), input) < 1e-12);
  }
  CHECK(max_abs_difference(stacked.up(data, 0), data) == 0);
  // Probabilities, not samples: not all 0 or 1.
  CHECK_FALSE(binary(stacked.up(data, 1)));
}

TEST_CASE("DBN: pretraining with one RbmTraining per RBM trains each RBM with its own") {
  nn::Generator data_generator(29);
  const Tensor<double> data = prototype_data(24, data_generator);
  const std::vector<nn::RbmTraining> training{
      {.epochs = 2, .batch_size = 6, .sgd = {.lr = 0.2, .momentum = 0.5}, .base_rate_visible_bias = true},
      {.epochs = 3, .batch_size = 4, .k = 2, .sgd = {.lr = 0.05, .momentum = 0.9}},
      {.epochs = 1, .batch_size = 5, .persistent = true, .sgd = {.lr = 0.3}}};
  nn::Generator init_a(30), init_b(30);
  nn::DeepBeliefNet<double> stacked({10, 6, 5, 3}, {.weight_scale = 0.3, .generator = &init_a});
  nn::DeepBeliefNet<double> by_hand({10, 6, 5, 3}, {.weight_scale = 0.3, .generator = &init_b});
  nn::Generator ga(31), gb(31);
  const auto history = nn::pretrain_dbn(stacked, data, training, ga);
  REQUIRE(history.size() == 3);
  Tensor<double> input = data;
  for (std::size_t k = 0; k < 3; ++k) {
    CAPTURE(k);
    CHECK(history[k].size() == training[k].epochs);
    const auto records = nn::train_rbm(by_hand.rbm(k), input, training[k], gb);
    CHECK(max_abs_difference(stacked.rbm(k).weight().value(), by_hand.rbm(k).weight().value()) < 1e-12);
    CHECK(max_abs_difference(stacked.rbm(k).visible_bias().value(), by_hand.rbm(k).visible_bias().value()) < 1e-12);
    CHECK(max_abs_difference(stacked.rbm(k).hidden_bias().value(), by_hand.rbm(k).hidden_bias().value()) < 1e-12);
    REQUIRE(records.size() == history[k].size());
    CHECK(std::abs(history[k].back().cd_loss - records.back().cd_loss) < 1e-10);
    // The upper RBMs train on probabilities: no pseudo-likelihood for them.
    CHECK(std::isnan(history[k].back().pseudo_log_likelihood) == (k > 0));
    input = hidden_probabilities_by_hand(by_hand.rbm(k), input);
  }
}

TEST_CASE("DBN: the MLP built from the stack computes the stack's upward probabilities before fine-tuning") {
  nn::DeepBeliefNet<double> dbn({7, 5, 4});
  randomise(dbn, 8);
  nn::Generator g(9);
  const auto mlp = nn::dbn_classifier(dbn, 3, {.generator = &g});
  CHECK(mlp->sizes() == std::vector<std::size_t>{7, 5, 4, 3});
  const Tensor<double> x = test::uniform({12, 7}, 0, 1);
  const Tensor<double> by_hand = hidden_probabilities_by_hand(dbn.rbm(1), hidden_probabilities_by_hand(dbn.rbm(0), x));
  const Tensor<double> features = mlp->features(V(x)).value();
  CHECK(max_abs_difference(features, by_hand) < 1e-12);
  CHECK(max_abs_difference(features, dbn.up(x, 2)) < 1e-12);
  // The softmax layer on top: logits = features W + b, W drawn fresh, b zero.
  const Tensor<double> logits = mlp->forward(V(x)).value();
  const Tensor<double>& w = mlp->classifier()->weight().value();
  CHECK(w.shape() == std::vector<std::size_t>{4, 3});
  CHECK(xt::amax(xt::abs(w))() > 0);
  CHECK(max_abs_difference(logits, ag::matmul(V(features), V(w)).value()) < 1e-12);

  // Fine-tuning changes copies: one Adam step moves the MLP and leaves the DBN as it was.
  const Tensor<double> w0 = dbn.rbm(0).weight().value(), c0 = dbn.rbm(0).hidden_bias().value();
  nn::train_classifier(*mlp, mlp->parameters(), x, {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2}, {.epochs = 1, .lr = 0.1}, g);
  CHECK(max_abs_difference(mlp->encoders()[0]->weight().value(), w0) > 1e-3);
  CHECK(max_abs_difference(dbn.rbm(0).weight().value(), w0) == 0);
  CHECK(max_abs_difference(dbn.rbm(0).hidden_bias().value(), c0) == 0);

  // The random start: the same sizes and activations, other weights.
  const auto random = mlp->random_start({.generator = &g});
  CHECK(random->sizes() == mlp->sizes());
  CHECK(random->activations() == std::vector<nn::Activation>(2, nn::Activation::sigmoid));
  CHECK(max_abs_difference(random->encoders()[0]->weight().value(), w0) > 1e-3);
}

TEST_CASE("DBN: top-down generation is Gibbs sampling in the top RBM then p of v given h of each lower RBM") {
  nn::DeepBeliefNet<double> dbn({8, 6, 5, 4});
  randomise(dbn, 10);
  nn::Generator g1(11), g2(11), g3(12), replay(11);
  const nn::DbnSample<double> s = dbn.generate(7, 20, g1);
  const nn::DbnSample<double> again = dbn.generate(7, 20, g2);
  const nn::DbnSample<double> other = dbn.generate(7, 20, g3);

  // Shapes: layer k is [7, sizes[k]]; the states binary.
  REQUIRE(s.probabilities.size() == 3);
  REQUIRE(s.states.size() == 3);
  for (std::size_t k = 0; k < 3; ++k) {
    CHECK(s.probabilities[k].shape() == std::vector<std::size_t>{7, dbn.sizes()[k]});
    CHECK(s.states[k].shape() == std::vector<std::size_t>{7, dbn.sizes()[k]});
    CHECK(binary(s.states[k]));
    // The same seed, the same samples; another seed, others.
    CHECK(max_abs_difference(s.states[k], again.states[k]) == 0);
    CHECK(max_abs_difference(s.probabilities[k], again.probabilities[k]) == 0);
  }
  CHECK(s.top.shape() == std::vector<std::size_t>{7, 4});
  CHECK(max_abs_difference(s.states[0], other.states[0]) > 0);

  // Replayed: the top RBM's chain from visible units on with probability 1/2, 20 Gibbs steps.
  const Tensor<double> start = replay.bernoulli<double>({7, 5}, 0.5);
  const nn::GibbsState<double> chain = dbn.top().gibbs(start, 20, replay);
  CHECK(max_abs_difference(s.states[2], chain.visible) == 0);
  CHECK(max_abs_difference(s.top, chain.hidden) == 0);
  CHECK(max_abs_difference(s.probabilities[2], visible_probabilities_by_hand(dbn.top(), chain.hidden)) < 1e-12);
  // Then the directed pass: layer 1 from the sampled layer 2 through RBM 1's p(v | h), sampled;
  // the pixels' probabilities from that sample through RBM 0's, and a sample of them.
  for (std::size_t k = 2; k-- > 0;) {
    const Tensor<double> p = visible_probabilities_by_hand(dbn.rbm(k), s.states[k + 1]);
    CHECK(max_abs_difference(s.probabilities[k], p) < 1e-12);
    CHECK(max_abs_difference(s.states[k], nn::sample_bernoulli(s.probabilities[k], replay)) == 0);
  }

  // down() alone is that directed pass.
  nn::Generator g4(13), g5(13);
  const nn::DbnSample<double> d = dbn.down(s.states[2], g4);
  CHECK(max_abs_difference(d.probabilities[1], s.probabilities[1]) == 0);
  CHECK(max_abs_difference(d.states[1], nn::sample_bernoulli(d.probabilities[1], g5)) == 0);
  CHECK(max_abs_difference(d.probabilities[0], visible_probabilities_by_hand(dbn.rbm(0), d.states[1])) < 1e-12);
}

TEST_CASE("DBN: greedy pretraining raises the exact likelihood and pseudo-likelihood of every layer") {
  nn::Generator data_generator(14);
  const Tensor<double> data = prototype_data(90, data_generator);
  nn::Generator init_a(15), init_b(15);
  nn::DeepBeliefNet<double> trained({10, 8, 6}, {.generator = &init_a});
  nn::DeepBeliefNet<double> untrained({10, 8, 6}, {.generator = &init_b});
  nn::Generator g(16);
  nn::pretrain_dbn(
      trained, data,
      {{.epochs = 100, .batch_size = 10, .sgd = {.lr = 0.1, .momentum = 0.5}, .base_rate_visible_bias = true}}, g);
  // Layer k's data as binary vectors: the data itself, then a draw from the trained stack's upward
  // probabilities (the exact likelihood is a likelihood of binary states).
  for (std::size_t k = 0; k < 2; ++k) {
    CAPTURE(k);
    nn::Generator draw(17);
    const Tensor<double> states = k == 0 ? data : nn::sample_bernoulli(trained.up(data, k), draw);
    const double before = nn::exact_log_likelihood(untrained.rbm(k), states);
    const double after = nn::exact_log_likelihood(trained.rbm(k), states);
    const double pseudo_before = nn::pseudo_log_likelihood(untrained.rbm(k), states);
    const double pseudo_after = nn::pseudo_log_likelihood(trained.rbm(k), states);
    MESSAGE("layer ", k, ": exact log-likelihood ", before, " -> ", after, ", pseudo ", pseudo_before, " -> ",
            pseudo_after);
    CHECK(after > before + 1.5);
    CHECK(pseudo_after > pseudo_before + 1.5);
  }
}

TEST_CASE("DBN and train_rbm: errors name the function and the shapes") {
  const auto shape_error = [](auto&& f) { return test::error_of<ag::ShapeError>(f); };
  const auto invalid = [](auto&& f) { return test::error_of<std::invalid_argument>(f); };
  nn::DeepBeliefNet<double> dbn({6, 4, 3});
  nn::Generator g(18);
  const Tensor<double> bad = xt::zeros<double>({2, 5});

  // Mismatched layer sizes: RBMs that do not stack.
  auto r0 = std::make_shared<nn::Rbm<double>>(6, 4), r1 = std::make_shared<nn::Rbm<double>>(5, 3);
  std::string e = shape_error([&] { nn::DeepBeliefNet<double>(std::vector{r0, r1}); });
  CHECK_MESSAGE(test::contains(e,
                               "DeepBeliefNet: RBM 1 of weight [5, 3] has 5 visible units, but RBM 0 of weight "
                               "[6, 4] has 4 hidden units"),
                e);
  nn::DeepBeliefNet<double> from_rbms(std::vector{r0, std::make_shared<nn::Rbm<double>>(4, 2)});
  CHECK(from_rbms.sizes() == std::vector<std::size_t>{6, 4, 2});
  CHECK(&from_rbms.rbm(0) == r0.get());
  e = invalid([&] { nn::DeepBeliefNet<double>(std::vector<std::size_t>{784}); });
  CHECK_MESSAGE(test::contains(e, "DeepBeliefNet: layer sizes [784]"), e);
  e = invalid([&] { nn::DeepBeliefNet<double>(std::vector<std::size_t>{5, 0, 3}); });
  CHECK_MESSAGE(test::contains(e, "DeepBeliefNet: layer sizes [5, 0, 3]"), e);

  e = shape_error([&] { nn::pretrain_dbn(dbn, bad, {nn::RbmTraining{}}, g); });
  CHECK_MESSAGE(
      test::contains(e, "pretrain_dbn: data of shape [2, 5] for a DBN of layer sizes [6, 4, 3] (expected [N, 6]"), e);
  e = invalid([&] {
    nn::pretrain_dbn(dbn, Tensor<double>(xt::zeros<double>({2, 6})), std::vector<nn::RbmTraining>(3), g);
  });
  CHECK_MESSAGE(test::contains(e, "pretrain_dbn: 3 trainings for a DBN of 2 RBMs"), e);
  e = shape_error([&] { dbn.up(bad, 1); });
  CHECK_MESSAGE(test::contains(e, "DeepBeliefNet::up: data of shape [2, 5] for a DBN of layer sizes [6, 4, 3]"), e);
  e = invalid([&] { dbn.up(Tensor<double>(xt::zeros<double>({2, 6})), 3); });
  CHECK_MESSAGE(test::contains(e, "DeepBeliefNet::up: layers = 3 for a DBN of 2 RBMs"), e);
  e = shape_error([&] { dbn.down(bad, g); });
  CHECK_MESSAGE(test::contains(e,
                               "DeepBeliefNet::down: the top RBM's visible states of shape [2, 5] for a DBN of "
                               "layer sizes [6, 4, 3] (expected [N, 4]"),
                e);
  e = shape_error([&] { dbn.generate(bad, 1, g); });
  CHECK_MESSAGE(test::contains(e, "DeepBeliefNet::generate: the top RBM's starting states of shape [2, 5]"), e);
  CHECK(test::contains(invalid([&] { dbn.generate(2, 0, g); }), "gibbs_steps = 0"));
  CHECK(test::contains(invalid([&] { dbn.generate(0, 1, g); }), "count = 0"));
  CHECK(test::contains(test::error_of<std::out_of_range>([&] { dbn.rbm(2); }), "RBM 2 of a DBN of 2 RBMs"));

  nn::Rbm<double> rbm(6, 4);
  e = shape_error([&] { nn::train_rbm(rbm, bad, {}, g); });
  CHECK_MESSAGE(test::contains(e, "train_rbm: data of shape [2, 5] for an RBM of weight [6, 4] (expected [N, 6]"), e);
  const Tensor<double> data = xt::zeros<double>({2, 6});
  CHECK(test::contains(invalid([&] { nn::train_rbm(rbm, data, {.batch_size = 0}, g); }), "train_rbm: batch_size = 0"));
  CHECK(test::contains(invalid([&] { nn::train_rbm(rbm, data, {.k = 0}, g); }), "train_rbm: k = 0"));
  CHECK(test::contains(invalid([&] { nn::train_rbm(rbm, data, {.sgd = {.lr = -1}}, g); }), "lr"));
}
