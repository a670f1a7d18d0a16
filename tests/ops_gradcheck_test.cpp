// Every differentiable op against finite differences, in double: first order, and second order
// for the ops that are twice differentiable. Broadcast shapes and axis reductions included.
#include <cmath>
#include <utility>
#include <xtensor/xview.hpp>

#include "test_util.hpp"

using ag::Shape;
using ag::Tensor;
using test::uniform;
using test::Vars;

TEST_CASE("arithmetic, same shapes and broadcast shapes") {
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{2, 3}, {2, 3}}, {{2, 3}, {3}}, {{2, 1}, {1, 3}}, {{}, {2, 2}}, {{4, 1, 3}, {2, 1}}};
  for (const auto& [sa, sb] : shapes) {
    CAPTURE(ag::shape_str(sa));
    CAPTURE(ag::shape_str(sb));
    CHECK_GRADIENTS([](const Vars& v) { return v[0] + v[1]; }, uniform(sa), uniform(sb));
    CHECK_GRADIENTS([](const Vars& v) { return v[0] - v[1]; }, uniform(sa), uniform(sb));
    CHECK_GRADIENTS([](const Vars& v) { return v[0] * v[1]; }, uniform(sa), uniform(sb));
    CHECK_GRADIENTS([](const Vars& v) { return v[0] / v[1]; }, uniform(sa), uniform(sb, 0.5, 2.0));
    CHECK_GRADIENTS([](const Vars& v) { return ag::pow(v[0], v[1]); }, uniform(sa, 0.5, 2.0), uniform(sb));
  }
  CHECK_GRADIENTS([](const Vars& v) { return -v[0]; }, uniform({3, 2}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::pow(v[0], 3.0); }, uniform({3, 2}));
  CHECK_GRADIENTS([](const Vars& v) { return 2.0 - v[0] * 3.0 + 1.0 / v[0]; }, uniform({4}, 0.5, 2.0));
}

TEST_CASE("elementwise functions") {
  const Shape s{3, 4};
  CHECK_GRADIENTS([](const Vars& v) { return ag::exp(v[0]); }, uniform(s));
  CHECK_GRADIENTS([](const Vars& v) { return ag::log(v[0]); }, uniform(s, 0.2, 3.0));
  CHECK_GRADIENTS([](const Vars& v) { return ag::sqrt(v[0]); }, uniform(s, 0.2, 3.0));
  CHECK_GRADIENTS([](const Vars& v) { return ag::abs(v[0]); }, test::away_from_zero(s));
  CHECK_GRADIENTS([](const Vars& v) { return ag::tanh(v[0]); }, uniform(s));
  CHECK_GRADIENTS([](const Vars& v) { return ag::sigmoid(v[0]); }, uniform(s, -6.0, 6.0));
  CHECK_GRADIENTS([](const Vars& v) { return ag::relu(v[0]); }, test::away_from_zero(s));
  CHECK_GRADIENTS([](const Vars& v) { return ag::softplus(v[0]); }, uniform(s, -6.0, 6.0));
  CHECK_GRADIENTS([](const Vars& v) { return ag::log_sigmoid(v[0]); }, uniform(s, -6.0, 6.0));
  CHECK_GRADIENTS([](const Vars& v) { return ag::step(v[0]); }, test::away_from_zero(s));
  CHECK_GRADIENTS([](const Vars& v) { return ag::logistic_loss(v[0], v[1]); }, uniform(s, -6.0, 6.0), uniform(s, 0.0, 1.0));
  CHECK_GRADIENTS([](const Vars& v) { return ag::logistic_loss(v[0], v[1]); }, uniform({3, 4}), uniform({4}, 0.0, 1.0));
  // Values drawn away from the clamp bounds, where the mask does not change under the finite difference.
  ag::Tensor<double> c = test::away_from_zero(s, 0.1, 0.9);
  c = xt::where(xt::abs(c) < 0.45 || xt::abs(c) > 0.55, c, 0.3);
  CHECK_GRADIENTS([](const Vars& v) { return ag::clamp(v[0], -0.5, 0.5); }, c);
}

TEST_CASE("where, with a broadcast condition") {
  ag::Tensor<double> cond = {1.0, 0.0, 1.0};
  CHECK_GRADIENTS([cond](const Vars& v) { return ag::where(ag::Variable<double>(cond), v[0], v[1]); },
                  uniform({2, 3}), uniform({2, 1}));
}

