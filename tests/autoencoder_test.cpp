// The sparse auto-encoder: the module, the objective's gradients, the course's backpropagated
// error for the hidden layer written out by hand, and what the penalty does to a trained model.
#include <doctest/doctest.h>

#include <cmath>
#include <nn/nn.hpp>
#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xmath.hpp>

#include "test_util.hpp"

namespace nn = ag::nn;
using V = ag::Variable<double>;
using ag::Tensor;

namespace {

// The pass of an untied sigmoid auto-encoder, written from its parameters: x, W, b, W', c.
nn::AutoEncoderPass<double> pass_of(const test::Vars& v) {
  nn::AutoEncoderPass<double> p;
  p.input = v[0];
  p.hidden_input = ag::matmul(v[0], v[1]) + v[2];
  p.hidden = ag::sigmoid(p.hidden_input);
  p.output = ag::sigmoid(ag::matmul(p.hidden, v[3]) + v[4]);
  return p;
}

double max_abs_difference(const Tensor<double>& a, const Tensor<double>& b) {
  REQUIRE(a.shape() == b.shape());
  return xt::amax(xt::abs(a - b))();
}

}  // namespace

TEST_CASE("auto-encoder: parameters by name, encode and decode, tied weights read W transposed") {
  nn::Generator g(3);
  nn::AutoEncoder<double> untied(6, 4, {.generator = &g});
  std::vector<std::string> names;
  for (const auto& [name, p] : untied.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"encoder.weight", "encoder.bias", "decoder.weight", "decoder.bias"});
  CHECK(untied.weights().size() == 2);

  {
    const Tensor<double> x = test::uniform({3, 6}, 0, 1);
    const auto p = untied.pass(V(x));
    const auto params = untied.parameters();  // W, b, W', c
    const Tensor<double> y = 1.0 / (1.0 + xt::exp(-(xt::linalg::dot(x, params[0].value()) + params[1].value())));
    const Tensor<double> h = 1.0 / (1.0 + xt::exp(-(xt::linalg::dot(y, params[2].value()) + params[3].value())));
    CHECK(max_abs_difference(p.input.value(), x) == 0);
    CHECK(max_abs_difference(p.hidden_input.value(), xt::linalg::dot(x, params[0].value()) + params[1].value()) <
          1e-14);
    CHECK(max_abs_difference(p.hidden.value(), y) < 1e-14);
    CHECK(max_abs_difference(p.output.value(), h) < 1e-14);
  }

  nn::AutoEncoder<double> tied(6, 4, {.tied = true, .generator = &g});
  names.clear();
  for (const auto& [name, p] : tied.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"decoder_bias", "encoder.weight", "encoder.bias"});
  REQUIRE(tied.weights().size() == 1);
  CHECK(tied.weights()[0].is(tied.encoder()->weight()));

  const Tensor<double> x = test::uniform({5, 6}, 0, 1);
  tied.parameters()[0].mutable_value() = test::uniform({6});
  const Tensor<double> w = tied.encoder()->weight().value();
  const Tensor<double> b = tied.encoder()->bias().value(), c = tied.parameters()[0].value();
  const Tensor<double> y = 1.0 / (1.0 + xt::exp(-(xt::linalg::dot(x, w) + b)));
  const Tensor<double> h = 1.0 / (1.0 + xt::exp(-(xt::linalg::dot(y, xt::transpose(w)) + c)));
  const auto pass = tied.pass(V(x));
  CHECK(max_abs_difference(pass.hidden.value(), y) < 1e-14);
  CHECK(max_abs_difference(pass.output.value(), h) < 1e-14);
  CHECK(max_abs_difference(tied.forward(V(x)).value(), h) < 1e-14);

  // The tied W gets the gradient of both of its uses: gradcheck through the module itself.
  const auto objective_of_w = [&](const test::Vars& v) {
    nn::AutoEncoderPass<double> p;
    p.input = V(x);
    p.hidden_input = ag::matmul(p.input, v[0]) + V(b);
    p.hidden = ag::sigmoid(p.hidden_input);
    p.output = ag::sigmoid(ag::matmul(p.hidden, v[0], false, true) + V(c));
    return nn::sparse_autoencoder_objective(p, V(x), {v[0]}, {.rho = 0.2, .beta = 0.5, .weight_decay = 0.1}).total;
  };
  CHECK_GRADIENTS(objective_of_w, w);
  // And the module's backward gives W that same gradient, bit for bit.
  const auto j = nn::sparse_autoencoder_objective(tied.pass(V(x)), V(x), tied.weights(),
                                                  {.rho = 0.2, .beta = 0.5, .weight_decay = 0.1});
  ag::backward(j.total);
  const V w_leaf = test::leaf(w);
  const Tensor<double> expected = ag::grad(objective_of_w({w_leaf}), {w_leaf})[0].value();
  CHECK(max_abs_difference(tied.encoder()->weight().grad().value(), expected) == 0);
}

