// The op table: every differentiable op of the engine and its derivative.
//
// g is the gradient arriving at the op's output y; each line gives the gradient sent to each
// input, before the engine sums it back to that input's shape (broadcasting). Ops marked
// "composite" are built from the others and need no rule of their own. Each implementation file
// repeats its rows beside the code, forward and backward side by side.
//
//   add(a, b)            a: g                    b: g
//   sub(a, b)            a: g                    b: -g
//   mul(a, b)            a: g * b                b: g * a
//   div(a, b)            a: g / b                b: -g * y / b
//   neg(a)               a: -g
//   pow(a, b)            a: g * b * a^(b-1)      b: g * y * log(a)
//   exp(a)               a: g * y
//   log(a)               a: g / a
//   sqrt(a)              a: g / (2 y)
//   abs(a)               a: g * sign(a)          (0 at a = 0)
//   tanh(a)              a: g * (1 - y^2)
//   sigmoid(a)           a: g * y * (1 - y)
//   relu(a)              a: g * [a > 0]
//   softplus(a)          a: g * sigmoid(a)       (log(1 + e^a), computed without overflow)
//   log_sigmoid(a)       a: g * sigmoid(-a)      (computed without overflow)
//   logistic_loss(z, t)  z: g * (sigmoid(z) - t)    t: -g * z   (softplus(z) - t z, the
//                                                 cross-entropy of sigmoid(z) against t; fused
//                                                 for stability and speed, see elementwise.cpp)
//   step(a)              a: 0                    ([a >= 0]: the perceptron's threshold; its
//                                                 derivative is 0 wherever it exists)
//   clamp(a, lo, hi)     a: g * [lo <= a <= hi]
//   where(c, a, b)       a: where(c, g, 0)       b: where(c, 0, g)      (c: no gradient)
//   gt lt ge le eq ne    no gradient: they return 0/1 constants
//   matmul(a, b)         a: g b^T                b: a^T g               (transposes folded into
//                                                 BLAS flags; batched over leading dimensions)
//   transpose(a, perm)   a: transpose(g, perm^-1)
//   reshape(a, shape)    a: reshape(g, a.shape)
//   broadcast_to(a, s)   a: sum_to(g, a.shape)
//   sum_to(a, s)         a: broadcast_to(g, a.shape)
//   slice(a, ax, i, j)   a: unslice(g, ...)      (zeros outside the slice)
//   unslice(g, ...)      g: slice(...)
//   gather_rows(a, idx)  a: scatter_add_rows(g, idx, rows(a))
//   scatter_add_rows     g: gather_rows(g, idx)
//   concat(xs, axis)     x_i: the slice of g that x_i filled
//   max(a, axes)         a: g * [a == y] / count(a == y)   (ties share the gradient)
//   sum, mean, stack, logsumexp, log_softmax, softmax, min: composite
//
// Every binary op broadcasts like numpy and throws ShapeError naming itself and both shapes
// when its operands cannot be broadcast.
#pragma once

#include <initializer_list>
#include <type_traits>
#include <vector>

#include "autograd/variable.hpp"

