// Guards and rules that a mutation pass (issue 6) found no other test to notice: each test case
// below fails when the guard or rule it names is removed or changed.
#include <cmath>
#include <cstdint>
#include <limits>
#include <nn/nn.hpp>
#include <string>

#include "test_util.hpp"

using ag::Tensor;
using V = ag::Variable<double>;

// Ops of this file's own, with rules of their own.
const ag::Primitive op_custom("custom", ag::Primitive::Kind::custom);
const ag::Primitive op_bad_rule("bad_rule", ag::Primitive::Kind::custom);
const ag::Primitive op_a_times_d("a_times_d", ag::Primitive::Kind::custom);
const ag::Primitive op_flip("flip", ag::Primitive::Kind::custom);
using test::contains;
using test::error_of;
using test::leaf;
using test::Vars;

// backward.cpp, replay: a node that no gradient reached (all paths through step, whose rule
// returns none) is skipped, neither handed to its rule nor added to a leaf's .grad().
TEST_CASE("nodes that no gradient reaches are skipped by the replay") {
  V x = leaf({1.0, -2.0});
  ag::backward(ag::sum(x * 3.0));
  REQUIRE(x.grad().defined());
  CHECK_NOTHROW(ag::backward(ag::sum(ag::step(x * 2.0))));
  CHECK(x.grad().value() == Tensor<double>{3.0, 3.0});
  V fresh = leaf({0.5});
  CHECK_NOTHROW(ag::backward(ag::sum(ag::step(fresh))));
  CHECK_FALSE(fresh.grad().defined());
}

// backward.cpp, seed_for: a seed must have the output's shape exactly, even one that the engine
// could sum down to it (a [2, 2] seed for a [2] output would silently add its rows).
TEST_CASE("a seed that only broadcasts to the output's shape is refused") {
  V x = leaf({1.0, 2.0});
  V y = x * 2.0;
  CHECK_THROWS_AS(ag::backward(y, V(Tensor<double>{{1.0, 1.0}, {1.0, 1.0}})), ag::ShapeError);
  CHECK_THROWS_AS(ag::backward(y, V(Tensor<double>{{1.0, 1.0}})), ag::ShapeError);
  CHECK_FALSE(x.grad().defined());
  CHECK_THROWS_AS(ag::grad(y, {x}, V(Tensor<double>{{1.0, 1.0}})), ag::ShapeError);
}

// backward.cpp, replay: the ops a rule runs are not checked as forwards in anomaly mode (an
// Inf inside a rule whose gradient comes out finite is no anomaly); only the gradient is checked.
TEST_CASE("anomaly mode checks a rule's result, not the ops inside the rule") {
  V x = leaf({1.0, 2.0});
  // A custom op y = x whose rule computes g * (1 / exp(1000)): exp overflows, the gradient is 0.
  V y = ag::record<double>(op_custom, Tensor<double>(x.value()), {x}, [](const ag::BackwardContext<double>& c) {
    const V big = ag::exp(V(Tensor<double>{1000.0}));
    return ag::grads(c.grad / big);
  });
  ag::DetectAnomaly detect;
  CHECK(error_of([&] { ag::backward(ag::sum(y)); }) == "(no exception)");
  CHECK(x.grad().value() == Tensor<double>{0.0, 0.0});
}

// backward.cpp, replay: a rule returning a gradient of a shape that does not sum to its input's
// is reported as that rule's fault, naming the op.
TEST_CASE("a rule returning a gradient of the wrong shape is named") {
  V x = leaf({1.0, 2.0});
  V y = ag::record<double>(op_bad_rule, Tensor<double>(x.value()), {x}, [](const ag::BackwardContext<double>&) {
    return ag::grads(V(Tensor<double>{1.0, 2.0, 3.0}));
  });
  const std::string message = error_of([&] { ag::backward(ag::sum(y)); });
  CHECK(contains(message, "rule of 'bad_rule'"));
}

// variable.cpp, ~Node: the outermost destructor frees a chain from a work list; nested ones only
// hand it their inputs. A long chain that no backward released must not recurse once per node.
TEST_CASE("a long chain freed without a backward does not recurse per node") {
  const long before = ag::live_nodes();
  {
    V x = leaf({1.0});
    V y = x;
    for (int i = 0; i < 300000; ++i) y = y + 1.0;
    CHECK(y.item() == doctest::Approx(300001.0));
  }
  CHECK(ag::live_nodes() == before);
}

