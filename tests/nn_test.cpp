// nn: modules, initialisation, losses, optimizers, the perceptron rules, dropout.
#include <cmath>
#include <limits>
#include <nn/nn.hpp>

#include "test_util.hpp"

using ag::Tensor;
namespace nn = ag::nn;

namespace {

class TwoLayer : public nn::Module<double> {
 public:
  TwoLayer() {
    fc1 = register_module("fc1", nn::linear<double>(3, 4));
    fc2 = register_module("fc2", nn::linear<double>(4, 2, {.init = nn::Init::he, .bias = false}));
    scale = register_parameter("scale", Tensor<double>{1.0});
  }
  ag::Variable<double> forward(const ag::Variable<double>& x) {
    return fc2->forward(ag::tanh(fc1->forward(x))) * scale;
  }
  std::shared_ptr<nn::Linear<double>> fc1, fc2;
  ag::Variable<double> scale;
};

// x^T v for x [n, k] and v [n, 1], as a plain loop.
Tensor<double> transpose_times(const Tensor<double>& x, const Tensor<double>& v) {
  Tensor<double> out = ag::full<double>({x.shape()[1], 1}, 0.0);
  for (std::size_t i = 0; i < x.shape()[0]; ++i)
    for (std::size_t j = 0; j < x.shape()[1]; ++j) out(j, 0) += x(i, j) * v(i, 0);
  return out;
}

}  // namespace

TEST_CASE("modules list their parameters by name, recursively, with shapes and counts") {
  TwoLayer model;
  const auto named = model.named_parameters();
  REQUIRE(named.size() == 4);
  CHECK(named[0].first == "scale");
  CHECK(named[1].first == "fc1.weight");
  CHECK(named[2].first == "fc1.bias");
  CHECK(named[3].first == "fc2.weight");
  CHECK(named[1].second.shape() == ag::Shape{3, 4});
  CHECK(model.parameter_count() == 1 + 12 + 4 + 8);
  const std::string table = model.summary();
  CHECK(table.find("fc2.weight") != std::string::npos);
  CHECK(table.find("[4, 2]") != std::string::npos);
  CHECK(table.find("25") != std::string::npos);

  model.eval();
  CHECK_FALSE(model.fc1->is_training());
  model.train();
  CHECK(model.fc2->is_training());

  ag::backward(ag::sum(model.forward(ag::Variable<double>(test::uniform({5, 3})))));
  for (const auto& p : model.parameters()) CHECK(p.grad().defined());
  model.zero_grad();
  for (const auto& p : model.parameters()) CHECK_FALSE(p.grad().defined());
}

TEST_CASE("a model's gradients pass gradcheck") {
  // The model itself, through its forward: every parameter's gradient from one backward against
  // central differences of the model's loss, each parameter element nudged in place.
  TwoLayer model;
  const ag::Variable<double> x(test::uniform({5, 3}));
  const auto loss = [&] { return ag::sum(ag::tanh(model.forward(x))); };
  model.zero_grad();
  ag::backward(loss());
  const double eps = 1e-6;
  for (auto& [param_name, p] : model.named_parameters()) {
    const std::string& name = param_name;  // doctest's CAPTURE is a lambda: clang 14 cannot capture a binding
    CAPTURE(name);
    for (std::size_t k = 0; k < p.size(); ++k) {
      const double saved = p.value().data()[k];
      p.mutable_value().data()[k] = saved + eps;
      const double plus = loss().item();
      p.mutable_value().data()[k] = saved - eps;
      const double minus = loss().item();
      p.mutable_value().data()[k] = saved;
      CHECK(p.grad().value().data()[k] == doctest::Approx((plus - minus) / (2 * eps)).epsilon(1e-6));
    }
  }
}

