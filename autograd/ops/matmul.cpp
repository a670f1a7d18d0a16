// Matrix product through BLAS, by xtensor-blas: a transpose is a BLAS flag, never a copy, in the
// forward and in the backward alike. Leading (batch) dimensions broadcast; the engine sums each
// gradient back to its operand. Built without BLAS (AUTOGRAD_BLAS=OFF, the WebAssembly
// playground), every product runs on the engine's own loop (loop_gemm.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <xtensor/xadapt.hpp>

#include "autograd/ops/common.hpp"
#include "autograd/ops/loop_gemm.hpp"
#ifndef AUTOGRAD_NO_BLAS
#include <xtensor-blas/xblas.hpp>
#endif

namespace ag {

namespace {

#ifndef AUTOGRAD_NO_BLAS
// Below this many multiply-adds the engine's loop (loop_gemm.hpp) beats BLAS, whose call costs
// more than such a product (a lock and a dispatch per call). Measured in float on one thread,
// ag::matmul through the loop against a bare cblas_sgemm call (which lacks the op's own 0.2 us):
// [200, 8] by [8, 8] 0.49 us against 0.60 us; 32 x 32 x 32 0.97 us against 0.84 us, even once
// the op's cost is counted; at 40 x 40 x 40 (64,000) BLAS is ahead.
constexpr std::size_t kSmallProduct = 32768;

// C[m, n] = op(A) op(B) by xt::blas::gemm on views of the stored operands: A is [k, m] when
// transposed, else [m, k]; B is [n, k] when transposed, else [k, n]. The views copy nothing.
template <class T>
void blas_gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const T* a, const T* b, T* c) {
  using Matrix = std::array<std::size_t, 2>;
  const auto A = xt::adapt(a, m * k, xt::no_ownership(), ta ? Matrix{k, m} : Matrix{m, k});
  const auto B = xt::adapt(b, k * n, xt::no_ownership(), tb ? Matrix{n, k} : Matrix{k, n});
  auto C = xt::adapt(c, m * n, xt::no_ownership(), Matrix{m, n});
  xt::blas::gemm(A, B, C, ta, tb);
}
#endif

// Row-major C[m, n] = op(A) op(B), op(A) being [m, k] and op(B) [k, n].
template <class T>
void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const T* a, const T* b, T* c) {
#ifndef AUTOGRAD_NO_BLAS
  if (m * n * k > kSmallProduct) {
    blas_gemm(ta, tb, m, n, k, a, b, c);
    return;
  }
#endif
  detail::loop_gemm(ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, T(0), c, n);
}

template <class T>
Tensor<T> batched_product(const Tensor<T>& a, const Tensor<T>& b, bool ta, bool tb) {
  const auto& sa = a.shape();
  const auto& sb = b.shape();
  const std::size_t ra = sa.size(), rb = sb.size();
  const std::size_t m = ta ? sa[ra - 1] : sa[ra - 2], ka = ta ? sa[ra - 2] : sa[ra - 1];
  const std::size_t kb = tb ? sb[rb - 1] : sb[rb - 2], n = tb ? sb[rb - 2] : sb[rb - 1];
  if (ka != kb) {
    throw ShapeError(fmt::format("matmul: shapes {}{} and {}{} do not match: inner dimensions {} and {}",
                                 shape_str(to_shape(sa)), ta ? "^T" : "", shape_str(to_shape(sb)), tb ? "^T" : "", ka,
                                 kb));
  }
  // BLAS counts in int: a dimension past INT_MAX would be silently cut.
  if (std::max({m, n, ka}) > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    throw ShapeError(fmt::format("matmul: shapes {} and {} have a dimension over {}, more than BLAS can index",
                                 shape_str(to_shape(sa)), shape_str(to_shape(sb)), std::numeric_limits<int>::max()));
  }
  if (ra == 2 && rb == 2) {  // the common case, without the batch bookkeeping below
    Tensor<T> y = uninitialized<T>({m, n});
    gemm(ta, tb, m, n, ka, a.data(), b.data(), y.data());
    return y;
  }
  const Shape batch_a(sa.begin(), sa.end() - 2), batch_b(sb.begin(), sb.end() - 2);
  const Shape batch = broadcast_shapes("matmul", batch_a, batch_b);

  // Operands whose batch dimensions are broadcast are expanded once; the common case copies nothing.
  const auto expanded = [&batch](const Tensor<T>& t, const Shape& own_batch, Tensor<T>& storage) -> const Tensor<T>& {
    if (own_batch == batch) return t;
    Shape full = batch;
    full.push_back(t.shape()[t.dimension() - 2]);
    full.push_back(t.shape()[t.dimension() - 1]);
    storage = xt::broadcast(t, full);
    return storage;
  };
  Tensor<T> a_storage, b_storage;
  const Tensor<T>& A = expanded(a, batch_a, a_storage);
  const Tensor<T>& B = expanded(b, batch_b, b_storage);

  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Tensor<T> y = uninitialized<T>(out_shape);
  const std::size_t count = element_count(batch);
  for (std::size_t i = 0; i < count; ++i) {
    gemm(ta, tb, m, n, ka, A.data() + i * m * ka, B.data() + i * ka * n, y.data() + i * m * n);
  }
  return y;
}

}  // namespace

