// Reductions. max is the one primitive here; the others are composites of the engine's ops and
// need no rule of their own: sum is sum_to then reshape, mean is sum / count, min is -max(-a),
// logsumexp shifts by a constant max (no overflow; m cancels from the gradient), log_softmax is
// a - logsumexp(a), softmax is exp(log_softmax(a)).
#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "autograd/ops/common.hpp"

namespace ag {

namespace {

// The shape of a reduction with keepdims: reduced axes become 1.
Shape kept_shape(const Shape& shape, const std::vector<std::size_t>& axes) {
  Shape kept = shape;
  for (std::size_t a : axes) kept[a] = 1;
  return kept;
}

// The shape of a reduction without keepdims: reduced axes removed.
std::vector<long> dropped_shape(const Shape& shape, const std::vector<std::size_t>& axes) {
  std::vector<long> out;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (std::find(axes.begin(), axes.end(), i) == axes.end()) out.push_back(static_cast<long>(shape[i]));
  }
  return out;
}

template <class T>
Variable<T> finish(const Variable<T>& kept, const Shape& input_shape, const std::vector<std::size_t>& axes,
                   bool keepdims) {
  return keepdims ? kept : reshape(kept, dropped_shape(input_shape, axes));
}

}  // namespace

template <class T>
Variable<T> sum(const Variable<T>& a, const std::vector<long>& axes, bool keepdims) {
  const std::vector<std::size_t> ax = normalize_axes("sum", axes, a.ndim());
  const Shape shape = a.shape();
  const bool leading = !ax.empty() && ax.back() + 1 == ax.size();  // axes 0..k-1, whole tensor included
  if (!keepdims && leading) return sum_to(a, Shape(shape.begin() + static_cast<long>(ax.size()), shape.end()));
  return finish(sum_to(a, kept_shape(shape, ax)), shape, ax, keepdims);
}

template <class T>
Variable<T> mean(const Variable<T>& a, const std::vector<long>& axes, bool keepdims) {
  const std::vector<std::size_t> ax = normalize_axes("mean", axes, a.ndim());
  std::size_t count = 1;
  for (std::size_t i : ax) count *= a.shape()[i];
  return div(sum(a, axes, keepdims), constant<T>(static_cast<T>(count)));
}

const Primitive op_max("max");
template <class T>
Variable<T> max(const Variable<T>& a, const std::vector<long>& axes, bool keepdims) {
  const std::vector<std::size_t> ax = normalize_axes("max", axes, a.ndim());
  for (std::size_t i : ax) {
    if (a.shape()[i] == 0)
      throw ShapeError(fmt::format("max: cannot reduce an empty axis {} of shape {}", i, shape_str(a.shape())));
  }
  const Shape kept = kept_shape(a.shape(), ax);
  Tensor<T> y = detail::reduce_to(a.value(), kept, -std::numeric_limits<T>::infinity(),
                                  [](T acc, T x) { return x > acc || std::isnan(x) ? x : acc; });
  Variable<T> m = record<T>(
      op_max, std::move(y), {a},
      [](const BackwardContext<T>& c) {  // g * [a == y] / count(a == y): ties share the gradient
        const Variable<T> winners = eq(c.in[0], c.out);
        const Variable<T> count = sum_to(winners, c.out.shape());
        return grads(mul(div(c.grad, count), winners));
      },
      reads::input(0) | reads::output);
  return finish(m, a.shape(), ax, keepdims);
}

template <class T>
Variable<T> min(const Variable<T>& a, const std::vector<long>& axes, bool keepdims) {
  return neg(max(neg(a), axes, keepdims));
}

namespace {

// A composite op's own steps run without anomaly checks, and its result is checked instead: a
// masked -inf shifted by its row's max is an infinite intermediate, no anomaly, when the result
// is finite (DetectAnomaly names the op the user called, not one of its steps).
template <class T, class Steps>
Variable<T> composite(const char* op, Steps steps) {
  const bool checking = anomaly_mode();
  Variable<T> y;
  {
    AnomalyModeGuard steps_unchecked(false);
    y = steps();
  }
  if (checking) check_finite(op, "forward", y.value());
  return y;
}

}  // namespace

template <class T>
Variable<T> logsumexp(const Variable<T>& a, const std::vector<long>& axes, bool keepdims) {
  const std::vector<std::size_t> ax = normalize_axes("logsumexp", axes, a.ndim());
  return composite<T>("logsumexp", [&] {
    Variable<T> shift;
    {
      NoGrad constant_shift;  // a constant of the graph, without copying `a` to detach it
      shift = max(a, axes, true);
    }
    // A slice that is all -inf has logsumexp -inf; shifting by 0 there keeps it from turning into NaN.
    shift.mutable_value() = xt::where(xt::isfinite(shift.value()), shift.value(), T(0));
    Variable<T> kept = add(log(sum(exp(sub(a, shift)), axes, true)), shift);
    return finish(kept, a.shape(), ax, keepdims);
  });
}

template <class T>
Variable<T> log_softmax(const Variable<T>& a, long axis) {
  return composite<T>("log_softmax", [&] { return sub(a, logsumexp(a, {axis}, true)); });
}

template <class T>
Variable<T> softmax(const Variable<T>& a, long axis) {
  return composite<T>("softmax", [&] { return exp(log_softmax(a, axis)); });
}

#define AG_REDUCE(T)                                                                  \
  template Variable<T> sum(const Variable<T>&, const std::vector<long>&, bool);       \
  template Variable<T> mean(const Variable<T>&, const std::vector<long>&, bool);      \
  template Variable<T> max(const Variable<T>&, const std::vector<long>&, bool);       \
  template Variable<T> min(const Variable<T>&, const std::vector<long>&, bool);       \
  template Variable<T> logsumexp(const Variable<T>&, const std::vector<long>&, bool); \
  template Variable<T> log_softmax(const Variable<T>&, long);                         \
  template Variable<T> softmax(const Variable<T>&, long);
AG_INSTANTIATE(AG_REDUCE)

}  // namespace ag
