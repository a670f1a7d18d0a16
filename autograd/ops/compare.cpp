// Comparisons and selection. Comparisons return 0/1 constants, never part of the graph (no rule).
#include "autograd/ops/common.hpp"

namespace ag {

using detail::elementwise;

namespace {

template <class T, class F>
Variable<T> compare(const char* op, const Variable<T>& a, const Variable<T>& b, F f) {
  return Variable<T>(elementwise(op, a, b, [&](const auto& x, const auto& y) { return xt::cast<T>(f(x, y)); }));
}

}  // namespace

template <class T>
Variable<T> gt(const Variable<T>& a, const Variable<T>& b) {
  return compare("gt", a, b, [](const auto& x, const auto& y) { return x > y; });
}
template <class T>
Variable<T> ge(const Variable<T>& a, const Variable<T>& b) {
  return compare("ge", a, b, [](const auto& x, const auto& y) { return x >= y; });
}
template <class T>
Variable<T> lt(const Variable<T>& a, const Variable<T>& b) {
  return compare("lt", a, b, [](const auto& x, const auto& y) { return x < y; });
}
template <class T>
Variable<T> le(const Variable<T>& a, const Variable<T>& b) {
  return compare("le", a, b, [](const auto& x, const auto& y) { return x <= y; });
}
template <class T>
Variable<T> eq(const Variable<T>& a, const Variable<T>& b) {
  return compare("eq", a, b, [](const auto& x, const auto& y) { return xt::equal(x, y); });
}
template <class T>
Variable<T> ne(const Variable<T>& a, const Variable<T>& b) {
  return compare("ne", a, b, [](const auto& x, const auto& y) { return xt::not_equal(x, y); });
}

const Primitive op_where("where");
template <class T>
Variable<T> where(const Variable<T>& condition, const Variable<T>& a, const Variable<T>& b) {
  detail::check_broadcast("where", condition.value().shape(), a.value().shape());
  detail::check_broadcast("where", condition.value().shape(), b.value().shape());
  detail::check_broadcast("where", a.value().shape(), b.value().shape());
  Tensor<T> y = xt::where(xt::not_equal(condition.value(), T(0)), a.value(), b.value());
  // The condition gets no gradient (its rule entry is undefined), whether or not it requires one.
  return record<T>(
      op_where, std::move(y), {condition, a, b},
      [](const BackwardContext<T>& c) {
        const Variable<T> zero = constant<T>(0);
        return grads(Variable<T>(), c.needs(1) ? where(c.in[0], c.grad, zero) : Variable<T>(),
                     c.needs(2) ? where(c.in[0], zero, c.grad) : Variable<T>());
      },
      reads::input(0));
}

#define AG_COMPARE(T)                                              \
  template Variable<T> gt(const Variable<T>&, const Variable<T>&); \
  template Variable<T> ge(const Variable<T>&, const Variable<T>&); \
  template Variable<T> lt(const Variable<T>&, const Variable<T>&); \
  template Variable<T> le(const Variable<T>&, const Variable<T>&); \
  template Variable<T> eq(const Variable<T>&, const Variable<T>&); \
  template Variable<T> ne(const Variable<T>&, const Variable<T>&); \
  template Variable<T> where(const Variable<T>&, const Variable<T>&, const Variable<T>&);
AG_INSTANTIATE(AG_COMPARE)

}  // namespace ag
