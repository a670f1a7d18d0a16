#include "autograd/parallel.hpp"

#include <cblas.h>

#include <algorithm>

#ifdef AUTOGRAD_OPENMP
#include <omp.h>
#endif

namespace ag {

void set_num_threads(int threads) {
  threads = std::max(threads, 1);
#ifdef AUTOGRAD_OPENMP
  omp_set_num_threads(threads);
#endif
  openblas_set_num_threads(threads);
}

int num_threads() {
#ifdef AUTOGRAD_OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

namespace detail {

void run_parallel(std::size_t n, const std::function<void(std::size_t, std::size_t)>& body) {
#ifdef AUTOGRAD_OPENMP
  // Inside another parallel region (a user's own OpenMP loop) this runs on one thread, as
  // OpenMP's nested regions do by default.
#pragma omp parallel
  {
    const auto parts = static_cast<std::size_t>(omp_get_num_threads());
    const auto part = static_cast<std::size_t>(omp_get_thread_num());
    const std::size_t begin = n * part / parts, end = n * (part + 1) / parts;
    if (begin < end) body(begin, end);
  }
#else
  body(0, n);
#endif
}

}  // namespace detail
}  // namespace ag
