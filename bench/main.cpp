// bench_autograd [--threads N] [--quick]
//
// Prints one JSON line per figure: the workload, nanoseconds per item for each engine, and the
// ratio libtorch / autograd (above 1: autograd is faster). Both engines run in this one process,
// on the same OpenBLAS and the same number of threads.
#include "harness.hpp"
#include "workloads.hpp"

#include <cblas.h>
#include <fmt/format.h>

#include <cstring>
#include <string>

int main(int argc, char** argv) {
  int threads = 1;
  double round_seconds = 0.15;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = std::stoi(argv[++i]);
    if (std::strcmp(argv[i], "--quick") == 0) round_seconds = 0.02;
  }
  openblas_set_num_threads(threads);
  bench::torch_set_threads(threads);

  struct Figure {
    std::string name;
    bench::Workload ours, theirs;
  };
  const Figure figures[] = {
      {"course_step", bench::course_step_autograd(), bench::course_step_torch()},
      {"scalar_chain_1000_per_op", bench::scalar_chain_autograd(1000), bench::scalar_chain_torch(1000)},
      {"mlp_784_256_128_10_step_batch64", bench::mlp_step_autograd(64), bench::mlp_step_torch(64)},
  };
  for (const Figure& f : figures) {
    const double ours = bench::median_ns(f.ours.run, 7, round_seconds) / f.ours.work_items;
    if (!bench::torch_available()) {
      fmt::print("{{\"bench\": \"{}\", \"threads\": {}, \"autograd_ns\": {:.1f}}}\n", f.name, threads, ours);
      continue;
    }
    const double theirs = bench::median_ns(f.theirs.run, 7, round_seconds) / f.theirs.work_items;
    fmt::print("{{\"bench\": \"{}\", \"threads\": {}, \"autograd_ns\": {:.1f}, \"libtorch_ns\": {:.1f}, "
               "\"speedup_vs_libtorch\": {:.2f}}}\n",
               f.name, threads, ours, theirs, theirs / ours);
    std::fflush(stdout);
  }
}