TEST_CASE("initialisation: the course's random low value, Xavier, He, reproducible with a seed") {
  nn::Generator g1(42), g2(42), g3(43);
  ag::Variable<float> a(Tensor<float>::from_shape({200, 100})), b(Tensor<float>::from_shape({200, 100})),
      c(Tensor<float>::from_shape({200, 100}));
  nn::initialize(a, nn::Init::xavier, g1);
  nn::initialize(b, nn::Init::xavier, g2);
  nn::initialize(c, nn::Init::xavier, g3);
  CHECK(a.value() == b.value());  // bit for bit
  CHECK(a.value() != c.value());
  const float bound = std::sqrt(6.0f / 300.0f);
  CHECK(xt::amax(a.value())() <= bound);
  CHECK(xt::amin(a.value())() >= -bound);
  CHECK(xt::amax(a.value())() > 0.9f * bound);

  nn::initialize(a, nn::Init::he, g1);
  const double var = xt::variance(a.value())();
  CHECK(var == doctest::Approx(2.0 / 200.0).epsilon(0.05));
  nn::initialize(a, nn::Init::random_low, g1, 0.05f);
  CHECK(xt::amax(xt::abs(a.value()))() <= 0.05f);
  nn::initialize(a, nn::Init::zeros, g1);
  CHECK(xt::amax(xt::abs(a.value()))() == 0.0f);
}

TEST_CASE("losses against their closed forms, and their gradients") {
  using V = ag::Variable<double>;
  const Tensor<double> p{0.2, 0.9, 0.6}, t{0.0, 1.0, 1.0}, z{-1.5, 2.0, 0.3};
  double bce = 0, bce_logits = 0, mse = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    bce -= t(i) * std::log(p(i)) + (1 - t(i)) * std::log(1 - p(i));
    const double a = 1 / (1 + std::exp(-z(i)));
    bce_logits -= t(i) * std::log(a) + (1 - t(i)) * std::log(1 - a);
    mse += (p(i) - t(i)) * (p(i) - t(i));
  }
  CHECK(nn::binary_cross_entropy(V(p), V(t)).item() == doctest::Approx(bce / 3));
  CHECK(nn::binary_cross_entropy_with_logits(V(z), V(t)).item() == doctest::Approx(bce_logits / 3));
  CHECK(nn::mse(V(p), V(t)).item() == doctest::Approx(mse / 3));
  // Stable where the naive formula overflows.
  CHECK(nn::binary_cross_entropy_with_logits(V(Tensor<double>{1000.0}), V(Tensor<double>{0.0})).item() ==
        doctest::Approx(1000.0));

  const Tensor<double> logits{{1.0, 2.0, 0.5}, {-1.0, 0.0, 3.0}};
  const std::vector<std::size_t> labels{1, 2};
  double ce = 0;
  for (std::size_t i = 0; i < 2; ++i) {
    double norm = 0;
    for (std::size_t k = 0; k < 3; ++k) norm += std::exp(logits(i, k));
    ce -= logits(i, labels[i]) - std::log(norm);
  }
  CHECK(nn::softmax_cross_entropy(V(logits), labels).item() == doctest::Approx(ce / 2));
  CHECK(nn::accuracy(logits, labels) == 1.0);
  CHECK(nn::accuracy(logits, {0, 2}) == 0.5);
  CHECK_THROWS_AS(nn::softmax_cross_entropy(V(logits), {1}), ag::ShapeError);

  const double rho = 0.05;
  const Tensor<double> rho_hat{0.1, 0.02};
  double kl = 0;
  for (double r : rho_hat) kl += rho * std::log(rho / r) + (1 - rho) * std::log((1 - rho) / (1 - r));
  CHECK(nn::kl_bernoulli(rho, V(rho_hat)).item() == doctest::Approx(kl));
  CHECK(nn::kl_bernoulli(rho, V(Tensor<double>{rho})).item() == doctest::Approx(0.0));
  CHECK(nn::l1_penalty<double>({V(Tensor<double>{1.0, -2.0}), V(Tensor<double>{-3.0})}).item() == 6.0);
  CHECK(nn::l2_penalty<double>({V(Tensor<double>{1.0, -2.0}), V(Tensor<double>{-3.0})}).item() == 14.0);

  CHECK_GRADIENTS([](const test::Vars& v) { return nn::kl_bernoulli(0.05, ag::sigmoid(v[0])); }, test::uniform({4}));
  CHECK_GRADIENTS([labels](const test::Vars& v) { return nn::softmax_cross_entropy(v[0], labels); },
                  test::uniform({2, 3}));
  CHECK_GRADIENTS([t](const test::Vars& v) { return nn::binary_cross_entropy_with_logits(v[0], V(t)); },
                  test::uniform({3}));
  CHECK_GRADIENTS([t](const test::Vars& v) { return nn::binary_cross_entropy(v[0], V(t)); },
                  test::uniform({3}, 0.1, 0.9));
}

