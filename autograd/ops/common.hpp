// Helpers shared by the op implementations; not part of the public API.
#pragma once

#include <memory>
#include <vector>
#include <xtensor/xadapt.hpp>
#include <xtensor/xbroadcast.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>
#include <xtensor/xtensor.hpp>

#include "autograd/allocator.hpp"
#include "autograd/instantiate.hpp"
#include "autograd/ops.hpp"
#include "autograd/parallel.hpp"
#include "autograd/tape.hpp"

namespace ag::detail {

// Row indices for gather_rows and scatter_add_rows, shared between an op and the rules recorded
// from it, held in the engine's block cache (max pooling keeps one per step).
using RowIndexVector = std::vector<std::size_t, CachingAllocator<std::size_t>>;
using RowIndices = std::shared_ptr<const RowIndexVector>;
inline RowIndices row_indices(const std::vector<std::size_t>& rows) {
  return std::make_shared<const RowIndexVector>(rows.begin(), rows.end());
}
template <class T>
Variable<T> gather_rows(const Variable<T>& a, RowIndices rows);
template <class T>
Variable<T> scatter_add_rows(const Variable<T>& a, RowIndices rows, std::size_t row_count);

// Throws ShapeError naming `op` unless the operands broadcast; equal shapes, the common case,
// cost one comparison.
template <class A, class B>
void check_broadcast(const char* op, const A& a, const B& b) {
  if (a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin())) return;
  broadcast_shapes(op, to_shape(a), to_shape(b));
}

// Rows [begin, end) of `t` along the first axis of an output of shape `out`, as an expression of
// t's rank; all of t when its first axis is broadcast there (size 1, or missing).
template <class T>
auto rows_of(const Tensor<T>& t, const Shape& out, std::size_t begin, std::size_t end) {
  Shape shape = to_shape(t.shape());
  std::size_t offset = 0;
  if (shape.size() == out.size() && shape[0] == out[0]) {
    const std::size_t row = t.size() / shape[0];
    offset = begin * row;
    shape[0] = end - begin;
  }
  return xt::adapt(t.data() + offset, element_count(shape), xt::no_ownership(), shape);
}

// f(inputs...) evaluated into a new tensor, f an elementwise expression of its arguments that
// broadcast to `out`. Large outputs are split by rows over the threads, each evaluating f on its
// rows of each input (parallel.hpp); small ones are evaluated here, as plain xtensor would.
template <class T, class F, class... Inputs>
Tensor<T> evaluate(F f, const Tensor<T>& first, const Inputs&... rest) {
  const std::size_t largest = std::max({first.size(), rest.size()...});
  if (!parallel_pays(largest, largest * (2 + sizeof...(rest)))) {
    return Tensor<T>(f(first, rest...));
  }
  Shape out = to_shape(first.shape());
  [[maybe_unused]] const auto widen = [&](const Tensor<T>& t) {
    if (!shapes_equal(first, t)) out = broadcast_shapes("elementwise", out, to_shape(t.shape()));
  };
  (widen(rest), ...);
  if (out.empty() || out[0] < 2) return Tensor<T>(f(first, rest...));
  Tensor<T> result = uninitialized<T>(out);
  const std::size_t row = result.size() / out[0];
  run_parallel(out[0], [&](std::size_t begin, std::size_t end) {
    Shape block = out;
    block[0] = end - begin;
    auto dst = xt::adapt(result.data() + begin * row, (end - begin) * row, xt::no_ownership(), block);
    xt::noalias(dst) = f(rows_of(first, out, begin, end), rows_of(rest, out, begin, end)...);
  });
  return result;
}

// The value of a binary elementwise op, after its shape check.
template <class T, class F>
Tensor<T> elementwise(const char* op, const Variable<T>& a, const Variable<T>& b, F f) {
  check_broadcast(op, a.value().shape(), b.value().shape());
  return evaluate(f, a.value(), b.value());
}

