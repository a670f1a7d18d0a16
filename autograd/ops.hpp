// The op table: every op of the engine, with what it computes.
//
// A primitive has a gradient rule of its own, written once, beside its forward, in its file under
// ops/ (the rule is the lambda handed to record(), tape.hpp). The others are composites: built from
// primitives, they need no rule. Every binary op broadcasts like numpy and throws ShapeError naming
// itself and both shapes when its operands cannot be broadcast. `ag::primitives()` lists the
// primitives' names.
//
// Adding a primitive takes three steps:
//   1. In its ops/*.cpp: a Primitive constant with its name, the function computing the forward
//      value and handing it to record() with the rule, and its line in the file's instantiation
//      macro (AG_INSTANTIATE). A new file also gets its line in autograd/CMakeLists.txt.
//   2. Declare it here, with a line saying what it computes.
//   3. Add its gradcheck case (random double inputs, broadcast shapes where it broadcasts, second
//      order where it is twice differentiable) to the table in tests/ops_gradcheck_test.cpp: until
//      then that suite fails, naming the primitive that no case checks.
#pragma once

#include <array>
#include <initializer_list>
#include <optional>
#include <type_traits>
#include <vector>

#include "autograd/variable.hpp"

namespace ag {

template <class T>
using Scalar = std::type_identity_t<T>;  // a plain number beside a Variable<T>: 2.0 * x

// Arithmetic (ops/arithmetic.cpp), elementwise with broadcasting.
template <class T>
Variable<T> add(const Variable<T>& a, const Variable<T>& b);  // a + b
template <class T>
Variable<T> sub(const Variable<T>& a, const Variable<T>& b);  // a - b
template <class T>
Variable<T> mul(const Variable<T>& a, const Variable<T>& b);  // a * b
template <class T>
Variable<T> div(const Variable<T>& a, const Variable<T>& b);  // a / b
template <class T>
Variable<T> neg(const Variable<T>& a);  // -a
template <class T>
Variable<T> pow(const Variable<T>& a, const Variable<T>& b);  // a^b
template <class T>
Variable<T> pow(const Variable<T>& a, Scalar<T> exponent);  // a^exponent

// Elementwise functions (ops/elementwise.cpp).
template <class T>
Variable<T> exp(const Variable<T>& a);
template <class T>
Variable<T> log(const Variable<T>& a);  // natural logarithm
template <class T>
Variable<T> sqrt(const Variable<T>& a);
template <class T>
Variable<T> abs(const Variable<T>& a);  // gradient 0 at 0, as in PyTorch
template <class T>
Variable<T> tanh(const Variable<T>& a);
template <class T>
Variable<T> sigmoid(const Variable<T>& a);  // 1 / (1 + e^-a), without overflow
template <class T>
Variable<T> relu(const Variable<T>& a);  // max(a, 0); gradient 0 at 0
template <class T>
Variable<T> softplus(const Variable<T>& a);  // log(1 + e^a), without overflow
template <class T>
Variable<T> log_sigmoid(const Variable<T>& a);  // log(sigmoid(a)), without overflow
// [a >= 0], the perceptron's threshold; its derivative is 0 wherever it exists.
template <class T>
Variable<T> step(const Variable<T>& a);
// softplus(z) - t z: the cross-entropy of sigmoid(z) against t, fused for stability and speed.
template <class T>
Variable<T> logistic_loss(const Variable<T>& z, const Variable<T>& target);
template <class T>
Variable<T> clamp(const Variable<T>& a, Scalar<T> lo, Scalar<T> hi);  // min(max(a, lo), hi)

// Comparisons and selection (ops/compare.cpp). Comparisons return 0/1 constants, outside the graph.
template <class T>
Variable<T> gt(const Variable<T>& a, const Variable<T>& b);
template <class T>
Variable<T> ge(const Variable<T>& a, const Variable<T>& b);
template <class T>
Variable<T> lt(const Variable<T>& a, const Variable<T>& b);
template <class T>
Variable<T> le(const Variable<T>& a, const Variable<T>& b);
template <class T>
Variable<T> eq(const Variable<T>& a, const Variable<T>& b);
template <class T>
Variable<T> ne(const Variable<T>& a, const Variable<T>& b);
// Elementwise `condition != 0 ? a : b`, broadcasting all three; the condition gets no gradient.
template <class T>
Variable<T> where(const Variable<T>& condition, const Variable<T>& a, const Variable<T>& b);

// Matrix product (ops/matmul.cpp). 2-D operands multiply as matrices; operands of higher rank
// are stacks of matrices whose leading dimensions broadcast; a 1-D operand is a row (left) or a
// column (right) vector and its dimension is dropped from the result, as in numpy.
// `transpose_a`/`transpose_b` use the transposed last two dimensions without copying.
template <class T>
Variable<T> matmul(const Variable<T>& a, const Variable<T>& b, bool transpose_a = false, bool transpose_b = false);

// Shapes (ops/shape.cpp). Shapes given to reshape may hold one -1, inferred from the size.
template <class T>
Variable<T> reshape(const Variable<T>& a, const std::vector<long>& shape);
template <class T>
Variable<T> flatten(const Variable<T>& a);  // composite: reshape to [-1]
// Permutes the axes; without `perm`, swaps the last two.
template <class T>
Variable<T> transpose(const Variable<T>& a, const std::vector<std::size_t>& perm = {});
// numpy's broadcast_to: a repeated along the dimensions that broadcasting it to `shape` adds.
template <class T>
Variable<T> broadcast_to(const Variable<T>& a, const Shape& shape);
// The adjoint of broadcast_to: a summed over the dimensions that broadcasting `shape` to a's adds.
template <class T>
Variable<T> sum_to(const Variable<T>& a, const Shape& shape);
// Elements start, start + step, ... < stop along `axis` (negative start/stop count from the end).
template <class T>
Variable<T> slice(const Variable<T>& a, long axis, long start, long stop, long step = 1);
// The adjoint of slice: a tensor of `shape`, zero but for `a` placed where slice would read it.
template <class T>
Variable<T> unslice(const Variable<T>& a, const Shape& shape, long axis, long start, long stop, long step = 1);
// Rows (entries along axis 0) picked by index, repeats allowed: a minibatch, an embedding lookup.
template <class T>
Variable<T> gather_rows(const Variable<T>& a, const std::vector<std::size_t>& rows);
// The adjoint of gather_rows: `row_count` zero rows, row rows[i] adding a's row i.
template <class T>
Variable<T> scatter_add_rows(const Variable<T>& a, const std::vector<std::size_t>& rows, std::size_t row_count);
// The parts joined along an existing axis; they agree on every other dimension.
template <class T>
Variable<T> concat(const std::vector<Variable<T>>& parts, long axis = 0);
// Composite: the parts, all of one shape, joined along a new axis (reshapes, then concat).
template <class T>
Variable<T> stack(const std::vector<Variable<T>>& parts, long axis = 0);
// The same from a brace list, whose type is then deduced: ag::concat({a, b}), ag::stack({a, b}, 1).
template <class T>
Variable<T> concat(std::initializer_list<Variable<T>> parts, long axis = 0) {
  return concat(std::vector<Variable<T>>(parts), axis);
}
template <class T>
Variable<T> stack(std::initializer_list<Variable<T>> parts, long axis = 0) {
  return stack(std::vector<Variable<T>>(parts), axis);
}

// Convolution (ops/conv.cpp) over batches of multi-channel images laid out [N, C, H, W], as
// PyTorch's: the image is correlated with the kernel (not flipped). A weight is [F, C / groups,
// KH, KW]: F filters, each reading the C / groups channels of its group (F divisible by groups).
// An output side is (H + 2 padding - dilation (KH - 1) - 1) / stride + 1. The three ops are one
// trilinear sum of output, input and weight seen from each side, so each is the others' gradient
// and all differentiate any number of times.
struct Conv2dOptions {
  std::array<long, 2> stride{1, 1};
  std::array<long, 2> padding{0, 0};  // zeros added on each side
  std::array<long, 2> dilation{1, 1};
  long groups = 1;
};
// [N, C, H, W] * [F, C / groups, KH, KW] -> [N, F, OH, OW].
template <class T>
Variable<T> conv2d(const Variable<T>& input, const Variable<T>& weight, const Conv2dOptions& options = {});
// The same plus a bias [F], one value per output channel added to each of its positions (as
// PyTorch's conv2d(input, weight, bias)): added inside the product rather than by a broadcast add.
template <class T>
Variable<T> conv2d(const Variable<T>& input, const Variable<T>& weight, const Variable<T>& bias,
                   const Conv2dOptions& options = {});
// The adjoint of conv2d in its input (its input gradient): [N, F, OH, OW] with the same weight
// -> [N, C, H, W], the image size given since a stride above 1 maps several sizes to one.
template <class T>
Variable<T> conv_transpose2d(const Variable<T>& input, const Variable<T>& weight, std::array<long, 2> output_size,
                             const Conv2dOptions& options = {});
// The adjoint of conv2d in its weight (its weight gradient): the input [N, C, H, W] correlated
// with the output's gradient [N, F, OH, OW], summed over the batch -> [F, C / groups, KH, KW].
template <class T>
Variable<T> conv2d_weight_grad(const Variable<T>& input, const Variable<T>& grad_output,
                               std::array<long, 2> kernel_size, const Conv2dOptions& options = {});

// Pooling (ops/pool.cpp) over windows of each channel of [N, C, H, W] -> [N, C, OH, OW], sides as
// conv2d's. Padding is at most half the window, so that every window holds part of the image.
struct Pool2dOptions {
  std::array<long, 2> kernel{2, 2};
  std::optional<std::array<long, 2>> stride{};  // the window's size unless given, as in PyTorch
  std::array<long, 2> padding{0, 0};
  bool count_include_pad = true;  // avg_pool2d: padding zeros count in the mean, as in PyTorch
};
// The largest element of each window (padding never wins); the gradient goes to that element,
// the first one on ties.
template <class T>
Variable<T> max_pool2d(const Variable<T>& input, const Pool2dOptions& options = {});
// The mean of each window.
template <class T>
Variable<T> avg_pool2d(const Variable<T>& input, const Pool2dOptions& options = {});
// The adjoint of avg_pool2d (its gradient): each output's value spread evenly over its window,
// [N, C, OH, OW] -> [N, C, H, W].
template <class T>
Variable<T> avg_pool2d_backward(const Variable<T>& grad_output, std::array<long, 2> input_size,
                                const Pool2dOptions& options = {});

// Reductions (ops/reduce.cpp). Empty `axes` means all of them; keepdims keeps them as 1.
// Composite: sum_to to the kept shape, then a reshape.
template <class T>
Variable<T> sum(const Variable<T>& a, const std::vector<long>& axes = {}, bool keepdims = false);
// Composite: sum / count.
template <class T>
Variable<T> mean(const Variable<T>& a, const std::vector<long>& axes = {}, bool keepdims = false);
// Ties share the gradient equally.
template <class T>
Variable<T> max(const Variable<T>& a, const std::vector<long>& axes = {}, bool keepdims = false);
// Composite: -max(-a).
template <class T>
Variable<T> min(const Variable<T>& a, const std::vector<long>& axes = {}, bool keepdims = false);
// Composite: log(sum(exp(a))), shifted by the max (a constant) so that it does not overflow.
template <class T>
Variable<T> logsumexp(const Variable<T>& a, const std::vector<long>& axes = {}, bool keepdims = false);
template <class T>
Variable<T> softmax(const Variable<T>& a, long axis = -1);  // composite: exp(log_softmax(a))
template <class T>
Variable<T> log_softmax(const Variable<T>& a, long axis = -1);  // composite: a - logsumexp(a)

// Operators, with plain numbers on either side.
template <class T>
Variable<T> operator+(const Variable<T>& a, const Variable<T>& b) {
  return add(a, b);
}
template <class T>
Variable<T> operator-(const Variable<T>& a, const Variable<T>& b) {
  return sub(a, b);
}
template <class T>
Variable<T> operator*(const Variable<T>& a, const Variable<T>& b) {
  return mul(a, b);
}
template <class T>
Variable<T> operator/(const Variable<T>& a, const Variable<T>& b) {
  return div(a, b);
}
template <class T>
Variable<T> operator-(const Variable<T>& a) {
  return neg(a);
}
template <class T>
Variable<T> operator+(const Variable<T>& a, Scalar<T> b) {
  return add(a, constant<T>(b));
}
template <class T>
Variable<T> operator-(const Variable<T>& a, Scalar<T> b) {
  return sub(a, constant<T>(b));
}
template <class T>
Variable<T> operator*(const Variable<T>& a, Scalar<T> b) {
  return mul(a, constant<T>(b));
}
template <class T>
Variable<T> operator/(const Variable<T>& a, Scalar<T> b) {
  return div(a, constant<T>(b));
}
template <class T>
Variable<T> operator+(Scalar<T> a, const Variable<T>& b) {
  return add(constant<T>(a), b);
}
template <class T>
Variable<T> operator-(Scalar<T> a, const Variable<T>& b) {
  return sub(constant<T>(a), b);
}
template <class T>
Variable<T> operator*(Scalar<T> a, const Variable<T>& b) {
  return mul(constant<T>(a), b);
}
template <class T>
Variable<T> operator/(Scalar<T> a, const Variable<T>& b) {
  return div(constant<T>(a), b);
}

}  // namespace ag
