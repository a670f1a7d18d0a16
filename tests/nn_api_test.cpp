// nn's model-writing API: Linear's options, the rules for names, the losses' reductions.
// Each test fails if the rule it covers is taken out.
#include <cmath>
#include <nn/nn.hpp>

#include "test_util.hpp"

using ag::Tensor;
namespace nn = ag::nn;

namespace {

// A module that opens its registration to the tests.
struct Open : nn::Module<double> {
  using nn::Module<double>::register_module;
  using nn::Module<double>::register_parameter;
};

// The names of a module's parameters, in order.
std::vector<std::string> names_of(const nn::Module<double>& m) {
  std::vector<std::string> out;
  for (const auto& [name, _] : m.named_parameters()) out.push_back(name);
  return out;
}

}  // namespace

// ---- Linear's options ----

TEST_CASE("Linear: the default options are a Xavier weight from the default generator and a zero bias") {
  nn::manual_seed(11);
  nn::Linear<double> fc(20, 30);
  nn::Generator same(11);
  ag::Variable<double> expected(Tensor<double>::from_shape({20, 30}));
  nn::initialize(expected, nn::Init::xavier, same);
  CHECK(fc.weight().value() == expected.value());
  REQUIRE(fc.bias().defined());
  CHECK(fc.bias().shape() == ag::Shape{30});
  CHECK(xt::amax(xt::abs(fc.bias().value()))() == 0.0);
  CHECK(names_of(fc) == std::vector<std::string>{"weight", "bias"});
}

TEST_CASE("Linear: .init chooses the weight's scheme") {
  nn::Generator g(1);
  const nn::Linear<double> zeros(10, 10, {.init = nn::Init::zeros, .generator = &g});
  CHECK(xt::amax(xt::abs(zeros.parameters()[0].value()))() == 0.0);

  nn::Linear<double> low(50, 40, {.init = nn::Init::random_low, .generator = &g});
  CHECK(xt::amax(xt::abs(low.weight().value()))() <= 0.05);
  CHECK(xt::amax(xt::abs(low.weight().value()))() > 0.04);

  nn::Linear<double> he(400, 300, {.init = nn::Init::he, .generator = &g});
  CHECK(xt::variance(he.weight().value())() == doctest::Approx(2.0 / 400.0).epsilon(0.05));
  CHECK(xt::amax(xt::abs(he.weight().value()))() > std::sqrt(6.0 / 700.0));  // beyond Xavier's bound
}

TEST_CASE("Linear: .bias = false leaves the bias out of the parameters and of the forward") {
  nn::Generator g(2);
  nn::Linear<double> fc(3, 2, {.bias = false, .generator = &g});
  CHECK_FALSE(fc.bias().defined());
  CHECK(names_of(fc) == std::vector<std::string>{"weight"});
  const ag::Variable<double> x(test::uniform({4, 3}));
  CHECK(xt::allclose(fc(x).value(), ag::matmul(x, fc.weight()).value()));

  const auto with_bias = nn::linear<double>(3, 2, {.bias = true, .generator = &g});
  CHECK(names_of(*with_bias) == std::vector<std::string>{"weight", "bias"});
}

TEST_CASE("Linear: .generator is the one drawn from, and the default generator is left alone") {
  nn::Generator a(5), b(5), reference(5);
  nn::manual_seed(99);
  const Tensor<double> untouched = nn::default_generator().uniform<double>({4}, 0.0, 1.0);
  nn::manual_seed(99);
  nn::Linear<double> fa(8, 6, {.generator = &a}), fb(8, 6, {.generator = &b});
  CHECK(fa.weight().value() == fb.weight().value());
  ag::Variable<double> expected(Tensor<double>::from_shape({8, 6}));
  nn::initialize(expected, nn::Init::xavier, reference);
  CHECK(fa.weight().value() == expected.value());
  CHECK(nn::default_generator().uniform<double>({4}, 0.0, 1.0) == untouched);
}

// ---- Names: one test per rule ----

TEST_CASE("register_parameter and register_module refuse an empty name") {
  Open m;
  m.register_parameter("w", Tensor<double>{1.0});
  const std::string error =
      test::error_of<std::invalid_argument>([&] { m.register_parameter("", Tensor<double>{2.0}); });
  CHECK(test::contains(error, "Open::register_parameter(\"\")"));
  CHECK(test::contains(error, "must not be empty"));
  CHECK(test::contains(test::error_of<std::invalid_argument>([&] { m.register_module("", nn::linear<double>(1, 1)); }),
                       "Open::register_module(\"\"): a name must not be empty"));
  CHECK(names_of(m) == std::vector<std::string>{"w"});
}

