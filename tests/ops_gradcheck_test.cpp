// Every differentiable op against finite differences, in double: first order, and second order
// for the ops that are twice differentiable. Broadcast shapes and axis reductions included.
//
// The checks are one table of cases. Each primitive the program registers (ag::primitives(),
// from the Primitive constants beside the ops' code) must be recorded in the graph of at least
// one case, checked to second order: a primitive added without its case fails this suite by name.
#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <xtensor/xview.hpp>

#include "test_util.hpp"

using ag::Shape;
using ag::Tensor;
using test::uniform;
using test::Vars;

namespace {

// Two primitives with deliberately wrong rules, to show that the checks catch them.
// wrong_square: x^2 with the rule g x, off by a factor 2.
const ag::Primitive op_wrong_square("wrong_square", ag::Primitive::Kind::custom);
ag::Variable<double> wrong_square(const Vars& v) {
  return ag::record<double>(op_wrong_square, ag::Tensor<double>(v[0].value() * v[0].value()), {v[0]},
                            [](const ag::BackwardContext<double>& c) { return ag::grads(c.grad * c.in[0]); });
}
// cube: x^3 with a rule whose value is right but computed from a detached input, so that first
// order passes and the second derivative is lost.
const ag::Primitive op_cube("cube", ag::Primitive::Kind::custom);
ag::Variable<double> cube(const Vars& v) {
  return ag::record<double>(op_cube, ag::Tensor<double>(xt::pow(v[0].value(), 3)), {v[0]},
                            [](const ag::BackwardContext<double>& c) {
                              const auto x = c.in[0].detach();
                              return ag::grads(c.grad * x * x * 3.0);
                            });
}

enum class Expect {
  both_orders,   // gradcheck and gradgradcheck pass
  first_order,   // gradcheck passes; not twice differentiable (or too costly to check so)
  wrong_first,   // a deliberately wrong rule: gradcheck fails
  wrong_second,  // a rule right to first order only: gradcheck passes, gradgradcheck fails
};

struct Case {
  std::string group, name;
  ag::DifferentiableFunction f;
  std::vector<Tensor<double>> inputs;
  Expect expect = Expect::both_orders;
};

std::vector<Case> make_cases() {
  std::vector<Case> cases;
  const auto add = [&cases](const char* group, std::string name, ag::DifferentiableFunction f,
                            std::vector<Tensor<double>> inputs, Expect expect = Expect::both_orders) {
    cases.push_back({group, std::move(name), std::move(f), std::move(inputs), expect});
  };

  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{2, 3}, {2, 3}}, {{2, 3}, {3}}, {{2, 1}, {1, 3}}, {{}, {2, 2}}, {{4, 1, 3}, {2, 1}}};
  for (const auto& [sa, sb] : shapes) {
    std::string at = " ";
    at.append(ag::shape_str(sa)).append(" ").append(ag::shape_str(sb));
    add("arithmetic", "add" + at, [](const Vars& v) { return v[0] + v[1]; }, {uniform(sa), uniform(sb)});
    add("arithmetic", "sub" + at, [](const Vars& v) { return v[0] - v[1]; }, {uniform(sa), uniform(sb)});
    add("arithmetic", "mul" + at, [](const Vars& v) { return v[0] * v[1]; }, {uniform(sa), uniform(sb)});
    add("arithmetic", "div" + at, [](const Vars& v) { return v[0] / v[1]; }, {uniform(sa), uniform(sb, 0.5, 2.0)});
    add("arithmetic", "pow" + at, [](const Vars& v) { return ag::pow(v[0], v[1]); },
        {uniform(sa, 0.5, 2.0), uniform(sb)});
  }
  // a * a of one node: its rule gives one gradient 2 g a, not g a twice; first and second order.
  add("arithmetic", "mul of a variable by itself", [](const Vars& v) { return v[0] * v[0]; }, {uniform({3, 2})});
  add("arithmetic", "mul by itself, then by itself again", [](const Vars& v) { return (v[0] * v[0]) * v[0]; },
      {uniform({2, 3})});
  add("arithmetic", "neg", [](const Vars& v) { return -v[0]; }, {uniform({3, 2})});
  add("arithmetic", "pow by a number", [](const Vars& v) { return ag::pow(v[0], 3.0); }, {uniform({3, 2})});
  add("arithmetic", "numbers on either side", [](const Vars& v) { return 2.0 - v[0] * 3.0 + 1.0 / v[0]; },
      {uniform({4}, 0.5, 2.0)});

  const Shape s{3, 4};
  add("elementwise", "exp", [](const Vars& v) { return ag::exp(v[0]); }, {uniform(s)});
  add("elementwise", "log", [](const Vars& v) { return ag::log(v[0]); }, {uniform(s, 0.2, 3.0)});
  add("elementwise", "sqrt", [](const Vars& v) { return ag::sqrt(v[0]); }, {uniform(s, 0.2, 3.0)});
  add("elementwise", "abs", [](const Vars& v) { return ag::abs(v[0]); }, {test::away_from_zero(s)});
  add("elementwise", "tanh", [](const Vars& v) { return ag::tanh(v[0]); }, {uniform(s)});
  add("elementwise", "sigmoid", [](const Vars& v) { return ag::sigmoid(v[0]); }, {uniform(s, -6.0, 6.0)});
  add("elementwise", "relu", [](const Vars& v) { return ag::relu(v[0]); }, {test::away_from_zero(s)});
  add("elementwise", "softplus", [](const Vars& v) { return ag::softplus(v[0]); }, {uniform(s, -6.0, 6.0)});
  add("elementwise", "log_sigmoid", [](const Vars& v) { return ag::log_sigmoid(v[0]); }, {uniform(s, -6.0, 6.0)});
  add("elementwise", "step", [](const Vars& v) { return ag::step(v[0]); }, {test::away_from_zero(s)});
  add("elementwise", "logistic_loss", [](const Vars& v) { return ag::logistic_loss(v[0], v[1]); },
      {uniform(s, -6.0, 6.0), uniform(s, 0.0, 1.0)});
  add("elementwise", "logistic_loss, broadcast target", [](const Vars& v) { return ag::logistic_loss(v[0], v[1]); },
      {uniform({3, 4}), uniform({4}, 0.0, 1.0)});
  // Values drawn away from the clamp bounds, where the mask does not change under the finite difference.
  Tensor<double> c = test::away_from_zero(s, 0.1, 0.9);
  c = xt::where(xt::abs(c) < 0.45 || xt::abs(c) > 0.55, c, 0.3);
  add("elementwise", "clamp", [](const Vars& v) { return ag::clamp(v[0], -0.5, 0.5); }, {c});

  const Tensor<double> condition = {1.0, 0.0, 1.0};
  add("where", "where, with a broadcast condition",
      [condition](const Vars& v) { return ag::where(ag::Variable<double>(condition), v[0], v[1]); },
      {uniform({2, 3}), uniform({2, 1})});

  using Matmul = std::pair<bool, bool>;
  const auto matmul = [&add](std::string name, Matmul transposes, Shape a, Shape b) {
    add("matmul", std::move(name),
        [transposes](const Vars& v) { return ag::matmul(v[0], v[1], transposes.first, transposes.second); },
        {uniform(a), uniform(b)});
  };
  matmul("plain", {false, false}, {3, 4}, {4, 2});
  matmul("a transposed", {true, false}, {4, 3}, {4, 2});
  matmul("b transposed", {false, true}, {3, 4}, {2, 4});
  matmul("both transposed", {true, true}, {4, 3}, {2, 4});
  matmul("batched", {false, false}, {2, 3, 4}, {2, 4, 2});
  matmul("batch times a matrix", {false, false}, {2, 3, 4}, {4, 2});
  matmul("broadcast batches", {false, true}, {1, 3, 4}, {2, 1, 5, 4});
  matmul("vector times matrix", {false, false}, {4}, {4, 3});
  matmul("matrix times vector", {false, false}, {3, 4}, {4});
  matmul("vector times vector", {false, false}, {4}, {4});

  add("shape", "reshape", [](const Vars& v) { return ag::reshape(v[0], {3, -1}); }, {uniform({2, 3, 2})});
  add("shape", "flatten", [](const Vars& v) { return ag::flatten(v[0]); }, {uniform({2, 3})});
  add("shape", "transpose", [](const Vars& v) { return ag::transpose(v[0]); }, {uniform({2, 3})});
  add("shape", "transpose by a permutation",
      [](const Vars& v) {
        return ag::transpose(v[0], {2, 0, 1});
      },
      {uniform({2, 3, 4})});
  add("shape", "broadcast_to", [](const Vars& v) { return ag::broadcast_to(v[0], {2, 3, 4}); }, {uniform({3, 1})});
  add("shape", "sum_to", [](const Vars& v) { return ag::sum_to(v[0], {3, 1}); }, {uniform({2, 3, 4})});
  add("shape", "slice with a step", [](const Vars& v) { return ag::slice(v[0], 1, 1, 5, 2); }, {uniform({2, 6})});
  add("shape", "slice from the end", [](const Vars& v) { return ag::slice(v[0], -1, -3, 100); }, {uniform({2, 6})});
  add("shape", "unslice", [](const Vars& v) { return ag::unslice(v[0], {5, 2}, 0, 1, 5, 2); }, {uniform({2, 2})});
  add("shape", "gather_rows", [](const Vars& v) { return ag::gather_rows(v[0], {2, 0, 2, 3}); }, {uniform({4, 3})});
  add("shape", "gather_rows of fewer rows than the input",
      [](const Vars& v) {
        return ag::gather_rows(v[0], {3, 1});
      },
      {uniform({5, 2})});
  add("shape", "scatter_add_rows",
      [](const Vars& v) {
        return ag::scatter_add_rows(v[0], {1, 1, 0}, 3);
      },
      {uniform({3, 2})});
  add("shape", "concat",
      [](const Vars& v) {
        return ag::concat({v[0], v[1], v[0]}, 1);
      },
      {uniform({2, 3}), uniform({2, 1})});
  add("shape", "stack", [](const Vars& v) { return ag::stack({v[0], v[1]}, 1); }, {uniform({2, 3}), uniform({2, 3})});

  const auto reduction = [&add](std::string name, ag::DifferentiableFunction f, Shape shape) {
    add("reductions", std::move(name), std::move(f), {uniform(shape)});
  };
  reduction("sum, rank 1", [](const Vars& v) { return ag::sum(v[0]); }, {5});
  reduction("sum", [](const Vars& v) { return ag::sum(v[0]); }, {2, 3});
  reduction("sum over axis 0", [](const Vars& v) { return ag::sum(v[0], {0}); }, {2, 3});
  reduction("sum over the last axis, keepdims", [](const Vars& v) { return ag::sum(v[0], {-1}, true); }, {2, 3, 2});
  reduction("sum over axes 0 and 2", [](const Vars& v) { return ag::sum(v[0], {0, 2}); }, {2, 3, 2});
  reduction("mean over axis 1", [](const Vars& v) { return ag::mean(v[0], {1}); }, {2, 3});
  reduction("mean", [](const Vars& v) { return ag::mean(v[0]); }, {4});
  // Continuous random values have no ties, so max is differentiable there.
  reduction("max, rank 1", [](const Vars& v) { return ag::max(v[0]); }, {5});
  reduction("max over axis 1", [](const Vars& v) { return ag::max(v[0], {1}); }, {3, 4});
  reduction("max over axes 0 and 2, keepdims", [](const Vars& v) { return ag::max(v[0], {0, 2}, true); }, {2, 3, 2});
  reduction("min over axis 0", [](const Vars& v) { return ag::min(v[0], {0}); }, {3, 4});
  reduction("logsumexp, rank 1", [](const Vars& v) { return ag::logsumexp(v[0]); }, {5});
  reduction("logsumexp over axis 1", [](const Vars& v) { return ag::logsumexp(v[0], {1}); }, {3, 4});
  reduction("logsumexp over axis 0, keepdims", [](const Vars& v) { return ag::logsumexp(v[0], {0}, true); }, {3, 4});
  reduction("softmax", [](const Vars& v) { return ag::softmax(v[0]); }, {2, 4});
  reduction("softmax over axis 0", [](const Vars& v) { return ag::softmax(v[0], 0); }, {3, 2});
  reduction("log_softmax", [](const Vars& v) { return ag::log_softmax(v[0]); }, {2, 4});

  // micrograd #64: b = a + a; c = b + b must give dc/da = 4.
  add("graphs", "a reused node",
      [](const Vars& v) {
        auto b = v[0] + v[0];
        return b + b;
      },
      {uniform({3})});
  add("graphs", "a diamond",
      [](const Vars& v) {
        auto top = ag::tanh(v[0]);
        auto left = top * v[1];
        auto right = ag::exp(top);
        return ag::sum(left * right, {0});
      },
      {uniform({2, 3}), uniform({3})});
  add("graphs", "a two-layer network",
      [](const Vars& v) { return ag::sigmoid(ag::matmul(ag::tanh(ag::matmul(v[0], v[1])), v[2])); },
      {uniform({2, 3}), uniform({3, 4}), uniform({4, 1})});

  // Convolution: odd shapes (non-square images and kernels, stride 2, padding, dilation, one
  // channel, groups). conv_transpose2d and conv2d_weight_grad are checked as ops of their own too:
  // they are conv2d's gradient, and each other's.
  struct ConvCase {
    std::string name;
    Shape input, weight;
    ag::Conv2dOptions options;
  };
  const std::vector<ConvCase> convolutions = {
      {"one channel 3x3", {1, 1, 5, 4}, {2, 1, 3, 3}, {}},
      {"stride 2 padding 1 non-square kernel", {2, 2, 5, 6}, {3, 2, 3, 2}, {.stride = {2, 2}, .padding = {1, 1}}},
      {"stride 2 by 1 padding 0 by 2 dilation 2",
       {1, 2, 6, 5},
       {2, 2, 2, 3},
       {.stride = {2, 1}, .padding = {0, 2}, .dilation = {2, 1}}},
      {"2 groups", {1, 4, 4, 5}, {4, 2, 2, 2}, {.padding = {1, 0}, .groups = 2}},
      {"depthwise 1x1", {2, 3, 3, 3}, {3, 1, 1, 1}, {.groups = 3}},
      {"1x1 read as is", {2, 3, 2, 3}, {2, 3, 1, 1}, {}},
  };
  for (const ConvCase& cc : convolutions) {
    const ag::Conv2dOptions o = cc.options;
    add("convolution", "conv2d " + cc.name, [o](const Vars& v) { return ag::conv2d(v[0], v[1], o); },
        {uniform(cc.input), uniform(cc.weight)});
    const Shape out =
        ag::conv2d(ag::Variable<double>(uniform(cc.input)), ag::Variable<double>(uniform(cc.weight)), o).shape();
    const std::array<long, 2> size{static_cast<long>(cc.input[2]), static_cast<long>(cc.input[3])};
    const std::array<long, 2> kernel{static_cast<long>(cc.weight[2]), static_cast<long>(cc.weight[3])};
    add("convolution", "conv_transpose2d " + cc.name,
        [o, size](const Vars& v) { return ag::conv_transpose2d(v[0], v[1], size, o); },
        {uniform(out), uniform(cc.weight)});
    add("convolution", "conv2d_weight_grad " + cc.name,
        [o, kernel](const Vars& v) { return ag::conv2d_weight_grad(v[0], v[1], kernel, o); },
        {uniform(cc.input), uniform(out)});
  }
  add("convolution", "conv2d with a bias stride 2 and 2 groups",
      [](const Vars& v) {
        return ag::conv2d(v[0], v[1], v[2], {.stride = {2, 2}, .padding = {1, 1}, .groups = 2});
      },
      {uniform({2, 4, 5, 4}), uniform({4, 2, 3, 3}), uniform({4})});
  add("convolution", "conv2d then tanh to second order through a nonlinearity",
      [](const Vars& v) {
        return ag::tanh(ag::conv2d(v[0], v[1], {.padding = {1, 1}}));
      },
      {uniform({1, 2, 4, 3}, -1, 1), uniform({2, 2, 3, 3}, -0.5, 0.5)});

  // Pooling: overlapping and non-overlapping windows, padding, non-square windows and images.
  const std::vector<std::pair<std::string, ag::Pool2dOptions>> pools = {
      {"2x2", {.kernel = {2, 2}}},
      {"3x2 stride 1 padding 1 by 0", {.kernel = {3, 2}, .stride = std::array<long, 2>{1, 1}, .padding = {1, 0}}},
      {"3x3 stride 2 padding 1 not counting padding",
       {.kernel = {3, 3}, .stride = std::array<long, 2>{2, 2}, .padding = {1, 1}, .count_include_pad = false}},
  };
  for (const auto& pool : pools) {
    const std::string& name = pool.first;
    const ag::Pool2dOptions o = pool.second;  // a variable, not a structured binding: clang 14 cannot capture those
    add("pooling", "max_pool2d " + name, [o](const Vars& v) { return ag::max_pool2d(v[0], o); },
        {uniform({2, 2, 5, 4})});
    add("pooling", "avg_pool2d " + name, [o](const Vars& v) { return ag::avg_pool2d(v[0], o); },
        {uniform({2, 2, 5, 4})});
    const Shape pooled = ag::avg_pool2d(ag::Variable<double>(uniform({2, 2, 5, 4})), o).shape();
    add("pooling", "avg_pool2d_backward " + name,
        [o](const Vars& v) {
          return ag::avg_pool2d_backward(v[0], {5, 4}, o);
        },
        {uniform(pooled)});
  }
  add("pooling", "max_pool2d of a square to second order",
      [](const Vars& v) {
        return ag::max_pool2d(v[0] * v[0], {.kernel = {2, 2}});
      },
      {uniform({1, 2, 4, 4}, 0.2, 2.0)});

  add("wrong rules", "wrong_square", wrong_square, {uniform({3}, 0.5, 2.0)}, Expect::wrong_first);
  add("wrong rules", "cube", cube, {uniform({3}, 0.5, 2.0)}, Expect::wrong_second);
  return cases;
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = make_cases();
  return all;
}

