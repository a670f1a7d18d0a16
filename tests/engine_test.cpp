// The engine's behaviour around the gradients: accumulation, modes, errors, deep graphs, memory.
#include <cmath>
#include <limits>
#include <string>
#ifdef __GLIBC__  // defined by the headers above; mallinfo2 is glibc's (not in the WebAssembly build)
#include <malloc.h>
#endif

#include "test_util.hpp"

using ag::Tensor;
using V = ag::Variable<double>;
using test::contains;
using test::error_of;
using test::leaf;

TEST_CASE("gradients accumulate across backward calls until zeroed") {
  V x = leaf({1.0, 2.0});
  ag::backward(ag::sum(x * x));
  ag::backward(ag::sum(x * 3.0));
  CHECK(x.grad().value() == Tensor<double>{2.0 + 3.0, 4.0 + 3.0});
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
  ag::backward(ag::sum(x));
  CHECK(x.grad().value() == Tensor<double>{1.0, 1.0});
}

TEST_CASE("requires_grad, leaves and detach") {
  V w = leaf({2.0});
  V c(Tensor<double>{5.0});  // a constant
  V y = w * c;
  CHECK(y.requires_grad());
  CHECK_FALSE(y.is_leaf());
  CHECK(std::string(y.op_name()) == "mul");
  CHECK_THROWS_AS(y.set_requires_grad(false), std::logic_error);
  CHECK_FALSE((c * c).requires_grad());

  V d = y.detach();
  CHECK(d.is_leaf());
  CHECK_FALSE(d.requires_grad());
  ag::backward(ag::sum(y * d));  // d is a constant: d(y * d)/dw = c * d
  CHECK(w.grad().item() == doctest::Approx(5.0 * 10.0));
}

TEST_CASE("retain_grad keeps an intermediate gradient, comparisons never join the graph") {
  V x = leaf({1.0, -2.0});
  V h = ag::tanh(x);
  h.retain_grad();
  V y = ag::sum(h * h);
  ag::backward(y);
  for (std::size_t i = 0; i < 2; ++i) CHECK(h.grad().value()(i) == doctest::Approx(2 * std::tanh(x.value()(i))));
  for (const V& mask : {ag::gt(x, h), ag::ge(x, h), ag::lt(x, h), ag::le(x, h), ag::eq(x, x), ag::ne(x, h)}) {
    CHECK_FALSE(mask.requires_grad());
    CHECK(mask.is_leaf());
  }
  CHECK(ag::gt(x, h).value() == Tensor<double>{1.0, 0.0});
}

TEST_CASE("NoGrad records nothing, nests and restores") {
  V w = leaf({1.0, 2.0});
  {
    ag::NoGrad no_grad;
    CHECK_FALSE((w * 2.0).requires_grad());
    {
      ag::GradModeGuard enable(true);
      CHECK((w * 2.0).requires_grad());
    }
    CHECK_FALSE(ag::grad_enabled());
  }
  CHECK(ag::grad_enabled());
  CHECK((w * 2.0).requires_grad());
}

TEST_CASE("backward of a non-scalar needs a seed of its shape") {
  V x = leaf({1.0, 2.0, 3.0});
  V y = x * x;
  CHECK(contains(error_of([&] { ag::backward(y); }), "needs a seed gradient"));
  CHECK(contains(error_of([&] { ag::backward(y, V(Tensor<double>{1.0, 1.0})); }), "[2]"));
  ag::backward(y, V(Tensor<double>{1.0, 0.5, 0.0}));
  CHECK(x.grad().value() == Tensor<double>{2.0, 2.0, 0.0});
  CHECK(contains(error_of([&] { ag::backward(ag::sum(V(Tensor<double>{1.0}))); }), "does not require grad"));
}

TEST_CASE("a freed graph cannot be replayed, retain_graph keeps it") {
  V x = leaf({3.0});
  V y = ag::sum(ag::exp(x) * x);
  ag::backward(y);
  const std::string message = error_of([&] { ag::backward(y); });
  CHECK(contains(message, "already freed"));
  CHECK(contains(message, "retain_graph"));

  V z = ag::sum(x * x);
  x.zero_grad();
  ag::backward(z, {.retain_graph = true});
  ag::backward(z);
  CHECK(x.grad().item() == doctest::Approx(12.0));
}