TEST_CASE("register_parameter and register_module refuse a dotted name") {
  Open m;
  const std::string error =
      test::error_of<std::invalid_argument>([&] { m.register_parameter("a.b", Tensor<double>{2.0}); });
  CHECK(test::contains(error, "Open::register_parameter(\"a.b\")"));
  CHECK(test::contains(error, "must not contain '.'"));
  CHECK(test::contains(
      test::error_of<std::invalid_argument>([&] { m.register_module("fc.1", nn::linear<double>(1, 1)); }),
      "Open::register_module(\"fc.1\")"));
  CHECK_THROWS_AS(m.register_parameter(".", Tensor<double>{2.0}), std::invalid_argument);
  CHECK(names_of(m).empty());
}

TEST_CASE("register_parameter and register_module refuse a name the module already has, and keep the original") {
  Open m;
  const ag::Variable<double> w = m.register_parameter("w", Tensor<double>{1.0});
  const auto fc = m.register_module("fc", nn::linear<double>(2, 3, {.init = nn::Init::zeros}));

  std::string error = test::error_of<std::invalid_argument>([&] { m.register_parameter("w", Tensor<double>{2.0}); });
  CHECK(test::contains(error, "Open::register_parameter(\"w\"): this module already has a parameter of that name"));
  error = test::error_of<std::invalid_argument>([&] { m.register_module("fc", nn::linear<double>(5, 5)); });
  CHECK(test::contains(error, "Open::register_module(\"fc\"): this module already has a sub-module of that name"));
  // One namespace for both kinds, as attributes in PyTorch.
  CHECK_THROWS_AS(m.register_module("w", nn::linear<double>(1, 1)), std::invalid_argument);
  CHECK_THROWS_AS(m.register_parameter("fc", Tensor<double>{3.0}), std::invalid_argument);

  // The originals stay, unchanged.
  CHECK(names_of(m) == std::vector<std::string>{"w", "fc.weight", "fc.bias"});
  const auto params = m.named_parameters();
  CHECK(params[0].second.item() == 1.0);
  CHECK(params[1].second.shape() == ag::Shape{2, 3});
  // The layer's own names are checked too: Linear's "weight" and "bias" are distinct.
  CHECK(names_of(*fc) == std::vector<std::string>{"weight", "bias"});
  CHECK(w.item() == 1.0);
}

TEST_CASE("register_module refuses a null sub-module") {
  Open m;
  const std::string error =
      test::error_of<std::invalid_argument>([&] { m.register_module("fc", std::shared_ptr<nn::Linear<double>>()); });
  CHECK(test::contains(error, "Open::register_module(\"fc\"): the sub-module is null"));
  CHECK(names_of(m).empty());
  CHECK_NOTHROW(m.register_module("fc", nn::linear<double>(1, 1)));  // the name was not taken by the failure
}

// ---- Reductions ----

namespace {

using V = ag::Variable<double>;

// `none` gives `per_element` (shape and values), `sum` its sum, `mean` (and the default) its sum
// divided by `count`.
template <class Loss>
void check_reductions(Loss loss, const Tensor<double>& per_element, double count) {
  const V none = loss(nn::Reduction::none);
  CHECK(none.shape() == ag::to_shape(per_element.shape()));
  CHECK(xt::allclose(none.value(), per_element, 1e-12, 1e-12));
  const double total = xt::sum(per_element)();
  CHECK(loss(nn::Reduction::sum).shape().empty());
  CHECK(loss(nn::Reduction::sum).item() == doctest::Approx(total).epsilon(1e-12));
  CHECK(loss(nn::Reduction::mean).shape().empty());
  CHECK(loss(nn::Reduction::mean).item() == doctest::Approx(total / count).epsilon(1e-12));
}

}  // namespace

TEST_CASE("mse: none is (p - t)^2 in the prediction's shape, sum their sum, mean their mean (the default)") {
  const Tensor<double> p = test::uniform({2, 3}), t = test::uniform({2, 3});
  const Tensor<double> closed = (p - t) * (p - t);
  check_reductions([&](nn::Reduction r) { return nn::mse(V(p), V(t), r); }, closed, 6);
  CHECK(nn::mse(V(p), V(t)).item() == doctest::Approx(xt::sum(closed)() / 6).epsilon(1e-12));
  for (const auto r : {nn::Reduction::none, nn::Reduction::sum, nn::Reduction::mean}) {
    CHECK_GRADIENTS(([t, r](const test::Vars& v) { return nn::mse(v[0], V(t), r); }), p);
  }
}

