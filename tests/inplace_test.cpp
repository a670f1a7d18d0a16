// Changes in place between an op and backward: detected by version counters, never a wrong gradient.
#include <functional>
#include <string>
#include <utility>

#include "test_util.hpp"

using ag::Tensor;
using V = ag::Variable<double>;
using test::contains;
using test::leaf;

namespace {

std::string backward_error(const std::function<void()>& f) {
  return test::error_of<ag::BackwardError>(f);
}

}  // namespace

TEST_CASE("a value changed after an op read it stops backward, naming the op and the variable") {
  V w = leaf({2.0});
  V y = w * w;
  w.mutable_value()(0) = 5.0;  // without the check, backward would return 2 * 5 = 10 instead of 4
  const std::string message = backward_error([&] { ag::backward(y); });
  CHECK(contains(message, "'mul'"));
  CHECK(contains(message, "input 0"));
  CHECK(contains(message, "a leaf, shape [1]"));
  CHECK(contains(message, "version 1"));
  CHECK_FALSE(w.grad().defined());
}

TEST_CASE("an op's output changed in place stops the backward of a rule that reads it") {
  V x = leaf({0.5, 1.0});
  V y = ag::exp(x);  // exp's rule is g * y
  y.mutable_value() *= 2.0;
  const std::string message = backward_error([&] { ag::backward(y, V(Tensor<double>{1.0, 1.0})); });
  CHECK(contains(message, "the output (shape [2]) of 'exp'"));
}

TEST_CASE("versions count changes through mutable_value(), reading through value() leaves them alone") {
  V w = leaf({1.0, 2.0});
  CHECK(w.version() == 0);
  const double first = w.value()(0);
  CHECK(first == 1.0);
  CHECK(w.version() == 0);
  w.mutable_value()(1) = 3.0;
  CHECK(w.version() == 1);
}

TEST_CASE("a rule that does not read a value lets it change: add, reshape, concat") {
  V a = leaf({1.0, 2.0}), b = leaf({3.0, 4.0});
  V y = ag::sum(ag::concat<double>({ag::reshape(a + b, {2, 1}), ag::reshape(a, {2, 1})}));
  a.mutable_value() += 10.0;
  b.mutable_value() += 10.0;
  ag::backward(y);  // every rule on the way routes the gradient only: nothing to refuse
  CHECK(a.grad().value() == Tensor<double>{2.0, 2.0});
  CHECK(b.grad().value() == Tensor<double>{1.0, 1.0});
}

TEST_CASE("an optimizer's update after backward is free, and a retained graph then refuses a second backward") {
  V w = leaf({2.0});
  for (int step = 0; step < 3; ++step) {
    V loss = w * w;
    ag::backward(loss);
    ag::NoGrad no_grad;
    w.mutable_value() -= 0.1 * w.grad().value();
    w.zero_grad();
  }
  CHECK(w.item() == doctest::Approx(2.0 * 0.8 * 0.8 * 0.8));

  V loss = w * w;
  ag::backward(loss, {.retain_graph = true});
  w.mutable_value() -= 0.1;
  CHECK(contains(backward_error([&] { ag::backward(loss); }), "changed in place"));
}