TEST_CASE("grad returns gradients as values and leaves .grad alone") {
  V x = leaf({1.0, 2.0}), unused = leaf({7.0});
  V h = ag::tanh(x);
  V y = ag::sum(h * h);
  const auto g = ag::grad(y, {x, h, unused}, {}, {.retain_graph = true});
  CHECK_FALSE(x.grad().defined());
  for (std::size_t i = 0; i < 2; ++i) {
    const double t = std::tanh(x.value()(i));
    CHECK(g[0].value()(i) == doctest::Approx(2 * t * (1 - t * t)));
    CHECK(g[1].value()(i) == doctest::Approx(2 * t));  // with respect to an intermediate variable
  }
  CHECK(g[2].value() == Tensor<double>{0.0});
  CHECK_THROWS_AS(ag::grad(y, {V(Tensor<double>{1.0})}), ag::BackwardError);
}

TEST_CASE("higher order: second derivatives, Hessian-vector products, gradient penalties") {
  V x = leaf({0.5, -1.5});
  // d2/dx2 of x^3 is 6x.
  const auto [dx] = std::array{ag::grad(ag::sum(ag::pow(x, 3.0)), {x}, {}, {.create_graph = true})[0]};
  CHECK(dx.requires_grad());
  const auto d2x = ag::grad(ag::sum(dx), {x})[0];
  CHECK(d2x.value()(0) == doctest::Approx(3.0));
  CHECK(d2x.value()(1) == doctest::Approx(-9.0));

  // Hessian-vector product of f(x, y) = sum(x^2 y) + sum(sin-free terms): H v by double backward.
  V a = leaf({1.0, 2.0}), b = leaf({3.0, -1.0});
  V f = ag::sum(a * a * b + ag::exp(a * b));
  const auto g = ag::grad(f, {a}, {}, {.create_graph = true})[0];
  const V v(Tensor<double>{1.0, -2.0});
  const auto hv = ag::grad(ag::sum(g * v), {a})[0];
  for (std::size_t i = 0; i < 2; ++i) {
    const double ai = a.value()(i), bi = b.value()(i);
    const double h_ii = 2 * bi + bi * bi * std::exp(ai * bi);  // f is separable: H is diagonal
    CHECK(hv.value()(i) == doctest::Approx(h_ii * v.value()(i)));
  }

  // A gradient penalty: the gradient of ||d(w x)/dx||^2 with respect to w, through backward.
  V w = leaf(Tensor<double>{{2.0, -1.0}});
  Tensor<double> column{0.3, 0.7};
  column.reshape({2, 1});
  V input = leaf(column);
  V out = ag::sum(ag::tanh(ag::matmul(w, input)));
  const auto gx = ag::grad(out, {input}, {}, {.create_graph = true})[0];
  ag::backward(ag::sum(gx * gx));
  // gx = w^T (1 - t^2), t = tanh(w x); penalty = |w|^2 (1 - t^2)^2.
  const double s = 2.0 * 0.3 - 1.0 * 0.7, t = std::tanh(s), u = 1 - t * t, norm2 = 5.0;
  for (std::size_t j = 0; j < 2; ++j) {
    const double wj = w.value()(0, j), xj = input.value()(j, 0);
    const double expected = 2 * wj * u * u + norm2 * 2 * u * (-2 * t * u) * xj;
    CHECK(w.grad().value()(0, j) == doctest::Approx(expected));
  }
}

TEST_CASE("anomaly mode names the op that produced a NaN or an Inf") {
  V x = leaf({-1.0, 4.0});
  CHECK_NOTHROW(ag::log(x));  // off by default: NaN flows silently, as in PyTorch
  ag::DetectAnomaly detect;
  const std::string forward = error_of([&] { ag::log(x); });
  CHECK(contains(forward, "'log'"));
  CHECK(contains(forward, "NaN"));
  CHECK(contains(forward, "forward"));

  V z = leaf({0.0, 1.0});
  V y = ag::sum(ag::sqrt(z));  // forward is finite; d sqrt/dz at 0 is Inf
  const std::string backward = error_of([&] { ag::backward(y); });
  CHECK(contains(backward, "'sqrt'"));
  CHECK(contains(backward, "backward"));
  CHECK(contains(backward, "Inf"));
  // The failed pass leaves nothing behind: a clean backward through shared leaves is exact.
  ag::set_anomaly_mode(false);
  ag::backward(ag::sum(z * 2.0));
  CHECK(z.grad().value() == Tensor<double>{2.0, 2.0});
  ag::set_anomaly_mode(true);
}