TEST_CASE("the perceptron loss's gradient is the perceptron rule, the cross-entropy's is the logistic rule") {
  using V = ag::Variable<double>;
  const Tensor<double> x{{1.0, 0.0, 1.0}, {0.0, 1.0, 1.0}, {1.0, 1.0, 1.0}};  // last column: the bias input
  Tensor<double> y{0.0, 1.0, 1.0};
  y.reshape({3, 1});
  Tensor<double> w0{0.3, -0.5, 0.1};
  w0.reshape({3, 1});
  V w(w0, true);
  const V z = ag::matmul(V(x), w);
  ag::backward(nn::perceptron_loss(z, V(y), nn::Reduction::sum));
  const Tensor<double> out = xt::cast<double>(z.value() >= 0.0);
  const Tensor<double> rule = transpose_times(x, out - y);  // -(y - step(z)) x, summed
  CHECK(xt::allclose(w.grad().value(), rule));

  w.zero_grad();
  const V z2 = ag::matmul(V(x), w);
  ag::backward(nn::binary_cross_entropy_with_logits(z2, V(y), nn::Reduction::sum));
  const Tensor<double> logistic = transpose_times(x, 1.0 / (1.0 + xt::exp(-z2.value())) - y);
  CHECK(xt::allclose(w.grad().value(), logistic));
}

TEST_CASE("losses refuse a target that would broadcast, and labels that do not match the logits") {
  using V = ag::Variable<double>;
  const V column(ag::full<double>({4, 1}, 0.5)), row(ag::full<double>({4}, 1.0));
  // [4, 1] against [4] would broadcast to a [4, 4] loss: the mean of the wrong 16 terms.
  CHECK_THROWS_AS(nn::mse(column, row), ag::ShapeError);
  CHECK_THROWS_AS(nn::binary_cross_entropy(column, row), ag::ShapeError);
  CHECK_THROWS_AS(nn::binary_cross_entropy_with_logits(column, row), ag::ShapeError);
  CHECK_THROWS_AS(nn::perceptron_loss(column, row), ag::ShapeError);
  CHECK_NOTHROW(nn::mse(column, column));
  CHECK_THROWS_AS(nn::accuracy(Tensor<double>{{1.0, 2.0}}, {0, 1}), ag::ShapeError);  // 1 row, 2 labels
  CHECK_THROWS_AS(nn::accuracy(Tensor<double>{1.0, 2.0}, {0, 1}), ag::ShapeError);    // not [rows, classes]
  CHECK_THROWS_AS(nn::kl_bernoulli(0.0, V(Tensor<double>{0.5})), std::invalid_argument);
  CHECK_THROWS_AS(nn::kl_bernoulli(1.0, V(Tensor<double>{0.5})), std::invalid_argument);
}