TEST_CASE("matmul: plain, transposed, batched, broadcast batches, vectors") {
  CHECK_GRADIENTS([](const Vars& v) { return ag::matmul(v[0], v[1]); }, uniform({3, 4}), uniform({4, 2}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::matmul(v[0], v[1], true, false); }, uniform({4, 3}), uniform({4, 2}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::matmul(v[0], v[1], false, true); }, uniform({3, 4}), uniform({2, 4}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::matmul(v[0], v[1], true, true); }, uniform({4, 3}), uniform({2, 4}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::matmul(v[0], v[1]); }, uniform({2, 3, 4}), uniform({2, 4, 2}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::matmul(v[0], v[1]); }, uniform({2, 3, 4}), uniform({4, 2}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::matmul(v[0], v[1], false, true); }, uniform({1, 3, 4}),
                  uniform({2, 1, 5, 4}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::matmul(v[0], v[1]); }, uniform({4}), uniform({4, 3}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::matmul(v[0], v[1]); }, uniform({3, 4}), uniform({4}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::matmul(v[0], v[1]); }, uniform({4}), uniform({4}));
}

TEST_CASE("shape ops") {
  CHECK_GRADIENTS([](const Vars& v) { return ag::reshape(v[0], {3, -1}); }, uniform({2, 3, 2}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::flatten(v[0]); }, uniform({2, 3}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::transpose(v[0]); }, uniform({2, 3}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::transpose(v[0], {2, 0, 1}); }, uniform({2, 3, 4}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::broadcast_to(v[0], {2, 3, 4}); }, uniform({3, 1}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::sum_to(v[0], {3, 1}); }, uniform({2, 3, 4}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::slice(v[0], 1, 1, 5, 2); }, uniform({2, 6}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::slice(v[0], -1, -3, 100); }, uniform({2, 6}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::unslice(v[0], {5, 2}, 0, 1, 5, 2); }, uniform({2, 2}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::gather_rows(v[0], {2, 0, 2, 3}); }, uniform({4, 3}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::scatter_add_rows(v[0], {1, 1, 0}, 3); }, uniform({3, 2}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::concat({v[0], v[1], v[0]}, 1); }, uniform({2, 3}), uniform({2, 1}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::stack({v[0], v[1]}, 1); }, uniform({2, 3}), uniform({2, 3}));
}

TEST_CASE("reductions over all axes, given axes, with and without keepdims, rank 1 included") {
  CHECK_GRADIENTS([](const Vars& v) { return ag::sum(v[0]); }, uniform({5}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::sum(v[0]); }, uniform({2, 3}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::sum(v[0], {0}); }, uniform({2, 3}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::sum(v[0], {-1}, true); }, uniform({2, 3, 2}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::sum(v[0], {0, 2}); }, uniform({2, 3, 2}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::mean(v[0], {1}); }, uniform({2, 3}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::mean(v[0]); }, uniform({4}));
  // Continuous random values have no ties, so max is differentiable there.
  CHECK_GRADIENTS([](const Vars& v) { return ag::max(v[0]); }, uniform({5}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::max(v[0], {1}); }, uniform({3, 4}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::max(v[0], {0, 2}, true); }, uniform({2, 3, 2}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::min(v[0], {0}); }, uniform({3, 4}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::logsumexp(v[0]); }, uniform({5}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::logsumexp(v[0], {1}); }, uniform({3, 4}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::logsumexp(v[0], {0}, true); }, uniform({3, 4}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::softmax(v[0]); }, uniform({2, 4}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::softmax(v[0], 0); }, uniform({3, 2}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::log_softmax(v[0]); }, uniform({2, 4}));
}

TEST_CASE("max: ties share the gradient equally") {
  const ag::Variable<double> a(Tensor<double>{{1.0, 3.0, 3.0}, {2.0, 2.0, 2.0}}, true);
  ag::backward(ag::sum(ag::max(a, {1}) * ag::Variable<double>(Tensor<double>{1.0, 6.0})));
  CHECK(a.grad().value() == Tensor<double>{{0.0, 0.5, 0.5}, {2.0, 2.0, 2.0}});
  const ag::Variable<double> b(Tensor<double>{4.0, -1.0, 4.0}, true);
  ag::backward(ag::min(-b));  // min is -max(-x): the same sharing
  CHECK(b.grad().value() == Tensor<double>{-0.5, 0.0, -0.5});
}

// The stable forms hold where the naive ones overflow: e^1000 is Inf even in double.
template <class T>
void check_finite_at_extremes() {
  using Var = ag::Variable<T>;
  const T big = 1000;
  const Var x(Tensor<T>{-big, big}, true);
  const auto value_and_grad = [&x](const Var& y) {
    const Var g = ag::grad(ag::sum(y), {x})[0];
    return std::pair{y.value(), g.value()};
  };
  auto [sp, dsp] = value_and_grad(ag::softplus(x));
  CHECK(sp == Tensor<T>{0, big});
  CHECK(dsp == Tensor<T>{0, 1});
  auto [ls, dls] = value_and_grad(ag::log_sigmoid(x));
  CHECK(ls == Tensor<T>{-big, 0});
  CHECK(dls == Tensor<T>{1, 0});
  auto [ll, dll] = value_and_grad(ag::logistic_loss(x, Var(Tensor<T>{1, 0})));
  CHECK(ll == Tensor<T>{big, big});  // confidently wrong both times: loss |z|
  CHECK(dll == Tensor<T>{-1, 1});
  const Var row(Tensor<T>{{-big, -big}, {big, big}}, true);
  const Var lse = ag::logsumexp(row, {1});
  const Var dlse = ag::grad(ag::sum(lse), {row})[0];
  CHECK(lse.value()(0) == doctest::Approx(-1000.0 + std::log(2.0)));
  CHECK(lse.value()(1) == doctest::Approx(1000.0 + std::log(2.0)));
  CHECK(dlse.value() == Tensor<T>{{0.5, 0.5}, {0.5, 0.5}});
}

