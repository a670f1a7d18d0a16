#include "autograd/parallel.hpp"

#ifndef AUTOGRAD_NO_BLAS
#include <cblas.h>
#endif

#include <algorithm>
#include <atomic>
#include <exception>

#ifdef AUTOGRAD_OPENMP
#include <omp.h>
#endif

namespace ag {

namespace {

// Set by set_num_threads for every thread of the program (OpenMP's own setting is per thread:
// a std::thread started later would not see it). 0: not set, OpenMP's default applies.
std::atomic<int> requested_threads{0};

std::atomic<std::size_t> regions_run{0};

}  // namespace

void set_num_threads(int threads) {
  threads = std::max(threads, 1);
  requested_threads.store(threads, std::memory_order_relaxed);
#ifndef AUTOGRAD_NO_BLAS
  openblas_set_num_threads(threads);
#endif
}

int num_threads() {
#ifdef AUTOGRAD_OPENMP
  const int requested = requested_threads.load(std::memory_order_relaxed);
  return requested > 0 ? requested : omp_get_max_threads();
#else
  return 1;
#endif
}

namespace detail {

std::size_t parallel_regions_run() {
  return regions_run.load(std::memory_order_relaxed);
}

void run_parallel(std::size_t n, const std::function<void(std::size_t, std::size_t)>& body) {
#ifdef AUTOGRAD_OPENMP
  // An exception cannot leave an OpenMP region: the first one thrown is kept and rethrown here,
  // after every thread has finished its range. Inside another parallel region (a user's own
  // OpenMP loop) this runs on one thread, as OpenMP's nested regions do by default.
  regions_run.fetch_add(1, std::memory_order_relaxed);
  std::exception_ptr failure;
#pragma omp parallel num_threads(num_threads())
  {
    const auto parts = static_cast<std::size_t>(omp_get_num_threads());
    const auto part = static_cast<std::size_t>(omp_get_thread_num());
    const std::size_t begin = n * part / parts, end = n * (part + 1) / parts;
    try {
      if (begin < end) body(begin, end);
    } catch (...) {
#pragma omp critical(ag_parallel_failure)
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
#else
  body(0, n);
#endif
}

}  // namespace detail
}  // namespace ag