// variable.cpp, item(): only a single-element variable has an item.
TEST_CASE("item refuses a variable of more than one element") {
  CHECK_THROWS_AS(V(Tensor<double>{1.0, 2.0}).item(), ag::ShapeError);
  CHECK(V(ag::full<double>({1, 1}, 4.0)).item() == 4.0);
}

// elementwise.cpp, relu and abs read their input (reads::input(0)): a change of sign in place
// after the op would flip the mask, so backward refuses.
TEST_CASE("relu and abs refuse a backward after their input changed in place") {
  for (const bool use_abs : {false, true}) {
    CAPTURE(use_abs);
    V x = leaf({-1.0, 2.0});
    V y = ag::sum(use_abs ? ag::abs(x) : ag::relu(x));
    x.mutable_value() = Tensor<double>{1.0, -2.0};
    CHECK_THROWS_AS(ag::backward(y), ag::BackwardError);
  }
}

// elementwise.cpp, clamp: lo > hi is refused.
TEST_CASE("clamp refuses lo greater than hi") {
  CHECK_THROWS_AS(ag::clamp(leaf({1.0}), 2.0, 1.0), std::invalid_argument);
  CHECK_NOTHROW(ag::clamp(leaf({1.0}), 1.0, 1.0));
}

// common.hpp, within: clamp's gradient is 1 on [lo, hi], both ends included, and 0 outside.
TEST_CASE("clamp passes the gradient at both bounds") {
  V x = leaf({-1.0, 0.0, 0.5, 1.0, 2.0});
  ag::backward(ag::sum(ag::clamp(x, 0.0, 1.0)));
  CHECK(x.grad().value() == Tensor<double>{0.0, 1.0, 1.0, 1.0, 0.0});
}

// common.hpp, positive: relu's gradient at 0 is 0, on the fused path and on the recorded path
// (create_graph) alike.
TEST_CASE("relu's gradient at 0 is 0, with and without create_graph") {
  V x = leaf({-1.0, 0.0, 2.0});
  const Tensor<double> expected{0.0, 0.0, 1.0};
  CHECK(ag::grad(ag::sum(ag::relu(x)), {x})[0].value() == expected);
  CHECK(ag::grad(ag::sum(ag::relu(x)), {x}, {}, {.create_graph = true})[0].value() == expected);
}

// compare.cpp, where reads its condition (reads::input(0)), even one that requires no gradient:
// a condition changed in place after the op would route the gradient to the wrong side.
TEST_CASE("where refuses a backward after its condition changed in place") {
  V a = leaf({1.0, 2.0}), b = leaf({3.0, 4.0});
  V condition(Tensor<double>{1.0, 0.0});
  V y = ag::sum(ag::where(condition, a, b));
  condition.mutable_value() = Tensor<double>{0.0, 1.0};
  CHECK_THROWS_AS(ag::backward(y), ag::BackwardError);
}

// compare.cpp, ge: equal elements compare as 1 (ge is not gt).
TEST_CASE("ge and le hold for equal elements") {
  const V x(Tensor<double>{1.0, 2.0});
  CHECK(ag::ge(x, x).value() == Tensor<double>{1.0, 1.0});
  CHECK(ag::le(x, x).value() == Tensor<double>{1.0, 1.0});
}

// matmul.cpp: a 1-D operand cannot be transposed; a 1-D left operand's dimension is dropped
// from the result, as in numpy.
TEST_CASE("matmul with a vector on the left drops its dimension, and a vector is not transposed") {
  V v = leaf({1.0, 2.0});
  V m = leaf(Tensor<double>{{1.0, 0.0, 2.0}, {0.0, 1.0, 3.0}});
  const V y = ag::matmul(v, m);
  CHECK(y.shape() == ag::Shape{3});
  CHECK(y.value() == Tensor<double>{1.0, 2.0, 8.0});
  CHECK_THROWS_AS(ag::matmul(v, m, true, false), ag::ShapeError);
  CHECK_THROWS_AS(ag::matmul(m, leaf({1.0, 2.0, 3.0}), false, true), ag::ShapeError);
  // Of length 1, a transposed vector would even fit: it is refused all the same.
  CHECK_THROWS_AS(ag::matmul(leaf({2.0}), leaf(Tensor<double>{{1.0, 2.0, 3.0}}), true, false), ag::ShapeError);
}