TEST_CASE("optimizers refuse bad hyper-parameters, a parameter listed twice, and a parameter reshaped since") {
  const ag::Variable<double> w(Tensor<double>{1.0, 2.0}, true);
  CHECK_THROWS_AS(nn::SGD<double>({w}, {.lr = -0.1}), std::invalid_argument);
  CHECK_THROWS_AS(nn::SGD<double>({w}, {.lr = std::nan("")}), std::invalid_argument);
  CHECK_THROWS_AS(nn::SGD<double>({w}, {.momentum = -0.9}), std::invalid_argument);
  CHECK_THROWS_AS(nn::SGD<double>({w}, {.nesterov = true}), std::invalid_argument);  // Nesterov needs momentum
  CHECK_THROWS_AS(nn::SGD<double>({w}, {.weight_decay = -1}), std::invalid_argument);
  CHECK_THROWS_AS(nn::Adam<double>({w}, {.beta1 = 1.0}), std::invalid_argument);
  CHECK_THROWS_AS(nn::Adam<double>({w}, {.beta2 = -0.5}), std::invalid_argument);
  CHECK_THROWS_AS(nn::Adam<double>({w}, {.eps = -1e-8}), std::invalid_argument);
  CHECK_THROWS_AS(nn::Adam<double>({w}, {.lr = std::numeric_limits<double>::infinity()}), std::invalid_argument);
  CHECK_THROWS_AS(nn::Adam<double>({w, w}, {}), std::invalid_argument);
  CHECK_THROWS_AS(nn::SGD<double>({w, ag::Variable<double>()}, {}), std::invalid_argument);
  CHECK_NOTHROW(nn::SGD<double>({w}, {.lr = 0.1, .momentum = 0.9, .nesterov = true}));

  ag::Variable<double> v(Tensor<double>{1.0, 2.0}, true);
  nn::Adam<double> adam({v}, {});
  nn::SGD<double> sgd({v}, {.lr = 0.1, .momentum = 0.9});
  v.mutable_value() = Tensor<double>{{1.0, 2.0}, {3.0, 4.0}};  // reshaped after the optimizers were built
  ag::backward(ag::sum(v * v));
  CHECK_THROWS_AS(adam.step(), ag::ShapeError);
  CHECK_THROWS_AS(sgd.step(), ag::ShapeError);
}

namespace {
// Leaves w's gradient equal to w (of sum(w^2) / 2), for the optimizer tests below.
void grad_of(ag::Variable<double>& w) {
  w.zero_grad();
  ag::backward(ag::sum(w * w * 0.5));
}
}  // namespace

TEST_CASE(
    "optimizers expose their real state: writing through state_tensors and set_step_count changes the next step") {
  using V = ag::Variable<double>;
  {
    V w(Tensor<double>{1.0}, true);
    nn::SGD<double> sgd({w}, {.lr = 0.1, .momentum = 0.9});
    const std::vector<Tensor<double>*> state = sgd.state_tensors();
    REQUIRE(state.size() == 1);
    CHECK(*state[0] == Tensor<double>{0.0});  // there, zero, before the first step
    *state[0] = Tensor<double>{2.0};          // a velocity restored from elsewhere
    grad_of(w);
    sgd.step();  // v = 0.9 * 2 + 1 = 2.8, w = 1 - 0.28
    CHECK(w.item() == doctest::Approx(0.72));
    CHECK((*sgd.state_tensors()[0])(0) == doctest::Approx(2.8));
    CHECK(sgd.step_count() == 0);
    CHECK_NOTHROW(sgd.set_step_count(0));
    CHECK_THROWS_AS(sgd.set_step_count(1), std::invalid_argument);     // SGD counts no steps
    CHECK(nn::SGD<double>({w}, {.lr = 0.1}).state_tensors().empty());  // no momentum, no state
  }
  {
    V w(Tensor<double>{2.0}, true), u(Tensor<double>{1.0, 3.0}, true);
    nn::Adam<double> adam({w, u}, {.lr = 0.01});
    std::vector<Tensor<double>*> state = adam.state_tensors();
    REQUIRE(state.size() == 4);  // first moments of w and u, then their second moments
    CHECK(state[1]->shape() == state[3]->shape());
    grad_of(w);
    adam.step();
    CHECK(adam.step_count() == 1);
    state = adam.state_tensors();
    CHECK((*state[0])(0) == doctest::Approx(0.1 * 2.0));
    CHECK((*state[2])(0) == doctest::Approx(0.001 * 4.0));
    // Back to a fresh state through the accessors: the next step is a first step again, by lr.
    for (Tensor<double>* t : state) t->fill(0.0);
    adam.set_step_count(0);
    const double before = w.item();
    grad_of(w);
    adam.step();
    CHECK(w.item() == doctest::Approx(before - 0.01));
    // Zero moments but a late step count: no bias correction left, so the step is
    // lr * 0.1 g / sqrt(0.001 g^2), about 3.2 lr, not a first step's lr.
    for (Tensor<double>* t : adam.state_tensors()) t->fill(0.0);
    adam.set_step_count(1000000);
    const double late = w.item();
    grad_of(w);
    adam.step();
    CHECK(late - w.item() == doctest::Approx(0.01 * 0.1 / std::sqrt(0.001)).epsilon(1e-6));
    CHECK(adam.step_count() == 1000001);
    CHECK_THROWS_AS(adam.set_step_count(-1), std::invalid_argument);
  }
}