TEST_CASE("sparse auto-encoder objective: gradcheck and gradgradcheck in double, every option") {
  const Tensor<double> x = test::uniform({5, 4}, 0, 1);
  const std::vector<Tensor<double>> params{test::uniform({4, 3}), test::uniform({3}), test::uniform({3, 4}),
                                           test::uniform({4})};
  for (const auto scale : {nn::ErrorScale::summed, nn::ErrorScale::per_example}) {
    CAPTURE(static_cast<int>(scale));
    const auto f = [&](const test::Vars& v) {
      const auto p = pass_of(v);
      return nn::sparse_autoencoder_objective(p, v[0], {v[1], v[3]},
                                              {.rho = 0.1, .beta = 3, .weight_decay = 0.3, .error = scale})
          .total;
    };
    CHECK_GRADIENTS(f, x, params[0], params[1], params[2], params[3]);
  }
}

// The slides ("Backpropagated error") give, for hidden unit i of a sparse auto-encoder,
//
//   Delta_i = g'(in_i) sum_j w_ij Delta_j + beta (-rho / rho_j + (1 - rho) / rho_j)
//
// with the course's Delta = -dJ/d in. The true derivative of the slides' own J (E summed over the
// N examples, rho_i the mean of y_i over them) is, for example n,
//
//   Delta_ni = g'(in_ni) [ sum_j w_ij Delta_nj - (beta / N) (-rho / rho_i + (1 - rho) / (1 - rho_i)) ]
//
// The printed formula has five slips: rho_j, the index of the units above (summed over), for
// rho_i, the unit's own; (1 - rho) / rho_j for (1 - rho) / (1 - rho_i); the penalty's term outside
// g'(in_i), which multiplies it too (rho_i is a mean of g(in_i)); the factor 1 / N of that mean;
// and its sign, which is UFLDL's for delta = +dJ/d in, not the course's Delta = -dJ/d in.
// With E's square not halved, the output layer's Delta is 2 (x - h) g'(in), not (x - h) g'(in).
TEST_CASE("the course's backpropagated error of the hidden layer, by hand, against the engine") {
  const std::size_t n = 6;
  const double rho = 0.1, beta = 3;
  const Tensor<double> x = test::uniform({n, 5}, 0, 1);
  const test::Vars v{V(x), test::leaf(test::uniform({5, 4})), test::leaf(test::uniform({4})),
                     test::leaf(test::uniform({4, 5})), test::leaf(test::uniform({5}))};
  auto pass = pass_of(v);
  pass.hidden_input.retain_grad();
  const auto j =
      nn::sparse_autoencoder_objective(pass, V(x), {}, {.rho = rho, .beta = beta, .error = nn::ErrorScale::summed});
  ag::backward(j.total);
  const Tensor<double> engine_delta = -pass.hidden_input.grad().value();

  const Tensor<double> y = pass.hidden.value(), h = pass.output.value(), w2 = v[3].value();
  const Tensor<double> output_delta = 2.0 * (x - h) * h * (1.0 - h);
  const Tensor<double> rho_j = xt::mean(y, {0});
  const Tensor<double> kl_slope = -rho / rho_j + (1 - rho) / (1 - rho_j);  // d KL(rho || rho_j) / d rho_j
  const Tensor<double> back = xt::linalg::dot(output_delta, xt::transpose(w2));
  const Tensor<double> by_hand = y * (1.0 - y) * (back - beta / static_cast<double>(n) * kl_slope);
  CHECK(max_abs_difference(engine_delta, by_hand) < 1e-13);

  // The formula as printed is not that derivative: it is off by far more than rounding.
  const Tensor<double> as_printed = y * (1.0 - y) * back + beta * (-rho / rho_j + (1 - rho) / rho_j);
  CHECK(max_abs_difference(engine_delta, as_printed) > 0.1);
  // Without the penalty (beta = 0) the course's ordinary rule holds exactly.
  auto plain = pass_of(v);
  plain.hidden_input.retain_grad();
  ag::backward(
      nn::sparse_autoencoder_objective(plain, V(x), {}, {.rho = rho, .beta = 0, .error = nn::ErrorScale::summed})
          .total);
  CHECK(max_abs_difference(-plain.hidden_input.grad().value(), y * (1.0 - y) * back) < 1e-13);

  // The parts: E is the sum of squares (per_example divides it by N), the penalty beta sum KL.
  CHECK(j.error.item() == doctest::Approx(xt::sum(xt::square(h - x))()).epsilon(1e-14));
  const Tensor<double> kl = rho * xt::log(rho / rho_j) + (1 - rho) * xt::log((1 - rho) / (1 - rho_j));
  CHECK(j.sparsity.item() == doctest::Approx(beta * xt::sum(kl)()).epsilon(1e-14));
  CHECK(j.weight_decay.item() == 0);
  const auto per_example =
      nn::sparse_autoencoder_objective(pass, V(x), {v[1], v[3]}, {.rho = rho, .beta = beta, .weight_decay = 0.5});
  CHECK(per_example.error.item() == doctest::Approx(j.error.item() / static_cast<double>(n)).epsilon(1e-14));
  const double squares = xt::sum(xt::square(v[1].value()))() + xt::sum(xt::square(v[3].value()))();
  CHECK(per_example.weight_decay.item() == doctest::Approx(0.25 * squares).epsilon(1e-14));
  CHECK(per_example.total.item() ==
        doctest::Approx(per_example.error.item() + per_example.sparsity.item() + per_example.weight_decay.item()));
}