// Reduces `in` to `kept` (same rank, reduced axes 1, or a shape missing leading axes) with
// `combine(acc, x)`, starting from `init`. One pass over the input in memory order; along the
// innermost axis the loop is either elementwise (kept) or a running fold (reduced), both of which
// the compiler vectorises. xtensor's own reducers are avoided: in 0.24 they crash on 0-d results.
template <class T, class Combine>
Tensor<T> reduce_to(const Tensor<T>& in, const Shape& kept, T init, Combine combine) {
  const Shape shape = to_shape(in.shape());
  Tensor<T> out = full<T>(kept, init);
  if (in.size() == 0) return out;
  const std::size_t rank = shape.size(), lead = rank - kept.size();
  if (rank == 0) {
    out.data()[0] = combine(init, in.data()[0]);
    return out;
  }
  // The output's stride along each input axis: 0 on axes that are reduced.
  std::vector<std::size_t> out_stride(rank, 0);
  for (std::size_t i = rank, s = 1; i-- > lead;) {
    if (kept[i - lead] != 1 || shape[i] == 1) out_stride[i] = s;
    s *= kept[i - lead];
  }
  const std::size_t inner = shape[rank - 1];
  const bool inner_kept = out_stride[rank - 1] != 0;
  std::vector<std::size_t> index(rank, 0);
  const T* src = in.data();
  T* dst = out.data();
  std::size_t o = 0;
  for (std::size_t done = 0; done < in.size(); done += inner, src += inner) {
    if (inner_kept) {
      for (std::size_t j = 0; j < inner; ++j) dst[o + j] = combine(dst[o + j], src[j]);
    } else {
      T acc = dst[o];
      for (std::size_t j = 0; j < inner; ++j) acc = combine(acc, src[j]);
      dst[o] = acc;
    }
    // Advance the index over the outer axes like an odometer, keeping the output offset in step.
    for (std::size_t axis = rank - 1; axis-- > 0;) {
      o += out_stride[axis];
      if (++index[axis] < shape[axis]) break;
      o -= out_stride[axis] * shape[axis];
      index[axis] = 0;
    }
  }
  return out;
}

// A gradient written once, as an expression `f` over variables. Under create_graph it runs on the
// variables themselves and is recorded like any computation, so it can be differentiated again.
// Otherwise it runs on their values, where xtensor fuses the whole expression into one pass and
// one new tensor (sigmoid's g * y * (1 - y) is then one tensor instead of four variables).
template <class T, class F, class... Vs>
Variable<T> fused(F f, const Variable<T>& first, const Vs&... rest) {
  if (grad_enabled()) return f(first, rest...);
  return Variable<T>(evaluate(f, first.value(), rest.value()...));
}

// The rule of a one-input elementwise op as f(g, a, y): incoming gradient, input, output.
template <class T, class F>
Variable<T> elementwise_rule(const BackwardContext<T>& c, F f) {
  return fused(f, c.grad, c.in[0], c.out);
}

// Helpers such rules use, for variables (constants of the graph, or ops) and for tensor
// expressions (lazy) alike.
template <class T>
Variable<T> sign_of(const Variable<T>& a) {
  return Variable<T>(Tensor<T>(xt::sign(a.value())));
}
template <class E>
auto sign_of(const xt::xexpression<E>& a) {
  return xt::sign(a.derived_cast());
}

template <class T>
Variable<T> positive(const Variable<T>& a) {
  return Variable<T>(Tensor<T>(xt::cast<T>(a.value() > T(0))));
}
template <class E>
auto positive(const xt::xexpression<E>& a) {
  using T = typename E::value_type;
  return xt::cast<T>(a.derived_cast() > T(0));
}

template <class T>
Variable<T> within(const Variable<T>& a, T lo, T hi) {
  return Variable<T>(Tensor<T>(xt::cast<T>(a.value() >= lo && a.value() <= hi)));
}
template <class E, class T>
auto within(const xt::xexpression<E>& a, T lo, T hi) {
  const E& x = a.derived_cast();
  // T(lo), a prvalue, is held by value: `x >= lo` would keep a reference to this function's
  // parameter, dangling once it returns (xtensor keeps lvalue scalars by reference).
  return xt::cast<T>(x >= T(lo) && x <= T(hi));
}

// The logistic function without overflow: with e = exp(-|a|) <= 1, a >= 0 gives 1 / (1 + e) and
// a < 0 gives e / (1 + e).
template <class E>
auto sigmoid_of(const xt::xexpression<E>& a) {
  using T = typename E::value_type;
  const Tensor<T> x = a.derived_cast();
  const Tensor<T> e = xt::exp(-xt::abs(x));
  return Tensor<T>(xt::where(x >= T(0), T(1) / (T(1) + e), e / (T(1) + e)));
}
template <class T>
Variable<T> sigmoid_of(const Variable<T>& a) {
  return sigmoid(a);
}

}  // namespace ag::detail
