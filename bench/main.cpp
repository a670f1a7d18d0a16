// bench_autograd [--threads N] [--quick] [--data DIR]
//
// Prints one JSON line per figure: the workload, nanoseconds per item for each engine, and the
// ratio libtorch / autograd (above 1: autograd is faster). Both engines run in this one process,
// on the same OpenBLAS and the same number of threads. Then:
//   - the machine's sgemm rate at n = 1024 (the ceiling for dense steps), and the MLP step's
//     rate at batch 256 as a fraction of it;
//   - with Fashion-MNIST in DIR (default /usr/share/datasets/fashion-mnist), one full training
//     epoch per engine, each in a child process of its own so that its peak memory is its own:
//     examples per second and peak resident memory.
#include "harness.hpp"
#include "workloads.hpp"

#include <nn/data.hpp>

#include <cblas.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace {

// Multiply-adds of the 784-256-128-10 MLP per example: forward, then backward (weight gradients
// for every layer, input gradients for all but the first).
constexpr double kMlpFlopsPerExample = 2.0 * (2 * (784.0 * 256 + 256.0 * 128 + 128.0 * 10) + (256.0 * 128 + 128.0 * 10));

double sgemm_gflops(double round_seconds) {
  const int n = 1024;
  std::vector<float> a(n * n, 0.5f), b(n * n, 0.25f), c(n * n);
  const double ns = bench::median_ns(
      [&] { cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n); },
      5, round_seconds);
  return 2.0 * n * n * n / ns;
}

struct ChildRun {
  double seconds = 0, peak_mb = 0;
};

// Runs `work` in a forked child; returns its wall time and its peak resident memory.
ChildRun in_child(const std::function<void()>& work) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    const auto start = std::chrono::steady_clock::now();
    work();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (write(fds[1], &seconds, sizeof seconds) != sizeof seconds) _exit(1);
    _exit(0);
  }
  close(fds[1]);
  ChildRun run;
  if (read(fds[0], &run.seconds, sizeof run.seconds) != sizeof run.seconds) run.seconds = 0;
  close(fds[0]);
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  run.peak_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1;
  double round_seconds = 0.15;
  std::string data = "/usr/share/datasets/fashion-mnist";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = std::stoi(argv[++i]);
    if (std::strcmp(argv[i], "--quick") == 0) round_seconds = 0.02;
    if (std::strcmp(argv[i], "--data") == 0 && i + 1 < argc) data = argv[++i];
  }
  openblas_set_num_threads(threads);
  bench::torch_set_threads(threads);

  struct Figure {
    std::string name;
    bench::Workload ours, theirs;
    double ours_ns = 0;
  };
  std::vector<Figure> figures = {
      {"course_step", bench::course_step_autograd(), bench::course_step_torch()},
      {"scalar_chain_1000_per_op", bench::scalar_chain_autograd(1000), bench::scalar_chain_torch(1000)},
      {"mlp_784_256_128_10_sgd_step_batch64", bench::mlp_step_autograd(64), bench::mlp_step_torch(64)},
      {"mlp_784_256_128_10_adam_step_batch64", bench::mlp_adam_step_autograd(64), bench::mlp_adam_step_torch(64)},
      {"mlp_784_256_128_10_adam_step_batch256", bench::mlp_adam_step_autograd(256), bench::mlp_adam_step_torch(256)},
  };
  for (Figure& f : figures) {
    f.ours_ns = bench::median_ns(f.ours.run, 7, round_seconds) / f.ours.work_items;
    if (!bench::torch_available()) {
      fmt::print("{{\"bench\": \"{}\", \"threads\": {}, \"autograd_ns\": {:.1f}}}\n", f.name, threads, f.ours_ns);
      continue;
    }
    const double theirs = bench::median_ns(f.theirs.run, 7, round_seconds) / f.theirs.work_items;
    fmt::print("{{\"bench\": \"{}\", \"threads\": {}, \"autograd_ns\": {:.1f}, \"libtorch_ns\": {:.1f}, "
               "\"speedup_vs_libtorch\": {:.2f}}}\n",
               f.name, threads, f.ours_ns, theirs, theirs / f.ours_ns);
    std::fflush(stdout);
  }

  const double ceiling = sgemm_gflops(round_seconds);
  const double step_gflops = kMlpFlopsPerExample * 256 / figures.back().ours_ns;
  fmt::print("{{\"bench\": \"sgemm_1024\", \"threads\": {}, \"gflops\": {:.1f}}}\n", threads, ceiling);
  fmt::print("{{\"bench\": \"mlp_adam_step_batch256_rate\", \"threads\": {}, \"gflops\": {:.1f}, \"fraction_of_sgemm\": {:.2f}}}\n",
             threads, step_gflops, step_gflops / ceiling);

  ag::nn::LabelledImages train;
  try {
    train = ag::nn::load_mnist(data, "train");
  } catch (const ag::nn::DataError& e) {
    fmt::print(stderr, "epoch figures skipped: {}\n", e.what());
    return 0;
  }
  const std::size_t n = train.labels.size();
  const ChildRun ours = in_child([&] { bench::mlp_epoch_autograd(train.images.data(), train.labels.data(), n); });
  fmt::print("{{\"bench\": \"fashion_mnist_epoch_adam_batch64\", \"threads\": {}, \"autograd_examples_per_s\": {:.0f}, "
             "\"autograd_peak_mb\": {:.0f}",
             threads, static_cast<double>(n) / ours.seconds, ours.peak_mb);
  if (bench::torch_available()) {
    const ChildRun theirs = in_child([&] { bench::mlp_epoch_torch(train.images.data(), train.labels.data(), n); });
    fmt::print(", \"libtorch_examples_per_s\": {:.0f}, \"libtorch_peak_mb\": {:.0f}, \"speedup_vs_libtorch\": {:.2f}",
               static_cast<double>(n) / theirs.seconds, theirs.peak_mb, theirs.seconds / ours.seconds);
  }
  fmt::print("}}\n");
  return 0;
}