TEST_CASE("rho_j from a first pass over all the data: its value, and the slides' rule as gradient") {
  nn::Generator g(7);
  nn::AutoEncoder<double> ae(5, 4, {.generator = &g});
  const Tensor<double> data = test::uniform({12, 5}, 0, 1);
  const nn::SparsityOptions o{.rho = 0.1, .beta = 3, .weight_decay = 0.01};
  const Tensor<double> rho_data = nn::mean_activation(ae, data, 5);  // batches of 5, 5 and 2
  {
    ag::NoGrad no_grad;
    CHECK(max_abs_difference(rho_data, xt::mean(ae.encode(V(data)).value(), {0})) < 1e-15);
  }

  // With the whole data set as the batch, both estimates are the same J and the same gradient.
  const auto grads_of = [&](const nn::SparseObjective<double>& j) {
    std::vector<Tensor<double>> out;
    for (const auto& d : ag::grad(j.total, ae.parameters())) out.push_back(d.value());
    return out;
  };
  const auto whole = nn::sparse_autoencoder_objective(ae.pass(V(data)), V(data), ae.weights(), o);
  const auto given = nn::sparse_autoencoder_objective(ae.pass(V(data)), V(data), ae.weights(), o, rho_data);
  CHECK(given.total.item() == doctest::Approx(whole.total.item()).epsilon(1e-15));
  const auto gw = grads_of(whole), gg = grads_of(given);
  for (std::size_t i = 0; i < gw.size(); ++i) CHECK(max_abs_difference(gw[i], gg[i]) < 1e-14);

  // On a batch of 3 rows, the value of rho_hat is the data's (not the batch's), and the gradient
  // at the hidden pre-activations is the slides' rule with that rho_j: the KL's slope at rho_data,
  // spread over the batch's rows as the batch mean's gradient.
  const Tensor<double> batch = xt::view(data, xt::range(0, 3), xt::all());
  auto pass = ae.pass(V(batch));
  pass.hidden_input.retain_grad();
  const auto j = nn::sparse_autoencoder_objective(pass, V(batch), {}, {.rho = 0.1, .beta = 3}, rho_data);
  CHECK(max_abs_difference(j.rho_hat.value(), rho_data) == 0);
  ag::backward(j.total);
  const Tensor<double> y = pass.hidden.value(), h = pass.output.value();
  const Tensor<double> w2 = ae.weights()[1].value();
  const Tensor<double> output_grad = 2.0 / 3.0 * (h - batch) * h * (1.0 - h);  // per_example: E / 3
  const Tensor<double> slope = -0.1 / rho_data + 0.9 / (1 - rho_data);
  const Tensor<double> by_hand = y * (1.0 - y) * (xt::linalg::dot(output_grad, xt::transpose(w2)) + 3.0 / 3.0 * slope);
  CHECK(max_abs_difference(pass.hidden_input.grad().value(), by_hand) < 1e-13);
  // The batch's own mean would give another slope: the test tells the two estimates apart.
  const auto own = nn::sparse_autoencoder_objective(ae.pass(V(batch)), V(batch), {}, {.rho = 0.1, .beta = 3});
  CHECK(std::abs(own.sparsity.item() - j.sparsity.item()) > 1e-3);
}

