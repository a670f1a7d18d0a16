// The engine's own matrix product, for builds without BLAS (the WebAssembly playground) and for
// products too small to be worth a BLAS call. Not part of the public API.
//
// Row-major C[m, n] = op(A) op(B) + beta C, op(A) [m, k] and op(B) [k, n], each read transposed
// when asked; lda, ldb and ldc are the stored rows' lengths. With beta = 0 every C[i, j] is summed
// over p in order from zero, as the plain loop matmul used before for small products did, so that
// the course's figures keep their last digits.
// The inner loops run along stored rows (C's, or both operands' for A B^T), which the compiler
// vectorises (SSE/AVX natively, simd128 in WebAssembly).
#pragma once

#include <algorithm>
#include <cstddef>

namespace ag::detail {

template <class T>
void loop_gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const T* a, std::size_t lda, const T* b,
               std::size_t ldb, T beta, T* c, std::size_t ldc) {
  for (std::size_t i = 0; i < m; ++i) {
    T* ci = c + i * ldc;
    if (!ta && tb) {  // A B^T: each entry a dot product of two stored rows
      for (std::size_t j = 0; j < n; ++j) {
        T sum = 0;
        for (std::size_t p = 0; p < k; ++p) sum += a[i * lda + p] * b[j * ldb + p];
        ci[j] = beta == T(0) ? sum : beta * ci[j] + sum;
      }
      continue;
    }
    // Otherwise row i of C, scaled by beta, accumulates a_ip times row p of op(B), p in order.
    if (beta == T(0)) {
      std::fill(ci, ci + n, T(0));
    } else if (beta != T(1)) {
      for (std::size_t j = 0; j < n; ++j) ci[j] *= beta;
    }
    for (std::size_t p = 0; p < k; ++p) {
      const T aip = ta ? a[p * lda + i] : a[i * lda + p];
      if (tb) {
        for (std::size_t j = 0; j < n; ++j) ci[j] += aip * b[j * ldb + p];
      } else {
        const T* bp = b + p * ldb;
        for (std::size_t j = 0; j < n; ++j) ci[j] += aip * bp[j];
      }
    }
  }
}

}  // namespace ag::detail