void check_group(const std::string& group) {
  std::size_t count = 0;
  for (const Case& c : cases()) {
    if (c.group != group) continue;
    ++count;
    CAPTURE(c.name);
    const auto first = ag::gradcheck(c.f, c.inputs);
    if (c.expect == Expect::wrong_first) {
      CHECK_MESSAGE(!first.ok, "a wrong rule passed: " << first.summary());
      continue;
    }
    CHECK_MESSAGE(first.ok, first.summary());
    if (c.expect == Expect::first_order) continue;
    const auto second = ag::gradgradcheck(c.f, c.inputs);
    if (c.expect == Expect::wrong_second) {
      CHECK_MESSAGE(!second.ok, "a rule right to first order only passed to second order: " << second.summary());
    } else {
      CHECK_MESSAGE(second.ok, "second order: " << second.summary());
    }
  }
  CHECK_MESSAGE(count > 0, "no case in group " << group);
}

// The names of the ops recorded in the graph of `output`.
std::set<std::string> ops_in(const ag::Variable<double>& output) {
  std::set<std::string> ops;
  std::vector<ag::Variable<double>> to_visit{output}, seen;
  while (!to_visit.empty()) {
    const ag::Variable<double> v = to_visit.back();
    to_visit.pop_back();
    if (std::any_of(seen.begin(), seen.end(), [&v](const auto& s) { return s.is(v); })) continue;
    seen.push_back(v);
    if (v.is_leaf()) continue;
    ops.insert(v.op_name());
    for (const auto& input : v.inputs()) {
      if (input.defined()) to_visit.push_back(input);
    }
  }
  return ops;
}

