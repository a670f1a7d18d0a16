// One engine's benchmark process. The driver (compare.cpp) starts it fresh for each engine and
// thread count, so that no engine shares a process, a thread pool or a BLAS with the other.
//
//   bench_worker_ENGINE --threads N --rounds R --round-seconds S [--workloads A,B]
//                                                  all workloads, or those named
//   bench_worker_ENGINE --threads N --epoch NAME --data DIR [--examples K]
//                                                  one Fashion-MNIST training epoch (of its first
//                                                  K images), NAME one of those listed by `epochs`
//
// It prints one line per figure, for the driver to read:
//   blas <openblas threading>
//   workloads <every workload this worker has, run or not>
//   epochs <every training epoch this worker has>
//   objective <workload> <J before step 1> <after step 1> <after step 2>   (workloads that have one)
//   rounds <workload> <ns per item in round 1> <round 2> ...
//   epoch <examples> <seconds>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <nn/nn.hpp>
#include <string>
#include <vector>

#include "harness.hpp"
#include "workloads.hpp"

// OpenBLAS's own report of its threading; both workers link OpenBLAS.
extern "C" int openblas_get_parallel();

namespace {

// "sequential", "pthread" or "openmp": the OpenBLAS build this process loaded, which the driver
// checks against the one it asked for.
const char* blas_threading() {
  switch (openblas_get_parallel()) {
    case 0:
      return "sequential";
    case 1:
      return "pthread";
    case 2:
      return "openmp";
    default:
      return "unknown";
  }
}

std::vector<bench::NamedWorkload> workloads() {
  std::vector<bench::NamedWorkload> all = {
      {"course_step", [] { return bench::course_step(); }},
      {"scalar_chain_1000_per_op", [] { return bench::scalar_chain(1000); }},
      {"mlp_sgd_step_batch64", [] { return bench::mlp_sgd_step(64); }},
      {"mlp_sgd_step_batch256", [] { return bench::mlp_sgd_step(256); }},
      {"mlp_adam_step_batch64", [] { return bench::mlp_adam_step(64); }},
      {"mlp_adam_step_batch256", [] { return bench::mlp_adam_step(256); }},
      {"sparse_autoencoder_step_batch256", [] { return bench::sparse_autoencoder_step(256); }},
      {"lenet_step_batch64", [] { return bench::lenet_step(64); }},
      {"conv_layer_32to64_3x3_batch64", [] { return bench::conv_layer(64, 32, 64, 28); }},
      {"rbm_cd1_step_784x256_batch64", [] { return bench::rbm_cd1_step(64); }},
  };
  for (auto& w : bench::engine_only_workloads()) all.push_back(std::move(w));
  return all;
}

// Lowers the process's peak resident memory, which the driver reads when it exits, to what it holds
// now: the epoch's figure is then the data set held plus what training takes, not reading's
// transient buffers (the gzip stream and the bytes beside the floats: 234 MB at the peak for 188 MB
// kept). Linux only; elsewhere the figure includes reading.
void reset_peak_memory() {
  std::ofstream("/proc/self/clear_refs") << "5";
}

// The training epochs, each run alone in a process of its own (the driver reads the peak memory).
struct NamedEpoch {
  const char* name;
  void (*train)(const float* images, const std::size_t* labels, std::size_t count);
};
constexpr NamedEpoch kEpochs[] = {
    {"fashion_mnist_epoch_adam_batch64", bench::mlp_epoch},
    {"fashion_mnist_lenet_epoch_sgd_batch64", bench::lenet_epoch},
};

int usage(const char* program) {
  std::fprintf(stderr,
               "usage: %s --threads N (--rounds R --round-seconds S [--workloads A,B] | --epoch NAME --data DIR "
               "[--examples K])\n",
               program);
  return 2;
}

}  // namespace

int main(int argc, char** argv) try {
  int threads = 1, rounds = 5;
  double round_seconds = 0.1;
  std::string epoch, data, only;  // only: a comma-separated list of workloads, empty for all
  long examples = 0;              // 0: all of them
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--threads") == 0) {
      threads = std::atoi(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--rounds") == 0) {
      rounds = std::atoi(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--round-seconds") == 0) {
      round_seconds = std::atof(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--epoch") == 0) {
      epoch = argv[i + 1];
    } else if (std::strcmp(argv[i], "--data") == 0) {
      data = argv[i + 1];
    } else if (std::strcmp(argv[i], "--workloads") == 0) {
      only = std::string(",") + argv[i + 1] + ",";
    } else if (std::strcmp(argv[i], "--examples") == 0) {
      examples = std::atol(argv[i + 1]);
    } else {
      return usage(argv[0]);
    }
  }
  if (argc % 2 == 0 || threads < 1 || rounds < 1 || round_seconds <= 0 || examples < 0) return usage(argv[0]);
  bench::set_threads(threads);
  std::printf("blas %s\n", blas_threading());

  if (!epoch.empty()) {
    const auto named =
        std::find_if(std::begin(kEpochs), std::end(kEpochs), [&](const NamedEpoch& e) { return epoch == e.name; });
    if (named == std::end(kEpochs) || data.empty()) return usage(argv[0]);
    const ag::nn::LabelledImages train = ag::nn::load_mnist(data, "train");
    reset_peak_memory();
    const std::size_t all = train.labels.size();
    const std::size_t n = examples > 0 ? std::min(all, static_cast<std::size_t>(examples)) : all;
    const double seconds = bench::seconds_of([&] { named->train(train.images.data(), train.labels.data(), n); });
    std::printf("epoch %zu %.6f\n", n, seconds);
    return 0;
  }
  const std::vector<bench::NamedWorkload> all = workloads();
  std::printf("workloads");
  for (const bench::NamedWorkload& named : all) std::printf(" %s", named.name.c_str());
  std::printf("\nepochs");
  for (const NamedEpoch& e : kEpochs) std::printf(" %s", e.name);
  std::printf("\n");
  for (const bench::NamedWorkload& named : all) {
    if (!only.empty() && only.find("," + named.name + ",") == std::string::npos) continue;
    const bench::Workload w = named.make();
    if (w.objective) {
      // The first two steps, with the objective before and after each: the driver compares them
      // with the other engine's. They count towards the warm-up.
      std::printf("objective %s %.9g", named.name.c_str(), w.objective());
      for (int step = 0; step < 2; ++step) {
        w.run();
        std::printf(" %.9g", w.objective());
      }
      std::printf("\n");
    }
    std::printf("rounds %s", named.name.c_str());
    for (double ns : bench::round_ns(w.run, rounds, round_seconds)) std::printf(" %.3f", ns / w.work_items);
    std::printf("\n");
    std::fflush(stdout);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
  return 1;
}