TEST_CASE("softplus, log_sigmoid, logistic_loss and logsumexp stay finite at +-1000") {
  check_finite_at_extremes<double>();
  check_finite_at_extremes<float>();
}

TEST_CASE("reused nodes and diamonds accumulate every path") {
  // micrograd #64: b = a + a; c = b + b must give dc/da = 4.
  CHECK_GRADIENTS([](const Vars& v) {
    auto b = v[0] + v[0];
    return b + b;
  }, uniform({3}));
  CHECK_GRADIENTS([](const Vars& v) {
    auto top = ag::tanh(v[0]);
    auto left = top * v[1];
    auto right = ag::exp(top);
    return ag::sum(left * right, {0});
  }, uniform({2, 3}), uniform({3}));
  CHECK_GRADIENTS([](const Vars& v) { return ag::sigmoid(ag::matmul(ag::tanh(ag::matmul(v[0], v[1])), v[2])); },
                  uniform({2, 3}), uniform({3, 4}), uniform({4, 1}));
}

TEST_CASE("gradcheck catches a wrong gradient rule") {
  // An op whose rule is off by a factor 2: the check must fail, and say where.
  const auto wrong_square = [](const Vars& v) {
    return ag::record<double>("wrong_square", ag::Tensor<double>(v[0].value() * v[0].value()), {v[0]},
                              [](const ag::BackwardContext<double>& c) { return ag::grads(c.grad * c.in[0]); });
  };
  const auto report = ag::gradcheck(wrong_square, {uniform({3}, 0.5, 2.0)});
  CHECK_FALSE(report.ok);
  CHECK_FALSE(report.inputs[0].ok);
  CHECK(report.inputs[0].max_rel_error > 0.4);
  CHECK(report.summary().find("FAIL") != std::string::npos);
}

TEST_CASE("gradgradcheck catches a rule that is right to first order only") {
  // The rule's value is right, but computed from a detached input: first order passes, the
  // second derivative is lost.
  const auto cube = [](const Vars& v) {
    return ag::record<double>("cube", ag::Tensor<double>(xt::pow(v[0].value(), 3)), {v[0]},
                              [](const ag::BackwardContext<double>& c) {
                                const auto x = c.in[0].detach();
                                return ag::grads(c.grad * x * x * 3.0);
                              });
  };
  const auto input = uniform({3}, 0.5, 2.0);
  CHECK(ag::gradcheck(cube, {input}).ok);
  CHECK_FALSE(ag::gradgradcheck(cube, {input}).ok);
}

TEST_CASE("matmul through BLAS agrees with a plain product, for every transpose and a batch") {
  // Sizes above the small-product loop, so that these go through cblas_{s,d}gemm.
  const std::size_t m = 17, k = 33, n = 21;
  const ag::Tensor<double> a = uniform({m, k}), b = uniform({k, n});
  ag::Tensor<double> expected = ag::full<double>({m, n}, 0.0);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t p = 0; p < k; ++p) expected(i, j) += a(i, p) * b(p, j);
  const ag::Variable<double> A(a), B(b), At(ag::Tensor<double>(xt::transpose(a))), Bt(ag::Tensor<double>(xt::transpose(b)));
  CHECK(xt::allclose(ag::matmul(A, B).value(), expected));
  CHECK(xt::allclose(ag::matmul(At, B, true, false).value(), expected));
  CHECK(xt::allclose(ag::matmul(A, Bt, false, true).value(), expected));
  CHECK(xt::allclose(ag::matmul(At, Bt, true, true).value(), expected));
  ag::Tensor<float> af = xt::cast<float>(a), bf = xt::cast<float>(b);
  const auto product32 = ag::matmul(ag::Variable<float>(af), ag::Variable<float>(bf)).value();
  CHECK(xt::allclose(xt::cast<double>(product32), expected, 1e-4, 1e-4));
  // Batched, with one operand broadcast over the batch.
  ag::Tensor<double> stacked = ag::full<double>({2, m, k}, 0.0);
  xt::view(stacked, 0) = a;
  xt::view(stacked, 1) = 2.0 * a;
  const auto batched = ag::matmul(ag::Variable<double>(stacked), B).value();
  CHECK(xt::allclose(xt::view(batched, 0), expected));
  CHECK(xt::allclose(xt::view(batched, 1), 2.0 * expected));
  CHECK_FIRST_ORDER([](const Vars& v) { return ag::matmul(v[0], v[1], true, true); }, uniform({k, m}), uniform({n, k}));
}