const Primitive op_matmul("matmul");
template <class T>
Variable<T> matmul(const Variable<T>& a, const Variable<T>& b, bool transpose_a, bool transpose_b) {
  if (a.ndim() == 0 || b.ndim() == 0) {
    throw ShapeError(fmt::format("matmul: operands must have at least one dimension, got shapes {} and {}",
                                 shape_str(a.shape()), shape_str(b.shape())));
  }
  if (a.ndim() == 1 || b.ndim() == 1) {
    // numpy's vectors: a row on the left, a column on the right, their dimension dropped after.
    if ((a.ndim() == 1 && transpose_a) || (b.ndim() == 1 && transpose_b)) {
      throw ShapeError("matmul: a 1-D operand cannot be transposed");
    }
    const long k_a = static_cast<long>(a.shape().back()), k_b = static_cast<long>(b.shape()[0]);
    const Variable<T> a2 = a.ndim() == 1 ? reshape(a, {1, k_a}) : a;
    const Variable<T> b2 = b.ndim() == 1 ? reshape(b, {k_b, 1}) : b;
    Variable<T> y = matmul(a2, b2, transpose_a, transpose_b);
    const Shape product_shape = y.shape();
    std::vector<long> shape(product_shape.begin(), product_shape.end());
    if (b.ndim() == 1) shape.pop_back();
    if (a.ndim() == 1) shape.erase(shape.end() - (b.ndim() == 1 ? 1 : 2));
    return reshape(y, shape);
  }
  return record<T>(
      op_matmul, batched_product(a.value(), b.value(), transpose_a, transpose_b), {a, b},
      // y = A' B', with A' = A^T when transpose_a (and B' likewise): dA' = g B'^T and dB' = A'^T g,
      // each transposed back when its operand was, the transposes passed on as flags.
      [transpose_a, transpose_b](const BackwardContext<T>& c) {
        const Variable<T>&A = c.in[0], &B = c.in[1], &g = c.grad;
        const bool ta = transpose_a, tb = transpose_b;
        Variable<T> ga, gb;
        if (c.needs(0)) ga = ta ? matmul(B, g, tb, true) : matmul(g, B, false, !tb);
        if (c.needs(1)) gb = tb ? matmul(g, A, true, ta) : matmul(A, g, !ta, false);
        return grads(ga, gb);
      },
      reads::input(0) | reads::input(1));
}

#define AG_MATMUL(T) template Variable<T> matmul(const Variable<T>&, const Variable<T>&, bool, bool);
AG_INSTANTIATE(AG_MATMUL)

}  // namespace ag
