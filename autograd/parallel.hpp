// The engine's threads.
//
// Matrix products run on OpenBLAS's threads; elementwise ops, reductions and the optimizers'
// updates split large tensors over OpenMP's. Small tensors stay on the calling thread: starting
// a parallel region costs about a microsecond, as much as a whole op of the course's network, so
// the split only pays above some tens of thousands of elements (bench/ measures it).
//
// Build OpenBLAS for OpenMP (Debian's libopenblas0-openmp) so that both share one pool of
// threads: Debian's default pthread build keeps threads of its own spinning after each product,
// and the two pools then fight over the cores.
#pragma once

#include <cstddef>
#include <functional>

namespace ag {

// Sets the number of threads for this engine's kernels and for OpenBLAS, for every thread of the
// program. The default is OpenMP's (OMP_NUM_THREADS, else one per core). 1 runs everything on the
// calling thread.
void set_num_threads(int threads);

// The number of threads a large kernel uses; 1 without OpenMP.
int num_threads();

namespace detail {

// Elements a kernel touches below which it runs on the calling thread alone.
inline constexpr std::size_t kParallelMinWork = std::size_t{1} << 15;

void run_parallel(std::size_t n, const std::function<void(std::size_t, std::size_t)>& body);

// How many kernels have been split over threads so far (for the tests: a split that silently
// stopped happening would still compute the right values).
std::size_t parallel_regions_run();

// Whether a kernel touching `work` elements, split into at most `n` ranges, is worth the threads.
inline bool parallel_pays(std::size_t n, std::size_t work) {
  return work >= kParallelMinWork && n >= 2 && num_threads() >= 2;
}

// Calls body(begin, end) on contiguous ranges that cover [0, n) once, one range per thread, when
// the kernel touches at least kParallelMinWork elements (`work`) and there is more than one
// thread; otherwise body(0, n) here. The ranges must be independent of each other. An exception
// thrown by body is rethrown here once every range has finished.
template <class Body>
void parallel_ranges(std::size_t n, std::size_t work, Body&& body) {
  if (parallel_pays(n, work)) {
    run_parallel(n, body);
  } else {
    body(std::size_t{0}, n);
  }
}

}  // namespace detail
}  // namespace ag