namespace ag {

template <class T>
using Scalar = std::type_identity_t<T>;  // a plain number beside a Variable<T>: 2.0 * x

// Arithmetic (ops/arithmetic.cpp)
template <class T> Variable<T> add(const Variable<T>& a, const Variable<T>& b);
template <class T> Variable<T> sub(const Variable<T>& a, const Variable<T>& b);
template <class T> Variable<T> mul(const Variable<T>& a, const Variable<T>& b);
template <class T> Variable<T> div(const Variable<T>& a, const Variable<T>& b);
template <class T> Variable<T> neg(const Variable<T>& a);
template <class T> Variable<T> pow(const Variable<T>& a, const Variable<T>& b);
template <class T> Variable<T> pow(const Variable<T>& a, Scalar<T> exponent);

// Elementwise functions (ops/elementwise.cpp)
template <class T> Variable<T> exp(const Variable<T>& a);
template <class T> Variable<T> log(const Variable<T>& a);
template <class T> Variable<T> sqrt(const Variable<T>& a);
template <class T> Variable<T> abs(const Variable<T>& a);
template <class T> Variable<T> tanh(const Variable<T>& a);
template <class T> Variable<T> sigmoid(const Variable<T>& a);
template <class T> Variable<T> relu(const Variable<T>& a);
template <class T> Variable<T> softplus(const Variable<T>& a);
template <class T> Variable<T> log_sigmoid(const Variable<T>& a);
template <class T> Variable<T> step(const Variable<T>& a);
template <class T> Variable<T> logistic_loss(const Variable<T>& z, const Variable<T>& target);
template <class T> Variable<T> clamp(const Variable<T>& a, Scalar<T> lo, Scalar<T> hi);

// Comparisons and selection (ops/compare.cpp)
template <class T> Variable<T> gt(const Variable<T>& a, const Variable<T>& b);
template <class T> Variable<T> ge(const Variable<T>& a, const Variable<T>& b);
template <class T> Variable<T> lt(const Variable<T>& a, const Variable<T>& b);
template <class T> Variable<T> le(const Variable<T>& a, const Variable<T>& b);
template <class T> Variable<T> eq(const Variable<T>& a, const Variable<T>& b);
template <class T> Variable<T> ne(const Variable<T>& a, const Variable<T>& b);
// Elementwise `condition != 0 ? a : b`, broadcasting all three.
template <class T> Variable<T> where(const Variable<T>& condition, const Variable<T>& a, const Variable<T>& b);

// Matrix product (ops/matmul.cpp). 2-D operands multiply as matrices; operands of higher rank
// are stacks of matrices whose leading dimensions broadcast; a 1-D operand is a row (left) or a
// column (right) vector and its dimension is dropped from the result, as in numpy.
// `transpose_a`/`transpose_b` use the transposed last two dimensions without copying.
template <class T>
Variable<T> matmul(const Variable<T>& a, const Variable<T>& b, bool transpose_a = false, bool transpose_b = false);

// Shapes (ops/shape.cpp). Shapes given to reshape may hold one -1, inferred from the size.
template <class T> Variable<T> reshape(const Variable<T>& a, const std::vector<long>& shape);
template <class T> Variable<T> flatten(const Variable<T>& a);  // composite: reshape to [size]
// Permutes the axes; without `perm`, swaps the last two.
template <class T> Variable<T> transpose(const Variable<T>& a, const std::vector<std::size_t>& perm = {});
template <class T> Variable<T> broadcast_to(const Variable<T>& a, const Shape& shape);
// Sums over the dimensions that broadcasting `shape` up to a.shape() would have added.
template <class T> Variable<T> sum_to(const Variable<T>& a, const Shape& shape);
// Elements start, start + step, ... < stop along `axis` (negative start/stop count from the end).
template <class T> Variable<T> slice(const Variable<T>& a, long axis, long start, long stop, long step = 1);
// The adjoint of slice: a tensor of `shape`, zero but for `a` placed where slice would read it.
template <class T>
Variable<T> unslice(const Variable<T>& a, const Shape& shape, long axis, long start, long stop, long step = 1);
// Rows (entries along axis 0) picked by index, repeats allowed: a minibatch, an embedding lookup.
template <class T> Variable<T> gather_rows(const Variable<T>& a, const std::vector<std::size_t>& rows);
// The adjoint of gather_rows: `row_count` zero rows, row rows[i] adding a's row i.
template <class T>
Variable<T> scatter_add_rows(const Variable<T>& a, const std::vector<std::size_t>& rows, std::size_t row_count);
template <class T> Variable<T> concat(const std::vector<Variable<T>>& parts, long axis = 0);
template <class T> Variable<T> stack(const std::vector<Variable<T>>& parts, long axis = 0);
// The same from a brace list, whose type is then deduced: ag::concat({a, b}), ag::stack({a, b}, 1).
template <class T>
Variable<T> concat(std::initializer_list<Variable<T>> parts, long axis = 0) {
  return concat(std::vector<Variable<T>>(parts), axis);
}
template <class T>
Variable<T> stack(std::initializer_list<Variable<T>> parts, long axis = 0) {
  return stack(std::vector<Variable<T>>(parts), axis);
}

// Reductions (ops/reduce.cpp). Empty `axes` means all of them.
template <class T> Variable<T> sum(const Variable<T>& a, const std::vector<long>& axes = {}, bool keepdims = false);
template <class T> Variable<T> mean(const Variable<T>& a, const std::vector<long>& axes = {}, bool keepdims = false);
template <class T> Variable<T> max(const Variable<T>& a, const std::vector<long>& axes = {}, bool keepdims = false);
template <class T> Variable<T> min(const Variable<T>& a, const std::vector<long>& axes = {}, bool keepdims = false);
template <class T>
Variable<T> logsumexp(const Variable<T>& a, const std::vector<long>& axes = {}, bool keepdims = false);
template <class T> Variable<T> softmax(const Variable<T>& a, long axis = -1);
template <class T> Variable<T> log_softmax(const Variable<T>& a, long axis = -1);

// Operators, with plain numbers on either side.
template <class T> Variable<T> operator+(const Variable<T>& a, const Variable<T>& b) { return add(a, b); }
template <class T> Variable<T> operator-(const Variable<T>& a, const Variable<T>& b) { return sub(a, b); }
template <class T> Variable<T> operator*(const Variable<T>& a, const Variable<T>& b) { return mul(a, b); }
template <class T> Variable<T> operator/(const Variable<T>& a, const Variable<T>& b) { return div(a, b); }
template <class T> Variable<T> operator-(const Variable<T>& a) { return neg(a); }
template <class T> Variable<T> operator+(const Variable<T>& a, Scalar<T> b) { return add(a, constant<T>(b)); }
template <class T> Variable<T> operator-(const Variable<T>& a, Scalar<T> b) { return sub(a, constant<T>(b)); }
template <class T> Variable<T> operator*(const Variable<T>& a, Scalar<T> b) { return mul(a, constant<T>(b)); }
template <class T> Variable<T> operator/(const Variable<T>& a, Scalar<T> b) { return div(a, constant<T>(b)); }
template <class T> Variable<T> operator+(Scalar<T> a, const Variable<T>& b) { return add(constant<T>(a), b); }
template <class T> Variable<T> operator-(Scalar<T> a, const Variable<T>& b) { return sub(constant<T>(a), b); }
template <class T> Variable<T> operator*(Scalar<T> a, const Variable<T>& b) { return mul(constant<T>(a), b); }
template <class T> Variable<T> operator/(Scalar<T> a, const Variable<T>& b) { return div(constant<T>(a), b); }

}  // namespace ag