// For every op: change each value its graph holds (each input, then the output) in place after the
// op ran. backward must then either refuse, or return the gradient of the function as it was
// recorded. An op that declares it does not read a value its rule does read fails here.
TEST_CASE("no op returns a wrong gradient after a change in place: it refuses or is right") {
  using Op = std::function<V(const std::vector<V>&)>;
  const std::vector<std::pair<std::string, std::pair<Op, std::vector<ag::Shape>>>> ops = {
      {"add", {[](const auto& x) { return x[0] + x[1]; }, {{2, 3}, {3}}}},
      {"sub", {[](const auto& x) { return x[0] - x[1]; }, {{2, 3}, {3}}}},
      {"mul", {[](const auto& x) { return x[0] * x[1]; }, {{2, 3}, {3}}}},
      {"div", {[](const auto& x) { return x[0] / x[1]; }, {{2, 3}, {3}}}},
      {"neg", {[](const auto& x) { return -x[0]; }, {{2, 3}}}},
      {"pow", {[](const auto& x) { return ag::pow(x[0], x[1]); }, {{2, 3}, {3}}}},
      {"exp", {[](const auto& x) { return ag::exp(x[0]); }, {{2, 3}}}},
      {"log", {[](const auto& x) { return ag::log(x[0]); }, {{2, 3}}}},
      {"sqrt", {[](const auto& x) { return ag::sqrt(x[0]); }, {{2, 3}}}},
      {"abs", {[](const auto& x) { return ag::abs(x[0]); }, {{2, 3}}}},
      {"tanh", {[](const auto& x) { return ag::tanh(x[0]); }, {{2, 3}}}},
      {"sigmoid", {[](const auto& x) { return ag::sigmoid(x[0]); }, {{2, 3}}}},
      {"relu", {[](const auto& x) { return ag::relu(x[0]); }, {{2, 3}}}},
      {"softplus", {[](const auto& x) { return ag::softplus(x[0]); }, {{2, 3}}}},
      {"log_sigmoid", {[](const auto& x) { return ag::log_sigmoid(x[0]); }, {{2, 3}}}},
      {"logistic_loss", {[](const auto& x) { return ag::logistic_loss(x[0], x[1]); }, {{2, 3}, {2, 3}}}},
      {"clamp", {[](const auto& x) { return ag::clamp(x[0], 0.9, 1.6); }, {{2, 3}}}},
      {"where", {[](const auto& x) { return ag::where(ag::gt(x[0], x[1]), x[0] * 2.0, x[1]); }, {{2, 3}, {2, 3}}}},
      {"matmul", {[](const auto& x) { return ag::matmul(x[0], x[1]); }, {{2, 3}, {3, 2}}}},
      {"transpose", {[](const auto& x) { return ag::transpose(x[0]); }, {{2, 3}}}},
      {"max", {[](const auto& x) { return ag::max(x[0], {1}); }, {{2, 3}}}},
      {"logsumexp", {[](const auto& x) { return ag::logsumexp(x[0], {1}); }, {{2, 3}}}},
      {"softmax", {[](const auto& x) { return ag::softmax(x[0]); }, {{2, 3}}}},
      {"slice", {[](const auto& x) { return ag::slice(x[0], 1, 0, 2); }, {{2, 3}}}},
      {"gather_rows",
       {[](const auto& x) {
          return ag::gather_rows(x[0], {1, 1, 0});
        },
        {{2, 3}}}},
      {"broadcast_to",
       {[](const auto& x) {
          return ag::broadcast_to(x[0], {2, 3});
        },
        {{3}}}},
  };
  for (const auto& [op_name, op_and_shapes] : ops) {
    const std::string& name = op_name;  // doctest's CAPTURE is a lambda: clang 14 cannot capture a binding
    const auto& [op, shapes] = op_and_shapes;
    std::vector<Tensor<double>> values;
    for (const ag::Shape& s : shapes) values.push_back(test::uniform(s, 0.5, 2.0));
    const auto fresh = [&values] {
      std::vector<V> x;
      for (const auto& t : values) x.push_back(leaf(t));
      return x;
    };
    std::vector<V> ref_x = fresh();
    const V ref_y = op(ref_x);
    const V seed(test::uniform(ref_y.shape()));
    const std::vector<V> expected = ag::grad(ref_y, ref_x, seed);

    for (std::size_t changed = 0; changed <= values.size(); ++changed) {  // each input, then the output
      CAPTURE(name);
      CAPTURE(changed);
      std::vector<V> x = fresh();
      V y = op(x);
      if (changed < x.size()) {
        x[changed].mutable_value() += 0.25;
      } else {
        y.mutable_value() += 0.25;
      }
      try {
        const std::vector<V> got = ag::grad(y, x, seed);
        for (std::size_t i = 0; i < x.size(); ++i) {
          CHECK(xt::allclose(got[i].value(), expected[i].value(), 1e-12, 1e-12));
        }
      } catch (const ag::BackwardError& e) {
        CHECK(contains(e.what(), "changed in place"));
      }
    }
  }
}