TEST_CASE("anomaly mode looks at what an op returns, not at the steps of a composite") {
  const double inf = std::numeric_limits<double>::infinity();
  V x = leaf(Tensor<double>{{1.0, -inf, 2.0}, {0.5, 0.1, -inf}});  // -inf: masked entries
  ag::DetectAnomaly detect;
  // Inside, a - max(a) is -inf at the masks; the results and the gradient are finite and right.
  const V lse = ag::logsumexp(x, {1});
  const V p = ag::softmax(x);
  ag::backward(ag::sum(lse) + ag::sum(p * p));
  CHECK(lse.value()(0) == doctest::Approx(std::log(std::exp(1.0) + std::exp(2.0))));
  CHECK(p.value()(0, 1) == 0.0);
  CHECK(x.grad().value()(0, 1) == 0.0);
  CHECK(std::isfinite(x.grad().value()(1, 0)));
  // A composite whose result is not finite is still caught, under its own name.
  const std::string masked = error_of([&] { ag::logsumexp(V(Tensor<double>{-inf, -inf}, true)); });
  CHECK(contains(masked, "'logsumexp'"));
  CHECK(contains(masked, "Inf"));
}

TEST_CASE("misuse of an undefined variable is an exception, not a null dereference") {
  V w = leaf({1.0});
  CHECK_THROWS_AS(w.grad().value(), ag::UndefinedVariableError);  // no backward reached w
  CHECK(contains(error_of([&] { (void)w.grad().value(); }), "no backward has reached"));
  V undefined;
  CHECK_THROWS_AS(undefined.item(), ag::UndefinedVariableError);
  CHECK_THROWS_AS(undefined.shape(), ag::UndefinedVariableError);
  CHECK_THROWS_AS(undefined.grad(), ag::UndefinedVariableError);
  CHECK_THROWS_AS(undefined.is_leaf(), ag::UndefinedVariableError);
  CHECK_THROWS_AS(undefined.detach(), ag::UndefinedVariableError);
  CHECK_THROWS_AS(undefined.set_requires_grad(), ag::UndefinedVariableError);
  CHECK_THROWS_AS(ag::exp(undefined), ag::UndefinedVariableError);
  CHECK_THROWS_AS(w + undefined, ag::UndefinedVariableError);
  CHECK_THROWS_AS(ag::matmul(undefined, w), ag::UndefinedVariableError);
  CHECK_THROWS_AS(ag::sum(undefined), ag::UndefinedVariableError);
  CHECK_THROWS_AS(ag::backward(undefined), ag::UndefinedVariableError);
  CHECK_FALSE(undefined.requires_grad());  // a question with an answer: no
}

TEST_CASE("a gradient reaching one input by two paths is summed, never added into a shared term") {
  // add's rule hands the same gradient to both inputs; the running sum for `a` must not be that
  // very variable updated in place, or `b`, holding it too, would see a's second path as well.
  V a = leaf({1.0, 2.0}), b = leaf({3.0, 4.0});
  ag::backward(ag::sum((a + b) + a));
  CHECK(a.grad().value() == Tensor<double>{2.0, 2.0});
  CHECK(b.grad().value() == Tensor<double>{1.0, 1.0});
  const std::vector<V> g = ag::grad(ag::sum((a + b) + a), {a, b});
  CHECK(g[0].value() == Tensor<double>{2.0, 2.0});
  CHECK(g[1].value() == Tensor<double>{1.0, 1.0});
}

TEST_CASE("shape errors name the op and both shapes") {
  V a(Tensor<double>::from_shape({2, 3})), b(Tensor<double>::from_shape({4}));
  const std::string add = error_of([&] { ag::add(a, b); });
  CHECK(contains(add, "add"));
  CHECK(contains(add, "[2, 3]"));
  CHECK(contains(add, "[4]"));
  CHECK_THROWS_AS(ag::mul(a, b), ag::ShapeError);
  const std::string mm = error_of([&] { ag::matmul(a, V(Tensor<double>::from_shape({2, 5}))); });
  CHECK(contains(mm, "matmul"));
  CHECK(contains(mm, "[2, 3]"));
  CHECK(contains(mm, "[2, 5]"));
  CHECK(contains(error_of([&] { ag::reshape(a, {4, -1}); }), "reshape"));
  CHECK(contains(error_of([&] { ag::sum(a, {2}); }), "axis 2 is out of range"));
  CHECK(contains(error_of([&] { ag::gather_rows(a, {0, 2}); }), "row index 2"));
  CHECK(contains(error_of([&] { ag::concat<double>({a, b}); }), "concat"));
}

