// Tensors from values and a shape, rows, and brace lists of variables: what ag::tensor, and the
// initializer_list overloads of concat and stack, give.
#include "test_util.hpp"

using ag::Tensor;
using test::contains;
using test::error_of;

TEST_CASE("tensor: values and a shape, float by default") {
  const auto t = ag::tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(t)>, Tensor<float>>);
  CHECK(t == Tensor<float>{{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}});
  const auto column = ag::tensor<double>({1, -3}, {2, 1});
  CHECK(column.shape().size() == 2);
  CHECK(column(0, 0) == 1.0);
  CHECK(column(1, 0) == -3.0);
  CHECK(ag::tensor<double>({7.5}, {}).dimension() == 0);  // a 0-d tensor: one value, no dimensions
  CHECK(ag::tensor<double>({7.5}, {})() == 7.5);
  CHECK(ag::tensor<double>({}, {0, 3}).size() == 0);
}

TEST_CASE("tensor: a count of values that does not fill the shape names both") {
  const std::string message = error_of<ag::ShapeError>([] { ag::tensor({1, 2, 3, 4, 5}, {2, 3}); });
  CHECK(contains(message, "5 values"));
  CHECK(contains(message, "[2, 3]"));
  CHECK(contains(message, "holds 6"));
  CHECK(contains(error_of<ag::ShapeError>([] { ag::tensor({1, 2}, {1}); }), "2 values"));
}

TEST_CASE("tensor: rows, a column among them") {
  const auto column = ag::tensor<double>({{1}, {-3}});
  CHECK(ag::to_shape(column.shape()) == ag::Shape{2, 1});
  CHECK(column == ag::tensor<double>({1, -3}, {2, 1}));
  const auto matrix = ag::tensor({{1, 2}, {3, 4}, {5, 6}});
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(matrix)>, Tensor<float>>);
  CHECK(matrix == Tensor<float>{{1.0f, 2.0f}, {3.0f, 4.0f}, {5.0f, 6.0f}});
  const std::string ragged = error_of<ag::ShapeError>([] { ag::tensor({{1, 2}, {3}}); });
  CHECK(contains(ragged, "1 values"));
  CHECK(contains(ragged, "[2]"));
}

TEST_CASE("concat and stack take a brace list of variables without an explicit type") {
  const ag::Variable<double> a(ag::tensor<double>({1, 2}, {1, 2})), b(ag::tensor<double>({3, 4}, {1, 2}));
  CHECK(ag::concat({a, b}).value() == ag::tensor<double>({1, 2, 3, 4}, {2, 2}));
  CHECK(ag::concat({a, b}, 1).value() == ag::tensor<double>({1, 2, 3, 4}, {1, 4}));
  CHECK(ag::stack({a, b}).value() == ag::tensor<double>({1, 2, 3, 4}, {2, 1, 2}));
  CHECK(ag::stack({a, b}, -1).value() == ag::tensor<double>({1, 3, 2, 4}, {1, 2, 2}));
  const ag::Variable<float> x(ag::tensor({5}, {1}), true);
  const ag::Variable<float> y = ag::sum(ag::concat({x, x * 2.0f}));
  ag::backward(y);
  CHECK(x.grad().item() == 3.0f);
}