TEST_CASE("SGD with momentum and Nesterov, Adam and weight decay, step by step") {
  using V = ag::Variable<double>;
  {
    V w(Tensor<double>{1.0}, true);
    nn::SGD<double> sgd({w}, {.lr = 0.1, .momentum = 0.9});
    grad_of(w);
    sgd.step();  // v = 1, w = 0.9
    CHECK(w.item() == doctest::Approx(0.9));
    grad_of(w);
    sgd.step();  // v = 0.9 + 0.9 = 1.8, w = 0.9 - 0.18
    CHECK(w.item() == doctest::Approx(0.72));
  }
  {
    V w(Tensor<double>{1.0}, true);
    nn::SGD<double> sgd({w}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.5, .nesterov = true});
    grad_of(w);
    sgd.step();  // g = 1 + 0.5 = 1.5, v = 1.5, step g + 0.9 v = 2.85
    CHECK(w.item() == doctest::Approx(1.0 - 0.285));
  }
  {
    V w(Tensor<double>{2.0}, true);
    nn::Adam<double> adam({w}, {.lr = 0.01});
    grad_of(w);
    adam.step();  // the first step moves by lr, whatever the gradient's scale
    CHECK(w.item() == doctest::Approx(2.0 - 0.01));
    grad_of(w);
    adam.step();
    const double g1 = 2.0, g2 = 1.99;
    const double m = (0.9 * 0.1 * g1 + 0.1 * g2) / (1 - 0.81),
                 s = (0.999 * 0.001 * g1 * g1 + 0.001 * g2 * g2) / (1 - 0.998001);
    CHECK(w.item() == doctest::Approx(1.99 - 0.01 * m / (std::sqrt(s) + 1e-8)));
  }
  {
    V w(Tensor<double>{2.0}, true);
    nn::Adam<double> adamw({w}, {.lr = 0.01, .weight_decay = 0.1, .decoupled = true});
    grad_of(w);
    adamw.step();
    CHECK(w.item() == doctest::Approx(2.0 * (1 - 0.001) - 0.01));
    adamw.zero_grad();
    CHECK_FALSE(w.grad().defined());
  }
}