TEST_CASE("binary_cross_entropy: each reduction against the closed form, with gradients") {
  const Tensor<double> p = test::uniform({2, 3}, 0.1, 0.9), t{{0.0, 1.0, 1.0}, {1.0, 0.0, 0.3}};
  const Tensor<double> closed = -(t * xt::log(p) + (1.0 - t) * xt::log(1.0 - p));
  check_reductions([&](nn::Reduction r) { return nn::binary_cross_entropy(V(p), V(t), r); }, closed, 6);
  CHECK(nn::binary_cross_entropy(V(p), V(t)).item() == doctest::Approx(xt::sum(closed)() / 6).epsilon(1e-12));
  // The clamp still applies under every reduction: a confident 0 gives -log(eps), not inf.
  const V zero(Tensor<double>{0.0}), one(Tensor<double>{1.0});
  CHECK(nn::binary_cross_entropy(zero, one, nn::Reduction::none, 1e-7).item() ==
        doctest::Approx(-std::log(1e-7)).epsilon(1e-9));
  for (const auto r : {nn::Reduction::none, nn::Reduction::sum, nn::Reduction::mean}) {
    CHECK_GRADIENTS(([t, r](const test::Vars& v) { return nn::binary_cross_entropy(v[0], V(t), r); }), p);
  }
}

TEST_CASE("binary_cross_entropy_with_logits: each reduction against the closed form, with gradients") {
  const Tensor<double> z = test::uniform({4}), t{0.0, 1.0, 1.0, 0.25};
  const Tensor<double> a = 1.0 / (1.0 + xt::exp(-z));
  const Tensor<double> closed = -(t * xt::log(a) + (1.0 - t) * xt::log(1.0 - a));
  check_reductions([&](nn::Reduction r) { return nn::binary_cross_entropy_with_logits(V(z), V(t), r); }, closed, 4);
  CHECK(nn::binary_cross_entropy_with_logits(V(z), V(t)).item() ==
        doctest::Approx(xt::sum(closed)() / 4).epsilon(1e-12));
  // Stable per element too.
  const V big = nn::binary_cross_entropy_with_logits(V(Tensor<double>{1000.0, -1000.0}), V(Tensor<double>{0.0, 1.0}),
                                                     nn::Reduction::none);
  CHECK(xt::allclose(big.value(), Tensor<double>{1000.0, 1000.0}));
  for (const auto r : {nn::Reduction::none, nn::Reduction::sum, nn::Reduction::mean}) {
    CHECK_GRADIENTS(([t, r](const test::Vars& v) { return nn::binary_cross_entropy_with_logits(v[0], V(t), r); }), z);
  }
}

TEST_CASE("softmax_cross_entropy: none is one loss per example [N], sum their sum, mean their mean over N") {
  const Tensor<double> logits = test::uniform({3, 4});
  const std::vector<std::size_t> labels{2, 0, 3};
  Tensor<double> closed = Tensor<double>::from_shape({3});
  for (std::size_t i = 0; i < 3; ++i) {
    double norm = 0;
    for (std::size_t k = 0; k < 4; ++k) norm += std::exp(logits(i, k));
    closed(i) = std::log(norm) - logits(i, labels[i]);
  }
  // The mean is over the 3 examples, not the 12 logits (PyTorch's CrossEntropyLoss).
  check_reductions([&](nn::Reduction r) { return nn::softmax_cross_entropy(V(logits), labels, r); }, closed, 3);
  CHECK(nn::softmax_cross_entropy(V(logits), labels).item() == doctest::Approx(xt::sum(closed)() / 3).epsilon(1e-12));
  for (const auto r : {nn::Reduction::none, nn::Reduction::sum, nn::Reduction::mean}) {
    CHECK_GRADIENTS(([labels, r](const test::Vars& v) { return nn::softmax_cross_entropy(v[0], labels, r); }), logits);
  }
}

TEST_CASE("perceptron_loss: none is (step(z) - y) z per element, sum the perceptron rule's loss, mean its mean") {
  const Tensor<double> z = test::away_from_zero({4, 1});
  Tensor<double> y{0.0, 1.0, 1.0, 0.0};
  y.reshape({4, 1});
  const Tensor<double> closed = (xt::cast<double>(z >= 0.0) - y) * z;
  check_reductions([&](nn::Reduction r) { return nn::perceptron_loss(V(z), V(y), r); }, closed, 4);
  CHECK(nn::perceptron_loss(V(z), V(y)).item() == doctest::Approx(xt::sum(closed)() / 4).epsilon(1e-12));
  for (const auto r : {nn::Reduction::none, nn::Reduction::sum, nn::Reduction::mean}) {
    CHECK_GRADIENTS(([y, r](const test::Vars& v) { return nn::perceptron_loss(v[0], V(y), r); }), z);
  }
}

TEST_CASE("a reduction that is none of the three is refused") {
  const auto bad = static_cast<nn::Reduction>(42);
  const V p(Tensor<double>{0.5}), t(Tensor<double>{1.0});
  CHECK(
      test::contains(test::error_of<std::invalid_argument>([&] { nn::mse(p, t, bad); }), "mse: unknown reduction 42"));
  CHECK_THROWS_AS(nn::softmax_cross_entropy(V(Tensor<double>{{1.0, 2.0}}), {0}, bad), std::invalid_argument);
}