TEST_CASE("a chain of a million ops runs backward and is freed without deep recursion") {
  V x = leaf({0.5});
  const V factor(Tensor<double>{1.0000001});
  V y = x;
  constexpr int kOps = 1'000'000;
  for (int i = 0; i < kOps; ++i) y = y * factor;
  ag::backward(y);
  CHECK(x.grad().item() == doctest::Approx(std::pow(1.0000001, kOps)).epsilon(1e-9));
  y = V();  // frees the chain
}

TEST_CASE("memory returns to its level after a training-like loop") {
  V w1 = leaf(test::uniform({8, 16})), w2 = leaf(test::uniform({16, 1}));
  const V input(test::uniform({32, 8})), target(test::uniform({32, 1}));
  const auto step = [&] {
    V loss = ag::mean(ag::pow(ag::matmul(ag::relu(ag::matmul(input, w1)), w2) - target, 2.0));
    ag::backward(loss);
    ag::NoGrad no_grad;
    w1.mutable_value() -= 0.01 * w1.grad().value();
    w2.mutable_value() -= 0.01 * w2.grad().value();
    w1.zero_grad();
    w2.zero_grad();
  };
  step();
  const long nodes_before = ag::live_nodes();
#ifdef __GLIBC__
  const std::size_t heap_before = mallinfo2().uordblks;
#endif
  for (int i = 0; i < 10'000; ++i) step();
  CHECK(ag::live_nodes() == nodes_before);
#ifdef __GLIBC__
  // Under AddressSanitizer mallinfo2 does not see the heap; the node count above still checks the graph.
  const std::size_t heap_after = mallinfo2().uordblks;
  CHECK(heap_after <= heap_before + 64 * 1024);
#endif
}

TEST_CASE("the block cache keeps freed tensor storage for reuse, within its limit") {
  ag::release_cached_memory();
  CHECK(ag::cached_bytes() == 0);
  { const Tensor<double> t = ag::full<double>({1000}, 1.0); }  // 8000 bytes: an 8192-byte block
  if (ag::cached_bytes() == 0) {
    MESSAGE("built with AUTOGRAD_NO_MEMORY_CACHE (the sanitizer build): every block goes back to the system");
    return;
  }
  CHECK(ag::cached_bytes() == 8192);
  { const Tensor<double> again = ag::full<double>({1000}, 2.0); }  // takes the cached block, then returns it
  CHECK(ag::cached_bytes() == 8192);
  ag::release_cached_memory();
  CHECK(ag::cached_bytes() == 0);
  ag::set_cache_limit(4096);
  { const Tensor<double> big = ag::full<double>({1000}, 3.0); }  // over the limit: straight back to the system
  CHECK(ag::cached_bytes() == 0);
  ag::set_cache_limit(std::size_t{1} << 30);
}

TEST_CASE("float32 variables train like double ones") {
  ag::Variable<float> w(Tensor<float>{0.5f, -0.25f}, true);
  ag::Variable<float> y = ag::sum(ag::sigmoid(w) * 2.0f);
  ag::backward(y);
  const float s = 1.0f / (1.0f + std::exp(-0.5f));
  CHECK(w.grad().value()(0) == doctest::Approx(2.0f * s * (1 - s)));
}

TEST_CASE("the graph prints as DOT and as a table") {
  V w = leaf({1.0, 2.0});
  V x(Tensor<double>{3.0, 4.0});
  V y = ag::sum(ag::tanh(w * x));
  ag::backward(y, {.retain_graph = true});
  const std::string dot = ag::to_dot(y);
  CHECK(contains(dot, "digraph"));
  CHECK(contains(dot, "tanh"));
  CHECK(contains(dot, "mul"));
  CHECK(contains(dot, "fillcolor"));  // the parameter
  CHECK(contains(dot, "->"));
  const std::string table = ag::graph_table(y);
  CHECK(contains(table, "leaf (grad)"));
  CHECK(contains(table, "sum_to"));
  CHECK(contains(table, "tanh"));
}