TEST_CASE("denoising: masking noise in training only, reproducible, the target stays clean") {
  const Tensor<double> x = xt::ones<double>({200, 50});
  nn::Generator g1(11), g2(11);
  nn::AutoEncoder<double> a(50, 8, {.masking = 0.3, .generator = &g1});
  nn::AutoEncoder<double> b(50, 8, {.masking = 0.3, .generator = &g2});
  const Tensor<double> noisy = a.pass(V(x)).input.value();
  const double zeroed = static_cast<double>(xt::sum(xt::equal(noisy, 0.0))()) / 10000.0;
  CHECK(zeroed == doctest::Approx(0.3).epsilon(0.05));  // 3 sigma of 10,000 draws is 0.014
  CHECK(xt::all(xt::equal(noisy, 0.0) || xt::equal(noisy, 1.0)));
  CHECK(max_abs_difference(b.pass(V(x)).input.value(), noisy) == 0);  // same seed, same mask
  a.eval();
  CHECK(max_abs_difference(a.pass(V(x)).input.value(), x) == 0);
  a.train();
  // mean_activation and encode never add noise, in training mode too.
  {
    ag::NoGrad no_grad;
    CHECK(max_abs_difference(nn::mean_activation(a, x), xt::mean(a.encode(V(x)).value(), {0})) == 0);
  }
  // The objective compares the reconstruction of the noisy input with the clean one; the hidden
  // units are those of the noisy input, not of x.
  const auto p = a.pass(V(x));
  const Tensor<double> w = a.encoder()->weight().value(), b0 = a.encoder()->bias().value();
  const Tensor<double> y_noisy = 1.0 / (1.0 + xt::exp(-(xt::linalg::dot(p.input.value(), w) + b0)));
  CHECK(max_abs_difference(p.hidden.value(), y_noisy) < 1e-14);
  CHECK(max_abs_difference(p.hidden.value(), a.encode(V(x)).value()) > 0.01);
  const auto j = nn::sparse_autoencoder_objective(p, V(x), {}, {.beta = 0, .error = nn::ErrorScale::summed});
  CHECK(j.error.item() == doctest::Approx(xt::sum(xt::square(p.output.value() - x))()).epsilon(1e-14));
}

