// Elementwise functions. Each rule is written once, as f(g, x, y) (incoming gradient, input,
// output) over variables or, without create_graph, over tensors (common.hpp's elementwise_rule).
//
// Masks such as [a > 0] are constants of the graph, so every rule here is itself
// differentiable: second derivatives come out right away from the kinks.
#include "autograd/ops/common.hpp"

namespace ag {

using detail::elementwise_rule;

const Primitive op_exp("exp");
template <class T>
Variable<T> exp(const Variable<T>& a) {
  return record<T>(
      op_exp, detail::evaluate([](const auto& x) { return xt::exp(x); }, a.value()), {a},
      [](const BackwardContext<T>& c) {
        return grads(elementwise_rule(c, [](const auto& g, const auto&, const auto& y) { return g * y; }));
      },
      reads::output);
}

const Primitive op_log("log");
template <class T>
Variable<T> log(const Variable<T>& a) {
  return record<T>(
      op_log, detail::evaluate([](const auto& x) { return xt::log(x); }, a.value()), {a},
      [](const BackwardContext<T>& c) {
        return grads(elementwise_rule(c, [](const auto& g, const auto& x, const auto&) { return g / x; }));
      },
      reads::input(0));
}

const Primitive op_sqrt("sqrt");
template <class T>
Variable<T> sqrt(const Variable<T>& a) {
  return record<T>(
      op_sqrt, detail::evaluate([](const auto& x) { return xt::sqrt(x); }, a.value()), {a},
      [](const BackwardContext<T>& c) {
        return grads(elementwise_rule(c, [](const auto& g, const auto&, const auto& y) { return g / (T(2) * y); }));
      },
      reads::output);
}

const Primitive op_abs("abs");
template <class T>
Variable<T> abs(const Variable<T>& a) {
  return record<T>(
      op_abs, detail::evaluate([](const auto& x) { return xt::abs(x); }, a.value()), {a},
      [](const BackwardContext<T>& c) {
        return grads(
            elementwise_rule(c, [](const auto& g, const auto& x, const auto&) { return g * detail::sign_of(x); }));
      },
      reads::input(0));
}

const Primitive op_tanh("tanh");
template <class T>
Variable<T> tanh(const Variable<T>& a) {
  return record<T>(
      op_tanh, detail::evaluate([](const auto& x) { return xt::tanh(x); }, a.value()), {a},
      [](const BackwardContext<T>& c) {
        return grads(elementwise_rule(c, [](const auto& g, const auto&, const auto& y) { return g * (T(1) - y * y); }));
      },
      reads::output);
}

const Primitive op_sigmoid("sigmoid");
template <class T>
Variable<T> sigmoid(const Variable<T>& a) {
  // 1 / (1 + e^-a) would overflow e^-a for a very negative; sigmoid_of never does.
  return record<T>(
      op_sigmoid, detail::sigmoid_of(a.value()), {a},
      [](const BackwardContext<T>& c) {
        return grads(elementwise_rule(c, [](const auto& g, const auto&, const auto& y) { return g * y * (T(1) - y); }));
      },
      reads::output);
}

const Primitive op_relu("relu");
template <class T>
Variable<T> relu(const Variable<T>& a) {
  return record<T>(
      op_relu, detail::evaluate([](const auto& x) { return xt::maximum(x, T(0)); }, a.value()), {a},
      [](const BackwardContext<T>& c) {
        return grads(
            elementwise_rule(c, [](const auto& g, const auto& x, const auto&) { return g * detail::positive(x); }));
      },
      reads::input(0));
}

const Primitive op_softplus("softplus");
template <class T>
Variable<T> softplus(const Variable<T>& a) {
  // log(1 + e^a) = max(a, 0) + log1p(e^-|a|): no overflow for large a, no lost digits for small.
  Tensor<T> y =
      detail::evaluate([](const auto& x) { return xt::maximum(x, T(0)) + xt::log1p(xt::exp(-xt::abs(x))); }, a.value());
  return record<T>(
      op_softplus, std::move(y), {a},
      [](const BackwardContext<T>& c) {
        return grads(
            elementwise_rule(c, [](const auto& g, const auto& x, const auto&) { return g * detail::sigmoid_of(x); }));
      },
      reads::input(0));
}

const Primitive op_log_sigmoid("log_sigmoid");
template <class T>
Variable<T> log_sigmoid(const Variable<T>& a) {
  // log(sigmoid(a)) = -softplus(-a) = min(a, 0) - log1p(e^-|a|).
  Tensor<T> y =
      detail::evaluate([](const auto& x) { return xt::minimum(x, T(0)) - xt::log1p(xt::exp(-xt::abs(x))); }, a.value());
  return record<T>(
      op_log_sigmoid, std::move(y), {a},
      [](const BackwardContext<T>& c) {
        return grads(
            elementwise_rule(c, [](const auto& g, const auto& x, const auto&) { return g * detail::sigmoid_of(-x); }));
      },
      reads::input(0));
}

const Primitive op_step("step");
template <class T>
Variable<T> step(const Variable<T>& a) {
  // The threshold unit: recorded so that it sits in the graph like any activation, with the
  // derivative it has almost everywhere, 0. Learning through it takes the perceptron rule.
  return record<T>(
      op_step, detail::evaluate([](const auto& x) { return xt::cast<T>(x >= T(0)); }, a.value()), {a},
      [](const BackwardContext<T>&) { return grads(Variable<T>()); }, reads::nothing);
}

const Primitive op_logistic_loss("logistic_loss");
template <class T>
Variable<T> logistic_loss(const Variable<T>& z, const Variable<T>& target) {
  // softplus(z) - t z: -t log(sigmoid(z)) - (1 - t) log(1 - sigmoid(z)), elementwise, without
  // overflow. A primitive rather than its four-op composition: libtorch fuses it too, and the
  // course-step benchmark spends a third of its nodes on the composition.
  Tensor<T> y = detail::elementwise("logistic_loss", z, target, [](const auto& x, const auto& t) {
    return xt::maximum(x, T(0)) + xt::log1p(xt::exp(-xt::abs(x))) - t * x;
  });
  return record<T>(
      op_logistic_loss, std::move(y), {z, target},
      [](const BackwardContext<T>& c) {
        Variable<T> dz, dt;
        if (c.needs(0)) {
          dz =
              detail::fused([](const auto& g, const auto& x, const auto& t) { return g * (detail::sigmoid_of(x) - t); },
                            c.grad, c.in[0], c.in[1]);
        }
        if (c.needs(1)) dt = detail::fused([](const auto& g, const auto& x) { return -(g * x); }, c.grad, c.in[0]);
        return grads(dz, dt);
      },
      reads::input(0) | reads::input(1));
}

const Primitive op_clamp("clamp");
template <class T>
Variable<T> clamp(const Variable<T>& a, Scalar<T> lo, Scalar<T> hi) {
  if (lo > hi) throw std::invalid_argument("clamp: lo is greater than hi");
  return record<T>(
      op_clamp, detail::evaluate([lo, hi](const auto& x) { return xt::clip(x, T(lo), T(hi)); }, a.value()), {a},
      [lo, hi](const BackwardContext<T>& c) {
        return grads(elementwise_rule(
            c, [lo, hi](const auto& g, const auto& x, const auto&) { return g * detail::within(x, T(lo), T(hi)); }));
      },
      reads::input(0));
}

#define AG_ELEMENTWISE(T)                                                     \
  template Variable<T> exp(const Variable<T>&);                               \
  template Variable<T> log(const Variable<T>&);                               \
  template Variable<T> sqrt(const Variable<T>&);                              \
  template Variable<T> abs(const Variable<T>&);                               \
  template Variable<T> tanh(const Variable<T>&);                              \
  template Variable<T> sigmoid(const Variable<T>&);                           \
  template Variable<T> relu(const Variable<T>&);                              \
  template Variable<T> softplus(const Variable<T>&);                          \
  template Variable<T> log_sigmoid(const Variable<T>&);                       \
  template Variable<T> step(const Variable<T>&);                              \
  template Variable<T> logistic_loss(const Variable<T>&, const Variable<T>&); \
  template Variable<T> clamp(const Variable<T>&, Scalar<T>, Scalar<T>);
AG_INSTANTIATE(AG_ELEMENTWISE)

}  // namespace ag