TEST_CASE("set_lr changes the next step's rate and nothing else, lr reports it, bad rates throw") {
  using V = ag::Variable<double>;
  {
    V w(Tensor<double>{1.0}, true);
    nn::SGD<double> sgd({w}, {.lr = 0.1});
    CHECK(sgd.lr() == 0.1);
    grad_of(w);
    sgd.step();  // w = 1 - 0.1 * 1
    CHECK(w.item() == doctest::Approx(0.9).epsilon(1e-12));
    sgd.set_lr(0.025);
    CHECK(sgd.lr() == 0.025);
    grad_of(w);
    sgd.step();  // w = 0.9 - 0.025 * 0.9 (the old rate would give 0.81)
    CHECK(w.item() == doctest::Approx(0.9 - 0.025 * 0.9).epsilon(1e-12));
  }
  // Adam at a fixed state: two copies take the same first step, then one takes its second at 3
  // times the rate. Both update their moments alike, so its move is exactly 3 times the other's;
  // with AdamW too, whose decay also scales with lr (w (1 - lr d) - lr u moves by lr (d w + u)).
  for (const bool decoupled : {false, true}) {
    CAPTURE(decoupled);
    V a(Tensor<double>{2.0, -0.5}, true), b(Tensor<double>{2.0, -0.5}, true);
    const nn::AdamOptions options{.lr = 0.01, .weight_decay = 0.1, .decoupled = decoupled};
    nn::Adam<double> adam_a({a}, options), adam_b({b}, options);
    grad_of(a);
    grad_of(b);
    adam_a.step();
    adam_b.step();
    REQUIRE(a.value() == b.value());
    adam_b.set_lr(0.03);
    CHECK(adam_b.lr() == 0.03);
    CHECK(adam_a.lr() == 0.01);
    const Tensor<double> start = a.value();
    grad_of(a);
    grad_of(b);
    adam_a.step();
    adam_b.step();
    CHECK(adam_b.step_count() == 2);  // the state goes on: no restart of the bias correction
    for (std::size_t i = 0; i < 2; ++i) {
      const double move_a = a.value()(i) - start(i), move_b = b.value()(i) - start(i);
      CHECK(move_a != 0.0);
      CHECK(move_b == doctest::Approx(3.0 * move_a).epsilon(1e-12));
    }
  }
  {
    const V w(Tensor<double>{1.0}, true);
    nn::SGD<double> sgd({w}, {.lr = 0.1});
    nn::Adam<double> adam({w}, {.lr = 0.01});
    nn::Optimizer<double>& base = adam;  // a schedule can take any optimizer
    base.set_lr(0.002);
    CHECK(adam.lr() == 0.002);
    for (const double bad : {-0.1, -1e-300, std::nan(""), std::numeric_limits<double>::infinity()}) {
      CAPTURE(bad);
      CHECK_THROWS_AS(sgd.set_lr(bad), std::invalid_argument);
      CHECK_THROWS_AS(adam.set_lr(bad), std::invalid_argument);
    }
    CHECK(sgd.lr() == 0.1);  // unchanged by the refused rates
    CHECK(adam.lr() == 0.002);
    CHECK_THROWS_WITH(sgd.set_lr(-0.5), doctest::Contains("SGD::set_lr: lr = -0.5"));
    CHECK_THROWS_WITH(adam.set_lr(-2), doctest::Contains("Adam::set_lr: lr = -2"));
    adam.set_lr(0);  // the end of a schedule that decays to 0, as the constructors allow
    CHECK(adam.lr() == 0);
  }
}

TEST_CASE("dropout: zeroes and rescales in training, the identity in evaluation, reproducibly") {
  nn::Generator g(7);
  nn::Dropout<double> dropout(0.25, g);
  const ag::Variable<double> x(ag::full<double>({1000}, 1.0));
  const auto y = dropout(x).value();
  const double kept = static_cast<double>(xt::sum(xt::cast<double>(y > 0.0))());
  CHECK(kept == doctest::Approx(750).epsilon(0.08));
  CHECK(xt::amax(y)() == doctest::Approx(1 / 0.75));
  dropout.eval();
  CHECK(dropout(x).value() == x.value());
  CHECK_THROWS_AS(nn::Dropout<double>(1.0), std::invalid_argument);
}

TEST_CASE("Sequential chains layers and names them by position") {
  nn::manual_seed(3);
  nn::Sequential<float> net{nn::linear<float>(4, 8), nn::relu<float>(), nn::linear<float>(8, 2)};
  const auto names = net.named_parameters();
  REQUIRE(names.size() == 4);
  CHECK(names[0].first == "0.weight");
  CHECK(names[3].first == "2.bias");
  const auto y = net(ag::Variable<float>(ag::full<float>({3, 4}, 0.5f)));
  CHECK(y.shape() == ag::Shape{3, 2});
  nn::manual_seed(3);
  nn::Sequential<float> same{nn::linear<float>(4, 8), nn::relu<float>(), nn::linear<float>(8, 2)};
  CHECK(same.parameters()[0].value() == net.parameters()[0].value());
}