TEST_CASE("auto-encoder and objective refuse bad sizes, options and shapes, naming them") {
  CHECK(test::contains(test::error_of<std::invalid_argument>([] { nn::AutoEncoder<double>(0, 4); }), "0 inputs"));
  CHECK(test::contains(test::error_of<std::invalid_argument>([] { nn::AutoEncoder<double>(4, 2, {.masking = 1}); }),
                       "masking = 1"));
  nn::AutoEncoder<double> ae(4, 3);
  const V x(test::uniform({2, 4}, 0, 1));
  const auto p = ae.pass(x);
  CHECK(test::contains(
      test::error_of<std::invalid_argument>([&] { nn::sparse_autoencoder_objective(p, x, {}, {.rho = 1}); }),
      "rho = 1"));
  CHECK(test::contains(
      test::error_of<std::invalid_argument>([&] { nn::sparse_autoencoder_objective(p, x, {}, {.beta = -1}); }),
      "beta = -1"));
  const std::string shape = test::error_of<ag::ShapeError>([&] {
    nn::sparse_autoencoder_objective(p, V(test::uniform({3, 4})), {}, {});
  });
  CHECK(test::contains(shape, "sparse_autoencoder_objective"));
  CHECK(test::contains(shape, "[2, 4]"));
  CHECK(test::contains(shape, "[3, 4]"));
  CHECK(test::contains(test::error_of<ag::ShapeError>([&] {
                         nn::sparse_autoencoder_objective(p, x, {}, {}, Tensor<double>(xt::zeros<double>({4})));
                       }),
                       "for 3 hidden units"));
  CHECK(test::contains(test::error_of<ag::ShapeError>([&] {
                         nn::mean_activation(ae, test::uniform({2, 5}));
                       }),
                       "mean_activation"));

  // ReLU units: a mean activation above 1 has no KL; refused with beta > 0, no term with beta = 0.
  nn::AutoEncoder<double> relu(4, 3, {.encoder = nn::Activation::relu});
  relu.encoder()->bias().mutable_value() = Tensor<double>{5.0, 0.5, 0.5};
  const V small(test::uniform({2, 4}, 0, 0.1));
  const auto rp = relu.pass(small);
  CHECK(test::contains(
      test::error_of<std::invalid_argument>([&] { nn::sparse_autoencoder_objective(rp, small, {}, {.beta = 1}); }),
      "hidden unit 0 has mean activation"));
  const auto no_penalty = nn::sparse_autoencoder_objective(rp, small, relu.weights(), {.beta = 0, .weight_decay = 1});
  CHECK(std::isfinite(no_penalty.total.item()));
  CHECK(no_penalty.sparsity.item() == 0);
}

// The penalty does what the course says: after training, each hidden unit's mean activation over
// the training set is close to rho; without it (beta = 0) it is not.
TEST_CASE("after training with the penalty, the hidden units' mean activation is close to rho") {
  const auto train = [](double beta) {
    nn::Generator g(5);
    Tensor<float> data = g.uniform<float>({200, 16}, 0.f, 1.f);
    nn::AutoEncoder<float> ae(16, 8, {.generator = &g});
    nn::Adam<float> adam(ae.parameters(), {.lr = 0.02});
    for (int step = 0; step < 300; ++step) {
      const ag::Variable<float> x(data);
      const auto j = nn::sparse_autoencoder_objective(ae.pass(x), x, ae.weights(), {.rho = 0.1, .beta = beta});
      adam.zero_grad();
      ag::backward(j.total);
      adam.step();
    }
    return nn::mean_activation(ae, data);
  };
  const Tensor<float> sparse = train(3), dense = train(0);
  CAPTURE(sparse);
  CHECK(xt::amax(xt::abs(sparse - 0.1f))() < 0.01f);
  CHECK(xt::mean(xt::abs(dense - 0.1f))() > 0.1f);
}
