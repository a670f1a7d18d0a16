// The engine's own matrix product (autograd/ops/loop_gemm.hpp), which runs every product of the
// WebAssembly build and the small ones natively: against the plain definition, entry by entry.
// Everywhere within the rounding error of a sum of k + 1 terms; and, where the compiler has no
// FMA to fuse a multiply and an add into (WebAssembly: this suite under node in CI), bit for bit
// the definition's sums in its order: from 0 or beta C, then p = 0, 1, ..., k - 1. Natively GCC
// fuses them wherever it chooses (-ffp-contract=fast is its default), in the definition as in the
// kernel, so there only the bound can be checked.
#include "autograd/ops/loop_gemm.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "test_util.hpp"

namespace {

// C = op(A) op(B) + beta C by the definition, op(A)(i, p) = ta ? a[p lda + i] : a[i lda + p], in
// double; bound[i ldc + j]: the rounding error a sum of those k + 1 terms in T may make.
template <class T>
void reference_gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const T* a, std::size_t lda,
                    const T* b, std::size_t ldb, T beta, const T* c, std::size_t ldc, std::vector<double>& exact,
                    std::vector<double>& bound) {
  exact.assign(m * ldc, 0.0);
  bound.assign(m * ldc, 0.0);
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      double sum = beta == T(0) ? 0.0 : double(beta) * double(c[i * ldc + j]), magnitude = std::abs(sum);
      for (std::size_t p = 0; p < k; ++p) {
        const double term = double(ta ? a[p * lda + i] : a[i * lda + p]) * double(tb ? b[j * ldb + p] : b[p * ldb + j]);
        sum += term;
        magnitude += std::abs(term);
      }
      exact[i * ldc + j] = sum;
      bound[i * ldc + j] = double(k + 2) * double(std::numeric_limits<T>::epsilon()) * magnitude;
    }
  }
}

// The definition's sum in T, in its order (compared bit for bit where nothing is fused).
template <class T>
T definition_sum(bool ta, bool tb, std::size_t i, std::size_t j, std::size_t k, const T* a, std::size_t lda, const T* b,
                 std::size_t ldb, T beta, T c) {
  T sum = beta == T(0) ? T(0) : beta * c;
  for (std::size_t p = 0; p < k; ++p)
    sum += (ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
  return sum;
}

#if !defined(__FP_FAST_FMA) && !defined(__FP_FAST_FMAF)
constexpr bool kUnfused = true;
#else
constexpr bool kUnfused = false;
#endif

template <class T>
std::vector<T> random_values(std::size_t n, std::mt19937& generator) {
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(u(generator));
  return v;
}

template <class T>
void check_against_definition() {
  std::mt19937 generator(7);
  // Rows: 1-3 (no block of 4), 4, 9 (two blocks and a remainder). Columns: 1, 3 (single columns
  // only), 4, 7 (4 + 3), 8, 13 (8 + 4 + 1), 21 (8 + 8 + 4 + 1). k: 0, 1, 5, 33.
  for (const std::size_t m : {1, 3, 4, 9}) {
    for (const std::size_t n : {1, 3, 4, 7, 8, 13, 21}) {
      for (const std::size_t k : {0, 1, 5, 33}) {
        for (const bool ta : {false, true}) {
          for (const bool tb : {false, true}) {
            for (const T beta : {T(0), T(1), T(0.5)}) {
              // Stored rows longer than the matrices: ld* = length + 2, as in the convolutions.
              const std::size_t lda = (ta ? m : k) + 2, ldb = (tb ? k : n) + 2, ldc = n + 2;
              const std::vector<T> a = random_values<T>((ta ? k : m) * lda, generator);
              const std::vector<T> b = random_values<T>((tb ? n : k) * ldb, generator);
              std::vector<T> c = random_values<T>(m * ldc, generator);
              if (beta == T(0)) {  // beta = 0: C is not read, NaN included
                for (std::size_t i = 0; i < m; ++i) c[i * ldc] = std::numeric_limits<T>::quiet_NaN();
              }
              std::vector<double> exact, bound;
              reference_gemm(ta, tb, m, n, k, a.data(), lda, b.data(), ldb, beta, c.data(), ldc, exact, bound);
              const std::vector<T> before = c;
              ag::detail::loop_gemm(ta, tb, m, n, k, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
              INFO("m ", m, ", n ", n, ", k ", k, ", ta ", ta, ", tb ", tb, ", beta ", beta);
              for (std::size_t i = 0; i < m; ++i) {
                for (std::size_t j = 0; j < ldc; ++j) {
                  const std::size_t at = i * ldc + j;
                  if (j >= n) {  // past the row's end: not written
                    REQUIRE(std::memcmp(&c[at], &before[at], sizeof(T)) == 0);
                  } else {
                    REQUIRE(std::abs(double(c[at]) - exact[at]) <= bound[at]);  // NaN fails: beta = 0 reads no C
                    if (kUnfused) {
                      const T expected =
                          definition_sum(ta, tb, i, j, k, a.data(), lda, b.data(), ldb, beta, before[at]);
                      REQUIRE(std::memcmp(&c[at], &expected, sizeof(T)) == 0);
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("loop_gemm: every shape, transpose, stored row length and beta, against the definition") {
  check_against_definition<float>();
  check_against_definition<double>();
}
