// The engine's own matrix product, for builds without BLAS (the WebAssembly playground) and for
// products too small to be worth a BLAS call. Not part of the public API.
//
// Row-major C[m, n] = op(A) op(B) + beta C, op(A) [m, k] and op(B) [k, n], each read transposed
// when asked; lda, ldb and ldc are the stored rows' lengths. Every C[i, j] starts from 0 (beta =
// 0, C not read) or beta C[i, j] and adds a_ip b_pj for p in order from zero, as the plain loop
// matmul used before for small products did. The sums are then the definition's to the last bit
// where no multiply and add are fused (WebAssembly; tests/loop_gemm_test.cpp checks it there);
// natively GCC fuses them into FMAs where it chooses, here as in any other loop.
//
// The work is done in blocks of 4 rows by 8 columns of C held in registers for the whole sum over
// p: each loaded row piece of op(B) serves 4 rows, and the 8 columns are whole SIMD registers
// (simd128 in WebAssembly, SSE/AVX natively). The small products of the playground's network
// ([200, 8] by [8, 8] and their gradients) spent most of their time in a loop that stored and
// reloaded C's row for every p. op(B) read transposed (A B^T) is first copied into [k, n]: its
// entries would otherwise be a dot product each, summed in order and so not vectorised.
#pragma once

#include <cstddef>
#include <vector>

#include "autograd/allocator.hpp"

namespace ag::detail {

// C's rows [0, R) and columns [0, W), C at c: op(A)(r, p) is a[r * a_row + p * a_col], op(B)(p, w)
// is b[p * ldb + w].
template <std::size_t R, std::size_t W, class T>
inline void gemm_block(std::size_t k, const T* __restrict a, std::size_t a_row, std::size_t a_col,
                       const T* __restrict b, std::size_t ldb, T beta, T* __restrict c, std::size_t ldc) {
  T acc[R][W];
  for (std::size_t r = 0; r < R; ++r) {
    for (std::size_t w = 0; w < W; ++w) acc[r][w] = beta == T(0) ? T(0) : beta * c[r * ldc + w];
  }
  for (std::size_t p = 0; p < k; ++p) {
    const T* bp = b + p * ldb;
    for (std::size_t r = 0; r < R; ++r) {
      const T arp = a[r * a_row + p * a_col];
      for (std::size_t w = 0; w < W; ++w) acc[r][w] += arp * bp[w];
    }
  }
  for (std::size_t r = 0; r < R; ++r) {
    for (std::size_t w = 0; w < W; ++w) c[r * ldc + w] = acc[r][w];
  }
}

// R rows of C, all n columns: blocks of 8 columns, then 4, then one at a time.
template <std::size_t R, class T>
inline void gemm_rows(std::size_t n, std::size_t k, const T* a, std::size_t a_row, std::size_t a_col, const T* b,
                      std::size_t ldb, T beta, T* c, std::size_t ldc) {
  std::size_t j = 0;
  for (; j + 8 <= n; j += 8) gemm_block<R, 8>(k, a, a_row, a_col, b + j, ldb, beta, c + j, ldc);
  if (j + 4 <= n) {
    gemm_block<R, 4>(k, a, a_row, a_col, b + j, ldb, beta, c + j, ldc);
    j += 4;
  }
  for (; j < n; ++j) gemm_block<R, 1>(k, a, a_row, a_col, b + j, ldb, beta, c + j, ldc);
}

template <class T>
void loop_gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const T* a, std::size_t lda, const T* b,
               std::size_t ldb, T beta, T* c, std::size_t ldc) {
  // From the engine's block cache: matmul's backward asks for A B^T on every step, and a fresh
  // malloc for each would go to the system's allocator each time.
  std::vector<T, CachingAllocator<T>> b_rows;
  if (tb) {  // op(B) = B^T, B stored [n, k]: copied into [k, n]
    b_rows.resize(k * n);
    for (std::size_t j = 0; j < n; ++j) {
      for (std::size_t p = 0; p < k; ++p) b_rows[p * n + j] = b[j * ldb + p];
    }
    b = b_rows.data();
    ldb = n;
  }
  // op(A)(i, p): a[i * lda + p], or a[p * lda + i] when A is stored [k, m].
  const std::size_t a_row = ta ? 1 : lda, a_col = ta ? lda : 1;
  std::size_t i = 0;
  for (; i + 4 <= m; i += 4) gemm_rows<4>(n, k, a + i * a_row, a_row, a_col, b, ldb, beta, c + i * ldc, ldc);
  for (; i < m; ++i) gemm_rows<1>(n, k, a + i * a_row, a_row, a_col, b, ldb, beta, c + i * ldc, ldc);
}

}  // namespace ag::detail