// The registered primitives that no case of `checked` records in its graph; with `second_order`,
// no case that is checked to second order.
std::vector<std::string> unchecked_primitives(const std::vector<const Case*>& checked, bool second_order) {
  std::set<std::string> recorded;
  for (const Case* c : checked) {
    if (second_order && c->expect == Expect::first_order) continue;
    Vars leaves;
    for (const Tensor<double>& t : c->inputs) leaves.emplace_back(t, true);
    for (const std::string& op : ops_in(c->f(leaves))) recorded.insert(op);
  }
  std::vector<std::string> missing;
  for (const std::string& p : ag::primitives()) {
    if (!recorded.count(p)) missing.push_back(p);
  }
  return missing;
}

std::vector<const Case*> all_cases() {
  std::vector<const Case*> out;
  for (const Case& c : cases()) out.push_back(&c);
  return out;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

TEST_CASE("arithmetic, same shapes and broadcast shapes") {
  check_group("arithmetic");
}
TEST_CASE("elementwise functions") {
  check_group("elementwise");
}
TEST_CASE("where, with a broadcast condition") {
  check_group("where");
}
TEST_CASE("matmul: plain, transposed, batched, broadcast batches, vectors") {
  check_group("matmul");
}
TEST_CASE("shape ops") {
  check_group("shape");
}
TEST_CASE("reductions over all axes, given axes, with and without keepdims, rank 1 included") {
  check_group("reductions");
}
TEST_CASE("convolution: conv2d, conv_transpose2d and conv2d_weight_grad on odd shapes") {
  check_group("convolution");
}
TEST_CASE("pooling: max and mean with overlapping windows and padding") {
  check_group("pooling");
}
TEST_CASE("reused nodes and diamonds accumulate every path") {
  check_group("graphs");
}
TEST_CASE("gradcheck fails a wrong rule, gradgradcheck a rule right to first order only") {
  check_group("wrong rules");
}

// The groups the test cases above check, one test case each: a group of cases that no test case
// runs would count for the coverage check below without ever being checked (it happened).
const std::set<std::string> groups_with_a_test_case = {"arithmetic", "elementwise", "where",   "matmul", "shape",
                                                       "reductions", "convolution", "pooling", "graphs", "wrong rules"};

TEST_CASE("every group of cases is run by a test case") {
  for (const Case& c : cases()) {
    CAPTURE(c.name);
    CHECK_MESSAGE(groups_with_a_test_case.count(c.group) == 1,
                  "group " << c.group << " has no test case calling check_group (add one, and list it)");
  }
}

TEST_CASE("every primitive has a gradient check, first and second order") {
  // Every primitive of the engine (its archive is linked whole, tests/CMakeLists.txt); custom ones,
  // such as this file's two wrong ones, are not listed.
  const std::vector<std::string> names = ag::primitives();
  CHECK(names.size() >= 30);
  CHECK(std::find(names.begin(), names.end(), "matmul") != names.end());
  const std::vector<std::string> unchecked = unchecked_primitives(all_cases(), false);
  CHECK_MESSAGE(unchecked.empty(), "primitives that no gradcheck case records: "
                                       << joined(unchecked)
                                       << " (add a case to make_cases() in tests/ops_gradcheck_test.cpp)");
  const std::vector<std::string> first_only = unchecked_primitives(all_cases(), true);
  CHECK_MESSAGE(first_only.empty(), "primitives without a second-order check: " << joined(first_only));
}

TEST_CASE("the coverage check names a primitive that no case records") {
  // Without the cases whose graph holds step (only its own), step is reported, and nothing else.
  std::vector<const Case*> without_step;
  for (const Case* c : all_cases()) {
    if (c->name != "step") without_step.push_back(c);
  }
  CHECK(unchecked_primitives(without_step, false) == std::vector<std::string>{"step"});
  // A case checked to first order only does not count for the second order.
  std::vector<Case> weakened(cases().begin(), cases().end());
  std::vector<const Case*> sqrt_first_order_only;
  for (Case& c : weakened) {
    if (c.name == "sqrt") c.expect = Expect::first_order;
    sqrt_first_order_only.push_back(&c);
  }
  CHECK(unchecked_primitives(sqrt_first_order_only, true) == std::vector<std::string>{"sqrt"});
  CHECK(unchecked_primitives(sqrt_first_order_only, false).empty());
}

TEST_CASE("gradcheck reports where a wrong rule fails") {
  const auto report = ag::gradcheck(wrong_square, {uniform({3}, 0.5, 2.0)});
  CHECK_FALSE(report.ok);
  CHECK_FALSE(report.inputs[0].ok);
  CHECK(report.inputs[0].max_rel_error > 0.4);
  CHECK(report.summary().find("FAIL") != std::string::npos);
  const auto input = uniform({3}, 0.5, 2.0);
  CHECK(ag::gradcheck(cube, {input}).ok);
  CHECK_FALSE(ag::gradgradcheck(cube, {input}).ok);
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

TEST_CASE("matmul through BLAS agrees with a plain product, for every transpose and a batch") {
  // Sizes above the small-product loop (32,768 multiply-adds), so that these go through
  // cblas_{s,d}gemm.
  const std::size_t m = 37, k = 45, n = 41;
  const ag::Tensor<double> a = uniform({m, k}), b = uniform({k, n});
  ag::Tensor<double> expected = ag::full<double>({m, n}, 0.0);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t p = 0; p < k; ++p) expected(i, j) += a(i, p) * b(p, j);
  const ag::Variable<double> A(a), B(b), At(ag::Tensor<double>(xt::transpose(a))),
      Bt(ag::Tensor<double>(xt::transpose(b)));
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