// matmul.cpp: a dimension BLAS cannot index (past INT_MAX) is refused, even in an empty product.
// (Where size_t has 32 bits, the WebAssembly build, such a shape is refused before it is made.)
#if SIZE_MAX > 0xFFFFFFFFu
TEST_CASE("matmul refuses an inner dimension past INT_MAX") {
  const std::size_t huge = std::size_t{1} << 31;
  const V a(ag::full<double>({0, huge}, 0.0)), b(ag::full<double>({huge, 0}, 0.0));
  CHECK_THROWS_AS(ag::matmul(a, b), ag::ShapeError);
}
#endif

// reduce.cpp, max: an empty axis has no maximum; a NaN is the maximum of any slice holding it.
TEST_CASE("max refuses an empty axis and propagates NaN") {
  CHECK_THROWS_AS(ag::max(V(ag::full<double>({0}, 0.0))), ag::ShapeError);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(std::isnan(ag::max(V(Tensor<double>{1.0, nan, 2.0})).item()));
  CHECK(std::isnan(ag::max(V(Tensor<double>{nan, 1.0})).item()));
}

// shape.cpp: reshape cannot infer a -1 next to a 0 (any size would do); broadcast_to refuses a
// shape its operand does not broadcast to, with a ShapeError.
TEST_CASE("reshape refuses an ambiguous -1, broadcast_to an impossible shape") {
  const V empty(ag::full<double>({0, 3}, 0.0));
  CHECK_THROWS_AS(ag::reshape(empty, {-1, 0}), ag::ShapeError);
  CHECK_THROWS_AS(ag::broadcast_to(leaf({1.0, 2.0, 3.0}), {2}), ag::ShapeError);
  CHECK_THROWS_AS(ag::broadcast_to(leaf({1.0, 2.0, 3.0}), {2, 2}), ag::ShapeError);
}

// gradcheck.cpp: a NaN gradient on either side fails the check, and the report shows where.
TEST_CASE("gradcheck fails on a NaN gradient and names its element") {
  const auto nan_rule = [](const Vars& v) {
    // d/dx sqrt(x) at x = 0 is Inf analytically; 0 * that is NaN. The numeric side is finite.
    return ag::sum(ag::sqrt(v[0] * v[0]) * 0.0 + v[0]);
  };
  const auto report = ag::gradcheck(nan_rule, {Tensor<double>{1.0, 0.0, 2.0}});
  CHECK_FALSE(report.ok);
  CHECK(report.inputs[0].worst_input_element == 1);
  CHECK(std::isnan(report.inputs[0].analytic));
}

// optim.cpp: Adam's coupled weight decay adds weight_decay * w to the gradient (PyTorch's Adam);
// a parameter without a gradient is left alone.
TEST_CASE("Adam with coupled weight decay, and a parameter no backward reached") {
  V w(Tensor<double>{2.0}, true), idle(Tensor<double>{5.0}, true);
  ag::nn::Adam<double> adam({w, idle}, {.lr = 0.1, .weight_decay = 0.5});
  ag::backward(w * 0.0);  // zero loss gradient: only the decay moves w
  adam.step();
  // g = 0 + 0.5 * 2 = 1; m / (1 - b1) = 1, s / (1 - b2) = 1: w <- 2 - 0.1 * 1 / (1 + 1e-8).
  CHECK(w.item() == doctest::Approx(2.0 - 0.1 / (1.0 + 1e-8)).epsilon(1e-12));
  CHECK(idle.item() == 5.0);
}

// losses.cpp: one_hot refuses a label past the classes (it would write past the row).
TEST_CASE("one_hot refuses a label that is not a class") {
  CHECK_THROWS_AS(ag::nn::one_hot<double>({0, 3}, 3), std::out_of_range);
  CHECK(ag::nn::one_hot<double>({2}, 3) == Tensor<double>{{0.0, 0.0, 1.0}});
}

// tensor.cpp, normalize_axes: repeated axes count once (mean over {0, 0} divides by the axis
// length, not its square); an axis below -rank is out of range.
TEST_CASE("repeated axes count once, and axes below -rank are refused") {
  const V x(Tensor<double>{{1.0, 2.0}, {3.0, 4.0}});
  CHECK(ag::mean(x, {0, 0}).value() == Tensor<double>{2.0, 3.0});
  CHECK(ag::sum(x, {-1, 1}).value() == Tensor<double>{3.0, 7.0});
  CHECK_THROWS_AS(ag::sum(x, {-3}), ag::ShapeError);
}

// shape.cpp, transpose: a list that is not a permutation of the axes is refused.
TEST_CASE("transpose refuses what is not a permutation") {
  const V x(ag::full<double>({2, 3, 4}, 1.0));
  CHECK_THROWS_AS(ag::transpose(x, {0, 0, 1}), ag::ShapeError);
  CHECK_THROWS_AS(ag::transpose(x, {0, 1}), ag::ShapeError);
  CHECK(ag::transpose(x, {2, 0, 1}).shape() == ag::Shape{4, 2, 3});
}

// tensor.cpp, sums_to: a gradient cannot be summed down to a shape of higher rank.
TEST_CASE("sum_to refuses a target of higher rank") {
  CHECK_FALSE(ag::sums_to({3}, {1, 3}));
  CHECK(ag::sums_to({2, 3}, {3}));
  CHECK_THROWS_AS(ag::sum_to(V(Tensor<double>{1.0, 2.0, 3.0}), {1, 3}), ag::ShapeError);
}

// allocator.cpp: freeing a null block is a no-op, and a null is never handed out again.
TEST_CASE("the block cache ignores a null free") {
  ag::cached_free(nullptr, 64);
  void* block = ag::cached_alloc(64);
  CHECK(block != nullptr);
  ag::cached_free(block, 64);
}

// losses.cpp: binary_cross_entropy clamps probabilities, so a confident 0 or 1 gives a finite loss.
TEST_CASE("binary_cross_entropy stays finite at probabilities 0 and 1") {
  const V p(Tensor<double>{0.0, 1.0}), t(Tensor<double>{1.0, 0.0});
  const double loss = ag::nn::binary_cross_entropy(p, t).item();
  CHECK(std::isfinite(loss));
  CHECK(loss == doctest::Approx(-std::log(1e-7)).epsilon(1e-6));
  CHECK(ag::nn::accuracy(ag::full<double>({0, 3}, 0.0), {}) == 0.0);  // no examples: 0, not 0 / 0
}

// tape.cpp, backward.cpp: a custom op of more than three inputs whose rule reads a later one is
// checked too (reads::all covers every input, not the first three only).
TEST_CASE("a custom op's fourth input changed in place is caught") {
  V a = leaf({2.0}), b = leaf({1.0}), c = leaf({1.0}), d = leaf({2.0});
  // f(a, b, c, d) = a * d, recorded with the default reads::all.
  V y = ag::record<double>(op_a_times_d, Tensor<double>(a.value() * d.value()), std::vector<V>{a, b, c, d},
                           [](const ag::BackwardContext<double>& ctx) {
                             return ag::VariableList<double>{ctx.grad * ctx.in[3], V(), V(), ctx.grad * ctx.in[0]};
                           });
  d.mutable_value()(0) = 5.0;  // unchecked, a.grad would be 5 instead of 2
  CHECK(contains(error_of([&] { ag::backward(y); }), "input 3"));
}

// backward.cpp: which inputs take part is settled by the gather; a flag flipped during the replay
// (here by a rule) changes nothing and touches no slot that does not exist.
TEST_CASE("an input that starts requiring grad during the replay is left out of that pass") {
  V x = leaf({1.0});
  V z(Tensor<double>{3.0});  // a constant when the op runs
  V y = ag::record<double>(op_flip, Tensor<double>(x.value() * z.value()), {x, z},
                           [z](const ag::BackwardContext<double>& c) mutable {
                             z.set_requires_grad(true);
                             return ag::grads(c.grad * c.in[1], c.grad * c.in[0]);
                           });
  ag::backward(y);
  CHECK(x.grad().item() == 3.0);
  CHECK_FALSE(z.grad().defined());
}

// backward.cpp, grad(): an undefined input is named as such.
TEST_CASE("grad of an undefined input is an UndefinedVariableError") {
  V x = leaf({1.0});
  CHECK_THROWS_AS(ag::grad(x * 2.0, {V()}), ag::UndefinedVariableError);
}
